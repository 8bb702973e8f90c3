/*
 * checksum.h - the Internet checksum (RFC 1071) for the core's builders and
 * parsers. Internal to native/: not part of the cffi boundary.
 */
#ifndef SK_CHECKSUM_H
#define SK_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

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

#endif /* SK_CHECKSUM_H */
