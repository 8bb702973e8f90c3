/*
 * test_packet.c - seed frame build/parse round trips, every malformed
 * reason, VLAN tags, padding, and parsing of every truncation and of random
 * corruptions from exact-size heap copies (so ASan sees any over-read).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "simkit.h"
#include "check.h"

#define FUZZ_ROUNDS 200000
#define BIG_FRAME 256

static int parse_exact(const uint8_t *frame, size_t len, struct sk_seed_view *v)
{
    uint8_t *copy = malloc(len ? len : 1);
    int r;

    memcpy(copy, frame, len);
    r = sk_seed_parse(copy, len, v);
    free(copy);
    return r;
}

static uint32_t sk_le32_at(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void fix_ip_csum(uint8_t *ip, size_t ihl_bytes)
{
    uint32_t sum = 0;
    size_t i;

    ip[10] = ip[11] = 0;
    for (i = 0; i < ihl_bytes; i += 2)
        sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    sum = ~sum & 0xffff;
    ip[10] = (uint8_t)(sum >> 8);
    ip[11] = (uint8_t)sum;
}

static size_t build_default(uint8_t *buf, struct sk_seed_fields *f)
{
    sk_seed_fields_default(f);
    f->timestamp = 0x1122334455667788ULL;
    f->symbol_id = 42;
    f->price = 123.45;
    f->size = 300;
    f->seq = 7;
    return (size_t)sk_seed_build(f, buf, BIG_FRAME);
}

static void test_round_trip(void)
{
    uint8_t buf[BIG_FRAME];
    struct sk_seed_fields f;
    struct sk_seed_view v;
    size_t len = build_default(buf, &f);

    CHECK_EQ_U(len, SK_SEED_FRAME_LEN);
    CHECK_EQ_U(sk_seed_parse(buf, len, &v), SK_PARSE_OK);
    CHECK_EQ_U(v.timestamp, 0x1122334455667788ULL);
    CHECK_EQ_U(v.symbol_id, 42);
    CHECK(v.price == 123.45);
    CHECK_EQ_U(v.size, 300);
    CHECK_EQ_U(v.seq, 7);
    CHECK_EQ_U(v.payload_offset, SK_SEED_PAYLOAD_OFFSET);
    CHECK_EQ_U(v.payload_len, SK_SEED_PAYLOAD_LEN);
    CHECK_EQ_U(v.src_ip, SK_DEFAULT_SRC_IP);
    CHECK_EQ_U(v.dst_port, SK_DEFAULT_DST_PORT);
    CHECK_EQ_U(v.udp_checksum, 0);
    /* wire details: DF, TTL 64, UDP, addresses, LE message */
    CHECK_EQ_U(buf[12], 0x08);
    CHECK_EQ_U(buf[14], 0x45);
    CHECK_EQ_U(buf[20], 0x40);
    CHECK_EQ_U(buf[22], 64);
    CHECK_EQ_U(buf[23], 17);
    CHECK_EQ_U(buf[26], 198);
    CHECK_EQ_U(buf[29], 1);
    CHECK_EQ_U(buf[42], 0x88); /* timestamp little-endian */
    CHECK_EQ_U(buf[66], 7);    /* trailer seq little-endian */
    CHECK_EQ_U(buf[0], 0x02);
    CHECK_EQ_U(buf[5], 0x02);  /* dst MAC ...:02 */
    CHECK_EQ_U(buf[11], 0x01); /* src MAC ...:01 */

    /* UDP checksum on: non-zero and verified; corrupting payload is caught */
    f.udp_checksum = 1;
    CHECK_EQ_U(sk_seed_build(&f, buf, sizeof(buf)), SK_SEED_FRAME_LEN);
    CHECK_EQ_U(sk_seed_parse(buf, SK_SEED_FRAME_LEN, &v), SK_PARSE_OK);
    CHECK(v.udp_checksum != 0);
    buf[60] ^= 0x10;
    CHECK_EQ_U(sk_seed_parse(buf, SK_SEED_FRAME_LEN, &v), SK_MALFORMED_UDP_CHECKSUM);

    CHECK(sk_seed_build(&f, buf, SK_SEED_FRAME_LEN - 1) == -ENOSPC);
    CHECK(sk_seed_build(NULL, buf, sizeof(buf)) == -EINVAL);
    CHECK(sk_seed_parse(NULL, 0, &v) == -EINVAL);
}

static void test_write_msg(void)
{
    uint8_t buf[BIG_FRAME];
    struct sk_seed_fields f;
    struct sk_seed_view v;
    struct sk_md_msg m = {.timestamp = 99, .symbol_id = 5, .price = 1.5, .size = 10};

    struct sk_seed_key key;

    build_default(buf, &f);
    sk_seed_key_init(&key, 5);
    sk_seed_write_msg(buf, &m, 123456789, &key, 1);
    CHECK_EQ_U(sk_seed_parse(buf, SK_SEED_FRAME_LEN, &v), SK_PARSE_OK);
    CHECK_EQ_U(v.seq, 123456789);
    CHECK_EQ_U(v.timestamp, 99);
    CHECK(v.price == 1.5);
    CHECK_EQ_U(v.check, sk_seed_check(&key, buf + SK_SEED_PAYLOAD_OFFSET));
}

/* The trailer's keyed check: written where the layout says, over the message
 * and the sequence; every single-bit flip of the 36 payload bytes, a payload
 * read a few bytes off (a fixed-offset misparse) and another run's key all
 * fail it. */
static void test_check(void)
{
    uint8_t buf[BIG_FRAME];
    struct sk_seed_fields f;
    struct sk_seed_key key, other;
    const uint8_t *pl = buf + SK_SEED_PAYLOAD_OFFSET;
    uint32_t stored;
    int bit, shift;

    build_default(buf, &f); /* key_seed 0 */
    sk_seed_key_init(&key, 0);
    sk_seed_key_init(&other, 1);
    stored = sk_le32_at(buf + SK_SEED_OFF_CHECK);
    CHECK_EQ_U(SK_SEED_OFF_CHECK, SK_SEED_PAYLOAD_OFFSET + SK_SEED_CHECKED_LEN);
    CHECK_EQ_U(stored, sk_seed_check(&key, pl));
    CHECK(stored != sk_seed_check(&other, pl));
    for (bit = 0; bit < SK_SEED_PAYLOAD_LEN * 8; bit++) {
        buf[SK_SEED_PAYLOAD_OFFSET + bit / 8] ^= (uint8_t)(1u << (bit % 8));
        CHECK(sk_le32_at(buf + SK_SEED_OFF_CHECK) != sk_seed_check(&key, pl));
        buf[SK_SEED_PAYLOAD_OFFSET + bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    for (shift = -8; shift <= 8; shift += 4) {
        if (shift == 0)
            continue;
        CHECK(sk_le32_at(pl + shift + SK_SEED_CHECKED_LEN) != sk_seed_check(&key, pl + shift));
    }
}

static void test_reasons(void)
{
    uint8_t base[BIG_FRAME], b[BIG_FRAME];
    struct sk_seed_fields f;
    struct sk_seed_view v;
    size_t len = build_default(base, &f);
    int r;

    CHECK_EQ_U(sk_malformed_reason_count(), SK_MALFORMED_REASON_COUNT);
    CHECK(strcmp(sk_malformed_reason_name(0), "ok") == 0);
    CHECK(strcmp(sk_malformed_reason_name(SK_MALFORMED_RUNT), "runt") == 0);
    CHECK(strcmp(sk_malformed_reason_name(SK_MALFORMED_PAYLOAD_SHORT), "payload_short") == 0);
    CHECK(sk_malformed_reason_name(SK_MALFORMED_REASON_COUNT + 1) == NULL);
    CHECK(sk_malformed_reason_name(-1) == NULL);
    for (r = 0; r <= SK_MALFORMED_REASON_COUNT; r++)
        CHECK(sk_malformed_reason_name(r) != NULL);

    CHECK_EQ_U(parse_exact(base, 13, &v), SK_MALFORMED_RUNT);
    CHECK_EQ_U(parse_exact(base, 0, &v), SK_MALFORMED_RUNT);

    memcpy(b, base, len);
    b[12] = 0x86, b[13] = 0xdd; /* IPv6 */
    CHECK_EQ_U(parse_exact(b, len, &v), SK_MALFORMED_ETHERTYPE);

    CHECK_EQ_U(parse_exact(base, 14 + 19, &v), SK_MALFORMED_IP_TRUNCATED);

    memcpy(b, base, len);
    b[14] = 0x65;
    CHECK_EQ_U(parse_exact(b, len, &v), SK_MALFORMED_IP_VERSION);

    memcpy(b, base, len);
    b[14] = 0x44;
    CHECK_EQ_U(parse_exact(b, len, &v), SK_MALFORMED_IP_IHL);
    memcpy(b, base, len);
    b[14] = 0x4f; /* 60-byte header, frame has 60 bytes of IP: ok for ihl */
    CHECK_EQ_U(parse_exact(b, 14 + 59, &v), SK_MALFORMED_IP_IHL);

    memcpy(b, base, len);
    b[22] = 63; /* TTL changed without fixing the checksum */
    CHECK_EQ_U(parse_exact(b, len, &v), SK_MALFORMED_IP_CHECKSUM);

    memcpy(b, base, len);
    b[16] = 0, b[17] = 27; /* < 20 + 8 */
    fix_ip_csum(b + 14, 20);
    CHECK_EQ_U(parse_exact(b, len, &v), SK_MALFORMED_IP_TOTAL_LENGTH);
    memcpy(b, base, len);
    b[16] = 0, b[17] = 65; /* one more than present */
    fix_ip_csum(b + 14, 20);
    CHECK_EQ_U(parse_exact(b, len, &v), SK_MALFORMED_IP_TOTAL_LENGTH);
    CHECK_EQ_U(parse_exact(base, len - 1, &v), SK_MALFORMED_IP_TOTAL_LENGTH);

    memcpy(b, base, len);
    b[20] = 0x20; /* MF */
    fix_ip_csum(b + 14, 20);
    CHECK_EQ_U(parse_exact(b, len, &v), SK_MALFORMED_IP_FRAGMENT);
    memcpy(b, base, len);
    b[20] = 0x40, b[21] = 0x01; /* DF + offset 8 */
    fix_ip_csum(b + 14, 20);
    CHECK_EQ_U(parse_exact(b, len, &v), SK_MALFORMED_IP_FRAGMENT);

    memcpy(b, base, len);
    b[23] = 6;
    fix_ip_csum(b + 14, 20);
    CHECK_EQ_U(parse_exact(b, len, &v), SK_MALFORMED_IP_PROTOCOL);

    memcpy(b, base, len);
    b[38] = 0, b[39] = 7;
    CHECK_EQ_U(parse_exact(b, len, &v), SK_MALFORMED_UDP_LENGTH);
    memcpy(b, base, len);
    b[38] = 0, b[39] = 45;
    CHECK_EQ_U(parse_exact(b, len, &v), SK_MALFORMED_UDP_LENGTH);

    memcpy(b, base, len);
    b[38] = 0, b[39] = 8 + 35;
    CHECK_EQ_U(parse_exact(b, len, &v), SK_MALFORMED_PAYLOAD_SHORT);
    /* a reference-design message without trailer is too short for simkit */
    memcpy(b, base, len);
    b[16] = 0, b[17] = 20 + 8 + 24;
    fix_ip_csum(b + 14, 20);
    b[38] = 0, b[39] = 8 + 24;
    CHECK_EQ_U(parse_exact(b, 14 + 52, &v), SK_MALFORMED_PAYLOAD_SHORT);
}

static void test_padding_options_vlan(void)
{
    uint8_t base[BIG_FRAME], b[BIG_FRAME];
    struct sk_seed_fields f;
    struct sk_seed_view v;
    size_t len = build_default(base, &f);

    /* Ethernet padding beyond the IP total length is fine */
    memcpy(b, base, len);
    memset(b + len, 0xee, 16);
    CHECK_EQ_U(parse_exact(b, len + 16, &v), SK_PARSE_OK);
    CHECK_EQ_U(v.seq, 7);

    /* IP options: IHL 6, 4 bytes of NOP options, payload moves */
    memcpy(b, base, 34);
    b[14] = 0x46;
    b[16] = 0, b[17] = 68;
    memset(b + 34, 0x01, 4);
    memcpy(b + 38, base + 34, len - 34);
    fix_ip_csum(b + 14, 24);
    CHECK_EQ_U(parse_exact(b, len + 4, &v), SK_PARSE_OK);
    CHECK_EQ_U(v.payload_offset, 46);
    CHECK_EQ_U(v.seq, 7);

    /* one 802.1Q tag, then QinQ (0x88a8 outer + 0x8100 inner) */
    memcpy(b, base, 12);
    b[12] = 0x81, b[13] = 0x00, b[14] = 0x00, b[15] = 0x05;
    memcpy(b + 16, base + 12, len - 12);
    CHECK_EQ_U(parse_exact(b, len + 4, &v), SK_PARSE_OK);
    CHECK_EQ_U(v.vlan_count, 1);
    CHECK_EQ_U(v.payload_offset, 46);
    CHECK_EQ_U(parse_exact(b, 17, &v), SK_MALFORMED_RUNT); /* tag cut */

    memcpy(b, base, 12);
    b[12] = 0x88, b[13] = 0xa8, b[14] = 0, b[15] = 1;
    b[16] = 0x81, b[17] = 0x00, b[18] = 0, b[19] = 2;
    memcpy(b + 20, base + 12, len - 12);
    CHECK_EQ_U(parse_exact(b, len + 8, &v), SK_PARSE_OK);
    CHECK_EQ_U(v.vlan_count, 2);
    CHECK_EQ_U(v.seq, 7);

    /* a third tag is not looked through */
    memcpy(b, base, 12);
    b[12] = 0x81, b[13] = 0x00, b[14] = 0, b[15] = 1;
    b[16] = 0x81, b[17] = 0x00, b[18] = 0, b[19] = 2;
    b[20] = 0x81, b[21] = 0x00, b[22] = 0, b[23] = 3;
    memcpy(b + 24, base + 12, len - 12);
    CHECK_EQ_U(parse_exact(b, len + 12, &v), SK_MALFORMED_ETHERTYPE);
}

static void test_truncations_and_fuzz(void)
{
    uint8_t base[BIG_FRAME], b[BIG_FRAME];
    struct sk_seed_fields f;
    struct sk_seed_view v;
    size_t len = build_default(base, &f), n;
    struct sk_rng rng;
    int i, r;

    for (n = 0; n < len; n++) {
        r = parse_exact(base, n, &v);
        CHECK(r > 0 && r <= SK_MALFORMED_REASON_COUNT);
    }
    sk_rng_seed(&rng, 12345);
    for (i = 0; i < FUZZ_ROUNDS; i++) {
        int flips = 1 + (int)sk_rng_below(&rng, 4), k;

        memcpy(b, base, len);
        for (k = 0; k < flips; k++)
            b[sk_rng_below(&rng, (uint32_t)len)] ^= (uint8_t)(1 + sk_rng_below(&rng, 255));
        n = sk_rng_below(&rng, 4) == 0 ? sk_rng_below(&rng, (uint32_t)len + 1) : len;
        r = parse_exact(b, n, &v);
        CHECK(r >= 0 && r <= SK_MALFORMED_REASON_COUNT);
        if (r == SK_PARSE_OK)
            CHECK(v.payload_offset + v.payload_len <= n);
    }
}

static void test_rng_fields(void)
{
    struct sk_rng a, b;
    struct sk_md_msg m1, m2;
    int i;

    sk_rng_seed(&a, 1);
    sk_rng_seed(&b, 1);
    for (i = 0; i < 100000; i++) {
        sk_md_random(&a, &m1);
        sk_md_random(&b, &m2);
        CHECK(m1.symbol_id == m2.symbol_id && m1.size == m2.size &&
              m1.price == m2.price);
        CHECK(m1.symbol_id >= 1 && m1.symbol_id <= 1000);
        CHECK(m1.size >= 1 && m1.size <= 10000);
        CHECK(m1.price >= 1.0 && m1.price < 1000.0);
        /* a multiple of 0.01 */
        CHECK((double)(long)(m1.price * 100.0 + 0.5) / 100.0 == m1.price);
    }
    sk_rng_seed(&b, 2);
    CHECK(sk_rng_next(&a) != sk_rng_next(&b));
}

int main(void)
{
    test_round_trip();
    test_write_msg();
    test_check();
    test_reasons();
    test_padding_options_vlan();
    test_truncations_and_fuzz();
    test_rng_fields();
    return CHECK_DONE();
}
