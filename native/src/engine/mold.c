/*
 * mold.c - the receiver's MoldUDP64 parser (--stream runs, proto itch).
 *
 * A frame (or a datagram backend's UDP payload) is checked down to its UDP
 * payload with the seed parser's header checks (sk_seed_parse: Ethernet,
 * VLAN tags, IPv4, UDP length and checksum), then the payload as MoldUDP64
 * (Nasdaq MoldUDP64 1.00): a 20-byte header (session 10, sequence u64 BE,
 * count u16 BE; 0 = heartbeat, 0xFFFF = end of session) and `count`
 * length-prefixed message blocks filling the datagram exactly. Every read is
 * bounds-checked. The reasons after the seed parser's are the ones
 * simkit.packets.moldudp64.parse gives, under the same names.
 */
#include <string.h>

#include "engine.h"
#include "../core/compiler.h"

#define MOLD_BLOCK_LEN_SIZE 2
#define ASCII_MAX 0x7f

static const char *const mold_reason_names[SK_MOLD_REASON_COUNT] = {
    "short_header", "bad_session", "block_overrun", "count_mismatch",
    "end_of_session_with_data",
};

static const char *const garbled_reason_names[SK_GARBLED_REASON_COUNT + 1] = {
    [SK_GARBLED_CHECK] = "check",
    [SK_GARBLED_SEQUENCE] = "sequence",
    [SK_GARBLED_TIMESTAMP] = "timestamp",
};

const char *sk_garbled_reason_name(int reason)
{
    if (reason < 1 || reason > SK_GARBLED_REASON_COUNT)
        return NULL;
    return garbled_reason_names[reason];
}

const char *sk_rx_reason_name(int reason)
{
    if (reason >= 1 && reason <= SK_MALFORMED_REASON_COUNT)
        return sk_malformed_reason_name(reason);
    if (reason > SK_MALFORMED_REASON_COUNT && reason <= SK_RX_REASON_COUNT)
        return mold_reason_names[reason - SK_MALFORMED_REASON_COUNT - 1];
    return NULL;
}

uint64_t sk_get_be64(const uint8_t *p)
{
    return (uint64_t)sk_be32(p) << 32 | sk_be32(p + 4);
}


/* The UDP payload of a frame: the headers are checked by the core's parser
 * (a MoldUDP64 heartbeat is 20 bytes, so no minimum payload here). */
static int udp_payload(const uint8_t *f, size_t len, const uint8_t **pl, size_t *plen)
{
    struct sk_udp_view u;
    int r;

    r = sk_udp_parse(f, len, 0, &u);
    if (sk_unlikely(r != SK_PARSE_OK))
        return r;
    *pl = f + u.payload_offset;
    *plen = u.payload_len;
    return SK_PARSE_OK;
}

int sk_mold_parse(const uint8_t *p, size_t len, struct sk_mold_view *out)
{
    size_t at = SK_MOLD_HEADER_LEN, blen;
    uint32_t blocks = 0;
    int i;

    if (len < SK_MOLD_HEADER_LEN)
        return SK_MOLD_SHORT_HEADER;
    for (i = 0; i < SK_MOLD_SESSION_LEN; i++)
        if (p[i] > ASCII_MAX)
            return SK_MOLD_BAD_SESSION;
    out->seq = sk_get_be64(p + SK_MOLD_SESSION_LEN);
    out->count = sk_be16(p + SK_MOLD_SESSION_LEN + 8);
    if (out->count == SK_MOLD_END_OF_SESSION)
        return len == SK_MOLD_HEADER_LEN ? SK_PARSE_OK : SK_MOLD_END_OF_SESSION_WITH_DATA;
    while (at < len) {
        if (blocks == out->count)
            return SK_MOLD_COUNT_MISMATCH;
        if (len - at < MOLD_BLOCK_LEN_SIZE)
            return SK_MOLD_BLOCK_OVERRUN;
        blen = sk_be16(p + at);
        at += MOLD_BLOCK_LEN_SIZE;
        if (blen > len - at)
            return SK_MOLD_BLOCK_OVERRUN;
        at += blen;
        blocks++;
    }
    return blocks == out->count ? SK_PARSE_OK : SK_MOLD_COUNT_MISMATCH;
}

int sk_mold_classify(const uint8_t *data, size_t len, int is_payload,
                     struct sk_mold_view *out)
{
    const uint8_t *pl = data;
    size_t plen = len;
    int r;

    if (!is_payload) { /* a whole frame */
        r = udp_payload(data, len, &pl, &plen);
        if (r != SK_PARSE_OK)
            return r;
    }
    out->payload = pl;
    out->len = plen;
    return sk_mold_parse(pl, plen, out);
}

const uint8_t *sk_mold_next_message(const uint8_t *payload, size_t *at, uint16_t *len)
{
    const uint8_t *msg = payload + *at + MOLD_BLOCK_LEN_SIZE;

    *len = sk_be16(payload + *at);
    *at += MOLD_BLOCK_LEN_SIZE + *len;
    return msg;
}

/* Put the cursor on the stored message of sequence seq (< s->messages):
 * walk on inside the datagram it is at, else find the datagram by binary
 * search (the last one whose first sequence is <= seq holds it). 0, or -1
 * when the stored datagram is not well-formed there. */
static int seek(const struct sk_stream *s, struct sk_stream_cursor *cur, uint64_t seq)
{
    const uint8_t *pl;
    size_t len;
    uint64_t lo, hi, mid;
    uint16_t blen;

    if (!cur->valid || seq < cur->seq ||
        seq >= s->msg_index[cur->datagram] + s->msg_count[cur->datagram]) {
        lo = 0;
        hi = s->count; /* msg_index[lo] <= seq < msg_index[hi] (hi: past the end) */
        while (hi - lo > 1) {
            mid = lo + (hi - lo) / 2;
            if (s->msg_index[mid] <= seq)
                lo = mid;
            else
                hi = mid;
        }
        cur->datagram = lo;
        cur->seq = s->msg_index[lo];
        cur->at = SK_MOLD_HEADER_LEN;
        cur->valid = 1;
    }
    pl = s->frames[cur->datagram] + s->payload_off;
    len = s->lens[cur->datagram] - s->payload_off;
    for (; cur->seq < seq; cur->seq++) {
        if (len - cur->at < MOLD_BLOCK_LEN_SIZE)
            goto broken;
        blen = sk_be16(pl + cur->at);
        if (blen > len - cur->at - MOLD_BLOCK_LEN_SIZE)
            goto broken;
        cur->at += MOLD_BLOCK_LEN_SIZE + blen;
    }
    if (len - cur->at < MOLD_BLOCK_LEN_SIZE ||
        sk_be16(pl + cur->at) > len - cur->at - MOLD_BLOCK_LEN_SIZE)
        goto broken;
    return 0;
broken:
    cur->valid = 0;
    return -1;
}

int sk_stream_verify(const struct sk_stream *s, struct sk_stream_cursor *cur,
                     uint64_t seq, const uint8_t *msg, uint16_t len)
{
    const uint8_t *stored;

    if (s->live != NULL)
        return sk_stream_live_verify(s, seq, msg, len);
    if (seq >= s->messages)
        return SK_GARBLED_SEQUENCE;
    if (seek(s, cur, seq) < 0)
        return SK_GARBLED_CHECK; /* the stream's own datagram is broken there */
    stored = s->frames[cur->datagram] + s->payload_off + cur->at;
    if (sk_be16(stored) != len || memcmp(stored + MOLD_BLOCK_LEN_SIZE, msg, len) != 0)
        return SK_GARBLED_CHECK;
    return 0;
}

const uint8_t *sk_stream_message(const struct sk_stream *s, struct sk_stream_cursor *cur,
                                 uint64_t seq, uint16_t *len)
{
    const uint8_t *stored;

    if (seq >= s->messages || seek(s, cur, seq) < 0)
        return NULL;
    stored = s->frames[cur->datagram] + s->payload_off + cur->at;
    *len = sk_be16(stored);
    return stored + MOLD_BLOCK_LEN_SIZE;
}

int64_t sk_stream_garbled(const struct sk_stream *s, const uint8_t *data,
                          size_t len, int is_payload)
{
    struct sk_stream_cursor cur = {.valid = 0};
    struct sk_mold_view mv;
    const uint8_t *msg;
    size_t at = SK_MOLD_HEADER_LEN;
    uint16_t mlen;
    int64_t garbled = 0;
    uint32_t j;

    if (sk_mold_classify(data, len, is_payload, &mv) != SK_PARSE_OK)
        return -1;
    if (mv.count == SK_MOLD_END_OF_SESSION)
        return 0;
    for (j = 0; j < mv.count; j++) {
        msg = sk_mold_next_message(mv.payload, &at, &mlen);
        garbled += sk_stream_verify(s, &cur, mv.seq - s->first_seq + j, msg, mlen) != 0;
    }
    return garbled;
}
