/*
 * generator.c - the sending poll loop.
 *
 * The seed template is built once; per burst we allocate buffers, copy the
 * template, write the message fields (one TSC read stamps the whole burst);
 * or, with a prepared stream (--stream), copy its next frames and record the
 * burst's TSC as the send time of each MoldUDP64 message they carry
 * and send (a datagram backend gets the 36-byte payload only: its kernel
 * adds the headers; bytes are counted as the 78-byte frame either way), retrying the unsent tail so a loopback never loses packets.
 * With a rate, pace.c says how many packets are due (constant or Poisson
 * arrivals; or, with --arrivals capture, a timed stream's own offsets scaled
 * by --speed) and measures how well the departures kept to the schedule; with
 * a duration the loop ends when it is up (or at --count, if that comes first).
 */
#include <errno.h>
#include <string.h>

#include "engine.h"
#include "../core/compiler.h"
#include "../core/rng.h"
#include "../core/seed_write.h"

/* A burst of seed packets, one stamp for all. The draws run on a local
 * copy of the state (kept in registers); a datagram backend gets the
 * 36-byte payload only (its kernel adds the headers). */
static void fill_seed(const struct sk_gen_ctx *c, struct sk_pkt *pkts, unsigned n,
                      const uint8_t *tmpl, struct sk_rng *rng, uint64_t now,
                      uint64_t seq0, int datagrams)
{
    struct sk_rng r = *rng;
    struct sk_md_msg msg;
    unsigned i;

    msg.timestamp = now;
    for (i = 0; i < n; i++) {
        sk_md_draw(&r, &msg);
        if (datagrams) {
            sk_payload_write(pkts[i].data, &msg, seq0 + i, &c->key);
            continue;
        }
        /* the headers; sk_seed_write_msg writes all 36 payload bytes */
        memcpy(pkts[i].data, tmpl, SK_SEED_PAYLOAD_OFFSET);
        sk_seed_write_msg_inline(pkts[i].data, &msg, seq0 + i, &c->key, c->udp_checksum);
    }
    *rng = r;
}

/* The same with --flows N (frames only): packet idx belongs to flow
 * idx % N, which has UDP source port base + flow, symbol_id
 * SK_MD_SYMBOL_MIN + flow, and its own sequence numbers (idx / N: from 0 per
 * flow). Price and size are drawn as with one flow (the symbol draw is made
 * and replaced), so they are the single-flow stream's. */
static void fill_seed_flows(const struct sk_gen_ctx *c, struct sk_pkt *pkts,
                            unsigned n, const uint8_t *tmpl, struct sk_rng *rng,
                            uint64_t now, uint64_t idx0)
{
    struct sk_rng r = *rng;
    struct sk_md_msg msg;
    uint64_t q = idx0 / c->flows;
    unsigned i, f = (unsigned)(idx0 % c->flows);

    msg.timestamp = now;
    for (i = 0; i < n; i++) {
        sk_md_draw(&r, &msg);
        msg.symbol_id = SK_MD_SYMBOL_MIN + f;
        memcpy(pkts[i].data, tmpl, SK_SEED_PAYLOAD_OFFSET);
        sk_put_be16(pkts[i].data + SK_ETH_HDR_LEN + SK_IPV4_HDR_LEN,
                    (uint16_t)(c->fields.src_port + f));
        sk_seed_write_msg_inline(pkts[i].data, &msg, q, &c->key, c->udp_checksum);
        if (++f == c->flows) {
            f = 0;
            q++;
        }
    }
    *rng = r;
}

void sk_generator_done(struct sk_shared *sh, uint64_t offered, uint64_t expect,
                       uint64_t wire)
{
    atomic_store_explicit(&sh->tx_final, offered, memory_order_relaxed);
    atomic_store_explicit(&sh->rx_expect, expect, memory_order_relaxed);
    atomic_store_explicit(&sh->tx_wire, wire, memory_order_relaxed);
    atomic_store_explicit(&sh->tx_done_tsc, sk_rdtsc(), memory_order_relaxed);
    atomic_store_explicit(&sh->tx_done, 1, memory_order_release);
}

uint64_t sk_stream_seqs(const struct sk_stream *s, uint64_t datagrams)
{
    if (s == NULL)
        return datagrams; /* seed: one sequence number per packet */
    return datagrams >= s->count ? s->messages : s->msg_index[datagrams];
}

int sk_generator_run(struct sk_gen_ctx *c)
{
    struct sk_shared *sh = c->sh;
    struct sk_core_stats *st = &sh->tx;
    struct sk_pkt pkts[SK_IO_MAX_BURST];
    uint8_t tmpl[SK_SEED_FRAME_LEN];
    struct sk_seed_fields fields;
    struct sk_rng rng;
    struct sk_stream *stream = c->stream;
    uint64_t sent = 0, start, now = 0, end, bytes = 0, idx, wall0;
    struct sk_pacer pace;
    double cpu0, cpu1;
    uint64_t cs0, cs1;
    unsigned n, done, i;
    uint32_t buf_len, off = 0, j;
    int ret, datagrams, failed = 0;

    if (c->n_impair > 0) {
        /* its cpu_s window is inside this one (staging set-up included) */
        wall0 = sk_rdtsc();
        ret = sk_generator_run_impaired(c);
        st->wall_s = (double)(sk_rdtsc() - wall0) / (double)sh->hz;
        return ret;
    }
    memset(&pace, 0, sizeof(pace));
    fields = c->fields;
    fields.udp_checksum = (uint8_t)(c->udp_checksum != 0);
    ret = sk_seed_build(&fields, tmpl, sizeof(tmpl));
    if (ret < 0)
        goto out;
    datagrams = c->ops->layer == SK_IO_DATAGRAMS;
    buf_len = datagrams ? SK_SEED_PAYLOAD_LEN : SK_SEED_FRAME_LEN;
    if (stream != NULL) { /* a datagram backend sends the UDP payload only */
        off = datagrams ? stream->payload_off : 0;
        buf_len = stream->max_len - off;
    }
    sk_rng_seed(&rng, c->seed);

    wall0 = sk_rdtsc(); /* wall_s encloses the cpu_s window */
    sk_thread_usage(&cpu0, &cs0);
    start = sk_rdtsc();
    end = sk_duration_end(start, c->duration_s, sh->hz);
    ret = sk_pace_init(&pace, &c->pacing, sh->hz, start);
    if (ret < 0)
        goto out;
    st->first_tsc = start;
    while (sent < c->count) {
        now = sk_rdtsc();
        if (sk_unlikely(sk_should_stop(sh, now) || now >= end))
            break;
        if (c->progress)
            sk_progress_tick(sh, now);

        n = c->count - sent < c->burst ? (unsigned)(c->count - sent) : c->burst;
        n = sk_pace_due(&pace, now, sent, n);
        if (n == 0)
            continue;
        ret = c->ops->alloc(c->port, pkts, n, buf_len);
        if (sk_unlikely(ret == -ENOBUFS))
            continue; /* pool empty: buffers are in flight, they come back */
        if (sk_unlikely(ret < 0)) {
            failed = ret; /* a frame the backend's buffers cannot hold: a bug */
            break;
        }

        for (i = 0; i < n && stream != NULL; i++) {
            idx = sent + i;
            memcpy(pkts[i].data, stream->frames[idx] + off, stream->lens[idx] - off);
            pkts[i].len = stream->lens[idx] - off;
            /* the send time of each of its messages, for the receiver */
            for (j = 0; j < stream->msg_count[idx]; j++)
                stream->send_tsc[stream->msg_index[idx] + j] = now;
        }
        if (stream == NULL && c->flows > 1)
            fill_seed_flows(c, pkts, n, tmpl, &rng, now, sent);
        else if (stream == NULL)
            fill_seed(c, pkts, n, tmpl, &rng, now, sent, datagrams);
        done = c->ops->tx_burst(c->port, pkts, n);
        while (done < n && !sk_should_stop(sh, sk_rdtsc()))
            done += c->ops->tx_burst(c->port, pkts + done, n - done);
        if (sk_unlikely(done < n))
            c->ops->free(c->port, pkts + done, n - done);
        sk_pace_departed(&pace, sent, done, now);

        if (stream != NULL)
            for (i = 0; i < done; i++)
                bytes += stream->lens[sent + i];
        else
            bytes += (uint64_t)done * SK_SEED_FRAME_LEN;
        sent += done;
        atomic_store_explicit(&st->packets, sent, memory_order_relaxed);
    }
    st->last_tsc = sk_rdtsc();
    sk_thread_usage(&cpu1, &cs1);
    st->wall_s = (double)(sk_rdtsc() - wall0) / (double)sh->hz;
    st->bytes = bytes;
    st->cpu_s = cpu1 - cpu0;
    st->ctx_switches = cs1 - cs0;
    ret = failed;
out:
    sk_pace_finish(&pace, &c->pace);
    sk_pace_free(&pace);
    c->inj.wire_packets = sent;
    c->inj.offered_seqs = sk_stream_seqs(stream, sent);
    sk_generator_done(sh, sent, c->inj.offered_seqs, sent);
    return ret;
}
