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
#define SK_IO_UDP_PREFIX "udp:"

/* Which way a port is used: a socket is connected (tx) or bound (rx). */
enum sk_io_dir {
    SK_IO_TX = 0,
    SK_IO_RX = 1,
};

/* What a backend's buffers hold: whole Ethernet frames (DPDK), or UDP
 * payloads whose headers the kernel adds and strips (io_uring, socket). */
enum sk_io_layer {
    SK_IO_FRAMES = 0,
    SK_IO_DATAGRAMS = 1,
};

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

/* A fact about a port for the report beyond its mode and errors
 * ("tx_sqpoll": true, "zc_copied": 12); key and s are the port's. */
enum sk_io_fact_kind {
    SK_IO_FACT_BOOL = 0,
    SK_IO_FACT_UINT = 1,
    SK_IO_FACT_STR = 2,
};

struct sk_io_fact {
    const char *key;
    enum sk_io_fact_kind kind;
    uint64_t u;                /* BOOL (0/1) and UINT */
    const char *s;             /* STR */
};

#define SK_IO_MAX_FACTS 8

struct sk_io_ops {
    const char *name;
    enum sk_io_layer layer;
    /* Backend version string, or NULL when the backend is not built in. */
    const char *(*version)(void);
    int (*env_init)(const struct sk_env_cfg *cfg, char *err, size_t errlen);
    /* Always safe to call, also after a failed or no env_init. */
    void (*env_cleanup)(void);
    /* spec: backend device string, or SK_IO_RING_SPEC for one end of a
     * crossed in-process pair (first open = end A, second = end B); for the
     * datagram backends "udp:IP:PORT" (tx: destination, rx: bound address).
     * The caller may have entered a network namespace around open/close. */
    int (*open)(const char *spec, enum sk_io_dir dir, unsigned burst,
                struct sk_port **out, char *err, size_t errlen);
    void (*close)(struct sk_port *p);
    /* n buffers of len bytes each; 0, -ENOBUFS (none free now: they come
     * back) or -EMSGSIZE (len over what a buffer holds: the caller's bug);
     * nothing is allocated on error. */
    int (*alloc)(struct sk_port *p, struct sk_pkt *pkts, unsigned n,
                 uint32_t len);
    /* Sends pkts[i].len bytes of each (at most what alloc gave). Returns
     * how many of pkts[0..n) the backend took; the rest stay the caller's
     * (retry or free them). */
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
    /* How this port does its I/O ("multishot+bufring", "recvmmsg", ...),
     * for the report; NULL when there is nothing to say. */
    const char *(*mode)(const struct sk_port *p);
    /* Sends the backend took but the kernel refused (counted as sent: the
     * receiver counts them lost); NULL when it cannot happen. */
    uint64_t (*errors)(const struct sk_port *p);
    /* Up to n facts for the report (io_uring: SQPOLL granted or why not,
     * send_zc notifications, waited for); returns how many. NULL: none. */
    unsigned (*facts)(struct sk_port *p, struct sk_io_fact *out, unsigned n);
};

extern const struct sk_io_ops sk_io_dpdk;
extern const struct sk_io_ops sk_io_uring;
extern const struct sk_io_ops sk_io_socket;
extern const struct sk_io_ops sk_io_af_xdp;

/* Silence libbpf's and libxdp's own stderr output (af_xdp.c; DPDK's
 * net_af_xdp uses them too). No-op without libxdp. */
void sk_io_xdp_quiet(void);

/* By name ("dpdk", "io_uring", "socket", "af_xdp"), or NULL. */
const struct sk_io_ops *sk_io_by_name(const char *name);

/* The engine's two cores (thread.c): the first two the process may run on
 * (its affinity: taskset, a cpuset), the generator's then the receiver's;
 * with one allowed core, that core twice. 0 when affinity cannot be read. */
int sk_io_engine_cores(int *generator, int *receiver);

/* Worker threads for runs without EAL (thread.c): the caller keeps the
 * generator's core, the worker takes the receiver's (not with one allowed
 * core). launch returns 0 or -errno. */
int sk_io_thread_launch(int (*fn)(void *), void *arg);
int sk_io_thread_join(void);

/* "udp:A.B.C.D:PORT" -> address (udp.c); 0 or -EINVAL with the reason. */
struct sockaddr_in;
int sk_io_parse_udp(const char *spec, struct sockaddr_in *out, char *err,
                    size_t errlen);

#endif /* SK_IO_H */
