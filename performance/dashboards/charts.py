"""Charts: pure functions from aggregated rows to Plotly figures (as JSON for the page). Every
chart on a page has a data table beside it with the same rows.

The figures are written as Plotly's JSON figure format ({"data": [...], "layout": {...}}) directly,
not through ``plotly.graph_objects``: building and validating a ``go.Figure`` costs about 40 ms a
chart, which made a page of thirty charts spend a second on them. The tests pass every figure
through ``go.Figure`` to check that Plotly accepts it.
"""
from __future__ import annotations

import textwrap

import orjson

KENT_BLUE = "#1d3c70"
ACCENT = "#5694ca"
GREY = "#505a5f"
ORANGE = "#f47738"


def safe_json(figure: dict) -> str:
    """The figure as JSON that is safe inside <script type="application/json">: no "<", ">" or
    "&" can end the script element (names come from the framework, which people edit)."""
    text = orjson.dumps(figure).decode()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


TITLE_WIDTH = 55  # characters of a title line; a longer title is wrapped, not cut off by the chart's edge


def _layout(title: str, *, height: int = 300, **extra) -> dict:
    lines = textwrap.wrap(title, TITLE_WIDTH) or [""]
    return dict(
        title={"text": "<br>".join(lines), "font": {"size": 15}}, height=height + 20 * (len(lines) - 1),
        margin={"l": 60, "r": 20, "t": 50 + 20 * (len(lines) - 1), "b": 50},
        font={"family": "Arial, sans-serif", "color": "#0b0c0c"}, paper_bgcolor="white", plot_bgcolor="white",
        legend={"orientation": "h", "y": -0.25}, **extra,
    )


def trend_chart(*, title: str, unit: str, points: list[dict]) -> str:
    """County value by period with the target: points are {period, value, target, complete}.
    Incomplete figures (too few districts reported to judge them) are never on the line with the
    complete ones, as if comparable: they are hollow markers of their own, named as such."""
    labels = [p["period"] for p in points]

    def values(keep) -> list:
        return [float(p["value"]) if p["value"] is not None and keep(p) else None for p in points]

    data = [{
        "type": "scatter", "x": labels, "y": values(lambda p: p.get("complete", True)),
        "name": "Kent", "mode": "lines+markers", "line": {"color": KENT_BLUE, "width": 3}, "connectgaps": False,
    }]
    if not all(p.get("complete", True) for p in points):
        data.append({
            "type": "scatter", "x": labels, "y": values(lambda p: not p.get("complete", True)),
            "name": "Incomplete: part of Kent only, not comparable", "mode": "markers",
            "marker": {"color": GREY, "size": 9, "symbol": "circle-open", "line": {"width": 2}},
        })
    if any(p["target"] is not None for p in points):
        data.append({
            "type": "scatter", "x": labels, "y": [float(p["target"]) if p["target"] is not None else None for p in points],
            "name": "Target", "mode": "lines", "line": {"color": ORANGE, "dash": "dash"},
        })
    layout = _layout(
        title,
        # Periods are categories, even where they look like numbers ("2012").
        xaxis={"type": "category", "automargin": True},
        yaxis={"title": {"text": unit}, "gridcolor": "#e5e5e5", "automargin": True},
    )
    return safe_json({"data": data, "layout": layout})


def ranked_chart(*, title: str, unit: str, rows: list[dict]) -> str:
    """Districts ranked by value with 95% confidence intervals where known; the highlighted
    district and the county stand out. rows are {area, value, lower, upper, highlight, county}."""
    ordered = sorted((r for r in rows if r["value"] is not None), key=lambda r: float(r["value"]))
    colours = [ORANGE if r["highlight"] else (GREY if r["county"] else ACCENT) for r in ordered]
    error = None
    if any(r["lower"] is not None for r in ordered):
        error = {
            "type": "data", "symmetric": False, "color": "#0b0c0c", "thickness": 1,
            "array": [float(r["upper"]) - float(r["value"]) if r["upper"] is not None else 0 for r in ordered],
            "arrayminus": [float(r["value"]) - float(r["lower"]) if r["lower"] is not None else 0 for r in ordered],
        }
    bar = {
        "type": "bar", "x": [float(r["value"]) for r in ordered], "y": [r["area"] for r in ordered], "orientation": "h",
        "marker": {"color": colours}, "name": unit,
    }
    if error is not None:
        bar["error_x"] = error
    layout = _layout(
        title, height=120 + 24 * len(ordered),
        xaxis={"title": {"text": unit}, "gridcolor": "#e5e5e5", "automargin": True},
        yaxis={"type": "category", "automargin": True},  # room for the longest area name
    )
    return safe_json({"data": [bar], "layout": layout})
