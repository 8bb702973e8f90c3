/*
 * test_io_socket.c - the kernel-socket backend's buffer contract (io.h):
 * alloc hands out n buffers of len bytes, says -ENOBUFS for more than it
 * holds at once (the caller waits) and -EMSGSIZE for a len no buffer holds
 * (the caller's bug: the generator stops with an error instead of writing
 * past a buffer). A TX port to the loopback discard port; nothing is sent.
 */
#include <errno.h>
#include <stdint.h>

#include "io.h"
#include "udp.h"
#include "check.h"

int main(void)
{
    struct sk_pkt pkts[SK_IO_MAX_BURST + 1];
    struct sk_port *port = NULL;
    char err[256];

    if (sk_io_socket.open("udp:127.0.0.1:9", SK_IO_TX, SK_IO_MAX_BURST, &port, err,
                          sizeof(err)) != 0) {
        fprintf(stderr, "skip: cannot open a UDP socket here: %s\n", err);
        return SK_TEST_SKIP;
    }
    CHECK_EQ_U(sk_io_socket.alloc(port, pkts, SK_IO_MAX_BURST, SK_UDP_BUF_SIZE), 0);
    CHECK_EQ_U(pkts[0].len, SK_UDP_BUF_SIZE);
    CHECK(pkts[1].data != pkts[0].data);
    sk_io_socket.free(port, pkts, SK_IO_MAX_BURST);
    CHECK(sk_io_socket.alloc(port, pkts, 1, SK_UDP_BUF_SIZE + 1) == -EMSGSIZE);
    CHECK(sk_io_socket.alloc(port, pkts, SK_IO_MAX_BURST + 1, 64) == -ENOBUFS);
    sk_io_socket.close(port);
    return CHECK_DONE();
}
