"""Huge pages for DPDK: what this machine has, and a reservation of simkit's own.

By default the engine and a DPDK DUT run ``--no-huge`` (4 KiB pages: works
everywhere). ``simkit run --hugepages N`` (``Scenario.hugepages``) runs them
the way production does instead, on 2 MiB huge pages::

    with hugepages.reserved(64) as mount:
        argv = ["dpdk-testpmd", *mount.eal_args(), ...]

:func:`reserved` raises the kernel's pool (``/sys/kernel/mm/hugepages/
hugepages-2048kB/nr_hugepages``) by what is missing, mounts a hugetlbfs of
simkit's own under the run directory (``/run/simkit/hugetlbfs/<pid>-<start>-<n>``,
its ``size=`` capped at N pages, so that each run uses no more than it asked
for), and on the way out unmounts it and puts the pool back. The EAL options
(:meth:`HugeMount.eal_args`) point DPDK at that mount with ``--huge-unlink``:
the page files are unlinked as soon as they are mapped, so a killed process
leaves none, and its pages go back to the pool when it dies.

Several simkit processes at once (pytest-xdist workers) share one account
under a lock (``/run/simkit/hugepages.json``, ``hugepages.lock``): the pool's
size before simkit first raised it (``original``), the free pages simkit may
borrow from it (``spare``), and every holder (pid, start time, pages, mount).
The pool is always ``original + max(0, sum(holders' pages) - spare)``; when
the last holder goes, it is ``original`` again. The account is written before
the pool or a mount changes, so a process killed at any moment leaves a
holder that no longer runs: :func:`sweep` (called by every run's sweep, see
:mod:`simkit.rundir`) unmounts its hugetlbfs and recomputes the pool without it.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import itertools
import json
import os
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from simkit import rundir
from simkit.errors import BackendUnavailable, ConfigError

SYSFS = "/sys/kernel/mm/hugepages"
MOUNTS = "/proc/self/mounts"
MEMINFO = "/proc/meminfo"
DEFAULT_SIZE_KB = 2048  # what --hugepages reserves: 2 MiB pages
MAX_PAGES = 1 << 20  # 2 TiB of 2 MiB pages: anything more is a typo
MAX_SHARE = 0.5  # of MemAvailable a reservation may turn into huge pages
ACCOUNT = "hugepages.json"
LOCK = "hugepages.lock"
MOUNT_DIR = "hugetlbfs"  # under the run directory: <pid>-<start>-<n>
CAP_SYS_ADMIN = 21
MNT_DETACH = 2
_serial = itertools.count()
_active: ContextVar[HugeMount | None] = ContextVar("simkit_hugepages", default=None)


# -- what the machine has ------------------------------------------------------------


def _read_int(path: str) -> int | None:
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _pool_path(size_kb: int, name: str = "nr_hugepages") -> str:
    return os.path.join(SYSFS, f"hugepages-{size_kb}kB", name)


def sizes() -> dict[int, dict[str, int]]:
    """Each huge page size this kernel has (KiB) and its pool: total, free, reserved, surplus."""
    out = {}
    try:
        names = sorted(os.listdir(SYSFS))
    except OSError:
        return out
    for name in names:
        if not (name.startswith("hugepages-") and name.endswith("kB")):
            continue
        size = int(name[len("hugepages-"):-2])
        out[size] = {key: _read_int(_pool_path(size, f)) or 0
                     for key, f in (("total", "nr_hugepages"), ("free", "free_hugepages"),
                                    ("reserved", "resv_hugepages"),
                                    ("surplus", "surplus_hugepages"))}
    return dict(sorted(out.items()))


def default_size_kb() -> int:
    """The kernel's default huge page size (``Hugepagesize`` in /proc/meminfo), KiB."""
    try:
        with open(MEMINFO) as f:
            for line in f:
                if line.startswith("Hugepagesize:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return DEFAULT_SIZE_KB


def mounts() -> list[dict]:
    """Every hugetlbfs mounted here: ``{"path", "pagesize_kb", "options"}``."""
    out = []
    try:
        with open(MOUNTS) as f:
            lines = f.read().splitlines()
    except OSError:
        return out
    for line in lines:
        parts = line.split()
        if len(parts) < 4 or parts[2] != "hugetlbfs":
            continue
        path = parts[1].replace("\\040", " ")
        options = parts[3].split(",")
        size = next((o.split("=", 1)[1] for o in options if o.startswith("pagesize=")), None)
        out.append({"path": path, "pagesize_kb": _size_kb(size) if size else default_size_kb(),
                    "options": parts[3]})
    return out


def _size_kb(text: str) -> int:
    """``2M`` / ``1024M`` / ``1G`` / ``2048k`` as KiB."""
    text = text.strip().upper().removesuffix("B")
    units = {"K": 1, "M": 1024, "G": 1024 * 1024}
    if text and text[-1] in units:
        return int(text[:-1]) * units[text[-1]]
    return int(text) // 1024


def _has_cap(bit: int) -> bool:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> bit & 1)
    except (OSError, ValueError):
        pass
    return False


def can_reserve(size_kb: int = DEFAULT_SIZE_KB) -> tuple[bool, str]:
    """(whether this process can reserve ``size_kb`` pages and mount a hugetlbfs, why not)."""
    path = _pool_path(size_kb)
    if not os.path.exists(path):
        return False, f"this kernel has no {size_kb} kB huge pages ({path} is missing)"
    if not _has_cap(CAP_SYS_ADMIN):
        return False, "reserving huge pages and mounting a hugetlbfs need root (CAP_SYS_ADMIN)"
    if not os.access(path, os.W_OK):
        return False, f"{path} is not writable here (a read-only /sys, e.g. in a container)"
    return True, ""


def status() -> dict:
    """What ``simkit doctor`` reports (its ``--json`` key ``hugepages``).

    Returns:
        ``sizes`` (``{"2048kB": {"total", "free", "reserved", "surplus"}}``),
        ``total``/``free`` (pages of the default size), ``size_kb`` (that
        size), ``mounts`` (see :func:`mounts`), ``can_reserve`` (bool: this
        process can run ``--hugepages N``), ``reason`` (why not) and ``note``
        (one line for people).
    """
    pools = sizes()
    size = default_size_kb()
    pool = pools.get(size, {"total": 0, "free": 0})
    able, why = can_reserve()
    if pool["total"]:
        note = f"{pool['free']} of {pool['total']} {size} kB pages free"
    else:
        note = "no pool: DPDK runs with --no-huge (fine for tests, slower)"
    if able:
        note += "; simkit can reserve more (simkit run --hugepages N)"
    return {"sizes": {f"{k}kB": v for k, v in pools.items()}, "total": pool["total"],
            "free": pool["free"], "size_kb": size, "mounts": mounts(), "can_reserve": able,
            "reason": why, "note": note}


# -- the shared account ------------------------------------------------------------------


def parse_pages(value) -> int:
    """``--hugepages N``: a count of 2 MiB pages, 1..:data:`MAX_PAGES` (0 or ``None``: none).

    Raises:
        ConfigError: not a whole number, negative, or absurdly large.
    """
    if value is None:
        return 0
    if isinstance(value, bool):
        raise ConfigError(f"hugepages must be a number of 2 MiB pages, got {value!r}")
    try:
        pages = int(str(value).strip(), 10) if isinstance(value, str) else int(value)
    except ValueError:
        raise ConfigError(f"hugepages must be a whole number of 2 MiB pages, "
                          f"got {value!r}") from None
    if pages != value and not isinstance(value, str):
        raise ConfigError(f"hugepages must be a whole number of 2 MiB pages, got {value!r}")
    if not 0 <= pages <= MAX_PAGES:
        raise ConfigError(f"hugepages {pages}: give 0..{MAX_PAGES:,} pages of 2 MiB "
                          "(the engine alone takes about 24)")
    return pages


@contextlib.contextmanager
def _locked() -> Iterator[dict]:
    """The account, read under an exclusive lock; written back when the block ends."""
    root = rundir.run_dir()
    os.makedirs(root, mode=0o755, exist_ok=True)
    with open(os.path.join(root, LOCK), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        path = os.path.join(root, ACCOUNT)
        try:
            with open(path) as f:
                account = json.load(f)
            if not isinstance(account, dict):
                raise ValueError
        except (OSError, ValueError):
            account = {}
        account.setdefault("pools", {})
        account.setdefault("holders", [])
        try:
            yield account
        finally:
            _save(account)


def _write_pool(size_kb: int, pages: int) -> int:
    """Ask the kernel for a pool of ``pages``; what it really has now."""
    path = _pool_path(size_kb)
    try:
        with open(path, "w") as f:
            f.write(str(pages))
    except OSError as exc:
        raise BackendUnavailable(f"cannot set {path} to {pages}: {exc.strerror}") from None
    return _read_int(path) or 0


def _mem_available_kb() -> int | None:
    try:
        with open(MEMINFO) as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def _check_memory(size_kb: int, more: int) -> None:
    """Refuse to take ``more`` pages that would leave the machine short of memory.

    Raising the pool takes the pages from ordinary memory at once; a typo such
    as ``--hugepages 100000`` would otherwise starve every other process.

    Raises:
        BackendUnavailable: ``more`` pages are over :data:`MAX_SHARE` of MemAvailable.
    """
    available = _mem_available_kb()
    if more > 0 and available is not None and more * size_kb > available * MAX_SHARE:
        raise BackendUnavailable(
            f"--hugepages: {more} more {size_kb} kB pages would take {more * size_kb // 1024:,} "
            f"MiB of the {available // 1024:,} MiB available (at most {MAX_SHARE:.0%}): "
            "ask for fewer")


def _settle(account: dict) -> int:
    """Set every pool simkit raised to what its live holders need; return the shortfall.

    A pool no holder needs any more goes back to its ``original`` size, unless
    someone else changed it since simkit did (then it is theirs: left alone).
    """
    short = 0
    for key in list(account["pools"]):
        entry = account["pools"][key]
        size = int(key)
        wanted = sum(h["pages"] for h in account["holders"] if h["size_kb"] == size)
        now = _read_int(_pool_path(size))
        if not wanted:
            if now == entry.get("set", entry["original"]) and now != entry["original"]:
                _write_pool(size, entry["original"])
            del account["pools"][key]
            continue
        target = entry["original"] + max(0, wanted - entry["spare"])
        if now != target:
            _check_memory(size, target - (now or 0))
            got = _write_pool(size, target)
            entry["set"] = got
            short = max(short, target - got)
        else:
            entry["set"] = now
    return short


def _drop_dead(account: dict) -> list[str]:
    """Take holders that no longer run off the account, unmounting what they mounted."""
    done, alive = [], []
    for holder in account["holders"]:
        if rundir.running(holder["pid"], holder["start"]):
            alive.append(holder)
            continue
        if _unmount(holder["mount"]):
            done.append(f"hugetlbfs {holder['mount']}")
        done.append(f"{holder['pages']} huge pages of process {holder['pid']}")
    account["holders"] = alive
    return done


def sweep() -> list[str]:
    """Put back what simkit processes that no longer run reserved and mounted.

    Their holders leave the account (their hugetlbfs unmounted, the pool set
    to what the live holders need, or back to its original size), and any
    hugetlbfs under the run directory whose pid no longer runs is unmounted
    (one mounted just before a kill). Safe to call from several processes at once.

    Returns:
        What was put back, one short description each.
    """
    root = os.path.join(rundir.run_dir(), MOUNT_DIR)
    done: list[str] = []
    if os.path.isfile(os.path.join(rundir.run_dir(), ACCOUNT)):
        try:
            with _locked() as account:
                done += _drop_dead(account)
                _settle(account)
        except (OSError, BackendUnavailable):
            pass  # not root: nothing of ours to put back
    for mount in mounts():
        parent, name = os.path.split(mount["path"])
        owner = name.split("-")
        if parent == root and len(owner) >= 2 and owner[0].isdigit() and owner[1].isdigit() \
                and not rundir.running(int(owner[0]), int(owner[1])):
            if _unmount(mount["path"]):
                done.append(f"hugetlbfs {mount['path']}")
    return done


# -- mounts ------------------------------------------------------------------------------


def _libc():
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _mount(path: str, size_kb: int, pages: int) -> None:
    options = f"pagesize={size_kb}K,size={pages * size_kb}K,mode=0700".encode()
    if _libc().mount(b"simkit", path.encode(), b"hugetlbfs", 0, options) != 0:
        err = ctypes.get_errno()
        raise BackendUnavailable(f"cannot mount a hugetlbfs on {path}: {os.strerror(err)}"
                                 + (": needs root (CAP_SYS_ADMIN)" if err == errno.EPERM else ""))


def _unmount(path: str) -> bool:
    """Unmount ``path`` (detached: pages still mapped go back when their process ends)
    and remove the directory; whether a mount was there and is gone now."""
    mounted = any(m["path"] == path for m in mounts())
    if mounted and _libc().umount2(path.encode(), MNT_DETACH) != 0:
        return False  # not ours to unmount (not root): it stays, and so does its directory
    with contextlib.suppress(OSError):
        os.rmdir(path)
    return mounted


# -- a reservation -----------------------------------------------------------------------


@dataclass(frozen=True)
class HugeMount:
    """simkit's own hugetlbfs for one run, ``pages`` pages of ``size_kb`` KiB.

    Attributes:
        path: where it is mounted.
        pages: how many pages the processes using it may take together.
        size_kb: the page size (KiB).
        reserved: pages this reservation added to the kernel's pool (0: they were free).
    """

    path: str
    pages: int
    size_kb: int = DEFAULT_SIZE_KB
    reserved: int = 0

    def eal_args(self) -> list[str]:
        """EAL options that put a DPDK process on this mount instead of ``--no-huge``."""
        return ["--huge-dir", self.path, "--huge-unlink"]

    def to_dict(self) -> dict:
        """``{"pages", "size_kb", "mount", "reserved"}`` for a report."""
        return {"pages": self.pages, "size_kb": self.size_kb, "mount": self.path,
                "reserved": self.reserved}


@contextlib.contextmanager
def reserved(pages: int, size_kb: int = DEFAULT_SIZE_KB) -> Iterator[HugeMount]:
    """Huge pages and a hugetlbfs of simkit's own for the duration of the block.

    Raises the pool by what is missing, mounts the hugetlbfs (capped at
    ``pages``), and puts both back on every way out (an exception, Ctrl-C,
    SIGTERM turned into an exit); a SIGKILLed process's share is put back by
    the next run's :func:`sweep`.

    Args:
        pages: how many pages the run (engine and any DPDK DUT together) may take.
        size_kb: the page size, KiB (2048; 1048576 for 1 GiB pages).

    Raises:
        ConfigError: a bad page count.
        BackendUnavailable: this process cannot reserve or mount (not root, no
            such page size), or the kernel could not find the memory.
    """
    pages = parse_pages(pages)
    if not pages:
        raise ConfigError("hugepages: reserve at least one page (0 runs --no-huge)")
    able, why = can_reserve(size_kb)
    if not able:
        raise BackendUnavailable(f"--hugepages {pages}: {why}")
    me = rundir.start_time(os.getpid()) or 0
    path = os.path.join(rundir.run_dir(), MOUNT_DIR, f"{os.getpid()}-{me}-{next(_serial)}")
    holder = {"pid": os.getpid(), "start": me, "pages": pages, "size_kb": size_kb,
              "mount": path}
    sweep()
    added = _hold(holder)
    try:
        os.makedirs(path, mode=0o700)
        _mount(path, size_kb, pages)
        yield HugeMount(path, pages, size_kb, added)
    finally:
        _unmount(path)
        _release(holder)


def _hold(holder: dict) -> int:
    """Add ``holder`` to the account and raise the pool; the pages that added.

    Raises:
        BackendUnavailable: the kernel could not give them (the account is undone).
    """
    size = holder["size_kb"]
    with _locked() as account:
        key = str(size)
        before = _read_int(_pool_path(size)) or 0
        if key not in account["pools"]:
            account["pools"][key] = {"original": before,
                                     "spare": _read_int(_pool_path(size, "free_hugepages")) or 0,
                                     "set": before}
        account["holders"].append(holder)
        # the account on disk first: a kill from here on is swept
        _save(account)
        try:
            short = _settle(account)
            if short:
                raise BackendUnavailable(
                    f"--hugepages {holder['pages']}: the kernel found only "
                    f"{holder['pages'] - short} of the {holder['pages']} {size} kB pages "
                    "asked for (memory too fragmented or too small): ask for fewer, or "
                    f"reserve them at boot (hugepages=N on the kernel command line)")
        except BaseException:
            account["holders"].remove(holder)
            with contextlib.suppress(BackendUnavailable):
                _settle(account)
            raise
        return max(0, (_read_int(_pool_path(size)) or 0) - before)


def _save(account: dict) -> None:
    """Write the account atomically (the caller holds the lock); none left: no file."""
    path = os.path.join(rundir.run_dir(), ACCOUNT)
    if not (account["holders"] or account["pools"]):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        return
    partial = f"{path}.{os.getpid()}.partial"
    with open(partial, "w") as f:
        json.dump(account, f)
    os.replace(partial, path)


def _release(holder: dict) -> None:
    """Take ``holder`` off the account and shrink the pool to what the others need."""
    with _locked() as account:
        account["holders"] = [h for h in account["holders"] if h != holder]
        _settle(account)


def active() -> HugeMount | None:
    """The reservation the DPDK processes started here now use (see :func:`using`), or ``None``."""
    return _active.get()


@contextlib.contextmanager
def using(mount: HugeMount | None) -> Iterator[HugeMount | None]:
    """Within the block, :func:`active` is ``mount``: the engine and DPDK DUTs started
    there run on it (``None``: on ``--no-huge``)."""
    token = _active.set(mount)
    try:
        yield mount
    finally:
        _active.reset(token)
