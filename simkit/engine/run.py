"""`run(scenario)`: set up the link, drive the native engine across it, report."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import replace

from simkit import book, cores, hugepages, lines, profile, recovery
from simkit._native import core
from simkit.dut import DUT_READY, DUT_READY_TIMEOUT_S
from simkit.engine import streams
from simkit.engine.process import call_engine, call_engine_pair, unique_prefix
from simkit.errors import ConfigError
from simkit.impair import Impairer, Malform, parse_specs
from simkit.links import (
    KERNEL_BACKENDS,
    DutPath,
    PortLink,
    default_rx_backend,
    dut_backend_of,
    hops,
    make_link,
)
from simkit.links.qdisc import require as require_qdiscs
from simkit.links.qdisc import shaped
from simkit.report import Report
from simkit.scenario import Scenario, require_scenario
from simkit.validators import parse_regex

IMPLEMENTED_BACKENDS = ("dpdk", "io_uring", "socket", "af_xdp")
# engine facts about the data path, kept in Report.engine (and its to_dict)
ENGINE_IO_KEYS = ("tx_backend", "rx_backend", "receiver", "io_uring", "processes", "af_xdp")
DUT_LINKS = ("ring", "veth")  # ring: the default, i.e. no link asked for; a DUT path is veth
RECEIVER_DRAIN_MS = 200  # a two-process receiver's silence before it ends (engine default)
RECEIVER_DRAIN_GAPS = 3  # ... at least this many gaps of a paced run


def _count_args(scenario: Scenario, count: int) -> list[str]:
    # with a duration the count is no limit, except for itch: its stream holds `count` datagrams
    if scenario.duration_s is not None and scenario.proto != "itch":
        return []
    return ["--count", str(count)]


def engine_args(scenario: Scenario, wiring, progress: bool) -> list[str]:
    """The ``simkit-engine run`` options for ``scenario`` over ``wiring``."""
    stream, count = stream_args(scenario)
    args = ["run", "--tx-dev", wiring.tx_dev, "--rx-dev", wiring.rx_dev,
            "--tx-backend", wiring.tx_backend, "--rx-backend", wiring.rx_backend,
            *_count_args(scenario, count), "--burst", str(scenario.burst),
            "--seed", str(scenario.seed), "--timeout-s", f"{scenario.timeout_s:g}"]
    if wiring.tx_netns:
        args += ["--tx-netns", wiring.tx_netns]
    if wiring.rx_netns:
        args += ["--rx-netns", wiring.rx_netns]
    if wiring.dst_mac:
        args += ["--dst-mac", wiring.dst_mac]
    if wiring.phased:
        args.append("--phased")
    if scenario.profile is not None:  # a built-in scales rate_pps
        args += ["--profile", profile.engine_file(
            profile.load(scenario.profile, scenario.rate_pps, scenario.replay_speed),
            streams.spool_dir())]
    elif scenario.rate_pps:
        args += ["--rate", f"{scenario.rate_pps:.6f}"]
    if scenario.arrivals != "constant":
        args += ["--arrivals", scenario.arrivals]
    if scenario.duration_s is not None:
        args += ["--duration", f"{scenario.duration_s:g}"]
    if scenario.flows > 1:
        args += ["--flows", str(scenario.flows)]
    if scenario.udp_checksum:
        args.append("--udp-checksum")
    args += [flag for flag, on in (("--send-zc", scenario.send_zc),
                                   ("--sqpoll", scenario.sqpoll)) if on]
    if scenario.uring_mode:
        args += ["--uring-mode", scenario.uring_mode]
    args += eal_option(scenario, wiring)
    if progress:
        args.append("--progress")
    return args + impair_args(scenario) + stream


def eal_option(scenario: Scenario, wiring=None) -> list[str]:
    """The engine's ``--eal "ARGS"``: its lcores (:mod:`simkit.cores`), the huge
    pages of the run (:func:`memory`), what the link needs (real ports' ``-a``),
    then the user's EAL arguments; none without any."""
    mount = hugepages.active()
    words = [*cores.engine_eal(scenario.lcores), *(mount.eal_args() if mount else ()),
             *(wiring.eal_args if wiring is not None else ()), *scenario.eal_args]
    return ["--eal", " ".join(words)] if words else []


@contextlib.contextmanager
def memory(scenario: Scenario, mount: hugepages.HugeMount | None = None):
    """The memory the run's DPDK processes use, for the duration of the block.

    ``mount``: a reservation the caller holds (a DUT path's), used as it is.
    Else with ``scenario.hugepages`` a reservation of that many pages made for
    the block (and given back after it) unless one is active already; else
    none: ``--no-huge``. Yields the mount (or ``None``), which
    :func:`eal_option` and a DUT's ``{eal}`` put the processes on.
    """
    active = mount or hugepages.active()
    if active is not None or not scenario.hugepages:
        with hugepages.using(active) as used:
            yield used
        return
    with hugepages.reserved(scenario.hugepages) as made, hugepages.using(made) as used:
        yield used


def stream_args(scenario: Scenario) -> tuple[list[str], int]:
    """``--stream PATH`` for ``--proto itch`` and the number of frames to send.

    The stream is the simulated session (made by the engine as it sends,
    :func:`simkit.engine.streams.itch_live`; prepared in full when impaired),
    or with ``scenario.replay`` the UDP payloads of the user's capture (at
    most ``count``), prepared by :mod:`simkit.engine.streams`; seed needs none (the engine builds it). A
    replay at its capture's timing (:attr:`Scenario.capture_speed`) adds
    ``--arrivals capture --speed X``.

    Raises:
        ConfigError: more datagrams than a prepared stream may have, a
            capture that is missing, truncated or holds no UDP frame, or one
            whose span at its speed does not fit in the run's timeout.
    """
    if scenario.proto != "itch":
        return [], scenario.count
    if scenario.replay:
        stream = streams.replay_stream(scenario.replay, scenario.count, scenario.udp_checksum)
        return ["--stream", stream.path, *_capture_args(scenario, stream.span_ns)], stream.frames
    market = {"symbols": scenario.symbols, "skew": scenario.symbol_skew}
    if not scenario.prepared_session:  # made by the engine as it sends: any count, bounded memory
        return ["--stream", streams.itch_live(scenario.count, scenario.seed,
                                              scenario.udp_checksum, **market)], scenario.count
    path = streams.itch_stream(scenario.count, scenario.seed, scenario.udp_checksum, **market)
    return ["--stream", path], scenario.count


def _capture_args(scenario: Scenario, span_ns: int) -> list[str]:
    """``--arrivals capture --speed X`` for a replay at its capture's timing (else none)."""
    speed = scenario.capture_speed
    if speed is None:
        return []
    span_s = span_ns / speed / 1e9
    if scenario.duration_s is None and span_s >= scenario.timeout_s:
        raise ConfigError(f"{scenario.replay} spans {span_s:.3f} s at replay_speed {speed:g}: "
                          f"not under timeout_s {scenario.timeout_s:g}; raise timeout_s "
                          "(--timeout) or replay_speed (--speed), or give duration_s")
    return ["--arrivals", "capture", "--speed", repr(speed)]


# struct sk_impair_model fields the engine's --impair takes, besides kind
_NATIVE_IMPAIR_FIELDS = ("p", "r", "h", "k", "gap", "layer", "len", "mean_ns", "jitter_ns",
                         "malform_kinds")
# ... and the key it goes by there where that differs
_NATIVE_IMPAIR_KEYS = {"malform_kinds": "kinds"}


def native_impair_spec(model) -> str:
    """One model as the engine's ``--impair kind=CODE,key=value,...``.

    Filled by the model's own ``fill_native`` (the struct the native core
    validates), so Python and the generator read the same numbers; floats
    are written with ``repr`` so they parse back exactly.
    """
    ffi, _ = core()
    native = ffi.new("struct sk_impair_model *")
    model.fill_native(native)
    parts = [f"kind={native.kind}"]
    for name in _NATIVE_IMPAIR_FIELDS:
        value = getattr(native, name)
        if value or (name == "p" and model.kind != "delay"):
            parts.append(f"{_NATIVE_IMPAIR_KEYS.get(name, name)}={value!r}")
    return ",".join(parts)


def impairment_models(scenario: Scenario) -> tuple:
    """``scenario.impairments``, plus ``malform:kind=any,p=R`` for ``malformed=R``.

    Raises:
        ConfigError: a bad SPEC, or ``malformed`` next to a malform impairment.
    """
    models = parse_specs(scenario.impairments) if scenario.impairments else ()
    if not scenario.malformed:
        return models
    if any(isinstance(m, Malform) for m in models):
        raise ConfigError(f"malformed={scenario.malformed:g} is malform:kind=any,"
                          f"p={scenario.malformed:g}: drop it or the malform impairment")
    return (*models, Malform(p=scenario.malformed))


def impair_args(scenario: Scenario) -> list[str]:
    """``--impair``/``--impair-seed`` for ``scenario.impairments`` (none without them).

    The models are parsed and checked by :mod:`simkit.impair` (one place for
    validation); the impairment seed is the scenario's seed, so
    ``Impairer(scenario.impairments, scenario.seed)`` gives the same ground
    truth for the same frames.

    Raises:
        ConfigError: a bad SPEC, contradictory models, or a reorder gap not
            shorter than the stream.
    """
    if scenario.lines is not None:  # each line its own models
        return lines.engine_args(scenario)
    models = impairment_models(scenario)
    if not models:
        return []
    impairer = Impairer(models, seed=scenario.seed)
    impairer.check_stream(scenario.count)
    args = []
    for model in impairer.models:
        args += ["--impair", native_impair_spec(model)]
    return [*args, "--impair-seed", str(scenario.seed)]


def run(scenario: Scenario, budget_ns: dict[str, int] | None = None,
        on_progress: Callable[[int, int], None] | None = None, ready: str | None = DUT_READY,
        ready_timeout_s: float = DUT_READY_TIMEOUT_S) -> Report:
    """Run one scenario and return its report.

    The link (namespaces, interfaces, files) exists only for the duration of
    the engine's run and is removed whatever happens: the engine failing or
    being killed, a timeout, Ctrl-C. With ``scenario.dut`` the run goes
    generator -> DUT -> receiver (:class:`simkit.links.DutPath`): the DUT is
    started with its placeholders filled, traffic starts once it is ready, and
    it is stopped (and reaped) before the path is removed.

    Args:
        scenario: what to run.
        budget_ns: latency limits (ns) recorded in the report and its verdict.
        on_progress: called with (tx, rx) packet counts while the run goes on.
        ready: with a DUT: a regex one line of its output matches once it is
            ready (default: the line ``READY``); ``None``: ready once started.
        ready_timeout_s: with a DUT: how long it may take to become ready.

    Raises:
        ConfigError: the scenario asks for something invalid or not supported.
        BackendUnavailable: its backend or link cannot run on this machine.
        NativeError: the engine failed.
        CheckFailed: the DUT exited before it was ready, was never ready, or
            exited during the run (the message carries its output tail).
    """
    require_scenario(scenario)  # bad arguments: one ConfigError, before anything is set up
    ready = None if ready is None else parse_regex(ready, "ready")
    require_qdiscs(scenario.link_impairments)  # before any namespace (or huge page) is made
    cores.check_engine_lcores(scenario.lcores)
    if scenario.dut is None:
        recovery.engine_args(scenario, None)  # recovery needs a DUT: refused here
        if scenario.check is not None:
            raise ConfigError(f"check {scenario.check} judges a DUT's output: it needs a DUT "
                              "(--dut, or bypass.spawn before bypass.run)")
    with memory(scenario) as mount:
        if scenario.dut is not None:
            report = _run_through_dut(scenario, budget_ns, on_progress, ready, ready_timeout_s)
        else:
            report = _run_loopback(scenario, budget_ns, on_progress)
    return _with_memory(report, mount)


def _with_memory(report: Report, mount: hugepages.HugeMount | None) -> Report:
    """``report.engine["hugepages"]``: the reservation the run's DPDK processes used."""
    if mount is not None:
        report.engine["hugepages"] = mount.to_dict()
    return report


def _run_loopback(scenario: Scenario, budget_ns, on_progress) -> Report:
    prefix = unique_prefix()
    rx_backend = scenario.rx_backend or default_rx_backend(scenario.link, scenario.backend)
    if scenario.lines is not None and rx_backend in KERNEL_BACKENDS:
        raise ConfigError(f"lines ab without a DUT: a {rx_backend} receiver listens on line A's "
                          "port only; use a DPDK receiver (it sees both lines' frames) or a DUT")
    link = make_link(scenario.link, prefix, pcap_path=scenario.pcap_path,
                     tx_backend=scenario.backend, rx_backend=rx_backend)
    with link as wiring, shaped(wiring, scenario.link_impairments) as (wiring, shaping):
        if isinstance(link, PortLink):  # the cores must be on the ports' NUMA node
            cores.check_engine_lcores(scenario.lcores, link.numa_nodes())
        if wiring.two_process:
            raw = run_two_processes(scenario, wiring, on_progress)
        else:
            raw = call_engine(engine_args(scenario, wiring, progress=on_progress is not None),
                              prefix, scenario.timeout_s, on_progress)
    report = _report(scenario, raw, wiring, budget_ns, shaping)
    if isinstance(link, PortLink):
        report.engine["ports"] = [info.to_dict() for info in link.ports]
        # the receiver stamps arrivals with the TSC; no PMD's hardware timestamps (yet)
        report.engine["timestamps"] = {"rx": "tsc"}
    return report


def receiver_args(scenario: Scenario, wiring, progress: bool) -> list[str]:
    """The options of a receiver-only engine (``--tx-dev none``) on a two-process link.

    It expects ``scenario.count`` packets checked with the scenario's seed (the
    trailer's key), says ``ready`` once its port is up, and
    ends when all arrived or after a drain time of silence once traffic started.
    """
    args = ["run", "--tx-dev", "none", "--rx-dev", wiring.rx_dev,
            "--rx-backend", wiring.rx_backend, "--count", str(scenario.count),
            "--seed", str(scenario.seed), "--burst", str(scenario.burst),
            "--timeout-s", f"{scenario.timeout_s:g}", "--ready"]
    # it cannot see the generator finish: silence ends it, so a gap between
    # two paced packets (a profile's silences too) must be shorter than its drain time
    gap_s = profile.load(scenario.profile, scenario.rate_pps, scenario.replay_speed).longest_gap_s() \
        if scenario.profile is not None else 1 / scenario.rate_pps if scenario.rate_pps else 0
    if gap_s:
        drain_ms = max(RECEIVER_DRAIN_MS, math.ceil(RECEIVER_DRAIN_GAPS * 1000 * gap_s))
        args += ["--drain-ms", str(drain_ms)]
    if wiring.rx_netns:
        args += ["--rx-netns", wiring.rx_netns]
    args += eal_option(scenario, wiring)
    if progress:
        args.append("--progress")
    return args


def run_two_processes(scenario: Scenario, wiring,
                      on_progress: Callable[[int, int], None] | None = None) -> dict:
    """Run ``scenario`` across a two-process link; the two engines' JSON merged into one.

    Raises:
        ConfigError: what cannot cross two processes (proto itch: the receiver
            keys its latency by the send times in the generator's memory).
        BackendUnavailable, NativeError: as :func:`simkit.engine.process.call_engine_pair`.
    """
    if scenario.proto != "seed":
        raise ConfigError(f"--proto {scenario.proto} needs generator and receiver in one "
                          f"process (latency keyed by sequence); link {scenario.link!r} runs "
                          "them in two: use --proto seed (in-band timestamps) or another link")
    progress = on_progress is not None
    generator = engine_args(scenario, replace(wiring, rx_dev="none", rx_netns=None), progress)
    tx, rx = call_engine_pair(receiver_args(scenario, wiring, progress), generator,
                              scenario.timeout_s, on_progress,
                              receiver_ready=wiring.receiver_ready)
    return merge_two_processes(tx, rx)


def merge_two_processes(tx: dict, rx: dict) -> dict:
    """One engine report from a generator-only and a receiver-only one.

    tx, injected and the offered sequence numbers come from the generator;
    rx, sequence accounting, malformed and latency from the receiver (one TSC
    on one machine: its stamps are the generator's). Lost is recounted
    against what the generator really offered: offered - unique intact -
    what the impairments explain (floor 0), as one engine counts it.
    """
    injected = tx.get("injected", {})
    seq = dict(rx.get("seq", {}))
    offered = tx.get("seq", {}).get("offered", tx["tx"]["packets"])
    missing = max(0, offered - seq.get("unique", 0))
    explained = sum(injected.get(k, 0) for k in ("dropped_seqs", "malformed_seqs", "garbled_seqs"))
    seq.update(offered=offered, missing=missing, lost=max(0, missing - explained))
    merged = {**rx, "tx": tx["tx"], "injected": injected, "seq": seq,
              "tx_backend": tx.get("tx_backend"), "generator": True,
              "interrupted": bool(tx.get("interrupted") or rx.get("interrupted")),
              "timed_out": bool(tx.get("timed_out") or rx.get("timed_out")),
              "processes": 2}
    return merged


def _report(scenario: Scenario, raw: dict, wiring, budget_ns, shaping: dict | None = None,
            ) -> Report:
    report = Report.from_engine(scenario, raw, budget_ns=budget_ns)
    if shaping:  # what the kernel's qdiscs did on the generator's veth end
        report = replace(report, link_impairments=shaping)
    # which backends ran, whether anything received, io_uring's modes
    report.engine.update({key: raw[key] for key in ENGINE_IO_KEYS if key in raw})
    report.engine["link_receiver"] = wiring.receiver
    if scenario.lcores is not None:
        report.engine["lcores"] = dict(zip(("generator", "receiver"), scenario.lcores, strict=True))
    if scenario.hdr_log:
        from simkit.report.hdr import write_interval_log

        write_interval_log(scenario.hdr_log, report.to_dict())
    return report


def dut_scenario(scenario: Scenario) -> Scenario:
    """``scenario`` as it runs over a DUT path (veth pairs; the DUT checked apart).

    Raises:
        ConfigError: its link cannot carry a DUT.
    """
    if scenario.link not in DUT_LINKS:
        raise ConfigError(f"a DUT runs on its own path of veth pairs (generator -> DUT -> "
                          f"receiver): --link {scenario.link} cannot carry one; use veth")
    return replace(scenario, link="veth", rx_backend=scenario.rx_backend or scenario.backend)


def run_on_path(scenario: Scenario, path, duts=(), budget_ns: dict[str, int] | None = None,
                on_progress: Callable[[int, int], None] | None = None) -> Report:
    """Drive the engine across a DUT path that is already set up and whose DUTs run.

    The report's ``engine["dut"]`` says which DUTs ran (``argv``, ``output``:
    the files of their whole output, ``lcores``), what each hop of the path
    counted and dropped during the run (``hops``, one line of it in
    ``where_lost``; see :mod:`simkit.links.hops`) and, when a kernel receiver
    got fewer frames than its interface counted, what arrived there
    (``arrived``: a sample's addresses beside what the receiver listens on).

    Args:
        scenario: what to send (see :func:`dut_scenario`).
        path: an entered :class:`simkit.links.DutPath`.
        duts: the DUTs on the path: each must be alive before and after the traffic.
        budget_ns: latency limits (ns) recorded in the report.
        on_progress: called with (tx, rx) packet counts.

    Raises:
        CheckFailed: a DUT exited before or during the run (with its output).
    """
    __tracebackhide__ = True
    scenario = dut_scenario(scenario)
    for dut in duts:
        dut.check_alive()
    before = hops.snapshot(path.hops())
    sampler = hops.ArrivalSampler(*path.output_end) if path.rx_backend in KERNEL_BACKENDS \
        else contextlib.nullcontext()
    capture = book.Capture(*path.output_end) if scenario.check == "book" \
        else contextlib.nullcontext()
    with memory(scenario, path.hugepages) as mount, sampler, capture, \
            shaped(path.wiring, scenario.link_impairments) as (wiring, shaping):
        args = engine_args(scenario, wiring, progress=on_progress is not None)
        raw = call_engine(args + recovery.engine_args(scenario, path),
                          unique_prefix(), scenario.timeout_s, on_progress)
        counted = hops.hop_counters(before, hops.snapshot(path.hops()))
        sample = sampler.frames() if isinstance(sampler, hops.ArrivalSampler) else []
    for dut in duts:
        dut.check_alive()  # a crash mid-run: the run's counts mean nothing, say why
    report = _with_memory(_report(scenario, raw, path.wiring, budget_ns, shaping), mount)
    if scenario.check == "book":
        frames = streams.read_stream(args[args.index("--stream") + 1])  # the stream sent
        expected, stock = book.reference_records(frames)
        report = replace(report, book=book.compare(expected, book.decode_records(
            capture.payloads), stock))
        if path.rx_backend not in KERNEL_BACKENDS:  # a frame receiver saw them too
            report = book.discount_from_receiver(report, capture.payloads)
    report.engine["dut"] = {"argv": [list(d.argv) for d in duts], "backend": path.dut_backend,
                            "netns": path.dut_netns,
                            "output": [d.output_path for d in duts],
                            "lcores": [d.lcores for d in duts],
                            "hops": counted, "where_lost": hops.where_lost(counted)}
    arrived = _arrived(report, path, counted, sample)
    if arrived:
        report.engine["dut"]["arrived"] = arrived
    return report


def _arrived(report: Report, path, counted: list[dict], sample: list[bytes]) -> dict | None:
    """What reached a kernel receiver's interface when the receiver got less than that."""
    at_receiver = counted[-1].get("rx_packets", 0)
    if path.rx_backend not in KERNEL_BACKENDS or not sample or report.rx_packets >= at_receiver:
        return None
    listens = {key: path.addressing["output"][key] for key in ("dst_mac", "dst_ip", "dst_port")}
    seen = hops.describe_frame(sample[0])
    wrong = hops.mismatch(seen, listens)
    return {"frames_at_interface": at_receiver, "received": report.rx_packets,
            "sample": [hops.describe_frame(frame) for frame in sample],
            "receiver_listens_on": listens,
            "summary": (f"the receiver's interface counted {at_receiver:,} frames, the "
                        f"receiver got {report.rx_packets:,}; the first arrived for "
                        f"{seen.get('dst_mac')} {seen.get('dst_ip')}:{seen.get('dst_port')}, "
                        f"the receiver listens on {listens['dst_mac']} {listens['dst_ip']}:"
                        f"{listens['dst_port']}"
                        + (f" (wrong: {'; '.join(wrong)})" if wrong else ""))}


def _run_through_dut(scenario, budget_ns, on_progress, ready, ready_timeout_s) -> Report:
    __tracebackhide__ = True
    with dut_running(scenario, ready, ready_timeout_s) as (path, dut):
        report = run_on_path(scenario, path, (dut,), budget_ns, on_progress)
    report.engine["dut"].update(exit=dut.returncode, summary=dut.summary())
    report.scenario["dut_ready"] = ready  # for a rerun (simkit run --from)
    return report


@contextlib.contextmanager
def dut_running(scenario: Scenario, ready: str | None = DUT_READY,
                ready_timeout_s: float = DUT_READY_TIMEOUT_S):
    """``scenario``'s DUT path set up and its DUT started and ready, for one or more
    :func:`run_on_path` calls (``simkit run`` makes one, ``simkit ndr`` one per trial);
    the DUT stopped and the path removed on the way out. Yields ``(path, dut)``.

    Raises:
        ConfigError: the scenario's link cannot carry a DUT.
        CheckFailed: the DUT exited before it was ready, or was never ready.
    """
    __tracebackhide__ = True
    from simkit.dut import DUT  # dut imports engine.process: keep the import one-way

    scenario = dut_scenario(scenario)
    path = DutPath(unique_prefix(), scenario.backend, scenario.rx_backend,
                   dut_backend=dut_backend_of(scenario.dut),
                   eal_args=" ".join(scenario.dut_eal_args), hugepages=hugepages.active(),
                   engine_cores=scenario.lcores)
    with path:
        placeholders = path.placeholders_for(scenario.dut)
        dut = DUT(scenario.dut, placeholders=placeholders, netns=path.dut_netns, ready=ready,
                  ready_timeout_s=ready_timeout_s, dpdk_prefix=path.dut_prefix)
        try:
            dut.start()
            yield path, dut
        finally:
            dut.stop()
