/*
 * corpus.c - batch helpers for `simkit corpus`: many seed frames in one call
 * (what sk_md_random + sk_seed_write_msg do per packet), and frames already
 * built turned into pcap / pcapng records (craft.c's record layout), so the
 * Python writer touches only the few malformed packets one by one.
 */
#include <errno.h>
#include <string.h>

#include "simkit.h"
#include "rng.h"

uint64_t sk_seed_frames(struct sk_rng *r, uint8_t *frame, const struct sk_seed_key *key,
                        int udp_checksum, uint64_t seq0, uint64_t n, uint8_t *out)
{
    struct sk_md_msg m = {0};
    uint64_t i;

    for (i = 0; i < n; i++) {
        sk_md_draw(r, &m);
        sk_seed_write_msg(frame, &m, seq0 + i, key, udp_checksum);
        memcpy(out + i * SK_SEED_FRAME_LEN, frame, SK_SEED_FRAME_LEN);
    }
    return n;
}
