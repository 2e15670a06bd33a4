"""Charts drawn on the server as SVG, each with its data as a table beside it.

No script and no style attribute (the CSP allows neither): colours are SVG presentation
attributes, the drawing scales with its box (``viewBox``, width 100 %), so it never makes a
phone's page scroll sideways. The SVG is an image with a title for screen readers; the
numbers themselves are in a table under a disclosure, for anyone who wants them exact.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import count

from flask_babel import gettext as _
from markupsafe import Markup

TONES = {
    "primary": "#6a1b4d",
    "success": "#00693e",
    "warning": "#995c00",
    "danger": "#b71234",
    "neutral": "#5d7083",
    "info": "#174a8b",
}
_ids = count(1)
# The drawings' width in SVG units: text of 15 units reads at about 12 px on a 360 px phone
# and, with the chart's width capped by lms.css, at about 19 px on a laptop.
WIDTH = 400


def _short(label: str, limit: int) -> str:
    """A label cut to fit the drawing (the data table beside it has it in full)."""
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Bar:
    """One horizontal bar: ``value`` in units of the chart's ``max_value``; ``display`` is
    the text printed at its end, already formatted ("50,0 %", "<5")."""

    label: str
    value: float | None  # None: withheld or unknown, drawn as no bar
    display: str
    tone: str = "primary"


@dataclass(frozen=True)
class Segment:
    """One part of a stacked bar (the mix of statuses of a group)."""

    label: str
    value: int
    tone: str
    display: str = ""


def _figure(
    title: str, svg: Markup, headers: tuple[str, str], rows: list[tuple[str, str]], caption: str
) -> Markup:
    table_rows = Markup("").join(
        Markup('<tr><th scope="row">{}</th><td class="num">{}</td></tr>').format(label, value)
        for label, value in rows
    )
    return Markup(
        '<figure class="lms-chart">{svg}'
        "<figcaption>{caption}</figcaption>"
        '<details><summary>{summary}</summary><div class="table-responsive">'
        '<table class="table table-sm"><caption class="visually-hidden">{title}</caption>'
        '<thead><tr><th scope="col">{h1}</th><th scope="col" class="num">{h2}</th></tr></thead>'
        "<tbody>{rows}</tbody></table></div></details></figure>"
    ).format(
        svg=svg,
        caption=caption or title,
        summary=_("Dati del grafico"),
        title=title,
        h1=headers[0],
        h2=headers[1],
        rows=table_rows,
    )


def _empty(title: str) -> Markup:
    return Markup(
        '<figure class="lms-chart"><figcaption>{}</figcaption><p class="meta">{}</p></figure>'
    ).format(title, _("Nessun dato da mostrare."))


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    max_value: float = 1.0,
    caption: str = "",
    headers: tuple[str, str] | None = None,
) -> Markup:
    """Horizontal bars, one per row, label above its bar: reads on a phone as on a laptop."""
    if not bars:
        return _empty(title)
    uid = f"chart-{next(_ids)}"
    width, bar_height, row_height = WIDTH, 18, 46
    height = row_height * len(bars) + 8
    parts = [
        Markup(
            '<svg class="lms-chart-svg" viewBox="0 0 {w} {h}" width="100%" role="img" '
            'aria-labelledby="{uid}-t" preserveAspectRatio="xMinYMin meet" '
            'xmlns="http://www.w3.org/2000/svg"><title id="{uid}-t">{t}</title>'
        ).format(w=width, h=height, uid=uid, t=title)
    ]
    top = max_value if max_value > 0 else 1.0
    for index, bar in enumerate(bars):
        y = index * row_height + 16
        length = 0.0 if bar.value is None else max(0.0, min(1.0, bar.value / top)) * (width - 90)
        parts.append(
            Markup(
                '<text x="0" y="{y}" font-size="15" fill="#1b1b1f">{label}</text>'
                '<rect x="0" y="{by}" width="{bw:.1f}" height="{bh}" rx="3" fill="{fill}"/>'
                '<rect x="0" y="{by}" width="{full}" height="{bh}" rx="3" fill="none" '
                'stroke="#c9c9d1"/>'
                '<text x="{tx:.1f}" y="{ty}" font-size="15" font-weight="600" '
                'fill="#1b1b1f">{display}</text>'
            ).format(
                y=y,
                label=bar.label,
                by=y + 6,
                bw=length,
                bh=bar_height,
                fill=TONES.get(bar.tone, TONES["primary"]),
                full=width - 90,
                tx=width - 84,
                ty=y + 20,
                display=bar.display,
            )
        )
    parts.append(Markup("</svg>"))
    return _figure(
        title,
        Markup("").join(parts),
        headers or (_("Voce"), _("Valore")),
        [(b.label, b.display) for b in bars],
        caption,
    )


def stacked_bar(segments: Sequence[Segment], *, title: str, caption: str = "") -> Markup:
    """One bar split in parts (the statuses of a group of people), with a legend."""
    total = sum(max(0, s.value) for s in segments)
    if total == 0:
        return _empty(title)
    uid = f"chart-{next(_ids)}"
    width = WIDTH
    legend_rows = (len(segments) + 1) // 2
    height = 40 + legend_rows * 24
    parts = [
        Markup(
            '<svg class="lms-chart-svg" viewBox="0 0 {w} {h}" width="100%" role="img" '
            'aria-labelledby="{uid}-t" xmlns="http://www.w3.org/2000/svg">'
            '<title id="{uid}-t">{t}</title>'
        ).format(w=width, h=height, uid=uid, t=title)
    ]
    x = 0.0
    for segment in segments:
        share = max(0, segment.value) / total * width
        parts.append(
            Markup('<rect x="{x:.1f}" y="0" width="{w:.1f}" height="28" fill="{f}"/>').format(
                x=x, w=share, f=TONES.get(segment.tone, TONES["neutral"])
            )
        )
        x += share
    for index, segment in enumerate(segments):
        lx, ly = (index % 2) * (width // 2), 44 + (index // 2) * 24
        parts.append(
            Markup(
                '<rect x="{x}" y="{y}" width="14" height="14" fill="{f}"/>'
                '<text x="{tx}" y="{ty}" font-size="15" fill="#1b1b1f">{label}: {value}</text>'
            ).format(
                x=lx,
                y=ly,
                f=TONES.get(segment.tone, TONES["neutral"]),
                tx=lx + 20,
                ty=ly + 12,
                label=segment.label,
                value=segment.display or segment.value,
            )
        )
    parts.append(Markup("</svg>"))
    return _figure(
        title,
        Markup("").join(parts),
        (_("Stato"), _("Persone")),
        [(s.label, s.display or str(s.value)) for s in segments],
        caption,
    )


def line_chart(
    points: Sequence[tuple[str, float | None]],
    *,
    title: str,
    max_value: float = 1.0,
    value_format: Callable[[float | None], str] = lambda v: "—" if v is None else f"{v:g}",
    caption: str = "",
    headers: tuple[str, str] | None = None,
) -> Markup:
    """A trend over time: points joined by a line, first and last labelled."""
    known = [(label, value) for label, value in points if value is not None]
    if not known:
        return _empty(title)
    uid = f"chart-{next(_ids)}"
    width, height, pad = WIDTH, 200, 30
    top = max_value if max_value > 0 else 1.0
    step = (width - 2 * pad) / max(1, len(points) - 1)

    def y_of(value: float) -> float:
        return height - pad - max(0.0, min(1.0, value / top)) * (height - 2 * pad)

    coordinates = [
        (pad + i * step, y_of(value))
        for i, (_label, value) in enumerate(points)
        if value is not None
    ]
    path = " ".join(
        f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(coordinates)
    )
    parts = [
        Markup(
            '<svg class="lms-chart-svg" viewBox="0 0 {w} {h}" width="100%" role="img" '
            'aria-labelledby="{uid}-t" xmlns="http://www.w3.org/2000/svg">'
            '<title id="{uid}-t">{t}</title>'
            '<line x1="{p}" y1="{b}" x2="{r}" y2="{b}" stroke="#c9c9d1"/>'
            '<path d="{d}" fill="none" stroke="{c}" stroke-width="3"/>'
        ).format(
            w=width,
            h=height,
            uid=uid,
            t=title,
            p=pad,
            b=height - pad,
            r=width - pad,
            d=path,
            c=TONES["primary"],
        )
    ]
    for x, y in coordinates:
        parts.append(
            Markup('<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{c}"/>').format(
                x=x, y=y, c=TONES["primary"]
            )
        )
    first, last = points[0][0], points[-1][0]
    parts.append(
        Markup(
            '<text x="{p}" y="{yy}" font-size="15" fill="#1b1b1f">{a}</text>'
            '<text x="{r}" y="{yy}" font-size="15" text-anchor="end" '
            'fill="#1b1b1f">{b}</text></svg>'
        ).format(p=pad, r=width - pad, yy=height - 8, a=first, b=last)
    )
    return _figure(
        title,
        Markup("").join(parts),
        headers or (_("Periodo"), _("Valore")),
        [(label, value_format(value)) for label, value in points],
        caption,
    )


__all__ = ["Bar", "Segment", "bar_chart", "line_chart", "stacked_bar"]
