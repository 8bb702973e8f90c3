"""A kernel DUT that forwards a MoldUDP64 feed and sends scripted re-requests (a test fixture).

    mold_requester.py LISTEN PUBLISH RECOVERY SESSION REQUESTS

Forwards each datagram received on LISTEN (IP:PORT) to PUBLISH unchanged.
Once the first data datagram has come it sends, from the listening socket,
one MoldUDP64 Request Packet per item of REQUESTS (``SEQ:COUNT,...``; the
session is SESSION, except for an item written ``bad:SEQ:COUNT``: a wrong
session) to RECOVERY (IP:PORT), back to back. Datagrams from RECOVERY are the
answers: kept, not forwarded. Prints ``READY`` once bound and, on SIGTERM, one
JSON line ``{"forwarded": N, "answers": ["hex", ...]}`` on stdout.
"""

import json
import select
import signal
import socket
import struct
import sys

MOLD_HEADER = 20


def address(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


def requests(text, session):
    out = []
    for item in text.split(","):
        parts = item.split(":")
        name = b"WRONGSESS0" if parts[0] == "bad" else session
        seq, count = int(parts[-2]), int(parts[-1])
        out.append(name + struct.pack(">QH", seq, count))
    return out


def main():
    listen, publish, recovery = (address(a) for a in sys.argv[1:4])
    session = sys.argv[4].encode()
    script = requests(sys.argv[5], session)
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    rx.bind(listen)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    stats = {"forwarded": 0, "answers": []}
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
        data, source = rx.recvfrom(65535)
        if source == recovery:
            stats["answers"].append(data.hex())
            continue
        tx.sendto(data, publish)
        stats["forwarded"] += 1
        count = int.from_bytes(data[18:20], "big") if len(data) >= MOLD_HEADER else 0
        if script and count not in (0, 0xFFFF):
            for request in script:
                rx.sendto(request, recovery)
            script = []
    print(json.dumps(stats), flush=True)


if __name__ == "__main__":
    main()
