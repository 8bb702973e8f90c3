"""The DUT's own EAL options and lcores: how ``{eal}`` is made, and what is refused (no root)."""

import subprocess
import sys

import pytest

from simkit import validators
from simkit.errors import ConfigError
from simkit.links.dut import DutPath, dut_lcores
from simkit.scenario import Scenario


def eal_of(path: DutPath, argv, lcores=None) -> list[str]:
    return path.placeholders_for(argv, lcores)["eal"].split()


def test_eal_carries_the_chosen_lcores_then_the_duts_extras():
    path = DutPath("t", dut_backend="dpdk", eal_args="--log-level=lib.eal:debug")
    eal = eal_of(path, ["app", "{eal}", "--", "-i"], lcores=1)
    assert eal[:2] == ["-l", dut_lcores(1)] and eal[-1] == "--log-level=lib.eal:debug"
    assert path.placeholders_for(["app", "{eal}"], 1)["lcores"] == dut_lcores(1)


@pytest.mark.parametrize("extras,argv,own", [
    ("-l 0", ["app", "{eal}", "--"], "0"),
    ("", ["app", "{eal}", "--lcores=0@0", "--", "-l", "9"], "0@0"),
    ("", ["app", "{eal}", "-c0x3"], "0x3"),
])
def test_a_users_lcore_option_replaces_the_default(extras, argv, own):
    path = DutPath("t", dut_backend="dpdk", eal_args=extras)
    placeholders = path.placeholders_for(argv)
    assert "-l" not in placeholders["eal"].split()[:1] and placeholders["lcores"] == own
    with pytest.raises(ConfigError, match="given twice"):
        path.placeholders_for(argv, lcores=1)


def test_a_wrappers_c_before_eal_is_not_an_lcore_option():
    path = DutPath("t", dut_backend="dpdk")
    assert eal_of(path, ["taskset", "-c", "1", "app", "{eal}"])[:2] == ["-l", dut_lcores()]
    assert eal_of(path, ["python3", "-c", "pass", "{eal}"])[:2] == ["-l", dut_lcores()]


def test_lcores_for_a_dut_without_eal_is_an_error():
    with pytest.raises(ConfigError, match=r"lcores=2 go into a DPDK DUT's \{eal\}"):
        DutPath("t", dut_backend="socket").placeholders_for(["feed", "{listen}"], lcores=2)


def test_unbalanced_quotes_in_the_duts_eal_args_are_one_line():
    with pytest.raises(ConfigError, match="no closing quotation: balance its quotes"):
        DutPath("t", dut_backend="dpdk", eal_args="--vdev 'x").placeholders_for(["a", "{eal}"])
    with pytest.raises(ConfigError, match="no closing quotation: balance its quotes"):
        validators.parse_eal_args("--vdev 'x")


def test_scenario_keeps_dut_eal_args_apart_and_wants_a_dut_for_them():
    spec = Scenario(link="veth", dut=["app", "{eal}"], dut_eal_args="-l 0,1", eal_args="-a x")
    assert (spec.dut_eal_args, spec.eal_args) == (("-l", "0,1"), ("-a", "x"))
    with pytest.raises(ConfigError, match="dut_eal_args .* need a dut"):
        Scenario(dut_eal_args="-l 0")


@pytest.mark.parametrize("value,parsed", [(2, 2), ("0,1", "0,1"), ("2-5", "2-5"),
                                          ("0, 3-4", "0,3-4")])
def test_lcores_forms(value, parsed):
    assert validators.parse_lcores(value) == parsed


@pytest.mark.parametrize("value", [True, 0, -1, "a", "1-", "0,,1", 2.5])
def test_bad_lcores_forms(value):
    with pytest.raises(ConfigError, match="lcores"):
        validators.parse_lcores(value)


def test_cli_dut_eal_args_with_unbalanced_quotes_is_one_line_exit_2():
    proc = subprocess.run([sys.executable, "-m", "simkit.cli", "run", "--dut", "app {eal}",
                           "--dut-eal-args", "-l '0"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "simkit run: error: argument --dut-eal-args: EAL arguments \"-l '0\": no closing "
        "quotation: balance its quotes (see simkit run --help)"]
