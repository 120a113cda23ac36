"""Every table a dashboard page shows, as data to download (CSV, one table; Excel, all of them).

Pure functions from a page's context, the very dict the page renders (``pages.forum_dashboard``,
``ambition_dashboard``, ``locality_dashboard``, ``kpq_page``, ``indicator.indicator_page``), to
its tables in the order the page shows them: each with a slug (its address, stable), its title
(the table's caption, word for word), its columns and its rows of raw values (Decimal, int, str,
date, None: full precision, not the page's "5,177.0"). Nothing is judged here: statuses, their
words, directions, trends and counts are the context objects' own (``rules.status_label``, a
scorecard row's ``status_label`` and ``direction_text``, a summary's ``counts`` ...). Cells are
neutralised against formulas where they are written (``downloads``), not here.

The slugs are the ones the templates link to (``templates/dashboards``: "Download ... as CSV");
``tests/performance/test_table_downloads.py`` renders each page and checks that its tables and
these are the same, caption for caption and row for row, and that every link works."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.text import slugify

from performance.catalogue import rules

YES, NO = "yes", "no"


@dataclass(frozen=True)
class Column:
    """A column: its heading and, for a column of numbers, the decimal places to show them with
    (``None``: a text column, or numbers shown as they are)."""

    name: str
    places: int | None = None


@dataclass
class Table:
    """One table of a page, as downloaded."""

    slug: str
    title: str  # the caption the page shows
    columns: list[Column]
    rows: list[list]
    section: str = ""  # where on the page, when the caption alone does not say (an ambition, a priority)
    note: str = ""  # what must travel with the figures (a map's attribution)
    row_places: list[int | None] = field(default_factory=list)  # each row's decimal places, where they differ by row

    @property
    def header(self) -> list[str]:
        return [column.name for column in self.columns]

    def places(self, row: int, column: int) -> int | None:
        """The decimal places of one cell: its column's, else its row's (an indicator's own)."""
        if self.columns[column].places is not None:
            return self.columns[column].places
        return self.row_places[row] if row < len(self.row_places) else None


# --- Slugs: the addresses the templates link to ------------------------------------------------

def trend_slug(prefix: str, code: str) -> str:
    """An indicator's trend table (``_trend.html``, whose ``prefix`` is the KPQ on an Ambition
    Board's page, "page" on the indicator's own page, none on a KPQ's page)."""
    return f"trend-{slugify(prefix)}-{slugify(code)}" if prefix else f"trend-{slugify(code)}"


def districts_slug(where: object, code: str) -> str:
    """A Locality Board's card of the districts (``where``: the priority's id, or "other")."""
    return f"districts-{where}-{slugify(code)}"


def breakdown_slug(dimension: str) -> str:
    return f"breakdown-{slugify(dimension)}"


def _yes(flag) -> str:
    return YES if flag else NO


# --- The tables every kind of page shares ----------------------------------------------------

def scorecard_table(scorecard) -> Table:
    """The scorecard (``_scorecard.html``): one row per indicator under each KPQ, as shown."""
    rows, places = [], []
    for group in scorecard.groups:
        for row in group.rows:
            ind, figure, newer = row.indicator, row.figure, row.newer
            rows.append([
                group.heading, ind.code, ind.name, ind.get_unit_display(), row.status_label,
                figure.value if figure else None, figure.period.label if figure else None,
                figure.coverage_display if figure else None, ", ".join(figure.flags) if figure else None,
                row.direction_text, row.trend_text or None,
                newer.value if newer else None, newer.period.label if newer else None,
                newer.coverage_display if newer else None,
            ])
            places.append(ind.decimal_places)
    columns = [Column("Key Performance Question"), Column("Indicator code"), Column("Indicator"), Column("Unit"),
               Column("Status"), Column("Latest complete figure"), Column("Period"), Column("Coverage"),
               Column("Data quality"), Column("Direction of travel"),
               Column("Trend (up to four complete figures, oldest first, as shown)"),
               Column("Newer, incomplete figure (not judged)"), Column("Newer period"), Column("Newer coverage")]
    return Table(slug="scorecard", title=scorecard.caption, columns=columns, rows=rows, row_places=places)


def trend_table(view, *, prefix: str = "", section: str = "") -> Table | None:
    """An indicator's Kent figures by period (``_trend.html``), or None where the page shows none."""
    if view.latest is None and view.newer_incomplete is None:
        return None
    ind = view.indicator
    places = ind.decimal_places
    return Table(
        slug=trend_slug(prefix, ind.code), title=f"{ind.name}, Kent", section=section,
        columns=[Column("Period"), Column("Value", places), Column("Target", places), Column("Coverage"),
                 Column("Complete (judged)")],
        rows=[[p["period"], p["value"], p["target"], p["coverage"], _yes(p["complete"])] for p in view.trend_points()],
    )


def milestones_status_table(summary, *, slug: str = "milestones-by-status", section: str = "") -> Table | None:
    """Milestones by status (``_milestones.html``), with the overdue and slipped."""
    if not summary:
        return None
    title = "Milestones by status" + (f", end of {summary.period.label}" if summary.period else "")
    rows = [[label, count] for label, count in summary.counts]
    rows += [["Overdue", len(summary.overdue)], ["Slipped", len(summary.slipped)]]
    return Table(slug=slug, title=title, columns=[Column("Status"), Column("Milestones")], rows=rows, section=section)


def map_table(*, title: str, rows: list[dict], places: int | None, counts: bool, attribution: str) -> Table:
    """The figures beside a map of the districts: the Forum's share on target, or an indicator's."""
    columns = [Column("District"), Column("GSS code")]
    if counts:
        judged = (rules.GREEN, rules.AMBER, rules.RED)
        columns += [Column("Share on target (%)", 0), Column("Judged")]
        columns += [Column(rules.status_label(status)) for status in judged]
        data = [[a["name"], a["gss_code"], a["value"], a["judged"], *(a[s] for s in judged), a["class"]] for a in rows]
    else:
        columns += [Column("Value", places)]
        data = [[a["name"], a["gss_code"], a["value"], a["class"]] for a in rows]
    return Table(slug="map", title=title, columns=[*columns, Column("Colour")], rows=data, note=attribution)


# --- Each page ---------------------------------------------------------------------------------

def forum_tables(context: dict) -> list[Table]:
    """The Kent Forum's page: the scorecard, the map's figures, and each ambition's counts."""
    tables = [scorecard_table(context["scorecard"])]
    if context.get("district_map"):
        tables.append(map_table(title="The map's figures", rows=context["map_rows"], places=0, counts=True,
                                attribution=context["map_attribution"]))
    for column in context["columns"]:
        ambition = column["ambition"]
        section = f"Ambition {ambition.number}: {ambition.title}"
        tables.append(Table(
            slug=f"ambition-{ambition.number}-indicators-by-status", title="Indicators by status", section=section,
            columns=[Column("Status"), Column("Indicators")], rows=[[label, n] for label, n in column["status_counts"]],
        ))
        milestones = milestones_status_table(column["milestones"], slug=f"ambition-{ambition.number}-milestones-by-status",
                                             section=section)
        if milestones:
            tables.append(milestones)
    return tables


def against_england_table(context: dict) -> Table | None:
    """A board's indicators against England (an Ambition Board's Kent, a Locality Board's
    district: ``area_name``), as the page's table shows them."""
    rows, name = context.get("against_england"), context.get("area_name")
    if not rows:
        return None
    return Table(
        slug="against-england", title=context["against_england_title"],
        columns=[Column("Indicator"), Column(name), Column(f"{name}: period"), Column(f"{name}: coverage"),
                 Column("England"), Column("England: 95% interval, lower"), Column("England: 95% interval, upper"),
                 Column("England: period"), Column("England: released"), Column("England: quality"), Column(f"{name} is")],
        rows=[[e["view"].indicator.name, e["own"].value if e["own"] else None, e["own"].period.label if e["own"] else None,
               e["own"].coverage_display if e["own"] else None, e["comparison"].figure.value,
               e["comparison"].figure.ci_lower, e["comparison"].figure.ci_upper, e["comparison"].figure.period.label,
               e["comparison"].figure.source_released, e["comparison"].figure.get_quality_display(), e["comparison"].words]
              for e in rows],
        row_places=[e["view"].indicator.decimal_places for e in rows],
    )


def ambition_tables(context: dict) -> list[Table]:
    """An Ambition Board's page: the scorecard, Kent against England, each KPQ's indicators'
    trends, the milestones."""
    tables = [scorecard_table(context["scorecard"])]
    if against := against_england_table(context):
        tables.append(against)
    for item in context["kpqs"]:
        kpq = item["kpq"]
        tables += [t for t in (trend_table(v, prefix=kpq.code, section=f"{kpq.code}: {kpq.text}") for v in item["views"]) if t]
    summary = context["milestones"]
    if status := milestones_status_table(summary):
        tables.append(status)
    if summary and summary.by_plan:
        tables.append(Table(
            slug="milestones-by-plan", title="Milestones by plan",
            columns=[Column("Plan or priority area"), Column("Milestones"), Column("Complete"),
                     Column("At risk or off track"), Column("Overdue"), Column("Slipped")],
            rows=[[p["name"], p["total"], p["complete"], p["at_risk"], p["overdue"], p["slipped"]] for p in summary.by_plan],
        ))
    if summary and summary.rows:
        tables.append(Table(
            slug="milestone-positions", title="Each milestone's position",
            columns=[Column("Milestone"), Column("Plan"), Column("Due"), Column("Revised date (slipped)"), Column("Status"),
                     Column("Overdue"), Column("Complete (%)")],
            rows=[[r.milestone.title, str(r.milestone.delivery_plan or r.milestone.priority_area), r.milestone.due_date,
                   r.revised_date if r.slipped else None, r.get_status_display(), _yes(r.overdue), r.percent_complete]
                  for r in summary.rows],
        ))
    return tables


def district_card_table(card, *, where: object, section: str) -> Table | None:
    """A Locality Board's card (``_ranked.html``): the districts and Kent in the card's period,
    where the page shows them (only where districts may be compared)."""
    if not card.chart:
        return None
    ind = card.view.indicator
    places = ind.decimal_places
    return Table(
        slug=districts_slug(where, ind.code), title=f"{ind.name}, {card.own.period.label}", section=section,
        columns=[Column("Area"), Column("Value", places), Column("95% interval, lower", places),
                 Column("95% interval, upper", places), Column("This district")],
        rows=[[r["area"], r["value"], r["lower"], r["upper"], YES if r["highlight"] else ""] for r in card.rows],
    )


def locality_tables(context: dict) -> list[Table]:
    """A Locality Board's page: the scorecard, the district against England, then each card of the
    districts, priorities first."""
    tables = [scorecard_table(context["scorecard"])]
    if against := against_england_table(context):
        tables.append(against)
    for item in context["priorities"]:
        priority = item["priority"]
        tables += [t for t in (district_card_table(c, where=priority.pk, section=f"Local priority: {priority.title}")
                               for c in item["cards"]) if t]
    tables += [t for t in (district_card_table(c, where="other", section="Other indicators") for c in context["others"]) if t]
    return tables


def kpq_tables(context: dict) -> list[Table]:
    """A KPQ's page: the board members' judgements and each indicator's trend."""
    tables = []
    if context["judgements"]:
        tables.append(Table(
            slug="judgements", title="Judgements, newest first, with their history",
            columns=[Column("When"), Column("Period"), Column("Who"), Column("Judgement"), Column("Derived then"),
                     Column("Rationale")],
            rows=[[j.at, j.period.label, j.author.get_full_name() or j.author.username, j.get_answer_display(),
                   j.get_derived_answer_display(), j.rationale] for j in context["judgements"]],
        ))
    return tables + [t for t in (trend_table(v) for v in context["views"]) if t]


def indicator_tables(context: dict) -> list[Table]:
    """An indicator's own page: Kent over time, the districts by period, the map's figures, the
    breakdowns and the targets."""
    ind = context["indicator"]
    places = ind.decimal_places
    tables = [t for t in (trend_table(context["view"], prefix="page"),) if t]
    if context["focus"]:
        columns = [Column("District")]
        for p in context["periods"]:
            columns += [Column(p.label, places), Column(f"{p.label}: status"), Column(f"{p.label}: data quality")]
        rows = []
        for row in context["table"]:
            cells = [row.locality.name]
            for c in row.cells:
                shown = c is not None and c.value is not None
                cells += [c.value if shown else None, rules.status_label(c.status) if shown else None,
                          ", ".join(c.flags) if shown and c.flags else None]
            rows.append(cells)
        tables.append(Table(
            slug="districts-by-period", columns=columns, rows=rows,
            title=f"{ind.name} by district and period" + (" (%)" if ind.unit == "percentage" else ""),
        ))
    if context["district_map"]:
        tables.append(map_table(title="The map's figures", rows=context["map_rows"], places=places, counts=False,
                                attribution=context["map_attribution"]))
    for group in context["breakdowns"]:
        tables.append(Table(
            slug=breakdown_slug(group.dimension), title=f"Kent by {group.dimension.lower()}",
            columns=[Column(group.dimension), Column("Value", places), Column("Coverage"), Column("Complete (judged)")],
            rows=[[r.category, r.value, r.coverage_display, _yes(r.complete)] for r in group.rows],
        ))
    if context["targets"]:
        tables.append(Table(
            slug="targets", title="Targets, newest period first",
            columns=[Column("Period"), Column("Area"), Column("Target", places), Column("Tolerance (%)")],
            rows=[[t.period.label, t.locality.name if t.locality else "Kent (all areas)", t.target, t.tolerance_percent]
                  for t in context["targets"]],
        ))
    return tables + comparator_tables(context)


def _comparator_cells(figure) -> list:
    if figure is None:
        return [None, None, None, None, None, None, None]
    return [figure.value, figure.ci_lower, figure.ci_upper, figure.period.label, figure.source, figure.source_released,
            figure.get_quality_display()]


COMPARATOR_COLUMNS = ["Value", "95% interval, lower", "95% interval, upper", "Period", "Source", "Released", "Quality"]


def comparator_tables(context: dict) -> list[Table]:
    """An indicator's page against the comparator areas (``_comparators.html``): Kent against
    England and the South East, each district against England, and Kent and each group."""
    if not context.get("any_comparator_figures"):
        return []
    places = context["indicator"].decimal_places
    numbers = {"Value", "95% interval, lower", "95% interval, upper"}
    columns = [Column("Area")] + [Column(name, places if name in numbers else None) for name in COMPARATOR_COLUMNS] + [
        Column("Kent is")]
    kent = context["view"].latest or context["view"].newer_incomplete
    kent_row = ["Kent", *([kent.value, kent.ci_lower, kent.ci_upper, kent.period.label,
                           f"Approved returns, {kent.coverage_display}" + ("" if kent.complete else " (incomplete)"),
                           None, ", ".join(kent.flags) or "Final"] if kent else [None] * 7), None]
    tables = [Table(slug="comparators", title="Kent against England and the South East", columns=columns,
                    rows=[kent_row] + [[c.area, *_comparator_cells(c.figure), c.words] for c in context["comparisons"]])]
    if context["district_comparisons"]:
        tables.append(Table(
            slug="districts-against-england", title=f"Each district against England, {context['focus'].label}",
            columns=[Column("District"), Column("Value", places), Column("95% interval, lower", places),
                     Column("95% interval, upper", places), Column("Against England")],
            rows=[[d["row"].locality.name, d["row"].value, d["row"].ci_lower, d["row"].ci_upper, d["comparison"].words]
                  for d in context["district_comparisons"]],
        ))
    for ranking in context["rankings"]:
        tables.append(Table(
            slug=f"group-{ranking.group.slug}", title=f"Kent and {ranking.group.name}", columns=columns,
            rows=[[row["area"], *_comparator_cells(row["figure"]), row["comparison"].words] for row in ranking.rows],
        ))
    return tables
