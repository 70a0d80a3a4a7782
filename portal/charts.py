"""Charts drawn on the server as SVG: pure geometry from a series of (date, value) points.

No chart library and no script (the CSP allows neither inline code nor a CDN library):
these functions compute coordinates, and ``templates/macros/charts.html`` writes them as
SVG elements styled by ``portal.css``. Values are integers (money in minor units); the
templates format the labels.

A chart is as wide as its container and a fixed number of pixels high. Horizontal
positions are fractions of the width (drawn as percentages, or in a stretched inner SVG
for the line), vertical ones are pixels: so the text keeps its size at any width and
nothing needs a script to measure the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

# The stretched inner SVG that draws the line spans this many units across.
VIEW_WIDTH = 1000

# Above this many points, markers would touch each other: the line alone is drawn.
MAX_MARKERS = 60

DATE_FORMATS = {"month": "%b %Y", "day": "%-d %b"}

# An x label this close to an edge (as a fraction of the width) is aligned to the edge.
EDGE = 0.08


@dataclass(frozen=True)
class ChartPoint:
    """One value of the series and where it is drawn: ``x`` a fraction of the width, ``y`` px."""

    x: float
    y: float
    day: date
    value: int

    @property
    def x_percent(self) -> str:
        return f"{self.x * 100:.2f}%"


@dataclass(frozen=True)
class XTick:
    """A date label under the axis; ``minor`` ones are hidden on narrow screens."""

    x: float
    label: str
    anchor: str  # SVG text-anchor: labels near an edge are aligned to it
    minor: bool

    @property
    def x_percent(self) -> str:
        return f"{self.x * 100:.2f}%"


@dataclass(frozen=True)
class YTick:
    y: float
    value: int


@dataclass(frozen=True)
class LineChart:
    """A line chart's geometry: the plot runs from ``top`` to ``bottom`` pixels."""

    height: int
    top: float
    bottom: float
    points: list[ChartPoint]
    x_ticks: list[XTick]
    y_ticks: list[YTick]

    @property
    def polyline(self) -> str:
        """The line's points in the inner SVG's units, for ``<polyline points="...">``."""
        return " ".join(f"{p.x * VIEW_WIDTH:.1f},{p.y:.1f}" for p in self.points)

    @property
    def area(self) -> str:
        """A closed path under the line down to the zero axis, for a soft fill."""
        if len(self.points) < 2:
            return ""
        first, last = self.points[0].x * VIEW_WIDTH, self.points[-1].x * VIEW_WIDTH
        line = " ".join(f"L{p.x * VIEW_WIDTH:.1f},{p.y:.1f}" for p in self.points)
        return f"M{first:.1f},{self.bottom:.1f} {line} L{last:.1f},{self.bottom:.1f} Z"

    @property
    def show_markers(self) -> bool:
        return len(self.points) <= MAX_MARKERS

    @property
    def peak(self) -> ChartPoint | None:
        return max(self.points, key=lambda p: p.value) if self.points else None


def nice_step(maximum: int, ticks: int = 4) -> int:
    """A round step (1, 2, 2.5 or 5 times a power of ten) dividing 0..maximum into ≤ ``ticks``."""
    if maximum <= 0:
        return 1
    raw = maximum / ticks
    magnitude = 1
    while magnitude * 10 <= raw:
        magnitude *= 10
    for factor in (1, 2, 2.5, 5):
        step = int(factor * magnitude)
        if step >= raw:
            return step
    return 10 * magnitude


def value_ticks(maximum: int, ticks: int = 4) -> list[int]:
    """Round values from 0 up to the first one at or above ``maximum``."""
    step = nice_step(maximum, ticks)
    values = [0]
    while values[-1] < maximum:
        values.append(values[-1] + step)
    return values


def tick_indexes(count: int, most: int) -> list[int]:
    """Which of ``count`` points get a label: evenly spaced, counted back from the last."""
    if count <= 0:
        return []
    every = max(1, -(-count // most))
    return sorted(range(count - 1, -1, -every))


def line_chart(
    series: Sequence[tuple[date, int]],
    *,
    period: str = "month",
    height: int = 240,
    x_ticks: int = 6,
) -> LineChart:
    """Place ``series`` (oldest first) in a chart ``height`` pixels high, with its ticks.

    The y axis starts at zero and ends at a round value; y labels sit on their grid lines
    inside the plot, so no width is lost to them. At most ``x_ticks`` dates are labelled,
    every other one marked minor (hidden when the screen is narrow), the last always shown.
    """
    top, bottom = 24.0, height - 28.0
    if not series:
        return LineChart(height, top, bottom, [], [], [])
    values = value_ticks(max(v for _, v in series))
    ceiling = values[-1] or 1
    span = len(series) - 1

    def x_of(index: int) -> float:
        return 0.5 if span == 0 else index / span

    def y_of(value: int) -> float:
        return round(bottom - (bottom - top) * max(value, 0) / ceiling, 1)

    points = [ChartPoint(x_of(i), y_of(v), d, v) for i, (d, v) in enumerate(series)]
    fmt = DATE_FORMATS.get(period, DATE_FORMATS["month"])
    indexes = tick_indexes(len(series), x_ticks)
    labels = []
    for order, i in enumerate(reversed(indexes)):
        x = points[i].x
        anchor = "start" if x < EDGE else "end" if x > 1 - EDGE else "middle"
        labels.append(XTick(x, series[i][0].strftime(fmt), anchor, minor=order % 2 == 1))
    labels.reverse()
    return LineChart(height, top, bottom, points, labels, [YTick(y_of(v), v) for v in values])


@dataclass(frozen=True)
class BarSegment:
    """One part of a stacked bar: ``x`` and ``width`` are fractions of the plot's width."""

    key: str  # what it counts ("for", "against", ...): the stylesheet colours it
    value: float
    x: float
    width: float

    @property
    def x_percent(self) -> str:
        return f"{self.x * 100:.2f}%"

    @property
    def width_percent(self) -> str:
        return f"{self.width * 100:.2f}%"


@dataclass(frozen=True)
class Bar:
    """A labelled bar: its label sits at ``label_y``, the bar from ``y`` (pixels)."""

    label: str
    total: float
    label_y: float
    y: float
    segments: list[BarSegment]


@dataclass(frozen=True)
class BarChart:
    height: int
    bar_height: int
    bars: list[Bar]


def stacked_bars(
    rows: Sequence[tuple[str, Sequence[tuple[str, int]]]], *, bar_height: int = 20
) -> BarChart:
    """Horizontal bars, one per row, each split into its parts in proportion to its total.

    ``rows`` are (label, [(key, value), ...]); a row whose values are all 0 has no parts
    (its empty track is drawn). Every bar spans the full width at 100 %, so rows of
    different sizes compare as shares.
    """
    label_height, gap = 18, 14
    row_height = label_height + bar_height + gap
    bars = []
    for index, (label, parts) in enumerate(rows):
        top = index * row_height
        total = sum(value for _, value in parts)
        segments, x = [], 0.0
        for key, value in parts:
            if total and value:
                width = value / total
                segments.append(BarSegment(key, value, x, width))
                x += width
        bars.append(Bar(label, total, top + 13, top + label_height, segments))
    return BarChart(max(len(rows) * row_height - gap, 1), bar_height, bars)


@dataclass(frozen=True)
class ScaledBarChart:
    """Bars on one scale: ``mark_x`` (a fraction of the width) marks a threshold across."""

    height: int
    bar_height: int
    bars: list[Bar]
    mark_x: float | None

    @property
    def mark_percent(self) -> str:
        return f"{(self.mark_x or 0) * 100:.2f}%"


def scaled_bars(
    rows: Sequence[tuple[str, Sequence[tuple[str, float]]]],
    *,
    ceiling: float,
    mark: float | None = None,
    bar_height: int = 20,
) -> ScaledBarChart:
    """Horizontal bars, one per row, each part drawn to one scale from 0 to ``ceiling``
    (the full width), with ``mark`` (a value, e.g. a quota) placed on the same scale.

    ``rows`` are (label, [(key, value), ...]) as for :func:`stacked_bars`; unlike those
    bars, these compare as amounts, not shares.
    """
    label_height, gap = 18, 14
    row_height = label_height + bar_height + gap
    scale = ceiling if ceiling > 0 else 1.0
    bars = []
    for index, (label, parts) in enumerate(rows):
        top = index * row_height
        segments, x = [], 0.0
        for key, value in parts:
            if value > 0:
                width = min(value / scale, 1.0 - x)
                segments.append(BarSegment(key, value, x, width))
                x += width
        total = sum(value for _, value in parts)
        bars.append(Bar(label, total, top + 13, top + label_height, segments))
    mark_x = None if mark is None else min(max(mark / scale, 0.0), 1.0)
    return ScaledBarChart(max(len(rows) * row_height - gap, 1), bar_height, bars, mark_x)
