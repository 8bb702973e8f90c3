/*
 * seed_write.h - the per-packet rewrite of a seed frame (message, trailer,
 * UDP checksum) as an inline function (internal): packet.c exports it as
 * sk_seed_write_msg, and the generator inlines it into its per-packet loop,
 * where the stores of one packet merge. Same bytes either way.
 */
#ifndef SK_SEED_WRITE_H
#define SK_SEED_WRITE_H

#include <stdint.h>

#include "simkit.h"
#include "checksum.h"
#include "compiler.h"
#include "seed_check.h"

#define SK_SEED_OFF_IP SK_ETH_HDR_LEN
#define SK_SEED_OFF_UDP (SK_SEED_OFF_IP + SK_IPV4_HDR_LEN)
#define SK_SEED_OFF_UDP_CSUM (SK_SEED_OFF_UDP + 6)

static inline void sk_seed_write_msg_inline(uint8_t *frame, const struct sk_md_msg *m,
                                            uint64_t seq, const struct sk_seed_key *key,
                                            int udp_csum)
{
    sk_put_le64(frame + SK_SEED_OFF_TIMESTAMP, m->timestamp);
    sk_put_le32(frame + SK_SEED_OFF_SYMBOL_ID, m->symbol_id);
    sk_put_le64(frame + SK_SEED_OFF_PRICE, sk_double_bits(m->price));
    sk_put_le32(frame + SK_SEED_OFF_SIZE, m->size);
    sk_put_le64(frame + SK_SEED_OFF_SEQ, seq);
    sk_put_le32(frame + SK_SEED_OFF_CHECK, sk_seed_check_msg(key, m, seq));
    frame[SK_SEED_OFF_UDP_CSUM] = 0;
    frame[SK_SEED_OFF_UDP_CSUM + 1] = 0;
    if (udp_csum)
        sk_put_be16(frame + SK_SEED_OFF_UDP_CSUM,
                    sk_udp_checksum(frame + SK_SEED_OFF_IP, frame + SK_SEED_OFF_UDP,
                                    SK_UDP_HDR_LEN + SK_SEED_PAYLOAD_LEN));
}

#endif /* SK_SEED_WRITE_H */
