/* Compiler hints and little-endian/big-endian loads shared by the core. */
#ifndef SK_COMPILER_H
#define SK_COMPILER_H

#include <stdint.h>
#include <string.h>

#define sk_likely(x) __builtin_expect(!!(x), 1)
#define sk_unlikely(x) __builtin_expect(!!(x), 0)

#define SK_CACHE_LINE 64

/* Byte-wise loads/stores: safe on any alignment, compiled to single moves. */
static inline uint16_t sk_be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t sk_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}

static inline void sk_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void sk_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline uint32_t sk_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static inline uint64_t sk_le64(const uint8_t *p)
{
    return (uint64_t)sk_le32(p) | ((uint64_t)sk_le32(p + 4) << 32);
}

static inline void sk_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void sk_put_le64(uint8_t *p, uint64_t v)
{
    sk_put_le32(p, (uint32_t)v);
    sk_put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint64_t sk_double_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    return u;
}

static inline double sk_bits_double(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}

#endif /* SK_COMPILER_H */
