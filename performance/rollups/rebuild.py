"""The full rebuild of the indicator summary on PostgreSQL: build beside, then swap.

Writing three million rows by upsert into a table with its indexes and deferred foreign-key
checks cost most of a rebuild (issue 19). So every row is computed by the same statements as
the incremental rollup (``postgres.insert_all``: one pass over every slice) into a fresh table
with no index or constraint; then the table's keys, indexes and foreign keys are built, each in
one pass, and it is analysed; and then, in one short transaction, it takes the place of the
summary under the names Django's migrations know. Until that moment dashboards read, and
incremental rollups write, the old table.

Nothing approved during the build is lost: from the start of a rebuild until its swap, every
incremental rollup (``engine.rollup_slices``) also writes the slices it recomputed into
``LOG_TABLE`` in its own transaction, and the swap recomputes those slices in the new table
before it takes the old one's place. Deleted rows are covered too, since a slice is recomputed
whole (rows without a source are deleted).

Lock order, the same everywhere: the advisory ``REBUILD_LOCK`` (incremental rollups hold it
shared; the start and the swap of a rebuild hold it exclusive), then the slice locks, then the
tables. A second advisory key (``RUNNING``, held for the whole rebuild by its session) keeps two
rebuilds from running at once.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from performance.rollups import postgres

REBUILD_LOCK = 7470001  # one PostgreSQL advisory key (the single-bigint key space) for the whole table
RUNNING = 7470002  # held by the session of the rebuild in progress, so that rebuilds take turns

TABLE = "performance_indicatorrollup"
NEW_TABLE = "kf_rollup_rebuild_new"
LOG_TABLE = "kf_rollup_rebuild_log"  # the slices incremental rollups recomputed during a rebuild
PREFIX = "kfnew_"  # of the new table's index and key names until the swap gives them the old names
LAST: dict[str, float] = {}  # the seconds each part of this process's last rebuild took (for the benchmark)


def note_slices(slices: list[tuple[int, int]]) -> None:
    """Record slices an incremental rollup recomputes, when a rebuild is in progress, so that its
    swap recomputes them in the new table. Called under the shared rebuild lock: the log table
    exists exactly from a rebuild's start to its swap, and both hold that lock exclusive."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [LOG_TABLE])
        if cursor.fetchone()[0]:
            cursor.execute(
                f"INSERT INTO {LOG_TABLE} (indicator_id, period_id) SELECT * FROM unnest(%s::bigint[], %s::bigint[])",
                [[s[0] for s in slices], [s[1] for s in slices]],
            )


def _definitions(cursor) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[tuple[str, str]]]:
    """The old table's keys (primary and unique, each with its index), its other constraints
    (foreign keys and checks) and its other indexes, each as (name, definition), read from the
    catalogue so that the new table gets exactly what the migrations made."""
    cursor.execute(
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
        "ORDER BY contype = 'f', conname", [TABLE],
    )
    keys, others = [], []
    for name, kind, definition in cursor.fetchall():
        (keys if kind in ("p", "u") else others).append((name, definition))
    cursor.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = %s::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid "
        "AND k.conrelid = i.indrelid) ORDER BY c.relname", [TABLE],
    )
    indexes = cursor.fetchall()
    return keys, others, indexes


def _start() -> None:
    """Make the empty new table and the log. Under the exclusive rebuild lock: incremental
    rollups that started before the log existed finish first (their rows are in what the build
    reads); those after it find the log and write to it."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REBUILD_LOCK])
        cursor.execute(f"DROP TABLE IF EXISTS {NEW_TABLE}, {LOG_TABLE}")  # a rebuild that died half way
        cursor.execute(f"CREATE TABLE {LOG_TABLE} (indicator_id bigint NOT NULL, period_id bigint NOT NULL)")
        # the columns, their defaults and the identity column (a sequence of its own), nothing more
        cursor.execute(f"CREATE TABLE {NEW_TABLE} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING IDENTITY)")
        _carry_sequence(cursor)


def _carry_sequence(cursor) -> None:
    """Move the new table's sequence on to where the summary's is (or past its highest id, if
    further), so that a new row never takes an id a kept row has."""
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id'), pg_get_serial_sequence(%s, 'id')", [NEW_TABLE, TABLE])
    new, old = cursor.fetchone()
    cursor.execute(
        f"SELECT setval(%s, greatest((SELECT last_value FROM {old}), (SELECT last_value FROM {new}), "
        f"(SELECT coalesce(max(id), 0) FROM {TABLE}), (SELECT coalesce(max(id), 0) FROM {NEW_TABLE}), 1))", [new],
    )


def _build(slices: list[list[int]], seconds: dict[str, float]) -> int:
    """Compute every row into the new table, then build its keys, indexes and constraints (each
    one pass over the finished rows; a foreign key is validated by one query, not a trigger a
    row) and analyse it. Incremental rollups go on meanwhile against the old table."""
    started = time.perf_counter()
    with transaction.atomic():
        rows = postgres.insert_all(slices, timezone.now(), NEW_TABLE, seconds=seconds)
    seconds["compute and insert"] = time.perf_counter() - started
    finish(NEW_TABLE, PREFIX, seconds)
    return rows


def finish(table: str, prefix: str, seconds: dict[str, float]) -> None:
    """Give ``table`` (a copy of the summary's columns, filled) the summary's keys, indexes and
    constraints, each built in one pass over its rows (a foreign key is validated by one query,
    not a trigger a row), under names beginning ``prefix``, and analyse it; notes the seconds of
    each half in ``seconds``. The rebuild's last steps; the benchmark times them alone on a
    plain copy of the summary, as the floor of producing the finished table at all."""
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        keys, others, indexes = _definitions(cursor)
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for name, definition in keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {_quoted(prefix + name)} {definition}")
        for name, definition in indexes:
            cursor.execute(_new_index(name, definition, table, prefix))
        for name, definition in others:  # foreign keys and checks: names are per table, so the old ones
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    seconds["keys, indexes and constraints"] = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")
    seconds["analyse"] = time.perf_counter() - started


def _quoted(name: str) -> str:
    return '"' + name[:63] + '"'


def _new_index(name: str, definition: str, table: str = NEW_TABLE, prefix: str = PREFIX) -> str:
    """The old index's definition for ``table``, under the name it has there until a swap."""
    head, _, tail = definition.partition(f" ON public.{TABLE} ")
    if not tail:
        head, _, tail = definition.partition(f" ON {TABLE} ")
    unique = "UNIQUE " if head.startswith("CREATE UNIQUE") else ""
    return f"CREATE {unique}INDEX {_quoted(prefix + name)} ON {table} {tail}"


def _swap() -> int:
    """Recompute in the new table the slices incremental rollups recomputed during the build,
    then drop the old table and give the new one its name, and its keys, indexes and sequence
    theirs, in one transaction under the exclusive rebuild lock (incremental rollups wait for
    it, dashboards for the table's lock only during these few statements). Returns how many
    slices were recomputed."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REBUILD_LOCK])
        cursor.execute(f"SELECT DISTINCT indicator_id, period_id FROM {LOG_TABLE} ORDER BY 1, 2")
        touched = cursor.fetchall()
        _carry_sequence(cursor)  # past the ids incremental rollups gave meanwhile
        postgres.rollup_slices(touched, timezone.now(), NEW_TABLE)
        keys, _, indexes = _definitions(cursor)
        # the foreign-key checks of the rows written so far now, not at commit: a table with checks
        # pending cannot be dropped (inside a caller's transaction they stay immediate to its end)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])
        sequence = cursor.fetchone()[0].rpartition(".")[2].strip('"')
        cursor.execute(f"DROP TABLE {TABLE}, {LOG_TABLE}")
        cursor.execute(f"ALTER TABLE {NEW_TABLE} RENAME TO {TABLE}")
        for name, _ in keys:
            cursor.execute(f'ALTER TABLE {TABLE} RENAME CONSTRAINT {_quoted(PREFIX + name)} TO "{name}"')
        for name, _ in indexes:
            cursor.execute(f'ALTER INDEX {_quoted(PREFIX + name)} RENAME TO "{name}"')
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])
        cursor.execute(f'ALTER SEQUENCE {cursor.fetchone()[0]} RENAME TO "{sequence}"')
    return len(touched)


def _swap_retrying(attempts: int = 3) -> int:
    """The swap, tried again if PostgreSQL ends it as a deadlock's victim: a transaction that read
    the summary and then waits for the rebuild lock, while the swap waits for that table, is a
    deadlock the server breaks by ending one of the two. The swap is all or nothing, so it may
    simply run again; the build is kept."""
    for attempt in range(1, attempts + 1):
        try:
            return _swap()
        except OperationalError as error:
            code = getattr(error.__cause__, "pgcode", None) or getattr(error.__cause__, "sqlstate", None)
            if code != "40P01" or attempt == attempts or connection.in_atomic_block:
                raise
    return 0  # not reached: the last attempt returns or raises


def rebuild(slices: list[list[int]], before_swap: Callable[[], None] | None = None) -> dict:
    """Rebuild every summary row of the given slices (every slice of the framework) beside the
    summary and swap it in; rows of other slices are gone afterwards, unless an incremental
    rollup recomputed them during the build. ``before_swap`` is called between the build and
    the swap (tests use it to approve a return meanwhile). Returns the number of rows, of slices
    recomputed at the swap, and the seconds each part took (the benchmark reports them). Meant
    to run outside a transaction: inside one, the old table stays locked from the swap until that
    transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [RUNNING])
    seconds: dict[str, float] = {}
    try:
        _start()
        try:
            rows = _build(slices, seconds)
            if before_swap is not None:
                before_swap()
            started = time.perf_counter()
            touched = _swap_retrying()
            seconds["swap"] = time.perf_counter() - started
        except BaseException:
            if not connection.in_atomic_block:  # (inside a transaction, its rollback drops them)
                with connection.cursor() as cursor:  # leave no half-built table behind, nor a log that grows
                    cursor.execute(f"DROP TABLE IF EXISTS {NEW_TABLE}, {LOG_TABLE}")
            raise
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [RUNNING])
    LAST.clear()
    LAST.update(seconds)
    return {"rows": rows, "touched slices": touched, "seconds": seconds}
