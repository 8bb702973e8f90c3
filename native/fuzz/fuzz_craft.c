/*
 * fuzz_craft.c - libFuzzer target for fast crafting (core/craft.c:
 * sk_craft_new/fill/wrap) with fuzzed templates.
 *
 * Input: a shape byte (a seed frame, its headers only, or raw bytes; the
 * checksum settings; cycled or random flows; offsets of the IPv4 and UDP
 * headers as laid out or raw), the frame bytes for a raw template, up to 17
 * fields (offsets, widths, modes, ranges; some invalid on purpose), up to 4
 * flows, then the fill's seed, count, format, timestamps and output room,
 * and the wrap's payloads.
 *
 * Output buffers are heap blocks of exactly the room given (ASan: nothing
 * written past it). Checks:
 *   - new accepts or says -EINVAL with a field index in range or -1;
 *   - fill writes min(count, room / record length) records, reports their
 *     bytes, advances the index; record headers carry the lengths and
 *     timestamps promised (pcapng: type, both total lengths, zero padding);
 *   - every frame byte that no field, flow or checksum owns is the
 *     template's; counters have their exact values, random fields stay in
 *     [start, start + span); flows are the configured ones (cycled in
 *     order); checksums verify (IPv4 header; UDP over the template's stated
 *     length, as documented) or are zero as asked;
 *   - a reset with the same seed writes the same bytes;
 *   - wrap frames each payload behind the headers with lengths and both
 *     checksums right, stops when the room ends, and on -EMSGSIZE/-EINVAL
 *     writes nothing.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "simkit.h"
#include "fuzz_frame.h"
#include "fuzz_input.h"

#define SHAPE_SEED 1
#define SHAPE_HEADERS_ONLY 2
#define SHAPE_IP_CSUM 16
#define SHAPE_FLOWS_RANDOM 32
#define SHAPE_RAW_OFFSETS 64
#define MAX_RAW_FRAME 256
#define MAX_FLOWS 4
#define MAX_COUNT 40
#define MAX_PAYLOADS 8
#define MAX_PAYLOAD 300
#define PATTERN 0xa5
#define HEADERS_LEN 42   /* Eth + IPv4 + UDP */

struct owner {           /* which bytes of a frame the template varies */
    uint8_t by[SK_CRAFT_MAX_FRAME + 1];
};

static struct owner own;
static uint8_t tframe[MAX_RAW_FRAME + SK_SEED_FRAME_LEN];

static uint64_t get_uint(const uint8_t *p, unsigned w, int be)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < w; i++)
        v |= (uint64_t)p[be ? w - 1 - i : i] << (8 * i);
    return v;
}

static uint64_t width_mask(unsigned w)
{
    return w >= 8 ? UINT64_MAX : (1ULL << (8 * w)) - 1;
}

static void read_template(struct fuzz_input *in, struct sk_craft_template *t,
                          struct sk_craft_flow *flows)
{
    uint8_t shape = fuzz_u8(in), nf;
    struct sk_seed_fields f;
    uint32_t i;

    memset(t, 0, sizeof(*t));
    if (shape & SHAPE_SEED) {
        sk_seed_fields_default(&f);
        f.udp_checksum = fuzz_u8(in) & 1;
        t->frame_len = (uint32_t)sk_seed_build(&f, tframe, sizeof(tframe));
        if (shape & SHAPE_HEADERS_ONLY) { /* what wrap wants: lengths of no payload */
            t->frame_len = HEADERS_LEN;
            tframe[FF_ETH_LEN + 2] = 0;
            tframe[FF_ETH_LEN + 3] = FF_IPV4_MIN + FF_UDP_LEN;
            tframe[FF_ETH_LEN + FF_IPV4_MIN + 4] = 0;
            tframe[FF_ETH_LEN + FF_IPV4_MIN + 5] = FF_UDP_LEN;
        }
        t->ip_offset = FF_ETH_LEN;
        t->udp_offset = FF_ETH_LEN + FF_IPV4_MIN;
    } else {
        t->frame_len = fuzz_u8(in) % (MAX_RAW_FRAME + 1);
        for (i = 0; i < t->frame_len; i++)
            tframe[i] = fuzz_u8(in);
        t->ip_offset = fuzz_u8(in) & 1 ? FF_ETH_LEN : SK_CRAFT_NO_OFFSET;
        t->udp_offset = t->ip_offset == SK_CRAFT_NO_OFFSET ? SK_CRAFT_NO_OFFSET :
                        t->ip_offset + (uint32_t)(tframe[FF_ETH_LEN] & 0x0f) * 4;
    }
    if (shape & SHAPE_RAW_OFFSETS) {
        t->ip_offset = fuzz_u8(in);
        t->udp_offset = fuzz_u8(in) == 0xff ? SK_CRAFT_NO_OFFSET : t->ip_offset + fuzz_u8(in);
    }
    t->frame = tframe;
    t->udp_checksum = (shape >> 2) & 3;
    t->ip_checksum = !!(shape & SHAPE_IP_CSUM);
    t->flow_mode = shape & SHAPE_FLOWS_RANDOM ? SK_CRAFT_FLOWS_RANDOM : SK_CRAFT_FLOWS_CYCLE;
    nf = fuzz_u8(in);
    t->field_count = nf == 0xff ? SK_CRAFT_MAX_FIELDS + 1 : nf % (SK_CRAFT_MAX_FIELDS + 1);
    for (i = 0; i < t->field_count && i < SK_CRAFT_MAX_FIELDS; i++) {
        static const uint8_t widths[8] = {1, 2, 4, 6, 8, 8, 3, 0};
        struct sk_craft_field *x = &t->fields[i];
        uint8_t b = fuzz_u8(in);

        x->offset = (uint32_t)fuzz_uint(in, 2) % (t->frame_len + 8);
        x->width = widths[b & 7];
        x->big_endian = (b >> 3) & 1;
        x->mode = 1 + ((b >> 4) % 3);
        if (b >> 6 == 3)
            x->mode = b & 0x80 ? 0 : 4;         /* unknown modes */
        x->start = fuzz_u8(in) & 1 ? fuzz_uint(in, 8) : fuzz_u8(in);
        x->step = fuzz_uint(in, 2);
        x->span = fuzz_u8(in) & 1 ? fuzz_uint(in, 5) : fuzz_u8(in);
        x->divisor = (double)(int8_t)fuzz_u8(in);
    }
    t->flow_count = fuzz_u8(in) % (MAX_FLOWS + 1);
    t->flows = t->flow_count ? flows : NULL;
    for (i = 0; i < t->flow_count; i++) {
        flows[i].src_ip = (uint32_t)fuzz_uint(in, 4);
        flows[i].dst_ip = (uint32_t)fuzz_uint(in, 4);
        flows[i].src_port = (uint16_t)fuzz_uint(in, 2);
        flows[i].dst_port = (uint16_t)fuzz_uint(in, 2);
    }
}

/* Mark the bytes fields, flows and checksums own; the rest is the template's. */
static void mark_owned(const struct sk_craft_template *t)
{
    uint32_t i, k;

    memset(own.by, 0, t->frame_len + 8);
    for (i = 0; i < t->field_count; i++)
        for (k = 0; k < t->fields[i].width; k++)
            own.by[t->fields[i].offset + k] = 1;
    if (t->flow_count) {
        memset(own.by + t->ip_offset + 12, 1, 8);
        memset(own.by + t->udp_offset, 1, 4);
    }
    if (t->ip_checksum)
        memset(own.by + t->ip_offset + 10, 1, 2);
    if (t->udp_checksum != SK_CRAFT_UDP_CSUM_KEEP)
        memset(own.by + t->udp_offset + 6, 1, 2);
}

static void check_record_header(const uint8_t *r, int fmt, uint32_t len, uint64_t ts)
{
    uint32_t total = (uint32_t)sk_craft_record_len(len, fmt);

    if (fmt == SK_CRAFT_OUT_PCAP) {
        FUZZ_CHECK(get_uint(r, 4, 0) == (uint32_t)(ts / 1000000000ULL) &&
                   get_uint(r + 4, 4, 0) == ts % 1000000000ULL &&
                   get_uint(r + 8, 4, 0) == len && get_uint(r + 12, 4, 0) == len,
                   "pcap record header");
    } else if (fmt == SK_CRAFT_OUT_PCAPNG) {
        FUZZ_CHECK(get_uint(r, 4, 0) == 6 && get_uint(r + 4, 4, 0) == total &&
                   get_uint(r + total - 4, 4, 0) == total && get_uint(r + 8, 4, 0) == 0 &&
                   (get_uint(r + 12, 4, 0) << 32 | get_uint(r + 16, 4, 0)) == ts &&
                   get_uint(r + 20, 4, 0) == len && get_uint(r + 24, 4, 0) == len,
                   "pcapng block header");
        for (uint32_t i = 28 + len; i < total - 4; i++)
            FUZZ_CHECK(r[i] == 0, "pcapng padding byte %u", i);
    }
}

static const uint8_t *frame_of(const uint8_t *r, int fmt)
{
    return r + (fmt == SK_CRAFT_OUT_PCAP ? 16 : fmt == SK_CRAFT_OUT_PCAPNG ? 28 : 0);
}

static void check_filled(const struct sk_craft_template *t, const uint8_t *p, uint64_t idx)
{
    uint32_t i;

    for (i = 0; i < t->frame_len; i++)
        FUZZ_CHECK(own.by[i] || p[i] == t->frame[i], "packet %llu byte %u is not the "
                   "template's", (unsigned long long)idx, i);
    for (i = 0; i < t->field_count; i++) {
        const struct sk_craft_field *x = &t->fields[i];
        uint64_t v = get_uint(p + x->offset, x->width, x->big_endian);

        if (x->mode == SK_CRAFT_COUNTER)
            FUZZ_CHECK(v == ((x->start + idx * x->step) & width_mask(x->width)),
                       "counter %u of packet %llu: %llu", i, (unsigned long long)idx,
                       (unsigned long long)v);
        else if (x->mode == SK_CRAFT_RANDOM && x->span)
            FUZZ_CHECK(v >= x->start && v - x->start < x->span, "random %u: %llu not in "
                       "[%llu, +%llu)", i, (unsigned long long)v,
                       (unsigned long long)x->start, (unsigned long long)x->span);
    }
    if (t->flow_count) {
        uint32_t k, hit = 0;

        for (k = 0; k < t->flow_count; k++) {
            const struct sk_craft_flow *fl = &t->flows[k];

            if (get_uint(p + t->ip_offset + 12, 4, 1) == fl->src_ip &&
                get_uint(p + t->ip_offset + 16, 4, 1) == fl->dst_ip &&
                get_uint(p + t->udp_offset, 2, 1) == fl->src_port &&
                get_uint(p + t->udp_offset + 2, 2, 1) == fl->dst_port &&
                (t->flow_mode == SK_CRAFT_FLOWS_RANDOM || k == idx % t->flow_count))
                hit = 1;
        }
        FUZZ_CHECK(hit, "packet %llu carries no flow it should", (unsigned long long)idx);
    }
    if (t->ip_checksum) /* over the template's header length: a field may vary the IHL */
        FUZZ_CHECK(ff_ip_ok(p + t->ip_offset, (size_t)(t->frame[t->ip_offset] & 0x0f) * 4),
                   "IPv4 checksum of packet %llu", (unsigned long long)idx);
    if (t->udp_checksum == SK_CRAFT_UDP_CSUM_ZERO)
        FUZZ_CHECK(get_uint(p + t->udp_offset + 6, 2, 1) == 0, "UDP checksum not zeroed");
    if (t->udp_checksum == SK_CRAFT_UDP_CSUM_COMPUTE)
        FUZZ_CHECK(get_uint(p + t->udp_offset + 6, 2, 1) != 0 &&
                   ff_udp_ok(p + t->ip_offset, p + t->udp_offset,
                             get_uint(t->frame + t->udp_offset + 4, 2, 1)),
                   "UDP checksum of packet %llu", (unsigned long long)idx);
}

static void check_fill(struct sk_craft *c, const struct sk_craft_template *t,
                       struct fuzz_input *in)
{
    uint64_t seed = fuzz_uint(in, 8), count = fuzz_u8(in) % (MAX_COUNT + 1), n, i;
    int fmt = fuzz_u8(in) % 4;                      /* 3: not a format */
    uint64_t ts0 = fuzz_uint(in, 5), step = fuzz_uint(in, 3);
    size_t rec = sk_craft_record_len(t->frame_len, fmt), cap, used = 1, used2;
    uint8_t *a, *b;
    int64_t r;

    cap = (size_t)fuzz_uint(in, 2) % ((rec ? rec : 1) * (count + 1) + 1);
    a = malloc(cap + 1);
    b = malloc(cap + 1);
    FUZZ_CHECK(a && b, "out of memory");
    sk_craft_reset(c, seed);
    r = sk_craft_fill(c, a, cap, count, fmt, ts0, step, &used);
    if (fmt == 3) {
        FUZZ_CHECK(r == -EINVAL && used == 0 && rec == 0, "format 3: %lld", (long long)r);
        goto out;
    }
    n = count < cap / rec ? count : cap / rec;
    FUZZ_CHECK(r == (int64_t)n && used == n * rec && sk_craft_index(c) == n,
               "fill: %lld records in %zu bytes (want %llu of %zu), index %llu", (long long)r,
               used, (unsigned long long)n, rec, (unsigned long long)sk_craft_index(c));
    for (i = 0; i < n; i++) {
        check_record_header(a + i * rec, fmt, t->frame_len, ts0 + i * step);
        check_filled(t, frame_of(a + i * rec, fmt), i);
    }
    sk_craft_reset(c, seed);
    r = sk_craft_fill(c, b, cap, count, fmt, ts0, step, &used2);
    FUZZ_CHECK(used2 == used && memcmp(a, b, used) == 0, "same seed, other bytes");
out:
    free(a);
    free(b);
}

static void check_wrap(struct sk_craft *c, const struct sk_craft_template *t,
                       struct fuzz_input *in)
{
    uint32_t lens[MAX_PAYLOADS], count = fuzz_u8(in) % (MAX_PAYLOADS + 1), i;
    static uint8_t data[MAX_PAYLOADS * MAX_PAYLOAD];
    size_t total = 0, data_len, cap, used = 1, at, src, fits = 0, need = 0;
    int fmt = fuzz_u8(in) % 3, headers_only, too_big = 0;
    uint8_t *buf;
    int64_t r;

    for (i = 0; i < count; i++) {
        uint8_t b = fuzz_u8(in);

        lens[i] = b == 0xff ? SK_CRAFT_MAX_FRAME : b % (MAX_PAYLOAD + 1);
        too_big |= lens[i] > SK_CRAFT_MAX_FRAME - t->frame_len;
        if (lens[i] <= MAX_PAYLOAD)
            total += lens[i];
    }
    for (i = 0; i < total; i++)
        data[i] = fuzz_u8(in);
    data_len = fuzz_u8(in) == 0 && total ? total - 1 : total; /* sometimes one byte short */
    cap = (size_t)fuzz_uint(in, 2) % (count * (MAX_PAYLOAD + 128) + 64);
    buf = malloc(cap + 1);
    FUZZ_CHECK(buf, "out of memory");
    memset(buf, PATTERN, cap);
    sk_craft_reset(c, 7);
    r = sk_craft_wrap(c, data, data_len, lens, count, buf, cap, fmt, 1000, 10, &used);
    headers_only = t->udp_offset != SK_CRAFT_NO_OFFSET &&
                   t->frame_len == t->udp_offset + FF_UDP_LEN &&
                   t->udp_checksum != SK_CRAFT_UDP_CSUM_KEEP;
    for (i = 0; i < count && cap >= need; i++) { /* how many fit */
        need += sk_craft_record_len(t->frame_len + lens[i], fmt);
        fits += need <= cap;
    }
    if (!headers_only || too_big || total > data_len) {
        FUZZ_CHECK(r < 0 && used == 0, "wrap accepted a bad call (%lld): headers_only %d "
                   "too_big %d total %zu data %zu", (long long)r, headers_only, too_big, total,
                   data_len);
        /* both wrong: either answer, the order of the checks is not promised */
        FUZZ_CHECK(!headers_only || (too_big && total > data_len) ||
                   r == (too_big ? -EMSGSIZE : -EINVAL), "wrap: %lld", (long long)r);
        for (i = 0; i < cap; i++)
            FUZZ_CHECK(buf[i] == PATTERN, "wrap wrote byte %u on error", i);
        free(buf);
        return;
    }
    FUZZ_CHECK(r == (int64_t)fits, "wrap framed %lld of %u, %zu fit", (long long)r, count,
               fits);
    for (i = 0, at = 0, src = 0; i < fits; i++) {
        uint32_t len = t->frame_len + lens[i];
        const uint8_t *p = frame_of(buf + at, fmt), *ip = p + t->ip_offset;
        size_t ihl = (size_t)(t->frame[t->ip_offset] & 0x0f) * 4; /* as in check_filled */

        check_record_header(buf + at, fmt, len, 1000 + 10 * i);
        FUZZ_CHECK(memcmp(p + t->frame_len, data + src, lens[i]) == 0, "payload %u", i);
        FUZZ_CHECK(get_uint(ip + 2, 2, 1) == len - t->ip_offset &&
                   get_uint(p + t->udp_offset + 4, 2, 1) == len - t->udp_offset,
                   "lengths of frame %u", i);
        FUZZ_CHECK(ff_ip_ok(ip, ihl), "IPv4 checksum of frame %u", i);
        if (t->udp_checksum == SK_CRAFT_UDP_CSUM_COMPUTE)
            FUZZ_CHECK(ff_udp_ok(ip, p + t->udp_offset, len - t->udp_offset),
                       "UDP checksum of frame %u", i);
        else
            FUZZ_CHECK(get_uint(p + t->udp_offset + 6, 2, 1) == 0, "UDP checksum not zero");
        at += sk_craft_record_len(len, fmt);
        src += lens[i];
    }
    FUZZ_CHECK(used == at, "wrap used %zu, records %zu", used, at);
    for (i = (uint32_t)at; i < cap; i++)
        FUZZ_CHECK(buf[i] == PATTERN, "wrap wrote byte %u past its records", i);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    struct sk_craft_flow flows[MAX_FLOWS];
    struct sk_craft_template t;
    struct sk_craft *c = NULL;
    int32_t bad = -7;
    int rc;

    read_template(&in, &t, flows);
    rc = sk_craft_new(&t, &c, &bad);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL, "new: %d", rc);
    if (rc != 0) {
        FUZZ_CHECK(c == NULL && bad >= -1 && bad < (int32_t)t.field_count, "bad field %d of "
                   "%u", bad, t.field_count);
        return 0;
    }
    FUZZ_CHECK(bad == -1 && sk_craft_frame_len(c) == t.frame_len && sk_craft_index(c) == 0,
               "new: bad %d, frame_len %u", bad, sk_craft_frame_len(c));
    mark_owned(&t);
    check_fill(c, &t, &in);
    check_wrap(c, &t, &in);
    sk_craft_free(c);
    return 0;
}
