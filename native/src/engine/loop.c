/*
 * loop.c - what the poll loops share, below them: the stop check (signal,
 * timeout, error), progress lines, the thread's CPU usage, and the generator
 * loops' common frame: the seed template, the message draws, the pacer and
 * the measurement window they open and close the same way (generator.c, the
 * clean loop; impaired.c, the impaired one). Calls flow one way:
 * main -> run -> generator / impaired / receiver -> loop -> core.
 */
#define _GNU_SOURCE

#include <string.h>
#include <sys/resource.h>

#include "engine.h"
#include "../core/compiler.h"

atomic_int sk_interrupted;

int sk_should_stop(struct sk_shared *sh, uint64_t now)
{
    if (sk_likely(!atomic_load_explicit(&sh->stop, memory_order_relaxed) &&
                  !atomic_load_explicit(&sk_interrupted, memory_order_relaxed) &&
                  now < sh->deadline_tsc))
        return 0;
    if (now >= sh->deadline_tsc)
        atomic_store(&sh->timed_out, 1);
    atomic_store(&sh->stop, 1);
    return 1;
}

void sk_progress_tick(struct sk_shared *sh, uint64_t now)
{
    if (sk_likely(now < sh->next_progress_tsc))
        return;
    fprintf(stderr, "progress %llu %llu\n",
            (unsigned long long)atomic_load(&sh->tx.packets),
            (unsigned long long)atomic_load(&sh->rx.packets));
    sh->next_progress_tsc = now + sh->progress_ticks;
}

void sk_thread_usage(double *cpu_s, uint64_t *ctx_switches)
{
    struct rusage ru;

    if (getrusage(RUSAGE_THREAD, &ru) != 0) {
        *cpu_s = 0.0;
        *ctx_switches = 0;
        return;
    }
    *cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
             (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    *ctx_switches = (uint64_t)ru.ru_nvcsw + (uint64_t)ru.ru_nivcsw;
}

uint64_t sk_stream_seqs(const struct sk_stream *s, uint64_t datagrams)
{
    if (s == NULL)
        return datagrams; /* seed: one sequence number per packet */
    if (s->live != NULL) /* the last one sent is still in the ring */
        return datagrams == 0 ? 0 : s->msg_index[(datagrams - 1) & s->mask] +
                                        s->msg_count[(datagrams - 1) & s->mask];
    return datagrams >= s->count ? s->messages : s->msg_index[datagrams];
}

void sk_generator_done(struct sk_shared *sh, uint64_t offered, uint64_t expect,
                       uint64_t wire)
{
    atomic_store_explicit(&sh->tx_final, offered, memory_order_relaxed);
    atomic_store_explicit(&sh->rx_expect, expect, memory_order_relaxed);
    atomic_store_explicit(&sh->tx_wire, wire, memory_order_relaxed);
    atomic_store_explicit(&sh->tx_done_tsc, sk_rdtsc(), memory_order_relaxed);
    atomic_store_explicit(&sh->tx_done, 1, memory_order_release);
}

int sk_gen_begin(struct sk_gen_ctx *c, struct sk_gen_run *g)
{
    struct sk_shared *sh = c->sh;
    struct sk_seed_fields fields = c->fields;
    int ret;

    memset(g, 0, sizeof(*g));
    fields.udp_checksum = (uint8_t)(c->udp_checksum != 0);
    ret = sk_seed_build(&fields, g->tmpl, sizeof(g->tmpl));
    if (ret < 0)
        return ret;
    sk_rng_seed(&g->rng, c->seed);
    g->wall0 = sk_rdtsc(); /* wall_s encloses the cpu_s window */
    sk_thread_usage(&g->cpu0, &g->cs0);
    g->start = sk_rdtsc();
    g->end = sk_duration_end(g->start, c->duration_s, sh->hz);
    ret = sk_pace_init(&g->pace, &c->pacing, sh->hz, g->start);
    if (ret < 0)
        return ret;
    sh->tx.first_tsc = g->start;
    g->measuring = 1;
    return 0;
}

void sk_gen_end(struct sk_gen_ctx *c, struct sk_gen_run *g, uint64_t bytes,
                uint64_t offered, uint64_t expect, uint64_t wire)
{
    struct sk_shared *sh = c->sh;
    struct sk_core_stats *st = &sh->tx;
    double cpu1;
    uint64_t cs1;

    if (g->measuring) {
        st->last_tsc = sk_rdtsc();
        sk_thread_usage(&cpu1, &cs1);
        st->wall_s = (double)(sk_rdtsc() - g->wall0) / (double)sh->hz;
        st->bytes = bytes;
        st->cpu_s = cpu1 - g->cpu0;
        st->ctx_switches = cs1 - g->cs0;
    }
    sk_pace_finish(&g->pace, &c->pace);
    sk_pace_free(&g->pace);
    sk_generator_done(sh, offered, expect, wire);
}
