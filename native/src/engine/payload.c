/*
 * payload.c - the seed message as a bare UDP payload, for the datagram
 * backends (io_uring, socket) whose kernel adds and strips the headers.
 * Same 32 bytes as in a seed frame (the 24-byte MarketDataMsg + the u64
 * sequence trailer, little-endian), so a frame sent by DPDK and a datagram
 * received by a socket carry the very same bytes.
 */
#include <string.h>

#include "engine.h"

#define OFF_TIMESTAMP 0
#define OFF_SYMBOL_ID 8
#define OFF_PRICE 12
#define OFF_SIZE 20
#define OFF_SEQ 24

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint32_t get_le32(const uint8_t *p)
{
    uint32_t v = 0;

    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

void sk_payload_write(uint8_t *p, const struct sk_md_msg *m, uint64_t seq)
{
    uint64_t price;

    memcpy(&price, &m->price, sizeof(price));
    put_le64(p + OFF_TIMESTAMP, m->timestamp);
    put_le32(p + OFF_SYMBOL_ID, m->symbol_id);
    put_le64(p + OFF_PRICE, price);
    put_le32(p + OFF_SIZE, m->size);
    put_le64(p + OFF_SEQ, seq);
}

int sk_payload_parse(const uint8_t *p, size_t len, struct sk_seed_view *out)
{
    uint64_t price;

    if (len < SK_SEED_PAYLOAD_LEN)
        return SK_MALFORMED_PAYLOAD_SHORT;
    memset(out, 0, sizeof(*out));
    out->timestamp = get_le64(p + OFF_TIMESTAMP);
    out->symbol_id = get_le32(p + OFF_SYMBOL_ID);
    price = get_le64(p + OFF_PRICE);
    memcpy(&out->price, &price, sizeof(price));
    out->size = get_le32(p + OFF_SIZE);
    out->seq = get_le64(p + OFF_SEQ);
    out->payload_len = (uint32_t)len;
    return SK_PARSE_OK;
}
