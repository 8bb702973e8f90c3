/*
 * simkit.h - the one boundary header of simkit's native core.
 *
 * Python sees exactly this file through cffi (native/cffi_build.py strips the
 * preprocessor lines but keeps the integer SK_ constants), so it holds only
 * what cffi's cdef parser accepts: integer #defines, plain structs of
 * stdint/stddef types, opaque struct declarations and function prototypes.
 * No function-like macros, no inline functions, no bitfields, no enums.
 *
 * Conventions: every exported name starts with sk_ / SK_; functions that can
 * fail return 0 (or a length) on success and a negative errno on failure.
 */
#ifndef SIMKIT_H
#define SIMKIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- seed wire format ------------------------------------------------- */

#define SK_ETH_HDR_LEN 14
#define SK_VLAN_TAG_LEN 4
#define SK_VLAN_MAX_TAGS 2
#define SK_IPV4_HDR_LEN 20
#define SK_UDP_HDR_LEN 8
#define SK_MD_MSG_LEN 24
#define SK_TRAILER_LEN 8
#define SK_SEED_PAYLOAD_LEN 32
#define SK_SEED_FRAME_LEN 74

/* Offsets inside an untagged seed frame built by sk_seed_build(). */
#define SK_SEED_PAYLOAD_OFFSET 42
#define SK_SEED_OFF_TIMESTAMP 42
#define SK_SEED_OFF_SYMBOL_ID 50
#define SK_SEED_OFF_PRICE 54
#define SK_SEED_OFF_SIZE 62
#define SK_SEED_OFF_SEQ 66

/* Defaults of struct sk_seed_fields (IPs in host byte order). */
#define SK_DEFAULT_SRC_IP 3323068417
#define SK_DEFAULT_DST_IP 3323068418
#define SK_DEFAULT_SRC_PORT 10000
#define SK_DEFAULT_DST_PORT 20000
#define SK_DEFAULT_TTL 64

/* Deterministic field ranges (see sk_md_random). */
#define SK_MD_SYMBOL_MIN 1
#define SK_MD_SYMBOL_MAX 1000
#define SK_MD_PRICE_TICKS_MIN 100
#define SK_MD_PRICE_TICKS_END 100000
#define SK_MD_SIZE_MIN 1
#define SK_MD_SIZE_MAX 10000

/* The reference design's MarketDataMsg (24 bytes packed on the wire). */
struct sk_md_msg {
    uint64_t timestamp;
    uint32_t symbol_id;
    double price;
    uint32_t size;
};

/* Everything that goes into one seed frame. */
struct sk_seed_fields {
    uint8_t src_mac[6];
    uint8_t dst_mac[6];
    uint32_t src_ip;        /* host byte order: 198.18.0.1 == 0xC6120001 */
    uint32_t dst_ip;
    uint16_t src_port;
    uint16_t dst_port;
    uint16_t ip_id;
    uint8_t ttl;
    uint8_t udp_checksum;   /* 0: checksum field 0 (legal for IPv4); 1: computed */
    uint64_t timestamp;
    uint32_t symbol_id;
    uint32_t size;
    double price;
    uint64_t seq;           /* the simkit trailer */
};

/* Result of a successful sk_seed_parse(). */
struct sk_seed_view {
    uint64_t timestamp;
    uint64_t seq;
    double price;
    uint32_t symbol_id;
    uint32_t size;
    uint32_t src_ip;        /* host byte order */
    uint32_t dst_ip;
    uint16_t src_port;
    uint16_t dst_port;
    uint16_t vlan_count;
    uint16_t udp_checksum;  /* as found on the wire (0 = none) */
    uint32_t payload_offset; /* UDP payload offset from the frame start */
    uint32_t payload_len;    /* UDP payload length (>= SK_SEED_PAYLOAD_LEN) */
};

/* Fill *f with the defaults (MACs 02:00:00:00:00:01 -> :02, 198.18.0.1 ->
 * 198.18.0.2, ports 10000 -> 20000, TTL 64, no UDP checksum, zero message). */
void sk_seed_fields_default(struct sk_seed_fields *f);

/* Build a 74-byte seed frame into buf. Returns the frame length, -EINVAL on
 * NULL arguments, -ENOSPC when cap < SK_SEED_FRAME_LEN. */
int sk_seed_build(const struct sk_seed_fields *f, uint8_t *buf, size_t cap);

/* Rewrite the message, trailer (and UDP checksum if udp_checksum != 0) of a
 * frame previously built by sk_seed_build(). The generator's hot path. */
void sk_seed_write_msg(uint8_t *frame, const struct sk_md_msg *m, uint64_t seq,
                       int udp_checksum);

/* ---- parsing ------------------------------------------------------------ */

#define SK_PARSE_OK 0
#define SK_MALFORMED_RUNT 1
#define SK_MALFORMED_ETHERTYPE 2
#define SK_MALFORMED_IP_TRUNCATED 3
#define SK_MALFORMED_IP_VERSION 4
#define SK_MALFORMED_IP_IHL 5
#define SK_MALFORMED_IP_CHECKSUM 6
#define SK_MALFORMED_IP_TOTAL_LENGTH 7
#define SK_MALFORMED_IP_FRAGMENT 8
#define SK_MALFORMED_IP_PROTOCOL 9
#define SK_MALFORMED_UDP_LENGTH 10
#define SK_MALFORMED_PAYLOAD_SHORT 11
#define SK_MALFORMED_UDP_CHECKSUM 12
#define SK_MALFORMED_REASON_COUNT 12

/* Parse a frame of len bytes; never reads outside [frame, frame+len).
 * Returns SK_PARSE_OK and fills *out, or a positive SK_MALFORMED_* code
 * (or -EINVAL for NULL arguments). */
int sk_seed_parse(const uint8_t *frame, size_t len, struct sk_seed_view *out);

/* Stable name of a reason code: "ok" for 0, "runt".."udp_checksum" for
 * 1..SK_MALFORMED_REASON_COUNT, NULL otherwise. */
const char *sk_malformed_reason_name(int reason);

/* Number of malformed reasons (codes are 1..this). */
int sk_malformed_reason_count(void);

/* ---- deterministic PRNG (xoshiro256**, seeded by splitmix64) ----------- */

struct sk_rng {
    uint64_t s[4];
};

void sk_rng_seed(struct sk_rng *r, uint64_t seed);
uint64_t sk_rng_next(struct sk_rng *r);
/* Uniform in [0, n) using the high 32 bits: ((next >> 32) * n) >> 32. */
uint32_t sk_rng_below(struct sk_rng *r, uint32_t n);
/* Fill symbol_id, price and size (timestamp untouched): symbol_id =
 * 1 + below(1000), price = (100 + below(99900)) / 100.0, size =
 * 1 + below(10000), drawn in that order. */
void sk_md_random(struct sk_rng *r, struct sk_md_msg *m);

/* ---- log-linear latency histogram ------------------------------------- */

#define SK_HIST_SUB_BUCKET_COUNT 2048
#define SK_HIST_SUB_BUCKET_HALF 1024
#define SK_HIST_MAX_VALUE_LOG2 40
#define SK_HIST_INDEX_COUNT 31744

struct sk_hist;

struct sk_hist *sk_hist_new(void);
void sk_hist_free(struct sk_hist *h);
void sk_hist_reset(struct sk_hist *h);
/* Record one value in ns; values >= 2^40 are clamped to 2^40-1 and counted. */
void sk_hist_record(struct sk_hist *h, uint64_t value_ns);
/* dst += src. Returns 0 or -EINVAL. */
int sk_hist_merge(struct sk_hist *dst, const struct sk_hist *src);
/* Add count samples to bucket index (rebuilding from an export); keeps min,
 * max and sum at the bucket's equivalent values until sk_hist_set_stats().
 * Returns 0 or -EINVAL (index out of range). */
int sk_hist_add_bucket(struct sk_hist *h, uint32_t index, uint64_t count);
/* Overwrite the exact extrema, sum and clamped count (after add_bucket). */
void sk_hist_set_stats(struct sk_hist *h, uint64_t min, uint64_t max,
                       uint64_t sum, uint64_t clamped);
uint64_t sk_hist_count(const struct sk_hist *h);
uint64_t sk_hist_min(const struct sk_hist *h);   /* 0 when empty */
uint64_t sk_hist_max(const struct sk_hist *h);
uint64_t sk_hist_sum(const struct sk_hist *h);
uint64_t sk_hist_clamped(const struct sk_hist *h);
double sk_hist_mean(const struct sk_hist *h);     /* 0.0 when empty */
/* q in [0, 100]: highest equivalent value of the bucket holding the
 * ceil(q/100*count)-th sample, clamped to [min, max]. 0 when empty. */
uint64_t sk_hist_percentile(const struct sk_hist *h, double q);
/* Iterate non-empty buckets: returns the first index >= start with a non-zero
 * count (stored in *count), or -1 when there is none. */
int32_t sk_hist_next_bucket(const struct sk_hist *h, int32_t start,
                            uint64_t *count);
uint32_t sk_hist_index_of(uint64_t value_ns);
uint64_t sk_hist_lowest_equivalent(uint32_t index);
uint64_t sk_hist_highest_equivalent(uint32_t index);

/* ---- sequence accounting --------------------------------------------- */

#define SK_SEQ_DEFAULT_WINDOW_LOG2 16
#define SK_SEQ_MAX_WINDOW_LOG2 30

struct sk_seq;

struct sk_seq_stats {
    uint64_t unique;
    uint64_t duplicated;
    uint64_t reordered;
    uint64_t late;          /* older than the window: also counted reordered */
    uint64_t next_expected; /* highest seq seen + 1 */
};

/* window_log2 in [6, SK_SEQ_MAX_WINDOW_LOG2]; 0 picks the default. NULL on
 * bad argument or out of memory. */
struct sk_seq *sk_seq_new(uint32_t window_log2);
void sk_seq_free(struct sk_seq *t);
void sk_seq_reset(struct sk_seq *t);
void sk_seq_feed(struct sk_seq *t, uint64_t seq);
void sk_seq_get_stats(const struct sk_seq *t, struct sk_seq_stats *out);
uint64_t sk_seq_unique(const struct sk_seq *t);
/* tx_sent - unique, floored at 0. */
uint64_t sk_seq_lost(const struct sk_seq *t, uint64_t tx_sent);

/* ---- TSC -------------------------------------------------------------- */

uint64_t sk_rdtsc(void);
/* Measured against CLOCK_MONOTONIC_RAW once (about 50 ms), then cached. */
uint64_t sk_tsc_hz(void);
/* 1 if CPUID 0x80000007 EDX bit 8 (invariant TSC) is set, else 0. */
int sk_tsc_invariant(void);
/* Convert a TSC delta to ns with the calibrated Hz. */
uint64_t sk_tsc_to_ns(uint64_t ticks);

/* "0.1.0" */
const char *sk_version(void);

/* ---- fast crafting: templates to many frames / pcap records ------------ */
/* (section: crafting) */

/* ---- impairments: seeded models with ground truth ---------------------- */
/* (section: impairments) */

#ifdef __cplusplus
}
#endif

#endif /* SIMKIT_H */
