/*
 * live.c - a market stream generated as it is sent: --stream
 * market:SEED:COUNT:CSUM (simkit run --proto itch), with no stream file and
 * memory bounded whatever COUNT is; market:SEED:COUNT:CSUM:SYMBOLS:SKEW lists
 * SYMBOLS symbols (sk_market_symbol_names) with Zipf exponent SKEW.
 *
 * The generator's side makes the datagrams of the market simulator's session
 * for SEED (sk_market_cfg_default: the session simkit.packets.market's
 * MarketSimulator(SEED) makes) just before it sends them, into a ring of
 * LIVE_RING frame slots; COUNT datagrams in all, the last the end of session.
 * Each frame has the seed frames' Eth/IPv4/UDP headers (sk_craft_wrap: lengths
 * and checksums per frame; UDP checksum when CSUM is 1). Consumers index the
 * stream's arrays with idx & s->mask.
 *
 * The receiver's side checks each message against its own copy of the
 * simulator, regenerated from the same seed as far as the newest sequence
 * that arrived and kept for the last LIVE_WINDOW messages; the send time of
 * each message goes into a ring of LIVE_WINDOW (sequence, TSC) slots. A
 * message further than LIVE_WINDOW behind the newest one (held that long by
 * the link) cannot be checked any more and counts as garbled by sequence.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "../core/compiler.h"

#define LIVE_PREFIX "market:"
#define LIVE_RING 4096u              /* datagram slots (>= 2 bursts) */
#define LIVE_WINDOW (1u << 18)       /* messages the receiver can still check */
#define LIVE_MAX_PAYLOAD 1472        /* UDP payload budget: a 1500-byte MTU */
#define LIVE_HEADERS 42              /* Ethernet 14 + IPv4 20 + UDP 8 */
#define LIVE_SESSION "SIMKIT0001"

struct live_sent {
    uint64_t seq;
    uint64_t tsc;
};

struct sk_live {
    struct sk_market *gen;
    struct sk_craft *craft;
    uint8_t *ring;                   /* LIVE_RING x SK_STREAM_MAX_FRAME */
    uint8_t *payloads;               /* SK_IO_MAX_BURST x LIVE_MAX_PAYLOAD (>= one fill) */
    uint32_t plens[LIVE_RING];
    uint64_t next_seq;               /* MoldUDP64 sequence of the next message */
    uint64_t made;                   /* datagrams made */
    struct live_sent *sent;          /* [LIVE_WINDOW] */
    _Atomic uint64_t offered;        /* messages handed to the link */
    /* the receiver's */
    struct sk_market *rx;
    uint8_t *msgs;                   /* LIVE_WINDOW x SK_MKT_MAX_MSG_LEN */
    uint16_t *msg_len;               /* [LIVE_WINDOW] */
    uint64_t rx_made;                /* messages regenerated */
    char *symbols;
};

int sk_stream_is_live(const char *path)
{
    return strncmp(path, LIVE_PREFIX, strlen(LIVE_PREFIX)) == 0;
}

static void live_free(struct sk_live *l)
{
    if (l == NULL)
        return;
    sk_market_free(l->gen);
    sk_market_free(l->rx);
    sk_craft_free(l->craft);
    free(l->ring);
    free(l->payloads);
    free(l->sent);
    free(l->msgs);
    free(l->msg_len);
    free(l->symbols);
    free(l);
}

void sk_stream_live_close(struct sk_stream *s)
{
    live_free(s->live);
    free(s->ring_frames);
}

/* The seed frames' headers (addresses, ports, TTL, DF) as a wrap template. */
static int make_craft(struct sk_live *l, const uint8_t *dst_mac, int csum)
{
    struct sk_seed_fields f;
    struct sk_craft_template t;
    uint8_t frame[SK_SEED_FRAME_LEN];
    int32_t bad;

    sk_seed_fields_default(&f);
    if (dst_mac != NULL)
        memcpy(f.dst_mac, dst_mac, sizeof(f.dst_mac));
    if (sk_seed_build(&f, frame, sizeof(frame)) < 0)
        return -EINVAL;
    sk_put_be16(frame + 16, LIVE_HEADERS - 14); /* headers-only lengths: wrap sets them */
    sk_put_be16(frame + 38, 8);
    memset(&t, 0, sizeof(t));
    t.frame = frame;
    t.frame_len = LIVE_HEADERS;
    t.ip_offset = 14;
    t.udp_offset = 34;
    t.ip_checksum = 1;
    t.udp_checksum = csum ? SK_CRAFT_UDP_CSUM_COMPUTE : SK_CRAFT_UDP_CSUM_ZERO;
    return sk_craft_new(&t, &l->craft, &bad);
}

int sk_stream_live_open(const char *path, const uint8_t *dst_mac, struct sk_stream **out,
                        char *err, size_t errlen)
{
    struct sk_market_cfg cfg;
    struct sk_stream *s;
    struct sk_live *l;
    unsigned long long seed, count;
    unsigned csum, symbols = 4;
    double skew = 1.0;
    const char *spec, *rest;
    int used;
    uint32_t i;

    *out = NULL;
    spec = path + strlen(LIVE_PREFIX);
    used = -1;
    if (sscanf(spec, "%llu:%llu:%u%n", &seed, &count, &csum, &used) == 3 && spec[used]) {
        rest = spec + used;
        used = -1;
        sscanf(rest, ":%u:%lf%n", &symbols, &skew, &used);
        used = used >= 0 && rest[used] == 0 ? 0 : -1;
    }
    if (used < 0 || spec[0] < '0' || spec[0] > '9' || count < 1 || csum > 1 || symbols < 1 ||
        symbols > SK_MKT_MAX_SYMBOLS || !(skew >= 0 && skew <= 16)) {
        snprintf(err, errlen, "bad --stream %s: a live market stream is "
                 "market:SEED:COUNT:CSUM[:SYMBOLS:SKEW] (COUNT >= 1 datagrams, CSUM 0 or 1, "
                 "SYMBOLS 1..65535, SKEW 0..16)", path);
        return -EINVAL;
    }
    s = calloc(1, sizeof(*s));
    l = calloc(1, sizeof(*l));
    if (s == NULL || l == NULL)
        goto nomem;
    s->live = l;
    sk_market_cfg_default(&cfg, seed);
    l->symbols = malloc((size_t)symbols * 8);
    if (l->symbols == NULL || sk_market_symbol_names(symbols, l->symbols) < 0)
        goto nomem;
    cfg.n_symbols = symbols;
    cfg.symbols = l->symbols;
    cfg.zipf_s = skew;
    l->gen = sk_market_new(&cfg, NULL, 0);
    l->rx = sk_market_new(&cfg, NULL, 0);
    l->ring = malloc((size_t)LIVE_RING * SK_STREAM_MAX_FRAME);
    l->payloads = malloc((size_t)LIVE_RING * LIVE_MAX_PAYLOAD);
    l->sent = calloc(LIVE_WINDOW, sizeof(*l->sent));
    l->msgs = malloc((size_t)LIVE_WINDOW * SK_MKT_MAX_MSG_LEN);
    l->msg_len = malloc(LIVE_WINDOW * sizeof(*l->msg_len));
    s->ring_frames = calloc(LIVE_RING, sizeof(*s->frames) + sizeof(*s->lens) +
                                           sizeof(*s->msg_index) + sizeof(*s->msg_count));
    if (!l->gen || !l->rx || !l->ring || !l->payloads || !l->sent || !l->msgs ||
        !l->msg_len || !s->ring_frames || make_craft(l, dst_mac, (int)csum) < 0)
        goto nomem;
    /* the ring's arrays, in one allocation */
    s->frames = (const uint8_t **)s->ring_frames;
    s->msg_index = (uint64_t *)(s->frames + LIVE_RING);
    s->lens = (uint32_t *)(s->msg_index + LIVE_RING);
    s->msg_count = s->lens + LIVE_RING;
    for (i = 0; i < LIVE_RING; i++)
        s->frames[i] = l->ring + (size_t)i * SK_STREAM_MAX_FRAME;
    s->mask = LIVE_RING - 1;
    s->count = count;
    s->first_seq = 1;
    s->payload_off = LIVE_HEADERS;
    s->max_len = LIVE_HEADERS + LIVE_MAX_PAYLOAD;
    l->next_seq = 1;
    *out = s;
    return 0;
nomem:
    snprintf(err, errlen, "cannot make the live market stream: out of memory");
    if (s != NULL) {
        s->live = l;
        sk_stream_live_close(s);
        free(s);
    } else {
        live_free(l);
    }
    return -ENOMEM;
}

/* Make the datagrams before index upto (at most LIVE_RING - upto + the
 * oldest one in use ahead: the generator asks for one burst at a time). */
void sk_stream_live_fill(struct sk_stream *s, uint64_t upto)
{
    struct sk_live *l = s->live;
    uint64_t n, i, idx, data_end = s->count - (s->count >= 2);
    size_t used;
    uint8_t *p = l->payloads;

    if (upto > s->count)
        upto = s->count;
    while (l->made < upto) {
        idx = l->made & s->mask;
        n = 0;
        if (l->made < data_end) {
            uint64_t want = upto < data_end ? upto - l->made : data_end - l->made;

            if (want > LIVE_RING - idx)
                want = LIVE_RING - idx; /* up to the ring's end */
            n = sk_market_datagrams(l->gen, p, (uint64_t)LIVE_RING * LIVE_MAX_PAYLOAD,
                                    LIVE_MAX_PAYLOAD, LIVE_SESSION, &l->next_seq,
                                    l->plens + idx, want);
        }
        if (n == 0) { /* the end of session (or a session that ended early) */
            memcpy(p, LIVE_SESSION, SK_MOLD_SESSION_LEN);
            sk_put_be32(p + 10, (uint32_t)(l->next_seq >> 32));
            sk_put_be32(p + 14, (uint32_t)l->next_seq);
            sk_put_be16(p + 18, SK_MOLD_END_OF_SESSION);
            l->plens[idx] = SK_MOLD_HEADER_LEN;
            n = 1;
        }
        for (i = 0; i < n; i++) {
            uint32_t len = l->plens[idx + i];
            uint8_t *slot = l->ring + (idx + i) * SK_STREAM_MAX_FRAME;
            uint16_t count = sk_be16(p + SK_MOLD_SESSION_LEN + 8);

            sk_craft_wrap(l->craft, p, len, &len, 1, slot, SK_STREAM_MAX_FRAME,
                          SK_CRAFT_OUT_FRAMES, 0, 0, &used);
            s->lens[idx + i] = (uint32_t)used;
            s->msg_index[idx + i] = sk_get_be64(p + SK_MOLD_SESSION_LEN) - s->first_seq;
            s->msg_count[idx + i] = count == SK_MOLD_END_OF_SESSION ? 0 : count;
            s->messages = s->msg_index[idx + i] + s->msg_count[idx + i];
            p += len;
        }
        p = l->payloads;
        l->made += n;
    }
}

void sk_stream_live_sent(struct sk_stream *s, uint64_t seq, uint64_t tsc)
{
    struct live_sent *e = &s->live->sent[seq & (LIVE_WINDOW - 1)];

    e->seq = seq;
    e->tsc = tsc;
}

void sk_stream_live_offer(struct sk_stream *s, uint64_t messages)
{
    atomic_store_explicit(&s->live->offered, messages, memory_order_release);
}

uint64_t sk_stream_live_sent_tsc(const struct sk_stream *s, uint64_t seq)
{
    const struct live_sent *e = &s->live->sent[seq & (LIVE_WINDOW - 1)];

    return e->seq == seq ? e->tsc : 0;
}

int sk_stream_live_verify(const struct sk_stream *s, uint64_t seq, const uint8_t *msg,
                          uint16_t len)
{
    struct sk_live *l = s->live;
    uint64_t slot;
    uint16_t got;

    if (seq >= atomic_load_explicit(&l->offered, memory_order_acquire))
        return SK_GARBLED_SEQUENCE; /* never offered */
    if (seq + LIVE_WINDOW < l->rx_made)
        return SK_GARBLED_SEQUENCE; /* too late to check */
    while (l->rx_made <= seq) {
        slot = l->rx_made & (LIVE_WINDOW - 1);
        if (sk_market_messages(l->rx, l->msgs + slot * SK_MKT_MAX_MSG_LEN,
                               SK_MKT_MAX_MSG_LEN, &got, 1) != 1)
            return SK_GARBLED_SEQUENCE;
        l->msg_len[slot] = got;
        l->rx_made++;
    }
    slot = seq & (LIVE_WINDOW - 1);
    if (l->msg_len[slot] != len ||
        memcmp(l->msgs + slot * SK_MKT_MAX_MSG_LEN, msg, len) != 0)
        return SK_GARBLED_CHECK;
    return 0;
}
