"""Line charts as inline SVG, for the report page: linear and log axes, HdrHistogram's
"nines" percentile axis, a tooltip on every point. No scripts, no network: the
markup is the picture.

Every series is a ``<path class="series">`` with ``data-series`` (its label) and
``data-points`` (how many points it drew), so a test (or a reader of the DOM) can
tell a drawn plot from an empty frame.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape

WIDTH, HEIGHT = 820, 320
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 78, 40, 14, 48
MAX_MARKERS = 400  # per series: more points than this get no hover markers


@dataclass(frozen=True)
class Line:
    """One series: a label, a colour, points ``(x, y)`` in data units."""

    label: str
    color: str
    points: Sequence[tuple[float, float]]
    dash: str = ""
    width: float = 2.0
    #: what a point's tooltip says: (x, y) -> text
    describe: Callable[[float, float], str] | None = None


@dataclass(frozen=True)
class Axis:
    """An axis: its scale (``lin``, ``log``), data domain, ticks and title."""

    title: str
    lo: float
    hi: float
    log: bool = False
    ticks: Sequence[tuple[float, str]] = field(default_factory=tuple)

    def fraction(self, value: float) -> float:
        """Where ``value`` falls, 0 (lo) .. 1 (hi)."""
        if self.log:
            lo, hi, value = math.log10(self.lo), math.log10(self.hi), math.log10(max(value, self.lo))
        else:
            lo, hi = self.lo, self.hi
        return 0.0 if hi <= lo else (value - lo) / (hi - lo)


def nice_step(span: float, target: int = 5) -> float:
    """A 1, 2 or 5 times a power of ten step giving about ``target`` intervals."""
    if span <= 0:
        return 1.0
    raw = span / target
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def linear_axis(title: str, values: Sequence[float], fmt: Callable[[float], str],
                zero: bool = True) -> Axis:
    """A linear axis over ``values`` (from 0 when ``zero``), with round ticks."""
    lo = 0.0 if zero or not values else min(values)
    hi = max(values) if values else 1.0
    if hi <= lo:
        hi = lo + 1.0
    step = nice_step(hi - lo)
    hi = math.ceil(hi / step) * step
    lo = math.floor(lo / step) * step
    ticks, k = [], 0
    while lo + k * step <= hi + step / 1e6:
        ticks.append((lo + k * step, fmt(lo + k * step)))
        k += 1
    return Axis(title, lo, hi, ticks=tuple(ticks))


def log_axis(title: str, values: Sequence[float], fmt: Callable[[float], str]) -> Axis:
    """A log axis over the positive ``values``, ticks at 1, 2 and 5 times powers of ten."""
    positive = [v for v in values if v > 0] or [1.0]
    lo = 10 ** math.floor(math.log10(min(positive)))
    if lo >= min(positive):  # a power of ten: not on the frame (a bar of it would vanish)
        lo /= 10
    hi = 10 ** math.ceil(math.log10(max(positive)))
    if hi <= lo:
        hi = lo * 10
    decades = round(math.log10(hi / lo))
    multiples = (1,) if decades > 4 else (1, 2, 5)
    ticks = [(m * 10 ** e, fmt(m * 10 ** e))
             for e in range(round(math.log10(lo)), round(math.log10(hi)) + 1)
             for m in multiples if lo <= m * 10 ** e <= hi]
    return Axis(title, lo, hi, log=True, ticks=tuple(ticks))


def nines_axis(title: str, max_nines: float) -> Axis:
    """HdrHistogram's percentile axis: x = log10(1 / (1 - p)), labelled 0 %, 90 %,
    99 %, 99.9 %, ... up to the deepest percentile drawn."""
    top = max(1, math.ceil(max_nines))
    ticks = [(0.0, "0%"), (math.log10(2), "50%")]
    ticks += [(float(n), f"{100 - 100 / 10 ** n:.{max(0, n - 2)}f}%") for n in range(1, top + 1)]
    return Axis(title, 0.0, float(top), ticks=tuple(ticks))


def nines(percentile: float) -> float:
    """The nines axis' x of a percentile (0..100, below 100)."""
    return math.log10(100.0 / (100.0 - percentile))


def chart(chart_id: str, lines: Sequence[Line], x: Axis, y: Axis, empty: str = "no data") -> str:
    """An SVG line chart.

    Args:
        chart_id: the ``id`` of the ``<svg>`` element.
        lines: the series; empty ones are left out.
        x, y: the axes.
        empty: what the plot area says when no series has a point.

    Returns:
        The ``<svg>`` markup.
    """
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM

    def px(value: float) -> float:
        return MARGIN_LEFT + x.fraction(value) * plot_w

    def py(value: float) -> float:
        return MARGIN_TOP + (1.0 - y.fraction(value)) * plot_h

    out = [f'<svg id="{escape(chart_id)}" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
           f'width="{WIDTH}" height="{HEIGHT}" xmlns="http://www.w3.org/2000/svg" role="img">',
           f'<rect class="plot-area" x="{MARGIN_LEFT}" y="{MARGIN_TOP}" width="{plot_w}" '
           f'height="{plot_h}"/>']
    for value, label in x.ticks:
        gx = px(value)
        out.append(f'<line class="grid" x1="{gx:.1f}" y1="{MARGIN_TOP}" x2="{gx:.1f}" '
                   f'y2="{MARGIN_TOP + plot_h}"/>')
        out.append(f'<text class="tick" x="{gx:.1f}" y="{MARGIN_TOP + plot_h + 16}" '
                   f'text-anchor="middle">{escape(label)}</text>')
    for value, label in y.ticks:
        gy = py(value)
        out.append(f'<line class="grid" x1="{MARGIN_LEFT}" y1="{gy:.1f}" '
                   f'x2="{MARGIN_LEFT + plot_w}" y2="{gy:.1f}"/>')
        out.append(f'<text class="tick" x="{MARGIN_LEFT - 6}" y="{gy + 4:.1f}" '
                   f'text-anchor="end">{escape(label)}</text>')
    out.append(f'<text class="axis-title" x="{MARGIN_LEFT + plot_w / 2:.1f}" '
               f'y="{HEIGHT - 8}" text-anchor="middle">{escape(x.title)}</text>')
    out.append(f'<text class="axis-title" transform="translate(16 {MARGIN_TOP + plot_h / 2:.1f}) '
               f'rotate(-90)" text-anchor="middle">{escape(y.title)}</text>')
    drawn = 0
    for line in lines:
        if not line.points:
            continue
        drawn += 1
        d = " ".join(f"{'M' if k == 0 else 'L'}{px(a):.1f},{py(b):.1f}"
                     for k, (a, b) in enumerate(line.points))
        dash = f' stroke-dasharray="{line.dash}"' if line.dash else ""
        out.append(f'<path class="series" data-series="{escape(line.label)}" '
                   f'data-points="{len(line.points)}" d="{d}" fill="none" stroke="{line.color}" '
                   f'stroke-width="{line.width}"{dash}><title>{escape(line.label)}</title></path>')
        if line.describe is not None and len(line.points) <= MAX_MARKERS:
            out.append(f'<g class="markers" fill="{line.color}">')
            out += [f'<circle cx="{px(a):.1f}" cy="{py(b):.1f}" r="2.2"><title>'
                    f'{escape(line.label)}: {escape(line.describe(a, b))}</title></circle>'
                    for a, b in line.points]
            out.append("</g>")
    if not drawn:
        out.append(f'<text class="empty" x="{MARGIN_LEFT + plot_w / 2:.1f}" '
                   f'y="{MARGIN_TOP + plot_h / 2:.1f}" text-anchor="middle">{escape(empty)}</text>')
    out.append("</svg>")
    return "\n".join(out)


@dataclass(frozen=True)
class Bars:
    """One series of a bar chart: a value (or ``None``: not measured) per group."""

    label: str
    color: str
    values: Sequence[float | None]
    describe: Callable[[float], str] | None = None


def bar_chart(chart_id: str, groups: Sequence[str], series: Sequence[Bars], y: Axis,
              x_title: str = "", empty: str = "no data") -> str:
    """An SVG bar chart: one cluster a group, one bar a series in each.

    Every bar is a ``<rect class="bar">`` with ``data-series``, ``data-group`` and
    ``data-value``; a value of ``None`` draws no bar (and says so in the cluster).
    """
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    out = [f'<svg id="{escape(chart_id)}" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
           f'width="{WIDTH}" height="{HEIGHT}" xmlns="http://www.w3.org/2000/svg" role="img">',
           f'<rect class="plot-area" x="{MARGIN_LEFT}" y="{MARGIN_TOP}" width="{plot_w}" '
           f'height="{plot_h}"/>']

    def py(value: float) -> float:
        return MARGIN_TOP + (1.0 - y.fraction(value)) * plot_h

    for value, label in y.ticks:
        gy = py(value)
        out.append(f'<line class="grid" x1="{MARGIN_LEFT}" y1="{gy:.1f}" '
                   f'x2="{MARGIN_LEFT + plot_w}" y2="{gy:.1f}"/>')
        out.append(f'<text class="tick" x="{MARGIN_LEFT - 6}" y="{gy + 4:.1f}" '
                   f'text-anchor="end">{escape(label)}</text>')
    slot = plot_w / max(1, len(groups))
    width = slot * 0.8 / max(1, len(series))
    drawn = 0
    for g, group in enumerate(groups):
        x0 = MARGIN_LEFT + g * slot + slot * 0.1
        cx = MARGIN_LEFT + (g + 0.5) * slot
        words = "".join(f'<tspan x="{cx:.1f}" dy="{0 if k == 0 else 12}">{escape(w)}</tspan>'
                        for k, w in enumerate(group.split()))  # a word a line: no overlaps
        out.append(f'<text class="tick" x="{cx:.1f}" y="{MARGIN_TOP + plot_h + 14}" '
                   f'text-anchor="middle">{words}</text>')
        for s, bars in enumerate(series):
            value = bars.values[g] if g < len(bars.values) else None
            if value is None:
                continue
            drawn += 1
            top = py(max(value, y.lo))
            tip = bars.describe(value) if bars.describe else f"{value:g}"
            out.append(f'<rect class="bar" data-series="{escape(bars.label)}" '
                       f'data-group="{escape(group)}" data-value="{value:g}" '
                       f'x="{x0 + s * width:.1f}" y="{top:.1f}" width="{max(1.0, width - 2):.1f}" '
                       f'height="{max(0.0, MARGIN_TOP + plot_h - top):.1f}" fill="{bars.color}">'
                       f'<title>{escape(bars.label)}, {escape(group)}: {escape(tip)}</title></rect>')
    if x_title:
        out.append(f'<text class="axis-title" x="{MARGIN_LEFT + plot_w / 2:.1f}" '
                   f'y="{HEIGHT - 4}" text-anchor="middle">{escape(x_title)}</text>')
    out.append(f'<text class="axis-title" transform="translate(16 {MARGIN_TOP + plot_h / 2:.1f}) '
               f'rotate(-90)" text-anchor="middle">{escape(y.title)}</text>')
    if not drawn:
        out.append(f'<text class="empty" x="{MARGIN_LEFT + plot_w / 2:.1f}" '
                   f'y="{MARGIN_TOP + plot_h / 2:.1f}" text-anchor="middle">{escape(empty)}</text>')
    out.append("</svg>")
    return "\n".join(out)
