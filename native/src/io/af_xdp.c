/*
 * af_xdp.c - AF_XDP backend: an XSK socket (libxdp's xsk API) on one queue of
 * a kernel interface, whole Ethernet frames in a UMEM of the port's own.
 *
 * Spec: "xdp:IFACE[,queue=Q][,xdp_mode=drv|skb][,copy=1]" (queue 0, native
 * XDP, copy mode by default: veth has native XDP but no zero-copy). The
 * receiver's socket gets libxdp's default program (it redirects the queue's
 * frames into the socket's map); the generator's socket only transmits and
 * loads no program. Opened inside the side's network namespace (the engine
 * does the setns), so IFACE is that namespace's interface.
 *
 * UMEM: SK_XDP_RX_FRAMES (receiver) or SK_XDP_TX_FRAMES frames of 2 KiB. A transmit port
 * keeps a free list of frame addresses (alloc takes from it, the completion
 * ring gives back); a receive port gives every frame to the fill ring and
 * free() puts received frames back on it. Both poll (as DPDK does): rx_burst
 * never sleeps; with XDP_USE_NEED_WAKEUP the kernel is kicked only when it
 * asks to be.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"
#include "udp.h" /* sk_udp_option: the ",key=value" options */

#define SK_XDP_PREFIX "xdp:"

#if SK_HAVE_LIBXDP

#include <linux/if_link.h>
#include <net/if.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>
#include <bpf/libbpf.h>

/* The receiver's rings are deep (80 ms at 100 kpps) so that a receiver the
 * scheduler takes off its core for a while loses nothing; the generator's
 * only need to cover what is in flight. 2 KiB frames: 256 bytes of headroom
 * and a 1500-byte MTU frame fit. */
#define SK_XDP_FRAME_SIZE 2048
#define SK_XDP_RX_FRAMES 16384
#define SK_XDP_RX_RING 8192
#define SK_XDP_TX_FRAMES 4096
#define SK_XDP_TX_RING 2048

struct sk_port {
    enum sk_io_dir dir;
    struct xsk_umem *umem;
    struct xsk_socket *xsk;
    struct xsk_ring_prod fill;
    struct xsk_ring_cons comp;
    struct xsk_ring_cons rx;
    struct xsk_ring_prod tx;
    uint8_t *area;
    size_t area_len;
    uint64_t free_addr[SK_XDP_TX_FRAMES]; /* tx: frames not in flight */
    unsigned n_free;
    unsigned outstanding;              /* tx: submitted, not yet completed */
    uint64_t kicks, kick_errors;
    char mode[64];
    char ifname[IF_NAMESIZE];
};

static const char *xdp_version(void)
{
    return "libxdp " SK_LIBXDP_VERSION;
}

static int xdp_env_init(const struct sk_env_cfg *cfg, char *err, size_t errlen)
{
    (void)cfg, (void)err, (void)errlen;
    return 0;
}

static void xdp_env_cleanup(void)
{
}

static void xdp_close(struct sk_port *p)
{
    if (p == NULL)
        return;
    if (p->xsk != NULL)
        xsk_socket__delete(p->xsk); /* and the program libxdp loaded for it */
    if (p->umem != NULL)
        xsk_umem__delete(p->umem);
    if (p->area != NULL && p->area != MAP_FAILED)
        munmap(p->area, p->area_len);
    free(p);
}

/* libxdp and libbpf log to stderr by default; the reason goes into err */
static int quiet_print(enum libxdp_print_level level, const char *fmt, va_list args)
{
    (void)level, (void)fmt, (void)args;
    return 0;
}

static int quiet_bpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
    (void)level, (void)fmt, (void)args;
    return 0;
}

static int parse_spec(const char *spec, char *ifname, unsigned *queue,
                      int *skb_mode, int *force_copy, char *err, size_t errlen)
{
    const char *name = spec + strlen(SK_XDP_PREFIX), *end;
    char buf[16], *stop;
    unsigned long q;
    size_t n;

    if (strncmp(spec, SK_XDP_PREFIX, strlen(SK_XDP_PREFIX)) != 0)
        goto bad;
    end = strchr(name, ',');
    n = end != NULL ? (size_t)(end - name) : strlen(name);
    if (n == 0 || n >= IF_NAMESIZE)
        goto bad;
    memcpy(ifname, name, n);
    ifname[n] = '\0';
    *queue = 0;
    *skb_mode = 0;
    *force_copy = 1;
    if (sk_udp_option(spec, "queue", buf, sizeof(buf)) != NULL) {
        errno = 0;
        q = strtoul(buf, &stop, 10);
        if (errno != 0 || *stop != '\0' || stop == buf || q > 255)
            goto bad;
        *queue = (unsigned)q;
    }
    if (sk_udp_option(spec, "xdp_mode", buf, sizeof(buf)) != NULL) {
        if (strcmp(buf, "skb") == 0)
            *skb_mode = 1;
        else if (strcmp(buf, "drv") != 0)
            goto bad;
    }
    if (sk_udp_option(spec, "copy", buf, sizeof(buf)) != NULL) {
        if (strcmp(buf, "0") != 0 && strcmp(buf, "1") != 0)
            goto bad;
        *force_copy = buf[0] == '1';
    }
    return 0;
bad:
    snprintf(err, errlen, "bad device '%s': expected xdp:IFACE[,queue=Q]"
             "[,xdp_mode=drv|skb][,copy=0|1] such as xdp:veth0", spec);
    return -EINVAL;
}

void sk_io_xdp_quiet(void)
{
    libxdp_set_print(quiet_print);
    libbpf_set_print(quiet_bpf_print);
}

static int xdp_open(const char *spec, enum sk_io_dir dir, unsigned burst,
                    struct sk_port **out, char *err, size_t errlen)
{
    struct xsk_umem_config ucfg = {
        .fill_size = dir == SK_IO_RX ? SK_XDP_RX_FRAMES : SK_XDP_TX_RING,
        .comp_size = SK_XDP_TX_RING,
        .frame_size = SK_XDP_FRAME_SIZE,
        .frame_headroom = 0,
        .flags = 0,
    };
    struct xsk_socket_config scfg;
    struct sk_port *p;
    unsigned queue, i, frames = dir == SK_IO_RX ? SK_XDP_RX_FRAMES : SK_XDP_TX_FRAMES;
    int skb_mode, force_copy, ret;
    uint32_t idx;

    (void)burst;
    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        snprintf(err, errlen, "cannot allocate the AF_XDP port: out of memory");
        return -ENOMEM;
    }
    p->dir = dir;
    ret = parse_spec(spec, p->ifname, &queue, &skb_mode, &force_copy, err, errlen);
    if (ret < 0)
        goto out;
    if (if_nametoindex(p->ifname) == 0) {
        ret = -EINVAL;
        snprintf(err, errlen, "no interface '%s' in this network namespace: "
                 "check the name (and --%s-netns)", p->ifname,
                 dir == SK_IO_TX ? "tx" : "rx");
        goto out;
    }
    p->area_len = (size_t)frames * SK_XDP_FRAME_SIZE;
    p->area = mmap(NULL, p->area_len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p->area == MAP_FAILED) {
        ret = -errno;
        snprintf(err, errlen, "cannot map the AF_XDP UMEM (%zu bytes): %s",
                 p->area_len, strerror(errno));
        goto out;
    }
    sk_io_xdp_quiet();
    ret = xsk_umem__create(&p->umem, p->area, p->area_len, &p->fill, &p->comp, &ucfg);
    if (ret < 0) {
        p->umem = NULL;
        snprintf(err, errlen, "cannot register the AF_XDP UMEM: %s: %s",
                 strerror(-ret), ret == -EPERM || ret == -ENOMEM ?
                 "needs CAP_NET_RAW and CAP_IPC_LOCK (root) or a higher RLIMIT_MEMLOCK" :
                 ret == -EAFNOSUPPORT ? "this kernel has no AF_XDP (CONFIG_XDP_SOCKETS)" :
                 "check the kernel's AF_XDP support");
        ret = ret == -EAFNOSUPPORT ? -ENODEV : ret;
        goto out;
    }
    memset(&scfg, 0, sizeof(scfg));
    scfg.rx_size = dir == SK_IO_RX ? SK_XDP_RX_RING : 0;
    scfg.tx_size = dir == SK_IO_TX ? SK_XDP_TX_RING : 0;
    /* the generator only sends: no program on its interface */
    scfg.libxdp_flags = dir == SK_IO_TX ? XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD : 0;
    scfg.xdp_flags = skb_mode ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
    scfg.bind_flags = XDP_USE_NEED_WAKEUP | (force_copy ? XDP_COPY : 0);
    ret = xsk_socket__create(&p->xsk, p->ifname, queue, p->umem,
                             dir == SK_IO_RX ? &p->rx : NULL,
                             dir == SK_IO_TX ? &p->tx : NULL, &scfg);
    if (ret < 0) {
        p->xsk = NULL;
        snprintf(err, errlen, "cannot create an AF_XDP socket on %s queue %u "
                 "(%s XDP, %s): %s: %s", p->ifname, queue, skb_mode ? "skb" : "native",
                 force_copy ? "copy" : "zero-copy", strerror(-ret),
                 ret == -EOPNOTSUPP ? "the driver lacks this XDP mode: try "
                 "xdp_mode=skb or copy=1" :
                 ret == -EBUSY ? "another XDP program or socket holds this queue" :
                 ret == -EINVAL ? "no such queue on this interface" :
                 ret == -EPERM ? "needs CAP_NET_ADMIN and CAP_BPF (root)" :
                 "check the kernel's XDP support");
        ret = ret == -EINVAL ? -EINVAL : ret == -EOPNOTSUPP ? -ENODEV : ret;
        goto out;
    }
    if (dir == SK_IO_RX) {
        /* every frame to the kernel, to be filled */
        if (xsk_ring_prod__reserve(&p->fill, frames, &idx) != frames) {
            ret = -EIO;
            snprintf(err, errlen, "cannot fill the AF_XDP fill ring: this is a bug");
            goto out;
        }
        for (i = 0; i < frames; i++)
            *xsk_ring_prod__fill_addr(&p->fill, idx++) = (uint64_t)i * SK_XDP_FRAME_SIZE;
        xsk_ring_prod__submit(&p->fill, frames);
    } else {
        for (i = 0; i < frames; i++)
            p->free_addr[i] = (uint64_t)i * SK_XDP_FRAME_SIZE;
        p->n_free = frames;
    }
    snprintf(p->mode, sizeof(p->mode), "xsk %s %s q%u",
             skb_mode ? "skb" : "drv", force_copy ? "copy" : "zerocopy", queue);
    *out = p;
    p = NULL;
    ret = 0;
out:
    xdp_close(p);
    return ret;
}

/* tx: frames the kernel has sent come back to the free list */
static void reap(struct sk_port *p)
{
    uint32_t idx, n, i;

    n = xsk_ring_cons__peek(&p->comp, SK_XDP_TX_RING, &idx);
    if (n == 0)
        return;
    for (i = 0; i < n; i++)
        p->free_addr[p->n_free++] = *xsk_ring_cons__comp_addr(&p->comp, idx++);
    xsk_ring_cons__release(&p->comp, n);
    p->outstanding -= n;
}

static void kick(struct sk_port *p)
{
    if (sendto(xsk_socket__fd(p->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
        errno != EAGAIN && errno != EBUSY && errno != ENOBUFS && errno != ENETDOWN)
        p->kick_errors++;
    p->kicks++;
}

static int xdp_alloc(struct sk_port *p, struct sk_pkt *pkts, unsigned n,
                     uint32_t len)
{
    unsigned i;

    if (len > SK_XDP_FRAME_SIZE)
        return -EMSGSIZE;
    if (p->n_free < n) {
        reap(p);
        if (p->n_free < n) {
            if (p->outstanding > 0)
                kick(p); /* copy mode sends on the syscall: let it finish */
            return -ENOBUFS;
        }
    }
    for (i = 0; i < n; i++) {
        uint64_t addr = p->free_addr[--p->n_free];

        pkts[i].handle = (void *)(uintptr_t)addr;
        pkts[i].data = (uint8_t *)xsk_umem__get_data(p->area, addr);
        pkts[i].len = len;
        pkts[i].wire_len = len;
    }
    return 0;
}

static unsigned xdp_tx_burst(struct sk_port *p, struct sk_pkt *pkts, unsigned n)
{
    uint32_t idx;
    unsigned i, got;

    reap(p);
    got = xsk_ring_prod__reserve(&p->tx, n, &idx);
    for (i = 0; i < got; i++) {
        struct xdp_desc *d = xsk_ring_prod__tx_desc(&p->tx, idx + i);

        d->addr = (uint64_t)(uintptr_t)pkts[i].handle;
        d->len = pkts[i].len;
        d->options = 0;
    }
    if (got > 0) {
        xsk_ring_prod__submit(&p->tx, got);
        p->outstanding += got;
    }
    if (xsk_ring_prod__needs_wakeup(&p->tx) || got < n)
        kick(p);
    return got;
}

static unsigned xdp_rx_burst(struct sk_port *p, struct sk_pkt *pkts, unsigned n)
{
    uint32_t idx, i, got;

    got = xsk_ring_cons__peek(&p->rx, n, &idx);
    if (got == 0) {
        if (xsk_ring_prod__needs_wakeup(&p->fill)) {
            recvfrom(xsk_socket__fd(p->xsk), NULL, 0, MSG_DONTWAIT, NULL, NULL);
            p->kicks++;
        }
        return 0;
    }
    for (i = 0; i < got; i++) {
        const struct xdp_desc *d = xsk_ring_cons__rx_desc(&p->rx, idx + i);
        uint64_t addr = xsk_umem__extract_addr(d->addr);
        uint64_t off = xsk_umem__extract_offset(d->addr);

        /* aligned chunks: the address is the frame's plus the headroom */
        pkts[i].handle = (void *)(uintptr_t)(addr & ~(uint64_t)(SK_XDP_FRAME_SIZE - 1));
        pkts[i].data = (uint8_t *)xsk_umem__get_data(p->area, addr + off);
        pkts[i].len = d->len;
        pkts[i].wire_len = d->len;
    }
    xsk_ring_cons__release(&p->rx, got);
    return got;
}

static void xdp_free(struct sk_port *p, struct sk_pkt *pkts, unsigned n)
{
    uint32_t idx;
    unsigned i;

    if (p->dir == SK_IO_TX) { /* alloc'd, never submitted */
        for (i = 0; i < n; i++)
            p->free_addr[p->n_free++] = (uint64_t)(uintptr_t)pkts[i].handle;
        return;
    }
    /* the fill ring holds every frame: there is always room for these */
    while (xsk_ring_prod__reserve(&p->fill, n, &idx) != n)
        ;
    for (i = 0; i < n; i++)
        *xsk_ring_prod__fill_addr(&p->fill, idx++) = (uint64_t)(uintptr_t)pkts[i].handle;
    xsk_ring_prod__submit(&p->fill, n);
}

static int xdp_probe_link(const char *link, char *err, size_t errlen)
{
    int fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);

    (void)link;
    if (fd < 0) {
        snprintf(err, errlen, "cannot open an AF_XDP socket: %s: %s", strerror(errno),
                 errno == EAFNOSUPPORT ? "this kernel has no AF_XDP (CONFIG_XDP_SOCKETS)" :
                 errno == EPERM ? "needs CAP_NET_RAW (root)" : "check the kernel");
        return -ENODEV;
    }
    close(fd);
    return 0;
}

static const char *xdp_mode(const struct sk_port *p)
{
    return p->mode;
}

/* The socket's own drop counters (XDP_STATISTICS): what explains a loss. */
static unsigned xdp_facts(struct sk_port *p, struct sk_io_fact *out, unsigned n)
{
    struct xdp_statistics st;
    socklen_t len = sizeof(st);
    int rx = p->dir == SK_IO_RX;
    unsigned k = 0;

    if (n < 5)
        return 0;
    out[k++] = (struct sk_io_fact){.key = rx ? "rx_kicks" : "tx_kicks",
                                   .kind = SK_IO_FACT_UINT, .u = p->kicks};
    if (!rx)
        out[k++] = (struct sk_io_fact){.key = "tx_kick_errors", .kind = SK_IO_FACT_UINT,
                                       .u = p->kick_errors};
    memset(&st, 0, sizeof(st));
    if (getsockopt(xsk_socket__fd(p->xsk), SOL_XDP, XDP_STATISTICS, &st, &len) != 0)
        return k;
    if (rx) {
        out[k++] = (struct sk_io_fact){.key = "rx_dropped", .kind = SK_IO_FACT_UINT,
                                       .u = st.rx_dropped};
        out[k++] = (struct sk_io_fact){.key = "rx_ring_full", .kind = SK_IO_FACT_UINT,
                                       .u = st.rx_ring_full};
        out[k++] = (struct sk_io_fact){.key = "rx_fill_ring_empty", .kind = SK_IO_FACT_UINT,
                                       .u = st.rx_fill_ring_empty_descs};
    } else {
        out[k++] = (struct sk_io_fact){.key = "tx_invalid_descs", .kind = SK_IO_FACT_UINT,
                                       .u = st.tx_invalid_descs};
    }
    return k;
}

#else /* !SK_HAVE_LIBXDP */

void sk_io_xdp_quiet(void)
{
}

struct sk_port {
    int unused;
};

static const char *xdp_version(void)
{
    return NULL;
}

static int xdp_env_init(const struct sk_env_cfg *cfg, char *err, size_t errlen)
{
    (void)cfg;
    snprintf(err, errlen, "the af_xdp backend is unavailable: simkit-engine was "
             "built without libxdp: install libxdp-dev and libbpf-dev "
             "(scripts/install-system-deps) and rebuild");
    return -ENODEV;
}

static void xdp_env_cleanup(void)
{
}

static int xdp_open(const char *spec, enum sk_io_dir dir, unsigned burst,
                    struct sk_port **out, char *err, size_t errlen)
{
    (void)spec, (void)dir, (void)burst, (void)out;
    return xdp_env_init(NULL, err, errlen);
}

static void xdp_close(struct sk_port *p)
{
    (void)p;
}

static int xdp_alloc(struct sk_port *p, struct sk_pkt *pkts, unsigned n, uint32_t len)
{
    (void)p, (void)pkts, (void)n, (void)len;
    return -ENODEV;
}

static unsigned xdp_tx_burst(struct sk_port *p, struct sk_pkt *pkts, unsigned n)
{
    (void)p, (void)pkts, (void)n;
    return 0;
}

static unsigned xdp_rx_burst(struct sk_port *p, struct sk_pkt *pkts, unsigned n)
{
    (void)p, (void)pkts, (void)n;
    return 0;
}

static void xdp_free(struct sk_port *p, struct sk_pkt *pkts, unsigned n)
{
    (void)p, (void)pkts, (void)n;
}

static int xdp_probe_link(const char *link, char *err, size_t errlen)
{
    (void)link;
    return xdp_env_init(NULL, err, errlen);
}

static const char *xdp_mode(const struct sk_port *p)
{
    (void)p;
    return NULL;
}

#define xdp_facts NULL

#endif /* SK_HAVE_LIBXDP */

const struct sk_io_ops sk_io_af_xdp = {
    .name = "af_xdp",
    .layer = SK_IO_FRAMES,
    .version = xdp_version,
    .env_init = xdp_env_init,
    .env_cleanup = xdp_env_cleanup,
    .open = xdp_open,
    .close = xdp_close,
    .alloc = xdp_alloc,
    .tx_burst = xdp_tx_burst,
    .rx_burst = xdp_rx_burst,
    .free = xdp_free,
    .launch = sk_io_thread_launch,
    .join = sk_io_thread_join,
    .probe_link = xdp_probe_link,
    .mode = xdp_mode,
    .errors = NULL,
    .facts = xdp_facts,
};
