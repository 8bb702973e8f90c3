/*
 * test_malform.c - every malformation kind, applied to seed frames (plain,
 * VLAN-tagged, with IPv4 options, with a UDP checksum) under many draws,
 * gets the reaction sk_malform_expected documents from the receiver's own
 * parser; the same draw gives the same bytes; short buffers and frames a
 * kind cannot start from are refused without writing past the length.
 */
#include <errno.h>
#include <string.h>

#include "simkit.h"
#include "check.h"

#define DRAWS 2000
#define CAP (SK_SEED_FRAME_LEN + SK_MALFORM_MAX_GROWTH + 64)
#define GUARD 0xa5

/* A seed frame, then bases derived from it with the malform kinds that are
 * legal (tags, options), so every kind is tried on unusual valid input too. */
static int base(int variant, uint8_t *buf)
{
    struct sk_seed_fields f;
    int len;

    sk_seed_fields_default(&f);
    f.seq = 42;
    f.udp_checksum = variant == 3;
    len = sk_seed_build(&f, buf, CAP);
    if (variant == 1)
        len = sk_malform_apply(SK_MALFORM_VLAN_QINQ, 5, buf, (uint32_t)len, CAP);
    if (variant == 2)
        len = sk_malform_apply(SK_MALFORM_IP_OPTIONS, 9, buf, (uint32_t)len, CAP);
    return len;
}

static void test_every_kind_gets_its_documented_reaction(void)
{
    static uint8_t buf[CAP];
    struct sk_seed_view v;
    uint32_t kind;
    uint64_t draw;
    int variant, len, got;

    for (variant = 0; variant < 4; variant++) {
        for (kind = 1; kind <= SK_MALFORM_KIND_COUNT; kind++) {
            int failures = 0;

            for (draw = 0; draw < DRAWS && failures == 0; draw++) {
                len = base(variant, buf);
                CHECK(len > 0 && sk_seed_parse(buf, (size_t)len, &v) == SK_PARSE_OK);
                len = sk_malform_apply(kind, draw, buf, (uint32_t)len, CAP);
                if (len == -EINVAL && ((kind == SK_MALFORM_IP_OPTIONS && variant == 2) ||
                                       (kind == SK_MALFORM_VLAN_8021Q && variant == 1) ||
                                       (kind == SK_MALFORM_VLAN_QINQ && variant == 1)))
                    continue; /* no room: IHL 15, or two tags already */
                CHECK(len >= 0);
                if (len < 0) {
                    failures++;
                    continue;
                }
                got = sk_seed_parse(buf, (size_t)len, &v);
                if (got != sk_malform_expected(kind)) {
                    fprintf(stderr, "%s (base %d, draw %llu): parser says %s, expected %s\n",
                            sk_malform_name(kind), variant, (unsigned long long)draw,
                            sk_malformed_reason_name(got),
                            sk_malformed_reason_name(sk_malform_expected(kind)));
                    failures++;
                }
                if (got == SK_PARSE_OK)
                    CHECK_EQ_U(v.seq, 42); /* a legal oddity keeps the message */
            }
            CHECK(failures == 0);
        }
    }
}

static void test_same_draw_same_bytes(void)
{
    static uint8_t a[CAP], b[CAP];
    uint32_t kind;
    int la, lb;

    for (kind = 1; kind <= SK_MALFORM_KIND_COUNT; kind++) {
        la = sk_malform_apply(kind, 1234, a, (uint32_t)base(0, a), CAP);
        lb = sk_malform_apply(kind, 1234, b, (uint32_t)base(0, b), CAP);
        CHECK(la == lb && la >= 0 && memcmp(a, b, (size_t)la) == 0);
    }
    /* draws matter where the kind chooses: VLAN IDs differ across draws */
    la = sk_malform_apply(SK_MALFORM_VLAN_8021Q, 1, a, (uint32_t)base(0, a), CAP);
    lb = sk_malform_apply(SK_MALFORM_VLAN_8021Q, 2, b, (uint32_t)base(0, b), CAP);
    CHECK(la == lb && memcmp(a, b, (size_t)la) != 0);
}

static void test_growth_respects_cap_and_bad_input(void)
{
    static uint8_t buf[CAP];
    uint8_t junk[SK_SEED_FRAME_LEN];
    int len = base(0, buf);
    uint32_t kind;

    /* no room: refused, nothing written past the frame */
    memset(buf + len, GUARD, CAP - (size_t)len);
    CHECK(sk_malform_apply(SK_MALFORM_IP_OPTIONS, 1, buf, (uint32_t)len, (uint32_t)len) ==
          -ENOSPC);
    CHECK(sk_malform_apply(SK_MALFORM_VLAN_8021Q, 1, buf, (uint32_t)len, (uint32_t)len + 3) ==
          -ENOSPC);
    CHECK(sk_malform_apply(SK_MALFORM_JUMBO, 1, buf, (uint32_t)len, 1500) == -ENOSPC);
    CHECK(buf[len] == GUARD && buf[len + 3] == GUARD);
    /* jumbo stays within its documented growth */
    CHECK(sk_malform_apply(SK_MALFORM_JUMBO, 77, buf, (uint32_t)len, CAP) <=
          len + SK_MALFORM_MAX_GROWTH);

    /* not an Eth/IPv4/UDP frame, unknown kinds, NULL */
    memset(junk, 0, sizeof(junk));
    for (kind = 1; kind <= SK_MALFORM_KIND_COUNT; kind++) {
        CHECK(sk_malform_apply(kind, 1, junk, sizeof(junk), sizeof(junk)) == -EINVAL);
        CHECK(sk_malform_apply(kind, 1, buf, 13, CAP) == -EINVAL);
    }
    CHECK(sk_malform_apply(0, 1, buf, (uint32_t)base(0, buf), CAP) == -EINVAL);
    CHECK(sk_malform_apply(SK_MALFORM_KIND_COUNT + 1, 1, buf, SK_SEED_FRAME_LEN, CAP) == -EINVAL);
    CHECK(sk_malform_apply(SK_MALFORM_RUNT, 1, NULL, 0, 0) == -EINVAL);
    CHECK(sk_malform_name(0) == NULL && sk_malform_expected(99) == -EINVAL);
    CHECK(strcmp(sk_malform_name(SK_MALFORM_JUMBO), "jumbo") == 0);
}

int main(void)
{
    test_every_kind_gets_its_documented_reaction();
    test_same_draw_same_bytes();
    test_growth_respects_cap_and_bad_input();
    return CHECK_DONE();
}
