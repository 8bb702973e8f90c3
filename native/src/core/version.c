/* version.c - the version shared by the engine and the cffi module.
 *
 * SK_VERSION_STRING comes from the build (native/Makefile, native/cffi_build.py),
 * which read it from the one source: __version__ in simkit/__init__.py. */
#include "simkit.h"

#ifndef SK_VERSION_STRING
#error "SK_VERSION_STRING is defined by the build (from simkit/__init__.py)"
#endif

const char *sk_version(void)
{
    return SK_VERSION_STRING;
}
