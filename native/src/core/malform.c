/*
 * malform.c - the header-level kinds of the malformed-header catalog
 * (simkit.malformed), written once in C: the native generator's malform
 * impairment applies them at line rate, simkit corpus and the hypothesis
 * strategies call the same code through cffi.
 *
 * Each kind starts from a valid Eth[/tags]/IPv4/UDP frame and damages it one
 * way, keeping every other header consistent (the IPv4 header checksum is
 * recomputed after an edit unless the edit is the checksum; a UDP checksum
 * the frame carries is recomputed when the payload changes), so the parser
 * gives exactly the reason the kind is about. Choices (a length, a VLAN ID)
 * come from a PRNG seeded with the caller's draw.
 */
#include <errno.h>
#include <string.h>

#include "simkit.h"
#include "checksum.h"
#include "compiler.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define IP_FLAG_MF 0x2000
#define IP_FRAG_OFFSET_MAX 0x1fff
#define IHL_MAX_WORDS 15
#define ETH_MTU 1500
#define JUMBO_MTU 9000
#define VLAN_ID_MAX 4094
#define LENGTH_OVERRUN_MAX 64 /* total / UDP length beyond the bytes: 1..this */
#define ROUTER_ALERT 0x94     /* RFC 2113 option type, length 4 */
#define IP_OPT_NOP 0x01

/* A valid frame opened up: offsets of the IPv4 and UDP headers. */
struct frame {
    uint8_t *b;
    uint32_t len, cap;
    uint32_t ip, udp;
    unsigned tags;  /* 802.1Q / 802.1ad tags before the IPv4 EtherType */
};

static const struct {
    const char *name;
    int expected;
} kinds[SK_MALFORM_KIND_COUNT + 1] = {
    [SK_MALFORM_IP_OPTIONS] = {"ip_options", SK_PARSE_OK},
    [SK_MALFORM_IP_IHL_SHORT] = {"ip_ihl_short", SK_MALFORMED_IP_IHL},
    [SK_MALFORM_IP_VERSION] = {"ip_version", SK_MALFORMED_IP_VERSION},
    [SK_MALFORM_IP_TOTAL_LENGTH_SHORT] = {"ip_total_length_short", SK_MALFORMED_IP_TOTAL_LENGTH},
    [SK_MALFORM_IP_TOTAL_LENGTH_LONG] = {"ip_total_length_long", SK_MALFORMED_IP_TOTAL_LENGTH},
    [SK_MALFORM_IP_CHECKSUM_BAD] = {"ip_checksum_bad", SK_MALFORMED_IP_CHECKSUM},
    [SK_MALFORM_IP_FRAGMENT_MF] = {"ip_fragment_mf", SK_MALFORMED_IP_FRAGMENT},
    [SK_MALFORM_IP_FRAGMENT_OFFSET] = {"ip_fragment_offset", SK_MALFORMED_IP_FRAGMENT},
    [SK_MALFORM_IP_PROTOCOL] = {"ip_protocol", SK_MALFORMED_IP_PROTOCOL},
    [SK_MALFORM_IP_TTL_ZERO] = {"ip_ttl_zero", SK_PARSE_OK},
    [SK_MALFORM_IP_TRUNCATED] = {"ip_truncated", SK_MALFORMED_IP_TRUNCATED},
    [SK_MALFORM_UDP_LENGTH_LONG] = {"udp_length_long", SK_MALFORMED_UDP_LENGTH},
    [SK_MALFORM_UDP_LENGTH_SHORT] = {"udp_length_short", SK_MALFORMED_UDP_LENGTH},
    [SK_MALFORM_UDP_CHECKSUM_BAD] = {"udp_checksum_bad", SK_MALFORMED_UDP_CHECKSUM},
    [SK_MALFORM_UDP_CHECKSUM_ZERO] = {"udp_checksum_zero", SK_PARSE_OK},
    [SK_MALFORM_RUNT] = {"runt", SK_MALFORMED_RUNT},
    [SK_MALFORM_TRUNCATED_PAYLOAD] = {"truncated_payload", SK_MALFORMED_IP_TOTAL_LENGTH},
    [SK_MALFORM_SHORT_PAYLOAD] = {"short_payload", SK_MALFORMED_PAYLOAD_SHORT},
    [SK_MALFORM_VLAN_8021Q] = {"vlan_8021q", SK_PARSE_OK},
    [SK_MALFORM_VLAN_QINQ] = {"vlan_qinq", SK_PARSE_OK},
    [SK_MALFORM_ETHERTYPE] = {"ethertype", SK_MALFORMED_ETHERTYPE},
    [SK_MALFORM_JUMBO] = {"jumbo", SK_PARSE_OK},
};

const char *sk_malform_name(uint32_t kind)
{
    return kind >= 1 && kind <= SK_MALFORM_KIND_COUNT ? kinds[kind].name : NULL;
}

int sk_malform_expected(uint32_t kind)
{
    return kind >= 1 && kind <= SK_MALFORM_KIND_COUNT ? kinds[kind].expected : -EINVAL;
}

/* ---- the frame ------------------------------------------------------- */

/* Open a valid Eth (up to two tags) / IPv4 (IHL >= 5) / UDP frame. */
static int open_frame(struct frame *f, uint8_t *b, uint32_t len, uint32_t cap)
{
    uint32_t l2 = SK_ETH_HDR_LEN, ihl;
    unsigned tags = 0;

    if (len < SK_ETH_HDR_LEN)
        return -EINVAL;
    while (tags < SK_VLAN_MAX_TAGS && len >= l2 + SK_VLAN_TAG_LEN &&
           (sk_be16(b + l2 - 2) == ETHERTYPE_VLAN || sk_be16(b + l2 - 2) == ETHERTYPE_QINQ)) {
        l2 += SK_VLAN_TAG_LEN;
        tags++;
    }
    if (sk_be16(b + l2 - 2) != ETHERTYPE_IPV4 || len < l2 + SK_IPV4_HDR_LEN ||
        (b[l2] >> 4) != 4)
        return -EINVAL;
    ihl = (uint32_t)(b[l2] & 0x0f) * 4;
    if (ihl < SK_IPV4_HDR_LEN || len < l2 + ihl + SK_UDP_HDR_LEN)
        return -EINVAL;
    f->b = b;
    f->len = len;
    f->cap = cap;
    f->ip = l2;
    f->udp = l2 + ihl;
    f->tags = tags;
    return 0;
}

static inline uint32_t ihl_bytes(const struct frame *f)
{
    return f->udp - f->ip;
}

static inline uint32_t total_len(const struct frame *f)
{
    return sk_be16(f->b + f->ip + 2);
}

static inline uint32_t udp_len(const struct frame *f)
{
    return sk_be16(f->b + f->udp + 4);
}

/* Bytes of UDP payload the frame holds (UDP length, bounded by the frame). */
static uint32_t payload_len(const struct frame *f)
{
    uint32_t ul = udp_len(f), room = f->len - f->udp;

    if (ul < SK_UDP_HDR_LEN)
        return 0;
    return (ul < room ? ul : room) - SK_UDP_HDR_LEN;
}

static void fix_ip(struct frame *f)
{
    sk_ipv4_fix_checksum(f->b + f->ip, ihl_bytes(f));
}

/* Open n bytes at offset at (the tail moves up). */
static int insert(struct frame *f, uint32_t at, uint32_t n)
{
    if (f->cap - f->len < n)
        return -ENOSPC;
    memmove(f->b + at + n, f->b + at, f->len - at);
    f->len += n;
    return 0;
}

/* The UDP payload becomes n bytes: its first bytes kept, zeros added; the
 * frame ends there (no Ethernet padding); lengths and checksums follow. */
static int set_payload_len(struct frame *f, uint32_t n)
{
    uint32_t have = payload_len(f), end = f->udp + SK_UDP_HDR_LEN + n;
    uint32_t ul = SK_UDP_HDR_LEN + n;

    if (end > f->cap)
        return -ENOSPC;
    if (n > have)
        memset(f->b + f->udp + SK_UDP_HDR_LEN + have, 0, n - have);
    f->len = end;
    sk_put_be16(f->b + f->udp + 4, (uint16_t)ul);
    sk_put_be16(f->b + f->ip + 2, (uint16_t)(ihl_bytes(f) + ul));
    fix_ip(f);
    if (sk_be16(f->b + f->udp + 6) != 0)
        sk_udp_fix_checksum(f->b + f->ip, f->b + f->udp, ul);
    return 0;
}

/* Uniform in [lo, hi]. */
static inline uint32_t between(struct sk_rng *r, uint32_t lo, uint32_t hi)
{
    return lo + sk_rng_below(r, hi - lo + 1);
}

/* A 16-bit value in [low, 0xffff] other than the (ascending) values avoid. */
static uint16_t other_than(struct sk_rng *r, const uint16_t *avoid, unsigned n, uint32_t low)
{
    uint32_t v = between(r, low, 0xffff - n);
    unsigned i;

    for (i = 0; i < n; i++)
        if (v >= avoid[i])
            v++;
    return (uint16_t)v;
}

/* ---- the kinds ------------------------------------------------------- */

/* IHL 6..15: a Router Alert option, then NOPs, after the header's end. */
static int ip_options(struct frame *f, struct sk_rng *r)
{
    uint32_t have = ihl_bytes(f) / 4, words, n;
    uint8_t *opt;
    int ret;

    if (have >= IHL_MAX_WORDS)
        return -EINVAL;
    words = between(r, 1, IHL_MAX_WORDS - have);
    n = 4 * words;
    if (total_len(f) + n > 0xffff)
        return -EINVAL;
    if ((ret = insert(f, f->udp, n)) < 0)
        return ret;
    opt = f->b + f->udp;
    opt[0] = ROUTER_ALERT;
    opt[1] = 4;
    opt[2] = opt[3] = 0;
    memset(opt + 4, IP_OPT_NOP, n - 4);
    f->b[f->ip] = (uint8_t)(0x40 | (have + words));
    sk_put_be16(f->b + f->ip + 2, (uint16_t)(total_len(f) + n));
    f->udp += n;
    fix_ip(f);
    return 0;
}

static int ip_checksum_bad(struct frame *f, struct sk_rng *r)
{
    uint16_t good, avoid[2];
    unsigned n = 1;

    fix_ip(f);
    good = sk_be16(f->b + f->ip + 10);
    /* 0 and 0xffff are the same ones' complement number: both verify */
    avoid[0] = good;
    if (good == 0 || good == 0xffff) {
        avoid[0] = 0;
        avoid[1] = 0xffff;
        n = 2;
    }
    sk_put_be16(f->b + f->ip + 10, other_than(r, avoid, n, 0));
    return 0;
}

static int udp_checksum_bad(struct frame *f, struct sk_rng *r)
{
    uint16_t good;
    uint32_t ul = udp_len(f);

    if (ul < SK_UDP_HDR_LEN || ul > f->len - f->udp)
        return -EINVAL;
    sk_udp_fix_checksum(f->b + f->ip, f->b + f->udp, ul);
    good = sk_be16(f->b + f->udp + 6);
    /* non-zero (0 means "none"); of 1..0xffff only the right one verifies */
    sk_put_be16(f->b + f->udp + 6, other_than(r, &good, 1, 1));
    return 0;
}

/* One 802.1Q tag, or an 802.1ad outer and an 802.1Q inner, before the
 * frame's own EtherType (which becomes the innermost). */
static int vlan_tags(struct frame *f, struct sk_rng *r, unsigned n)
{
    static const uint16_t tpid[2][2] = {{ETHERTYPE_VLAN, 0}, {ETHERTYPE_QINQ, ETHERTYPE_VLAN}};
    unsigned i;
    int ret;

    if (f->tags + n > SK_VLAN_MAX_TAGS) /* a receiver looks through two at most */
        return -EINVAL;
    if ((ret = insert(f, 12, n * SK_VLAN_TAG_LEN)) < 0)
        return ret;
    for (i = 0; i < n; i++) {
        sk_put_be16(f->b + 12 + i * SK_VLAN_TAG_LEN, tpid[n - 1][i]);
        sk_put_be16(f->b + 14 + i * SK_VLAN_TAG_LEN, (uint16_t)between(r, 1, VLAN_ID_MAX));
    }
    return 0;
}

static int jumbo(struct frame *f, struct sk_rng *r)
{
    uint32_t have = payload_len(f), fixed = ihl_bytes(f) + SK_UDP_HDR_LEN;
    uint32_t low = ETH_MTU + 1, high = JUMBO_MTU;

    if (fixed + have >= high)
        return -EINVAL;
    if (fixed + have >= low)
        low = fixed + have + 1;
    return set_payload_len(f, between(r, low, high) - fixed);
}

static int apply(uint32_t kind, struct frame *f, struct sk_rng *r)
{
    static const uint8_t protocols[] = {1, 6, 47, 132};        /* ICMP TCP GRE SCTP */
    static const uint16_t ethertypes[] = {0x86dd, 0x0806, 0x88cc, 0x8847};
    uint8_t *ip = f->b + f->ip;
    uint32_t v, have;

    switch (kind) {
    case SK_MALFORM_IP_OPTIONS:
        return ip_options(f, r);
    case SK_MALFORM_IP_IHL_SHORT:
        ip[0] = (uint8_t)(0x40 | between(r, 0, 4));
        break;
    case SK_MALFORM_IP_VERSION:
        v = between(r, 0, 14);
        ip[0] = (uint8_t)((v >= 4 ? v + 1 : v) << 4 | (ip[0] & 0x0f));
        break;
    case SK_MALFORM_IP_TOTAL_LENGTH_SHORT:
        sk_put_be16(ip + 2, (uint16_t)between(r, 0, ihl_bytes(f) + SK_UDP_HDR_LEN - 1));
        break;
    case SK_MALFORM_IP_TOTAL_LENGTH_LONG:
        v = f->len - f->ip + between(r, 1, LENGTH_OVERRUN_MAX);
        sk_put_be16(ip + 2, (uint16_t)(v < 0xffff ? v : 0xffff));
        break;
    case SK_MALFORM_IP_CHECKSUM_BAD:
        return ip_checksum_bad(f, r);
    case SK_MALFORM_IP_FRAGMENT_MF:
        sk_put_be16(ip + 6, IP_FLAG_MF);
        break;
    case SK_MALFORM_IP_FRAGMENT_OFFSET:
        sk_put_be16(ip + 6, (uint16_t)between(r, 1, IP_FRAG_OFFSET_MAX));
        break;
    case SK_MALFORM_IP_PROTOCOL:
        ip[9] = protocols[sk_rng_below(r, sizeof(protocols))];
        break;
    case SK_MALFORM_IP_TTL_ZERO:
        ip[8] = 0;
        break;
    case SK_MALFORM_IP_TRUNCATED:
        f->len = f->ip + between(r, 0, SK_IPV4_HDR_LEN - 1);
        return 0;
    case SK_MALFORM_UDP_LENGTH_LONG:
        if (total_len(f) < ihl_bytes(f))
            return -EINVAL;
        v = total_len(f) - ihl_bytes(f) + between(r, 1, LENGTH_OVERRUN_MAX);
        sk_put_be16(f->b + f->udp + 4, (uint16_t)(v < 0xffff ? v : 0xffff));
        return 0;
    case SK_MALFORM_UDP_LENGTH_SHORT:
        sk_put_be16(f->b + f->udp + 4, (uint16_t)between(r, 0, SK_UDP_HDR_LEN - 1));
        return 0;
    case SK_MALFORM_UDP_CHECKSUM_BAD:
        return udp_checksum_bad(f, r);
    case SK_MALFORM_UDP_CHECKSUM_ZERO:
        sk_put_be16(f->b + f->udp + 6, 0);
        return 0;
    case SK_MALFORM_RUNT:
        f->len = between(r, 0, SK_ETH_HDR_LEN - 1);
        return 0;
    case SK_MALFORM_TRUNCATED_PAYLOAD:
        if ((have = payload_len(f)) == 0)
            return -EINVAL;
        f->len = f->udp + SK_UDP_HDR_LEN + between(r, 0, have - 1);
        return 0;
    case SK_MALFORM_SHORT_PAYLOAD:
        have = payload_len(f);
        v = between(r, 0, SK_SEED_PAYLOAD_LEN - 1);
        return set_payload_len(f, v < have ? v : have);
    case SK_MALFORM_VLAN_8021Q:
        return vlan_tags(f, r, 1);
    case SK_MALFORM_VLAN_QINQ:
        return vlan_tags(f, r, 2);
    case SK_MALFORM_ETHERTYPE:
        sk_put_be16(f->b + f->ip - 2, ethertypes[sk_rng_below(r, 4)]);
        return 0;
    case SK_MALFORM_JUMBO:
        return jumbo(f, r);
    default:
        return -EINVAL;
    }
    fix_ip(f); /* the IPv4 header edits above */
    return 0;
}

int sk_malform_apply(uint32_t kind, uint64_t draw, uint8_t *frame, uint32_t len,
                     uint32_t cap)
{
    struct frame f;
    struct sk_rng r;
    int ret;

    if (frame == NULL || cap < len || sk_malform_name(kind) == NULL)
        return -EINVAL;
    if ((ret = open_frame(&f, frame, len, cap)) < 0)
        return ret;
    sk_rng_seed(&r, draw);
    if ((ret = apply(kind, &f, &r)) < 0)
        return ret;
    return (int)f.len;
}
