/*
 * test_engine_mold.c - the engine's MoldUDP64 parser (mold.c) on payloads and
 * whole frames: data, heartbeat, end of session, every malformed reason, a
 * short (heartbeat) frame with a UDP checksum, and the impairment SPEC text
 * the ground truth carries (truth.c), which must be simkit.impair's.
 */
#include <string.h>

#include "engine.h"
#include "check.h"

#define FRAME_CAP 256

/* A MoldUDP64 payload: session, seq, count, then blocks of the given sizes. */
static size_t mold(uint8_t *p, uint64_t seq, uint16_t count, const uint16_t *blocks,
                   unsigned nblocks)
{
    size_t at = SK_MOLD_HEADER_LEN;
    unsigned i;
    int b;

    memcpy(p, "SIMKIT0001", SK_MOLD_SESSION_LEN);
    for (b = 0; b < 8; b++)
        p[10 + b] = (uint8_t)(seq >> (56 - 8 * b));
    p[18] = (uint8_t)(count >> 8);
    p[19] = (uint8_t)count;
    for (i = 0; i < nblocks; i++) {
        p[at] = (uint8_t)(blocks[i] >> 8);
        p[at + 1] = (uint8_t)blocks[i];
        memset(p + at + 2, 'A', blocks[i]);
        at += 2u + blocks[i];
    }
    return at;
}

static void test_payloads(void)
{
    static const uint16_t two[] = {12, 36};
    struct sk_mold_view v;
    uint8_t p[FRAME_CAP];
    size_t n;

    n = mold(p, 42, 2, two, 2);
    CHECK_EQ_U(sk_mold_parse(p, n, &v), SK_PARSE_OK);
    CHECK_EQ_U(v.seq, 42);
    CHECK_EQ_U(v.count, 2);
    n = mold(p, 44, 0, NULL, 0);
    CHECK_EQ_U(sk_mold_parse(p, n, &v), SK_PARSE_OK); /* heartbeat */
    CHECK_EQ_U(v.count, 0);
    n = mold(p, 44, SK_MOLD_END_OF_SESSION, NULL, 0);
    CHECK_EQ_U(sk_mold_parse(p, n, &v), SK_PARSE_OK);
    CHECK_EQ_U(v.count, SK_MOLD_END_OF_SESSION);

    CHECK_EQ_U(sk_mold_parse(p, 19, &v), SK_MOLD_SHORT_HEADER);
    CHECK_EQ_U(sk_mold_parse(p, 21, &v), SK_MOLD_END_OF_SESSION_WITH_DATA);
    n = mold(p, 1, 1, two, 2);
    CHECK_EQ_U(sk_mold_parse(p, n, &v), SK_MOLD_COUNT_MISMATCH); /* more blocks */
    n = mold(p, 1, 3, two, 2);
    CHECK_EQ_U(sk_mold_parse(p, n, &v), SK_MOLD_COUNT_MISMATCH); /* fewer */
    n = mold(p, 1, 2, two, 2);
    CHECK_EQ_U(sk_mold_parse(p, n - 1, &v), SK_MOLD_BLOCK_OVERRUN); /* cut block */
    CHECK_EQ_U(sk_mold_parse(p, 20 + 2 + 12 + 1, &v), SK_MOLD_BLOCK_OVERRUN); /* cut length */
    p[3] = 0xC3;
    CHECK_EQ_U(sk_mold_parse(p, n, &v), SK_MOLD_BAD_SESSION);
    CHECK(strcmp(sk_rx_reason_name(SK_MOLD_BLOCK_OVERRUN), "block_overrun") == 0);
    CHECK(strcmp(sk_rx_reason_name(SK_MALFORMED_RUNT), "runt") == 0);
    CHECK(sk_rx_reason_name(SK_RX_REASON_COUNT + 1) == NULL);
}

/* A heartbeat in a frame: under the seed parser's 32-byte payload minimum,
 * with and without a (correct, then broken) UDP checksum. */
static void test_frames(void)
{
    struct sk_seed_fields f;
    struct sk_mold_view v;
    uint8_t frame[FRAME_CAP], seed[SK_SEED_FRAME_LEN];
    uint16_t ip_total = 20 + 8 + SK_MOLD_HEADER_LEN, udp_len = 8 + SK_MOLD_HEADER_LEN;
    uint32_t sum = 0;
    size_t len = 42 + SK_MOLD_HEADER_LEN, i;
    int csum;

    for (csum = 0; csum < 2; csum++) {
        sk_seed_fields_default(&f);
        CHECK(sk_seed_build(&f, seed, sizeof(seed)) == SK_SEED_FRAME_LEN);
        memcpy(frame, seed, 42);
        mold(frame + 42, 7, 0, NULL, 0);
        frame[16] = (uint8_t)(ip_total >> 8);
        frame[17] = (uint8_t)ip_total;
        frame[24] = frame[25] = 0; /* IPv4 header checksum, recomputed */
        for (i = 14, sum = 0; i < 34; i += 2)
            sum += (uint32_t)frame[i] << 8 | frame[i + 1];
        while (sum >> 16)
            sum = (sum & 0xffff) + (sum >> 16);
        frame[24] = (uint8_t)(~sum >> 8);
        frame[25] = (uint8_t)~sum;
        frame[38] = (uint8_t)(udp_len >> 8);
        frame[39] = (uint8_t)udp_len;
        frame[40] = frame[41] = 0;
        if (csum) { /* pseudo header + UDP header and payload */
            sum = 17 + udp_len;
            for (i = 26; i < 34; i += 2)
                sum += (uint32_t)frame[i] << 8 | frame[i + 1];
            for (i = 34; i < len; i += 2)
                sum += (uint32_t)frame[i] << 8 | (i + 1 < len ? frame[i + 1] : 0);
            while (sum >> 16)
                sum = (sum & 0xffff) + (sum >> 16);
            frame[40] = (uint8_t)(~sum >> 8);
            frame[41] = (uint8_t)~sum;
        }
        CHECK_EQ_U(sk_mold_classify(frame, len, 0, &v), SK_PARSE_OK);
        CHECK_EQ_U(v.seq, 7);
        CHECK_EQ_U(sk_mold_classify(frame + 42, len - 42, 1, &v), SK_PARSE_OK);
        if (csum) {
            frame[50] ^= 1; /* a flip in the session: only the checksum sees it */
            CHECK_EQ_U(sk_mold_classify(frame, len, 0, &v), SK_MALFORMED_UDP_CHECKSUM);
        }
    }
    CHECK_EQ_U(sk_mold_classify(frame, 40, 0, &v), SK_MALFORMED_IP_TOTAL_LENGTH);
}

static void test_spec_text(void)
{
    struct sk_impair_model m;
    char buf[128];

    memset(&m, 0, sizeof(m));
    m.kind = SK_IMPAIR_GILBERT;
    m.p = 0.01, m.r = 0.3, m.h = 0.0, m.k = 1.0;
    sk_impair_spec(&m, buf, sizeof(buf));
    CHECK(strcmp(buf, "gilbert:p=0.01,r=0.3,h=0.0,k=1.0") == 0);
    memset(&m, 0, sizeof(m));
    m.kind = SK_IMPAIR_CORRUPT, m.p = 1e-05, m.layer = SK_IMPAIR_LAYER_PAYLOAD;
    sk_impair_spec(&m, buf, sizeof(buf));
    CHECK(strcmp(buf, "corrupt:p=1e-05,layer=payload") == 0);
    memset(&m, 0, sizeof(m));
    m.kind = SK_IMPAIR_TRUNCATE, m.p = 0.1;
    sk_impair_spec(&m, buf, sizeof(buf));
    CHECK(strcmp(buf, "truncate:p=0.1") == 0);
    m.len = 40;
    sk_impair_spec(&m, buf, sizeof(buf));
    CHECK(strcmp(buf, "truncate:p=0.1,len=40") == 0);
    memset(&m, 0, sizeof(m));
    m.kind = SK_IMPAIR_DELAY, m.mean_ns = 20000, m.jitter_ns = 5000;
    sk_impair_spec(&m, buf, sizeof(buf));
    CHECK(strcmp(buf, "delay:mean=20000ns,jitter=5000ns") == 0);
    memset(&m, 0, sizeof(m));
    m.kind = SK_IMPAIR_REORDER, m.p = 0.3333333333333333, m.gap = 3;
    sk_impair_spec(&m, buf, sizeof(buf));
    CHECK(strcmp(buf, "reorder:p=0.3333333333333333,gap=3") == 0);
}

int main(void)
{
    test_payloads();
    test_frames();
    test_spec_text();
    return CHECK_DONE();
}
