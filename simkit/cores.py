"""The engine's cores: ``simkit run --lcores GEN,RX`` (``Scenario.lcores``).

By default the engine's generator polls on the first core this process may
run on (DPDK's main lcore; core 0 on most machines) and its receiver on the
second (the worker lcore), both cores of a process confined to one
(:func:`default_engine_cores`, as native/src/io/thread.c chooses them for
DPDK's lcores and for the kernel backends' threads). ``--lcores GEN,RX`` puts them on the
cores production uses: EAL gets ``-l GEN,RX --main-lcore GEN``, so the
generator runs on GEN and the receiver on RX. Both must be cores this process
may run on (its affinity: a cpuset or ``taskset`` narrows it) and, for a real
port, on the port's NUMA node: a poller across the interconnect from its NIC
pays for every descriptor and mbuf it touches.
"""

from __future__ import annotations

import os
import re

from simkit.errors import ConfigError

NODE_CPULIST = "/sys/devices/system/node/node{node}/cpulist"
_PAIR = re.compile(r"^\s*(\d+)\s*,\s*(\d+)\s*$")
MAX_CORE = 4095


def machine_cores() -> list[int]:
    """The cores this process may run on (its affinity), in order."""
    return sorted(os.sched_getaffinity(0))


def default_engine_cores() -> tuple[int, int]:
    """The engine's (generator, receiver) cores without ``--lcores``: the first two this
    process may run on, or its one core twice."""
    cores = machine_cores()
    return cores[0], cores[1 if len(cores) > 1 else 0]


def parse_engine_lcores(value) -> tuple[int, int] | None:
    """``GEN,RX``: the generator's and the receiver's core (``"2,3"`` or ``(2, 3)``).

    Only the form is checked (two different core numbers); whether this machine
    has them is :func:`check_engine_lcores`'s business, at run time.

    Raises:
        ConfigError: not two core numbers, or the same core twice.
    """
    if value is None:
        return None
    if isinstance(value, (tuple, list)) and len(value) == 2 \
            and all(isinstance(c, int) and not isinstance(c, bool) for c in value):
        gen, rx = value
    else:
        match = _PAIR.match(str(value)) if isinstance(value, str) else None
        if match is None:
            raise ConfigError(f"lcores must be GEN,RX: the generator's and the receiver's "
                              f"core, e.g. 2,3; got {value!r}")
        gen, rx = int(match.group(1)), int(match.group(2))
    if not (0 <= gen <= MAX_CORE and 0 <= rx <= MAX_CORE):
        raise ConfigError(f"lcores {gen},{rx}: core numbers are 0..{MAX_CORE}")
    if gen == rx:
        raise ConfigError(f"lcores {gen},{rx}: the generator and the receiver each poll "
                          "a core of their own; give two different cores")
    return gen, rx


def parse_cpulist(text: str) -> list[int]:
    """``0-3,8,10-11`` (the kernel's cpulist form) as core numbers."""
    cores: list[int] = []
    for part in text.strip().split(","):
        if not part:
            continue
        low, _, high = part.partition("-")
        cores += range(int(low), int(high or low) + 1)
    return cores


def node_cores(node: int) -> list[int] | None:
    """The cores of NUMA node ``node``; ``None`` where the kernel does not say."""
    try:
        with open(NODE_CPULIST.format(node=node)) as f:
            return parse_cpulist(f.read())
    except (OSError, ValueError):
        return None


def check_engine_lcores(lcores: tuple[int, int] | None, numa_nodes: dict[str, int] | None = None,
                        ) -> None:
    """Check the engine's cores against this machine and its ports' NUMA nodes.

    Args:
        lcores: (generator core, receiver core), or ``None`` (the default cores).
        numa_nodes: each real port's NUMA node (-1: the kernel does not say).

    Raises:
        ConfigError: a core this process may not run on, or one on another
            NUMA node than a port it polls.
    """
    if lcores is None:
        return
    allowed = machine_cores()
    for role, core in zip(("generator", "receiver"), lcores, strict=True):
        if core not in allowed:
            raise ConfigError(f"lcores {lcores[0]},{lcores[1]}: the {role}'s core {core} is "
                              f"not one this process may run on ({_text(allowed)})")
    for port, node in (numa_nodes or {}).items():
        if node is None or node < 0:
            continue
        local = node_cores(node)
        if local is None:
            continue
        away = [core for core in lcores if core not in local]
        if away:
            raise ConfigError(f"lcores {lcores[0]},{lcores[1]}: port {port} is on NUMA node "
                              f"{node} (cores {_text(local)}); core(s) {_text(away)} are "
                              "not: choose cores of the port's node")


def engine_eal(lcores: tuple[int, int] | None) -> list[str]:
    """The EAL options that put the generator on ``GEN`` and the receiver on ``RX``."""
    if lcores is None:
        return []
    gen, rx = lcores
    return ["-l", f"{gen},{rx}", "--main-lcore", str(gen)]


def _text(cores) -> str:
    return ",".join(str(c) for c in cores)
