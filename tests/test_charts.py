"""Server-side SVG charts: accessible, escaped, readable in black and white."""

import re
import xml.etree.ElementTree as ET

import pytest
from markupsafe import Markup

from portal.compliance import charts

HOSTILE = '<script>alert(1)</script> & "quotes"'
SVG = "{http://www.w3.org/2000/svg}"


def _line(**overrides):
    arguments = {
        "chart_id": "trend",
        "title": "Done per week",
        "description": "Items done each week",
        "x_labels": ["5 Jan", "12 Jan", "19 Jan"],
        "series": [
            charts.Series("Atlas", [1, 4, 2], emphasis=True),
            charts.Series("Costa", [0, 3, 5]),
            charts.Series("Brio", [2, 2, 2]),
        ],
    }
    return charts.line_chart(**{**arguments, **overrides})


def test_a_line_chart_is_an_accessible_image():
    """role="img", labelled by its own <title> and <desc>; valid SVG markup; no script."""
    svg = _line()
    assert isinstance(svg, Markup)
    root = ET.fromstring(str(svg))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "trend-title trend-desc"
    assert root.find(f"{SVG}title").text == "Done per week"
    assert root.find(f"{SVG}desc").text == "Items done each week"
    assert "<script" not in svg and "http" not in svg.replace("http://www.w3.org/2000/svg", "")


def test_every_series_has_its_own_dash_pattern_and_legend():
    """Each series is one line with a distinct dash pattern or grey, and a legend entry;
    the emphasised one is thicker."""
    root = ET.fromstring(str(_line()))
    lines = root.findall(f"{SVG}polyline")
    assert [line.find(f"{SVG}title").text for line in lines] == ["Atlas", "Costa", "Brio"]
    strokes = {(line.get("stroke"), line.get("stroke-dasharray")) for line in lines}
    assert len(strokes) == 3
    assert lines[0].get("stroke-width") > lines[1].get("stroke-width")
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"Atlas", "Costa", "Brio", "5 Jan", "19 Jan"} <= set(texts)
    assert len(set(charts.STROKES)) == len(charts.STROKES) >= 20


def test_labels_titles_and_descriptions_are_escaped():
    """Hostile text anywhere (title, description, axis and series labels, bars) stays text."""
    svg = _line(
        title=HOSTILE,
        description=HOSTILE,
        x_labels=[HOSTILE, "b"],
        series=[charts.Series(HOSTILE, [1, 2])],
    )
    bars = charts.bar_chart(chart_id="lag", title=HOSTILE, description=HOSTILE, bars=[(HOSTILE, 3)])
    for markup in (svg, bars):
        assert "<script>" not in markup and "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
        root = ET.fromstring(str(markup))  # still well-formed
        assert root.find(f"{SVG}title").text == HOSTILE


def test_a_bar_chart_writes_each_value_above_its_bar():
    """Bars in order, heights proportional to the values, each value written."""
    root = ET.fromstring(
        str(
            charts.bar_chart(
                chart_id="lag",
                title="Lag",
                description="Lag distribution",
                bars=[("0–4 hours", 4), ("4–24 hours", 2), ("Not yet", 0)],
            )
        )
    )
    rects = [r for r in root.findall(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert [r.find(f"{SVG}title").text for r in rects] == [
        "0–4 hours: 4",
        "4–24 hours: 2",
        "Not yet: 0",
    ]
    heights = [float(r.get("height")) for r in rects]
    assert heights[0] == pytest.approx(2 * heights[1]) and heights[2] == 0
    assert root.get("role") == "img"


def test_charts_handle_one_point_and_no_data():
    """A single week draws in the middle; all zeros still give a 0-4 axis, not a division by 0."""
    svg = _line(x_labels=["5 Jan"], series=[charts.Series("Atlas", [0])])
    points = ET.fromstring(str(svg)).find(f"{SVG}polyline").get("points")
    assert re.fullmatch(r"[\d.]+,[\d.]+", points)
    assert charts.bar_chart(chart_id="empty", title="t", description="d", bars=[])


@pytest.mark.parametrize(
    "peak, top", [(0, 4), (3, 4), (5, 8), (10, 20), (40, 40), (99, 100), (1234, 2000)]
)
def test_the_y_axis_ends_on_a_round_number(peak, top):
    """Four grid steps of a round size cover the largest value."""
    assert 4 * charts.nice_step(peak) == top


def test_chart_ids_are_checked():
    """A chart id becomes an XML id: only short lowercase words are accepted."""
    with pytest.raises(ValueError):
        _line(chart_id='x" onload="alert(1)')
