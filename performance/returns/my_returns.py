"""My returns as an officer works through it: the rows of ``selectors.my_returns`` (every return
the officer's organisation owes in the open periods, "not started" ones included) filtered by
period, state, indicator and ambition, sorted, and counted: how many are left to do in all, how
many of them each period still needs, and how many the filters show.

The rows are built in Python (a return that is not started has no row in the database), so the
filters apply to them after the one fixed set of queries: two more here, for the ambitions the
indicators answer and the delivery plans' ambitions the milestones serve."""
from __future__ import annotations

from dataclasses import dataclass, field

from django import forms

from ambitions.models import Ambition, DeliveryPlanAmbition
from performance.models import Indicator, Milestone, WorkflowState
from performance.returns.selectors import PeriodReturns, ReturnRow, my_returns

NOT_STARTED = "not_started"
LEFT = "left"  # every state but submitted and approved: what the officer still has to do
MILESTONES = "milestones"  # the indicator filter's choice for milestone returns only

STATE_CHOICES = [
    ("", "Any state"),
    (LEFT, "Still to do (not started, draft or sent back)"),
    (NOT_STARTED, "Not started"),
    (WorkflowState.DRAFT, WorkflowState.DRAFT.label),
    (WorkflowState.RETURNED, "Sent back"),
    (WorkflowState.SUBMITTED, WorkflowState.SUBMITTED.label),
    (WorkflowState.APPROVED, WorkflowState.APPROVED.label),
]
# "What needs doing first": sent back, then not started, draft, and what is done.
STATE_ORDER = {WorkflowState.RETURNED: 0, NOT_STARTED: 1, WorkflowState.DRAFT: 2, WorkflowState.SUBMITTED: 3,
               WorkflowState.APPROVED: 4}
SORTS = {
    "code": ("Code", lambda row: (row.kind != "indicator", row.code, row.title.casefold(), row.area.casefold())),
    "title": ("Name (A to Z)", lambda row: (row.title.casefold(), row.area.casefold())),
    "area": ("Area or plan (A to Z)", lambda row: (row.area.casefold(), row.title.casefold())),
    "state": ("What needs doing first", lambda row: (STATE_ORDER[row.state], row.code, row.title.casefold(), row.area.casefold())),
}
DEFAULT_SORT = "code"


class MyReturnsFilterForm(forms.Form):
    """The page's filters and sort (a GET form, so a filtered list can be bookmarked). The
    choices are the officer's own: the open periods and indicators they have returns in."""

    period = forms.TypedChoiceField(label="Period", required=False, coerce=int, empty_value=None)
    state = forms.ChoiceField(label="State", required=False, choices=STATE_CHOICES)
    indicator = forms.ChoiceField(label="Indicator", required=False)
    ambition = forms.TypedChoiceField(label="Ambition", required=False, coerce=int, empty_value=None)
    sort = forms.ChoiceField(label="Sort by", required=False, choices=[(key, label) for key, (label, _) in SORTS.items()])

    def __init__(self, data, *, blocks: list[PeriodReturns], ambitions):
        super().__init__(data)
        self.fields["period"].choices = [("", "Any period")] + [(b.period.pk, b.period.label) for b in blocks]
        indicators = sorted({(r.code, r.title) for b in blocks for r in b.rows if r.kind == "indicator"})
        self.fields["indicator"].choices = (
            [("", "Any return")] + [(code, f"{code}: {title}") for code, title in indicators]
            + ([(MILESTONES, "Milestones")] if any(r.kind == "milestone" for b in blocks for r in b.rows) else [])
        )
        self.fields["ambition"].choices = [("", "Any ambition")] + [(a.number, str(a)) for a in ambitions]


@dataclass
class ShownPeriod:
    """One open period as the page shows it: all its rows' counts, and the rows the filters
    leave, sorted."""

    block: PeriodReturns
    rows: list[ReturnRow]

    @property
    def period(self):
        return self.block.period

    @property
    def left(self) -> int:
        return self.block.total - self.block.done


@dataclass
class MyReturnsPage:
    form: MyReturnsFilterForm
    periods: list[ShownPeriod]
    total: int
    left: int
    shown: int
    errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def sort_label(self) -> str:
        choice = self.form.cleaned_data.get("sort") if self.form.is_valid() else None
        return SORTS[choice or DEFAULT_SORT][0]

    @property
    def filtered(self) -> bool:
        return self.shown != self.total


def row_ambitions(blocks: list[PeriodReturns]) -> dict[tuple[str, int], set[int]]:
    """The ambition numbers of each row's indicator or milestone, keyed ("indicator", id) or
    ("milestone", id): two queries, whatever the number of rows."""
    indicator_ids = {r.indicator_id for b in blocks for r in b.rows if r.kind == "indicator"}
    milestone_ids = {r.milestone_id for b in blocks for r in b.rows if r.kind == "milestone"}
    found: dict[tuple[str, int], set[int]] = {}
    for indicator_id, number in Indicator.ambitions.through.objects.filter(indicator_id__in=indicator_ids).values_list(
        "indicator_id", "ambition__number"
    ):
        found.setdefault(("indicator", indicator_id), set()).add(number)
    plans = dict(Milestone.objects.filter(pk__in=milestone_ids).values_list("pk", "delivery_plan_id"))
    plan_ambitions: dict[int, set[int]] = {}
    for plan_id, number in DeliveryPlanAmbition.objects.filter(plan_id__in=set(plans.values())).values_list(
        "plan_id", "ambition__number"
    ):
        plan_ambitions.setdefault(plan_id, set()).add(number)
    for milestone_id, plan_id in plans.items():
        found[("milestone", milestone_id)] = plan_ambitions.get(plan_id, set())
    return found


def row_matches(row: ReturnRow, choice: dict, ambitions: dict[tuple[str, int], set[int]]) -> bool:
    state, indicator, ambition = choice.get("state"), choice.get("indicator"), choice.get("ambition")
    if state == LEFT and row.done:
        return False
    if state and state != LEFT and row.state != state:
        return False
    if indicator == MILESTONES and row.kind != "milestone":
        return False
    if indicator and indicator != MILESTONES and (row.kind != "indicator" or row.code != indicator):
        return False
    if ambition is not None:
        key = ("indicator", row.indicator_id) if row.kind == "indicator" else ("milestone", row.milestone_id)
        if ambition not in ambitions.get(key, set()):
            return False
    return True


def my_returns_page(user, params) -> MyReturnsPage:
    """The officer's returns (``selectors.my_returns``) under the filters and sort in ``params``;
    a filter that is not one of its choices is an error (and nothing is filtered)."""
    blocks = my_returns(user)
    form = MyReturnsFilterForm(params, blocks=blocks, ambitions=Ambition.objects.order_by("number"))
    valid = form.is_valid()
    choice = form.cleaned_data if valid else {}
    errors = [] if valid else [(f"id_{name}", f"{form.fields[name].label}: {' '.join(errs)}") for name, errs in form.errors.items()]
    ambitions = row_ambitions(blocks) if choice.get("ambition") is not None else {}
    sort_key = SORTS[choice.get("sort") or DEFAULT_SORT][1]
    shown = [
        ShownPeriod(block=b, rows=sorted((r for r in b.rows if row_matches(r, choice, ambitions)), key=sort_key))
        for b in blocks
        if choice.get("period") in (None, b.period.pk)
    ]
    total = sum(b.total for b in blocks)
    return MyReturnsPage(
        form=form, periods=[p for p in shown if p.rows], total=total, left=total - sum(b.done for b in blocks),
        shown=sum(len(p.rows) for p in shown), errors=errors,
    )
