/*
 * seed_check.h - the seed trailer's keyed integrity check as an inline
 * function (internal): packet.c exports it as sk_seed_check, the generator
 * writes it and the receiver verifies it per packet. Definition in simkit.h.
 */
#ifndef SK_SEED_CHECK_H
#define SK_SEED_CHECK_H

#include <stdint.h>

#include "simkit.h"
#include "compiler.h"

static inline uint64_t sk_mum(uint64_t a, uint64_t b)
{
    unsigned __int128 r = (unsigned __int128)a * b;

    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* The check of the 32 bytes at p (message + seq). */
static inline uint32_t sk_seed_check_inline(const struct sk_seed_key *key,
                                            const uint8_t *p)
{
    uint64_t h;

    h = sk_mum(sk_le64(p) ^ key->k[0], sk_le64(p + 8) ^ key->k[1]) ^
        sk_mum(sk_le64(p + 16) ^ key->k[2], sk_le64(p + 24) ^ key->k[3]);
    h = sk_mum(h ^ SK_SEED_CHECK_MIX, key->k[0] ^ key->k[3]);
    return (uint32_t)(h ^ (h >> 32));
}

#endif /* SK_SEED_CHECK_H */
