/*
 * parse.h - the bounds-checked Eth/IPv4/UDP and seed parsers as inline
 * functions (internal): packet.c builds the exported sk_udp_parse and
 * sk_seed_parse from them (so the C tests and the fuzz target run this very
 * code), and the engine's receiver inlines them into its per-packet loop,
 * where the fields it does not read are never stored. Same results either
 * way.
 */
#ifndef SK_PARSE_H
#define SK_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "simkit.h"
#include "checksum.h"
#include "compiler.h"

#define SK_ETHERTYPE_IPV4 0x0800
#define SK_ETHERTYPE_VLAN 0x8100
#define SK_ETHERTYPE_QINQ 0x88a8
#define SK_IP_PROTO_UDP 17
#define SK_IP_FLAG_DF 0x4000
#define SK_IP_FLAG_MF 0x2000
#define SK_IP_FRAG_OFFSET_MASK 0x1fff
#define SK_IP_VERSION_4 4
#define SK_IP_IHL_MIN 5
#define SK_OFF_ETHERTYPE 12

/* sk_udp_parse's checks and view (frame and out not NULL). */
static inline int sk_udp_parse_inline(const uint8_t *frame, size_t len,
                                      uint32_t min_payload,
                                      struct sk_udp_view *out)
{
    size_t l2 = SK_ETH_HDR_LEN, avail, ihl_bytes, total, udp_len;
    const uint8_t *ip, *udp;
    uint16_t ethertype, frag, csum;
    unsigned vlans = 0;

    if (sk_unlikely(len < SK_ETH_HDR_LEN))
        return SK_MALFORMED_RUNT;

    ethertype = sk_be16(frame + SK_OFF_ETHERTYPE);
    while (sk_unlikely(ethertype == SK_ETHERTYPE_VLAN ||
                       ethertype == SK_ETHERTYPE_QINQ) &&
           vlans < SK_VLAN_MAX_TAGS) {
        /* the tag's TCI (2) and the next ethertype (2) must be present */
        if (len < l2 + SK_VLAN_TAG_LEN)
            return SK_MALFORMED_RUNT;
        ethertype = sk_be16(frame + l2 + 2);
        l2 += SK_VLAN_TAG_LEN;
        vlans++;
    }
    if (sk_unlikely(ethertype != SK_ETHERTYPE_IPV4))
        return SK_MALFORMED_ETHERTYPE;

    avail = len - l2;
    if (sk_unlikely(avail < SK_IPV4_HDR_LEN))
        return SK_MALFORMED_IP_TRUNCATED;
    ip = frame + l2;
    if (sk_unlikely((ip[0] >> 4) != SK_IP_VERSION_4))
        return SK_MALFORMED_IP_VERSION;
    ihl_bytes = (size_t)(ip[0] & 0x0f) * 4;
    if (sk_unlikely(ihl_bytes < SK_IP_IHL_MIN * 4 || ihl_bytes > avail))
        return SK_MALFORMED_IP_IHL;
    if (sk_unlikely(!sk_csum_verify32(ip, ihl_bytes)))
        return SK_MALFORMED_IP_CHECKSUM;
    total = sk_be16(ip + 2);
    /* Ethernet padding beyond total length is fine; missing bytes are not. */
    if (sk_unlikely(total < ihl_bytes + SK_UDP_HDR_LEN || total > avail))
        return SK_MALFORMED_IP_TOTAL_LENGTH;
    frag = sk_be16(ip + 6);
    if (sk_unlikely((frag & SK_IP_FLAG_MF) || (frag & SK_IP_FRAG_OFFSET_MASK)))
        return SK_MALFORMED_IP_FRAGMENT;
    if (sk_unlikely(ip[9] != SK_IP_PROTO_UDP))
        return SK_MALFORMED_IP_PROTOCOL;

    udp = ip + ihl_bytes;
    udp_len = sk_be16(udp + 4);
    if (sk_unlikely(udp_len < SK_UDP_HDR_LEN || udp_len > total - ihl_bytes))
        return SK_MALFORMED_UDP_LENGTH;
    if (sk_unlikely(udp_len - SK_UDP_HDR_LEN < min_payload))
        return SK_MALFORMED_PAYLOAD_SHORT;
    csum = sk_be16(udp + 6);
    if (csum != 0) {
        uint64_t sum = sk_csum_add(0, ip + 12, 8) + SK_IP_PROTO_UDP + udp_len;

        if (sk_csum_fold(sk_csum_add(sum, udp, udp_len)) != 0xffff)
            return SK_MALFORMED_UDP_CHECKSUM;
    }

    out->src_ip = sk_be32(ip + 12);
    out->dst_ip = sk_be32(ip + 16);
    out->src_port = sk_be16(udp);
    out->dst_port = sk_be16(udp + 2);
    out->vlan_count = (uint16_t)vlans;
    out->udp_checksum = csum;
    out->payload_offset = (uint32_t)(udp + SK_UDP_HDR_LEN - frame);
    out->payload_len = (uint32_t)(udp_len - SK_UDP_HDR_LEN);
    return SK_PARSE_OK;
}

/* sk_seed_parse (frame and out not NULL). */
static inline int sk_seed_parse_inline(const uint8_t *frame, size_t len,
                                       struct sk_seed_view *out)
{
    struct sk_udp_view u;
    const uint8_t *pl;
    int r;

    r = sk_udp_parse_inline(frame, len, SK_SEED_PAYLOAD_LEN, &u);
    if (sk_unlikely(r != SK_PARSE_OK))
        return r;
    pl = frame + u.payload_offset;
    out->timestamp = sk_le64(pl);
    out->symbol_id = sk_le32(pl + 8);
    out->price = sk_bits_double(sk_le64(pl + 12));
    out->size = sk_le32(pl + 20);
    out->seq = sk_le64(pl + SK_MD_MSG_LEN);
    out->check = sk_le32(pl + SK_SEED_CHECKED_LEN);
    out->src_ip = u.src_ip;
    out->dst_ip = u.dst_ip;
    out->src_port = u.src_port;
    out->dst_port = u.dst_port;
    out->vlan_count = u.vlan_count;
    out->udp_checksum = u.udp_checksum;
    out->payload_offset = u.payload_offset;
    out->payload_len = u.payload_len;
    return SK_PARSE_OK;
}

#endif /* SK_PARSE_H */
