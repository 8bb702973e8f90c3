/*
 * error.c - how the engine says what went wrong: one line on stderr, and
 * the exit code a negative errno stands for. Below everything that reports.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "engine.h"

void sk_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", SK_ENGINE_NAME);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int sk_exit_code_of(int neg_errno)
{
    switch (neg_errno) {
    case 0:
        return SK_EXIT_OK;
    case -EINVAL:
        return SK_EXIT_USAGE;
    case -ENODEV:
        return SK_EXIT_UNAVAILABLE;
    case -EINTR:
        return SK_EXIT_INTERRUPTED;
    default:
        return SK_EXIT_INTERNAL;
    }
}
