"""A kernel UDP forwarder DUT that garbles on purpose (a test fixture).

    garbling_forwarder.py LISTEN PUBLISH PROTO EVERY

Forwards each datagram received on LISTEN (IP:PORT) to PUBLISH unchanged,
except every EVERY-th one (1st, EVERY+1-th, ...): for ``seed`` one byte of
its MarketDataMsg (the price) is flipped; for ``itch`` one byte inside the
body of the datagram's first message. Prints ``READY`` once bound and, on
SIGTERM, one JSON line ``{"forwarded": N, "garbled_messages": G}`` on stdout.
"""

import json
import select
import signal
import socket
import sys

MOLD_HEADER = 20
SEED_PRICE = 12


def address(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


def garble(data, proto):
    data = bytearray(data)
    if proto == "seed":
        data[SEED_PRICE] ^= 0x40
        return bytes(data), 1
    count = int.from_bytes(data[18:20], "big")
    if count in (0, 0xFFFF) or len(data) < MOLD_HEADER + 4:
        return bytes(data), 0
    data[MOLD_HEADER + 3] ^= 0x40  # the first message's second byte (after its u16 length)
    return bytes(data), 1


def main():
    listen, publish, proto, every = address(sys.argv[1]), address(sys.argv[2]), sys.argv[3], \
        int(sys.argv[4])
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    rx.bind(listen)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    stats = {"forwarded": 0, "garbled_messages": 0}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    print("READY", flush=True)
    while not stop:
        try:
            ready, _, _ = select.select([rx], [], [], 0.05)
        except InterruptedError:
            continue
        if not ready:
            continue
        data = rx.recv(65535)
        if stats["forwarded"] % every == 0:
            data, garbled = garble(data, proto)
            stats["garbled_messages"] += garbled
        tx.sendto(data, publish)
        stats["forwarded"] += 1
    print(json.dumps(stats), flush=True)


if __name__ == "__main__":
    main()
