"""The demo set: illustrative indicators with targets, eight quarters of district returns
(some missing, late, off target or returned), milestones, action and forward plans, local
priorities, studies and one user per role.

Deterministic: every figure comes from a random generator seeded by the row's natural key, so
two loads produce the same rows, and a second load changes nothing. The one exception is the
deadline of the open quarter, which is set a few weeks after the day the demo is first loaded so
that officers have a live deadline to work to. Everything is written through the same services
the portal uses, so the returns carry real workflow states and versions.
"""
from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ambitions.models import KPQ, ActionPlan, Ambition, DeliveryPlan, ForwardPlanItem, PriorityArea
from localities.models import Locality, LocalPriority
from partnerships.models import Board, BoardMembership, Organisation
from partnerships.services import person_user_ensure
from performance.catalogue import periods, rules, services
from performance.comparators import services as comparator_services
from performance.models import (
    BreakdownDimension,
    DataQuality,
    Indicator,
    IndicatorAssignment,
    IndicatorReturn,
    IndicatorRollup,
    IndicatorTarget,
    Milestone,
    MilestoneReturn,
    ReportingPeriod,
    Study,
)
from performance.returns import validation, workflow
from performance.rollups import engine, queue

from .base import LoadReport, Upserter, read_yaml

FIRST_YEAR = 2011  # the demo's quarters: 2011/12 Q1 to 2012/13 Q4
YEARS = 2
OPEN_DEADLINE_DAYS_AHEAD = 21
PARTNER_SECTORS = {"police", "fire", "health", "probation"}
# Each primary care trust returns its own districts' health figures.
PCT_DISTRICTS = {
    "NHS West Kent": {"Dartford", "Gravesham", "Maidstone", "Sevenoaks", "Tonbridge and Malling", "Tunbridge Wells"},
    "NHS Eastern and Coastal Kent": {"Ashford", "Canterbury", "Dover", "Shepway", "Swale", "Thanet"},
}
# How a count splits across a breakdown's categories, roughly as published: about one road
# casualty killed or seriously injured in ten is killed; an unknown age is rare; most claimants
# are men. Each district and period varies around these shares.
BREAKDOWN_SHARES = {
    "severity": {"fatal": 0.1, "serious": 0.9},
    "age_band": {"under-16": 0.09, "16-24": 0.24, "25-39": 0.25, "40-64": 0.3, "over-65": 0.11, "unknown": 0.01},
    "working_age_band": {"16-24": 0.3, "25-49": 0.5, "50-64": 0.2},
    "sex": {"male": 0.66, "female": 0.34},
}
RETURN_REASONS = [
    "The figure is well below last quarter's. Please check it against the source system and add a comment.",
    "The commentary does not explain why the value is off target. Please add the reasons and the recovery plan.",
    "The denominator looks like last year's population estimate. Please use the mid-year estimate for this year.",
]


def _rng(*key) -> random.Random:
    return random.Random(":".join(str(k) for k in key))


def _decimal(value: float, places: int) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@dataclass
class DemoResult:
    report: LoadReport
    passwords: dict[str, str] = field(default_factory=dict)


class DemoLoader:
    def __init__(self, data_dir: Path, *, reset_passwords: bool, today: date) -> None:
        self.data_dir = Path(data_dir)
        self.up = Upserter()
        self.reset_passwords = reset_passwords
        self.today = today
        self.passwords: dict[str, str] = {}
        self.kpqs = {kpq.code: kpq for kpq in KPQ.objects.select_related("ambition")}
        self.ambitions = {a.number: a for a in Ambition.objects.all()}
        self.organisations = {o.name: o for o in Organisation.objects.all()}
        self.county = Locality.objects.get(kind=Locality.Kind.COUNTY)
        self.districts = list(Locality.objects.filter(kind=Locality.Kind.DISTRICT).order_by("name"))
        self.councils = {o.locality_id: o for o in Organisation.objects.filter(tier="district")}
        self.kcc = Organisation.objects.get(tier="county")
        if not self.kpqs or not self.districts:
            raise RuntimeError("Load the Kent framework first: manage.py load_kent_framework")

    # --- periods --------------------------------------------------------------------------
    def load_periods(self) -> None:
        self.quarters: list[ReportingPeriod] = []
        for year in range(FIRST_YEAR, FIRST_YEAR + YEARS):
            for number in range(1, 5):
                self.quarters.append(self._period(periods.quarter(year, number)))
        self.financial_years = {y: self._period(periods.financial_year(y)) for y in range(FIRST_YEAR - 1, FIRST_YEAR + YEARS)}
        self.calendar_years = {y: self._period(periods.calendar_year(y)) for y in range(FIRST_YEAR - 1, FIRST_YEAR + YEARS)}
        self.open_quarter = self.quarters[-1]

    def _period(self, span) -> ReportingPeriod:
        period, created = services.period_ensure(span=span)
        self.up.report.count("reporting periods", "created" if created else "unchanged")
        return period

    def reporting_periods(self, indicator: Indicator) -> list[ReportingPeriod]:
        """The demo's periods of the kinds the indicator is returned in (``periods.period_kinds_for``,
        the rule the return pages and the rollup follow); the demo makes no months."""
        kinds = periods.period_kinds_for(indicator)
        for kind, years in ((periods.CALENDAR_YEAR, self.calendar_years), (periods.FINANCIAL_YEAR, self.financial_years)):
            if kind in kinds:
                return [years[y] for y in range(FIRST_YEAR, FIRST_YEAR + YEARS)]
        return [q for q in self.quarters if q.kind in kinds]

    # --- indicators and targets ----------------------------------------------------------
    def load_indicators(self) -> list[tuple[Indicator, dict]]:
        self.returned_by: dict[int, str] = {}
        dimensions = {d.code: d for d in BreakdownDimension.objects.prefetch_related("categories")}
        loaded = []
        for spec in read_yaml(self.data_dir / "indicators.yaml")["indicators"]:
            annual_calendar = periods.CALENDAR_YEAR in periods.period_kinds(frequency=spec["frequency"], year_basis=spec["year_basis"])
            baseline_years = self.calendar_years if annual_calendar else self.financial_years
            indicator = self.up.upsert(
                Indicator, {"code": spec["code"]},
                {
                    "name": spec["name"], "definition": spec["definition"], "unit": spec["unit"],
                    "polarity": spec["polarity"], "aggregation": spec["aggregation"],
                    "numerator_label": spec["numerator_label"], "denominator_label": spec["denominator_label"],
                    "frequency": spec["frequency"], "year_basis": spec["year_basis"],
                    "time_lag_months": spec["time_lag_months"], "reporting_level": spec["reporting_level"],
                    "source": spec["source"], "data_owner": self.organisations[spec["data_owner"]],
                    "ni_reference": spec["ni_reference"], "decimal_places": spec["decimal_places"],
                    "baseline_value": _decimal(spec["county_baseline"], spec["decimal_places"]),
                    "baseline_period": baseline_years[FIRST_YEAR - 1],
                    "min_value": Decimal(0) if spec["unit"] not in ("index", "percentage_points") else None,
                    "max_value": Decimal(100) if spec["unit"] == "percentage" else None,
                    "is_survey": spec.get("survey", False), "min_coverage": spec.get("min_coverage"),
                    "is_demo": True,
                },
            )
            self.up.set_related(indicator, "kpqs", [self.kpqs[c] for c in spec["kpqs"]], "indicator KPQs")
            self.up.set_related(indicator, "ambitions", [self.ambitions[n] for n in spec["ambitions"]], "indicator ambitions")
            self.up.set_related(
                indicator, "breakdown_dimensions", [dimensions[c] for c in spec["breakdowns"]], "indicator breakdowns"
            )
            self.load_targets(indicator, spec)
            self.returned_by[indicator.pk] = spec.get("returned_by", "")
            loaded.append((indicator, spec))
        return loaded

    def years_since_baseline(self, period: ReportingPeriod) -> float:
        return (period.end - date(FIRST_YEAR, 3, 31)).days / 365.25

    def load_targets(self, indicator: Indicator, spec: dict) -> None:
        for period in self.reporting_periods(indicator):
            years = max(1, round(self.years_since_baseline(period) + 0.49))
            target = spec["county_baseline"] * (1 + spec["target_change"]) ** years
            self.up.upsert(
                IndicatorTarget, {"indicator": indicator, "period": period, "locality": None},
                {
                    "target": _decimal(target, indicator.decimal_places),
                    "tolerance_percent": _decimal(spec["tolerance_percent"], 2),
                },
            )
            if indicator.aggregation == Indicator.Aggregation.SUM and indicator.reporting_level == "district":
                # A count's county target is shared out by each district's usual share.
                factors = {d.pk: self.district_factor(indicator.code, spec["district_spread"], d) for d in self.districts}
                total = sum(factors.values())
                for locality in self.districts:
                    self.up.upsert(
                        IndicatorTarget, {"indicator": indicator, "period": period, "locality": locality},
                        {
                            "target": _decimal(target * factors[locality.pk] / total, indicator.decimal_places),
                            "tolerance_percent": _decimal(spec["tolerance_percent"], 2),
                        },
                    )

    # --- returns --------------------------------------------------------------------------
    def district_factor(self, code: str, spread: float, locality: Locality) -> float:
        return 1 + spread * _rng(code, locality.gss_code, "factor").uniform(-1, 1)

    def figures_for(self, indicator: Indicator, spec: dict, locality: Locality, period: ReportingPeriod):
        """The demo's value for one area and period: baseline × district factor × trend × noise."""
        rng = _rng(indicator.code, locality.gss_code, period.label)
        trend = (1 + spec["annual_change"]) ** self.years_since_baseline(period)
        noise = 1 + rng.gauss(0, 0.03)
        if locality.kind == Locality.Kind.COUNTY:
            factor = 1.0
        else:
            factors = [self.district_factor(indicator.code, spec["district_spread"], d) for d in self.districts]
            factor = self.district_factor(indicator.code, spec["district_spread"], locality) * len(factors) / sum(factors)
        level = spec["county_baseline"] * trend * noise
        if indicator.aggregation == Indicator.Aggregation.SUM and locality.kind == Locality.Kind.DISTRICT:
            level = level / len(self.districts)
        value = max(level * factor, 0)
        places = indicator.decimal_places
        if indicator.is_rate:
            denominator = max(1, round(spec["denominator_per_district"] * (1 + 0.15 * _rng(indicator.code, locality.gss_code).uniform(-1, 1))))
            numerator = round(value / float(indicator.multiplier) * denominator)
            if indicator.unit == Indicator.Unit.PERCENTAGE:
                numerator = min(numerator, denominator)
            return validation.IndicatorFigures(numerator=Decimal(numerator), denominator=Decimal(denominator))
        if indicator.unit == Indicator.Unit.PERCENTAGE:
            value = min(value, 100.0)
        if indicator.aggregation == Indicator.Aggregation.SUM:
            return validation.IndicatorFigures(value=Decimal(round(value)))
        return validation.IndicatorFigures(value=_decimal(value, places))

    def breakdown_figures(self, indicator: Indicator, total: Decimal, locality, period):
        """Split a count across each breakdown dimension's categories so that they add up, each
        near its usual share (BREAKDOWN_SHARES), rounding by largest remainder so that no
        category collects the others' rounding."""
        for dimension in indicator.breakdown_dimensions.all():
            categories = list(dimension.categories.all())
            rng = _rng(indicator.code, locality.gss_code, period.label, dimension.code)
            usual = BREAKDOWN_SHARES.get(dimension.code, {})
            weights = [usual.get(c.code, 1 / len(categories)) * rng.uniform(0.85, 1.15) for c in categories]
            exact = [float(total) * w / sum(weights) for w in weights]
            shares = [int(x) for x in exact]
            by_remainder = sorted(range(len(exact)), key=lambda i: exact[i] - shares[i], reverse=True)
            for i in by_remainder[: int(total) - sum(shares)]:
                shares[i] += 1
            yield from zip(categories, shares)

    def who_returns(self, indicator: Indicator, locality: Locality) -> Organisation:
        """The organisation that holds the figure returns it: Kent Police, Kent Fire and Rescue
        and Kent Probation their own; each primary care trust its own districts'; the district
        councils what they hold (housing, waste, local volunteering: ``returned_by: district``);
        and Kent County Council's research and intelligence team loads everything else
        (nationally published series and KCC's own data) centrally, for every area."""
        owner = indicator.data_owner
        if self.returned_by.get(indicator.pk) == "district" and locality.kind == Locality.Kind.DISTRICT:
            return self.councils[locality.pk]
        if owner and owner.sector == "health" and locality.kind == Locality.Kind.DISTRICT:
            return next(
                self.organisations[name] for name, areas in PCT_DISTRICTS.items() if locality.name in areas
            )
        if owner and owner.sector in PARTNER_SECTORS:
            return owner
        return self.kcc

    def submit_time(self, period: ReportingPeriod, rng: random.Random, *, late: bool) -> datetime:
        if period == self.open_quarter:
            day = self.today - timedelta(days=rng.randint(0, 6))
        elif late:
            day = period.deadline + timedelta(days=rng.randint(1, 12))
        else:
            day = period.deadline - timedelta(days=rng.randint(1, 20))
        return timezone.make_aware(datetime.combine(day, time(9 + rng.randint(0, 7), rng.randint(0, 59))))

    def fate(self, indicator: Indicator, locality: Locality, period: ReportingPeriod) -> str:
        """What happens to this return in the demo: missing, draft, submitted, returned, approved,
        late (approved but submitted after the deadline) or resubmitted (returned once, then approved)."""
        roll = _rng(indicator.code, locality.gss_code, period.label, "fate").random()
        if period == self.open_quarter:
            for limit, fate in ((0.2, "missing"), (0.35, "draft"), (0.75, "submitted"), (0.8, "returned")):
                if roll < limit:
                    return fate
            return "approved"
        if roll < 0.02:
            return "missing"
        if roll < 0.08:
            return "late"
        if roll < 0.11:
            return "resubmitted"
        return "approved"

    def enter_return(self, indicator, spec, locality, period) -> None:
        exists = IndicatorReturn.objects.filter(
            indicator=indicator, locality=locality, period=period, breakdown__isnull=True
        ).exists()
        if exists:
            self.up.report.count("indicator returns", "unchanged")
            return
        fate = self.fate(indicator, locality, period)
        if fate == "missing":
            return
        rng = _rng(indicator.code, locality.gss_code, period.label, "timing")
        organisation = self.who_returns(indicator, locality)
        figures = self.figures_for(indicator, spec, locality, period)
        off_target = ""
        commentary = f"Demo return for {locality.name}, {period.label}."
        if rng.random() < 0.3:
            off_target = " Performance is below target this period; partners are reviewing the causes."
        figures = validation.IndicatorFigures(
            value=figures.value, numerator=figures.numerator, denominator=figures.denominator,
            commentary=commentary + off_target,
        )
        breakdowns = {}
        if indicator.aggregation == Indicator.Aggregation.SUM and figures.value is not None:
            breakdowns = {
                category.pk: Decimal(share)
                for category, share in self.breakdown_figures(indicator, figures.value, locality, period)
            }
        figures = validation.IndicatorFigures(
            value=figures.value, numerator=figures.numerator, denominator=figures.denominator,
            commentary=figures.commentary, breakdowns=breakdowns,
            quality=self.quality_for(indicator, spec, locality, period, figures),
        )
        ret = workflow.indicator_return_save_draft(
            indicator=indicator, locality=locality, period=period, organisation=organisation,
            figures=figures, user=self.users.get(organisation.pk),
        )
        self.up.report.count("indicator returns", "created")
        self.walk_workflow(ret, fate, period, rng)

    def quality_for(self, indicator: Indicator, spec: dict, locality: Locality, period: ReportingPeriod, figures) -> dict:
        """How final and how certain the demo's figure is: a survey's sample base (each district)
        or published interval (the county); provisional figures in the open quarter, as the
        police's recorded crime and the NHS's activity data are until their sources' final
        releases; now and then a revised one."""
        rng = _rng(indicator.code, locality.gss_code, period.label, "quality")
        quality: dict = {}
        if spec.get("survey"):
            base = round(spec["sample_base_per_district"] * rng.uniform(0.8, 1.2))
            if locality.kind == Locality.Kind.COUNTY:
                estimate = figures.value if figures.value is not None else validation.indicator_value_from_rate(
                    indicator=indicator, numerator=figures.numerator, denominator=figures.denominator)
                limits = rules.survey_limits(unit=indicator.unit, value=estimate, ci_lower=None, ci_upper=None,
                                             sample_base=base * len(self.districts))
                if limits:  # as the source publishes it, to one decimal place
                    quality.update(ci_lower=_decimal(limits[0], 1), ci_upper=_decimal(limits[1], 1))
            else:
                quality["sample_base"] = base
        roll = rng.random()
        if period == self.open_quarter and roll < 0.35:
            quality.update(quality=DataQuality.PROVISIONAL, source_released=period.end + timedelta(days=20),
                           quality_note="Provisional: the source's final figures come with its next quarterly release.")
        elif period != self.open_quarter and roll < 0.03:
            quality.update(quality=DataQuality.REVISED, source_released=period.end + timedelta(days=120),
                           quality_note="Revised in the source's later release.")
        return quality

    def walk_workflow(self, ret, fate: str, period: ReportingPeriod, rng: random.Random) -> None:
        if fate == "draft":
            return
        officer = self.users.get(ret.organisation_id)
        if isinstance(ret, IndicatorReturn):
            def submit(**kwargs):
                # The demo's officers have looked at their figures: warnings are confirmed.
                return workflow.indicator_return_submit(confirm_warnings=True, **kwargs)
        else:
            submit = workflow.milestone_return_submit
        submitted_at = self.submit_time(period, rng, late=fate == "late")
        submit(ret=ret, expected_version=ret.version, user=officer, at=submitted_at)
        if fate == "submitted":
            return
        decided_at = submitted_at + timedelta(days=rng.randint(1, 5))
        if fate in ("returned", "resubmitted"):
            workflow.return_send_back(
                ret=ret, reason=rng.choice(RETURN_REASONS), expected_version=ret.version,
                user=self.approver, at=decided_at,
            )
            if fate == "returned":
                return
            submitted_at = decided_at + timedelta(days=rng.randint(1, 3))
            if isinstance(ret, IndicatorReturn):
                ret = workflow.indicator_return_save_draft(
                    indicator=ret.indicator, locality=ret.locality, period=period, organisation=ret.organisation,
                    figures=validation.IndicatorFigures(
                        value=ret.value if not ret.indicator.is_rate else None, numerator=ret.numerator,
                        denominator=ret.denominator, commentary=ret.commentary + " Checked and corrected after return.",
                    ),
                    expected_version=ret.version, user=officer,
                )
            submit(ret=ret, expected_version=ret.version, user=officer, at=submitted_at)
            decided_at = submitted_at + timedelta(days=1)
        workflow.return_approve(ret=ret, expected_version=ret.version, user=self.approver, at=decided_at)

    def load_assignments(self, indicators) -> None:
        for indicator, _ in indicators:
            for locality in self.areas_for(indicator):
                organisation = self.who_returns(indicator, locality)
                current = IndicatorAssignment.objects.filter(indicator=indicator, locality=locality).first()
                if current and current.organisation_id == organisation.pk:
                    self.up.report.count("indicator assignments", "unchanged")
                    continue
                services.assignment_ensure(organisation=organisation, indicator=indicator, locality=locality)
                self.up.report.count("indicator assignments", "created" if current is None else "updated")

    def areas_for(self, indicator: Indicator) -> list[Locality]:
        """The areas an indicator is returned for: each district, the county, or both."""
        districts = [] if indicator.reporting_level == Indicator.ReportingLevel.COUNTY else self.districts
        county = [] if indicator.reporting_level == Indicator.ReportingLevel.DISTRICT else [self.county]
        return [*districts, *county]

    def load_returns(self, indicators) -> None:
        for period in sorted({p for i, _ in indicators for p in self.reporting_periods(i)}, key=lambda p: (p.start, p.kind)):
            if period.status == ReportingPeriod.Status.PLANNED:
                # The open quarter's deadline is set when it is first opened: a few weeks ahead.
                deadline = self.open_quarter_deadline() if period == self.open_quarter else None
                services.period_open(period=period, deadline=deadline)
            elif period.status == ReportingPeriod.Status.LOCKED:
                continue
            for indicator, spec in indicators:
                if period not in self.reporting_periods(indicator):
                    continue
                for locality in self.areas_for(indicator):
                    self.enter_return(indicator, spec, locality, period)
            self.enter_milestone_returns(period)
            if period != self.open_quarter:
                services.period_lock(period=period)

    def open_quarter_deadline(self) -> date:
        return self.today + timedelta(days=OPEN_DEADLINE_DAYS_AHEAD)

    # --- milestones -----------------------------------------------------------------------
    def load_milestones(self, programme: dict) -> None:
        self.milestone_profiles: list[tuple[Milestone, str]] = []
        for block in programme["milestones"]:
            plan = DeliveryPlan.objects.get(name=block["plan"])
            owner = self.organisations[block["owner"]]
            for item in block["items"]:
                milestone = self.up.upsert(
                    Milestone, {"title": item["title"], "delivery_plan": plan},
                    {"owner": owner, "due_date": item["due"], "is_demo": True},
                )
                self.up.set_related(milestone, "kpqs", [self.kpqs[c] for c in block.get("kpqs", [])], "milestone KPQs")
                self.milestone_profiles.append((milestone, item["profile"]))

    def milestone_progress(self, milestone: Milestone, profile: str, period: ReportingPeriod):
        """The milestone's reported progress at the end of ``period`` for its story ``profile``."""
        start = max(date(FIRST_YEAR, 4, 1), milestone.due_date - timedelta(days=540))
        if period.end < start:
            return None
        span = max((milestone.due_date - start).days, 1)
        done = min(100, round(100 * (period.end - start).days / span))
        revised = None
        status = MilestoneReturn.Status.ON_TRACK
        if profile == "early":
            done = min(100, done + 30)
        elif profile == "slipped":
            revised = milestone.due_date + timedelta(days=120)
            done = min(done, 85) if period.end <= milestone.due_date else min(100, done - 15)
            status = MilestoneReturn.Status.AT_RISK
        elif profile == "at_risk":
            done = max(0, done - 20)
            status = MilestoneReturn.Status.AT_RISK if done < 60 else MilestoneReturn.Status.ON_TRACK
        elif profile == "off_track":
            done = min(done, 55)
            status = MilestoneReturn.Status.OFF_TRACK if done > 25 else MilestoneReturn.Status.ON_TRACK
        if done <= 0:
            status, done = MilestoneReturn.Status.NOT_STARTED, 0
        if done >= 100:
            status, done = MilestoneReturn.Status.COMPLETE, 100
        commentary = {
            MilestoneReturn.Status.AT_RISK: "Dependent on partners' decisions; a revised date has been agreed.",
            MilestoneReturn.Status.OFF_TRACK: "Off track: funding has not been confirmed. Escalated to the Ambition Board.",
            MilestoneReturn.Status.COMPLETE: "Complete.",
        }.get(status, "Progressing to plan.")
        return validation.MilestoneProgress(status=status, percent_complete=done, revised_date=revised, commentary=commentary)

    def enter_milestone_returns(self, period: ReportingPeriod) -> None:
        if period.kind != ReportingPeriod.Kind.QUARTER:
            return
        for milestone, profile in self.milestone_profiles:
            if MilestoneReturn.objects.filter(milestone=milestone, period=period).exists():
                self.up.report.count("milestone returns", "unchanged")
                continue
            previous = MilestoneReturn.objects.filter(milestone=milestone, status="complete").exists()
            progress = self.milestone_progress(milestone, profile, period)
            if progress is None or previous:
                continue
            fate = "approved"
            if period == self.open_quarter:
                fate = self.fate_for_milestone(milestone, period)
                if fate == "missing":
                    continue
            ret = workflow.milestone_return_save_draft(
                milestone=milestone, period=period, organisation=milestone.owner, progress=progress,
                user=self.users.get(milestone.owner_id),
            )
            self.up.report.count("milestone returns", "created")
            self.walk_workflow(ret, fate, period, _rng(milestone.title, period.label, "timing"))

    def fate_for_milestone(self, milestone: Milestone, period: ReportingPeriod) -> str:
        roll = _rng(milestone.title, period.label, "fate").random()
        return "missing" if roll < 0.15 else "draft" if roll < 0.3 else "submitted" if roll < 0.8 else "approved"

    # --- boards' plans, local priorities, studies -------------------------------------------
    def load_action_plans(self, programme: dict) -> None:
        for plan_spec in programme["action_plans"]:
            board = Board.objects.get(kind=Board.Kind.AMBITION, ambition__number=plan_spec["ambition"])
            plan = self.up.upsert(
                ActionPlan, {"board": board, "year": plan_spec["year"]},
                {"title": plan_spec["title"], "status": ActionPlan.Status.AGREED, "agreed_on": date(2012, 6, 20)},
            )
            for number, title in enumerate(plan_spec["areas"], start=1):
                area = self.up.upsert(PriorityArea, {"action_plan": plan, "number": number}, {"title": title})
                self.up.upsert(
                    Milestone, {"title": f"{title}: year-end review to the Kent Forum", "priority_area": area},
                    {"owner": self.kcc, "due_date": date(2013, 3, 31), "is_demo": True},
                )
            plan.full_clean()
        meetings = programme["forward_plan"]["meetings"]
        for board in Board.objects.filter(kind=Board.Kind.AMBITION):
            for index, meeting in enumerate(meetings):
                for item in programme["forward_plan"]["items"]:
                    if item["kind"] == "progress_report" and index % 2:
                        continue
                    if item["kind"] == "action_plan" and index:
                        continue
                    status = ForwardPlanItem.Status.TAKEN if meeting < date(2013, 3, 1) else ForwardPlanItem.Status.PLANNED
                    self.up.upsert(
                        ForwardPlanItem, {"board": board, "meeting_date": meeting, "title": item["title"]},
                        {"kind": item["kind"], "status": status},
                    )

    def load_local_priorities(self, programme: dict) -> None:
        menu = programme["local_priority_menu"]
        indicators = {i.code: i for i in Indicator.objects.all()}
        for locality in self.districts:
            rng = _rng(locality.gss_code, "priorities")
            chosen = rng.sample(menu, rng.randint(8, min(10, len(menu))))
            for item in chosen:
                priority = self.up.upsert(
                    LocalPriority, {"locality": locality, "title": item["title"]},
                    {
                        "ambition": self.ambitions.get(item["ambition"]) if item["ambition"] else None,
                        "weight": rng.randint(1, 10),
                    },
                )
                self.up.set_related(
                    priority, "indicators", [indicators[c] for c in item["indicators"]], "local priority indicators"
                )

    def load_studies(self, programme: dict) -> None:
        for item in programme["studies"]:
            study = self.up.upsert(
                Study, {"title": item["title"]},
                {
                    "kind": item["kind"], "commissioned_by": self.organisations[item["commissioned_by"]],
                    "published_on": item.get("published_on"), "url": item.get("url", ""),
                    "summary": item.get("summary", ""), "findings": item.get("findings", ""), "is_demo": True,
                },
            )
            kpqs = [self.kpqs[c] for c in item["kpqs"]]
            self.up.set_related(study, "kpqs", kpqs, "study KPQs")
            self.up.set_related(study, "ambitions", sorted({k.ambition for k in kpqs}, key=lambda a: a.number), "study ambitions")

    # --- users ------------------------------------------------------------------------------
    def load_users(self, programme: dict) -> None:
        from django.contrib.auth import get_user_model

        self.users = {}
        for item in programme["users"]:
            exists = get_user_model().objects.filter(username=item["username"]).exists()
            password = None
            if self.reset_passwords or not exists:
                password = secrets.token_urlsafe(12)
                self.passwords[item["username"]] = password
            user, created = person_user_ensure(
                username=item["username"], name=item["name"], organisation=self.organisations[item["organisation"]],
                roles=item["roles"], job_title=item["job_title"], password=password,
                # an address on the reserved example domain, so reminders reach the demo's officers
                email=f"{item['username']}@kentforum.example",
            )
            self.up.report.count("users", "created" if created else "unchanged")
            for board_name in item.get("boards", []):
                self.up.upsert(
                    BoardMembership, {"board": Board.objects.get(name=board_name), "person": user.person, "end_date": None},
                    {"organisation": user.person.organisation, "role": BoardMembership.Role.MEMBER,
                     "category": BoardMembership.Category.CO_OPTED, "is_core": False, "note": "demo user"},
                )
            if "officer" in item["roles"]:
                self.users.setdefault(user.person.organisation_id, user)
            if "approver" in item["roles"]:
                self.approver = user

    def load(self) -> DemoResult:
        programme = read_yaml(self.data_dir / "programme.yaml")
        self.load_users(programme)
        self.load_periods()
        indicators = self.load_indicators()
        self.load_milestones(programme)
        self.load_action_plans(programme)
        self.load_assignments(indicators)
        with queue.deferred() as pending:
            self.load_returns(indicators)
            changed = bool(pending)
            pending.clear()  # one full rebuild below instead of thousands of small rollups
        if changed or not IndicatorRollup.objects.exists():
            self.up.report.counts["summary rows"]["created"] += engine.rebuild_all()["indicator rows"]
        self.load_local_priorities(programme)
        self.load_studies(programme)
        comparator_services.comparator_demo_load()  # England, the South East and similar counties (demo figures)
        return DemoResult(report=self.up.report, passwords=self.passwords)


def demo_load(*, data_dir: Path | None = None, reset_passwords: bool = False, today: date | None = None) -> DemoResult:
    """Load the demo set in one transaction (all or nothing). Needs the Kent framework loaded."""
    with transaction.atomic():
        loader = DemoLoader(
            data_dir or settings.DEMO_DATA_DIR, reset_passwords=reset_passwords, today=today or timezone.localdate()
        )
        return loader.load()
