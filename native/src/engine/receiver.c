/*
 * receiver.c - the receiving poll loop.
 *
 * Per burst: one TSC read; per packet: bounds-checked parse on the bytes the
 * backend says are there (a whole frame, or a UDP payload from a datagram
 * backend: the same accounting follows either way), latency = burst TSC - stamp into the histogram,
 * sequence accounting; malformed frames are counted by reason. With a
 * stream (proto itch) the same per MoldUDP64 message sequence, latency keyed
 * by sequence against the generator's send times. The loop ends
 * at once when every packet sent has arrived, after drain_ticks of silence
 * once the generator is done, or on stop (signal, timeout).
 */
#include <errno.h>

#include "engine.h"
#include "../core/compiler.h"

/* After a stop, queued packets are still taken for at most this long. */
#define STOP_DRAIN_MS 20

/* ns = ticks * ns_mult >> 32, ns_mult = 1e9 * 2^32 / hz */
static inline uint64_t ticks_to_ns(uint64_t ticks, uint64_t ns_mult)
{
    return (uint64_t)(((unsigned __int128)ticks * ns_mult) >> 32);
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
    if (sk_seq_unique(c->seq) >= atomic_load_explicit(&sh->rx_expect,
                                                      memory_order_relaxed) &&
        atomic_load_explicit(&sh->rx.packets, memory_order_relaxed) >=
            atomic_load_explicit(&sh->tx_wire, memory_order_relaxed))
        return 1;
    quiet_since = atomic_load_explicit(&sh->tx_done_tsc, memory_order_relaxed);
    if (last_rx > quiet_since)
        quiet_since = last_rx;
    return now > quiet_since && now - quiet_since >= c->drain_ticks;
}

/* A MoldUDP64 datagram: each message's sequence number is accounted (from
 * 0 at the stream's first); latency is keyed by the first message's
 * sequence against the generator's record of its send time (the messages of
 * one datagram share it). Heartbeats and the end of session carry no
 * messages and are counted apart. */
static inline void account_mold(struct sk_rx_ctx *c, const struct sk_pkt *pkt,
                                uint64_t now, uint64_t ns_mult)
{
    const struct sk_stream *st = c->stream;
    struct sk_mold_view mv;
    uint64_t base, sent;
    uint32_t j;
    int r;

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
    for (j = 0; j < mv.count; j++)
        sk_seq_feed(c->seq, base + j);
    if (base < st->messages) { /* else not a sequence this run sent */
        sent = st->send_tsc[base];
        sk_hist_record(c->hist, now > sent ? ticks_to_ns(now - sent, ns_mult) : 0);
    }
}

/* Parse, time and account one burst, then give the buffers back. */
static inline void process_burst(struct sk_rx_ctx *c, struct sk_pkt *pkts,
                                 unsigned n, uint64_t now, uint64_t ns_mult,
                                 uint64_t *bytes)
{
    struct sk_seed_view v;
    unsigned i;
    int r;

    for (i = 0; i < n; i++) {
        *bytes += pkts[i].wire_len;
        if (c->stream != NULL) {
            account_mold(c, &pkts[i], now, ns_mult);
            continue;
        }
        r = c->datagrams ? sk_payload_parse(pkts[i].data, pkts[i].len, &v)
                         : sk_seed_parse(pkts[i].data, pkts[i].len, &v);
        if (sk_likely(r == SK_PARSE_OK)) {
            sk_hist_record(c->hist, now > v.timestamp ?
                           ticks_to_ns(now - v.timestamp, ns_mult) : 0);
            sk_seq_feed(c->seq, v.seq);
        } else if (r > 0 && r <= SK_MALFORMED_REASON_COUNT) {
            c->malformed[r]++;
        }
    }
    c->ops->free(c->port, pkts, n);
}

int sk_receiver_run(struct sk_rx_ctx *c)
{
    struct sk_shared *sh = c->sh;
    struct sk_core_stats *st = &sh->rx;
    struct sk_pkt pkts[SK_IO_MAX_BURST];
    uint64_t ns_mult, now, last_rx = 0, packets = 0, bytes = 0;
    double cpu0, cpu1;
    uint64_t cs0, cs1;
    unsigned n;

    ns_mult = (uint64_t)(((unsigned __int128)1000000000ULL << 32) / sh->hz);
    sk_thread_usage(&cpu0, &cs0);
    st->first_tsc = 0;
    for (;;) {
        now = sk_rdtsc();
        if (sk_unlikely(sk_should_stop(sh, now)))
            break;
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
    st->last_tsc = last_rx;
    if (st->first_tsc == 0)
        st->first_tsc = last_rx;
    sk_thread_usage(&cpu1, &cs1);
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
