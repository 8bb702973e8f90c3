/*
 * probe.c - the `probe` subcommand: what this machine can do, as one JSON
 * object. DPDK is available when EAL init (same flags as a run, one lcore)
 * succeeds; a PMD when a port of it can be created and removed; io_uring
 * when io_uring_queue_init works. Always exits 0: "unavailable" is an answer.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "engine.h"

#ifndef SK_HAVE_LIBURING
#define SK_HAVE_LIBURING 0
#endif

#if SK_HAVE_LIBURING
#include <liburing.h>
#endif

#define IO_URING_PROBE_ENTRIES 8

static const char *const probed_links[] = {"net_ring", "net_pcap", "net_null",
                                           "net_tap", "net_af_packet", "net_memif",
                                           "net_af_xdp"};

static void emit_capability(struct sk_json *j, const char *key, int ok,
                            const char *reason)
{
    sk_json_begin_object(j, key);
    sk_json_bool(j, "available", ok);
    sk_json_string(j, "reason", ok ? "" : reason);
    sk_json_end_object(j);
}

/* Which receive mode the io_uring backend will use here (see io/uring.c). */
static void emit_uring_features(struct sk_json *j, int ok)
{
    struct utsname u;
    int major = 0;

    if (ok && uname(&u) == 0)
        sscanf(u.release, "%d", &major);
    sk_json_begin_object(j, "io_uring_features");
    sk_json_bool(j, "multishot_recv", ok && major >= 6);
    sk_json_string(j, "rx_mode", !ok ? NULL : major >= 6 ? "multishot+bufring" :
                   "single (kernel < 6.0: no multishot recv)");
    sk_json_end_object(j);
}

static int probe_io_uring(char *err, size_t errlen, int *features_ok)
{
#if SK_HAVE_LIBURING
    struct io_uring ring;
    int ret = io_uring_queue_init(IO_URING_PROBE_ENTRIES, &ring, 0);

    *features_ok = 1;
    if (ret == 0) {
        io_uring_queue_exit(&ring);
        return 0;
    }
    *features_ok = 0;
    switch (-ret) {
    case ENOSYS:
        snprintf(err, errlen, "io_uring_queue_init failed: %s: needs Linux >= 5.1 "
                 "built with CONFIG_IO_URING", strerror(-ret));
        break;
    case EPERM:
    case EACCES:
        snprintf(err, errlen, "io_uring_queue_init failed: %s: io_uring is "
                 "disabled (sysctl kernel.io_uring_disabled) or blocked by "
                 "seccomp (containers: allow io_uring_setup)", strerror(-ret));
        break;
    case ENOMEM:
        snprintf(err, errlen, "io_uring_queue_init failed: %s: raise the "
                 "locked-memory limit (ulimit -l)", strerror(-ret));
        break;
    default:
        snprintf(err, errlen, "io_uring_queue_init failed: %s: check the "
                 "kernel's io_uring support", strerror(-ret));
    }
    return ret;
#else
    *features_ok = 0;
    snprintf(err, errlen, "simkit was built without liburing: install "
             "liburing-dev (Debian) and reinstall simkit");
    return -ENODEV;
#endif
}

int sk_cmd_probe(const char *file_prefix, int verbose, FILE *json)
{
    const struct sk_io_ops *ops = &sk_io_dpdk;
    struct sk_env_cfg env = {
        .file_prefix = file_prefix, .n_lcores = 1, .verbose = verbose,
    };
    char dpdk_err[SK_ERR_LEN] = "", uring_err[SK_ERR_LEN] = "";
    char link_err[SK_ERR_LEN], xdp_err[SK_ERR_LEN] = "";
    struct sk_json j;
    int dpdk_ok, uring_ok, xdp_ok, ok;
    size_t i;

    dpdk_ok = ops->env_init(&env, dpdk_err, sizeof(dpdk_err)) == 0;
    uring_ok = probe_io_uring(uring_err, sizeof(uring_err), &ok) == 0;
    xdp_ok = sk_io_af_xdp.probe_link("af_xdp", xdp_err, sizeof(xdp_err)) == 0;

    sk_json_init(&j, json);
    sk_json_begin_object(&j, NULL);
    sk_json_string(&j, "engine_version", sk_version());
    sk_json_string(&j, "dpdk_version", ops->version());
    sk_json_uint(&j, "tsc_hz", sk_tsc_hz());
    sk_json_bool(&j, "tsc_invariant", sk_tsc_invariant());
    emit_capability(&j, "dpdk", dpdk_ok, dpdk_err);
    emit_capability(&j, "io_uring", uring_ok, uring_err);
    emit_uring_features(&j, uring_ok);
    emit_capability(&j, "af_xdp", xdp_ok, xdp_err);
    sk_json_string(&j, "libxdp_version", sk_io_af_xdp.version());
    sk_json_begin_object(&j, "pmds");
    for (i = 0; i < sizeof(probed_links) / sizeof(probed_links[0]); i++) {
        if (dpdk_ok) {
            ok = ops->probe_link(probed_links[i], link_err, sizeof(link_err)) == 0;
        } else {
            ok = 0;
            snprintf(link_err, sizeof(link_err), "DPDK unavailable: %s", dpdk_err);
        }
        emit_capability(&j, probed_links[i], ok, link_err);
    }
    sk_json_end_object(&j);
    sk_json_end_object(&j);
    sk_json_finish(&j);

    ops->env_cleanup();
    return SK_EXIT_OK;
}
