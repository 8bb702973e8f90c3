"""Reading run reports back from their JSON files, for ``simkit report``.

A file is a ``simkit run --json`` report, or the plugin's ``--bypass-report`` file
(``{"tests": [{"test": ID, "report": {...}}, ...]}``), whose every test's report is
one entry, labelled by its test id.
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
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except OSError as exc:
            raise ConfigError(f"cannot read report {path}: {exc.strerror}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"report {path} is not JSON: {exc}") from None
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
