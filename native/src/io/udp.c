/*
 * udp.c - what the datagram backends (io_uring, socket) share: the
 * "udp:A.B.C.D:PORT" device spec and the UDP socket they open with it.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io.h"
#include "udp.h"

int sk_io_parse_udp(const char *spec, struct sockaddr_in *out, char *err,
                    size_t errlen)
{
    char host[INET_ADDRSTRLEN];
    const char *rest, *colon, *end;
    unsigned long port;
    char *stop;
    size_t hlen;

    memset(out, 0, sizeof(*out));
    if (strncmp(spec, SK_IO_UDP_PREFIX, strlen(SK_IO_UDP_PREFIX)) != 0)
        goto bad;
    rest = spec + strlen(SK_IO_UDP_PREFIX);
    end = strchr(rest, ',');
    if (end == NULL)
        end = rest + strlen(rest);
    colon = memrchr(rest, ':', (size_t)(end - rest));
    if (colon == NULL)
        goto bad;
    hlen = (size_t)(colon - rest);
    if (hlen == 0 || hlen >= sizeof(host))
        goto bad;
    memcpy(host, rest, hlen);
    host[hlen] = '\0';
    errno = 0;
    port = strtoul(colon + 1, &stop, 10);
    if (errno != 0 || stop != end || port == 0 || port > 65535)
        goto bad;
    if (inet_pton(AF_INET, host, &out->sin_addr) != 1)
        goto bad;
    out->sin_family = AF_INET;
    out->sin_port = htons((uint16_t)port);
    return 0;
bad:
    snprintf(err, errlen, "bad device '%s': expected udp:A.B.C.D:PORT such as "
             "udp:198.18.0.2:20000 (IPv4, port 1..65535)", spec);
    return -EINVAL;
}

/* Value of ",key=value" in spec (copied into buf), or NULL. */
const char *sk_udp_option(const char *spec, const char *key, char *buf,
                          size_t len)
{
    size_t klen = strlen(key);
    const char *p = strchr(spec, ',');

    while (p != NULL) {
        p++;
        if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
            const char *v = p + klen + 1, *e = strchr(v, ',');
            size_t n = e != NULL ? (size_t)(e - v) : strlen(v);

            if (n >= len)
                n = len - 1;
            memcpy(buf, v, n);
            buf[n] = '\0';
            return buf;
        }
        p = strchr(p, ',');
    }
    return NULL;
}

int sk_udp_socket_open(const char *spec, enum sk_io_dir dir, int *fd_out,
                       char *err, size_t errlen)
{
    struct sockaddr_in addr;
    char ip[INET_ADDRSTRLEN];
    int fd = -1, ret, size = SK_UDP_SOCKBUF_BYTES;

    ret = sk_io_parse_udp(spec, &addr, err, errlen);
    if (ret < 0)
        goto out;
    inet_ntop(AF_INET, &addr.sin_addr, ip, sizeof(ip));
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        ret = -errno;
        snprintf(err, errlen, "cannot open a UDP socket: %s: check the "
                 "process's file-descriptor limit", strerror(errno));
        goto out;
    }
    /* deep buffers so bursts are not dropped by the kernel; the FORCE
     * variants need CAP_NET_ADMIN, the plain ones are capped by sysctl */
    if (setsockopt(fd, SOL_SOCKET, dir == SK_IO_RX ? SO_RCVBUFFORCE : SO_SNDBUFFORCE,
                   &size, sizeof(size)) != 0)
        setsockopt(fd, SOL_SOCKET, dir == SK_IO_RX ? SO_RCVBUF : SO_SNDBUF,
                   &size, sizeof(size));
    if (dir == SK_IO_RX) {
        if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
            ret = -errno;
            snprintf(err, errlen, "cannot bind UDP %s:%u: %s: %s", ip,
                     ntohs(addr.sin_port), strerror(errno),
                     errno == EADDRNOTAVAIL ? "no interface has this address in "
                     "this network namespace (--rx-netns?)" :
                     errno == EADDRINUSE ? "another socket holds this port" :
                     "check the address");
            ret = errno == EADDRNOTAVAIL ? -EINVAL : ret;
            goto out;
        }
    } else if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        ret = -errno;
        snprintf(err, errlen, "cannot connect UDP to %s:%u: %s: %s", ip,
                 ntohs(addr.sin_port), strerror(errno),
                 errno == ENETUNREACH ? "no route in this network namespace "
                 "(--tx-netns?)" : "check the address");
        ret = errno == ENETUNREACH ? -EINVAL : ret;
        goto out;
    }
    *fd_out = fd;
    fd = -1;
    ret = 0;
out:
    if (fd >= 0)
        close(fd);
    return ret;
}
