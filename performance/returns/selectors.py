"""Reads of the returns: an officer's returns, the approval queue, a return page's earlier
values and audit trail, the outstanding and overdue returns. What a user reads starts from their
scope (``IndicatorReturn.objects.restrict``: "enter" for My returns, "decide" for the approval
queue, "view" for earlier values); the outstanding and overdue lists are of every organisation
(they count returns; the dashboards and reminders show no figures from them). Related rows are
fetched in bulk, so a page costs a fixed number of queries."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from kentforum.roles import GROUP_NAMES, Role, user_organisation
from performance.catalogue.periods import MILESTONE_PERIOD_KIND
from performance.catalogue.selectors import open_periods, period_for_indicator
from performance.catalogue.services import targets_for
from performance.models import (
    IndicatorAssignment,
    IndicatorReturn,
    Milestone,
    MilestoneReturn,
    ReportingPeriod,
    WorkflowState,
)
from performance.models.scope import DONE_STATES


@dataclass
class ReturnRow:
    kind: str  # "indicator" or "milestone"
    title: str
    code: str
    area: str
    period: ReportingPeriod
    ret: IndicatorReturn | MilestoneReturn | None
    indicator_id: int | None = None
    gss_code: str | None = None
    milestone_id: int | None = None

    @property
    def state(self) -> str:
        return self.ret.state if self.ret else "not_started"

    @property
    def state_label(self) -> str:
        return self.ret.get_state_display() if self.ret else "Not started"

    @property
    def done(self) -> bool:
        return self.ret is not None and self.ret.state in DONE_STATES


@dataclass
class PeriodReturns:
    period: ReportingPeriod
    rows: list[ReturnRow]

    @property
    def done(self) -> int:
        return sum(1 for r in self.rows if r.done)

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def days_left(self) -> int | None:
        if not self.period.deadline:
            return None
        return (self.period.deadline - timezone.localdate()).days


def milestones_reported(period: ReportingPeriod):
    """Every milestone reported on in ``period``: those not completed (approved complete) in an
    earlier period. Milestones are reported quarterly (see ``my_returns``)."""
    completed = MilestoneReturn.objects.filter(
        status=MilestoneReturn.Status.COMPLETE, state=WorkflowState.APPROVED, period__start__lt=period.start
    ).values("milestone_id")
    return Milestone.objects.exclude(pk__in=completed)


def milestones_due(organisation, period: ReportingPeriod):
    """The organisation's milestones it reports on in ``period``: those not completed (approved
    complete) in an earlier period."""
    return (
        milestones_reported(period).filter(owner=organisation)
        .select_related("delivery_plan", "priority_area").order_by("due_date", "title")
    )


def my_returns(user) -> list[PeriodReturns]:
    """For each open period: the officer's organisation's indicator and milestone returns, with
    their state ('not started' where none exists yet). The returns read are those the user may
    enter (``restrict(user, "enter")``)."""
    organisation = user_organisation(user)
    if organisation is None:
        return []
    periods_open = list(open_periods())
    assignments = list(
        IndicatorAssignment.objects.filter(organisation=organisation, indicator__is_active=True)
        .select_related("indicator", "locality").order_by("indicator__code", "locality__name")
    )
    returns = {
        (r.indicator_id, r.locality_id, r.period_id): r
        for r in IndicatorReturn.objects.restrict(user, "enter").filter(period__in=periods_open, breakdown__isnull=True)
    }
    milestone_returns = {
        (r.milestone_id, r.period_id): r
        for r in MilestoneReturn.objects.restrict(user, "enter").filter(period__in=periods_open)
    }
    result = []
    for period in periods_open:
        rows = [
            ReturnRow(
                kind="indicator", title=a.indicator.name, code=a.indicator.code, area=a.locality.name, period=period,
                ret=returns.get((a.indicator_id, a.locality_id, period.pk)), indicator_id=a.indicator_id,
                gss_code=a.locality.gss_code,
            )
            for a in assignments
            if period in period_for_indicator(a.indicator, periods_open)
        ]
        if period.kind == MILESTONE_PERIOD_KIND:
            rows += [
                ReturnRow(
                    kind="milestone", title=m.title, code="Milestone", area=str(m.delivery_plan or m.priority_area),
                    period=period, ret=milestone_returns.get((m.pk, period.pk)), milestone_id=m.pk,
                )
                for m in milestones_due(organisation, period)
            ]
        if rows:
            result.append(PeriodReturns(period=period, rows=rows))
    return result


def previous_values(indicator, locality, period, viewer, *, sees_workings: bool = True, limit: int = 4) -> list[dict]:
    """The area's last few values for the indicator before ``period``, with their state and the
    target then, newest first: those ``viewer`` may see (``restrict(viewer, "view")``), and only
    approved ones unless the viewer sees the workings of the return the page is about."""
    returns = IndicatorReturn.objects.restrict(viewer, "view")
    if not sees_workings:
        returns = returns.filter(state=WorkflowState.APPROVED)
    rows = (
        returns.filter(
            indicator=indicator, locality=locality, breakdown__isnull=True, period__kind=period.kind,
            period__start__lt=period.start,
        )
        .select_related("period").order_by("-period__start")[:limit]
    )
    targets = targets_for(indicator, locality, [r.period_id for r in rows])
    return [{"period": r.period.label, "value": r.value, "state": r.get_state_display(), "target": targets.get(r.period_id)} for r in rows]


@dataclass(frozen=True)
class CarriedCommentary:
    """Last period's commentary of a return's slot, offered to start a new quarter's from."""

    period: str  # its period's label, "2012/13 Q3"
    text: str


def carried_commentary(indicator, locality, period, viewer) -> CarriedCommentary | None:
    """The commentary of the latest earlier return (of ``period``'s kind) of the indicator and
    area that has one, among those ``viewer`` may see (``restrict(viewer, "view")``); or None."""
    row = (
        IndicatorReturn.objects.restrict(viewer, "view")
        .filter(indicator=indicator, locality=locality, breakdown__isnull=True, period__kind=period.kind,
                period__start__lt=period.start).exclude(commentary="")
        .order_by("-period__start").values_list("period__label", "commentary").first()
    )
    return CarriedCommentary(period=row[0], text=row[1]) if row else None


HISTORY_SHOWN = 50  # changes a return page lists unless asked for all of them


@dataclass
class ReturnHistory:
    """A return's audit trail as its page shows it: the latest ``HISTORY_SHOWN`` changes, oldest
    first (or all of them), and how many there are in all."""

    events: list
    total: int

    @property
    def is_partial(self) -> bool:
        return len(self.events) < self.total

    def __bool__(self) -> bool:
        return bool(self.total)

    def __iter__(self):
        return iter(self.events)


@dataclass(frozen=True)
class KeyWriter:
    """The partner API key that made a change: its name and its partner organisation's name."""

    name: str
    partner: str = ""


def _attribute_writers(events: list) -> list:
    """Give each event ``by_key`` (a ``KeyWriter`` for a partner key's write, else None) and
    ``comment`` (its note)."""
    for event in events:
        key = event.api_key
        event.by_key = KeyWriter(name=key.name, partner=key.partner.name if key.partner_id else "") if key else None
        event.comment = event.note
    return events


def return_history(ret, *, show_all: bool = False) -> ReturnHistory:
    """A return's changes for its page; each says who made it (``_attribute_writers``)."""
    events = ret.events.select_related("actor", "api_key__partner")
    total = events.count()
    if show_all or total <= HISTORY_SHOWN:
        return ReturnHistory(events=_attribute_writers(list(events.order_by("at", "id"))), total=total)
    latest = list(events.order_by("-at", "-id")[:HISTORY_SHOWN])
    return ReturnHistory(events=_attribute_writers(latest[::-1]), total=total)


def approval_queue(user) -> list[tuple[object, list]]:
    """The submitted returns ``user`` may decide (``restrict(user, "decide")``), grouped by
    organisation (indicator returns first, then milestones)."""
    indicator_returns = (
        IndicatorReturn.objects.restrict(user, "decide").filter(state=WorkflowState.SUBMITTED, breakdown__isnull=True)
        .select_related("organisation", "indicator", "locality", "period", "submitted_by")
    )
    milestone_returns = (
        MilestoneReturn.objects.restrict(user, "decide").filter(state=WorkflowState.SUBMITTED)
        .select_related("organisation", "milestone", "period", "submitted_by")
    )
    grouped: dict[object, list] = defaultdict(list)
    for ret in sorted(indicator_returns, key=lambda r: (r.period.start, r.indicator.code, r.locality.name)):
        grouped[ret.organisation].append(ret)
    for ret in sorted(milestone_returns, key=lambda r: (r.period.start, r.milestone.title)):
        grouped[ret.organisation].append(ret)
    return sorted(grouped.items(), key=lambda item: item[0].name)


def _returns(count: int, kind: str) -> str:
    return f"{count} {kind} return{'' if count == 1 else 's'}"


def usable_email(user) -> str:
    """The address a reminder to ``user`` goes to: their account's, else their Person's; empty
    if neither is a valid e-mail address."""
    for address in (user.email, getattr(getattr(user, "person", None), "email", "")):
        address = (address or "").strip()
        try:
            validate_email(address)
        except ValidationError:
            continue
        return address
    return ""


@dataclass
class OutstandingReturns:
    """An organisation's returns for a period that are not yet submitted (indicator returns,
    and milestone returns in a quarter), and its officers, whom a reminder would reach."""

    organisation: object
    indicators: int
    milestones: int
    officers: list

    @property
    def total(self) -> int:
        return self.indicators + self.milestones

    @property
    def description(self) -> str:
        """How many of which kind, in words: "3 indicator returns and 1 milestone return"."""
        parts = [_returns(n, kind) for n, kind in ((self.indicators, "indicator"), (self.milestones, "milestone")) if n]
        return " and ".join(parts) or "no returns"

    @property
    def recipients(self) -> list[str]:
        """The officers' usable e-mail addresses, each once."""
        seen: dict[str, str] = {}
        for user in self.officers:
            if address := usable_email(user):
                seen.setdefault(address.lower(), address)
        return list(seen.values())


def outstanding_by_organisation(period: ReportingPeriod) -> list[OutstandingReturns]:
    """For a period: each organisation that makes returns for it (indicator assignments of
    active indicators; in a quarter, milestones it owns), how many of its indicator and
    milestone returns are not yet submitted (the rows of My returns not submitted or approved),
    and its active officers (for reminders). In a fixed number of queries."""
    done = set(
        IndicatorReturn.objects.filter(period=period, breakdown__isnull=True, state__in=DONE_STATES)
        .values_list("indicator_id", "locality_id")
    )
    indicators: dict[int, int] = defaultdict(int)
    milestones: dict[int, int] = defaultdict(int)
    organisations = {}
    periods_open = [period]
    for a in IndicatorAssignment.objects.filter(indicator__is_active=True).select_related("organisation", "indicator"):
        if period not in period_for_indicator(a.indicator, periods_open):
            continue
        organisations[a.organisation_id] = a.organisation
        if (a.indicator_id, a.locality_id) not in done:
            indicators[a.organisation_id] += 1
    if period.kind == MILESTONE_PERIOD_KIND:
        milestones_done = set(
            MilestoneReturn.objects.filter(period=period, state__in=DONE_STATES).values_list("milestone_id", flat=True)
        )
        for milestone in milestones_reported(period).select_related("owner"):
            organisations[milestone.owner_id] = milestone.owner
            if milestone.pk not in milestones_done:
                milestones[milestone.owner_id] += 1
    officers = defaultdict(list)
    for user in get_user_model().objects.filter(
        is_active=True, groups__name=GROUP_NAMES[Role.OFFICER], person__organisation_id__in=organisations
    ).select_related("person").order_by("pk"):
        officers[user.person.organisation_id].append(user)
    return [
        OutstandingReturns(organisations[pk], indicators.get(pk, 0), milestones.get(pk, 0), officers.get(pk, []))
        for pk in sorted(organisations)
    ]


def reminders_unreachable() -> list[tuple[ReportingPeriod, list[OutstandingReturns]]]:
    """For the Forum team, each open period's organisations with returns outstanding and no
    officer with a usable e-mail address: the reminder e-mails cannot reach them."""
    result = []
    for period in open_periods():
        entries = [e for e in outstanding_by_organisation(period) if e.total and not e.recipients]
        if entries:
            result.append((period, sorted(entries, key=lambda e: e.organisation.name)))
    return result


@dataclass
class OverdueReturn:
    """A return past its deadline and grace days that has not been submitted."""

    indicator: object
    locality: object
    period: ReportingPeriod
    state: str  # "not started", "draft" or "returned"
    days_overdue: int


def latest_overdue_periods(today=None) -> list[ReportingPeriod]:
    """Of each kind of period, the latest one whose deadline and grace days have passed."""
    today = today or timezone.localdate()
    latest: dict[str, ReportingPeriod] = {}
    for period in ReportingPeriod.objects.filter(deadline__isnull=False, deadline__lt=today).order_by("start"):
        if period.past_grace(today):
            latest[period.kind] = period
    return sorted(latest.values(), key=lambda p: (p.start, p.kind))


def overdue_returns(*, indicators=None, locality=None, today=None) -> list[tuple[object, list[OverdueReturn]]]:
    """Missing returns, as the dashboards list them: only those overdue (the latest period of
    their kind whose deadline and grace days have passed) and not submitted or approved, grouped
    by the organisation that owes them and ordered by indicator name. Returns still in time, or
    already submitted, are not missing."""
    today = today or timezone.localdate()
    periods = latest_overdue_periods(today)
    if not periods:
        return []
    assignments = IndicatorAssignment.objects.select_related("organisation", "indicator", "locality").filter(
        indicator__is_active=True,
    )
    if indicators is not None:
        assignments = assignments.filter(indicator__in=indicators)
    if locality is not None:
        assignments = assignments.filter(locality=locality)
    # each slot's total return, found through its unique (indicator, area, period) index: for one
    # area with the area given (a locality's page), and in no order (the model's ordering would
    # join three tables to sort rows that go into a dict)
    returns = IndicatorReturn.objects.filter(
        period__in=periods, breakdown__isnull=True, indicator__in=assignments.values("indicator_id"),
    )
    if locality is not None:
        returns = returns.filter(locality=locality)
    states = {
        (i, a, p): state
        for i, a, p, state in returns.order_by().values_list("indicator_id", "locality_id", "period_id", "state")
    }
    grouped: dict[object, list[OverdueReturn]] = defaultdict(list)
    for a in assignments:
        for period in period_for_indicator(a.indicator, periods):
            state = states.get((a.indicator_id, a.locality_id, period.pk))
            if state in DONE_STATES:
                continue
            grouped[a.organisation].append(OverdueReturn(
                indicator=a.indicator, locality=a.locality, period=period,
                state={None: "not started", WorkflowState.DRAFT: "draft", WorkflowState.RETURNED: "returned"}[state],
                days_overdue=(today - period.deadline).days,
            ))
    return [
        (organisation, sorted(rows, key=lambda r: (r.indicator.name, r.locality.name, r.period.start)))
        for organisation, rows in sorted(grouped.items(), key=lambda item: item[0].name)
    ]
