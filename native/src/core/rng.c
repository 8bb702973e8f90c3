/*
 * rng.c - deterministic field values: xoshiro256** seeded through
 * splitmix64, so a --seed reproduces the same symbol/price/size stream in C
 * and (through cffi) in Python.
 */
#include "simkit.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void sk_rng_seed(struct sk_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    int i;

    for (i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

uint64_t sk_rng_next(struct sk_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint32_t sk_rng_below(struct sk_rng *r, uint32_t n)
{
    return (uint32_t)(((sk_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

void sk_md_random(struct sk_rng *r, struct sk_md_msg *m)
{
    m->symbol_id = SK_MD_SYMBOL_MIN +
                   sk_rng_below(r, SK_MD_SYMBOL_MAX - SK_MD_SYMBOL_MIN + 1);
    m->price = (double)(SK_MD_PRICE_TICKS_MIN +
                        sk_rng_below(r, SK_MD_PRICE_TICKS_END -
                                            SK_MD_PRICE_TICKS_MIN)) / 100.0;
    m->size = SK_MD_SIZE_MIN + sk_rng_below(r, SK_MD_SIZE_MAX - SK_MD_SIZE_MIN + 1);
}
