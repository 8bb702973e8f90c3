/*
 * rng.c - deterministic field values: xoshiro256** seeded through
 * splitmix64, so a --seed reproduces the same symbol/price/size stream in C
 * and (through cffi) in Python. The step and the draw are inline in rng.h.
 */
#include "rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
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
    return sk_rng_step(r);
}

uint32_t sk_rng_below(struct sk_rng *r, uint32_t n)
{
    return sk_rng_step_below(r, n);
}

void sk_md_random(struct sk_rng *r, struct sk_md_msg *m)
{
    sk_md_draw(r, m);
}
