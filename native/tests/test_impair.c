/*
 * test_impair.c - the impairment models: rates within their binomial (or
 * Markov) confidence bound, ground truth equal to what the receiver's
 * sequence accounting sees, determinism, independence of the models, and
 * rejection of bad or contradictory parameters.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "simkit.h"
#include "check.h"

#define N 200000
#define SIGMAS 4.5

static uint8_t *frames;      /* N seed frames, back to back, seq = index */
static uint8_t *pristine;
static uint32_t *lens;
static struct sk_impair_out *outs;
static const uint64_t out_cap = 2 * (N + SK_IMPAIR_MAX_GAP + 1);

static void make_frames(void)
{
    struct sk_seed_fields f;
    uint64_t i;

    sk_seed_fields_default(&f);
    for (i = 0; i < N; i++) {
        f.seq = i;
        sk_seed_build(&f, frames + i * SK_SEED_FRAME_LEN, SK_SEED_FRAME_LEN);
        lens[i] = SK_SEED_FRAME_LEN;
    }
    memcpy(pristine, frames, (size_t)N * SK_SEED_FRAME_LEN);
}

/* Impair the N frames (restored first); returns the entry count. */
static int64_t run(const struct sk_impair_model *m, uint32_t n, uint64_t seed,
                   struct sk_impair_stats *st)
{
    struct sk_impair *imp = NULL;
    int64_t got;

    memcpy(frames, pristine, (size_t)N * SK_SEED_FRAME_LEN);
    CHECK(sk_impair_new(m, n, seed, &imp) == 0);
    if (imp == NULL)
        return -1;
    got = sk_impair_run(imp, frames, lens, N, 1, outs, out_cap);
    sk_impair_get_stats(imp, st);
    sk_impair_free(imp);
    CHECK(got > 0);
    CHECK_EQ_U(st->packets_in, N);
    CHECK_EQ_U(st->queued, 0);
    return got;
}

static int within(double observed, double expected, double sigma, const char *what)
{
    if (fabs(observed - expected) <= SIGMAS * sigma)
        return 1;
    fprintf(stderr, "%s: observed %.6f, expected %.6f +- %.6f (%.1f sigma)\n", what,
            observed, expected, SIGMAS * sigma, SIGMAS);
    return 0;
}

static int binomial_ok(uint64_t hits, uint64_t n, double p, const char *what)
{
    return within((double)hits / (double)n, p, sqrt(p * (1 - p) / (double)n), what);
}

/* Feed the entries that were sent to a receiver's sequence accounting and
 * check it against the impairer's own ground truth. */
static void check_accounting(int64_t count, const struct sk_impair_stats *st)
{
    struct sk_seq *seq = sk_seq_new(20);
    struct sk_seq_stats ss;
    uint64_t sent = 0, dropped = 0;
    int64_t i;

    CHECK(seq != NULL);
    for (i = 0; i < count; i++) {
        if (outs[i].flags & SK_IMPAIRED_DROPPED) {
            dropped++;
            continue;
        }
        sent++;
        sk_seq_feed(seq, outs[i].index);
    }
    sk_seq_get_stats(seq, &ss);
    CHECK_EQ_U(dropped, st->dropped);
    CHECK_EQ_U(sent, st->packets_out);
    CHECK_EQ_U(sk_seq_lost(seq, N), st->dropped);
    CHECK_EQ_U(ss.duplicated, st->duplicated);
    CHECK_EQ_U(ss.reordered, st->reordered);
    CHECK_EQ_U(st->packets_out, N - st->dropped + st->duplicated);
    sk_seq_free(seq);
}

static void test_drop_rate_and_truth(void)
{
    struct sk_impair_model m = {.kind = SK_IMPAIR_DROP, .p = 0.01};
    struct sk_impair_stats st;
    int64_t got = run(&m, 1, 1, &st);

    CHECK(binomial_ok(st.dropped, N, 0.01, "drop"));
    CHECK_EQ_U(got, N); /* one entry per packet, dropped or not */
    check_accounting(got, &st);
}

static void test_gilbert_stationary_loss(void)
{
    struct sk_impair_model m = {.kind = SK_IMPAIR_GILBERT, .p = 0.01, .r = 0.3,
                                .h = 0.5, .k = 0.99};
    double pb = m.p / (m.p + m.r), pg = 1 - pb;
    double loss = pg * (1 - m.k) + pb * (1 - m.h);
    double lambda = 1 - m.p - m.r;
    /* per-packet variance of a two-state Markov chain's loss indicator */
    double var = loss * (1 - loss) +
                 2 * (m.k - m.h) * (m.k - m.h) * pb * pg * lambda / (1 - lambda);
    struct sk_impair_stats st;
    int64_t got = run(&m, 1, 7, &st);
    uint64_t runs = 0, i;

    CHECK(within((double)st.dropped / N, loss, sqrt(var / N), "gilbert loss"));
    check_accounting(got, &st);
    /* bursts: losses cluster, unlike Bernoulli at the same rate */
    for (i = 1; i < (uint64_t)got; i++)
        runs += (outs[i].flags & SK_IMPAIRED_DROPPED) &&
                (outs[i - 1].flags & SK_IMPAIRED_DROPPED);
    CHECK((double)runs / (double)st.dropped > 2 * loss);

    /* netem's special case h = 0, k = 1: every packet of a burst lost */
    m.h = 0;
    m.k = 1;
    got = run(&m, 1, 7, &st);
    CHECK(within((double)st.dropped / N, pb, sqrt(pb * pg * (2 - m.p - m.r) /
                                                  (m.p + m.r) / N), "simple gilbert"));
}

static void test_dup_rate_and_truth(void)
{
    struct sk_impair_model m = {.kind = SK_IMPAIR_DUP, .p = 0.05};
    struct sk_impair_stats st;
    int64_t got = run(&m, 1, 3, &st), i;

    CHECK(binomial_ok(st.duplicated, N, 0.05, "dup"));
    check_accounting(got, &st);
    for (i = 0; i < got; i++)
        if (outs[i].copy == 1)
            CHECK(i > 0 && outs[i - 1].index == outs[i].index && outs[i - 1].copy == 0);
}

static void test_reorder_rate_and_truth(void)
{
    struct sk_impair_model m = {.kind = SK_IMPAIR_REORDER, .p = 0.05, .gap = 3};
    struct sk_impair_stats st;
    int64_t got = run(&m, 1, 5, &st), i;
    uint64_t late = 0;

    CHECK(binomial_ok(st.held, N, 0.05, "reorder held"));
    /* a held packet stays in order only if the gap after it was all held */
    CHECK(binomial_ok(st.reordered, N, 0.05 * (1 - pow(0.05, 3)), "reordered"));
    check_accounting(got, &st);
    /* without losses a reordered packet is exactly gap places late */
    for (i = 0; i < got; i++)
        if ((outs[i].flags & SK_IMPAIRED_REORDERED) && i >= 3 &&
            outs[i - 3].index == outs[i].index + 1 && outs[i - 1].index == outs[i].index + 3)
            late++;
    CHECK(late > 0);
}

static void test_corrupt_one_bit_in_layer(void)
{
    static const uint32_t layer[] = {SK_IMPAIR_LAYER_FRAME, SK_IMPAIR_LAYER_ETH,
                                     SK_IMPAIR_LAYER_IP, SK_IMPAIR_LAYER_UDP,
                                     SK_IMPAIR_LAYER_PAYLOAD};
    static const uint32_t lo[] = {0, 0, 14, 34, 42}, hi[] = {78, 14, 34, 42, 78};
    unsigned l;

    for (l = 0; l < 5; l++) {
        struct sk_impair_model m = {.kind = SK_IMPAIR_CORRUPT, .p = 0.01, .layer = layer[l]};
        struct sk_impair_stats st;
        int64_t got = run(&m, 1, 11, &st), i;
        uint64_t changed = 0, j;

        CHECK(binomial_ok(st.corrupted, N, 0.01, sk_impair_layer_name(layer[l])));
        for (i = 0; i < got; i++) {
            const struct sk_impair_out *o = &outs[i];
            const uint8_t *a = frames + o->token, *b = pristine + o->token;

            if (!(o->flags & SK_IMPAIRED_CORRUPTED))
                continue;
            CHECK(o->corrupt_offset >= lo[l] && o->corrupt_offset < hi[l]);
            CHECK((a[o->corrupt_offset] ^ b[o->corrupt_offset]) == 1u << o->corrupt_bit);
        }
        for (j = 0; j < (uint64_t)N * SK_SEED_FRAME_LEN; j++)
            changed += frames[j] != pristine[j];
        CHECK_EQ_U(changed, st.corrupted);
    }
}

static void test_truncate(void)
{
    struct sk_impair_model m = {.kind = SK_IMPAIR_TRUNCATE, .p = 0.02};
    struct sk_impair_stats st;
    int64_t got = run(&m, 1, 13, &st), i;
    uint64_t short_ = 0, min = 1000, max = 0;

    CHECK(binomial_ok(st.truncated, N, 0.02, "truncate"));
    for (i = 0; i < got; i++) {
        if (!(outs[i].flags & SK_IMPAIRED_TRUNCATED)) {
            CHECK_EQ_U(outs[i].len, SK_SEED_FRAME_LEN);
            continue;
        }
        short_++;
        min = outs[i].len < min ? outs[i].len : min;
        max = outs[i].len > max ? outs[i].len : max;
    }
    CHECK_EQ_U(short_, st.truncated);
    CHECK(min >= 1 && max <= SK_SEED_FRAME_LEN - 1 && max > min);

    m.len = 60;
    got = run(&m, 1, 13, &st);
    for (i = 0; i < got; i++)
        CHECK_EQ_U(outs[i].len, (outs[i].flags & SK_IMPAIRED_TRUNCATED) ? 60 : SK_SEED_FRAME_LEN);
}

static void test_delay(void)
{
    struct sk_impair_model m = {.kind = SK_IMPAIR_DELAY, .mean_ns = 20000, .jitter_ns = 5000};
    struct sk_impair_stats st;
    int64_t got = run(&m, 1, 17, &st), i;
    uint64_t lo = UINT64_MAX, hi = 0;
    double sigma = 5000.0 / sqrt(3.0) / sqrt((double)N);

    CHECK_EQ_U(st.delayed, N);
    CHECK(within((double)st.delay_ns_sum / N, 20000, sigma, "delay mean"));
    for (i = 0; i < got; i++) {
        lo = outs[i].delay_ns < lo ? outs[i].delay_ns : lo;
        hi = outs[i].delay_ns > hi ? outs[i].delay_ns : hi;
    }
    CHECK(lo >= 15000 && lo < 15100 && hi <= 25000 && hi > 24900);
}

static void test_everything_at_once_accounts_exactly(void)
{
    struct sk_impair_model m[] = {
        {.kind = SK_IMPAIR_GILBERT, .p = 0.02, .r = 0.4, .h = 0.3, .k = 1},
        {.kind = SK_IMPAIR_DUP, .p = 0.01},
        {.kind = SK_IMPAIR_REORDER, .p = 0.02, .gap = 5},
        {.kind = SK_IMPAIR_CORRUPT, .p = 0.01, .layer = SK_IMPAIR_LAYER_PAYLOAD},
        {.kind = SK_IMPAIR_TRUNCATE, .p = 0.01},
    };
    struct sk_impair_stats st;
    int64_t got = run(m, 5, 19, &st);

    check_accounting(got, &st);
    CHECK(st.dropped && st.duplicated && st.reordered && st.corrupted && st.truncated);
}

static int same_entries(int64_t n, const struct sk_impair_out *a, const struct sk_impair_out *b)
{
    return memcmp(a, b, (size_t)n * sizeof(*a)) == 0;
}

static void test_determinism_and_independence(void)
{
    struct sk_impair_model m[] = {
        {.kind = SK_IMPAIR_DROP, .p = 0.05},
        {.kind = SK_IMPAIR_DUP, .p = 0.05},
        {.kind = SK_IMPAIR_REORDER, .p = 0.05, .gap = 2},
    };
    struct sk_impair_stats st;
    struct sk_impair_out *first = malloc(out_cap * sizeof(*first));
    int64_t a, b, i, j;

    CHECK(first != NULL);
    if (first == NULL)
        return;
    a = run(m, 3, 42, &st);
    memcpy(first, outs, (size_t)a * sizeof(*first));
    b = run(m, 3, 42, &st);
    CHECK(a == b && same_entries(a, first, outs));
    b = run(m, 3, 43, &st);
    CHECK(a != b || !same_entries(a, first, outs));

    /* the drop model alone picks the same packets as next to the others */
    a = run(m, 3, 42, &st);
    memcpy(first, outs, (size_t)a * sizeof(*first));
    b = run(m, 1, 42, &st);
    for (i = 0, j = 0; i < a; i++) {
        if (!(first[i].flags & SK_IMPAIRED_DROPPED))
            continue;
        while (j < b && !(outs[j].flags & SK_IMPAIRED_DROPPED))
            j++;
        CHECK(j < b && outs[j].index == first[i].index);
        j++;
    }
    free(first);
}

/* malform: its rate, kinds drawn only from the mask and about evenly, no
 * truncation or corruption on top, and the bytes left for the caller. */
static void test_malform_rate_kinds_and_one_damage(void)
{
    const uint32_t mask = 1u << SK_MALFORM_RUNT | 1u << SK_MALFORM_IP_OPTIONS |
                          1u << SK_MALFORM_ETHERTYPE;
    struct sk_impair_model m[3] = {
        {.kind = SK_IMPAIR_MALFORM, .p = 0.05, .malform_kinds = mask},
        {.kind = SK_IMPAIR_TRUNCATE, .p = 0.5},
        {.kind = SK_IMPAIR_CORRUPT, .p = 0.5},
    };
    uint64_t per_kind[SK_MALFORM_KIND_COUNT + 1] = {0}, hits = 0;
    struct sk_impair_stats st;
    int64_t got = run(m, 3, 3, &st), i;

    CHECK(binomial_ok(st.malformed, N, 0.05, "malform"));
    for (i = 0; i < got; i++) {
        if (!(outs[i].flags & SK_IMPAIRED_MALFORMED))
            continue;
        hits++;
        CHECK(outs[i].malform <= SK_MALFORM_KIND_COUNT && (mask >> outs[i].malform & 1));
        per_kind[outs[i].malform]++;
        CHECK(!(outs[i].flags & (SK_IMPAIRED_TRUNCATED | SK_IMPAIRED_CORRUPTED)));
        CHECK(outs[i].len == SK_SEED_FRAME_LEN); /* the caller damages it */
        CHECK(memcmp(frames + outs[i].token, pristine + outs[i].token,
                     SK_SEED_FRAME_LEN) == 0);
    }
    CHECK_EQ_U(hits, st.malformed);
    CHECK(binomial_ok(per_kind[SK_MALFORM_RUNT], hits, 1.0 / 3, "malform kind choice"));
    CHECK(binomial_ok(per_kind[SK_MALFORM_ETHERTYPE], hits, 1.0 / 3, "malform kind choice"));
    check_accounting(got, &st);
}

static void test_push_api(void)
{
    struct sk_impair_model m = {.kind = SK_IMPAIR_REORDER, .p = 1, .gap = 2};
    struct sk_impair *imp = NULL;
    struct sk_impair_out out[SK_IMPAIR_PUSH_MAX_OUT * 2];
    uint8_t frame[SK_SEED_FRAME_LEN] = {0};
    int got;

    CHECK(sk_impair_new(&m, 1, 1, &imp) == 0);
    CHECK(sk_impair_push(imp, 0, frame, sizeof(frame), out, 3) == -ENOSPC);
    /* every packet held: each is released after the next two, in order,
     * and none is overtaken - nothing is reordered */
    CHECK(sk_impair_push(imp, 10, frame, sizeof(frame), out, 4) == 0);
    CHECK(sk_impair_push(imp, 11, frame, sizeof(frame), out, 4) == 0);
    got = sk_impair_push(imp, 12, frame, sizeof(frame), out, 4);
    CHECK(got == 1 && out[0].token == 10 && out[0].index == 0);
    CHECK(out[0].flags == SK_IMPAIRED_HELD);
    got = sk_impair_flush(imp, out, 8);
    CHECK(got == 2 && out[0].token == 11 && out[1].token == 12);
    CHECK(sk_impair_flush(imp, out, 8) == 0);
    sk_impair_free(imp);

    CHECK(sk_impair_new(NULL, 0, 1, &imp) == 0); /* no models: pass through */
    got = sk_impair_push(imp, 5, frame, sizeof(frame), out, 4);
    CHECK(got == 1 && out[0].token == 5 && out[0].flags == 0 && out[0].len == SK_SEED_FRAME_LEN);
    sk_impair_free(imp);
}

static void expect_invalid(const struct sk_impair_model *m, uint32_t n, const char *words)
{
    char msg[256];
    struct sk_impair *imp = (struct sk_impair *)1;

    CHECK(sk_impair_validate(m, n, msg, sizeof(msg)) == -EINVAL);
    if (strstr(msg, words) == NULL) {
        fprintf(stderr, "message %s lacks %s\n", msg, words);
        check_failures++;
    }
    CHECK(sk_impair_new(m, n, 1, &imp) == -EINVAL && imp == NULL);
}

static void test_bad_parameters(void)
{
    struct sk_impair_model m[2];

    memset(m, 0, sizeof(m));
    m[0] = (struct sk_impair_model){.kind = SK_IMPAIR_DROP, .p = 1.5};
    expect_invalid(m, 1, "drop: p must be between 0 and 1, got 1.5");
    m[0].p = NAN;
    expect_invalid(m, 1, "drop: p must be between 0 and 1");
    m[0] = (struct sk_impair_model){.kind = SK_IMPAIR_GILBERT, .p = 0.1, .r = 0.1, .h = -0.1};
    expect_invalid(m, 1, "gilbert: h must be between 0 and 1");
    m[0] = (struct sk_impair_model){.kind = SK_IMPAIR_REORDER, .p = 0.1, .gap = 0};
    expect_invalid(m, 1, "reorder: gap must be between 1");
    m[0] = (struct sk_impair_model){.kind = SK_IMPAIR_CORRUPT, .p = 0.1, .layer = 9};
    expect_invalid(m, 1, "corrupt: layer must be");
    m[0] = (struct sk_impair_model){.kind = SK_IMPAIR_DELAY, .mean_ns = 10, .jitter_ns = 11};
    expect_invalid(m, 1, "delay: jitter (11 ns) must not exceed mean (10 ns)");
    m[0] = (struct sk_impair_model){.kind = 99};
    expect_invalid(m, 1, "unknown impairment kind 99");
    m[0] = m[1] = (struct sk_impair_model){.kind = SK_IMPAIR_DUP, .p = 0.1};
    expect_invalid(m, 2, "dup given twice");
    m[0] = (struct sk_impair_model){.kind = SK_IMPAIR_DROP, .p = 0.1};
    m[1] = (struct sk_impair_model){.kind = SK_IMPAIR_GILBERT, .p = 0.1, .r = 0.1};
    expect_invalid(m, 2, "drop and gilbert are both loss models");
    m[0] = (struct sk_impair_model){.kind = SK_IMPAIR_REORDER, .p = 0.1, .gap = 1};
    m[1] = (struct sk_impair_model){.kind = SK_IMPAIR_DELAY, .mean_ns = 5};
    expect_invalid(m, 2, "reorder and delay both decide the order");
    m[0] = (struct sk_impair_model){.kind = SK_IMPAIR_MALFORM, .p = 0.1};
    expect_invalid(m, 1, "malform: kinds must be a non-empty set");
    m[0].malform_kinds = 1; /* bit 0 is no kind */
    expect_invalid(m, 1, "malform: kinds must be");
    m[0].malform_kinds = 1u << (SK_MALFORM_KIND_COUNT + 1);
    expect_invalid(m, 1, "malform: kinds must be");
    CHECK(strcmp(sk_impair_kind_name(SK_IMPAIR_GILBERT), "gilbert") == 0);
    CHECK(sk_impair_kind_name(0) == NULL && sk_impair_layer_name(5) == NULL);
}

int main(void)
{
    frames = malloc((size_t)N * SK_SEED_FRAME_LEN);
    pristine = malloc((size_t)N * SK_SEED_FRAME_LEN);
    lens = malloc(N * sizeof(*lens));
    outs = malloc(out_cap * sizeof(*outs));
    if (!frames || !pristine || !lens || !outs)
        return 1;
    make_frames();
    test_drop_rate_and_truth();
    test_gilbert_stationary_loss();
    test_dup_rate_and_truth();
    test_reorder_rate_and_truth();
    test_corrupt_one_bit_in_layer();
    test_truncate();
    test_delay();
    test_everything_at_once_accounts_exactly();
    test_determinism_and_independence();
    test_malform_rate_kinds_and_one_damage();
    test_push_api();
    test_bad_parameters();
    free(frames);
    free(pristine);
    free(lens);
    free(outs);
    return CHECK_DONE();
}
