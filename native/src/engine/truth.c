/*
 * truth.c - the ground truth of an impaired run, as JSONL in exactly the
 * format simkit.impair writes (GroundTruth.write_jsonl): one summary line,
 * then one line per packet something happened to, in index order, compact
 * separators. So a test can compare the engine's truth with
 * simkit.impair.Impairer(models, seed).run(frames).truth for the same seed.
 *
 * Records come in send order (a held packet after later ones); they are
 * kept in memory (only packets something happened to) and sorted at the
 * end. The file is written to PATH.partial and renamed, so a reader never
 * sees half a truth.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"

#define TRUTH_INITIAL_RECORDS 4096
#define SPEC_LEN 512 /* a malform model may list every kind */
#define SHORTEST_DIGITS_MAX 17

struct truth_rec {
    uint64_t index;
    uint64_t delay_ns;
    uint32_t flags;
    uint32_t len;
    uint32_t orig_len;
    uint32_t corrupt_offset;
    uint8_t corrupt_bit;
    uint8_t malform;
};

struct sk_truth {
    char *path;
    char *partial;
    FILE *f;
    struct truth_rec *recs;
    size_t n, cap;
    char specs[SK_IMPAIR_MAX_MODELS][SPEC_LEN];
    uint32_t n_specs;
    uint64_t seed;
};

#define EVENT_FLAGS (SK_IMPAIRED_DROPPED | SK_IMPAIRED_DUPLICATED | \
                     SK_IMPAIRED_REORDERED | SK_IMPAIRED_CORRUPTED | \
                     SK_IMPAIRED_TRUNCATED | SK_IMPAIRED_DELAYED | \
                     SK_IMPAIRED_MALFORMED)

/* Python's repr() of a float in [0, 1] (what Model.spec() writes): the
 * shortest %g that reads back exactly, with ".0" on whole numbers. */
static void float_repr(double v, char *buf, size_t cap)
{
    int prec;

    for (prec = 1; prec <= SHORTEST_DIGITS_MAX; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    if (strpbrk(buf, ".en") == NULL && strlen(buf) + 3 <= cap)
        strcat(buf, ".0");
}

/* "malform:kind=any,p=..." or "malform:kind=runt+ip_options,p=..." (kinds in
 * catalog order), as simkit.impair's Malform.spec() writes it. */
static int malform_spec(const struct sk_impair_model *m, const char *p, char *buf, size_t cap)
{
    size_t used;
    uint32_t k;
    int n;

    if (m->malform_kinds == SK_MALFORM_ANY_MASK)
        return snprintf(buf, cap, "malform:kind=any,p=%s", p);
    n = snprintf(buf, cap, "malform:kind=");
    for (k = 1; k <= SK_MALFORM_KIND_COUNT && n >= 0 && (size_t)n < cap; k++) {
        if (!(m->malform_kinds & (1u << k)))
            continue;
        used = (size_t)n;
        n += snprintf(buf + used, cap - used, "%s%s",
                      buf[used - 1] == '=' ? "" : "+", sk_malform_name(k));
    }
    if (n >= 0 && (size_t)n < cap)
        n += snprintf(buf + n, cap - (size_t)n, ",p=%s", p);
    return n;
}

int sk_impair_spec(const struct sk_impair_model *m, char *buf, size_t cap)
{
    char p[32], r[32], h[32], k[32];
    const char *kind = sk_impair_kind_name(m->kind);

    if (kind == NULL)
        return -EINVAL;
    float_repr(m->p, p, sizeof(p));
    switch (m->kind) {
    case SK_IMPAIR_GILBERT:
        float_repr(m->r, r, sizeof(r));
        float_repr(m->h, h, sizeof(h));
        float_repr(m->k, k, sizeof(k));
        return snprintf(buf, cap, "%s:p=%s,r=%s,h=%s,k=%s", kind, p, r, h, k);
    case SK_IMPAIR_REORDER:
        return snprintf(buf, cap, "%s:p=%s,gap=%u", kind, p, m->gap);
    case SK_IMPAIR_CORRUPT:
        return snprintf(buf, cap, "%s:p=%s,layer=%s", kind, p,
                        sk_impair_layer_name(m->layer));
    case SK_IMPAIR_TRUNCATE:
        if (m->len == 0) /* Python's length=None: uniform, not written */
            return snprintf(buf, cap, "%s:p=%s", kind, p);
        return snprintf(buf, cap, "%s:p=%s,len=%u", kind, p, m->len);
    case SK_IMPAIR_DELAY:
        return snprintf(buf, cap, "%s:mean=%lluns,jitter=%lluns", kind,
                        (unsigned long long)m->mean_ns,
                        (unsigned long long)m->jitter_ns);
    case SK_IMPAIR_MALFORM:
        return malform_spec(m, p, buf, cap);
    default:
        return snprintf(buf, cap, "%s:p=%s", kind, p);
    }
}

void sk_truth_free(struct sk_truth *t)
{
    if (t == NULL)
        return;
    if (t->f != NULL) {
        fclose(t->f);
        unlink(t->partial);
    }
    free(t->recs);
    free(t->path);
    free(t->partial);
    free(t);
}

int sk_truth_open(struct sk_truth **out, const char *path,
                  const struct sk_impair_model *models, uint32_t n,
                  uint64_t seed, char *err, size_t errlen)
{
    struct sk_truth *t;
    uint32_t i;
    int ret = -ENOMEM;

    *out = NULL;
    t = calloc(1, sizeof(*t));
    if (t == NULL || (t->path = strdup(path)) == NULL ||
        asprintf(&t->partial, "%s.partial", path) < 0) {
        if (t != NULL)
            t->partial = NULL;
        snprintf(err, errlen, "cannot keep the ground truth: out of memory");
        goto out;
    }
    t->cap = TRUTH_INITIAL_RECORDS;
    t->recs = malloc(t->cap * sizeof(*t->recs));
    if (t->recs == NULL) {
        snprintf(err, errlen, "cannot keep the ground truth: out of memory");
        goto out;
    }
    for (i = 0; i < n && i < SK_IMPAIR_MAX_MODELS; i++)
        sk_impair_spec(&models[i], t->specs[i], SPEC_LEN);
    t->n_specs = n;
    t->seed = seed;
    /* open now: an unwritable path is bad input, found before the run */
    t->f = fopen(t->partial, "w");
    if (t->f == NULL) {
        snprintf(err, errlen, "cannot write --truth %s: %s: give a writable path",
                 path, strerror(errno));
        ret = -EINVAL;
        goto out;
    }
    *out = t;
    return 0;
out:
    sk_truth_free(t);
    return ret;
}

int sk_truth_add(struct sk_truth *t, const struct sk_impair_out *o)
{
    struct truth_rec *r;

    if (!(o->flags & EVENT_FLAGS))
        return 0;
    if (t->n == t->cap) {
        struct truth_rec *grown = realloc(t->recs, 2 * t->cap * sizeof(*grown));

        if (grown == NULL)
            return -ENOMEM;
        t->recs = grown;
        t->cap *= 2;
    }
    r = &t->recs[t->n++];
    r->index = o->index;
    r->delay_ns = o->delay_ns;
    r->flags = o->flags;
    r->len = o->len;
    r->orig_len = o->orig_len;
    r->corrupt_offset = o->corrupt_offset;
    r->corrupt_bit = o->corrupt_bit;
    r->malform = o->malform;
    return 0;
}

static int by_index(const void *a, const void *b)
{
    uint64_t x = ((const struct truth_rec *)a)->index;
    uint64_t y = ((const struct truth_rec *)b)->index;

    return x < y ? -1 : x > y;
}

static void put_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int sk_truth_finish(struct sk_truth *t, const struct sk_impair_stats *st,
                    const struct sk_inject_stats *inj, char *err, size_t errlen)
{
    static const uint32_t event_flag[] = {
        SK_IMPAIRED_DROPPED, SK_IMPAIRED_DUPLICATED, SK_IMPAIRED_REORDERED,
        SK_IMPAIRED_CORRUPTED, SK_IMPAIRED_TRUNCATED, SK_IMPAIRED_DELAYED,
        SK_IMPAIRED_MALFORMED,
    };
    static const char *const event_name[] = {
        "dropped", "duplicated", "reordered", "corrupted", "truncated", "delayed",
        "malformed",
    };
    enum { EVENTS = sizeof(event_flag) / sizeof(event_flag[0]) };
    uint64_t counts[EVENTS] = {0};
    FILE *f = t->f;
    size_t i, e;
    uint32_t k;
    int ret = 0;

    qsort(t->recs, t->n, sizeof(*t->recs), by_index);
    for (i = 0; i < t->n; i++)
        for (e = 0; e < EVENTS; e++)
            counts[e] += (t->recs[i].flags & event_flag[e]) != 0;

    fprintf(f, "{\"type\":\"summary\",\"seed\":%llu,\"impairments\":[",
            (unsigned long long)t->seed);
    for (k = 0; k < t->n_specs; k++) {
        if (k > 0)
            fputc(',', f);
        put_json_string(f, t->specs[k]);
    }
    fprintf(f, "],\"packets_in\":%llu,\"packets_out\":%llu,\"counts\":{",
            (unsigned long long)st->packets_in,
            (unsigned long long)inj->wire_packets);
    for (e = 0; e < EVENTS; e++)
        fprintf(f, "%s\"%s\":%llu", e ? "," : "", event_name[e],
                (unsigned long long)counts[e]);
    fputs("}}\n", f);

    for (i = 0; i < t->n; i++) {
        const struct truth_rec *r = &t->recs[i];

        fprintf(f, "{\"type\":\"packet\",\"index\":%llu", (unsigned long long)r->index);
        if (r->flags & SK_IMPAIRED_DROPPED)
            fputs(",\"dropped\":true", f);
        if (r->flags & SK_IMPAIRED_DUPLICATED)
            fputs(",\"duplicated\":true", f);
        if (r->flags & SK_IMPAIRED_REORDERED)
            fputs(",\"reordered\":true", f);
        if (r->flags & SK_IMPAIRED_CORRUPTED)
            fprintf(f, ",\"corrupted\":{\"offset\":%u,\"bit\":%u}",
                    r->corrupt_offset, r->corrupt_bit);
        if (r->flags & SK_IMPAIRED_TRUNCATED)
            fprintf(f, ",\"truncated\":{\"from\":%u,\"to\":%u}", r->orig_len, r->len);
        if (r->flags & SK_IMPAIRED_DELAYED)
            fprintf(f, ",\"delay_ns\":%llu", (unsigned long long)r->delay_ns);
        if (r->flags & SK_IMPAIRED_MALFORMED)
            fprintf(f, ",\"malformed\":\"%s\"", sk_malform_name(r->malform));
        fputs("}\n", f);
    }
    if (ferror(f) | fclose(f)) {
        t->f = NULL;
        unlink(t->partial);
        snprintf(err, errlen, "cannot write --truth %s: %s: check the disk",
                 t->path, strerror(errno));
        ret = -EIO;
    } else {
        t->f = NULL;
        if (rename(t->partial, t->path) != 0) {
            unlink(t->partial);
            snprintf(err, errlen, "cannot rename %s to %s: %s", t->partial,
                     t->path, strerror(errno));
            ret = -EIO;
        }
    }
    sk_truth_free(t);
    return ret;
}
