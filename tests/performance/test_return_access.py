"""Access to returns as one idea (performance.models.scope, performance.returns.access): the table
of who may view, see the workings of, enter and decide which returns; ``restrict`` and
``Scope.covers`` agreeing on it; every door (return pages, decisions, My returns, the approval
queue, the API) reading it; the browser now showing another organisation's approved return, as
the API does, without its workings; and the pages' query counts not growing with the returns."""
from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from ambitions.models import DeliveryPlan
from kentforum.actors import KeyActor
from partnerships.models import Organisation, PartnerAPIKey
from performance.catalogue import periods, services
from performance.models import IndicatorReturn, Milestone, MilestoneReturn, ReturnEvent, WorkflowState
from performance.models.scope import ACTIONS, ReturnQuerySet, Scope, scope_for
from performance.returns import access, selectors, validation, workflow
from tests.factories import IndicatorFactory, council, district

pytestmark = pytest.mark.django_db

STATES = [WorkflowState.DRAFT, WorkflowState.SUBMITTED, WorkflowState.APPROVED, WorkflowState.RETURNED]
ORGS = {"A": ("Ashford Borough Council", "Ashford"), "D": ("Dover District Council", "Dover")}
ACTOR_NAMES = ["anonymous", "officer", "other_officer", "approver", "forum_admin", "board_member", "submit_key", "read_key"]


# --- Actors and a world of returns in every state ----------------------------------------------

def make_key(scope: str, organisations=()):
    key, raw = PartnerAPIKey.objects.create_key(
        name=f"{scope} key", partner=Organisation.objects.get(name="Kent Police"), scope=scope,
    )
    key.organisations.set(organisations)
    return key, raw


@pytest.fixture
def actors(officer, other_officer, approver, forum_admin, board_member):
    """Each actor by name, and for the API a client acting as it. ``officer`` is Ashford's,
    ``other_officer`` Dover's; the submit key names Ashford."""
    submit_key, submit_raw = make_key("submit", [council()])
    read_key, read_raw = make_key("read")
    users = {"officer": officer, "other_officer": other_officer, "approver": approver, "forum_admin": forum_admin,
             "board_member": board_member}
    by_name = {"anonymous": AnonymousUser(), **users, "submit_key": KeyActor(key=submit_key), "read_key": KeyActor(key=read_key)}

    def client(name):
        api = APIClient()
        if name in users:
            api.force_authenticate(users[name])
        elif name.endswith("_key"):
            api.credentials(HTTP_AUTHORIZATION=f"Api-Key {submit_raw if name == 'submit_key' else read_raw}")
        return api

    by_name["client"] = client
    return by_name


@pytest.fixture
def world(period):
    """One indicator return and one milestone return of Ashford (A) and of Dover (D) in each state:
    {(kind, org, state): return}."""
    plan = DeliveryPlan.objects.get(name="Local Transport Plan")
    returns = {}
    for state in STATES:
        indicator = IndicatorFactory(code=f"T-{state.upper()}")
        for org, (name, area) in ORGS.items():
            returns[("indicator", org, state)] = IndicatorReturn.objects.create(
                indicator=indicator, locality=district(area), period=period, organisation=council(name), state=state,
                value=Decimal(1),
            )
            milestone = Milestone.objects.create(title=f"{area} {state}", delivery_plan=plan, owner=council(name),
                                                 due_date=datetime.date(2012, 9, 30))
            returns[("milestone", org, state)] = MilestoneReturn.objects.create(
                milestone=milestone, period=period, organisation=council(name), state=state,
            )
    return returns


# --- The table ---------------------------------------------------------------------------------------

D, S, A, R = "draft", "submitted", "approved", "returned"
EVERY = {D, S, A, R}
NONE: dict = {}


def cells(**by_org) -> set[tuple[str, str]]:
    return {(org, state) for org, states in by_org.items() for state in states}


# actor -> action -> the (organisation, state) cells of the world it covers
EXPECTED = {
    "anonymous": {"view": cells(A={A}, D={A}), "workings": set(), "enter": set(), "decide": set()},
    "officer": {"view": cells(A=EVERY, D={A}), "workings": cells(A=EVERY), "enter": cells(A=EVERY), "decide": set()},
    "other_officer": {"view": cells(A={A}, D=EVERY), "workings": cells(D=EVERY), "enter": cells(D=EVERY), "decide": set()},
    "approver": {"view": cells(A={S, A, R}, D={S, A, R}), "workings": cells(A={S, A, R}, D={S, A, R}), "enter": set(),
                 "decide": cells(A={S}, D={S})},
    "forum_admin": {"view": cells(A=EVERY, D=EVERY), "workings": cells(A=EVERY, D=EVERY), "enter": set(),
                    "decide": cells(A={A}, D={A})},
    "board_member": {"view": cells(A={A}, D={A}), "workings": set(), "enter": set(), "decide": set()},
    "submit_key": {"view": cells(A=EVERY, D={A}), "workings": cells(A=EVERY), "enter": cells(A=EVERY), "decide": set()},
    "read_key": {"view": cells(A={A}, D={A}), "workings": set(), "enter": set(), "decide": set()},
}


@pytest.mark.parametrize("name", ACTOR_NAMES)
def test_restrict_and_covers_agree_with_the_table(name, actors, world):
    """For each action: ``restrict`` returns exactly the returns ``Scope.covers`` admits (the
    database rule and the in-memory rule are one), and those are the table's, for both kinds."""
    actor = actors[name]
    for action in ACTIONS:
        scope = scope_for(actor, action)
        assert isinstance(scope, Scope)
        for kind, model in (("indicator", IndicatorReturn), ("milestone", MilestoneReturn)):
            mine = {key: ret for key, ret in world.items() if key[0] == kind}
            restricted = set(model.objects.restrict(actor, action).filter(pk__in=[r.pk for r in mine.values()])
                             .values_list("pk", flat=True))
            covered = {ret.pk for ret in mine.values() if scope.covers(ret.state, ret.organisation_id)}
            assert restricted == covered, (name, action, kind)
            expected = {ret.pk for (_, org, state), ret in mine.items() if (org, state) in EXPECTED[name][action]}
            assert restricted == expected, (name, action, kind, sorted(
                (org, state) for (_, org, state), ret in mine.items() if ret.pk in restricted))


def test_scope_q_and_covers_at_the_edges():
    assert Scope(everything=True, states=frozenset(), organisation_ids=frozenset()).covers(None, None)
    nothing = Scope(everything=False, states=frozenset(), organisation_ids=frozenset())
    assert not nothing.covers(A, 1) and not nothing.covers(None, None)
    assert IndicatorReturn.objects.filter(nothing.q()).count() == 0
    # A return not started has no state: only an organisation clause (or everything) covers it.
    assert not Scope(False, frozenset(EVERY), frozenset()).covers(None, 7)
    assert Scope(False, frozenset(), frozenset({7})).covers(None, 7)
    with pytest.raises(ValueError):
        scope_for(AnonymousUser(), "delete")


def test_the_default_action_is_view_and_the_manager_is_shared(world):
    assert isinstance(IndicatorReturn.objects.all(), ReturnQuerySet) and isinstance(MilestoneReturn.objects.all(), ReturnQuerySet)
    anonymous = AnonymousUser()
    assert set(IndicatorReturn.objects.restrict(anonymous)) == set(IndicatorReturn.objects.filter(state=A))


# --- ReturnAccess: one return page's flags -----------------------------------------------------------

# state (None: not started) -> actor -> flags: V can_view, W sees_workings, E can_edit, D can_decide, R can_reopen
FLAGS = {
    None: {"anonymous": "", "officer": "VWE", "other_officer": "", "approver": "", "forum_admin": "VW",
           "board_member": "", "submit_key": "VWE", "read_key": ""},
    D: {"anonymous": "", "officer": "VWE", "other_officer": "", "approver": "", "forum_admin": "VW",
        "board_member": "", "submit_key": "VWE", "read_key": ""},
    S: {"anonymous": "", "officer": "VW", "other_officer": "", "approver": "VWD", "forum_admin": "VW",
        "board_member": "", "submit_key": "VW", "read_key": ""},
    A: {"anonymous": "V", "officer": "VW", "other_officer": "V", "approver": "VW", "forum_admin": "VWR",
        "board_member": "V", "submit_key": "VW", "read_key": "V"},
    R: {"anonymous": "", "officer": "VWE", "other_officer": "", "approver": "VW", "forum_admin": "VW",
        "board_member": "", "submit_key": "VWE", "read_key": ""},
}


def flags(allowed) -> str:
    return "".join(letter for letter, on in (
        ("V", allowed.can_view), ("W", allowed.sees_workings), ("E", allowed.can_edit), ("D", allowed.can_decide),
        ("R", allowed.can_reopen)) if on)


@pytest.mark.parametrize("state", [None, *STATES])
def test_return_access_flags(state, actors, world, period):
    for name in ACTOR_NAMES:
        ret = world[("indicator", "A", state)] if state else None
        allowed = access.ReturnAccess(actors[name], ret, organisation=council(), period=period)
        assert flags(allowed) == FLAGS[state][name], (state, name)
        assert allowed.can_enter == (name in ("officer", "submit_key"))
        if state:  # milestone returns: the same, except that they are never reopened
            ms = access.ReturnAccess(actors[name], world[("milestone", "A", state)], organisation=council(), period=period)
            assert flags(ms) == FLAGS[state][name].replace("R", ""), (state, name)


def test_a_closed_period_allows_no_change_or_decision(actors, world, period):
    period.status = period.Status.LOCKED
    period.save()
    for name in ACTOR_NAMES:
        for state in STATES:
            allowed = access.ReturnAccess(actors[name], world[("indicator", "A", state)], organisation=council(), period=period)
            assert not (allowed.can_edit or allowed.can_decide or allowed.can_reopen), (name, state)
            assert allowed.can_view == ("V" in FLAGS[state][name])


def test_may_decide(actors, world, period):
    def may(name, kind, state, decision):
        return access.ReturnAccess(actors[name], world[(kind, "A", state)], organisation=council(), period=period).may_decide(decision)

    assert may("approver", "indicator", S, "approve") and may("approver", "milestone", S, "send-back")
    assert not may("approver", "indicator", D, "approve"), "approvers do not see drafts"
    assert not may("approver", "indicator", A, "reopen")
    assert may("forum_admin", "indicator", A, "reopen")
    assert not may("forum_admin", "milestone", A, "reopen"), "milestone returns are not reopened"
    assert not may("forum_admin", "indicator", S, "approve")
    for name in ("anonymous", "officer", "other_officer", "board_member", "submit_key", "read_key"):
        for decision in access.DECISIONS:
            assert not may(name, "indicator", A, decision), (name, decision)
    with pytest.raises(ValueError):
        may("approver", "indicator", S, "delete")


def test_can_enter_and_can_approve_read_the_same_table(actors):
    for name in ACTOR_NAMES:
        actor = actors[name]
        assert access.can_enter(actor, council()) == (name in ("officer", "submit_key")), name
        assert access.can_enter(actor, council("Dover District Council")) == (name == "other_officer"), name
        assert not access.can_enter(actor, None)
        assert access.can_approve(actor) == (name == "approver"), name


# --- Every door reads it -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ACTOR_NAMES)
def test_the_api_lists_exactly_what_restrict_views(name, actors, world):
    client = actors["client"](name)
    for resource, model in (("indicator-returns", IndicatorReturn), ("milestone-returns", MilestoneReturn)):
        response = client.get(f"/api/v1/{resource}/", {"page_size": 100})
        assert response.status_code == 200
        listed = {item["id"] for item in response.json()["results"]}
        assert listed == set(model.objects.restrict(actors[name], "view").values_list("pk", flat=True)), (name, resource)
        for ret in model.objects.all():
            detail = client.get(f"/api/v1/{resource}/{ret.pk}/")
            assert detail.status_code == (200 if ret.pk in listed else 404), (name, resource, ret.state)


def test_the_export_is_what_anyone_views(world):
    response = APIClient().get("/api/v1/exports/approved-values.csv")
    lines = b"".join(response.streaming_content).decode().splitlines()[1:]
    assert len(lines) == IndicatorReturn.objects.restrict(AnonymousUser()).count() == 2
    assert all(",approved," in line for line in lines)


def test_the_approval_queue_and_my_returns_read_restrict(actors, world, approver, officer, forum_admin):
    queued = {ret.pk for _, rets in selectors.approval_queue(approver) for ret in rets}
    assert queued == {world[(kind, org, S)].pk for kind in ("indicator", "milestone") for org in ORGS}
    assert queued == (set(IndicatorReturn.objects.restrict(approver, "decide").filter(state=S).values_list("pk", flat=True))
                      | set(MilestoneReturn.objects.restrict(approver, "decide").filter(state=S).values_list("pk", flat=True)))
    assert selectors.approval_queue(forum_admin) == [], "the Forum team decides approved returns (reopens), not submitted ones"
    services.assignment_ensure(organisation=council(), indicator=world[("indicator", "A", D)].indicator, locality=district())
    rows = [row for group in selectors.my_returns(officer) for row in group.rows if row.ret is not None]
    enterable = set(IndicatorReturn.objects.restrict(officer, "enter").values_list("pk", flat=True)) | set(
        MilestoneReturn.objects.restrict(officer, "enter").values_list("pk", flat=True))
    assert rows and all(row.ret.pk in enterable for row in rows)
    assert {row.ret.pk for row in rows if row.kind == "milestone"} == {world[("milestone", "A", s)].pk for s in STATES}


def test_every_door_calls_restrict_or_return_access(client, monkeypatch, world, officer, approver, period, count_indicator):
    calls = []
    original_restrict, original_init = ReturnQuerySet.restrict, access.ReturnAccess.__init__

    def restrict(self, actor, action="view"):
        calls.append((self.model.__name__, action))
        return original_restrict(self, actor, action)

    def init(self, *args, **kwargs):
        calls.append(("ReturnAccess", None))
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(ReturnQuerySet, "restrict", restrict)
    monkeypatch.setattr(access.ReturnAccess, "__init__", init)
    client.force_login(approver)
    client.get(reverse("performance:approvals"))
    assert {("IndicatorReturn", "decide"), ("MilestoneReturn", "decide")} <= set(calls)
    calls.clear()
    client.get("/api/v1/indicator-returns/")
    client.get("/api/v1/milestone-returns/")
    assert {("IndicatorReturn", "view"), ("MilestoneReturn", "view")} <= set(calls)
    calls.clear()
    client.force_login(officer)
    client.get(reverse("performance:my-returns"))
    assert {("IndicatorReturn", "enter"), ("MilestoneReturn", "enter")} <= set(calls)
    calls.clear()
    assert client.get(reverse("performance:indicator-return", args=[period.pk, count_indicator.code, district().gss_code])).status_code == 200
    assert ("ReturnAccess", None) in calls and ("IndicatorReturn", "view") in calls  # the page and its earlier values


# --- The browser agrees with the API: another organisation's approved return -------------------------

REASON = "SENTINEL-SEND-BACK-REASON"
DRAFT_EARLIER = Decimal("4242.42")
APPROVED_EARLIER = Decimal("3131")


@pytest.fixture
def approved_after_send_back(officer, approver, period, count_indicator):
    """Ashford's KSI return: sent back with a reason, then approved; an approved and a draft value
    in earlier quarters; its stored send-back reason kept (as a reopened-then-approved one may)."""
    save = dict(indicator=count_indicator, locality=district(), period=period, organisation=council(), user=officer)
    ret = workflow.indicator_return_save_draft(figures=validation.IndicatorFigures(value=Decimal(18)), **save)
    workflow.indicator_return_submit(ret=ret, expected_version=ret.version, user=officer)
    workflow.return_send_back(ret=ret, reason=REASON, expected_version=ret.version, user=approver)
    ret = workflow.indicator_return_save_draft(figures=validation.IndicatorFigures(value=Decimal(18), commentary="Checked."),
                                         expected_version=ret.version, **save)
    workflow.indicator_return_submit(ret=ret, expected_version=ret.version, user=officer)
    workflow.return_approve(ret=ret, expected_version=ret.version, user=approver)
    IndicatorReturn.objects.filter(pk=ret.pk).update(return_reason=REASON)
    for number, state, value in ((1, WorkflowState.APPROVED, APPROVED_EARLIER), (2, WorkflowState.DRAFT, DRAFT_EARLIER)):
        earlier, _ = services.period_ensure(span=periods.quarter(2011, number))
        IndicatorReturn.objects.create(indicator=count_indicator, locality=district(), period=earlier,
                                       organisation=council(), state=state, value=value)
    ret.refresh_from_db()
    return ret


def page(period, indicator, area="Ashford"):
    return reverse("performance:indicator-return", args=[period.pk, indicator.code, district(area).gss_code])


READ_ONLY_ABSENT = ("Save as draft", "Submit for approval", "Approve</button>", "Return to officer", "Reopen for correction")


@pytest.mark.parametrize("who", ["other_officer", "board_member"])
def test_another_organisations_approved_return_is_readable_without_its_workings(
    who, request, client, approved_after_send_back, period, count_indicator, rate_indicator, officer,
):
    client.force_login(request.getfixturevalue(who))
    response = client.get(page(period, count_indicator))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Checked." in html and "Approved" in html, "the published figures and commentary"
    for words in READ_ONLY_ABSENT:
        assert words not in html, words
    assert 'id="history"' not in html and "Ashford Tester" not in html and "Approver Tester" not in html, "no audit trail"
    assert REASON not in html, "no send-back reason"
    assert "3,131" in html or "3131" in html, "earlier approved values are published"
    assert "4242" not in html and "4,242" not in html, "no earlier unapproved value"
    # A draft of another organisation stays closed.
    workflow.indicator_return_save_draft(indicator=rate_indicator, locality=district(), period=period, organisation=council(),
                                   user=officer, figures=validation.IndicatorFigures(numerator=Decimal(1), denominator=Decimal(2)))
    assert client.get(page(period, rate_indicator)).status_code == 403
    # and so does a slot not started (nothing is published yet)
    rate_indicator.returns.all().delete()
    assert client.get(page(period, rate_indicator)).status_code == 403


def test_the_owner_and_the_forum_team_still_see_the_workings(client, approved_after_send_back, period, count_indicator,
                                                             officer, forum_admin, approver):
    for user in (officer, forum_admin, approver):
        client.force_login(user)
        html = client.get(page(period, count_indicator)).content.decode()
        assert 'id="history"' in html and REASON in html, user
    client.force_login(officer)
    assert "4,242" in client.get(page(period, count_indicator)).content.decode() or "4242" in client.get(
        page(period, count_indicator)).content.decode(), "the owner sees its own earlier draft"
    client.force_login(forum_admin)
    assert "Reopen for correction" in client.get(page(period, count_indicator)).content.decode()


def test_anonymous_visitors_still_sign_in_first(client, approved_after_send_back, period, count_indicator):
    response = client.get(page(period, count_indicator))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_another_organisations_approved_milestone_return_is_readable_without_its_workings(client, other_officer, world, period):
    ret = world[("milestone", "A", A)]
    MilestoneReturn.objects.filter(pk=ret.pk).update(return_reason=REASON, commentary="Published progress.")
    ReturnEvent.objects.create(milestone_return=ret, at=timezone.now(), action="approved", from_state=S, to_state=A,
                               version=ret.version, note="SENTINEL-EVENT-NOTE")
    client.force_login(other_officer)
    response = client.get(reverse("performance:milestone-return", args=[period.pk, ret.milestone_id]))
    html = response.content.decode()
    assert response.status_code == 200 and "Published progress." in html
    for words in (*READ_ONLY_ABSENT, REASON, "SENTINEL-EVENT-NOTE", 'id="history"'):
        assert words not in html, words
    draft = world[("milestone", "A", D)]
    assert client.get(reverse("performance:milestone-return", args=[period.pk, draft.milestone_id])).status_code == 403


def test_decisions_are_gated_by_return_access(client, world, other_officer, approver, forum_admin):
    approved, submitted = world[("indicator", "A", A)], world[("indicator", "A", S)]
    client.force_login(other_officer)
    for decision in ("approve", "send-back", "reopen"):
        assert client.post(reverse("performance:indicator-decision", args=[approved.pk, decision]), {"version": 1}).status_code == 403
    client.force_login(approver)
    assert client.post(reverse("performance:indicator-decision", args=[submitted.pk, "reopen"]), {"version": 1}).status_code == 403
    assert client.post(reverse("performance:indicator-decision", args=[submitted.pk, "nonsense"]), {"version": 1}).status_code == 404
    assert IndicatorReturn.objects.get(pk=submitted.pk).state == S
    client.force_login(forum_admin)
    ms = world[("milestone", "A", A)]
    assert client.post(reverse("performance:milestone-decision", args=[ms.pk, "reopen"]), {"version": 1}).status_code == 403
    assert client.post(reverse("performance:indicator-decision", args=[submitted.pk, "approve"]), {"version": 1}).status_code == 403


# --- Query counts do not grow with the returns -------------------------------------------------------

def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def add_returns(n, start, period, state, plan):
    for i in range(start, start + n):
        indicator = IndicatorFactory(code=f"T-Q{i:02d}")
        services.assignment_ensure(organisation=council(), indicator=indicator, locality=district())
        IndicatorReturn.objects.create(indicator=indicator, locality=district(), period=period, organisation=council(),
                                       state=state, value=Decimal(i))
        milestone = Milestone.objects.create(title=f"Milestone {i}", delivery_plan=plan, owner=council(),
                                             due_date=datetime.date(2012, 9, 30))
        MilestoneReturn.objects.create(milestone=milestone, period=period, organisation=council(), state=state)


@pytest.mark.parametrize("who,url_name,state,bound", [
    ("officer", "performance:my-returns", WorkflowState.DRAFT, 18),  # 16 today
    ("approver", "performance:approvals", WorkflowState.SUBMITTED, 19),  # 18 today: the filter form's 3 lists, the targets
])
def test_list_pages_cost_a_fixed_number_of_queries(who, url_name, state, bound, request, client, period):
    plan = DeliveryPlan.objects.get(name="Local Transport Plan")
    client.force_login(request.getfixturevalue(who))
    url = reverse(url_name)
    add_returns(2, 0, period, state, plan)
    client.get(url)  # warm (session, content types)
    with_two = count_queries(client, url)
    add_returns(4, 2, period, state, plan)
    with_six = count_queries(client, url)
    html = client.get(url).content.decode()
    assert all(f"T-Q{i:02d}" in html or f"Milestone {i}" in html for i in range(6))
    assert with_two == with_six <= bound, (with_two, with_six)


def test_the_return_page_costs_a_fixed_number_of_queries(client, officer, period, count_indicator):
    ret = workflow.indicator_return_save_draft(indicator=count_indicator, locality=district(), period=period,
                                         organisation=council(), user=officer, figures=validation.IndicatorFigures(value=Decimal(5)))
    url = page(period, count_indicator)
    client.force_login(officer)

    def add(numbers):
        for number in numbers:
            earlier, _ = services.period_ensure(span=periods.quarter(2010, number) if number <= 4 else periods.quarter(2011, number - 4))
            IndicatorReturn.objects.create(indicator=count_indicator, locality=district(), period=earlier,
                                           organisation=council(), state=WorkflowState.APPROVED, value=Decimal(number))
            ReturnEvent.objects.create(indicator_return=ret, at=timezone.now(), action="saved", from_state=D, to_state=D,
                                       version=ret.version, note=f"note {number}")

    add([1, 2])
    client.get(url)
    with_two = count_queries(client, url)
    add([3, 4, 5, 6])
    with_six = count_queries(client, url)
    assert "note 6" in client.get(url).content.decode()
    assert with_two == with_six <= 25, (with_two, with_six)  # 25 today, the comments and the standing send-back reason included
