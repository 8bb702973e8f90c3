/*
 * fuzz_frame.h - the harnesses' own, independent view of an Eth[/tags]/IPv4/
 * UDP frame: where the headers are and whether checksums verify, written
 * from the RFCs rather than from the core, so it can judge the core.
 */
#ifndef SK_FUZZ_FRAME_H
#define SK_FUZZ_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FF_ETH_LEN 14
#define FF_TAG_LEN 4
#define FF_MAX_TAGS 2
#define FF_IPV4_MIN 20
#define FF_UDP_LEN 8
#define FF_ETHERTYPE_IPV4 0x0800
#define FF_ETHERTYPE_VLAN 0x8100
#define FF_ETHERTYPE_QINQ 0x88a8
#define FF_PROTO_UDP 17

static inline uint32_t ff_be16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

/* Offsets of a frame's headers; ok = 0 when it is not Eth/IPv4 (IHL >= 5)
 * with room for the IPv4 header and a UDP header after it. */
struct ff_view {
    int ok;
    size_t ip, ihl, udp;
    unsigned tags;
};

static inline struct ff_view ff_locate(const uint8_t *f, size_t len)
{
    struct ff_view v = {0, FF_ETH_LEN, 0, 0, 0};

    if (len < FF_ETH_LEN)
        return v;
    while (v.tags < FF_MAX_TAGS && len >= v.ip + FF_TAG_LEN &&
           (ff_be16(f + v.ip - 2) == FF_ETHERTYPE_VLAN ||
            ff_be16(f + v.ip - 2) == FF_ETHERTYPE_QINQ)) {
        v.ip += FF_TAG_LEN;
        v.tags++;
    }
    if (ff_be16(f + v.ip - 2) != FF_ETHERTYPE_IPV4 || len < v.ip + FF_IPV4_MIN ||
        (f[v.ip] >> 4) != 4)
        return v;
    v.ihl = (size_t)(f[v.ip] & 0x0f) * 4;
    if (v.ihl < FF_IPV4_MIN || len < v.ip + v.ihl + FF_UDP_LEN)
        return v;
    v.udp = v.ip + v.ihl;
    v.ok = 1;
    return v;
}

/* RFC 1071 sum of p[0..n), big-endian words, odd tail padded. */
static inline uint64_t ff_sum(uint64_t sum, const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i + 1 < n; i += 2)
        sum += ff_be16(p + i);
    if (n & 1)
        sum += (uint64_t)p[n - 1] << 8;
    return sum;
}

static inline uint32_t ff_fold(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint32_t)sum;
}

/* The IPv4 header of ihl bytes verifies. */
static inline int ff_ip_ok(const uint8_t *ip, size_t ihl)
{
    return ff_fold(ff_sum(0, ip, ihl)) == 0xffff;
}

/* The UDP datagram of udp_len bytes (header included) verifies against its
 * IPv4 pseudo-header; a checksum field of 0 means "none" and counts as ok. */
static inline int ff_udp_ok(const uint8_t *ip, const uint8_t *udp, size_t udp_len)
{
    uint64_t sum;

    if (ff_be16(udp + 6) == 0)
        return 1;
    sum = ff_sum(0, ip + 12, 8) + FF_PROTO_UDP + udp_len;
    return ff_fold(ff_sum(sum, udp, udp_len)) == 0xffff;
}

#endif /* SK_FUZZ_FRAME_H */
