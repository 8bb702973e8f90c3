/*
 * pace.h - the generator's rate control on the TSC (pace.c): when packets
 * are due (constant gaps, Poisson arrivals: exponential gaps from their own
 * seeded PRNG, a capture's own timing scaled by a multiplier, or a rate
 * profile: piecewise-constant rates over time), and how well the departures
 * kept to that schedule.
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
    SK_ARRIVALS_PROFILE = 3,      /* piecewise-constant rates (--profile) */
};

#define SK_PACE_MAX_STEPS 10000000 /* --profile: steps in a profile file */

/* A profile's step: from at_ns after the start on (until the next step's
 * at_ns; the last one holds), pps packets per second (0: silence). */
struct sk_pace_step {
    uint64_t at_ns;
    double pps;
};

/* A profile run, per interval of its record: what the profile offered (its
 * packets due in the interval, up to the run's count), what left in it, how
 * many of those left more than SK_PACE_ON_TIME_NS after their schedule, and
 * the latest a departure was against its schedule. */
struct sk_pace_bin {
    uint64_t offered;
    uint64_t sent;
    uint64_t late;
    uint64_t late_max_ns;
};

/* What to pace by (run.c fills it from the options and the stream). */
struct sk_pace_cfg {
    enum sk_arrivals arrivals;
    uint64_t pps;            /* constant, poisson: the rate (0: not paced) */
    uint64_t seed;           /* poisson: the run's seed */
    const uint64_t *t_ns;    /* capture: packet k is due t_ns[k] / speed after start */
    uint64_t n;              /* capture: packets in t_ns (non-decreasing, t_ns[0] 0);
                                profile: the run's count (the offered stop there) */
    double speed;            /* capture: the multiplier, > 0 (2: twice as fast) */
    const struct sk_pace_step *steps; /* profile: at_ns increasing, steps[0].at_ns 0 */
    uint64_t n_steps;        /* profile: 1..SK_PACE_MAX_STEPS; the last pps > 0 */
    uint64_t bin_ns;         /* profile: the record's interval (> 0) */
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
    struct sk_pace_bin *bins; /* profile: one per interval up to the last departure */
    uint64_t n_bins;         /* (owned by the report: sk_pace_report_free) */
    uint64_t bin_ns;
    int bins_truncated;      /* out of memory: departures after the last bin are not in it */
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
    uint64_t scheduled;      /* Poisson, profile: packets whose time has come */
    uint64_t at[SK_PACE_RING]; /* Poisson, profile: schedule (TSC) of packet k at k % ring */
    const struct sk_pace_step *steps; /* profile */
    uint64_t n_steps;
    uint64_t step;           /* profile: the step packet `scheduled` falls in */
    double step_count;       /* profile: packets due before that step began */
    uint64_t limit;          /* profile: the run's count */
    uint64_t bin_ns, bin_ticks, on_time_ticks;
    struct sk_pace_bin *bins; /* profile: grown as departures reach new intervals */
    uint64_t n_bins, cap_bins;
    int bins_truncated;
    struct sk_hist *dev;     /* ns */
    uint64_t last_departure;
    uint64_t departures;     /* packets sent */
    int prev_on_time;
    double gap_sum, gap_sq;  /* ticks, over `gaps` gaps between on-time departures */
    uint64_t gaps;
};

/* 0, -ENOMEM, or -EINVAL (a capture without offsets, a speed not > 0, or a
 * scaled span the TSC cannot hold; a profile whose steps are not as
 * sk_pace_cfg says). Poisson gaps use a stream derived from
 * cfg->seed, so the packets' field values do not depend on the arrivals. */
int sk_pace_init(struct sk_pacer *p, const struct sk_pace_cfg *cfg, uint64_t hz,
                 uint64_t start);
void sk_pace_free(struct sk_pacer *p);
/* How many of packets sent .. sent + max - 1 are due at now (0: wait). */
unsigned sk_pace_due(struct sk_pacer *p, uint64_t now, uint64_t sent, unsigned max);
/* n packets from number `first` on left at now. */
void sk_pace_departed(struct sk_pacer *p, uint64_t first, unsigned n, uint64_t now);
/* The report; a profile's bins move into it (free them with
 * sk_pace_report_free). */
void sk_pace_finish(struct sk_pacer *p, struct sk_pace_report *out);
void sk_pace_report_free(struct sk_pace_report *r);
/* A profile's packets due in its first t_ns (fractional: the schedule's count). */
double sk_pace_profile_count(const struct sk_pace_step *steps, uint64_t n_steps, uint64_t t_ns);
const char *sk_arrivals_name(enum sk_arrivals a);
/* TSC at which a run of duration_s from start ends (UINT64_MAX for 0). */
uint64_t sk_duration_end(uint64_t start, double duration_s, uint64_t hz);

#endif /* SK_PACE_H */
