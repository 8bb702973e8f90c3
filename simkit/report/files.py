"""Reading report files back: a run report (``simkit run --json``) or a plugin session's
``--bypass-report`` document (``{"tests": [{"test": ID, "report": REPORT}, ...]}``).

Bad files are :class:`~simkit.errors.ConfigError` (exit 2), named with their path.
"""

from __future__ import annotations

import json

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
