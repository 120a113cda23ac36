"""Writes of the comparator wing: the standard comparator areas and the group of Kent's CIPFA
nearest neighbours (created once, then kept by the Forum team in the admin), and the one import
of comparator figures from a CSV file, all or nothing, checked row by row. The browser's upload
page and ``manage.py load_comparators`` both call ``comparator_figures_import``."""
from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from performance.catalogue.periods import period_kinds_for
from performance.models import (
    ComparatorArea,
    ComparatorFigure,
    ComparatorGroup,
    DataQuality,
    Indicator,
    ReportingPeriod,
)

ENGLAND = ("England", "E92000001", ComparatorArea.Kind.COUNTRY)
SOUTH_EAST = ("South East", "E12000008", ComparatorArea.Kind.REGION)
# Kent's CIPFA nearest neighbours among the county councils (CIPFA's Nearest Neighbours Model),
# by ONS GSS code. CIPFA revises its model; the Forum team keeps the group in the admin.
CIPFA_NEIGHBOURS = (
    ("Derbyshire", "E10000007"), ("East Sussex", "E10000011"), ("Essex", "E10000012"), ("Hampshire", "E10000014"),
    ("Hertfordshire", "E10000015"), ("Lancashire", "E10000017"), ("Leicestershire", "E10000018"),
    ("Nottinghamshire", "E10000024"), ("Staffordshire", "E10000028"), ("Surrey", "E10000030"),
    ("West Sussex", "E10000032"), ("Worcestershire", "E10000034"),
)
NEIGHBOURS_SLUG = "kent-cipfa-nearest-neighbours"
NEIGHBOURS_NAME = "Kent's CIPFA nearest neighbours"

COLUMNS = ("indicator_code", "area_gss_code", "period", "value", "ci_lower", "ci_upper", "source", "released", "quality")
OPTIONAL_COLUMNS = ("numerator", "denominator")
MAX_BYTES = 2_000_000  # a comparator file is small: a few hundred published figures
MAX_ROWS = 5000
DEMO_FILE = "demo-comparators.csv"


def comparator_areas_ensure() -> ComparatorGroup:
    """Create England, the South East, the CIPFA neighbour counties and their group where they are
    missing. Idempotent, and it never changes what exists: once created, the areas and the
    group's members are the Forum team's to keep in the admin."""
    areas = [ENGLAND, SOUTH_EAST] + [(name, code, ComparatorArea.Kind.COUNTY) for name, code in CIPFA_NEIGHBOURS]
    existing = set(ComparatorArea.objects.values_list("gss_code", flat=True))
    for name, code, kind in areas:
        if code not in existing:
            area = ComparatorArea(name=name, gss_code=code, kind=kind)
            area.full_clean()
            area.save()
    group, created = ComparatorGroup.objects.get_or_create(
        slug=NEIGHBOURS_SLUG,
        defaults={"name": NEIGHBOURS_NAME, "description": "The county councils most like Kent by CIPFA's Nearest "
                  "Neighbours Model, for comparing like with like. Kept by the Forum team in the admin."},
    )
    if created:
        group.areas.set(ComparatorArea.objects.filter(gss_code__in=[code for _, code in CIPFA_NEIGHBOURS]))
    return group


@dataclass
class CheckedRow:
    """One row of a comparator file, read and checked: the figure it would save, or its errors."""

    number: int  # the row's line in the file (the header is line 1)
    cells: dict
    figure: ComparatorFigure | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class ComparatorCheck:
    """A comparator file read and checked: its rows, and the errors of the file or of any row
    (a file with any error saves nothing)."""

    rows: list[CheckedRow]
    file_errors: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return self.file_errors + [f"Row {r.number}: {e}" for r in self.rows for e in r.errors]


@dataclass
class ComparatorImportResult:
    created: int
    updated: int
    unchanged: int


def _decimal(text: str, name: str, errors: list[str], *, required: bool = False) -> Decimal | None:
    text = (text or "").strip().replace(",", "")
    if not text:
        if required:
            errors.append(f"{name} is empty; enter a number.")
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        errors.append(f"{name} “{text}” is not a number.")
        return None
    if not value.is_finite() or abs(value) >= Decimal(10) ** 16:
        errors.append(f"{name} “{text}” is not a number the portal can hold.")
        return None
    return value


def _check_row(number: int, cells: dict, known: dict) -> CheckedRow:
    row = CheckedRow(number=number, cells=cells)
    errors = row.errors
    code, gss, label = cells.get("indicator_code", "").strip(), cells.get("area_gss_code", "").strip(), cells.get("period", "").strip()
    indicator = known["indicators"].get(code)
    if indicator is None:
        errors.append(f"no indicator has the code “{code}”.")
    area = known["areas"].get(gss.upper())
    if area is None:
        errors.append(f"no comparator area has the GSS code “{gss}” (England is E92000001, the South East E12000008).")
    period = known["periods"].get(label)
    if period is None:
        errors.append(f"no reporting period is labelled “{label}”.")
    elif indicator is not None and period.kind not in period_kinds_for(indicator):
        errors.append(f"{indicator.code} is not reported in periods like {period.label}.")
    value = _decimal(cells.get("value", ""), "value", errors, required=True)
    lower = _decimal(cells.get("ci_lower", ""), "ci_lower", errors)
    upper = _decimal(cells.get("ci_upper", ""), "ci_upper", errors)
    numerator = _decimal(cells.get("numerator", ""), "numerator", errors)
    denominator = _decimal(cells.get("denominator", ""), "denominator", errors)
    if (lower is None) != (upper is None) and not any("ci_" in e for e in errors):
        errors.append("give both limits of the 95% confidence interval (ci_lower and ci_upper), or neither.")
    elif lower is not None and upper is not None:
        if upper < lower:
            errors.append("ci_upper is below ci_lower.")
        elif value is not None and not lower <= value <= upper:
            errors.append("the value is outside its own confidence interval.")
    if denominator is not None and denominator <= 0:
        errors.append("denominator must be more than 0.")
    source = cells.get("source", "").strip()
    if not source:
        errors.append("source is empty; say who published the figure.")
    elif len(source) > 300:
        errors.append("source is longer than 300 characters.")
    released = None
    try:
        released = datetime.date.fromisoformat(cells.get("released", "").strip())
    except ValueError:
        errors.append(f"released “{cells.get('released', '').strip()}” is not a date written as YYYY-MM-DD.")
    if released is not None and released > timezone.localdate():
        errors.append(f"released {released:%Y-%m-%d} is in the future.")
    quality = cells.get("quality", "").strip().lower() or DataQuality.FINAL
    if quality not in DataQuality.values:
        errors.append(f"quality “{quality}” is not one of {', '.join(DataQuality.values)}.")
    if not errors:
        row.figure = ComparatorFigure(
            indicator=indicator, area=area, period=period, value=value, ci_lower=lower, ci_upper=upper,
            numerator=numerator, denominator=denominator, source=source, source_released=released, quality=quality,
        )
    return row


def comparator_figures_check(raw: bytes) -> ComparatorCheck:
    """Read a comparator CSV file and check every row, saving nothing."""
    if len(raw) > MAX_BYTES:
        return ComparatorCheck(rows=[], file_errors=[f"The file is larger than {MAX_BYTES // 1_000_000} MB."])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return ComparatorCheck(rows=[], file_errors=["The file is not UTF-8 text; save it as “CSV UTF-8”."])
    reader = csv.DictReader(io.StringIO(text))
    header = [(h or "").strip() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        return ComparatorCheck(rows=[], file_errors=[f"The header row lacks the column{'s' if len(missing) > 1 else ''} "
                                                     f"{', '.join(missing)}. It must be: {','.join(COLUMNS)}."])
    reader.fieldnames = header
    records = list(reader)
    if not records:
        return ComparatorCheck(rows=[], file_errors=["The file has no rows of figures."])
    if len(records) > MAX_ROWS:
        return ComparatorCheck(rows=[], file_errors=[f"The file has {len(records)} rows; at most {MAX_ROWS} at once."])
    comparator_areas_ensure()
    known = {
        "indicators": {i.code: i for i in Indicator.objects.filter(code__in={r.get("indicator_code", "").strip() for r in records})},
        "areas": {a.gss_code: a for a in ComparatorArea.objects.all()},
        "periods": {p.label: p for p in ReportingPeriod.objects.filter(label__in={r.get("period", "").strip() for r in records})},
    }
    rows, seen = [], {}
    for number, record in enumerate(records, start=2):
        cells = {key: (value or "") for key, value in record.items() if key in COLUMNS + OPTIONAL_COLUMNS}
        row = _check_row(number, cells, known)
        if row.figure is not None:
            key = (row.figure.indicator.pk, row.figure.area.pk, row.figure.period.pk)
            if key in seen:
                row.errors.append(f"the same indicator, area and period as row {seen[key]}.")
                row.figure = None
            else:
                seen[key] = number
        rows.append(row)
    return ComparatorCheck(rows=rows)


FIGURE_FIELDS = ("value", "ci_lower", "ci_upper", "numerator", "denominator", "source", "source_released", "quality")


def comparator_demo_load() -> ComparatorImportResult:
    """Load the demo set's comparator figures (``data/comparators/demo-comparators.csv``, clearly
    labelled illustrative in its ``source`` column); a second load changes nothing."""
    return comparator_figures_import(user=None, raw=(settings.BASE_DIR / "data" / "comparators" / DEMO_FILE).read_bytes())


@transaction.atomic
def comparator_figures_import(*, user, raw: bytes) -> ComparatorImportResult:
    """Load a comparator CSV file: every row is saved (a figure already held for the same
    indicator, area and period is replaced, and left alone when it is the same) or, if any row
    has an error, none is, and a ``ValidationError`` lists each error by row."""
    check = comparator_figures_check(raw)
    if check.errors:
        raise ValidationError(check.errors)
    now = timezone.now()
    created = updated = unchanged = 0
    held = {
        (f.indicator_id, f.area_id, f.period_id): f
        for f in ComparatorFigure.objects.select_for_update().filter(
            indicator_id__in={r.figure.indicator.pk for r in check.rows}, area_id__in={r.figure.area.pk for r in check.rows},
        )
    }
    for row in check.rows:
        new = row.figure
        old = held.get((new.indicator.pk, new.area.pk, new.period.pk))
        if old is not None and all(getattr(old, name) == getattr(new, name) for name in FIGURE_FIELDS):
            unchanged += 1
            continue
        target = old or new
        if old is not None:
            for name in FIGURE_FIELDS:
                setattr(old, name, getattr(new, name))
        target.loaded_by = user
        target.loaded_at = now
        target.full_clean()
        target.save()
        created += old is None
        updated += old is not None
    return ComparatorImportResult(created=created, updated=updated, unchanged=unchanged)
