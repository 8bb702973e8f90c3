"""The report's JSON Schema (``schema.json``, draft 2020-12, shipped in the package).

``schema()`` is the document; :func:`problems` checks a report against it with
the ``jsonschema`` package (the ``test`` extra: simkit does not need it to run).
Unknown top-level keys are allowed (new sections); inside the sections the
schema defines, unknown keys are errors.

The test suite sets ``SIMKIT_CHECK_REPORTS=LOG``: then every
``Report.to_dict()`` (in any process: the CLI's and plugin's too) is checked,
appends one JSON line to LOG, and raises :class:`InvalidReport` when it fails.
"""

from __future__ import annotations

import functools
import json
import os
from importlib import resources

from simkit.errors import ConfigError

#: a path: check every report made in this process and its children, log each check there
CHECK_ENV = "SIMKIT_CHECK_REPORTS"
MAX_PROBLEMS = 10


class InvalidReport(ValueError):
    """A report that does not match ``schema.json`` (a bug in simkit, not in its input)."""


@functools.lru_cache(maxsize=1)
def schema() -> dict:
    """The JSON Schema of a run report."""
    return json.loads(resources.files("simkit.report").joinpath("schema.json").read_text())


@functools.lru_cache(maxsize=1)
def _validator():
    try:
        import jsonschema
    except ImportError:
        raise ConfigError("checking a report against its schema needs the jsonschema package: "
                          "pip install 'simkit[test]' (or jsonschema)") from None
    return jsonschema.Draft202012Validator(schema())


def problems(report: dict) -> list[str]:
    """Where ``report`` departs from the schema, one line each (``at scenario/seed: ...``),
    at most :data:`MAX_PROBLEMS`; empty when it matches.

    Raises:
        ConfigError: the jsonschema package is not installed.
    """
    found = sorted(_validator().iter_errors(report), key=lambda e: list(map(str, e.path)))
    return [f"at {'/'.join(map(str, error.path)) or '(top level)'}: {error.message}"
            for error in found[:MAX_PROBLEMS]]


def validate(report: dict) -> None:
    """Raise :class:`InvalidReport` (its problems in the message) unless ``report`` matches."""
    found = problems(report)
    if found:
        raise InvalidReport("report does not match simkit's report schema: " + "; ".join(found))


def checked(report: dict) -> dict:
    """``report``; when ``SIMKIT_CHECK_REPORTS`` names a file, validated first and logged
    there (one JSON line: pid, ok, problems).

    Raises:
        InvalidReport: checking is on and the report does not match.
    """
    log = os.environ.get(CHECK_ENV)
    if not log:
        return report
    found = problems(report)
    with open(log, "a") as out:
        out.write(json.dumps({"pid": os.getpid(), "ok": not found, "problems": found}) + "\n")
    if found:
        raise InvalidReport("report does not match simkit's report schema: " + "; ".join(found))
    return report
