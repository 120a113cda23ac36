"""Charts for print: the board pack's charts and map as SVG, drawn on the server by Matplotlib,
because a PDF is made without running the page's JavaScript (Plotly draws in the browser).
They take the same rows as the page's Plotly charts (``charts``, ``maps``) and keep the same
conventions: incomplete figures are hollow markers of their own, never on the line with the
complete ones; the target is a dashed orange line; districts are coloured by the classes of
``maps.classify``, with those classes named in the legend.

Matplotlib is used through its object interface (``Figure``, no ``pyplot``), which keeps no
global state, so two requests may draw at once. Text stays text in the SVG (``svg.fonttype``
"none"), so the PDF can be searched and read aloud."""
from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import textwrap

import matplotlib
from django.core.cache import cache
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Polygon

from performance.dashboards import maps
from performance.dashboards.charts import GREY, KENT_BLUE, ORANGE

matplotlib.rcParams.update({
    "svg.fonttype": "none", "font.family": "DejaVu Sans", "font.size": 8, "axes.edgecolor": "#b1b4b6",
    "axes.spines.top": False, "axes.spines.right": False, "svg.hashsalt": "kent-forum",  # the same SVG for the same figures
})

WIDTH_INCHES = 6.3  # an A4 page's width inside its margins


def _number(value) -> float | None:
    return None if value in (None, "") else float(value)


CACHE_SECONDS = 24 * 60 * 60


def cached(draw):
    """Keep a drawing in the cache under the fingerprint of its arguments: drawing a chart takes
    a tenth of a second, and a pack has dozens whose figures rarely change."""
    @functools.wraps(draw)
    def drawn(**arguments) -> str:
        canonical = json.dumps(arguments, sort_keys=True, default=str)
        key = f"pack-chart:{draw.__name__}:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        svg = cache.get(key)
        if svg is None:
            svg = draw(**arguments)
            cache.set(key, svg, CACHE_SECONDS)
        return svg
    return drawn


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buffer.getvalue()


def data_uri(svg: str) -> str:
    """The SVG as a data: URI, the one kind of address the board pack's PDF renderer may read."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


@cached
def trend_svg(*, title: str, unit: str, points: list[dict]) -> str:
    """Kent's figure by period with the target. ``points`` are {period, value, target, complete}
    (values as numbers or as the strings a frozen report holds)."""
    figure = Figure(figsize=(WIDTH_INCHES, 2.3))
    axes = figure.add_subplot()
    positions = list(range(len(points)))
    complete = [_number(p["value"]) if p.get("complete", True) else None for p in points]
    incomplete = [_number(p["value"]) if not p.get("complete", True) else None for p in points]
    targets = [_number(p.get("target")) for p in points]
    axes.plot(positions, [float("nan") if v is None else v for v in complete], color=KENT_BLUE, linewidth=2,
              marker="o", markersize=3.5, label="Kent")
    if any(v is not None for v in incomplete):
        axes.plot(positions, [float("nan") if v is None else v for v in incomplete], linestyle="none", marker="o",
                  markersize=6, markerfacecolor="white", markeredgecolor=GREY, markeredgewidth=1.5,
                  label="Incomplete: part of Kent only, not comparable")
    if any(v is not None for v in targets):
        axes.plot(positions, [float("nan") if v is None else v for v in targets], color=ORANGE, linestyle="--",
                  linewidth=1.5, label="Target")
    axes.set_xticks(positions, [p["period"] for p in points], rotation=30, ha="right")
    axes.set_ylabel(unit)
    axes.grid(axis="y", color="#e5e5e5")
    axes.set_title("\n".join(textwrap.wrap(title, 80)), loc="left", fontsize=9)
    _legend_below(axes)
    return _svg(figure)


def _legend_below(axes, **options) -> None:
    """The legend under the plot, so every chart of a pack has the plot at the same width."""
    axes.legend(loc="upper left", bbox_to_anchor=(0.0, -0.3), frameon=False, fontsize=7, ncol=3, **options)


@cached
def status_bars_svg(*, title: str, rows: list[tuple[str, list[tuple[str, str, int]]]]) -> str:
    """One horizontal bar per row (an ambition), split by status: ``rows`` are (label,
    [(status, label, count), ...]) with the statuses in ``rules.STATUS_LABELS`` order."""
    figure = Figure(figsize=(WIDTH_INCHES, 0.6 + 0.45 * len(rows)))
    axes = figure.add_subplot()
    colours = {**maps.STATUS_COLOURS}
    seen = set()
    for y, (_label, counts) in enumerate(reversed(rows)):
        left = 0
        for status, label, count in counts:
            if not count:
                continue
            axes.barh(y, count, left=left, color=colours.get(status, maps.NEUTRAL), edgecolor="white",
                      label=label if label not in seen else None)
            axes.text(left + count / 2, y, str(count), ha="center", va="center", fontsize=7,
                      color="white" if status in colours and status != "amber" else "#0b0c0c")
            seen.add(label)
            left += count
    axes.set_yticks(range(len(rows)), [label for label, _ in reversed(rows)])
    axes.set_xlabel("Indicators")
    axes.set_title(title, loc="left", fontsize=9)
    axes.legend(loc="upper left", bbox_to_anchor=(0.0, -0.5 / len(rows) - 0.25), frameon=False, fontsize=7, ncol=4)
    return _svg(figure)


@cached
def map_svg(*, title: str, areas: list[dict], by: str) -> str:
    """The twelve districts coloured by class (``maps.classify``), as the page's map draws them.
    ``areas`` are {gss_code, name, value, status}; a district without one is "No figure"."""
    shapes = maps.outlines()
    given = {a["gss_code"]: a for a in areas}
    classified = maps.classify([given.get(code, {"gss_code": code, "name": s["name"], "value": None, "status": None})
                                for code, s in shapes.items()], by=by)
    figure = Figure(figsize=(WIDTH_INCHES, 3.6))
    axes = figure.add_subplot()
    for area in classified:
        shape = shapes[area["gss_code"]]
        ring: list[tuple[float, float]] = []
        for x, y in zip(shape["x"], shape["y"], strict=True):
            if x is None:
                if ring:
                    axes.add_patch(Polygon(ring, closed=True, facecolor=area["colour"], edgecolor="white", linewidth=0.8))
                ring = []
            else:
                ring.append((x, y))
        xs = [x for x in shape["x"] if x is not None]
        ys = [y for y in shape["y"] if y is not None]
        axes.text(sum(xs) / len(xs), sum(ys) / len(ys), area["name"], ha="center", va="center", fontsize=5.5,
                  color="#0b0c0c", bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none", "pad": 0.5})
    axes.autoscale_view()
    axes.set_aspect("equal")
    axes.axis("off")
    axes.set_title(title, loc="left", fontsize=9)
    legend = {a["class"]: a["colour"] for a in sorted(classified, key=lambda a: a["class"])}
    axes.legend(handles=[Patch(facecolor=colour, label=label) for label, colour in legend.items()],
                loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=7)  # beside: the map is wider than tall
    return _svg(figure)
