/*
 * pace.c - rate control on the TSC and its accuracy.
 *
 * Constant: packet k is due at start + (k + 1) * hz / pps (token style: a
 * late loop catches up in bursts, never beyond the burst size). Poisson:
 * the gaps are exponential with mean hz / pps, -ln(1 - U) * mean, U from a
 * PRNG seeded apart from the field values' (so --arrivals never changes a
 * packet's bytes); the schedule accumulates in double ticks, so it does not
 * drift by rounding. Capture: packet k is due at start + t_ns[k] / speed (a
 * timed stream's offsets from its first frame, as tcpreplay --multiplier
 * replays a capture); the same token style, so a late loop catches up.
 * Profile: piecewise-constant rates (steps from at_ns on, pps); packet k is
 * due when the profile's count, the integral of its rate from the start,
 * reaches k + 1, computed step by step in double ticks like Poisson's; a
 * late loop catches up the same way. Each departure also lands in the
 * record's interval it left in (sent, latest against its schedule); the
 * offered per interval, the profile's count over it, is worked out at the
 * end, so the loop pays one division a burst for the record.
 *
 * Accuracy: for each burst, departure (the TSC that stamps it) - schedule
 * of its first packet, in ns, into a histogram (p50, p99, max); and the
 * coefficient of variation of the per-packet inter-departure gaps (packets
 * of one burst leave together: gap 0) - about 0 for constant pacing, about
 * 1 for Poisson arrivals. Only gaps between departures that both kept to
 * the schedule (within SK_PACE_ON_TIME_NS) count there: a loop the machine
 * stalled (a shared core) sends its backlog at once, which the deviation
 * percentiles show, and which would otherwise swamp the gaps' shape.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pace.h"
#include "../core/rng.h"

#define POISSON_SEED_SALT 0x5ca1ab1e0ddba11ULL
#define NS_PER_S 1000000000ULL
#define TWO_POW_53 9007199254740992.0
#define TWO_POW_62 4611686018427387904.0 /* a capture's scaled span, in ticks, stays under */

static uint64_t ticks_to_ns(uint64_t ticks, uint64_t hz)
{
    return (uint64_t)((unsigned __int128)ticks * NS_PER_S / hz);
}

/* Constant: TSC at which packet k is due. */
static uint64_t constant_at(const struct sk_pacer *p, uint64_t k)
{
    return p->start + (uint64_t)(((unsigned __int128)(k + 1) * p->hz + p->pps - 1) / p->pps);
}

/* Capture: TSC at which packet k (< n) is due. */
static uint64_t capture_at(const struct sk_pacer *p, uint64_t k)
{
    return p->start + (uint64_t)((double)p->t_ns[k] * p->ticks_per_ns);
}

/* The schedule of packet k, whichever the arrivals (k was due: for Poisson
 * it is still in the ring, for a capture k < n). */
static uint64_t schedule_at(const struct sk_pacer *p, uint64_t k)
{
    switch (p->arrivals) {
    case SK_ARRIVALS_POISSON:
    case SK_ARRIVALS_PROFILE:
        return p->at[k % SK_PACE_RING];
    case SK_ARRIVALS_CAPTURE:
        return capture_at(p, k < p->n ? k : p->n - 1);
    default:
        return constant_at(p, k);
    }
}

static double exp_gap(struct sk_pacer *p)
{
    /* U in [0, 1) with 53 bits: 1 - U in (0, 1], so the log is finite */
    double u = (double)(sk_rng_step(&p->rng) >> 11) / TWO_POW_53;

    return -log1p(-u) * p->mean_gap;
}

/* The profile's count (packets due) at increasing times: a cursor over its steps. */
struct count_walk {
    const struct sk_pace_step *s;
    uint64_t n, i;
    double c; /* the count at s[i].at_ns */
};

static double walk_to(struct count_walk *w, uint64_t t_ns)
{
    while (w->i + 1 < w->n && w->s[w->i + 1].at_ns <= t_ns) {
        w->c += w->s[w->i].pps * (double)(w->s[w->i + 1].at_ns - w->s[w->i].at_ns) / 1e9;
        w->i++;
    }
    return w->c + w->s[w->i].pps * (double)(t_ns - w->s[w->i].at_ns) / 1e9;
}

double sk_pace_profile_count(const struct sk_pace_step *steps, uint64_t n_steps, uint64_t t_ns)
{
    struct count_walk w = {steps, n_steps, 0, 0.0};

    return walk_to(&w, t_ns);
}

/* Profile: the time (ticks after start) packet `scheduled` is due: when the
 * count reaches scheduled + 1. Steps only move forward. */
static double profile_next(struct sk_pacer *p)
{
    double target = (double)(p->scheduled + 1), ns_per_tick = 1e9 / (double)p->hz;
    const struct sk_pace_step *s;
    double end;

    for (;;) {
        s = &p->steps[p->step];
        if (p->step + 1 == p->n_steps) /* the last step holds; its pps > 0 */
            break;
        end = p->step_count + s->pps * (double)(s[1].at_ns - s->at_ns) / 1e9;
        if (end >= target) /* a silent step never: the count stays below target */
            break;
        p->step_count = end;
        p->step++;
    }
    return ((double)s->at_ns + (target - p->step_count) / s->pps * 1e9) / ns_per_tick;
}

/* Profile: the steps as sk_pace_cfg says, or -EINVAL. */
static int profile_init(struct sk_pacer *p, const struct sk_pace_cfg *cfg)
{
    uint64_t i;

    if (cfg->steps == NULL || cfg->n_steps == 0 || cfg->n_steps > SK_PACE_MAX_STEPS ||
        cfg->steps[0].at_ns != 0 || cfg->bin_ns == 0 ||
        !(cfg->steps[cfg->n_steps - 1].pps > 0))
        return -EINVAL;
    for (i = 0; i < cfg->n_steps; i++)
        if (!(cfg->steps[i].pps >= 0) || !isfinite(cfg->steps[i].pps) ||
            (i > 0 && cfg->steps[i].at_ns <= cfg->steps[i - 1].at_ns))
            return -EINVAL;
    if (!((double)cfg->steps[cfg->n_steps - 1].at_ns * (double)p->hz / 1e9 < TWO_POW_62))
        return -EINVAL;
    p->steps = cfg->steps;
    p->n_steps = cfg->n_steps;
    p->limit = cfg->n;
    p->bin_ns = cfg->bin_ns;
    p->bin_ticks = (uint64_t)((unsigned __int128)cfg->bin_ns * p->hz / NS_PER_S);
    p->on_time_ticks = (uint64_t)((unsigned __int128)SK_PACE_ON_TIME_NS * p->hz / NS_PER_S);
    if (p->bin_ticks == 0)
        return -EINVAL;
    p->next_at = profile_next(p);
    return 0;
}

/* Profile: packets first .. first + n - 1 left at now, the first `late_ns`
 * after its schedule; those more than SK_PACE_ON_TIME_NS after their own
 * schedules count as late. */
static void bin_record(struct sk_pacer *p, uint64_t first, unsigned n, uint64_t now,
                       uint64_t late_ns)
{
    uint64_t b = (now - p->start) / p->bin_ticks, cap, k;
    struct sk_pace_bin *bins;

    if (b >= p->cap_bins) {
        if (p->bins_truncated)
            return;
        cap = p->cap_bins ? p->cap_bins : 64;
        while (cap <= b)
            cap *= 2;
        bins = realloc(p->bins, cap * sizeof(*bins)); /* once per doubling of the run */
        if (bins == NULL) {
            p->bins_truncated = 1;
            return;
        }
        memset(bins + p->cap_bins, 0, (cap - p->cap_bins) * sizeof(*bins));
        p->bins = bins;
        p->cap_bins = cap;
    }
    p->bins[b].sent += n;
    for (k = first; k < first + n && late_ns > SK_PACE_ON_TIME_NS; k++)
        p->bins[b].late += now - p->at[k % SK_PACE_RING] > p->on_time_ticks;
    if (late_ns > p->bins[b].late_max_ns)
        p->bins[b].late_max_ns = late_ns;
    if (b + 1 > p->n_bins)
        p->n_bins = b + 1;
}

/* Capture: the offsets, their scale to ticks, packets over the scaled span. */
static int capture_init(struct sk_pacer *p, const struct sk_pace_cfg *cfg)
{
    double span_ns;

    if (cfg->t_ns == NULL || cfg->n == 0 || !(cfg->speed > 0) || !isfinite(cfg->speed))
        return -EINVAL;
    p->t_ns = cfg->t_ns;
    p->n = cfg->n;
    p->speed = cfg->speed;
    p->ticks_per_ns = (double)p->hz / (double)NS_PER_S / cfg->speed;
    /* the offsets do not decrease: the last is the span */
    if (!((double)cfg->t_ns[cfg->n - 1] * p->ticks_per_ns < TWO_POW_62))
        return -EINVAL;
    span_ns = (double)cfg->t_ns[cfg->n - 1] / cfg->speed;
    p->requested_pps = span_ns > 0 ? (double)cfg->n * (double)NS_PER_S / span_ns : 0.0;
    return 0;
}

int sk_pace_init(struct sk_pacer *p, const struct sk_pace_cfg *cfg, uint64_t hz,
                 uint64_t start)
{
    int ret;

    memset(p, 0, sizeof(*p));
    p->hz = hz;
    p->start = start;
    p->arrivals = cfg->arrivals;
    if (cfg->arrivals == SK_ARRIVALS_CAPTURE || cfg->arrivals == SK_ARRIVALS_PROFILE) {
        ret = cfg->arrivals == SK_ARRIVALS_CAPTURE ? capture_init(p, cfg) : profile_init(p, cfg);
        if (ret < 0)
            return ret;
    } else if (cfg->pps == 0) {
        return 0;
    } else {
        p->pps = cfg->pps;
        p->requested_pps = (double)cfg->pps;
        p->mean_gap = (double)hz / (double)cfg->pps;
        sk_rng_seed(&p->rng, cfg->seed ^ POISSON_SEED_SALT);
        if (cfg->arrivals == SK_ARRIVALS_POISSON)
            p->next_at = exp_gap(p);
    }
    p->paced = 1;
    p->dev = sk_hist_new();
    return p->dev != NULL ? 0 : -ENOMEM;
}

void sk_pace_free(struct sk_pacer *p)
{
    sk_hist_free(p->dev);
    p->dev = NULL;
    free(p->bins);
    p->bins = NULL;
}

void sk_pace_report_free(struct sk_pace_report *r)
{
    free(r->bins);
    r->bins = NULL;
    r->n_bins = 0;
}

unsigned sk_pace_due(struct sk_pacer *p, uint64_t now, uint64_t sent, unsigned max)
{
    uint64_t due, k;

    if (!p->paced)
        return max;
    if (p->arrivals == SK_ARRIVALS_CONSTANT) {
        due = (uint64_t)((unsigned __int128)(now - p->start) * p->pps / p->hz);
        return due <= sent ? 0 : due - sent < max ? (unsigned)(due - sent) : max;
    }
    if (p->arrivals == SK_ARRIVALS_CAPTURE) {
        for (k = sent; k - sent < max && k < p->n && capture_at(p, k) <= now; k++)
            ;
        return (unsigned)(k - sent);
    }
    while (p->scheduled < sent + max &&
           p->start + (uint64_t)p->next_at <= now) {
        p->at[p->scheduled % SK_PACE_RING] = p->start + (uint64_t)p->next_at;
        p->scheduled++;
        if (p->arrivals == SK_ARRIVALS_PROFILE)
            p->next_at = profile_next(p);
        else
            p->next_at += exp_gap(p);
    }
    k = p->scheduled > sent ? p->scheduled - sent : 0;
    return k < max ? (unsigned)k : max; /* scheduled with a larger max before */
}

void sk_pace_departed(struct sk_pacer *p, uint64_t first, unsigned n, uint64_t now)
{
    uint64_t at, dev_ns;
    double gap;
    int on_time;

    if (!p->paced || n == 0)
        return;
    at = schedule_at(p, first);
    dev_ns = ticks_to_ns(now > at ? now - at : at - now, p->hz);
    sk_hist_record(p->dev, dev_ns);
    on_time = dev_ns <= SK_PACE_ON_TIME_NS;
    if (on_time && p->prev_on_time) {
        gap = (double)(now - p->last_departure);
        p->gap_sum += gap; /* and n - 1 gaps of 0 */
        p->gap_sq += gap * gap;
        p->gaps += n;
    }
    p->prev_on_time = on_time;
    if (p->arrivals == SK_ARRIVALS_PROFILE)
        bin_record(p, first, n, now, dev_ns); /* never early: due means its time came */
    p->departures += n;
    p->last_departure = now;
}

/* Profile: packets due before t_ns (> 0; packet k is due when the count
 * reaches k + 1: those due by the nanosecond before), up to the run's count. */
static uint64_t due_before(struct sk_pacer *p, struct count_walk *w, uint64_t t_ns)
{
    uint64_t due = (uint64_t)floor(walk_to(w, t_ns - 1) + 1e-9);

    return p->limit == 0 || due < p->limit ? due : p->limit;
}

/* Profile: each interval's offered (the packets due in it, up to the run's
 * count; the last interval ends with the last departure, by when at least
 * every packet that left was due) into the
 * bins, which move to the report; the requested rate is their total over
 * that span. */
static void profile_finish(struct sk_pacer *p, struct sk_pace_report *out)
{
    struct count_walk w = {p->steps, p->n_steps, 0, 0.0};
    uint64_t b, end_ns, due, prev = 0;
    uint64_t last_ns = ticks_to_ns(p->last_departure - p->start, p->hz) + 1;

    for (b = 0; b < p->n_bins; b++) {
        end_ns = b + 1 == p->n_bins ? last_ns : (b + 1) * p->bin_ns;
        due = due_before(p, &w, end_ns);
        if (b + 1 == p->n_bins && due < p->departures) /* each was due when it left: */
            due = p->departures; /* the schedule's ticks and ns round down */
        p->bins[b].offered = due > prev ? due - prev : 0;
        prev = due > prev ? due : prev;
    }
    out->requested_pps = last_ns > 0 ? (double)prev * 1e9 / (double)last_ns : 0.0;
    out->bins = p->bins;
    out->n_bins = p->n_bins;
    out->bin_ns = p->bin_ns;
    out->bins_truncated = p->bins_truncated;
    p->bins = NULL;
    p->n_bins = p->cap_bins = 0;
}

void sk_pace_finish(struct sk_pacer *p, struct sk_pace_report *out)
{
    double span, mean, var;

    memset(out, 0, sizeof(*out));
    out->arrivals = p->arrivals;
    if (!p->paced)
        return;
    out->paced = 1;
    out->speed = p->speed;
    out->requested_pps = p->requested_pps;
    /* the schedule starts one gap after start (constant), at the first
     * arrival (Poisson) or at start (capture): measure from start, over the
     * packets that left (a perfect capture replay: n over the scaled span) */
    span = (double)(p->last_departure - p->start);
    out->achieved_pps = p->departures > 0 && span > 0
                            ? (double)p->departures * (double)p->hz / span : 0.0;
    if (p->arrivals == SK_ARRIVALS_PROFILE && p->departures > 0)
        profile_finish(p, out);
    out->fell_short = out->achieved_pps < SK_PACE_FELL_SHORT * out->requested_pps;
    out->bursts = sk_hist_count(p->dev);
    out->dev_p50_ns = sk_hist_percentile(p->dev, 50.0);
    out->dev_p99_ns = sk_hist_percentile(p->dev, 99.0);
    out->dev_max_ns = sk_hist_max(p->dev);
    out->gaps = p->gaps;
    if (p->gaps > 0) {
        mean = p->gap_sum / (double)p->gaps;
        var = p->gap_sq / (double)p->gaps - mean * mean;
        out->gap_cv = mean > 0 && var > 0 ? sqrt(var) / mean : 0.0;
    }
}

const char *sk_arrivals_name(enum sk_arrivals a)
{
    switch (a) {
    case SK_ARRIVALS_POISSON:
        return "poisson";
    case SK_ARRIVALS_CAPTURE:
        return "capture";
    case SK_ARRIVALS_PROFILE:
        return "profile";
    default:
        return "constant";
    }
}

uint64_t sk_duration_end(uint64_t start, double duration_s, uint64_t hz)
{
    return duration_s > 0 ? start + (uint64_t)(duration_s * (double)hz) : UINT64_MAX;
}
