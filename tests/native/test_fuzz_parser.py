"""Short libFuzzer run over simkit's native core (issue 5, item 6; issue 17, item 3).

Builds every target in native/fuzz (sk_seed_parse, sequence accounting,
histogram, the MoldUDP64 parser, the malformation catalog, the impairer,
crafting) with clang, ASan and UBSan into a temporary directory, replays every
kept crash input in native/fuzz/regressions/, then fuzzes each target for a
bounded time from the hand-made seeds (native/fuzz/seed_corpus.py) and a
``simkit corpus --raw-dir`` output, as many at once as there are cores, about
45 s in all. Any finding fails and is kept in native/fuzz/regressions/<target>/
(commit it: it is replayed on every run from then on); so does a run that
fuzzed nothing (libFuzzer's executions no more than the inputs it loaded).
Skips when clang or libFuzzer is missing (fails, when ``fuzz`` is required).
Long campaigns: see native/fuzz/README.md.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

FUZZ_DIR = Path(__file__).resolve().parents[2] / "native" / "fuzz"
# Seconds per target, longest first; run as many at once as there are cores, so
# on CI's two cores about 45 s in all (84 target-seconds).
RUN_SECONDS = {"seed_parse": 15, "malform": 14, "craft": 14, "impair": 13, "mold": 10,
               "seq": 9, "hist": 9}
GRACE_SECONDS = 120  # past max_total_time: startup, corpus load, final stats
BUILD_TIMEOUT = 300
CORPUS_ARGS = ["--proto", "seed", "--count", "1000", "--malformed", "0.3", "--seed", "1"]
LIBFUZZER_PACKAGE = "libclang-rt-14-dev"  # Debian 12: libFuzzer for clang-14
PROBE_SOURCE = (
    "#include <stddef.h>\n#include <stdint.h>\n"
    "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)"
    " { (void)d; (void)n; return 0; }\n"
)


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _what_failed(log: str) -> str:
    """The lines of a libFuzzer log that say what went wrong."""
    keys = re.findall(r"^.*(?:invariant failed|ERROR: |runtime error:|SUMMARY: ).*$", log, re.M)
    return "\n".join(keys[:6]) or "(no sanitizer or invariant message)"


def fuzzed_runs(log: str) -> tuple[int, int]:
    """(executions, inputs loaded) from a libFuzzer log: its final stats (``-print_final_stats``)
    or ``Done N runs``, and the ``#N INITED`` line. Fuzzing happened only if the first is larger.
    """
    done = re.findall(r"^stat::number_of_executed_units:\s*(\d+)", log, re.M) or \
        re.findall(r"^Done (\d+) runs", log, re.M)
    inited = re.findall(r"^#(\d+)\s+INITED", log, re.M)
    return (int(done[-1]) if done else 0), (int(inited[-1]) if inited else 0)


@pytest.fixture(scope="module")
def fuzz_build(tmp_path_factory, gate) -> Path:
    """Every fuzz target, built into a temporary directory."""
    clang = os.environ.get("CLANG", "clang")
    gate("fuzz", shutil.which(clang) is not None and shutil.which("make") is not None,
         f"needs {clang} and make (Debian: apt-get install clang {LIBFUZZER_PACKAGE})")
    build = tmp_path_factory.mktemp("fuzz-build")
    probe = build / "probe.c"
    probe.write_text(PROBE_SOURCE)
    r = subprocess.run([clang, "-fsanitize=fuzzer,address,undefined", str(probe),
                        "-o", str(build / "probe")], capture_output=True, text=True)
    gate("fuzz", r.returncode == 0,
         f"{clang} cannot link -fsanitize=fuzzer,address,undefined (libFuzzer "
         f"runtime missing? Debian: apt-get install {LIBFUZZER_PACKAGE}): {_tail(r.stderr, 3)}")
    r = subprocess.run(["make", "-C", str(FUZZ_DIR), f"BUILD={build}", f"CLANG={clang}", "all"],
                       capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    assert r.returncode == 0, f"building the fuzz targets failed:\n{_tail(r.stdout + r.stderr)}"
    return build


@pytest.fixture(scope="module")
def seed_dirs(tmp_path_factory) -> dict[str, list[Path]]:
    """Seed corpus directories per target: hand-made seeds plus simkit corpus."""
    out = tmp_path_factory.mktemp("fuzz-seeds")
    r = subprocess.run([sys.executable, str(FUZZ_DIR / "seed_corpus.py"), str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"seed_corpus.py failed:\n{_tail(r.stdout + r.stderr)}"
    dirs = {t: [out / t] for t in RUN_SECONDS}
    if importlib.util.find_spec("simkit.cli.corpus") is not None:
        raw = out / "simkit-corpus-raw"
        r = subprocess.run([sys.executable, "-m", "simkit.cli", "corpus", *CORPUS_ARGS,
                            "-o", str(out / "corpus.pcap"), "--raw-dir", str(raw), "--quiet"],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, f"simkit corpus failed:\n{_tail(r.stdout + r.stderr)}"
        dirs["seed_parse"].append(raw)
    return dirs


def _fuzz(build: Path, target: str, seeds: list[Path]) -> tuple[int, str, list[Path]]:
    """One bounded run of one target: (exit code, log, findings)."""
    log_path = build / f"run-{target}.log"
    cmd = ["make", "-s", "-C", str(FUZZ_DIR), f"BUILD={build}", "run", f"TARGET={target}",
           f"SECONDS={RUN_SECONDS[target]}", f"SEEDS={' '.join(str(d) for d in seeds)}",
           f"CORPUS={build / 'corpus' / target}"]
    with log_path.open("w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        try:
            rc = proc.wait(timeout=RUN_SECONDS[target] + GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
    findings = sorted((build / "findings" / target).glob("*"))
    return rc, log_path.read_text(errors="replace"), findings


@pytest.fixture(scope="module")
def short_runs(fuzz_build, seed_dirs) -> dict[str, tuple[int, str, list[Path]]]:
    """Fuzz every target for its bounded time, as many at once as there are cores."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        runs = {t: pool.submit(_fuzz, fuzz_build, t, seed_dirs[t]) for t in RUN_SECONDS}
        return {t: run.result() for t, run in runs.items()}


def _keep(target: str, findings: list[Path]) -> list[Path]:
    """Copy findings into regressions/<target>/ (replayed by every later run)."""
    kept = []
    for finding in findings:
        dest = FUZZ_DIR / "regressions" / target / f"found-{finding.name}"
        shutil.copyfile(finding, dest)
        kept.append(dest)
    return kept


def test_regressions_replay_clean(fuzz_build):
    """Every input kept in native/fuzz/regressions/ runs without a finding."""
    r = subprocess.run(["make", "-s", "-C", str(FUZZ_DIR), f"BUILD={fuzz_build}", "regress"],
                       capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    assert r.returncode == 0, (
        "a kept crash input still fails (the bug it recorded is back, or not fixed yet):\n"
        f"{_tail(r.stdout + r.stderr)}")  # make regress prints the failing check per target


@pytest.mark.parametrize("target", list(RUN_SECONDS))
def test_short_fuzz_run_finds_nothing(short_runs, target):
    """A bounded run from the seed corpora fuzzes (executions past its corpus), ends with exit 0
    and leaves no artifact; an artifact is kept as a regression."""
    rc, log, findings = short_runs[target]
    executed, loaded = fuzzed_runs(log)
    stats = re.findall(r"^#\d+\s+DONE\s+.*$", log, re.M)
    print(f"fuzz_{target}: {executed:,} executions ({loaded} corpus inputs); "
          f"{stats[-1] if stats else 'no final stats'}")
    detail = ""
    if findings:
        first = findings[0]
        kept = _keep(target, findings)
        detail = (f"\nfindings: {', '.join(f.name for f in findings)}"
                  f"\nfirst input ({first.stat().st_size} bytes): "
                  f"{first.read_bytes()[:64].hex(' ')}"
                  f"\nkept as {', '.join(str(k) for k in kept)}: minimise, rename after what it "
                  f"shows and commit (native/fuzz/README.md)")
    assert rc == 0 and not findings, (
        f"fuzz_{target} found a problem (exit {rc}):\n{_what_failed(log)}{detail}"
        f"\nlog tail:\n{_tail(log)}")
    assert executed > loaded, (
        f"fuzz_{target} fuzzed nothing: {executed} executions for {loaded} corpus inputs "
        f"(a run that executes nothing passes nothing)\nlog tail:\n{_tail(log)}")


def test_a_run_that_fuzzes_nothing_is_told_apart(fuzz_build, tmp_path):
    """The zero-execution verdict on a real libFuzzer log: -runs=0 loads, fuzzes nothing."""
    empty = tmp_path / "corpus"
    empty.mkdir()
    target = fuzz_build / "fuzz_mold"
    idle = subprocess.run([str(target), "-runs=0", "-print_final_stats=1", str(empty)],
                          capture_output=True, text=True, timeout=60)
    executed, loaded = fuzzed_runs(idle.stderr)
    assert idle.returncode == 0 and executed == loaded > 0, idle.stderr[-2000:]
    busy = subprocess.run([str(target), "-runs=500", "-print_final_stats=1", str(empty)],
                          capture_output=True, text=True, timeout=60)
    executed, loaded = fuzzed_runs(busy.stderr)
    assert executed == 500 > loaded, busy.stderr[-2000:]  # -runs counts the loaded inputs too
