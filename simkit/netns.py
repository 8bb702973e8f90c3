"""Network namespaces and kernel interfaces that simkit creates, and always removes.

Every kernel-side endpoint of a link (a veth pair, the kernel side of a tap)
lives in a namespace made for one run and named ``sk-<pid>-<n><role>``, so
parallel runs (pytest-xdist workers, several shells) never collide and the
host's own interfaces are never touched. Addresses come from 198.18.0.0/15
(the benchmarking range) and exist inside those namespaces only.

Deleting a namespace deletes every interface in it. Each namespace is
written in its creator's record (:mod:`simkit.rundir`) before it is made; one
whose creator died without cleaning up (SIGKILL) is removed, after the
processes still inside it, by the next run's sweep (:func:`simkit.rundir.sweep`,
which also calls :func:`sweep_stale` for namespaces that never made it into a
record).
"""

from __future__ import annotations

import ctypes
import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import threading

from simkit import rundir
from simkit.errors import BackendUnavailable, ConfigError, NativeError

NETNS_DIR = "/var/run/netns"
PREFIX = "sk-"
IP_TIMEOUT_S = 10
CLONE_NEWNET = 0x40000000  # setns(2): a network namespace
ETH_P_ALL = 0x0003
PACKET_RCVBUF = 4 << 20  # a functional test's frames wait here until it reads them
# sk-<pid>-<n><role>: at most 15 characters, so it is also a valid interface name
_OURS = re.compile(r"^sk-(\d+)-\d+[a-z]?$")
_serial = itertools.count()


def unique_base() -> str:
    """A name stem no other run uses: ``sk-<pid>-<n>`` (append one role letter)."""
    return f"{PREFIX}{os.getpid()}-{next(_serial)}"


def _binary(name: str) -> str:
    binary = shutil.which(name)
    if binary is None:
        raise BackendUnavailable(f"the `{name}` command (iproute2) is missing: install iproute2")
    return binary


def _run_iproute2(tool: str, args: tuple[str, ...], netns: str | None, check: bool) -> str:
    """Run ``TOOL [-n NETNS] ARGS`` (``ip`` or ``tc``, both take ``-n``); return its stdout."""
    argv = [_binary(tool), *(("-n", netns) if netns else ()), *args]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=IP_TIMEOUT_S,
                          stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        message = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        if "Operation not permitted" in message or "Permission denied" in message:
            raise BackendUnavailable(f"`{tool} {' '.join(args)}` failed: {message}: "
                                     "needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN)")
        raise NativeError(f"`{tool} {' '.join(argv[1:])}` failed: {message}")
    return proc.stdout


def run_ip(*args: str, netns: str | None = None, check: bool = True) -> str:
    """Run ``ip [-n NETNS] ARGS`` and return its stdout.

    Raises:
        BackendUnavailable: ``ip`` is missing or the caller lacks CAP_NET_ADMIN.
        NativeError: any other failure (the message quotes ``ip``).
    """
    return _run_iproute2("ip", args, netns, check)


def run_tc(*args: str, netns: str | None = None, check: bool = True) -> str:
    """Run ``tc [-n NETNS] ARGS`` (traffic control) and return its stdout.

    Raises:
        BackendUnavailable: ``tc`` is missing or the caller lacks CAP_NET_ADMIN.
        NativeError: any other failure (the message quotes ``tc`` and its last line).
    """
    return _run_iproute2("tc", args, netns, check)


def run_in(netns: str, *argv: str, check: bool = True) -> None:
    """Run a command inside ``netns`` (``ip netns exec``)."""
    run_ip("netns", "exec", netns, *argv, check=check)


def exists(name: str) -> bool:
    """Whether the namespace ``name`` exists."""
    return os.path.exists(os.path.join(NETNS_DIR, name))


def create(name: str) -> None:
    """Create the namespace ``name`` with loopback up and IPv6 off.

    IPv6 off: a link carries only simkit's own packets (no router or neighbour
    solicitations that a DPDK receiver would count as malformed).
    """
    if not _OURS.match(name):
        raise ConfigError(f"namespace name {name!r} is not one of simkit's (sk-<pid>-<n>)")
    rundir.record("netns", name)  # first: a kill right after `ip netns add` is covered
    try:
        run_ip("netns", "add", name)
    except BaseException:
        rundir.forget("netns", name)
        raise
    run_in(name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
           "net.ipv6.conf.default.disable_ipv6=1", check=False)
    run_ip("link", "set", "lo", "up", netns=name)


def delete(name: str) -> None:
    """Delete the namespace ``name`` (and every interface in it); quiet if it is gone."""
    if _OURS.match(name) and exists(name):
        run_ip("netns", "del", name, check=False)
    if not exists(name):
        rundir.forget("netns", name)


def link_mac(netns: str, ifname: str) -> str:
    """The MAC address of ``ifname`` inside ``netns``."""
    info = json.loads(run_ip("-j", "link", "show", "dev", ifname, netns=netns))
    return info[0]["address"]


def ours() -> list[str]:
    """Namespaces present now whose names simkit gives."""
    try:
        return sorted(n for n in os.listdir(NETNS_DIR) if _OURS.match(n))
    except FileNotFoundError:
        return []


def processes_in(name: str) -> list[tuple[int, int]]:
    """(pid, start time) of the processes whose main thread is inside namespace ``name``.

    What ``ip netns pids`` lists: a process is in the namespace when its
    ``/proc/<pid>/ns/net`` is the namespace's own file.
    """
    try:
        target = os.stat(os.path.join(NETNS_DIR, name))
    except OSError:
        return []
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            ns = os.stat(f"/proc/{entry}/ns/net")
        except OSError:
            continue
        if (ns.st_dev, ns.st_ino) == (target.st_dev, target.st_ino):
            start = rundir.start_time(int(entry))
            if start is not None:
                found.append((int(entry), start))
    return found


def sweep_stale() -> list[str]:
    """Delete simkit namespaces whose creating process no longer runs; return their names.

    The processes still inside one (a DUT whose simkit was killed) are killed
    first: a namespace lives on, interfaces and all, while a process is in it.
    """
    stale = [n for n in ours() if rundir.start_time(int(_OURS.match(n).group(1))) is None]
    for name in stale:
        rundir.kill(processes_in(name))
        delete(name)
    return stale


def neighbour(netns: str, ifname: str, ip: str, mac: str) -> None:
    """A permanent neighbour entry (no ARP on the path, so no first packets lost to it)."""
    run_ip("neigh", "replace", ip, "lladdr", mac, "dev", ifname, "nud", "permanent", netns=netns)


def in_netns(name: str, fn, *args):
    """Call ``fn(*args)`` on a thread that has entered namespace ``name``; return its result.

    A network namespace belongs to a thread, so the caller's own thread (and the
    rest of the process) stays where it is. What ``fn`` makes there keeps its
    namespace afterwards: a socket opened inside ``name`` sends and receives
    inside it for its whole life.

    Raises:
        ConfigError: ``name`` is not a namespace that exists.
        BackendUnavailable: the caller may not enter namespaces (needs CAP_SYS_ADMIN).
    """
    path = os.path.join(NETNS_DIR, name)
    if not os.path.exists(path):
        raise ConfigError(f"no such network namespace {name!r}")
    outcome: dict = {}

    def enter_and_call() -> None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise BackendUnavailable(f"cannot enter namespace {name}: "
                                             f"{os.strerror(err)}: needs root (CAP_SYS_ADMIN)")
            finally:
                os.close(fd)
            outcome["value"] = fn(*args)
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    # the thread ends inside the namespace; a fresh one per call, so no thread is reused
    worker = threading.Thread(target=enter_and_call, name=f"netns-{name}", daemon=True)
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")



def packet_socket(name: str, ifname: str, rcvbuf: int = PACKET_RCVBUF) -> socket.socket:
    """A raw AF_PACKET socket bound to ``ifname`` inside namespace ``name``.

    It sends whole Ethernet frames out of ``ifname`` and receives every frame
    that arrives on it (incoming ones only: see :func:`incoming`). Needs root
    (CAP_NET_RAW and CAP_SYS_ADMIN).
    """
    def open_bound() -> socket.socket:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.bind((ifname, 0))
        except OSError as exc:
            sock.close()
            raise ConfigError(f"cannot bind a packet socket to {ifname} in {name}: "
                              f"{exc.strerror}") from None
        return sock

    try:
        return in_netns(name, open_bound)
    except PermissionError as exc:
        raise BackendUnavailable(f"cannot open a packet socket in {name}: {exc.strerror}: "
                                 "needs root (CAP_NET_RAW)") from None


def incoming(address) -> bool:
    """Whether a frame ``recvfrom`` got on a packet socket came in (not one sent out)."""
    return address[2] != socket.PACKET_OUTGOING
