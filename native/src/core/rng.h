/*
 * rng.h - the xoshiro256** step and the seed message draw as inline
 * functions (internal): rng.c builds the exported sk_rng_next, sk_rng_below
 * and sk_md_random from them, and the generator draws with them so that the
 * state stays in registers over a burst instead of going through memory
 * once per packet. Same values either way.
 */
#ifndef SK_RNG_H
#define SK_RNG_H

#include "simkit.h"

static inline uint64_t sk_rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t sk_rng_step(struct sk_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = sk_rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = sk_rotl64(s[3], 45);
    return result;
}

/* Uniform in [0, n) from the high 32 bits. */
static inline uint32_t sk_rng_step_below(struct sk_rng *r, uint32_t n)
{
    return (uint32_t)(((sk_rng_step(r) >> 32) * (uint64_t)n) >> 32);
}

/* symbol_id, price, size drawn in that order (timestamp untouched). */
static inline void sk_md_draw(struct sk_rng *r, struct sk_md_msg *m)
{
    m->symbol_id = SK_MD_SYMBOL_MIN +
                   sk_rng_step_below(r, SK_MD_SYMBOL_MAX - SK_MD_SYMBOL_MIN + 1);
    m->price = (double)(SK_MD_PRICE_TICKS_MIN +
                        sk_rng_step_below(r, SK_MD_PRICE_TICKS_END -
                                                 SK_MD_PRICE_TICKS_MIN)) / 100.0;
    m->size = SK_MD_SIZE_MIN +
              sk_rng_step_below(r, SK_MD_SIZE_MAX - SK_MD_SIZE_MIN + 1);
}

#endif /* SK_RNG_H */
