"""Direct unit tests of the catalogue wing's public functions: the calendar (periods.py), the
pure rules (rules.py), the selectors, the period and target services, and who may manage
periods (access.py). Each names the value it expects."""
import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError

from kentforum.actors import KeyActor
from localities.models import Locality
from performance.catalogue import access, periods, rules, selectors, services
from performance.models import Indicator, IndicatorTarget, PeriodEvent, ReportingPeriod
from tests.factories import IndicatorFactory, PercentageIndicatorFactory, district, open_quarter

D = Decimal
QUARTER, FINANCIAL_YEAR, CALENDAR_YEAR, MONTH = "quarter", "financial_year", "calendar_year", "month"


def key_actor() -> KeyActor:
    """A partner's API key acting (only its type matters to the catalogue's access rules)."""
    return KeyActor(key=SimpleNamespace(scope="submit", name="partner key", prefix="abc"))


# --- periods.py: the financial year --------------------------------------------------------------

@pytest.mark.parametrize("start_year,label", [(2011, "2011/12"), (1999, "1999/00"), (2009, "2009/10"), (2099, "2099/00")])
def test_financial_year_label_names_both_years_with_two_digits_for_the_second(start_year, label):
    # Given the calendar year a financial year starts in; When it is labelled; Then "YYYY/yy"
    assert periods.financial_year_label(start_year) == label


@pytest.mark.parametrize("day,year", [
    (datetime.date(2011, 4, 1), 2011),   # the first day of the financial year
    (datetime.date(2011, 12, 31), 2011),
    (datetime.date(2012, 1, 1), 2011),   # January belongs to the year that began the April before
    (datetime.date(2012, 3, 31), 2011),  # the last day
    (datetime.date(2012, 4, 1), 2012),
])
def test_financial_year_of_is_the_year_the_april_start_fell_in(day, year):
    assert periods.financial_year_of(day) == year


@pytest.mark.parametrize("day,number", [
    (datetime.date(2011, 4, 1), 1), (datetime.date(2011, 6, 30), 1),
    (datetime.date(2011, 7, 1), 2), (datetime.date(2011, 9, 30), 2),
    (datetime.date(2011, 10, 1), 3), (datetime.date(2011, 12, 31), 3),
    (datetime.date(2012, 1, 1), 4), (datetime.date(2012, 2, 29), 4), (datetime.date(2012, 3, 31), 4),
])
def test_quarter_of_counts_quarters_from_april(day, number):
    assert periods.quarter_of(day) == number


# --- periods.py: which periods an indicator is returned in -----------------------------------------

@pytest.mark.parametrize("frequency,year_basis,kinds", [
    ("monthly", "financial", {MONTH, QUARTER}),
    ("monthly", "calendar", {MONTH, QUARTER}),
    ("quarterly", "financial", {QUARTER}),
    ("quarterly", "calendar", {QUARTER}),
    ("annual", "financial", {FINANCIAL_YEAR}),
    ("annual", "calendar", {CALENDAR_YEAR}),
])
def test_period_kinds_for_each_frequency_and_year_basis(frequency, year_basis, kinds):
    # Given an indicator of a frequency and year basis (no database needed)
    indicator = Indicator(frequency=frequency, year_basis=year_basis)
    # Then its kinds of period are exactly these
    assert periods.period_kinds_for(indicator) == frozenset(kinds)


def test_period_kinds_for_refuses_an_unknown_frequency():
    with pytest.raises(ValueError, match="'weekly' is not an indicator frequency"):
        periods.period_kinds_for(Indicator(frequency="weekly", year_basis="financial"))


@pytest.mark.parametrize("frequency,year_basis,returned_in", [
    ("quarterly", "financial", {QUARTER}),
    ("monthly", "financial", {MONTH, QUARTER}),
    ("annual", "financial", {FINANCIAL_YEAR}),
    ("annual", "calendar", {CALENDAR_YEAR}),
])
def test_is_returned_in_answers_by_the_periods_kind(frequency, year_basis, returned_in):
    indicator = Indicator(frequency=frequency, year_basis=year_basis)
    for kind in (MONTH, QUARTER, FINANCIAL_YEAR, CALENDAR_YEAR):
        assert periods.is_returned_in(indicator, ReportingPeriod(kind=kind)) is (kind in returned_in), kind


# --- rules.py: status words and colours -----------------------------------------------------------

@pytest.mark.parametrize("status,label", [
    ("green", "On target"), ("amber", "Within tolerance"), ("red", "Off target"), ("no_target", "No target"),
    ("incomplete", "Not judged: incomplete"), ("no_data", "No data yet"), (None, "No data yet"), ("", "No data yet"),
    ("something_else", "No data yet"),
])
def test_status_label(status, label):
    assert rules.status_label(status) == label


@pytest.mark.parametrize("status,tag", [
    ("green", "green"), ("amber", "yellow"), ("red", "red"), ("no_target", "grey"), ("incomplete", "grey"),
    ("no_data", "grey"), (None, "grey"), ("something_else", "grey"),
])
def test_status_tag_is_a_govuk_colour_grey_unless_judged(status, tag):
    assert rules.status_tag(status) == tag


@pytest.mark.parametrize("status,off", [
    ("amber", True), ("red", True), ("green", False), ("no_target", False), ("incomplete", False), ("no_data", False),
])
def test_is_off_target_only_for_amber_and_red(status, off):
    assert rules.is_off_target(status) is off


# --- rules.py: completeness -------------------------------------------------------------------------

@pytest.mark.parametrize("expected,aggregation,min_coverage,required", [
    (12, "sum", None, 12),
    (12, "sum", 3, 12),      # a sum always needs every area, whatever the indicator says
    (12, "none", 3, 12),
    (12, "ratio", None, 12),  # a rate with no minimum coverage: every area
    (12, "ratio", 3, 3),      # ... with one: that many
    (12, "ratio", 20, 12),    # never more than the areas expected
    (1, "ratio", 3, 1),
])
def test_required_coverage(expected, aggregation, min_coverage, required):
    assert rules.required_coverage(expected=expected, aggregation=aggregation, min_coverage=min_coverage) == required


# --- rules.py: outliers and breakdown totals ---------------------------------------------------------

def test_outlier_warning_needs_a_value_and_a_history():
    assert rules.outlier_warning(None, [D(10)]) is None
    assert rules.outlier_warning(D(100), []) is None


def test_outlier_warning_for_a_change_of_more_than_half_on_the_last_value():
    # Given last period's 10; When the value is 16 (up 60%) or 4 (down 60%); Then a warning naming both
    assert rules.outlier_warning(D(16), [D(10)], unit_label="%") == (
        "16% is up 60% on last period's 10%. Check the figure, or confirm it and say why in the commentary."
    )
    assert rules.outlier_warning(D(4), [D(10)]) == (
        "4 is down 60% on last period's 10. Check the figure, or confirm it and say why in the commentary."
    )
    # ... and none for a change of exactly half, or less
    assert rules.outlier_warning(D(15), [D(10)]) is None
    assert rules.outlier_warning(D(5), [D(10)]) is None


def test_outlier_warning_beyond_three_standard_deviations_of_four_or_more_values():
    history = [D(10), D(11), D(9), D(10), D(10)]  # mean 10, population sd 0.63
    # 13 is a change of 30% on the last value, but more than 3 sd from the mean
    assert rules.outlier_warning(D(13), history) == (
        "13 is more than three standard deviations from this area's last 5 values (average 10). "
        "Check the figure, or confirm it and say why in the commentary."
    )
    assert rules.outlier_warning(D(11), history) is None


def test_outlier_warning_needs_four_values_for_the_standard_deviation_rule():
    # Given only three past values: the sd rule does not apply, and 13 is 44% up on the last (9)
    assert rules.outlier_warning(D(13), [D(10), D(11), D(9)]) is None


def test_outlier_warning_does_not_divide_by_a_last_value_of_nought():
    assert rules.outlier_warning(D(5), [D(0)]) is None


def test_breakdown_warning_when_the_parts_do_not_add_up():
    assert rules.breakdown_warning(D(14), {"Fatal": D(1), "Serious": D(12)}, "Severity") == (
        "The severity breakdown adds up to 13, not the total of 14. "
        "Check the figures, or confirm them and say why in the commentary."
    )


@pytest.mark.parametrize("total,parts", [
    (D(13), {"Fatal": D(1), "Serious": D(12)}),   # they add up
    (D(13), {"Fatal": D(13), "Serious": None}),  # parts left empty are not counted
    (None, {"Fatal": D(1)}),                      # no total
    (D(13), {"Fatal": None, "Serious": None}),   # no parts
])
def test_no_breakdown_warning(total, parts):
    assert rules.breakdown_warning(total, parts, "Severity") is None


@pytest.mark.parametrize("value,words", [
    (D("1234567"), "1,234,567"), (D("1234.5000"), "1,234.5"), (D("0.25"), "0.25"), (D("100"), "100"),
    (D("100.0000"), "100"), (D("1E+3"), "1,000"), (D("0"), "0"), (D("-1234.5"), "-1,234.5"), (D("-3"), "-3"),
])
def test_number_words(value, words):
    assert rules.number_words(value) == words


def test_number_words_keeps_the_sign_of_a_negative_fraction():
    assert rules.number_words(D("-0.5")) == "-0.5"


# --- rules.py: confidence limits ------------------------------------------------------------------------

def test_wilson_interval_of_20_in_100():
    lower, upper = rules.wilson_interval(20, 100)
    assert lower == pytest.approx(0.1334, abs=0.0005)
    assert upper == pytest.approx(0.2888, abs=0.0005)


def test_wilson_interval_at_the_ends_stays_within_0_and_1():
    lower, upper = rules.wilson_interval(0, 10)
    assert lower == 0.0 and upper == pytest.approx(0.2775, abs=0.0005)
    lower, upper = rules.wilson_interval(10, 10)
    assert lower == pytest.approx(0.7225, abs=0.0005) and upper == pytest.approx(1.0)


@pytest.mark.parametrize("numerator,denominator", [(5, 0), (5, -1), (None, 10), (5, None)])
def test_wilson_interval_needs_a_numerator_and_a_positive_denominator(numerator, denominator):
    assert rules.wilson_interval(numerator, denominator) is None


@pytest.mark.parametrize("count,exact", [(10, (4.795, 18.390)), (100, (81.364, 121.627))])
def test_poisson_interval_is_close_to_the_exact_limits(count, exact):
    # Byar's approximation against the exact (chi-squared) Poisson limits
    lower, upper = rules.poisson_interval(count)
    assert lower == pytest.approx(exact[0], abs=0.01)
    assert upper == pytest.approx(exact[1], abs=0.01)


def test_poisson_interval_of_nought_starts_at_nought():
    lower, upper = rules.poisson_interval(0)
    assert lower == 0.0
    assert upper == pytest.approx(3.668, abs=0.001)  # Byar; the exact limit is 3.689


@pytest.mark.parametrize("count", [-1, None])
def test_poisson_interval_of_no_count_is_none(count):
    assert rules.poisson_interval(count) is None


# --- selectors.py ----------------------------------------------------------------------------------

def financial_year_period(start_year: int, *, open_it: bool = True) -> ReportingPeriod:
    period, _ = services.period_ensure(span=periods.financial_year(start_year))
    return services.period_open(period=period) if open_it else period


@pytest.mark.django_db
def test_open_periods_lists_only_open_ones_by_start_then_kind():
    # Given an open quarter and an open financial year starting the same day, a later open
    # quarter, a planned one and a locked one
    q1 = open_quarter(2011, 1)
    year = financial_year_period(2011)
    q3 = open_quarter(2011, 3)
    services.period_ensure(span=periods.quarter(2011, 2))  # planned
    locked = open_quarter(2011, 4)
    services.period_lock(period=locked)
    # When the open periods are read; Then the open ones, by start and then kind
    assert list(selectors.open_periods()) == [year, q1, q3]


@pytest.mark.django_db
def test_period_for_indicator_keeps_the_periods_of_its_kinds():
    quarter, year = open_quarter(2011, 1), financial_year_period(2011)
    calendar, _ = services.period_ensure(span=periods.calendar_year(2011))
    open_ones = [year, quarter, calendar]
    assert selectors.period_for_indicator(Indicator(frequency="quarterly"), open_ones) == [quarter]
    assert selectors.period_for_indicator(Indicator(frequency="monthly"), open_ones) == [quarter]
    assert selectors.period_for_indicator(Indicator(frequency="annual", year_basis="financial"), open_ones) == [year]
    assert selectors.period_for_indicator(Indicator(frequency="annual", year_basis="calendar"), open_ones) == [calendar]


@pytest.mark.django_db
def test_periods_for_admin_lists_every_period_newest_first_with_its_events(forum_admin, django_assert_num_queries):
    # Given a quarter opened then locked by the Forum team, a later planned quarter and a financial year
    q1 = open_quarter(2011, 1)
    services.period_lock(period=q1, user=forum_admin)
    q2, _ = services.period_ensure(span=periods.quarter(2011, 2))
    year = financial_year_period(2011, open_it=False)
    # When they are read for the admin page: two queries, however many events and actors
    with django_assert_num_queries(2):
        found = list(selectors.periods_for_admin())
        history = {p.label: [(e.action, e.actor.username if e.actor else None) for e in p.events.all()] for p in found}
    # Then newest first (by start, then kind), each with its history
    assert found == [q2, year, q1]
    assert history["2011/12 Q1"] == [(PeriodEvent.Action.OPENED, None), (PeriodEvent.Action.LOCKED, "forumadmin")]
    assert history["2011/12 Q2"] == [] and history["2011/12"] == []


@pytest.mark.django_db
def test_indicators_filtered_without_parameters_gives_every_active_indicator_by_code():
    b, a = IndicatorFactory(code="T-B"), PercentageIndicatorFactory(code="T-A")
    IndicatorFactory(code="T-C", is_active=False)
    filterset, rows = selectors.indicators_filtered({})
    assert not filterset.is_bound
    assert list(rows) == [a, b]


@pytest.mark.django_db
def test_indicators_filtered_by_unit_and_by_search():
    count = IndicatorFactory(code="T-KSI", name="People killed or seriously injured")
    rate = PercentageIndicatorFactory(code="T-RECYC", name="Household waste recycled")
    assert list(selectors.indicators_filtered({"unit": "percentage"})[1]) == [rate]
    assert list(selectors.indicators_filtered({"q": "injured"})[1]) == [count]


@pytest.mark.django_db
def test_indicators_filtered_with_a_bad_parameter_gives_the_errors_and_every_active_indicator():
    count = IndicatorFactory(code="T-KSI")
    filterset, rows = selectors.indicators_filtered({"ambition": "two"})
    assert "ambition" in filterset.errors
    assert list(rows) == [count]


# --- services.py: periods ---------------------------------------------------------------------------

@pytest.mark.django_db
def test_check_period_open_passes_an_open_period():
    assert services.check_period_open(open_quarter(2011, 1)) is None


@pytest.mark.django_db
def test_check_period_open_refuses_a_planned_or_locked_period():
    planned, _ = services.period_ensure(span=periods.quarter(2011, 2))
    with pytest.raises(services.PeriodClosedError) as error:
        services.check_period_open(planned)
    assert error.value.messages == ["2011/12 Q2 is not yet open; its returns cannot be changed."]
    locked = services.period_lock(period=open_quarter(2011, 1))
    with pytest.raises(services.PeriodClosedError) as error:
        services.check_period_open(locked)
    assert error.value.messages == ["2011/12 Q1 is locked; its returns cannot be changed."]


@pytest.mark.django_db
def test_check_returned_in_refuses_a_period_not_of_the_indicators_kinds():
    quarterly = IndicatorFactory(code="T-Q")
    annual = IndicatorFactory(code="T-Y", frequency="annual", year_basis="financial")
    quarter, year = open_quarter(2011, 1), financial_year_period(2011)
    assert services.check_returned_in(quarterly, quarter) is None
    assert services.check_returned_in(annual, year) is None
    with pytest.raises(ValidationError) as error:
        services.check_returned_in(quarterly, year)
    assert error.value.message_dict == {"period": ["T-Q is not returned for 2011/12."]}
    with pytest.raises(ValidationError) as error:
        services.check_returned_in(annual, quarter)
    assert error.value.message_dict == {"period": ["T-Y is not returned for 2011/12 Q1."]}


@pytest.mark.django_db
def test_check_milestone_reported_in_quarters_only():
    assert services.check_milestone_reported_in(open_quarter(2011, 1)) is None
    with pytest.raises(ValidationError) as error:
        services.check_milestone_reported_in(financial_year_period(2011))
    assert error.value.message_dict == {"period": ["Milestones are reported quarterly; 2011/12 is not a quarter."]}


# --- services.py: which target applies ---------------------------------------------------------------

def county() -> Locality:
    return Locality.objects.get(kind=Locality.Kind.COUNTY)


def target(indicator, period, value, locality=None) -> IndicatorTarget:
    return IndicatorTarget.objects.create(indicator=indicator, period=period, locality=locality, target=D(value))


@pytest.mark.django_db
def test_targets_for_an_areas_own_target_comes_before_the_general_one():
    # Given a percentage with a general target in two quarters and Ashford's own in the first
    rate = PercentageIndicatorFactory()
    q1, q2 = open_quarter(2011, 1), open_quarter(2011, 2)
    general_q1, general_q2 = target(rate, q1, 40), target(rate, q2, 42)
    own_q1 = target(rate, q1, 35, district())
    # Then Ashford takes its own where it has one and the general one elsewhere; Dover the general ones
    assert services.targets_for(rate, district(), [q1.pk, q2.pk]) == {q1.pk: own_q1, q2.pk: general_q2}
    assert services.targets_for(rate, district("Dover"), [q1.pk, q2.pk]) == {q1.pk: general_q1, q2.pk: general_q2}
    assert services.targets_for(rate, county(), [q1.pk]) == {q1.pk: general_q1}
    assert services.target_for(rate, district(), q1) == own_q1
    assert services.target_for(rate, district("Dover"), q2) == general_q2


@pytest.mark.django_db
def test_a_counts_general_target_says_nothing_about_one_district():
    # Given a count with a general (county total) target and Ashford's own
    count = IndicatorFactory()
    q1 = open_quarter(2011, 1)
    general = target(count, q1, 200)
    own = target(count, q1, 20, district())
    # Then Dover has no target, Ashford its own, the county the general one
    assert services.target_for(count, district("Dover"), q1) is None
    assert services.targets_for(count, district("Dover"), [q1.pk]) == {}
    assert services.target_for(count, district(), q1) == own
    assert services.target_for(count, county(), q1) == general


@pytest.mark.django_db
def test_target_for_a_period_without_targets_is_none():
    rate = PercentageIndicatorFactory()
    q1, q2 = open_quarter(2011, 1), open_quarter(2011, 2)
    target(rate, q1, 40)
    assert services.target_for(rate, district(), q2) is None


@pytest.mark.django_db
def test_choose_target_and_targets_for_agree():
    # Given, in one quarter: a rate with a general target and Ashford's own, and a count with the same
    q1 = open_quarter(2011, 1)
    rate, count = PercentageIndicatorFactory(), IndicatorFactory()
    expected = {}
    for indicator in (rate, count):
        general = target(indicator, q1, 40)
        own = target(indicator, q1, 30, district())
        expected[indicator.pk] = {"Ashford": own, "Dover": general if indicator is rate else None, "county": general}
    # When each area's target is chosen from the period's targets in either order, and read by targets_for
    for indicator in (rate, count):
        targets = list(IndicatorTarget.objects.filter(indicator=indicator, period=q1))
        for name, area in (("Ashford", district()), ("Dover", district("Dover")), ("county", county())):
            chosen = services.choose_target(indicator, area, targets)
            # Then both give the same target: an area's own; the general one, except for a count's district
            assert chosen == expected[indicator.pk][name], (indicator.code, name)
            assert services.choose_target(indicator, area, targets[::-1]) == chosen, (indicator.code, name)
            assert services.targets_for(indicator, area, [q1.pk]).get(q1.pk) == chosen, (indicator.code, name)


@pytest.mark.django_db
def test_choose_target_of_no_targets_is_none():
    assert services.choose_target(PercentageIndicatorFactory(), district(), []) is None


# --- access.py -------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_only_the_forum_team_manages_periods(forum_admin, officer, approver, board_member):
    assert access.can_manage_periods(forum_admin) is True
    for user in (officer, approver, board_member, AnonymousUser(), key_actor()):
        assert access.can_manage_periods(user) is False, user


@pytest.mark.django_db
def test_check_can_manage_periods_lets_the_forum_team_and_the_system_through(forum_admin, officer, approver,
                                                                             board_member):
    assert access.check_can_manage_periods(forum_admin) is None
    assert access.check_can_manage_periods(None) is None  # the system itself: the nightly lock
    for user in (officer, approver, board_member, AnonymousUser(), key_actor()):
        with pytest.raises(PermissionDenied, match="Only the Forum team may open, lock or reopen periods."):
            access.check_can_manage_periods(user)


@pytest.mark.django_db
def test_period_services_refuse_anyone_but_the_forum_team(officer):
    period, _ = services.period_ensure(span=periods.quarter(2011, 1))
    with pytest.raises(PermissionDenied):
        services.period_open(period=period, user=officer)
    assert ReportingPeriod.objects.get(pk=period.pk).status == ReportingPeriod.Status.PLANNED
