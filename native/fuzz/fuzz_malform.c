/*
 * fuzz_malform.c - libFuzzer target for the malformation catalog
 * (core/malform.c: sk_malform_apply), on random frames and on valid ones.
 *
 * Input: byte 0 picks the kind (values past the catalog test unknown kinds),
 * bytes 1..8 the draw, byte 9 the frame's shape, bytes 10..11 the spare room
 * (cap - len, from 0: too little room must be refused, never overrun); then
 * either the raw frame (shape bit 0 clear) or a recipe for a valid seed
 * frame: 0-2 VLAN tags, 0-10 IPv4 option words, extra payload, UDP checksum
 * on or off, field bytes.
 *
 * Every frame lives in a heap block of exactly cap bytes (ASan: no write past
 * cap) and every result is re-parsed from a block of exactly its length (no
 * read past it). Checks:
 *   - the result is -EINVAL, -ENOSPC or a length <= cap; unknown kinds and
 *     frames that are not Eth/IPv4/UDP are -EINVAL;
 *   - (kind, draw, frame) gives the same length and bytes twice;
 *   - on a valid frame, the parser's verdict is sk_malform_expected(kind);
 *   - on a valid frame, the kind writes only its own bytes: in-place kinds
 *     touch only their fields (and the IPv4 checksum after an IPv4 edit),
 *     cutting kinds keep the prefix, tags and options are inserted with the
 *     rest moved intact, payload resizing keeps the headers and the payload
 *     prefix and pads with zeros.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "simkit.h"
#include "fuzz_frame.h"
#include "fuzz_input.h"

#define SHAPE_VALID 1
#define MAX_FRAME 2048
#define MAX_OPTION_WORDS 10
#define MAX_EXTRA_PAYLOAD 256
#define IP_CSUM 10
#define UDP_CSUM 6

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Lengths and checksums of a frame whose headers the harness laid out. */
static void fix_frame(uint8_t *f, size_t len, struct ff_view v, int udp_csum)
{
    uint64_t sum;
    uint32_t c;

    put16(f + v.ip + 2, (uint32_t)(len - v.ip));
    put16(f + v.udp + 4, (uint32_t)(len - v.udp));
    put16(f + v.ip + IP_CSUM, 0);
    put16(f + v.ip + IP_CSUM, ~ff_fold(ff_sum(0, f + v.ip, v.ihl)) & 0xffff);
    put16(f + v.udp + UDP_CSUM, 0);
    if (udp_csum) {
        sum = ff_sum(0, f + v.ip + 12, 8) + FF_PROTO_UDP + (len - v.udp);
        c = ~ff_fold(ff_sum(sum, f + v.udp, len - v.udp)) & 0xffff;
        put16(f + v.udp + UDP_CSUM, c ? c : 0xffff);
    }
}

/* A valid seed frame with tags, options and extra payload from the recipe. */
static size_t build_valid(struct fuzz_input *in, uint8_t shape, uint8_t *f)
{
    struct sk_seed_fields fields;
    unsigned tags = (shape >> 1) % 3, words = (shape >> 3) % (MAX_OPTION_WORDS + 1), i;
    size_t extra = fuzz_u8(in) % (MAX_EXTRA_PAYLOAD + 1), len, at;
    uint8_t base[SK_SEED_FRAME_LEN + 64];
    struct ff_view v;
    int n;

    sk_seed_fields_default(&fields);
    fields.seq = fuzz_uint(in, 8);
    fields.timestamp = fuzz_uint(in, 8);
    fields.ip_id = (uint16_t)fuzz_uint(in, 2);
    n = sk_seed_build(&fields, base, sizeof(base));
    FUZZ_CHECK(n > 0, "sk_seed_build: %d", n);
    memcpy(f, base, 12);
    for (i = 0; i < tags; i++) {
        put16(f + 12 + 4 * i, i == 0 && tags == 2 ? FF_ETHERTYPE_QINQ : FF_ETHERTYPE_VLAN);
        put16(f + 14 + 4 * i, fuzz_u8(in) + 1);
    }
    at = 12 + 4 * tags;
    memcpy(f + at, base + 12, 2 + SK_IPV4_HDR_LEN);          /* EtherType, IPv4 */
    at += 2 + SK_IPV4_HDR_LEN;
    memset(f + at, 1, 4 * words);                           /* NOP options */
    at += 4 * words;
    memcpy(f + at, base + 34, (size_t)n - 34);              /* UDP header, payload */
    at += (size_t)n - 34;
    for (i = 0; i < extra; i++)
        f[at + i] = fuzz_u8(in);
    len = at + extra;
    f[14 + 4 * tags] = (uint8_t)(0x40 | (5 + words));
    v = ff_locate(f, len);
    FUZZ_CHECK(v.ok, "harness built a frame it cannot read");
    fix_frame(f, len, v, shape & 0x80);
    return len;
}

/* Bytes in [from, to) of a and b equal. */
static int same(const uint8_t *a, const uint8_t *b, size_t from, size_t to)
{
    return to <= from || memcmp(a + from, b + from, to - from) == 0;
}

/* May an in-place kind change byte i of a frame laid out as v? */
static int allowed(uint32_t kind, struct ff_view v, size_t i)
{
    int ip_csum = i == v.ip + IP_CSUM || i == v.ip + IP_CSUM + 1;

    switch (kind) {
    case SK_MALFORM_IP_IHL_SHORT:
    case SK_MALFORM_IP_VERSION:
        return i == v.ip || ip_csum;
    case SK_MALFORM_IP_TOTAL_LENGTH_SHORT:
    case SK_MALFORM_IP_TOTAL_LENGTH_LONG:
        return i == v.ip + 2 || i == v.ip + 3 || ip_csum;
    case SK_MALFORM_IP_CHECKSUM_BAD:
        return ip_csum;
    case SK_MALFORM_IP_FRAGMENT_MF:
    case SK_MALFORM_IP_FRAGMENT_OFFSET:
        return i == v.ip + 6 || i == v.ip + 7 || ip_csum;
    case SK_MALFORM_IP_PROTOCOL:
        return i == v.ip + 9 || ip_csum;
    case SK_MALFORM_IP_TTL_ZERO:
        return i == v.ip + 8 || ip_csum;
    case SK_MALFORM_UDP_LENGTH_LONG:
    case SK_MALFORM_UDP_LENGTH_SHORT:
        return i == v.udp + 4 || i == v.udp + 5;
    case SK_MALFORM_UDP_CHECKSUM_BAD:
    case SK_MALFORM_UDP_CHECKSUM_ZERO:
        return i == v.udp + UDP_CSUM || i == v.udp + UDP_CSUM + 1;
    case SK_MALFORM_ETHERTYPE:
        return i == v.ip - 2 || i == v.ip - 1;
    default:
        return 0;
    }
}

/* The bytes a kind wrote, judged against the frame it started from. */
static void check_bytes(uint32_t kind, const uint8_t *o, size_t len, const uint8_t *m,
                        size_t got)
{
    struct ff_view v = ff_locate(o, len), w;
    const char *name = sk_malform_name(kind);
    size_t i, n, payload, kept;

    switch (kind) {
    case SK_MALFORM_RUNT:
    case SK_MALFORM_IP_TRUNCATED:
    case SK_MALFORM_TRUNCATED_PAYLOAD:
        FUZZ_CHECK(got < len && same(o, m, 0, got), "%s: not a cut of the frame", name);
        FUZZ_CHECK(kind != SK_MALFORM_RUNT || got < FF_ETH_LEN, "runt of %zu", got);
        FUZZ_CHECK(kind != SK_MALFORM_IP_TRUNCATED ||
                   (got >= v.ip && got < v.ip + FF_IPV4_MIN), "ip_truncated to %zu", got);
        FUZZ_CHECK(kind != SK_MALFORM_TRUNCATED_PAYLOAD || got >= v.udp + FF_UDP_LEN,
                   "truncated_payload cut into the headers (%zu)", got);
        return;
    case SK_MALFORM_VLAN_8021Q:
    case SK_MALFORM_VLAN_QINQ:
        n = kind == SK_MALFORM_VLAN_8021Q ? 1 : 2;
        FUZZ_CHECK(got == len + 4 * n && same(o, m, 0, 12) &&
                   memcmp(m + 12 + 4 * n, o + 12, len - 12) == 0,
                   "%s: not %zu tags inserted after the MACs", name, n);
        for (i = 0; i < n; i++) {
            uint32_t tpid = ff_be16(m + 12 + 4 * i), vid = ff_be16(m + 14 + 4 * i) & 0xfff;

            FUZZ_CHECK(tpid == (n == 2 && i == 0 ? FF_ETHERTYPE_QINQ : FF_ETHERTYPE_VLAN) &&
                       vid >= 1 && vid <= 4094, "%s: tag %zu is %04x/%u", name, i, tpid, vid);
        }
        return;
    case SK_MALFORM_IP_OPTIONS:
        n = got - len;
        FUZZ_CHECK(got > len && n % 4 == 0 && v.ihl + n <= 60, "%s: %zu bytes added", name, n);
        FUZZ_CHECK(same(o, m, 0, v.ip) && m[v.ip] == (0x40 | (v.ihl + n) / 4) &&
                   ff_be16(m + v.ip + 2) == ff_be16(o + v.ip + 2) + n &&
                   same(o, m, v.ip + 4, v.ip + IP_CSUM) && same(o, m, v.ip + 12, v.udp) &&
                   memcmp(m + v.udp + n, o + v.udp, len - v.udp) == 0,
                   "%s: not %zu option bytes inserted after the header", name, n);
        FUZZ_CHECK(m[v.udp] == 0x94 && m[v.udp + 1] == 4 && m[v.udp + 2] == 0 &&
                   m[v.udp + 3] == 0, "%s: no Router Alert first", name);
        for (i = 4; i < n; i++)
            FUZZ_CHECK(m[v.udp + i] == 1, "%s: option byte %zu is %u", name, i, m[v.udp + i]);
        return;
    case SK_MALFORM_JUMBO:
    case SK_MALFORM_SHORT_PAYLOAD:
        w = ff_locate(m, got);
        FUZZ_CHECK(w.ok && w.udp == v.udp, "%s: headers moved", name);
        payload = got - v.udp - FF_UDP_LEN;
        n = ff_be16(o + v.udp + 4) - FF_UDP_LEN; /* what the frame carried */
        kept = payload < n ? payload : n;
        FUZZ_CHECK(same(o, m, 0, v.ip + 2) && same(o, m, v.ip + 4, v.ip + IP_CSUM) &&
                   same(o, m, v.ip + 12, v.udp + 4) &&
                   same(o, m, v.udp + FF_UDP_LEN, v.udp + FF_UDP_LEN + kept),
                   "%s: changed more than lengths and checksums", name);
        for (i = v.udp + FF_UDP_LEN + kept; i < got; i++)
            FUZZ_CHECK(m[i] == 0, "%s: padding byte %zu is %u", name, i, m[i]);
        FUZZ_CHECK(ff_be16(m + v.ip + 2) == got - v.ip &&
                   ff_be16(m + v.udp + 4) == got - v.udp, "%s: lengths", name);
        if (kind == SK_MALFORM_JUMBO)
            FUZZ_CHECK(got - v.ip > 1500 && got - v.ip <= 9000, "jumbo of %zu", got - v.ip);
        else
            FUZZ_CHECK(payload < SK_SEED_PAYLOAD_LEN, "short_payload of %zu", payload);
        return;
    default:
        FUZZ_CHECK(got == len, "%s: length %zu -> %zu", name, len, got);
        for (i = 0; i < len; i++)
            FUZZ_CHECK(o[i] == m[i] || allowed(kind, v, i),
                       "%s wrote byte %zu (%02x -> %02x), not its own", name, i, o[i], m[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    uint8_t sel = fuzz_u8(&in), shape, frame[MAX_FRAME + 1024];
    uint32_t kind = sel >= 0xf8 ? sel : 1 + sel % SK_MALFORM_KIND_COUNT;
    uint64_t draw = fuzz_uint(&in, 8);
    size_t len, cap, room;
    uint8_t *a, *b, *parsed;
    struct sk_udp_view u;
    int valid, r, r2, want;

    shape = fuzz_u8(&in);
    room = fuzz_uint(&in, 2) % (SK_MALFORM_MAX_GROWTH + 1);
    if (shape & SHAPE_VALID) {
        len = build_valid(&in, shape, frame);
    } else {
        len = in.left < MAX_FRAME ? in.left : MAX_FRAME;
        memcpy(frame, in.p, len);
    }
    valid = sk_udp_parse(frame, len, SK_SEED_PAYLOAD_LEN, &u) == SK_PARSE_OK;
    cap = len + room;
    a = malloc(cap + 1);
    b = malloc(cap + 1);
    FUZZ_CHECK(a != NULL && b != NULL, "out of memory");
    memcpy(a, frame, len);
    memcpy(b, frame, len);
    r = sk_malform_apply(kind, draw, a, (uint32_t)len, (uint32_t)cap);
    r2 = sk_malform_apply(kind, draw, b, (uint32_t)len, (uint32_t)cap);
    FUZZ_CHECK(r == -EINVAL || r == -ENOSPC || (r >= 0 && (size_t)r <= cap),
               "kind %u: result %d (len %zu cap %zu)", kind, r, len, cap);
    FUZZ_CHECK(r == r2 && (r < 0 || memcmp(a, b, (size_t)r) == 0),
               "kind %u, draw %llu: not deterministic", kind, (unsigned long long)draw);
    if (sk_malform_name(kind) == NULL || !ff_locate(frame, len).ok)
        FUZZ_CHECK(r == -EINVAL, "kind %u on a frame it cannot open: %d", kind, r);
    if (r >= 0) {
        parsed = malloc((size_t)r + 1);
        FUZZ_CHECK(parsed != NULL, "out of memory");
        memcpy(parsed, a, (size_t)r);
        want = sk_udp_parse(parsed, (size_t)r, SK_SEED_PAYLOAD_LEN, &u);
        FUZZ_CHECK(want >= 0 && want <= SK_MALFORMED_REASON_COUNT, "parse %d", want);
        if (valid) {
            FUZZ_CHECK(want == sk_malform_expected(kind), "%s on a valid frame: parser says %s",
                       sk_malform_name(kind), sk_malformed_reason_name(want));
            check_bytes(kind, frame, len, parsed, (size_t)r);
        }
        free(parsed);
    }
    free(a);
    free(b);
    return 0;
}
