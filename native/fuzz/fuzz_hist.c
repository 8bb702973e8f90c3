/*
 * fuzz_hist.c - libFuzzer target for the latency histogram (hist.c),
 * checked against the exact values recorded.
 *
 * Input: bytes 0..15 are two raw doubles used as extra quantiles (NaN, inf
 * and negatives included); then one op byte per value (plus operands) picks
 * a small, medium, 40-bit or raw 64-bit value, one at the clamp edge, or one
 * next to a power of two. Every value goes into `all`, and alternately into
 * `even` / `odd`.
 *
 * Checks: index_of / lowest / highest equivalents bracket every value with
 * at most 1/1024 relative width; count, clamped, min, max and (saturating)
 * sum are exact; each percentile is the bucket of the exact rank-th smallest
 * value (rank computed in integers: ceil(q * count / 100), at least 1),
 * clamped to [min, max], and percentiles never decrease with q; merging
 * `odd` into `even` gives `all` bucket for bucket; rebuilding from an export
 * (next_bucket -> add_bucket -> set_stats) gives the same percentiles.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "simkit.h"
#include "compiler.h"
#include "fuzz_input.h"

#define VALUE_MAX ((1ULL << SK_HIST_MAX_VALUE_LOG2) - 1)
#define MAX_VALUES 4096

/* Quantiles as exact fractions num / den percent. Each percentile scans up
 * to 31744 buckets, so the list is short: exec/s is what finds bugs. */
static const struct {
    uint64_t num, den;
} quantiles[] = {
    {0, 1}, {1, 1}, {333, 10}, {50, 1}, {99, 1}, {999, 10}, {9999, 100},
    {99999, 1000}, {100, 1},
};
#define N_QUANTILES (sizeof(quantiles) / sizeof(quantiles[0]))

static struct sk_hist *all, *even, *odd, *rebuilt;
static uint64_t values[MAX_VALUES];

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return (x > y) - (x < y);
}

static uint64_t next_value(struct fuzz_input *in)
{
    uint8_t op = fuzz_u8(in);

    switch (op >> 6) {
    case 0:
        return (op & 63) | (fuzz_uint(in, 1) << 6);    /* < 16384 */
    case 1:
        return fuzz_uint(in, 3);                        /* < 2^24 */
    case 2:
        return fuzz_uint(in, 5);                        /* < 2^40 */
    default:
        switch (op & 3) {
        case 0:
            return fuzz_uint(in, 8);
        case 1:
            return VALUE_MAX - 8 + ((op >> 2) & 15);    /* clamp edge */
        case 2:
            return (1ULL << (fuzz_u8(in) % 64)) - 1 + ((op >> 2) & 3);
        default:
            return fuzz_uint(in, 2) << ((op >> 2) & 15);
        }
    }
}

static void check_equivalents(uint64_t v)
{
    uint32_t i = sk_hist_index_of(v);
    uint64_t lo = sk_hist_lowest_equivalent(i), hi = sk_hist_highest_equivalent(i);

    FUZZ_CHECK(i < SK_HIST_INDEX_COUNT, "index %u of %llu", i,
               (unsigned long long)v);
    FUZZ_CHECK(lo <= v && v <= hi, "%llu not in bucket %u [%llu, %llu]",
               (unsigned long long)v, i, (unsigned long long)lo,
               (unsigned long long)hi);
    FUZZ_CHECK(sk_hist_index_of(lo) == i && sk_hist_index_of(hi) == i,
               "bucket %u's ends map elsewhere", i);
    FUZZ_CHECK(hi - lo <= lo / SK_HIST_SUB_BUCKET_HALF,
               "bucket %u [%llu, %llu] wider than 3 significant digits", i,
               (unsigned long long)lo, (unsigned long long)hi);
}

/* The percentile the histogram must report for the exact rank-th value. */
static uint64_t expected_percentile(uint64_t n, uint64_t num, uint64_t den)
{
    uint64_t rank = (num * n + den * 100 - 1) / (den * 100), v;

    if (rank < 1)
        rank = 1;
    v = sk_hist_highest_equivalent(sk_hist_index_of(values[rank - 1]));
    if (v > values[n - 1])
        v = values[n - 1];
    if (v < values[0])
        v = values[0];
    return v;
}

static void check_buckets_equal(const struct sk_hist *a, const struct sk_hist *b,
                                const char *what)
{
    int32_t i = -1, j = -1;
    uint64_t ca = 0, cb = 0;

    do {
        i = sk_hist_next_bucket(a, i + 1, &ca);
        j = sk_hist_next_bucket(b, j + 1, &cb);
        FUZZ_CHECK(i == j && (i < 0 || ca == cb), "%s: bucket %d (%llu) vs "
                   "%d (%llu)", what, i, (unsigned long long)ca, j,
                   (unsigned long long)cb);
    } while (i >= 0);
    FUZZ_CHECK(sk_hist_count(a) == sk_hist_count(b) &&
               sk_hist_min(a) == sk_hist_min(b) &&
               sk_hist_max(a) == sk_hist_max(b) &&
               sk_hist_sum(a) == sk_hist_sum(b) &&
               sk_hist_clamped(a) == sk_hist_clamped(b), "%s: stats differ",
               what);
}

static void init_once(void)
{
    if (all != NULL)
        return;
    all = sk_hist_new();
    even = sk_hist_new();
    odd = sk_hist_new();
    rebuilt = sk_hist_new();
    FUZZ_CHECK(all && even && odd && rebuilt, "out of memory");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    uint64_t n = 0, clamped = 0, sum = 0, v, prev, p, cnt;
    double qa, qb, qlo, qhi;
    int32_t i;
    size_t k;

    init_once();
    sk_hist_reset(all);
    sk_hist_reset(even);
    sk_hist_reset(odd);
    sk_hist_reset(rebuilt);
    FUZZ_CHECK(sk_hist_percentile(all, 50.0) == 0 && sk_hist_min(all) == 0 &&
               sk_hist_mean(all) == 0.0, "empty histogram");

    qa = sk_bits_double(fuzz_uint(&in, 8));
    qb = sk_bits_double(fuzz_uint(&in, 8));
    while (fuzz_more(&in) && n < MAX_VALUES) {
        v = next_value(&in);
        sk_hist_record(all, v);
        sk_hist_record(n % 2 ? odd : even, v);
        if (v > VALUE_MAX) {
            v = VALUE_MAX;
            clamped++;
        }
        check_equivalents(v);
        sum = sum + v < sum ? UINT64_MAX : sum + v;
        values[n++] = v;
    }
    FUZZ_CHECK(sk_hist_add_bucket(rebuilt, SK_HIST_INDEX_COUNT, 1) == -EINVAL,
               "index out of range accepted");
    FUZZ_CHECK(sk_hist_merge(NULL, all) == -EINVAL, "merge into NULL");
    if (n == 0)
        return 0;

    qsort(values, n, sizeof(values[0]), cmp_u64);
    FUZZ_CHECK(sk_hist_count(all) == n && sk_hist_clamped(all) == clamped &&
               sk_hist_min(all) == values[0] &&
               sk_hist_max(all) == values[n - 1] && sk_hist_sum(all) == sum,
               "stats: count %llu/%llu clamped %llu/%llu min %llu/%llu max "
               "%llu/%llu sum %llu/%llu",
               (unsigned long long)sk_hist_count(all), (unsigned long long)n,
               (unsigned long long)sk_hist_clamped(all),
               (unsigned long long)clamped,
               (unsigned long long)sk_hist_min(all),
               (unsigned long long)values[0],
               (unsigned long long)sk_hist_max(all),
               (unsigned long long)values[n - 1],
               (unsigned long long)sk_hist_sum(all), (unsigned long long)sum);

    /* Export and rebuild, as a report loader would. */
    for (i = sk_hist_next_bucket(all, 0, &cnt); i >= 0;
         i = sk_hist_next_bucket(all, i + 1, &cnt))
        FUZZ_CHECK(sk_hist_add_bucket(rebuilt, (uint32_t)i, cnt) == 0,
                   "add_bucket(%d)", i);
    sk_hist_set_stats(rebuilt, values[0], values[n - 1], sum, clamped);

    prev = 0;
    for (k = 0; k < N_QUANTILES; k++) {
        double q = (double)quantiles[k].num / (double)quantiles[k].den;
        uint64_t want = expected_percentile(n, quantiles[k].num,
                                            quantiles[k].den);

        p = sk_hist_percentile(all, q);
        FUZZ_CHECK(p == want, "p%g of %llu values = %llu, want %llu", q,
                   (unsigned long long)n, (unsigned long long)p,
                   (unsigned long long)want);
        FUZZ_CHECK(p >= prev, "p%g = %llu below the previous quantile's %llu",
                   q, (unsigned long long)p, (unsigned long long)prev);
        if (quantiles[k].num == 50 || quantiles[k].num == 999)
            FUZZ_CHECK(sk_hist_percentile(rebuilt, q) == p,
                       "rebuilt p%g differs", q);
        prev = p;
    }
    FUZZ_CHECK(sk_hist_percentile(all, 100.0) == values[n - 1], "p100 != max");

    /* Arbitrary doubles: inside [min, max] and monotone; NaN acts as 0. */
    qlo = isnan(qa) ? 0.0 : qa;
    qhi = isnan(qb) ? 0.0 : qb;
    if (qlo > qhi) {
        double t = qlo;

        qlo = qhi;
        qhi = t;
    }
    p = sk_hist_percentile(all, qlo);
    v = sk_hist_percentile(all, qhi);
    FUZZ_CHECK(values[0] <= p && p <= v && v <= values[n - 1],
               "p(%g) = %llu, p(%g) = %llu outside [%llu, %llu] or decreasing",
               qlo, (unsigned long long)p, qhi, (unsigned long long)v,
               (unsigned long long)values[0], (unsigned long long)values[n - 1]);
    FUZZ_CHECK(sk_hist_percentile(all, NAN) == sk_hist_percentile(all, 0.0),
               "p(NaN) != p(0)");

    FUZZ_CHECK(sk_hist_merge(even, odd) == 0, "merge");
    check_buckets_equal(even, all, "even + odd vs all");
    return 0;
}
