/*
 * test_seq.c - sequence accounting: in order, loss, duplicates, reordering
 * inside the window, late arrivals beyond it, and large gaps.
 */
#include "simkit.h"
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

int main(void)
{
    test_max_sequence_does_not_wrap();
    test_in_order_and_loss();
    test_dup_reorder_late();
    test_wraparound_of_bitmap();
    return CHECK_DONE();
}
