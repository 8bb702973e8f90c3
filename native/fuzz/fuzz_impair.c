/*
 * fuzz_impair.c - libFuzzer target for the impairer (core/impair.c:
 * sk_impair_validate/new/push/flush/run) with fuzzed models.
 *
 * Input: byte 0 selects models (bit k-1: kind k; bit pattern 0xff instead
 * reads eight raw model structs, to fuzz validation); then each selected
 * model's parameters (probabilities as n/254 or, after 0xff, a raw double;
 * gaps, lengths, layers, delays, malform masks), the seed, and packets:
 * a length byte and either a valid seed frame or raw bytes.
 *
 * Checks:
 *   - validate and new agree; a refusal says why (a non-empty message);
 *   - every push writes 0..SK_IMPAIR_PUSH_MAX_OUT entries, every flush at
 *     most its cap; after the flush, every pushed packet has come back
 *     exactly once as copy 0, and exactly once more as copy 1 when (and only
 *     when) duplicated, right after copy 0;
 *   - each entry is consistent: its token and original length, dropped
 *     entries carry nothing else, truncation shortens (to the model's length
 *     when it names one), corruption flips exactly the bit it reports inside
 *     the bytes sent and nothing else of the frame changes, a malformed packet
 *     is neither truncated nor corrupted and its kind is in the mask, a delay
 *     is within mean +- jitter, a held packet comes back `gap` pushes later
 *     or at the flush, reordered implies held;
 *   - the stats are the counts of the flags seen;
 *   - sk_impair_run over the same frames gives the same entries, bytes and
 *     stats.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "simkit.h"
#include "fuzz_input.h"

#define MAX_PACKETS 512
#define MAX_LEN 255
#define RAW_MODELS 0xff
#define P_RAW 0xff
#define MSG_CAP 256
#define MAX_ENTRIES (2 * MAX_PACKETS) /* each packet comes back once or twice */
#define MAX_FLUSH_CAP 9

struct packet {
    uint8_t orig[MAX_LEN];
    uint8_t *frame;          /* heap block of exactly len (ASan) */
    uint32_t len;
    int copies;              /* 1 or 2 expected */
    int seen[2];
    uint32_t flags;
};

static struct packet pk[MAX_PACKETS];
static struct sk_impair_out entries[MAX_ENTRIES]; /* everything, in order */
static uint64_t offsets[MAX_PACKETS];   /* of each packet in sk_impair_run's buffer */

static double probability(struct fuzz_input *in)
{
    uint8_t b = fuzz_u8(in);
    uint64_t bits;
    double d;

    if (b != P_RAW)
        return b / 254.0;
    bits = fuzz_uint(in, 8);
    memcpy(&d, &bits, sizeof(d));
    return d;
}

static uint32_t read_models(struct fuzz_input *in, struct sk_impair_model *m)
{
    uint8_t sel = fuzz_u8(in);
    uint32_t n = 0, kind;

    if (sel == RAW_MODELS) {
        for (n = 0; n < SK_IMPAIR_MAX_MODELS && fuzz_more(in); n++)
            for (size_t i = 0; i < sizeof(*m); i++)
                ((uint8_t *)&m[n])[i] = fuzz_u8(in);
        return n;
    }
    for (kind = 1; kind <= SK_IMPAIR_KIND_COUNT; kind++) {
        struct sk_impair_model *x = &m[n];

        if (!(sel >> (kind - 1) & 1))
            continue;
        memset(x, 0, sizeof(*x));
        x->kind = kind;
        x->p = probability(in);
        switch (kind) {
        case SK_IMPAIR_GILBERT:
            x->r = probability(in);
            x->h = probability(in);
            x->k = probability(in);
            break;
        case SK_IMPAIR_REORDER:
            x->gap = fuzz_u8(in) % 66; /* 0 is refused; raw models reach the maximum */
            break;
        case SK_IMPAIR_CORRUPT:
            x->layer = fuzz_u8(in) % (SK_IMPAIR_LAYER_COUNT + 1);
            break;
        case SK_IMPAIR_TRUNCATE:
            x->len = fuzz_u8(in);
            break;
        case SK_IMPAIR_DELAY:
            x->mean_ns = fuzz_uint(in, 3);
            x->jitter_ns = fuzz_uint(in, 3);
            break;
        case SK_IMPAIR_MALFORM:
            x->malform_kinds = (uint32_t)fuzz_uint(in, 4) & (fuzz_u8(in) ? 0x7ffffe : ~0u);
            break;
        }
        n++;
    }
    return n;
}

static const struct sk_impair_model *find(const struct sk_impair_model *m, uint32_t n,
                                          uint32_t kind)
{
    for (uint32_t i = 0; i < n; i++)
        if (m[i].kind == kind)
            return &m[i];
    return NULL;
}

/* One entry, judged as it comes out (pushed: packets pushed so far). */
static void check_entry(const struct sk_impair_out *e, const struct sk_impair_out *prev,
                        uint64_t pushed, int in_push, const struct sk_impair_model *m,
                        uint32_t n)
{
    const struct sk_impair_model *trunc = find(m, n, SK_IMPAIR_TRUNCATE);
    const struct sk_impair_model *delay = find(m, n, SK_IMPAIR_DELAY);
    const struct sk_impair_model *reorder = find(m, n, SK_IMPAIR_REORDER);
    const struct sk_impair_model *malform = find(m, n, SK_IMPAIR_MALFORM);
    struct packet *p;
    uint32_t i;

    FUZZ_CHECK(e->index < pushed, "entry for packet %llu of %llu",
               (unsigned long long)e->index, (unsigned long long)pushed);
    p = &pk[e->index];
    FUZZ_CHECK(e->token == e->index * 7 + 3, "token %llu for packet %llu",
               (unsigned long long)e->token, (unsigned long long)e->index);
    FUZZ_CHECK(e->orig_len == p->len && e->len <= p->len, "lengths %u/%u of %u", e->len,
               e->orig_len, p->len);
    FUZZ_CHECK(e->copy <= 1 && !p->seen[e->copy], "packet %llu copy %u twice",
               (unsigned long long)e->index, e->copy);
    p->seen[e->copy] = 1;
    if (e->copy == 0) {
        p->flags = e->flags;
        p->copies = e->flags & SK_IMPAIRED_DUPLICATED ? 2 : 1;
    } else {
        FUZZ_CHECK(prev != NULL && prev->index == e->index && prev->copy == 0 &&
                   (e->flags & SK_IMPAIRED_DUPLICATED),
                   "copy 1 of %llu not right after its copy 0", (unsigned long long)e->index);
        FUZZ_CHECK(memcmp(prev, e, offsetof(struct sk_impair_out, copy)) == 0,
                   "the duplicate differs from its original");
    }
    if (e->flags & SK_IMPAIRED_DROPPED)
        FUZZ_CHECK(e->flags == SK_IMPAIRED_DROPPED && e->len == e->orig_len && e->copy == 0,
                   "dropped entry with flags %#x", e->flags);
    FUZZ_CHECK(!(e->flags & SK_IMPAIRED_TRUNCATED) == (e->len == e->orig_len),
               "truncated flag %#x, len %u of %u", e->flags, e->len, e->orig_len);
    if (e->flags & SK_IMPAIRED_TRUNCATED)
        FUZZ_CHECK(trunc && e->len >= 1 && (trunc->len == 0 || e->len == trunc->len),
                   "truncated to %u (model len %u)", e->len, trunc ? trunc->len : 0);
    if (e->flags & SK_IMPAIRED_MALFORMED)
        FUZZ_CHECK(malform && !(e->flags & (SK_IMPAIRED_TRUNCATED | SK_IMPAIRED_CORRUPTED)) &&
                   e->malform >= 1 && (malform->malform_kinds >> e->malform & 1),
                   "malformed entry: flags %#x kind %u", e->flags, e->malform);
    if (e->flags & SK_IMPAIRED_HELD) {
        FUZZ_CHECK(reorder != NULL, "held without a reorder model");
        if (in_push)
            FUZZ_CHECK(e->index + reorder->gap == pushed - 1, "held %llu released at push %llu",
                       (unsigned long long)e->index, (unsigned long long)(pushed - 1));
    }
    FUZZ_CHECK(!(e->flags & SK_IMPAIRED_REORDERED) || (e->flags & SK_IMPAIRED_HELD),
               "reordered but never held");
    if (!(e->flags & SK_IMPAIRED_DROPPED))
        FUZZ_CHECK(!(e->flags & SK_IMPAIRED_DELAYED) == !delay, "delayed flag %#x", e->flags);
    if (e->flags & SK_IMPAIRED_DELAYED)
        FUZZ_CHECK(e->delay_ns + delay->jitter_ns >= delay->mean_ns &&
                   e->delay_ns <= delay->mean_ns + delay->jitter_ns, "delay %llu",
                   (unsigned long long)e->delay_ns);
    else
        FUZZ_CHECK(e->delay_ns == 0, "delay without the flag");
    /* The bytes: the original, but for the one reported bit. */
    for (i = 0; i < p->len; i++) {
        uint8_t want = p->orig[i];

        if ((e->flags & SK_IMPAIRED_CORRUPTED) && i == e->corrupt_offset)
            want ^= (uint8_t)(1u << e->corrupt_bit);
        FUZZ_CHECK(p->frame[i] == want, "packet %llu byte %u changed (flags %#x)",
                   (unsigned long long)e->index, i, e->flags);
    }
    if (e->flags & SK_IMPAIRED_CORRUPTED)
        FUZZ_CHECK(e->corrupt_offset < e->len && e->corrupt_bit < 8, "corrupt at %u bit %u "
                   "of %u bytes sent", e->corrupt_offset, e->corrupt_bit, e->len);
}

static void build_packet(struct fuzz_input *in, struct packet *p, uint64_t idx)
{
    uint8_t shape = fuzz_u8(in);
    struct sk_seed_fields f;

    if (shape & 1) { /* a valid seed frame: every corruption layer exists */
        sk_seed_fields_default(&f);
        f.seq = idx;
        f.udp_checksum = (shape >> 1) & 1;
        p->len = (uint32_t)sk_seed_build(&f, p->orig, sizeof(p->orig));
    } else {
        p->len = (shape >> 1) % (MAX_LEN + 1);
        for (uint32_t i = 0; i < p->len; i++)
            p->orig[i] = fuzz_u8(in);
    }
    p->frame = malloc(p->len + 1);
    FUZZ_CHECK(p->frame != NULL, "out of memory");
    memcpy(p->frame, p->orig, p->len);
    p->seen[0] = p->seen[1] = 0;
    p->copies = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    struct sk_impair_model m[SK_IMPAIR_MAX_MODELS];
    struct sk_impair_stats st, bst, want;
    struct sk_impair *imp = NULL, *imp2 = NULL;
    struct sk_impair_out *batch;
    uint64_t seed, n = 0, ne = 0, i, off, nb;
    char msg[MSG_CAP];
    uint32_t nm, gap, *lens;
    uint8_t *buf;
    int rv, rn, r;
    int64_t rb;

    memset(m, 0, sizeof(m));
    nm = read_models(&in, m);
    msg[0] = 'x';
    rv = sk_impair_validate(m, nm, msg, sizeof(msg));
    rn = sk_impair_new(m, nm, 1, &imp);
    FUZZ_CHECK(rv == rn && (rv == 0 || rv == -EINVAL), "validate %d, new %d", rv, rn);
    FUZZ_CHECK(memchr(msg, '\0', sizeof(msg)) != NULL, "message not terminated");
    FUZZ_CHECK((rv == 0) == (msg[0] == '\0'), "refused %d with message '%s'", rv, msg);
    if (rv != 0)
        return 0;
    sk_impair_free(imp);
    seed = fuzz_uint(&in, 8);
    FUZZ_CHECK(sk_impair_new(m, nm, seed, &imp) == 0, "new failed after validate");

    while (fuzz_more(&in) && n < MAX_PACKETS) {
        struct sk_impair_out out[SK_IMPAIR_PUSH_MAX_OUT];

        build_packet(&in, &pk[n], n);
        r = sk_impair_push(imp, n * 7 + 3, pk[n].frame, pk[n].len, out,
                           SK_IMPAIR_PUSH_MAX_OUT);
        n++;
        FUZZ_CHECK(r >= 0 && r <= SK_IMPAIR_PUSH_MAX_OUT, "push returned %d", r);
        for (i = 0; i < (uint64_t)r; i++, ne++) {
            check_entry(&out[i], ne ? &entries[ne - 1] : NULL, n, 1, m, nm);
            entries[ne] = out[i];
        }
    }
    for (;;) {
        struct sk_impair_out out[MAX_FLUSH_CAP];
        uint32_t cap = 2 + (uint32_t)(n % (MAX_FLUSH_CAP - 1));

        r = sk_impair_flush(imp, out, cap);
        FUZZ_CHECK(r >= 0 && (uint32_t)r <= cap, "flush returned %d for cap %u", r, cap);
        if (r == 0)
            break;
        for (i = 0; i < (uint64_t)r; i++, ne++) {
            check_entry(&out[i], ne ? &entries[ne - 1] : NULL, n, 0, m, nm);
            entries[ne] = out[i];
        }
    }

    memset(&want, 0, sizeof(want));
    want.packets_in = n;
    for (i = 0; i < n; i++) {
        uint32_t fl = pk[i].flags;

        FUZZ_CHECK(pk[i].seen[0] && pk[i].seen[1] == (pk[i].copies == 2),
                   "packet %llu came back %d+%d times", (unsigned long long)i, pk[i].seen[0],
                   pk[i].seen[1]);
        want.packets_out += (fl & SK_IMPAIRED_DROPPED) ? 0 : (uint64_t)pk[i].copies;
        want.dropped += !!(fl & SK_IMPAIRED_DROPPED);
        want.duplicated += !!(fl & SK_IMPAIRED_DUPLICATED);
        want.held += !!(fl & SK_IMPAIRED_HELD);
        want.reordered += !!(fl & SK_IMPAIRED_REORDERED);
        want.corrupted += !!(fl & SK_IMPAIRED_CORRUPTED);
        want.truncated += !!(fl & SK_IMPAIRED_TRUNCATED);
        want.delayed += !!(fl & SK_IMPAIRED_DELAYED);
        want.malformed += !!(fl & SK_IMPAIRED_MALFORMED);
    }
    sk_impair_get_stats(imp, &st);
    want.delay_ns_sum = st.delay_ns_sum;
    for (i = 0, off = 0; i < ne; i++)
        off += entries[i].copy == 0 ? entries[i].delay_ns : 0;
    FUZZ_CHECK(st.delay_ns_sum == off, "delay_ns_sum %llu, entries %llu",
               (unsigned long long)st.delay_ns_sum, (unsigned long long)off);
    FUZZ_CHECK(memcmp(&st, &want, sizeof(st)) == 0, "stats differ from the entries: "
               "in/out/drop/dup/held/reord/corr/trunc/delay/queued/malf %llu/%llu/%llu/%llu/"
               "%llu/%llu/%llu/%llu/%llu/%llu/%llu",
               (unsigned long long)st.packets_in, (unsigned long long)st.packets_out,
               (unsigned long long)st.dropped, (unsigned long long)st.duplicated,
               (unsigned long long)st.held, (unsigned long long)st.reordered,
               (unsigned long long)st.corrupted, (unsigned long long)st.truncated,
               (unsigned long long)st.delayed, (unsigned long long)st.queued,
               (unsigned long long)st.malformed);

    /* The batch call over the same frames gives the same entries and bytes. */
    gap = find(m, nm, SK_IMPAIR_REORDER) ? find(m, nm, SK_IMPAIR_REORDER)->gap : 0;
    nb = 2 * (n + gap + 1); /* the cap sk_impair_run documents as enough */
    buf = malloc(n * MAX_LEN + 1);
    lens = malloc(n * sizeof(*lens) + 1);
    batch = malloc(nb * sizeof(*batch));
    FUZZ_CHECK(buf && lens && batch, "out of memory");
    for (i = 0, off = 0; i < n; off += pk[i].len, i++) {
        memcpy(buf + off, pk[i].orig, pk[i].len);
        lens[i] = pk[i].len;
        offsets[i] = off;
    }
    FUZZ_CHECK(sk_impair_new(m, nm, seed, &imp2) == 0, "second new failed");
    rb = sk_impair_run(imp2, buf, lens, n, 1, batch, nb);
    FUZZ_CHECK(rb == (int64_t)ne, "sk_impair_run wrote %lld entries, pushes %llu",
               (long long)rb, (unsigned long long)ne);
    for (i = 0; i < ne; i++) {
        struct sk_impair_out a = entries[i], b = batch[i];
        uint64_t at = offsets[a.index];

        FUZZ_CHECK(b.token == at, "batch token %llu, offset %llu", (unsigned long long)b.token,
                   (unsigned long long)at);
        a.token = b.token = 0;
        FUZZ_CHECK(memcmp(&a, &b, sizeof(a)) == 0, "batch entry %llu differs",
                   (unsigned long long)i);
    }
    for (i = 0, off = 0; i < n; off += pk[i].len, i++)
        FUZZ_CHECK(memcmp(buf + off, pk[i].frame, pk[i].len) == 0, "batch bytes of %llu",
                   (unsigned long long)i);
    sk_impair_get_stats(imp2, &bst);
    FUZZ_CHECK(memcmp(&st, &bst, sizeof(st)) == 0, "batch stats differ");

    for (i = 0; i < n; i++)
        free(pk[i].frame);
    free(buf);
    free(lens);
    free(batch);
    sk_impair_free(imp);
    sk_impair_free(imp2);
    return 0;
}
