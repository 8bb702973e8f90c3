/*
 * fuzz_seq.c - libFuzzer target for the sequence accounting (seq.c),
 * checked against an exact reference model after every feed.
 *
 * Input: byte 0 picks a small window (64..1024, so gaps cross it often);
 * then one op byte per step (plus operands) chooses the next sequence
 * number: a small step from the last one, a value straddling the window's
 * edge, a jump ahead, a repeat of an earlier value, a raw 64-bit value, one
 * near UINT64_MAX, or a reset.
 *
 * The model keeps every value seen (a hash set) and the highest one, and
 * classifies each feed as seq.c documents it: above the highest -> unique;
 * within `window` of it -> duplicated if seen before, else unique+reordered;
 * older -> unique+reordered+late. All counters and next_expected must match
 * the tracker exactly after every single feed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "simkit.h"
#include "fuzz_input.h"

#define WINDOW_LOG2_MIN 6
#define WINDOW_LOG2_SPAN 5          /* windows 2^6 .. 2^10 */
#define MAX_FEEDS 8192
#define SET_SLOTS (2 * MAX_FEEDS)   /* power of two, load <= 1/2 */
#define HISTORY 256

/* Open-addressing set; a slot is live when its stamp is the current one, so
 * clearing it between inputs (or on reset) costs nothing. */
struct seen_set {
    uint64_t key[SET_SLOTS];
    uint32_t stamp[SET_SLOTS];
    uint32_t now;
};

static struct seen_set seen;

static void set_clear(struct seen_set *s)
{
    if (++s->now == 0) { /* stamps wrapped: really clear once */
        memset(s->stamp, 0, sizeof(s->stamp));
        s->now = 1;
    }
}

/* Insert k; returns 1 if it was already there. */
static int set_insert(struct seen_set *s, uint64_t k)
{
    uint64_t h = k * 0x9e3779b97f4a7c15ULL;
    size_t i = (size_t)(h >> 50) & (SET_SLOTS - 1);

    for (;; i = (i + 1) & (SET_SLOTS - 1)) {
        if (s->stamp[i] != s->now) {
            s->stamp[i] = s->now;
            s->key[i] = k;
            return 0;
        }
        if (s->key[i] == k)
            return 1;
    }
}

struct model {
    uint64_t window;
    int started;
    uint64_t highest;
    uint64_t fed;
    struct sk_seq_stats st;
};

static void model_reset(struct model *m)
{
    m->started = 0;
    m->highest = 0;
    m->fed = 0;
    memset(&m->st, 0, sizeof(m->st));
    set_clear(&seen);
}

static void model_feed(struct model *m, uint64_t s)
{
    int dup = set_insert(&seen, s);

    m->fed++;
    if (!m->started || s > m->highest) {
        m->started = 1;
        m->highest = s;
        m->st.next_expected = s + 1;
        m->st.unique++;
    } else if (m->highest - s < m->window) {
        if (dup) {
            m->st.duplicated++;
        } else {
            m->st.unique++;
            m->st.reordered++;
        }
    } else {
        m->st.unique++;
        m->st.reordered++;
        m->st.late++;
    }
}

static void check_same(const struct sk_seq *t, const struct model *m,
                       uint64_t s, uint64_t step)
{
    struct sk_seq_stats got;

    sk_seq_get_stats(t, &got);
    FUZZ_CHECK(memcmp(&got, &m->st, sizeof(got)) == 0,
               "step %llu, seq %llu (window %llu, highest %llu): tracker "
               "unique/dup/reord/late/next = %llu/%llu/%llu/%llu/%llu, model "
               "%llu/%llu/%llu/%llu/%llu",
               (unsigned long long)step, (unsigned long long)s,
               (unsigned long long)m->window, (unsigned long long)m->highest,
               (unsigned long long)got.unique,
               (unsigned long long)got.duplicated,
               (unsigned long long)got.reordered,
               (unsigned long long)got.late,
               (unsigned long long)got.next_expected,
               (unsigned long long)m->st.unique,
               (unsigned long long)m->st.duplicated,
               (unsigned long long)m->st.reordered,
               (unsigned long long)m->st.late,
               (unsigned long long)m->st.next_expected);
    FUZZ_CHECK(got.unique + got.duplicated == m->fed, "unique + duplicated "
               "!= packets fed");
    FUZZ_CHECK(got.late <= got.reordered, "late > reordered");
    FUZZ_CHECK(sk_seq_unique(t) == got.unique, "sk_seq_unique");
    FUZZ_CHECK(sk_seq_lost(t, m->fed) == got.duplicated, "sk_seq_lost");
    FUZZ_CHECK(sk_seq_lost(t, got.unique + 7) == 7, "sk_seq_lost");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    uint64_t history[HISTORY], last = 0, s, step;
    unsigned nhist = 0;
    struct sk_seq *t;
    struct model m;
    uint32_t log2;

    log2 = WINDOW_LOG2_MIN + fuzz_u8(&in) % WINDOW_LOG2_SPAN;
    t = sk_seq_new(log2);
    FUZZ_CHECK(t != NULL, "sk_seq_new(%u)", log2);
    m.window = 1ULL << log2;
    model_reset(&m);

    for (step = 0; fuzz_more(&in) && step < MAX_FEEDS; step++) {
        uint8_t op = fuzz_u8(&in);

        switch (op >> 6) {
        case 0: /* small step around the last value */
            s = last + (op & 63) - 16;
            break;
        case 1: /* straddle the window's edge behind the highest */
            s = m.highest - (m.window - 32 + (op & 63));
            break;
        case 2: /* jump ahead, possibly past the whole window */
            s = m.highest + 1 + fuzz_uint(&in, 1 + (op & 1)) * (1 + (op & 62));
            break;
        default:
            switch (op & 3) {
            case 0:
                s = fuzz_uint(&in, 8);
                break;
            case 1:
                s = UINT64_MAX - ((op >> 2) & 15);
                break;
            case 2:
                s = nhist ? history[fuzz_u8(&in) % nhist] : 0;
                break;
            default:
                sk_seq_reset(t);
                model_reset(&m);
                nhist = 0;
                last = 0;
                continue;
            }
        }
        sk_seq_feed(t, s);
        model_feed(&m, s);
        check_same(t, &m, s, step);
        if (nhist < HISTORY)
            history[nhist++] = s;
        last = s;
    }
    sk_seq_free(t);
    return 0;
}
