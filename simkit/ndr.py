"""NDR and PDR: the highest rate a path carries with no loss, and with loss under a bound.

The search follows RFC 2544 section 26.1 (throughput: the fastest rate at
which every frame offered arrives, found by trials at chosen rates) with two
ideas from FD.io CSIT's MLRsearch (draft-ietf-bmwg-mlrsearch): one set of
trials serves both loss targets, NDR (zero loss) and PDR (loss ratio at most
``loss_ratio``, 0.5 % by default as in CSIT), and the stop rule is a relative
width. TRex's NDR bench likewise starts with a trial at the maximum rate.

Search (:func:`search`):

1. A first trial at ``max_rate_pps``, or, without it, one as fast as the
   generator goes (unpaced): its achieved rate is the top of the search.
2. For each target, the bracket is recomputed from every trial so far:
   ``hi`` = the lowest rate that failed the target (any failure caps it, so
   noise makes the result lower, never higher); ``lo`` = the highest rate
   below ``hi`` that passed. While ``(hi - lo) / hi > precision`` the next
   trial is at ``sqrt(lo * hi)`` (geometric: the range may span decades;
   ``lo`` is ``min_rate_pps`` until a trial passes).
3. Narrow enough: a verification trial at ``lo`` (same length). If it
   passes, ``lo`` is the result, ``verified``. If it fails, it is one more
   failing trial: the bracket moves below it and the search goes on.
4. Then a trial at 10 %, 50 % and 90 % of the NDR each, for latency under
   load (RFC 2544 section 26.2 measures latency at the throughput rate).

So a verified result R satisfies: R passed twice (its search or bracket
trial and its verification), and a rate at most ``R / (1 - precision)``
failed; under a monotonic loss curve the true rate is in ``[R, R / (1 -
precision))``. A trial whose generator achieved less than 95 % of the rate
asked for (``short``) passes no target: that rate was not tested. If the
bracket's top is such a trial, the result is limited by the generator
(``limited_by``), not by loss. ``max_trials`` bounds the search; a result it
cut short is reported unverified.

Loss is the verdict's loss (:attr:`Trial.lost`): sequence numbers never
received intact that the scenario's own impairments do not explain, plus
garbled messages beyond those the impairments damaged; as a ratio of the
messages that should have arrived intact. Drops by ``link_impairments``
qdiscs count: they are the path's. Each trial uses the scenario's seed plus
its index, so a frame left over from an earlier trial fails the next one's
integrity check (counted as loss) instead of passing for one of its own.
"""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from simkit.errors import CheckFailed, ConfigError

PASS, PARTIAL, FAIL, SHORT = "pass", "partial", "fail", "short"
LATENCY_FRACTIONS = (0.1, 0.5, 0.9)
DEFAULT_LOSS_PERCENT = 0.5
DEFAULT_PRECISION = 0.01
DEFAULT_TRIAL_S = 1.0
DEFAULT_MIN_RATE_PPS = 1000.0
DEFAULT_MAX_TRIALS = 40
LATENCY_KEYS = ("count", "min", "mean", "p50", "p90", "p99", "p999", "max")
# run_search's own keyword arguments (the plugin's bypass.ndr tells them from Scenario fields)
SEARCH_OPTIONS = ("trial_s", "loss_percent", "precision", "min_rate_pps", "max_rate_pps",
                  "max_trials", "latency_fractions", "on_trial")


@dataclass(frozen=True)
class Measurement:
    """What one trial measured (what a trial function returns).

    Attributes:
        offered: messages that should have arrived intact (offered minus what
            the scenario's impairments explain).
        sent, received: packets the generator sent and the receiver got.
        lost: the verdict's loss among them (lost + unexplained garbled).
        achieved_pps: the rate the generator achieved.
        short: the generator achieved under 95 % of the rate asked for.
        latency_ns: the trial's latency figures (``LATENCY_KEYS``), if any.
    """

    offered: int
    lost: int
    achieved_pps: float
    short: bool = False
    latency_ns: dict = field(default_factory=dict)
    sent: int = 0
    received: int = 0

    @classmethod
    def of_report(cls, report) -> Measurement:
        """A trial's figures from its :class:`simkit.Report`, with the report's accounting."""
        offered = report.seq.unique + report.seq.lost
        achieved = report.pacing.get("achieved_pps") or report.tx.mpps * 1e6
        latency = report.latency.to_dict()
        return cls(offered=offered, lost=report.lost + report.unexplained_garbled,
                   achieved_pps=float(achieved), short=report.fell_short,
                   latency_ns={key: latency[key] for key in LATENCY_KEYS},
                   sent=report.tx.packets, received=report.rx.packets)


@dataclass(frozen=True)
class Trial:
    """One trial of the search: its rate, what it measured and its verdict.

    ``verdict``: ``pass`` (zero loss), ``partial`` (loss, within the PDR's
    ratio), ``fail`` (over it) or ``short`` (the generator did not reach the
    rate). ``role``: ``max`` (the unpaced first trial), ``search``, ``verify``
    or ``latency``; ``verified``: a verification trial that confirmed a result.
    """

    index: int
    rate_pps: float
    measurement: Measurement
    verdict: str
    role: str = "search"
    verified: bool = False

    @property
    def loss(self) -> float:
        """Loss ratio (0..1); 1 when nothing should have arrived (nothing was measured)."""
        m = self.measurement
        return min(1.0, m.lost / m.offered) if m.offered else 1.0

    def passes(self, loss_ratio: float) -> bool:
        """Whether this trial meets a target: zero loss (0) or a loss ratio at most ``loss_ratio``."""
        if self.verdict == SHORT or not self.measurement.offered:
            return False
        return self.measurement.lost == 0 if loss_ratio == 0 else self.loss <= loss_ratio

    def to_dict(self) -> dict:
        m = self.measurement
        return {"trial": self.index, "role": self.role, "rate": round(self.rate_pps, 3),
                "achieved_pps": round(m.achieved_pps, 3), "sent": m.sent,
                "received": m.received, "offered": m.offered,
                "lost": m.lost, "loss": self.loss, "loss_percent": 100 * self.loss,
                "verdict": self.verdict, "verified": self.verified,
                **({"latency_ns": dict(m.latency_ns)} if m.latency_ns else {})}


def verdict_of(measurement: Measurement, loss_ratio: float) -> str:
    """``short``, ``pass``, ``partial`` or ``fail`` for a measurement, PDR ratio ``loss_ratio``."""
    if measurement.short:
        return SHORT
    if measurement.offered and measurement.lost == 0:
        return PASS
    if measurement.offered and measurement.lost / measurement.offered <= loss_ratio:
        return PARTIAL
    return FAIL


@dataclass(frozen=True)
class Target:
    """One search result: NDR (``loss_ratio`` 0) or PDR."""

    name: str
    loss_ratio: float
    rate_pps: float | None = None
    verified: bool = False
    bracket: tuple[float | None, float | None] = (None, None)
    limited_by: str = "loss"

    def to_dict(self) -> dict:
        lo, hi = self.bracket
        return {"rate_pps": self.rate_pps, "verified": self.verified,
                "loss_ratio": self.loss_ratio, "lower_pps": lo, "upper_pps": hi,
                "limited_by": self.limited_by}


@dataclass
class NdrResult:
    """Everything one search found: the two rates, every trial, latency under load."""

    ndr: Target
    pdr: Target
    trials: list[Trial]
    precision: float
    trial_s: float
    complete: bool = True
    latency_at: list[dict] = field(default_factory=list)

    @property
    def ndr_pps(self) -> float | None:
        return self.ndr.rate_pps

    @property
    def pdr_pps(self) -> float | None:
        return self.pdr.rate_pps

    def problems(self) -> list[str]:
        """Why the search did not give a verified NDR (empty: it did)."""
        out = []
        if self.ndr.rate_pps is None:
            lo, hi = self.ndr.bracket
            out.append(f"no rate without loss found: the lowest tried, {hi:,.0f} pps, lost "
                       "packets" if hi else "no rate without loss found")
        elif not self.ndr.verified:
            out.append(f"the NDR {self.ndr.rate_pps:,.0f} pps is not verified"
                       + ("" if self.complete else " (the search ran out of trials)"))
        return out

    def to_dict(self) -> dict:
        return {"ndr_pps": self.ndr.rate_pps, "pdr_pps": self.pdr.rate_pps,
                "ndr": self.ndr.to_dict(), "pdr": self.pdr.to_dict(),
                "loss_percent": 100 * self.pdr.loss_ratio, "precision": self.precision,
                "trial_s": self.trial_s, "complete": self.complete,
                "trials": [t.to_dict() for t in self.trials],
                "latency_at": [dict(row) for row in self.latency_at]}


class _Search:
    def __init__(self, measure, loss_ratio, precision, min_rate_pps, max_trials, on_trial):
        self.measure = measure
        self.loss_ratio = loss_ratio
        self.precision = precision
        self.min_rate = min_rate_pps
        self.max_trials = max_trials
        self.on_trial = on_trial
        self.trials: list[Trial] = []

    @property
    def exhausted(self) -> bool:
        return len(self.trials) >= self.max_trials

    def run(self, rate: float | None, role: str) -> Trial:
        measurement = self.measure(rate, role)
        verdict = verdict_of(measurement, self.loss_ratio)
        if rate is None:  # unpaced: the rate is what it achieved (whole packets/s, as paced)
            rate = max(1, math.floor(measurement.achieved_pps))
        trial = Trial(len(self.trials) + 1, rate, measurement, verdict, role)
        self.trials.append(trial)
        return trial

    def bracket(self, ratio: float) -> tuple[Trial | None, Trial | None]:
        """(highest passing trial below the lowest failing one, lowest failing trial)."""
        tried = [t for t in self.trials if t.role != "latency"]
        failing = [t for t in tried if not t.passes(ratio)]
        hi = min(failing, key=lambda t: t.rate_pps, default=None)
        passing = [t for t in tried if t.passes(ratio) and (hi is None or t.rate_pps < hi.rate_pps)]
        lo = max(passing, key=lambda t: (t.rate_pps, t.role == "verify"), default=None)
        return lo, hi

    def find(self, name: str, ratio: float) -> Target:
        """The bracket of ``ratio`` narrowed to the precision and its low end verified."""
        while True:
            lo, hi = self.bracket(ratio)
            bracket = (lo.rate_pps if lo else None, hi.rate_pps if hi else None)
            if hi is None:  # nothing failed: the top of the search is the limit
                limited = "generator" if self.trials[0].role == "max" else "max rate"
            else:
                limited = "generator" if hi.verdict == SHORT else "loss"
            if lo is None:
                if hi is None or hi.rate_pps <= self.min_rate or self._tried(self.min_rate):
                    return Target(name, ratio, None, False, bracket, limited)
                low = self.min_rate
            else:
                low = lo.rate_pps
            if self.exhausted:
                return Target(name, ratio, lo.rate_pps if lo else None,
                              self._verified(lo, ratio), bracket, limited)
            if hi is not None and (hi.rate_pps - low) / hi.rate_pps > self.precision:
                mid = round(math.sqrt(low * hi.rate_pps))
                if low < mid < hi.rate_pps:
                    self.notify(self.run(mid, "search"))
                    continue
            if lo is None:  # narrow, nothing passed yet: the floor decides
                self.notify(self.run(self.min_rate, "search"))
                continue
            if self._verified(lo, ratio):
                return Target(name, ratio, lo.rate_pps, True, bracket, limited)
            trial = self.run(lo.rate_pps, "verify")
            self.trials[-1] = trial = replace(trial, verified=trial.passes(ratio))
            self.notify(trial)

    def _tried(self, rate: float) -> bool:
        return any(t.rate_pps == rate for t in self.trials)

    def _verified(self, lo: Trial | None, ratio: float) -> bool:
        """A verification trial at ``lo``'s rate passed ``ratio`` (after ``lo`` or as ``lo``)."""
        return lo is not None and any(t.role == "verify" and t.rate_pps == lo.rate_pps
                                      and t.passes(ratio) for t in self.trials)

    def notify(self, trial: Trial) -> None:
        if self.on_trial:
            self.on_trial(trial, self)


def search(measure: Callable[[float | None, str], Measurement], *,
           loss_ratio: float = DEFAULT_LOSS_PERCENT / 100, precision: float = DEFAULT_PRECISION,
           min_rate_pps: float = DEFAULT_MIN_RATE_PPS, max_rate_pps: float | None = None,
           max_trials: int = DEFAULT_MAX_TRIALS, trial_s: float = DEFAULT_TRIAL_S,
           latency_fractions: tuple[float, ...] = LATENCY_FRACTIONS,
           on_trial: Callable[[Trial, object], None] | None = None) -> NdrResult:
    """Search NDR and PDR with a trial function (the algorithm in the module docstring).

    Args:
        measure: runs one trial at a rate (``None``: as fast as possible) for a
            role (``max``, ``search``, ``verify``, ``latency``) and returns its
            :class:`Measurement`.
        loss_ratio: the PDR's loss bound, 0 < ratio < 1 (0.005: 0.5 %).
        precision: stop when ``(hi - lo) / hi`` is at most this (0 < p < 1).
        min_rate_pps: the floor: no rate below it is tried.
        max_rate_pps: the first trial's rate; ``None``: an unpaced first trial.
        max_trials: a bound on the search's trials (latency trials apart).
        trial_s: the trials' length, recorded in the result.
        latency_fractions: fractions of the NDR to measure latency at.
        on_trial: called after each trial with it (progress).

    Raises:
        ConfigError: a parameter out of range.
    """
    check_parameters(loss_ratio, precision, min_rate_pps, max_rate_pps, max_trials)
    # rates are whole packets per second (what the engine paces)
    min_rate_pps = math.ceil(min_rate_pps)
    max_rate_pps = None if max_rate_pps is None else math.floor(max_rate_pps)
    state = _Search(measure, loss_ratio, precision, min_rate_pps, max_trials, on_trial)
    first = state.run(max_rate_pps, "search" if max_rate_pps else "max")
    state.notify(first)
    targets = {}
    for _ in range(3):  # a failed NDR verification can move the PDR's bracket: settle both
        before = dict(targets)
        targets = {"pdr": state.find("pdr", loss_ratio), "ndr": state.find("ndr", 0.0)}
        if targets == before or state.exhausted:
            break
    latency = []
    ndr = targets["ndr"]
    if ndr.rate_pps:
        for fraction in latency_fractions:
            rate = round(ndr.rate_pps * fraction)
            if rate <= 0:
                continue
            trial = state.run(rate, "latency")
            state.notify(trial)
            latency.append({"percent_of_ndr": round(100 * fraction, 3), "rate_pps": rate,
                            "trial": trial.index, "loss": trial.loss, "verdict": trial.verdict,
                            "latency_ns": dict(trial.measurement.latency_ns)})
    return NdrResult(ndr=ndr, pdr=targets["pdr"], trials=state.trials, precision=precision,
                     trial_s=trial_s, complete=not state.exhausted, latency_at=latency)


def check_parameters(loss_ratio, precision, min_rate_pps, max_rate_pps, max_trials) -> None:
    """Raises ConfigError for a search parameter out of range (one line naming it)."""
    if not 0 < loss_ratio < 1:
        raise ConfigError(f"loss {100 * loss_ratio:g} %: the PDR's loss bound must be over 0 and "
                          "under 100 %")
    if not 0 < precision < 1:
        raise ConfigError(f"precision {100 * precision:g} %: must be over 0 and under 100 %")
    if not 0 < min_rate_pps < math.inf:
        raise ConfigError(f"min rate {min_rate_pps!r}: must be a positive number of packets/s")
    if max_rate_pps is not None and not min_rate_pps < max_rate_pps < math.inf:
        raise ConfigError(f"max rate {max_rate_pps:,.0f} pps must be above the min rate "
                          f"{min_rate_pps:,.0f} pps")
    if isinstance(max_trials, bool) or not isinstance(max_trials, int) or max_trials < 2:
        raise ConfigError(f"max trials {max_trials!r}: must be a whole number, 2 or more")


# -- trials of a scenario ------------------------------------------------------------


def trial_changes(scenario, rate_pps: float | None, trial_s: float, index: int) -> dict:
    """The fields that make ``scenario`` one trial: ``trial_s`` seconds at ``rate_pps``
    (``None``: unpaced), its seed plus ``index`` (each trial's integrity key its own)."""
    return {"rate_pps": rate_pps, "duration_s": trial_s,
            "timeout_s": trial_limit(scenario, trial_s),
            "seed": (scenario.seed + index) % (1 << 64),
            "arrivals": scenario.arrivals if rate_pps else "constant"}


def check_scenario(scenario) -> None:
    """What a search cannot use, as ConfigError (one line each)."""
    if scenario.proto != "seed":
        raise ConfigError(f"an NDR search sends proto seed (built by the native generator at "
                          f"any rate); proto {scenario.proto} is built in Python at about "
                          "2,000 datagrams/s")
    if scenario.link == "null":
        raise ConfigError("link null has no receiver: nothing could be counted lost; use ring "
                          "(or a DUT)")
    if scenario.replay is not None:
        raise ConfigError("an NDR search chooses each trial's rate: it does not replay a capture")


def run_search(scenario, *, trial_s: float = DEFAULT_TRIAL_S,
               loss_percent: float = DEFAULT_LOSS_PERCENT, precision: float = DEFAULT_PRECISION,
               min_rate_pps: float = DEFAULT_MIN_RATE_PPS, max_rate_pps: float | None = None,
               max_trials: int = DEFAULT_MAX_TRIALS,
               latency_fractions: tuple[float, ...] = LATENCY_FRACTIONS,
               on_trial: Callable[[Trial, object], None] | None = None,
               ready: str | None = None, ready_timeout_s: float | None = None,
               runner: Callable | None = None) -> NdrResult:
    """Search the NDR and PDR of ``scenario`` (loopback, or through its DUT).

    Each trial is ``scenario`` for ``trial_s`` seconds at the trial's rate
    (:func:`trial_changes`). A DUT is started once, on one DUT path, and
    runs through every trial (as a device under test stays up between an RFC
    2544 tester's trials); huge pages (``scenario.hugepages``) are reserved
    once for the whole search.

    Args:
        scenario: the :class:`simkit.Scenario`; its count, rate and duration
            are the search's to set.
        runner: runs one trial, given the fields that change (:func:`trial_changes`),
            and returns its report (default: ``scenario`` with them through
            :func:`simkit.run`, or the DUT path's run); the plugin passes its own.
        ready, ready_timeout_s: with a DUT, as :func:`simkit.run`.
        Others: as :func:`search` (``loss_percent`` in percent).

    Raises:
        ConfigError: a scenario a search cannot use, or a parameter out of range.
        CheckFailed: a trial hit its time limit, or the DUT exited.
        BackendUnavailable, NativeError: as :func:`simkit.run`.
    """
    from simkit.dut import DUT_READY, DUT_READY_TIMEOUT_S
    from simkit.engine.run import dut_running, memory, run_on_path
    from simkit.engine.run import run as run_one
    from simkit.links.qdisc import require as require_qdiscs
    from simkit.scenario import require_scenario

    require_scenario(scenario)
    check_scenario(scenario)
    check_parameters(loss_percent / 100, precision, min_rate_pps, max_rate_pps, max_trials)
    if not 0 < trial_s < math.inf:
        raise ConfigError(f"trial length {trial_s!r} s: must be positive seconds")
    replace(scenario, **trial_changes(scenario, max_rate_pps, trial_s, 0))  # bad: fails here
    counter = itertools.count()

    def measure_with(run_trial):
        def measure(rate, role):
            report = run_trial(trial_changes(scenario, rate, trial_s, next(counter)))
            if report.interrupted:
                raise KeyboardInterrupt
            if report.timed_out:
                raise CheckFailed(f"the trial at {rate or 'max'} pps hit its "
                                  f"{trial_limit(scenario, trial_s):g} s limit")
            return Measurement.of_report(report)
        return measure

    options = dict(loss_ratio=loss_percent / 100, precision=precision,
                   min_rate_pps=min_rate_pps, max_rate_pps=max_rate_pps, max_trials=max_trials,
                   trial_s=trial_s, latency_fractions=latency_fractions, on_trial=on_trial)
    if runner is not None:
        return search(measure_with(runner), **options)
    require_qdiscs(scenario.link_impairments)
    with memory(scenario), contextlib.ExitStack() as stack:
        if scenario.dut is None:
            return search(measure_with(lambda changes: run_one(replace(scenario, **changes))),
                          **options)
        path, dut = stack.enter_context(dut_running(
            scenario, DUT_READY if ready is None else ready,
            DUT_READY_TIMEOUT_S if ready_timeout_s is None else ready_timeout_s))
        return search(measure_with(
            lambda changes: run_on_path(replace(scenario, **changes), path, (dut,))), **options)


def trial_limit(scenario, trial_s: float) -> float:
    """The time limit of one trial of ``scenario``: its own, or 3 trial lengths + 30 s."""
    return max(scenario.timeout_s, 3 * trial_s + 30)
