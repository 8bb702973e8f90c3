/*
 * pace.h - the generator's rate control on the TSC (pace.c): when packets
 * are due (constant gaps, Poisson arrivals: exponential gaps from their own
 * seeded PRNG, or a capture's own timing scaled by a multiplier), and how
 * well the departures kept to that schedule.
 */
#ifndef SK_PACE_H
#define SK_PACE_H

#include <stdint.h>

#include "simkit.h"

#define SK_PACE_FELL_SHORT 0.95 /* achieved under 95 % of the request */
#define SK_PACE_ON_TIME_NS 10000 /* a departure this close to schedule is on time */
#define SK_PACE_SPEED_MIN 0.001   /* --speed: a capture's timing x 1/1000 .. */
#define SK_PACE_SPEED_MAX 1e6     /* .. x 10^6 */

enum sk_arrivals {
    SK_ARRIVALS_CONSTANT = 0,
    SK_ARRIVALS_POISSON = 1,
    SK_ARRIVALS_CAPTURE = 2,      /* a timed stream's offsets / speed */
};

/* What to pace by (run.c fills it from the options and the stream). */
struct sk_pace_cfg {
    enum sk_arrivals arrivals;
    uint64_t pps;            /* constant, poisson: the rate (0: not paced) */
    uint64_t seed;           /* poisson: the run's seed */
    const uint64_t *t_ns;    /* capture: packet k is due t_ns[k] / speed after start */
    uint64_t n;              /* capture: packets in t_ns (non-decreasing, t_ns[0] 0) */
    double speed;            /* capture: the multiplier, > 0 (2: twice as fast) */
};

/* What the report says about the pacing (pace.c fills it). */
struct sk_pace_report {
    int paced;               /* a rate or a capture's timing was asked for */
    enum sk_arrivals arrivals;
    double speed;            /* capture: the multiplier (0 otherwise) */
    double requested_pps;    /* capture: packets over the scaled span (0: no span) */
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
    int paced;
    uint64_t pps;            /* constant, poisson */
    double requested_pps;
    uint64_t start;
    enum sk_arrivals arrivals;
    const uint64_t *t_ns;    /* capture: offsets of packets 0..n-1, ns */
    uint64_t n;
    double speed;
    double ticks_per_ns;     /* capture: hz / 1e9 / speed */
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

/* 0, -ENOMEM, or -EINVAL (a capture without offsets, a speed not > 0, or a
 * scaled span the TSC cannot hold). Poisson gaps use a stream derived from
 * cfg->seed, so the packets' field values do not depend on the arrivals. */
int sk_pace_init(struct sk_pacer *p, const struct sk_pace_cfg *cfg, uint64_t hz,
                 uint64_t start);
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
