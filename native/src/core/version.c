/* version.c - the version shared by the engine and the cffi module. */
#include "simkit.h"

#define SK_VERSION_STRING "0.1.0"

const char *sk_version(void)
{
    return SK_VERSION_STRING;
}
