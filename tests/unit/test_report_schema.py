"""The report's provenance sections and the JSON Schema shipped with the package.

jsonschema is the outside judge: the schema is a valid draft 2020-12 document, every
report simkit makes matches it (tests/conftest.py checks each one the suite makes), and
reports broken in the ways a bug would break them do not.
"""

import copy
import dataclasses
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

import simkit
from simkit import Scenario
from simkit.report import Report, provenance, schema

REPO = Path(__file__).resolve().parents[2]
ENGINE_JSON = {
    "engine_version": "0.1.0", "dpdk_version": "DPDK 22.11.11", "tsc_hz": 2_000_000_000,
    "started_at": "2026-12-04T01:02:03.456Z", "keying": "tsc",
    "tx": {"packets": 1000, "bytes": 74000, "duration_s": 0.001, "cpu_s": 0.001, "ctx_switches": 2},
    "rx": {"packets": 1000, "bytes": 74000, "duration_s": 0.002, "cpu_s": 0.001, "ctx_switches": 4},
    "seq": {"lost": 0, "duplicated": 0, "reordered": 0, "late": 0, "unique": 1000},
    "latency_ns": {"count": 1000, "min": 900, "mean": 1500.5, "p50": 1400, "p90": 2000,
                   "p99": 5000, "p999": 9000, "p9999": 9500, "max": 9999},
}
SCENARIO = Scenario(count=1000, rate_pps=50_000, burst=16, seed=7, impairments=("drop:p=0.01",),
                    arrivals="poisson")


def report_dict(**changes) -> dict:
    return Report.from_engine(dataclasses.replace(SCENARIO, **changes), ENGINE_JSON,
                              budget_ns={"p99": 20_000}).to_dict()


def test_the_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(schema.schema())
    assert schema.schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_a_report_has_its_provenance_and_matches_the_schema():
    d = report_dict()
    jsonschema.validate(d, schema.schema(), cls=jsonschema.Draft202012Validator)
    assert d["schema_version"] == provenance.SCHEMA_VERSION == 1
    assert d["simkit"]["version"] == simkit.__version__
    assert d["started_at"] == ENGINE_JSON["started_at"]  # when the engine started
    assert d["machine"]["dpdk_version"] == "DPDK 22.11.11"
    assert d["machine"]["tsc_hz"] == 2_000_000_000
    assert d["machine"]["cores"] == os.cpu_count()
    scenario = d["scenario"]
    assert (scenario["count"], scenario["rate_pps"], scenario["burst"], scenario["seed"]) == \
        (1000, 50_000, 16, 7)
    assert scenario["impairments"] == ["drop:p=0.01"] and scenario["arrivals"] == "poisson"
    assert scenario["budget_ns"] == {"p99": 20_000} and scenario["dut_ready"] is None
    json.loads(json.dumps(d, allow_nan=False))  # plain JSON: no Infinity, no NaN


def test_the_scenario_section_holds_every_scenario_field_and_rebuilds_it():
    fields = {f.name for f in dataclasses.fields(Scenario)}
    section = report_dict()["scenario"]
    assert set(section) == fields | {"budget_ns", "dut_ready"}
    # the schema names each one, so a Scenario field added without it fails here, saying
    # what to add to schema.json's scenario "properties" (and "required")
    described = set(schema.schema()["properties"]["scenario"]["properties"])
    missing = {key: _json_type(section[key]) for key in sorted(set(section) - described)}
    assert not missing, f"add to schema.json scenario.properties and .required: {json.dumps(missing)}"
    assert described == set(section), f"schema.json describes gone keys: {described - set(section)}"
    rebuilt = Scenario(**{k: v for k, v in section.items() if k in fields})
    assert rebuilt == SCENARIO


def _json_type(value) -> dict:
    kinds = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
             dict: "object", type(None): "null"}
    return {"type": kinds.get(type(value), "string")}


def test_topspeed_is_written_as_inf_not_as_an_invalid_json_number(tmp_path):
    capture = tmp_path / "feed.pcap"
    capture.write_bytes(b"")
    d = report_dict(proto="itch", replay=str(capture), replay_speed=float("inf"), rate_pps=None,
                    arrivals="constant", impairments=())
    assert d["scenario"]["replay_speed"] == "inf"
    json.dumps(d, allow_nan=False)
    assert schema.problems(d) == []


def _set(path: str, value):
    def change(d):
        *parents, last = path.split("/")
        target = d
        for key in parents:
            target = target[key]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value
    return change


BROKEN = {
    "no schema_version": (_set("schema_version", KeyError), "(top level)"),
    "a newer schema_version": (_set("schema_version", 2), "schema_version"),
    "the seed missing": (_set("scenario/seed", KeyError), "scenario"),
    "a negative seed": (_set("scenario/seed", -1), "scenario/seed"),
    "an unknown scenario key": (_set("scenario/colour", "red"), "scenario"),
    "a burst too large": (_set("scenario/burst", 4096), "scenario/burst"),
    "an unknown budget key": (_set("scenario/budget_ns/p42", 5), "scenario/budget_ns"),
    "the dut a string": (_set("scenario/dut", "./feed --x"), "scenario/dut"),
    "an unknown machine key": (_set("machine/gpu", "none"), "machine"),
    "no kernel": (_set("machine/kernel", KeyError), "machine"),
    "the commit missing": (_set("simkit/commit", KeyError), "simkit"),
    "a local start time": (_set("started_at", "2026-12-04T02:02:03+01:00"), "started_at"),
    "tx packets negative": (_set("tx/packets", -5), "tx/packets"),
    "an unknown tx key": (_set("tx/speed", 1.0), "tx"),
    "p99 a string": (_set("latency_ns/p99", "5us"), "latency_ns/p99"),
    "no machine": (_set("machine", KeyError), "(top level)"),
}


@pytest.mark.parametrize("breakage", BROKEN, ids=list(BROKEN))
def test_a_broken_report_fails_validation_where_it_is_broken(breakage):
    change, where = BROKEN[breakage]
    d = copy.deepcopy(report_dict())
    change(d)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(d, schema.schema(), cls=jsonschema.Draft202012Validator)
    found = schema.problems(d)
    assert found and any(line.startswith(f"at {where}:") for line in found), found
    with pytest.raises(schema.InvalidReport, match="does not match"):
        schema.validate(d)


def test_unknown_top_level_sections_are_allowed():
    d = {**report_dict(), "future_section": [{"t": 0}], "another": {"name": "x"}}
    assert schema.problems(d) == []


def test_with_checking_on_an_invalid_report_raises_and_is_logged(tmp_path, monkeypatch):
    log = tmp_path / "checks.jsonl"
    monkeypatch.setenv(schema.CHECK_ENV, str(log))
    report = Report.from_engine(SCENARIO, ENGINE_JSON)
    report.to_dict()
    broken = dataclasses.replace(report, machine={"cpu": "fast"})
    with pytest.raises(schema.InvalidReport, match="at machine"):
        broken.to_dict()
    checks = [json.loads(line) for line in log.read_text().splitlines()]
    assert [c["ok"] for c in checks] == [True, False]
    assert checks[1]["pid"] == os.getpid() and checks[1]["problems"]


def test_liburing_version_is_the_one_the_engine_was_built_against(gate):
    pkg_config = shutil.which("pkg-config")
    gate("tools", bool(pkg_config), "pkg-config is not installed")
    built = subprocess.run([pkg_config, "--modversion", "liburing"], capture_output=True,
                           text=True).stdout.strip()
    gate("io_uring", bool(built), "liburing's development files are not installed")
    assert provenance.liburing_version() == built


def test_the_commit_is_a_git_describe_of_this_repository_or_none(gate):
    commit = provenance.build_commit()
    if commit is None:
        return  # installed from a tree that was no git checkout
    gate("tools", bool(shutil.which("git")), "git is not installed")
    match = re.fullmatch(r"(?:.*-g)?([0-9a-f]{7,40})(-dirty)?", commit)
    assert match, commit
    found = subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", f"{match[1]}^{{commit}}"])
    assert found.returncode == 0, f"{commit} names no commit of {REPO}"
