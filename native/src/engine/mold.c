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

#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define IP_PROTO_UDP 17
#define MOLD_BLOCK_LEN_SIZE 2
#define ASCII_MAX 0x7f

static const char *const mold_reason_names[SK_MOLD_REASON_COUNT] = {
    "short_header", "bad_session", "block_overrun", "count_mismatch",
    "end_of_session_with_data",
};

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

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/* The UDP payload of a frame. The seed parser checks every header; it only
 * refuses payloads under 32 bytes, which MoldUDP64 has (a heartbeat is 20):
 * then the headers are known good up to the UDP checksum, checked here. */
static int udp_payload(const uint8_t *f, size_t len, const uint8_t **pl, size_t *plen)
{
    struct sk_seed_view v;
    size_t l2 = SK_ETH_HDR_LEN, ihl, udp_len;
    const uint8_t *ip, *udp;
    unsigned tags = 0;
    uint16_t ethertype;
    int r;

    r = sk_seed_parse(f, len, &v);
    if (sk_likely(r == SK_PARSE_OK)) {
        *pl = f + v.payload_offset;
        *plen = v.payload_len;
        return SK_PARSE_OK;
    }
    if (r != SK_MALFORMED_PAYLOAD_SHORT)
        return r;
    ethertype = sk_be16(f + 12);
    while ((ethertype == ETHERTYPE_VLAN || ethertype == ETHERTYPE_QINQ) &&
           tags < SK_VLAN_MAX_TAGS) {
        ethertype = sk_be16(f + l2 + 2);
        l2 += SK_VLAN_TAG_LEN;
        tags++;
    }
    ip = f + l2;
    ihl = (size_t)(ip[0] & 0x0f) * 4;
    udp = ip + ihl;
    udp_len = sk_be16(udp + 4);
    if (sk_be16(udp + 6) != 0) {
        uint32_t sum = csum_add(0, ip + 12, 8) + IP_PROTO_UDP + (uint32_t)udp_len;

        if (csum_fold(csum_add(sum, udp, udp_len)) != 0xffff)
            return SK_MALFORMED_UDP_CHECKSUM;
    }
    *pl = udp + SK_UDP_HDR_LEN;
    *plen = udp_len - SK_UDP_HDR_LEN;
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
    return sk_mold_parse(pl, plen, out);
}
