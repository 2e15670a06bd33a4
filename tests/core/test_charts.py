"""Server-drawn charts: proportional, escaped, with the same numbers in their table."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from flask import Flask

from lms.charts import Bar, Segment, bar_chart, line_chart, stacked_bar

SVG = "{http://www.w3.org/2000/svg}"


def _svg(markup: str) -> ET.Element:
    start, end = markup.index("<svg"), markup.index("</svg>") + len("</svg>")
    return ET.fromstring(markup[start:end])


def test_bars_are_proportional_and_labels_escaped(app: Flask):
    with app.test_request_context():
        html = str(
            bar_chart(
                [Bar("<b>A</b>", 0.5, "50,0 %"), Bar("B", 1.0, "100,0 %"), Bar("C", None, "<5")],
                title="Superamento",
            )
        )
    assert "<b>A</b>" not in html and "&lt;b&gt;A&lt;/b&gt;" in html
    svg = _svg(html)
    assert svg.get("role") == "img" and svg.find(f"{SVG}title").text == "Superamento"
    filled = [float(r.get("width")) for r in svg.iter(f"{SVG}rect") if r.get("fill") != "none"]
    assert filled[0] * 2 == filled[1] and filled[2] == 0
    assert "style=" not in html  # the CSP forbids style attributes
    rows = html.split("<tbody>")[1]
    assert rows.count("<tr>") == 3 and "&lt;5" in rows and "100,0 %" in rows


def test_stacked_bar_splits_the_width_and_lists_every_part(app: Flask):
    with app.test_request_context():
        html = str(
            stacked_bar(
                [Segment("Valida", 6, "success"), Segment("In ritardo", 2, "danger")],
                title="Stato",
            )
        )
    widths = [float(r.get("width")) for r in _svg(html).iter(f"{SVG}rect") if r.get("y") == "0"]
    assert widths[0] == 3 * widths[1]
    assert "Valida: 6" in html and "In ritardo: 2" in html


def test_line_chart_and_empty_charts(app: Flask):
    with app.test_request_context():
        line = str(line_chart([("gen", 0.2), ("feb", None), ("mar", 0.6)], title="Copertura"))
        assert len(list(_svg(line).iter(f"{SVG}circle"))) == 2
        assert "Nessun dato" in str(bar_chart([], title="Vuoto"))
        assert "Nessun dato" in str(stacked_bar([Segment("x", 0, "neutral")], title="Vuoto"))
        assert "Nessun dato" in str(line_chart([("gen", None)], title="Vuoto"))
