"""The full rebuild on PostgreSQL that builds the summary beside the old one and swaps it in
(performance/rollups/rebuild.py): the same rows as the Python reference and as the incremental
upsert, the table as Django's migrations left it (names, keys, indexes, no foreign keys, sequence),
an approval made during a rebuild carried over the swap, and a second rebuild changing nothing."""
import datetime
import threading

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from localities.models import Locality
from performance.models import IndicatorReturn, IndicatorRollup, ReportingPeriod, WorkflowState
from performance.rollups import engine, postgres, rebuild, reference
from tests.conftest import requires_postgres

from .test_rollup_sql import COLUMNS, generated_data, snapshot

pytestmark = [requires_postgres]

TABLE = "performance_indicatorrollup"


def everything() -> dict:
    """Every summary row, by natural key."""
    return {
        (row["indicator_id"], row["locality_id"], row["period_id"], row["breakdown_key"]): tuple(row[c] for c in COLUMNS)
        for row in IndicatorRollup.objects.values("indicator_id", "locality_id", "period_id", "breakdown_key", *COLUMNS)
    }


def ids_by_key() -> dict:
    return {(i, a, p, b): pk for pk, i, a, p, b in IndicatorRollup.objects.values_list(
        "pk", "indicator_id", "locality_id", "period_id", "breakdown_key")}


def upserted_slice_by_slice() -> dict:
    """Today's incremental path over every slice: upsert into the table as it stands, emptied."""
    with transaction.atomic():
        IndicatorRollup.objects.all().delete()
        postgres.rollup_slices(engine.all_slices(), timezone.now())
    return everything()


def catalogue() -> dict:
    """What Django's migrations made of the summary table: columns, constraints, indexes, sequence."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type, is_nullable, column_default, is_identity, ordinal_position "
            "FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position", [TABLE])
        columns = cursor.fetchall()
        cursor.execute(
            "SELECT conname, contype, pg_get_constraintdef(oid), convalidated, condeferrable, condeferred "
            "FROM pg_constraint WHERE conrelid = %s::regclass ORDER BY conname", [TABLE])
        constraints = cursor.fetchall()
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s ORDER BY indexname", [TABLE])
        indexes = cursor.fetchall()
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])
        sequence = cursor.fetchone()[0]
        cursor.execute("SELECT relpersistence FROM pg_class WHERE oid = %s::regclass", [TABLE])
        persistence = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM pg_class WHERE relname IN (%s, %s)", [rebuild.NEW_TABLE, rebuild.LOG_TABLE])
        leftovers = cursor.fetchone()[0]
    return {"columns": columns, "constraints": constraints, "indexes": indexes, "sequence": sequence,
            "persistence": persistence, "leftovers": leftovers}


@pytest.mark.django_db
@pytest.mark.parametrize(("seed", "kind"), [(11, "quarter"), (12, "financial_year"), (13, "calendar_year")])
def test_the_swapped_in_table_is_the_python_reference_and_the_upsert_row_for_row(seed, kind):
    indicators, _ = generated_data(seed, kind)
    ids = [i.pk for i in indicators]
    result = engine.rebuild_all()
    rebuilt_all = everything()
    assert result["indicator rows"] == len(rebuilt_all)
    rebuilt = snapshot(ids)
    assert len(rebuilt) > 500
    IndicatorRollup.objects.filter(indicator__in=indicators).delete()
    for indicator_id, period_id in engine.all_slices():
        if indicator_id in ids:
            IndicatorRollup.objects.bulk_create(reference.compute_slice(
                next(i for i in indicators if i.pk == indicator_id), ReportingPeriod.objects.get(pk=period_id)))
    from_python = snapshot(ids)
    assert rebuilt.keys() == from_python.keys()
    differing = {key: (rebuilt[key], from_python[key]) for key in rebuilt if rebuilt[key] != from_python[key]}
    assert not differing, list(differing.items())[:3]
    upserted = upserted_slice_by_slice()
    assert rebuilt_all.keys() == upserted.keys()
    assert rebuilt_all == upserted


@pytest.mark.django_db
def test_after_the_swap_the_table_is_as_the_migrations_made_it_and_takes_new_rows():
    indicators, quarters = generated_data(14)
    before = catalogue()
    assert {name for name, _ in before["indexes"]} >= {"rollup_slice", "one_rollup_per_indicator_area_period_breakdown"}
    assert len(before["indexes"]) == 6, "no index of its own for the indicator and period keys (migrations 0015, 0016)"
    assert not [c for c in before["constraints"] if c[1] == "f"], "a derived table: no foreign keys (migration 0016)"
    engine.rebuild_all()
    after = catalogue()
    assert after == before
    assert after["leftovers"] == 0 and after["persistence"] == "p"
    # the sequence goes on after the rebuilt rows: a new row gets a fresh id
    highest = IndicatorRollup.objects.order_by("-pk").values_list("pk", flat=True).first()
    row = IndicatorRollup.objects.filter(indicator=indicators[0]).first()
    row.pk, row.breakdown_key = None, "new:row"
    row.save()
    assert row.pk > highest
    # the natural key holds
    with pytest.raises(IntegrityError), transaction.atomic():
        IndicatorRollup.objects.create(indicator=row.indicator, locality=row.locality, period=row.period,
                                       breakdown_key="new:row", computed_at=timezone.now())
    # and the incremental rollup works on the swapped-in table (the stray row is deleted)
    assert engine.rollup_slices([[indicators[0].pk, row.period_id]]) > 0
    assert not IndicatorRollup.objects.filter(breakdown_key="new:row").exists()


@pytest.mark.django_db
def test_a_second_rebuild_changes_nothing():
    """Not the rows, nor their ids (as under the upsert, a row keeps its id: links and API
    clients keep finding it)."""
    generated_data(15)
    first = engine.rebuild_all()
    rows = everything()
    ids = ids_by_key()
    again = engine.rebuild_all()
    assert again == first and everything() == rows
    assert ids_by_key() == ids
    with transaction.atomic():
        rewrite = postgres.rollup_slices(engine.all_slices(), timezone.now())
    assert rewrite["written"] == rewrite["deleted"] == 0, "the incremental path finds every row as it would make it"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_approval_and_a_withdrawal_during_a_rebuild_survive_the_swap(framework):
    """While the rebuild is between its build and its swap, another connection approves a return
    and sends another back, and rolls up their slices incrementally; dashboards see the change
    at once (in the old table), and the swapped-in table has it too."""
    indicators, quarters = generated_data(16)
    engine.rebuild_all()
    indicator, period = indicators[0], quarters[-1]
    waiting = IndicatorReturn.objects.filter(indicator=indicator, period=period, state=WorkflowState.SUBMITTED,
                                             breakdown__isnull=True).first()
    withdrawn = IndicatorReturn.objects.filter(indicator=indicator, period=period, state=WorkflowState.APPROVED,
                                               breakdown__isnull=False).first()
    assert waiting and withdrawn
    county = Locality.objects.get(kind="county")
    seen = {}

    def approve_meanwhile():
        try:
            IndicatorReturn.objects.filter(pk=waiting.pk).update(
                state=WorkflowState.APPROVED, value=7777, decided_at=datetime.datetime.now(datetime.UTC))
            IndicatorReturn.objects.filter(pk=withdrawn.pk).update(state=WorkflowState.RETURNED)
            engine.rollup_slices([[indicator.pk, p.pk] for p in quarters])
            seen["old table"] = IndicatorRollup.objects.get(
                indicator=indicator, period=period, locality_id=waiting.locality_id, breakdown_key="").value
        finally:
            connection.close()

    def before_swap():
        with connection.cursor() as cursor:  # the new table is built beside the old one
            cursor.execute("SELECT count(*) FROM kf_rollup_rebuild_new")
            seen["built"] = cursor.fetchone()[0]
        seen["rows before"] = IndicatorRollup.objects.count()
        other = threading.Thread(target=approve_meanwhile)
        other.start()
        other.join(60)

    before = everything()
    engine.rebuild_all(before_swap=before_swap)
    assert seen["built"] == seen["rows before"] == len(before)
    assert seen["old table"] == 7777, "dashboards saw the approval before the swap"
    row = IndicatorRollup.objects.get(indicator=indicator, period=period, locality_id=waiting.locality_id, breakdown_key="")
    assert row.value == 7777, "the approval survived the swap"
    gone = (indicator.pk, withdrawn.locality_id, period.pk,
            f"{withdrawn.breakdown.dimension.code}:{withdrawn.breakdown.code}")
    assert gone in before and gone not in everything(), "the withdrawn breakdown's row stayed deleted"
    assert IndicatorRollup.objects.filter(indicator=indicator, period=period, locality=county, breakdown_key="").exists()
    with transaction.atomic():
        rewrite = postgres.rollup_slices(engine.all_slices(), timezone.now())
    assert rewrite["written"] == rewrite["deleted"] == 0, "nothing approved meanwhile was lost"
    assert catalogue()["leftovers"] == 0


@pytest.mark.django_db
def test_with_no_foreign_keys_in_the_database_deleting_an_indicator_still_deletes_its_rows():
    indicators, _ = generated_data(16)
    engine.rebuild_all()
    gone, kept = indicators[0], indicators[1]
    assert IndicatorRollup.objects.filter(indicator=gone).exists()
    before = IndicatorRollup.objects.filter(indicator=kept).count()
    # Django cascades the deletion itself (on_delete=CASCADE is the ORM's)
    IndicatorReturn.objects.filter(indicator=gone).delete()
    gone.delete()
    assert not IndicatorRollup.objects.filter(indicator_id=gone.pk).exists()
    assert IndicatorRollup.objects.filter(indicator=kept).count() == before
