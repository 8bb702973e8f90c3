"""Reading run reports back from their JSON files, for ``simkit report``.

A file is a ``simkit run --json`` report, or the plugin's ``--bypass-report`` file
(``{"tests": [{"test": ID, "report": {...}}, ...]}``), whose every test's report is
one entry, labelled by its test id; or ``simkit bench --json`` output, whose
socket / io_uring / DPDK comparison rows (``compare``) make the bench page.
"""

from __future__ import annotations

import json
import os

from simkit.errors import ConfigError


def load_reports(paths) -> list[tuple[str, dict]]:
    """``(label, report)`` for every report in ``paths``, in order.

    Labels are the files' names without ``.json`` (made unique where two are alike),
    or the test ids of a plugin report.

    Raises:
        ConfigError: a file cannot be read, is not JSON, or holds no run report.
    """
    entries: list[tuple[str, dict]] = []
    for path in paths:
        data = read_json(path)
        if isinstance(data, dict) and isinstance(data.get("tests"), list):
            tests = [t for t in data["tests"] if isinstance(t, dict) and _is_run(t.get("report"))]
            if not tests:
                raise ConfigError(f"report {path} holds no test runs (a --bypass-report of a "
                                  "session whose tests ran nothing)")
            entries += [(str(t.get("test", path)), t["report"]) for t in tests]
        elif _is_run(data):
            label = os.path.basename(path)
            entries.append((label[:-5] if label.endswith(".json") else label, data))
        else:
            raise ConfigError(f"{path} is not a run report (simkit run --json, or the plugin's "
                              "--bypass-report): it has no latency_ns, tx and rx")
    return unique_labels(entries)


def read_json(path: str):
    """The JSON document in ``path``.

    Raises:
        ConfigError: the file cannot be read or is not JSON.
    """
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as exc:
        raise ConfigError(f"cannot read report {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"report {path} is not JSON: {exc}") from None


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


def _is_run(data) -> bool:
    return isinstance(data, dict) and all(isinstance(data.get(k), dict)
                                          for k in ("latency_ns", "tx", "rx"))


def unique_labels(entries: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    """The entries, a label seen before made unique with a count: ``name (2)``."""
    seen: dict[str, int] = {}
    out = []
    for label, report in entries:
        seen[label] = seen.get(label, 0) + 1
        out.append((label if seen[label] == 1 else f"{label} ({seen[label]})", report))
    return out
