"""Direct unit tests of the dashboards wing's public functions: what a dashboard says of an
indicator and a KPQ (figures.py), the Ambition Board and KPQ pages (pages.py), who may judge
and publish (access.py), and board members' KPQ judgements (judgements.py)."""
import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError

from ambitions.models import KPQ
from kentforum.actors import KeyActor
from kentforum.roles import Role
from partnerships.models import Board, BoardMembership
from performance.catalogue import services
from performance.dashboards import access, figures, judgements, pages
from performance.models import Indicator, IndicatorReturn, IndicatorRollup, IndicatorTarget, KPQJudgement, WorkflowState
from performance.rollups import engine
from tests.factories import PercentageIndicatorFactory, council, district, open_quarter
from tests.performance.conftest import make_user

D = Decimal


def key_actor() -> KeyActor:
    return KeyActor(key=SimpleNamespace(scope="submit", name="partner key", prefix="abc"))


def rollup(**fields) -> IndicatorRollup:
    """An unsaved summary row: only what the dashboard reads of it matters."""
    fields.setdefault("direction_year", "not_comparable")
    fields.setdefault("direction_previous", "not_comparable")
    return IndicatorRollup(**fields)


def view(direction_year="not_comparable", direction_previous="not_comparable", *, latest=True,
         level="county") -> figures.IndicatorView:
    indicator = Indicator(name="Measure", reporting_level=level, aggregation="ratio")
    row = rollup(direction_year=direction_year, direction_previous=direction_previous, status="green") if latest else None
    return figures.IndicatorView(indicator=indicator, latest=row)


# --- figures.py ------------------------------------------------------------------------------------

@pytest.mark.parametrize("aggregation,comparable", [("sum", False), ("ratio", True), ("none", True)])
def test_comparable_between_districts_except_sums(aggregation, comparable):
    assert figures.comparable_between_districts(Indicator(aggregation=aggregation)) is comparable


@pytest.mark.parametrize("directions,answer", [
    ([], "not_enough_data"),
    (["not_comparable", "not_comparable"], "not_enough_data"),
    (["improving", "no_change", "not_comparable"], "improving"),
    (["improving", "improving"], "improving"),
    (["worsening", "no_change"], "worsening"),
    (["improving", "worsening"], "mixed"),
    (["no_change"], "mixed"),  # "mixed otherwise": neither improving nor worsening
])
def test_derived_answer_from_the_indicators_directions(directions, answer):
    assert figures.derived_answer([view(d) for d in directions]) == answer


def test_derived_answer_reads_the_period_before_when_a_year_before_cannot_be_compared():
    assert figures.derived_answer([view("not_comparable", "worsening")]) == "worsening"
    assert figures.derived_answer([view("improving", "worsening")]) == "improving"  # a year before comes first
    assert figures.derived_answer([view(latest=False)]) == "not_enough_data"


def test_narrative_of_no_indicators():
    assert figures.narrative([]) == "No indicators are linked to this question yet."


def test_narrative_counts_the_directions():
    views = [view("improving"), view("worsening"), view(latest=False)]
    assert figures.narrative(views) == (
        "Of 3 indicators, 1 is improving, 1 worsening and 0 without significant change over the year "
        "(1 cannot yet be compared)."
    )
    assert figures.narrative([view("no_change")]) == (
        "Of 1 indicator, 0 are improving, 0 worsening and 1 without significant change over the year."
    )


def test_narrative_adds_each_district_level_indicators_summary():
    assert figures.narrative([view("improving", level="district")]) == (
        "Of 1 indicator, 1 is improving, 0 worsening and 0 without significant change over the year. "
        "Measure: not enough data to compare districts with a year before."
    )


@pytest.mark.parametrize("latest,newer,label", [
    (rollup(status="red"), None, "Off target"),
    (rollup(status="green"), rollup(status="incomplete"), "On target"),  # the judged figure speaks
    (None, rollup(status="incomplete"), "Not judged: incomplete"),
    (None, None, "No data yet"),
])
def test_indicator_view_status_label(latest, newer, label):
    assert figures.IndicatorView(indicator=Indicator(), latest=latest, newer_incomplete=newer).status_label == label


# --- pages.py --------------------------------------------------------------------------------------

@pytest.fixture
def evidence(db):
    """Two percentages answering A2-KPQ3, returned by Ashford (judged from one district) and
    Dover: Ashford's 30% in 2011/12 Q1 and 45% in 2012/13 Q1 (improving on a year before),
    against 40% for one (green) and 60% for the other (red); Dover has returned nothing."""
    kpq = KPQ.objects.get(ambition__number=2, number=3)
    q_before, q_now = open_quarter(2011, 1), open_quarter(2012, 1)
    made = []
    for code, name, target in (("T-GREEN", "Green measure", 40), ("T-RED", "Red measure", 60)):
        indicator = PercentageIndicatorFactory(code=code, name=name, min_coverage=1)
        indicator.kpqs.add(kpq)
        indicator.ambitions.add(kpq.ambition)
        IndicatorTarget.objects.create(indicator=indicator, period=q_now, target=D(target), tolerance_percent=D(5))
        services.assignment_ensure(organisation=council(), indicator=indicator, locality=district())
        services.assignment_ensure(organisation=council("Dover District Council"), indicator=indicator,
                                   locality=district("Dover"))
        for period, numerator in ((q_before, 300), (q_now, 450)):
            IndicatorReturn.objects.create(
                indicator=indicator, locality=district(), period=period, organisation=council(), state=WorkflowState.APPROVED,
                value=D(numerator) / 10, numerator=D(numerator), denominator=D(1000),
            )
            engine.rollup_slice(indicator.pk, period.pk)
        made.append(indicator)
    return SimpleNamespace(kpq=kpq, green=made[0], red=made[1], period=q_now)


def test_ambition_dashboard_gives_each_kpq_its_evidence_and_the_exceptions(evidence):
    page = pages.ambition_dashboard(2)
    assert set(page) == {"ambition", "board", "kpqs", "milestones", "milestone_period", "primary_plans",
                         "contributing_plans", "partnerships", "exceptions", "missing", "scorecard", "contents",
                         "against_england", "area_name", "against_england_title"}
    assert (page["ambition"].number, page["board"].kind) == (2, Board.Kind.AMBITION)
    entry = next(k for k in page["kpqs"] if k["kpq"] == evidence.kpq)
    assert [v.indicator for v in entry["views"]] == [evidence.green, evidence.red]
    green, red = entry["views"]
    assert (green.latest.value, green.latest.period, green.latest.status, green.direction) == (
        D("45.0000"), evidence.period, "green", "improving"
    )
    assert (red.latest.status, red.status_label) == ("red", "Off target")
    assert (entry["answer"], entry["answer_label"]) == ("improving", "Improving")
    assert all(k["views"] == [] and k["answer"] == "not_enough_data" for k in page["kpqs"] if k["kpq"] != evidence.kpq)
    assert [v.indicator for v in page["exceptions"]] == [evidence.red]
    # Dover's returns for the latest quarter past its deadline are missing
    [(organisation, rows)] = page["missing"]
    assert organisation == council("Dover District Council")
    assert [(r.indicator, r.period, r.state) for r in rows] == [
        (evidence.green, evidence.period, "not started"), (evidence.red, evidence.period, "not started"),
    ]


def test_kpq_page_gives_the_question_its_evidence_answer_and_narrative(evidence, board_member):
    judgements.kpq_judgement_add(user=board_member, kpq=evidence.kpq, period=evidence.period, answer="mixed",
                                 rationale="Recycling is up but short of the stretch target.", derived_answer="improving")
    page = pages.kpq_page("a2-kpq3")
    assert set(page) == {"kpq", "views", "answer", "answer_label", "narrative", "studies", "milestones",
                         "milestone_period", "judgements", "latest_period"}
    assert page["kpq"] == evidence.kpq
    assert [(v.indicator, v.latest.value) for v in page["views"]] == [
        (evidence.green, D("45.0000")), (evidence.red, D("45.0000")),
    ]
    assert (page["answer"], page["answer_label"], page["latest_period"]) == ("improving", "Improving", evidence.period)
    assert page["narrative"] == (
        "Of 2 indicators, 2 are improving, 0 worsening and 0 without significant change over the year. "
        "Green measure: 1 of 1 districts improved (1 of 12 districts could be compared with a year before). "
        "Red measure: 1 of 1 districts improved (1 of 12 districts could be compared with a year before)."
    )
    assert [(j.answer, j.author) for j in page["judgements"]] == [("mixed", board_member)]
    assert (page["milestones"], page["milestone_period"]) == ([], None)


@pytest.mark.django_db
def test_kpq_page_without_evidence():
    page = pages.kpq_page("A1-KPQ1")
    assert (page["views"], page["answer"], page["latest_period"]) == ([], "not_enough_data", None)
    assert page["narrative"] == "No indicators are linked to this question yet."


# --- access.py -------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_board_members_and_the_forum_team_may_judge(board_member, forum_admin, officer, approver):
    for user in (board_member, forum_admin):
        assert access.can_judge(user) is True
        assert access.check_can_judge(user) is None
    for user in (officer, approver, AnonymousUser(), key_actor(), None):
        assert access.can_judge(user) is False, user
        with pytest.raises(PermissionDenied, match="Only board members and the Forum team may add a judgement."):
            access.check_can_judge(user)


def board(number: int) -> Board:
    return Board.objects.get(kind=Board.Kind.AMBITION, ambition__number=number)


def seated(username: str, number: int, **dates):
    user = make_user(username, "Canterbury City Council", Role.BOARD_MEMBER)
    BoardMembership.objects.create(board=board(number), person=user.person, organisation=user.person.organisation,
                                   category=BoardMembership.Category.CO_OPTED, **dates)
    return user


@pytest.mark.django_db
def test_the_forum_team_may_publish_any_boards_report(forum_admin):
    for number in (1, 2, 3):
        assert access.can_publish_report(forum_admin, board(number)) is True
        assert access.check_can_publish_report(forum_admin, board(number)) is None


@pytest.mark.django_db
def test_a_board_member_may_publish_only_the_report_of_a_board_they_sit_on_now():
    today = datetime.date.today()
    member = seated("seated", 2)
    assert access.can_publish_report(member, board(2)) is True
    assert access.check_can_publish_report(member, board(2)) is None
    assert access.can_publish_report(member, board(3)) is False
    assert access.can_publish_report(member, None) is False
    assert access.can_publish_report(seated("leaving.today", 2, end_date=today), board(2)) is True
    for user in (seated("left", 2, end_date=today - datetime.timedelta(days=1)),
                 seated("not.yet", 2, start_date=today + datetime.timedelta(days=1))):
        assert access.can_publish_report(user, board(2)) is False, user
        with pytest.raises(PermissionDenied, match="Only the Forum team and members of this Ambition Board"):
            access.check_can_publish_report(user, board(2))


@pytest.mark.django_db
def test_nobody_else_may_publish_a_report(board_member, officer, approver):
    # a board member with no seat, an officer even with a seat, an approver, the public, a key
    BoardMembership.objects.create(board=board(2), person=officer.person, organisation=officer.person.organisation,
                                   category=BoardMembership.Category.CO_OPTED)
    for user in (board_member, officer, approver, AnonymousUser(), key_actor(), None):
        assert access.can_publish_report(user, board(2)) is False, user
        with pytest.raises(PermissionDenied):
            access.check_can_publish_report(user, board(2))


# --- judgements.py ---------------------------------------------------------------------------------

@pytest.fixture
def kpq(db):
    return KPQ.objects.get(ambition__number=2, number=3)


def test_kpq_judgement_add_records_the_answer_beside_the_derived_one(board_member, kpq):
    period = open_quarter(2012, 1)
    judgement = judgements.kpq_judgement_add(user=board_member, kpq=kpq, period=period, answer="worsening",
                                             rationale="  Fewer partners report.  ", derived_answer="improving")
    stored = KPQJudgement.objects.get(pk=judgement.pk)
    assert (stored.kpq, stored.period, stored.answer, stored.rationale, stored.derived_answer, stored.author) == (
        kpq, period, "worsening", "Fewer partners report.", "improving", board_member
    )


def test_kpq_judgement_add_refuses_an_unknown_answer(board_member, kpq):
    with pytest.raises(ValidationError) as error:
        judgements.kpq_judgement_add(user=board_member, kpq=kpq, period=open_quarter(2012, 1), answer="brilliant",
                                     rationale="Because.", derived_answer="improving")
    assert error.value.message_dict == {"answer": ["Select an answer."]}
    assert not KPQJudgement.objects.exists()


@pytest.mark.parametrize("rationale", ["", "   \n "])
def test_kpq_judgement_add_refuses_an_empty_rationale(board_member, kpq, rationale):
    with pytest.raises(ValidationError) as error:
        judgements.kpq_judgement_add(user=board_member, kpq=kpq, period=open_quarter(2012, 1), answer="mixed",
                                     rationale=rationale, derived_answer="improving")
    assert error.value.message_dict == {"rationale": ["Give the rationale for your judgement."]}
    assert not KPQJudgement.objects.exists()


def test_kpq_judgement_add_refuses_an_officer(officer, kpq):
    with pytest.raises(PermissionDenied):
        judgements.kpq_judgement_add(user=officer, kpq=kpq, period=open_quarter(2012, 1), answer="mixed",
                                     rationale="Because.", derived_answer="improving")
    assert not KPQJudgement.objects.exists()

