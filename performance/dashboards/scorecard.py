"""The scorecard at the top of every board page (the Forum, each Ambition Board, each Locality
Board): one row per indicator, grouped under its KPQs, with its status, latest complete figure,
direction of travel and a short trend; the counts by status; and the few exceptions that matter
first. Built from the ``IndicatorView``s a page has already loaded, so it adds no query.

Only a complete figure is judged (``rules.is_complete``): an indicator whose only figure is
incomplete is not judged (its status is ``rules.INCOMPLETE``), with no direction of travel, and is never an exception."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from performance.catalogue import rules
from performance.dashboards.figures import DIRECTION_WORDS, IndicatorView, MilestoneSummary, fmt
from performance.models import IndicatorRollup

TREND_POINTS = 4  # values in a row's trend text
MAX_EXCEPTIONS = 5
NOT_COMPARABLE = "not comparable"


@dataclass
class ScoreRow:
    """One indicator in the scorecard. ``figure`` is the latest complete figure (the judged one);
    ``newer`` a newer incomplete figure, shown but not judged."""

    view: IndicatorView
    anchor: str
    link: str
    status: str
    direction: str  # improving, worsening, no_change, not_comparable; "" when nothing is judged
    figure: IndicatorRollup | None
    newer: IndicatorRollup | None
    trend: list[str]

    @property
    def indicator(self):
        return self.view.indicator

    @property
    def status_label(self) -> str:
        return rules.status_label(self.status)

    @property
    def status_tag(self) -> str:
        return rules.status_tag(self.status)

    @property
    def judged(self) -> bool:
        return self.figure is not None

    @property
    def direction_text(self) -> str:
        if not self.judged:
            return "Not judged"
        return DIRECTION_WORDS.get(self.direction, NOT_COMPARABLE).capitalize()

    @property
    def trend_text(self) -> str:
        return " → ".join(self.trend)

    @property
    def value_text(self) -> str:
        return display_value(self.view.indicator, self.figure.value) if self.figure else "—"

    @property
    def newer_text(self) -> str:
        return display_value(self.view.indicator, self.newer.value) if self.newer else ""

    @property
    def priority(self) -> int | None:
        """The exceptions' order: red and worsening (0), red (1), amber and worsening (2); ``None``
        for a figure that is not an exception, or not judged."""
        if not self.judged:
            return None
        worsening = self.direction == "worsening"
        if self.status == rules.RED:
            return 0 if worsening else 1
        if self.status == rules.AMBER and worsening:
            return 2
        return None


@dataclass
class ScoreGroup:
    heading: str
    code: str
    link: str
    rows: list[ScoreRow]


@dataclass
class Scorecard:
    caption: str
    groups: list[ScoreGroup]
    counts: list[tuple[str, str, int]]  # (status, label, how many), in STATUS_LABELS order, zeros left out
    exceptions: list[ScoreRow]
    more_exceptions: int = 0
    milestones: dict = field(default_factory=dict)  # {"overdue": n, "slipped": n, "link": "#..."} or {}

    @property
    def counts_text(self) -> str:
        return ", ".join(f"{n} {label[0].lower() + label[1:]}" for _, label, n in self.counts)

    @property
    def milestones_text(self) -> str:
        if not self.milestones:
            return ""
        overdue, slipped = self.milestones["overdue"], self.milestones["slipped"]
        return f"{overdue} milestone{'s' if overdue != 1 else ''} overdue, {slipped} slipped"


def display_value(indicator, value) -> str:
    if value is None:
        return "—"
    return rules.with_unit(fmt(value, indicator.decimal_places), indicator.unit)


def judged_status(view: IndicatorView) -> str:
    """The status the scorecard shows: the latest complete figure's, else "incomplete" when only
    an incomplete figure exists, else "no data"."""
    if view.latest is not None and view.latest.complete:
        return view.latest.status or rules.NO_TARGET
    if view.latest is not None or view.newer_incomplete is not None:
        return rules.INCOMPLETE
    return rules.NO_DATA


def trend_values(view: IndicatorView, points: int = TREND_POINTS) -> list[str]:
    """The last ``points`` complete figures up to the headline, oldest first (an incomplete figure
    is never a point of a trend)."""
    if view.latest is None or not view.latest.complete:
        return []
    rows = [r for r in view.trend if r.complete and r.value is not None and r.period.start <= view.latest.period.start]
    if not rows or rows[-1].pk != view.latest.pk:
        rows.append(view.latest)
    return [display_value(view.indicator, r.value) for r in rows[-points:]]


def score_row(view: IndicatorView, *, anchor: str, link: str) -> ScoreRow:
    status = judged_status(view)
    judged = view.latest is not None and view.latest.complete
    newer = view.newer_incomplete
    if newer is None and view.latest is not None and not view.latest.complete:
        newer = view.latest
    return ScoreRow(
        view=view, anchor=anchor, link=link, status=status,
        direction=view.direction if judged else "",
        figure=view.latest if judged else None, newer=newer, trend=trend_values(view),
    )


def build_scorecard(
    groups: Iterable[tuple[object, list[IndicatorView]]], *, caption: str,
    link: Callable[[object, IndicatorView], str], group_link: Callable[[object], str],
    milestones: Iterable[MilestoneSummary] = (), milestones_link: str = "#milestones",
) -> Scorecard:
    """The scorecard of a page from its KPQs (``None`` for indicators linked to none) and each
    KPQ's views. ``link(kpq, view)``: where the indicator is shown in detail; ``group_link(kpq)``:
    the KPQ's page or section. An indicator under several KPQs has a row in each but is counted,
    and listed among the exceptions, once."""
    built, first_rows = [], {}
    for kpq, views in groups:
        code = kpq.code if kpq is not None else "other"
        heading = f"{kpq.code}: {kpq.text}" if kpq is not None else "Not linked to a Key Performance Question"
        rows = []
        for view in views:
            row = score_row(view, anchor=f"score-{code}-{view.indicator.code}", link=link(kpq, view))
            first_rows.setdefault(view.indicator.pk, row)
            rows.append(row)
        built.append(ScoreGroup(heading=heading, code=code, link=group_link(kpq), rows=rows))
    unique = list(first_rows.values())
    counter = Counter(r.status for r in unique)
    counts = [(status, label, counter[status]) for status, label in rules.STATUS_LABELS.items() if counter[status]]
    exceptions = sorted((r for r in unique if r.priority is not None), key=lambda r: (r.priority, r.indicator.code))
    seen, overdue, slipped = set(), 0, 0
    for summary in milestones:
        if summary is None:
            continue
        for row in summary.rows:
            if row.pk in seen:
                continue
            seen.add(row.pk)
            overdue += bool(row.overdue)
            slipped += bool(row.slipped)
    return Scorecard(
        caption=caption, groups=built, counts=counts, exceptions=exceptions[:MAX_EXCEPTIONS],
        more_exceptions=max(len(exceptions) - MAX_EXCEPTIONS, 0),
        milestones={"overdue": overdue, "slipped": slipped, "link": milestones_link} if seen else {},
    )
