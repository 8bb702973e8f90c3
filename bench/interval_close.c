/*
 * interval_close.c - what closing one receiver interval costs (intervals.c):
 * the open histogram filled with N latencies (log-normal around 20 us, of
 * sigma S: 1.5 spreads them over ns to tens of ms, as a loaded machine's),
 * then sk_intervals_close timed on the TSC; repeated, every round printed.
 * Also the per-sample cost of sk_hist_record_batch for scale.
 *
 *   make -C native engine && cc -O2 -Inative/include -Inative/src/core \
 *     -Inative/src/engine bench/interval_close.c native/build/obj/engine/intervals.o \
 *     native/build/obj/engine/report_json.o native/build/obj/core/*.o -lm -o /tmp/ic
 *   /tmp/ic [samples per interval] [rounds] [sigma]
 */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "simkit.h"
#include "batch.h"
#include "intervals.h"

int main(int argc, char **argv)
{
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    int rounds = argc > 2 ? atoi(argv[2]) : 5, r;
    double sigma = argc > 3 ? atof(argv[3]) : 1.5;
    struct sk_intervals iv;
    struct sk_hist *total = sk_hist_new();
    uint64_t *v = malloc(n * sizeof(*v)), hz = sk_tsc_hz(), t0, t1, now;
    _Atomic uint64_t tx = 0;
    struct sk_rng rng;
    unsigned long i;

    sk_rng_seed(&rng, 1);
    for (i = 0; i < n; i++) { /* log-normal (Box-Muller) */
        double u1 = (sk_rng_next(&rng) >> 11) * 0x1.0p-53 + 1e-12;
        double u2 = (sk_rng_next(&rng) >> 11) * 0x1.0p-53;
        v[i] = (uint64_t)exp(log(20000.0) + sigma * sqrt(-2 * log(u1)) * cos(6.283185307 * u2));
    }
    sk_intervals_init(&iv, hz);
    now = sk_rdtsc();
    sk_intervals_start(&iv, now);
    for (r = 0; r < rounds; r++) {
        t0 = sk_rdtsc();
        for (i = 0; i + 32 <= n; i += 32)
            sk_hist_record_batch(iv.open, v + i, 32);
        t1 = sk_rdtsc();
        printf("round %d: record %.2f ns/sample; ", r,
               (double)(t1 - t0) * 1e9 / hz / (double)n);
        now = iv.next_tsc; /* the interval just ended */
        t0 = sk_rdtsc();
        sk_intervals_close(&iv, total, now, n, &tx);
        t1 = sk_rdtsc();
        printf("close %.1f us (%zu buckets kept)\n", (double)(t1 - t0) * 1e6 / hz,
               iv.rows[iv.n_rows - 1].n);
    }
    sk_intervals_free(&iv);
    sk_hist_free(total);
    free(v);
    return 0;
}
