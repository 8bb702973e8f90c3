/*
 * impair.c - netem-style impairment models with ground truth, one
 * implementation for the native generator (line rate) and for Python
 * (simkit.impair, through cffi), so both give the same result for a seed.
 *
 * Determinism: each model owns an xoshiro256** stream keyed by (seed, kind)
 * and draws a fixed number of values for every packet, used or not. Which
 * packets a model hits therefore depends only on the seed, the model and the
 * packet index - never on the other models configured next to it.
 *
 * Gilbert-Elliott follows the Linux netem "gemodel" (sch_netem.c,
 * loss_gilb_ell): two states, GOOD -> BAD with probability p and BAD ->
 * GOOD with r, drawn per packet; the packet is lost with 1-k in GOOD and 1-h
 * in BAD, judged in the state it arrived in (before the transition drawn for
 * it). Stationary loss = r/(p+r) * (1-k) + p/(p+r) * (1-h).
 *
 * Reorder: with probability p a packet is held and released right after the
 * packet `gap` positions later has been processed (whatever happened to
 * that one). A held packet is "reordered" only if a packet sent directly
 * in between overtook it - which is exactly when a receiver sees it late.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simkit.h"
#include "compiler.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define IP_PROTO_UDP 17
#define SEED_KIND_MIX 0xd1b54a32d192ed03ULL

struct model_state {
    struct sk_impair_model m;
    struct sk_rng rng;
    int bad; /* gilbert: in the BAD state */
};

/* A held packet: its entry (flags final except REORDERED) and how many
 * packets had been sent directly when it was held. */
struct held {
    struct sk_impair_out out;
    uint64_t direct_mark;
};

struct sk_impair {
    struct model_state models[SK_IMPAIR_MAX_MODELS];
    uint32_t n;
    struct model_state *by_kind[SK_IMPAIR_KIND_COUNT + 1];
    struct held *queue;       /* ring of qcap entries, FIFO by index */
    uint32_t qcap, qhead, qlen;
    uint64_t next_index;
    uint64_t direct_sent;     /* packets sent when processed (not held) */
    struct sk_impair_stats stats;
};

static const char *const kind_names[SK_IMPAIR_KIND_COUNT + 1] = {
    [SK_IMPAIR_DROP] = "drop",         [SK_IMPAIR_GILBERT] = "gilbert",
    [SK_IMPAIR_DUP] = "dup",           [SK_IMPAIR_REORDER] = "reorder",
    [SK_IMPAIR_CORRUPT] = "corrupt",   [SK_IMPAIR_TRUNCATE] = "truncate",
    [SK_IMPAIR_DELAY] = "delay",       [SK_IMPAIR_MALFORM] = "malform",
};

static const char *const layer_names[SK_IMPAIR_LAYER_COUNT] = {
    [SK_IMPAIR_LAYER_FRAME] = "frame", [SK_IMPAIR_LAYER_ETH] = "eth",
    [SK_IMPAIR_LAYER_IP] = "ip",       [SK_IMPAIR_LAYER_UDP] = "udp",
    [SK_IMPAIR_LAYER_PAYLOAD] = "payload",
};

const char *sk_impair_kind_name(uint32_t kind)
{
    if (kind < 1 || kind > SK_IMPAIR_KIND_COUNT)
        return NULL;
    return kind_names[kind];
}

const char *sk_impair_layer_name(uint32_t layer)
{
    if (layer >= SK_IMPAIR_LAYER_COUNT)
        return NULL;
    return layer_names[layer];
}

/* ---- validation ------------------------------------------------------ */

static int fail(char *msg, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *msg, size_t cap, const char *fmt, ...)
{
    va_list ap;

    if (msg != NULL && cap > 0) {
        va_start(ap, fmt);
        vsnprintf(msg, cap, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static int check_probability(const char *kind, const char *key, double v,
                             char *msg, size_t cap)
{
    if (!(v >= 0.0 && v <= 1.0)) /* also catches NaN */
        return fail(msg, cap, "%s: %s must be between 0 and 1, got %.17g", kind, key, v);
    return 0;
}

static int check_model(const struct sk_impair_model *m, char *msg, size_t cap)
{
    const char *kind = sk_impair_kind_name(m->kind);
    int rc;

    if (kind == NULL)
        return fail(msg, cap, "unknown impairment kind %u", m->kind);
    if (m->kind != SK_IMPAIR_DELAY) {
        rc = check_probability(kind, "p", m->p, msg, cap);
        if (rc)
            return rc;
    }
    switch (m->kind) {
    case SK_IMPAIR_GILBERT:
        if ((rc = check_probability(kind, "r", m->r, msg, cap)) ||
            (rc = check_probability(kind, "h", m->h, msg, cap)) ||
            (rc = check_probability(kind, "k", m->k, msg, cap)))
            return rc;
        break;
    case SK_IMPAIR_REORDER:
        if (m->gap < 1 || m->gap > SK_IMPAIR_MAX_GAP)
            return fail(msg, cap, "%s: gap must be between 1 and %d packets, got %u",
                        kind, SK_IMPAIR_MAX_GAP, m->gap);
        break;
    case SK_IMPAIR_CORRUPT:
        if (m->layer >= SK_IMPAIR_LAYER_COUNT)
            return fail(msg, cap, "%s: layer must be frame, eth, ip, udp or payload "
                        "(got code %u)", kind, m->layer);
        break;
    case SK_IMPAIR_DELAY:
        if (m->mean_ns > SK_IMPAIR_MAX_DELAY_NS)
            return fail(msg, cap, "%s: mean must be at most 3600 s, got %llu ns", kind,
                        (unsigned long long)m->mean_ns);
        if (m->jitter_ns > m->mean_ns)
            return fail(msg, cap, "%s: jitter (%llu ns) must not exceed mean (%llu ns): "
                        "delays cannot be negative", kind,
                        (unsigned long long)m->jitter_ns, (unsigned long long)m->mean_ns);
        break;
    case SK_IMPAIR_MALFORM:
        if (m->malform_kinds == 0 ||
            (m->malform_kinds & ~(((1u << SK_MALFORM_KIND_COUNT) - 1) << 1)) != 0)
            return fail(msg, cap, "%s: kinds must be a non-empty set of malformation "
                        "kinds (mask 0x%x)", kind, m->malform_kinds);
        break;
    default:
        break;
    }
    return 0;
}

int sk_impair_validate(const struct sk_impair_model *models, uint32_t n,
                       char *msg, size_t msg_cap)
{
    int seen[SK_IMPAIR_KIND_COUNT + 1] = {0};
    uint32_t i;
    int rc;

    if (msg != NULL && msg_cap > 0)
        msg[0] = '\0';
    if (n > 0 && models == NULL)
        return fail(msg, msg_cap, "no models given");
    if (n > SK_IMPAIR_MAX_MODELS)
        return fail(msg, msg_cap, "at most %d impairment models, got %u",
                    SK_IMPAIR_MAX_MODELS, n);
    for (i = 0; i < n; i++) {
        rc = check_model(&models[i], msg, msg_cap);
        if (rc)
            return rc;
        if (seen[models[i].kind]++)
            return fail(msg, msg_cap, "%s given twice: use one %s model",
                        kind_names[models[i].kind], kind_names[models[i].kind]);
    }
    if (seen[SK_IMPAIR_DROP] && seen[SK_IMPAIR_GILBERT])
        return fail(msg, msg_cap, "drop and gilbert are both loss models: use one");
    if (seen[SK_IMPAIR_REORDER] && seen[SK_IMPAIR_DELAY])
        return fail(msg, msg_cap, "reorder and delay both decide the order of packets: use one");
    return 0;
}

/* ---- life cycle ------------------------------------------------------ */

int sk_impair_new(const struct sk_impair_model *models, uint32_t n,
                  uint64_t seed, struct sk_impair **out)
{
    struct sk_impair *imp;
    uint32_t i;
    int rc;

    if (out == NULL)
        return -EINVAL;
    *out = NULL;
    rc = sk_impair_validate(models, n, NULL, 0);
    if (rc)
        return rc;
    imp = calloc(1, sizeof(*imp));
    if (imp == NULL)
        return -ENOMEM;
    imp->n = n;
    for (i = 0; i < n; i++) {
        struct model_state *s = &imp->models[i];

        s->m = models[i];
        sk_rng_seed(&s->rng, seed ^ (SEED_KIND_MIX * s->m.kind));
        imp->by_kind[s->m.kind] = s;
        if (s->m.kind == SK_IMPAIR_REORDER)
            imp->qcap = s->m.gap + 1;
    }
    if (imp->qcap) {
        imp->queue = calloc(imp->qcap, sizeof(*imp->queue));
        if (imp->queue == NULL) {
            free(imp);
            return -ENOMEM;
        }
    }
    *out = imp;
    return 0;
}

void sk_impair_free(struct sk_impair *imp)
{
    if (imp == NULL)
        return;
    free(imp->queue);
    free(imp);
}

void sk_impair_get_stats(const struct sk_impair *imp, struct sk_impair_stats *out)
{
    if (imp == NULL || out == NULL)
        return;
    *out = imp->stats;
    out->queued = imp->qlen;
}

/* ---- per packet ------------------------------------------------------ */

/* Uniform in [0, 1) with 53 random bits: u < p is exact for p = 0 and 1. */
static inline double uniform(struct sk_rng *r)
{
    return (double)(sk_rng_next(r) >> 11) * 0x1.0p-53;
}

/* [start, end) of a layer in a frame of len bytes; 0 if it has none. */
static int layer_span(const uint8_t *f, uint32_t len, uint32_t layer,
                      uint32_t *start, uint32_t *end)
{
    uint32_t l2 = SK_ETH_HDR_LEN, ip_end, udp_end, ihl;
    uint16_t ethertype;
    unsigned tags = 0;

    if (layer == SK_IMPAIR_LAYER_FRAME) {
        *start = 0;
        *end = len;
        return len > 0;
    }
    if (len < SK_ETH_HDR_LEN) {
        *start = 0;
        *end = len;
        return layer == SK_IMPAIR_LAYER_ETH && len > 0;
    }
    ethertype = sk_be16(f + 12);
    while ((ethertype == ETHERTYPE_VLAN || ethertype == ETHERTYPE_QINQ) &&
           tags < SK_VLAN_MAX_TAGS && len >= l2 + SK_VLAN_TAG_LEN) {
        ethertype = sk_be16(f + l2 + 2);
        l2 += SK_VLAN_TAG_LEN;
        tags++;
    }
    if (layer == SK_IMPAIR_LAYER_ETH) {
        *start = 0;
        *end = l2;
        return 1;
    }
    if (ethertype != ETHERTYPE_IPV4 || len <= l2 || (f[l2] >> 4) != 4)
        return 0;
    ihl = (uint32_t)(f[l2] & 0x0f) * 4;
    if (ihl < SK_IPV4_HDR_LEN)
        ihl = SK_IPV4_HDR_LEN;
    ip_end = l2 + ihl < len ? l2 + ihl : len;
    if (layer == SK_IMPAIR_LAYER_IP) {
        *start = l2;
        *end = ip_end;
        return 1;
    }
    if (len < l2 + 10 || f[l2 + 9] != IP_PROTO_UDP || ip_end >= len)
        return 0;
    udp_end = ip_end + SK_UDP_HDR_LEN < len ? ip_end + SK_UDP_HDR_LEN : len;
    if (layer == SK_IMPAIR_LAYER_UDP) {
        *start = ip_end;
        *end = udp_end;
        return 1;
    }
    *start = udp_end;
    *end = len;
    return udp_end < len;
}

static void corrupt(struct sk_impair_out *o, uint8_t *frame, uint32_t layer,
                    uint64_t draw)
{
    uint32_t start, end;
    uint64_t nbits, bit;

    if (!layer_span(frame, o->orig_len, layer, &start, &end))
        return;
    if (end > o->len) /* after truncation */
        end = o->len;
    if (start >= end)
        return;
    nbits = (uint64_t)(end - start) * 8;
    bit = (uint64_t)((double)(draw >> 11) * 0x1.0p-53 * (double)nbits);
    if (bit >= nbits)
        bit = nbits - 1;
    o->corrupt_offset = start + (uint32_t)(bit / 8);
    o->corrupt_bit = (uint8_t)(bit % 8);
    frame[o->corrupt_offset] ^= (uint8_t)(1u << o->corrupt_bit);
    o->flags |= SK_IMPAIRED_CORRUPTED;
}

/* Write the entry (and its duplicate) to out; returns the entries written. */
static uint32_t emit(struct sk_impair *imp, const struct sk_impair_out *o,
                     struct sk_impair_out *out)
{
    out[0] = *o;
    out[0].copy = 0;
    if (!(o->flags & SK_IMPAIRED_DUPLICATED)) {
        imp->stats.packets_out += 1;
        return 1;
    }
    out[1] = *o;
    out[1].copy = 1;
    imp->stats.packets_out += 2;
    return 2;
}

static uint32_t release_head(struct sk_impair *imp, struct sk_impair_out *out)
{
    struct held *h = &imp->queue[imp->qhead];

    if (imp->direct_sent > h->direct_mark) {
        h->out.flags |= SK_IMPAIRED_REORDERED;
        imp->stats.reordered++;
    }
    imp->qhead = (imp->qhead + 1) % imp->qcap;
    imp->qlen--;
    return emit(imp, &h->out, out);
}

/* The kind of a mask that pick chooses, uniformly among its set bits. */
static uint8_t nth_kind(uint32_t mask, uint64_t pick)
{
    uint32_t n = (uint32_t)((((pick >> 32) * (uint64_t)__builtin_popcount(mask))) >> 32);

    while (n-- > 0)
        mask &= mask - 1; /* drop the lowest set bit */
    return (uint8_t)__builtin_ctz(mask);
}

int sk_impair_push(struct sk_impair *imp, uint64_t token, uint8_t *frame,
                   uint32_t len, struct sk_impair_out *out, uint32_t cap)
{
    struct model_state *s;
    struct sk_impair_out o;
    uint32_t written = 0;
    int lost = 0, dup = 0, hold = 0, trunc = 0, corr = 0;
    uint64_t trunc_draw = 0, corrupt_draw = 0, delay_ns = 0, malform_pick = 0, malform_draw = 0;
    int malform = 0;
    double u1, u2;

    if (imp == NULL || out == NULL || (frame == NULL && len > 0))
        return -EINVAL;
    if (cap < SK_IMPAIR_PUSH_MAX_OUT)
        return -ENOSPC;

    /* Every model draws the same number of values for every packet. */
    if ((s = imp->by_kind[SK_IMPAIR_DROP]) != NULL)
        lost = uniform(&s->rng) < s->m.p;
    if ((s = imp->by_kind[SK_IMPAIR_GILBERT]) != NULL) {
        u1 = uniform(&s->rng);
        u2 = uniform(&s->rng);
        lost = !(u2 < (s->bad ? s->m.h : s->m.k)); /* in the arrival state */
        if (s->bad ? u1 < s->m.r : u1 < s->m.p)
            s->bad = !s->bad;
    }
    if ((s = imp->by_kind[SK_IMPAIR_DUP]) != NULL)
        dup = uniform(&s->rng) < s->m.p;
    if ((s = imp->by_kind[SK_IMPAIR_MALFORM]) != NULL) {
        malform = uniform(&s->rng) < s->m.p;
        malform_pick = sk_rng_next(&s->rng);
        malform_draw = sk_rng_next(&s->rng);
    }
    if ((s = imp->by_kind[SK_IMPAIR_TRUNCATE]) != NULL) {
        trunc = uniform(&s->rng) < s->m.p;
        trunc_draw = sk_rng_next(&s->rng);
    }
    if ((s = imp->by_kind[SK_IMPAIR_CORRUPT]) != NULL) {
        corr = uniform(&s->rng) < s->m.p;
        corrupt_draw = sk_rng_next(&s->rng);
    }
    if ((s = imp->by_kind[SK_IMPAIR_REORDER]) != NULL)
        hold = uniform(&s->rng) < s->m.p;
    if ((s = imp->by_kind[SK_IMPAIR_DELAY]) != NULL) {
        uint64_t span = 2 * s->m.jitter_ns + 1;
        uint64_t off = (uint64_t)((double)(sk_rng_next(&s->rng) >> 11) * 0x1.0p-53 *
                                  (double)span);

        if (off >= span)
            off = span - 1;
        delay_ns = s->m.mean_ns - s->m.jitter_ns + off;
    }

    memset(&o, 0, sizeof(o));
    o.token = token;
    o.index = imp->next_index++;
    o.len = o.orig_len = len;
    imp->stats.packets_in++;

    if (lost) {
        o.flags = SK_IMPAIRED_DROPPED;
        out[written++] = o;
        imp->stats.dropped++;
    } else {
        if (malform) {
            o.flags |= SK_IMPAIRED_MALFORMED;
            o.malform = nth_kind(imp->by_kind[SK_IMPAIR_MALFORM]->m.malform_kinds,
                                 malform_pick);
            o.malform_draw = malform_draw;
            imp->stats.malformed++;
            trunc = corr = 0; /* one damage per packet */
        }
        if (trunc && len > 1) {
            uint32_t to = imp->by_kind[SK_IMPAIR_TRUNCATE]->m.len;

            if (to == 0) /* uniform in [1, len - 1] */
                to = 1 + (uint32_t)(((trunc_draw >> 32) * (uint64_t)(len - 1)) >> 32);
            if (to < len) {
                o.len = to;
                o.flags |= SK_IMPAIRED_TRUNCATED;
                imp->stats.truncated++;
            }
        }
        if (corr) {
            corrupt(&o, frame, imp->by_kind[SK_IMPAIR_CORRUPT]->m.layer, corrupt_draw);
            if (o.flags & SK_IMPAIRED_CORRUPTED)
                imp->stats.corrupted++;
        }
        if (dup) {
            o.flags |= SK_IMPAIRED_DUPLICATED;
            imp->stats.duplicated++;
        }
        if (imp->by_kind[SK_IMPAIR_DELAY] != NULL) {
            o.flags |= SK_IMPAIRED_DELAYED;
            o.delay_ns = delay_ns;
            imp->stats.delayed++;
            imp->stats.delay_ns_sum += delay_ns;
        }
        if (hold) {
            struct held *h = &imp->queue[(imp->qhead + imp->qlen) % imp->qcap];

            o.flags |= SK_IMPAIRED_HELD;
            h->out = o;
            h->direct_mark = imp->direct_sent;
            imp->qlen++;
            imp->stats.held++;
        } else {
            written += emit(imp, &o, out + written);
            imp->direct_sent++;
        }
    }

    /* Release the packet held `gap` packets ago, after this one. */
    if (imp->qlen > 0) {
        uint32_t gap = imp->by_kind[SK_IMPAIR_REORDER]->m.gap;

        if (imp->queue[imp->qhead].out.index + gap == o.index)
            written += release_head(imp, out + written);
    }
    return (int)written;
}

int sk_impair_flush(struct sk_impair *imp, struct sk_impair_out *out, uint32_t cap)
{
    uint32_t written = 0;

    if (imp == NULL || out == NULL)
        return -EINVAL;
    while (imp->qlen > 0 && cap - written >= 2)
        written += release_head(imp, out + written);
    return (int)written;
}

int64_t sk_impair_run(struct sk_impair *imp, uint8_t *buf, const uint32_t *lens,
                      uint64_t n, int flush, struct sk_impair_out *out, uint64_t cap)
{
    uint64_t i, offset = 0, written = 0;
    int rc;

    if (imp == NULL || out == NULL || (n > 0 && (buf == NULL || lens == NULL)))
        return -EINVAL;
    for (i = 0; i < n; i++) {
        if (cap - written < SK_IMPAIR_PUSH_MAX_OUT)
            return -ENOSPC;
        rc = sk_impair_push(imp, offset, buf + offset, lens[i], out + written,
                            SK_IMPAIR_PUSH_MAX_OUT);
        if (rc < 0)
            return rc;
        written += (uint64_t)rc;
        offset += lens[i];
    }
    while (flush && imp->qlen > 0) {
        uint64_t room = cap - written;

        if (room < 2)
            return -ENOSPC;
        rc = sk_impair_flush(imp, out + written, room > UINT32_MAX ? UINT32_MAX : (uint32_t)room);
        if (rc < 0)
            return rc;
        written += (uint64_t)rc;
    }
    return (int64_t)written;
}
