/*
 * test_engine_stream.c - the --stream file parser (stream.c): untimed files
 * as before, timed ones (flags bit 0) with their offsets, and every way a
 * file can be wrong: a decreasing or non-zero first offset, unknown flags, a
 * record header cut short, a count the file cannot hold, a payload offset
 * beyond a frame.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "check.h"

#define PAYLOAD_OFF 42
#define FRAME_LEN (PAYLOAD_OFF + SK_MOLD_HEADER_LEN)
#define MSGS_PER_FRAME 2
#define MAX_FRAMES 8

static char dir[] = "/tmp/sk-test-stream-XXXXXX";
static char path[64];

static void le(uint8_t *p, uint64_t v, int n)
{
    int i;

    for (i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A stream of n MoldUDP64 frames (seq 1, 3, 5, ... two messages each);
 * flags' bit 0 adds t_ns. cut: bytes dropped from the end. */
static void write_file(uint64_t flags, uint64_t count, uint32_t payload_off,
                       const uint64_t *t_ns, unsigned n, size_t cut)
{
    uint8_t buf[32 + MAX_FRAMES * (12 + FRAME_LEN)], *p = buf;
    unsigned i;
    int b;
    FILE *f;

    memset(buf, 0, sizeof(buf));
    memcpy(p, "SKSTRM1", 8);
    le(p + 8, 1, 4);
    le(p + 12, payload_off, 4);
    le(p + 16, count, 8);
    le(p + 24, flags, 8);
    p += 32;
    for (i = 0; i < n; i++) {
        uint64_t seq = 1 + (uint64_t)i * MSGS_PER_FRAME;

        le(p, FRAME_LEN, 4);
        p += 4;
        if (flags & SK_STREAM_TIMED) {
            le(p, t_ns[i], 8);
            p += 8;
        }
        memcpy(p + PAYLOAD_OFF, "SIMKIT0001", SK_MOLD_SESSION_LEN);
        for (b = 0; b < 8; b++)
            p[PAYLOAD_OFF + 10 + b] = (uint8_t)(seq >> (56 - 8 * b));
        p[PAYLOAD_OFF + 19] = MSGS_PER_FRAME;
        p += FRAME_LEN;
    }
    f = fopen(path, "wb");
    if (f == NULL || fwrite(buf, 1, (size_t)(p - buf) - cut, f) != (size_t)(p - buf) - cut) {
        perror(path);
        exit(1);
    }
    fclose(f);
}

/* Open it: the return code; on failure, check err names the problem. */
static int open_expect(const char *words, struct sk_stream **s)
{
    char err[SK_ERR_LEN] = "";
    int ret = sk_stream_open(path, 0, NULL, s, err, sizeof(err));

    if (words != NULL && strstr(err, words) == NULL) {
        fprintf(stderr, "expected '%s' in: %s\n", words, err);
        check_failures++;
    }
    return ret;
}

static void test_untimed_as_before(void)
{
    struct sk_stream *s;

    write_file(0, 3, PAYLOAD_OFF, NULL, 3, 0);
    CHECK_EQ_U(open_expect(NULL, &s), 0);
    if (s == NULL)
        return;
    CHECK_EQ_U(s->count, 3);
    CHECK_EQ_U(s->flags, 0);
    CHECK(s->t_ns == NULL);
    CHECK_EQ_U(s->messages, 3 * MSGS_PER_FRAME);
    CHECK_EQ_U(s->lens[2], FRAME_LEN);
    sk_stream_close(s);
}

static void test_timed_offsets(void)
{
    static const uint64_t t[] = {0, 5, 5, 1000000000000ULL};
    struct sk_stream *s;
    unsigned i;

    write_file(SK_STREAM_TIMED, 4, PAYLOAD_OFF, t, 4, 0);
    CHECK_EQ_U(open_expect(NULL, &s), 0);
    if (s == NULL)
        return;
    CHECK_EQ_U(s->flags, SK_STREAM_TIMED);
    CHECK(s->t_ns != NULL);
    for (i = 0; i < 4 && s->t_ns != NULL; i++)
        CHECK_EQ_U(s->t_ns[i], t[i]);
    CHECK_EQ_U(s->messages, 4 * MSGS_PER_FRAME); /* frames follow their offsets */
    CHECK_EQ_U(s->frames[3][PAYLOAD_OFF + 17], 7);
    sk_stream_close(s);
}

static void test_bad_files(void)
{
    static const uint64_t back[] = {0, 10, 9}, late_start[] = {7, 8}, ok[] = {0, 1};
    struct sk_stream *s;

    write_file(SK_STREAM_TIMED, 3, PAYLOAD_OFF, back, 3, 0);
    CHECK_EQ_U(open_expect("frame 2's time offset 9 ns is before", &s), (uint64_t)-EINVAL);
    CHECK(s == NULL);
    write_file(SK_STREAM_TIMED, 2, PAYLOAD_OFF, late_start, 2, 0);
    CHECK_EQ_U(open_expect("first frame's time offset is 7 ns, not 0", &s), (uint64_t)-EINVAL);
    write_file(SK_STREAM_TIMED | 4, 2, PAYLOAD_OFF, ok, 2, 0);
    CHECK_EQ_U(open_expect("unknown header flags", &s), (uint64_t)-EINVAL);
    /* the last record's header ends inside its t_ns */
    write_file(SK_STREAM_TIMED, 2, PAYLOAD_OFF, ok, 2, FRAME_LEN + 6);
    CHECK_EQ_U(open_expect("truncated record header", &s), (uint64_t)-EINVAL);
    /* its header whole, its frame missing */
    write_file(SK_STREAM_TIMED, 2, PAYLOAD_OFF, ok, 2, FRAME_LEN);
    CHECK_EQ_U(open_expect("a record is truncated", &s), (uint64_t)-EINVAL);
    write_file(SK_STREAM_TIMED, 1000, PAYLOAD_OFF, ok, 2, 0);
    CHECK_EQ_U(open_expect("record count does not fit", &s), (uint64_t)-EINVAL);
    /* payload_off + header would wrap in 32 bits */
    write_file(0, 2, 0xFFFFFFF0u, NULL, 2, 0);
    CHECK_EQ_U(open_expect("payload offset beyond a frame", &s), (uint64_t)-EINVAL);
}

int main(void)
{
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof(path), "%s/s.stream", dir);
    test_untimed_as_before();
    test_timed_offsets();
    test_bad_files();
    unlink(path);
    rmdir(dir);
    return CHECK_DONE();
}
