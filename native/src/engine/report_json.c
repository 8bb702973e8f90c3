/*
 * report_json.c - a tiny streaming JSON writer: compact output, one object
 * per run, commas and string escaping handled here so callers cannot get
 * them wrong. Non-finite doubles become null.
 */
#include <math.h>
#include <string.h>

#include "engine.h"

void sk_json_init(struct sk_json *j, FILE *f)
{
    j->f = f;
    j->depth = 0;
    j->count[0] = 0;
}

static void put_string(FILE *f, const char *s)
{
    const unsigned char *p;

    fputc('"', f);
    for (p = (const unsigned char *)s; *p != '\0'; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* Comma and key before a member. */
static void member(struct sk_json *j, const char *key)
{
    if (j->depth > 0 && j->count[j->depth]++ > 0)
        fputs(", ", j->f);
    if (key != NULL) {
        put_string(j->f, key);
        fputs(": ", j->f);
    }
}

static void open_scope(struct sk_json *j, const char *key, char c)
{
    member(j, key);
    fputc(c, j->f);
    if (j->depth < SK_JSON_MAX_DEPTH - 1)
        j->depth++;
    j->count[j->depth] = 0;
}

void sk_json_begin_object(struct sk_json *j, const char *key)
{
    open_scope(j, key, '{');
}

void sk_json_end_object(struct sk_json *j)
{
    fputc('}', j->f);
    if (j->depth > 0)
        j->depth--;
}

void sk_json_begin_array(struct sk_json *j, const char *key)
{
    open_scope(j, key, '[');
}

void sk_json_end_array(struct sk_json *j)
{
    fputc(']', j->f);
    if (j->depth > 0)
        j->depth--;
}

void sk_json_uint(struct sk_json *j, const char *key, uint64_t v)
{
    member(j, key);
    fprintf(j->f, "%llu", (unsigned long long)v);
}

void sk_json_double(struct sk_json *j, const char *key, double v)
{
    char buf[32];

    member(j, key);
    if (!isfinite(v)) {
        fputs("null", j->f);
        return;
    }
    snprintf(buf, sizeof(buf), "%.9g", v);
    /* keep it a JSON float for strict readers: 1 -> 1.0 */
    if (strpbrk(buf, ".eE") == NULL)
        strcat(buf, ".0");
    fputs(buf, j->f);
}

void sk_json_bool(struct sk_json *j, const char *key, int v)
{
    member(j, key);
    fputs(v ? "true" : "false", j->f);
}

void sk_json_string(struct sk_json *j, const char *key, const char *s)
{
    member(j, key);
    if (s == NULL)
        fputs("null", j->f);
    else
        put_string(j->f, s);
}

void sk_json_finish(struct sk_json *j)
{
    fputc('\n', j->f);
    fflush(j->f);
}
