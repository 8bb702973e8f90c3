/*
 * seed_check_cost.c - what the receiver's integrity check costs per packet,
 * on one core, without the link: the receiver's inline seed parser over a
 * ring of real seed frames, alone and followed by the keyed check (what
 * receiver.c does per packet), alternating in rounds; every round printed,
 * then the medians and their difference.
 *
 *   cc -O2 -std=gnu11 -Inative/include -Inative/src/core bench/seed_check_cost.c \
 *       native/src/core/packet.c native/src/core/rng.c -o /tmp/seed_check_cost
 *   /tmp/seed_check_cost [ROUNDS] [PACKETS_PER_ROUND]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "simkit.h"
#include "parse.h"
#include "seed_check.h"

#define FRAMES 4096 /* 320 KiB of frames: in L2, like a burst ring's recent mbufs */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One pass: parse each frame (and check it when `check`); a sum keeps the
 * work from being optimised away. */
static uint64_t pass(uint8_t (*frames)[SK_SEED_FRAME_LEN], uint64_t n, int check,
                     const struct sk_seed_key *key, uint64_t *bad)
{
    struct sk_seed_view v;
    uint64_t i, sum = 0;

    for (i = 0; i < n; i++) {
        const uint8_t *f = frames[i % FRAMES];

        if (sk_seed_parse_inline(f, SK_SEED_FRAME_LEN, &v) != SK_PARSE_OK) {
            (*bad)++;
            continue;
        }
        if (check && sk_seed_check_inline(key, f + v.payload_offset) != v.check) {
            (*bad)++;
            continue;
        }
        sum += v.seq ^ v.timestamp;
    }
    return sum;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 7, r, k;
    uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 50000000ULL, bad = 0, sink = 0;
    static uint8_t frames[FRAMES][SK_SEED_FRAME_LEN];
    struct sk_seed_fields f;
    struct sk_seed_key key;
    double ns[2][64];

    if (rounds < 1 || rounds > 64 || n == 0) {
        fprintf(stderr, "usage: %s [ROUNDS 1..64] [PACKETS]\n", argv[0]);
        return 2;
    }
    sk_seed_fields_default(&f);
    f.key_seed = 1;
    sk_seed_key_init(&key, 1);
    for (k = 0; k < FRAMES; k++) {
        f.seq = (uint64_t)k;
        f.timestamp = 1000 + (uint64_t)k;
        f.symbol_id = 1 + (uint32_t)k % 1000;
        f.price = 100.0 + k;
        sk_seed_build(&f, frames[k], SK_SEED_FRAME_LEN);
    }
    printf("| round | parse ns/pkt | parse + check ns/pkt | check ns/pkt |\n|---:|---:|---:|---:|\n");
    for (r = 0; r < rounds; r++) {
        for (k = 0; k < 2; k++) {
            double t0 = now_s();

            sink += pass(frames, n, k, &key, &bad);
            ns[k][r] = (now_s() - t0) * 1e9 / (double)n;
        }
        printf("| %d | %.2f | %.2f | %.2f |\n", r + 1, ns[0][r], ns[1][r], ns[1][r] - ns[0][r]);
    }
    qsort(ns[0], (size_t)rounds, sizeof(double), cmp);
    qsort(ns[1], (size_t)rounds, sizeof(double), cmp);
    printf("| median | %.2f | %.2f | %.2f |\n", ns[0][rounds / 2], ns[1][rounds / 2],
           ns[1][rounds / 2] - ns[0][rounds / 2]);
    if (bad != 0) {
        fprintf(stderr, "error: %llu frames failed (sum %llu)\n", (unsigned long long)bad,
                (unsigned long long)sink);
        return 1;
    }
    return sink == 42 ? 3 : 0; /* keep sink alive */
}
