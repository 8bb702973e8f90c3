/*
 * fuzz_seed_parse.c - libFuzzer target for sk_seed_parse(), the receiver's
 * bounds-checked frame parser.
 *
 * The input is one raw Ethernet frame, so a `simkit corpus --raw-dir` output
 * is a seed corpus as is. libFuzzer hands the bytes over in a heap block of
 * exactly `size` bytes, so ASan reports any read outside [frame, frame+len).
 * Beyond memory safety, each input checks:
 *   - the result is 0 or a named SK_MALFORMED_* code;
 *   - an accepted frame's view agrees with its bytes and lies inside it;
 *   - Ethernet padding after an accepted frame changes nothing, and cutting
 *     it to exactly L2 + IP total length changes nothing;
 *   - sk_seed_build() -> (0-2 VLAN tags) -> sk_seed_parse() round-trips the
 *     fields taken from the same bytes, with and without UDP checksum;
 *   - every malformation kind applied to an accepted frame (in a buffer of
 *     exactly the room it may use) gets the reaction sk_malform_expected()
 *     documents, or is refused as not applicable.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "simkit.h"
#include "compiler.h"
#include "fuzz_input.h"

#define PAD_LEN 64          /* at most what a NIC pads a short frame with */
#define PAD_BYTE 0xa5
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8

static uint16_t ip_header_sum(const uint8_t *ip, size_t ihl_bytes)
{
    uint32_t sum = 0;
    size_t i;

    for (i = 0; i < ihl_bytes; i += 2)
        sum += sk_be16(ip + i);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/* An accepted frame: the view must be what the bytes say, inside the frame. */
static void check_view(const uint8_t *f, size_t len,
                       const struct sk_seed_view *v)
{
    size_t l2, ihl, off = v->payload_offset;
    const uint8_t *ip, *udp;

    FUZZ_CHECK(v->vlan_count <= SK_VLAN_MAX_TAGS, "vlan_count %u",
               v->vlan_count);
    l2 = SK_ETH_HDR_LEN + (size_t)v->vlan_count * SK_VLAN_TAG_LEN;
    FUZZ_CHECK(l2 + SK_IPV4_HDR_LEN <= len, "l2 %zu len %zu", l2, len);
    ip = f + l2;
    ihl = (size_t)(ip[0] & 0x0f) * 4;
    FUZZ_CHECK((ip[0] >> 4) == 4 && ihl >= SK_IPV4_HDR_LEN, "ip[0] %#x",
               ip[0]);
    FUZZ_CHECK(ip_header_sum(ip, ihl) == 0xffff, "bad IP checksum accepted");
    FUZZ_CHECK(off == l2 + ihl + SK_UDP_HDR_LEN, "payload_offset %zu", off);
    FUZZ_CHECK(v->payload_len >= SK_SEED_PAYLOAD_LEN, "payload_len %u",
               v->payload_len);
    FUZZ_CHECK(off + v->payload_len <= len, "payload %zu+%u past len %zu", off,
               v->payload_len, len);
    FUZZ_CHECK(off + v->payload_len <= l2 + sk_be16(ip + 2),
               "payload past IP total length");
    udp = f + off - SK_UDP_HDR_LEN;
    FUZZ_CHECK(sk_be16(udp + 4) == v->payload_len + SK_UDP_HDR_LEN,
               "udp length %u payload_len %u", sk_be16(udp + 4),
               v->payload_len);
    FUZZ_CHECK(v->udp_checksum == sk_be16(udp + 6), "udp_checksum");
    FUZZ_CHECK(v->src_port == sk_be16(udp) && v->dst_port == sk_be16(udp + 2),
               "ports");
    FUZZ_CHECK(v->src_ip == sk_be32(ip + 12) && v->dst_ip == sk_be32(ip + 16),
               "addresses");
    FUZZ_CHECK(v->timestamp == sk_le64(f + off), "timestamp");
    FUZZ_CHECK(v->symbol_id == sk_le32(f + off + 8), "symbol_id");
    FUZZ_CHECK(sk_double_bits(v->price) == sk_le64(f + off + 12), "price");
    FUZZ_CHECK(v->size == sk_le32(f + off + 20), "size");
    FUZZ_CHECK(v->seq == sk_le64(f + off + SK_MD_MSG_LEN), "seq");
}

/* Parse a private copy of f[0..n) followed by pad bytes of padding. */
static int parse_copy(const uint8_t *f, size_t n, size_t pad,
                      struct sk_seed_view *v)
{
    uint8_t *buf = malloc(n + pad + 1); /* +1: malloc(0) may return NULL */
    int r;

    FUZZ_CHECK(buf != NULL, "out of memory");
    memcpy(buf, f, n);
    memset(buf + n, PAD_BYTE, pad);
    memset(v, 0, sizeof(*v));
    r = sk_seed_parse(buf, n + pad, v);
    free(buf);
    return r;
}

static void check_padding_and_trim(const uint8_t *f, size_t len,
                                   const struct sk_seed_view *v)
{
    struct sk_seed_view w;
    size_t l2 = SK_ETH_HDR_LEN + (size_t)v->vlan_count * SK_VLAN_TAG_LEN;
    size_t exact = l2 + sk_be16(f + l2 + 2);
    int r;

    r = parse_copy(f, len, PAD_LEN, &w);
    FUZZ_CHECK(r == SK_PARSE_OK && memcmp(&w, v, sizeof(w)) == 0,
               "%d bytes of padding changed the result to %d", PAD_LEN, r);
    r = parse_copy(f, exact, 0, &w);
    FUZZ_CHECK(r == SK_PARSE_OK && memcmp(&w, v, sizeof(w)) == 0,
               "cutting %zu bytes to the IP total length (%zu) gave %d", len,
               exact, r);
}

/* Fields from the input bytes -> sk_seed_build -> tags -> sk_seed_parse. */
static void check_roundtrip(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    struct sk_seed_fields f;
    struct sk_seed_view v;
    uint8_t *frame, *tagged;
    unsigned tags, i;
    uint8_t mode;
    size_t len;
    int r;

    sk_seed_fields_default(&f);
    mode = fuzz_u8(&in);
    if (mode & 1) { /* otherwise keep the defaults: seeds stay valid frames */
        for (i = 0; i < sizeof(f.src_mac); i++)
            f.src_mac[i] = fuzz_u8(&in);
        f.src_ip = (uint32_t)fuzz_uint(&in, 4);
        f.dst_ip = (uint32_t)fuzz_uint(&in, 4);
        f.src_port = (uint16_t)fuzz_uint(&in, 2);
        f.dst_port = (uint16_t)fuzz_uint(&in, 2);
        f.ip_id = (uint16_t)fuzz_uint(&in, 2);
        f.ttl = fuzz_u8(&in);
    }
    f.udp_checksum = (mode >> 1) & 1;
    tags = (mode >> 2) % (SK_VLAN_MAX_TAGS + 1);
    f.timestamp = fuzz_uint(&in, 8);
    f.symbol_id = (uint32_t)fuzz_uint(&in, 4);
    f.price = sk_bits_double(fuzz_uint(&in, 8));
    f.size = (uint32_t)fuzz_uint(&in, 4);
    f.seq = fuzz_uint(&in, 8);

    frame = malloc(SK_SEED_FRAME_LEN); /* exact: ASan checks the writes */
    FUZZ_CHECK(frame != NULL, "out of memory");
    FUZZ_CHECK(sk_seed_build(&f, frame, SK_SEED_FRAME_LEN - 1) == -ENOSPC,
               "short buffer accepted");
    r = sk_seed_build(&f, frame, SK_SEED_FRAME_LEN);
    FUZZ_CHECK(r == SK_SEED_FRAME_LEN, "sk_seed_build returned %d", r);

    len = SK_SEED_FRAME_LEN + tags * SK_VLAN_TAG_LEN;
    tagged = malloc(len);
    FUZZ_CHECK(tagged != NULL, "out of memory");
    memcpy(tagged, frame, 12);
    for (i = 0; i < tags; i++) {
        uint8_t *t = tagged + 12 + i * SK_VLAN_TAG_LEN;

        sk_put_be16(t, i == 0 && tags == 2 ? ETHERTYPE_QINQ : ETHERTYPE_VLAN);
        sk_put_be16(t + 2, (uint16_t)(f.ip_id & 0x0fff)); /* any TCI */
    }
    memcpy(tagged + 12 + tags * SK_VLAN_TAG_LEN, frame + 12,
           SK_SEED_FRAME_LEN - 12);

    memset(&v, 0, sizeof(v));
    r = sk_seed_parse(tagged, len, &v);
    FUZZ_CHECK(r == SK_PARSE_OK, "built frame (%u tags, udp_checksum %d) "
               "rejected: %s", tags, f.udp_checksum,
               sk_malformed_reason_name(r));
    check_view(tagged, len, &v);
    FUZZ_CHECK(v.vlan_count == tags, "vlan_count %u != %u", v.vlan_count,
               tags);
    FUZZ_CHECK(v.payload_len == SK_SEED_PAYLOAD_LEN, "payload_len %u",
               v.payload_len);
    FUZZ_CHECK(v.timestamp == f.timestamp && v.seq == f.seq &&
               v.symbol_id == f.symbol_id && v.size == f.size &&
               sk_double_bits(v.price) == sk_double_bits(f.price) &&
               v.src_ip == f.src_ip && v.dst_ip == f.dst_ip &&
               v.src_port == f.src_port && v.dst_port == f.dst_port,
               "fields did not round-trip");
    FUZZ_CHECK((v.udp_checksum != 0) == (f.udp_checksum != 0),
               "udp_checksum %#x for flag %d", v.udp_checksum, f.udp_checksum);

    /* A single flipped payload bit must be caught exactly when checksummed. */
    if (f.udp_checksum && size > 0) {
        size_t bit = data[size - 1] % (SK_SEED_PAYLOAD_LEN * 8);

        tagged[len - SK_SEED_PAYLOAD_LEN + bit / 8] ^= (uint8_t)(1u << (bit % 8));
        r = sk_seed_parse(tagged, len, &v);
        FUZZ_CHECK(r == SK_MALFORMED_UDP_CHECKSUM, "payload bit %zu flipped: "
                   "got %d", bit, r);
    }
    free(tagged);
    free(frame);
}

/* An accepted frame, damaged by each kind: the documented reaction. */
static void check_malformations(const uint8_t *f, size_t len)
{
    size_t cap = len + SK_MALFORM_MAX_GROWTH;
    uint8_t *buf = malloc(cap);
    struct sk_seed_view v;
    uint32_t kind;
    int got, r;

    FUZZ_CHECK(buf != NULL, "out of memory");
    for (kind = 1; kind <= SK_MALFORM_KIND_COUNT; kind++) {
        memcpy(buf, f, len);
        got = sk_malform_apply(kind, len * 2654435761u + kind, buf, (uint32_t)len,
                               (uint32_t)cap);
        FUZZ_CHECK(got >= 0 || got == -EINVAL, "%s: %d", sk_malform_name(kind), got);
        if (got < 0) /* IPv4 options past IHL 15, a tag beyond two, jumbo too big */
            continue;
        FUZZ_CHECK((size_t)got <= cap, "%s: length %d", sk_malform_name(kind), got);
        r = sk_seed_parse(buf, (size_t)got, &v);
        FUZZ_CHECK(r == sk_malform_expected(kind), "%s: parser says %s",
                   sk_malform_name(kind), sk_malformed_reason_name(r));
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sk_seed_view v;
    int r;

    memset(&v, 0, sizeof(v));
    r = sk_seed_parse(data, size, &v);
    FUZZ_CHECK(r >= 0 && r <= SK_MALFORMED_REASON_COUNT, "result %d", r);
    FUZZ_CHECK(sk_malformed_reason_name(r) != NULL, "no name for %d", r);
    if (r == SK_PARSE_OK) {
        check_view(data, size, &v);
        check_padding_and_trim(data, size, &v);
        check_malformations(data, size);
    }
    check_roundtrip(data, size);
    return 0;
}
