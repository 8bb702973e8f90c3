/*
 * fuzz_input.h - a cursor over the fuzzer's bytes and the one way a harness
 * reports a broken invariant (abort, so libFuzzer saves the input).
 *
 * Reading past the end yields zeros rather than failing, so every input is a
 * valid program for the harness and libFuzzer's mutations stay meaningful.
 */
#ifndef SK_FUZZ_INPUT_H
#define SK_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct fuzz_input {
    const uint8_t *p;
    size_t left;
};

static inline int fuzz_more(const struct fuzz_input *in)
{
    return in->left != 0;
}

static inline uint8_t fuzz_u8(struct fuzz_input *in)
{
    if (in->left == 0)
        return 0;
    in->left--;
    return *in->p++;
}

/* Little-endian, n <= 8 bytes. */
static inline uint64_t fuzz_uint(struct fuzz_input *in, unsigned n)
{
    uint64_t v = 0;
    unsigned i;

    for (i = 0; i < n; i++)
        v |= (uint64_t)fuzz_u8(in) << (8 * i);
    return v;
}

/* A broken invariant: say which, then abort so libFuzzer keeps the input. */
#define FUZZ_CHECK(cond, ...)                                               \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__,      \
                    __LINE__, #cond);                                       \
            fprintf(stderr, __VA_ARGS__);                                   \
            fputc('\n', stderr);                                            \
            abort();                                                        \
        }                                                                   \
    } while (0)

#endif /* SK_FUZZ_INPUT_H */
