/*
 * intervals.c - the receiver's per-interval record (see intervals.h): rows of
 * packet counts and latency buckets (in chunks that never move), written into
 * the report as "intervals". Closing an interval costs one walk over the
 * buckets between its min and max, once per interval, never per packet.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "intervals.h"

#define ROWS_INITIAL 64
/* entries a chunk holds (3 MiB): eight full-range intervals, or hundreds of
 * narrow ones */
#define CHUNK_ENTRIES (8 * SK_HIST_INDEX_COUNT)

static struct sk_interval_chunk *room_for(struct sk_intervals *iv, size_t need);

int sk_intervals_init(struct sk_intervals *iv, uint64_t ticks)
{
    struct sk_interval_chunk *c;

    memset(iv, 0, sizeof(*iv));
    iv->ticks = ticks > 0 ? ticks : 1;
    iv->next_tsc = UINT64_MAX;
    iv->open = sk_hist_new();
    if (iv->open == NULL || (c = room_for(iv, 0)) == NULL)
        return -ENOMEM;
    /* the first chunk's pages faulted in here, before the receiver starts,
     * not on its core at the first interval's end */
    memset(c->count, 0, c->cap * sizeof(*c->count));
    memset(c->index, 0, c->cap * sizeof(*c->index));
    return 0;
}

void sk_intervals_free(struct sk_intervals *iv)
{
    struct sk_interval_chunk *c, *next;

    for (c = iv->chunks; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
    sk_hist_free(iv->open);
    free(iv->rows);
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

/* A chunk with room for `need` more entries (the newest, or a new one). */
static struct sk_interval_chunk *room_for(struct sk_intervals *iv, size_t need)
{
    struct sk_interval_chunk *c = iv->chunks;

    if (c != NULL && c->cap - c->used >= need)
        return c;
    if (need > CHUNK_ENTRIES)
        return NULL; /* more than any interval can hold: a bug */
    /* one block: the header, the counts (8-aligned), then the indices */
    c = malloc(sizeof(*c) + CHUNK_ENTRIES * (sizeof(uint64_t) + sizeof(uint32_t)));
    if (c == NULL)
        return NULL;
    c->count = (uint64_t *)(c + 1);
    c->index = (uint32_t *)(c->count + CHUNK_ENTRIES);
    c->used = 0;
    c->cap = CHUNK_ENTRIES;
    c->next = iv->chunks;
    iv->chunks = c;
    return c;
}

/* Copy the open interval [start_tsc, end) out as a row, move its samples
 * into the run's histogram, start counting afresh. */
static void keep_row(struct sk_intervals *iv, struct sk_hist *total, uint64_t end,
                     uint64_t rx_packets, uint64_t tx_packets)
{
    struct sk_interval_row *row = NULL;
    struct sk_interval_chunk *c = NULL;
    int32_t n;

    if (!iv->truncated && iv->n_rows == iv->cap_rows) {
        size_t cap = iv->cap_rows ? 2 * iv->cap_rows : ROWS_INITIAL;
        struct sk_interval_row *rows = realloc(iv->rows, cap * sizeof(*rows));

        if (rows == NULL) {
            iv->truncated = 1;
        } else {
            iv->rows = rows;
            iv->cap_rows = cap;
        }
    }
    if (!iv->truncated && (c = room_for(iv, sk_hist_span(iv->open))) == NULL)
        iv->truncated = 1;
    if (iv->truncated) { /* no row kept: its samples go to the run's at once */
        sk_hist_move(total, iv->open);
    } else {
        row = &iv->rows[iv->n_rows++];
        *row = (struct sk_interval_row){
            .start_tsc = iv->start_tsc, .end_tsc = end,
            .rx_packets = rx_packets - iv->rx0,
            .tx_packets = tx_packets > iv->tx0 ? tx_packets - iv->tx0 : 0,
            .count = sk_hist_count(iv->open), .min = sk_hist_min(iv->open),
            .max = sk_hist_max(iv->open), .sum = sk_hist_sum(iv->open),
            .clamped = sk_hist_clamped(iv->open),
            .bucket_index = c->index + c->used, .bucket_count = c->count + c->used,
        };
        n = sk_hist_move_export(NULL, iv->open, c->index + c->used, c->count + c->used,
                                (uint32_t)(c->cap - c->used));
        row->n = n > 0 ? (size_t)n : 0;
        c->used += row->n;
    }
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

/* The run's histogram: what is already in it (rows the memory did not hold)
 * and every row's buckets, with the exact extrema, sum and clamped count. */
static void add_rows(const struct sk_intervals *iv, struct sk_hist *total)
{
    uint64_t has = sk_hist_count(total), min = has ? sk_hist_min(total) : UINT64_MAX;
    uint64_t max = sk_hist_max(total), sum = sk_hist_sum(total);
    uint64_t clamped = sk_hist_clamped(total);
    const struct sk_interval_row *r;
    size_t k, b;

    for (k = 0; k < iv->n_rows; k++) {
        r = &iv->rows[k];
        if (r->count == 0)
            continue;
        for (b = 0; b < r->n; b++)
            sk_hist_add_bucket(total, r->bucket_index[b], r->bucket_count[b]);
        if (r->min < min)
            min = r->min;
        if (r->max > max)
            max = r->max;
        sum = sum + r->sum < sum ? UINT64_MAX : sum + r->sum; /* saturate */
        clamped += r->clamped;
    }
    if (sk_hist_count(total) != 0)
        sk_hist_set_stats(total, min, max, sum, clamped);
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
    iv->next_tsc = UINT64_MAX;
    add_rows(iv, total);
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
        for (b = 0; b < r->n; b++) {
            sk_json_begin_array(j, NULL);
            sk_json_uint(j, NULL, r->bucket_index[b]);
            sk_json_uint(j, NULL, r->bucket_count[b]);
            sk_json_end_array(j);
        }
        sk_json_end_array(j);
        sk_json_end_object(j);
    }
    sk_json_end_array(j);
    sk_json_end_object(j);
}
