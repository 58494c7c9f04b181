"""Server-rendered SVG charts: no JavaScript, no CDN. Every chart the page shows also has a
table beside it (the template's job); the SVG carries a title and a description for screen readers.

A chart is drawn at its own width (`width` user units = CSS pixels) and never shrinks below it
(postmortems.css), so its 12-unit text reads at 12 px or more; on a narrow screen it scrolls
inside its box instead."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#2563eb", "#dc6803", "#16a34a", "#9333ea", "#db2777", "#0891b2", "#ca8504", "#475467", "#b42318", "#4f46e5"]


@dataclass
class Bar:
    label: str
    value: float | None
    target: float | None = None
    colour: str = "#2563eb"


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


# Axis ends for durations (seconds): a minute up to 90 days.
NICE_DURATIONS = [60, 120, 300, 600, 900, 1800, 3600, 2 * 3600, 4 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 3 * 86400,
                  7 * 86400, 14 * 86400, 30 * 86400, 90 * 86400]


def nice_duration(value: float) -> float:
    for step in NICE_DURATIONS:
        if value <= step:
            return step
    return _nice_max(value)


def hbar_chart(chart_id: str, title: str, bars: Sequence[Bar], fmt: Callable[[float], str], *, width: int = 560,
               nice: Callable[[float], float] = nice_duration) -> SafeString:
    """Horizontal bars, one per row, with an optional target tick (dashed) on each."""
    label_w, row_h, pad = 150, 34, 10
    height = pad * 2 + row_h * max(len(bars), 1) + 20
    plot_w = width - label_w - 90
    top = max([b.value or 0 for b in bars] + [b.target or 0 for b in bars] + [0])
    axis_max = nice(top) if top > 0 else 1.0
    scale = plot_w / axis_max
    parts = [
        f'<div class="chart-scroll" tabindex="0"><svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {width} {height}" width="{width}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-t" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
    ]
    for i, bar in enumerate(bars):
        y = pad + i * row_h
        parts.append(f'<text x="{label_w - 8}" y="{y + row_h / 2 + 4}" text-anchor="end" class="chart-label">{escape(bar.label)}</text>')
        if bar.value is None:
            parts.append(f'<text x="{label_w + 4}" y="{y + row_h / 2 + 4}" class="chart-muted">no data</text>')
        else:
            w = max(bar.value * scale, 1)
            over = bar.target is not None and bar.value > bar.target
            parts.append(
                f'<rect x="{label_w}" y="{y + 6}" width="{w:.1f}" height="{row_h - 12}" rx="3" fill="{escape(bar.colour)}"'
                f'{" class=chart-over" if over else ""}><title>{escape(bar.label)}: {escape(fmt(bar.value))}</title></rect>'
            )
            parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + row_h / 2 + 4}" class="chart-value">{escape(fmt(bar.value))}</text>')
        if bar.target is not None:
            x = label_w + bar.target * scale
            parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y + 2}" y2="{y + row_h - 2}" stroke="#111827" stroke-width="2" stroke-dasharray="4 3">'
                f'<title>target {escape(fmt(bar.target))}</title></line>'
            )
    axis_y = pad + row_h * max(len(bars), 1) + 14
    parts.append(f'<text x="{label_w}" y="{axis_y}" class="chart-muted">0</text>')
    parts.append(f'<text x="{label_w + plot_w}" y="{axis_y}" text-anchor="end" class="chart-muted">{escape(fmt(axis_max))}</text>')
    parts.append(f'<text x="{width - 4}" y="{axis_y}" text-anchor="end" class="chart-muted">- - target</text>')
    parts.append("</svg></div>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above


def stacked_columns(chart_id: str, title: str, categories: Sequence[str], series: Sequence[tuple[str, str, Sequence[int]]],
                    *, width: int = 720, height: int = 260) -> SafeString:
    """Stacked columns: one column per category (a week), one coloured segment per series."""
    left, bottom, top_pad, legend_h = 36, 34, 10, 22 * ((len(series) + 3) // 4)
    plot_h = height - bottom - top_pad
    n = max(len(categories), 1)
    plot_w = width - left - 10
    col_w = plot_w / n
    totals = [sum(s[2][i] for s in series) for i in range(len(categories))]
    top = _nice_max(max(totals + [0]))
    scale = plot_h / top
    total_h = height + legend_h
    parts = [
        f'<div class="chart-scroll" tabindex="0"><svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {width} {total_h}" width="{width}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-t" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
        f'<line x1="{left}" x2="{width - 10}" y1="{top_pad + plot_h}" y2="{top_pad + plot_h}" stroke="#d0d5dd"/>',
        f'<text x="{left - 6}" y="{top_pad + 8}" text-anchor="end" class="chart-muted">{int(top)}</text>',
        f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end" class="chart-muted">0</text>',
    ]
    label_every = max(1, round(n / 10))
    for i, cat in enumerate(categories):
        x = left + i * col_w + col_w * 0.15
        y = top_pad + plot_h
        for name, colour, values in series:
            v = values[i]
            if not v:
                continue
            h = v * scale
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{col_w * 0.7:.1f}" height="{h:.1f}" fill="{escape(colour)}">'
                f'<title>{escape(cat)} · {escape(name)}: {v}</title></rect>'
            )
        if i % label_every == 0:
            parts.append(f'<text x="{x + col_w * 0.35:.1f}" y="{top_pad + plot_h + 16}" text-anchor="middle" class="chart-muted">{escape(cat)}</text>')
    for j, (name, colour, _values) in enumerate(series):
        lx = left + (j % 4) * (plot_w / 4)
        ly = height + 4 + (j // 4) * 22
        parts.append(f'<rect x="{lx:.1f}" y="{ly}" width="12" height="12" fill="{escape(colour)}"/>')
        parts.append(f'<text x="{lx + 17:.1f}" y="{ly + 11}" class="chart-label">{escape(name)}</text>')
    parts.append("</svg></div>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above


def share_bar(chart_id: str, title: str, parts_in: Sequence[tuple[str, int]], target: float | None = None, *, width: int = 560) -> SafeString:
    """One 100% bar split by share, with an optional target marker for the first part."""
    total = sum(n for _, n in parts_in) or 1
    bar_w, x = width - 20, 10.0
    height = 56 + 22 * ((len(parts_in) + 1) // 2)
    parts = [
        f'<div class="chart-scroll" tabindex="0"><svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {width} {height}" width="{width}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-t" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
    ]
    for i, (label, n) in enumerate(parts_in):
        w = bar_w * n / total
        colour = PALETTE[i % len(PALETTE)]
        if w > 0:
            parts.append(f'<rect x="{x:.1f}" y="10" width="{w:.1f}" height="28" fill="{colour}"><title>{escape(label)}: {n}</title></rect>')
        lx, ly = 10 + (i % 2) * (bar_w / 2), 54 + (i // 2) * 22
        parts.append(f'<rect x="{lx:.1f}" y="{ly}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{lx + 17:.1f}" y="{ly + 11}" class="chart-label">{escape(label)} ({round(100 * n / total)}%)</text>')
        x += w
    if target is not None:
        tx = 10 + bar_w * target
        parts.append(f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="4" y2="44" stroke="#111827" stroke-width="2" stroke-dasharray="4 3">'
                     f'<title>target {round(target * 100)}%</title></line>')
    parts.append("</svg></div>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above
