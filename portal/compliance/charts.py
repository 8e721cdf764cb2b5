"""Charts drawn by the portal itself: server-side SVG, no JavaScript, no CDN.

Two shapes serve the reports: a line chart (one series per partner, or per measure, over
weeks) and a bar chart (a distribution such as the acknowledgement lag). Every label is
escaped with markupsafe, so a partner called ``<script>`` is drawn as text. Charts read in
print and on a black-and-white page: series differ by dash pattern and shade of grey, not
by colour alone, and each carries ``role="img"`` with a ``<title>`` and ``<desc>``; the page
shows the numbers as a table under each chart for screen readers and spreadsheets.
"""

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

# (stroke colour, dash pattern) per series, in order: black-and-grey safe, distinct in print.
STROKES = tuple(
    (shade, dash)
    for shade in ("#000000", "#595959", "#8c8c8c")
    for dash in ("", "8 4", "2 3", "10 3 2 3", "14 5", "4 2 1 2", "1 5")
)
FONT = Markup('font-family="system-ui, sans-serif" font-size="12"')
LABEL_LIMIT = 40  # characters of a legend or axis label before it is shortened
_ID = re.compile(r"^[a-z][a-z0-9-]{0,40}$")


@dataclass(frozen=True)
class Series:
    """One line: its label and a value per x position."""

    label: str
    values: Sequence[float]
    emphasis: bool = False  # drawn thicker (the partner the page is about)


def stroke_of(index: int) -> tuple[str, str]:
    """The (colour, dash pattern) of the ``index``-th series; used by the legend tables too."""
    return STROKES[index % len(STROKES)]


def nice_step(peak: float) -> float:
    """The y axis step: a round number (1, 2, 5 × 10^k; 25, 250... too) with 4 steps ≥ ``peak``.

    Whole-number data keeps whole-number grid values; an empty chart gets steps of 1.
    """
    wanted = max(peak, 1) / 4
    power = 10 ** math.floor(math.log10(wanted)) if wanted >= 1 else 1
    steps = (1, 2, 2.5, 5, 10) if power >= 10 else (1, 2, 5, 10)
    return next(step * power for step in steps if step * power >= wanted)


def _short(label: str) -> str:
    label = str(label)
    return label if len(label) <= LABEL_LIMIT else label[: LABEL_LIMIT - 1] + "…"


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _check_id(chart_id: str) -> None:
    if not _ID.match(chart_id):
        raise ValueError(f"chart ids are short lowercase words with dashes, not {chart_id!r}")


def _open(chart_id, width, height, title, description) -> list[Markup]:
    return [
        Markup(
            '<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {w} {h}" '
            'role="img" aria-labelledby="{id}-title {id}-desc" preserveAspectRatio="xMidYMid meet">'
        ).format(w=width, h=height, id=chart_id),
        Markup('<title id="{}-title">{}</title>').format(chart_id, title),
        Markup('<desc id="{}-desc">{}</desc>').format(chart_id, description),
        Markup('<rect x="0" y="0" width="{}" height="{}" fill="#ffffff"/>').format(width, height),
    ]


def _y_axis(parts, top, left, right, plot_height, y_max, y_label):
    """Grid lines and their values, four steps from 0 to ``y_max``."""
    for step in range(5):
        value = y_max * step / 4
        y = top + plot_height - plot_height * step / 4
        parts.append(
            Markup(
                '<line x1="{l}" x2="{r}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d0d0" '
                'stroke-width="1"/>'
            ).format(l=left, r=right, y=y)
        )
        parts.append(
            Markup('<text x="{}" y="{:.1f}" text-anchor="end" {}>{}</text>').format(
                left - 6, y + 4, FONT, _number(round(value, 2))
            )
        )
    if y_label:
        parts.append(
            Markup(
                '<text x="12" y="{y:.1f}" text-anchor="middle" transform="rotate(-90 12 {y:.1f})" '
                "{font}>{label}</text>"
            ).format(y=top + plot_height / 2, font=FONT, label=_short(y_label))
        )


def _x_labels(parts, labels, positions, baseline):
    every = max(1, math.ceil(len(labels) / 12))  # at most about twelve labels fit
    for index, (label, x) in enumerate(zip(labels, positions, strict=True)):
        if index % every:
            continue
        parts.append(
            Markup('<text x="{:.1f}" y="{:.1f}" text-anchor="middle" {}>{}</text>').format(
                x, baseline + 16, FONT, _short(label)
            )
        )


def line_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    y_label: str = "",
    width: int = 720,
    height: int = 280,
) -> Markup:
    """An SVG line chart: one line per series over ``x_labels``, with a legend below.

    Each series' values line up with ``x_labels``. The legend takes up to three columns (fewer
    for long labels), its rows added to ``height``.
    """
    _check_id(chart_id)
    left, right, top = 48, width - 16, 16
    longest = max((len(_short(s.label)) for s in series), default=0)
    columns = max(1, min(3, int((right - left) // (40 + 7 * longest))))
    legend_rows = math.ceil(len(series) / columns)
    plot_height = height - top - 36
    total_height = height + legend_rows * 20
    parts = _open(chart_id, width, total_height, title, description)
    peak = max((v for s in series for v in s.values), default=0)
    y_max = 4 * nice_step(peak)
    _y_axis(parts, top, left, right, plot_height, y_max, y_label)
    count = len(x_labels)
    span = right - left
    positions = (
        [left + span / 2] if count == 1 else [left + span * i / (count - 1) for i in range(count)]
    )
    baseline = top + plot_height
    _x_labels(parts, x_labels, positions, baseline)
    for index, line in enumerate(series):
        colour, dash = stroke_of(index)
        width_px = 3.5 if line.emphasis else 2
        points = [
            (x, baseline - plot_height * value / y_max)
            for x, value in zip(positions, line.values, strict=True)
        ]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(
            Markup(
                '<polyline points="{}" fill="none" stroke="{}" stroke-width="{}" '
                'stroke-dasharray="{}" stroke-linejoin="round"><title>{}</title></polyline>'
            ).format(path, colour, width_px, dash or "none", line.label)
        )
        for x, y in points:
            parts.append(
                Markup('<circle cx="{:.1f}" cy="{:.1f}" r="2.5" fill="{}"/>').format(x, y, colour)
            )
    for index, line in enumerate(series):
        colour, dash = stroke_of(index)
        column, row = index % columns, index // columns
        x = left + column * (span / columns)
        y = height + row * 20 - 4
        parts.append(
            Markup(
                '<line x1="{x}" x2="{x2}" y1="{y}" y2="{y}" stroke="{c}" stroke-width="{w}" '
                'stroke-dasharray="{d}"/>'
            ).format(
                x=x, x2=x + 28, y=y - 4, c=colour, w=3.5 if line.emphasis else 2, d=dash or "none"
            )
        )
        parts.append(
            Markup('<text x="{}" y="{}" {}>{}</text>').format(x + 34, y, FONT, _short(line.label))
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    bars: Sequence[tuple[str, float]],
    y_label: str = "",
    width: int = 720,
    height: int = 260,
) -> Markup:
    """An SVG bar chart of (label, value) pairs, each bar with its value written above it."""
    _check_id(chart_id)
    left, right, top = 48, width - 16, 20
    plot_height = height - top - 36
    parts = _open(chart_id, width, height, title, description)
    y_max = 4 * nice_step(max((value for _, value in bars), default=0))
    _y_axis(parts, top, left, right, plot_height, y_max, y_label)
    slot = (right - left) / max(len(bars), 1)
    baseline = top + plot_height
    positions = []
    for index, (label, value) in enumerate(bars):
        bar_height = plot_height * value / y_max
        x = left + slot * index + slot * 0.15
        positions.append(left + slot * index + slot / 2)
        parts.append(
            Markup(
                '<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="#8c8c8c" '
                'stroke="#000000" stroke-width="1"><title>{}: {}</title></rect>'
            ).format(x, baseline - bar_height, slot * 0.7, bar_height, label, _number(value))
        )
        parts.append(
            Markup('<text x="{:.1f}" y="{:.1f}" text-anchor="middle" {}>{}</text>').format(
                positions[-1], baseline - bar_height - 4, FONT, _number(value)
            )
        )
    _x_labels(parts, [label for label, _ in bars], positions, baseline)
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
