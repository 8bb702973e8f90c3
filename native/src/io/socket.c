/*
 * socket.c - the kernel baseline: a UDP socket, batches with sendmmsg and
 * recvmmsg. Buffers are the port's own (one burst's worth): the calls are
 * synchronous, so a buffer is free again as soon as tx_burst returns.
 *
 * The receiver waits in the kernel (MSG_WAITFORONE with a short SO_RCVTIMEO)
 * rather than spinning, as a kernel-socket application would: its CPU % and
 * context switches are then the honest baseline.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "io.h"
#include "udp.h"

struct sk_port {
    int fd;
    enum sk_io_dir dir;
    uint8_t *bufs;                     /* SK_IO_MAX_BURST * SK_UDP_BUF_SIZE */
    struct mmsghdr msgs[SK_IO_MAX_BURST];
    struct iovec iov[SK_IO_MAX_BURST];
};

static const char *socket_version(void)
{
    return "kernel";
}

static int socket_env_init(const struct sk_env_cfg *cfg, char *err, size_t errlen)
{
    (void)cfg, (void)err, (void)errlen;
    return 0;
}

static void socket_env_cleanup(void)
{
}

static void socket_close(struct sk_port *p)
{
    if (p == NULL)
        return;
    if (p->fd >= 0)
        close(p->fd);
    free(p->bufs);
    free(p);
}

static int socket_open(const char *spec, enum sk_io_dir dir, unsigned burst,
                       struct sk_port **out, char *err, size_t errlen)
{
    struct timeval tv = {.tv_sec = 0, .tv_usec = SK_UDP_WAIT_US};
    struct sk_port *p;
    int ret;

    (void)burst;
    p = calloc(1, sizeof(*p));
    if (p == NULL || (p->bufs = malloc((size_t)SK_IO_MAX_BURST * SK_UDP_BUF_SIZE)) == NULL) {
        ret = -ENOMEM;
        snprintf(err, errlen, "cannot allocate socket buffers: out of memory");
        goto out;
    }
    p->fd = -1;
    p->dir = dir;
    ret = sk_udp_socket_open(spec, dir, &p->fd, err, errlen);
    if (ret < 0)
        goto out;
    if (dir == SK_IO_RX &&
        setsockopt(p->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
        ret = -errno;
        snprintf(err, errlen, "cannot set SO_RCVTIMEO: %s", strerror(errno));
        goto out;
    }
    *out = p;
    p = NULL;
    ret = 0;
out:
    socket_close(p);
    return ret;
}

static int socket_alloc(struct sk_port *p, struct sk_pkt *pkts, unsigned n,
                        uint32_t len)
{
    unsigned i;

    if (len > SK_UDP_BUF_SIZE)
        return -EMSGSIZE;
    if (n > SK_IO_MAX_BURST)
        return -ENOBUFS;
    for (i = 0; i < n; i++) {
        pkts[i].handle = NULL;
        pkts[i].data = p->bufs + (size_t)i * SK_UDP_BUF_SIZE;
        pkts[i].len = len;
        pkts[i].wire_len = len + SK_UDP_FRAME_OVERHEAD;
    }
    return 0;
}

static unsigned socket_tx_burst(struct sk_port *p, struct sk_pkt *pkts,
                                unsigned n)
{
    unsigned i;
    int sent;

    for (i = 0; i < n; i++) {
        p->iov[i].iov_base = pkts[i].data;
        p->iov[i].iov_len = pkts[i].len;
        memset(&p->msgs[i].msg_hdr, 0, sizeof(p->msgs[i].msg_hdr));
        p->msgs[i].msg_hdr.msg_iov = &p->iov[i];
        p->msgs[i].msg_hdr.msg_iovlen = 1;
    }
    sent = sendmmsg(p->fd, p->msgs, n, MSG_DONTWAIT);
    /* EAGAIN/ENOBUFS: the caller retries; ECONNREFUSED (an ICMP error from
     * an earlier datagram) is reported once, the next call sends */
    return sent > 0 ? (unsigned)sent : 0;
}

static unsigned socket_rx_burst(struct sk_port *p, struct sk_pkt *pkts,
                                unsigned n)
{
    unsigned i;
    int got;

    for (i = 0; i < n; i++) {
        p->iov[i].iov_base = p->bufs + (size_t)i * SK_UDP_BUF_SIZE;
        p->iov[i].iov_len = SK_UDP_BUF_SIZE;
        memset(&p->msgs[i].msg_hdr, 0, sizeof(p->msgs[i].msg_hdr));
        p->msgs[i].msg_hdr.msg_iov = &p->iov[i];
        p->msgs[i].msg_hdr.msg_iovlen = 1;
    }
    /* blocks until one datagram (or SO_RCVTIMEO), then takes what is queued */
    got = recvmmsg(p->fd, p->msgs, n, MSG_WAITFORONE, NULL);
    if (got <= 0)
        return 0;
    for (i = 0; i < (unsigned)got; i++) {
        pkts[i].handle = NULL;
        pkts[i].data = p->iov[i].iov_base;
        pkts[i].len = p->msgs[i].msg_len;
        pkts[i].wire_len = p->msgs[i].msg_len + SK_UDP_FRAME_OVERHEAD;
    }
    return (unsigned)got;
}

static void socket_free(struct sk_port *p, struct sk_pkt *pkts, unsigned n)
{
    (void)p, (void)pkts, (void)n; /* the port's own buffers: nothing to do */
}

static int socket_probe_link(const char *link, char *err, size_t errlen)
{
    (void)link, (void)err, (void)errlen;
    return 0;
}

static const char *socket_mode(const struct sk_port *p)
{
    return p->dir == SK_IO_RX ? "recvmmsg" : "sendmmsg";
}

const struct sk_io_ops sk_io_socket = {
    .name = "socket",
    .layer = SK_IO_DATAGRAMS,
    .version = socket_version,
    .env_init = socket_env_init,
    .env_cleanup = socket_env_cleanup,
    .open = socket_open,
    .close = socket_close,
    .alloc = socket_alloc,
    .tx_burst = socket_tx_burst,
    .rx_burst = socket_rx_burst,
    .free = socket_free,
    .launch = sk_io_thread_launch,
    .join = sk_io_thread_join,
    .probe_link = socket_probe_link,
    .mode = socket_mode,
    .errors = NULL,
};
