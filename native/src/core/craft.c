/*
 * craft.c - fast crafting: one frame described once, many variants written
 * per call (sk_craft_fill), or caller payloads framed behind the template's
 * Eth/IPv4/UDP headers (sk_craft_wrap). Output is plain frames or ready pcap
 * / pcapng records, so Python writes a whole batch with one file write.
 *
 * Everything a packet needs is checked once in sk_craft_new(): field and flow
 * positions inside the frame, value ranges, checksum settings. The per-packet
 * loop then only copies, patches and checksums, and checks the output
 * capacity before every record.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "simkit.h"
#include "checksum.h"

#define IP_OFF_TOTAL_LEN 2
#define IP_OFF_CSUM 10
#define IP_OFF_SRC 12
#define IP_OFF_DST 16
#define UDP_OFF_LEN 4
#define UDP_OFF_CSUM 6
#define PCAPNG_EPB_TYPE 6
#define NS_PER_S 1000000000ULL
#define RNG_SPAN_MAX (1ULL << 32)

struct sk_craft {
    uint8_t *frame;
    uint32_t frame_len;
    uint32_t ip_offset;
    uint32_t ip_hdr_len;
    uint32_t udp_offset;
    uint32_t field_count;
    struct sk_craft_field fields[SK_CRAFT_MAX_FIELDS];
    struct sk_craft_flow *flows;
    uint32_t flow_count;
    uint8_t flow_mode;
    uint8_t ip_checksum;
    uint8_t udp_checksum;
    uint64_t index;
    struct sk_rng rng;
    struct sk_rng flow_rng;
};

/* ---- validation --------------------------------------------------------- */

static int width_ok(uint8_t w)
{
    return w == 1 || w == 2 || w == 4 || w == 6 || w == 8;
}

static uint64_t width_max(uint8_t w)
{
    return w == 8 ? UINT64_MAX : (1ULL << (8 * w)) - 1;
}

/* [a, a+alen) and [b, b+blen) share a byte. */
static int overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

static int field_ok(const struct sk_craft_field *f, uint32_t frame_len)
{
    if (!width_ok(f->width) || (uint64_t)f->offset + f->width > frame_len)
        return 0;
    switch (f->mode) {
    case SK_CRAFT_COUNTER:
        return f->start <= width_max(f->width);
    case SK_CRAFT_RANDOM:
        if (f->span == 0)
            return f->start == 0;
        return f->span <= RNG_SPAN_MAX && f->start <= width_max(f->width) &&
               f->span - 1 <= width_max(f->width) - f->start;
    case SK_CRAFT_RANDOM_F64:
        return f->width == 8 && f->span >= 1 && f->span <= RNG_SPAN_MAX &&
               isfinite(f->divisor) && f->divisor != 0.0;
    default:
        return 0;
    }
}

/* Does field f touch bytes that the flows or checksums overwrite? */
static int field_collides(const struct sk_craft_template *t,
                          const struct sk_craft_field *f)
{
    if (t->flow_count > 0 &&
        (overlaps(f->offset, f->width, (uint64_t)t->ip_offset + IP_OFF_SRC, 8) ||
         overlaps(f->offset, f->width, t->udp_offset, 4)))
        return 1;
    if (t->ip_checksum &&
        overlaps(f->offset, f->width, (uint64_t)t->ip_offset + IP_OFF_CSUM, 2))
        return 1;
    if (t->udp_checksum != SK_CRAFT_UDP_CSUM_KEEP &&
        overlaps(f->offset, f->width, (uint64_t)t->udp_offset + UDP_OFF_CSUM, 2))
        return 1;
    return 0;
}

static int template_ok(const struct sk_craft_template *t, uint32_t *ip_hdr_len)
{
    const uint8_t *ip;
    uint32_t udp_len;

    *ip_hdr_len = 0;
    if (t->frame == NULL || t->frame_len == 0 || t->frame_len > SK_CRAFT_MAX_FRAME ||
        t->field_count > SK_CRAFT_MAX_FIELDS)
        return 0;
    if (t->flow_count > 0 && t->flows == NULL)
        return 0;
    if (t->flow_mode != SK_CRAFT_FLOWS_CYCLE && t->flow_mode != SK_CRAFT_FLOWS_RANDOM)
        return 0;
    if (t->udp_checksum > SK_CRAFT_UDP_CSUM_COMPUTE || t->ip_checksum > 1)
        return 0;
    if (t->ip_offset != SK_CRAFT_NO_OFFSET) {
        if ((uint64_t)t->ip_offset + SK_IPV4_HDR_LEN > t->frame_len)
            return 0;
        ip = t->frame + t->ip_offset;
        *ip_hdr_len = (uint32_t)(ip[0] & 0x0f) * 4;
        if ((ip[0] >> 4) != 4 || *ip_hdr_len < SK_IPV4_HDR_LEN ||
            (uint64_t)t->ip_offset + *ip_hdr_len > t->frame_len)
            return 0;
    }
    if (t->udp_offset != SK_CRAFT_NO_OFFSET) {
        /* UDP needs its IPv4 header (pseudo-header) right before it */
        if (t->ip_offset == SK_CRAFT_NO_OFFSET ||
            t->udp_offset != t->ip_offset + *ip_hdr_len ||
            (uint64_t)t->udp_offset + SK_UDP_HDR_LEN > t->frame_len)
            return 0;
    }
    if (t->ip_offset == SK_CRAFT_NO_OFFSET && t->ip_checksum)
        return 0;
    if (t->udp_offset == SK_CRAFT_NO_OFFSET &&
        (t->udp_checksum != SK_CRAFT_UDP_CSUM_KEEP || t->flow_count > 0))
        return 0;
    if (t->udp_checksum == SK_CRAFT_UDP_CSUM_COMPUTE) {
        udp_len = sk_be16(t->frame + t->udp_offset + UDP_OFF_LEN);
        /* fill computes over the UDP length the template states */
        if (udp_len < SK_UDP_HDR_LEN || udp_len > t->frame_len - t->udp_offset)
            return 0;
    }
    return 1;
}

int sk_craft_new(const struct sk_craft_template *t, struct sk_craft **out,
                 int32_t *bad_field)
{
    struct sk_craft *c = NULL;
    uint32_t ip_hdr_len, i, j;
    int32_t bad = -1;
    int rc = -EINVAL;

    if (out != NULL)
        *out = NULL;
    if (t == NULL || out == NULL)
        goto out;
    if (!template_ok(t, &ip_hdr_len))
        goto out;
    for (i = 0; i < t->field_count; i++) {
        const struct sk_craft_field *f = &t->fields[i];

        bad = (int32_t)i;
        if (!field_ok(f, t->frame_len) || field_collides(t, f))
            goto out;
        for (j = 0; j < i; j++)
            if (overlaps(f->offset, f->width, t->fields[j].offset, t->fields[j].width))
                goto out;
    }
    bad = -1;

    rc = -ENOMEM;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        goto out;
    c->frame = malloc(t->frame_len);
    if (c->frame == NULL)
        goto out;
    memcpy(c->frame, t->frame, t->frame_len);
    if (t->flow_count > 0) {
        c->flows = malloc(sizeof(*c->flows) * t->flow_count);
        if (c->flows == NULL)
            goto out;
        memcpy(c->flows, t->flows, sizeof(*c->flows) * t->flow_count);
    }
    c->frame_len = t->frame_len;
    c->ip_offset = t->ip_offset;
    c->ip_hdr_len = ip_hdr_len;
    c->udp_offset = t->udp_offset;
    c->field_count = t->field_count;
    memcpy(c->fields, t->fields, sizeof(c->fields[0]) * t->field_count);
    c->flow_count = t->flow_count;
    c->flow_mode = t->flow_mode;
    c->ip_checksum = t->ip_checksum;
    c->udp_checksum = t->udp_checksum;
    sk_craft_reset(c, 0);
    *out = c;
    c = NULL;
    rc = 0;
out:
    if (bad_field != NULL)
        *bad_field = rc == -EINVAL ? bad : -1;
    sk_craft_free(c);
    return rc;
}

void sk_craft_free(struct sk_craft *c)
{
    if (c == NULL)
        return;
    free(c->frame);
    free(c->flows);
    free(c);
}

void sk_craft_reset(struct sk_craft *c, uint64_t seed)
{
    if (c == NULL)
        return;
    c->index = 0;
    sk_rng_seed(&c->rng, seed);
    sk_rng_seed(&c->flow_rng, seed ^ SK_CRAFT_FLOW_SALT);
}

uint64_t sk_craft_index(const struct sk_craft *c)
{
    return c == NULL ? 0 : c->index;
}

uint32_t sk_craft_frame_len(const struct sk_craft *c)
{
    return c == NULL ? 0 : c->frame_len;
}

size_t sk_craft_record_len(uint32_t frame_len, int fmt)
{
    switch (fmt) {
    case SK_CRAFT_OUT_FRAMES:
        return frame_len;
    case SK_CRAFT_OUT_PCAP:
        return (size_t)SK_CRAFT_PCAP_RECORD_HDR + frame_len;
    case SK_CRAFT_OUT_PCAPNG:
        return (size_t)SK_CRAFT_PCAPNG_EPB_OVERHEAD + frame_len + ((4 - frame_len % 4) % 4);
    default:
        return 0;
    }
}

/* ---- the per-packet work ------------------------------------------------ */

static void put_uint(uint8_t *p, uint64_t v, uint8_t width, int big_endian)
{
    uint8_t i;

    if (big_endian)
        for (i = 0; i < width; i++)
            p[i] = (uint8_t)(v >> (8 * (width - 1 - i)));
    else
        for (i = 0; i < width; i++)
            p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t draw(struct sk_rng *r, uint64_t span)
{
    if (span == RNG_SPAN_MAX)
        return sk_rng_next(r) >> 32;
    return sk_rng_below(r, (uint32_t)span);
}

/* Patch fields and flow of the frame copy at p (packet c->index). */
static void vary(struct sk_craft *c, uint8_t *p)
{
    uint32_t i;

    if (c->flow_count > 0) {
        const struct sk_craft_flow *fl;
        uint32_t k;

        if (c->flow_mode == SK_CRAFT_FLOWS_RANDOM)
            k = sk_rng_below(&c->flow_rng, c->flow_count);
        else
            k = (uint32_t)(c->index % c->flow_count);
        fl = &c->flows[k];
        sk_put_be32(p + c->ip_offset + IP_OFF_SRC, fl->src_ip);
        sk_put_be32(p + c->ip_offset + IP_OFF_DST, fl->dst_ip);
        sk_put_be16(p + c->udp_offset, fl->src_port);
        sk_put_be16(p + c->udp_offset + 2, fl->dst_port);
    }
    for (i = 0; i < c->field_count; i++) {
        const struct sk_craft_field *f = &c->fields[i];
        uint64_t v;

        switch (f->mode) {
        case SK_CRAFT_COUNTER:
            v = (f->start + c->index * f->step) & width_max(f->width);
            break;
        case SK_CRAFT_RANDOM:
            v = f->span == 0 ? sk_rng_next(&c->rng) & width_max(f->width)
                             : f->start + draw(&c->rng, f->span);
            break;
        default: /* SK_CRAFT_RANDOM_F64, checked in sk_craft_new() */
            v = sk_double_bits((double)(f->start + draw(&c->rng, f->span)) / f->divisor);
            break;
        }
        put_uint(p + f->offset, v, f->width, f->big_endian);
    }
}

static void checksum(struct sk_craft *c, uint8_t *p, uint32_t udp_len)
{
    if (c->ip_checksum)
        sk_ipv4_fix_checksum(p + c->ip_offset, c->ip_hdr_len);
    if (c->udp_checksum == SK_CRAFT_UDP_CSUM_ZERO) {
        p[c->udp_offset + UDP_OFF_CSUM] = 0;
        p[c->udp_offset + UDP_OFF_CSUM + 1] = 0;
    } else if (c->udp_checksum == SK_CRAFT_UDP_CSUM_COMPUTE) {
        sk_udp_fix_checksum(p + c->ip_offset, p + c->udp_offset, udp_len);
    }
}

/* Write the record header for a frame of len bytes; returns the frame start. */
static uint8_t *record_open(uint8_t *r, int fmt, uint32_t len, uint64_t ts_ns)
{
    switch (fmt) {
    case SK_CRAFT_OUT_PCAP:
        sk_put_le32(r, (uint32_t)(ts_ns / NS_PER_S));
        sk_put_le32(r + 4, (uint32_t)(ts_ns % NS_PER_S));
        sk_put_le32(r + 8, len);
        sk_put_le32(r + 12, len);
        return r + SK_CRAFT_PCAP_RECORD_HDR;
    case SK_CRAFT_OUT_PCAPNG: {
        uint32_t total = (uint32_t)sk_craft_record_len(len, fmt);

        sk_put_le32(r, PCAPNG_EPB_TYPE);
        sk_put_le32(r + 4, total);
        sk_put_le32(r + 8, 0); /* interface 0 */
        sk_put_le32(r + 12, (uint32_t)(ts_ns >> 32));
        sk_put_le32(r + 16, (uint32_t)ts_ns);
        sk_put_le32(r + 20, len);
        sk_put_le32(r + 24, len);
        /* padding and trailing length */
        memset(r + 28 + len, 0, total - 32 - len);
        sk_put_le32(r + total - 4, total);
        return r + 28;
    }
    default:
        return r;
    }
}

static int fmt_ok(int fmt)
{
    return fmt == SK_CRAFT_OUT_FRAMES || fmt == SK_CRAFT_OUT_PCAP ||
           fmt == SK_CRAFT_OUT_PCAPNG;
}

int64_t sk_craft_fill(struct sk_craft *c, uint8_t *buf, size_t cap,
                      uint64_t count, int fmt, uint64_t ts_start_ns,
                      uint64_t ts_step_ns, size_t *used)
{
    size_t rec_len, at = 0;
    uint32_t udp_len = 0;
    uint64_t n;

    if (used != NULL)
        *used = 0;
    if (c == NULL || used == NULL || !fmt_ok(fmt) || (buf == NULL && cap > 0))
        return -EINVAL;
    rec_len = sk_craft_record_len(c->frame_len, fmt);
    if (c->udp_checksum == SK_CRAFT_UDP_CSUM_COMPUTE)
        udp_len = sk_be16(c->frame + c->udp_offset + UDP_OFF_LEN);
    for (n = 0; n < count && cap - at >= rec_len; n++) {
        uint8_t *p = record_open(buf + at, fmt, c->frame_len,
                                 ts_start_ns + c->index * ts_step_ns);

        memcpy(p, c->frame, c->frame_len);
        vary(c, p);
        checksum(c, p, udp_len);
        c->index++;
        at += rec_len;
    }
    *used = at;
    return (int64_t)n;
}

int64_t sk_craft_wrap(struct sk_craft *c, const uint8_t *data, size_t data_len,
                      const uint32_t *lens, uint64_t count, uint8_t *buf,
                      size_t cap, int fmt, uint64_t ts_start_ns,
                      uint64_t ts_step_ns, size_t *used)
{
    size_t at = 0, src = 0, total = 0;
    uint64_t n;

    if (used != NULL)
        *used = 0;
    if (c == NULL || used == NULL || !fmt_ok(fmt) || (buf == NULL && cap > 0) ||
        (count > 0 && lens == NULL) || (data == NULL && data_len > 0))
        return -EINVAL;
    if (c->udp_offset == SK_CRAFT_NO_OFFSET ||
        c->frame_len != c->udp_offset + SK_UDP_HDR_LEN ||
        c->udp_checksum == SK_CRAFT_UDP_CSUM_KEEP)
        return -EINVAL;
    /* check every payload before writing anything */
    for (n = 0; n < count; n++) {
        if (lens[n] > SK_CRAFT_MAX_FRAME - c->frame_len)
            return -EMSGSIZE;
        total += lens[n];
        if (total > data_len)
            return -EINVAL;
    }
    for (n = 0; n < count; n++) {
        uint32_t len = c->frame_len + lens[n];
        size_t rec_len = sk_craft_record_len(len, fmt);
        uint8_t *p;

        if (cap - at < rec_len)
            break;
        p = record_open(buf + at, fmt, len, ts_start_ns + c->index * ts_step_ns);
        memcpy(p, c->frame, c->frame_len);
        memcpy(p + c->frame_len, data + src, lens[n]);
        vary(c, p);
        sk_put_be16(p + c->ip_offset + IP_OFF_TOTAL_LEN, (uint16_t)(len - c->ip_offset));
        sk_put_be16(p + c->udp_offset + UDP_OFF_LEN, (uint16_t)(len - c->udp_offset));
        sk_ipv4_fix_checksum(p + c->ip_offset, c->ip_hdr_len); /* lengths changed */
        checksum(c, p, len - c->udp_offset);
        c->index++;
        src += lens[n];
        at += rec_len;
    }
    *used = at;
    return (int64_t)n;
}

int64_t sk_craft_records(const uint8_t *frames, const uint32_t *lens, uint64_t count,
                         uint8_t *buf, size_t cap, int fmt, uint64_t ts_start_ns,
                         uint64_t ts_step_ns, size_t *used)
{
    size_t at = 0, src = 0;
    uint64_t n;

    if (used != NULL)
        *used = 0;
    if (used == NULL || !fmt_ok(fmt) || (buf == NULL && cap > 0) ||
        (count > 0 && (lens == NULL || frames == NULL)))
        return -EINVAL;
    for (n = 0; n < count; n++) {
        size_t rec_len = sk_craft_record_len(lens[n], fmt);

        if (cap - at < rec_len)
            break;
        memcpy(record_open(buf + at, fmt, lens[n], ts_start_ns + n * ts_step_ns),
               frames + src, lens[n]);
        src += lens[n];
        at += rec_len;
    }
    *used = at;
    return (int64_t)n;
}
