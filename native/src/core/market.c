/*
 * market.c - the ITCH 5.0 market simulator (see simkit.h): one deterministic
 * trading session over per-symbol books, as messages or packed into
 * MoldUDP64 datagrams.
 *
 * Draws (all from one xoshiro256** stream, in this order per event):
 *   event kind      high 32 bits against cumulative thresholds of the mix
 *   add / add_attr  symbol (alias table: one draw), side (below 2), size,
 *                   resting offset (below depth), [mpid (below n_mpids)]
 *   trade           symbol, size
 *   order events    the next order event's order (32 bits: pick * live >> 32,
 *                   the order being the one drawn at the event before);
 *                   execute: shares (below), cancel: shares (below),
 *                   replace: size, resting offset
 *   then the message's timestamp gap (below 2 * mean_gap) after its stamp.
 * size: one draw against the odd-lot threshold, then below(round_lot) or
 * below(max_lots). The opening draws one reference price per symbol, then
 * the first order event's pick.
 *
 * The books: one array of every live order (uniform choice and O(1) removal
 * by moving the last one in). At most max_orders rest: past that an add
 * becomes a delete, so a day-long stream keeps its memory bounded.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simkit.h"
#include "compiler.h"
#include "rng.h"

enum { EV_ADD, EV_ADD_F, EV_EXEC, EV_EXEC_C, EV_CANCEL, EV_DELETE, EV_REPLACE, EV_TRADE };

enum {
    PH_OPEN, PH_DIRECTORY, PH_START, PH_ACTION, PH_MARKET_OPEN, PH_FLOW,
    PH_MARKET_CLOSE, PH_END_SYSTEM, PH_END_MESSAGES, PH_DONE
};

#define MOLD_HEADER 20
#define MOLD_BLOCK 2
#define MOLD_MAX_COUNT 0xFFFE
#define INITIAL_ORDERS 4096
#define ZIPF_QUANTUM 16777216.0 /* weights to 24 bits */

struct order {
    uint64_t ref;
    uint32_t shares;
    uint32_t price;
    uint16_t locate;
    uint8_t side;
};

struct sk_market {
    struct sk_rng rng;
    uint64_t clock;
    uint32_t gap2;           /* 2 * mean_gap_ns */
    int phase;
    uint32_t phase_i;        /* symbol index inside the directory/action phases */
    uint64_t events_left;
    uint64_t made;
    uint64_t cum[SK_MKT_EVENT_KINDS]; /* thresholds over 2^32 */
    uint64_t odd_thr;        /* bits32 < odd_thr: an odd lot */
    uint32_t n_symbols, n_mpids, tick, depth, round_lot, max_lots, max_orders;
    uint32_t grid_low, grid_high;
    uint32_t *alias_prob;    /* [n_symbols], over 2^32 */
    uint16_t *alias_other;   /* [n_symbols], 0-based index */
    uint32_t *reference;     /* [n_symbols], Price(4) */
    char *symbols;           /* n_symbols x 8 */
    char *mpids;             /* n_mpids x 4 */
    struct order *orders;
    uint32_t live, cap;
    uint32_t pick;           /* the next order event's order: pick * live >> 32 */
    uint64_t next_ref, next_match;
    uint8_t pend[SK_MKT_MAX_MSG_LEN];
    uint16_t pend_len;
};

static inline uint32_t bits32(struct sk_rng *r)
{
    return (uint32_t)(sk_rng_step(r) >> 32);
}

static inline uint32_t below(struct sk_rng *r, uint32_t n)
{
    return sk_rng_step_below(r, n);
}

static inline void put_be64(uint8_t *p, uint64_t v)
{
    sk_put_be32(p, (uint32_t)(v >> 32));
    sk_put_be32(p + 4, (uint32_t)v);
}

/* Type, locate, tracking number 0, 6-byte timestamp; the clock moves on. */
static inline uint8_t *header(struct sk_market *m, uint8_t *p, char type, uint16_t locate)
{
    uint64_t ts = m->clock;

    m->clock += 1 + below(&m->rng, m->gap2);
    p[0] = (uint8_t)type;
    sk_put_be16(p + 1, locate);
    p[3] = 0;
    p[4] = 0;
    sk_put_be16(p + 5, (uint16_t)(ts >> 32));
    sk_put_be32(p + 7, (uint32_t)ts);
    return p + 11;
}

static int err_out(char *err, size_t errlen, const char *what)
{
    if (err != NULL && errlen)
        snprintf(err, errlen, "%s", what);
    return -EINVAL;
}

static int check_cfg(const struct sk_market_cfg *c, char *err, size_t errlen)
{
    double total = 0;
    int i;

    if (c->n_symbols < 1 || c->n_symbols > SK_MKT_MAX_SYMBOLS || c->symbols == NULL)
        return err_out(err, errlen, "symbols: 1 to 65535");
    if (c->n_mpids < 1 || c->mpids == NULL)
        return err_out(err, errlen, "mpids: at least one");
    if (c->mean_gap_ns < 1 || c->mean_gap_ns >= 1u << 31)
        return err_out(err, errlen, "mean_gap_ns: 1 .. 2^31 - 1");
    for (i = 0; i < SK_MKT_EVENT_KINDS; i++) {
        if (!(c->mix[i] >= 0 && c->mix[i] < INFINITY))
            return err_out(err, errlen, "mix: finite weights >= 0");
        total += c->mix[i];
    }
    if (c->mix[EV_ADD] + c->mix[EV_ADD_F] <= 0 || !(total < INFINITY))
        return err_out(err, errlen, "mix: add and add_attributed cannot both be 0");
    if (c->tick < 1 || c->depth < 1 || c->grid_low > c->grid_high)
        return err_out(err, errlen, "prices: tick and depth >= 1, low <= high");
    if (((uint64_t)c->grid_high + c->depth + 1) * c->tick >= 1ULL << 32 ||
        (uint64_t)c->grid_low <= (uint64_t)c->depth + 1)
        return err_out(err, errlen, "prices: the book depth leaves Price(4)");
    if (c->round_lot < 1 || c->max_lots < 1 ||
        (uint64_t)c->round_lot * c->max_lots >= 1ULL << 32)
        return err_out(err, errlen, "sizes: round_lot, max_lots >= 1, product < 2^32");
    if (!(c->odd_lot_probability >= 0 && c->odd_lot_probability <= 1))
        return err_out(err, errlen, "sizes: odd_lot_probability in [0, 1]");
    if (!(c->zipf_s >= 0 && c->zipf_s <= 16))
        return err_out(err, errlen, "zipf_s: 0 .. 16");
    return 0;
}

/* Vose's alias method on integer weights: bucket k keeps itself with
 * probability prob[k] / 2^32, else gives alias[k]. */
static int build_alias(struct sk_market *m, double s)
{
    uint32_t n = m->n_symbols, i, ns = 0, nl = 0;
    uint64_t *w, total = 0;
    uint32_t *small, *large;
    int ret = -ENOMEM;

    m->alias_prob = malloc(n * sizeof(*m->alias_prob));
    m->alias_other = malloc(n * sizeof(*m->alias_other));
    w = malloc(n * sizeof(*w));
    small = malloc(n * sizeof(*small));
    large = malloc(n * sizeof(*large));
    if (!m->alias_prob || !m->alias_other || !w || !small || !large)
        goto out;
    for (i = 0; i < n; i++) {
        double x = s == 0 ? 1.0 : pow((double)(i + 1), -s);
        w[i] = (uint64_t)(x * ZIPF_QUANTUM + 0.5);
        if (w[i] == 0)
            w[i] = 1;
        total += w[i];
    }
    /* scaled weight n * w / total against a bucket of 1, in units of total */
    for (i = 0; i < n; i++) {
        w[i] *= n;
        if (w[i] < total)
            small[ns++] = i;
        else
            large[nl++] = i;
    }
    while (ns && nl) {
        uint32_t a = small[--ns], b = large[nl - 1];

        m->alias_prob[a] = (uint32_t)(((unsigned __int128)w[a] << 32) / total);
        m->alias_other[a] = (uint16_t)b;
        w[b] -= total - w[a];
        if (w[b] < total) {
            nl--;
            small[ns++] = b;
        }
    }
    while (nl) {
        uint32_t b = large[--nl];
        m->alias_prob[b] = UINT32_MAX;
        m->alias_other[b] = (uint16_t)b;
    }
    while (ns) { /* rounding leftovers */
        uint32_t a = small[--ns];
        m->alias_prob[a] = UINT32_MAX;
        m->alias_other[a] = (uint16_t)a;
    }
    ret = 0;
out:
    free(w);
    free(small);
    free(large);
    return ret;
}

void sk_market_free(struct sk_market *m)
{
    if (m == NULL)
        return;
    free(m->alias_prob);
    free(m->alias_other);
    free(m->reference);
    free(m->symbols);
    free(m->mpids);
    free(m->orders);
    free(m);
}

struct sk_market *sk_market_new(const struct sk_market_cfg *c, char *err, size_t errlen)
{
    struct sk_market *m;
    double total = 0, acc = 0;
    uint32_t i;

    if (check_cfg(c, err, errlen) < 0)
        return NULL;
    m = calloc(1, sizeof(*m));
    if (m == NULL)
        goto nomem;
    sk_rng_seed(&m->rng, c->seed);
    m->clock = c->start_ns;
    m->gap2 = 2 * c->mean_gap_ns;
    m->events_left = c->events;
    m->n_symbols = c->n_symbols;
    m->n_mpids = c->n_mpids;
    m->tick = c->tick;
    m->depth = c->depth;
    m->round_lot = c->round_lot;
    m->max_lots = c->max_lots;
    m->max_orders = c->max_orders ? c->max_orders : SK_MKT_DEFAULT_MAX_ORDERS;
    m->grid_low = c->grid_low;
    m->grid_high = c->grid_high;
    m->next_ref = 1;
    m->next_match = 1;
    for (i = 0; i < SK_MKT_EVENT_KINDS; i++)
        total += c->mix[i];
    for (i = 0; i < SK_MKT_EVENT_KINDS; i++) {
        acc += c->mix[i];
        m->cum[i] = (uint64_t)(acc / total * 4294967296.0);
    }
    m->cum[SK_MKT_EVENT_KINDS - 1] = 1ULL << 32;
    m->odd_thr = (uint64_t)(c->odd_lot_probability * 4294967296.0);
    m->symbols = malloc((size_t)c->n_symbols * 8);
    m->mpids = malloc((size_t)c->n_mpids * 4);
    m->reference = malloc(c->n_symbols * sizeof(*m->reference));
    m->cap = INITIAL_ORDERS < m->max_orders ? INITIAL_ORDERS : m->max_orders;
    m->orders = malloc(m->cap * sizeof(*m->orders));
    if (!m->symbols || !m->mpids || !m->reference || !m->orders ||
        build_alias(m, c->zipf_s) < 0)
        goto nomem;
    memcpy(m->symbols, c->symbols, (size_t)c->n_symbols * 8);
    memcpy(m->mpids, c->mpids, (size_t)c->n_mpids * 4);
    for (i = 0; i < c->n_symbols; i++)
        m->reference[i] = (c->grid_low + below(&m->rng, c->grid_high - c->grid_low + 1)) *
                          c->tick;
    m->pick = bits32(&m->rng);
    return m;
nomem:
    sk_market_free(m);
    err_out(err, errlen, "market simulator: out of memory");
    return NULL;
}

static const char default_symbols[] = "AAPL    MSFT    SPY     QQQ     ";

int sk_market_symbol_names(uint32_t n, char *out)
{
    uint32_t made, i, d = 4;
    uint64_t k = 0;

    if (n < 1 || n > SK_MKT_MAX_SYMBOLS)
        return -EINVAL;
    made = n < d ? n : d;
    memcpy(out, default_symbols, (size_t)made * 8);
    while (made < n) {
        char name[8], *p = name + 8;
        uint64_t v = ++k;
        int taken = 0;

        memset(out + (size_t)made * 8, ' ', 8);
        while (v) { /* bijective base 26: A..Z, AA, AB, ... */
            *--p = (char)('A' + (v - 1) % 26);
            v = (v - 1) / 26;
        }
        memcpy(out + (size_t)made * 8, p, (size_t)(name + 8 - p));
        for (i = 0; i < d; i++)
            taken |= memcmp(out + (size_t)made * 8, default_symbols + i * 8, 8) == 0;
        if (!taken)
            made++;
    }
    return 0;
}

void sk_market_cfg_default(struct sk_market_cfg *c, uint64_t seed)
{
    static const double mix[SK_MKT_EVENT_KINDS] = {40, 5, 12, 3, 10, 18, 8, 4};

    memset(c, 0, sizeof(*c));
    c->seed = seed;
    c->events = UINT64_MAX;
    c->start_ns = 34200000000000ULL; /* 09:30 */
    c->mean_gap_ns = 50000;
    c->n_symbols = 4;
    c->symbols = default_symbols;
    c->n_mpids = 4;
    c->mpids = "GSCOMSCOUBSSNITE";
    memcpy(c->mix, mix, sizeof(mix));
    c->tick = 100;        /* $0.01 */
    c->grid_low = 1000;   /* $10 */
    c->grid_high = 50000; /* $500 */
    c->depth = 20;
    c->round_lot = 100;
    c->max_lots = 10;
    c->odd_lot_probability = 0.05;
    c->zipf_s = 1.0;
    c->max_orders = SK_MKT_DEFAULT_MAX_ORDERS;
}

uint64_t sk_market_made(const struct sk_market *m)
{
    return m->made;
}

uint64_t sk_market_live(const struct sk_market *m)
{
    return m->live;
}

static inline uint32_t draw_symbol(struct sk_market *m)
{
    uint64_t x = sk_rng_step(&m->rng);
    uint32_t k = (uint32_t)(((x >> 32) * m->n_symbols) >> 32);

    return (uint32_t)x < m->alias_prob[k] ? k : m->alias_other[k];
}

static inline uint32_t draw_size(struct sk_market *m)
{
    if (bits32(&m->rng) < m->odd_thr)
        return 1 + below(&m->rng, m->round_lot);
    return (1 + below(&m->rng, m->max_lots)) * m->round_lot;
}

static inline uint32_t resting(struct sk_market *m, uint32_t sym, uint8_t side)
{
    uint32_t off = (1 + below(&m->rng, m->depth)) * m->tick;

    return side == 'B' ? m->reference[sym] - off : m->reference[sym] + off;
}

static int grow(struct sk_market *m)
{
    uint64_t cap = (uint64_t)m->cap * 2;
    struct order *o;

    if (cap > m->max_orders)
        cap = m->max_orders;
    o = realloc(m->orders, cap * sizeof(*o));
    if (o == NULL)
        return -1;
    m->orders = o;
    m->cap = (uint32_t)cap;
    return 0;
}

static inline void remove_order(struct sk_market *m, struct order *o)
{
    *o = m->orders[--m->live];
}

static inline uint8_t *stock(uint8_t *p, const struct sk_market *m, uint32_t sym)
{
    memcpy(p, m->symbols + (size_t)sym * 8, 8);
    return p + 8;
}

/* One order-flow event into p; its length. */
static size_t flow(struct sk_market *m, uint8_t *out)
{
    uint32_t d = bits32(&m->rng), e = 0, sym, shares, idx;
    struct order *o;
    uint8_t side, *p;

    while (d >= m->cum[e])
        e++;
    if (e >= EV_EXEC && e <= EV_REPLACE && m->live == 0)
        e = EV_ADD;
    if (e <= EV_ADD_F && m->live >= m->max_orders)
        e = EV_DELETE;
    if (e <= EV_ADD_F && m->live == m->cap && grow(m) < 0)
        e = m->live ? EV_DELETE : EV_TRADE; /* no memory for one more: keep going */
    switch (e) {
    case EV_ADD:
    case EV_ADD_F:
        sym = draw_symbol(m);
        side = below(&m->rng, 2) ? 'S' : 'B';
        o = &m->orders[m->live++];
        o->ref = m->next_ref++;
        o->locate = (uint16_t)(sym + 1);
        o->side = side;
        o->shares = draw_size(m);
        o->price = resting(m, sym, side);
        p = header(m, out, e == EV_ADD ? 'A' : 'F', o->locate);
        put_be64(p, o->ref);
        p[8] = side;
        sk_put_be32(p + 9, o->shares);
        stock(p + 13, m, sym);
        sk_put_be32(p + 21, o->price);
        if (e == EV_ADD)
            return 36;
        memcpy(p + 25, m->mpids + (size_t)below(&m->rng, m->n_mpids) * 4, 4);
        return 40;
    case EV_TRADE:
        sym = draw_symbol(m);
        shares = draw_size(m);
        p = header(m, out, 'P', (uint16_t)(sym + 1));
        put_be64(p, 0);
        p[8] = 'B';
        sk_put_be32(p + 9, shares);
        stock(p + 13, m, sym);
        sk_put_be32(p + 21, m->reference[sym]);
        put_be64(p + 25, m->next_match++);
        return 44;
    default:
        break;
    }
    /* the order: a fraction drawn one order event ahead, so that its line
     * could be fetched meanwhile (the books outgrow L1/L2: the miss was 3/4
     * of the time) */
    idx = (uint32_t)(((uint64_t)m->pick * m->live) >> 32);
    m->pick = bits32(&m->rng);
    __builtin_prefetch(&m->orders[((uint64_t)m->pick * m->live) >> 32]);
    o = &m->orders[idx];
    if (e == EV_CANCEL && o->shares < 2)
        e = EV_DELETE; /* a cancel is partial: a last share can only be deleted */
    switch (e) {
    case EV_EXEC:
    case EV_EXEC_C:
        shares = 1 + below(&m->rng, o->shares);
        p = header(m, out, e == EV_EXEC ? 'E' : 'C', o->locate);
        put_be64(p, o->ref);
        sk_put_be32(p + 8, shares);
        put_be64(p + 12, m->next_match++);
        if (e == EV_EXEC_C) {
            p[20] = 'Y';
            sk_put_be32(p + 21, o->side == 'B' ? o->price - m->tick : o->price + m->tick);
        }
        o->shares -= shares;
        if (o->shares == 0)
            remove_order(m, o);
        return e == EV_EXEC ? 31 : 36;
    case EV_CANCEL:
        shares = 1 + below(&m->rng, o->shares - 1);
        o->shares -= shares;
        p = header(m, out, 'X', o->locate);
        put_be64(p, o->ref);
        sk_put_be32(p + 8, shares);
        return 23;
    case EV_DELETE:
        p = header(m, out, 'D', o->locate);
        put_be64(p, o->ref);
        remove_order(m, o);
        return 19;
    default: /* replace: same symbol and side, new reference, size and price */
        p = header(m, out, 'U', o->locate);
        put_be64(p, o->ref);
        o->ref = m->next_ref++;
        o->shares = draw_size(m);
        o->price = resting(m, o->locate - 1u, o->side);
        put_be64(p + 8, o->ref);
        sk_put_be32(p + 16, o->shares);
        sk_put_be32(p + 20, o->price);
        return 35;
    }
}

static size_t system_event(struct sk_market *m, uint8_t *out, char code)
{
    header(m, out, 'S', 0)[0] = (uint8_t)code;
    return 12;
}

static size_t directory(struct sk_market *m, uint8_t *out, uint32_t sym)
{
    uint8_t *p = header(m, out, 'R', (uint16_t)(sym + 1));

    stock(p, m, sym);
    p[8] = 'Q';
    p[9] = 'N';
    sk_put_be32(p + 10, m->round_lot);
    memcpy(p + 14, "NCZ PNN1N", 9); /* round lots only .. ETP flag */
    sk_put_be32(p + 23, 0);         /* ETP leverage factor */
    p[27] = 'N';
    return 39;
}

static size_t trading_action(struct sk_market *m, uint8_t *out, uint32_t sym)
{
    uint8_t *p = header(m, out, 'H', (uint16_t)(sym + 1));

    stock(p, m, sym);
    memcpy(p + 8, "T     ", 6); /* trading, reserved, reason (4 spaces) */
    return 25;
}

/* The next message into out (room for SK_MKT_MAX_MSG_LEN); 0 when done. */
static size_t next_message(struct sk_market *m, uint8_t *out)
{
    size_t n;

    if (sk_likely(m->phase == PH_FLOW)) {
        if (sk_likely(m->events_left)) {
            m->events_left -= m->events_left != UINT64_MAX;
            m->made++;
            return flow(m, out);
        }
        m->phase = PH_MARKET_CLOSE;
    }
    switch (m->phase) {
    case PH_OPEN:
        n = system_event(m, out, 'O');
        m->phase = PH_DIRECTORY;
        break;
    case PH_DIRECTORY:
        n = directory(m, out, m->phase_i++);
        if (m->phase_i == m->n_symbols) {
            m->phase_i = 0;
            m->phase = PH_START;
        }
        break;
    case PH_START:
        n = system_event(m, out, 'S');
        m->phase = PH_ACTION;
        break;
    case PH_ACTION:
        n = trading_action(m, out, m->phase_i++);
        if (m->phase_i == m->n_symbols)
            m->phase = PH_MARKET_OPEN;
        break;
    case PH_MARKET_OPEN:
        n = system_event(m, out, 'Q');
        m->phase = PH_FLOW;
        break;
    case PH_MARKET_CLOSE:
        n = system_event(m, out, 'M');
        m->phase = PH_END_SYSTEM;
        break;
    case PH_END_SYSTEM:
        n = system_event(m, out, 'E');
        m->phase = PH_END_MESSAGES;
        break;
    case PH_END_MESSAGES:
        n = system_event(m, out, 'C');
        m->phase = PH_DONE;
        break;
    default:
        return 0;
    }
    m->made++;
    return n;
}

uint64_t sk_market_messages(struct sk_market *m, uint8_t *buf, uint64_t cap,
                            uint16_t *lens, uint64_t max)
{
    uint64_t n = 0, at = 0;
    size_t len;

    while (n < max && cap - at >= SK_MKT_MAX_MSG_LEN) {
        len = next_message(m, buf + at);
        if (len == 0)
            break;
        lens[n++] = (uint16_t)len;
        at += len;
    }
    return n;
}

/* One datagram payload into out (room for max_payload): 0 when the session
 * has no more messages. */
static uint32_t datagram(struct sk_market *m, uint8_t *out, uint32_t max_payload,
                         const char *session, uint64_t *seq)
{
    uint32_t at = MOLD_HEADER, count = 0;
    size_t len;

    for (;;) {
        if (m->pend_len) {
            if (max_payload - at < MOLD_BLOCK + (uint32_t)m->pend_len || count == MOLD_MAX_COUNT)
                break;
            sk_put_be16(out + at, m->pend_len);
            memcpy(out + at + MOLD_BLOCK, m->pend, m->pend_len);
            at += MOLD_BLOCK + m->pend_len;
            count++;
            m->pend_len = 0;
            continue;
        }
        if (max_payload - at >= MOLD_BLOCK + SK_MKT_MAX_MSG_LEN && count < MOLD_MAX_COUNT) {
            len = next_message(m, out + at + MOLD_BLOCK); /* straight into place */
            if (len == 0)
                break;
            sk_put_be16(out + at, (uint16_t)len);
            at += MOLD_BLOCK + (uint32_t)len;
            count++;
            continue;
        }
        len = next_message(m, m->pend); /* may not fit: kept for the next datagram */
        if (len == 0)
            break;
        m->pend_len = (uint16_t)len;
    }
    if (count == 0)
        return 0;
    memcpy(out, session, 10);
    put_be64(out + 10, *seq);
    sk_put_be16(out + 18, (uint16_t)count);
    *seq += count;
    return at;
}

uint64_t sk_market_datagrams(struct sk_market *m, uint8_t *buf, uint64_t cap,
                             uint32_t max_payload, const char *session, uint64_t *seq,
                             uint32_t *lens, uint64_t max)
{
    uint64_t n = 0, at = 0;
    uint32_t len;

    if (max_payload < MOLD_HEADER + MOLD_BLOCK + SK_MKT_MAX_MSG_LEN)
        return 0;
    while (n < max && cap - at >= max_payload) {
        len = datagram(m, buf + at, max_payload, session, seq);
        if (len == 0)
            break;
        lens[n++] = len;
        at += len;
    }
    return n;
}
