"""The plugin loads in every pytest run of a project that has simkit installed
(entry point ``pytest11``), so loading it must stay cheap: the heavy modules
(scapy through the packet layers, the engine's wiring) load only when a test
uses the ``bypass`` or ``md_packets`` fixtures. Time itself is not asserted
here (shared machines are noisy); docs/PERFORMANCE.md has the measurement.
"""

import subprocess
import sys
import textwrap

HEAVY = ("scapy", "simkit.engine.run", "simkit.packets", "simkit.impair.impairer",
         "simkit.pytest_plugin.handle")


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def _modules_after(code: str, tmp_path) -> set[str]:
    probe = textwrap.dedent(f"""
        import sys
        {code}
        print("\\n".join(sorted(sys.modules)))
    """)
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                         check=True).stdout
    return set(out.split())


def test_importing_the_plugin_loads_no_packet_layers_or_engine(tmp_path):
    assert _heavy(_modules_after("import simkit.pytest_plugin.plugin", tmp_path)) == []


def test_a_pytest_run_without_bypass_fixtures_loads_no_packet_layers(tmp_path):
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    assert True\n")
    code = ("import pytest\n"
            "        rc = pytest.main(['-q', '-p', 'no:cacheprovider', 'test_plain.py'])\n"
            "        assert rc == 0, rc")
    assert _heavy(_modules_after(code, tmp_path)) == []


def test_the_public_names_still_resolve_lazily(tmp_path):
    modules = _modules_after("import simkit\n        simkit.Scenario; simkit.run; simkit.Report", tmp_path)
    assert "simkit.engine.run" in modules and "simkit.scenario" in modules
    assert set(dir(__import__("simkit"))) >= {"Scenario", "run", "Report", "__version__"}


def test_the_cli_builds_its_parser_without_packet_layers_or_engine(tmp_path):
    """``simkit --help``, completion and every usage error: the parser alone, at once."""
    code = "from simkit.cli import build_parser\n        build_parser()"
    assert _heavy(_modules_after(code, tmp_path)) == []


def test_the_corpus_package_names_resolve_lazily(tmp_path):
    modules = _modules_after("import simkit.corpus\n        simkit.corpus.CorpusSpec", tmp_path)
    assert "simkit.corpus.writer" in modules
    assert set(dir(__import__("simkit.corpus").corpus)) >= {"RAW_UNITS", "write_corpus"}
