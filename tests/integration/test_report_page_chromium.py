"""``simkit report``'s page in a real browser: headless chromium loads it, lays it out,
and draws its plots.

Two real runs over the DPDK ring link (paced for 2 s at two rates) make one page.
A probe page frames it and asks chromium's own layout for every series of every chart
(its points, drawn length, bounding box, where each chart sits); then a screenshot of
the page itself must show each run's colour inside each chart's rectangle: lines,
not an empty frame.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys

import pytest

PAGE_WIDTH = 900
PAGE_HEIGHT = 3200
CHARTS = ("percentiles", "latency-over-time", "rate-over-time")
COLORS = {"slow": (0x00, 0x72, 0xB2), "fast": (0xD5, 0x5E, 0x00)}  # the page's first two

PROBE = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" src="page.html" width="%(w)d" height="%(h)d" scrolling="no"
        style="border:0;display:block"></iframe>
<pre id="out">pending</pre>
<script>
document.getElementById("f").addEventListener("load", () => {
  const doc = document.getElementById("f").contentDocument;
  const charts = {};
  for (const svg of doc.querySelectorAll("svg.chart")) {
    const r = svg.getBoundingClientRect();
    charts[svg.id] = {
      rect: [r.left, r.top, r.width, r.height],
      empty: svg.querySelectorAll("text.empty").length,
      series: [...svg.querySelectorAll("path.series")].map(p => {
        const b = p.getBBox();
        return {label: p.dataset.series, points: +p.dataset.points,
                length: p.getTotalLength(), w: b.width, h: b.height};
      }),
    };
  }
  document.getElementById("out").textContent = JSON.stringify({
    title: doc.title, charts: charts,
    summary_rows: doc.querySelectorAll("#summary tr").length,
  });
});
</script></body></html>
"""


def chromium(path: str, *args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([path, "--headless", "--no-sandbox", "--disable-gpu",
                           "--hide-scrollbars", "--no-first-run", "--disable-extensions",
                           *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def simkit(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simkit", *argv], capture_output=True,
                          text=True, timeout=180)


@pytest.fixture(scope="module")
def page(tmp_path_factory, needs, needs_tools):
    browser = needs_tools("chromium")
    needs("dpdk", "ring")
    out = tmp_path_factory.mktemp("page")
    for name, extra in (("slow", ("--count", "200000", "--rate", "100000")),
                        ("fast", ("--count", "300000", "--rate", "150000"))):
        proc = simkit("run", "--link", "ring", "--quiet", "--json", str(out / f"{name}.json"),
                      *extra)
        assert proc.returncode == 0, proc.stderr
    proc = simkit("report", str(out / "slow.json"), str(out / "fast.json"),
                  "-o", str(out / "page.html"))
    assert proc.returncode == 0, proc.stderr
    return browser, out


def test_page_is_self_contained(page):
    _, out = page
    text = (out / "page.html").read_text()
    assert "<script" not in text
    # nothing fetched: no URL but the SVG namespace
    assert set(re.findall(r"(?:https?:)?//[\w.-]+", text)) <= {"http://www.w3.org"}


def test_chromium_lays_out_every_plot(page):
    browser, out = page
    (out / "probe.html").write_text(PROBE % {"w": PAGE_WIDTH, "h": PAGE_HEIGHT})
    proc = chromium(browser, "--allow-file-access-from-files", "--virtual-time-budget=10000",
                    f"--window-size={PAGE_WIDTH},{PAGE_HEIGHT}", "--dump-dom",
                    (out / "probe.html").as_uri())
    found = re.search(r'<pre id="out">(.*?)</pre>', proc.stdout, re.S)
    assert found and found.group(1) != "pending", proc.stderr[-2000:]
    probe = json.loads(html.unescape(found.group(1)))
    assert probe["title"] == "simkit report: slow, fast"
    assert probe["summary_rows"] > 15
    charts = probe["charts"]
    assert sorted(charts) == sorted(CHARTS)
    for chart in CHARTS:
        assert charts[chart]["empty"] == 0, chart
        for run in COLORS:
            drawn = [s for s in charts[chart]["series"] if s["label"].startswith(run)]
            assert drawn, f"{chart}: no series of {run}"
            assert all(s["points"] >= 1 for s in drawn), (chart, drawn)
    # the percentile curves: dozens of points each, drawn across most of the width
    for s in charts["percentiles"]["series"]:
        assert s["points"] > 30 and s["length"] > 300 and s["w"] > 300, s
    # each run spans at least two whole seconds: lines, not dots
    for chart in CHARTS[1:]:
        for s in charts[chart]["series"]:
            if not s["label"].endswith(" sent"):
                assert s["points"] >= 3 and s["w"] > 100, (chart, s)
    (out / "layout.json").write_text(json.dumps(charts))


def test_screenshot_shows_the_lines_inside_the_plots(page):
    import numpy as np
    from PIL import Image

    browser, out = page
    layout = out / "layout.json"
    if not layout.exists():
        pytest.skip("needs test_chromium_lays_out_every_plot's layout (run the module)")
    charts = json.loads(layout.read_text())
    shot = out / "page.png"
    proc = chromium(browser, f"--window-size={PAGE_WIDTH},{PAGE_HEIGHT}",
                    f"--screenshot={shot}", (out / "page.html").as_uri())
    assert shot.exists(), proc.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == (PAGE_WIDTH, PAGE_HEIGHT)
    for chart in CHARTS:
        left, top, width, height = charts[chart]["rect"]
        assert top + height < PAGE_HEIGHT, f"{chart} below the screenshot"
        region = np.asarray(image.crop((int(left), int(top), int(left + width),
                                        int(top + height))), dtype=int)
        for run, color in COLORS.items():
            hits = int((np.abs(region - np.array(color)).sum(axis=2) <= 60).sum())
            assert hits > 200, f"{chart}: {hits} pixels of {run}'s colour"
        # and the plot is not one colour: a frame, grid, ticks and lines
        assert len(np.unique(region.reshape(-1, 3), axis=0)) > 20, chart
    shutil.copy(shot, out / "report-page.png")  # kept with the test's files for a look


BENCH_PROBE = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" src="bench.html" width="%(w)d" height="%(h)d" scrolling="no"
        style="border:0;display:block"></iframe>
<pre id="out">pending</pre>
<script>
document.getElementById("f").addEventListener("load", () => {
  const doc = document.getElementById("f").contentDocument;
  const charts = {};
  for (const svg of doc.querySelectorAll("svg.chart")) {
    charts[svg.id] = [...svg.querySelectorAll("rect.bar")].map(r => {
      const b = r.getBBox();
      return {group: r.dataset.group, value: +r.dataset.value, h: b.height, w: b.width};
    });
  }
  document.getElementById("out").textContent = JSON.stringify(charts);
});
</script></body></html>
"""


def test_chromium_draws_the_bench_bars_to_scale(tmp_path, needs_tools):
    """The bench page (made from a bench file's JSON, no run needed): every bar drawn,
    heights in proportion to the values on the linear charts."""
    browser = needs_tools("chromium")
    rows = [{"method": m, "offered": offered, "tx_mpps": v, "rx_mpps": v / 2, "lost": 0,
             "rx_p99_ns": 1000 * (k + 1), "tx_p99_ns": None, "tx_cpu_percent": 10.0 * (k + 1),
             "rx_cpu_percent": 5.0 * (k + 1)}
            for offered in ("100000", "max")
            for k, (m, v) in enumerate((("socket", 0.5), ("io_uring", 1.0), ("dpdk", 2.0)))]
    (tmp_path / "b.json").write_text(json.dumps({"compare": rows}))
    proc = simkit("report", str(tmp_path / "b.json"), "-o", str(tmp_path / "bench.html"))
    assert proc.returncode == 0, proc.stderr
    (tmp_path / "probe.html").write_text(BENCH_PROBE % {"w": PAGE_WIDTH, "h": PAGE_HEIGHT})
    proc = chromium(browser, "--allow-file-access-from-files", "--virtual-time-budget=10000",
                    f"--window-size={PAGE_WIDTH},{PAGE_HEIGHT}", "--dump-dom",
                    (tmp_path / "probe.html").as_uri())
    found = re.search(r'<pre id="out">(.*?)</pre>', proc.stdout, re.S)
    assert found and found.group(1) != "pending", proc.stderr[-2000:]
    charts = json.loads(html.unescape(found.group(1)))
    assert sorted(charts) == ["bench-cpu", "bench-latency", "bench-rate"]
    rate = charts["bench-rate"]
    assert [(b["group"], b["value"]) for b in rate] == [
        ("socket", 0.5), ("socket", 0.25), ("io_uring", 1.0), ("io_uring", 0.5),
        ("dpdk", 2.0), ("dpdk", 1.0)]
    unit = rate[-2]["h"] / 2.0  # pixels a Mpps
    for bar in rate:
        assert bar["w"] > 20 and bar["h"] == pytest.approx(bar["value"] * unit, abs=1.0), bar
    assert len(charts["bench-latency"]) == 3 and all(b["h"] > 0 for b in charts["bench-latency"])
