"""`run(scenario)`: set up the link, drive the native engine across it, report."""

from __future__ import annotations

from collections.abc import Callable

from simkit.engine.process import call_engine, unique_prefix
from simkit.errors import ConfigError
from simkit.links import default_rx_backend, make_link
from simkit.report import Report
from simkit.scenario import Scenario

IMPLEMENTED_BACKENDS = ("dpdk", "io_uring", "socket")
NOT_YET = "is not implemented in this version of simkit"
# engine facts about the data path, kept in Report.engine (and its to_dict)
ENGINE_IO_KEYS = ("tx_backend", "rx_backend", "receiver", "io_uring")


def _refuse_unimplemented(scenario: Scenario) -> None:
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
            "--tx-backend", wiring.tx_backend, "--rx-backend", wiring.rx_backend,
            "--count", str(scenario.count), "--burst", str(scenario.burst),
            "--seed", str(scenario.seed), "--timeout-s", f"{scenario.timeout_s:g}"]
    if wiring.tx_netns:
        args += ["--tx-netns", wiring.tx_netns]
    if wiring.rx_netns:
        args += ["--rx-netns", wiring.rx_netns]
    if wiring.dst_mac:
        args += ["--dst-mac", wiring.dst_mac]
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

    The link (namespaces, interfaces, files) exists only for the duration of
    the engine's run and is removed whatever happens: the engine failing or
    being killed, a timeout, Ctrl-C.

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
    rx_backend = scenario.rx_backend or default_rx_backend(scenario.link, scenario.backend)
    link = make_link(scenario.link, prefix, pcap_path=scenario.pcap_path,
                     tx_backend=scenario.backend, rx_backend=rx_backend)
    with link as wiring:
        raw = call_engine(engine_args(scenario, wiring, progress=on_progress is not None),
                          prefix, scenario.timeout_s, on_progress)
    report = Report.from_engine(scenario, raw, budget_ns=budget_ns)
    # which backends ran, whether anything received, io_uring's modes
    report.engine.update({key: raw[key] for key in ENGINE_IO_KEYS if key in raw})
    report.engine["link_receiver"] = wiring.receiver
    return report
