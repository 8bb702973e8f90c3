"""The engine's cores: ``--lcores GEN,RX``, a user's ``-l`` in ``--eal-args``, and the
kernel backends' two threads.

Outside truth: the kernel's view of the engine's threads while it runs
(``/proc/<pid>/task/<tid>``: the main thread is the generator, DPDK's
``rte-worker-N`` or the engine's own ``simkit-rx`` the receiver, each pinned to one core).
"""

import json
import subprocess
import sys
import time

import pytest

from simkit.cores import machine_cores

pytestmark = pytest.mark.needs_root
WAIT_S = 30
# DPDK 22.11 names its workers rte-worker-N; without EAL the engine's thread is simkit-rx
WORKER = ("rte-worker", "lcore-worker", "simkit-rx")


@pytest.fixture
def dpdk_ring(needs):
    needs("dpdk", "ring")


def simkit(*args, prefix=()) -> subprocess.Popen:
    return subprocess.Popen([*prefix, sys.executable, "-m", "simkit", "run", "--quiet", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def engine_threads(parent: int) -> dict[str, str]:
    """{thread name: allowed cores} of the engine ``parent`` started, once it has two."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{parent}/task/{parent}/children") as f:
                children = [int(pid) for pid in f.read().split()]
            for pid in children:
                with open(f"/proc/{pid}/comm") as f:
                    if f.read().strip() != "simkit-engine":
                        continue
                threads = {}
                for tid in __import__("os").listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{tid}/status") as f:
                        fields = dict(line.split(":\t", 1) for line in f.read().splitlines()
                                      if ":\t" in line)
                    name = "main" if int(tid) == pid else fields["Name"].strip()
                    threads[name] = fields["Cpus_allowed_list"].strip()
                if any(name.startswith(WORKER) for name in threads):
                    return threads
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    raise AssertionError("no engine with a worker lcore appeared")


def test_lcores_pin_the_generator_and_the_receiver_to_the_cores_given(tmp_path, dpdk_ring):
    gen, rx = machine_cores()[1], machine_cores()[0]  # the reverse of the default
    out = tmp_path / "run.json"
    proc = simkit("--lcores", f"{gen},{rx}", "--rate", "20000", "--count", "40000",
                  "--json", str(out))
    threads = engine_threads(proc.pid)
    _, err = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 0, err
    workers = {name: cpus for name, cpus in threads.items() if name.startswith(WORKER)}
    assert threads["main"] == str(gen)
    assert list(workers.values()) == [str(rx)], threads
    report = json.loads(out.read_text())
    assert report["engine"]["lcores"] == {"generator": gen, "receiver": rx}
    assert report["rx"]["packets"] == 40000


@pytest.mark.parametrize("eal", ["-l 0,1", "--lcores=0,1", "-l 1,0 --main-lcore 1"])
def test_a_users_own_lcores_in_eal_args_work(eal, dpdk_ring):
    proc = simkit("--count", "10000", f"--eal-args={eal}")
    out, err = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 0, err
    assert "10,000" in out


@pytest.mark.parametrize("args, prefix, message", [
    (("--eal-args=-l 0",), (), "the lcores in the EAL arguments give one lcore"),
    (("--lcores", "0,1"), ("taskset", "-c", "0"), "core 1 is not one this process may run on"),
])
def test_lcores_this_run_cannot_have_are_one_line_and_exit_2(args, prefix, message, dpdk_ring):
    proc = simkit("--count", "1000", *args, prefix=prefix)
    _, err = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("link,backend", [("veth", "socket"), ("ring", "dpdk")])
@pytest.mark.parametrize("confined", [False, True], ids=["first-two-cores", "taskset-one-core"])
def test_the_default_cores_are_the_first_two_the_process_may_use(
        link, backend, confined, needs_pair, nothing_left):
    """Without --lcores the generator (the main thread, spinning while it paces) keeps the
    first core this process may run on and the receiver takes the second, DPDK's lcores
    and the kernel backends' threads alike; a process confined to one core (taskset, a
    cpuset) stays on it, both threads there, never sent to cores it was not given."""
    needs_pair(link, backend, backend)
    if len(machine_cores()) < 2:
        pytest.skip("this process may run on one core: nothing to pin apart")
    first, second = (str(c) for c in machine_cores()[:2])
    taskset = ("taskset", "-c", second) if confined else ()
    proc = simkit("--backend", backend, "--link", link, "--rate", "20000", "--count", "40000",
                  prefix=taskset)
    threads = engine_threads(proc.pid)
    _, err = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 0, err
    workers = [cpus for name, cpus in threads.items() if name.startswith(WORKER)]
    assert (threads["main"], workers) == ((second, [second]) if confined
                                          else (first, [second])), threads
