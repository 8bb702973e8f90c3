"""``--link port:ID[,ID]`` on stand-ins for real ports: veth ends given by interface name.

No NIC here, so the ports are a veth pair in a namespace this test makes, and
the whole ``simkit run`` runs inside it (``ip netns exec``), as it would run in
the host's namespace next to a real NIC. Two ports: the generator sends on one
end, the receiver takes the other. One port looped by a cable: the peer end
sends back everything it receives (a tc ``mirred`` redirect), like a loopback
plug. Outside truth: the kernel's interface counters. Ports that are down or
have a small MTU are refused before any traffic, with one line and exit 77.
"""

import json
import os
import subprocess
import sys

import pytest

from simkit import netns

pytestmark = pytest.mark.needs_root
WAIT_S = 60
COUNT = 20000


@pytest.fixture(autouse=True)
def _needs(needs):
    needs("dpdk", "veth", "namespaces")


@pytest.fixture
def wire():
    """A namespace with a veth pair ``(ns, a, b)``, both ends up, removed afterwards."""
    name = f"{netns.unique_base()}p"
    netns.create(name)
    try:
        a, b = f"{name[:-1]}x", f"{name[:-1]}y"
        netns.run_ip("link", "add", a, "type", "veth", "peer", "name", b, netns=name)
        for end in (a, b):
            netns.run_ip("link", "set", end, "up", netns=name)
        yield name, a, b
    finally:
        netns.delete(name)


def simkit_in(ns, *args, json_path=None):
    argv = ["ip", "netns", "exec", ns, sys.executable, "-m", "simkit", "run", "--quiet", *args]
    if json_path:
        argv += ["--json", str(json_path)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=WAIT_S)


def counters(ns, ifname) -> dict:
    info = json.loads(netns.run_ip("-j", "-s", "link", "show", "dev", ifname, netns=ns))[0]
    return {"tx": info["stats64"]["tx"]["packets"], "rx": info["stats64"]["rx"]["packets"]}


@pytest.mark.parametrize("production", [(), ("--hugepages", "32", "--lcores", "1,0")],
                         ids=["defaults", "hugepages-lcores"])
def test_two_ports_by_interface_name_carry_every_packet(wire, tmp_path, production, needs,
                                                        hugepages_put_back):
    ns, a, b = wire
    if production:
        needs("hugepages")
    before = counters(ns, b)
    out = tmp_path / "run.json"
    proc = simkit_in(ns, "--link", f"port:{a},{b}", "--count", str(COUNT), "--rate", "50000",
                     *production, json_path=out)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report["link"] == f"port:{a},{b}"
    assert report["rx"]["packets"] == report["tx"]["packets"] == COUNT
    assert [p["id"] for p in report["engine"]["ports"]] == [a, b]
    assert report["engine"]["ports"][0]["mtu"] == 1500
    assert report["engine"]["timestamps"] == {"rx": "tsc"}
    assert counters(ns, b)["rx"] - before["rx"] >= COUNT  # the kernel saw them cross
    if production:  # the way a pre-deployment run goes: its own pages and cores
        assert report["engine"]["hugepages"]["pages"] == 32
        assert report["engine"]["lcores"] == {"generator": 1, "receiver": 0}
        assert not os.path.exists(report["engine"]["hugepages"]["mount"])  # unmounted, removed
        hugepages_put_back()  # the pool


def test_one_port_looped_back_by_its_peer(wire, tmp_path):
    ns, a, b = wire
    # the loopback plug: whatever enters b leaves b again, back to a
    netns.run_tc("qdisc", "add", "dev", b, "ingress", netns=ns)
    netns.run_tc("filter", "add", "dev", b, "parent", "ffff:", "protocol", "all", "u32",
                 "match", "u32", "0", "0", "action", "mirred", "egress", "redirect", "dev", b,
                 netns=ns)
    out = tmp_path / "run.json"
    proc = simkit_in(ns, "--link", f"port:{a}", "--count", str(COUNT), "--rate", "50000",
                     json_path=out)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report["rx"]["packets"] == COUNT and report["seq"]["lost"] == 0
    assert counters(ns, a)["rx"] >= COUNT


def test_without_the_loop_one_port_receives_nothing(wire):
    """Control for the looped test: its own transmissions do not come back by themselves."""
    ns, a, _ = wire
    proc = simkit_in(ns, "--link", f"port:{a}", "--count", "2000", "--rate", "50000",
                     "--timeout", "10")
    assert proc.returncode == 1 and "lost 2,000" in proc.stderr


@pytest.mark.parametrize("break_it, message", [
    (("link", "set", "{b}", "down"), "link is down"),
    (("link", "set", "{a}", "mtu", "1400"), "MTU 1400, a run needs 1500"),
])
def test_a_port_down_or_with_a_small_mtu_is_refused_before_traffic(wire, break_it, message):
    ns, a, b = wire
    netns.run_ip(*(arg.format(a=a, b=b) for arg in break_it), netns=ns)
    before = counters(ns, a)
    proc = simkit_in(ns, "--link", f"port:{a},{b}", "--count", "1000")
    assert proc.returncode == 77
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert counters(ns, a)["tx"] == before["tx"]  # nothing was sent


def test_an_unknown_port_is_bad_input(wire):
    ns, a, _ = wire
    proc = simkit_in(ns, "--link", f"port:{a},nosuchport0", "--count", "1000")
    assert proc.returncode == 2
    assert "port nosuchport0: no interface of that name" in proc.stderr
