/*
 * checksum.h - the Internet checksum (RFC 1071) for the core's builders and
 * parsers. Internal to native/: not part of the cffi boundary.
 */
#ifndef SK_CHECKSUM_H
#define SK_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "compiler.h"

/* Add the 16-bit big-endian words of p[0..len) to sum (an odd tail is padded). */
static inline uint64_t sk_csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i += 2)
        sum += sk_be16(p + i);
    if (len & 1)
        sum += (uint64_t)p[len - 1] << 8;
    return sum;
}

/* Fold a running sum into 16 bits (ones' complement addition). */
static inline uint16_t sk_csum_fold(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/* Does a header of len bytes (a multiple of 4: an IPv4 header, options
 * included) carry a valid Internet checksum, i.e. do its 16-bit big-endian
 * words fold to 0xffff? Summed as native 32-bit words, which gives the same
 * verdict: 2^16 = 1 (mod 0xffff), so a 32-bit word counts as its two halves;
 * a byte-swapped word is 256 times the word (mod 0xffff), and 256 is
 * invertible mod 0xffff, so the sum is 0 (mod 0xffff) either way; and either
 * sum is zero exactly when every byte is. */
static inline int sk_csum_verify32(const uint8_t *p, size_t len)
{
    uint64_t sum = 0;
    uint32_t w;
    size_t i = 0;

    if (sk_likely(len == 20)) { /* no options: unrolled */
        for (; i < 20; i += 4) {
            memcpy(&w, p + i, sizeof(w));
            sum += w;
        }
        return sk_csum_fold(sum) == 0xffff;
    }
    for (; i < len; i += 4) {
        memcpy(&w, p + i, sizeof(w));
        sum += w;
    }
    return sk_csum_fold(sum) == 0xffff;
}

/* Write the IPv4 header checksum of the hdr_len-byte header at ip. */
static inline void sk_ipv4_fix_checksum(uint8_t *ip, size_t hdr_len)
{
    ip[10] = 0;
    ip[11] = 0;
    sk_put_be16(ip + 10, (uint16_t)~sk_csum_fold(sk_csum_add(0, ip, hdr_len)));
}

/* The UDP checksum of udp_len bytes at udp under the IPv4 header at ip, as
 * sent: a computed 0 goes out as 0xffff (0 on the wire means "none"). The
 * checksum field itself must be 0 while it is computed. */
static inline uint16_t sk_udp_checksum(const uint8_t *ip, const uint8_t *udp,
                                       size_t udp_len)
{
    uint64_t sum = sk_csum_add(0, ip + 12, 8) + 17 /* UDP */ + udp_len;
    uint16_t c = (uint16_t)~sk_csum_fold(sk_csum_add(sum, udp, udp_len));

    return c == 0 ? 0xffff : c;
}

/* Write the UDP checksum of the datagram at udp (udp_len bytes). */
static inline void sk_udp_fix_checksum(const uint8_t *ip, uint8_t *udp, size_t udp_len)
{
    udp[6] = 0;
    udp[7] = 0;
    sk_put_be16(udp + 6, sk_udp_checksum(ip, udp, udp_len));
}

#endif /* SK_CHECKSUM_H */
