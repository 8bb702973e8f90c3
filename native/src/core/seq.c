/*
 * seq.c - sequence accounting with a windowed bitmap.
 *
 * The bitmap remembers which of the last `window` sequence numbers (behind
 * the highest seen) arrived. Per packet O(1) amortised: a jump ahead clears
 * the bits of the gap once (all of them if the gap exceeds the window).
 * Anything older than the window cannot be told from a duplicate: it is
 * counted as unique, reordered and late.
 */
#include <stdlib.h>
#include <string.h>

#include "simkit.h"
#include "batch.h"
#include "compiler.h"

#define WINDOW_LOG2_MIN 6
#define WORD_BITS 64

struct sk_seq {
    uint64_t *bits;
    uint64_t window; /* power of two */
    uint64_t mask;
    struct sk_seq_stats st;
};

struct sk_seq *sk_seq_new(uint32_t window_log2)
{
    struct sk_seq *t;

    if (window_log2 == 0)
        window_log2 = SK_SEQ_DEFAULT_WINDOW_LOG2;
    if (window_log2 < WINDOW_LOG2_MIN || window_log2 > SK_SEQ_MAX_WINDOW_LOG2)
        return NULL;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->window = 1ULL << window_log2;
    t->mask = t->window - 1;
    t->bits = calloc(t->window / WORD_BITS, sizeof(uint64_t));
    if (t->bits == NULL) {
        free(t);
        return NULL;
    }
    return t;
}

void sk_seq_free(struct sk_seq *t)
{
    if (t == NULL)
        return;
    free(t->bits);
    free(t);
}

void sk_seq_reset(struct sk_seq *t)
{
    memset(t->bits, 0, t->window / WORD_BITS * sizeof(uint64_t));
    memset(&t->st, 0, sizeof(t->st));
}

static inline uint64_t *word_of(struct sk_seq *t, uint64_t s)
{
    return &t->bits[(s & t->mask) / WORD_BITS];
}

static inline uint64_t bit_of(uint64_t s)
{
    return 1ULL << (s % WORD_BITS);
}

/* Clear the bits of seqs lo..hi inclusive (hi - lo < window). */
static void clear_range(struct sk_seq *t, uint64_t lo, uint64_t hi)
{
    while (lo <= hi) {
        if ((lo % WORD_BITS) == 0 && hi - lo >= WORD_BITS - 1) {
            *word_of(t, lo) = 0;
            lo += WORD_BITS;
        } else {
            *word_of(t, lo) &= ~bit_of(lo);
            lo++;
        }
        if (lo == 0) /* wrapped past UINT64_MAX */
            break;
    }
}

/* The next in order (s == highest + 1, no wrap): what the general case does
 * for it (clear the one slot of the gap, then set it) in one step. */
static inline int feed_in_order(struct sk_seq *t, uint64_t s)
{
    if (sk_unlikely(s != t->st.next_expected || s == 0))
        return 0;
    *word_of(t, s) |= bit_of(s);
    t->st.next_expected = s + 1;
    t->st.unique++;
    return 1;
}

void sk_seq_feed_batch(struct sk_seq *t, const uint64_t *seqs, unsigned n)
{
    unsigned i;

    for (i = 0; i < n; i++)
        if (!feed_in_order(t, seqs[i]))
            sk_seq_feed(t, seqs[i]);
}

void sk_seq_feed(struct sk_seq *t, uint64_t s)
{
    /* Compare with the highest seq seen, not next_expected: that wraps to 0
     * once UINT64_MAX has been seen (any value can arrive off the wire).
     * unique is 0 only before the first feed, when the bitmap is clear. */
    uint64_t highest = t->st.next_expected - 1;

    if (feed_in_order(t, s))
        return;
    if (t->st.unique == 0 || s > highest) {
        if (t->st.unique != 0) {
            if (s - highest > t->window)
                memset(t->bits, 0, t->window / WORD_BITS * sizeof(uint64_t));
            else
                clear_range(t, highest + 1, s);
        }
        *word_of(t, s) |= bit_of(s);
        t->st.next_expected = s + 1;
        t->st.unique++;
        return;
    }
    if (highest - s < t->window) {
        uint64_t *w = word_of(t, s);

        if (*w & bit_of(s)) {
            t->st.duplicated++;
        } else {
            *w |= bit_of(s);
            t->st.unique++;
            t->st.reordered++;
        }
        return;
    }
    t->st.unique++;
    t->st.reordered++;
    t->st.late++;
}

void sk_seq_get_stats(const struct sk_seq *t, struct sk_seq_stats *out)
{
    *out = t->st;
}

uint64_t sk_seq_unique(const struct sk_seq *t)
{
    return t->st.unique;
}

uint64_t sk_seq_lost(const struct sk_seq *t, uint64_t tx_sent)
{
    return tx_sent > t->st.unique ? tx_sent - t->st.unique : 0;
}
