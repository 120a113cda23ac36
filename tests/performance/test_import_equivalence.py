"""The set-based CSV import writes exactly what saving each return through
``workflow.indicator_return_save_draft`` writes: the same returns, breakdown rows, versions, states and
audit changes (only the event's action differs: ``imported``). Each case is applied both ways to
the same starting data, in savepoints that are rolled back, and the outcomes are compared."""
import csv
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from performance.models import BreakdownCategory, IndicatorReturn, ReturnEvent
from performance.returns import bulk_write, exports, imports, validation, workflow
from tests.factories import council, district

pytestmark = pytest.mark.django_db


class _Rollback(Exception):
    pass


def snapshot() -> dict:
    returns = sorted(
        IndicatorReturn.objects.values_list(
            "indicator__code", "breakdown__code", "state", "version", "value", "numerator", "denominator", "commentary",
        ),
        key=repr,
    )
    events = sorted(
        (
            (e.indicator_return.indicator.code, e.from_state, e.to_state, e.version, sorted(e.changes.items()))
            for e in ReturnEvent.objects.select_related("indicator_return__indicator").exclude(
                pk__in=ReturnEvent.objects.filter(pk__lte=_baseline["event"]).values("pk")
            )
        ),
        key=repr,
    )
    return {"returns": returns, "events": events}


_baseline = {"event": 0}


def outcome(apply) -> dict:
    """What ``apply`` leaves in the database, which is then put back as it was."""
    try:
        with transaction.atomic():
            apply()
            result = snapshot()
            raise _Rollback
    except _Rollback:
        return result


def save(indicator, figures, version=None, user=None):
    return workflow.indicator_return_save_draft(
        indicator=indicator, locality=district(), period=_period["p"], organisation=council(), user=user,
        figures=figures, expected_version=version,
    )


_period = {}


def figures_for(count_indicator, row):
    categories = {c.code: c.pk for c in BreakdownCategory.objects.filter(dimension__code="severity")}
    return validation.IndicatorFigures(
        value=dec(row.get("value")), commentary=row.get("commentary", ""),
        breakdowns={categories[k]: dec(v) for k, v in row.get("breakdowns", {}).items()},
    )


def dec(value):
    """A figure as the forms and the API give it to the services: a Decimal."""
    return None if value is None else Decimal(str(value))


def rate(row):
    return validation.IndicatorFigures(numerator=dec(row["numerator"]), denominator=dec(row["denominator"]))


def as_csv(period, count_indicator, rate_indicator, ksi: dict | None, recyc: dict | None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(exports.COLUMNS)
    stored = {
        (r.indicator_id, r.breakdown_id): r for r in IndicatorReturn.objects.filter(period=period)
    }
    gss = district().gss_code
    if ksi is not None:
        total = stored.get((count_indicator.pk, None))
        writer.writerow([period.label, "T-KSI", "", gss, "", "", ksi.get("value", ""), "", "", ksi.get("commentary", ""),
                         total.version if total else ""])
        for code, value in ksi.get("breakdowns", {}).items():
            writer.writerow([period.label, "T-KSI", "", gss, "", f"severity:{code}", "" if value is None else value,
                             "", "", "", ""])
    if recyc is not None:
        total = stored.get((rate_indicator.pk, None))
        writer.writerow([period.label, "T-RECYC", "", gss, "", "", "", recyc["numerator"], recyc["denominator"],
                         recyc.get("commentary", ""), total.version if total else ""])
    return out.getvalue().encode()


# Each case: what is stored first (through the services), then what both ways enter.
CASES = {
    "new returns with breakdowns": (None, None,
                                    {"value": 14, "commentary": "Fewer\tcrashes\nsee C:\\\\notes ‘quoted’", "breakdowns": {"fatal": 1, "serious": 13}},
                                    {"numerator": 4321, "denominator": 10000}),
    "a draft changed, total and breakdowns": ({"value": 10, "breakdowns": {"fatal": 2, "serious": 8}}, None,
                                              {"value": 14, "breakdowns": {"fatal": 1, "serious": 13}}, None),
    "a draft unchanged makes no version": ({"value": 10, "commentary": "Same", "breakdowns": {"fatal": 2}}, None,
                                           {"value": 10, "commentary": "Same", "breakdowns": {"fatal": 2}}, None),
    "only a breakdown changed": ({"value": 10, "breakdowns": {"fatal": 2, "serious": 8}}, None,
                                 {"value": 10, "breakdowns": {"fatal": 3, "serious": 8}}, None),
    "a breakdown added and one left out": ({"value": 10, "breakdowns": {"fatal": 2}}, None,
                                           {"value": 12, "breakdowns": {"serious": 9}}, None),
    "a returned return becomes a draft again": ("returned", None, {"value": 11, "commentary": "Corrected"}, None),
    "a rate draft changed": (None, {"numerator": 10, "denominator": 40}, None, {"numerator": 12, "denominator": 40}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_import_writes_what_the_services_write(case, officer, approver, period, count_indicator, rate_indicator):
    before_ksi, before_recyc, ksi, recyc = CASES[case]
    _period["p"] = period
    if before_ksi == "returned":
        ret = save(count_indicator, figures_for(count_indicator, {"value": 30, "commentary": "Why"}), user=officer)
        ret = workflow.indicator_return_submit(ret=ret, expected_version=ret.version, user=officer, confirm_warnings=True)
        workflow.return_send_back(ret=ret, reason="Check the figure", expected_version=ret.version, user=approver)
    elif before_ksi:
        save(count_indicator, figures_for(count_indicator, before_ksi), user=officer)
    if before_recyc:
        save(rate_indicator, rate(before_recyc), user=officer)
    _baseline["event"] = ReturnEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def through_services():
        stored = {r.indicator_id: r for r in IndicatorReturn.objects.filter(breakdown__isnull=True)}
        if ksi is not None:
            current = stored.get(count_indicator.pk)
            save(count_indicator, figures_for(count_indicator, ksi), version=current.version if current else None, user=officer)
        if recyc is not None:
            current = stored.get(rate_indicator.pk)
            save(rate_indicator, rate(recyc), version=current.version if current else None, user=officer)

    def through_the_import():
        raw = as_csv(period, count_indicator, rate_indicator, ksi, recyc)
        job = imports.import_preview(user=officer, organisation=council(), period=period, filename="r.csv", raw=raw)
        assert job.state == "preview", job.rows
        job = imports.import_apply(user=officer, job=job)
        assert job.state == "applied", job.rows

    expected, got = outcome(through_services), outcome(through_the_import)
    assert got["returns"] == expected["returns"]
    assert got["events"] == expected["events"]
    if case == "a draft unchanged makes no version":
        assert not got["events"]


def test_a_return_changed_after_the_check_refuses_the_whole_write(officer, period, count_indicator, rate_indicator):
    """The write itself names the version each row was read at: a save that lands between the
    check and the write makes the import write nothing at all."""
    _period["p"] = period
    save(count_indicator, validation.IndicatorFigures(value=10), user=officer)
    save(rate_indicator, validation.IndicatorFigures(numerator=1, denominator=4), user=officer)
    raw = as_csv(period, count_indicator, rate_indicator, {"value": 14}, {"numerator": 2, "denominator": 4})
    parsed = imports.parse_upload(text=raw.decode(), organisation=council(), period=period, warnings=False)
    assert not parsed.has_errors
    ret = IndicatorReturn.objects.get(indicator=rate_indicator)
    save(rate_indicator, validation.IndicatorFigures(numerator=3, denominator=4), version=ret.version, user=officer)
    events = ReturnEvent.objects.count()
    with pytest.raises(bulk_write.Changed), transaction.atomic():
        imports.save_slots(parsed.groups, user=officer, organisation=council(), period=period)
    assert IndicatorReturn.objects.get(indicator=count_indicator).value == 10
    assert IndicatorReturn.objects.get(indicator=rate_indicator).numerator == 3
    assert ReturnEvent.objects.count() == events


def test_the_import_refuses_a_submitted_return(officer, period, count_indicator, rate_indicator):
    _period["p"] = period
    ret = save(count_indicator, validation.IndicatorFigures(value=10, commentary="ok"), user=officer)
    workflow.indicator_return_submit(ret=ret, expected_version=ret.version, user=officer, confirm_warnings=True)
    raw = as_csv(period, count_indicator, rate_indicator, {"value": 14}, None)
    job = imports.import_preview(user=officer, organisation=council(), period=period, filename="r.csv", raw=raw)
    assert job.state == "rejected"
    assert "already submitted" in str(job.rows)
    assert IndicatorReturn.objects.get(indicator=count_indicator).value == Decimal(10)
    with pytest.raises(ValidationError):
        imports.import_apply(user=officer, job=job)
