"""The human summary table that ``simkit run`` prints."""

from __future__ import annotations

from simkit.report.model import PERCENTILE_KEYS, Report

_LATENCY_COLUMNS = ("min",) + PERCENTILE_KEYS + ("max",)
INJECTED_SHOWN = ("dropped", "duplicated", "reordered", "corrupted", "truncated", "delayed",
                  "malformed", "garbled")
_LATENCY_TITLES = {"p999": "p99.9"}


def _row(cells, widths) -> str:
    return "  ".join(str(c).rjust(w) if i else str(c).ljust(w)
                     for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()


def _table(header, rows) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    return [_row(header, widths), *(_row(r, widths) for r in rows)]


def summary_table(report: Report) -> str:
    """Render a report as a few aligned blocks: traffic, accounting, latency."""
    lines = [f"simkit run: backend={report.backend} link={report.link} proto={report.proto}"]
    sides = [(name, side) for name, side in (("tx", report.tx), ("rx", report.rx))]
    lines += _table(
        ("", "packets", "bytes", "seconds", "Mpps", "Gbit/s", "cpu %", "ctxsw/s"),
        [(name, f"{s.packets:,}", f"{s.bytes:,}", f"{s.duration_s:.3f}", f"{s.mpps:.3f}",
          f"{s.gbps:.3f}", f"{s.cpu_percent:.1f}", f"{s.ctx_switches_per_s:,.0f}")
         for name, s in sides])
    lines.append("")
    lines += _table(("sequence", "lost", "duplicated", "reordered", "malformed", "garbled"),
                    [("", f"{report.seq.lost:,}", f"{report.seq.duplicated:,}",
                      f"{report.seq.reordered:,}", f"{report.malformed_total:,}",
                      f"{report.seq.garbled:,}")])
    for reason, count in sorted(report.malformed_by_reason.items()):
        lines.append(f"  malformed {reason}: {count:,}")
    for reason, count in sorted(report.seq.garbled_by_reason.items()):
        lines.append(f"  garbled {reason}: {count:,}")
    injected = {kind: report.injected.get(kind, 0) for kind in INJECTED_SHOWN}
    if any(injected.values()):
        lines.append("injected (ground truth): " + ", ".join(
            f"{kind} {count:,}" for kind, count in injected.items() if count))
    shaping = report.link_impairments
    if shaping:
        sent = sum(q.get("packets", 0) for q in shaping.get("qdiscs", []) if q.get("root"))
        lines.append(f"link (kernel qdiscs on {shaping['iface']}): {' '.join(shaping['specs'])}: "
                     f"sent {sent:,}, dropped {shaping.get('dropped', 0):,}")
    lines.append("")
    lat = report.latency
    lines += _table(
        (f"latency ns ({lat.count:,} samples, keyed by {report.keying})",
         *(_LATENCY_TITLES.get(k, k) for k in _LATENCY_COLUMNS)),
        [("", *(f"{getattr(lat, k):,}" for k in _LATENCY_COLUMNS))])
    if report.budget_ns:
        failures = report.budget_failures()
        verdict = "FAILED: " + ", ".join(sorted(failures)) if failures else "passed"
        limits = ", ".join(f"{k}={v:,}ns" for k, v in report.budget_ns.items())
        lines += ["", f"budget {limits}: {verdict}"]
    if report.timed_out:
        lines += ["", "the run hit its time limit before all packets were accounted for"]
    if report.interrupted:
        lines += ["", "the run was interrupted"]
    return "\n".join(lines)


def profile_table(profile: dict, max_rows: int = 24) -> str:
    """A ``--profile`` run's offered against sent, interval by interval (the report's
    ``profile``): every interval up to ``max_rows``, else the ones that fell short
    first; then where the sender fell short."""
    rows, short = profile["intervals"], profile["fell_short_at_s"]
    shown = rows if len(rows) <= max_rows else \
        ([r for r in rows if r["fell_short"]] + [r for r in rows if not r["fell_short"]])[:max_rows]
    shown = sorted(shown, key=lambda r: r["t_s"])
    lines = [f"profile {profile['name']} x{profile['speed']:g}: offered and sent per "
             f"{profile['interval_s']:g} s interval (late: over 10 us after its schedule)"]
    lines += _table(("t s", "offered pps", "sent pps", "sent %", "late %", "latest ns", ""),
                    [(f"{r['t_s']:g}", f"{r['offered_pps']:,.0f}", f"{r['sent_pps']:,.0f}",
                      f"{100 * r['sent'] / r['offered']:.1f}" if r["offered"] else "-",
                      f"{100 * r['late'] / r['sent']:.1f}" if r["sent"] else "-",
                      f"{r['late_max_ns']:,}", "SHORT" if r["fell_short"] else "")
                     for r in shown])
    if len(shown) < len(rows):
        lines.append(f"  ... {len(rows) - len(shown):,} more intervals in the JSON's profile")
    lines.append(f"fell short (under 95 % of offered) in {len(short):,} of {len(rows):,} "
                 f"intervals" + (f", from {short[0]:g} s" if short else ""))
    return "\n".join(lines)
