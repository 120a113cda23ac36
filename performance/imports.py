"""Bulk entry of indicator returns by CSV: a template to download, an upload that is checked
row by row into a preview, and a confirmation that saves every row or none.

The checks are the services' own (``services.figure_errors``, ``services.check_draft_figures``,
``services.check_period_open``, ``permissions.check_can_enter``, the outlier and breakdown rules
of ``rules``), applied to the whole file at once: one query each loads the organisation's
slots, the returns already stored for them and their history, and every row is judged in
memory. The confirmation checks the file again and saves it set-based, in one transaction: new
returns and their audit events are written with COPY on PostgreSQL (``bulk_create`` elsewhere),
existing drafts with one conditional UPDATE that still names the version each row was read at
(optimistic locking), so a return changed since the preview refuses the whole file. The rows
are saved as drafts, with the same versions and ``ReturnEvent`` rows (action ``imported``) as
``services.indicator_return_save`` writes; the officer then submits them.

Limits: a file of at most ``MAX_BYTES`` bytes and ``MAX_ROWS`` rows (settings
``RETURN_IMPORT_MAX_BYTES`` and ``RETURN_IMPORT_MAX_ROWS`` override them). Cells that a
spreadsheet would run as a formula are neutralised with a leading apostrophe on export, and the
apostrophe is taken off again when the file comes back.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from kentforum.forms import fit_number, number_text

from . import bulk, permissions, rules, services
from .models import (
    BreakdownCategory,
    Indicator,
    IndicatorAssignment,
    IndicatorReturn,
    ReportingPeriod,
    ReturnEvent,
    ReturnImport,
    WorkflowState,
)
from .selectors import period_for_indicator

COLUMNS = [
    "period", "indicator_code", "indicator_name", "area_gss_code", "area_name", "breakdown",
    "value", "numerator", "denominator", "commentary", "version",
]
REQUIRED_COLUMNS = {"period", "indicator_code", "area_gss_code", "value", "numerator", "denominator"}
OPTIONAL_COLUMNS = ("breakdown", "commentary", "version")
MAX_ROWS = 5000  # rows of a file, the header not counted
MAX_BYTES = 2 * 1024 * 1024
MAX_COMMENTARY = 5000  # as the return form and the API
UTF16_WITHOUT_BOM = (
    "The file looks like UTF-16 text without a byte-order mark. In Excel choose Save As, then "
    "'CSV UTF-8 (Comma delimited)'."
)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def max_rows() -> int:
    return int(getattr(settings, "RETURN_IMPORT_MAX_ROWS", MAX_ROWS))


def max_bytes() -> int:
    return int(getattr(settings, "RETURN_IMPORT_MAX_BYTES", MAX_BYTES))


# --- Export ------------------------------------------------------------------------------------

def safe_cell(value) -> str:
    """A cell as text, with a leading apostrophe where a spreadsheet would take it for a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


NUMBER_TEXT = re.compile(r"^-?\d+(\.\d+)?$")


def export_cell(value):
    """A cell of any CSV export (the board report, the API's CSV): a number, or text that is a
    plain number, stays a number (a minus sign is not a formula); other text goes through
    ``safe_cell``."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and NUMBER_TEXT.match(value):
        return value
    return safe_cell(value)


def _unneutralised(text: str) -> str:
    """A cell of an uploaded file as it was before ``safe_cell`` (the apostrophe taken off)."""
    if text.startswith("'") and text[1:2] and text[1] in "=+-@\t\r":
        return text[1:]
    return text


def number_cell(value) -> str:
    """A number as plain digits (a real negative number stays a number, with its minus sign)."""
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
    label = safe_cell(period.label)
    for a in assignments:
        total = existing.get((a.indicator_id, a.locality_id, None))
        code, name, gss, area = (safe_cell(a.indicator.code), safe_cell(a.indicator.name),
                                 safe_cell(a.locality.gss_code), safe_cell(a.locality.name))
        yield [
            label, code, name, gss, area, "",
            number_cell(total.value) if total and not a.indicator.is_rate else "",
            number_cell(total.numerator) if total else "", number_cell(total.denominator) if total else "",
            safe_cell(total.commentary) if total else "", total.version if total else "",
        ]
        for dimension in a.indicator.breakdown_dimensions.all():
            for category in dimension.categories.all():
                row = existing.get((a.indicator_id, a.locality_id, category.pk))
                yield [
                    label, code, name, gss, area, safe_cell(f"{dimension.code}:{category.code}"),
                    number_cell(row.value) if row else "", "", "", "", "",
                ]


EXPORT_COLUMNS = [
    "period", "indicator_code", "area_gss_code", "breakdown", "value", "numerator", "denominator", "state",
    # how final and how certain each figure is (the import reads none of these; they are for the reader)
    "quality", "source_released", "quality_note", "ci_lower", "ci_upper", "sample_base",
]


def export_rows(queryset):
    """Approved values in long format, one row per indicator, area, period and breakdown, in the
    import's own columns, so that the file can be uploaded again as it is. Text cells are
    neutralised; numbers are written as plain numbers."""
    yield EXPORT_COLUMNS
    for row in queryset.values_list(
        "period__label", "indicator__code", "locality__gss_code", "breakdown__dimension__code", "breakdown__code",
        "value", "numerator", "denominator", "state", "indicator__aggregation",
        "quality", "source_released", "quality_note", "ci_lower", "ci_upper", "sample_base",
    ).iterator(chunk_size=2000):
        (label, code, gss, dimension, category, value, numerator, denominator, state, aggregation,
         quality, released, note, lower, upper, base) = row
        is_rate = aggregation == "ratio"
        yield [
            safe_cell(label), safe_cell(code), safe_cell(gss), safe_cell(f"{dimension}:{category}") if dimension else "",
            "" if is_rate and numerator is not None else number_cell(value),
            number_cell(numerator), number_cell(denominator), safe_cell(state),
            safe_cell(quality), released.isoformat() if released else "", safe_cell(note),
            number_cell(lower), number_cell(upper), "" if base is None else str(base),
        ]


def write_template(out, organisation, period: ReportingPeriod) -> None:
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(template_rows(organisation, period))


# --- Reading a file ----------------------------------------------------------------------------

def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{max(1, round(n / 1024))} KB"


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def decode_upload(raw: bytes) -> str:
    """The text of an uploaded file: UTF-8 (with or without a byte-order mark) or UTF-16 with
    one. Anything else is refused with a message saying how to save the file."""
    if not raw:
        raise ValidationError("The file is empty: download the template, fill it in and upload that.")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise ValidationError(
                "The file starts like UTF-16 text but cannot be read as it. In Excel choose Save As, then "
                "'CSV UTF-8 (Comma delimited)'."
            ) from None
    sample = raw[:4000]
    for zeros, encoding in ((sample[1::2], "utf-16-le"), (sample[0::2], "utf-16-be")):
        # UTF-16 without a byte-order mark: Latin text has a NUL in every other byte.
        if len(zeros) >= 8 and zeros.count(0) >= 0.9 * len(zeros):
            raise ValidationError(UTF16_WITHOUT_BOM)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ValidationError(
            f"The file is not UTF-8 text (the first character that is not is on line {line}). In Excel choose "
            "Save As, then 'CSV UTF-8 (Comma delimited)'."
        ) from None


def _error(column: str, message: str) -> dict:
    """A row's error: the column it is in and what is wrong, in words."""
    return {"column": column, "message": message}


def _number(text: str, column: str, errors: list[dict]) -> Decimal | None:
    """A number cell (already stripped): plain, or as a spreadsheet writes it (1,234, £5, 12%,
    a leading apostrophe). Rounded to the 4 decimal places the columns keep."""
    if not text:
        return None
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        cleaned = number_text(text)
        if not cleaned:
            return None
        try:
            number = Decimal(cleaned)
        except (InvalidOperation, ValueError):
            errors.append(_error(column, f"The {column} must be a number, not “{_short(text)}”."))
            return None
    fitted = fit_number(number) if number.is_finite() else None  # rounded to the 4 places stored
    if fitted is None:
        errors.append(_error(
            column, f"The {column} must be an ordinary number, less than 10,000,000,000,000,000 in size, not “{_short(text)}”."
        ))
    return fitted


class _Stored(NamedTuple):
    """A return already stored for a slot of the file, as far as the import needs it."""

    pk: int
    organisation_id: int
    state: str
    version: int
    value: Decimal | None
    numerator: Decimal | None
    denominator: Decimal | None
    commentary: str
    # data quality and survey fields, which the file does not carry: kept as stored
    quality: str
    source_released: object
    quality_note: str
    ci_lower: Decimal | None
    ci_upper: Decimal | None
    sample_base: int | None

    def get_state_display(self) -> str:
        return WorkflowState(self.state).label


class _Group:
    """The rows of one indicator and area: the total row and its breakdown rows, and what is
    stored for them now."""

    __slots__ = ("indicator", "locality", "total", "figures", "current", "breakdown_rows", "breakdown_values",
                 "stored_breakdowns", "frozen")

    def __init__(self, indicator, locality):
        self.indicator, self.locality = indicator, locality
        self.total: dict | None = None  # the total row
        self.figures: services.IndicatorFigures | None = None
        self.current: _Stored | None = None
        self.breakdown_rows: dict[int, dict] = {}  # category id: row
        self.breakdown_values: dict[int, Decimal | None] = {}  # category id: value
        self.stored_breakdowns: dict[int, _Stored] = {}
        self.frozen = False  # already submitted or approved: its rows must be as stored


@dataclass
class ParsedUpload:
    rows: list[dict]  # every filled-in row, with its errors and warnings, for the preview
    groups: list[_Group]  # per indicator and area with a total row: what to save

    @property
    def has_errors(self) -> bool:
        return any("errors" in r for r in self.rows)


class _Context:
    """Everything the rows are judged against, loaded with one query each."""

    def __init__(self, organisation, period: ReportingPeriod):
        from localities.models import Locality

        own = IndicatorAssignment.objects.filter(organisation=organisation)
        self.indicator_ids = own.values("indicator_id")
        indicators = {i.id: i for i in Indicator.objects.filter(pk__in=self.indicator_ids)}
        localities = {loc.id: loc for loc in Locality.objects.all()}
        self.slots: dict[tuple[str, str], tuple] = {}
        self.codes: set[str] = set()
        for indicator_id, locality_id in own.values_list("indicator_id", "locality_id"):
            indicator, locality = indicators[indicator_id], localities[locality_id]
            self.slots[(indicator.code, locality.gss_code)] = (indicator, locality)
        self.codes = {i.code for i in indicators.values()}
        self.dimensions: dict[int, set[int]] = {}
        through = Indicator.breakdown_dimensions.through
        for indicator_id, dimension_id in through.objects.filter(indicator_id__in=self.indicator_ids).values_list(
            "indicator_id", "breakdowndimension_id"
        ):
            self.dimensions.setdefault(indicator_id, set()).add(dimension_id)
        self.categories = {f"{c.dimension.code}:{c.code}": c for c in BreakdownCategory.objects.select_related("dimension")}
        self.returned = {i.id: bool(period_for_indicator(i, [period])) for i in indicators.values()}
        self.stored: dict[tuple[int, int], _Stored] = {}  # totals by slot
        self.breakdowns: dict[tuple[int, int], dict[int, _Stored]] = {}  # by slot, then category
        for row in IndicatorReturn.objects.filter(period=period, indicator_id__in=self.indicator_ids).values_list(
            "indicator_id", "locality_id", "breakdown_id", "pk", "organisation_id", "state", "version", "value",
            "numerator", "denominator", "commentary", *services.QUALITY_FIELDS,
        ):
            if row[2] is None:
                self.stored[row[:2]] = _Stored(*row[3:])
            else:
                self.breakdowns.setdefault(row[:2], {})[row[2]] = _Stored(*row[3:])

    def history(self, organisation, period) -> dict[tuple[int, int], list[Decimal]]:
        """Each slot's last eight approved values of earlier periods of the same kind, oldest
        first (what ``services.value_history`` gives for one slot), in one query
        (``bulk.approved_history``)."""
        return bulk.approved_history(period, {(indicator.id, locality.id) for indicator, locality in self.slots.values()})


def _header(record: list[str]) -> list[str]:
    return [_unneutralised(h.strip().lstrip("\ufeff").strip()).lower() for h in record]


def _delimiter(text: str) -> str:
    """Comma, unless the first line plainly uses semicolons or tabs (some spreadsheets' CSV)."""
    first = text.lstrip("\r\n").split("\n", 1)[0]
    if "," not in first:
        for candidate in (";", "\t"):
            if candidate in first:
                return candidate
    return ","


def _columns(header: list[str]) -> dict[str, int]:
    missing = REQUIRED_COLUMNS - set(header)
    if missing:
        raise ValidationError(
            f"The file is missing the column(s) {', '.join(sorted(missing))}. Download the template and keep its header row."
        )
    twice = sorted({h for h in header if h in COLUMNS and header.count(h) > 1})
    if twice:
        raise ValidationError(f"The column(s) {', '.join(twice)} appear more than once in the header; keep one of each.")
    index = {name: header.index(name) for name in COLUMNS if name in header}
    for name in OPTIONAL_COLUMNS:
        index.setdefault(name, len(header))  # absent: the empty cell added after the row's last
    return index


def parse_upload(*, text: str, organisation, period: ReportingPeriod, warnings: bool = True) -> ParsedUpload:
    """Check every row of an uploaded CSV against the rules, without saving anything. Raises
    ValidationError for a file that cannot be read at all (binary, wrong columns, too long);
    otherwise every problem is an error of its row, naming the row (as a spreadsheet numbers
    it, the header being row 1), the column and what is wrong. ``warnings=False`` skips what
    only the preview shows (outliers against history, breakdowns that do not add up)."""
    if "\x00" in text:
        if text.count("\x00") * 3 >= len(text):
            raise ValidationError(UTF16_WITHOUT_BOM)
        raise ValidationError("The file contains binary data; upload the CSV template filled in.")
    limit = max_rows()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    rows: list[dict] = []
    groups: dict[tuple[int, int], _Group] = {}
    line = 0
    try:
        for record in reader:
            line += 1
            if any(cell.strip() for cell in record):
                break
        else:
            raise ValidationError("The file has no header row: download the template and keep its header row.")
        header = _header(record)
        index = _columns(header)
        header_line, width = line, len(header)
        context = _Context(organisation, period)
        check = _RowCheck(organisation, period, context, index, rows, groups)
        at_value, at_numerator, at_denominator, at_commentary = (
            index["value"], index["numerator"], index["denominator"], index["commentary"]
        )
        for record in reader:
            line += 1
            if line - header_line > limit:
                raise ValidationError(f"The file has more than {limit:,} rows; split it into files of at most {limit:,} rows.")
            cells = len(record)
            if cells > width:
                if any(cell.strip() for cell in record[width:]):
                    rows.append({"line": line, "errors": [_error(
                        f"column {width + 1}",
                        f"The row has {cells} cells but the header has {width}: more cells than the header.",
                    )]})
                    continue
            else:
                record.extend([""] * (width - cells + 1))
            value, numerator, denominator, commentary = (
                record[at_value].strip(), record[at_numerator].strip(), record[at_denominator].strip(),
                record[at_commentary].strip(),
            )
            if value or numerator or denominator or commentary:
                check(line, record, value, numerator, denominator, commentary)
            # else: a row left blank is not part of the return
    except csv.Error as exc:
        raise ValidationError(
            f"The file could not be read as CSV at row {line + 1}: {exc}. Check for a quote mark that is not closed."
        ) from None
    history = context.history(organisation, period) if warnings and groups else {}
    ready = []
    for group in groups.values():
        _check_group(group, context, history if warnings else None)
        if group.total is not None and not group.frozen:
            ready.append(group)
    return ParsedUpload(rows=rows, groups=ready)


class _RowCheck:
    """Checks one filled-in row against the context and files it in its group."""

    def __init__(self, organisation, period, context: _Context, index: dict, rows: list, groups: dict):
        self.organisation, self.period, self.context, self.rows, self.groups = organisation, period, context, rows, groups
        self.at = {name: index[name] for name in ("period", "indicator_code", "area_gss_code", "breakdown", "version")}

    def __call__(self, line: int, record: list[str], value: str, numerator: str, denominator: str, commentary: str) -> None:
        at, context, period = self.at, self.context, self.period
        code = _unneutralised(record[at["indicator_code"]].strip())
        gss = _unneutralised(record[at["area_gss_code"]].strip())
        breakdown = _unneutralised(record[at["breakdown"]].strip())
        row = {"line": line, "indicator": _short(code), "area": _short(gss, 20), "breakdown": _short(breakdown, 60)}
        self.rows.append(row)
        errors: list[dict] = []
        period_label = _unneutralised(record[at["period"]].strip())
        if period_label != period.label:
            errors.append(_error("period", f"The period is “{_short(period_label, 20)}”; this upload is for {period.label}."))
        slot = context.slots.get((code, gss))
        if slot is None:
            errors.append(_error(
                "area_gss_code" if code in context.codes else "indicator_code",
                f"{self.organisation} does not return indicator “{_short(code, 30)}” for area “{_short(gss, 12)}”.",
            ))
            row["errors"] = errors
            return
        indicator, locality = slot
        if not context.returned[indicator.id]:
            errors.append(_error("period", f"{indicator.code} is not returned for {period.label}."))
            row["errors"] = errors
            return
        key = (indicator.id, locality.id)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = _Group(indicator, locality)
        if breakdown:
            figure = _number(value, "value", errors)
            category = context.categories.get(breakdown)
            if category is None or category.dimension_id not in context.dimensions.get(indicator.id, ()):
                errors.append(_error("breakdown", f"“{_short(breakdown)}” is not a breakdown of {indicator.code}."))
            elif category.id in group.breakdown_rows:
                first = group.breakdown_rows[category.id]["line"]
                errors.append(_error(
                    "breakdown",
                    f"The {breakdown} row of {indicator.code} for {locality.name} appears more than once (rows {first} and {line}).",
                ))
            else:
                group.breakdown_rows[category.id] = row
                group.breakdown_values[category.id] = figure
            if errors:
                row["errors"] = errors
            return
        if group.total is not None:
            errors.append(_error(
                "indicator_code",
                f"{indicator.code} for {locality.name} appears more than once (rows {group.total['line']} and {line}).",
            ))
            row["errors"] = errors
            return
        figures = (_number(value, "value", errors), _number(numerator, "numerator", errors),
                   _number(denominator, "denominator", errors), _unneutralised(commentary))
        if len(commentary) > MAX_COMMENTARY:
            errors.append(_error("commentary", f"The commentary has {len(commentary):,} characters; the limit is {MAX_COMMENTARY:,}."))
        group.total, group.figures = row, figures
        current = group.current = context.stored.get(key)
        group.stored_breakdowns = context.breakdowns.get(key, {})
        version_text = record[at["version"]].strip()
        version = None
        if version_text:
            try:
                version = int(_unneutralised(version_text))
            except ValueError:
                errors.append(_error("version", "The version must be the whole number from the template."))
        if current is not None:
            if current.organisation_id != self.organisation.id:
                errors.append(_error("indicator_code", "This return was entered by another organisation; it cannot be changed by your upload."))
            elif current.state in (WorkflowState.SUBMITTED, WorkflowState.APPROVED):
                group.frozen = True  # its rows may come back as downloaded; _check_group compares them
            elif version != current.version:
                errors.append(_error(
                    "version",
                    f"This return has changed since the template was downloaded (it is now version {current.version}). "
                    "Download a new template.",
                ))
            row["action"] = "unchanged" if group.frozen else "update"
        else:
            row["action"] = "create"
        if errors:
            row["errors"] = errors


def _check_group(group: _Group, context: _Context, history: dict | None) -> None:
    """The checks of a whole return (its total and breakdowns): the services' rules for
    figures, and (with ``history``) the warnings the return form would show."""
    indicator = group.indicator
    total = group.total
    if total is None:
        for row in group.breakdown_rows.values():
            row.setdefault("errors", []).append(_error(
                "breakdown", "A breakdown row needs the total row of its indicator and area in the same file."
            ))
        return
    value, numerator, denominator, commentary = group.figures
    figures = group.figures = services.IndicatorFigures(
        value=value, numerator=numerator, denominator=denominator, commentary=commentary,
        breakdowns=group.breakdown_values,
    )
    if "errors" in total or any("errors" in r for r in group.breakdown_rows.values()):
        return
    if group.frozen:
        _check_unchanged(group, figures)
        return
    problems = services.figure_errors(indicator, figures, group.current)  # data quality as stored
    if not problems:
        try:
            services.check_draft_figures(indicator, figures, group.current)
        except ValidationError as invalid:
            problems = {k: " ".join(v) for k, v in invalid.message_dict.items()}
    if problems:
        for name, message in problems.items():
            row = total
            if name.startswith("breakdown_"):
                row = group.breakdown_rows.get(int(name.removeprefix("breakdown_")), total)
                name = "value"
            row.setdefault("errors", []).append(_error(name if name in COLUMNS else "value", message))
        return
    computed = services._computed_value(indicator, figures)
    total["value_display"] = "" if computed is None else str(computed)
    if history is None:
        return
    found = []
    unit = "%" if indicator.unit == Indicator.Unit.PERCENTAGE else ""
    if warning := rules.outlier_warning(computed, history.get((indicator.id, group.locality.id), ()), unit_label=unit):
        found.append(warning)
    if indicator.aggregation == Indicator.Aggregation.SUM and figures.breakdowns:
        by_dimension: dict[str, dict[str, Decimal | None]] = {}
        for category in context.categories.values():
            if category.id in figures.breakdowns:
                by_dimension.setdefault(category.dimension.name, {})[category.label] = figures.breakdowns[category.id]
        for dimension, parts in sorted(by_dimension.items()):
            if warning := rules.breakdown_warning(computed, parts, dimension):
                found.append(warning)
    if found:
        total["warnings"] = found


def _check_unchanged(group: _Group, figures) -> None:
    """A submitted or approved return's rows may come back as the template gave them (nothing
    is saved for them); any change to them is an error."""
    current = group.current
    # the file carries no data-quality fields: those are compared as stored (as ``_save`` writes them)
    changed = bool(services._diff(current, services._return_values(group.indicator, figures, current)))
    for category_id, value in figures.breakdowns.items():
        stored = group.stored_breakdowns.get(category_id)
        changed |= (stored.value if stored else None) != value
    if changed:
        group.total.setdefault("errors", []).append(_error(
            "version",
            f"This return is already {current.get_state_display().lower()}; it cannot be changed by upload. "
            "Leave its rows as downloaded, or empty.",
        ))
    else:
        for row in group.breakdown_rows.values():
            row["action"] = "unchanged"


# --- Preview and apply -------------------------------------------------------------------------

@transaction.atomic
def import_preview(*, user, organisation, period: ReportingPeriod, filename: str, raw: bytes) -> ReturnImport:
    """Check an upload and keep it as a preview job; nothing is saved to the returns yet."""
    permissions.check_can_enter(user, organisation)
    services.check_period_open(period)
    if len(raw) > max_bytes():
        raise ValidationError(f"The file is {_size(len(raw))}; the limit is {_size(max_bytes())}. Split it into smaller files.")
    text = decode_upload(raw)
    parsed = parse_upload(text=text, organisation=organisation, period=period)
    if not parsed.rows:
        raise ValidationError("The file has no filled-in rows: enter values in the template before uploading it.")
    return ReturnImport.objects.create(
        organisation=organisation, period=period, uploaded_by=user, filename=filename[:255], content=text,
        rows=parsed.rows, state=ReturnImport.State.REJECTED if parsed.has_errors else ReturnImport.State.PREVIEW,
    )


class _Changed(Exception):
    """A return changed between the check and the write; nothing is written."""


@transaction.atomic
def import_apply(*, user, job: ReturnImport) -> ReturnImport:
    """Save every row of a previewed upload, or none. The file is checked again against what is
    stored now (returns may have changed since the preview), then saved set-based in one
    transaction; a return changed meanwhile refuses the whole file."""
    job = ReturnImport.objects.select_for_update().defer("rows").get(pk=job.pk)
    if job.uploaded_by_id != getattr(user, "pk", None):
        raise PermissionDenied("Only the person who uploaded the file may confirm it.")
    permissions.check_can_enter(user, job.organisation)
    if job.state != ReturnImport.State.PREVIEW:
        raise ValidationError("This upload has already been dealt with.")
    services.check_period_open(job.period)
    parsed = parse_upload(text=job.content, organisation=job.organisation, period=job.period, warnings=False)
    if not parsed.has_errors:
        try:
            with transaction.atomic():
                _save(parsed.groups, user=user, organisation=job.organisation, period=job.period)
        except (_Changed, IntegrityError):
            # A return changed between the check and the write: say which, save nothing.
            parsed = parse_upload(text=job.content, organisation=job.organisation, period=job.period, warnings=False)
            if not parsed.has_errors:
                raise ValidationError("Some of these returns were changed while the file was being saved. Upload it again.") from None
    if parsed.has_errors:
        job.rows, job.state = parsed.rows, ReturnImport.State.REJECTED
        job.save(update_fields=["rows", "state", "updated_at"])
        return job
    job.state, job.applied_count = ReturnImport.State.APPLIED, len(parsed.groups)
    job.save(update_fields=["state", "applied_count", "updated_at"])
    return job


@transaction.atomic
def import_cancel(*, user, job: ReturnImport) -> ReturnImport:
    if job.uploaded_by_id != getattr(user, "pk", None):
        raise PermissionDenied("Only the person who uploaded the file may cancel it.")
    if job.state == ReturnImport.State.PREVIEW:
        job.state = ReturnImport.State.CANCELLED
        job.save(update_fields=["state", "updated_at"])
    return job


# --- The set-based write -------------------------------------------------------------------------

_Changed = bulk.Changed  # a return changed between the check and the write: nothing is written


def _save(groups: list[_Group], *, user, organisation, period) -> None:
    """Write the checked groups as drafts, as ``services.indicator_return_save`` would one by one:
    a new return at version 1; an existing draft or returned return, if anything changed, at its
    version + 1 (only if still at the version read, else ``_Changed``), its breakdown rows
    brought in line and moved to draft; one ``imported`` event per return written. A return
    whose figures the file leaves as stored is not written at all: it keeps its version, its
    state (a returned return stays returned) and its reason. No approved figure changes, so
    there is no rollup to queue. The write itself is ``bulk.write``, shared with the API's bulk
    entry: COPY and one conditional UPDATE on PostgreSQL."""
    labels = dict(BreakdownCategory.objects.values_list("pk", "label"))
    jsonable = services._jsonable
    draft, imported = WorkflowState.DRAFT, ReturnEvent.Action.IMPORTED
    plan = bulk.Plan()
    for group in groups:
        indicator, figures, current = group.indicator, group.figures, group.current
        values = services._return_values(indicator, figures, current)  # data quality as stored: the file has none
        slot = {"indicator_id": indicator.id, "locality_id": group.locality.id, "period_id": period.pk,
                "organisation_id": organisation.pk}
        stored_breakdowns = group.stored_breakdowns
        bump = 0 if current is None else 1
        new_breakdowns: list[bulk.NewReturn] = []
        breakdown_changes: dict = {}
        for category_id, value in figures.breakdowns.items():
            stored = stored_breakdowns.get(category_id)
            old = stored.value if stored else None
            if stored is None:
                if value is None:
                    continue
                new_breakdowns.append(bulk.NewReturn(
                    **slot, breakdown_id=category_id, value=value, numerator=None, denominator=None, commentary="",
                    state=draft, version=1 + bump,
                ))
            if old != value:
                breakdown_changes[f"breakdown: {labels.get(category_id, category_id)}"] = [jsonable(old), jsonable(value)]
        if current is None:
            changes = {k: [None, jsonable(v)] for k, (_, v) in services.creation_changes(values).items()}
            plan.new.append(bulk.NewReturn(
                **slot, breakdown_id=None, **values, state=draft, version=1,
                events=(bulk.Event(imported, "", draft, 1, {**changes, **breakdown_changes}),),
            ))
            plan.new += new_breakdowns
            continue
        # The services' rule (``services.draft_changes``): figures as stored, nothing is written,
        # and a returned return stays returned with its version and reason.
        diff = services.draft_changes(current, values, breakdowns_changed=bool(breakdown_changes))
        if diff is None:
            continue  # nothing changed: no new version, no event
        changes = {**{k: [jsonable(a), jsonable(b)] for k, (a, b) in diff.items()}, **breakdown_changes}
        plan.new += new_breakdowns
        plan.updates.append(bulk.TotalUpdate(pk=current.pk, expected=current.version, version=current.version + 1,
                                             state=draft, **values))
        plan.events.append((current.pk, bulk.Event(imported, current.state, draft, current.version + 1, changes)))
        for category_id, stored in stored_breakdowns.items():
            changed = category_id in figures.breakdowns and figures.breakdowns[category_id] != stored.value
            plan.breakdown_updates.append(bulk.BreakdownUpdate(
                pk=stored.pk, set_value=changed, value=figures.breakdowns.get(category_id), state=draft,
                bump=2 if changed else 1,
            ))
    bulk.write(plan, now=timezone.now(), actor_id=getattr(services._person(user), "pk", None))
