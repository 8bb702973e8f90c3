/*
 * test_engine_pace.c - the pacer (pace.c) on a fake clock (hz 1e9: a tick is
 * a nanosecond): --arrivals capture's due counts against a small schedule at
 * several speeds, the burst cap, the end of the schedule, lateness in the
 * report, a schedule with no span, bad configurations; a rate profile's due
 * counts over steps with a silence, its per-interval record (offered, sent,
 * lateness) and bad profiles; and the constant mode beside it, unchanged.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "engine.h"
#include "check.h"

#define HZ 1000000000ULL
#define START 1000ULL
#define MANY 32

static const uint64_t schedule[] = {0, 100, 100, 250, 1000};
#define N (sizeof(schedule) / sizeof(schedule[0]))

static int capture(struct sk_pacer *p, const uint64_t *t_ns, uint64_t n, double speed)
{
    struct sk_pace_cfg cfg = {
        .arrivals = SK_ARRIVALS_CAPTURE, .t_ns = t_ns, .n = n, .speed = speed,
    };

    return sk_pace_init(p, &cfg, HZ, START);
}

/* x1: each packet at start + its offset; late ones leave together, never more
 * than max, never beyond the schedule. */
static void test_capture_due_counts(void)
{
    struct sk_pace_report r;
    struct sk_pacer p;

    CHECK_EQ_U(capture(&p, schedule, N, 1.0), 0);
    CHECK_EQ_U(sk_pace_due(&p, START, 0, MANY), 1);      /* packet 0 at once */
    sk_pace_departed(&p, 0, 1, START);
    CHECK_EQ_U(sk_pace_due(&p, START + 99, 1, MANY), 0);
    CHECK_EQ_U(sk_pace_due(&p, START + 100, 1, MANY), 2); /* 1 and 2 share a time */
    CHECK_EQ_U(sk_pace_due(&p, START + 100, 1, 1), 1);    /* the burst caps it */
    sk_pace_departed(&p, 1, 2, START + 100);
    CHECK_EQ_U(sk_pace_due(&p, START + 249, 3, MANY), 0);
    CHECK_EQ_U(sk_pace_due(&p, START + 5000, 3, MANY), 2); /* late: 3 and 4, no more */
    sk_pace_departed(&p, 3, 2, START + 4000);              /* 3750 ns after 3's time */
    CHECK_EQ_U(sk_pace_due(&p, START + 9000, 5, MANY), 0); /* the schedule is over */

    sk_pace_finish(&p, &r);
    CHECK(r.paced);
    CHECK_EQ_U(r.arrivals, SK_ARRIVALS_CAPTURE);
    CHECK(r.speed == 1.0);
    CHECK(r.requested_pps == 5e6);   /* 5 packets over 1000 ns */
    CHECK(r.achieved_pps == 1.25e6); /* ... that took 4000 ns */
    CHECK(r.fell_short);
    CHECK_EQ_U(r.bursts, 3);
    CHECK_EQ_U(r.dev_p50_ns, 0);
    CHECK(r.dev_max_ns >= 3750 && r.dev_max_ns <= 3750 + 3750 / 1000); /* 3 digits */
    sk_pace_free(&p);
}

/* The multiplier scales the offsets: x2 halves them, x0.5 doubles them. */
static void test_capture_speed(void)
{
    struct sk_pace_report r;
    struct sk_pacer p;

    CHECK_EQ_U(capture(&p, schedule, N, 2.0), 0);
    CHECK_EQ_U(sk_pace_due(&p, START + 49, 1, MANY), 0);
    CHECK_EQ_U(sk_pace_due(&p, START + 50, 1, MANY), 2);
    CHECK_EQ_U(sk_pace_due(&p, START + 499, 3, MANY), 1);
    CHECK_EQ_U(sk_pace_due(&p, START + 500, 3, MANY), 2);
    sk_pace_finish(&p, &r);
    CHECK(r.requested_pps == 1e7);
    CHECK(r.speed == 2.0);
    sk_pace_free(&p);

    CHECK_EQ_U(capture(&p, schedule, N, 0.5), 0);
    CHECK_EQ_U(sk_pace_due(&p, START + 199, 1, MANY), 0);
    CHECK_EQ_U(sk_pace_due(&p, START + 1999, 3, MANY), 1);
    CHECK_EQ_U(sk_pace_due(&p, START + 2000, 3, MANY), 2);
    sk_pace_finish(&p, &r);
    CHECK(r.requested_pps == 2.5e6);
    sk_pace_free(&p);
}

/* Departures exactly on schedule: achieved is the request, nothing deviates. */
static void test_capture_on_time(void)
{
    struct sk_pace_report r;
    struct sk_pacer p;
    uint64_t k;

    CHECK_EQ_U(capture(&p, schedule, N, 1.0), 0);
    for (k = 0; k < N; k++)
        if (k == 0 || schedule[k] != schedule[k - 1])
            sk_pace_departed(&p, k, (unsigned)sk_pace_due(&p, START + schedule[k], k, MANY),
                             START + schedule[k]);
    sk_pace_finish(&p, &r);
    CHECK(r.achieved_pps == r.requested_pps);
    CHECK(!r.fell_short);
    CHECK_EQ_U(r.bursts, 4);
    CHECK_EQ_U(r.dev_max_ns, 0);
    sk_pace_free(&p);
}

/* Every packet at one instant: all due at start, no rate to fall short of. */
static void test_capture_without_span(void)
{
    static const uint64_t same[] = {0, 0, 0};
    struct sk_pace_report r;
    struct sk_pacer p;

    CHECK_EQ_U(capture(&p, same, 3, 1.0), 0);
    CHECK_EQ_U(sk_pace_due(&p, START, 0, MANY), 3);
    sk_pace_departed(&p, 0, 3, START + 10);
    sk_pace_finish(&p, &r);
    CHECK(r.paced);
    CHECK(r.requested_pps == 0.0);
    CHECK(!r.fell_short);
    sk_pace_free(&p);
}

static void test_capture_bad_configs(void)
{
    static const uint64_t huge[] = {0, UINT64_MAX};
    struct sk_pacer p;

    CHECK_EQ_U(capture(&p, NULL, N, 1.0), (uint64_t)-EINVAL);
    CHECK_EQ_U(capture(&p, schedule, 0, 1.0), (uint64_t)-EINVAL);
    CHECK_EQ_U(capture(&p, schedule, N, 0.0), (uint64_t)-EINVAL);
    CHECK_EQ_U(capture(&p, schedule, N, -1.0), (uint64_t)-EINVAL);
    CHECK_EQ_U(capture(&p, huge, 2, 0.001), (uint64_t)-EINVAL); /* span beyond the TSC */
    CHECK(strcmp(sk_arrivals_name(SK_ARRIVALS_CAPTURE), "capture") == 0);
}

/* 1 Mpps for 5 us, silence for 5 us, then 2 Mpps (held): packets 0..4 due
 * at 1000..5000 ns, packet 5 at 10500, then every 500 ns. */
static const struct sk_pace_step steps[] = {{0, 1e6}, {5000, 0}, {10000, 2e6}};
#define N_STEPS (sizeof(steps) / sizeof(steps[0]))

static int profile(struct sk_pacer *p, const struct sk_pace_step *s, uint64_t n,
                   uint64_t count, uint64_t bin_ns)
{
    struct sk_pace_cfg cfg = {
        .arrivals = SK_ARRIVALS_PROFILE, .steps = s, .n_steps = n, .n = count,
        .bin_ns = bin_ns,
    };

    return sk_pace_init(p, &cfg, HZ, START);
}

static void test_profile_due_counts(void)
{
    struct sk_pacer p;

    CHECK_EQ_U(profile(&p, steps, N_STEPS, 100, 4000), 0);
    CHECK_EQ_U(sk_pace_due(&p, START + 999, 0, MANY), 0);
    CHECK_EQ_U(sk_pace_due(&p, START + 1000, 0, MANY), 1);
    sk_pace_departed(&p, 0, 1, START + 1000);
    CHECK_EQ_U(sk_pace_due(&p, START + 4999, 1, MANY), 3);  /* 1, 2, 3 */
    CHECK_EQ_U(sk_pace_due(&p, START + 9999, 1, MANY), 4);  /* and 4; then silence */
    sk_pace_departed(&p, 1, 4, START + 9999);               /* 4999 ns after 1's time */
    CHECK_EQ_U(sk_pace_due(&p, START + 10499, 5, MANY), 0);
    CHECK_EQ_U(sk_pace_due(&p, START + 10500, 5, MANY), 1); /* 2 Mpps from 10 us */
    CHECK_EQ_U(sk_pace_due(&p, START + 12000, 5, MANY), 4); /* 5..8: 10500..12000 */
    CHECK_EQ_U(sk_pace_due(&p, START + 12000, 5, 2), 2);    /* the burst caps it */
    sk_pace_departed(&p, 5, 2, START + 12100);
    CHECK_EQ_U(sk_pace_due(&p, START + 100000, 7, MANY), MANY); /* the last rate holds */
    sk_pace_free(&p);
    CHECK(sk_pace_profile_count(steps, N_STEPS, 5000) == 5.0);
    CHECK(sk_pace_profile_count(steps, N_STEPS, 9000) == 5.0);
    CHECK(sk_pace_profile_count(steps, N_STEPS, 11000) == 7.0);
}

/* Each interval's offered is the profile's packets due in it, sent what left
 * in it, late_max its latest departure; the last interval ends at the last
 * departure, and the offered stop at the run's count. */
static void test_profile_record(void)
{
    struct sk_pace_report r;
    struct sk_pacer p;

    CHECK_EQ_U(profile(&p, steps, N_STEPS, 7, 4000), 0);
    CHECK_EQ_U(sk_pace_due(&p, START + 3000, 0, MANY), 3);
    sk_pace_departed(&p, 0, 3, START + 3000);  /* bin 0; 0 was due 2000 ns before */
    CHECK_EQ_U(sk_pace_due(&p, START + 5000, 3, MANY), 2);
    sk_pace_departed(&p, 3, 2, START + 5000);  /* bin 1, 1000 ns late */
    CHECK_EQ_U(sk_pace_due(&p, START + 11000, 5, MANY), 2);
    sk_pace_departed(&p, 5, 2, START + 11000); /* bin 2, on time */
    sk_pace_finish(&p, &r);
    sk_pace_free(&p);
    CHECK_EQ_U(r.arrivals, SK_ARRIVALS_PROFILE);
    CHECK_EQ_U(r.n_bins, 3);
    CHECK_EQ_U(r.bin_ns, 4000);
    CHECK_EQ_U(r.bins[0].offered, 3);  /* due at 1000, 2000, 3000 */
    CHECK_EQ_U(r.bins[1].offered, 2);  /* 4000, 5000; then silence */
    CHECK_EQ_U(r.bins[2].offered, 2);  /* 10500, 11000 (the count is 7) */
    CHECK_EQ_U(r.bins[0].sent, 3);
    CHECK_EQ_U(r.bins[1].sent, 2);
    CHECK_EQ_U(r.bins[2].sent, 2);
    CHECK_EQ_U(r.bins[0].late, 0);  /* 2000, 1000 and 0 ns: within 10 us */
    CHECK_EQ_U(r.bins[0].late_max_ns, 2000);
    CHECK_EQ_U(r.bins[1].late_max_ns, 1000);
    CHECK_EQ_U(r.bins[2].late_max_ns, 500);  /* the burst's first was due at 10500 */
    CHECK(!r.fell_short);
    CHECK(strcmp(sk_arrivals_name(r.arrivals), "profile") == 0);
    sk_pace_report_free(&r);
    CHECK(r.bins == NULL);

    /* late: each packet against its own schedule (due every 1000 ns) */
    CHECK_EQ_U(profile(&p, steps, N_STEPS, 7, 100000), 0);
    CHECK_EQ_U(sk_pace_due(&p, START + 13500, 0, 5), 5);
    sk_pace_departed(&p, 0, 5, START + 13500); /* 12.5, 11.5, 10.5, 9.5, 8.5 us late */
    sk_pace_finish(&p, &r);
    sk_pace_free(&p);
    CHECK_EQ_U(r.bins[0].sent, 5);
    CHECK_EQ_U(r.bins[0].late, 3);
    CHECK_EQ_U(r.bins[0].late_max_ns, 12500);
    sk_pace_report_free(&r);

    /* 3 Mpps: packet 0 is due at 333.3 ns, the TSC tick 333; it left then,
     * so it was offered although the count at 333 ns is 0.999 */
    static const struct sk_pace_step third[] = {{0, 3e6}};
    CHECK_EQ_U(profile(&p, third, 1, 10, 100000), 0);
    CHECK_EQ_U(sk_pace_due(&p, START + 333, 0, MANY), 1);
    sk_pace_departed(&p, 0, 1, START + 333);
    sk_pace_finish(&p, &r);
    sk_pace_free(&p);
    CHECK_EQ_U(r.bins[0].offered, 1);
    CHECK_EQ_U(r.bins[0].sent, 1);
    sk_pace_report_free(&r);
}

static void test_profile_bad_configs(void)
{
    static const struct sk_pace_step late_start[] = {{10, 1.0}};
    static const struct sk_pace_step backwards[] = {{0, 1.0}, {5, 1.0}, {5, 1.0}};
    static const struct sk_pace_step ends_silent[] = {{0, 1.0}, {5, 0.0}};
    static const struct sk_pace_step negative[] = {{0, -1.0}, {5, 1.0}};
    struct sk_pace_step nan_rate[] = {{0, 1.0}};
    struct sk_pacer p;

    nan_rate[0].pps = nan("");
    CHECK_EQ_U(profile(&p, NULL, 1, 10, 1000), (uint64_t)-EINVAL);
    CHECK_EQ_U(profile(&p, steps, 0, 10, 1000), (uint64_t)-EINVAL);
    CHECK_EQ_U(profile(&p, steps, N_STEPS, 10, 0), (uint64_t)-EINVAL);
    CHECK_EQ_U(profile(&p, late_start, 1, 10, 1000), (uint64_t)-EINVAL);
    CHECK_EQ_U(profile(&p, backwards, 3, 10, 1000), (uint64_t)-EINVAL);
    CHECK_EQ_U(profile(&p, ends_silent, 2, 10, 1000), (uint64_t)-EINVAL);
    CHECK_EQ_U(profile(&p, negative, 2, 10, 1000), (uint64_t)-EINVAL);
    CHECK_EQ_U(profile(&p, nan_rate, 1, 10, 1000), (uint64_t)-EINVAL);
}

/* Constant pacing through the same init: packet k due at start + (k+1)/pps. */
static void test_constant_unchanged(void)
{
    struct sk_pace_cfg cfg = {.arrivals = SK_ARRIVALS_CONSTANT, .pps = 1000};
    struct sk_pace_report r;
    struct sk_pacer p;

    CHECK_EQ_U(sk_pace_init(&p, &cfg, HZ, START), 0);
    CHECK_EQ_U(sk_pace_due(&p, START + 999999, 0, MANY), 0);
    CHECK_EQ_U(sk_pace_due(&p, START + 1000000, 0, MANY), 1);
    sk_pace_departed(&p, 0, 1, START + 1000000);
    sk_pace_finish(&p, &r);
    CHECK(r.paced && r.requested_pps == 1000.0 && r.speed == 0.0);
    CHECK(strcmp(sk_arrivals_name(r.arrivals), "constant") == 0);
    sk_pace_free(&p);

    cfg.pps = 0; /* not paced: everything is due */
    CHECK_EQ_U(sk_pace_init(&p, &cfg, HZ, START), 0);
    CHECK_EQ_U(sk_pace_due(&p, 0, 0, MANY), MANY);
    sk_pace_finish(&p, &r);
    CHECK(!r.paced);
    sk_pace_free(&p);
}

int main(void)
{
    test_capture_due_counts();
    test_capture_speed();
    test_capture_on_time();
    test_capture_without_span();
    test_capture_bad_configs();
    test_profile_due_counts();
    test_profile_record();
    test_profile_bad_configs();
    test_constant_unchanged();
    return CHECK_DONE();
}
