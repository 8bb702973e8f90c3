"""Reading report files back: a run report (``simkit run --json``) or a plugin session's
``--bypass-report`` document (``{"tests": [{"test": ID, "report": REPORT}, ...]}``), for
``simkit compare``, ``run --from`` and ``simkit report``; and ``simkit bench --json``
output, whose socket / io_uring / DPDK comparison rows (``compare``) make the bench page.

Bad files are :class:`~simkit.errors.ConfigError` (exit 2), named with their path.
"""

from __future__ import annotations

import json
import os

from simkit.errors import ConfigError
from simkit.report.provenance import SCHEMA_VERSION

#: the keys by which a dict is taken for a run report
RUN_REPORT_KEYS = ("backend", "tx", "rx", "seq", "latency_ns")


def read_json(path: str, what: str = "report") -> object:
    """The JSON document at ``path``.

    Raises:
        ConfigError: it cannot be read, or is not JSON.
    """
    try:
        with open(path) as source:
            return json.load(source)
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{what} {path} is not JSON: {exc}") from None


def is_run_report(data) -> bool:
    return isinstance(data, dict) and all(key in data for key in RUN_REPORT_KEYS)


def _check_version(report: dict, path: str) -> dict:
    version = report.get("schema_version")
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise ConfigError(f"{path} has schema_version {version}: written by a newer simkit "
                          f"(this one reads up to {SCHEMA_VERSION}); upgrade simkit")
    return report


def load_reports(path: str) -> list[tuple[str | None, dict]]:
    """Every run report in ``path``: ``[(None, report)]`` for a run report, ``[(test id,
    report), ...]`` for a ``--bypass-report`` document (a test's runs in order).

    Raises:
        ConfigError: unreadable, not JSON, neither kind of report, or written by a newer
            simkit.
    """
    data = read_json(path)
    if is_run_report(data):
        return [(None, _check_version(data, path))]
    if isinstance(data, dict) and isinstance(data.get("tests"), list):
        out = []
        for index, entry in enumerate(data["tests"]):
            if not (isinstance(entry, dict) and isinstance(entry.get("test"), str)
                    and is_run_report(entry.get("report"))):
                raise ConfigError(f"{path}: tests[{index}] is not {{\"test\": ID, \"report\": "
                                  "REPORT}: not a --bypass-report file simkit wrote")
            out.append((entry["test"], _check_version(entry["report"], path)))
        return out
    raise ConfigError(f"{path} is neither a run report (simkit run --json) nor a session's "
                      "--bypass-report file")


def load_report(path: str) -> dict:
    """The one run report in ``path`` (a run report, or a ``--bypass-report`` file that
    holds exactly one).

    Raises:
        ConfigError: as :func:`load_reports`, or a session file with several reports.
    """
    reports = load_reports(path)
    if len(reports) != 1:
        raise ConfigError(f"{path} holds {len(reports)} reports (a --bypass-report file): "
                          "give one run's report (simkit run --json)")
    return reports[0][1]


def parse_reports_path(path) -> str:
    """``path``, once checked to hold reports (an option's validator: ``--bypass-compare``).

    Raises:
        ConfigError: as :func:`load_reports`.
    """
    load_reports(str(path))
    return str(path)


def labelled_reports(paths) -> list[tuple[str, dict]]:
    """``(label, report)`` for every run report in ``paths``, in order (``simkit report``).

    Labels are the test ids of a ``--bypass-report`` file, else the file's name without
    ``.json``; a label seen before gets a count (:func:`unique_labels`).

    Raises:
        ConfigError: as :func:`load_reports`, or a session file that ran nothing.
    """
    entries: list[tuple[str, dict]] = []
    for path in paths:
        reports = load_reports(path)
        if not reports:
            raise ConfigError(f"report {path} holds no test runs (a --bypass-report of a "
                              "session whose tests ran nothing)")
        name = os.path.basename(path)
        name = name[:-5] if name.endswith(".json") else name
        entries += [(test or name, report) for test, report in reports]
    return unique_labels(entries)


def is_bench(data) -> bool:
    """Whether ``data`` is ``simkit bench --json`` output with the comparison table's rows."""
    return isinstance(data, dict) and isinstance(data.get("compare"), list) and all(
        isinstance(row, dict) and "method" in row for row in data["compare"])


def load_benches(paths) -> list[tuple[str, dict]]:
    """``(label, bench JSON)`` for every ``simkit bench --json`` file in ``paths``.

    Raises:
        ConfigError: a file cannot be read, is not JSON, or has no comparison rows.
    """
    entries = []
    for path in paths:
        data = read_json(path)
        if not is_bench(data) or not data["compare"]:
            raise ConfigError(f"{path} has no comparison rows (simkit bench --json, with the "
                              "socket / io_uring / DPDK table): cannot mix it with bench files")
        label = os.path.basename(path)
        entries.append((label[:-5] if label.endswith(".json") else label, data))
    return unique_labels(entries)


def unique_labels(entries: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    """The entries, a label seen before made unique with a count: ``name (2)``."""
    seen: dict[str, int] = {}
    out = []
    for label, report in entries:
        seen[label] = seen.get(label, 0) + 1
        out.append((label if seen[label] == 1 else f"{label} ({seen[label]})", report))
    return out
