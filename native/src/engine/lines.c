/*
 * lines.c - A/B line redundancy (--lines ab): the same stream on two lines.
 *
 * Exchanges send a feed twice, on lines A and B, that lose different packets
 * and arrive at slightly different times; a feed handler arbitrates: it
 * takes each message from whichever copy comes first and drops the other.
 * Here each datagram of the stream goes out twice: line A to the stream's
 * own UDP destination port, line B to --line-b-port (frames: the port is
 * rewritten in the copy; datagram backends: a second socket). Each line has
 * its own impairer (loss models only: drop, gilbert; B seeded with the
 * impairment seed + 1), and the lagging line's copy leaves --skew-ns after
 * the leading one's (skew >= 0: B lags; < 0: A lags), from a FIFO.
 *
 * A message's send time (the receiver's latency key) is that of the first
 * copy that really left. The ground truth is which lines carried each
 * message: the report's "lines" says how many only one line carried and
 * how many of those the receiver got from the DUT. Messages neither line
 * carried are the impairments' (explained); the rest must come out.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "../core/compiler.h"

#define LINE_A 1
#define LINE_B 2
#define UDP_DST_PORT_OFF (14 + 20 + 2) /* stream frames: Eth, IPv4 without options */
#define MISSING_LISTED 8

struct lag {
    uint64_t idx;
    uint64_t due;
};

struct sk_lines {
    struct sk_lines_cfg cfg;
    struct sk_port *port_b;          /* datagram backends: line B's socket */
    uint8_t *carried;                /* [messages]: LINE_A | LINE_B bits */
    uint64_t sent[3], dropped[3];    /* datagrams per line ([1] A, [2] B) */
    uint64_t first_seq;              /* the stream's: missing messages are named by it */
};

int sk_lines_new(struct sk_lines **out, const struct sk_lines_cfg *cfg,
                 const struct sk_stream *s)
{
    struct sk_lines *l = calloc(1, sizeof(*l));

    *out = NULL;
    if (l == NULL)
        return -ENOMEM;
    l->cfg = *cfg;
    l->first_seq = s->first_seq;
    l->carried = calloc(s->messages ? s->messages : 1, 1);
    if (l->carried == NULL) {
        free(l);
        return -ENOMEM;
    }
    *out = l;
    return 0;
}

void sk_lines_set_port_b(struct sk_lines *l, struct sk_port *port)
{
    l->port_b = port;
}

void sk_lines_free(struct sk_lines *l)
{
    if (l == NULL)
        return;
    free(l->carried);
    free(l);
}

/* Send datagram idx on one line: 0 sent, 1 not (stopped). */
static int send_copy(struct sk_gen_ctx *c, struct sk_lines *l, uint64_t idx, int line,
                     uint64_t now, uint64_t *bytes)
{
    struct sk_stream *st = c->stream;
    int datagrams = c->ops->layer == SK_IO_DATAGRAMS;
    struct sk_port *port = line == LINE_B && datagrams ? l->port_b : c->port;
    uint32_t off = datagrams ? st->payload_off : 0, j;
    struct sk_pkt pkt;
    int ret;

    do {
        ret = c->ops->alloc(port, &pkt, 1, st->max_len - off);
        if (ret == -ENOBUFS && sk_should_stop(c->sh, sk_rdtsc()))
            return 1;
    } while (ret == -ENOBUFS);
    if (ret < 0)
        return 1;
    memcpy(pkt.data, st->frames[idx] + off, st->lens[idx] - off);
    pkt.len = st->lens[idx] - off;
    if (line == LINE_B && !datagrams)
        sk_put_be16(pkt.data + UDP_DST_PORT_OFF, l->cfg.port_b);
    /* the first copy that leaves is what the receiver's latency counts from */
    for (j = 0; j < st->msg_count[idx]; j++) {
        if (st->send_tsc[st->msg_index[idx] + j] == 0)
            st->send_tsc[st->msg_index[idx] + j] = now;
        l->carried[st->msg_index[idx] + j] |= (uint8_t)line;
    }
    while (c->ops->tx_burst(port, &pkt, 1) == 0) {
        if (sk_should_stop(c->sh, sk_rdtsc())) {
            c->ops->free(port, &pkt, 1);
            return 1;
        }
    }
    l->sent[line]++;
    *bytes += st->lens[idx];
    return 0;
}

/* Does line's impairer drop datagram idx? (It sees a scratch copy: the
 * stream's frame is both lines'.) */
static int dropped(struct sk_impair *imp, const struct sk_stream *st, uint64_t idx,
                   uint8_t *scratch)
{
    struct sk_impair_out outs[SK_IMPAIR_PUSH_MAX_OUT];
    int n, k;

    if (imp == NULL)
        return 0;
    memcpy(scratch, st->frames[idx], st->lens[idx]);
    n = sk_impair_push(imp, idx, scratch, st->lens[idx], outs, SK_IMPAIR_PUSH_MAX_OUT);
    for (k = 0; k < n; k++)
        if (outs[k].index == idx && (outs[k].flags & SK_IMPAIRED_DROPPED))
            return 1;
    return 0;
}

int sk_generator_run_lines(struct sk_gen_ctx *c)
{
    struct sk_shared *sh = c->sh;
    struct sk_lines *l = c->lines;
    struct sk_stream *st = c->stream;
    struct sk_impair *imp[3] = {NULL, NULL, NULL};
    struct lag *fifo = NULL;
    uint64_t head = 0, tail = 0, sent = 0, now, bytes = 0, skew, idx, m, carried = 0;
    uint8_t scratch[SK_STREAM_MAX_FRAME];
    int lead = l->cfg.skew_ns >= 0 ? LINE_A : LINE_B, lag = LINE_A + LINE_B - lead;
    struct sk_gen_run g;
    unsigned n, i;
    int ret = 0, stop = 0;

    skew = (uint64_t)((unsigned __int128)(uint64_t)(l->cfg.skew_ns < 0 ? -l->cfg.skew_ns
                                                                        : l->cfg.skew_ns) *
                      sh->hz / 1000000000ULL);
    fifo = calloc(c->count ? c->count : 1, sizeof(*fifo));
    if (fifo == NULL)
        return -ENOMEM;
    if (c->n_impair > 0)
        ret = sk_impair_new(c->impair, c->n_impair, c->impair_seed, &imp[LINE_A]);
    if (ret == 0 && l->cfg.n_impair_b > 0)
        ret = sk_impair_new(l->cfg.impair_b, l->cfg.n_impair_b, c->impair_seed + 1,
                            &imp[LINE_B]);
    if (ret == 0)
        ret = sk_gen_begin(c, &g);
    while (ret == 0 && !stop && (sent < c->count || head < tail)) {
        now = sk_rdtsc();
        if (sk_unlikely(sk_should_stop(sh, now)))
            break;
        if (c->progress)
            sk_progress_tick(sh, now);
        while (head < tail && fifo[head].due <= now && !stop) /* the lagging line */
            stop = send_copy(c, l, fifo[head++].idx, lag, now, &bytes);
        if (sent == c->count || now >= g.end)
            continue;
        n = c->count - sent < c->burst ? (unsigned)(c->count - sent) : c->burst;
        n = sk_pace_due(&g.pace, now, sent, n);
        for (i = 0; i < n && !stop; i++) {
            idx = sent + i;
            if (dropped(imp[lead], st, idx, scratch))
                l->dropped[lead]++;
            else
                stop = send_copy(c, l, idx, lead, now, &bytes);
            if (dropped(imp[lag], st, idx, scratch))
                l->dropped[lag]++;
            else
                fifo[tail++] = (struct lag){.idx = idx, .due = now + skew};
        }
        if (n == 0)
            continue;
        sk_pace_departed(&g.pace, sent, n, now);
        sent += n;
        atomic_store_explicit(&sh->tx.packets, sent, memory_order_relaxed);
    }
    c->inj.offered_seqs = sk_stream_seqs(st, sent);
    for (m = 0; m < c->inj.offered_seqs; m++)
        carried += l->carried[m] != 0;
    c->inj.dropped_seqs = c->inj.offered_seqs - carried; /* neither line carried them */
    c->inj.dropped = l->dropped[LINE_A] + l->dropped[LINE_B];
    c->inj.wire_packets = l->sent[LINE_A] + l->sent[LINE_B];
    if (ret == 0 || g.measuring)
        sk_gen_end(c, &g, bytes, sent, carried, c->inj.wire_packets);
    sk_impair_free(imp[LINE_A]);
    sk_impair_free(imp[LINE_B]);
    free(fifo);
    return ret;
}

void sk_lines_emit(struct sk_json *j, const struct sk_lines *l, const uint8_t *delivered,
                   uint64_t offered)
{
    uint64_t count[4] = {0, 0, 0, 0}, one = 0, one_delivered = 0, m;
    uint64_t missing[MISSING_LISTED];
    unsigned n_missing = 0, k;

    for (m = 0; m < offered; m++) {
        count[l->carried[m] & 3]++;
        if (l->carried[m] == LINE_A || l->carried[m] == LINE_B) {
            one++;
            if (delivered != NULL && delivered[m])
                one_delivered++;
            else if (n_missing < MISSING_LISTED)
                missing[n_missing++] = m;
        }
    }
    sk_json_begin_object(j, "lines");
    sk_json_string(j, "mode", "ab");
    sk_json_double(j, "skew_ns", (double)l->cfg.skew_ns);
    sk_json_uint(j, "port_b", l->cfg.port_b);
    sk_json_begin_object(j, "a");
    sk_json_uint(j, "sent", l->sent[LINE_A]);
    sk_json_uint(j, "dropped", l->dropped[LINE_A]);
    sk_json_end_object(j);
    sk_json_begin_object(j, "b");
    sk_json_uint(j, "sent", l->sent[LINE_B]);
    sk_json_uint(j, "dropped", l->dropped[LINE_B]);
    sk_json_end_object(j);
    sk_json_begin_object(j, "messages");
    sk_json_uint(j, "both", count[LINE_A | LINE_B]);
    sk_json_uint(j, "only_a", count[LINE_A]);
    sk_json_uint(j, "only_b", count[LINE_B]);
    sk_json_uint(j, "neither", count[0]);
    sk_json_end_object(j);
    sk_json_uint(j, "only_one_line", one);
    sk_json_uint(j, "only_one_line_delivered", one_delivered);
    sk_json_begin_array(j, "only_one_line_missing_first");
    for (k = 0; k < n_missing; k++)
        sk_json_uint(j, NULL, l->first_seq + missing[k]);
    sk_json_end_array(j);
    sk_json_end_object(j);
}
