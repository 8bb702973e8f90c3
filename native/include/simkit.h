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
#define SK_TRAILER_LEN 12
#define SK_SEED_PAYLOAD_LEN 36
#define SK_SEED_FRAME_LEN 78

/* Offsets inside an untagged seed frame built by sk_seed_build(). */
#define SK_SEED_PAYLOAD_OFFSET 42
#define SK_SEED_OFF_TIMESTAMP 42
#define SK_SEED_OFF_SYMBOL_ID 50
#define SK_SEED_OFF_PRICE 54
#define SK_SEED_OFF_SIZE 62
#define SK_SEED_OFF_SEQ 66
#define SK_SEED_OFF_CHECK 74
/* The check covers the payload's first 32 bytes (message + seq). */
#define SK_SEED_CHECKED_LEN 32

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
    uint64_t key_seed;      /* the check's key: sk_seed_key_init(key_seed) */
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
    uint32_t check;          /* the trailer's check, as found (not verified) */
};

/* Fill *f with the defaults (MACs 02:00:00:00:00:01 -> :02, 198.18.0.1 ->
 * 198.18.0.2, ports 10000 -> 20000, TTL 64, no UDP checksum, zero message). */
void sk_seed_fields_default(struct sk_seed_fields *f);

/* Build a 74-byte seed frame into buf. Returns the frame length, -EINVAL on
 * NULL arguments, -ENOSPC when cap < SK_SEED_FRAME_LEN. */
int sk_seed_build(const struct sk_seed_fields *f, uint8_t *buf, size_t cap);

/* ---- integrity check ---------------------------------------------------- */
/*
 * Every seed message carries a keyed 32-bit check in its trailer: the
 * payload is MarketDataMsg (24) | u64 seq | u32 check, all little-endian,
 * and check = sk_seed_check(key, payload[0..32)). A receiver that finds a
 * different check knows the message was garbled (a misparse, a shifted or
 * corrupted payload passes by chance with probability 2^-32). The key is
 * four 64-bit words drawn from the run's seed (sk_seed_key_init), so frames
 * of another run (another seed) fail the check too. With w0..w3 the four
 * little-endian u64 words of the 32 bytes and mum(a, b) the XOR of the
 * high and low halves of the 128-bit product a * b:
 *   h = mum(w0 ^ k0, w1 ^ k1) ^ mum(w2 ^ k2, w3 ^ k3)
 *   h = mum(h ^ SK_SEED_CHECK_MIX, k0 ^ k3)
 *   check = low 32 bits of (h ^ h >> 32)
 */
#define SK_SEED_KEY_SALT 7885656463616977772
#define SK_SEED_CHECK_MIX 11400714819323198485ULL

struct sk_seed_key {
    uint64_t k[4];
};

/* The key of a run with this seed: sk_rng_seed(seed ^ SK_SEED_KEY_SALT),
 * then four sk_rng_next() draws. */
void sk_seed_key_init(struct sk_seed_key *key, uint64_t seed);
/* The check of the 32 bytes at p (message + seq) under key. */
uint32_t sk_seed_check(const struct sk_seed_key *key, const uint8_t *p);

/* Rewrite the message, trailer with its check (and UDP checksum if
 * udp_checksum != 0) of a frame previously built by sk_seed_build(). The
 * generator's hot path. */
void sk_seed_write_msg(uint8_t *frame, const struct sk_md_msg *m, uint64_t seq,
                       const struct sk_seed_key *key, int udp_checksum);

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

/* Where the UDP payload of a frame is, after Eth (+ up to two VLAN tags),
 * IPv4 and UDP were checked. */
struct sk_udp_view {
    uint32_t src_ip;        /* host byte order */
    uint32_t dst_ip;
    uint16_t src_port;
    uint16_t dst_port;
    uint16_t vlan_count;
    uint16_t udp_checksum;  /* as found on the wire (0 = none) */
    uint32_t payload_offset; /* UDP payload offset from the frame start */
    uint32_t payload_len;
};

/* Check the Eth/IPv4/UDP headers of a frame of len bytes (never reading
 * outside it) and locate the UDP payload. A payload shorter than min_payload
 * is SK_MALFORMED_PAYLOAD_SHORT (checked before the UDP checksum). Returns
 * SK_PARSE_OK and fills *out, a positive SK_MALFORMED_* code, or -EINVAL. */
int sk_udp_parse(const uint8_t *frame, size_t len, uint32_t min_payload,
                 struct sk_udp_view *out);

/* Parse a frame of len bytes; never reads outside [frame, frame+len).
 * Returns SK_PARSE_OK and fills *out, or a positive SK_MALFORMED_* code
 * (or -EINVAL for NULL arguments). */
int sk_seed_parse(const uint8_t *frame, size_t len, struct sk_seed_view *out);

/* Stable name of a reason code: "ok" for 0, "runt".."udp_checksum" for
 * 1..SK_MALFORMED_REASON_COUNT, NULL otherwise. */
const char *sk_malformed_reason_name(int reason);

/* Number of malformed reasons (codes are 1..this). */
int sk_malformed_reason_count(void);

/* ---- malformations: the catalog's header-level kinds (malform.c) -------- */
/* (section: malformations) */

/* Kinds, in the order of simkit.malformed.CATALOG. Each damages a valid
 * Eth[/802.1Q]/IPv4/UDP frame one way; sk_malform_expected() says what the
 * parser above makes of the result (0: still valid, by design). */
#define SK_MALFORM_IP_OPTIONS 1
#define SK_MALFORM_IP_IHL_SHORT 2
#define SK_MALFORM_IP_VERSION 3
#define SK_MALFORM_IP_TOTAL_LENGTH_SHORT 4
#define SK_MALFORM_IP_TOTAL_LENGTH_LONG 5
#define SK_MALFORM_IP_CHECKSUM_BAD 6
#define SK_MALFORM_IP_FRAGMENT_MF 7
#define SK_MALFORM_IP_FRAGMENT_OFFSET 8
#define SK_MALFORM_IP_PROTOCOL 9
#define SK_MALFORM_IP_TTL_ZERO 10
#define SK_MALFORM_IP_TRUNCATED 11
#define SK_MALFORM_UDP_LENGTH_LONG 12
#define SK_MALFORM_UDP_LENGTH_SHORT 13
#define SK_MALFORM_UDP_CHECKSUM_BAD 14
#define SK_MALFORM_UDP_CHECKSUM_ZERO 15
#define SK_MALFORM_RUNT 16
#define SK_MALFORM_TRUNCATED_PAYLOAD 17
#define SK_MALFORM_SHORT_PAYLOAD 18
#define SK_MALFORM_VLAN_8021Q 19
#define SK_MALFORM_VLAN_QINQ 20
#define SK_MALFORM_ETHERTYPE 21
#define SK_MALFORM_JUMBO 22
#define SK_MALFORM_KIND_COUNT 22
/* "any" in a malform model: every kind but jumbo (bits 1..21), i.e. every
 * kind a 1500-byte MTU path carries; ask for jumbo by name. */
#define SK_MALFORM_ANY_MASK 4194302
/* Bytes a kind adds at most (jumbo: to a 9000-byte IPv4 packet); a buffer of
 * len + SK_MALFORM_MAX_GROWTH bytes always has room. */
#define SK_MALFORM_MAX_GROWTH 9000

/* "ip_options" .. "jumbo" (the catalog's names); NULL for an unknown kind. */
const char *sk_malform_name(uint32_t kind);
/* What sk_udp_parse() says about a frame so damaged: SK_PARSE_OK (a legal
 * but unusual packet) or its SK_MALFORMED_* reason; -EINVAL for an unknown
 * kind. (short_payload is PAYLOAD_SHORT against a 32-byte seed minimum.) */
int sk_malform_expected(uint32_t kind);
/* Damage the frame (len bytes valid, cap bytes of room) by kind: the choices
 * a kind makes (how many option words, which VLAN ID, ...) come from a PRNG
 * seeded with draw, so (kind, draw, frame) always gives the same bytes.
 * Returns the new length, -EINVAL (unknown kind, or not a valid Eth/IPv4/UDP
 * frame this kind applies to), or -ENOSPC (cap too small). */
int sk_malform_apply(uint32_t kind, uint64_t draw, uint8_t *frame, uint32_t len,
                     uint32_t cap);

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

/* ---- ITCH 5.0 market simulator (market.c) ------------------------------
 * One deterministic trading session: system events O, a stock directory (R)
 * per symbol, S, a trading action (H) per symbol, Q, then `events` order-flow
 * events (adds A/F, executions E/C, partial cancels X, deletes D, replaces U,
 * non-displayed trades P) against per-symbol books it keeps, then M, E, C.
 * Every E/C/X/D/U names a live order and never more shares than it has.
 * All draws come from one sk_rng (xoshiro256**) seeded with `seed`; no
 * floating point reaches a draw after sk_market_new, so a seed gives the same
 * bytes everywhere. Symbol activity follows a Zipf law: the symbol of locate
 * k (1-based) is drawn with weight k^-zipf_s (0: uniform), weights quantized
 * to 24 bits from libm's pow at set-up. */

/* add, add_attributed, execute, execute_with_price, cancel, delete, replace, trade */
#define SK_MKT_EVENT_KINDS 8
#define SK_MKT_MAX_MSG_LEN 44  /* P, the longest message emitted */
#define SK_MKT_MAX_SYMBOLS 65535
#define SK_MKT_DEFAULT_MAX_ORDERS 65536

struct sk_market_cfg {
    uint64_t seed;
    uint64_t events;        /* order-flow events; UINT64_MAX: open-ended */
    uint64_t start_ns;      /* timestamp of the first message */
    uint32_t mean_gap_ns;   /* gaps uniform in 1 .. 2 * mean_gap_ns (< 2^31) */
    uint32_t n_symbols;     /* 1 .. SK_MKT_MAX_SYMBOLS */
    const char *symbols;    /* n_symbols x 8 bytes, space padded; locate k = entry k-1 */
    uint32_t n_mpids;
    const char *mpids;      /* n_mpids x 4 bytes, space padded */
    double mix[8];          /* relative weights, SK_MKT_EVENT_KINDS order, >= 0 */
    uint32_t tick;          /* Price(4) ticks per price step */
    uint32_t grid_low;      /* reference prices: grid_low .. grid_high steps */
    uint32_t grid_high;
    uint32_t depth;         /* orders rest 1 .. depth steps off the reference */
    uint32_t round_lot;
    uint32_t max_lots;
    double odd_lot_probability;
    double zipf_s;          /* symbol activity skew (>= 0) */
    uint32_t max_orders;    /* live orders at most (0: the default); past it an
                             * add is a delete */
};

struct sk_market;

/* The defaults of simkit.packets.market.MarketSimulator(seed), open-ended
 * (events UINT64_MAX): symbols AAPL MSFT SPY QQQ, mpids GSCO MSCO UBSS NITE,
 * prices $10..$500 on a $0.01 grid, depth 20, 1..10 lots of 100 (5 % odd),
 * Zipf 1.0, from 09:30 with 50 us mean gaps. */
void sk_market_cfg_default(struct sk_market_cfg *c, uint64_t seed);
/* n symbol names into out (n x 8 bytes, space padded): the four defaults
 * first, then A, B, ..., Z, AA, AB, ... (bijective base 26) skipping them.
 * 0, or -EINVAL for n outside 1..SK_MKT_MAX_SYMBOLS. */
int sk_market_symbol_names(uint32_t n, char *out);
/* NULL on a bad setting (err filled) or no memory. */
struct sk_market *sk_market_new(const struct sk_market_cfg *cfg, char *err, size_t errlen);
void sk_market_free(struct sk_market *m);
/* Next messages, back to back into buf (each len in lens[]): at most max
 * messages and cap bytes. Returns the count; 0 once the session ended. */
uint64_t sk_market_messages(struct sk_market *m, uint8_t *buf, uint64_t cap,
                            uint16_t *lens, uint64_t max);
/* Pack the next messages into MoldUDP64 datagram payloads of at most
 * max_payload bytes (>= 20 + 2 + SK_MKT_MAX_MSG_LEN), session 10 bytes space
 * padded, sequence numbers from *seq (advanced), written back to back into
 * buf (each length in lens[]): at most max datagrams and cap bytes. Returns
 * the count; 0 once the session ended (no end-of-session packet is made). */
uint64_t sk_market_datagrams(struct sk_market *m, uint8_t *buf, uint64_t cap,
                             uint32_t max_payload, const char *session, uint64_t *seq,
                             uint32_t *lens, uint64_t max);
/* Messages made so far, and live orders now. */
uint64_t sk_market_made(const struct sk_market *m);
uint64_t sk_market_live(const struct sk_market *m);

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
/* dst += src, then src is emptied; touches only src's [min, max] index
 * range (cheap for a narrow interval histogram). Returns 0 or -EINVAL. */
int sk_hist_move(struct sk_hist *dst, struct sk_hist *src);
/* Indices in src's [min, max] range: room enough for sk_hist_move_export. */
uint32_t sk_hist_span(const struct sk_hist *src);
/* sk_hist_move, and src's non-empty buckets written out in the same pass:
 * index[k], count[k] for k < the returned number (at most cap; a span's
 * worth always fits). dst NULL: src is only emptied (touching src alone).
 * Returns that number, or -EINVAL. */
int32_t sk_hist_move_export(struct sk_hist *dst, struct sk_hist *src,
                            uint32_t *index, uint64_t *count, uint32_t cap);
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

/* A template is one frame described once; sk_craft_fill() writes many
 * variants of it: per-packet fields (counters or seeded random draws), per-flow
 * IPv4 addresses and UDP ports, then the IPv4 header checksum (recomputed) and
 * the UDP checksum (kept, zeroed or computed). sk_craft_wrap() instead treats
 * the template as Eth/IPv4/UDP headers and appends caller payloads, fixing
 * lengths and checksums per frame. Output is frames back to back, or ready
 * pcap (16-byte nanosecond record headers) or pcapng (enhanced packet block)
 * records. Nothing is read or written outside the given lengths. */

#define SK_CRAFT_MAX_FRAME 65535
#define SK_CRAFT_MAX_FIELDS 16
#define SK_CRAFT_NO_OFFSET 4294967295
#define SK_CRAFT_PCAP_RECORD_HDR 16
#define SK_CRAFT_PCAPNG_EPB_OVERHEAD 32

/* struct sk_craft_field.mode: COUNTER is start + index * step, modulo
 * 2^(8 * width); RANDOM is start + below(span), span 0 meaning any value of
 * the width; RANDOM_F64 is the IEEE double (start + below(span)) / divisor,
 * width 8. (No comments after these defines: cffi_build.py drops such lines.) */
#define SK_CRAFT_COUNTER 1
#define SK_CRAFT_RANDOM 2
#define SK_CRAFT_RANDOM_F64 3

/* struct sk_craft_template.flow_mode: CYCLE takes flow index % flow_count;
 * RANDOM draws below(flow_count) from a PRNG seeded seed ^ SK_CRAFT_FLOW_SALT,
 * apart from the fields' PRNG. */
#define SK_CRAFT_FLOWS_CYCLE 0
#define SK_CRAFT_FLOWS_RANDOM 1
#define SK_CRAFT_FLOW_SALT 6148914691236517205

/* struct sk_craft_template.udp_checksum */
#define SK_CRAFT_UDP_CSUM_KEEP 0
#define SK_CRAFT_UDP_CSUM_ZERO 1
#define SK_CRAFT_UDP_CSUM_COMPUTE 2

/* Output formats of sk_craft_fill() / sk_craft_wrap(). */
#define SK_CRAFT_OUT_FRAMES 0
#define SK_CRAFT_OUT_PCAP 1
#define SK_CRAFT_OUT_PCAPNG 2

/* One varying field. Random fields draw from the template's sk_rng in the
 * order of the fields array, once per packet. */
struct sk_craft_field {
    uint32_t offset;     /* from the frame start */
    uint8_t width;       /* 1, 2, 4, 6 or 8 bytes */
    uint8_t big_endian;  /* 1: network order; 0: little-endian */
    uint8_t mode;        /* SK_CRAFT_COUNTER / _RANDOM / _RANDOM_F64 */
    uint8_t reserved;
    uint64_t start;
    uint64_t step;       /* COUNTER only */
    uint64_t span;       /* RANDOM(_F64): number of values, <= 2^32 */
    double divisor;      /* RANDOM_F64 only: finite and non-zero */
};

/* One flow: written over the IPv4 addresses and UDP ports. */
struct sk_craft_flow {
    uint32_t src_ip;     /* host byte order */
    uint32_t dst_ip;
    uint16_t src_port;
    uint16_t dst_port;
};

struct sk_craft_template {
    const uint8_t *frame;   /* copied by sk_craft_new() */
    uint32_t frame_len;
    uint32_t ip_offset;     /* SK_CRAFT_NO_OFFSET: no IPv4 header */
    uint32_t udp_offset;    /* SK_CRAFT_NO_OFFSET: no UDP header */
    uint32_t field_count;
    struct sk_craft_field fields[SK_CRAFT_MAX_FIELDS];
    const struct sk_craft_flow *flows; /* copied; NULL when flow_count is 0 */
    uint32_t flow_count;
    uint8_t flow_mode;      /* SK_CRAFT_FLOWS_* */
    uint8_t ip_checksum;    /* 1: recompute the IPv4 header checksum per packet */
    uint8_t udp_checksum;   /* SK_CRAFT_UDP_CSUM_* */
};

struct sk_craft;

/* Validate and copy a template. Returns 0 and *out, -EINVAL for a bad
 * template (*bad_field = the index of the offending field, or -1 when it is
 * the template itself: lengths, offsets, flows, checksum settings), -ENOMEM. */
int sk_craft_new(const struct sk_craft_template *t, struct sk_craft **out,
                 int32_t *bad_field);
void sk_craft_free(struct sk_craft *c);
/* Restart the variants: packet index 0, PRNGs seeded from seed. */
void sk_craft_reset(struct sk_craft *c, uint64_t seed);
/* The packet index the next variant gets. */
uint64_t sk_craft_index(const struct sk_craft *c);
uint32_t sk_craft_frame_len(const struct sk_craft *c);
/* Bytes one frame of frame_len takes in format fmt (0 for a bad fmt). */
size_t sk_craft_record_len(uint32_t frame_len, int fmt);

/* Write up to count next variants into buf as fmt records; the capture time of
 * packet index k is ts_start_ns + k * ts_step_ns. Stops early when the next
 * record would not fit in cap. Returns the number written (*used = bytes), or
 * -EINVAL (NULL argument, bad fmt). */
int64_t sk_craft_fill(struct sk_craft *c, uint8_t *buf, size_t cap,
                      uint64_t count, int fmt, uint64_t ts_start_ns,
                      uint64_t ts_step_ns, size_t *used);

/* Frame each of count payloads (concatenated in data, data_len bytes in all,
 * payload i lens[i] bytes long) behind the template's headers, which end at
 * the UDP header: fields and flows as in sk_craft_fill(), then IPv4 total
 * length, UDP length and both checksums per frame. The template must have
 * ip_offset and udp_offset, frame_len == udp_offset + 8 and a udp_checksum
 * of ZERO or COMPUTE; the IPv4 checksum is always recomputed. Stops early when
 * the next record would not fit in cap. Returns the number of payloads
 * framed (*used = bytes), -EINVAL (bad arguments, lens overrunning data_len,
 * a template that is not headers only), or -EMSGSIZE (a payload would make a
 * frame over SK_CRAFT_MAX_FRAME bytes); on error nothing is written. */
int64_t sk_craft_wrap(struct sk_craft *c, const uint8_t *data, size_t data_len,
                      const uint32_t *lens, uint64_t count, uint8_t *buf,
                      size_t cap, int fmt, uint64_t ts_start_ns,
                      uint64_t ts_step_ns, size_t *used);

/* Frames already built (back to back, frame i lens[i] bytes) as fmt records,
 * record n stamped ts_start_ns + n * ts_step_ns. Stops early when the next
 * record would not fit in cap. Returns the number written (*used = bytes),
 * or -EINVAL. */
int64_t sk_craft_records(const uint8_t *frames, const uint32_t *lens, uint64_t count,
                         uint8_t *buf, size_t cap, int fmt, uint64_t ts_start_ns,
                         uint64_t ts_step_ns, size_t *used);

/* corpus.c: n seed frames for sequences seq0, seq0 + 1, ... into out (n x
 * SK_SEED_FRAME_LEN bytes), each as sk_md_random then sk_seed_write_msg on
 * frame (a frame sk_seed_build made; left holding the last one). Returns n. */
uint64_t sk_seed_frames(struct sk_rng *r, uint8_t *frame, const struct sk_seed_key *key,
                        int udp_checksum, uint64_t seq0, uint64_t n, uint8_t *out);

/* ---- impairments: seeded models with ground truth ---------------------- */
/* (section: impairments) */
/*
 * netem-style models, seeded and deterministic, O(1) per packet (impair.c).
 * Each model draws from its own xoshiro256** stream (keyed by seed and kind)
 * a fixed number of times per packet, so the packets one model picks do not
 * change when another model is added. Per packet, in this order: loss (drop
 * or gilbert) -> duplicate -> malform -> truncate -> corrupt -> reorder or
 * delay. A malformed packet is not also truncated or corrupted (one damage,
 * so its reaction is known).
 *
 * Every pushed packet comes back in exactly one sk_impair_out entry per copy:
 * dropped ones flagged SK_IMPAIRED_DROPPED (free, do not send), duplicated
 * ones twice (copy 0 then copy 1, back to back), reorder-held ones later.
 */

/* Kinds: drop (p, Bernoulli loss), gilbert (p, r, h, k: Gilbert-Elliott as
 * netem's gemodel), dup (p: send twice, back to back), reorder (p, gap: hold,
 * release after gap later packets), corrupt (p, layer: flip one bit inside
 * the layer), truncate (p, len: cut to len bytes, 0 = uniform in 1..len-1),
 * delay (mean_ns, jitter_ns: uniform in mean +- jitter), malform (p,
 * malform_kinds: one of the SK_MALFORM_* kinds in the mask, drawn uniformly;
 * the caller applies it with sk_malform_apply, see sk_impair_out). */
#define SK_IMPAIR_DROP 1
#define SK_IMPAIR_GILBERT 2
#define SK_IMPAIR_DUP 3
#define SK_IMPAIR_REORDER 4
#define SK_IMPAIR_CORRUPT 5
#define SK_IMPAIR_TRUNCATE 6
#define SK_IMPAIR_DELAY 7
#define SK_IMPAIR_MALFORM 8
#define SK_IMPAIR_KIND_COUNT 8
#define SK_IMPAIR_MAX_MODELS 8
#define SK_IMPAIR_MAX_GAP 65536
#define SK_IMPAIR_MAX_DELAY_NS 3600000000000ULL

/* Corruption layers; FRAME is netem's choice (anywhere in the frame). */
#define SK_IMPAIR_LAYER_FRAME 0
#define SK_IMPAIR_LAYER_ETH 1
#define SK_IMPAIR_LAYER_IP 2
#define SK_IMPAIR_LAYER_UDP 3
#define SK_IMPAIR_LAYER_PAYLOAD 4
#define SK_IMPAIR_LAYER_COUNT 5

/* What happened to a packet (sk_impair_out.flags). */
#define SK_IMPAIRED_DROPPED 1
#define SK_IMPAIRED_DUPLICATED 2
/* HELD: held back by the reorder model; REORDERED: held and overtaken by a
 * later packet (what a receiver sees as late). */
#define SK_IMPAIRED_HELD 4
#define SK_IMPAIRED_REORDERED 8
#define SK_IMPAIRED_CORRUPTED 16
#define SK_IMPAIRED_TRUNCATED 32
#define SK_IMPAIRED_DELAYED 64
/* MALFORMED: to be damaged by kind malform with malform_draw; the impairer
 * leaves the bytes alone (a kind may grow the frame): the caller runs
 * sk_malform_apply once per packet, on copy 0, before sending it. */
#define SK_IMPAIRED_MALFORMED 128

/* Entries one sk_impair_push() can write at most; size its out array so. */
#define SK_IMPAIR_PUSH_MAX_OUT 4

/* One model. Unused fields must be 0. */
struct sk_impair_model {
    uint32_t kind;          /* SK_IMPAIR_DROP .. SK_IMPAIR_DELAY */
    uint32_t layer;         /* corrupt: SK_IMPAIR_LAYER_* */
    uint32_t gap;           /* reorder: 1..SK_IMPAIR_MAX_GAP */
    uint32_t len;           /* truncate: target length, 0 = uniform in [1, len-1] */
    double p;               /* event probability; gilbert: good -> bad */
    double r;               /* gilbert: bad -> good */
    double h;               /* gilbert: delivery probability in bad (loss 1-h) */
    double k;               /* gilbert: delivery probability in good (loss 1-k) */
    uint64_t mean_ns;       /* delay */
    uint64_t jitter_ns;     /* delay: <= mean_ns */
    uint32_t malform_kinds; /* malform: bit k set = SK_MALFORM kind k may be drawn */
    uint32_t reserved;
};

/* One packet leaving the impairer (or dropped by it). */
struct sk_impair_out {
    uint64_t token;          /* the caller's handle given to sk_impair_push */
    uint64_t index;          /* 0-based push order: the packet's ground-truth id */
    uint64_t delay_ns;       /* with SK_IMPAIRED_DELAYED */
    uint32_t flags;          /* SK_IMPAIRED_* */
    uint32_t len;            /* bytes to send (after truncation) */
    uint32_t orig_len;
    uint32_t corrupt_offset; /* with SK_IMPAIRED_CORRUPTED: byte flipped ... */
    uint8_t corrupt_bit;     /* ... and its bit (0..7, value 1 << bit) */
    uint8_t copy;            /* 0: the packet, 1: its duplicate */
    uint8_t malform;         /* with SK_IMPAIRED_MALFORMED: the SK_MALFORM_* kind ... */
    uint8_t reserved;
    uint64_t malform_draw;   /* ... and the draw to apply it with */
};

struct sk_impair_stats {
    uint64_t packets_in;     /* pushed */
    uint64_t packets_out;    /* entries to send (duplicates included) */
    uint64_t dropped;
    uint64_t duplicated;
    uint64_t held;
    uint64_t reordered;
    uint64_t corrupted;
    uint64_t truncated;
    uint64_t delayed;
    uint64_t delay_ns_sum;
    uint64_t queued;         /* held now, not yet released */
    uint64_t malformed;
};

struct sk_impair;

/* Check n models: ranges, known kinds and layers, and no contradiction (a
 * kind twice, drop with gilbert, reorder with delay). Returns 0, or -EINVAL
 * with a one-line message naming the parameter in msg (if msg != NULL). */
int sk_impair_validate(const struct sk_impair_model *models, uint32_t n,
                       char *msg, size_t msg_cap);

/* Create an impairer for n (0..SK_IMPAIR_MAX_MODELS) validated models.
 * Returns 0 and *out, -EINVAL (see sk_impair_validate), -ENOMEM. */
int sk_impair_new(const struct sk_impair_model *models, uint32_t n,
                  uint64_t seed, struct sk_impair **out);
void sk_impair_free(struct sk_impair *imp);

/* Impair one frame (modified in place: corruption; it must stay valid until
 * its entry comes back if it is held). Writes 0..SK_IMPAIR_PUSH_MAX_OUT
 * entries: its own (dropped or to send, and its duplicate) and possibly an
 * earlier held packet now released. Returns the count, -EINVAL, -ENOSPC
 * (cap < SK_IMPAIR_PUSH_MAX_OUT). */
int sk_impair_push(struct sk_impair *imp, uint64_t token, uint8_t *frame,
                   uint32_t len, struct sk_impair_out *out, uint32_t cap);

/* End of stream: release every held packet in order (at most 2 * gap
 * entries in all). Returns the count written (call again while > 0). */
int sk_impair_flush(struct sk_impair *imp, struct sk_impair_out *out,
                    uint32_t cap);

/* Batch: push n frames stored back to back in buf (frame i is lens[i]
 * bytes; its token is its byte offset in buf), then flush if flush != 0.
 * cap >= 2 * (n + gap + 1) always suffices. Returns the entries written,
 * -EINVAL, or -ENOSPC (cap too small: the impairer is then unusable). */
int64_t sk_impair_run(struct sk_impair *imp, uint8_t *buf,
                      const uint32_t *lens, uint64_t n, int flush,
                      struct sk_impair_out *out, uint64_t cap);

void sk_impair_get_stats(const struct sk_impair *imp,
                         struct sk_impair_stats *out);

/* "drop", "gilbert", "dup", "reorder", "corrupt", "truncate", "delay",
 * "malform";
 * NULL for an unknown kind. Layers: "frame", "eth", "ip", "udp", "payload". */
const char *sk_impair_kind_name(uint32_t kind);
const char *sk_impair_layer_name(uint32_t layer);

#ifdef __cplusplus
}
#endif

#endif /* SIMKIT_H */
