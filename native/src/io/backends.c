/*
 * backends.c - the I/O backends by name, for --tx-backend / --rx-backend.
 */
#include <string.h>

#include "io.h"

const struct sk_io_ops *sk_io_by_name(const char *name)
{
    static const struct sk_io_ops *const all[] = {
        &sk_io_dpdk, &sk_io_uring, &sk_io_socket, &sk_io_af_xdp,
    };
    size_t i;

    for (i = 0; name != NULL && i < sizeof(all) / sizeof(all[0]); i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}
