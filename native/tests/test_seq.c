/*
 * test_seq.c - sequence accounting: in order, loss, duplicates, reordering
 * inside the window, late arrivals beyond it, and large gaps.
 */
#include "simkit.h"
#include "batch.h"
#include "check.h"

#define N 1000000

static void test_in_order_and_loss(void)
{
    struct sk_seq *t = sk_seq_new(0);
    struct sk_seq_stats st;
    uint64_t s;

    CHECK(t != NULL);
    for (s = 0; s < N; s++)
        if (s % 1000 != 999) /* drop one in a thousand */
            sk_seq_feed(t, s);
    sk_seq_get_stats(t, &st);
    CHECK_EQ_U(st.unique, N - N / 1000);
    CHECK_EQ_U(st.duplicated, 0);
    CHECK_EQ_U(st.reordered, 0);
    CHECK_EQ_U(sk_seq_lost(t, N), N / 1000);
    CHECK_EQ_U(sk_seq_lost(t, 10), 0); /* floor at 0 */
    sk_seq_free(t);
}

static void test_dup_reorder_late(void)
{
    struct sk_seq *t = sk_seq_new(6); /* window 64 */
    struct sk_seq_stats st;
    uint64_t s;

    CHECK(t != NULL);
    CHECK(sk_seq_new(3) == NULL);
    CHECK(sk_seq_new(40) == NULL);
    sk_seq_feed(t, 0);
    sk_seq_feed(t, 2);
    sk_seq_feed(t, 1);  /* reordered */
    sk_seq_feed(t, 1);  /* duplicate */
    sk_seq_feed(t, 2);  /* duplicate */
    sk_seq_feed(t, 3);
    sk_seq_get_stats(t, &st);
    CHECK_EQ_U(st.unique, 4);
    CHECK_EQ_U(st.reordered, 1);
    CHECK_EQ_U(st.duplicated, 2);
    CHECK_EQ_U(st.late, 0);

    /* jump far ahead (gap > window): bitmap reset, old ones come late */
    sk_seq_feed(t, 1000);
    sk_seq_feed(t, 10);   /* 990 behind: older than the window */
    sk_seq_feed(t, 10);   /* cannot tell: late again */
    sk_seq_feed(t, 999);  /* inside the window, not seen */
    sk_seq_feed(t, 999);  /* duplicate */
    sk_seq_feed(t, 1000 - 64 + 1); /* oldest slot still in the window */
    sk_seq_get_stats(t, &st);
    CHECK_EQ_U(st.unique, 4 + 1 + 2 + 1 + 1);
    CHECK_EQ_U(st.late, 2);
    CHECK_EQ_U(st.reordered, 1 + 2 + 1 + 1);
    CHECK_EQ_U(st.duplicated, 3);
    CHECK_EQ_U(st.next_expected, 1001);

    /* a gap smaller than the window: slots are cleared, no false dups */
    for (s = 1001; s < 1200; s += 3)
        sk_seq_feed(t, s);
    for (s = 1002; s < 1198; s += 3)
        if (1199 - s <= 64)
            sk_seq_feed(t, s);
    sk_seq_get_stats(t, &st);
    CHECK_EQ_U(st.duplicated, 3);

    sk_seq_reset(t);
    sk_seq_get_stats(t, &st);
    CHECK_EQ_U(st.unique, 0);
    sk_seq_free(t);
}

static void test_wraparound_of_bitmap(void)
{
    struct sk_seq *t = sk_seq_new(6);
    struct sk_seq_stats st;
    uint64_t s;

    /* every seq twice, shifted by 10: each second copy is a duplicate */
    for (s = 0; s < 100000; s++) {
        sk_seq_feed(t, s);
        if (s >= 10)
            sk_seq_feed(t, s - 10);
    }
    sk_seq_get_stats(t, &st);
    CHECK_EQ_U(st.unique, 100000);
    CHECK_EQ_U(st.duplicated, 100000 - 10);
    CHECK_EQ_U(st.reordered, 0);
    sk_seq_free(t);
}

/* A sequence of UINT64_MAX (any value can arrive off the wire) must not
 * wrap the tracker: found by native/fuzz (regressions/seq). */
static void test_max_sequence_does_not_wrap(void)
{
    struct sk_seq *t = sk_seq_new(9);
    struct sk_seq_stats st;

    sk_seq_feed(t, UINT64_MAX);
    sk_seq_feed(t, UINT64_MAX);
    sk_seq_feed(t, UINT64_MAX - 1);
    sk_seq_get_stats(t, &st);
    CHECK_EQ_U(st.unique, 2);
    CHECK_EQ_U(st.duplicated, 1);
    CHECK_EQ_U(st.reordered, 1);
    sk_seq_free(t);
}

/* The receiver's per-burst entry point gives what one by one gives, on a
 * stream of runs in order, gaps, repeats, regressions, old values and values
 * around UINT64_MAX, cut into bursts of 1..32. */
static void test_batch_is_one_by_one(void)
{
    struct sk_seq *a = sk_seq_new(6), *b = sk_seq_new(6);
    struct sk_seq_stats sa, sb;
    uint64_t x = 0x9e3779b97f4a7c15ULL, s = 0, buf[32];
    unsigned i, n, k;

    CHECK(a != NULL && b != NULL);
    for (i = 0; i < 20000; i++) {
        n = 1 + (unsigned)(x >> 59);
        for (k = 0; k < n; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            switch (x % 8) {
            case 0: s += 2 + x % 100; break;      /* a gap */
            case 1: s -= x % 70; break;           /* a regression, maybe late */
            case 2: s = UINT64_MAX - x % 4; break;/* the top, then wrap */
            default: s++; break;                  /* in order */
            }
            buf[k] = s;
            sk_seq_feed(a, s);
        }
        sk_seq_feed_batch(b, buf, n);
        sk_seq_get_stats(a, &sa);
        sk_seq_get_stats(b, &sb);
        CHECK_EQ_U(sb.unique, sa.unique);
        CHECK_EQ_U(sb.duplicated, sa.duplicated);
        CHECK_EQ_U(sb.reordered, sa.reordered);
        CHECK_EQ_U(sb.late, sa.late);
        CHECK_EQ_U(sb.next_expected, sa.next_expected);
    }
    sk_seq_free(a);
    sk_seq_free(b);
}

int main(void)
{
    test_batch_is_one_by_one();
    test_max_sequence_does_not_wrap();
    test_in_order_and_loss();
    test_dup_reorder_late();
    test_wraparound_of_bitmap();
    return CHECK_DONE();
}
