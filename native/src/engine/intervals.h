/*
 * intervals.h - the receiver's per-interval (default 1 s) record: latency
 * histogram, packets received and sent in each interval.
 *
 * The receiver records its latencies into the open interval's histogram
 * (`open`), never into two: at each interval's end (one TSC compare per
 * loop iteration) that histogram's non-empty buckets are copied out and
 * cleared in one pass over its [min, max] range (sk_hist_move_export): the
 * receiver's core touches no other histogram then. The run's histogram is
 * made from the rows once the receiver has finished (sk_intervals_finish).
 */
#ifndef SK_ENGINE_INTERVALS_H
#define SK_ENGINE_INTERVALS_H

#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>

#include "simkit.h"
#include "../core/compiler.h"

#define SK_DEFAULT_INTERVAL_MS 1000
#define SK_MAX_INTERVAL_MS 3600000

struct sk_json;

struct sk_interval_row {
    uint64_t start_tsc;
    uint64_t end_tsc;
    uint64_t rx_packets;   /* received during the interval */
    uint64_t tx_packets;   /* sent during it, as the receiver saw the count */
    uint64_t count;        /* latency samples */
    uint64_t min, max, sum, clamped;
    /* its n non-empty buckets: bucket_index[k], bucket_count[k] */
    const uint32_t *bucket_index;
    const uint64_t *bucket_count;
    size_t n;
};

/* Bucket storage, in chunks that are never moved (no copying realloc on the
 * receiver's core; a new chunk's pages are touched only as they fill). */
struct sk_interval_chunk {
    struct sk_interval_chunk *next;
    size_t used, cap;
    uint32_t *index;
    uint64_t *count;
};

struct sk_intervals {
    struct sk_hist *open;  /* the open interval's samples: record here */
    uint64_t ticks;        /* an interval's length */
    uint64_t start_tsc;    /* the open interval's start */
    uint64_t next_tsc;     /* its end (UINT64_MAX: not started) */
    uint64_t origin_tsc;   /* the first interval's start */
    int64_t origin_unix_ns; /* the same instant on the wall clock */
    uint64_t rx0, tx0;     /* the counts when the open interval began */
    struct sk_interval_row *rows;
    size_t n_rows, cap_rows;
    struct sk_interval_chunk *chunks; /* the newest first */
    int truncated;         /* out of memory: later rows were not kept */
};

/* 0 or -ENOMEM. ticks: an interval's length in TSC ticks. */
int sk_intervals_init(struct sk_intervals *iv, uint64_t ticks);
void sk_intervals_free(struct sk_intervals *iv);
/* Open the first interval at `now` (the receiver's loop start). */
void sk_intervals_start(struct sk_intervals *iv, uint64_t now);
/* Close every interval that ended by `now` into rows (`total` takes their
 * samples at once only when memory for a row ran out). tx_packets: the
 * generator's counter, read only here (its cache line belongs to the other
 * core). */
void sk_intervals_close(struct sk_intervals *iv, struct sk_hist *total,
                        uint64_t now, uint64_t rx_packets,
                        _Atomic uint64_t *tx_packets);
/* The receiver is done: close the open interval at `now`, short; `total`
 * then holds every sample (made from the rows). */
void sk_intervals_finish(struct sk_intervals *iv, struct sk_hist *total,
                         uint64_t now, uint64_t rx_packets,
                         _Atomic uint64_t *tx_packets);
/* "intervals": {length_s, start_unix_ns, truncated, rows: [...]}; nothing
 * when the receiver never started. */
void sk_intervals_emit(struct sk_json *j, const struct sk_intervals *iv,
                       uint64_t hz);

/* The receiver's per-iteration check: one compare unless an interval ended. */
static inline void sk_intervals_tick(struct sk_intervals *iv, struct sk_hist *total,
                                     uint64_t now, uint64_t rx_packets,
                                     _Atomic uint64_t *tx_packets)
{
    if (sk_unlikely(now >= iv->next_tsc))
        sk_intervals_close(iv, total, now, rx_packets, tx_packets);
}

#endif
