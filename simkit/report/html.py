"""The report page: one self-contained HTML file for one or more run reports.

Latency by percentile (HdrHistogram's "nines" axis, log latency), latency and rate
over time from the per-second intervals, the verdict (lost, garbled, malformed,
injected), and the scenario, machine and simkit version when the report holds them.
Several reports are overlaid, one colour each. The charts are SVG written here
(:mod:`simkit.report.svg`): no scripts, no fonts or styles from the network.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timezone
from html import escape

from simkit import __version__
from simkit.errors import ConfigError
from simkit.report import hdr, svg
from simkit.report.intervals import Intervals, bucket_percentiles

# Okabe-Ito: told apart with most kinds of colour blindness
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
          "#F0E442")
UNITS = (("s", 1e9), ("ms", 1e6), ("us", 1e3), ("ns", 1.0))
OVER_TIME = (("p50", 50.0, "6 4", 1.5), ("p99", 99.0, "", 2.0), ("max", 100.0, "2 3", 1.5))

_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1f24;
       margin: 24px auto; max-width: 880px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 6px; }
.sub { color: #57606a; margin: 0 0 14px; }
.legend { list-style: none; padding: 0; margin: 8px 0; }
.legend li { margin: 2px 0; } .swatch { display: inline-block; width: 14px; height: 14px;
  border-radius: 3px; vertical-align: -2px; margin-right: 6px; }
.note { color: #57606a; font-size: 12.5px; margin: 2px 0 4px; }
svg.chart { display: block; max-width: 100%; height: auto; background: #fff; }
svg .plot-area { fill: #fbfcfd; stroke: #d0d7de; }
svg .grid { stroke: #e6e9ec; stroke-width: 1; }
svg .tick { font-size: 11px; fill: #57606a; } svg .axis-title { font-size: 12px; fill: #1b1f24; }
svg .empty { font-size: 14px; fill: #8c959f; }
table { border-collapse: collapse; margin: 6px 0; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #e6e9ec; padding: 3px 10px; text-align: right;
         vertical-align: top; }
th:first-child, td:first-child { text-align: left; color: #57606a; font-weight: normal; }
tr.bad td { color: #b42318; font-weight: 600; } tr.differs td:first-child { font-weight: 600; }
td.text { text-align: left; font-family: ui-monospace, monospace; font-size: 12.5px;
          word-break: break-all; }
"""


def _fmt_number(value: float) -> str:
    if value == 0:
        return "0"
    for suffix, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def _sig3(value: float) -> str:
    """Three significant digits, never an exponent: 9.88, 38.6, 114, 1,234."""
    if value == 0:
        return "0"
    decimals = max(0, 2 - math.floor(math.log10(abs(value))))
    return f"{value:,.{decimals}f}"


def _fmt_ns(ns: float) -> str:
    """A latency in the largest unit it reaches: 114 ns, 38.6 us, 9.88 ms."""
    name, size = next(((n, s) for n, s in UNITS if ns >= s), UNITS[-1])
    return f"{_sig3(ns / size)} {name}"


def _tick_ns(ns: float) -> str:
    name, size = next(((n, s) for n, s in UNITS if ns >= s), UNITS[-1])
    return f"{ns / size:g} {name}"


def _rows_of(report: dict) -> list[dict]:
    return list((report.get("intervals") or {}).get("rows", ()))


# -- charts --------------------------------------------------------------------------


def percentile_chart(entries: Sequence[tuple[str, dict]]) -> str:
    """Latency by percentile, each report a line (HdrHistogram's plot)."""
    lines, values, depth = [], [], 1.0
    distributions = []
    for _, report in entries:
        try:
            rows = hdr.percentile_distribution(hdr.report_buckets(report))
        except ConfigError:  # an older simkit's report: no buckets, no curve
            rows = []
        # the 100 % row has no place on the nines axis; the max is in the table
        points = [(svg.nines(r.percentile), float(r.value)) for r in rows if r.percentile < 100.0]
        distributions.append(points)
        values += [v for _, v in points]
        depth = max([depth] + [x for x, _ in points])
    for (label, _), color, points in zip(entries, COLORS * 8, distributions, strict=False):
        lines.append(svg.Line(label, color, points, describe=lambda x, y: (
            f"p{100 - 100 / 10 ** x:.6g}: {_fmt_ns(y)}")))
    return svg.chart("percentiles", lines, svg.nines_axis("percentile", depth),
                     svg.log_axis("latency", values, _tick_ns), empty="no latency samples")


def latency_over_time_chart(entries: Sequence[tuple[str, dict]]) -> str:
    """p50, p99 and max of each interval, over the run's time."""
    series, values, times = [], [], [0.0]
    for (label, report), color in zip(entries, COLORS * 8, strict=False):
        per_key: dict[str, list] = {key: [] for key, *_ in OVER_TIME}
        for row in _rows_of(report):
            if not row.get("count"):
                continue
            qs = [q for _, q, *_ in OVER_TIME]
            figures = bucket_percentiles(row["buckets"], qs, row["min"], row["max"], row["sum"])
            t = row["t_s"] + row["length_s"] / 2
            times.append(row["t_s"] + row["length_s"])
            for (key, *_), value in zip(OVER_TIME, figures, strict=True):
                per_key[key].append((t, float(value)))
                values.append(float(value))
        for key, _, dash, width in OVER_TIME:
            series.append((f"{label} {key}", color, per_key[key], dash, width))
    lines = [svg.Line(label, color, points, dash=dash, width=width,
                      describe=lambda t, v: f"{t:.1f} s: {_fmt_ns(v)}")
             for label, color, points, dash, width in series]
    return svg.chart("latency-over-time", lines,
                     svg.linear_axis("time (s)", times, lambda v: f"{v:g}"),
                     svg.log_axis("latency", values, _tick_ns),
                     empty="no per-second intervals in these reports")


def rate_over_time_chart(entries: Sequence[tuple[str, dict]]) -> str:
    """Packets per second received (solid) and sent (dashed), each interval."""
    lines, values, times = [], [], [0.0]
    for (label, report), color in zip(entries, COLORS * 8, strict=False):
        intervals = Intervals.from_dict(report.get("intervals"))
        rx = [(r.t_s + r.length_s / 2, r.rx_pps) for r in intervals.rows if r.length_s > 0]
        tx = [(r.t_s + r.length_s / 2, r.tx_pps) for r in intervals.rows if r.length_s > 0]
        times += [r.t_s + r.length_s for r in intervals.rows]
        values += [v for _, v in rx + tx]
        lines.append(svg.Line(f"{label} received", color, rx,
                              describe=lambda t, v: f"{t:.1f} s: {v:,.0f} pps received"))
        if any(v for _, v in tx):
            lines.append(svg.Line(f"{label} sent", color, tx, dash="6 4", width=1.5,
                                  describe=lambda t, v: f"{t:.1f} s: {v:,.0f} pps sent"))
    return svg.chart("rate-over-time", lines,
                     svg.linear_axis("time (s)", times, lambda v: f"{v:g}"),
                     svg.linear_axis("packets/s", values, _fmt_number),
                     empty="no per-second intervals in these reports")


# -- tables --------------------------------------------------------------------------


def _get(report: dict, path: str, default=0):
    node = report
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return default
        node = node[key]
    return node


def _by_reason(counts: dict) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())) if counts else ""


def _summary_rows(report: dict) -> list[tuple[str, str, bool]]:
    """(name, value, bad) rows of one report's verdict and figures."""
    lat = report.get("latency_ns", {})
    budget = report.get("budget", {})
    seq = report.get("seq", {})
    injected = report.get("injected", {})
    malformed = report.get("malformed", {})
    rows = [
        ("run", f"{report.get('backend', '?')} / {report.get('link', '?')} / "
                f"{report.get('proto', '?')}", False),
        ("packets sent", f"{_get(report, 'tx.packets'):,}", False),
        ("packets received", f"{_get(report, 'rx.packets'):,}", False),
        ("Mpps sent / received", f"{_get(report, 'tx.mpps', 0.0):.3f} / "
                                 f"{_get(report, 'rx.mpps', 0.0):.3f}", False),
        ("seconds (receiver)", f"{_get(report, 'rx.duration_s', 0.0):.3f}", False),
        ("lost", f"{seq.get('lost', 0):,}", bool(seq.get("lost"))),
        ("duplicated", f"{seq.get('duplicated', 0):,}", False),
        ("reordered", f"{seq.get('reordered', 0):,}", False),
        ("garbled", " ".join(filter(None, [f"{seq.get('garbled', 0):,}",
                                          _by_reason(seq.get("garbled_by_reason", {}))])),
         bool(seq.get("garbled"))),
        ("malformed", " ".join(filter(None, [f"{malformed.get('total', 0):,}",
                                            _by_reason(malformed.get("by_reason", {}))])),
         False),
        ("injected", _by_reason({k: v for k, v in injected.items()
                                 if v and not k.endswith(("_seqs", "_frames", "_applied"))})
         or "none", False),
        ("latency samples", f"{lat.get('count', 0):,} (keyed by "
                            f"{report.get('latency_keying', '?')})", False),
    ]
    for key, title in (("min", "min"), ("p50", "p50"), ("p90", "p90"), ("p99", "p99"),
                       ("p999", "p99.9"), ("p9999", "p99.99"), ("max", "max")):
        if key in lat:
            rows.append((f"latency {title}", _fmt_ns(lat[key]), False))
    if budget.get("limits_ns"):
        limits = ", ".join(f"{k} {_fmt_ns(v)}" for k, v in budget["limits_ns"].items())
        rows.append(("budget", f"{limits}: {'passed' if budget.get('passed') else 'FAILED'}",
                     not budget.get("passed")))
    for flag in ("interrupted", "timed_out"):
        if report.get(flag):
            rows.append((flag.replace("_", " "), "yes", True))
    return rows


def summary_table(entries: Sequence[tuple[str, dict]]) -> str:
    """The verdict of every report, side by side."""
    per_report = [_summary_rows(report) for _, report in entries]
    names = [name for name, *_ in per_report[0]]
    for rows in per_report[1:]:
        names += [name for name, *_ in rows if name not in names]
    head = "".join(f'<th><span class="swatch" style="background:{c}"></span>{escape(label)}</th>'
                   for (label, _), c in zip(entries, COLORS * 8, strict=False))
    body = []
    for name in names:
        cells = [dict((n, (v, bad)) for n, v, bad in rows).get(name, ("", False))
                 for rows in per_report]
        bad = any(b for _, b in cells)
        body.append(f'<tr{" class=bad" if bad else ""}><td>{escape(name)}</td>'
                    + "".join(f"<td>{escape(v)}</td>" for v, _ in cells) + "</tr>")
    return f'<table id="summary"><tr><th></th>{head}</tr>{"".join(body)}</table>'


def _flatten(value, prefix: str = "") -> dict[str, str]:
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for key, sub in value.items():
            out.update(_flatten(sub, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, (list, tuple)):
        text = ", ".join(str(v) for v in value)
    else:
        text = "" if value is None else str(value)
    return {prefix: text}


def facts_table(entries: Sequence[tuple[str, dict]], key: str) -> str:
    """A report section (``scenario``, ``machine``, ``simkit``), keys flattened, a column a
    report; rows whose values differ between reports are marked."""
    flat = [_flatten(report.get(key)) if isinstance(report.get(key), dict) else {}
            for _, report in entries]
    if not any(flat):
        holds = "reports hold" if len(entries) > 1 else "report holds"
        return (f'<p class="note" id="{key}-absent">The {holds} no {key} (written by a simkit '
                "that did not record it).</p>")
    names: list[str] = []
    for f in flat:
        names += [n for n in f if n not in names]
    head = "".join(f"<th>{escape(label)}</th>" for label, _ in entries)
    body = []
    for name in names:
        values = [f.get(name, "") for f in flat]
        differs = len(entries) > 1 and len(set(values)) > 1
        body.append(f'<tr{" class=differs" if differs else ""}><td>{escape(name)}</td>'
                    + "".join(f'<td class="text">{escape(v)}</td>' for v in values) + "</tr>")
    return f'<table id="{key}"><tr><th></th>{head}</tr>{"".join(body)}</table>'


# -- the page ------------------------------------------------------------------------


def _legend(entries: Sequence[tuple[str, dict]]) -> str:
    items = []
    for (label, report), color in zip(entries, COLORS * 8, strict=False):
        lat = report.get("latency_ns", {})
        items.append(f'<li><span class="swatch" style="background:{color}"></span>'
                     f"<b>{escape(label)}</b> &mdash; {escape(str(report.get('backend', '?')))} / "
                     f"{escape(str(report.get('link', '?')))} / "
                     f"{escape(str(report.get('proto', '?')))}, "
                     f"{_get(report, 'rx.packets'):,} received, p99 "
                     f"{escape(_fmt_ns(lat.get('p99', 0)))}</li>")
    return f'<ul class="legend">{"".join(items)}</ul>'


def render(entries: Sequence[tuple[str, dict]], title: str | None = None) -> str:
    """The page for ``entries``: (label, report as ``Report.to_dict()`` / its JSON).

    A report without the latency histogram's buckets or the intervals (an older
    simkit's) draws no curve there; its table is still shown.
    """
    title = title or ("simkit report: " + ", ".join(label for label, _ in entries))
    depth_note = ("x: the percentile on HdrHistogram's axis, each step one more nine "
                  "(90 %, 99 %, 99.9 %, ...); y: latency, log scale. Points are the bucket "
                  "reached at each percentile (3 significant digits).")
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="sub">{len(entries)} run{"s" if len(entries) > 1 else ""}; '
        f"page made {now} by simkit {escape(__version__)}</p>",
        _legend(entries),
        "<h2>Latency by percentile</h2>", f'<p class="note">{depth_note}</p>',
        percentile_chart(entries),
        "<h2>Latency over time</h2>",
        '<p class="note">Each second (the receiver\'s intervals): p50 dashed, p99 solid, '
        "max dotted; log scale.</p>",
        latency_over_time_chart(entries),
        "<h2>Rate over time</h2>",
        '<p class="note">Packets a second in each interval: received solid, sent dashed (as '
        "the receiver read the generator's count).</p>",
        rate_over_time_chart(entries),
        "<h2>Verdict</h2>", summary_table(entries),
        "<h2>Scenario</h2>", facts_table(entries, "scenario"),
        "<h2>Machine</h2>", facts_table(entries, "machine"),
        "<h2>simkit</h2>", facts_table(entries, "simkit"),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"



# -- the bench page ------------------------------------------------------------------

_BENCH_COLUMNS = (("offered", "offered pps"), ("tx_mpps", "tx Mpps"), ("rx_mpps", "rx Mpps"),
                  ("lost", "lost"), ("rx_p99_ns", "rx p99"), ("tx_p99_ns", "tx p99 (pacing)"),
                  ("tx_cpu_percent", "tx CPU %"), ("rx_cpu_percent", "rx CPU %"),
                  ("rx_ctx_switches_per_s", "rx ctxsw/s"))


def _bench_cell(key: str, value) -> str:
    if value is None:
        return "-"
    if key.endswith("_ns"):
        return _fmt_ns(value)
    if isinstance(value, float):
        return f"{value:,.3f}" if key.endswith("mpps") else f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def render_bench(entries: Sequence[tuple[str, dict]], title: str | None = None) -> str:
    """The page of ``simkit bench --json`` files: the socket / io_uring / DPDK comparison
    as charts (unpaced maximum rate, p99 latency and CPU at the paced load) and tables.

    With one file the bars are its tx and rx sides; with several, one colour a file.
    """
    title = title or ("simkit bench: " + ", ".join(label for label, _ in entries))
    methods: list[str] = []
    for _, bench in entries:
        for row in bench["compare"]:
            if row["method"] not in methods:
                methods.append(row["method"])

    def pick(bench: dict, paced: bool, key: str) -> list:
        rows = {r["method"]: r for r in bench["compare"]
                if (r.get("offered") != "max") == paced}
        if key.endswith("_cpu_percent"):  # with sqpoll, the kernel's SQ thread's share too
            sq = key.replace("_cpu_percent", "_sq_cpu_percent")
            return [rows[m].get(key, 0.0) + rows[m].get(sq, 0.0) if m in rows else None
                    for m in methods]
        return [rows[m].get(key) if m in rows else None for m in methods]

    sides = (("tx", "sent"), ("rx", "received")) if len(entries) == 1 else (("rx", "received"),)

    def series(paced: bool, key: str, describe) -> list[svg.Bars]:
        out = []
        for k, (label, bench) in enumerate(entries):
            for s, (side, word) in enumerate(sides):
                name = word if len(entries) == 1 else label
                color = COLORS[(k if len(entries) > 1 else s) % len(COLORS)]
                out.append(svg.Bars(name, color, pick(bench, paced, key.format(side=side)),
                                    describe=describe))
        return out

    rate = series(False, "{side}_mpps", lambda v: f"{v:.3f} Mpps")
    latency = [svg.Bars(label, COLORS[k % len(COLORS)], pick(bench, True, "rx_p99_ns"),
                        describe=_fmt_ns) for k, (label, bench) in enumerate(entries)]
    cpu = series(True, "{side}_cpu_percent", lambda v: f"{v:.1f} %")
    values = [v for b in rate for v in b.values if v is not None]
    lat_values = [v for b in latency for v in b.values if v is not None]
    cpu_values = [v for b in cpu for v in b.values if v is not None]
    paced_at = next((r["offered"] for _, b in entries for r in b["compare"]
                     if r.get("offered") != "max"), "?")
    try:
        paced_at = f"{float(paced_at):,.0f}"
    except ValueError:
        pass
    legend = "".join(f'<li><span class="swatch" style="background:{b.color}"></span>'
                     f"{escape(b.label)}</li>" for b in rate[:len(sides) * len(entries)])
    tables = []
    for label, bench in entries:
        head = "".join(f"<th>{escape(t)}</th>" for _, t in _BENCH_COLUMNS)
        body = "".join(
            f"<tr><td>{escape(r['method'])}</td>"
            + "".join(f"<td>{escape(_bench_cell(k, r.get(k)))}</td>" for k, _ in _BENCH_COLUMNS)
            + "</tr>" for r in bench["compare"])
        tables.append(f"<h2>{escape(label)}</h2><table class=bench><tr><th>method</th>{head}</tr>"
                      f"{body}</table>")
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="sub">The reference design\'s comparison: generator and receiver of one '
        f"backend across a veth pair; page made {now} by simkit {escape(__version__)}</p>",
        f'<ul class="legend">{legend}</ul>',
        "<h2>Maximum rate (unpaced)</h2>",
        svg.bar_chart("bench-rate", methods, rate,
                      svg.linear_axis("Mpps", values, lambda v: f"{v:g}"),
                      empty="no unpaced runs"),
        f"<h2>Latency p99 at {escape(str(paced_at))} packets/s</h2>",
        '<p class="note">The receiver\'s histogram: send stamp to receive; log scale.</p>',
        svg.bar_chart("bench-latency", methods, latency, svg.log_axis("rx p99", lat_values,
                                                                      _tick_ns),
                      empty="no paced runs"),
        f"<h2>CPU at {escape(str(paced_at))} packets/s</h2>",
        '<p class="note">Each side\'s thread over its loop (getrusage), with io_uring sqpoll '
        "the kernel's submission thread added; a polling side is near 100 %.</p>",
        svg.bar_chart("bench-cpu", methods, cpu, svg.linear_axis("CPU %", cpu_values,
                                                                 lambda v: f"{v:g}"),
                      empty="no paced runs"),
        *tables,
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
