/*
 * hist.c - HDR-style log-linear latency histogram, 3 significant digits.
 *
 * 2048 sub-buckets (half 1024). For a value v: bucket b = max(0,
 * floor(log2(v | 2047)) - 10), sub = v >> b, index = b * 1024 + sub. Bucket 0
 * is linear over 0..2047; every later bucket holds sub in 1024..2047, so the
 * indices are contiguous. Values up to 2^40 - 1 ns; larger ones are clamped
 * and counted. One histogram per lcore, no locking.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "simkit.h"
#include "batch.h"
#include "compiler.h"

#define SUB_BUCKET_BITS 11 /* log2(SK_HIST_SUB_BUCKET_COUNT) */
#define HALF_BITS 10
#define VALUE_MAX ((1ULL << SK_HIST_MAX_VALUE_LOG2) - 1)

struct sk_hist {
    uint64_t count;
    uint64_t min;
    uint64_t max;
    uint64_t sum;
    uint64_t clamped;
    uint64_t counts[SK_HIST_INDEX_COUNT];
};

static inline unsigned floor_log2(uint64_t v)
{
    return 63u - (unsigned)__builtin_clzll(v); /* v != 0 */
}

/* v <= VALUE_MAX. One count-leading-zeros gives the bucket. */
static inline uint32_t index_of(uint64_t v)
{
    unsigned b = floor_log2(v | (SK_HIST_SUB_BUCKET_COUNT - 1)) - HALF_BITS;

    return (uint32_t)(b * SK_HIST_SUB_BUCKET_HALF + (v >> b));
}

uint32_t sk_hist_index_of(uint64_t v)
{
    if (v > VALUE_MAX)
        v = VALUE_MAX;
    return index_of(v);
}

/* Split an index back into (bucket, sub). */
static void index_split(uint32_t index, unsigned *b, uint64_t *sub)
{
    if (index < SK_HIST_SUB_BUCKET_COUNT) {
        *b = 0;
        *sub = index;
        return;
    }
    *b = (index >> HALF_BITS) - 1;
    *sub = (index & (SK_HIST_SUB_BUCKET_HALF - 1)) + SK_HIST_SUB_BUCKET_HALF;
}

uint64_t sk_hist_lowest_equivalent(uint32_t index)
{
    unsigned b;
    uint64_t sub;

    if (index >= SK_HIST_INDEX_COUNT)
        index = SK_HIST_INDEX_COUNT - 1;
    index_split(index, &b, &sub);
    return sub << b;
}

uint64_t sk_hist_highest_equivalent(uint32_t index)
{
    unsigned b;
    uint64_t sub;

    if (index >= SK_HIST_INDEX_COUNT)
        index = SK_HIST_INDEX_COUNT - 1;
    index_split(index, &b, &sub);
    return ((sub + 1) << b) - 1;
}

struct sk_hist *sk_hist_new(void)
{
    struct sk_hist *h = calloc(1, sizeof(*h));

    if (h != NULL)
        h->min = UINT64_MAX;
    return h;
}

void sk_hist_free(struct sk_hist *h)
{
    free(h);
}

void sk_hist_reset(struct sk_hist *h)
{
    if (h == NULL)
        return;
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

static inline void sum_add(struct sk_hist *h, uint64_t v)
{
    h->sum = (h->sum + v < h->sum) ? UINT64_MAX : h->sum + v; /* saturate */
}

void sk_hist_record(struct sk_hist *h, uint64_t v)
{
    sk_hist_record_batch(h, &v, 1);
}

/* count, sum, min and max stay in registers over the burst; a saturated sum
 * stays saturated, so summing in steps gives what one by one gives. */
void sk_hist_record_batch(struct sk_hist *h, const uint64_t *values, unsigned n)
{
    uint64_t sum = h->sum, min = h->min, max = h->max, v;
    unsigned i;

    for (i = 0; i < n; i++) {
        v = values[i];
        if (sk_unlikely(v > VALUE_MAX)) {
            v = VALUE_MAX;
            h->clamped++;
        }
        h->counts[index_of(v)]++;
        sum = sum + v < sum ? UINT64_MAX : sum + v; /* saturate */
        if (v < min)
            min = v;
        if (v > max)
            max = v;
    }
    h->count += n;
    h->sum = sum;
    h->min = min;
    h->max = max;
}

int sk_hist_merge(struct sk_hist *dst, const struct sk_hist *src)
{
    uint32_t i;

    if (dst == NULL || src == NULL)
        return -EINVAL;
    if (src->count == 0)
        return 0;
    for (i = 0; i < SK_HIST_INDEX_COUNT; i++)
        dst->counts[i] += src->counts[i];
    dst->count += src->count;
    dst->clamped += src->clamped;
    sum_add(dst, src->sum);
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    return 0;
}

/* Counts live only in [index_of(min), index_of(max)] (record, add_bucket and
 * merge keep min and max on the samples' buckets), so the move and the
 * clearing walk that range alone. */
/* The count and stats of src into dst; src left empty (its counts are the
 * caller's to clear). */
static void move_stats(struct sk_hist *dst, struct sk_hist *src)
{
    if (dst != NULL) {
        dst->count += src->count;
        dst->clamped += src->clamped;
        sum_add(dst, src->sum);
        if (src->min < dst->min)
            dst->min = src->min;
        if (src->max > dst->max)
            dst->max = src->max;
    }
    src->count = src->sum = src->max = src->clamped = 0;
    src->min = UINT64_MAX;
}

/* The bucket indexes src's samples span (src->count > 0). */
static void span_of(const struct sk_hist *src, uint32_t *lo, uint32_t *hi)
{
    *lo = index_of(src->min < VALUE_MAX ? src->min : VALUE_MAX);
    *hi = index_of(src->max < VALUE_MAX ? src->max : VALUE_MAX);
}

int sk_hist_move(struct sk_hist *dst, struct sk_hist *src)
{
    if (dst == NULL)
        return -EINVAL;
    return sk_hist_move_export(dst, src, NULL, NULL, 0) < 0 ? -EINVAL : 0;
}

uint32_t sk_hist_span(const struct sk_hist *src)
{
    uint32_t lo, hi;

    if (src == NULL || src->count == 0)
        return 0;
    span_of(src, &lo, &hi);
    return hi - lo + 1;
}

int32_t sk_hist_move_export(struct sk_hist *dst, struct sk_hist *src,
                            uint32_t *index, uint64_t *count, uint32_t cap)
{
    uint32_t i, lo, hi, n = 0;
    uint64_t c;

    if (src == NULL || (cap > 0 && (index == NULL || count == NULL)))
        return -EINVAL;
    if (src->count == 0)
        return 0;
    span_of(src, &lo, &hi);
    for (i = lo; i <= hi; i++) {
        c = src->counts[i];
        if (c == 0)
            continue;
        if (dst != NULL)
            dst->counts[i] += c;
        src->counts[i] = 0;
        if (n < cap) {
            index[n] = i;
            count[n] = c;
            n++;
        }
    }
    move_stats(dst, src);
    return (int32_t)n;
}

int sk_hist_add_bucket(struct sk_hist *h, uint32_t index, uint64_t count)
{
    uint64_t lo, hi;

    if (h == NULL || index >= SK_HIST_INDEX_COUNT)
        return -EINVAL;
    if (count == 0)
        return 0;
    lo = sk_hist_lowest_equivalent(index);
    hi = sk_hist_highest_equivalent(index);
    h->counts[index] += count;
    h->count += count;
    sum_add(h, lo * count); /* approximate until sk_hist_set_stats() */
    if (lo < h->min)
        h->min = lo;
    if (hi > h->max)
        h->max = hi;
    return 0;
}

void sk_hist_set_stats(struct sk_hist *h, uint64_t min, uint64_t max,
                       uint64_t sum, uint64_t clamped)
{
    if (h == NULL)
        return;
    h->min = min;
    h->max = max;
    h->sum = sum;
    h->clamped = clamped;
}

uint64_t sk_hist_count(const struct sk_hist *h)
{
    return h->count;
}

uint64_t sk_hist_min(const struct sk_hist *h)
{
    return h->count ? h->min : 0;
}

uint64_t sk_hist_max(const struct sk_hist *h)
{
    return h->max;
}

uint64_t sk_hist_sum(const struct sk_hist *h)
{
    return h->sum;
}

uint64_t sk_hist_clamped(const struct sk_hist *h)
{
    return h->clamped;
}

double sk_hist_mean(const struct sk_hist *h)
{
    return h->count ? (double)h->sum / (double)h->count : 0.0;
}

/* ceil(q / 100 * count), exactly: q is taken to Q_DIGITS decimal places
 * (q * 10^Q_DIGITS rounded to the nearest whole number: 99.9 is 999000000
 * however the double misses it), and the product is split on count so that
 * no partial product overflows 64 bits. The nearest-rank definition: the
 * smallest value with at least q % of the samples at or below it. */
#define Q_DIGITS_SCALE 10000000ULL               /* 10^7 per percent */
#define Q_WHOLE (100ULL * Q_DIGITS_SCALE)        /* q = 100 */

static uint64_t rank_of(double q, uint64_t count)
{
    uint64_t qm = (uint64_t)llround(q * (double)Q_DIGITS_SCALE);
    uint64_t hi = count / Q_WHOLE, lo = count % Q_WHOLE;

    if (qm > Q_WHOLE)
        qm = Q_WHOLE;
    /* qm * count / Q_WHOLE = qm * hi + qm * lo / Q_WHOLE; qm * lo < 10^18 */
    return qm * hi + (qm * lo + Q_WHOLE - 1) / Q_WHOLE;
}

uint64_t sk_hist_percentile(const struct sk_hist *h, double q)
{
    uint64_t rank, cum = 0, v;
    uint32_t i;

    if (h == NULL || h->count == 0)
        return 0;
    if (!(q > 0.0)) /* also NaN */
        q = 0.0;
    if (q > 100.0)
        q = 100.0;
    rank = rank_of(q, h->count);
    if (rank < 1)
        rank = 1;
    if (rank > h->count)
        rank = h->count;
    for (i = 0; i < SK_HIST_INDEX_COUNT; i++) {
        cum += h->counts[i];
        if (cum >= rank)
            break;
    }
    if (i == SK_HIST_INDEX_COUNT)
        i = SK_HIST_INDEX_COUNT - 1;
    v = sk_hist_highest_equivalent(i);
    if (v > h->max)
        v = h->max;
    if (v < h->min)
        v = h->min;
    return v;
}

int32_t sk_hist_next_bucket(const struct sk_hist *h, int32_t start,
                            uint64_t *count)
{
    int32_t i;

    if (h == NULL)
        return -1;
    for (i = start < 0 ? 0 : start; i < SK_HIST_INDEX_COUNT; i++) {
        if (h->counts[i] != 0) {
            if (count != NULL)
                *count = h->counts[i];
            return i;
        }
    }
    return -1;
}
