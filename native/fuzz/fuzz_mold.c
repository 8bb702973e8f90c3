/*
 * fuzz_mold.c - libFuzzer target for the receiver's MoldUDP64 parser
 * (engine/mold.c: sk_mold_parse, sk_mold_classify), judged against a
 * reference walk written here from the spec (Nasdaq MoldUDP64 1.00).
 *
 * Input: byte 0 is the mode; the rest is either
 *   - raw (mode bit 1 clear): one UDP payload (bit 0 clear) or one whole
 *     frame (bit 0 set), in a heap block of exactly its size, so ASan sees
 *     any read outside it;
 *   - a recipe (bit 1 set): session bytes, sequence number, message count
 *     and block lengths and bytes, from which a well-formed datagram is built.
 * Checks:
 *   - every verdict is 0 or a named reason 1..SK_RX_REASON_COUNT;
 *   - a payload's verdict is the reference walk's (a reason the parser adds
 *     after the structure, if any, only where the structure is sound), and
 *     an accepted one's seq and count are the header's;
 *   - a frame's verdict is the UDP header check's, or the payload's;
 *   - a built datagram is structurally sound; one byte less or one byte more
 *     is not.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "fuzz_frame.h"
#include "fuzz_input.h"

#define MODE_FRAME 1
#define MODE_RECIPE 2
#define RECIPE_MAX_BLOCKS 64
#define RECIPE_MAX_BLOCK 96
#define END_OF_SESSION 0xffff

static uint64_t be64(const uint8_t *p)
{
    return (uint64_t)ff_be16(p) << 48 | (uint64_t)ff_be16(p + 2) << 32 |
           (uint64_t)ff_be16(p + 4) << 16 | ff_be16(p + 6);
}

/* The spec's structure: header, ASCII session, count blocks filling the
 * datagram exactly; 0xFFFF (end of session) carries nothing. */
static int reference(const uint8_t *p, size_t len)
{
    size_t at = SK_MOLD_HEADER_LEN;
    unsigned count, blocks = 0;
    int i;

    if (len < SK_MOLD_HEADER_LEN)
        return SK_MOLD_SHORT_HEADER;
    for (i = 0; i < SK_MOLD_SESSION_LEN; i++)
        if (p[i] & 0x80)
            return SK_MOLD_BAD_SESSION;
    count = ff_be16(p + 18);
    if (count == END_OF_SESSION)
        return len == SK_MOLD_HEADER_LEN ? 0 : SK_MOLD_END_OF_SESSION_WITH_DATA;
    while (at < len) {
        if (blocks == count)
            return SK_MOLD_COUNT_MISMATCH;
        if (len - at < 2 || ff_be16(p + at) > len - at - 2)
            return SK_MOLD_BLOCK_OVERRUN;
        at += 2 + ff_be16(p + at);
        blocks++;
    }
    return blocks == count ? 0 : SK_MOLD_COUNT_MISMATCH;
}

static int structural(int r)
{
    return r >= SK_MOLD_SHORT_HEADER && r <= SK_MOLD_END_OF_SESSION_WITH_DATA;
}

static int check_payload(const uint8_t *p, size_t len)
{
    struct sk_mold_view v, w;
    int r = sk_mold_parse(p, len, &v), ref = reference(p, len);

    FUZZ_CHECK(r == 0 || (r > 0 && r <= SK_RX_REASON_COUNT && sk_rx_reason_name(r) != NULL),
               "verdict %d", r);
    if (r == 0 || structural(r))
        FUZZ_CHECK(r == ref, "parser says %d, the spec %d", r, ref);
    else
        FUZZ_CHECK(ref == 0, "%s on a datagram whose structure is already %d",
                   sk_rx_reason_name(r), ref);
    if (r == 0)
        FUZZ_CHECK(v.seq == be64(p + 10) && v.count == ff_be16(p + 18),
                   "view seq %llu count %u", (unsigned long long)v.seq, v.count);
    FUZZ_CHECK(sk_mold_classify(p, len, 1, &w) == r, "classify(payload) != parse");
    return r;
}

static void check_frame(const uint8_t *f, size_t len)
{
    struct sk_mold_view v;
    struct sk_udp_view u;
    int r = sk_mold_classify(f, len, 0, &v);
    int h = sk_udp_parse(f, len, 0, &u);

    FUZZ_CHECK(r == 0 || (r > 0 && r <= SK_RX_REASON_COUNT && sk_rx_reason_name(r) != NULL),
               "verdict %d", r);
    if (h != SK_PARSE_OK) {
        FUZZ_CHECK(r == h, "frame: %d, its headers %d", r, h);
        return;
    }
    FUZZ_CHECK((size_t)u.payload_offset + u.payload_len <= len, "payload past the frame");
    FUZZ_CHECK(r == check_payload(f + u.payload_offset, u.payload_len),
               "frame verdict differs from its payload's");
}

/* Copy n bytes into a block of exactly n (ASan bounds) and judge it. */
static int judge(const uint8_t *p, size_t n)
{
    uint8_t *b = malloc(n + 1); /* + 1: malloc(0) may be NULL; never read */
    int r;

    FUZZ_CHECK(b != NULL, "out of memory");
    memcpy(b, p, n);
    r = check_payload(b, n);
    free(b);
    return r;
}

static void check_recipe(struct fuzz_input *in)
{
    static uint8_t d[SK_MOLD_HEADER_LEN + RECIPE_MAX_BLOCKS * (2 + RECIPE_MAX_BLOCK) + 1];
    unsigned count, i, j, blen;
    size_t len = SK_MOLD_HEADER_LEN;
    uint64_t seq;
    int r;

    for (i = 0; i < SK_MOLD_SESSION_LEN; i++)
        d[i] = fuzz_u8(in) & 0x7f;
    seq = fuzz_uint(in, 8);
    for (i = 0; i < 8; i++)
        d[10 + i] = (uint8_t)(seq >> (56 - 8 * i));
    count = fuzz_u8(in);
    count = count == 0xff ? END_OF_SESSION : count % (RECIPE_MAX_BLOCKS + 1);
    d[18] = (uint8_t)(count >> 8);
    d[19] = (uint8_t)count;
    for (i = 0; count != END_OF_SESSION && i < count; i++) {
        blen = fuzz_u8(in) % (RECIPE_MAX_BLOCK + 1);
        d[len] = 0;
        d[len + 1] = (uint8_t)blen;
        for (j = 0; j < blen; j++)
            d[len + 2 + j] = fuzz_u8(in);
        len += 2 + blen;
    }
    r = judge(d, len);
    FUZZ_CHECK(!structural(r), "a well-formed datagram (%u blocks, %zu bytes) is %s", count,
               len, sk_rx_reason_name(r));  /* structural: r > 0, named */
    r = judge(d, len - 1);
    FUZZ_CHECK(structural(r), "one byte short of %zu accepted", len);
    d[len] = fuzz_u8(in);
    r = judge(d, len + 1);
    FUZZ_CHECK(structural(r), "one byte past %zu accepted", len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data + (size > 0), size - (size > 0)};
    uint8_t mode = size > 0 ? data[0] : 0;

    if (mode & MODE_RECIPE)
        check_recipe(&in);
    else if (mode & MODE_FRAME)
        check_frame(in.p, in.left);
    else
        check_payload(in.p, in.left);
    return 0;
}
