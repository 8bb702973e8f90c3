/*
 * test_market.c - the ITCH market simulator, read back from its MoldUDP64
 * datagrams alone: every datagram well formed and within its budget,
 * sequences continuing, every message of its ITCH 5.0 length, and the books
 * rebuilt from the bytes consistent over 10M messages (no execute, cancel,
 * delete or replace of a dead order, never beyond its shares; no reused
 * order reference or match number); the same seed gives the same bytes; the
 * live-order cap holds; the Zipf skew shows in the activity per symbol.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "simkit.h"
#include "compiler.h"
#include "check.h"

#define MTU_PAYLOAD 1472
#define BATCH 256
#define MESSAGES 10000000ULL

static const double default_mix[8] = {40, 5, 12, 3, 10, 18, 8, 4};

static void default_cfg(struct sk_market_cfg *c, uint64_t seed, uint64_t events)
{
    static const char symbols[] = "AAPL    MSFT    SPY     QQQ     IBM     GE      "
                                  "F       T       ";
    memset(c, 0, sizeof(*c));
    c->seed = seed;
    c->events = events;
    c->start_ns = 34200000000000ULL;
    c->mean_gap_ns = 50000;
    c->n_symbols = 8;
    c->symbols = symbols;
    c->n_mpids = 2;
    c->mpids = "GSCOMSCO";
    memcpy(c->mix, default_mix, sizeof(default_mix));
    c->tick = 100;
    c->grid_low = 1000;
    c->grid_high = 50000;
    c->depth = 20;
    c->round_lot = 100;
    c->max_lots = 10;
    c->odd_lot_probability = 0.05;
    c->zipf_s = 1.0;
}

static uint64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;

    while (n--)
        v = v << 8 | *p++;
    return v;
}

struct book {
    uint32_t *shares;   /* by order reference; 0: not live */
    uint16_t *locate;
    uint64_t refs;
    uint64_t next_ref, next_match, live, max_live;
    uint64_t per_type[128];
    uint64_t per_locate[9];
    uint64_t bad;
    int open, closed;
};

static int bad_at(struct book *b, uint64_t i, const char *what)
{
    if (b->bad++ < 5)
        fprintf(stderr, "message %llu: %s\n", (unsigned long long)i, what);
    return -1;
}

static int order_ok(struct book *b, uint64_t i, uint64_t ref, uint16_t locate)
{
    if (ref == 0 || ref >= b->refs || b->shares[ref] == 0)
        return bad_at(b, i, "names a dead order");
    if (b->locate[ref] != locate)
        return bad_at(b, i, "names another symbol's order");
    return 0;
}

static void replay(struct book *b, uint64_t i, const uint8_t *m, uint16_t len)
{
    static const uint8_t lengths[128] = {['S'] = 12, ['R'] = 39, ['H'] = 25, ['A'] = 36,
                                         ['F'] = 40, ['E'] = 31, ['C'] = 36, ['X'] = 23,
                                         ['D'] = 19, ['U'] = 35, ['P'] = 44};
    uint16_t locate = (uint16_t)be(m + 1, 2);
    uint64_t ref, n;

    if (m[0] >= 128 || lengths[m[0]] == 0 || lengths[m[0]] != len) {
        bad_at(b, i, "not an ITCH message of its length");
        return;
    }
    b->per_type[m[0]]++;
    if (m[0] == 'S') {
        b->open |= m[11] == 'Q';
        b->closed |= m[11] == 'M';
        return;
    }
    if (strchr("AFEXCDUP", m[0]) && (!b->open || b->closed)) {
        bad_at(b, i, "order flow outside market hours");
        return;
    }
    if (locate >= 1 && locate <= 8 && strchr("AFP", m[0]))
        b->per_locate[locate]++;
    switch (m[0]) {
    case 'A':
    case 'F':
        ref = be(m + 11, 8);
        if (ref != b->next_ref || ref >= b->refs || be(m + 20, 4) == 0) {
            bad_at(b, i, "reused reference or no shares");
            return;
        }
        b->next_ref++;
        b->shares[ref] = (uint32_t)be(m + 20, 4);
        b->locate[ref] = locate;
        if (++b->live > b->max_live)
            b->max_live = b->live;
        break;
    case 'E':
    case 'C':
        ref = be(m + 11, 8);
        n = be(m + 19, 4);
        if (order_ok(b, i, ref, locate) < 0)
            return;
        if (n == 0 || n > b->shares[ref] || be(m + 23, 8) != b->next_match++) {
            bad_at(b, i, "executes beyond size or reuses a match number");
            return;
        }
        b->shares[ref] -= (uint32_t)n;
        b->live -= b->shares[ref] == 0;
        break;
    case 'X':
        ref = be(m + 11, 8);
        n = be(m + 19, 4);
        if (order_ok(b, i, ref, locate) < 0)
            return;
        if (n == 0 || n >= b->shares[ref]) {
            bad_at(b, i, "cancels beyond size");
            return;
        }
        b->shares[ref] -= (uint32_t)n;
        break;
    case 'D':
        ref = be(m + 11, 8);
        if (order_ok(b, i, ref, locate) < 0)
            return;
        b->shares[ref] = 0;
        b->live--;
        break;
    case 'U':
        ref = be(m + 11, 8);
        if (order_ok(b, i, ref, locate) < 0)
            return;
        b->shares[ref] = 0;
        ref = be(m + 19, 8);
        if (ref != b->next_ref || ref >= b->refs || be(m + 27, 4) == 0) {
            bad_at(b, i, "bad replacement reference");
            return;
        }
        b->next_ref++;
        b->shares[ref] = (uint32_t)be(m + 27, 4);
        b->locate[ref] = locate;
        break;
    case 'P':
        if (be(m + 11, 8) != 0 || be(m + 36, 8) != b->next_match++)
            bad_at(b, i, "a trade with an order reference or a reused match");
        break;
    default:
        break;
    }
}

/* Generate and replay `events` (open-ended when 0: stop at `stop` messages). */
static uint64_t run(struct sk_market_cfg *c, struct book *b, uint64_t stop)
{
    static uint8_t buf[BATCH * MTU_PAYLOAD];
    uint32_t lens[BATCH];
    struct sk_market *m = sk_market_new(c, NULL, 0);
    uint64_t seq = 1, msgs = 0, n, d, expect = 1;
    char err[128];

    CHECK(m != NULL);
    if (m == NULL)
        return 0;
    CHECK(sk_market_new(&(struct sk_market_cfg){0}, err, sizeof(err)) == NULL);
    while (msgs < stop &&
           (n = sk_market_datagrams(m, buf, sizeof(buf), MTU_PAYLOAD, "SIMKIT0001", &seq,
                                    lens, BATCH)) > 0) {
        const uint8_t *p = buf;

        for (d = 0; d < n; p += lens[d], d++) {
            uint64_t count = be(p + 18, 2), at = 20, j;

            if (lens[d] > MTU_PAYLOAD || memcmp(p, "SIMKIT0001", 10) != 0 ||
                be(p + 10, 8) != expect || count == 0)
                bad_at(b, msgs, "a bad MoldUDP64 header");
            for (j = 0; j < count && at + 2 <= lens[d]; j++) {
                uint16_t len = (uint16_t)be(p + at, 2);

                replay(b, msgs++, p + at + 2, len);
                at += 2 + len;
            }
            if (j != count || at != lens[d])
                bad_at(b, msgs, "blocks do not fill the datagram");
            expect += count;
        }
    }
    CHECK_EQ_U(seq, expect);
    CHECK_EQ_U(sk_market_made(m), msgs);
    CHECK_EQ_U(sk_market_live(m), b->live);
    sk_market_free(m);
    return msgs;
}

static void book_init(struct book *b, uint64_t refs)
{
    memset(b, 0, sizeof(*b));
    b->refs = refs;
    b->shares = calloc(refs, sizeof(*b->shares));
    b->locate = calloc(refs, sizeof(*b->locate));
    b->next_ref = b->next_match = 1;
    CHECK(b->shares != NULL && b->locate != NULL);
}

static void book_free(struct book *b)
{
    free(b->shares);
    free(b->locate);
}

static void test_ten_million_messages_keep_the_books_consistent(void)
{
    struct sk_market_cfg c;
    struct book b;
    struct timespec t0, t1;
    uint64_t msgs;
    const char *t;

    default_cfg(&c, 7, MESSAGES);
    book_init(&b, MESSAGES + 1);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    msgs = run(&c, &b, ~0ULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK_EQ_U(msgs, MESSAGES + 6 + 2 * 8);
    CHECK_EQ_U(b.bad, 0);
    CHECK(b.closed);
    for (t = "SRHAFEXCDUP"; *t; t++)
        CHECK(b.per_type[(int)*t] > 0);
    CHECK_EQ_U(b.per_type['S'], 6);
    fprintf(stderr, "test_market: %llu messages generated and replayed in %.2f s\n",
            (unsigned long long)msgs,
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    /* Zipf s = 1: locate 1 about twice as active as 2, eight times as 8 */
    CHECK(b.per_locate[1] > b.per_locate[2] * 18 / 10 && b.per_locate[1] < b.per_locate[2] * 22 / 10);
    CHECK(b.per_locate[1] > b.per_locate[8] * 7 && b.per_locate[1] < b.per_locate[8] * 9);
    book_free(&b);
}

static void test_live_orders_stay_under_the_cap(void)
{
    struct sk_market_cfg c;
    struct book b;

    default_cfg(&c, 3, 2000000);
    c.max_orders = 1000;
    c.zipf_s = 0;
    book_init(&b, 2000001);
    run(&c, &b, ~0ULL);
    CHECK_EQ_U(b.bad, 0);
    CHECK(b.max_live == 1000);
    /* uniform: every symbol within 5 % of the mean */
    for (int k = 1; k <= 8; k++)
        CHECK(b.per_locate[k] * 8 > (b.per_locate[1] + b.per_locate[8]) * 4 * 95 / 100);
    book_free(&b);
}

static void test_same_seed_same_bytes(void)
{
    static uint8_t a[64 * MTU_PAYLOAD], b2[64 * MTU_PAYLOAD];
    uint32_t la[64], lb[64];
    uint16_t ml[4096];
    struct sk_market_cfg c;
    struct sk_market *x, *y;
    uint64_t sa = 1, sb = 1, na, nb;

    default_cfg(&c, 99, ~0ULL);
    x = sk_market_new(&c, NULL, 0);
    y = sk_market_new(&c, NULL, 0);
    na = sk_market_datagrams(x, a, sizeof(a), MTU_PAYLOAD, "S         ", &sa, la, 64);
    nb = sk_market_datagrams(y, b2, sizeof(b2), MTU_PAYLOAD, "S         ", &sb, lb, 64);
    CHECK_EQ_U(na, 64);
    CHECK(na == nb && sa == sb && memcmp(la, lb, sizeof(la)) == 0 &&
          memcmp(a, b2, sizeof(a)) == 0);
    sk_market_free(x);
    c.seed = 100;
    x = sk_market_new(&c, NULL, 0);
    sa = 1;
    sk_market_datagrams(x, b2, sizeof(b2), MTU_PAYLOAD, "S         ", &sa, la, 64);
    CHECK(memcmp(a, b2, sizeof(a)) != 0);
    sk_market_free(x);
    /* messages one by one give the datagrams' messages */
    c.seed = 99;
    x = sk_market_new(&c, NULL, 0);
    CHECK(sk_market_messages(x, b2, sizeof(b2), ml, 4096) > sizeof(b2) / SK_MKT_MAX_MSG_LEN);
    CHECK(memcmp(b2, a + 22, ml[0]) == 0 && be(a + 20, 2) == ml[0]);
    sk_market_free(x);
    sk_market_free(y);
}

int main(void)
{
    test_same_seed_same_bytes();
    test_live_orders_stay_under_the_cap();
    test_ten_million_messages_keep_the_books_consistent();
    return CHECK_DONE();
}
