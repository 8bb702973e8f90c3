/*
 * test_engine_live.c - the live market stream (live.c, --stream
 * market:SEED:COUNT:CSUM[:SYMBOLS:SKEW]): its datagrams are the simulator's
 * (an independent sk_market for the same seed packs the same payloads), in
 * well-formed frames whose sequences continue, the last the end of session;
 * the ring wraps; the receiver's check passes every message that was offered,
 * fails a changed byte (check) and a sequence never offered (sequence); send
 * times are kept by sequence; bad specs are refused.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "compiler.h"
#include "check.h"

/* messages in the first d datagrams (loop.c's sk_stream_seqs, not linked here) */
static uint64_t seqs(const struct sk_stream *s, uint64_t d)
{
    return d == 0 ? 0 : s->msg_index[(d - 1) & s->mask] + s->msg_count[(d - 1) & s->mask];
}

#define HDR 42
#define COUNT 10000 /* datagrams: more than the ring's 4096 */
#define BURST 64

static void test_bad_specs_are_refused(void)
{
    static const char *bad[] = {"market:", "market:1", "market:1:0:0", "market:1:5:2",
                                "market:1:5:0:0:1.0", "market:1:5:0:70000:1.0",
                                "market:1:5:0:10:-1", "market:1:5:0:10", "market:1:5:0x"};
    struct sk_stream *s;
    char err[256];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        s = (struct sk_stream *)1;
        CHECK(sk_stream_open(bad[i], 0, NULL, &s, err, sizeof(err)) == -EINVAL);
        CHECK(s == NULL);
        CHECK(strstr(err, "market:SEED:COUNT:CSUM") != NULL);
    }
    CHECK(!sk_stream_is_live("/tmp/market:1:5:0"));
}

static void check_session(const char *spec, unsigned symbols, double skew)
{
    struct sk_market_cfg cfg;
    struct sk_market *ref;
    struct sk_stream *s;
    struct sk_stream_cursor cur = {0};
    static uint8_t payload[2048];
    static char names[8 * 300];
    uint32_t plen;
    uint64_t sent = 0, seq = 1, msgs = 0, n, i, j;
    char err[256];

    CHECK(sk_stream_open(spec, 0, NULL, &s, err, sizeof(err)) == 0);
    if (s == NULL)
        return;
    sk_market_cfg_default(&cfg, 42);
    if (symbols) {
        CHECK(sk_market_symbol_names(symbols, names) == 0);
        cfg.n_symbols = symbols;
        cfg.symbols = names;
        cfg.zipf_s = skew;
    }
    ref = sk_market_new(&cfg, NULL, 0);
    CHECK(s->count == COUNT && s->first_seq == 1 && s->payload_off == HDR);
    while (sent < COUNT) {
        n = COUNT - sent < BURST ? COUNT - sent : BURST;
        sk_stream_live_fill(s, sent + n);
        for (i = 0; i < n; i++) {
            uint64_t idx = (sent + i) & s->mask;
            const uint8_t *f = s->frames[idx];
            uint32_t len = s->lens[idx];
            const uint8_t *pl = f + HDR;

            CHECK(len <= s->max_len && sk_be16(f + 38) == len - 34); /* UDP length */
            CHECK(sk_get_be64(pl + 10) == seq);
            if (sent + i == COUNT - 1) { /* the end of session */
                CHECK(sk_be16(pl + 18) == SK_MOLD_END_OF_SESSION && len == HDR + 20);
                CHECK(s->msg_count[idx] == 0);
                continue;
            }
            /* the reference simulator packs the same payload */
            CHECK(sk_market_datagrams(ref, payload, sizeof(payload), 1472, "SIMKIT0001",
                                      &(uint64_t){seq}, &plen, 1) == 1);
            CHECK(plen == len - HDR && memcmp(payload, pl, plen) == 0);
            CHECK(s->msg_index[idx] == seq - 1 && s->msg_count[idx] == sk_be16(pl + 18));
            for (j = 0; j < s->msg_count[idx]; j++)
                sk_stream_live_sent(s, s->msg_index[idx] + j, 1000 + s->msg_index[idx]);
            seq += s->msg_count[idx];
        }
        sk_stream_live_offer(s, seqs(s, sent + n));
        /* the receiver: every message of the burst checks out */
        for (i = 0; i < n; i++) {
            uint64_t idx = (sent + i) & s->mask;
            const uint8_t *pl = s->frames[idx] + HDR;
            size_t at = SK_MOLD_HEADER_LEN;
            uint16_t mlen;
            uint8_t copy[64];

            for (j = 0; j < s->msg_count[idx]; j++) {
                const uint8_t *m = sk_mold_next_message(pl, &at, &mlen);
                uint64_t q = s->msg_index[idx] + j;

                CHECK(sk_stream_verify(s, &cur, q, m, mlen) == 0);
                CHECK(sk_stream_sent_tsc(s, q) == 1000 + s->msg_index[idx]);
                if (j == 1) { /* one byte changed: garbled by check */
                    memcpy(copy, m, mlen);
                    copy[mlen - 1] ^= 0x40;
                    CHECK(sk_stream_verify(s, &cur, q, copy, mlen) == SK_GARBLED_CHECK);
                }
                msgs++;
            }
        }
        sent += n;
        /* not offered yet: garbled by sequence, never looked up */
        CHECK(sk_stream_verify(s, &cur, seqs(s, sent), (const uint8_t *)"S", 1) ==
              SK_GARBLED_SEQUENCE || sent == COUNT);
    }
    CHECK_EQ_U(msgs, s->messages);
    CHECK_EQ_U(seqs(s, COUNT), msgs);
    CHECK(sk_stream_sent_tsc(s, msgs + 12345) == 0);
    sk_market_free(ref);
    sk_stream_close(s);
}

int main(void)
{
    test_bad_specs_are_refused();
    check_session("market:42:10000:1", 0, 0);
    check_session("market:42:10000:0:300:1.5", 300, 1.5);
    return CHECK_DONE();
}
