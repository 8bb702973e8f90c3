/*
 * pace.h - the generator's rate control on the TSC (pace.c): when packets
 * are due (constant gaps, or Poisson arrivals: exponential gaps from their
 * own seeded PRNG), and how well the departures kept to that schedule.
 */
#ifndef SK_PACE_H
#define SK_PACE_H

#include <stdint.h>

#include "simkit.h"

#define SK_PACE_FELL_SHORT 0.95 /* achieved under 95 % of the request */
#define SK_PACE_ON_TIME_NS 10000 /* a departure this close to schedule is on time */

enum sk_arrivals {
    SK_ARRIVALS_CONSTANT = 0,
    SK_ARRIVALS_POISSON = 1,
};

/* What the report says about the pacing (pace.c fills it). */
struct sk_pace_report {
    int paced;               /* a rate was asked for */
    enum sk_arrivals arrivals;
    double requested_pps;
    double achieved_pps;     /* packets over first schedule point .. last departure */
    int fell_short;          /* achieved < SK_PACE_FELL_SHORT * requested */
    uint64_t bursts;
    uint64_t dev_p50_ns;     /* departure of a burst - schedule of its first packet */
    uint64_t dev_p99_ns;
    uint64_t dev_max_ns;
    double gap_cv;           /* coefficient of variation of inter-departure gaps */
    uint64_t gaps;           /* gaps it is over (between on-time departures) */
};

#define SK_PACE_RING 1024 /* > 2 * SK_IO_MAX_BURST: schedules of due, unsent packets */

struct sk_pacer {
    uint64_t hz;
    uint64_t pps;            /* 0: not paced */
    uint64_t start;
    enum sk_arrivals arrivals;
    struct sk_rng rng;       /* Poisson gaps: not the field values' stream */
    double mean_gap;         /* ticks */
    double next_at;          /* Poisson: ticks after start of packet `scheduled` */
    uint64_t scheduled;      /* Poisson: packets whose time has come */
    uint64_t at[SK_PACE_RING]; /* Poisson: schedule (TSC) of packet k at k % ring */
    struct sk_hist *dev;     /* ns */
    uint64_t last_departure;
    uint64_t departures;     /* packets sent */
    int prev_on_time;
    double gap_sum, gap_sq;  /* ticks, over `gaps` gaps between on-time departures */
    uint64_t gaps;
};

/* 0 or -ENOMEM. seed: the run's (Poisson gaps use a stream derived from it,
 * so the packets' field values do not depend on the arrivals). */
int sk_pace_init(struct sk_pacer *p, uint64_t pps, enum sk_arrivals arrivals,
                 uint64_t seed, uint64_t hz, uint64_t start);
void sk_pace_free(struct sk_pacer *p);
/* How many of packets sent .. sent + max - 1 are due at now (0: wait). */
unsigned sk_pace_due(struct sk_pacer *p, uint64_t now, uint64_t sent, unsigned max);
/* n packets from number `first` on left at now. */
void sk_pace_departed(struct sk_pacer *p, uint64_t first, unsigned n, uint64_t now);
void sk_pace_finish(const struct sk_pacer *p, struct sk_pace_report *out);
const char *sk_arrivals_name(enum sk_arrivals a);
/* TSC at which a run of duration_s from start ends (UINT64_MAX for 0). */
uint64_t sk_duration_end(uint64_t start, double duration_s, uint64_t hz);

#endif /* SK_PACE_H */
