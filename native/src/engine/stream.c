/*
 * stream.c - a prepared stream of frames for the generator to send (--stream
 * PATH), e.g. a simulated ITCH session that simkit.engine.streams wrote.
 *
 * File (little-endian):
 *   header  8 bytes magic "SKSTRM1\0", u32 version (1), u32 payload_offset
 *           (where the UDP payload starts in each frame), u64 count,
 *           u64 flags (bit 0 SK_STREAM_TIMED; other bits must be 0)
 *   records count x { u32 frame_len, frame_len bytes of Eth/IPv4/UDP frame }
 *           timed: count x { u32 frame_len, u64 t_ns, frame }, t_ns the
 *           frame's departure offset from the first (0 for the first, never
 *           decreasing: a capture's timing, --arrivals capture)
 * Each UDP payload is a MoldUDP64 datagram. The file is mapped privately
 * (the destination MAC can be patched in place without touching the file);
 * every record is bounds-checked once here, and the MoldUDP64 sequence and
 * message count of each datagram are indexed, so the generator records send
 * times per message sequence and the receiver can look them up.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "../core/compiler.h"

#define STREAM_MAGIC "SKSTRM1"
#define STREAM_MAGIC_LEN 8
#define STREAM_VERSION 1
#define STREAM_HEADER_LEN 32
#define RECORD_HEADER_LEN 4
#define TIMED_RECORD_HEADER_LEN 12 /* u32 frame_len, u64 t_ns */
#define ETH_DST_OFFSET 0
#define ETH_ADDR_LEN 6

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
    return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

void sk_stream_close(struct sk_stream *s)
{
    if (s == NULL)
        return;
    if (s->live != NULL) {
        sk_stream_live_close(s);
        free(s);
        return;
    }
    if (s->map != NULL && s->map != MAP_FAILED)
        munmap(s->map, s->map_len);
    free(s->frames);
    free(s->lens);
    free(s->msg_index);
    free(s->msg_count);
    free(s->send_tsc);
    free(s->t_ns);
    free(s);
}

static int bad(char *err, size_t errlen, const char *path, const char *what)
{
    snprintf(err, errlen, "bad --stream %s: %s: prepare it with simkit (simkit.engine.streams)",
             path, what);
    return -EINVAL;
}

/* A timed record's offset: 0 for the first, then never decreasing. */
static int check_time(char *err, size_t errlen, const char *path, uint64_t i,
                      uint64_t t, uint64_t prev)
{
    char what[160];

    if (i == 0 && t != 0)
        snprintf(what, sizeof(what), "the first frame's time offset is %llu ns, not 0",
                 (unsigned long long)t);
    else if (i > 0 && t < prev)
        snprintf(what, sizeof(what), "frame %llu's time offset %llu ns is before the "
                 "previous frame's %llu ns (offsets must not decrease)",
                 (unsigned long long)i, (unsigned long long)t, (unsigned long long)prev);
    else
        return 0;
    return bad(err, errlen, path, what);
}

int sk_stream_open(const char *path, int unlink_after, const uint8_t *dst_mac,
                   struct sk_stream **out, char *err, size_t errlen)
{
    struct sk_stream *s;
    struct stat st;
    uint64_t i, at, next_seq = 0;
    uint32_t len, rec_len;
    int fd = -1, ret = -ENOMEM;

    *out = NULL;
    if (sk_stream_is_live(path))
        return sk_stream_live_open(path, dst_mac, out, err, errlen);
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(err, errlen, "cannot load --stream: out of memory");
        return -ENOMEM;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "cannot read --stream %s: %s", path, strerror(errno));
        ret = -EINVAL;
        goto out;
    }
    if (unlink_after) /* the mapping keeps it: nothing is left behind */
        unlink(path);
    s->map_len = (size_t)st.st_size;
    if (s->map_len < STREAM_HEADER_LEN) {
        ret = bad(err, errlen, path, "shorter than its header");
        goto out;
    }
    s->map = mmap(NULL, s->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (s->map == MAP_FAILED) {
        s->map = NULL;
        snprintf(err, errlen, "cannot map --stream %s: %s", path, strerror(errno));
        ret = -ENOMEM;
        goto out;
    }
    if (memcmp(s->map, STREAM_MAGIC, STREAM_MAGIC_LEN) != 0 ||
        get_le32(s->map + 8) != STREAM_VERSION) {
        ret = bad(err, errlen, path, "not a simkit stream (magic or version)");
        goto out;
    }
    s->mask = UINT64_MAX;
    s->payload_off = get_le32(s->map + 12);
    s->count = get_le64(s->map + 16);
    s->flags = get_le64(s->map + 24);
    if (s->payload_off > SK_STREAM_MAX_FRAME - SK_MOLD_HEADER_LEN) {
        /* also keeps payload_off + SK_MOLD_HEADER_LEN below from wrapping */
        ret = bad(err, errlen, path, "payload offset beyond a frame");
        goto out;
    }
    if (s->flags & ~SK_STREAM_TIMED) {
        ret = bad(err, errlen, path, "unknown header flags (written by a newer simkit?)");
        goto out;
    }
    rec_len = s->flags & SK_STREAM_TIMED ? TIMED_RECORD_HEADER_LEN : RECORD_HEADER_LEN;
    if (s->count == 0 || s->count > (s->map_len - STREAM_HEADER_LEN) / rec_len) {
        ret = bad(err, errlen, path, "record count does not fit the file");
        goto out;
    }
    s->frames = malloc(s->count * sizeof(*s->frames));
    s->lens = malloc(s->count * sizeof(*s->lens));
    s->msg_index = malloc(s->count * sizeof(*s->msg_index));
    s->msg_count = malloc(s->count * sizeof(*s->msg_count));
    if (s->flags & SK_STREAM_TIMED)
        s->t_ns = malloc(s->count * sizeof(*s->t_ns));
    if (s->frames == NULL || s->lens == NULL || s->msg_index == NULL || s->msg_count == NULL ||
        ((s->flags & SK_STREAM_TIMED) && s->t_ns == NULL)) {
        snprintf(err, errlen, "cannot index --stream: out of memory");
        goto out;
    }
    at = STREAM_HEADER_LEN;
    for (i = 0; i < s->count; i++) {
        const uint8_t *mold;
        uint64_t seq;
        uint16_t n;

        if (s->map_len - at < rec_len) {
            ret = bad(err, errlen, path, "truncated record header");
            goto out;
        }
        len = get_le32(s->map + at);
        if (s->t_ns != NULL) {
            s->t_ns[i] = get_le64(s->map + at + RECORD_HEADER_LEN);
            if (check_time(err, errlen, path, i, s->t_ns[i], i ? s->t_ns[i - 1] : 0) < 0) {
                ret = -EINVAL;
                goto out;
            }
        }
        at += rec_len;
        if (len > s->map_len - at || len > SK_STREAM_MAX_FRAME ||
            len < s->payload_off + SK_MOLD_HEADER_LEN) {
            ret = bad(err, errlen, path, "a record is truncated or not a MoldUDP64 frame");
            goto out;
        }
        s->frames[i] = s->map + at;
        s->lens[i] = len;
        if (len > s->max_len)
            s->max_len = len;
        if (dst_mac != NULL)
            memcpy(s->map + at + ETH_DST_OFFSET, dst_mac, ETH_ADDR_LEN);
        mold = s->map + at + s->payload_off;
        seq = sk_get_be64(mold + SK_MOLD_SESSION_LEN);
        n = sk_be16(mold + SK_MOLD_SESSION_LEN + 8);
        if (i == 0)
            s->first_seq = seq;
        /* sequences continue from datagram to datagram (heartbeats and the
         * end of session carry the next one) */
        if (seq - s->first_seq != next_seq) {
            ret = bad(err, errlen, path, "MoldUDP64 sequence numbers do not continue");
            goto out;
        }
        s->msg_index[i] = seq - s->first_seq;
        s->msg_count[i] = n == SK_MOLD_END_OF_SESSION ? 0 : n;
        next_seq += s->msg_count[i];
        at += len;
    }
    s->messages = next_seq;
    s->send_tsc = calloc(s->messages ? s->messages : 1, sizeof(*s->send_tsc));
    if (s->send_tsc == NULL) {
        snprintf(err, errlen, "cannot keep send times: out of memory");
        goto out;
    }
    *out = s;
    s = NULL;
    ret = 0;
out:
    if (fd >= 0)
        close(fd);
    sk_stream_close(s);
    return ret;
}
