/*
 * test_engine_intervals.c - the receiver's per-interval record (intervals.c)
 * on a fake clock: rows at each interval's end with the packets and latency
 * samples of that interval, empty rows for intervals no check saw, a short
 * last row, the run's histogram equal to every sample recorded, and the
 * "intervals" JSON.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "intervals.h"
#include "check.h"

#define HZ 1000ULL     /* a tick is a millisecond */
#define TICKS 1000ULL  /* 1 s intervals */
#define T0 5000ULL

static void test_rows(void)
{
    struct sk_intervals iv;
    struct sk_hist *total = sk_hist_new(), *all = sk_hist_new();
    _Atomic uint64_t tx = 0;
    const struct sk_interval_row *r;
    uint64_t rx = 0, v;
    int k;

    CHECK(total != NULL && all != NULL);
    CHECK(sk_intervals_init(&iv, TICKS) == 0);
    sk_intervals_start(&iv, T0);
    /* interval 0: 10 samples of 100..109 ns, 10 received, 12 sent */
    for (k = 0; k < 10; k++) {
        v = 100 + (uint64_t)k;
        sk_hist_record(iv.open, v);
        sk_hist_record(all, v);
        sk_intervals_tick(&iv, total, T0 + 10 * (uint64_t)k, ++rx, &tx);
    }
    atomic_store(&tx, 12);
    sk_intervals_tick(&iv, total, T0 + TICKS - 1, rx, &tx);
    CHECK_EQ_U(iv.n_rows, 0); /* not yet ended */
    sk_intervals_tick(&iv, total, T0 + TICKS, rx, &tx);
    CHECK_EQ_U(iv.n_rows, 1);
    /* nothing seen for two whole intervals, then 5 samples of 1 ms in the
     * fourth: two empty rows, then the samples in the fourth's row */
    for (k = 0; k < 5; k++) {
        sk_hist_record(iv.open, 1000000);
        sk_hist_record(all, 1000000);
        rx++;
    }
    atomic_store(&tx, 20);
    sk_intervals_tick(&iv, total, T0 + 3 * TICKS + 500, rx, &tx);
    CHECK_EQ_U(iv.n_rows, 3);
    sk_intervals_finish(&iv, total, T0 + 3 * TICKS + 600, rx, &tx);
    CHECK_EQ_U(iv.n_rows, 4);

    r = &iv.rows[0];
    CHECK_EQ_U(r->start_tsc, T0);
    CHECK_EQ_U(r->end_tsc, T0 + TICKS);
    CHECK_EQ_U(r->rx_packets, 10);
    CHECK_EQ_U(r->tx_packets, 12);
    CHECK_EQ_U(r->count, 10);
    CHECK_EQ_U(r->min, 100);
    CHECK_EQ_U(r->max, 109);
    CHECK_EQ_U(r->sum, 1045);
    CHECK_EQ_U(r->n, 10); /* 100..109: one bucket each */
    CHECK_EQ_U(r->bucket_index[0], sk_hist_index_of(100));
    CHECK_EQ_U(r->bucket_index[9], sk_hist_index_of(109));
    CHECK_EQ_U(r->bucket_count[9], 1);
    /* the samples since the last check belong to the interval that ended */
    r = &iv.rows[1];
    CHECK_EQ_U(r->start_tsc, T0 + TICKS);
    CHECK_EQ_U(r->count, 5);
    CHECK_EQ_U(r->rx_packets, 5);
    CHECK_EQ_U(r->tx_packets, 8);
    CHECK_EQ_U(r->n, 1);
    CHECK_EQ_U(r->bucket_count[0], 5);
    CHECK_EQ_U(r->bucket_index[0], sk_hist_index_of(1000000));
    r = &iv.rows[2];
    CHECK_EQ_U(r->start_tsc, T0 + 2 * TICKS);
    CHECK_EQ_U(r->count + r->rx_packets + r->tx_packets + r->n, 0);
    r = &iv.rows[3]; /* short */
    CHECK_EQ_U(r->start_tsc, T0 + 3 * TICKS);
    CHECK_EQ_U(r->end_tsc, T0 + 3 * TICKS + 600);
    CHECK_EQ_U(r->count, 0);

    /* the run's histogram holds every sample, the open one none */
    CHECK_EQ_U(sk_hist_count(iv.open), 0);
    CHECK_EQ_U(sk_hist_count(total), sk_hist_count(all));
    CHECK_EQ_U(sk_hist_sum(total), sk_hist_sum(all));
    CHECK_EQ_U(sk_hist_percentile(total, 50), sk_hist_percentile(all, 50));
    CHECK_EQ_U(sk_hist_percentile(total, 100), sk_hist_percentile(all, 100));
    /* finished: later ticks do nothing */
    sk_intervals_tick(&iv, total, T0 + 100 * TICKS, rx, &tx);
    CHECK_EQ_U(iv.n_rows, 4);
    sk_intervals_free(&iv);
    sk_hist_free(total);
    sk_hist_free(all);
}

/* The JSON: length, rows with t_s and length_s in seconds, buckets. */
static void test_json(void)
{
    struct sk_intervals iv;
    struct sk_hist *total = sk_hist_new();
    _Atomic uint64_t tx = 3;
    struct sk_json j;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    CHECK(f != NULL && total != NULL);
    CHECK(sk_intervals_init(&iv, TICKS) == 0);
    sk_intervals_emit(&j, &iv, HZ); /* never started: nothing (j unused) */
    sk_intervals_start(&iv, T0);
    sk_hist_record(iv.open, 7);
    sk_intervals_finish(&iv, total, T0 + 250, 1, &tx);
    sk_json_init(&j, f);
    sk_json_begin_object(&j, NULL);
    sk_intervals_emit(&j, &iv, HZ);
    sk_json_end_object(&j);
    sk_json_finish(&j);
    fclose(f);
    CHECK(strstr(buf, "\"intervals\": {\"length_s\": 1.0, \"start_unix_ns\": ") != NULL);
    CHECK(strstr(buf, "\"rows\": [{\"t_s\": 0.0, \"length_s\": 0.25, \"rx_packets\": 1, "
                      "\"tx_packets\": 3, \"count\": 1, \"min\": 7, \"max\": 7, \"sum\": 7, "
                      "\"buckets\": [[7, 1]]}]}}") != NULL);
    if (check_failures)
        fprintf(stderr, "%s", buf);
    free(buf);
    sk_intervals_free(&iv);
    sk_hist_free(total);
}

/* Rows of full-range intervals (every index from 0 to the top): more than a
 * chunk holds, each row's buckets where it left them, and the run's
 * histogram made from them all. */
static void test_many_wide_rows(void)
{
    struct sk_intervals iv;
    struct sk_hist *total = sk_hist_new();
    _Atomic uint64_t tx = 0;
    uint64_t v;
    size_t k;
    uint32_t i;
    int ok = 1;

    CHECK(total != NULL && sk_intervals_init(&iv, TICKS) == 0);
    sk_intervals_start(&iv, T0);
    for (k = 0; k < 10; k++) {
        for (i = 0; i < SK_HIST_INDEX_COUNT; i++)
            for (v = 0; v <= k % 3; v++)
                sk_hist_record(iv.open, sk_hist_lowest_equivalent(i));
        sk_intervals_tick(&iv, total, T0 + (k + 1) * TICKS, 0, &tx);
    }
    CHECK_EQ_U(iv.n_rows, 10);
    for (k = 0; k < iv.n_rows; k++) {
        const struct sk_interval_row *r = &iv.rows[k];

        CHECK_EQ_U(r->n, SK_HIST_INDEX_COUNT);
        for (i = 0; i < r->n; i++)
            ok &= r->bucket_index[i] == i && r->bucket_count[i] == k % 3 + 1;
    }
    CHECK(ok);
    CHECK(iv.chunks != NULL && iv.chunks->next != NULL); /* it took more than one */
    sk_intervals_finish(&iv, total, T0 + 10 * TICKS, 0, &tx);
    CHECK_EQ_U(sk_hist_count(total), (uint64_t)SK_HIST_INDEX_COUNT * (4 * 1 + 3 * 2 + 3 * 3));
    CHECK_EQ_U(sk_hist_min(total), 0);
    CHECK_EQ_U(sk_hist_max(total), sk_hist_lowest_equivalent(SK_HIST_INDEX_COUNT - 1));
    sk_intervals_free(&iv);
    sk_hist_free(total);
}

int main(void)
{
    test_rows();
    test_many_wide_rows();
    test_json();
    return CHECK_DONE();
}
