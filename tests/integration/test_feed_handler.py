"""The reference downstream DUT (fixtures/feed_handler) end to end, on both of its backends.

feed-handler-dpdk reads frames from a net_pcap rx_pcap and writes one seed
frame per market-data message to a net_pcap tx_pcap; feed-handler-uring
does the same with UDP datagrams on 127.0.0.1. Input is made with simkit's
own packet API; output is read back with simkit's parser, so a record that
simkit's receiver could not account fails here. Skips with the reason where
make, a C compiler, pkg-config, DPDK (or its net_pcap driver) or liburing /
io_uring are missing.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import struct
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass

import pytest
from scapy.layers.inet import IP, TCP, UDP, IPOption_Router_Alert
from scapy.layers.l2 import ARP, Ether

from simkit.packets import SeedFrame, build_frame, check_value, itch, moldudp64, parse_frame
from simkit.packets.market import MarketSimulator
from simkit.pcap import PcapWriter, read_packets

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "feed_handler")
EAL = ["--no-huge", "--no-pci", "--no-shconf", "-m", "256"]
SEED_PORT, ITCH_PORT = 20000, 26400
READY_TIMEOUT_S = 20.0
EXIT_TIMEOUT_S = 20.0
RECORD = struct.Struct("<QIdIQI")  # the seed payload: message, seq, check


@dataclass(frozen=True)
class Record:
    """One published seed-format record: the 24-byte MarketDataMsg and the trailer seq."""

    seq: int
    timestamp: int
    symbol_id: int
    price: float
    size: int


# --------------------------------------------------------------------------- building


def _build(gate, needs_tools, build_dir, target: str, package: str, binary: str) -> str:
    needs_tools("make", "pkg-config", os.environ.get("CC", "cc"), capability="fixtures")
    gate("fixtures", subprocess.run(["pkg-config", "--exists", package]).returncode == 0,
         f"{package} development files are missing (pkg-config {package})")
    proc = subprocess.run(["make", "-C", FIXTURE, f"BUILD={build_dir}", target],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "warning" not in proc.stderr, proc.stderr  # -Wall -Wextra clean
    return str(build_dir / binary)


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    """One temporary build directory for the module."""
    return tmp_path_factory.mktemp("feed_handler")


@pytest.fixture(scope="module")
def dpdk_binary(gate, needs_tools, build_dir):
    """feed-handler-dpdk, built once per module."""
    return _build(gate, needs_tools, build_dir, "dpdk", "libdpdk", "feed-handler-dpdk")


@pytest.fixture(scope="module")
def uring_binary(gate, needs_tools, build_dir):
    """feed-handler-uring, built once per module."""
    return _build(gate, needs_tools, build_dir, "uring", "liburing", "feed-handler-uring")


# --------------------------------------------------------------------------- running


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL: the DUT never outlives its test."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _wait_ready(proc: subprocess.Popen, stderr_path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.1)
        if ready:
            line = proc.stdout.readline()
            if line.strip() == "READY":
                return
            if line == "":
                break
    _stop(proc)
    # no skip here: the DUT's backend was gated on doctor before it started (dpdk_ready,
    # uring_dut), so a DUT that cannot start where simkit's engine can is a failure
    err = stderr_path.read_text()
    pytest.fail(f"the DUT was not ready (exit {proc.returncode}); its stderr:\n{err}")


def _summary(proc: subprocess.Popen, stderr_path) -> dict:
    try:
        out, _ = proc.communicate(timeout=EXIT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        _stop(proc)
        pytest.fail(f"the DUT did not stop; its stderr:\n{stderr_path.read_text()}")
    assert proc.returncode == 0, stderr_path.read_text()
    lines = out.strip().splitlines()
    assert len(lines) == 1, f"stdout should be one JSON line after READY, got {out!r}"
    return json.loads(lines[0])


def _runtime_dir(prefix: str) -> str:
    return os.path.join("/var/run/dpdk", prefix)


def run_dpdk(binary: str, tmp_path, frames: list[bytes], args: list[str] = (),
             stop: str = "idle") -> tuple[dict, list[bytes]]:
    """Feed ``frames`` through feed-handler-dpdk on net_pcap; its summary and output frames.

    ``stop="idle"`` lets it stop itself (--exit-when-idle); ``"sigint"`` and
    ``"sigterm"`` signal it once it is ready and has had time to drain the file.
    """
    rx_pcap, tx_pcap = tmp_path / "in.pcap", tmp_path / "out.pcap"
    with PcapWriter(str(rx_pcap)) as w:
        for i, frame in enumerate(frames):
            w.write(frame, 1_000_000_000 + i * 1000)
    prefix = f"feedhandler-{uuid.uuid4().hex[:12]}"
    argv = [binary, *EAL, "--file-prefix", prefix,
            "--vdev", f"net_pcap0,rx_pcap={rx_pcap}", "--vdev", f"net_pcap1,tx_pcap={tx_pcap}",
            "--", "--rx-port", "net_pcap0", "--tx-port", "net_pcap1", *args]
    if stop == "idle":
        argv += ["--exit-when-idle", "300"]
    stderr_path = tmp_path / "dut.stderr"
    with open(stderr_path, "w") as err:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        _wait_ready(proc, stderr_path)
        if stop != "idle":
            time.sleep(1.0)  # a few hundred frames from a file take microseconds
            proc.send_signal(signal.SIGINT if stop == "sigint" else signal.SIGTERM)
        summary = _summary(proc, stderr_path)
    finally:
        _stop(proc)
    assert not os.path.exists(_runtime_dir(prefix)), f"{_runtime_dir(prefix)} left behind"
    return summary, [frame for _, frame in read_packets(str(tx_pcap))]


def records_of(frames: list[bytes], dst_ip: str = "198.18.0.3",
               dst_port: int = SEED_PORT) -> list[Record]:
    """Parse output frames with simkit's parser (checksums included) into records."""
    out = []
    for frame in frames:
        parsed = parse_frame(frame)
        assert isinstance(parsed, SeedFrame), f"{parsed} in output frame {frame.hex()}"
        assert len(frame) == 78 and (parsed.dst_ip, parsed.dst_port) == (dst_ip, dst_port)
        out.append(Record(parsed.seq, parsed.timestamp, parsed.symbol_id, parsed.price,
                          parsed.size))
    return out


# --------------------------------------------------------------------------- input


def seed_frames(count: int, first_seq: int = 0) -> tuple[list[bytes], list[Record]]:
    """Seed frames with distinct field values, and the records they must yield."""
    frames, expected = [], []
    for i in range(first_seq, first_seq + count):
        rec = Record(seq=i, timestamp=10**12 + 7919 * i, symbol_id=1 + i % 997,
                     price=round(100 + i * 0.25, 2), size=1 + i * 3)
        frames.append(build_frame(seq=rec.seq, timestamp=rec.timestamp,
                                  symbol_id=rec.symbol_id, price=rec.price, size=rec.size))
        expected.append(rec)
    return frames, expected


def ipv4_checksum(header: bytes) -> int:
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def rewrite_ipv4(frame: bytes, *, options: bytes = b"", ihl: int | None = None,
                 flags_frag: int | None = None, checksum: int | None = None,
                 l2: int = 14) -> bytes:
    """The frame with IPv4 options inserted / fields changed, checksum recomputed unless given."""
    ip = bytearray(frame[l2:l2 + 20])
    rest = frame[l2 + 20:]
    ip[0] = 0x40 | (ihl if ihl is not None else 5 + len(options) // 4)
    struct.pack_into("!H", ip, 2, struct.unpack_from("!H", ip, 2)[0] + len(options))
    if flags_frag is not None:
        struct.pack_into("!H", ip, 6, flags_frag)
    header = bytes(ip) + options
    header = header[:10] + b"\0\0" + header[12:]
    csum = ipv4_checksum(header) if checksum is None else checksum
    return frame[:l2] + header[:10] + struct.pack("!H", csum) + header[12:] + rest


def vlan_tagged(frame: bytes, tags: list[tuple[int, int]]) -> bytes:
    """Insert 802.1Q / 802.1ad tags (tpid, vid) after the MAC addresses."""
    inserted = b"".join(struct.pack("!HH", tpid, vid) for tpid, vid in tags)
    return frame[:12] + inserted + frame[12:]


def udp_frame(payload: bytes, dport: int, ip_options=None) -> bytes:
    """Eth/IPv4/UDP around ``payload``, built by scapy (so the UDP checksum is set)."""
    ip = IP(src="198.18.0.1", dst="198.18.0.2")
    if ip_options:
        ip.options = ip_options
    return bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / ip
                 / UDP(sport=10000, dport=dport) / payload)


def itch_expected(datagrams: list[bytes]) -> list[Record]:
    """The records the DUT must publish for MoldUDP64 ``datagrams``, from simkit's decoders."""
    out = []
    for datagram in datagrams:
        packet = moldudp64.parse(datagram)
        assert isinstance(packet, moldudp64.MoldPacket), packet
        for seq, raw in packet.sequenced():
            msg = itch.decode(raw)
            price, size = 0.0, 0
            if msg.msg_type in "AFP":
                price, size = float(msg.price), msg.shares
            elif msg.msg_type == "C":
                price, size = float(msg.execution_price), msg.executed_shares
            elif msg.msg_type == "E":
                size = msg.executed_shares
            out.append(Record(seq, 0, msg.stock_locate, price, size))
    return out


def market_datagrams(count: int, seed: int = 11) -> list[bytes]:
    return MarketSimulator(seed).datagrams(count, session="FEEDTEST01", first_seq=1)


def bad_inputs() -> tuple[list[bytes], dict[str, int], dict[str, int], list[Record]]:
    """Frames every one of which is broken or not ours; what they must count; any records.

    One MoldUDP64 datagram holds a good message between two broken ones: only
    the good one is published, with its own sequence number.
    """
    good, _ = seed_frames(1, first_seq=9000)
    seed = good[0]
    three = moldudp64.encode_packet("S", 5, [itch.encode("S", event_code="O")] * 3)
    mold_payloads = [
        (b"SHORT", "mold_short_header"),
        (three[:-1], "mold_block_overrun"),
        (three[:18] + struct.pack("!H", 5) + three[20:], "mold_count_mismatch"),
        (moldudp64.end_of_session("S", 9) + b"xx", "mold_end_of_session_with_data"),
        (b"\xffSESSION00" + struct.pack("!QH", 1, 0), "mold_bad_session"),
    ]
    add = itch.encode("A", stock_locate=42, order_reference_number=1, buy_sell_indicator="B",
                      shares=300, stock="ABC", price="12.3400")
    mixed = moldudp64.encode_packet("MIXED", 500, [b"Z" + b"\0" * 11, add, add[:20], b""])
    frames = [
        seed[:10],                                                  # runt
        seed[:50],                                                  # ip_total_length
        seed[:24] + b"\x00\x00" + seed[26:],                        # ip_checksum (zeroed)
        rewrite_ipv4(seed, ihl=4),                                  # ip_ihl
        rewrite_ipv4(seed, flags_frag=0x2000),                      # ip_fragment (MF)
        seed[:38] + struct.pack("!H", 200) + seed[40:],             # udp_length
        udp_frame(b"x" * 24, SEED_PORT),                            # payload_short
        (lambda f: f[:-1] + bytes([f[-1] ^ 0xFF]))(udp_frame(b"y" * 32, SEED_PORT)),  # udp_checksum
        *[udp_frame(p, ITCH_PORT) for p, _ in mold_payloads],
        udp_frame(mixed, ITCH_PORT),                                # unknown, ok, truncated, empty
        udp_frame(moldudp64.heartbeat("HB", 77), ITCH_PORT),
        udp_frame(moldudp64.end_of_session("HB", 77), ITCH_PORT),
        bytes(Ether() / ARP()),                                     # ignored: ethertype
        bytes(Ether() / IP(dst="198.18.0.2") / TCP(dport=SEED_PORT)),  # ignored: ip_protocol
        udp_frame(b"z" * 32, 9999),                                 # ignored: udp_port
    ]
    malformed = {"runt": 1, "ip_total_length": 1, "ip_checksum": 1, "ip_ihl": 1,
                 "ip_fragment": 1, "udp_length": 1, "payload_short": 1, "udp_checksum": 1,
                 "itch_unknown_type": 1, "itch_truncated": 1, "itch_empty": 1}
    malformed.update({reason: 1 for _, reason in mold_payloads})
    ignored = {"ethertype": 1, "ip_protocol": 1, "udp_port": 1}
    return frames, malformed, ignored, [Record(501, 0, 42, 12.34, 300)]


# --------------------------------------------------------------------------- DPDK


@pytest.fixture
def dpdk_ready(needs_dpdk_link, dpdk_binary):
    """feed-handler-dpdk built, and DPDK with net_pcap usable here."""
    needs_dpdk_link("pcap")
    return dpdk_binary


def test_dpdk_republishes_every_seed_message_with_its_seq_and_fields(dpdk_ready, tmp_path):
    frames, expected = seed_frames(500)
    summary, out = run_dpdk(dpdk_ready, tmp_path, frames)
    assert records_of(out) == expected
    assert (summary["received"], summary["seed"], summary["published"]) == (500, 500, 500)
    assert summary["malformed"]["total"] == summary["tx_dropped"] == 0


def test_dpdk_republishes_every_itch_message_with_its_moldudp64_sequence(dpdk_ready, tmp_path):
    datagrams = market_datagrams(600)
    expected = itch_expected(datagrams)
    summary, out = run_dpdk(dpdk_ready, tmp_path, [udp_frame(d, ITCH_PORT) for d in datagrams])
    got = records_of(out)
    assert got == expected
    assert [r.seq for r in got] == list(range(1, len(expected) + 1))
    assert {r.symbol_id for r in got} > {0} and any(r.price > 0 and r.size > 0 for r in got)
    assert summary["itch_datagrams"] == len(datagrams)
    assert summary["itch_messages"] == summary["published"] == len(expected)
    assert summary["malformed"]["total"] == 0


def test_dpdk_parses_ip_options_and_vlan_tags_where_fixed_offsets_misread(dpdk_ready, tmp_path):
    frames, expected = seed_frames(8)
    datagram = market_datagrams(20)[0]
    shaped = [
        rewrite_ipv4(frames[0], options=b"\x01\x01\x01\x00"),             # IHL 6
        rewrite_ipv4(frames[1], options=b"\x94\x04\x00\x00" * 10),       # IHL 15, the maximum
        vlan_tagged(frames[2], [(0x8100, 7)]),
        vlan_tagged(frames[3], [(0x88A8, 100), (0x8100, 7)]),
        rewrite_ipv4(vlan_tagged(frames[4], [(0x8100, 7)]), options=b"\x01" * 8, l2=18),
        frames[5] + b"\0" * 20,                                           # Ethernet padding
        frames[6],
        udp_frame(datagram, ITCH_PORT, ip_options=[IPOption_Router_Alert()]),
        frames[7],
    ]
    assert len(shaped[1]) == 78 + 40
    summary, out = run_dpdk(dpdk_ready, tmp_path, shaped)
    assert records_of(out) == expected[:7] + itch_expected([datagram]) + expected[7:]
    assert summary["malformed"]["total"] == 0


def test_dpdk_counts_and_skips_malformed_input(dpdk_ready, tmp_path):
    bad, malformed, ignored, bad_records = bad_inputs()
    good, expected = seed_frames(3)
    frames = [good[0], *bad, good[1], *bad, good[2]]  # the loop survives and goes on
    summary, out = run_dpdk(dpdk_ready, tmp_path, frames)
    assert records_of(out) == [expected[0], *bad_records, expected[1], *bad_records, expected[2]]
    assert summary["received"] == len(frames)
    assert summary["malformed"]["by_reason"] == {k: 2 * v for k, v in malformed.items()}
    assert summary["malformed"]["total"] == 2 * sum(malformed.values())
    assert summary["ignored"]["by_reason"] == {k: 2 * v for k, v in ignored.items()}
    assert (summary["heartbeats"], summary["end_of_session"]) == (2, 2)


@pytest.mark.parametrize("sig", ["sigint", "sigterm"])
def test_dpdk_stops_on_a_signal_with_a_summary_and_no_runtime_dir(dpdk_ready, tmp_path, sig):
    frames, expected = seed_frames(100)
    summary, out = run_dpdk(dpdk_ready, tmp_path, frames, stop=sig)
    assert records_of(out) == expected
    assert summary["program"] == "feed-handler-dpdk"
    assert summary["published"] == summary["messages"] == 100


def test_dpdk_input_ports_and_output_addresses_are_configurable(dpdk_ready, tmp_path):
    frames, expected = seed_frames(5)
    datagrams = market_datagrams(10)
    frames = [*(udp_frame(f[42:], 21000) for f in frames),
              *(udp_frame(d, 31000) for d in datagrams),
              udp_frame(b"q" * 32, SEED_PORT)]                        # no longer ours
    summary, out = run_dpdk(dpdk_ready, tmp_path, frames, args=[
        "--seed-port", "21000", "--itch-port", "31000", "--dst-mac", "02:aa:bb:cc:dd:ee",
        "--dst-ip", "198.19.1.2", "--dst-port", "20001", "--src-ip", "198.19.1.1"])
    assert records_of(out, dst_ip="198.19.1.2", dst_port=20001) == \
        expected + itch_expected(datagrams)
    assert all(frame[:6] == bytes.fromhex("02aabbccddee") for frame in out)
    assert summary["ignored"]["by_reason"] == {"udp_port": 1}


@pytest.mark.parametrize("app_args, needle", [
    (["--bogus"], "unknown or incomplete option"),
    (["--seed-port", "0"], "bad value"),
    (["--dst-mac", "nope"], "bad value"),
    (["--rx-port", "net_nosuch0"], "no such port"),
])
def test_dpdk_bad_usage_exits_2_with_one_clear_line(dpdk_ready, tmp_path, app_args, needle):
    prefix = f"feedhandler-{uuid.uuid4().hex[:12]}"
    proc = subprocess.run([dpdk_ready, *EAL, "--file-prefix", prefix, "--vdev", "net_null0",
                           "--", *app_args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert "feed-handler-dpdk: " in proc.stderr and needle in proc.stderr
    assert not os.path.exists(_runtime_dir(prefix))


def test_dpdk_a_vdev_that_cannot_be_created_is_bad_usage(dpdk_ready, tmp_path):
    prefix = f"feedhandler-{uuid.uuid4().hex[:12]}"
    proc = subprocess.run([dpdk_ready, *EAL, "--file-prefix", prefix, "--vdev",
                           f"net_pcap0,rx_pcap={tmp_path / 'missing.pcap'}"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "the --vdev devices could not be created" in proc.stderr
    assert not os.path.exists(_runtime_dir(prefix))


# --------------------------------------------------------------------------- io_uring


class Collector:
    """A UDP socket on 127.0.0.1 that a thread drains into a list of payloads."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE (root)
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.payloads: list[bytes] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._done.is_set():
            try:
                self.payloads.append(self.sock.recv(65536))
            except TimeoutError:
                continue

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[bytes]:
        deadline = time.monotonic() + timeout_s
        while len(self.payloads) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # and nothing more than expected
        return list(self.payloads)

    def close(self) -> None:
        self._done.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def uring_dut(needs, uring_binary, tmp_path):
    """Start feed-handler-uring on 127.0.0.1 with extra args; yields (proc, listen port, collector)."""
    needs("io_uring")
    started = []

    def start(args=()):
        collector = Collector()
        stderr_path = tmp_path / f"dut{len(started)}.stderr"
        with open(stderr_path, "w") as err:
            proc = subprocess.Popen([uring_binary, "--listen", "127.0.0.1:0", "--publish",
                                     f"127.0.0.1:{collector.port}", *args],
                                    stdout=subprocess.PIPE, stderr=err, text=True)
        started.append((proc, collector))
        _wait_ready(proc, stderr_path)
        line = next(x for x in stderr_path.read_text().splitlines() if "listening on" in x)
        port = int(line.split("listening on 127.0.0.1:")[1].split(",")[0])
        return proc, port, collector, stderr_path

    yield start
    for proc, collector in started:
        _stop(proc)
        collector.close()


def send_all(port: int, payloads: list[bytes]) -> None:
    """Send datagrams to the DUT, pausing now and then so no socket buffer overflows."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        for i, payload in enumerate(payloads):
            tx.sendto(payload, ("127.0.0.1", port))
            if i % 64 == 63:
                time.sleep(0.002)


def uring_records(payloads: list[bytes]) -> list[Record]:
    assert all(len(p) == 36 for p in payloads), sorted({len(p) for p in payloads})
    out = []
    for p in payloads:
        timestamp, symbol_id, price, size, seq, check = RECORD.unpack(p)
        if check:  # a seed input's trailer check is carried through, still valid
            assert check == check_value(p[:32]), f"record seq {seq}: check not carried"
        out.append(Record(seq, timestamp, symbol_id, price, size))
    return out


@pytest.mark.parametrize("recv", ["multishot", "plain"])
def test_uring_republishes_seed_and_itch_messages(uring_dut, recv):
    proc, port, collector, stderr_path = uring_dut(["--no-multishot"] if recv == "plain" else [])
    assert f"({recv} recv)" in stderr_path.read_text()
    frames, seed_expected = seed_frames(1000)
    datagrams = market_datagrams(1500)
    itch_records = itch_expected(datagrams)
    send_all(port, [f[42:] for f in frames] + datagrams)
    got = uring_records(collector.wait_for(1000 + len(itch_records)))
    # one socket, one sender, one loop: order is kept, seed first then ITCH
    assert got == seed_expected + itch_records
    proc.send_signal(signal.SIGINT)
    summary = _summary(proc, stderr_path)
    assert summary["program"] == "feed-handler-uring"
    assert summary["received"] == 1000 + len(datagrams)
    assert (summary["seed"], summary["itch_messages"]) == (1000, len(itch_records))
    assert summary["published"] == summary["messages"] == len(got)
    assert summary["malformed"]["total"] == summary["tx_dropped"] == 0


def test_uring_counts_and_skips_malformed_datagrams(uring_dut):
    proc, port, collector, stderr_path = uring_dut()
    add = itch.encode("A", stock_locate=42, shares=300, price="12.3400")
    mixed = moldudp64.encode_packet("MIXED", 500, [b"Z" * 12, add, add[:20], b""])
    seed, expected = seed_frames(2)
    payloads = [b"", b"SHORT", b"x" * 3000, moldudp64.encode_packet("S", 5, [add])[:-1],
                moldudp64.heartbeat("HB", 3), moldudp64.end_of_session("HB", 3) + b"!",
                mixed, seed[0][42:], seed[1][42:]]
    send_all(port, payloads)
    got = uring_records(collector.wait_for(3))
    assert got == [Record(501, 0, 42, 12.34, 300), *expected]
    proc.send_signal(signal.SIGTERM)
    summary = _summary(proc, stderr_path)
    assert summary["received"] == len(payloads)
    assert summary["heartbeats"] == 1
    assert summary["malformed"]["by_reason"] == {
        "mold_short_header": 2, "datagram_too_long": 1, "mold_block_overrun": 1,
        "mold_end_of_session_with_data": 1, "itch_unknown_type": 1, "itch_truncated": 1,
        "itch_empty": 1}


def test_uring_proto_seed_reads_longer_payloads_as_seed(uring_dut):
    proc, port, collector, stderr_path = uring_dut(["--proto", "seed", "--exit-when-idle", "500"])
    frames, expected = seed_frames(3)
    send_all(port, [frames[0][42:] + b"extra", frames[1][42:], frames[2][42:50]])
    assert uring_records(collector.wait_for(2)) == expected[:2]
    summary = _summary(proc, stderr_path)  # stops itself once idle
    assert summary["malformed"]["by_reason"] == {"payload_short": 1}


@pytest.mark.parametrize("args, needle", [
    ([], "--listen is required"),
    (["--listen", "127.0.0.1:0"], "--publish is required"),
    (["--listen", "localhost:1", "--publish", "127.0.0.1:9"], "bad value"),
    (["--listen", "127.0.0.1:0", "--publish", "127.0.0.1:0"], "bad value"),
    (["--listen", "127.0.0.1:0", "--publish", "127.0.0.1:9", "--proto", "fix"], "bad value"),
])
def test_uring_bad_usage_exits_2_with_one_clear_line(uring_binary, args, needle):
    proc = subprocess.run([uring_binary, *args], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("feed-handler-uring: ") and needle in lines[0]


# --------------------------------------------------------------------------- C parsers


def test_shared_parsers_survive_damaged_input(tmp_path, needs_tools):
    """The C unit test (hand-made cases + 400k damaged frames/datagrams) passes."""
    needs_tools("make", os.environ.get("CC", "cc"), capability="fixtures")
    proc = subprocess.run(["make", "-C", FIXTURE, f"BUILD={tmp_path}", "test"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS test_parse" in proc.stdout
    assert "PASS test_sequencer" in proc.stdout
