"""Reads of the approval queue page: the returns an approver may decide (or has decided),
filtered by ``filtersets.ApprovalQueueFilterSet``, each indicator return with its value in its
unit, its status against target, the change on the same area's previous approved value and its
flags; sorted by the period's deadline (soonest first), organisation and indicator. A page costs
a fixed number of queries, however many rows it has: the previous value is a subquery of the
one query of the rows, and the targets are read in one more.

(``selectors.approval_queue``, the notifications' digest, keeps its own meaning: every submitted
return grouped by organisation.)"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import F, OuterRef, Subquery

from performance.catalogue import rules
from performance.catalogue.services import choose_target
from performance.models import IndicatorReturn, IndicatorTarget, MilestoneReturn, WorkflowState
from performance.returns.filtersets import FLAG_OFF_TARGET, QUEUE_STATES, ApprovalQueueFilterSet
from performance.templatetags.figures import figure

ROWS_PER_PAGE = 100
# A change in a percentage is in percentage points.
CHANGE_UNITS = {"percentage": "percentage_points"}


def selection_key(ret) -> str:
    """What a queue checkbox sends for a return: its kind, id and the version shown
    ("indicator-12-3"), so that the approval refuses a return changed since."""
    return f"{return_kind(ret)}-{ret.pk}-{ret.version}"


def return_kind(ret) -> str:
    return "indicator" if isinstance(ret, IndicatorReturn) else "milestone"


def parse_selection(values) -> list[tuple[str, int, int]]:
    """The (kind, id, version) of each well-formed selection key, each return once; anything
    else is ignored."""
    chosen: dict[tuple[str, int], int] = {}
    for value in values:
        kind, _, rest = str(value).partition("-")
        pk, _, version = rest.partition("-")
        if kind in ("indicator", "milestone") and pk.isdigit() and version.isdigit():
            chosen.setdefault((kind, int(pk)), int(version))
    return [(kind, pk, version) for (kind, pk), version in chosen.items()]


def with_unit(value: Decimal | None, indicator) -> str:
    """A figure as people read it, in its indicator's places and unit ("£17,620", "35.2%")."""
    if value is None:
        return figure(None)
    return rules.with_unit(figure(value, indicator.decimal_places), indicator.unit)


@dataclass
class QueueRow:
    """One indicator return as the queue shows it."""

    ret: IndicatorReturn
    target: IndicatorTarget | None
    status: str
    previous_value: Decimal | None
    previous_period: str | None

    @property
    def key(self) -> str:
        return selection_key(self.ret)

    @property
    def pick(self) -> str:
        return f"indicator-{self.ret.pk}"

    @property
    def row_id(self) -> str:
        return f"return-{self.pick}"

    @property
    def value_text(self) -> str:
        return with_unit(self.ret.value, self.ret.indicator)

    @property
    def change_text(self) -> str:
        """The change on the previous approved value, signed, in the indicator's unit (a
        percentage's in points); empty where there is nothing to compare."""
        if self.ret.value is None or self.previous_value is None:
            return ""
        change = self.ret.value - self.previous_value
        sign = "+" if change > 0 else ("−" if change < 0 else "")
        unit = CHANGE_UNITS.get(self.ret.indicator.unit, self.ret.indicator.unit)
        return sign + rules.with_unit(figure(abs(change), self.ret.indicator.decimal_places), unit)

    @property
    def previous_text(self) -> str:
        return "" if self.previous_value is None else with_unit(self.previous_value, self.ret.indicator)

    @property
    def off_target(self) -> bool:
        return rules.is_off_target(self.status)


@dataclass
class MilestoneRow:
    """One milestone return as the queue shows it."""

    ret: MilestoneReturn

    @property
    def key(self) -> str:
        return selection_key(self.ret)

    @property
    def pick(self) -> str:
        return f"milestone-{self.ret.pk}"

    @property
    def row_id(self) -> str:
        return f"return-{self.pick}"


@dataclass
class ApprovalQueuePage:
    """The queue page: its filters (with the form), one page of indicator rows, the milestone
    returns, and the selection carried over (keys of the form "indicator-12")."""

    filterset: ApprovalQueueFilterSet
    rows: list[QueueRow]
    page: Page | None
    milestones: list = field(default_factory=list)
    selected: set[str] = field(default_factory=set)

    @property
    def state(self) -> str:
        data = self.filterset.form.cleaned_data if self.filterset.is_valid() else {}
        return data.get("state") or WorkflowState.SUBMITTED

    @property
    def decidable(self) -> bool:
        """Whether the rows may be selected for approval (they are waiting for it)."""
        return self.state == WorkflowState.SUBMITTED


def _previous(field_name: str):
    return Subquery(
        IndicatorReturn.objects.filter(
            indicator=OuterRef("indicator"), locality=OuterRef("locality"), breakdown__isnull=True,
            state=WorkflowState.APPROVED, period__kind=OuterRef("period__kind"),
            period__start__lt=OuterRef("period__start"),
        ).order_by("-period__start").values(field_name)[:1]
    )


def queue_returns(user, state: str = WorkflowState.SUBMITTED):
    """The total indicator returns of the queue in ``state``: those waiting for approval are the
    ones ``user`` may decide (``restrict(user, "decide")``); the returned and approved ones, for
    reference, those whose workings ``user`` sees. With the previous approved value of the same
    area (and period kind), in the queue's order."""
    action = "decide" if state == WorkflowState.SUBMITTED else "workings"
    return (
        IndicatorReturn.objects.restrict(user, action).filter(breakdown__isnull=True, state=state)
        .select_related("organisation", "indicator", "locality", "period", "submitted_by")
        .annotate(previous_value=_previous("value"), previous_period=_previous("period__label"))
        .order_by(F("period__deadline").asc(nulls_last=True), "organisation__name", "indicator__code", "locality__name", "pk")
    )


def _state(params) -> str:
    state = params.get("state") if params is not None else None
    return state if state in dict(QUEUE_STATES) else WorkflowState.SUBMITTED


def _rows(returns: list[IndicatorReturn]) -> list[QueueRow]:
    targets: dict[tuple[int, int], list[IndicatorTarget]] = defaultdict(list)
    if returns:
        for target in IndicatorTarget.objects.filter(
            indicator_id__in={r.indicator_id for r in returns}, period_id__in={r.period_id for r in returns},
        ):
            targets[(target.indicator_id, target.period_id)].append(target)
    rows = []
    for ret in returns:
        target = choose_target(ret.indicator, ret.locality, targets.get((ret.indicator_id, ret.period_id), []))
        status = rules.rag_status(
            value=ret.value, target=target.target if target else None,
            tolerance_percent=target.tolerance_percent if target else None, polarity=ret.indicator.polarity,
        )
        rows.append(QueueRow(ret, target, status, ret.previous_value, ret.previous_period))
    return rows


def approval_queue_page(user, params, *, page_number=1) -> ApprovalQueuePage:
    """The queue page for ``user`` under the GET ``params``: the filters, the rows of page
    ``page_number`` (off target judged on each row by ``rules.is_off_target``), the milestone
    returns, and the returns ``params`` names as selected (``selected``, without versions)."""
    state = _state(params)
    filterset = ApprovalQueueFilterSet(params, queryset=queue_returns(user, state))
    selected = {key.rsplit("-", 1)[0] for key in params.getlist("selected")} if hasattr(params, "getlist") else set()
    if not filterset.is_valid():
        return ApprovalQueuePage(filterset=filterset, rows=[], page=None, selected=selected)
    if FLAG_OFF_TARGET in (filterset.form.cleaned_data.get("flags") or []):
        # Judged in Python, so every row of the filter is judged before the page is cut.
        page = Paginator([row for row in _rows(list(filterset.qs)) if row.off_target], ROWS_PER_PAGE).get_page(page_number)
        rows = list(page)
    else:  # the page is cut in the database: the previous values and targets of its rows only
        page = Paginator(filterset.qs, ROWS_PER_PAGE).get_page(page_number)
        rows = _rows(list(page.object_list))
    milestones = filterset.milestones(
        MilestoneReturn.objects.restrict(user, "decide" if state == WorkflowState.SUBMITTED else "workings")
        .select_related("organisation", "milestone", "period", "submitted_by")
        .order_by(F("period__deadline").asc(nulls_last=True), "organisation__name", "milestone__title", "pk")
    )
    return ApprovalQueuePage(filterset=filterset, rows=rows, page=page, milestones=[MilestoneRow(m) for m in milestones], selected=selected)


def selected_returns(user, selection: list[tuple[str, int, int]]):
    """The returns a selection names, as ``(ret, version chosen)`` in the queue's order, read
    from what ``user`` sees the workings of; and the selection keys not found there (another's
    draft, or no such return), which the caller refuses."""
    ids = {"indicator": [pk for kind, pk, _ in selection if kind == "indicator"],
           "milestone": [pk for kind, pk, _ in selection if kind == "milestone"]}
    found = {
        ("indicator", r.pk): r for r in IndicatorReturn.objects.restrict(user, "workings")
        .select_related("organisation", "indicator", "locality", "period").filter(pk__in=ids["indicator"], breakdown__isnull=True)
    }
    found.update({
        ("milestone", r.pk): r for r in MilestoneReturn.objects.restrict(user, "workings")
        .select_related("organisation", "milestone", "period").filter(pk__in=ids["milestone"])
    })
    missing = [f"{kind}-{pk}" for kind, pk, _ in selection if (kind, pk) not in found]
    chosen = [ChosenReturn(found[(kind, pk)], version) for kind, pk, version in selection if (kind, pk) in found]
    chosen.sort(key=lambda c: (
        c.ret.period.deadline is None, c.ret.period.deadline or c.ret.period.start,
        c.ret.organisation.name, return_kind(c.ret), str(c.ret),
    ))
    return chosen, missing


@dataclass
class ChosenReturn:
    """A return chosen for approval, at the version the approver saw (which may no longer be
    its version), as the confirmation page lists it."""

    ret: IndicatorReturn | MilestoneReturn
    version: int
    error: str = ""

    @property
    def key(self) -> str:
        return f"{return_kind(self.ret)}-{self.ret.pk}-{self.version}"

    @property
    def pick(self) -> str:
        return f"{return_kind(self.ret)}-{self.ret.pk}"

    @property
    def row_id(self) -> str:
        return f"return-{self.pick}"

    @property
    def is_indicator(self) -> bool:
        return isinstance(self.ret, IndicatorReturn)

    @property
    def title(self) -> str:
        return self.ret.indicator.name if self.is_indicator else self.ret.milestone.title

    @property
    def area(self) -> str:
        return self.ret.locality.name if self.is_indicator else "Milestone"

    @property
    def value_text(self) -> str:
        if not self.is_indicator:
            return f"{self.ret.get_status_display()}, {self.ret.percent_complete}% complete"
        return with_unit(self.ret.value, self.ret.indicator)
