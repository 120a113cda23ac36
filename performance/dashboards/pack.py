"""The board pack: a board's figures as a PDF that can be sent, with a title page that dates it
and says what it is as at, a contents page, the charts and the map drawn on the server
(``print_charts``), and page numbers. Made by WeasyPrint from HTML templates in
``templates/dashboards/pack/``.

- An Ambition Board's pack is its six-monthly report: the draft (figures as they stand now) or
  a published report (its frozen content: the same figures as its page and CSV, whatever has
  been approved since).
- The Forum's pack is the Forum dashboard as at now: the three ambitions by status, the map,
  the scorecard, and the trend of each exception.

The renderer may read nothing but the data: URIs the templates themselves write (no file, no
network): what a board pack shows comes from the portal's figures alone."""
from __future__ import annotations

import hashlib
from datetime import datetime

import weasyprint
from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint.urls import URLFetcher

from performance.catalogue import rules
from performance.dashboards import maps, pages, print_charts
from performance.dashboards.figures import Evidence
from performance.dashboards.scorecard import TREND_POINTS

CACHE_SECONDS = 24 * 60 * 60


def render_pdf(template: str, context: dict) -> bytes:
    """The template rendered to an accessible PDF, reading only data: URIs. Laying out a pack takes seconds,
    so the PDF is kept in the cache under the fingerprint of its HTML: the same figures are laid
    out once, and any change to them (or to the template) is a new fingerprint."""
    html = render_to_string(template, context)
    key = "board-pack:" + hashlib.sha256(html.encode("utf-8")).hexdigest()
    pdf = cache.get(key)
    if pdf is None:
        # PDF/UA-1: a tagged PDF (headings, tables, figures with their alternative text), its
        # language and title, and bookmarks from the headings, so a screen reader can read it.
        pdf = weasyprint.HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=["data"])).write_pdf(pdf_variant="pdf/ua-1")
        cache.set(key, pdf, CACHE_SECONDS)
    return pdf


def _map(areas: list[dict], title: str) -> str | None:
    """The districts' map as a data: URI, or None when no district has a judged figure."""
    if not any(a.get("judged") for a in areas):
        return None
    return print_charts.data_uri(print_charts.map_svg(title=title, areas=areas, by="quintile"))


def ambition_pack(content: dict, *, as_at: datetime, title: str, draft: bool) -> bytes:
    """An Ambition Board's report (``reports.board_report_content``, stored or as it stands
    now) as a board pack. A report published before charts were kept with its figures has the
    tables without the charts, and says so."""
    kpqs = []
    for kpq in content["kpqs"]:
        indicators = []
        for indicator in kpq["indicators"]:
            trend = indicator.get("trend") or []
            chart = print_charts.data_uri(print_charts.trend_svg(
                title=f"{indicator['name']}: Kent", unit=indicator["unit"], points=trend,
            )) if any(p["value"] not in ("", None) for p in trend) else None
            indicators.append({**indicator, "chart": chart})
        kpqs.append({**kpq, "indicators": indicators})
    districts = content.get("districts")
    return render_pdf("dashboards/pack/ambition.html", {
        "content": content, "kpqs": kpqs, "title": title, "as_at": as_at, "draft": draft,
        "charts_kept": "districts" in content,
        "map": _map(districts or [], "Share of each district's judged measures on target"),
        "map_rows": maps.classify(districts, by="quintile") if districts else [],
        "map_attribution": maps.ATTRIBUTION, "map_outside": maps.OUTSIDE,
    })


def forum_pack() -> bytes:
    """The Kent Forum's pack, as at now."""
    data = pages.forum_dashboard()
    exceptions = list({v.indicator.pk: v for column in data["columns"] for v in column["exceptions"]}.values())  # once each
    longer = Evidence([v.indicator for v in exceptions], districts=False)  # the exceptions' trends, longer than the scorecard's
    trends = []
    for view in longer.for_indicators([v.indicator for v in exceptions]):
        trends.append({"view": view, "chart": print_charts.data_uri(print_charts.trend_svg(
            title=f"{view.indicator.name}: Kent", unit=view.indicator.get_unit_display(), points=view.trend_points(),
        ))})
    status_chart = print_charts.data_uri(print_charts.status_bars_svg(
        title="Indicators by status, each ambition",
        rows=[(f"Ambition {c['ambition'].number}", [(status, label, n) for (label, n), status in
                                                    zip(c["status_counts"], rules.STATUS_LABELS, strict=True)])
              for c in data["columns"]],
    ))
    return render_pdf("dashboards/pack/forum.html", {
        **data, "title": "Kent Forum: board pack", "as_at": timezone.now(), "draft": False,
        "status_chart": status_chart, "exception_trends": trends, "trend_points": TREND_POINTS,
        "map": _map(data["map_rows"], "Share of each district's judged measures on target"),
    })
