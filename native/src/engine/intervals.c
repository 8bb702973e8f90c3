/*
 * intervals.c - the receiver's per-interval record (see intervals.h): rows of
 * packet counts and latency buckets, kept in two growing arrays, written
 * into the report as "intervals". Closing an interval costs a walk over the
 * buckets between its min and max (twice: copy, then move), once per
 * interval, never per packet.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "intervals.h"

#define ROWS_INITIAL 64
#define BUCKETS_INITIAL 4096

int sk_intervals_init(struct sk_intervals *iv, uint64_t ticks)
{
    memset(iv, 0, sizeof(*iv));
    iv->ticks = ticks > 0 ? ticks : 1;
    iv->next_tsc = UINT64_MAX;
    iv->open = sk_hist_new();
    return iv->open != NULL ? 0 : -ENOMEM;
}

void sk_intervals_free(struct sk_intervals *iv)
{
    sk_hist_free(iv->open);
    free(iv->rows);
    free(iv->buckets);
    memset(iv, 0, sizeof(*iv));
}

void sk_intervals_start(struct sk_intervals *iv, uint64_t now)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    iv->origin_unix_ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    iv->origin_tsc = iv->start_tsc = now;
    iv->next_tsc = now + iv->ticks;
}

/* Grow an array to hold `need` items (doubling); 0 or -ENOMEM. */
static int grow(void **arr, size_t *cap, size_t need, size_t size, size_t initial)
{
    size_t n = *cap ? *cap : initial;
    void *p;

    if (need <= *cap)
        return 0;
    while (n < need)
        n *= 2;
    p = realloc(*arr, n * size);
    if (p == NULL)
        return -ENOMEM;
    *arr = p;
    *cap = n;
    return 0;
}

/* Copy the open interval [start_tsc, end) out as a row, move its samples
 * into the run's histogram, start counting afresh. */
static void keep_row(struct sk_intervals *iv, struct sk_hist *total, uint64_t end,
                     uint64_t rx_packets, uint64_t tx_packets)
{
    struct sk_interval_row *row;
    uint64_t count = sk_hist_count(iv->open), c;
    uint32_t last;
    int32_t i;

    if (!iv->truncated &&
        grow((void **)&iv->rows, &iv->cap_rows, iv->n_rows + 1, sizeof(*iv->rows),
             ROWS_INITIAL) < 0)
        iv->truncated = 1;
    if (!iv->truncated) {
        row = &iv->rows[iv->n_rows];
        *row = (struct sk_interval_row){
            .start_tsc = iv->start_tsc, .end_tsc = end,
            .rx_packets = rx_packets - iv->rx0,
            .tx_packets = tx_packets > iv->tx0 ? tx_packets - iv->tx0 : 0,
            .count = count, .min = sk_hist_min(iv->open), .max = sk_hist_max(iv->open),
            .sum = sk_hist_sum(iv->open), .first = iv->n_buckets,
        };
        last = sk_hist_index_of(row->max);
        for (i = count ? sk_hist_next_bucket(iv->open, (int32_t)sk_hist_index_of(row->min), &c) : -1;
             i >= 0 && (uint32_t)i <= last; i = sk_hist_next_bucket(iv->open, i + 1, &c)) {
            if (grow((void **)&iv->buckets, &iv->cap_buckets, iv->n_buckets + 1,
                     sizeof(*iv->buckets), BUCKETS_INITIAL) < 0) {
                iv->truncated = 1;
                break;
            }
            iv->buckets[iv->n_buckets++] = (struct sk_interval_bucket){(uint32_t)i, c};
        }
        if (!iv->truncated) {
            row->n = iv->n_buckets - row->first;
            iv->n_rows++;
        }
    }
    sk_hist_move(total, iv->open);
    iv->rx0 = rx_packets;
    iv->tx0 = tx_packets;
    iv->start_tsc = end;
}

void sk_intervals_close(struct sk_intervals *iv, struct sk_hist *total,
                        uint64_t now, uint64_t rx_packets,
                        _Atomic uint64_t *tx_packets)
{
    uint64_t tx = atomic_load_explicit(tx_packets, memory_order_relaxed);

    /* what came since the last check belongs to the interval that just
     * ended; any whole intervals after it (no check ran: the receiver had
     * not started yet, phased) are empty rows */
    while (iv->next_tsc != UINT64_MAX && now >= iv->next_tsc) {
        keep_row(iv, total, iv->next_tsc, rx_packets, tx);
        iv->next_tsc += iv->ticks;
    }
}

void sk_intervals_finish(struct sk_intervals *iv, struct sk_hist *total,
                         uint64_t now, uint64_t rx_packets,
                         _Atomic uint64_t *tx_packets)
{
    uint64_t tx;

    if (iv->next_tsc == UINT64_MAX)
        return;
    sk_intervals_close(iv, total, now, rx_packets, tx_packets);
    tx = atomic_load_explicit(tx_packets, memory_order_relaxed);
    if (now > iv->start_tsc || sk_hist_count(iv->open) != 0 || rx_packets != iv->rx0)
        keep_row(iv, total, now > iv->start_tsc ? now : iv->start_tsc, rx_packets, tx);
    else
        sk_hist_move(total, iv->open);
    iv->next_tsc = UINT64_MAX;
}

void sk_intervals_emit(struct sk_json *j, const struct sk_intervals *iv, uint64_t hz)
{
    const struct sk_interval_row *r;
    size_t k, b;

    if (iv->origin_tsc == 0)
        return; /* the receiver never ran */
    sk_json_begin_object(j, "intervals");
    sk_json_double(j, "length_s", (double)iv->ticks / (double)hz);
    sk_json_uint(j, "start_unix_ns", (uint64_t)iv->origin_unix_ns);
    sk_json_bool(j, "truncated", iv->truncated);
    sk_json_begin_array(j, "rows");
    for (k = 0; k < iv->n_rows; k++) {
        r = &iv->rows[k];
        sk_json_begin_object(j, NULL);
        sk_json_double(j, "t_s", (double)(r->start_tsc - iv->origin_tsc) / (double)hz);
        sk_json_double(j, "length_s", (double)(r->end_tsc - r->start_tsc) / (double)hz);
        sk_json_uint(j, "rx_packets", r->rx_packets);
        sk_json_uint(j, "tx_packets", r->tx_packets);
        sk_json_uint(j, "count", r->count);
        sk_json_uint(j, "min", r->min);
        sk_json_uint(j, "max", r->max);
        sk_json_uint(j, "sum", r->sum);
        sk_json_begin_array(j, "buckets");
        for (b = r->first; b < r->first + r->n; b++) {
            sk_json_begin_array(j, NULL);
            sk_json_uint(j, NULL, iv->buckets[b].index);
            sk_json_uint(j, NULL, iv->buckets[b].count);
            sk_json_end_array(j);
        }
        sk_json_end_array(j);
        sk_json_end_object(j);
    }
    sk_json_end_array(j);
    sk_json_end_object(j);
}
