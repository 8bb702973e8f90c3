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

/* The check of the four little-endian words of the 32 bytes. */
static inline uint32_t sk_seed_check_words(const struct sk_seed_key *key, uint64_t w0,
                                           uint64_t w1, uint64_t w2, uint64_t w3)
{
    uint64_t h;

    h = sk_mum(w0 ^ key->k[0], w1 ^ key->k[1]) ^ sk_mum(w2 ^ key->k[2], w3 ^ key->k[3]);
    h = sk_mum(h ^ SK_SEED_CHECK_MIX, key->k[0] ^ key->k[3]);
    return (uint32_t)(h ^ (h >> 32));
}

/* The check of the 32 bytes at p (message + seq). */
static inline uint32_t sk_seed_check_inline(const struct sk_seed_key *key,
                                            const uint8_t *p)
{
    return sk_seed_check_words(key, sk_le64(p), sk_le64(p + 8), sk_le64(p + 16),
                               sk_le64(p + 24));
}

/* The same from the message's fields, as they are laid out (timestamp,
 * symbol_id, price, size, seq): a writer need not read back what it stored
 * (a load spanning two smaller stores is not forwarded: a stall). */
static inline uint32_t sk_seed_check_msg(const struct sk_seed_key *key,
                                         const struct sk_md_msg *m, uint64_t seq)
{
    uint64_t price = sk_double_bits(m->price);

    return sk_seed_check_words(key, m->timestamp, (uint64_t)m->symbol_id | price << 32,
                               price >> 32 | (uint64_t)m->size << 32, seq);
}

#endif /* SK_SEED_CHECK_H */
