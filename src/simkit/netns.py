"""Network namespaces and kernel interfaces that simkit creates, and always removes.

Every kernel-side endpoint of a link (a veth pair, the kernel side of a tap)
lives in a namespace made for one run and named ``sk-<pid>-<n><role>``, so
parallel runs (pytest-xdist workers, several shells) never collide and the
host's own interfaces are never touched. Addresses come from 198.18.0.0/15
(the benchmarking range) and exist inside those namespaces only.

Deleting a namespace deletes every interface in it. A namespace whose
creating process died without cleaning up (SIGKILL) is removed by
:func:`sweep_stale` the next time any simkit process sets up a link.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess

from simkit.errors import BackendUnavailable, ConfigError, NativeError

NETNS_DIR = "/var/run/netns"
PREFIX = "sk-"
IP_TIMEOUT_S = 10
# sk-<pid>-<n><role>: at most 15 characters, so it is also a valid interface name
_OURS = re.compile(r"^sk-(\d+)-\d+[a-z]?$")
_serial = itertools.count()


def unique_base() -> str:
    """A name stem no other run uses: ``sk-<pid>-<n>`` (append one role letter)."""
    return f"{PREFIX}{os.getpid()}-{next(_serial)}"


def _ip_binary() -> str:
    binary = shutil.which("ip")
    if binary is None:
        raise BackendUnavailable("the `ip` command (iproute2) is missing: install iproute2")
    return binary


def run_ip(*args: str, netns: str | None = None, check: bool = True) -> str:
    """Run ``ip [-n NETNS] ARGS`` and return its stdout.

    Raises:
        BackendUnavailable: ``ip`` is missing or the caller lacks CAP_NET_ADMIN.
        NativeError: any other failure (the message quotes ``ip``).
    """
    argv = [_ip_binary(), *(("-n", netns) if netns else ()), *args]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=IP_TIMEOUT_S,
                          stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        message = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        if "Operation not permitted" in message or "Permission denied" in message:
            raise BackendUnavailable(f"`ip {' '.join(args)}` failed: {message}: "
                                     "needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN)")
        raise NativeError(f"`{' '.join(argv[1:])}` failed: {message}")
    return proc.stdout


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
    run_ip("netns", "add", name)
    run_in(name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
           "net.ipv6.conf.default.disable_ipv6=1", check=False)
    run_ip("link", "set", "lo", "up", netns=name)


def delete(name: str) -> None:
    """Delete the namespace ``name`` (and every interface in it); quiet if it is gone."""
    if _OURS.match(name) and exists(name):
        run_ip("netns", "del", name, check=False)


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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale() -> list[str]:
    """Delete simkit namespaces whose creating process no longer runs; return their names."""
    stale = [n for n in ours() if not _alive(int(_OURS.match(n).group(1)))]
    for name in stale:
        delete(name)
    return stale
