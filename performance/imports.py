"""Bulk entry of indicator returns by CSV: a template to download, an upload that is checked
row by row into a preview, and a confirmation that saves every row or none.

The rows are saved as drafts through ``services.indicator_return_save``, so the same
permission, period, version and audit rules apply as in the browser form; the officer then
submits them. Cells that a spreadsheet would run as a formula are neutralised on export.
"""
from __future__ import annotations

import csv
import io
from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from . import permissions, services
from .models import BreakdownCategory, IndicatorAssignment, IndicatorReturn, ReportingPeriod, ReturnEvent, ReturnImport
from .selectors import period_for_indicator

COLUMNS = [
    "period", "indicator_code", "indicator_name", "area_gss_code", "area_name", "breakdown",
    "value", "numerator", "denominator", "commentary", "version",
]
REQUIRED_COLUMNS = {"period", "indicator_code", "area_gss_code", "value", "numerator", "denominator"}
OPTIONAL_COLUMNS = ("breakdown", "commentary", "version")
MAX_ROWS = 5000
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """A cell as text, with a leading apostrophe where a spreadsheet would take it for a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def number_cell(value) -> str:
    if value is None:
        return ""
    return f"{value.normalize():f}" if isinstance(value, Decimal) else str(value)


def template_rows(organisation, period: ReportingPeriod):
    """The organisation's returns for the period as CSV rows (with current figures and versions)."""
    assignments = [
        a for a in IndicatorAssignment.objects.filter(organisation=organisation)
        .select_related("indicator", "locality").prefetch_related("indicator__breakdown_dimensions__categories")
        .order_by("indicator__code", "locality__name")
        if period in period_for_indicator(a.indicator, [period])
    ]
    existing = {
        (r.indicator_id, r.locality_id, r.breakdown_id): r
        for r in IndicatorReturn.objects.filter(organisation=organisation, period=period)
    }
    for a in assignments:
        total = existing.get((a.indicator_id, a.locality_id, None))
        yield [
            period.label, a.indicator.code, safe_cell(a.indicator.name), a.locality.gss_code, a.locality.name, "",
            number_cell(total.value) if total and not a.indicator.is_rate else "",
            number_cell(total.numerator) if total else "", number_cell(total.denominator) if total else "",
            safe_cell(total.commentary) if total else "", total.version if total else "",
        ]
        for dimension in a.indicator.breakdown_dimensions.all():
            for category in dimension.categories.all():
                row = existing.get((a.indicator_id, a.locality_id, category.pk))
                yield [
                    period.label, a.indicator.code, safe_cell(a.indicator.name), a.locality.gss_code, a.locality.name,
                    f"{dimension.code}:{category.code}", number_cell(row.value) if row else "", "", "", "", "",
                ]


EXPORT_COLUMNS = [
    "period", "indicator_code", "area_gss_code", "breakdown", "value", "numerator", "denominator", "state",
]


def export_rows(queryset):
    """Approved values in long format, one row per indicator, area, period and breakdown, in the
    import's own columns, so that the file can be uploaded again as it is."""
    yield EXPORT_COLUMNS
    for row in queryset.values_list(
        "period__label", "indicator__code", "locality__gss_code", "breakdown__dimension__code", "breakdown__code",
        "value", "numerator", "denominator", "state", "indicator__aggregation",
    ).iterator(chunk_size=2000):
        label, code, gss, dimension, category, value, numerator, denominator, state, aggregation = row
        is_rate = aggregation == "ratio"
        yield [
            label, code, gss, f"{dimension}:{category}" if dimension else "",
            "" if is_rate and numerator is not None else number_cell(value),
            number_cell(numerator), number_cell(denominator), state,
        ]


def write_template(out, organisation, period: ReportingPeriod) -> None:
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(template_rows(organisation, period))


def _number(text: str, column: str, errors: list[str]) -> Decimal | None:
    text = (text or "").strip().replace(",", "").replace(" ", "").lstrip("£").rstrip("%")
    if text.startswith("'"):
        text = text[1:]
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        errors.append(f"{column} must be a number, not “{text[:40]}”.")
        return None
    if not number.is_finite() or abs(number) >= Decimal("1e16"):
        errors.append(f"{column} must be an ordinary number.")
        return None
    return number


def decode_upload(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(
            "The file is not UTF-8 text. In Excel choose Save As, then 'CSV UTF-8 (Comma delimited)'."
        ) from None


@dataclass
class ParsedUpload:
    rows: list[dict]  # every filled-in row, with its errors and warnings, for the preview
    groups: list[dict]  # per indicator and area: the assignment, figures and the version read

    @property
    def has_errors(self) -> bool:
        return any(r["errors"] for r in self.rows)


def parse_upload(*, text: str, organisation, period: ReportingPeriod) -> ParsedUpload:
    """Check every row of an uploaded CSV against the rules, without saving anything. Raises
    ValidationError for a file that cannot be read at all (binary, wrong columns, too long)."""
    if "\x00" in text:
        raise ValidationError("The file contains binary data; upload the CSV template filled in.")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = REQUIRED_COLUMNS - set(header)
    if missing:
        raise ValidationError(
            f"The file is missing the column(s) {', '.join(sorted(missing))}. Download the template and keep its header row."
        )
    reader.fieldnames = header
    assignments = {
        (a.indicator.code, a.locality.gss_code): a
        for a in IndicatorAssignment.objects.filter(organisation=organisation).select_related("indicator", "locality")
    }
    categories = {
        f"{c.dimension.code}:{c.code}": c for c in BreakdownCategory.objects.select_related("dimension")
    }
    existing = {
        (r.indicator_id, r.locality_id, r.breakdown_id): r
        for r in IndicatorReturn.objects.filter(organisation=organisation, period=period)
    }
    groups: OrderedDict[tuple, dict] = OrderedDict()
    rows: list[dict] = []
    try:
        for line, record in enumerate(reader, start=2):
            if line - 1 > MAX_ROWS:
                raise ValidationError(f"The file has more than {MAX_ROWS} rows; split it into smaller files.")
            if None in record:
                rows.append({"line": line, "errors": ["The row has more cells than the header."], "warnings": []})
                continue
            record = {k: (v or "").strip() for k, v in record.items()}
            for column in OPTIONAL_COLUMNS:
                record.setdefault(column, "")
            if not any(record.get(c) for c in ("value", "numerator", "denominator", "commentary")):
                continue  # a row left blank is not part of the return
            errors: list[str] = []
            row = {
                "line": line, "indicator": record["indicator_code"], "area": record["area_gss_code"],
                "breakdown": record["breakdown"], "errors": errors, "warnings": [],
            }
            rows.append(row)
            if record["period"] != period.label:
                errors.append(f"The period is “{record['period'][:20]}”; this upload is for {period.label}.")
            assignment = assignments.get((record["indicator_code"], record["area_gss_code"]))
            if assignment is None:
                errors.append(
                    f"{organisation} does not return indicator “{record['indicator_code'][:30]}” for area "
                    f"“{record['area_gss_code'][:12]}”."
                )
                continue
            if period not in period_for_indicator(assignment.indicator, [period]):
                errors.append(f"{assignment.indicator.code} is not returned for {period.label}.")
                continue
            value = _number(record["value"], "value", errors)
            numerator = _number(record["numerator"], "numerator", errors)
            denominator = _number(record["denominator"], "denominator", errors)
            version_text = record["version"]
            key = (assignment.indicator_id, assignment.locality_id)
            group = groups.setdefault(key, {"assignment": assignment, "total": None, "breakdowns": {}, "rows": []})
            group["rows"].append(row)
            if record["breakdown"]:
                category = categories.get(record["breakdown"])
                if category is None or not assignment.indicator.breakdown_dimensions.filter(pk=category.dimension_id).exists():
                    errors.append(f"“{record['breakdown'][:40]}” is not a breakdown of {assignment.indicator.code}.")
                    continue
                group["breakdowns"][category.pk] = value
                continue
            if group["total"] is not None:
                errors.append(f"{assignment.indicator.code} for {assignment.locality.name} appears more than once.")
                continue
            current = existing.get((assignment.indicator_id, assignment.locality_id, None))
            version = None
            if version_text:
                try:
                    version = int(version_text)
                except ValueError:
                    errors.append("version must be the whole number from the template.")
            if current is not None:
                if current.state in ("submitted", "approved"):
                    errors.append(f"This return is already {current.get_state_display().lower()}; it cannot be changed by upload.")
                elif version != current.version:
                    errors.append(
                        f"This return has changed since the template was downloaded (it is now version {current.version}). "
                        "Download a new template."
                    )
            row["action"] = "update" if current else "create"
            group["total"] = {
                "figures": services.IndicatorFigures(
                    value=value, numerator=numerator, denominator=denominator, commentary=record["commentary"][:5000]
                ),
                "version": current.version if current else None,
                "row": row,
            }
    except csv.Error as exc:
        raise ValidationError(f"The file could not be read as CSV: {exc}.") from None
    for group in groups.values():
        assignment = group["assignment"]
        if group["total"] is None:
            for row in group["rows"]:
                row["errors"].append("A breakdown row needs the total row of its indicator and area in the same file.")
            continue
        total = group["total"]
        figures = services.IndicatorFigures(**{**total["figures"].__dict__, "breakdowns": group["breakdowns"]})
        total["figures"] = figures
        if total["row"]["errors"]:
            continue
        assessment = services.assess_figures(assignment.indicator, assignment.locality, period, figures)
        total["row"]["errors"].extend(assessment.errors.values())
        total["row"]["warnings"].extend(assessment.warnings)
        total["row"]["value_display"] = str(services._computed_value(assignment.indicator, figures) or "")
    ready = [
        {"assignment": g["assignment"], "figures": g["total"]["figures"], "version": g["total"]["version"]}
        for g in groups.values() if g["total"] is not None
    ]
    return ParsedUpload(rows=rows, groups=ready)


@transaction.atomic
def import_preview(*, user, organisation, period: ReportingPeriod, filename: str, raw: bytes) -> ReturnImport:
    """Check an upload and keep it as a preview job; nothing is saved to the returns yet."""
    permissions.check_can_enter(user, organisation)
    services.check_period_open(period)
    text = decode_upload(raw)
    parsed = parse_upload(text=text, organisation=organisation, period=period)
    if not parsed.rows:
        raise ValidationError("The file has no filled-in rows: enter values in the template before uploading it.")
    return ReturnImport.objects.create(
        organisation=organisation, period=period, uploaded_by=user, filename=filename[:255], content=text,
        rows=parsed.rows, state=ReturnImport.State.REJECTED if parsed.has_errors else ReturnImport.State.PREVIEW,
    )


@transaction.atomic
def import_apply(*, user, job: ReturnImport) -> ReturnImport:
    """Save every row of a previewed upload, or none. The file is checked again (returns may
    have changed since the preview); each return is saved as a draft through the services, in
    one transaction, so one failure saves nothing."""
    job = ReturnImport.objects.select_for_update().get(pk=job.pk)
    if job.uploaded_by_id != getattr(user, "pk", None):
        raise PermissionDenied("Only the person who uploaded the file may confirm it.")
    permissions.check_can_enter(user, job.organisation)
    if job.state != ReturnImport.State.PREVIEW:
        raise ValidationError("This upload has already been dealt with.")
    parsed = parse_upload(text=job.content, organisation=job.organisation, period=job.period)
    if parsed.has_errors:
        job.rows, job.state = parsed.rows, ReturnImport.State.REJECTED
        job.save(update_fields=["rows", "state", "updated_at"])
        return job
    for group in parsed.groups:
        services.indicator_return_save(
            indicator=group["assignment"].indicator, locality=group["assignment"].locality, period=job.period,
            organisation=job.organisation, figures=group["figures"], expected_version=group["version"],
            user=user, action=ReturnEvent.Action.IMPORTED,
        )
    job.rows, job.state, job.applied_count = parsed.rows, ReturnImport.State.APPLIED, len(parsed.groups)
    job.save(update_fields=["rows", "state", "applied_count", "updated_at"])
    return job


@transaction.atomic
def import_cancel(*, user, job: ReturnImport) -> ReturnImport:
    if job.uploaded_by_id != getattr(user, "pk", None):
        raise PermissionDenied("Only the person who uploaded the file may cancel it.")
    if job.state == ReturnImport.State.PREVIEW:
        job.state = ReturnImport.State.CANCELLED
        job.save(update_fields=["state", "updated_at"])
    return job
