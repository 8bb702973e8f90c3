"""Short libFuzzer run over simkit's native core (issue 5, item 6).

Builds the targets in native/fuzz (sk_seed_parse, sequence accounting,
histogram) with clang, ASan and UBSan into a temporary directory, replays
every kept crash input in native/fuzz/regressions/, then fuzzes each target
for a bounded time from the hand-made seeds (native/fuzz/seed_corpus.py) and
a ``simkit corpus --raw-dir`` output. Any finding fails: a non-zero exit or a
crash-/leak-/timeout-/oom- file. Skips when clang or libFuzzer is missing.
Long campaigns: see native/fuzz/README.md.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FUZZ_DIR = Path(__file__).resolve().parents[2] / "native" / "fuzz"
# Seconds per target; the three run at once, so about 45 s in all.
RUN_SECONDS = {"seed_parse": 45, "seq": 20, "hist": 20}
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


@pytest.fixture(scope="module")
def fuzz_build(tmp_path_factory) -> Path:
    """The three fuzz targets, built into a temporary directory."""
    clang = os.environ.get("CLANG", "clang")
    if shutil.which(clang) is None or shutil.which("make") is None:
        pytest.skip(f"needs {clang} and make (Debian: apt-get install clang {LIBFUZZER_PACKAGE})")
    build = tmp_path_factory.mktemp("fuzz-build")
    probe = build / "probe.c"
    probe.write_text(PROBE_SOURCE)
    r = subprocess.run([clang, "-fsanitize=fuzzer,address,undefined", str(probe),
                        "-o", str(build / "probe")], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"{clang} cannot link -fsanitize=fuzzer,address,undefined (libFuzzer "
                    f"runtime missing? Debian: apt-get install {LIBFUZZER_PACKAGE}): "
                    f"{_tail(r.stderr, 3)}")
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


@pytest.fixture(scope="module")
def short_runs(fuzz_build, seed_dirs) -> dict[str, tuple[int, str, list[Path]]]:
    """Fuzz every target at once for its bounded time: (exit code, log, findings)."""
    procs = {}
    for target, seconds in RUN_SECONDS.items():
        log = (fuzz_build / f"run-{target}.log").open("w")
        seeds = " ".join(str(d) for d in seed_dirs[target])
        cmd = ["make", "-s", "-C", str(FUZZ_DIR), f"BUILD={fuzz_build}", "run",
               f"TARGET={target}", f"SECONDS={seconds}", f"SEEDS={seeds}",
               f"CORPUS={fuzz_build / 'corpus' / target}"]
        procs[target] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT), log)
    results = {}
    for target, (proc, log) in procs.items():
        try:
            rc = proc.wait(timeout=RUN_SECONDS[target] + GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        log.close()
        text = Path(log.name).read_text(errors="replace")
        findings = sorted((fuzz_build / "findings" / target).glob("*"))
        results[target] = (rc, text, findings)
    return results


def test_regressions_replay_clean(fuzz_build):
    """Every input kept in native/fuzz/regressions/ runs without a finding."""
    r = subprocess.run(["make", "-s", "-C", str(FUZZ_DIR), f"BUILD={fuzz_build}", "regress"],
                       capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    assert r.returncode == 0, (
        "a kept crash input still fails (the bug it recorded is back, or not fixed yet):\n"
        f"{_tail(r.stdout + r.stderr)}")  # make regress prints the failing check per target


@pytest.mark.parametrize("target", list(RUN_SECONDS))
def test_short_fuzz_run_finds_nothing(short_runs, target):
    """A bounded run from the seed corpora ends with exit 0 and no artifacts."""
    rc, log, findings = short_runs[target]
    stats = re.findall(r"^#\d+\s+DONE\s+.*$", log, re.M)
    print(f"fuzz_{target}: {stats[-1] if stats else 'no final stats'}")
    detail = ""
    if findings:
        first = findings[0]
        detail = (f"\nfindings: {', '.join(f.name for f in findings)}"
                  f"\nfirst input ({first.stat().st_size} bytes): "
                  f"{first.read_bytes()[:64].hex(' ')}"
                  f"\nkeep it: cp {first} {FUZZ_DIR / 'regressions' / target}/<what-it-shows>")
    assert rc == 0 and not findings, (
        f"fuzz_{target} found a problem (exit {rc}):\n{_what_failed(log)}{detail}"
        f"\nlog tail:\n{_tail(log)}")
