"""``simkit report``: run reports as a page to look at, or in HdrHistogram's formats."""

from __future__ import annotations

import sys

from simkit.cli.common import check_writable
from simkit.errors import ConfigError

FORMATS = ("html", "hgrm", "hlog")
_SUFFIXES = {".html": "html", ".htm": "html", ".hgrm": "hgrm", ".hlog": "hlog"}

EXAMPLES = (
    ("simkit report run.json -o report.html", "one self-contained page: percentiles, time series, verdict"),
    ("simkit report base.json new.json -o both.html", "two runs overlaid"),
    ("simkit report run.json --format hgrm", "HdrHistogram's percentile distribution text"),
    ("simkit report bench.json -o bench.html", "simkit bench --json's comparison as charts"),
)
EXITS = (0, 2)


def register(sub):
    report = sub.add_parser(
        "report", help="render run reports: one HTML page, or HdrHistogram's formats",
        description="Render the JSON of `simkit run --json` (or the plugin's --bypass-report): "
                    "html is one self-contained page with the latency percentile plot, latency "
                    "and rate over time, the verdict, scenario and machine, every report "
                    "overlaid; hgrm is HdrHistogram's percentile distribution text; hlog its "
                    "interval log (one interval a second). Given `simkit bench --json` files, "
                    "the page charts their socket / io_uring / DPDK comparison.")
    report.add_argument("reports", nargs="+", metavar="RUN.json", help="report files")
    report.add_argument("-o", "--output", default=None, metavar="PATH",
                        help="write here (default: standard output)")
    report.add_argument("--format", choices=FORMATS, default=None,
                        help="html, hgrm or hlog (default: from --output's suffix, else html)")
    report.add_argument("--unit", choices=("ns", "us", "ms"), default="us",
                        help="hgrm: the unit values are printed in (default: us)")
    report.add_argument("--title", default=None, help="html: the page's title (default: the "
                        "reports' names)")
    return report


def _format_of(args) -> str:
    if args.format:
        return args.format
    for suffix, fmt in _SUFFIXES.items():
        if args.output and args.output.lower().endswith(suffix):
            return fmt
    return "html"


def command(args) -> int:
    from simkit.report import hdr
    from simkit.report.files import is_bench, labelled_reports, load_benches, read_json

    fmt = _format_of(args)
    if args.output:
        check_writable(args.output, "report page" if fmt == "html" else f"{fmt} file")
    first = read_json(args.reports[0])
    if is_bench(first):  # simkit bench --json: the comparison as charts
        if fmt != "html":
            raise ConfigError(f"--format {fmt} is a run's latency histogram: a bench file "
                              "makes the html page only")
        from simkit.report.html import render_bench

        entries = load_benches(args.reports)
        return _write(args, render_bench(entries, title=args.title),
                      f"{fmt}, {_plural(len(entries), 'bench file')}")
    entries = labelled_reports(args.reports)
    if fmt == "html":
        from simkit.report.html import render

        text = render(entries, title=args.title)
    else:
        if len(entries) != 1:
            raise ConfigError(f"--format {fmt} is one histogram: give one run's report "
                              f"({len(entries)} given)")
        report = entries[0][1]
        text = (hdr.hgrm(hdr.report_buckets(report), args.unit) if fmt == "hgrm"
                else hdr.report_interval_log(report))
    return _write(args, text, f"{fmt}, {_plural(len(entries), 'run')}")


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n > 1 else ''}"


def _write(args, text: str, what: str) -> int:
    if not args.output:
        sys.stdout.write(text)
        return 0
    try:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    except OSError as exc:
        raise ConfigError(f"cannot write {args.output}: {exc.strerror}") from None
    print(f"simkit report: wrote {args.output} ({what})", file=sys.stderr)
    return 0
