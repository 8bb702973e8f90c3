/*
 * payload.c - the seed message as a bare UDP payload, for the datagram
 * backends (io_uring, socket) whose kernel adds and strips the headers.
 * Same 36 bytes as in a seed frame (the 24-byte MarketDataMsg + the
 * trailer: u64 sequence, u32 keyed check; little-endian), so a frame sent by
 * DPDK and a datagram received by a socket carry the very same bytes.
 */
#include <string.h>

#include "engine.h"
#include "../core/compiler.h"
#include "../core/seed_check.h"

#define OFF_TIMESTAMP 0
#define OFF_SYMBOL_ID 8
#define OFF_PRICE 12
#define OFF_SIZE 20
#define OFF_SEQ 24
#define OFF_CHECK 32

void sk_payload_write(uint8_t *p, const struct sk_md_msg *m, uint64_t seq,
                      const struct sk_seed_key *key)
{
    sk_put_le64(p + OFF_TIMESTAMP, m->timestamp);
    sk_put_le32(p + OFF_SYMBOL_ID, m->symbol_id);
    sk_put_le64(p + OFF_PRICE, sk_double_bits(m->price));
    sk_put_le32(p + OFF_SIZE, m->size);
    sk_put_le64(p + OFF_SEQ, seq);
    sk_put_le32(p + OFF_CHECK, sk_seed_check_msg(key, m, seq));
}

int sk_payload_parse(const uint8_t *p, size_t len, struct sk_seed_view *out)
{
    if (len < SK_SEED_PAYLOAD_LEN)
        return SK_MALFORMED_PAYLOAD_SHORT;
    memset(out, 0, sizeof(*out));
    out->timestamp = sk_le64(p + OFF_TIMESTAMP);
    out->symbol_id = sk_le32(p + OFF_SYMBOL_ID);
    out->price = sk_bits_double(sk_le64(p + OFF_PRICE));
    out->size = sk_le32(p + OFF_SIZE);
    out->seq = sk_le64(p + OFF_SEQ);
    out->check = sk_le32(p + OFF_CHECK);
    out->payload_len = (uint32_t)len;
    return SK_PARSE_OK;
}
