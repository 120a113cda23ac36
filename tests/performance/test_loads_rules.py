"""The faster load path agrees with the rules it stands in for.

- ``validation.outlier_warning`` screens values in floating point before calling
  ``rules.outlier_warning`` (whose exact-fraction standard deviation was a third of a preview's
  time): on generated histories, valid and invalid, at and around both thresholds, the two give
  the same warning, word for word.
- The CSV import loads only the indicators a file names (``import_checks.UploadContext`` with
  ``codes``): the preview of any file is the same as with everything the organisation returns
  loaded, errors and warnings alike.
- ``validation.parse_figure``'s quicker reading of plain digits gives the same number."""
import csv
import io
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from performance.catalogue import rules
from performance.returns import exports, import_checks, imports, validation
from tests.factories import council

FIGURE = st.decimals(min_value=-10**6, max_value=10**6, places=4, allow_nan=False, allow_infinity=False)
SMALL = st.integers(0, 400).map(Decimal)


@settings(max_examples=3000, deadline=None)
@given(value=st.one_of(FIGURE, SMALL), history=st.lists(st.one_of(FIGURE, SMALL), min_size=0, max_size=8),
       unit=st.sampled_from(["", "%"]))
def test_the_screened_outlier_warning_is_the_rules(value, history, unit):
    assert validation.outlier_warning(value, history, unit_label=unit) == rules.outlier_warning(value, history, unit_label=unit)


def _edges():
    """Histories and values at, just inside and just outside each threshold."""
    cases = []
    for previous in (Decimal(100), Decimal("0.0001"), Decimal(-40), Decimal(0)):
        for change in (Decimal(50), Decimal("49.9999"), Decimal("50.0001"), Decimal(-50), Decimal("-50.0001")):
            cases.append((previous + abs(previous) * change / 100, [previous]))
    flat = [Decimal(10)] * 8
    cases += [(Decimal(10), flat), (Decimal("10.0001"), flat), (Decimal(14), flat), (None, flat), (Decimal(5), [])]
    spread = [Decimal(v) for v in (10, 12, 10, 12, 10, 12, 10, 12)]  # mean 11, sd 1: the threshold is 3 away
    for value in ("14", "14.0001", "13.9999", "8", "7.9999", "8.0001"):
        cases.append((Decimal(value), spread))
    cases.append((Decimal("0.1"), [Decimal("0.1")] * 8))  # equal floats whose float mean may not be exact
    return cases


@pytest.mark.parametrize("value, history", _edges())
def test_the_screen_agrees_at_the_thresholds(value, history):
    for unit in ("", "%"):
        assert validation.outlier_warning(value, history, unit_label=unit) == rules.outlier_warning(value, history, unit_label=unit)


@settings(max_examples=500, deadline=None)
@given(text=st.one_of(st.integers(0, 10**15).map(str), st.integers(0, 10**9).map(lambda n: f"{n:,}"),
                      st.text("0123456789., \u00a0'-%£", max_size=14)))
def test_parse_figure_reads_plain_digits_as_before(text):
    """The fast path (plain digits) and the general one (separators taken out) agree."""
    try:
        fast = validation.parse_figure(text)
    except Exception as error:  # noqa: BLE001 - the same refusal is what is compared
        fast = (type(error), getattr(error, "code", None))
    rest = text.strip().removeprefix("'").strip()
    if rest.isdigit() and rest.isascii():
        assert fast == Decimal(rest)


# --- The import loads only what the file names ----------------------------------------------------

def _template(period) -> list[list[str]]:
    out = io.StringIO()
    exports.write_template(out, council(), period)
    return list(csv.reader(io.StringIO(out.getvalue())))


def _text(records) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(records)
    return out.getvalue()


def _everything(monkeypatch):
    """UploadContext as before: every indicator the organisation returns loaded, whatever the file names."""
    real = import_checks.UploadContext.__init__

    def init(self, organisation, period, codes=None):
        real(self, organisation, period, None)

    monkeypatch.setattr(import_checks.UploadContext, "__init__", init)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.tuples(st.integers(0, 50), st.sampled_from(["12", "", "abc", "-3", "150", "40"]),
                                st.sampled_from(["T-KSI", "T-RECYC", "NOT-OURS", "", None])), min_size=1, max_size=8))
def test_a_preview_is_the_same_with_only_the_named_indicators_loaded(monkeypatch, officer, period, count_indicator,
                                                                     rate_indicator, picks):
    records = _template(period)
    header, body = records[0], records[1:]
    column = {name: n for n, name in enumerate(header)}
    rows = []
    for index, value, code in picks:
        row = list(body[index % len(body)])
        row[column["value"]] = value
        row[column["numerator"]], row[column["denominator"]] = ("30", "100") if value == "40" else ("", "")
        if code is not None:
            row[column["indicator_code"]] = code
        rows.append(row)
    text = _text([header, *rows])
    with monkeypatch.context() as patched:
        _everything(patched)
        before = imports.parse_upload(text=text, organisation=council(), period=period)
    after = imports.parse_upload(text=text, organisation=council(), period=period)
    assert after.rows == before.rows
    assert [(g.indicator.pk, g.locality.pk) for g in after.groups] == [(g.indicator.pk, g.locality.pk) for g in before.groups]


# --- The history the outlier rule weighs, for many slots at once ---------------------------------

@pytest.mark.django_db
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kept=st.lists(st.tuples(st.integers(0, 19), st.sampled_from(["approved", "submitted", "draft"]),
                               st.one_of(st.none(), FIGURE)), min_size=0, max_size=20))
def test_the_history_of_many_slots_is_each_slots_own(count_indicator, rate_indicator, period, kept):
    """``approved_history`` (one query, on PostgreSQL through each slot's index) gives each slot
    what ``value_history`` gives it alone: approved values of earlier quarters, at most eight,
    oldest first; drafts, submissions, empty values and breakdown rows left out."""
    from django.db import transaction

    from performance.catalogue import periods as spans
    from performance.catalogue import services
    from performance.models import IndicatorReturn
    from tests.factories import district

    quarters = []
    year, number = 2012, 1
    for _ in range(20):
        year, number = (year, number - 1) if number > 1 else (year - 1, 4)
        quarters.append(services.period_ensure(span=spans.quarter(year, number))[0])
    slots = [(count_indicator, district()), (count_indicator, district("Dover")), (rate_indicator, district())]
    with transaction.atomic():
        for n, (back, state, value) in enumerate(kept):
            indicator, locality = slots[n % len(slots)]
            IndicatorReturn.objects.update_or_create(
                indicator=indicator, locality=locality, period=quarters[back], breakdown=None,
                defaults={"organisation": council(), "state": state, "value": value, "version": 1},
            )
        many = validation.approved_history(period, {(i.pk, loc.pk) for i, loc in slots})
        for indicator, locality in slots:
            assert many.get((indicator.pk, locality.pk), []) == validation.value_history(indicator, locality, period)
        transaction.set_rollback(True)
