/* check.h - minimal assertions for the standalone C tests (exit 0/1/77). */
#ifndef SK_TEST_CHECK_H
#define SK_TEST_CHECK_H

#include <stdio.h>

#define SK_TEST_SKIP 77

static int check_failures;

#define CHECK(cond)                                                         \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                 \
            check_failures++;                                               \
        }                                                                   \
    } while (0)

#define CHECK_EQ_U(a, b)                                                    \
    do {                                                                    \
        unsigned long long a_ = (unsigned long long)(a);                    \
        unsigned long long b_ = (unsigned long long)(b);                    \
        if (a_ != b_) {                                                     \
            fprintf(stderr, "%s:%d: %s == %s failed: %llu != %llu\n",       \
                    __FILE__, __LINE__, #a, #b, a_, b_);                    \
            check_failures++;                                               \
        }                                                                   \
    } while (0)

#define CHECK_DONE() (check_failures == 0 ? 0 : 1)

#endif
