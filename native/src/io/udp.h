/*
 * udp.h - what the datagram backends (uring.c, socket.c) share (internal).
 */
#ifndef SK_IO_UDP_H
#define SK_IO_UDP_H

#include <stddef.h>

#include "io.h"

#define SK_UDP_BUF_SIZE 2048              /* one datagram buffer */
#define SK_UDP_SOCKBUF_BYTES (8 << 20)    /* SO_RCVBUF / SO_SNDBUF */
#define SK_UDP_WAIT_US 1000               /* longest blocking wait of rx_burst */
/* A datagram backend's packets are counted as the frame they travel in:
 * Ethernet 14 + IPv4 20 + UDP 8 bytes around the payload. */
#define SK_UDP_FRAME_OVERHEAD 42

/* A UDP socket for spec: rx binds to the address, tx connects to it.
 * 0 or -errno (-EINVAL for bad input) with the reason in err. */
int sk_udp_socket_open(const char *spec, enum sk_io_dir dir, int *fd_out,
                       char *err, size_t errlen);
/* Value of ",key=value" in spec, copied into buf; NULL when absent. */
const char *sk_udp_option(const char *spec, const char *key, char *buf,
                          size_t len);

#endif /* SK_IO_UDP_H */
