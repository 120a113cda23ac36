"""The import of exchanged values: figures read from a DHIS2 ``dataValueSets`` or an SDMX-CSV
file (``exchange.dhis2``, ``exchange.sdmx``) become returns through the returns' own bulk entry
(``performance.returns.bulk_entry``): the same permission, period, validation, version and audit
rules as every other write, set-based, all or nothing.

Each indicator, area and period the file names is one return: its value (or, for a rate, its
numerator and denominator) and its breakdown values, saved as a draft (as the CSV import leaves
them; the officer submits them). An exchange file carries no versions: a draft or sent-back return
is overwritten with the file's figures at the version stored when the file is read (one changed
meanwhile refuses the whole file); a submitted or approved return may come back as it is stored
(left alone, as the CSV import leaves it) and is refused if the file changes it.

Every refusal is a row error naming the row (``ExchangeErrors``); if there is any, nothing is
saved. Whoever may not enter the returns of an organisation the file names is refused whole
(``PermissionDenied``)."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from exchange import dhis2, sdmx, selectors
from exchange.figures import TOTAL, Figure, row_error
from partnerships.models import Organisation
from performance.models import Indicator, IndicatorAssignment, IndicatorReturn, ReportingPeriod
from performance.models.scope import DONE_STATES
from performance.returns import access, bulk_entry, by_code, imports, validation


class ExchangeErrors(Exception):
    """Rows of an exchange file were refused; nothing was saved. ``errors`` is a list of
    {"row": n, "field": name, "message": words}."""

    def __init__(self, errors: list[dict], detail: str = "Nothing was saved."):
        super().__init__(f"{len(errors)} error(s)")
        self.errors = sorted(errors, key=lambda e: (e["row"], e["field"]))
        self.detail = detail


@dataclass
class Slot:
    """The figures of one return, gathered from the rows that name it."""

    indicator_code: str
    gss_code: str
    period: ReportingPeriod
    rows: dict[tuple[str, str], int] = field(default_factory=dict)  # (breakdown, measure): row
    amounts: dict[tuple[str, str], Decimal | None] = field(default_factory=dict)

    @property
    def first_row(self) -> int:
        return min(self.rows.values())

    def row_of(self, field_name: str) -> int:
        """The row an error of the bulk entry's ``field_name`` is about."""
        return self.rows.get((TOTAL, field_name)) or self.rows.get((TOTAL, "value")) or self.first_row

    def item(self, expected_version: int | None) -> dict:
        """The bulk entry's item for this return (``bulk_entry.indicator_returns_save_by_codes``)."""
        total = {measure: amount for (breakdown, measure), amount in self.amounts.items() if breakdown == TOTAL}
        return {
            "indicator_code": self.indicator_code, "gss_code": self.gss_code, "period_label": self.period.label,
            "figures": validation.IndicatorFigures(
                value=total.get("value"), numerator=total.get("numerator"), denominator=total.get("denominator"),
            ),
            "breakdown_values": {b: amount for (b, measure), amount in self.amounts.items() if b != TOTAL},
            "expected_version": expected_version, "submit": False,
        }


def gather(figures: list[Figure], errors: list[dict]) -> list[Slot]:
    """The figures grouped by return, in the order of their first rows; unknown periods and a
    figure given twice are row errors."""
    if len(figures) > imports.max_rows():
        raise ValidationError(f"The file has more than {imports.max_rows():,} values; split it into smaller files.")
    periods = {(p.kind, p.start): p for p in ReportingPeriod.objects.filter(
        start__in={f.period[1] for f in figures}, kind__in={f.period[0] for f in figures})}
    slots: dict[tuple, Slot] = {}
    for figure in figures:
        period = periods.get(figure.period)
        if period is None:
            kind, start = figure.period
            errors.append(row_error(figure.row, "period", f"There is no reporting period of kind {kind} starting on "
                                                         f"{start.isoformat()} in the portal."))
            continue
        key = (figure.indicator_code, figure.gss_code, period.pk)
        slot = slots.setdefault(key, Slot(figure.indicator_code, figure.gss_code, period))
        part = (figure.breakdown, figure.measure)
        if part in slot.rows:
            what = f"{figure.breakdown} " if figure.breakdown else ""
            errors.append(row_error(figure.row, figure.measure, (
                f"The {what}{figure.measure} of {figure.indicator_code} for {figure.gss_code} in {period.label} is "
                f"given twice (rows {slot.rows[part]} and {figure.row}).")))
            continue
        slot.rows[part], slot.amounts[part] = figure.row, figure.amount
    return list(slots.values())


def check_organisations(user, slots: list[Slot]) -> None:
    """Whoever may not enter the returns of every organisation the file names (as the CSV import
    and the API ask, ``access.can_enter``) is refused whole, naming them."""
    if user is None:
        return  # the system itself (a management command run by the Forum team) may always, as the services say
    pairs = {(s.indicator_code, s.gss_code) for s in slots}
    organisation_ids = {
        organisation_id for code, gss, organisation_id in IndicatorAssignment.objects.filter(
            indicator__code__in={c for c, _ in pairs}, locality__gss_code__in={g for _, g in pairs},
        ).values_list("indicator__code", "locality__gss_code", "organisation_id") if (code, gss) in pairs
    }
    refused = [o.name for o in Organisation.objects.filter(pk__in=organisation_ids).order_by("name")
               if not access.can_enter(user, o)]
    if refused:
        raise PermissionDenied(
            f"You may not enter the returns of {', '.join(refused)}; nothing was saved. Import only the values of "
            "your own organisation's returns."
        )


def stored_returns(slots: list[Slot]) -> dict[tuple, dict]:
    """What is stored for the slots' returns: by (indicator code, GSS code, period id), the total's
    state, version and figures and its breakdown values by "dimension:category"."""
    if not slots:
        return {}
    found: dict[tuple, dict] = {}
    rows = IndicatorReturn.objects.filter(
        indicator__code__in={s.indicator_code for s in slots}, locality__gss_code__in={s.gss_code for s in slots},
        period_id__in={s.period.pk for s in slots},
    ).values_list("indicator__code", "locality__gss_code", "period_id", "breakdown__dimension__code", "breakdown__code",
                  "state", "version", "value", "numerator", "denominator")
    for code, gss, period_id, dimension, category, state, version, value, numerator, denominator in rows:
        entry = found.setdefault((code, gss, period_id), {"breakdowns": {}})
        if dimension is None:
            entry.update(state=state, version=version, value=value, numerator=numerator, denominator=denominator)
        else:
            entry["breakdowns"][f"{dimension}:{category}"] = value
    return found


def unchanged(slot: Slot, stored: dict, indicator) -> bool:
    """Whether the file gives a submitted or approved return exactly as stored (its figures and the
    breakdowns it names)."""
    measures = ("numerator", "denominator") if indicator is not None and indicator.is_rate else ("value",)
    for (breakdown, measure), amount in slot.amounts.items():
        if breakdown == TOTAL:
            if measure in measures and amount != stored.get(measure):
                return False
        elif amount != stored["breakdowns"].get(breakdown):
            return False
    return all((TOTAL, m) in slot.amounts for m in measures)


def returns_import(*, user, figures: list[Figure], errors: list[dict]) -> list[int]:
    """Save the returns the figures make (``errors``: the rows the reader already refused), all or
    nothing, through ``bulk_entry.indicator_returns_save_by_codes``. Returns the ids of the totals
    saved; raises ``ExchangeErrors`` listing every refused row, or ``PermissionDenied``."""
    errors = list(errors)
    slots = gather(figures, errors)
    if not figures and not errors:
        raise ExchangeErrors([], detail="The file holds no values. Nothing was saved.")
    check_organisations(user, slots)
    stored = stored_returns(slots)
    indicators = {i.code: i for i in Indicator.objects.filter(code__in={s.indicator_code for s in slots})}
    items, sent = [], []
    for slot in slots:
        indicator = indicators.get(slot.indicator_code)
        if indicator is not None and indicator.is_rate and (TOTAL, "value") in slot.amounts and not (
            (TOTAL, "numerator") in slot.amounts and (TOTAL, "denominator") in slot.amounts
        ):
            errors.append(row_error(slot.rows[(TOTAL, "value")], "value", (
                f"{indicator.code} is a rate: send its numerator and denominator (its value is computed from them).")))
            continue
        current = stored.get((slot.indicator_code, slot.gss_code, slot.period.pk))
        if current and "state" in current and current["state"] in DONE_STATES and unchanged(
            slot, current, indicator
        ):
            continue  # a submitted or approved return given back as stored: left alone
        items.append(slot.item(current.get("version") if current else None))
        sent.append(slot)
    saved: list[int] = []
    with transaction.atomic():
        if items:
            try:
                saved = bulk_entry.indicator_returns_save_by_codes(user=user, items=items)
            except by_code.BulkErrors as failed:
                if not failed.errors:
                    raise ExchangeErrors(errors, detail=failed.detail) from None
                for index, problems in failed.errors:
                    for name, messages in problems.items():
                        for message in messages if isinstance(messages, list) else [messages]:
                            errors.append(row_error(sent[index].row_of(name), name, str(message)))
        if errors:
            raise ExchangeErrors(errors)  # rolls back whatever was written
    return saved


# --- The doors' entry points (the API and the management commands) ---------------------------------

def dhis2_export(params=None) -> dict:
    """The approved values ``params`` filter (``selectors.approved_values``) as a DHIS2 data value set."""
    return dhis2.data_value_set(selectors.approved_values(params))


def sdmx_export(out, params=None) -> None:
    """The approved values ``params`` filter as SDMX-CSV, written to ``out``."""
    sdmx.write(selectors.approved_values(params), out)


def dhis2_import(*, user, payload) -> list[int]:
    """Save the returns a DHIS2 data value set (parsed JSON) makes: ``returns_import``."""
    figures, errors = dhis2.read_data_value_set(payload)
    if errors and errors[0]["row"] == 0:
        raise ExchangeErrors(errors)  # not a data value set at all
    return returns_import(user=user, figures=figures, errors=errors)


def sdmx_import(*, user, raw: bytes) -> list[int]:
    """Save the returns an SDMX-CSV file makes (read as the CSV import reads a file: UTF-8 or
    UTF-16 with a byte-order mark, at most ``imports.max_bytes``): ``returns_import``."""
    if problem := imports.size_error(len(raw)):
        raise ExchangeErrors([row_error(0, "file", problem)])
    try:
        text = imports.decode_upload(raw)
    except ValidationError as invalid:
        raise ExchangeErrors([row_error(0, "file", " ".join(invalid.messages))]) from None
    figures, errors = sdmx.read(text)
    return returns_import(user=user, figures=figures, errors=errors)
