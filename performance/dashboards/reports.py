"""Board reports: the content of an Ambition Board's report (what a preview shows and a
publication freezes), its rows as CSV, its fingerprint, and publishing it."""
from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from partnerships.models import Board
from performance.catalogue import rules
from performance.dashboards import access, maps
from performance.dashboards.figures import DIRECTION_WORDS, IndicatorView, narrative
from performance.dashboards.pages import ambition_dashboard
from performance.models import BoardReport


def board_report_content(number: int) -> dict:
    """The figures of an Ambition Board's six-monthly report, as plain data that can be stored
    as a snapshot and rendered or exported later unchanged."""
    data = ambition_dashboard(number)
    kpqs = []
    for item in data["kpqs"]:
        kpqs.append({
            "code": item["kpq"].code, "text": item["kpq"].text, "answer": item["answer_label"],
            "narrative": narrative(item["views"]),
            "indicators": [_report_indicator(v) for v in item["views"]],
        })
    summary = data["milestones"]
    indicator_ids = sorted({v.indicator.pk for item in data["kpqs"] for v in item["views"]})
    return {
        "judged_on": "the latest complete figure",  # reports published before the rule say nothing of it
        "ambition": f"Ambition {data['ambition'].number}: {data['ambition'].title}",
        "board": data["board"].name if data["board"] else "",
        "kpqs": kpqs,
        "milestones": {
            "period": summary.period.label if summary and summary.period else "",
            "counts": summary.counts if summary else [],
            "overdue": [r.milestone.title for r in summary.overdue] if summary else [],
            "slipped": [r.milestone.title for r in summary.slipped] if summary else [],
        },
        "exceptions": [
            {"name": v.indicator.name, "status": v.status_label, "direction": DIRECTION_WORDS.get(v.direction, "not comparable")}
            for v in data["exceptions"]
        ],
        # The board pack's map: each district's share of this ambition's judged measures on target.
        "districts": [
            {"gss_code": d["gss_code"], "name": d["name"], "value": d["value"], "judged": d["judged"],
             "green": d[rules.GREEN], "amber": d[rules.AMBER], "red": d[rules.RED]}
            for d in maps.districts_on_target(indicator_ids)
        ],
        "missing": [
            {"organisation": organisation.name, "indicator": r.indicator.name, "area": r.locality.name,
             "period": r.period.label, "state": r.state, "deadline": r.period.deadline.isoformat()}
            for organisation, rows in data["missing"] for r in rows
        ],
    }


def _report_indicator(view: IndicatorView) -> dict:
    """An indicator in a board report: its latest complete figure, judged, and any newer figure
    that is incomplete, stated with its coverage and not judged."""
    latest, newer = view.latest, view.newer_incomplete
    return {
        "code": view.indicator.code, "name": view.indicator.name, "unit": view.indicator.get_unit_display(),
        "decimal_places": view.indicator.decimal_places,  # how the page writes the figures (the CSV keeps them whole)
        "period": latest.period.label if latest else "",
        "value": str(latest.value) if latest and latest.value is not None else "",
        "target": str(latest.target) if latest and latest.target is not None else "",
        "status": view.status_label,
        "direction": DIRECTION_WORDS.get(view.direction, "not comparable"),
        "coverage": latest.coverage_display if latest else "", "complete": latest is not None,
        "flags": list(latest.flags) if latest else [],
        "commentary": [
            {"area": c["area"], "status": rules.status_label(c["status"]), "text": c["text"]}
            for c in view.commentaries()
        ],
        "newer": {
            "period": newer.period.label, "value": str(newer.value), "coverage": newer.coverage_display,
            "missing": list(newer.missing), "status": rules.status_label(rules.INCOMPLETE), "flags": list(newer.flags),
        } if newer else None,
        # The board pack's chart: Kent's figures by period, as the page's trend draws them.
        "trend": [
            {"period": p["period"], "value": _text(p["value"]), "target": _text(p["target"]), "complete": p["complete"]}
            for p in view.trend_points()
        ],
    }


def _text(value) -> str:
    return "" if value is None else str(value)


def board_report_rows(content: dict) -> list[list[str]]:
    """The report's figures as CSV rows."""
    rows = [["kpq", "indicator_code", "indicator", "period", "value", "target", "status", "direction", "coverage", "complete",
             "flags"]]
    for kpq in content["kpqs"]:
        for i in kpq["indicators"]:
            rows.append([kpq["code"], i["code"], i["name"], i["period"], i["value"], i["target"], i["status"], i["direction"],
                         # reports published before completeness was recorded say nothing of it
                         i["coverage"], {True: "yes", False: "no"}.get(i.get("complete"), ""), " ".join(i.get("flags", []))])
            if i.get("newer"):
                newer = i["newer"]
                rows.append([kpq["code"], i["code"], i["name"], newer["period"], newer["value"], "", newer["status"],
                             "not judged", newer["coverage"], "no", " ".join(newer.get("flags", []))])
    return rows


REPUBLISH_GUARD_MINUTES = 10  # the same figures published again by the same person within this is a double press


def board_report_fingerprint(content: dict) -> str:
    """The fingerprint of a board report's content: the SHA-256 of its canonical JSON (keys
    sorted, no spaces). The preview shows it and the publisher sends it back, so that what is
    frozen is exactly what they checked."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@transaction.atomic
def board_report_publish(*, user, number: int, fingerprint: str):
    """Fix an Ambition Board's progress report as at now. The figures are copied in, so later
    changes to returns or rollups do not alter a report already sent. The report's period is
    the latest one any of its indicators has figures for.

    Only the Forum team and members of that board may publish (PermissionDenied otherwise).
    ``fingerprint`` is that of the content the publisher checked (``board_report_fingerprint``
    of the preview); if the figures have changed since, nothing is published and
    ValidationError(code="changed") is raised. ValidationError(code="no_figures") when there
    are no figures to report yet."""
    board = Board.objects.filter(kind=Board.Kind.AMBITION, ambition__number=number).first()
    access.check_can_publish_report(user, board)  # before any work, whatever door calls
    dashboard = ambition_dashboard(number)
    latest = [v.latest.period for item in dashboard["kpqs"] for v in item["views"] if v.latest]
    if not latest or board is None:
        raise ValidationError("There are no figures to report yet.", code="no_figures")
    content = board_report_content(number)
    if board_report_fingerprint(content) != fingerprint:
        raise ValidationError("The figures changed since you opened the preview; check them again.", code="changed")
    previous = BoardReport.objects.select_for_update().filter(
        board=board, published_by=user, as_at__gte=timezone.now() - timedelta(minutes=REPUBLISH_GUARD_MINUTES),
    ).order_by("-as_at", "-pk").first()
    if previous is not None and board_report_fingerprint(previous.content) == fingerprint:
        return previous  # a second press of the button, or a retry: this user just published these figures
    return BoardReport.objects.create(
        board=board, period=max(latest, key=lambda p: p.start), as_at=timezone.now(),
        title=f"{board.name}: progress report as at {timezone.localdate():%d %B %Y}",
        # Stored as its canonical JSON reads back, so the stored report has the same fingerprint.
        content=json.loads(json.dumps(content)), published_by=user,
    )
