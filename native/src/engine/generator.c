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
    const struct sk_seed_key key = c->key; /* in registers: the frame stores cannot alias it */
    struct sk_md_msg msg;
    unsigned i;

    msg.timestamp = now;
    for (i = 0; i < n; i++) {
        sk_md_draw(&r, &msg);
        if (datagrams) {
            sk_payload_write(pkts[i].data, &msg, seq0 + i, &key);
            continue;
        }
        /* the headers; sk_seed_write_msg writes all 36 payload bytes */
        memcpy(pkts[i].data, tmpl, SK_SEED_PAYLOAD_OFFSET);
        sk_seed_write_msg_inline(pkts[i].data, &msg, seq0 + i, &key, c->udp_checksum);
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
    const struct sk_seed_key key = c->key;
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
        sk_seed_write_msg_inline(pkts[i].data, &msg, q, &key, c->udp_checksum);
        if (++f == c->flows) {
            f = 0;
            q++;
        }
    }
    *rng = r;
}

int sk_generator_run(struct sk_gen_ctx *c)
{
    struct sk_shared *sh = c->sh;
    struct sk_pkt pkts[SK_IO_MAX_BURST];
    struct sk_stream *stream = c->stream;
    struct sk_gen_run g;
    uint64_t sent = 0, now = 0, bytes = 0, idx;
    unsigned n, done, i;
    uint32_t buf_len, off = 0, j;
    int ret, datagrams;

    datagrams = c->ops->layer == SK_IO_DATAGRAMS;
    buf_len = datagrams ? SK_SEED_PAYLOAD_LEN : SK_SEED_FRAME_LEN;
    if (stream != NULL) { /* a datagram backend sends the UDP payload only */
        off = datagrams ? stream->payload_off : 0;
        buf_len = stream->max_len - off;
    }
    ret = sk_gen_begin(c, &g);
    while (ret == 0 && sent < c->count) {
        now = sk_rdtsc();
        if (sk_unlikely(sk_should_stop(sh, now) || now >= g.end))
            break;
        if (c->progress)
            sk_progress_tick(sh, now);

        n = c->count - sent < c->burst ? (unsigned)(c->count - sent) : c->burst;
        n = sk_pace_due(&g.pace, now, sent, n);
        if (n == 0)
            continue;
        ret = c->ops->alloc(c->port, pkts, n, buf_len);
        if (sk_unlikely(ret == -ENOBUFS)) {
            ret = 0;
            continue; /* pool empty: buffers are in flight, they come back */
        }
        if (sk_unlikely(ret < 0))
            break; /* a frame the backend's buffers cannot hold: a bug */

        if (stream != NULL && stream->live != NULL)
            sk_stream_live_fill(stream, sent + n);
        for (i = 0; i < n && stream != NULL; i++) {
            idx = (sent + i) & stream->mask;
            memcpy(pkts[i].data, stream->frames[idx] + off, stream->lens[idx] - off);
            pkts[i].len = stream->lens[idx] - off;
            /* the send time of each of its messages, for the receiver */
            if (stream->live != NULL)
                for (j = 0; j < stream->msg_count[idx]; j++)
                    sk_stream_live_sent(stream, stream->msg_index[idx] + j, now);
            else
                for (j = 0; j < stream->msg_count[idx]; j++)
                    stream->send_tsc[stream->msg_index[idx] + j] = now;
        }
        if (stream != NULL && stream->live != NULL)
            sk_stream_live_offer(stream, sk_stream_seqs(stream, sent + n));
        if (stream == NULL && c->flows > 1)
            fill_seed_flows(c, pkts, n, g.tmpl, &g.rng, now, sent);
        else if (stream == NULL)
            fill_seed(c, pkts, n, g.tmpl, &g.rng, now, sent, datagrams);
        done = c->ops->tx_burst(c->port, pkts, n);
        while (done < n && !sk_should_stop(sh, sk_rdtsc()))
            done += c->ops->tx_burst(c->port, pkts + done, n - done);
        if (sk_unlikely(done < n))
            c->ops->free(c->port, pkts + done, n - done);
        sk_pace_departed(&g.pace, sent, done, now);

        if (stream != NULL)
            for (i = 0; i < done; i++)
                bytes += stream->lens[(sent + i) & stream->mask];
        else
            bytes += (uint64_t)done * SK_SEED_FRAME_LEN;
        sent += done;
        atomic_store_explicit(&sh->tx.packets, sent, memory_order_relaxed);
    }
    c->inj.wire_packets = sent;
    c->inj.offered_seqs = sk_stream_seqs(stream, sent);
    sk_gen_end(c, &g, bytes, sent, c->inj.offered_seqs, sent);
    return ret;
}
