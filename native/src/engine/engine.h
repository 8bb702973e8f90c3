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
#include "pace.h"

#define SK_ENGINE_NAME "simkit-engine"
#define SK_ERR_LEN 512
#define SK_DEFAULT_BURST 32
#define SK_DEFAULT_SEED 1
#define SK_DEFAULT_DRAIN_MS 200
#define SK_DEFAULT_TIMEOUT_S 60.0
#define SK_MAX_COUNT (1ULL << 48)
#define SK_PROGRESS_INTERVAL_MS 500
#define SK_MS_PER_S 1000
#define SK_MAX_FLOWS 64   /* --flows: UDP source ports (and sequence spaces) */

/* Exit codes of the engine (and of simkit as a whole). */
#define SK_EXIT_OK 0
#define SK_EXIT_INTERNAL 1
#define SK_EXIT_USAGE 2
#define SK_EXIT_UNAVAILABLE 77
#define SK_EXIT_INTERRUPTED 130

#define SK_NO_RECEIVER "none" /* --rx-dev none: a generator-only run */
#define SK_NO_GENERATOR "none" /* --tx-dev none: a receiver-only run (two-process links) */
#define SK_READY_LINE "ready"  /* --ready: on stderr once the ports are up */
#define SK_HELD_LINE "held"    /* --hold: on stderr once the report is out */

/* MoldUDP64 (mold.c, stream.c) */
#define SK_MOLD_HEADER_LEN 20
#define SK_MOLD_SESSION_LEN 10
#define SK_MOLD_END_OF_SESSION 0xFFFF
/* The receiver's reasons after the seed parser's 1..SK_MALFORMED_REASON_COUNT,
 * named as simkit.packets.moldudp64.parse names them. */
#define SK_MOLD_SHORT_HEADER (SK_MALFORMED_REASON_COUNT + 1)
#define SK_MOLD_BAD_SESSION (SK_MALFORMED_REASON_COUNT + 2)
#define SK_MOLD_BLOCK_OVERRUN (SK_MALFORMED_REASON_COUNT + 3)
#define SK_MOLD_COUNT_MISMATCH (SK_MALFORMED_REASON_COUNT + 4)
#define SK_MOLD_END_OF_SESSION_WITH_DATA (SK_MALFORMED_REASON_COUNT + 5)
#define SK_MOLD_REASON_COUNT 5
#define SK_RX_REASON_COUNT (SK_MALFORMED_REASON_COUNT + SK_MOLD_REASON_COUNT)
#define SK_STREAM_MAX_FRAME 2048 /* a backend buffer (mbuf data room, UDP buffer) */

struct sk_mold_view {
    uint64_t seq;    /* of the first message; the next one for count 0 / 0xFFFF */
    uint16_t count;  /* 0 heartbeat, 0xFFFF end of session */
    const uint8_t *payload; /* the MoldUDP64 datagram (sk_mold_classify) ... */
    size_t len;             /* ... and its length */
};

/* Why a message that parsed was garbled (never delivered, never a latency
 * sample): its check failed (seed: the trailer's keyed check; itch: its
 * bytes differ from the stream's message of that sequence), its sequence
 * was never offered, or its timestamp is impossible (seed: before the run
 * started or after the receiver's clock; itch: the generator never sent
 * that sequence). */
#define SK_GARBLED_CHECK 1
#define SK_GARBLED_SEQUENCE 2
#define SK_GARBLED_TIMESTAMP 3
#define SK_GARBLED_REASON_COUNT 3
#define SK_GARBLED_SAMPLES 8 /* the first garbled messages, kept for the report */
/* A seed timestamp may lead the receiver's clock by this much (TSCs of two
 * cores) before it counts as impossible. */
#define SK_TSC_SKEW_NS 1000000

#define SK_STREAM_TIMED 1ULL /* header flags bit 0: records carry t_ns */

/* A prepared stream (stream.c): frames mapped from --stream PATH, each
 * datagram's first message index (MoldUDP64 seq - first_seq) and count, and
 * the generator's send TSC per message (written before the frame is sent,
 * read by the receiver after it arrived: the link orders the two). A timed
 * stream also has each frame's departure offset from the first (a capture's
 * timing: --arrivals capture). */
struct sk_stream {
    uint8_t *map;
    size_t map_len;
    uint64_t count;          /* datagrams */
    uint64_t flags;          /* SK_STREAM_TIMED */
    uint64_t *t_ns;          /* [count], timed only (NULL otherwise): 0, non-decreasing */
    const uint8_t **frames;
    uint32_t *lens;
    uint64_t *msg_index;
    uint32_t *msg_count;     /* 0 for heartbeats and the end of session */
    uint64_t first_seq;
    uint64_t messages;
    uint32_t max_len;
    uint32_t payload_off;
    uint64_t *send_tsc;      /* [messages] */
    /* a live stream (live.c, --stream market:...): the arrays above are a
     * ring of datagrams, indexed idx & mask (UINT64_MAX for a file) */
    uint64_t mask;
    struct sk_live *live;
    void *ring_frames;
};

/* Where the last stored message looked up was (sequential lookups walk on). */
struct sk_stream_cursor {
    uint64_t datagram;       /* index of the datagram holding seq */
    uint64_t seq;            /* 0-based message sequence at `at` */
    size_t at;               /* its block's offset in the datagram's payload */
    int valid;
};

/* --recovery (recovery.c): the MoldUDP64 re-request server */
struct sk_recovery_cfg {
    const char *addr;        /* udp:A.B.C.D:PORT to bind */
    const char *netns;       /* ... inside this namespace (NULL: ours) */
    uint32_t max_messages;   /* per answer (0: what fits a datagram) */
    double rate_rps;         /* requests answered per second (0: no limit) */
    uint8_t peer_mac[6];     /* answers leave as frames to this MAC (no neighbour ... */
    int have_peer_mac;       /* ... entry needed: a DPDK DUT answers no ARP) */
};

/* --lines ab (lines.c): the stream twice, on lines A and B */
struct sk_lines_cfg {
    int on;
    uint16_t port_b;         /* line B's UDP destination port */
    int64_t skew_ns;         /* >= 0: B leaves this long after A; < 0: A after B */
    struct sk_impair_model impair_b[SK_IMPAIR_MAX_MODELS]; /* --impair-b (A: --impair) */
    uint32_t n_impair_b;
};

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
    struct sk_impair_model impair[SK_IMPAIR_MAX_MODELS]; /* --impair, validated */
    uint32_t n_impair;
    uint64_t impair_seed;  /* --impair-seed (default: --seed) */
    int have_impair_seed;
    const char *truth_path; /* --truth: ground truth as JSONL */
    const char *stream_path; /* --stream: send these frames (MoldUDP64) */
    int unlink_stream;       /* --unlink-stream: remove it once mapped */
    /* pacing (pace.c) */
    enum sk_arrivals arrivals; /* --arrivals constant|poisson (with --rate) | capture */
    double speed;            /* --speed: a capture's timing multiplier (0: not given) */
    double duration_s;       /* --duration: send this long (0: --count decides) */
    const char *profile_path; /* --profile: a rate profile's steps (profile.c) */
    struct sk_pace_step *steps; /* loaded from it (main.c frees them) */
    uint64_t n_steps;
    /* two-process links (memif): one side per engine process */
    int ready;               /* --ready: print SK_READY_LINE on stderr once up */
    int hold;                /* --hold: keep the ports until stdin closes */
    /* flows (generator.c, receiver.c) */
    unsigned flows;          /* --flows N: source ports base..base+N-1 (1: one) */
    uint64_t interval_ms;    /* --interval-ms: the receiver's interval record */
    /* io_uring (main.c turns them into send_zc=1 / sqpoll=1 in the io_uring
     * sides' device specs, which uring.c reads) */
    int send_zc;             /* --send-zc: the generator sends with SEND_ZC */
    int sqpoll;              /* --sqpoll: rings with IORING_SETUP_SQPOLL */
    const char *uring_mode;  /* --uring-mode poll|wait: the receiver's (NULL: wait) */
    const char *uring_batch_us; /* --uring-batch-us N: its batch timeout (NULL: default) */
    /* --recovery udp:A.B.C.D:PORT (recovery.c): the re-request server */
    struct sk_recovery_cfg recovery; /* addr NULL: none */
    struct sk_lines_cfg lines;       /* --lines ab */
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
    double wall_s;    /* the loop's wall time: the window of cpu_s and ctx_switches */
} __attribute__((aligned(64)));

/* What the impairments did (generator side), for the report. malformed:
 * packets the impairments made malformed as the receiver's parser sees them
 * (each duplicate copy of such a packet is one more malformed frame). */
struct sk_inject_stats {
    uint64_t dropped;
    uint64_t duplicated;
    uint64_t reordered;
    uint64_t corrupted;
    uint64_t truncated;
    uint64_t delayed;
    uint64_t malformed;
    uint64_t malformed_frames;
    uint64_t garbled;         /* messages the receiver will find garbled (copies included) */
    uint64_t malform_applied; /* packets the malform model damaged (valid kinds too) */
    uint64_t wire_packets;  /* frames put on the link: offered - dropped + duplicated */
    /* in sequence numbers (messages for a stream, packets for seed) */
    uint64_t offered_seqs;
    uint64_t dropped_seqs;
    uint64_t malformed_seqs;
    uint64_t garbled_seqs;    /* damaged so that the receiver finds them garbled */
    uint64_t duplicated_seqs; /* in duplicates that arrive intact */
};

/* State shared by the generator, the receiver and main. */
struct sk_shared {
    atomic_int stop;          /* signal, timeout or error: finish now */
    atomic_int timed_out;
    atomic_int tx_done;       /* generator finished; tx_final is valid */
    _Atomic uint64_t tx_final;    /* packets offered */
    _Atomic uint64_t rx_expect;   /* intact unique seqs the receiver can get */
    _Atomic uint64_t tx_wire;     /* frames put on the link */
    _Atomic uint64_t tx_done_tsc;
    atomic_int rx_done;
    uint64_t hz;
    uint64_t deadline_tsc;
    uint64_t progress_ticks;
    uint64_t next_progress_tsc;
    struct sk_core_stats tx;
    struct sk_core_stats rx;
};

/* Set by main.c's SIGINT/SIGTERM handler (defined in loop.c). */
extern atomic_int sk_interrupted;

struct sk_truth;
struct sk_intervals;

struct sk_gen_ctx {
    const struct sk_io_ops *ops;
    struct sk_port *port;
    struct sk_shared *sh;
    struct sk_seed_fields fields;  /* frame template (FRAMES backends) */
    struct sk_seed_key key;        /* the trailer's check (from the seed) */
    uint64_t count;
    unsigned burst;
    uint64_t seed;
    int udp_checksum;
    int progress;          /* this core prints progress lines */
    const struct sk_impair_model *impair; /* n_impair > 0: the impaired path */
    uint32_t n_impair;
    uint64_t impair_seed;
    struct sk_truth *truth;   /* record the ground truth (NULL: no) */
    struct sk_stream *stream; /* send this stream (NULL: seed frames) */
    struct sk_inject_stats inj; /* out: what the impairments did */
    struct sk_impair_stats imp_stats; /* out: the impairer's own counters */
    struct sk_pace_cfg pacing; /* rate and arrivals, or the stream's timing */
    double duration_s;        /* 0: count decides */
    struct sk_pace_report pace; /* out: how well the rate was kept */
    unsigned flows;           /* packet i: flow i % flows, its seq i / flows */
    struct sk_recovery *recovery; /* --recovery: told what the impairments kept back */
    struct sk_lines *lines;       /* --lines ab: the A/B loop (lines.c) */
};

struct sk_rx_ctx {
    const struct sk_io_ops *ops;
    struct sk_port *port;
    struct sk_shared *sh;
    unsigned burst;
    uint64_t drain_ticks;
    int progress;
    int datagrams;         /* ops->layer == SK_IO_DATAGRAMS: payload parse */
    struct sk_hist *hist;  /* the run's latencies: whole once the receiver is done */
    struct sk_intervals *iv; /* the open interval's histogram is recorded into */
    struct sk_seq *seq;    /* flows == 1: the one tracker (flow_seq[0]) */
    unsigned flows;        /* > 1: a tracker per UDP source port flow_base.. */
    uint16_t flow_base;    /* the generator's first source port */
    struct sk_seq *flow_seq[SK_MAX_FLOWS + 1]; /* [flows]: any other port */
    struct sk_stream *stream; /* MoldUDP64 accounting by message sequence */
    struct sk_stream_cursor cursor;
    uint8_t *delivered;       /* --recovery: [messages], 1 once received intact */
    uint64_t expect_all;      /* --recovery: wait for every offered message (0: rx_expect) */
    struct sk_seed_key key;   /* seed: the check the generator wrote */
    uint64_t seq_limit;       /* seed: sequences offered per flow are below it */
    uint64_t start_tsc;       /* seed: no stamp of this run is older */
    uint64_t skew_ticks;      /* SK_TSC_SKEW_NS in ticks */
    uint64_t heartbeats;
    uint64_t end_of_session;
    uint64_t malformed[SK_RX_REASON_COUNT + 1];
    uint64_t garbled[SK_GARBLED_REASON_COUNT + 1]; /* messages, by reason */
    struct {
        uint64_t seq;         /* as read (a garbled one may be anything) */
        int reason;
    } garbled_first[SK_GARBLED_SAMPLES];
};

/* generator.c: the clean sending loop; impaired.c: the loop when
 * impairments are configured (n_impair > 0); receiver.c: the receiving loop.
 * Each returns 0 or -errno. */
int sk_generator_run(struct sk_gen_ctx *c);
int sk_generator_run_impaired(struct sk_gen_ctx *c);
int sk_receiver_run(struct sk_rx_ctx *c);
/* Unique sequence numbers received, over every flow's tracker. */
uint64_t sk_rx_unique(const struct sk_rx_ctx *c);
/* receiver.c: entry point for io launch(). */
int sk_receiver_main(void *arg);

/* loop.c: what the loops share (below them). */
int sk_should_stop(struct sk_shared *sh, uint64_t now);
void sk_progress_tick(struct sk_shared *sh, uint64_t now);
void sk_thread_usage(double *cpu_s, uint64_t *ctx_switches);
/* Sequence numbers in the first `datagrams` packets: messages of a stream,
 * or the packets themselves for seed (s NULL). */
uint64_t sk_stream_seqs(const struct sk_stream *s, uint64_t datagrams);
/* Mark the generator finished: offered, expected intact uniques, frames. */
void sk_generator_done(struct sk_shared *sh, uint64_t offered, uint64_t expect,
                       uint64_t wire);

/* The frame both generator loops open and close the same way: the seed
 * template and message draws, the pacer, the CPU/wall measurement window. */
struct sk_gen_run {
    uint8_t tmpl[SK_SEED_FRAME_LEN];
    struct sk_rng rng;
    struct sk_pacer pace;
    uint64_t start;          /* TSC the loop starts at */
    uint64_t end;            /* --duration's end (UINT64_MAX: none) */
    uint64_t wall0;
    double cpu0;
    uint64_t cs0;
    int measuring;           /* the window is open: sk_gen_end closes it */
};
/* Build the template, seed the draws, open the window, start the pacer.
 * 0 or -errno (the caller still calls sk_gen_end). */
int sk_gen_begin(struct sk_gen_ctx *c, struct sk_gen_run *g);
/* Close the window (the side's stats, with bytes sent), report the pacing,
 * and mark the generator done (sk_generator_done's counts). */
void sk_gen_end(struct sk_gen_ctx *c, struct sk_gen_run *g, uint64_t bytes,
                uint64_t offered, uint64_t expect, uint64_t wire);

/* payload.c: the 36-byte seed payload for datagram backends. parse returns
 * SK_PARSE_OK (timestamp, seq, check, fields and payload_len set) or
 * SK_MALFORMED_PAYLOAD_SHORT. */
void sk_payload_write(uint8_t *p, const struct sk_md_msg *m, uint64_t seq,
                      const struct sk_seed_key *key);
int sk_payload_parse(const uint8_t *p, size_t len, struct sk_seed_view *out);

/* stream.c / mold.c */
int sk_stream_open(const char *path, int unlink_after, const uint8_t *dst_mac,
                   struct sk_stream **out, char *err, size_t errlen);
void sk_stream_close(struct sk_stream *s);
/* A frame (is_payload 0) or UDP payload as MoldUDP64: SK_PARSE_OK with *out,
 * or a reason 1..SK_RX_REASON_COUNT. */
int sk_mold_classify(const uint8_t *data, size_t len, int is_payload,
                     struct sk_mold_view *out);
int sk_mold_parse(const uint8_t *p, size_t len, struct sk_mold_view *out);
/* The j-th message block of a datagram sk_mold_parse accepted: *at walks
 * from SK_MOLD_HEADER_LEN; returns the message and its length in *len. */
const uint8_t *sk_mold_next_message(const uint8_t *payload, size_t *at, uint16_t *len);
/* A message of a well-formed datagram against the stream: 0 when its bytes
 * are the stream's message of 0-based sequence seq, SK_GARBLED_SEQUENCE when
 * the stream has no such sequence, SK_GARBLED_CHECK when they differ. */
/* live.c: a market stream generated as it is sent (--stream market:SEED:COUNT:CSUM) */
int sk_stream_is_live(const char *path);
int sk_stream_live_open(const char *path, const uint8_t *dst_mac, struct sk_stream **out,
                        char *err, size_t errlen);
void sk_stream_live_close(struct sk_stream *s);
/* make the datagrams before index upto (the generator, before it sends them) */
void sk_stream_live_fill(struct sk_stream *s, uint64_t upto);
void sk_stream_live_sent(struct sk_stream *s, uint64_t seq, uint64_t tsc);
/* messages handed to the link so far (before they go) */
void sk_stream_live_offer(struct sk_stream *s, uint64_t messages);
uint64_t sk_stream_live_sent_tsc(const struct sk_stream *s, uint64_t seq);
int sk_stream_live_verify(const struct sk_stream *s, uint64_t seq, const uint8_t *msg,
                          uint16_t len);

/* The generator's send time of message seq (0: never sent). */
static inline uint64_t sk_stream_sent_tsc(const struct sk_stream *s, uint64_t seq)
{
    return s->live != NULL ? sk_stream_live_sent_tsc(s, seq) : s->send_tsc[seq];
}

int sk_stream_verify(const struct sk_stream *s, struct sk_stream_cursor *cur,
                     uint64_t seq, const uint8_t *msg, uint16_t len);
/* Garbled messages of one datagram (frame, or UDP payload if is_payload)
 * against the stream, or -1 when it does not parse as MoldUDP64. */
int64_t sk_stream_garbled(const struct sk_stream *s, const uint8_t *data,
                          size_t len, int is_payload);
/* The stored message of 0-based sequence seq and its length, or NULL (no
 * such sequence, or the stream's datagram is broken there). */
const uint8_t *sk_stream_message(const struct sk_stream *s, struct sk_stream_cursor *cur,
                                 uint64_t seq, uint16_t *len);
const char *sk_rx_reason_name(int reason);
/* "check", "sequence", "timestamp" for SK_GARBLED_*; NULL otherwise. */
const char *sk_garbled_reason_name(int reason);
uint64_t sk_get_be64(const uint8_t *p);

/* truth.c: the ground truth JSONL (the format simkit.impair writes). */
struct sk_truth;
/* 0 or -EINVAL (cannot write path) with the reason in err. */
int sk_truth_open(struct sk_truth **out, const char *path,
                  const struct sk_impair_model *models, uint32_t n,
                  uint64_t seed, char *err, size_t errlen);
/* Record what happened to one packet (dropped, or the first copy sent). */
int sk_truth_add(struct sk_truth *t, const struct sk_impair_out *o);
/* Sort, write summary + packets, rename into place; frees t. */
int sk_truth_finish(struct sk_truth *t, const struct sk_impair_stats *st,
                    const struct sk_inject_stats *inj, char *err, size_t errlen);
void sk_truth_free(struct sk_truth *t);
/* "drop:p=0.01" as simkit.impair's Model.spec() writes it. */
int sk_impair_spec(const struct sk_impair_model *m, char *buf, size_t cap);

/* recovery.c: the MoldUDP64 re-request server (--recovery), a thread of
 * the engine answering from the stream; see recovery.c. */
struct sk_recovery;
struct sk_json;
int sk_recovery_open(struct sk_recovery **out, const struct sk_recovery_cfg *cfg,
                     const struct sk_stream *s, uint64_t hz, char *err, size_t errlen);
int sk_recovery_start(struct sk_recovery *r);
/* The generator: datagram's messages never reach the DUT intact (ground truth). */
void sk_recovery_note_impaired(struct sk_recovery *r, uint64_t datagram);
void sk_recovery_stop(struct sk_recovery *r);
void sk_recovery_free(struct sk_recovery *r);
/* The report's "recovery" object; delivered[m]: the receiver got message m
 * intact (NULL: nothing received); over the first `datagrams` datagrams. */
void sk_recovery_emit(struct sk_json *j, const struct sk_recovery *r,
                      const uint8_t *delivered, uint64_t datagrams);

/* lines.c: --lines ab */
struct sk_lines;
int sk_lines_new(struct sk_lines **out, const struct sk_lines_cfg *cfg,
                 const struct sk_stream *s);
/* Datagram backends: line B's own socket (frames: the port is rewritten). */
void sk_lines_set_port_b(struct sk_lines *l, struct sk_port *port);
void sk_lines_free(struct sk_lines *l);
/* The generator loop of an A/B run (c->lines set): 0 or -errno. */
int sk_generator_run_lines(struct sk_gen_ctx *c);
/* The report's "lines": per line, and the messages only one line carried. */
void sk_lines_emit(struct sk_json *j, const struct sk_lines *l, const uint8_t *delivered,
                   uint64_t offered);

/* netns.c: enter /var/run/netns/NAME (saved: the thread's namespace, to
 * leave back to). 0 or -EINVAL (no such namespace) / -ENODEV (no
 * privilege), with the reason in err. */
int sk_netns_enter(const char *name, int *saved, char *err, size_t errlen);
int sk_netns_leave(int saved, char *err, size_t errlen);


/* run.c / probe.c: the subcommands; return an SK_EXIT_* code and print
 * their one-line error themselves. */
int sk_cmd_run(const struct sk_run_opts *o, FILE *json);
/* --profile PATH: its steps (malloc'd), or -EINVAL/-ENOMEM having said why. */
int sk_profile_load(const char *path, struct sk_pace_step **steps, uint64_t *n);
int sk_cmd_probe(const char *file_prefix, int verbose, FILE *json);

/* error.c: one line "simkit-engine: <msg>" on stderr; the exit code of a
 * negative errno. */
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
