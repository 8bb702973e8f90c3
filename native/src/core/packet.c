/*
 * packet.c - the seed frame: build a template, rewrite its message per
 * packet, and parse whatever arrives without ever reading out of bounds.
 *
 * Frame: Eth(14) / IPv4(20, DF, TTL 64, UDP) / UDP(8) / MarketDataMsg(24,
 * little-endian, packed) / simkit trailer (u64 LE sequence, u32 LE keyed
 * check over the message and sequence) = 78 bytes.
 */
#include <errno.h>
#include <string.h>

#include "simkit.h"
#include "checksum.h"
#include "rng.h"
#include "seed_write.h"
#include "parse.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define IP_PROTO_UDP 17
#define IP_FLAG_DF 0x4000
#define IP_FLAG_MF 0x2000
#define IP_FRAG_OFFSET_MASK 0x1fff
#define IP_VERSION_4 4
#define IP_IHL_MIN 5

/* Offsets inside the untagged template. */
#define OFF_ETHERTYPE 12
#define OFF_IP SK_ETH_HDR_LEN
#define OFF_UDP (OFF_IP + SK_IPV4_HDR_LEN)

static const char *const reason_names[SK_MALFORMED_REASON_COUNT + 1] = {
    [SK_PARSE_OK] = "ok",
    [SK_MALFORMED_RUNT] = "runt",
    [SK_MALFORMED_ETHERTYPE] = "ethertype",
    [SK_MALFORMED_IP_TRUNCATED] = "ip_truncated",
    [SK_MALFORMED_IP_VERSION] = "ip_version",
    [SK_MALFORMED_IP_IHL] = "ip_ihl",
    [SK_MALFORMED_IP_CHECKSUM] = "ip_checksum",
    [SK_MALFORMED_IP_TOTAL_LENGTH] = "ip_total_length",
    [SK_MALFORMED_IP_FRAGMENT] = "ip_fragment",
    [SK_MALFORMED_IP_PROTOCOL] = "ip_protocol",
    [SK_MALFORMED_UDP_LENGTH] = "udp_length",
    [SK_MALFORMED_PAYLOAD_SHORT] = "payload_short",
    [SK_MALFORMED_UDP_CHECKSUM] = "udp_checksum",
};

const char *sk_malformed_reason_name(int reason)
{
    if (reason < 0 || reason > SK_MALFORMED_REASON_COUNT)
        return NULL;
    return reason_names[reason];
}

int sk_malformed_reason_count(void)
{
    return SK_MALFORMED_REASON_COUNT;
}

void sk_seed_fields_default(struct sk_seed_fields *f)
{
    static const uint8_t src_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
    static const uint8_t dst_mac[6] = {0x02, 0, 0, 0, 0, 0x02};

    if (f == NULL)
        return;
    memset(f, 0, sizeof(*f));
    memcpy(f->src_mac, src_mac, sizeof(src_mac));
    memcpy(f->dst_mac, dst_mac, sizeof(dst_mac));
    f->src_ip = SK_DEFAULT_SRC_IP;
    f->dst_ip = SK_DEFAULT_DST_IP;
    f->src_port = SK_DEFAULT_SRC_PORT;
    f->dst_port = SK_DEFAULT_DST_PORT;
    f->ttl = SK_DEFAULT_TTL;
}

int sk_seed_build(const struct sk_seed_fields *f, uint8_t *buf, size_t cap)
{
    uint8_t *ip = buf + OFF_IP;
    uint8_t *udp = buf + OFF_UDP;
    struct sk_seed_key key;
    struct sk_md_msg m;

    if (f == NULL || buf == NULL)
        return -EINVAL;
    if (cap < SK_SEED_FRAME_LEN)
        return -ENOSPC;

    memset(buf, 0, SK_SEED_FRAME_LEN);
    memcpy(buf, f->dst_mac, 6);
    memcpy(buf + 6, f->src_mac, 6);
    sk_put_be16(buf + OFF_ETHERTYPE, ETHERTYPE_IPV4);

    ip[0] = (IP_VERSION_4 << 4) | IP_IHL_MIN;
    ip[1] = 0; /* DSCP/ECN */
    sk_put_be16(ip + 2, SK_SEED_FRAME_LEN - SK_ETH_HDR_LEN);
    sk_put_be16(ip + 4, f->ip_id);
    sk_put_be16(ip + 6, IP_FLAG_DF);
    ip[8] = f->ttl;
    ip[9] = IP_PROTO_UDP;
    sk_put_be32(ip + 12, f->src_ip);
    sk_put_be32(ip + 16, f->dst_ip);
    sk_ipv4_fix_checksum(ip, SK_IPV4_HDR_LEN);

    sk_put_be16(udp, f->src_port);
    sk_put_be16(udp + 2, f->dst_port);
    sk_put_be16(udp + 4, SK_UDP_HDR_LEN + SK_SEED_PAYLOAD_LEN);

    m.timestamp = f->timestamp;
    m.symbol_id = f->symbol_id;
    m.price = f->price;
    m.size = f->size;
    sk_seed_key_init(&key, f->key_seed);
    sk_seed_write_msg(buf, &m, f->seq, &key, f->udp_checksum);
    return SK_SEED_FRAME_LEN;
}

void sk_seed_write_msg(uint8_t *frame, const struct sk_md_msg *m, uint64_t seq,
                       const struct sk_seed_key *key, int udp_csum)
{
    sk_seed_write_msg_inline(frame, m, seq, key, udp_csum);
}

void sk_seed_key_init(struct sk_seed_key *key, uint64_t seed)
{
    struct sk_rng r;
    int i;

    sk_rng_seed(&r, seed ^ SK_SEED_KEY_SALT);
    for (i = 0; i < 4; i++)
        key->k[i] = sk_rng_step(&r);
}

uint32_t sk_seed_check(const struct sk_seed_key *key, const uint8_t *p)
{
    return sk_seed_check_inline(key, p);
}

int sk_udp_parse(const uint8_t *frame, size_t len, uint32_t min_payload,
                 struct sk_udp_view *out)
{
    if (frame == NULL || out == NULL)
        return -EINVAL;
    return sk_udp_parse_inline(frame, len, min_payload, out);
}

int sk_seed_parse(const uint8_t *frame, size_t len, struct sk_seed_view *out)
{
    if (frame == NULL || out == NULL)
        return -EINVAL;
    return sk_seed_parse_inline(frame, len, out);
}
