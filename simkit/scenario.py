"""`Scenario`: the description of one run, validated when it is made."""

from __future__ import annotations

import math
import numbers
import os
from dataclasses import dataclass, field, fields

from simkit import lines, recovery
from simkit import validators as v
from simkit.cores import parse_engine_lcores
from simkit.errors import ConfigError
from simkit.hugepages import parse_pages
from simkit.links.shaping import parse_link_specs


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


# what each plain field must be before its validator reads it: the CLI hands
# validators text, the API must not (count="100" or count=True is a caller's bug)
_TYPES = {
    "name": (lambda x: isinstance(x, str), "a name (a string)"),
    "number": (_is_number, "a number"),
    "bool": (lambda x: isinstance(x, bool), "True or False"),
    "path": (lambda x: isinstance(x, (str, os.PathLike)) and bool(os.fspath(x)), "a file path"),
}
_FIELD_TYPES = {
    "backend": "name", "rx_backend": "name", "link": "name", "proto": "name",
    "arrivals": "name", "count": "number", "burst": "number", "seed": "number",
    "flows": "number", "rate_pps": "number", "malformed": "number", "timeout_s": "number",
    "duration_s": "number", "replay_speed": "number", "udp_checksum": "bool",
    "send_zc": "bool", "sqpoll": "bool", "pcap_path": "path", "replay": "path",
    "hdr_log": "path",
    "hugepages": "number",
    "uring_mode": "name",
    "recovery": "bool", "recovery_max_messages": "number", "recovery_rate": "number",
    "lines": "name", "check": "name",
    "symbols": "number", "symbol_skew": "number",
    "profile": "path",
}
_OPTIONAL = ("rx_backend", "rate_pps", "duration_s", "replay_speed", "pcap_path", "replay",
             "hdr_log", "uring_mode", "lines", "check", "symbols", "profile")


def _check_types(scenario: Scenario) -> None:
    for name, kind in _FIELD_TYPES.items():
        value = getattr(scenario, name)
        if value is None and name in _OPTIONAL:
            continue
        accepts, what = _TYPES[kind]
        if not accepts(value):
            raise ConfigError(f"Scenario {name} must be {what}"
                              + (" or None" if name in _OPTIONAL else "")
                              + f", got {value!r} ({type(value).__name__})")


def _argv(value, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    return v.parse_argv(value, what)


def _dut_argv(value) -> tuple[str, ...] | None:
    if value is None:
        return None
    argv = _argv(value, "dut")
    if not argv:
        raise ConfigError(f"dut {value!r} is empty: give the DUT's command line, or leave it "
                          "out (None) for a loopback")
    return argv


def _check_impairments(scenario: Scenario) -> None:
    """The impairments as a run will read them: parsed, checked together, with
    ``malformed`` and against the stream length (so a bad SPEC fails here, not
    in the middle of setting up a link)."""
    # engine.run imports Scenario: import its one reading of the models here
    from simkit.engine.run import impairment_models
    from simkit.impair import Impairer

    models = impairment_models(scenario)
    if models:
        Impairer(models, scenario.seed).check_stream(scenario.count)


def _check_flows(checked: dict, impairments) -> None:
    """More than one flow: flows are told apart by UDP source port, which only
    frames carry (dpdk on both sides), on the clean seed path."""
    if checked["flows"] == 1:
        return
    why = ("backend dpdk (a datagram socket sends from one port)"
           if checked["backend"] != "dpdk" else
           "rx_backend dpdk (a datagram receiver does not see the source port)"
           if checked["rx_backend"] not in (None, "dpdk") else
           "proto seed" if checked["proto"] != "seed" else
           "no impairments" if checked["impairments"] else
           "generator and receiver in one engine (link memif runs two)"
           if checked["link"] == "memif" else
           "a loopback (no dut): a DUT republishes on its own ports" if checked["dut"] else None)
    if why:
        raise ConfigError(f"flows {checked['flows']} needs {why}")


def _check_lcores(checked: dict) -> None:
    """The engine's lcores: DPDK's (a dpdk side), and given once."""
    from simkit.links.dut import user_lcore_option  # links import engine, which imports us

    gen, rx = checked["lcores"]
    if "dpdk" not in (checked["backend"], checked["rx_backend"]):
        raise ConfigError(f"lcores {gen},{rx} are the engine's DPDK lcores: they need a dpdk "
                          "side (backend or rx_backend dpdk)")
    own = user_lcore_option(checked["eal_args"])
    if own:
        raise ConfigError(f"the engine's lcores are given twice: lcores {gen},{rx} and "
                          f"{own!r} in its EAL arguments; give one")


@dataclass(frozen=True)
class Scenario:
    """One run: what to send, over which backend and link, through which DUT.

    Attributes:
        backend: ``dpdk``, ``io_uring`` or ``socket`` (the generator's, and the
            receiver's unless ``rx_backend`` is given).
        rx_backend: the receiver's backend when it differs from the
            generator's (e.g. a DPDK generator into an io_uring receiver
            across ``tap`` or ``veth``); ``None``: the link's default.
        link: ``ring``, ``pcap``, ... (see ``simkit doctor``).
        proto: market-data format, ``seed`` or ``itch``.
        count: packets the generator offers.
        rate_pps: packets per second; ``None`` sends as fast as possible.
        arrivals: with a rate, ``constant`` gaps or ``poisson`` arrivals
            (exponential gaps of mean 1/rate from the seeded PRNG).
        duration_s: send for this many seconds instead of ``count`` packets
            (``count`` is then not a limit, except for ``itch``, whose stream
            holds ``count`` datagrams); must be under ``timeout_s``.
        burst: packets per burst (1..512).
        seed: seeds every pseudo-random choice, so runs repeat exactly.
        impairments: impairment specs such as ``"drop:p=0.01"``.
        malformed: fraction of packets given malformed headers (0..1): the
            impairment ``malform:kind=any,p=malformed`` (every header-level kind
            of :mod:`simkit.malformed` but jumbo), with its ground truth.
        dut: argv of the application under test; ``None`` runs a loopback.
        eal_args: extra DPDK EAL arguments of the engine (e.g. real ports for
            hardware runs); never the DUT's.
        dut_eal_args: extra DPDK EAL arguments of a DPDK DUT, appended to its
            ``{eal}``; a ``-l``/``--lcores`` here replaces its default lcores.
        udp_checksum: compute UDP checksums (else 0, which IPv4 allows).
        pcap_path: for the ``pcap`` link, keep the capture at this path.
        timeout_s: hard limit on the whole run.
        send_zc: the io_uring generator sends with ``IORING_OP_SEND_ZC`` (each
            buffer held until the kernel's notification); falls back to
            sendmsg where the kernel refuses, and the report says so.
        sqpoll: io_uring rings (generator and receiver) with a kernel
            submission thread (``IORING_SETUP_SQPOLL``); falls back likewise.
        uring_mode: how the io_uring receiver takes its completions: ``wait``
            (the engine's default: sleeps until a batch is there or its batch
            timeout passed) or ``poll`` (busy-polls, never sleeps). Needs an
            io_uring receiver.
        replay: with proto itch, send the UDP payloads of this capture (a user's
            MoldUDP64 session) instead of the simulated one; count caps it. By
            default at the capture's own timing, as tcpreplay replays it (see
            ``replay_speed``).
        replay_speed: with replay: the capture's timing scaled by this
            multiplier (2.0 twice as fast, 0.5 half as fast; tcpreplay's
            ``--multiplier``), paced natively on the TSC. ``None``: x1, the
            capture's own timing, unless ``rate_pps`` is given (then a constant
            rate instead); ``math.inf``: as fast as possible (tcpreplay's
            ``--topspeed``). 0.001 to 1,000,000 otherwise. With profile: divides
            the profile's time axis (1000: a 6.5 h trading day in 23.4 s).
        flows: 1..64 flows: packet i goes to flow i % flows, which has its own
            UDP source port (10000 + flow), symbol and sequence numbers (from
            0); the receiver accounts each flow apart (``seq.flows`` in the
            engine's report). More than one needs dpdk on both sides, proto
            seed and no impairments.
        link_impairments: what the kernel does on the wire, applied with
            qdiscs on the generator's veth end (link ``veth``, or a DUT
            path): SPECs such as ``"rate:bps=100mbit"`` or
            ``"delay:mean=20us,jitter=5us"``, or
            :mod:`simkit.links.shaping` objects; kept parsed.
        hdr_log: write the run's latency as an HdrHistogram interval log (one
            interval a second, V2 compressed histograms) to this path.
        hugepages: run the engine and a DPDK DUT on this many 2 MiB huge pages
            (together), on a hugetlbfs of simkit's own: the pages missing from
            the kernel's pool are reserved for the run and given back after it
            (:mod:`simkit.hugepages`; needs root). 0: ``--no-huge`` (4 KiB pages).
        lcores: ``(GEN, RX)``: the cores the engine's generator and receiver
            poll on (``"2,3"`` is read too; EAL ``-l GEN,RX --main-lcore GEN``,
            see :mod:`simkit.cores`); ``None``: cores 0 and 1.
        recovery: proto itch through a DUT: run a MoldUDP64 re-request
            server the DUT finds at ``{recovery}`` (see :mod:`simkit.recovery`);
            what the impairments kept back then counts as lost unless the DUT
            re-requested and delivered it.
        recovery_max_messages: messages per answer at most (0: what fits a
            datagram).
        recovery_rate: requests per second the server answers (0: no limit).
        lines: ``"ab"``: proto itch on two lines, A and B, that the DUT must
            arbitrate (see :mod:`simkit.lines`); impairments then name their
            line, ``"a:drop:p=0.05"``.
        skew: with lines: how long line B's copy leaves after line A's
            (``"50us"``; negative: A after B).
        check: ``"book"``: the DUT publishes top-of-book records to
            ``{book}``, checked against reference books (see :mod:`simkit.book`).
        symbols: with proto itch, the simulated session lists this many
            symbols (``simkit.packets.market.symbol_names``); ``None``: the
            four defaults.
        symbol_skew: with proto itch, the Zipf exponent of symbol activity
            (locate k is drawn with weight k**-skew; 0 uniform, up to 16).
        profile: the generator's rates over time instead of one rate:
            ``"open-burst"`` or ``"trading-day"`` (shapes of ``rate_pps``, the
            mean), a CSV of ``time_s,pps`` rows or a capture whose own rate is
            followed (see :mod:`simkit.profile`); the report's ``profile``
            compares what it offered and what left, interval by interval.
    """

    backend: str = "dpdk"
    link: str = "ring"
    proto: str = "seed"
    count: int = 1000
    rate_pps: float | None = None
    burst: int = 32
    seed: int = 1
    impairments: tuple[str, ...] = field(default_factory=tuple)
    malformed: float = 0.0
    dut: tuple[str, ...] | None = None
    eal_args: tuple[str, ...] = field(default_factory=tuple)
    udp_checksum: bool = False
    pcap_path: str | None = None
    timeout_s: float = 60.0
    rx_backend: str | None = None
    arrivals: str = "constant"
    duration_s: float | None = None
    send_zc: bool = False
    sqpoll: bool = False
    uring_mode: str | None = None
    flows: int = 1
    replay: str | None = None
    replay_speed: float | None = None
    link_impairments: tuple = field(default_factory=tuple)
    dut_eal_args: tuple[str, ...] = field(default_factory=tuple)
    hdr_log: str | None = None
    hugepages: int = 0
    lcores: tuple[int, int] | None = None
    recovery: bool = False
    recovery_max_messages: int = 0
    recovery_rate: float = 0
    lines: str | None = None
    skew: int | str = 0
    check: str | None = None
    symbols: int | None = None
    symbol_skew: float = 1.0
    profile: str | None = None

    def __post_init__(self) -> None:
        from simkit.engine.run import DUT_LINKS  # engine.run imports Scenario

        _check_types(self)
        checked = {
            "backend": v.parse_backend(self.backend),
            "rx_backend": None if self.rx_backend is None else v.parse_backend(self.rx_backend),
            "link": v.parse_link(self.link),
            "proto": v.parse_proto(self.proto),
            "count": v.parse_count(self.count),
            "rate_pps": v.parse_rate(self.rate_pps),
            "burst": v.parse_burst(self.burst),
            "seed": v.parse_seed(self.seed),
            "impairments": (self.impairments,) if isinstance(self.impairments, str)
            else tuple(self.impairments),
            "dut": _dut_argv(self.dut),
            "eal_args": _argv(self.eal_args, "eal_args"),
            "dut_eal_args": _argv(self.dut_eal_args, "dut_eal_args"),
            "arrivals": v.parse_arrivals(self.arrivals),
            "duration_s": v.parse_duration_s(self.duration_s),
            "flows": v.parse_flows(self.flows),
            "malformed": v.parse_ratio(self.malformed),
            "replay_speed": None if self.replay_speed is None else v.parse_speed(self.replay_speed),
            "link_impairments": parse_link_specs(self.link_impairments),
            "pcap_path": None if self.pcap_path is None else os.fspath(self.pcap_path),
            "replay": None if self.replay is None else os.fspath(self.replay),
            "hdr_log": None if self.hdr_log is None else v.parse_output_path(
                self.hdr_log, "hdr_log (the HdrHistogram interval log)"),
            "hugepages": parse_pages(self.hugepages),
            "lcores": parse_engine_lcores(self.lcores),
            "symbols": None if self.symbols is None else v.parse_symbols(self.symbols),
            "symbol_skew": v.parse_skew(self.symbol_skew),
        }
        if ((checked["symbols"] is not None or checked["symbol_skew"] != 1.0)
                and (checked["proto"] != "itch" or self.replay is not None)):
            raise ConfigError("symbols and symbol_skew (--symbols, --symbol-skew) shape the "
                              "simulated ITCH session: they need proto itch (and no replay)")
        _check_flows(checked, self.impairments)
        if checked["dut"] and checked["link"] not in DUT_LINKS:
            raise ConfigError(f"a DUT runs on its own path of veth pairs (generator -> DUT -> "
                              f"receiver): --link {checked['link']} cannot carry one; use veth")
        if checked["pcap_path"] is not None and checked["link"] != "pcap":
            raise ConfigError(f"pcap_path (--pcap) is where link pcap keeps its capture: "
                              f"link {checked['link']} writes none; drop it or use link pcap")
        if checked["link_impairments"] and checked["link"] != "veth" and not checked["dut"]:
            raise ConfigError(f"link_impairments are applied by the kernel on the generator's "
                              f"veth end: they need link veth (or a DUT), not {checked['link']}")
        if checked["hugepages"] and "dpdk" not in (checked["backend"], checked["rx_backend"]) \
                and not any("{eal}" in arg for arg in checked["dut"] or ()):
            raise ConfigError(f"hugepages {checked['hugepages']} are DPDK's memory: they need "
                              "a dpdk side (backend or rx_backend dpdk, or a DUT with {eal})")
        if checked["lcores"] is not None:
            _check_lcores(checked)
        if checked["dut_eal_args"] and not checked["dut"]:
            raise ConfigError("dut_eal_args (--dut-eal-args) are the DUT's EAL arguments: "
                              "they need a dut (--dut)")
        if checked["arrivals"] == "poisson" and checked["rate_pps"] is None:
            raise ConfigError("poisson arrivals need a rate (rate_pps): the mean of the arrivals")
        if checked["duration_s"] is not None and not checked["duration_s"] < float(self.timeout_s):
            raise ConfigError(f"duration_s {checked['duration_s']:g} must be under timeout_s "
                              f"{self.timeout_s:g}: raise timeout_s")
        if checked["proto"] == "itch" and self.replay is None and self.prepared_session:
            from simkit.engine.streams import MAX_ITCH_DATAGRAMS  # engine imports Scenario
            if checked["count"] > MAX_ITCH_DATAGRAMS:
                raise ConfigError(f"proto itch count {checked['count']:,} with impairments, "
                                  f"recovery, lines or a book check: at most "
                                  f"{MAX_ITCH_DATAGRAMS:,} datagrams (such a session is prepared "
                                  "in full; otherwise it is made as it is sent, at any count)")
        if self.replay is not None and checked["proto"] != "itch":
            raise ConfigError("--replay sends a MoldUDP64 capture: it needs proto itch")
        if self.profile is not None:
            _check_profile(self, checked)
        elif checked["replay_speed"] is not None and self.replay is None:
            raise ConfigError("replay_speed (--speed, --topspeed) sets the pace of a capture's "
                              "replay or compresses a profile: it needs replay (--replay PCAP) "
                              "or profile (--profile)")
        if checked["replay_speed"] is not None and checked["rate_pps"] is not None \
                and self.profile is None:
            raise ConfigError("replay_speed (--speed, --topspeed) and rate_pps (--rate) both "
                              "set the pace of a replay: give one (rate_pps for a constant "
                              "rate, replay_speed to scale the capture's timing)")
        if self.send_zc and checked["backend"] != "io_uring":
            raise ConfigError(f"send_zc is how the io_uring generator sends: it needs backend "
                              f"io_uring, not {checked['backend']}")
        if self.sqpoll and "io_uring" not in (checked["backend"], checked["rx_backend"]):
            raise ConfigError("sqpoll needs an io_uring side: backend or rx_backend io_uring")
        object.__setattr__(self, "send_zc", bool(self.send_zc))
        object.__setattr__(self, "sqpoll", bool(self.sqpoll))
        if self.uring_mode is not None:
            from simkit.links import default_rx_backend

            rx = checked["rx_backend"] or default_rx_backend(checked["link"], checked["backend"])
            if rx != "io_uring":
                raise ConfigError(f"uring_mode is how the io_uring receiver waits: it needs "
                                  f"rx_backend io_uring, not {rx}")
            object.__setattr__(self, "uring_mode", v.parse_uring_mode(self.uring_mode))
        if not 0 < self.timeout_s < math.inf:
            raise ConfigError(f"timeout_s must be positive seconds, got {self.timeout_s!r}")
        for name, value in checked.items():
            object.__setattr__(self, name, value)
        lines.check(self)
        if self.lines is None:
            _check_impairments(self)
        recovery.check(self)
        from simkit import book  # the ITCH layers (scapy): not at import

        book.check(self)

    @property
    def prepared_session(self) -> bool:
        """Whether a simulated ITCH session is prepared in full as a stream file before the
        run (impairments, the recovery server, A/B lines and the book check work from its
        messages), rather than made by the engine as it sends (any count, bounded memory)."""
        return bool(self.impairments or self.recovery or self.lines or self.check)

    @property
    def capture_speed(self) -> float | None:
        """The multiplier a replay runs at on its capture's own clock; ``None`` when it
        does not (no replay, ``rate_pps`` given, or ``replay_speed`` inf: as fast as
        possible)."""
        if self.replay is None or self.rate_pps is not None:
            return None
        speed = 1.0 if self.replay_speed is None else self.replay_speed
        return None if math.isinf(speed) else speed

    def to_dict(self) -> dict:
        """The scenario as plain JSON-ready values."""
        out = {f.name: (list(val) if isinstance(val := getattr(self, f.name), tuple) else val)
               for f in fields(self)}
        out["link_impairments"] = [model.spec() for model in self.link_impairments]
        return out


def _check_profile(scenario: Scenario, checked: dict) -> None:
    """A profile sets the rates (scaling rate_pps for a built-in); speed compresses it."""
    from simkit import profile

    checked["profile"] = os.fspath(scenario.profile)
    if scenario.replay is not None:
        raise ConfigError("profile (--profile) and replay (--replay): a replay keeps its "
                          "capture's own timing; give one (a capture as the profile shapes "
                          "the simulated session: --profile CAPTURE.pcap)")
    if checked["arrivals"] != "constant":
        raise ConfigError(f"profile (--profile) and arrivals {checked['arrivals']}: the "
                          "profile's steps set when packets are due; drop arrivals")
    profile.load(checked["profile"], checked["rate_pps"], checked["replay_speed"])


def require_scenario(value) -> Scenario:
    """``value`` itself, if it is a :class:`Scenario` (what :func:`simkit.run` takes).

    Raises:
        ConfigError: anything else, named with its type.
    """
    if not isinstance(value, Scenario):
        raise ConfigError(f"simkit.run takes a simkit.Scenario, got {value!r} "
                          f"({type(value).__name__}): build one, e.g. "
                          "simkit.Scenario(link='ring', count=1000)")
    return value
