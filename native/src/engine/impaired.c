/*
 * impaired.c - the generator's loop when impairments are configured.
 *
 * Every packet is built as a whole frame (a seed frame, or the next frame of
 * a prepared stream) in a staging slot of the generator's own (a ring of
 * slots indexed by packet index), and pushed
 * through sk_impair_push - the same C that simkit.impair runs - so the
 * frames, models and seed, and hence the ground truth, are the Python
 * path's. What comes back is acted on:
 *   dropped    nothing is sent (the truth records it);
 *   duplicate  the slot is sent twice, back to back;
 *   held       the slot stays busy until the impairer releases it;
 *   truncated  fewer bytes are sent; corrupted: already flipped in place;
 *   malformed  damaged in its slot by sk_malform_apply when its entry comes
 *              (the same C simkit.malformed uses); both copies send that;
 *   delayed    into a small time-ordered queue (a binary heap keyed by TSC
 *              deadline, then index, then copy) until its deadline.
 * Frames are copied from their slot into backend buffers at send time, so a
 * held or delayed packet never pins a DPDK mbuf or a kernel backend's
 * (reused) send buffer. Datagram backends get the frame's UDP payload.
 *
 * A packet the impairments damaged (truncated, corrupted, malformed) is run through
 * the receiver's own parser and integrity check here: if it would be
 * rejected, it is counted injected.malformed; if it would parse but some of
 * its messages fail their check, those are counted injected.garbled. So the
 * receiver's malformed and garbled counts are explained and those sequence
 * numbers (one for seed, its messages for a stream) are not reported lost.
 * The timestamp (seed) or send time (stream) is taken at build time: a
 * held or delayed packet's latency includes its hold or delay.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "../core/compiler.h"

#define SLOTS_MIN 1024
#define SLOTS_DELAY 65536            /* delayed packets in flight at most */
#define SLOT_MEMORY_MAX (64u << 20)  /* staging memory cap, delay mode */
#define SENDQ_CAP (SK_IMPAIR_PUSH_MAX_OUT * SK_IO_MAX_BURST + SK_IMPAIR_PUSH_MAX_OUT)
#define NS_PER_S 1000000000ULL
/* room a malformation may add to a frame: IPv4 options <= 40 bytes, QinQ 8
 * (main.c refuses jumbo: it would not fit a DPDK mbuf) */
#define MALFORM_ROOM 64

/* One frame to send (or waiting for its deadline). */
struct pend {
    uint64_t deadline;
    struct sk_impair_out o;
};

struct istate {
    struct sk_gen_ctx *c;
    struct sk_impair *imp;
    uint8_t *slots;
    uint32_t stride;
    uint64_t mask;
    uint64_t *slot_tsc;  /* build TSC of the slot's packet */
    uint32_t *slot_len;  /* bytes to send from the slot once malformed */
    uint8_t *busy;       /* entries still to send from the slot (0..2) */
    struct pend sendq[SENDQ_CAP];
    uint32_t nsend;
    struct pend *heap;   /* delay queue */
    uint32_t nheap, heap_cap;
    int delay_mode;
    uint64_t highest_sent;
    int any_sent;
    uint32_t payload_off; /* bytes of the frame a datagram backend leaves out */
    uint64_t bytes;
    uint64_t hz;
    int failed;          /* -errno from the truth (out of memory) */
};

static inline uint8_t *slot_at(struct istate *s, uint64_t index)
{
    return s->slots + (size_t)(index & s->mask) * s->stride;
}

/* ---- the delay queue ------------------------------------------------ */

static inline int before(const struct pend *a, const struct pend *b)
{
    if (a->deadline != b->deadline)
        return a->deadline < b->deadline;
    if (a->o.index != b->o.index)
        return a->o.index < b->o.index;
    return a->o.copy < b->o.copy;
}

static void heap_push(struct istate *s, const struct pend *p)
{
    uint32_t i = s->nheap++, parent;

    s->heap[i] = *p;
    while (i > 0) {
        parent = (i - 1) / 2;
        if (!before(&s->heap[i], &s->heap[parent]))
            break;
        struct pend t = s->heap[i];
        s->heap[i] = s->heap[parent];
        s->heap[parent] = t;
        i = parent;
    }
}

static void heap_pop(struct istate *s, struct pend *out)
{
    uint32_t i = 0, l, r, m;

    *out = s->heap[0];
    s->heap[0] = s->heap[--s->nheap];
    for (;;) {
        l = 2 * i + 1;
        r = l + 1;
        m = i;
        if (l < s->nheap && before(&s->heap[l], &s->heap[m]))
            m = l;
        if (r < s->nheap && before(&s->heap[r], &s->heap[m]))
            m = r;
        if (m == i)
            break;
        struct pend t = s->heap[i];
        s->heap[i] = s->heap[m];
        s->heap[m] = t;
        i = m;
    }
}

/* ---- sending -------------------------------------------------------- */

/* The receiver's verdict on a damaged frame, on the bytes it would get:
 * -1 when its parser rejects it (malformed), else the number of its
 * sequence numbers it would find garbled (0: all intact). */
static int64_t verdict(const struct istate *s, const uint8_t *frame, uint32_t len)
{
    const struct sk_gen_ctx *c = s->c;
    struct sk_seed_view v;
    const uint8_t *payload;
    int r;

    if (c->stream != NULL)
        return sk_stream_garbled(c->stream, frame + s->payload_off,
                                 len > s->payload_off ? len - s->payload_off : 0,
                                 s->payload_off != 0);
    if (s->payload_off != 0) {
        payload = frame + s->payload_off;
        r = sk_payload_parse(payload, len > s->payload_off ? len - s->payload_off : 0, &v);
    } else {
        r = sk_seed_parse(frame, len, &v);
        payload = frame + v.payload_offset;
    }
    if (r != SK_PARSE_OK)
        return -1;
    return sk_seed_check(&c->key, payload) != v.check;
}

/* Bookkeeping of one frame that went out. */
static void sent_one(struct istate *s, struct pend *p)
{
    struct sk_gen_ctx *c = s->c;
    int ret;

    s->busy[p->o.index & s->mask]--;
    c->inj.wire_packets++;
    s->bytes += p->o.len;
    if (p->o.copy != 0)
        return;
    /* a delay reorders by itself: late = behind a higher index already sent */
    if (s->delay_mode && s->any_sent && p->o.index < s->highest_sent) {
        p->o.flags |= SK_IMPAIRED_REORDERED;
        c->inj.reordered++;
    }
    if (!s->any_sent || p->o.index > s->highest_sent)
        s->highest_sent = p->o.index;
    s->any_sent = 1;
    if (c->truth != NULL && (ret = sk_truth_add(c->truth, &p->o)) < 0)
        s->failed = ret;
}

/* Send the queue in bursts; on stop, what is left is given up (it was
 * offered: the receiver counts it lost). */
static void send_queue(struct istate *s)
{
    struct sk_gen_ctx *c = s->c;
    struct sk_pkt pkts[SK_IO_MAX_BURST];
    uint32_t at = 0, k, i, done, off = s->payload_off;
    int ret;

    while (at < s->nsend) {
        k = s->nsend - at < c->burst ? s->nsend - at : c->burst;
        while ((ret = c->ops->alloc(c->port, pkts, k, s->stride - off)) != 0) {
            if (ret != -ENOBUFS) { /* not a buffer the backend can give: a bug */
                s->failed = ret;
                atomic_store(&c->sh->stop, 1);
                goto give_up;
            }
            if (sk_should_stop(c->sh, sk_rdtsc()))
                goto give_up; /* buffers are in flight: they come back */
        }
        for (i = 0; i < k; i++) {
            const struct sk_impair_out *o = &s->sendq[at + i].o;
            uint32_t len = o->len > off ? o->len - off : 0;

            memcpy(pkts[i].data, slot_at(s, o->index) + off, len);
            pkts[i].len = len;
        }
        done = c->ops->tx_burst(c->port, pkts, k);
        while (done < k && !sk_should_stop(c->sh, sk_rdtsc()))
            done += c->ops->tx_burst(c->port, pkts + done, k - done);
        if (sk_unlikely(done < k))
            c->ops->free(c->port, pkts + done, k - done);
        for (i = 0; i < done; i++)
            sent_one(s, &s->sendq[at + i]);
        at += done;
        if (done < k)
            goto give_up;
    }
    s->nsend = 0;
    return;
give_up:
    for (; at < s->nsend; at++)
        s->busy[s->sendq[at].o.index & s->mask]--;
    s->nsend = 0;
}

static void queue_send(struct istate *s, const struct pend *p)
{
    if (s->nsend == SENDQ_CAP)
        send_queue(s);
    s->sendq[s->nsend++] = *p;
}

/* Delayed frames whose deadline has passed (all of them on stop). */
static void release_due(struct istate *s, uint64_t now, int all)
{
    struct pend p;

    while (s->nheap > 0 && (all || s->heap[0].deadline <= now)) {
        heap_pop(s, &p);
        queue_send(s, &p);
    }
}

/* Sequence numbers packet `index` carries. */
static inline uint64_t seqs_of(const struct sk_stream *st, uint64_t index)
{
    return st != NULL ? st->msg_count[index] : 1;
}

#define DAMAGED (SK_IMPAIRED_TRUNCATED | SK_IMPAIRED_CORRUPTED | SK_IMPAIRED_MALFORMED)

/* A malformed packet's length: on copy 0, damage its slot first. */
static uint32_t malformed_len(struct istate *s, const struct sk_impair_out *o)
{
    uint32_t *len = &s->slot_len[o->index & s->mask];
    int ret;

    if (o->copy == 0) {
        ret = sk_malform_apply(o->malform, o->malform_draw, slot_at(s, o->index), o->len,
                               s->stride);
        *len = ret < 0 ? o->len : (uint32_t)ret; /* a seed frame always takes it */
    }
    return *len;
}

/* One entry from the impairer. */
static void take(struct istate *s, const struct sk_impair_out *o)
{
    struct sk_gen_ctx *c = s->c;
    struct pend p = {.deadline = 0, .o = *o};
    int64_t garbled;
    unsigned copies;
    int ret;

    if (o->flags & SK_IMPAIRED_DROPPED) {
        c->inj.dropped_seqs += seqs_of(c->stream, o->index);
        if (c->recovery != NULL)
            sk_recovery_note_impaired(c->recovery, o->index);
        if (c->truth != NULL && (ret = sk_truth_add(c->truth, o)) < 0)
            s->failed = ret;
        return;
    }
    if (o->flags & SK_IMPAIRED_MALFORMED)
        p.o.len = malformed_len(s, o);
    copies = (o->flags & SK_IMPAIRED_DUPLICATED) ? 2 : 1;
    garbled = o->copy == 0 && (o->flags & DAMAGED) ? verdict(s, slot_at(s, o->index), p.o.len)
                                                   : 0;
    if (garbled < 0) {
        if (c->recovery != NULL)
            sk_recovery_note_impaired(c->recovery, o->index);
        c->inj.malformed++;
        c->inj.malformed_seqs += seqs_of(c->stream, o->index);
        c->inj.malformed_frames += copies;
    } else if (o->copy == 0) {
        c->inj.garbled += (uint64_t)garbled * copies; /* messages the receiver finds garbled */
        c->inj.garbled_seqs += (uint64_t)garbled;
        if (copies == 2) /* its intact sequence numbers are seen twice */
            c->inj.duplicated_seqs += seqs_of(c->stream, o->index) - (uint64_t)garbled;
    }
    s->busy[o->index & s->mask]++;
    if (s->delay_mode) {
        p.deadline = s->slot_tsc[o->index & s->mask] +
                     (uint64_t)((unsigned __int128)o->delay_ns * s->hz / NS_PER_S);
        heap_push(s, &p);
        return;
    }
    queue_send(s, &p);
}

/* ---- the loop ------------------------------------------------------- */

static uint64_t pow2_at_least(uint64_t v)
{
    uint64_t p = 1;

    while (p < v)
        p <<= 1;
    return p;
}

static int state_init(struct istate *s, struct sk_gen_ctx *c)
{
    uint64_t n_slots = SLOTS_MIN, gap = 0;
    uint32_t i;
    int ret;

    memset(s, 0, sizeof(*s));
    s->c = c;
    s->hz = c->sh->hz;
    s->stride = c->stream != NULL ? c->stream->max_len : SK_SEED_FRAME_LEN;
    for (i = 0; i < c->n_impair; i++)
        if (c->impair[i].kind == SK_IMPAIR_MALFORM)
            s->stride += MALFORM_ROOM;
    s->payload_off = c->ops->layer != SK_IO_DATAGRAMS ? 0 :
                     c->stream != NULL ? c->stream->payload_off : SK_SEED_PAYLOAD_OFFSET;
    for (i = 0; i < c->n_impair; i++) {
        if (c->impair[i].kind == SK_IMPAIR_REORDER)
            gap = c->impair[i].gap;
        if (c->impair[i].kind == SK_IMPAIR_DELAY)
            s->delay_mode = 1;
    }
    /* a held packet's slot must outlive the gap plus a burst in flight */
    n_slots = pow2_at_least(gap + 2ULL * SK_IO_MAX_BURST + 2);
    if (n_slots < SLOTS_MIN)
        n_slots = SLOTS_MIN;
    if (s->delay_mode) {
        n_slots = SLOTS_DELAY;
        while (n_slots > SLOTS_MIN && n_slots * s->stride > SLOT_MEMORY_MAX)
            n_slots >>= 1;
        s->heap_cap = (uint32_t)(2 * n_slots);
        s->heap = malloc(s->heap_cap * sizeof(*s->heap));
        if (s->heap == NULL)
            return -ENOMEM;
    }
    s->mask = n_slots - 1;
    s->slots = malloc(n_slots * s->stride);
    s->slot_tsc = malloc(n_slots * sizeof(*s->slot_tsc));
    s->slot_len = malloc(n_slots * sizeof(*s->slot_len));
    s->busy = calloc(n_slots, 1);
    if (s->slots == NULL || s->slot_tsc == NULL || s->slot_len == NULL || s->busy == NULL)
        return -ENOMEM;
    ret = sk_impair_new(c->impair, c->n_impair, c->impair_seed, &s->imp);
    return ret;
}

static void state_free(struct istate *s)
{
    sk_impair_free(s->imp);
    free(s->heap);
    free(s->slots);
    free(s->slot_tsc);
    free(s->slot_len);
    free(s->busy);
}

/* Packet idx as a whole frame into f; its length. The TSC of its build is
 * its send time: the seed stamp, or each message's entry for the receiver. */
static inline uint32_t build(struct sk_gen_ctx *c, uint8_t *f, uint64_t idx,
                             uint64_t now, const uint8_t *tmpl, struct sk_rng *rng)
{
    struct sk_stream *st = c->stream;
    struct sk_md_msg msg;
    uint32_t j;

    if (st != NULL) {
        memcpy(f, st->frames[idx], st->lens[idx]);
        for (j = 0; j < st->msg_count[idx]; j++)
            st->send_tsc[st->msg_index[idx] + j] = now;
        return st->lens[idx];
    }
    sk_md_random(rng, &msg);
    msg.timestamp = now;
    memcpy(f, tmpl, SK_SEED_FRAME_LEN);
    sk_seed_write_msg(f, &msg, idx, &c->key, c->udp_checksum);
    return SK_SEED_FRAME_LEN;
}

int sk_generator_run_impaired(struct sk_gen_ctx *c)
{
    struct sk_shared *sh = c->sh;
    struct sk_impair_out outs[SK_IMPAIR_PUSH_MAX_OUT];
    struct sk_impair_stats ist;
    struct sk_gen_run g;
    struct istate *s;
    uint64_t gen = 0, now = 0, idx;
    unsigned n, i;
    int ret, k, j;

    memset(&c->inj, 0, sizeof(c->inj));
    memset(&g, 0, sizeof(g));
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        ret = -ENOMEM;
        goto out;
    }
    ret = state_init(s, c); /* before the pacer starts: staging memory takes a while */
    if (ret < 0)
        goto out;
    ret = sk_gen_begin(c, &g);
    if (ret < 0)
        goto out;
    while (gen < c->count) {
        now = sk_rdtsc();
        if (sk_unlikely(sk_should_stop(sh, now) || now >= g.end))
            break;
        if (c->progress)
            sk_progress_tick(sh, now);
        if (s->delay_mode)
            release_due(s, now, 0);

        n = c->count - gen < c->burst ? (unsigned)(c->count - gen) : c->burst;
        n = sk_pace_due(&g.pace, now, gen, n);
        if (n == 0) {
            send_queue(s);
            continue;
        }
        for (i = 0; i < n; i++) {
            idx = gen + i;
            if (s->busy[idx & s->mask]) /* a delayed packet still holds it */
                break;
            uint8_t *f = slot_at(s, idx);
            uint32_t len = build(c, f, idx, now, g.tmpl, &g.rng);

            s->slot_tsc[idx & s->mask] = now;
            k = sk_impair_push(s->imp, idx, f, len, outs, SK_IMPAIR_PUSH_MAX_OUT);
            for (j = 0; j < k; j++)
                take(s, &outs[j]);
        }
        gen += i;
        sk_pace_departed(&g.pace, gen - i, i, now); /* offered at now: sent, held or dropped */
        send_queue(s);
        atomic_store_explicit(&sh->tx.packets, gen, memory_order_relaxed);
    }
    /* end of stream: release the held packets, then wait out the delays */
    while ((k = sk_impair_flush(s->imp, outs, SK_IMPAIR_PUSH_MAX_OUT)) > 0)
        for (j = 0; j < k; j++)
            take(s, &outs[j]);
    send_queue(s);
    while (s->nheap > 0) {
        now = sk_rdtsc();
        release_due(s, now, sk_should_stop(sh, now));
        send_queue(s);
    }
    sk_impair_get_stats(s->imp, &ist);
    c->imp_stats = ist;
    c->inj.dropped = ist.dropped;
    c->inj.duplicated = ist.duplicated;
    c->inj.reordered += ist.reordered;
    c->inj.corrupted = ist.corrupted;
    c->inj.truncated = ist.truncated;
    c->inj.delayed = ist.delayed;
    c->inj.malform_applied = ist.malformed;
    ret = s->failed;
out:
    c->inj.offered_seqs = sk_stream_seqs(c->stream, gen);
    sk_gen_end(c, &g, s != NULL ? s->bytes : 0, gen,
               c->inj.offered_seqs - c->inj.dropped_seqs - c->inj.malformed_seqs -
                   c->inj.garbled_seqs, c->inj.wire_packets);
    if (s != NULL)
        state_free(s);
    free(s);
    return ret;
}
