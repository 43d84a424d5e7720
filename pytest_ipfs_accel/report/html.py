"""HTML report: one self-contained file (plotly.js inline, no CDN), rendered with autoescape on."""

from __future__ import annotations

import functools
from datetime import datetime

import jinja2

from pytest_ipfs_accel.report.data import LETTERS, ReportData

def render(data: ReportData) -> str:
    """The HTML text of a report; plotly.js (about 4 MB) is embedded, so the file works offline."""
    return environment(True).get_template("report.html.j2").render(
        data=data, charts=charts(data) if data.benchmarks else None, plotly_js=plotly_js() if data.benchmarks else "",
        letters=LETTERS,
    )


@functools.lru_cache(maxsize=1)
def plotly_js():
    """plotly.js from the installed plotly package, as markup (it is code we ship, not input)."""
    try:
        from plotly.offline import get_plotlyjs
    except ImportError:
        return None
    return jinja2.utils.markupsafe.Markup(get_plotlyjs())


def _label(row: dict) -> str:
    """Trace name; HTML-escaped because plotly reads names as its pseudo-HTML (<b>, <a href>)."""
    if row.get("model") or row.get("platform"):
        text = f"{row.get('model') or '?'} · {row.get('platform') or '?'}"
        if (row.get("precision") or "fp32") != "fp32":
            text += f" · {row['precision']}"
    else:
        text = str(row.get("node_id"))
    return str(jinja2.utils.markupsafe.escape(text))


def charts(data: ReportData) -> list[dict]:
    """Plotly figures (data + layout, plain JSON): latency and throughput per model·platform over batch size."""
    series: dict[str, list[dict]] = {}
    for row in data.benchmarks:
        series.setdefault(_label(row), []).append(row)
    latency, throughput = [], []
    for name, rows in series.items():
        rows = sorted(rows, key=lambda r: (r.get("batch_size") is None, r.get("batch_size") or 0))
        x = [str(r.get("batch_size")) if r.get("batch_size") is not None else "–" for r in rows]
        med = [_ms(r.get("median_s")) for r in rows]
        up = [(_ms(r.get("p90_s")) - m) if r.get("p90_s") is not None and m is not None else None
              for r, m in zip(rows, med)]
        trace = {"type": "bar", "name": name, "x": x, "y": med,
                 "hovertemplate": "%{fullData.name}<br>batch %{x}<br>median %{y:.4g} ms<extra></extra>"}
        if any(u is not None for u in up):
            trace["error_y"] = {"type": "data", "symmetric": False, "array": [u or 0 for u in up],
                                "arrayminus": [0] * len(up), "visible": True}
        latency.append(trace)
        throughput.append({"type": "bar", "name": name, "x": x, "y": [r.get("items_per_s") for r in rows],
                           "hovertemplate": "%{fullData.name}<br>batch %{x}<br>%{y:,.4g} items/s<extra></extra>"})
    axis = {"title": {"text": "batch size"}, "type": "category"}
    common = {"barmode": "group", "height": 380, "margin": {"t": 40, "r": 10, "b": 50, "l": 70},
              "legend": {"orientation": "h", "y": -0.25}}
    return [
        {"id": "chart-latency", "data": latency, "layout": {
            **common, "title": {"text": "Latency: median (error bar up to p90), ms, log axis"}, "xaxis": axis,
            # log: a 221 ms bar would flatten the 0.4 ms ones on a linear axis
            "yaxis": {"title": {"text": "ms (log scale)"}, "type": "log"}}},
        {"id": "chart-throughput", "data": throughput, "layout": {
            **common, "title": {"text": "Throughput from the median, items/s"}, "xaxis": axis,
            "yaxis": {"title": {"text": "items/s"}, "rangemode": "tozero"}}},
    ]


def _ms(seconds):
    return None if seconds is None else seconds * 1000.0
@functools.lru_cache(maxsize=None)
def environment(autoescape: bool) -> jinja2.Environment:
    from pytest_ipfs_accel.generate.environment import shipped_templates

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(shipped_templates() / "reports")),
        autoescape=autoescape, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(ms=ms, num=num, when=when, md=md_cell, times=times, fixed=fixed)
    return env


def ms(seconds) -> str:
    """Seconds -> milliseconds text; an absent value is an en dash."""
    if seconds is None:
        return "–"
    value = seconds * 1000.0
    return f"{value:.3g}" if value < 100 else f"{value:,.0f}"


def times(value) -> str:
    """A speed-up: ``2.41×``; absent: an en dash."""
    return "–" if value is None else f"{value:.2f}×"


def fixed(value, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def num(value, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.0f}" if abs(value) >= 10 ** digits else f"{value:.{digits}g}"


def when(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(value)


def md_cell(value) -> str:
    """Text safe inside a Markdown table cell (and inert as HTML in GitHub's renderer)."""
    text = "" if value is None else str(value)
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("`", "\\`")
