/*
 * test_craft.c - templates to many frames: variants equal what sk_seed_build
 * makes for the same fields (counters, the generator's random draws, flows,
 * both checksums), pcap and pcapng record layout, capacity limits checked
 * with exact-size heap buffers (so ASan sees any overrun), bad templates
 * rejected with the offending field's index, and sk_craft_wrap framing
 * payloads with lengths and checksums that the seed parser accepts.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "simkit.h"
#include "check.h"

#define SK_SEED_OFF_UDP_CSUM 40 /* Eth 14 + IPv4 20 + UDP checksum at 6 */

#define N_VARIANTS 1000
#define FUZZ_ROUNDS 20000

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static struct sk_craft_field field(uint32_t offset, uint8_t width, uint8_t be,
                                   uint8_t mode, uint64_t start, uint64_t step,
                                   uint64_t span, double divisor)
{
    struct sk_craft_field f;

    memset(&f, 0, sizeof(f));
    f.offset = offset;
    f.width = width;
    f.big_endian = be;
    f.mode = mode;
    f.start = start;
    f.step = step;
    f.span = span;
    f.divisor = divisor;
    return f;
}

/* A seed template whose fields draw like sk_md_random (symbol, price, size). */
static void seed_template(struct sk_craft_template *t, uint8_t *frame, int udp_csum)
{
    struct sk_seed_fields sf;

    sk_seed_fields_default(&sf);
    sf.udp_checksum = (uint8_t)udp_csum;
    sk_seed_build(&sf, frame, SK_SEED_FRAME_LEN);
    memset(t, 0, sizeof(*t));
    t->frame = frame;
    t->frame_len = SK_SEED_FRAME_LEN;
    t->ip_offset = SK_ETH_HDR_LEN;
    t->udp_offset = SK_ETH_HDR_LEN + SK_IPV4_HDR_LEN;
    t->ip_checksum = 1;
    t->udp_checksum = udp_csum ? SK_CRAFT_UDP_CSUM_COMPUTE : SK_CRAFT_UDP_CSUM_ZERO;
    t->fields[0] = field(SK_SEED_OFF_SYMBOL_ID, 4, 0, SK_CRAFT_RANDOM, SK_MD_SYMBOL_MIN, 0,
                         SK_MD_SYMBOL_MAX - SK_MD_SYMBOL_MIN + 1, 0);
    t->fields[1] = field(SK_SEED_OFF_PRICE, 8, 0, SK_CRAFT_RANDOM_F64, SK_MD_PRICE_TICKS_MIN, 0,
                         SK_MD_PRICE_TICKS_END - SK_MD_PRICE_TICKS_MIN, 100.0);
    t->fields[2] = field(SK_SEED_OFF_SIZE, 4, 0, SK_CRAFT_RANDOM, SK_MD_SIZE_MIN, 0,
                         SK_MD_SIZE_MAX - SK_MD_SIZE_MIN + 1, 0);
    t->fields[3] = field(SK_SEED_OFF_SEQ, 8, 0, SK_CRAFT_COUNTER, 5, 1, 0, 0);
    t->fields[4] = field(SK_SEED_OFF_TIMESTAMP, 8, 0, SK_CRAFT_COUNTER, 1000, 7, 0, 0);
    t->field_count = 5;
}

static void test_variants_equal_seed_build(int udp_csum)
{
    static const struct sk_craft_flow flows[2] = {
        {0xC6120001, 0xC6120002, 10000, 20000},
        {0xC6120003, 0xC6120004, 10001, 20001},
    };
    uint8_t frame[SK_SEED_FRAME_LEN];
    struct sk_craft_template t;
    struct sk_craft *c;
    struct sk_seed_fields sf;
    struct sk_rng rng;
    struct sk_md_msg m;
    uint8_t *buf = malloc((size_t)N_VARIANTS * SK_SEED_FRAME_LEN);
    uint8_t want[SK_SEED_FRAME_LEN];
    const uint8_t *got;
    struct sk_seed_view v;
    size_t used;
    int32_t bad;
    int i, mismatches = 0;

    seed_template(&t, frame, udp_csum);
    t.flows = flows;
    t.flow_count = 2;
    CHECK_EQ_U(sk_craft_new(&t, &c, &bad), 0);
    sk_craft_reset(c, 42);
    CHECK_EQ_U(sk_craft_fill(c, buf, (size_t)N_VARIANTS * SK_SEED_FRAME_LEN, N_VARIANTS,
                             SK_CRAFT_OUT_FRAMES, 0, 0, &used), N_VARIANTS);
    CHECK_EQ_U(used, (size_t)N_VARIANTS * SK_SEED_FRAME_LEN);
    CHECK_EQ_U(sk_craft_index(c), N_VARIANTS);

    sk_rng_seed(&rng, 42);
    for (i = 0; i < N_VARIANTS; i++) {
        sk_seed_fields_default(&sf);
        sf.udp_checksum = (uint8_t)udp_csum;
        sk_md_random(&rng, &m);
        sf.symbol_id = m.symbol_id;
        sf.price = m.price;
        sf.size = m.size;
        sf.seq = 5 + (uint64_t)i;
        sf.timestamp = 1000 + 7 * (uint64_t)i;
        sf.src_ip = flows[i % 2].src_ip;
        sf.dst_ip = flows[i % 2].dst_ip;
        sf.src_port = flows[i % 2].src_port;
        sf.dst_port = flows[i % 2].dst_port;
        sk_seed_build(&sf, want, sizeof(want));
        /* a template does not keep the seed trailer's check (nor, with it,
         * the UDP checksum) in step: every other byte is sk_seed_build's, and
         * the UDP checksum craft computed holds for its own bytes */
        got = buf + (size_t)i * SK_SEED_FRAME_LEN;
        if (memcmp(want, got, SK_SEED_OFF_UDP_CSUM) != 0 ||
            memcmp(want + SK_SEED_OFF_UDP_CSUM + 2, got + SK_SEED_OFF_UDP_CSUM + 2,
                   SK_SEED_OFF_CHECK - SK_SEED_OFF_UDP_CSUM - 2) != 0 ||
            sk_seed_parse(got, SK_SEED_FRAME_LEN, &v) != SK_PARSE_OK ||
            (v.udp_checksum != 0) != (udp_csum != 0))
            mismatches++;
    }
    CHECK_EQ_U(mismatches, 0);
    sk_craft_free(c);
    free(buf);
}

static void test_chunks_continue_the_sequence(void)
{
    uint8_t frame[SK_SEED_FRAME_LEN];
    struct sk_craft_template t;
    struct sk_craft *c;
    uint8_t *one = malloc(10 * SK_SEED_FRAME_LEN), *two = malloc(10 * SK_SEED_FRAME_LEN);
    size_t used;
    int32_t bad;

    seed_template(&t, frame, 1);
    CHECK_EQ_U(sk_craft_new(&t, &c, &bad), 0);
    sk_craft_reset(c, 9);
    CHECK_EQ_U(sk_craft_fill(c, one, 10 * SK_SEED_FRAME_LEN, 10, 0, 0, 0, &used), 10);
    sk_craft_reset(c, 9);
    CHECK_EQ_U(sk_craft_fill(c, two, 3 * SK_SEED_FRAME_LEN, 3, 0, 0, 0, &used), 3);
    CHECK_EQ_U(sk_craft_fill(c, two + used, 7 * SK_SEED_FRAME_LEN, 7, 0, 0, 0, &used), 7);
    CHECK(memcmp(one, two, 10 * SK_SEED_FRAME_LEN) == 0);
    sk_craft_free(c);
    free(one);
    free(two);
}

static void test_pcap_and_pcapng_records(void)
{
    uint8_t frame[SK_SEED_FRAME_LEN];
    struct sk_craft_template t;
    struct sk_craft *c;
    size_t rec = sk_craft_record_len(SK_SEED_FRAME_LEN, SK_CRAFT_OUT_PCAP);
    size_t epb = sk_craft_record_len(SK_SEED_FRAME_LEN, SK_CRAFT_OUT_PCAPNG);
    uint8_t *buf;
    size_t used;
    int32_t bad;
    uint64_t ts = 1700000000ULL * 1000000000ULL + 999999999ULL;

    CHECK_EQ_U(rec, 16 + 78);
    CHECK_EQ_U(epb, 32 + 80); /* 78 padded to 80 */
    CHECK_EQ_U(sk_craft_record_len(10, 99), 0);
    seed_template(&t, frame, 0);
    CHECK_EQ_U(sk_craft_new(&t, &c, &bad), 0);

    buf = malloc(2 * rec);
    CHECK_EQ_U(sk_craft_fill(c, buf, 2 * rec, 2, SK_CRAFT_OUT_PCAP, ts, 1, &used), 2);
    CHECK_EQ_U(le32(buf), 1700000000U);
    CHECK_EQ_U(le32(buf + 4), 999999999U);
    CHECK_EQ_U(le32(buf + 8), 78);
    CHECK_EQ_U(le32(buf + 12), 78);
    CHECK_EQ_U(le32(buf + rec), 1700000001U); /* +1 ns rolls the second */
    CHECK_EQ_U(le32(buf + rec + 4), 0);
    free(buf);

    buf = malloc(epb);
    sk_craft_reset(c, 0);
    CHECK_EQ_U(sk_craft_fill(c, buf, epb, 5, SK_CRAFT_OUT_PCAPNG, ts, 0, &used), 1);
    CHECK_EQ_U(used, epb);
    CHECK_EQ_U(le32(buf), 6);
    CHECK_EQ_U(le32(buf + 4), epb);
    CHECK_EQ_U(le32(buf + 12), (uint32_t)(ts >> 32));
    CHECK_EQ_U(le32(buf + 16), (uint32_t)ts);
    CHECK_EQ_U(le32(buf + 20), 78);
    CHECK_EQ_U(buf[28 + 78], 0);
    CHECK_EQ_U(buf[28 + 79], 0);
    CHECK_EQ_U(le32(buf + epb - 4), epb);
    free(buf);
    sk_craft_free(c);
}

static void test_capacity_is_respected(void)
{
    uint8_t frame[SK_SEED_FRAME_LEN];
    struct sk_craft_template t;
    struct sk_craft *c;
    uint8_t *buf = malloc(3 * SK_SEED_FRAME_LEN - 1);
    size_t used;
    int32_t bad;

    seed_template(&t, frame, 1);
    CHECK_EQ_U(sk_craft_new(&t, &c, &bad), 0);
    CHECK_EQ_U(sk_craft_fill(c, buf, 3 * SK_SEED_FRAME_LEN - 1, 100, 0, 0, 0, &used), 2);
    CHECK_EQ_U(used, 2 * SK_SEED_FRAME_LEN);
    CHECK_EQ_U(sk_craft_fill(c, NULL, 0, 5, 0, 0, 0, &used), 0);
    CHECK(sk_craft_fill(c, buf, 10, 1, 7, 0, 0, &used) == -EINVAL);
    CHECK(sk_craft_fill(NULL, buf, 10, 1, 0, 0, 0, &used) == -EINVAL);
    sk_craft_free(c);
    free(buf);
}

static void expect_bad(struct sk_craft_template *t, int32_t want_field)
{
    struct sk_craft *c = (struct sk_craft *)1;
    int32_t bad = 1234;

    CHECK(sk_craft_new(t, &c, &bad) == -EINVAL);
    CHECK(c == NULL);
    CHECK_EQ_U((uint32_t)bad, (uint32_t)want_field);
}

static void test_bad_templates_name_the_field(void)
{
    uint8_t frame[SK_SEED_FRAME_LEN];
    struct sk_craft_template t;
    struct sk_craft_flow flow = {1, 2, 3, 4};

    seed_template(&t, frame, 1);
    t.fields[3].offset = SK_SEED_FRAME_LEN - 7; /* 8 bytes past the end */
    expect_bad(&t, 3);
    seed_template(&t, frame, 1);
    t.fields[1].width = 3;
    expect_bad(&t, 1);
    seed_template(&t, frame, 1);
    t.fields[0].start = 0xFFFFFFFF; /* start + span - 1 overflows u32 */
    expect_bad(&t, 0);
    seed_template(&t, frame, 1);
    t.fields[2].span = (1ULL << 32) + 1;
    expect_bad(&t, 2);
    seed_template(&t, frame, 1);
    t.fields[1].divisor = 0.0;
    expect_bad(&t, 1);
    seed_template(&t, frame, 1);
    t.fields[4].offset = SK_SEED_OFF_SEQ + 4; /* overlaps field 3 */
    expect_bad(&t, 4);
    seed_template(&t, frame, 1);
    t.fields[4] = field(SK_ETH_HDR_LEN + 10, 2, 1, SK_CRAFT_COUNTER, 0, 1, 0, 0);
    expect_bad(&t, 4); /* the IPv4 checksum it recomputes */
    seed_template(&t, frame, 1);
    t.flows = &flow;
    t.flow_count = 1;
    t.fields[4] = field(SK_ETH_HDR_LEN + 20, 2, 1, SK_CRAFT_COUNTER, 0, 1, 0, 0);
    expect_bad(&t, 4); /* the source port the flows write */

    seed_template(&t, frame, 1);
    t.frame_len = 30; /* IPv4 header cut */
    t.field_count = 0;
    expect_bad(&t, -1);
    seed_template(&t, frame, 1);
    t.udp_offset = SK_CRAFT_NO_OFFSET;
    t.field_count = 0;
    expect_bad(&t, -1); /* UDP checksum without UDP */
    seed_template(&t, frame, 1);
    t.field_count = SK_CRAFT_MAX_FIELDS + 1;
    expect_bad(&t, -1);
    seed_template(&t, frame, 1);
    t.flow_count = 1;
    t.flows = NULL;
    expect_bad(&t, -1);
}

static void test_wrap_frames_payloads(void)
{
    static const uint32_t lens[3] = {SK_SEED_PAYLOAD_LEN, SK_SEED_PAYLOAD_LEN + 9, 300};
    uint8_t frame[SK_SEED_FRAME_LEN], data[SK_SEED_PAYLOAD_LEN * 2 + 9 + 300];
    struct sk_craft_template t;
    struct sk_seed_view v;
    struct sk_craft *c;
    size_t cap = 3 * 16 + 3 * 42 + sizeof(data), used, at = 0;
    uint8_t *buf = malloc(cap);
    int32_t bad;
    int i;

    for (i = 0; i < (int)sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + 1);
    seed_template(&t, frame, 1);
    t.frame_len = SK_ETH_HDR_LEN + SK_IPV4_HDR_LEN + SK_UDP_HDR_LEN; /* headers only */
    frame[t.udp_offset + 4] = 0;
    frame[t.udp_offset + 5] = SK_UDP_HDR_LEN;
    t.fields[0] = field(SK_ETH_HDR_LEN + 4, 2, 1, SK_CRAFT_COUNTER, 100, 1, 0, 0); /* ip id */
    t.field_count = 1;
    CHECK_EQ_U(sk_craft_new(&t, &c, &bad), 0);
    CHECK_EQ_U(sk_craft_wrap(c, data, sizeof(data), lens, 3, buf, cap, SK_CRAFT_OUT_PCAP, 0, 1,
                             &used), 3);
    CHECK_EQ_U(used, cap);
    for (i = 0; i < 3; i++) {
        uint32_t len = le32(buf + at + 8);

        CHECK_EQ_U(len, 42 + lens[i]);
        CHECK_EQ_U(sk_seed_parse(buf + at + 16, len, &v), SK_PARSE_OK); /* both checksums */
        CHECK_EQ_U(v.payload_len, lens[i]);
        CHECK_EQ_U(buf[at + 16 + 18] << 8 | buf[at + 16 + 19], 100 + i);
        at += 16 + len;
    }
    /* payload lengths beyond the data, oversize payloads: nothing written */
    {
        uint32_t too_long[1] = {sizeof(data) + 1}, huge[1] = {SK_CRAFT_MAX_FRAME};

        CHECK(sk_craft_wrap(c, data, sizeof(data), too_long, 1, buf, cap, 0, 0, 0, &used) ==
              -EINVAL);
        CHECK(sk_craft_wrap(c, data, sizeof(data), huge, 1, buf, cap, 0, 0, 0, &used) ==
              -EMSGSIZE);
        CHECK_EQ_U(used, 0);
    }
    sk_craft_free(c);

    seed_template(&t, frame, 1); /* a whole frame is not a header template */
    CHECK_EQ_U(sk_craft_new(&t, &c, &bad), 0);
    CHECK(sk_craft_wrap(c, data, sizeof(data), lens, 1, buf, cap, 0, 0, 0, &used) == -EINVAL);
    sk_craft_free(c);
    free(buf);
}

/* Random templates and fields: whatever sk_craft_new accepts, fill must stay
 * within an exact-size heap copy of the frame and an exact-size buffer. */
static void test_fuzz_templates(void)
{
    static const uint8_t widths[6] = {1, 2, 3, 4, 6, 8};
    struct sk_rng r;
    int round, accepted = 0;

    sk_rng_seed(&r, 7);
    for (round = 0; round < FUZZ_ROUNDS; round++) {
        struct sk_craft_template t;
        struct sk_craft *c = NULL;
        uint32_t len = 1 + sk_rng_below(&r, 120), i;
        uint8_t *frame = malloc(len), *buf;
        size_t cap, used;
        int32_t bad;

        for (i = 0; i < len; i++)
            frame[i] = (uint8_t)sk_rng_next(&r);
        if (len > 42 && sk_rng_below(&r, 8)) { /* mostly an IPv4/UDP frame */
            frame[14] = 0x45;
            frame[38] = 0;
            frame[39] = (uint8_t)(sk_rng_below(&r, 4) ? len - 34 : sk_rng_below(&r, 100));
        }
        memset(&t, 0, sizeof(t));
        t.frame = frame;
        t.frame_len = len;
        t.ip_offset = sk_rng_below(&r, 2) ? 14 : SK_CRAFT_NO_OFFSET;
        t.udp_offset = sk_rng_below(&r, 2) ? 34 : SK_CRAFT_NO_OFFSET;
        t.ip_checksum = (uint8_t)sk_rng_below(&r, 2);
        t.udp_checksum = (uint8_t)sk_rng_below(&r, 3);
        t.field_count = sk_rng_below(&r, 4);
        for (i = 0; i < t.field_count; i++)
            t.fields[i] = field(sk_rng_below(&r, len + 8), widths[sk_rng_below(&r, 6)],
                                (uint8_t)sk_rng_below(&r, 2), (uint8_t)sk_rng_below(&r, 4),
                                sk_rng_below(&r, 3), 1, sk_rng_below(&r, 5), 10.0);
        if (sk_craft_new(&t, &c, &bad) == 0) {
            accepted++;
            cap = sk_craft_record_len(len, SK_CRAFT_OUT_PCAPNG) * 3;
            buf = malloc(cap);
            CHECK_EQ_U(sk_craft_fill(c, buf, cap, 3, SK_CRAFT_OUT_PCAPNG, 0, 1, &used), 3);
            free(buf);
            sk_craft_free(c);
        }
        free(frame);
    }
    CHECK(accepted > FUZZ_ROUNDS / 50); /* the fuzz reaches fill, not only new */
}

int main(void)
{
    test_variants_equal_seed_build(0);
    test_variants_equal_seed_build(1);
    test_chunks_continue_the_sequence();
    test_pcap_and_pcapng_records();
    test_capacity_is_respected();
    test_bad_templates_name_the_field();
    test_wrap_frames_payloads();
    test_fuzz_templates();
    return CHECK_DONE();
}
