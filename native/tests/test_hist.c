/*
 * test_hist.c - the log-linear histogram: index layout, equivalent ranges,
 * 3-significant-digit accuracy, percentiles, clamping, merge, move, and
 * rebuilding from exported buckets.
 */
#include <stdlib.h>

#include "simkit.h"
#include "batch.h"
#include "check.h"

static void test_layout(void)
{
    uint64_t v, prev = 0;
    uint32_t i;

    for (v = 0; v < 2048; v++)
        CHECK_EQ_U(sk_hist_index_of(v), v);
    CHECK_EQ_U(sk_hist_index_of(2048), 2048);
    CHECK_EQ_U(sk_hist_index_of(2049), 2048);
    CHECK_EQ_U(sk_hist_index_of(4095), 3071);
    CHECK_EQ_U(sk_hist_index_of(4096), 3072);
    CHECK_EQ_U(sk_hist_index_of((1ULL << 40) - 1), SK_HIST_INDEX_COUNT - 1);
    CHECK_EQ_U(sk_hist_index_of(1ULL << 50), SK_HIST_INDEX_COUNT - 1);

    /* contiguous, each index covers [lowest, highest], no overlaps */
    for (i = 0; i < SK_HIST_INDEX_COUNT; i++) {
        uint64_t lo = sk_hist_lowest_equivalent(i);
        uint64_t hi = sk_hist_highest_equivalent(i);

        CHECK(lo <= hi);
        CHECK_EQ_U(sk_hist_index_of(lo), i);
        CHECK_EQ_U(sk_hist_index_of(hi), i);
        if (i > 0)
            CHECK_EQ_U(lo, prev + 1);
        prev = hi;
        /* 3 significant digits: bucket width <= value / 1024 */
        if (lo >= 2048)
            CHECK((hi - lo + 1) * 1024 <= lo);
    }
    CHECK_EQ_U(prev, (1ULL << 40) - 1);
}

static void test_percentiles(void)
{
    struct sk_hist *h = sk_hist_new();
    uint64_t v;

    CHECK(h != NULL);
    CHECK_EQ_U(sk_hist_percentile(h, 50), 0);
    CHECK_EQ_U(sk_hist_min(h), 0);
    for (v = 1; v <= 1000; v++)
        sk_hist_record(h, v);
    CHECK_EQ_U(sk_hist_count(h), 1000);
    CHECK_EQ_U(sk_hist_min(h), 1);
    CHECK_EQ_U(sk_hist_max(h), 1000);
    CHECK(sk_hist_mean(h) == 500.5);
    CHECK_EQ_U(sk_hist_percentile(h, 50), 500);
    CHECK_EQ_U(sk_hist_percentile(h, 90), 900);
    CHECK_EQ_U(sk_hist_percentile(h, 99), 990);
    CHECK_EQ_U(sk_hist_percentile(h, 99.9), 999);
    CHECK_EQ_U(sk_hist_percentile(h, 100), 1000);
    CHECK_EQ_U(sk_hist_percentile(h, 0), 1);

    /* large values: within the bucket, never above the exact max */
    sk_hist_reset(h);
    sk_hist_record(h, 1000000);
    sk_hist_record(h, 1000001);
    sk_hist_record(h, 123456789);
    CHECK_EQ_U(sk_hist_percentile(h, 100), 123456789);
    v = sk_hist_percentile(h, 50);
    CHECK(v >= 1000001 && v - 1000001 <= 1000001 / 1024);
    CHECK(sk_hist_percentile(h, 1) >= 1000000);

    /* clamping */
    sk_hist_reset(h);
    sk_hist_record(h, 1ULL << 45);
    CHECK_EQ_U(sk_hist_clamped(h), 1);
    CHECK_EQ_U(sk_hist_max(h), (1ULL << 40) - 1);
    sk_hist_free(h);
}

static void test_merge_and_rebuild(void)
{
    struct sk_hist *a = sk_hist_new(), *b = sk_hist_new(), *r = sk_hist_new();
    struct sk_rng rng;
    uint64_t count, total = 0;
    int32_t i;
    int k;
    const double qs[] = {0, 10, 50, 90, 99, 99.9, 99.99, 100};

    sk_rng_seed(&rng, 3);
    for (k = 0; k < 100000; k++)
        sk_hist_record(k & 1 ? a : b, 100 + (sk_rng_next(&rng) >> 40));
    CHECK(sk_hist_merge(a, b) == 0);
    CHECK_EQ_U(sk_hist_count(a), 100000);

    for (i = sk_hist_next_bucket(a, 0, &count); i >= 0;
         i = sk_hist_next_bucket(a, i + 1, &count)) {
        CHECK(sk_hist_add_bucket(r, (uint32_t)i, count) == 0);
        total += count;
    }
    CHECK_EQ_U(total, 100000);
    sk_hist_set_stats(r, sk_hist_min(a), sk_hist_max(a), sk_hist_sum(a),
                      sk_hist_clamped(a));
    for (k = 0; k < (int)(sizeof(qs) / sizeof(qs[0])); k++)
        CHECK_EQ_U(sk_hist_percentile(r, qs[k]), sk_hist_percentile(a, qs[k]));
    CHECK(sk_hist_mean(r) == sk_hist_mean(a));
    CHECK(sk_hist_add_bucket(r, SK_HIST_INDEX_COUNT, 1) < 0);
    CHECK_EQ_U(sk_hist_next_bucket(r, SK_HIST_INDEX_COUNT, &count), (uint64_t)-1);
    sk_hist_free(a);
    sk_hist_free(b);
    sk_hist_free(r);
}

/* sk_hist_record_batch leaves what sk_hist_record one by one leaves: every
 * bucket, count, min, max, clamped and sum. */
static void test_batch_is_one_by_one(void)
{
    struct sk_hist *a = sk_hist_new(), *b = sk_hist_new();
    uint64_t x = 0x2545f4914f6cdd1dULL, v[32];
    uint64_t ca = 0, cb = 0;
    int32_t ia, ib;
    unsigned i, k, n;

    CHECK(a != NULL && b != NULL);
    for (i = 0; i < 5000; i++) {
        n = (unsigned)(x >> 59) + (i % 2); /* 0..32 */
        for (k = 0; k < n; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            v[k] = x % 5 == 0 ? x : x >> (x % 64); /* some over the clamp */
            sk_hist_record(a, v[k]);
        }
        sk_hist_record_batch(b, v, n);
    }
    CHECK_EQ_U(sk_hist_count(b), sk_hist_count(a));
    CHECK_EQ_U(sk_hist_min(b), sk_hist_min(a));
    CHECK_EQ_U(sk_hist_max(b), sk_hist_max(a));
    CHECK_EQ_U(sk_hist_sum(b), sk_hist_sum(a));
    CHECK_EQ_U(sk_hist_clamped(b), sk_hist_clamped(a));
    CHECK(sk_hist_clamped(a) > 0);
    for (ia = ib = 0; ia >= 0 || ib >= 0; ia++, ib++) {
        ia = sk_hist_next_bucket(a, ia, &ca);
        ib = sk_hist_next_bucket(b, ib, &cb);
        CHECK(ia == ib);
        CHECK_EQ_U(cb, ca);
        if (ia < 0 || ib < 0)
            break;
    }
    sk_hist_free(a);
    sk_hist_free(b);
}

/* The nearest rank, ceil(q / 100 * count), exactly: a histogram of rank - 1
 * samples at LOW and the rest at HIGH answers HIGH, and one of rank samples
 * at LOW answers LOW. Ranks from exact rational arithmetic (Python's
 * fractions), among them the counts where q * count / 100 in doubles lands
 * just above a whole number (41,000 and 82,000 at 99.9: one rank high) or
 * where a relative nudge against that drops a whole rank (counts of 10^9). */
#define LOW 100
#define HIGH 200

static uint64_t split_percentile(double q, uint64_t count, uint64_t at_low)
{
    struct sk_hist *h = sk_hist_new();
    uint64_t v;

    CHECK(h != NULL);
    if (at_low)
        CHECK(sk_hist_add_bucket(h, sk_hist_index_of(LOW), at_low) == 0);
    if (count > at_low)
        CHECK(sk_hist_add_bucket(h, sk_hist_index_of(HIGH), count - at_low) == 0);
    sk_hist_set_stats(h, at_low ? LOW : HIGH, count > at_low ? HIGH : LOW, 0, 0);
    v = sk_hist_percentile(h, q);
    sk_hist_free(h);
    return v;
}

static void test_exact_rank(void)
{
    static const struct { double q; uint64_t count, rank; } cases[] = {
        {99.9, 41000, 40959},         {99.9, 82000, 81918},
        {99.9, 1000, 999},            {50, 1, 1},
        {50, 3, 2},                   {90, 123457, 111112},
        {99, 123457, 122223},         {0.001, 99999, 1},
        {99.99, 1000009999, 999909999},
        {99.9, 2000000999, 1998000999},
        {99.9999, 1000000000001ULL, 999999000001ULL},
    };
    size_t k;

    for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        CHECK_EQ_U(split_percentile(cases[k].q, cases[k].count, cases[k].rank - 1), HIGH);
        if (cases[k].rank < cases[k].count)
            CHECK_EQ_U(split_percentile(cases[k].q, cases[k].count, cases[k].rank), LOW);
    }
}

/* move = merge + emptying the source, over the source's [min, max] range:
 * the same buckets and stats as a merge, also with clamped values, and the
 * emptied source records afresh. */
static void test_move(void)
{
    struct sk_hist *a = sk_hist_new(), *b = sk_hist_new(), *m = sk_hist_new();
    struct sk_rng rng;
    uint64_t ca, cm;
    int32_t ia, im;
    int k, round;

    CHECK(a != NULL && b != NULL && m != NULL);
    sk_rng_seed(&rng, 5);
    for (round = 0; round < 3; round++) {
        for (k = 0; k < 20000; k++)
            sk_hist_record(b, 50 + (sk_rng_next(&rng) >> (20 + 8 * round)));
        sk_hist_record(b, 1ULL << 45); /* clamped */
        CHECK(sk_hist_merge(a, b) == 0);
        CHECK(sk_hist_move(m, b) == 0);
        CHECK_EQ_U(sk_hist_count(b), 0);
        CHECK_EQ_U(sk_hist_max(b), 0);
        CHECK_EQ_U(sk_hist_next_bucket(b, 0, NULL), (uint64_t)-1);
    }
    CHECK_EQ_U(sk_hist_count(m), sk_hist_count(a));
    CHECK_EQ_U(sk_hist_min(m), sk_hist_min(a));
    CHECK_EQ_U(sk_hist_max(m), sk_hist_max(a));
    CHECK_EQ_U(sk_hist_sum(m), sk_hist_sum(a));
    CHECK_EQ_U(sk_hist_clamped(m), sk_hist_clamped(a));
    CHECK(sk_hist_clamped(m) >= 3);
    for (ia = sk_hist_next_bucket(a, 0, &ca), im = sk_hist_next_bucket(m, 0, &cm);
         ia >= 0 || im >= 0;
         ia = sk_hist_next_bucket(a, ia + 1, &ca), im = sk_hist_next_bucket(m, im + 1, &cm)) {
        CHECK_EQ_U(ia, im);
        CHECK_EQ_U(ca, cm);
        if (ia < 0 || im < 0)
            break;
    }
    CHECK(sk_hist_move(NULL, b) < 0);
    CHECK(sk_hist_move(m, b) == 0); /* empty: nothing changes */
    CHECK_EQ_U(sk_hist_count(m), sk_hist_count(a));
    sk_hist_free(a);
    sk_hist_free(b);
    sk_hist_free(m);
}

/* move_export: the move, and the buckets written out as next_bucket walks
 * them; a cap keeps the first ones; span bounds what is needed. */
static void test_move_export(void)
{
    struct sk_hist *a = sk_hist_new(), *b = sk_hist_new(), *m = sk_hist_new(), *e = sk_hist_new();
    uint32_t index[SK_HIST_INDEX_COUNT], span;
    uint64_t count[SK_HIST_INDEX_COUNT], c;
    struct sk_rng rng;
    int32_t n, k, i;

    CHECK(a && b && m && e);
    CHECK_EQ_U(sk_hist_span(e), 0);
    CHECK_EQ_U(sk_hist_move_export(m, e, index, count, 10), 0);
    sk_rng_seed(&rng, 9);
    for (k = 0; k < 50000; k++) {
        uint64_t v = 300 + (sk_rng_next(&rng) >> 44);

        sk_hist_record(a, v);
        sk_hist_record(b, v);
    }
    span = sk_hist_span(a);
    CHECK_EQ_U(span, sk_hist_index_of(sk_hist_max(a)) - sk_hist_index_of(sk_hist_min(a)) + 1);
    n = sk_hist_move_export(m, a, index, count, span);
    CHECK(n > 100);
    for (k = 0, i = sk_hist_next_bucket(b, 0, &c); i >= 0; k++, i = sk_hist_next_bucket(b, i + 1, &c)) {
        CHECK(k < n);
        if (k >= n)
            break;
        CHECK_EQ_U(index[k], i);
        CHECK_EQ_U(count[k], c);
    }
    CHECK_EQ_U(k, n);
    CHECK_EQ_U(sk_hist_count(a), 0);
    CHECK_EQ_U(sk_hist_next_bucket(a, 0, NULL), (uint64_t)-1);
    CHECK_EQ_U(sk_hist_count(m), 50000);
    CHECK_EQ_U(sk_hist_percentile(m, 99.9), sk_hist_percentile(b, 99.9));
    CHECK_EQ_U(sk_hist_sum(m), sk_hist_sum(b));
    /* a cap of 3: all moved, 3 written */
    sk_hist_record(e, 5);
    sk_hist_record(e, 6);
    sk_hist_record(e, 7);
    sk_hist_record(e, 9);
    CHECK_EQ_U(sk_hist_move_export(m, e, index, count, 3), 3);
    CHECK_EQ_U(index[2], 7);
    CHECK_EQ_U(sk_hist_count(m), 50004);
    CHECK(sk_hist_move_export(m, NULL, index, count, 3) < 0);
    sk_hist_record(e, 11); /* dst NULL: emptied, written out, added nowhere */
    CHECK_EQ_U(sk_hist_move_export(NULL, e, index, count, 3), 1);
    CHECK_EQ_U(index[0], 11);
    CHECK_EQ_U(sk_hist_count(e), 0);
    CHECK_EQ_U(sk_hist_count(m), 50004);
    sk_hist_free(a);
    sk_hist_free(b);
    sk_hist_free(m);
    sk_hist_free(e);
}

int main(void)
{
    test_exact_rank();
    test_batch_is_one_by_one();
    test_layout();
    test_percentiles();
    test_merge_and_rebuild();
    test_move();
    test_move_export();
    return CHECK_DONE();
}
