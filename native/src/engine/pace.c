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
    if (cfg->arrivals == SK_ARRIVALS_CAPTURE) {
        ret = capture_init(p, cfg);
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
        p->next_at += exp_gap(p);
    }
    return p->scheduled > sent ? (unsigned)(p->scheduled - sent) : 0;
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
    p->departures += n;
    p->last_departure = now;
}

void sk_pace_finish(const struct sk_pacer *p, struct sk_pace_report *out)
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
    default:
        return "constant";
    }
}

uint64_t sk_duration_end(uint64_t start, double duration_s, uint64_t hz)
{
    return duration_s > 0 ? start + (uint64_t)(duration_s * (double)hz) : UINT64_MAX;
}
