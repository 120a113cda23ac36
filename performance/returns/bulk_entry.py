"""The API's bulk entry of indicator returns by reference, set-based.

``indicator_returns_save_by_codes`` takes the items of ``by_code.indicator_return_save_by_codes`` and stores
exactly what calling it item by item, in order, would: the same returns, breakdown rows,
versions, states and audit events (tests/api/test_bulk_set_based.py), with the same refusals,
reported per item. It loads what it judges against with one query each (the slots, the returns
stored for them and their breakdown rows, and for submissions the areas' approved history and
targets), judges every return in memory with the workflow's own rules, and only then writes
(``returns.bulk_write``)."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from kentforum.actors import KeyActor
from kentforum.errors import error_dict
from localities.models import Locality
from partnerships.models import Organisation
from performance.catalogue import rules, services
from performance.catalogue.services import choose_target
from performance.models import (
    BreakdownCategory,
    Indicator,
    IndicatorAssignment,
    IndicatorReturn,
    IndicatorTarget,
    ReportingPeriod,
    ReturnEvent,
    WorkflowState,
)
from performance.models.scope import EDITABLE_STATES
from performance.returns import access, audit, bulk_write, by_code, validation, workflow
from performance.returns.bulk_slots import STORED_FIELDS, BatchAssignment, BatchReturn, BatchSlot
from performance.returns.bulk_write import BreakdownUpdate, Changed, Event, NewReturn, Plan, TotalUpdate
from performance.returns.validation import among, approved_history


class Batch:
    """The items of one bulk entry, the data they are judged against (one query each), and the
    slots as the items leave them."""

    def __init__(self, user, items: list[dict], now):
        self.user, self.items, self.now = user, items, now
        self.person = audit.recorded_person(user)
        self.indicators = {i.code: i for i in Indicator.objects.filter(code__in={it["indicator_code"] for it in items})}
        self.localities = {loc.gss_code: loc for loc in Locality.objects.filter(gss_code__in={it["gss_code"] for it in items})}
        self.periods = {p.label: p for p in ReportingPeriod.objects.filter(label__in={it["period_label"] for it in items})}
        indicator_ids = sorted(i.pk for i in self.indicators.values())
        locality_ids = sorted(loc.pk for loc in self.localities.values())
        period_ids = sorted(p.pk for p in self.periods.values())
        self.indicators_by_id = {i.pk: i for i in self.indicators.values()}
        self.localities_by_id = {loc.pk: loc for loc in self.localities.values()}
        # Unordered (.order_by()): the rows become dictionaries by unique keys, and the models'
        # orders (by organisation, code and area name) would join three tables and sort; for
        # the assignments of 5,000 slots, that was 0.2 s of the bulk write.
        assigned = list(among(IndicatorAssignment.objects.filter(locality_id__in=locality_ids),
                              "performance_indicatorassignment.indicator_id", indicator_ids)
                        .order_by().values_list("indicator_id", "locality_id", "organisation_id"))
        # Breakdown categories by indicator, keyed "dimension:category" as the API names them.
        through = Indicator.breakdown_dimensions.through
        dimensions: dict[int, set[int]] = {}
        for indicator_id, dimension_id in among(through.objects.all(), f"{through._meta.db_table}.indicator_id",
                                                indicator_ids).values_list(
            "indicator_id", "breakdowndimension_id"
        ):
            dimensions.setdefault(indicator_id, set()).add(dimension_id)
        categories = list(BreakdownCategory.objects.filter(
            dimension_id__in={d for ds in dimensions.values() for d in ds}
        ).select_related("dimension"))  # in the model's order (dimension, order, label), as the services read them
        self.category_order = {c.pk: n for n, c in enumerate(categories)}
        self.categories = {c.pk: c for c in categories}
        self.keys = {
            indicator_id: {f"{c.dimension.code}:{c.code}": c.pk for c in categories if c.dimension_id in ds}
            for indicator_id, ds in dimensions.items()
        }
        # What is stored for the slots the items name (read, not locked: the write names versions).
        self.stored: dict[tuple[int, int, int], BatchReturn] = {}
        self.stored_parts: dict[tuple[int, int, int], dict[int, BatchReturn]] = {}
        if indicator_ids and locality_ids and period_ids:
            for indicator_id, locality_id, period_id, breakdown_id, *values in among(IndicatorReturn.objects.filter(
                locality_id__in=locality_ids, period_id__in=period_ids,
            ), "performance_indicatorreturn.indicator_id", indicator_ids).order_by().values_list(
                "indicator_id", "locality_id", "period_id", "breakdown_id", *STORED_FIELDS,
            ):
                row = BatchReturn(*values)
                key = (indicator_id, locality_id, period_id)
                if breakdown_id is None:
                    self.stored[key] = row
                else:
                    self.stored_parts.setdefault(key, {})[breakdown_id] = row
        # The organisations whose returns these are: the slots' (as assigned) and the stored
        # returns' (a return belongs to whoever made it, even if the slot was reassigned since).
        wanted = {organisation_id for *_, organisation_id in assigned} | {r.organisation_id for r in self.stored.values()}
        self.organisations = {o.pk: o for o in Organisation.objects.filter(pk__in=wanted)} if wanted else {}
        self.assignments = {
            (indicator_id, locality_id): BatchAssignment(self.indicators_by_id[indicator_id], self.localities_by_id[locality_id],
                                                     self.organisations[organisation_id])
            for indicator_id, locality_id, organisation_id in assigned
        }
        self.permitted: dict[int, str | None] = {}  # organisation id: why the user may not enter its returns
        self.slots: dict[tuple[int, int, int], BatchSlot] = {}
        self._judging_data()

    def _judging_data(self) -> None:
        """The approved history and targets of the slots of items that submit (one query per
        period they name, and one for all targets)."""
        by_period: dict[int, set[tuple[int, int]]] = {}
        for item in self.items:
            if item.get("submit"):
                indicator = self.indicators.get(item["indicator_code"])
                locality = self.localities.get(item["gss_code"])
                period = self.periods.get(item["period_label"])
                if indicator and locality and period:
                    by_period.setdefault(period.pk, set()).add((indicator.pk, locality.pk))
        periods = {p.pk: p for p in self.periods.values()}
        self.history = {
            (*slot, period_id): values
            for period_id, slots in by_period.items()
            for slot, values in approved_history(periods[period_id], slots).items()
        }
        self.targets: dict[tuple[int, int], list[IndicatorTarget]] = {}
        if by_period:
            indicator_ids = {i for slots in by_period.values() for i, _ in slots}
            for target in IndicatorTarget.objects.filter(indicator_id__in=indicator_ids, period_id__in=by_period):
                self.targets.setdefault((target.indicator_id, target.period_id), []).append(target)

    # --- the services' rules, on the batch's data ------------------------------------------------

    def check_can_enter(self, organisation) -> None:
        """``access.check_can_enter``, asked once per organisation."""
        if organisation.id not in self.permitted:  # .id, not .pk: asked for every item of tens of thousands
            try:
                access.check_can_enter(self.user, organisation)
                self.permitted[organisation.id] = None
            except PermissionDenied as denied:
                self.permitted[organisation.id] = str(denied)
        if (message := self.permitted[organisation.id]) is not None:
            raise PermissionDenied(message)

    def resolve_slot(self, code: str, gss: str, label: str):
        """``by_code.resolve_slot``: the assignment and period, or the same errors."""
        indicator, locality, period = self.indicators.get(code), self.localities.get(gss), self.periods.get(label)
        errors = by_code.slot_errors(indicator=indicator, locality=locality, period=period, indicator_code=code,
                                      gss_code=gss, period_label=label)
        if errors:
            raise ValidationError(errors)
        assignment = self.assignments.get((indicator.id, locality.id))
        if assignment is None:
            raise ValidationError({"indicator": f"Nobody returns {indicator.code} for {locality.name}."})
        return assignment, period

    def breakdowns_by_key(self, indicator, values: dict) -> dict[int, Decimal | None]:
        """``by_code.breakdowns_by_key``."""
        keys = self.keys.get(indicator.id, {})
        unknown = [key for key in values if key not in keys]
        if unknown:
            raise ValidationError({"breakdowns": f"Not a breakdown of {indicator.code}: {', '.join(sorted(unknown))[:200]}."})
        return {keys[key]: value for key, value in values.items()}

    def slot(self, assignment, period) -> BatchSlot:
        key = (assignment.indicator.id, assignment.locality.id, period.id)
        found = self.slots.get(key)
        if found is None:
            found = self.slots[key] = BatchSlot(
                self.indicators_by_id[assignment.indicator_id], assignment.locality, period,
                replace(self.stored[key]) if key in self.stored else None,
                {k: replace(v) for k, v in self.stored_parts.get(key, {}).items()},
            )
        return found

    def organisation(self, organisation_id: int):
        return self.organisations[organisation_id]

    # --- one item, as by_code.indicator_return_save_by_codes ------------------------------------------------

    def enter(self, item: dict) -> BatchSlot:
        assignment, period = self.resolve_slot(item["indicator_code"], item["gss_code"], item["period_label"])
        self.check_can_enter(assignment.organisation)
        sent = item["figures"]
        figures = validation.IndicatorFigures(
            value=sent.value, numerator=sent.numerator, denominator=sent.denominator, commentary=sent.commentary,
            breakdowns=self.breakdowns_by_key(assignment.indicator, item.get("breakdown_values") or {}),
            quality=sent.quality,
        )
        slot = self.slot(assignment, period)
        self.save(slot, assignment, figures, item.get("expected_version"))
        if item.get("submit"):
            self.submit(slot, confirm_warnings=item.get("confirm_warnings", False))
        return slot

    def save(self, slot: BatchSlot, assignment, figures: validation.IndicatorFigures, expected_version: int | None) -> None:
        """``workflow.indicator_return_save_draft`` on the slot as the earlier items left it."""
        indicator = slot.indicator
        self.check_can_enter(assignment.organisation)
        services.check_period_open(slot.period)
        services.check_returned_in(indicator, slot.period)
        ret = slot.total
        validation.check_draft_figures(indicator, figures, ret)
        values = validation.return_values(indicator, figures, ret)
        if ret is None:
            ret = slot.total = BatchReturn(pk=None, organisation_id=assignment.organisation_id,
                                       state=WorkflowState.DRAFT, version=1, **values)
            changes = validation.creation_changes(values)
            changes.update(self.save_breakdowns(slot, figures.breakdowns))
            self.record(slot, ReturnEvent.Action.CREATED, from_state="", changes=changes)
            return
        self.check_can_enter(self.organisation(ret.organisation_id))
        if ret.state == WorkflowState.APPROVED:
            raise ValidationError("This return has been approved and can no longer be changed.")
        if ret.state == WorkflowState.SUBMITTED and self.user is not None:
            raise ValidationError("This return has been submitted and is waiting for approval; it cannot be changed now.")
        if expected_version is None or expected_version != ret.version:
            raise workflow.StaleReturnError(ret)
        from_state = ret.state
        differ = any(
            (slot.parts[c].value if c in slot.parts else None) != value for c, value in figures.breakdowns.items()
        )
        changes = audit.draft_changes(ret, values, breakdowns_changed=differ)
        if changes is None:
            return  # nothing changed: no new version, no event
        self.bump(ret, {**values, "state": WorkflowState.DRAFT})
        changes.update(self.save_breakdowns(slot, figures.breakdowns))
        self.sync_breakdown_state(slot)
        self.record(slot, ReturnEvent.Action.SAVED, from_state=from_state, changes=changes)

    def save_breakdowns(self, slot: BatchSlot, breakdowns: dict[int, Decimal | None]) -> dict:
        """``workflow._save_breakdowns``: new rows at version 1 in the total's state, changed
        ones moved on a version."""
        changes = {}
        for category_id, value in breakdowns.items():
            row = slot.parts.get(category_id)
            old = row.value if row else None
            if row is None and value is None:
                continue
            if row is None:
                slot.parts[category_id] = BatchReturn(pk=None, organisation_id=slot.total.organisation_id,
                                                  state=slot.total.state, version=1, value=value)
            elif old != value:
                row.value, row.version = value, row.version + 1
            if old != value:
                label = self.categories[category_id].label if category_id in self.categories else category_id
                changes[f"breakdown: {label}"] = (old, value)
        return changes

    @staticmethod
    def sync_breakdown_state(slot: BatchSlot) -> None:
        """``workflow._sync_breakdown_state``."""
        for row in slot.parts.values():
            row.state, row.version = slot.total.state, row.version + 1

    @staticmethod
    def bump(ret: BatchReturn, fields: dict) -> None:
        for name, value in fields.items():
            setattr(ret, name, value)
        ret.version += 1

    def record(self, slot: BatchSlot, action: str, *, from_state: str, changes: dict | None = None, note: str = "") -> None:
        """``audit.record_event``: the event, with the return's state and version after it."""
        jsonable = audit.jsonable
        slot.events.append(Event(
            action=action, from_state=from_state, to_state=slot.total.state, version=slot.total.version,
            changes={k: [jsonable(a), jsonable(b)] for k, (a, b) in (changes or {}).items()}, note=note,
        ))

    def submit(self, slot: BatchSlot, *, confirm_warnings: bool) -> None:
        """``workflow.indicator_return_submit`` at the version the save left."""
        ret = slot.total
        self.check_can_enter(self.organisation(ret.organisation_id))
        figures = validation.IndicatorFigures(
            value=ret.value, numerator=ret.numerator, denominator=ret.denominator, commentary=ret.commentary,
            breakdowns={c: row.value for c, row in sorted(slot.parts.items())},
            quality={name: getattr(ret, name) for name in validation.QUALITY_FIELDS},
        )
        assessment = self.assess(slot, figures)
        if assessment.errors:
            raise ValidationError(assessment.errors)
        if assessment.warnings and not confirm_warnings:
            raise workflow.UnconfirmedWarnings(assessment.warnings)
        if assessment.commentary_required and not ret.commentary.strip():
            raise ValidationError({"commentary": validation.commentary_required_error(assessment)})
        # workflow._transition
        services.check_period_open(slot.period)
        if ret.state not in EDITABLE_STATES:
            raise ValidationError(
                f"A {ret.get_state_display().lower()} return cannot become {WorkflowState.SUBMITTED.label.lower()}."
            )
        from_state = ret.state
        self.bump(ret, {
            "state": WorkflowState.SUBMITTED, "submitted_at": self.now, "submitted_by_id": getattr(self.person, "pk", None),
            "return_reason": "", "confirmed_warnings": assessment.warnings if confirm_warnings else [],
        })
        slot.submitted = True
        self.sync_breakdown_state(slot)
        self.record(slot, ReturnEvent.Action.SUBMITTED, from_state=from_state,
                    note="; ".join(f"Confirmed warning: {w}" for w in assessment.warnings) if confirm_warnings else "")

    def assess(self, slot: BatchSlot, figures: validation.IndicatorFigures) -> validation.FigureAssessment:
        """``validation.assess_figures``, with the history and target loaded for the batch."""
        indicator, locality, period = slot.indicator, slot.locality, slot.period
        errors = validation.figure_errors(indicator, figures)
        value = validation.computed_value(indicator, figures)
        warnings: list[str] = []
        if not errors:
            unit = "%" if indicator.unit == indicator.Unit.PERCENTAGE else ""
            history = self.history.get((indicator.pk, locality.pk, period.pk), [])
            if warning := validation.outlier_warning(value, history, unit_label=unit):
                warnings.append(warning)
            if indicator.aggregation == indicator.Aggregation.SUM and figures.breakdowns:
                by_dimension: dict[str, dict[str, Decimal | None]] = {}
                for category_id in sorted(figures.breakdowns, key=lambda c: self.category_order.get(c, 0)):
                    category = self.categories[category_id]
                    by_dimension.setdefault(category.dimension.name, {})[category.label] = figures.breakdowns[category_id]
                for dimension, parts in sorted(by_dimension.items()):
                    if warning := rules.breakdown_warning(value, parts, dimension):
                        warnings.append(warning)
        target = choose_target(indicator, locality, self.targets.get((indicator.pk, period.pk), []))
        status = rules.rag_status(
            value=value, target=target.target if target else None,
            tolerance_percent=target.tolerance_percent if target else None, polarity=indicator.polarity,
        )
        return validation.FigureAssessment(
            errors=errors, warnings=warnings, status=status,
            commentary_required=rules.is_off_target(status) or bool(warnings),
        )

    # --- the write --------------------------------------------------------------------------------

    def plan(self) -> tuple[Plan, dict[tuple, int]]:
        """What to write for every slot the items changed, and where each new total is in
        ``plan.new`` (by slot key)."""
        plan, created = Plan(), {}
        for key, slot in self.slots.items():
            ret = slot.total
            if ret is None:
                continue
            if ret.pk is None:
                created[key] = len(plan.new)
                plan.new.append(self._new(slot, ret, None, events=tuple(slot.events)))
            elif ret.version != slot.stored_version:
                plan.updates.append(TotalUpdate(
                    pk=ret.pk, expected=slot.stored_version, version=ret.version, state=ret.state, value=ret.value,
                    numerator=ret.numerator, denominator=ret.denominator, commentary=ret.commentary,
                    **{name: getattr(ret, name) for name in validation.QUALITY_FIELDS},
                    submitted=slot.submitted, submitted_at=ret.submitted_at, submitted_by_id=ret.submitted_by_id,
                    return_reason=ret.return_reason, confirmed_warnings=tuple(ret.confirmed_warnings),
                ))
                plan.events.extend((ret.pk, event) for event in slot.events)
            for category_id, row in slot.parts.items():
                if row.pk is None:
                    plan.new.append(self._new(slot, row, category_id))
                    continue
                stored = slot.stored_parts[category_id]
                if row.version != stored.version or row.state != stored.state or row.value != stored.value:
                    plan.breakdown_updates.append(BreakdownUpdate(
                        pk=row.pk, set_value=row.value != stored.value, value=row.value, state=row.state,
                        bump=row.version - stored.version,
                    ))
        return plan, created

    @staticmethod
    def _new(slot: BatchSlot, row: BatchReturn, breakdown_id: int | None, events: tuple = ()) -> NewReturn:
        return NewReturn(
            indicator_id=slot.indicator.id, locality_id=slot.locality.id, period_id=slot.period.id,
            organisation_id=row.organisation_id, breakdown_id=breakdown_id, value=row.value, numerator=row.numerator,
            denominator=row.denominator, commentary=row.commentary, state=row.state, version=row.version,
            quality=row.quality, source_released=row.source_released, quality_note=row.quality_note,  # QUALITY_FIELDS,
            ci_lower=row.ci_lower, ci_upper=row.ci_upper, sample_base=row.sample_base,  # named (one row of 100,000)
            return_reason=row.return_reason, confirmed_warnings=tuple(row.confirmed_warnings),
            submitted_at=row.submitted_at, submitted_by_id=row.submitted_by_id, events=events,
        )


def _item_errors(error: Exception) -> dict:
    """An item's refusal as the bulk API reports it (as ``indicator_returns_save_by_codes``
    always has): a stale version, a permission refusal, or the service's validation errors."""
    if isinstance(error, workflow.StaleReturnError):
        return {"version": [f"The return is now version {error.current.version}; read it again."]}
    if isinstance(error, PermissionDenied):
        return {"organisation": [str(error)]}
    return error_dict(error)


def _enter_once(user, items: list[dict]) -> list[int]:
    now = timezone.now()
    with transaction.atomic():
        batch = Batch(user, items, now)
        errors: list[tuple[int, dict]] = []
        touched: list[tuple] = []  # the slot of each item, in order
        for index, item in enumerate(items):
            slot_key = None
            try:
                assignment, period = batch.resolve_slot(item["indicator_code"], item["gss_code"], item["period_label"])
                slot_key = (assignment.indicator.id, assignment.locality.id, period.id)
            except ValidationError:
                pass
            before = batch.slots[slot_key].snapshot() if slot_key in batch.slots else None
            try:
                batch.enter(item)
                touched.append(slot_key)
            except (workflow.StaleReturnError, PermissionDenied, ValidationError) as refused:
                errors.append((index, _item_errors(refused)))
                if slot_key in batch.slots:  # as the item's savepoint: the slot as before it
                    if before is None:
                        del batch.slots[slot_key]
                    else:
                        batch.slots[slot_key].restore(before)
        if errors:
            raise by_code.BulkErrors(errors)
        plan, created = batch.plan()
        actor = audit.recorded_person(user)
        ids = bulk_write.write(plan, now=now, actor_id=getattr(actor, "pk", None),
                    api_key_id=user.key.pk if isinstance(user, KeyActor) else None)
    saved, seen = [], set()
    for key in touched:
        slot = batch.slots[key]
        pk = slot.total.pk or ids[created[key]]
        if pk not in seen:
            seen.add(pk)
            saved.append(pk)
    return saved


def indicator_returns_save_by_codes(*, user, items: list[dict]) -> list[int]:
    """Enter many returns at once, all or nothing, as ``by_code.indicator_return_save_by_codes`` would
    item by item in one transaction: each item is judged against the returns as the earlier
    items leave them; if any is refused, nothing is saved and ``by_code.BulkErrors`` lists
    every refused item (by index) with its errors. Returns the ids of the totals saved, in the
    items' order.

    A return changed by someone else between the check and the write refuses the write; the
    items are then checked once more against what is stored now, which names the stale ones."""
    try:
        return _enter_once(user, items)
    except (Changed, IntegrityError):
        pass
    try:
        return _enter_once(user, items)
    except Changed:
        raise by_code.BulkErrors(
            [], detail="Some of these returns were changed by someone else while they were being saved. Nothing "
            "was saved; read them again and send the items again.",
        ) from None
