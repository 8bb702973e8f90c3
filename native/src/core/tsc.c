/*
 * tsc.c - the time base: rdtsc, its frequency measured once against
 * CLOCK_MONOTONIC_RAW (cached), and the invariant-TSC CPUID bit.
 * On other architectures the "TSC" is CLOCK_MONOTONIC_RAW in ns.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdatomic.h>
#include <time.h>

#include "simkit.h"

#if defined(__x86_64__) || defined(__i386__)
#define SK_X86 1
#include <cpuid.h>
#else
#define SK_X86 0
#endif

#define NS_PER_S 1000000000ULL
#define CALIBRATION_NS 50000000ULL /* 50 ms: ~1e-6 relative error */
#define CPUID_EXT_MAX 0x80000000u
#define CPUID_APM 0x80000007u
#define CPUID_APM_EDX_INVARIANT_TSC (1u << 8)

static _Atomic uint64_t cached_hz;

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

uint64_t sk_rdtsc(void)
{
#if SK_X86
    uint32_t lo, hi;

    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
#else
    return mono_ns();
#endif
}

/* A (clock, tsc) pair whose tsc read is bracketed as tightly as we can. */
static void sample(uint64_t *ns, uint64_t *tsc)
{
    uint64_t best = UINT64_MAX;
    int i;

    for (i = 0; i < 5; i++) {
        uint64_t t0 = sk_rdtsc();
        uint64_t n = mono_ns();
        uint64_t t1 = sk_rdtsc();

        if (t1 - t0 < best) {
            best = t1 - t0;
            *ns = n;
            *tsc = t0 + (t1 - t0) / 2;
        }
    }
}

static uint64_t calibrate(void)
{
#if SK_X86
    uint64_t ns0, tsc0, ns1, tsc1;

    sample(&ns0, &tsc0);
    do
        sample(&ns1, &tsc1);
    while (ns1 - ns0 < CALIBRATION_NS);
    return (uint64_t)((double)(tsc1 - tsc0) * (double)NS_PER_S /
                      (double)(ns1 - ns0) + 0.5);
#else
    return NS_PER_S;
#endif
}

uint64_t sk_tsc_hz(void)
{
    uint64_t hz = atomic_load_explicit(&cached_hz, memory_order_relaxed);

    if (hz == 0) {
        hz = calibrate();
        atomic_store_explicit(&cached_hz, hz, memory_order_relaxed);
    }
    return hz;
}

uint64_t sk_tsc_to_ns(uint64_t ticks)
{
    uint64_t hz = sk_tsc_hz();

    /* split to avoid overflow of ticks * 1e9 */
    return ticks / hz * NS_PER_S + (ticks % hz) * NS_PER_S / hz;
}

int sk_tsc_invariant(void)
{
#if SK_X86
    unsigned a, b, c, d;

    if (!__get_cpuid(CPUID_EXT_MAX, &a, &b, &c, &d) || a < CPUID_APM)
        return 0;
    if (!__get_cpuid(CPUID_APM, &a, &b, &c, &d))
        return 0;
    return (d & CPUID_APM_EDX_INVARIANT_TSC) ? 1 : 0;
#else
    return 0;
#endif
}
