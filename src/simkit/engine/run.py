"""`run(scenario)`: set up the link, drive the native engine across it, report."""

from __future__ import annotations

from collections.abc import Callable

from simkit.engine.process import call_engine, unique_prefix
from simkit.errors import BackendUnavailable, ConfigError
from simkit.links import make_link
from simkit.report import Report
from simkit.scenario import Scenario

IMPLEMENTED_BACKENDS = ("dpdk",)
NOT_YET = "is not implemented in this version of simkit"


def _refuse_unimplemented(scenario: Scenario) -> None:
    if scenario.backend not in IMPLEMENTED_BACKENDS:
        raise BackendUnavailable(f"backend {scenario.backend!r} {NOT_YET} "
                                 "(planned: data-plane issue)")
    unsupported = [name for name, wanted in (
        ("--proto itch", scenario.proto != "seed"),
        ("impairments", bool(scenario.impairments)),
        ("malformed packets", scenario.malformed > 0),
        ("a DUT", scenario.dut is not None),
    ) if wanted]
    if unsupported:
        raise ConfigError(f"{', '.join(unsupported)} {NOT_YET}")


def engine_args(scenario: Scenario, wiring, progress: bool) -> list[str]:
    """The ``simkit-engine run`` options for ``scenario`` over ``wiring``."""
    args = ["run", "--tx-dev", wiring.tx_dev, "--rx-dev", wiring.rx_dev,
            "--count", str(scenario.count), "--burst", str(scenario.burst),
            "--seed", str(scenario.seed), "--timeout-s", f"{scenario.timeout_s:g}"]
    if wiring.phased:
        args.append("--phased")
    if scenario.rate_pps:
        args += ["--rate", f"{scenario.rate_pps:.6f}"]
    if scenario.udp_checksum:
        args.append("--udp-checksum")
    if scenario.eal_args:
        args += ["--eal", " ".join(scenario.eal_args)]
    if progress:
        args.append("--progress")
    return args


def run(scenario: Scenario, budget_ns: dict[str, int] | None = None,
        on_progress: Callable[[int, int], None] | None = None) -> Report:
    """Run one scenario and return its report.

    Args:
        scenario: what to run.
        budget_ns: latency limits (ns) recorded in the report and its verdict.
        on_progress: called with (tx, rx) packet counts while the run goes on.

    Raises:
        ConfigError: the scenario asks for something invalid or not supported.
        BackendUnavailable: its backend or link cannot run on this machine.
        NativeError: the engine failed.
    """
    _refuse_unimplemented(scenario)
    prefix = unique_prefix()
    with make_link(scenario.link, prefix, pcap_path=scenario.pcap_path) as wiring:
        raw = call_engine(engine_args(scenario, wiring, progress=on_progress is not None),
                          prefix, scenario.timeout_s, on_progress)
    return Report.from_engine(scenario, raw, budget_ns=budget_ns)
