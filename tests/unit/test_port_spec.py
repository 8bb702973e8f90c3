"""``port:ID[,ID]``: parsing, the engine's argv for PCI ports, and the checks (a stand-in sysfs)."""

import os

import pytest

from simkit import Scenario
from simkit.engine.run import engine_args
from simkit.errors import BackendUnavailable, ConfigError
from simkit.links import make_link
from simkit.links import port as port_link
from simkit.validators import parse_link


@pytest.mark.parametrize("value, expected", [
    ("port:0000:3B:00.0", "port:0000:3b:00.0"), ("port:3b:00.0,3b:00.1",
                                                 "port:0000:3b:00.0,0000:3b:00.1"),
    (" PORT:eth1 ", "port:eth1"), ("port:eth1,eth2", "port:eth1,eth2")])
def test_port_links_parse_to_one_normal_form(value, expected):
    assert parse_link(value) == expected
    assert Scenario(link=value).link == expected


@pytest.mark.parametrize("value, message", [
    ("port:", "give port:ID"), ("port:a,b,c", "give port:ID"), ("port:eth1,", "give port:ID"),
    ("port:eth 1", "neither a PCI address"), ("port:0000:3b:00.0,eth1", "both ports are PCI addresses"),
    ("port:eth1,eth1", "the same port twice"), ("port:waytoolonginterfacename", "neither")])
def test_bad_port_specs_are_config_errors(value, message):
    with pytest.raises(ConfigError, match=message):
        parse_link(value)


@pytest.fixture
def pci(tmp_path, monkeypatch):
    """A stand-in /sys/bus/pci/devices: ``pci(address, driver, numa)`` adds a NIC."""
    devices = tmp_path / "devices"
    drivers = tmp_path / "drivers"
    devices.mkdir()
    monkeypatch.setattr(port_link, "PCI_DEVICES", str(devices))
    monkeypatch.setattr(port_link, "NET_CLASS", str(tmp_path / "net"))

    def add(address, driver="vfio-pci", numa=0):
        dev = devices / address
        dev.mkdir()
        (dev / "class").write_text("0x020000\n")
        (dev / "numa_node").write_text(f"{numa}\n")
        if driver:
            (drivers / driver).mkdir(parents=True, exist_ok=True)
            os.symlink(drivers / driver, dev / "driver")
    return add


def test_two_pci_ports_are_allowed_with_a_and_opened_by_address(pci):
    pci("0000:3b:00.0")
    pci("0000:3b:00.1")
    scenario = Scenario(link="port:3b:00.0,3b:00.1", count=10)
    link = make_link(scenario.link, "simkit-1-0-x")
    wiring = link.setup()
    args = engine_args(scenario, wiring, progress=False)
    assert args[args.index("--tx-dev") + 1] == "0000:3b:00.0"
    assert args[args.index("--rx-dev") + 1] == "0000:3b:00.1"
    assert args[args.index("--eal") + 1] == "-a 0000:3b:00.0 -a 0000:3b:00.1"
    assert "--tx-netns" not in args and "--rx-netns" not in args


def test_one_looped_pci_port_is_both_devices_allowed_once(pci):
    pci("0000:3b:00.0", driver="mlx5_core")  # bifurcated: DPDK shares it with the kernel
    scenario = Scenario(link="port:0000:3b:00.0", count=10, lcores=(1, 0))
    wiring = make_link(scenario.link, "simkit-1-0-x").setup()
    args = engine_args(scenario, wiring, progress=False)
    assert args[args.index("--tx-dev") + 1] == args[args.index("--rx-dev") + 1] == "0000:3b:00.0"
    assert args[args.index("--eal") + 1] == "-l 1,0 --main-lcore 1 -a 0000:3b:00.0"


def test_a_pci_port_on_a_kernel_driver_says_how_to_bind_it(pci):
    pci("0000:3b:00.0", driver="ixgbe")
    with pytest.raises(BackendUnavailable, match=r"port 0000:3b:00.0 is bound to ixgbe .*"
                                                 r"dpdk-devbind.py -b vfio-pci 0000:3b:00.0"):
        make_link("port:0000:3b:00.0", "simkit-1-0-x").setup()


def test_a_missing_pci_port_is_bad_input(pci):
    with pytest.raises(ConfigError, match="no PCI device at that address"):
        make_link("port:0000:3b:00.0", "simkit-1-0-x").setup()


def test_the_ports_numa_node_is_what_lcores_are_checked_against(pci, monkeypatch):
    from simkit import cores

    pci("0000:3b:00.0", numa=1)
    link = make_link("port:0000:3b:00.0", "simkit-1-0-x")
    link.setup()
    assert link.numa_nodes() == {"0000:3b:00.0": 1}
    monkeypatch.setattr(cores, "machine_cores", lambda: [0, 1, 2, 3])
    monkeypatch.setattr(cores, "node_cores", lambda node: [[0, 1], [2, 3]][node])
    cores.check_engine_lcores((2, 3), link.numa_nodes())
    with pytest.raises(ConfigError, match="NUMA node 1"):
        cores.check_engine_lcores((0, 1), link.numa_nodes())


def test_real_ports_are_driven_by_dpdk_only():
    with pytest.raises(ConfigError, match="needs backend dpdk on both sides"):
        make_link("port:eth1", "simkit-1-0-x", tx_backend="io_uring")


def test_doctor_ports_lists_bindings(pci):
    pci("0000:3b:00.0", driver="ixgbe")
    pci("0000:3b:00.1", driver="vfio-pci", numa=1)
    listed = {p.id: p for p in port_link.list_ports()}
    assert listed["0000:3b:00.0"].driver == "ixgbe" and not listed["0000:3b:00.0"].dpdk_usable
    assert listed["0000:3b:00.1"].dpdk_usable and listed["0000:3b:00.1"].numa_node == 1
    text = port_link.ports_text([p.to_dict() for p in listed.values()])
    assert "0000:3b:00.0     driver ixgbe" in text and "dpdk: bind vfio-pci" in text
    assert "numa 1" in text


def test_the_plugin_judges_a_port_link_by_the_dpdk_backend():
    from simkit.pytest_plugin.session import BypassSession

    session = BypassSession(selection=("dpdk",), link="port:eth1", eal_args="",
                            dut_eal_args="", strict=False, report_path=None, budget_scale=1.0)
    session._facts = {"backends": {"dpdk": {"available": False, "reason": "no DPDK here"}}}
    assert session.availability("links", "port:eth1") == (False, "no DPDK here")
    assert session.pair("port:eth1", "dpdk") == (False, "no DPDK here")
    assert session.pair("port:eth1", "io_uring")[1].startswith("link 'port:eth1' drives real "
                                                              "ports with dpdk")


def test_doctor_ports_prints_the_list_and_its_json_key(pci, capsys):
    import json

    from simkit.cli import main

    pci("0000:3b:00.0", driver="vfio-pci")
    assert main(["doctor", "--ports", "--json"]) == 0
    ports = json.loads(capsys.readouterr().out)["ports"]
    assert [p["id"] for p in ports] == ["0000:3b:00.0"] and ports[0]["dpdk_usable"]
    assert main(["doctor", "--ports"]) == 0
    assert "0000:3b:00.0     driver vfio-pci" in capsys.readouterr().out
