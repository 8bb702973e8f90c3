/*
 * engine.h - what the parts of simkit-engine share: run options, the state
 * both workers see (stop flag, deadline, per-core stats), the worker
 * contexts, and the JSON emitter.
 */
#ifndef SK_ENGINE_H
#define SK_ENGINE_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "simkit.h"
#include "../io/io.h"

#define SK_ENGINE_NAME "simkit-engine"
#define SK_ERR_LEN 512
#define SK_DEFAULT_BURST 32
#define SK_DEFAULT_SEED 1
#define SK_DEFAULT_DRAIN_MS 200
#define SK_DEFAULT_TIMEOUT_S 60.0
#define SK_MAX_COUNT (1ULL << 48)
#define SK_PROGRESS_INTERVAL_MS 500
#define SK_MS_PER_S 1000

/* Exit codes of the engine (and of simkit as a whole). */
#define SK_EXIT_OK 0
#define SK_EXIT_INTERNAL 1
#define SK_EXIT_USAGE 2
#define SK_EXIT_UNAVAILABLE 77
#define SK_EXIT_INTERRUPTED 130

#define SK_NO_RECEIVER "none" /* --rx-dev none: a generator-only run */

struct sk_run_opts {
    const char *file_prefix;
    const char *tx_dev;
    const char *rx_dev;
    const struct sk_io_ops *tx_ops;  /* --tx-backend (default dpdk) */
    const struct sk_io_ops *rx_ops;
    const char *tx_netns;            /* open that side inside this netns */
    const char *rx_netns;
    uint8_t dst_mac[6];              /* --dst-mac (frames only) */
    int have_dst_mac;
    const char *eal_args;
    uint64_t count;
    uint64_t rate_pps;     /* 0: as fast as possible */
    unsigned burst;
    uint64_t seed;
    int udp_checksum;
    int phased;
    int progress;
    int verbose;
    uint64_t drain_ms;
    double timeout_s;
};

/* Per-core counters: one cache line (or more) each, written by one core;
 * packets is also read by the progress printer, hence atomic. */
struct sk_core_stats {
    _Atomic uint64_t packets;
    uint64_t bytes;
    uint64_t first_tsc;
    uint64_t last_tsc;
    double cpu_s;
    uint64_t ctx_switches;
} __attribute__((aligned(64)));

/* State shared by the generator, the receiver and main. */
struct sk_shared {
    atomic_int stop;          /* signal, timeout or error: finish now */
    atomic_int timed_out;
    atomic_int tx_done;       /* generator finished; tx_final is valid */
    _Atomic uint64_t tx_final;
    _Atomic uint64_t tx_done_tsc;
    atomic_int rx_done;
    uint64_t hz;
    uint64_t deadline_tsc;
    uint64_t progress_ticks;
    uint64_t next_progress_tsc;
    struct sk_core_stats tx;
    struct sk_core_stats rx;
};

/* Set by SIGINT/SIGTERM (main.c). */
extern atomic_int sk_interrupted;

struct sk_gen_ctx {
    const struct sk_io_ops *ops;
    struct sk_port *port;
    struct sk_shared *sh;
    struct sk_seed_fields fields;  /* frame template (FRAMES backends) */
    uint64_t count;
    uint64_t rate_pps;
    unsigned burst;
    uint64_t seed;
    int udp_checksum;
    int progress;          /* this core prints progress lines */
};

struct sk_rx_ctx {
    const struct sk_io_ops *ops;
    struct sk_port *port;
    struct sk_shared *sh;
    unsigned burst;
    uint64_t drain_ticks;
    int progress;
    int datagrams;         /* ops->layer == SK_IO_DATAGRAMS: payload parse */
    struct sk_hist *hist;
    struct sk_seq *seq;
    uint64_t malformed[SK_MALFORMED_REASON_COUNT + 1];
};

/* generator.c / receiver.c: the two poll loops (0 or -errno). */
int sk_generator_run(struct sk_gen_ctx *c);
int sk_receiver_run(struct sk_rx_ctx *c);
/* receiver.c: entry point for io launch(). */
int sk_receiver_main(void *arg);

/* payload.c: the 32-byte seed payload for datagram backends. parse returns
 * SK_PARSE_OK (timestamp, seq, fields and payload_len set) or
 * SK_MALFORMED_PAYLOAD_SHORT. */
void sk_payload_write(uint8_t *p, const struct sk_md_msg *m, uint64_t seq);
int sk_payload_parse(const uint8_t *p, size_t len, struct sk_seed_view *out);

/* netns.c: enter /var/run/netns/NAME (saved: the thread's namespace, to
 * leave back to). 0 or -EINVAL (no such namespace) / -ENODEV (no
 * privilege), with the reason in err. */
int sk_netns_enter(const char *name, int *saved, char *err, size_t errlen);
int sk_netns_leave(int saved, char *err, size_t errlen);

/* run.c: shared helpers for the loops. */
int sk_should_stop(struct sk_shared *sh, uint64_t now);
void sk_progress_tick(struct sk_shared *sh, uint64_t now);
void sk_thread_usage(double *cpu_s, uint64_t *ctx_switches);

/* run.c / probe.c: the subcommands; return an SK_EXIT_* code and print
 * their one-line error themselves. */
int sk_cmd_run(const struct sk_run_opts *o, FILE *json);
int sk_cmd_probe(const char *file_prefix, int verbose, FILE *json);

/* main.c: one line "simkit-engine: <msg>" on stderr. */
void sk_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int sk_exit_code_of(int neg_errno);

/* report_json.c: a tiny streaming JSON writer (keys NULL inside arrays). */
#define SK_JSON_MAX_DEPTH 16

struct sk_json {
    FILE *f;
    int depth;
    int count[SK_JSON_MAX_DEPTH]; /* members written at each depth */
};

void sk_json_init(struct sk_json *j, FILE *f);
void sk_json_begin_object(struct sk_json *j, const char *key);
void sk_json_end_object(struct sk_json *j);
void sk_json_begin_array(struct sk_json *j, const char *key);
void sk_json_end_array(struct sk_json *j);
void sk_json_uint(struct sk_json *j, const char *key, uint64_t v);
void sk_json_double(struct sk_json *j, const char *key, double v);
void sk_json_bool(struct sk_json *j, const char *key, int v);
void sk_json_string(struct sk_json *j, const char *key, const char *s);
void sk_json_finish(struct sk_json *j);

#endif /* SK_ENGINE_H */
