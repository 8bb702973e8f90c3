"""simkit.cores: the engine's --lcores GEN,RX, read, checked against the machine and NUMA."""

import pytest

from simkit import Scenario, cores
from simkit.errors import ConfigError


@pytest.mark.parametrize("value, expected", [("2,3", (2, 3)), (" 1 , 0 ", (1, 0)),
                                             ((0, 1), (0, 1)), ([3, 2], (3, 2)), (None, None)])
def test_gen_rx_pairs_are_read_from_text_and_tuples(value, expected):
    assert cores.parse_engine_lcores(value) == expected


@pytest.mark.parametrize("value, message", [
    ("0,0", "each poll a core of their own"), ("1", "must be GEN,RX"), ("0,1,2", "GEN,RX"),
    ("a,b", "GEN,RX"), ((0, True), "GEN,RX"), ("0,99999", "0..4095"), (7, "GEN,RX")])
def test_anything_else_is_a_config_error(value, message):
    with pytest.raises(ConfigError, match=message):
        cores.parse_engine_lcores(value)


def test_the_eal_puts_the_generator_on_the_main_lcore():
    assert cores.engine_eal((3, 2)) == ["-l", "3,2", "--main-lcore", "3"]
    assert cores.engine_eal(None) == []


def test_cores_outside_this_process_affinity_are_refused(monkeypatch):
    monkeypatch.setattr(cores, "machine_cores", lambda: [0, 1, 2, 3])
    cores.check_engine_lcores((2, 3))
    with pytest.raises(ConfigError, match=r"the receiver's core 7 is not one this process may "
                                          r"run on \(0,1,2,3\)"):
        cores.check_engine_lcores((2, 7))


def test_a_ports_numa_node_must_hold_both_cores(monkeypatch):
    monkeypatch.setattr(cores, "machine_cores", lambda: list(range(8)))
    monkeypatch.setattr(cores, "node_cores", lambda node: {0: [0, 1, 2, 3],
                                                          1: [4, 5, 6, 7]}.get(node))
    cores.check_engine_lcores((4, 5), {"0000:3b:00.0": 1})
    cores.check_engine_lcores((0, 5), {"0000:3b:00.0": -1})  # the kernel does not say
    with pytest.raises(ConfigError, match=r"port 0000:3b:00.0 is on NUMA node 1 \(cores "
                                          r"4,5,6,7\); core\(s\) 3 are not"):
        cores.check_engine_lcores((3, 5), {"0000:3b:00.0": 1})


def test_cpulists_in_the_kernels_form():
    assert cores.parse_cpulist("0-3,8,10-11\n") == [0, 1, 2, 3, 8, 10, 11]


def test_a_scenario_takes_lcores_once_and_only_with_dpdk():
    assert Scenario(lcores="1,0").lcores == (1, 0)
    assert Scenario(lcores=[1, 0]).to_dict()["lcores"] == [1, 0]
    with pytest.raises(ConfigError, match="given twice"):
        Scenario(lcores=(1, 0), eal_args="-l 0,1")
    with pytest.raises(ConfigError, match="need a dpdk side"):
        Scenario(lcores=(1, 0), backend="socket", link="veth")


def test_a_dpdk_duts_default_lcores_avoid_the_engines_chosen_cores(monkeypatch):
    from simkit.links import dut

    monkeypatch.setattr(dut, "machine_cores", lambda: [0, 1, 2, 3])
    assert dut.dut_lcores() == "2,3"
    assert dut.dut_lcores(None, (2, 3)) == "0,1"
    path = dut.DutPath("simkit-1-0-x", engine_cores=(3, 0))
    assert path.engine_cores == (3, 0)
    assert dut.dut_lcores(1, path.engine_cores) == "1"


@pytest.mark.parametrize("allowed,engine,dut_default", [
    ([0, 1, 2, 3], (0, 1), "2,3"),
    ([4, 5, 6, 7], (4, 5), "6,7"),   # a cpuset: the engine's defaults are inside it
    ([3], (3, 3), "3"),              # one core: everything shares it
])
def test_the_engines_default_cores_are_the_first_two_allowed(monkeypatch, allowed, engine,
                                                              dut_default):
    from simkit.links import dut

    monkeypatch.setattr(cores, "machine_cores", lambda: allowed)
    monkeypatch.setattr(dut, "machine_cores", lambda: allowed)
    assert cores.default_engine_cores() == engine
    assert dut.dut_lcores() == dut_default
