/*
 * receiver.c - the receiving poll loop.
 *
 * Per burst: one TSC read; per packet: bounds-checked parse on the bytes the
 * backend says are there (a whole frame, or a UDP payload from a datagram
 * backend: the same accounting follows either way), latency = burst TSC - stamp into the histogram,
 * sequence accounting; malformed frames are counted by reason, and so are
 * garbled messages (parsed, but failing the trailer's keyed check, out of
 * the offered sequences, or with an impossible stamp: never delivered,
 * never a latency sample). With a
 * stream (proto itch) the same per MoldUDP64 message sequence, latency keyed
 * by sequence against the generator's send times. The loop ends
 * at once when every packet sent has arrived, after drain_ticks of silence
 * once the generator is done, or on stop (signal, timeout).
 */
#include <errno.h>

#include "engine.h"
#include "intervals.h"
#include "../core/batch.h"
#include "../core/compiler.h"
#include "../core/parse.h"
#include "../core/seed_check.h"

/* After a stop, queued packets are still taken for at most this long. */
#define STOP_DRAIN_MS 20
/* Packets whose data is prefetched ahead of the one being parsed. */
#define PREFETCH_AHEAD 4

/* ns = ticks * ns_mult >> 32, ns_mult = 1e9 * 2^32 / hz */
static inline uint64_t ticks_to_ns(uint64_t ticks, uint64_t ns_mult)
{
    return (uint64_t)(((unsigned __int128)ticks * ns_mult) >> 32);
}

uint64_t sk_rx_unique(const struct sk_rx_ctx *c)
{
    uint64_t u = 0;
    unsigned f;

    if (c->flows <= 1)
        return sk_seq_unique(c->seq);
    for (f = 0; f <= c->flows; f++)
        u += sk_seq_unique(c->flow_seq[f]);
    return u;
}

/* Done once the generator has finished and everything it sent arrived, or
 * the link stayed quiet for the drain time. */
static int drained(struct sk_rx_ctx *c, uint64_t now, uint64_t last_rx)
{
    struct sk_shared *sh = c->sh;
    uint64_t quiet_since;

    if (!atomic_load_explicit(&sh->tx_done, memory_order_acquire))
        return 0;
    /* every intact packet and every frame on the link (duplicates and
     * frames the impairments damaged included) is in */
    if (sk_rx_unique(c) >= (c->expect_all != 0 ? c->expect_all :
                            atomic_load_explicit(&sh->rx_expect, memory_order_relaxed)) &&
        atomic_load_explicit(&sh->rx.packets, memory_order_relaxed) >=
            atomic_load_explicit(&sh->tx_wire, memory_order_relaxed))
        return 1;
    quiet_since = atomic_load_explicit(&sh->tx_done_tsc, memory_order_relaxed);
    if (last_rx > quiet_since)
        quiet_since = last_rx;
    return now > quiet_since && now - quiet_since >= c->drain_ticks;
}

/* Count a garbled message; keep the first few for the report. */
static inline void note_garbled(struct sk_rx_ctx *c, int reason, uint64_t seq)
{
    uint64_t n = 0;
    int r;

    for (r = 1; r <= SK_GARBLED_REASON_COUNT; r++)
        n += c->garbled[r];
    if (n < SK_GARBLED_SAMPLES) {
        c->garbled_first[n].seq = seq;
        c->garbled_first[n].reason = reason;
    }
    c->garbled[reason]++;
}

/* A MoldUDP64 datagram: each message is checked against the stream's
 * message of its sequence (the same bytes, a sequence that was offered and
 * sent) and, if intact, accounted (from 0 at the stream's first); garbled
 * ones are counted by reason. Latency is keyed by the first message's
 * sequence against the generator's record of its send time (the messages of
 * one datagram share it), when that message is intact. Heartbeats and the
 * end of session carry no messages and are counted apart. */
static inline void account_mold(struct sk_rx_ctx *c, const struct sk_pkt *pkt,
                                uint64_t now, uint64_t ns_mult)
{
    const struct sk_stream *st = c->stream;
    struct sk_mold_view mv;
    const uint8_t *msg;
    uint64_t base, sent = 0, seq;
    size_t at = SK_MOLD_HEADER_LEN;
    uint16_t mlen;
    uint32_t j;
    int r, g;

    r = sk_mold_classify(pkt->data, pkt->len, c->datagrams, &mv);
    if (sk_unlikely(r != SK_PARSE_OK)) {
        if (r > 0 && r <= SK_RX_REASON_COUNT)
            c->malformed[r]++;
        return;
    }
    if (mv.count == 0 || mv.count == SK_MOLD_END_OF_SESSION) {
        if (mv.count == 0)
            c->heartbeats++;
        else
            c->end_of_session++;
        return;
    }
    base = mv.seq - st->first_seq;
    for (j = 0; j < mv.count; j++) {
        seq = base + j;
        msg = sk_mold_next_message(mv.payload, &at, &mlen);
        g = sk_stream_verify(st, &c->cursor, seq, msg, mlen);
        if (g == 0 && (sent = sk_stream_sent_tsc(st, seq)) == 0)
            g = SK_GARBLED_TIMESTAMP; /* never sent: not of this run */
        if (sk_unlikely(g != 0)) {
            note_garbled(c, g, seq);
            continue;
        }
        sk_seq_feed(c->seq, seq);
        if (c->delivered != NULL)
            c->delivered[seq] = 1;
        if (j == 0)
            sk_hist_record(c->iv->open, now > sent ? ticks_to_ns(now - sent, ns_mult) : 0);
    }
}

/* What a seed message is checked against, copied out of the context for a
 * burst (kept in registers). */
struct seed_rules {
    struct sk_seed_key key;
    uint64_t seq_limit;
    uint64_t start_tsc;
    uint64_t stamp_span;  /* a stamp s is possible when s - start_tsc <= this */
};

/* Why an intact-looking seed message is garbled (0: it is not): its check,
 * its sequence (never offered), its stamp (before the run, or ahead of
 * this burst's clock by more than the TSC skew). */
static inline int seed_verdict(const struct seed_rules *g, const uint8_t *payload,
                               const struct sk_seed_view *v)
{
    if (sk_unlikely(sk_seed_check_inline(&g->key, payload) != v->check))
        return SK_GARBLED_CHECK;
    if (sk_unlikely(v->seq >= g->seq_limit))
        return SK_GARBLED_SEQUENCE;
    if (sk_unlikely(v->timestamp - g->start_tsc > g->stamp_span))
        return SK_GARBLED_TIMESTAMP;
    return 0;
}

/* A packet's first two cache lines (the seed frame is 78 bytes), some
 * packets ahead of the one being parsed: they were written by the other core.
 * A prefetch never faults, also past the end of a buffer. */
static inline void prefetch_pkt(const struct sk_pkt *p)
{
    __builtin_prefetch(p->data);
    __builtin_prefetch(p->data + SK_CACHE_LINE);
}

/* Parse, time and account one burst, then give the buffers back. Seed: the
 * parse loop collects the stamps and sequence numbers of the intact packets;
 * their latencies and sequence numbers then go to the histogram and the
 * tracker in one call each, in arrival order (the same state as one by one). */
static inline void process_burst(struct sk_rx_ctx *c, struct sk_pkt *pkts,
                                 unsigned n, uint64_t now, uint64_t ns_mult,
                                 uint64_t *bytes)
{
    uint64_t lat[SK_IO_MAX_BURST], seqs[SK_IO_MAX_BURST];
    uint16_t flow[SK_IO_MAX_BURST];
    struct sk_seed_view v, dv; /* v never escapes: unread fields are never stored */
    const struct seed_rules rules = {
        .key = c->key, .seq_limit = c->seq_limit, .start_tsc = c->start_tsc,
        .stamp_span = now + c->skew_ticks - c->start_tsc,
    };
    const uint8_t *payload;
    unsigned i, k = 0, f;
    int r, g;

    if (c->stream != NULL) {
        for (i = 0; i < n; i++) {
            *bytes += pkts[i].wire_len;
            account_mold(c, &pkts[i], now, ns_mult);
        }
        c->ops->free(c->port, pkts, n);
        return;
    }
    for (i = 0; i < n && i < PREFETCH_AHEAD; i++)
        prefetch_pkt(&pkts[i]);
    for (i = 0; i < n; i++) {
        if (i + PREFETCH_AHEAD < n)
            prefetch_pkt(&pkts[i + PREFETCH_AHEAD]);
        *bytes += pkts[i].wire_len;
        if (sk_unlikely(c->datagrams)) {
            r = sk_payload_parse(pkts[i].data, pkts[i].len, &dv);
            v.timestamp = dv.timestamp;
            v.seq = dv.seq;
            v.check = dv.check;
            v.src_port = c->flow_base; /* one flow (--flows needs frames) */
            payload = pkts[i].data;
        } else {
            r = sk_seed_parse_inline(pkts[i].data, pkts[i].len, &v);
            payload = pkts[i].data + v.payload_offset;
        }
        if (sk_likely(r == SK_PARSE_OK)) {
            g = seed_verdict(&rules, payload, &v);
            if (sk_unlikely(g != 0)) {
                note_garbled(c, g, v.seq);
                continue;
            }
            lat[k] = v.timestamp;
            flow[k] = (uint16_t)(v.src_port - c->flow_base);
            seqs[k++] = v.seq;
        } else if (r > 0 && r <= SK_MALFORMED_REASON_COUNT) {
            c->malformed[r]++;
        }
    }
    c->ops->free(c->port, pkts, n);
    for (i = 0; i < k; i++) /* stamp -> latency, one burst TSC for all */
        lat[i] = now > lat[i] ? ticks_to_ns(now - lat[i], ns_mult) : 0;
    sk_hist_record_batch(c->iv->open, lat, k);
    if (sk_likely(c->flows <= 1)) {
        sk_seq_feed_batch(c->seq, seqs, k);
        return;
    }
    for (i = 0; i < k; i++) { /* a port outside the flows: tracker [flows] */
        f = flow[i] < c->flows ? flow[i] : c->flows;
        sk_seq_feed(c->flow_seq[f], seqs[i]);
    }
}

int sk_receiver_run(struct sk_rx_ctx *c)
{
    struct sk_shared *sh = c->sh;
    struct sk_core_stats *st = &sh->rx;
    struct sk_pkt pkts[SK_IO_MAX_BURST];
    uint64_t ns_mult, now, last_rx = 0, packets = 0, bytes = 0, loop_start;
    double cpu0, cpu1;
    uint64_t cs0, cs1;
    unsigned n;

    ns_mult = (uint64_t)(((unsigned __int128)1000000000ULL << 32) / sh->hz);
    loop_start = sk_rdtsc(); /* wall_s encloses the cpu_s window */
    sk_intervals_start(c->iv, loop_start);
    sk_thread_usage(&cpu0, &cs0);
    st->first_tsc = 0;
    for (;;) {
        now = sk_rdtsc();
        if (sk_unlikely(sk_should_stop(sh, now)))
            break;
        sk_intervals_tick(c->iv, c->hist, now, packets, &sh->tx.packets);
        n = c->ops->rx_burst(c->port, pkts, c->burst);
        if (sk_unlikely(n == 0)) {
            if (c->progress)
                sk_progress_tick(sh, now);
            if (drained(c, now, last_rx))
                break;
            continue;
        }
        now = sk_rdtsc();
        process_burst(c, pkts, n, now, ns_mult, &bytes);
        if (st->first_tsc == 0)
            st->first_tsc = now;
        last_rx = now;
        packets += n;
        atomic_store_explicit(&st->packets, packets, memory_order_relaxed);
        if (c->progress)
            sk_progress_tick(sh, now);
        if (drained(c, now, last_rx))
            break;
    }
    /* Stopped early (signal, timeout): once the sender has stopped too, take
     * what is already queued so the books close on what was really in
     * flight. Bounded in time: a DUT may keep sending. */
    if (atomic_load(&sh->stop)) {
        uint64_t until = sk_rdtsc() + sh->hz / SK_MS_PER_S * STOP_DRAIN_MS;

        while ((now = sk_rdtsc()) < until) {
            n = c->ops->rx_burst(c->port, pkts, c->burst);
            if (n == 0) {
                if (atomic_load_explicit(&sh->tx_done, memory_order_acquire))
                    break;
                continue;
            }
            process_burst(c, pkts, n, now, ns_mult, &bytes);
            if (st->first_tsc == 0)
                st->first_tsc = now;
            last_rx = now;
            packets += n;
            atomic_store_explicit(&st->packets, packets, memory_order_relaxed);
        }
    }
    sk_intervals_finish(c->iv, c->hist, sk_rdtsc(), packets, &sh->tx.packets);
    st->last_tsc = last_rx;
    if (st->first_tsc == 0)
        st->first_tsc = last_rx;
    sk_thread_usage(&cpu1, &cs1);
    st->wall_s = (double)(sk_rdtsc() - loop_start) / (double)sh->hz;
    st->bytes = bytes;
    st->cpu_s = cpu1 - cpu0;
    st->ctx_switches = cs1 - cs0;
    atomic_store_explicit(&sh->rx_done, 1, memory_order_release);
    return 0;
}

int sk_receiver_main(void *arg)
{
    return sk_receiver_run(arg);
}
