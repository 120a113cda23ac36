"""A map of Kent's twelve districts (a choropleth), drawn by Plotly from the boundary file in
``data/boundaries/kent-districts.geojson`` (ONS/OS, Open Government Licence; the attribution is
on every map). Each district is a filled outline (a scatter trace, so the lean Plotly bundle
draws it with no map tiles and nothing fetched from elsewhere), coloured by its status against
target or, for a rate with no targets, by the quintile of its value among the districts. The
same figures are in a table beside every map, the classes are in words in the legend, and the
page prints the attribution (``ATTRIBUTION``) under the map."""
from __future__ import annotations

import functools
import json
import math
from pathlib import Path

from django.conf import settings
from django.db.models import F, Window
from django.db.models.functions import RowNumber

from performance.catalogue import rules
from performance.dashboards.charts import safe_json
from performance.models import IndicatorRollup

BOUNDARIES = Path(settings.BASE_DIR) / "data" / "boundaries" / "kent-districts.geojson"
ATTRIBUTION = "Boundaries: contains OS and ONS data © Crown copyright and database right 2016 (OGL v3.0)."
OUTSIDE = "Medway, a unitary authority, is outside Kent's two-tier area and is not shown."
MID_LATITUDE = 51.2  # the map is drawn in longitude × cos(51.2°) by latitude, so Kent keeps its shape
PLACES = 3  # decimal places of a projected coordinate: about 100 m, plenty at this size

STATUS_COLOURS = {rules.GREEN: "#00703c", rules.AMBER: "#ffdd00", rules.RED: "#d4351c"}
NEUTRAL = "#b1b4b6"  # no target, incomplete or no figure
QUINTILE_COLOURS = ["#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c"]  # lowest to highest


@functools.cache
def outlines() -> dict[str, dict]:
    """Each district's outline by GSS code: its name and its rings as x and y lists (projected,
    rounded), with None between rings, as a scatter trace draws them."""
    features = json.loads(BOUNDARIES.read_text())["features"]
    scale = math.cos(math.radians(MID_LATITUDE))
    result = {}
    for feature in features:
        geometry = feature["geometry"]
        polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        xs: list[float | None] = []
        ys: list[float | None] = []
        for polygon in polygons:
            for ring in polygon:
                xs += [round(lon * scale, PLACES) for lon, _lat in ring] + [None]
                ys += [round(lat, PLACES) for _lon, lat in ring] + [None]
        result[feature["properties"]["gss_code"]] = {"name": feature["properties"]["name"], "x": xs, "y": ys}
    return result


def quintiles(values: list[float]) -> list[float]:
    """The four cut points that split ``values`` into fifths."""
    ordered = sorted(values)
    return [ordered[min(len(ordered) - 1, math.ceil(len(ordered) * k / 5) - 1)] for k in range(1, 5)]


def classify(areas: list[dict], *, by: str) -> list[dict]:
    """Each area with its class (words) and colour: ``by`` "status" (the area's own status, in
    the one wording of ``rules``) or "quintile" (of its value among the areas with one)."""
    if by == "status":
        return [{**a, "class": rules.status_label(a.get("status")), "colour": STATUS_COLOURS.get(a.get("status"), NEUTRAL)}
                for a in areas]
    known = [float(a["value"]) for a in areas if a.get("value") is not None]
    cuts = quintiles(known) if known else []
    result = []
    for area in areas:
        if area.get("value") is None:
            result.append({**area, "class": "No figure", "colour": NEUTRAL})
            continue
        fifth = sum(float(area["value"]) > cut for cut in cuts)
        result.append({**area, "class": f"Quintile {fifth + 1} ({'lowest' if fifth == 0 else 'highest' if fifth == 4 else 'middle'})"
                       if len(known) >= 5 else "Figure", "colour": QUINTILE_COLOURS[fifth] if len(known) >= 5 else QUINTILE_COLOURS[2]})
    return result


def map_chart(*, title: str, areas: list[dict], by: str, places: int = 1) -> str:
    """The districts coloured by class. ``areas`` are {gss_code, name, value, status}; a district
    of the boundary file that is not among them is drawn grey, "No figure"."""
    shapes = outlines()
    given = {a["gss_code"]: a for a in areas}
    classified = classify([given.get(code, {"gss_code": code, "name": s["name"], "value": None, "status": None})
                           for code, s in shapes.items()], by=by)
    traces, shown = [], set()
    for area in sorted(classified, key=lambda a: a["class"]):
        shape = shapes[area["gss_code"]]
        value = "no figure" if area.get("value") is None else f"{float(area['value']):,.{places}f}"
        traces.append({
            "type": "scatter", "mode": "lines", "x": shape["x"], "y": shape["y"], "fill": "toself",
            "fillcolor": area["colour"], "line": {"color": "white", "width": 1},
            "name": area["class"], "legendgroup": area["class"], "showlegend": area["class"] not in shown,
            "hoveron": "fills", "text": f"{area['name']}: {value} ({area['class']})", "hoverinfo": "text",
        })
        shown.add(area["class"])
    layout = {
        "title": {"text": title, "font": {"size": 15}}, "height": 420, "margin": {"l": 10, "r": 10, "t": 50, "b": 40},
        "font": {"family": "Arial, sans-serif", "color": "#0b0c0c"}, "paper_bgcolor": "white", "plot_bgcolor": "white",
        "xaxis": {"visible": False}, "yaxis": {"visible": False, "scaleanchor": "x"},
        "legend": {"orientation": "h", "y": -0.02},
    }
    return safe_json({"data": traces, "layout": layout})


JUDGED = (rules.GREEN, rules.AMBER, rules.RED)


def districts_on_target(indicator_ids: list[int]) -> list[dict]:
    """For the Forum's map: each district's latest judged figure of each indicator (one query),
    counted by status, and the share on target. Only judged figures count (a figure with no
    target, or not complete, says nothing here)."""
    latest = (
        IndicatorRollup.objects.filter(indicator_id__in=indicator_ids, locality__kind="district", breakdown_key="",
                                       status__in=JUDGED)
        .annotate(n=Window(RowNumber(), partition_by=[F("indicator_id"), F("locality_id")],
                           order_by=F("period__start").desc()))
        .filter(n=1).values_list("locality__gss_code", "locality__name", "status")
    )
    counts: dict[str, dict] = {}
    for gss, name, status in latest:
        area = counts.setdefault(gss, {"gss_code": gss, "name": name, rules.GREEN: 0, rules.AMBER: 0, rules.RED: 0})
        area[status] += 1
    rows = []
    for gss, shape in outlines().items():
        area = counts.get(gss, {"gss_code": gss, "name": shape["name"], rules.GREEN: 0, rules.AMBER: 0, rules.RED: 0})
        judged = area[rules.GREEN] + area[rules.AMBER] + area[rules.RED]
        rows.append({**area, "judged": judged, "status": None,
                     "value": round(100 * area[rules.GREEN] / judged) if judged else None})
    return sorted(rows, key=lambda r: r["name"])
