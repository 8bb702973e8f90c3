/*
 * profile.c - --profile PATH: a rate profile's steps from a text file.
 *
 * One step a line, "AT_NS PPS": from AT_NS nanoseconds after the start on,
 * PPS packets per second (0: silence), until the next line's AT_NS; the last
 * line's rate holds to the end of the run. The first AT_NS is 0, the next
 * ones increase, the last PPS is above 0 (so --count can end the run).
 * simkit writes this file from --profile NAME|FILE (simkit/profile.py);
 * lines starting with '#' and blank lines are skipped.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

#define LINE_MAX_LEN 256

static int bad(const char *path, uint64_t line, const char *what)
{
    sk_error("bad --profile %s line %" PRIu64 ": %s", path, line, what);
    return -EINVAL;
}

/* One step onto *steps (grown by doubling). */
static int push(struct sk_pace_step **steps, uint64_t *n, uint64_t *cap,
                uint64_t at_ns, double pps)
{
    struct sk_pace_step *grown;

    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 256;
        grown = realloc(*steps, *cap * sizeof(**steps));
        if (grown == NULL)
            return -ENOMEM;
        *steps = grown;
    }
    (*steps)[(*n)++] = (struct sk_pace_step){at_ns, pps};
    return 0;
}

int sk_profile_load(const char *path, struct sk_pace_step **out, uint64_t *n_out)
{
    char buf[LINE_MAX_LEN], *end;
    struct sk_pace_step *steps = NULL;
    uint64_t n = 0, cap = 0, line = 0, at;
    double pps;
    FILE *f = fopen(path, "r");
    int ret = 0;

    if (f == NULL) {
        sk_error("cannot open --profile %s: %s", path, strerror(errno));
        return -EINVAL;
    }
    while (ret == 0 && fgets(buf, sizeof(buf), f) != NULL) {
        line++;
        if (strchr(buf, '\n') == NULL && !feof(f)) {
            ret = bad(path, line, "longer than a step line can be");
            break;
        }
        if (buf[strspn(buf, " \t\r\n")] == '\0' || buf[0] == '#')
            continue;
        errno = 0;
        at = strtoull(buf, &end, 10);
        if (!isdigit((unsigned char)buf[strspn(buf, " \t")]) || errno != 0)
            ret = bad(path, line, "expected AT_NS PPS (a whole number of ns, then a rate)");
        else if (n == SK_PACE_MAX_STEPS)
            ret = bad(path, line, "more steps than a profile may have (10,000,000)");
        else if ((n == 0 && at != 0) || (n > 0 && at <= steps[n - 1].at_ns))
            ret = bad(path, line, n == 0 ? "the first step must be at 0 ns"
                                         : "steps must be in increasing time");
        if (ret != 0)
            break;
        pps = strtod(end, &end);
        if (end[strspn(end, " \t\r\n")] != '\0' || !isfinite(pps) || pps < 0)
            ret = bad(path, line, "expected a rate of 0 or more packets per second after AT_NS");
        else
            ret = push(&steps, &n, &cap, at, pps);
    }
    if (ret == 0 && ferror(f)) {
        sk_error("cannot read --profile %s: %s", path, strerror(errno));
        ret = -EINVAL;
    }
    fclose(f);
    if (ret == 0 && n == 0)
        ret = bad(path, line, "no steps");
    else if (ret == 0 && !(steps[n - 1].pps > 0))
        ret = bad(path, line, "the last step's rate must be above 0 (it holds to the end)");
    if (ret == -ENOMEM)
        sk_error("out of memory reading --profile %s", path);
    if (ret < 0) {
        free(steps);
        return ret;
    }
    *out = steps;
    *n_out = n;
    return 0;
}
