/*
 * io.h - the small table of functions an I/O backend gives the engine.
 *
 * The generator and receiver only see struct sk_pkt arrays and these
 * functions, so io_uring or socket backends can be added next to dpdk.c
 * without touching them. Per-burst calls only; nothing here is per packet.
 *
 * Errors: functions return 0 (or a count) or a negative errno and write
 * "<what failed>: <hint>" into err. The engine maps -EINVAL to "bad input"
 * (exit 2), -ENODEV to "backend unavailable" (exit 77), anything else to an
 * internal failure (exit 1).
 */
#ifndef SK_IO_H
#define SK_IO_H

#include <stddef.h>
#include <stdint.h>

#define SK_IO_MAX_BURST 512
#define SK_IO_RING_SPEC "@ring"

/* One packet buffer as the backend lends it to the engine. */
struct sk_pkt {
    void *handle;      /* backend object (struct rte_mbuf * for DPDK) */
    uint8_t *data;     /* first contiguous byte */
    uint32_t len;      /* contiguous bytes at data */
    uint32_t wire_len; /* whole frame length */
};

struct sk_env_cfg {
    const char *file_prefix; /* unique per process */
    const char *extra_args;  /* whitespace separated, appended; may be NULL */
    unsigned n_lcores;       /* 1: main only; 2: main + one worker */
    int verbose;             /* pass the backend's own log to stderr */
};

struct sk_port;

struct sk_io_ops {
    const char *name;
    /* Backend version string, or NULL when the backend is not built in. */
    const char *(*version)(void);
    int (*env_init)(const struct sk_env_cfg *cfg, char *err, size_t errlen);
    /* Always safe to call, also after a failed or no env_init. */
    void (*env_cleanup)(void);
    /* spec: backend device string, or SK_IO_RING_SPEC for one end of a
     * crossed in-process pair (first open = end A, second = end B). */
    int (*open)(const char *spec, struct sk_port **out, char *err,
                size_t errlen);
    void (*close)(struct sk_port *p);
    /* n buffers of len bytes each; 0 or -ENOBUFS (nothing allocated). */
    int (*alloc)(struct sk_port *p, struct sk_pkt *pkts, unsigned n,
                 uint32_t len);
    /* Returns how many of pkts[0..n) the backend took; the rest stay the
     * caller's (retry or free them). */
    unsigned (*tx_burst)(struct sk_port *p, struct sk_pkt *pkts, unsigned n);
    unsigned (*rx_burst)(struct sk_port *p, struct sk_pkt *pkts, unsigned n);
    void (*free)(struct sk_port *p, struct sk_pkt *pkts, unsigned n);
    /* Run fn(arg) on the worker core (env n_lcores == 2); join returns its
     * result. */
    int (*launch)(int (*fn)(void *), void *arg);
    int (*join)(void);
    /* Can a link of this kind ("net_ring", "net_pcap", ...) be created here?
     * 0, or a negative errno with the reason in err. */
    int (*probe_link)(const char *link, char *err, size_t errlen);
};

extern const struct sk_io_ops sk_io_dpdk;

#endif /* SK_IO_H */
