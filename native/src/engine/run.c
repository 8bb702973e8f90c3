/*
 * run.c - the `run` subcommand: bring the backends up, open the two ports
 * (each with its own backend, each inside its own network namespace if
 * asked), run generator and receiver (concurrently on two cores, or one
 * after the other with --phased; or the generator alone with --rx-dev none),
 * then print the report as one JSON object. With --tx-dev none the receiver
 * runs alone (one side of a two-process link such as memif, whose generator
 * is another engine process): it expects --count packets.
 *
 * Every exit path goes through `out`, which closes the ports and cleans the
 * backend up (for DPDK that removes /var/run/dpdk/<prefix>).
 */
#define _GNU_SOURCE

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "intervals.h"
#include "../core/compiler.h"

#define MAIN_WAIT_NS 1000000L /* main's poll of a finished worker: 1 ms */

static double seconds(const struct sk_shared *sh, uint64_t from, uint64_t to)
{
    return to > from ? (double)(to - from) / (double)sh->hz : 0.0;
}

/* wire: frames put on the link (tx only; UINT64_MAX: not emitted). */
static void emit_side(struct sk_json *j, const char *key,
                      const struct sk_shared *sh, const struct sk_core_stats *st,
                      uint64_t wire)
{
    sk_json_begin_object(j, key);
    sk_json_uint(j, "packets", atomic_load(&st->packets));
    if (wire != UINT64_MAX)
        sk_json_uint(j, "wire_packets", wire);
    sk_json_uint(j, "bytes", st->bytes);
    sk_json_double(j, "duration_s", seconds(sh, st->first_tsc, st->last_tsc));
    sk_json_double(j, "cpu_s", st->cpu_s);
    sk_json_double(j, "wall_s", st->wall_s);
    sk_json_uint(j, "ctx_switches", st->ctx_switches);
    sk_json_end_object(j);
}

static void emit_latency(struct sk_json *j, const struct sk_hist *h)
{
    static const struct { const char *key; double q; } pct[] = {
        {"p50", 50.0}, {"p90", 90.0}, {"p99", 99.0}, {"p999", 99.9},
        {"p9999", 99.99},
    };
    uint64_t count;
    int32_t i;
    size_t k;

    sk_json_begin_object(j, "latency_ns");
    sk_json_uint(j, "count", sk_hist_count(h));
    sk_json_uint(j, "min", sk_hist_min(h));
    sk_json_double(j, "mean", sk_hist_mean(h));
    for (k = 0; k < sizeof(pct) / sizeof(pct[0]); k++)
        sk_json_uint(j, pct[k].key, sk_hist_percentile(h, pct[k].q));
    sk_json_uint(j, "max", sk_hist_max(h));
    sk_json_uint(j, "clamped", sk_hist_clamped(h));
    sk_json_begin_object(j, "histogram");
    sk_json_uint(j, "sub_bucket_count", SK_HIST_SUB_BUCKET_COUNT);
    sk_json_begin_array(j, "buckets");
    for (i = sk_hist_next_bucket(h, 0, &count); i >= 0;
         i = sk_hist_next_bucket(h, i + 1, &count)) {
        sk_json_begin_array(j, NULL);
        sk_json_uint(j, NULL, (uint64_t)i);
        sk_json_uint(j, NULL, count);
        sk_json_end_array(j);
    }
    sk_json_end_array(j);
    sk_json_end_object(j);
    sk_json_end_object(j);
}

/* The ports of one run: each side has its backend, device and namespace. */
struct sk_side {
    const struct sk_io_ops *ops;
    const char *dev;
    const char *netns;
    enum sk_io_dir dir;
    struct sk_port *port;
};

/* What a backend says about its port beyond mode and errors (io_uring:
 * SQPOLL, send_zc notifications). */
static void emit_facts(struct sk_json *j, const struct sk_io_ops *ops,
                       struct sk_port *port)
{
    struct sk_io_fact f[SK_IO_MAX_FACTS];
    unsigned i, n = ops->facts != NULL ? ops->facts(port, f, SK_IO_MAX_FACTS) : 0;

    for (i = 0; i < n; i++) {
        if (f[i].kind == SK_IO_FACT_BOOL)
            sk_json_bool(j, f[i].key, f[i].u != 0);
        else if (f[i].kind == SK_IO_FACT_UINT)
            sk_json_uint(j, f[i].key, f[i].u);
        else
            sk_json_string(j, f[i].key, f[i].s);
    }
}

/* "af_xdp": each AF_XDP side's mode (XDP attach mode, copy) and kicks. */
static void emit_af_xdp(struct sk_json *j, const struct sk_side *tx,
                        const struct sk_side *rx)
{
    const struct sk_side *sides[2] = {tx, rx};
    static const char *const mode_key[2] = {"tx_mode", "rx_mode"};
    int i, any = 0;

    for (i = 0; i < 2; i++)
        any |= sides[i]->ops == &sk_io_af_xdp && sides[i]->port != NULL;
    if (!any)
        return;
    sk_json_begin_object(j, "af_xdp");
    for (i = 0; i < 2; i++) {
        if (sides[i]->ops != &sk_io_af_xdp || sides[i]->port == NULL)
            continue;
        sk_json_string(j, mode_key[i], sides[i]->ops->mode(sides[i]->port));
        emit_facts(j, sides[i]->ops, sides[i]->port);
    }
    sk_json_end_object(j);
}

static void emit_io(struct sk_json *j, const struct sk_side *tx,
                    const struct sk_side *rx)
{
    const struct sk_side *sides[2] = {tx, rx};
    static const char *const mode_key[2] = {"tx_mode", "rx_mode"};
    int i, uring = 0;

    sk_json_string(j, "tx_backend", tx->ops != NULL ? tx->ops->name : NULL);
    sk_json_string(j, "rx_backend", rx->ops != NULL ? rx->ops->name : NULL);
    sk_json_bool(j, "receiver", rx->ops != NULL);
    sk_json_bool(j, "generator", tx->ops != NULL);
    emit_af_xdp(j, tx, rx);
    for (i = 0; i < 2; i++)
        uring |= sides[i]->ops == &sk_io_uring;
    if (!uring)
        return;
    sk_json_begin_object(j, "io_uring");
    for (i = 0; i < 2; i++) {
        const struct sk_side *s = sides[i];

        if (s->ops != &sk_io_uring || s->port == NULL)
            continue;
        sk_json_string(j, mode_key[i], s->ops->mode(s->port));
        if (s->dir == SK_IO_TX)
            sk_json_uint(j, "send_errors", s->ops->errors(s->port));
        emit_facts(j, s->ops, s->port);
    }
    sk_json_end_object(j);
}

static void emit_injected(struct sk_json *j, const struct sk_inject_stats *inj)
{
    sk_json_begin_object(j, "injected");
    sk_json_uint(j, "dropped", inj->dropped);
    sk_json_uint(j, "duplicated", inj->duplicated);
    sk_json_uint(j, "reordered", inj->reordered);
    sk_json_uint(j, "corrupted", inj->corrupted);
    sk_json_uint(j, "truncated", inj->truncated);
    sk_json_uint(j, "delayed", inj->delayed);
    sk_json_uint(j, "malformed", inj->malformed);
    sk_json_uint(j, "malformed_frames", inj->malformed_frames);
    sk_json_uint(j, "malform_applied", inj->malform_applied);
    sk_json_uint(j, "dropped_seqs", inj->dropped_seqs);
    sk_json_uint(j, "malformed_seqs", inj->malformed_seqs);
    sk_json_uint(j, "garbled", inj->garbled);
    sk_json_uint(j, "garbled_seqs", inj->garbled_seqs);
    sk_json_uint(j, "duplicated_seqs", inj->duplicated_seqs);
    sk_json_end_object(j);
}

/* A profile's record: each interval's offered and sent packets, those sent
 * late, and the latest a departure in it was against its schedule. */
static void emit_profile_bins(struct sk_json *j, const struct sk_pace_report *p)
{
    uint64_t b;

    sk_json_double(j, "interval_s", (double)p->bin_ns / 1e9);
    sk_json_bool(j, "intervals_truncated", p->bins_truncated);
    sk_json_begin_array(j, "intervals");
    for (b = 0; b < p->n_bins; b++) {
        sk_json_begin_object(j, NULL);
        sk_json_uint(j, "offered", p->bins[b].offered);
        sk_json_uint(j, "sent", p->bins[b].sent);
        sk_json_uint(j, "late", p->bins[b].late);
        sk_json_uint(j, "late_max_ns", p->bins[b].late_max_ns);
        sk_json_end_object(j);
    }
    sk_json_end_array(j);
}

/* "pacing" (only with --rate, --arrivals capture or --profile): achieved vs
 * requested, departure jitter; a profile's per-interval record. */
static void emit_pacing(struct sk_json *j, const struct sk_pace_report *p)
{
    if (!p->paced)
        return;
    sk_json_begin_object(j, "pacing");
    sk_json_string(j, "arrivals", sk_arrivals_name(p->arrivals));
    if (p->arrivals == SK_ARRIVALS_CAPTURE)
        sk_json_double(j, "speed", p->speed);
    sk_json_double(j, "requested_pps", p->requested_pps);
    sk_json_double(j, "achieved_pps", p->achieved_pps);
    sk_json_bool(j, "fell_short", p->fell_short);
    sk_json_uint(j, "bursts", p->bursts);
    sk_json_uint(j, "deviation_p50_ns", p->dev_p50_ns);
    sk_json_uint(j, "deviation_p99_ns", p->dev_p99_ns);
    sk_json_uint(j, "deviation_max_ns", p->dev_max_ns);
    sk_json_double(j, "gap_cv", p->gap_cv);
    sk_json_uint(j, "gap_samples", p->gaps);
    if (p->arrivals == SK_ARRIVALS_PROFILE)
        emit_profile_bins(j, p);
    sk_json_end_object(j);
}

/* The receiver's sequence counts, summed over its flows' trackers. */
static void rx_seq_stats(const struct sk_rx_ctx *rx, struct sk_seq_stats *sum)
{
    struct sk_seq_stats one;
    unsigned f;

    sk_seq_get_stats(rx->seq, sum);
    if (rx->flows <= 1)
        return;
    memset(sum, 0, sizeof(*sum));
    for (f = 0; f <= rx->flows; f++) {
        sk_seq_get_stats(rx->flow_seq[f], &one);
        sum->unique += one.unique;
        sum->duplicated += one.duplicated;
        sum->reordered += one.reordered;
        sum->late += one.late;
    }
}

/* "flows" inside "seq" (--flows N > 1): per source port, its packets offered
 * (the generator numbers flow f's packets f, f + N, ...), unique, lost, ...;
 * packets from any other port, if some came, as "other_port". */
static void emit_flows(struct sk_json *j, const struct sk_rx_ctx *rx,
                       uint64_t offered)
{
    struct sk_seq_stats st;
    uint64_t off;
    unsigned f;

    if (rx->flows <= 1)
        return;
    sk_json_begin_array(j, "flows");
    for (f = 0; f <= rx->flows; f++) {
        sk_seq_get_stats(rx->flow_seq[f], &st);
        if (f == rx->flows && st.unique == 0 && st.duplicated == 0)
            break;
        off = f == rx->flows ? 0 : offered / rx->flows + (f < offered % rx->flows);
        sk_json_begin_object(j, NULL);
        if (f < rx->flows)
            sk_json_uint(j, "src_port", (uint16_t)(rx->flow_base + f));
        else
            sk_json_bool(j, "other_port", 1);
        sk_json_uint(j, "offered", off);
        sk_json_uint(j, "unique", st.unique);
        sk_json_uint(j, "lost", off > st.unique ? off - st.unique : 0);
        sk_json_uint(j, "duplicated", st.duplicated);
        sk_json_uint(j, "reordered", st.reordered);
        sk_json_uint(j, "late", st.late);
        sk_json_end_object(j);
    }
    sk_json_end_array(j);
}

static void emit_report(FILE *f, const struct sk_shared *sh,
                        const struct sk_rx_ctx *rx, const struct sk_side *txs,
                        const struct sk_side *rxs, const struct sk_gen_ctx *gen,
                        int interrupted)
{
    const struct sk_inject_stats *inj = &gen->inj;
    struct sk_seq_stats ss;
    struct sk_json j;
    uint64_t total = 0, garbled = 0, lost = 0, missing, explained;
    int r;

    rx_seq_stats(rx, &ss);
    for (r = 1; r <= SK_RX_REASON_COUNT; r++)
        total += rx->malformed[r];
    for (r = 1; r <= SK_GARBLED_REASON_COUNT; r++)
        garbled += rx->garbled[r];
    /* A sequence number never received intact that the impairments neither
     * dropped nor damaged (malformed or garbled). Without a receiver
     * nothing can be counted lost. */
    missing = inj->offered_seqs > ss.unique ? inj->offered_seqs - ss.unique : 0;
    explained = inj->dropped_seqs + inj->malformed_seqs + inj->garbled_seqs;
    if (gen->recovery != NULL) /* what was kept back could be re-requested */
        explained = inj->garbled_seqs;
    if (rxs->ops != NULL)
        lost = missing > explained ? missing - explained : 0;

    sk_json_init(&j, f);
    sk_json_begin_object(&j, NULL);
    sk_json_string(&j, "engine_version", sk_version());
    sk_json_string(&j, "dpdk_version", sk_io_dpdk.version());
    sk_json_uint(&j, "tsc_hz", sh->hz);
    sk_json_string(&j, "keying", rx->stream != NULL ? "sequence" : "tsc");
    emit_io(&j, txs, rxs);
    sk_json_bool(&j, "interrupted", interrupted);
    sk_json_bool(&j, "timed_out", atomic_load(&sh->timed_out));
    emit_side(&j, "tx", sh, &sh->tx, inj->wire_packets);
    emit_side(&j, "rx", sh, &sh->rx, UINT64_MAX);
    sk_json_begin_object(&j, "seq");
    sk_json_uint(&j, "lost", lost);
    sk_json_uint(&j, "unique", ss.unique);
    sk_json_uint(&j, "duplicated", ss.duplicated);
    sk_json_uint(&j, "reordered", ss.reordered);
    sk_json_uint(&j, "late", ss.late);
    sk_json_uint(&j, "garbled", garbled);
    sk_json_begin_object(&j, "garbled_by_reason");
    for (r = 1; r <= SK_GARBLED_REASON_COUNT; r++)
        if (rx->garbled[r] != 0)
            sk_json_uint(&j, sk_garbled_reason_name(r), rx->garbled[r]);
    sk_json_end_object(&j);
    sk_json_begin_array(&j, "garbled_first");
    for (r = 0; (uint64_t)r < garbled && r < SK_GARBLED_SAMPLES; r++) {
        sk_json_begin_object(&j, NULL);
        sk_json_uint(&j, "seq", rx->garbled_first[r].seq);
        sk_json_string(&j, "reason", sk_garbled_reason_name(rx->garbled_first[r].reason));
        sk_json_end_object(&j);
    }
    sk_json_end_array(&j);
    sk_json_string(&j, "unit", rx->stream != NULL ? "message" : "packet");
    sk_json_uint(&j, "offered", inj->offered_seqs);
    sk_json_uint(&j, "missing", rxs->ops != NULL ? missing : 0);
    if (rxs->ops != NULL)
        emit_flows(&j, rx, inj->offered_seqs);
    sk_json_end_object(&j);
    if (rx->stream != NULL) {
        sk_json_begin_object(&j, "moldudp64");
        sk_json_uint(&j, "first_seq", rx->stream->first_seq);
        sk_json_uint(&j, "messages", rx->stream->messages);
        sk_json_uint(&j, "heartbeats", rx->heartbeats);
        sk_json_uint(&j, "end_of_session", rx->end_of_session);
        sk_json_end_object(&j);
    }
    sk_json_begin_object(&j, "malformed");
    sk_json_uint(&j, "total", total);
    sk_json_begin_object(&j, "by_reason");
    for (r = 1; r <= SK_RX_REASON_COUNT; r++)
        if (rx->malformed[r] != 0)
            sk_json_uint(&j, sk_rx_reason_name(r), rx->malformed[r]);
    sk_json_end_object(&j);
    sk_json_end_object(&j);
    emit_injected(&j, inj);
    if (gen->recovery != NULL)
        sk_recovery_emit(&j, gen->recovery, rx->delivered, gen->count);
    if (gen->lines != NULL)
        sk_lines_emit(&j, gen->lines, rx->delivered, inj->offered_seqs);
    emit_pacing(&j, &gen->pace);
    emit_latency(&j, rx->hist);
    sk_intervals_emit(&j, rx->iv, sh->hz);
    sk_json_end_object(&j);
    sk_json_finish(&j);
}

/* --arrivals capture: the stream must be timed, and its first --count frames,
 * at --speed, must fit in the run (--timeout-s) unless --duration ends it. */
static int check_capture_stream(const struct sk_run_opts *o, const struct sk_stream *s)
{
    double span_s;

    if (s->t_ns == NULL) {
        sk_error("--arrivals capture needs a timed --stream: %s has no time offsets "
                 "(simkit writes them when it prepares a --replay capture)", o->stream_path);
        return -EINVAL;
    }
    span_s = (double)s->t_ns[o->count - 1] / o->speed / 1e9;
    if (o->duration_s == 0 && span_s >= o->timeout_s) {
        sk_error("--stream %s spans %.3f s at --speed %g, not under --timeout-s %g: "
                 "raise --timeout-s or --speed, or give --duration", o->stream_path,
                 span_s, o->speed, o->timeout_s);
        return -EINVAL;
    }
    return 0;
}

/* Open (or close) one side, inside its network namespace if it has one. */
static int side_open(struct sk_side *s, unsigned burst, char *err, size_t errlen)
{
    char leave_err[SK_ERR_LEN];
    int saved = -1, ret, r;

    if (s->netns != NULL) {
        ret = sk_netns_enter(s->netns, &saved, err, errlen);
        if (ret < 0)
            return ret;
    }
    ret = s->ops->open(s->dev, s->dir, burst, &s->port, err, errlen);
    r = sk_netns_leave(saved, leave_err, sizeof(leave_err));
    if (r < 0 && ret == 0) {
        snprintf(err, errlen, "%s", leave_err);
        ret = r;
    }
    return ret;
}

static void side_close(struct sk_side *s)
{
    char err[SK_ERR_LEN];
    int saved = -1;

    if (s->ops == NULL || s->port == NULL)
        return;
    /* a driver may look its interface up by name while closing */
    if (s->netns != NULL && sk_netns_enter(s->netns, &saved, err, sizeof(err)) < 0)
        saved = -1;
    s->ops->close(s->port);
    s->port = NULL;
    if (sk_netns_leave(saved, err, sizeof(err)) < 0)
        sk_error("%s", err);
}

/* main lcore, concurrent mode: wait for the receiver, keep the clock. */
static void wait_receiver(struct sk_shared *sh, int progress)
{
    const struct timespec nap = {.tv_sec = 0, .tv_nsec = MAIN_WAIT_NS};
    uint64_t now;

    while (!atomic_load_explicit(&sh->rx_done, memory_order_acquire)) {
        now = sk_rdtsc();
        sk_should_stop(sh, now); /* raises stop on timeout or signal */
        if (progress)
            sk_progress_tick(sh, now);
        nanosleep(&nap, NULL);
    }
}

/* --ready: one line on stderr once the ports are up (a two-process link's
 * driver starts the other side then). */
static void say_ready(const struct sk_run_opts *o)
{
    if (!o->ready)
        return;
    fprintf(stderr, "%s\n", SK_READY_LINE);
    fflush(stderr);
}

/* --hold: the report is out (flushed); keep the ports until stdin is closed
 * or a signal comes. A memif peer that is still polling must not see the
 * link torn down under it (DPDK unmaps the shared rings on disconnect), so
 * the generator lets the receiver finish first. */
static void hold_until_released(const struct sk_run_opts *o, FILE *json)
{
    char buf[64];
    ssize_t n;

    if (!o->hold)
        return;
    fflush(json);
    fprintf(stderr, "%s\n", SK_HELD_LINE);
    fflush(stderr);
    do {
        n = read(STDIN_FILENO, buf, sizeof(buf));
    } while ((n > 0 || (n < 0 && errno == EINTR)) && !atomic_load(&sk_interrupted));
}

/* --tx-dev none: no generator here. The receiver expects `count` packets
 * and ends at once when they are all in; otherwise --drain-ms after the
 * last one, but only once traffic has started (the other process may take
 * a while to connect): until then tx_done_tsc stays in the future. Main
 * keeps the clock as in wait_receiver. */
static void receiver_only_wait(struct sk_shared *sh, int progress)
{
    const struct timespec nap = {.tv_sec = 0, .tv_nsec = MAIN_WAIT_NS};
    int started = 0;
    uint64_t now;

    while (!atomic_load_explicit(&sh->rx_done, memory_order_acquire)) {
        now = sk_rdtsc();
        sk_should_stop(sh, now);
        if (!started && atomic_load_explicit(&sh->rx.packets, memory_order_relaxed) > 0) {
            atomic_store_explicit(&sh->tx_done_tsc, now, memory_order_relaxed);
            started = 1;
        }
        if (progress)
            sk_progress_tick(sh, now);
        nanosleep(&nap, NULL);
    }
}

static void receiver_only_expect(struct sk_shared *sh, struct sk_gen_ctx *gen,
                                 uint64_t count)
{
    gen->inj.offered_seqs = count; /* lost: what of them never came */
    atomic_store_explicit(&sh->tx_final, count, memory_order_relaxed);
    atomic_store_explicit(&sh->rx_expect, count, memory_order_relaxed);
    atomic_store_explicit(&sh->tx_wire, count, memory_order_relaxed);
    atomic_store_explicit(&sh->tx_done_tsc, UINT64_MAX, memory_order_relaxed);
    atomic_store_explicit(&sh->tx_done, 1, memory_order_release);
}

int sk_cmd_run(const struct sk_run_opts *o, FILE *json)
{
    int rx_only = strcmp(o->tx_dev, SK_NO_GENERATOR) == 0;
    struct sk_side txs = {
        .ops = rx_only ? NULL : o->tx_ops, .dev = o->tx_dev, .netns = o->tx_netns,
        .dir = SK_IO_TX,
    };
    struct sk_side rxs = {
        .ops = strcmp(o->rx_dev, SK_NO_RECEIVER) == 0 ? NULL : o->rx_ops,
        .dev = o->rx_dev, .netns = o->rx_netns, .dir = SK_IO_RX,
    };
    int use_dpdk = txs.ops == &sk_io_dpdk || rxs.ops == &sk_io_dpdk;
    struct sk_env_cfg env = {
        .file_prefix = o->file_prefix,
        .extra_args = o->eal_args,
        .n_lcores = o->phased || rxs.ops == NULL ? 1 : 2,
        .verbose = o->verbose,
    };
    /* the receiver's thread: DPDK's worker lcore when EAL runs, else ours */
    int (*launch)(int (*)(void *), void *) = use_dpdk ? sk_io_dpdk.launch
                                                      : sk_io_thread_launch;
    int (*join)(void) = use_dpdk ? sk_io_dpdk.join : sk_io_thread_join;
    const struct sk_io_ops *envs[2] = {txs.ops, rxs.ops != txs.ops ? rxs.ops : NULL};
    struct sk_shared *sh = NULL;
    struct sk_truth *truth = NULL;
    struct sk_stream *stream = NULL;
    struct sk_recovery *recovery = NULL;
    struct sk_lines *lines = NULL;
    struct sk_side txb = {.ops = NULL, .dev = NULL, .netns = o->tx_netns, .dir = SK_IO_TX};
    char dev_b[SK_ERR_LEN];
    struct sk_gen_ctx gen;
    struct sk_rx_ctx rx;
    struct sk_intervals iv;
    char err[SK_ERR_LEN];
    int ret, code = SK_EXIT_INTERNAL, launched = 0, i;

    memset(&gen, 0, sizeof(gen));
    memset(&rx, 0, sizeof(rx));
    memset(&iv, 0, sizeof(iv));
    sh = aligned_alloc(SK_CACHE_LINE, sizeof(*sh));
    rx.hist = sk_hist_new();
    rx.iv = &iv;
    rx.seq = sk_seq_new(0);
    rx.flows = o->flows > 1 ? o->flows : 1;
    rx.flow_seq[0] = rx.seq;
    for (i = 1; i <= (int)rx.flows && rx.flows > 1; i++)
        if ((rx.flow_seq[i] = sk_seq_new(0)) == NULL)
            rx.seq = NULL; /* reported below, freed at out */
    if (sh == NULL || rx.hist == NULL || rx.seq == NULL || sk_intervals_init(&iv, 1) < 0) {
        sk_error("cannot allocate run state: out of memory");
        goto out;
    }
    memset(sh, 0, sizeof(*sh));
    sh->hz = sk_tsc_hz();
    iv.ticks = (uint64_t)((unsigned __int128)o->interval_ms * sh->hz / SK_MS_PER_S); /* >= 1 ms */
    rx.start_tsc = sk_rdtsc(); /* before any stamp of this run */
    sh->deadline_tsc = rx.start_tsc + (uint64_t)(o->timeout_s * (double)sh->hz);
    sh->progress_ticks = sh->hz / SK_MS_PER_S * SK_PROGRESS_INTERVAL_MS;
    sh->next_progress_tsc = o->progress ? sk_rdtsc() + sh->progress_ticks
                                        : UINT64_MAX;

    if (o->stream_path != NULL) {
        ret = sk_stream_open(o->stream_path, o->unlink_stream,
                             o->have_dst_mac ? o->dst_mac : NULL, &stream, err,
                             sizeof(err));
        if (ret < 0) {
            sk_error("%s", err);
            code = sk_exit_code_of(ret);
            goto out;
        }
        if (o->count > stream->count) {
            sk_error("--count %llu is more than the %llu frames of --stream %s",
                     (unsigned long long)o->count, (unsigned long long)stream->count,
                     o->stream_path);
            code = SK_EXIT_USAGE;
            goto out;
        }
        if (stream->live != NULL &&
            (o->n_impair > 0 || o->lines.on || o->recovery.addr != NULL)) {
            sk_error("--impair, --lines and --recovery need a prepared --stream file: %s "
                     "is made as it is sent", o->stream_path);
            code = SK_EXIT_USAGE;
            goto out;
        }
        if (o->arrivals == SK_ARRIVALS_CAPTURE && check_capture_stream(o, stream) < 0) {
            code = SK_EXIT_USAGE;
            goto out;
        }
    }
    if (o->recovery.addr != NULL) {
        ret = sk_recovery_open(&recovery, &o->recovery, stream, sh->hz, err, sizeof(err));
        if (ret == 0 && (rx.delivered = calloc(stream->messages + 1, 1)) == NULL)
            ret = -ENOMEM;
        if (ret == 0)
            ret = sk_recovery_start(recovery);
        if (ret < 0) {
            sk_error("%s", ret == -ENOMEM ? "--recovery: out of memory" : err);
            code = sk_exit_code_of(ret);
            goto out;
        }
        rx.expect_all = sk_stream_seqs(stream, o->count);
    }
    if (o->lines.on) {
        ret = sk_lines_new(&lines, &o->lines, stream);
        if (ret == 0 && (rx.delivered = calloc(stream->messages + 1, 1)) == NULL)
            ret = -ENOMEM;
        if (ret < 0) {
            sk_error("--lines ab: out of memory");
            goto out;
        }
        if (o->tx_ops->layer == SK_IO_DATAGRAMS) { /* line B: its own socket */
            const char *colon = strrchr(o->tx_dev, ':'), *rest = strchr(o->tx_dev, ',');

            snprintf(dev_b, sizeof(dev_b), "%.*s:%u%s",
                     (int)(colon != NULL ? colon - o->tx_dev : 0), o->tx_dev,
                     o->lines.port_b, rest != NULL ? rest : "");
            txb.ops = o->tx_ops;
            txb.dev = dev_b;
        }
    }
    if (o->truth_path != NULL) {
        ret = sk_truth_open(&truth, o->truth_path, o->impair, o->n_impair,
                            o->impair_seed, err, sizeof(err));
        if (ret < 0) {
            sk_error("%s", err);
            code = sk_exit_code_of(ret);
            goto out;
        }
    }
    for (i = 0; i < 2; i++) {
        if (envs[i] == NULL)
            continue;
        ret = envs[i]->env_init(&env, err, sizeof(err));
        if (ret < 0) {
            sk_error("%s", err);
            code = sk_exit_code_of(ret);
            goto out;
        }
    }
    /* rx first: a kernel receiver must be bound before the first datagram */
    ret = rxs.ops != NULL && !o->phased ? side_open(&rxs, o->burst, err, sizeof(err)) : 0;
    if (ret == 0 && !rx_only)
        ret = side_open(&txs, o->burst, err, sizeof(err));
    if (ret == 0 && txb.ops != NULL) {
        ret = side_open(&txb, o->burst, err, sizeof(err));
        sk_lines_set_port_b(lines, txb.port);
    }
    if (ret < 0) {
        sk_error("%s", err);
        code = sk_exit_code_of(ret);
        goto out;
    }

    gen = (struct sk_gen_ctx){
        .ops = txs.ops, .port = txs.port, .sh = sh, .count = o->count,
        .burst = o->burst, .seed = o->seed,
        .udp_checksum = o->udp_checksum, .progress = o->progress,
        .impair = o->impair, .n_impair = o->n_impair,
        .impair_seed = o->impair_seed, .truth = truth, .stream = stream,
        .pacing = {
            .arrivals = o->arrivals, .pps = o->rate_pps, .seed = o->seed,
            .t_ns = stream != NULL ? stream->t_ns : NULL, .n = o->count, .speed = o->speed,
            .steps = o->steps, .n_steps = o->n_steps,
            .bin_ns = o->interval_ms * 1000000ULL,
        },
        .duration_s = o->duration_s,
        .flows = rx.flows,
        .recovery = recovery,
        .lines = lines,
    };
    sk_seed_fields_default(&gen.fields);
    gen.fields.key_seed = o->seed;
    sk_seed_key_init(&gen.key, o->seed);
    rx.key = gen.key;
    /* packet i of flow f carries sequence i / flows */
    rx.seq_limit = o->count / rx.flows + (o->count % rx.flows != 0);
    rx.skew_ticks = (uint64_t)((unsigned __int128)SK_TSC_SKEW_NS * sh->hz / 1000000000ULL);
    if (o->have_dst_mac)
        memcpy(gen.fields.dst_mac, o->dst_mac, sizeof(gen.fields.dst_mac));
    rx.ops = rxs.ops;
    rx.sh = sh;
    rx.burst = o->burst;
    rx.drain_ticks = o->drain_ms * (sh->hz / SK_MS_PER_S);
    rx.progress = o->phased ? o->progress : 0;
    rx.datagrams = rxs.ops != NULL && rxs.ops->layer == SK_IO_DATAGRAMS;
    rx.stream = stream;
    rx.flow_base = gen.fields.src_port;

    if (!o->phased && rxs.ops != NULL) {
        rx.port = rxs.port;
        ret = launch(sk_receiver_main, &rx);
        if (ret < 0) {
            sk_error("cannot start the receiver on the worker core: %s: "
                     "the machine needs 2 cores", strerror(-ret));
            goto out;
        }
        launched = 1;
    }
    say_ready(o);
    if (rx_only) {
        receiver_only_expect(sh, &gen, o->count);
        receiver_only_wait(sh, o->progress);
        join();
        launched = 0;
        goto report;
    }
    ret = gen.lines != NULL ? sk_generator_run_lines(&gen)
          : gen.n_impair > 0 ? sk_generator_run_impaired(&gen) : sk_generator_run(&gen);
    if (ret < 0) {
        if (ret == -ENOMEM)
            sk_error("generator failed: out of memory for the impairments' "
                     "staging slots or ground truth: use a smaller reorder gap "
                     "or --count");
        else
            sk_error("generator failed: %s: this is a bug, please report it",
                     strerror(-ret));
        atomic_store(&sh->stop, 1);
        goto out;
    }

    if (rxs.ops == NULL) {
        atomic_store(&sh->rx_done, 1);
    } else if (!o->phased) {
        wait_receiver(sh, o->progress);
        join();
        launched = 0;
    } else {
        /* close tx first: flushes e.g. a tx_pcap file that rx then reads */
        side_close(&txs);
        if (atomic_load(&sh->stop))
            goto report; /* interrupted or timed out: no receive phase */
        ret = side_open(&rxs, o->burst, err, sizeof(err));
        if (ret < 0) {
            sk_error("%s", err);
            code = sk_exit_code_of(ret);
            goto out;
        }
        rx.port = rxs.port;
        sk_receiver_run(&rx);
    }

report:
    sk_recovery_stop(recovery); /* the receiver is done: no more answers */
    if (truth != NULL) {
        ret = sk_truth_finish(truth, &gen.imp_stats, &gen.inj, err, sizeof(err));
        truth = NULL;
        if (ret < 0) {
            sk_error("%s", err);
            goto out;
        }
    }
    emit_report(json, sh, &rx, &txs, &rxs, &gen, atomic_load(&sk_interrupted) != 0);
    code = atomic_load(&sk_interrupted) ? SK_EXIT_INTERRUPTED : SK_EXIT_OK;
    hold_until_released(o, json);
out:
    if (launched) {
        atomic_store(&sh->stop, 1);
        join();
    }
    side_close(&txs);
    side_close(&txb);
    side_close(&rxs);
    for (i = 1; i >= 0; i--) /* always safe, also after a failed init */
        if (envs[i] != NULL)
            envs[i]->env_cleanup();
    sk_truth_free(truth);
    sk_recovery_free(recovery);
    sk_lines_free(lines);
    free(rx.delivered);
    sk_stream_close(stream);
    sk_seq_free(rx.flow_seq[0]);
    for (i = 1; i <= SK_MAX_FLOWS; i++)
        sk_seq_free(rx.flow_seq[i]);
    sk_hist_free(rx.hist);
    sk_intervals_free(&iv);
    sk_pace_report_free(&gen.pace);
    free(sh);
    return code;
}
