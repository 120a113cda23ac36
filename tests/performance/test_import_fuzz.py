"""Hostile input for the CSV bulk entry (``performance/imports.py``): hypothesis-generated files
that start from the officer's own template and break it (wrong encodings, NUL and random bytes,
formula cells, wrong, duplicated and missing columns, unterminated quotes, huge and unreadable
numbers, stale versions, other organisations' rows, other delimiters), and files at and over the
limits (bytes, rows, thousands of breakdown rows).

Properties, for every file:
- ``import_preview`` and ``import_apply`` raise nothing but ValidationError or PermissionDenied;
- a rejected file (refused outright, or with any row error) saves nothing: the returns and their
  audit events are exactly as before, value for value;
- every row error names its row (as a spreadsheet numbers it, the header being row 1) and its
  column, with a message in words;
- an accepted file, once applied, is what the services would have saved entry by entry
  (``indicator_return_save_draft``: the same returns, versions, states and audit changes), and the
  template downloaded afterwards carries the same figures and uploads again as no change at all;
- every return is whole afterwards (``assert_nothing_partly_saved``: its audit trail replays to
  what is stored, breakdowns included);
- through the upload page, no file gets a server error.

CI runs ``IMPORT_FUZZ_EXAMPLES`` (default 150) examples per property, derandomised.
"""
from __future__ import annotations

import codecs
import csv
import io
import os
import random
import re
import time
from decimal import Decimal, InvalidOperation

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kentforum import csvcells
from kentforum.forms import NUMBER_PLACES
from performance.catalogue import services
from performance.dashboards.views import _csv_response
from performance.models import (
    BreakdownCategory,
    Indicator,
    IndicatorReturn,
    MilestoneReturn,
    ReturnEvent,
    ReturnImport,
)
from performance.returns import exports, imports, validation, workflow
from tests.factories import IndicatorFactory, council, district

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

EXAMPLES = int(os.environ.get("IMPORT_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, database=None, derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- Whole returns -----------------------------------------------------------------------------

def _same(a, b) -> bool:
    """Audit values are strings of decimals, ISO dates, ints or text; "" and None both mean empty."""
    if a in (None, "") or b in (None, ""):
        return a in (None, "") and b in (None, "")
    try:
        return Decimal(str(a)) == Decimal(str(b))
    except (InvalidOperation, ValueError):
        return str(a) == str(b)


def _replay(ret, events) -> dict:
    """Check the trail's shape and replay its changes; returns the fields as the trail tells them."""
    label = f"{type(ret).__name__} {ret.pk} (v{ret.version}, {ret.state})"
    assert events, f"{label} has no audit event"
    first = events[0]
    assert first.action in ("created", "imported") and first.from_state == "" and first.version == 1, \
        f"{label} does not begin with its creation: {first.action} v{first.version}"
    assert [e.version for e in events] == list(range(1, ret.version + 1)), \
        f"{label}: event versions {[e.version for e in events]} do not count its changes"
    for before, after in zip(events, events[1:]):
        assert after.from_state == before.to_state, f"{label}: v{after.version} starts from {after.from_state}, not {before.to_state}"
    assert events[-1].to_state == ret.state, f"{label}: the last event leaves it {events[-1].to_state}"
    fields: dict = {}
    for event in events:
        for name, (old, new) in event.changes.items():
            if name == "state":
                continue
            assert _same(fields.get(name), old), f"{label}: v{event.version} says {name} was {old!r}, the trail had {fields.get(name)!r}"
            fields[name] = new
    return fields


def assert_nothing_partly_saved() -> int:
    """Every return that exists is whole: its audit trail begins with its creation, has one event
    per version, chains its states, ends in the state stored, and replays (field by field, before
    and after) to exactly the figures stored, breakdown values included; every breakdown value
    belongs to a total return of the same state and organisation and has no trail of its own.
    Returns how many returns were checked. (Also used by the API and form fuzz.)"""
    checked = 0
    events_of: dict = {}
    for event in ReturnEvent.objects.order_by("at", "id"):
        key = ("i", event.indicator_return_id) if event.indicator_return_id else ("m", event.milestone_return_id)
        events_of.setdefault(key, []).append(event)
    rows = list(IndicatorReturn.objects.select_related("breakdown"))
    totals = {(r.indicator_id, r.locality_id, r.period_id): r for r in rows if r.breakdown_id is None}
    parts: dict = {}
    for row in rows:
        if row.breakdown_id is None:
            continue
        total = totals.get((row.indicator_id, row.locality_id, row.period_id))
        assert total is not None, f"breakdown value {row.pk} ({row.breakdown.label}) has no total return"
        assert (row.state, row.organisation_id) == (total.state, total.organisation_id), \
            f"breakdown value {row.pk} is {row.state}, its total {total.pk} is {total.state}"
        assert ("i", row.pk) not in events_of, f"breakdown value {row.pk} has audit events of its own"
        parts.setdefault(total.pk, {})[f"breakdown: {row.breakdown.label}"] = row.value
    for ret in totals.values():
        told = _replay(ret, events_of.get(("i", ret.pk), []))
        stored = {"value": ret.value, "numerator": ret.numerator, "denominator": ret.denominator,
                  "commentary": ret.commentary, **parts.get(ret.pk, {})}
        for name in set(told) | set(stored):
            assert _same(told.get(name), stored.get(name)), \
                f"indicator return {ret.pk}: the trail says {name} is {told.get(name)!r}, the database {stored.get(name)!r}"
        checked += 1
    for ret in MilestoneReturn.objects.all():
        told = _replay(ret, events_of.get(("m", ret.pk), []))
        stored = {"status": ret.status, "percent_complete": ret.percent_complete,
                  "revised_date": ret.revised_date.isoformat() if ret.revised_date else None, "commentary": ret.commentary}
        for name in set(told) | set(stored):
            assert _same(told.get(name), stored.get(name)), \
                f"milestone return {ret.pk}: the trail says {name} is {told.get(name)!r}, the database {stored.get(name)!r}"
        checked += 1
    return checked


def snapshot() -> tuple:
    """The returns and their audit events, by natural key (no ids or times), to compare two states."""
    returns = {
        (r.indicator.code, r.locality.gss_code, r.period.label, r.breakdown_id): (
            r.organisation_id, r.state, r.version, r.value, r.numerator, r.denominator, r.commentary)
        for r in IndicatorReturn.objects.select_related("indicator", "locality", "period")
    }
    events = sorted(
        (e.indicator_return.indicator.code, e.indicator_return.locality.gss_code, e.version, e.action, e.from_state,
         e.to_state, e.actor_id, e.note, repr(sorted(e.changes.items())))
        for e in ReturnEvent.objects.filter(indicator_return__isnull=False).select_related(
            "indicator_return__indicator", "indicator_return__locality")
    )
    return returns, events


def counts() -> tuple[int, int]:
    return IndicatorReturn.objects.count(), ReturnEvent.objects.count()


# --- The data the files are about --------------------------------------------------------------

@pytest.fixture
def slots(officer, other_officer, period, count_indicator, rate_indicator):
    """Ashford's returns for the quarter, one of each kind an upload meets: T-KSI a draft at
    version 2 with its severity breakdown (updated by a file), T-RECYC nothing yet (created),
    T-SUB submitted (refused), T-BIG a count with no minimum; Dover's T-KSI a draft (not ours)."""
    severity = {c.code: c.pk for c in BreakdownCategory.objects.filter(dimension__code="severity")}
    ksi = workflow.indicator_return_save_draft(
        indicator=count_indicator, locality=district(), period=period, organisation=council(), user=officer,
        figures=validation.IndicatorFigures(value=Decimal(16), breakdowns={severity["fatal"]: Decimal(2), severity["serious"]: Decimal(14)}),
    )
    workflow.indicator_return_save_draft(
        indicator=count_indicator, locality=district(), period=period, organisation=council(), user=officer,
        expected_version=ksi.version, figures=validation.IndicatorFigures(
            value=Decimal(17), commentary="Corrected", breakdowns={severity["fatal"]: Decimal(3), severity["serious"]: Decimal(14)}),
    )
    submitted = IndicatorFactory(code="T-SUB", name="Submitted count", min_value=Decimal(0))
    services.assignment_ensure(organisation=council(), locality=district(), indicator=submitted)
    ret = workflow.indicator_return_save_draft(indicator=submitted, locality=district(), period=period, organisation=council(),
                                         user=officer, figures=validation.IndicatorFigures(value=Decimal(5)))
    workflow.indicator_return_submit(ret=ret, expected_version=ret.version, user=officer)
    big = IndicatorFactory(code="T-BIG", name="=Formula-looking name", polarity=Indicator.Polarity.HIGHER)
    services.assignment_ensure(organisation=council(), locality=district(), indicator=big)
    workflow.indicator_return_save_draft(
        indicator=count_indicator, locality=district("Dover"), period=period, organisation=council("Dover District Council"),
        user=other_officer, figures=validation.IndicatorFigures(value=Decimal(9)),
    )
    return period


def template_records(period, *, submitted=True) -> list[list[str]]:
    """The officer's template as rows of cells; ``submitted=False`` blanks the rows of returns
    already submitted or approved, as an officer must before uploading it (see
    ``test_the_template_as_downloaded_uploads_again``)."""
    out = io.StringIO()
    exports.write_template(out, council(), period)
    records = list(csv.reader(io.StringIO(out.getvalue())))
    if not submitted:
        done = set(IndicatorReturn.objects.filter(period=period, state__in=["submitted", "approved"], breakdown__isnull=True)
                   .values_list("indicator__code", "locality__gss_code"))
        for record in records[1:]:
            if (record[1], record[3]) in done:
                record[6:] = [""] * len(record[6:])
    return records


def template_bytes(records) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(records)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --- Files -------------------------------------------------------------------------------------

PLAIN_NUMBER = st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False).map(lambda d: f"{d:f}")
NUMBER = st.one_of(
    PLAIN_NUMBER, PLAIN_NUMBER, PLAIN_NUMBER, PLAIN_NUMBER, st.integers(0, 500).map(str), st.integers(0, 500).map(str),
    st.integers(-10**20, 10**20).map(str),
    st.integers(0, 10**9).map(lambda n: f"{n:,}"),
    st.integers(0, 100).map(lambda n: f"{n}%"), st.integers(0, 10**6).map(lambda n: f"£{n:,}"),
    st.sampled_from(["NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", "1e400", "1E+16", "9999999999999999.99999",
                     "9999999999999999.9999", "0.00005", "-0", "1e-30", "'42", "'-3", "- 5", "1 234", "1\u00a0234", "1_000",
                     "12,5", "0x10", "١٢", "∞", "", " ", "abc", "=1+1", "+5", "-5", "@5", "\t7", "5" * 400]),
)
TEXT = st.one_of(
    st.sampled_from(["", "Fewer collisions", "=HYPERLINK(\"http://evil.example\",\"x\")", "+cmd|' /C calc'!A0",
                     "-2+3", "@SUM(A1)", "\tindented", "'=already quoted", "line one\nline two", "\\N", "a\tb", "\\.",
                     "\u202eevil", "Zoë – 日本語 🙂", "x" * 5000, "x" * 5001]),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40),
)
ENCODINGS = ["utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "latin-1", "cp1252"]


@st.composite
def upload_files(draw, base: list[list[str]]):
    """A file as an officer (or an attacker) might upload it, built from the template ``base``,
    and what the test knows about it: the spreadsheet row of an injected bad number, and the
    plain numbers written into total rows (to check against what is stored)."""
    header, rows = list(base[0]), [list(r) for r in base[1:]]
    notes = {"bad_row": None, "plain": {}, "file_level": False}
    if draw(st.booleans()):
        return draw(gentle_files(header, rows, notes))
    # Fill in some rows.
    for row in rows:
        if draw(st.integers(0, 2)):
            row[6] = draw(NUMBER)
            if row[5] == "":
                if draw(st.booleans()):  # a rate's numerator and denominator, sometimes plausible
                    row[7], row[8] = (draw(NUMBER), draw(NUMBER)) if draw(st.booleans()) else ("45", "100")
                row[9] = draw(TEXT)
        if draw(st.integers(0, 5)) == 0:
            row[10] = draw(st.sampled_from(["", "1", "2", "3", "99", "x", "2.0", "'2", "-1", "99999999999999999999999"]))
        if draw(st.integers(0, 7)) == 0:
            column = draw(st.sampled_from([0, 1, 3, 5]))
            row[column] = draw(st.sampled_from(["", "2011/12 Q4", "=cmd", "'T-KSI", "T-KSI ", "E07000108", "E99999999",
                                                "severity:nope", "age_band:under-16", "severity:fatal", "T-NOPE"]))
    # Rows added: duplicates, Dover's return, junk.
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["duplicate", "dover", "short", "long", "blank"]))
        if kind == "duplicate" and rows:
            rows.insert(draw(st.integers(0, len(rows))), list(draw(st.sampled_from(rows))))
        elif kind == "dover":
            rows.append([base[1][0], "T-KSI", "", "E07000108", "Dover", "", draw(NUMBER), "", "", "", "1"])
        elif kind == "short":
            rows.append([base[1][0], "T-KSI"])
        elif kind == "long":
            rows.append(list(rows[0]) + ["", draw(st.sampled_from(["", "extra"]))] if rows else ["x"] * 14)
        else:
            rows.append([""] * len(header))
    # Remember a bad number put in a known row (checked when nothing else breaks the file).
    if rows and draw(st.integers(0, 3)) == 0:
        index = draw(st.integers(0, len(rows) - 1))
        key = rows[index][:6]
        if rows[index] in base[1:] and sum(r[:6] == key for r in rows) == 1:  # a row of the template, once
            rows[index][6] = draw(st.sampled_from(["abc", "12..5", "NaN", "1e999", "∞"]))
            notes["bad_row"] = index + 2
    for index, row in enumerate(rows):
        if len(row) == len(header) and row[5] == "" and re.fullmatch(r"\d+(\.\d+)?", row[6]):
            notes["plain"].setdefault((row[1], row[3]), (index + 2, Decimal(row[6])))
    # The header: columns dropped, repeated, renamed, reordered, cased.
    header_op = draw(st.sampled_from(["keep"] * 6 + ["drop", "duplicate", "rename", "shuffle", "upper", "drop_optional"]))
    table = [header] + rows
    if header_op == "drop":
        column = draw(st.integers(0, len(header) - 1))
        table = [[c for i, c in enumerate(r) if i != column] for r in table]
        notes["file_level"] = header[column] in imports.REQUIRED_COLUMNS
    elif header_op == "duplicate":
        column = draw(st.integers(0, len(header) - 1))
        table = [r + [r[column] if column < len(r) else ""] for r in table]
        notes["file_level"] = True
    elif header_op == "rename":
        column = draw(st.integers(0, len(header) - 1))
        table[0] = list(header)
        table[0][column] = draw(st.sampled_from(["valeur", "", "=value", "VALUE ", "'value"]))
        notes["file_level"] = header[column] in imports.REQUIRED_COLUMNS and table[0][column].strip().lower() not in ("value", "'value")
    elif header_op == "shuffle":
        order = draw(st.permutations(range(len(header))))
        table = [[r[i] if i < len(r) else "" for i in order] + r[len(header):] for r in table]
    elif header_op == "upper":
        table[0] = [h.upper() for h in header]
    elif header_op == "drop_optional":
        keep = [i for i, h in enumerate(header) if h in imports.REQUIRED_COLUMNS or draw(st.booleans())]
        table = [[r[i] for i in keep if i < len(r)] for r in table]
    # Written out: delimiter, quoting, line ends.
    delimiter = draw(st.sampled_from([",", ",", ",", ";", "\t"]))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=draw(st.sampled_from(["\r\n", "\n", "\r"])),
                        quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])))
    writer.writerows(table)
    text = out.getvalue()
    if delimiter != "," and text.split("\n", 1)[0].count(",") and text.split("\n", 1)[0].count(delimiter) == 0:
        notes["file_level"] = True
    # Corruption of the text.
    corruption = draw(st.sampled_from(["none"] * 8 + ["quote", "nul", "truncate", "garbage_line"]))
    if corruption == "quote":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + '"' + text[at:]
        notes["file_level"] = True
    elif corruption == "nul":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + "\x00" + text[at:]
        notes["file_level"] = True
    elif corruption == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
        notes["file_level"] = True
    elif corruption == "garbage_line":
        text += draw(st.text(max_size=50)) + "\n"
        notes["file_level"] = True
    encoding = draw(st.sampled_from(ENCODINGS))
    try:
        raw = text.encode(encoding)
    except UnicodeEncodeError:
        raw = text.encode("utf-8")
        encoding = "utf-8"
    if encoding not in ("utf-8", "utf-8-sig", "utf-16"):
        notes["file_level"] = True
    if draw(st.integers(0, 9)) == 0:  # bytes that are not text at all
        raw = draw(st.binary(max_size=2000)) if draw(st.booleans()) else raw[: len(raw) // 2] + draw(st.binary(min_size=1, max_size=64))
        notes["file_level"] = True
    notes["encoding"] = encoding
    return raw, notes


@st.composite
def gentle_files(draw, header, rows, notes):
    """A file an officer means: plain figures (a rate's numerator within its denominator),
    any commentary a spreadsheet allows (formulas too), the template's versions, its columns
    perhaps reordered or upper-cased, saved as UTF-8 or UTF-16 with a byte-order mark."""
    for index, row in enumerate(rows):
        if not draw(st.integers(0, 3)):
            continue
        if row[1] == "T-RECYC":
            denominator = draw(st.integers(1, 10**6))
            row[6], row[7], row[8] = "", str(draw(st.integers(0, denominator))), f"{denominator:,}" if draw(st.booleans()) else str(denominator)
        else:
            row[6] = draw(st.one_of(PLAIN_NUMBER, st.integers(0, 500).map(str), st.just("")))
            if row[5] == "" and re.fullmatch(r"\d+(\.\d+)?", row[6]):
                notes["plain"].setdefault((row[1], row[3]), (index + 2, Decimal(row[6])))
        if row[5] == "":
            row[9] = draw(TEXT.filter(lambda t: len(t) <= validation.COMMENTARY_MAX_LENGTH))
    table = [header] + rows
    if draw(st.booleans()):
        order = draw(st.permutations(range(len(header))))
        table = [[r[i] for i in order] for r in table]
    if draw(st.booleans()):
        table[0] = [h.upper() for h in table[0]]
    out = io.StringIO()
    csv.writer(out, quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))).writerows(table)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
    notes["encoding"] = encoding
    return out.getvalue().encode(encoding), notes


# --- The checks --------------------------------------------------------------------------------

COLUMN = re.compile(r"^(%s|column \d+)$" % "|".join(exports.COLUMNS))
NOT_WORDS = re.compile(r"Traceback|Decimal\(|<[a-z_.]+ object|\bNone\b|\{'|\[\]|Error\(|errno|\\x[0-9a-f]{2}", re.I)


def assert_clear_row_errors(job: ReturnImport) -> None:
    for row in job.rows:
        assert isinstance(row["line"], int) and row["line"] >= 2, f"a row is numbered {row['line']!r}"
        for error in row.get("errors", []):
            assert COLUMN.match(error["column"]), f"row {row['line']}: the error names no column: {error}"
            message = error["message"]
            assert 10 <= len(message) <= 400 and (message[0].isupper() or message[0] == "“") and message.rstrip("”").endswith("."), \
                f"row {row['line']}, {error['column']}: not a sentence: {message!r}"
            assert not NOT_WORDS.search(message.replace("\u202e", "")), f"row {row['line']}: {message!r} is not in words"


def assert_clear_file_error(error: ValidationError) -> None:
    for message in error.messages:
        assert 10 <= len(message) <= 400 and message.rstrip("”").endswith("."), f"not a sentence: {message!r}"
        assert not NOT_WORDS.search(message), f"{message!r} is not in words"


def preview(officer, period, raw: bytes):
    """The preview, or the ValidationError that refused the file; anything else fails the test."""
    try:
        return imports.import_preview(user=officer, organisation=council(), period=period, filename="returns.csv", raw=raw), None
    except (ValidationError, PermissionDenied) as error:
        return None, error


def apply_by_services(officer, period, job) -> None:
    """What the services save for the same file, entry by entry: the reference for ``import_apply``."""
    parsed = imports.parse_upload(text=job.content, organisation=council(), period=period, warnings=False)
    assert not parsed.has_errors
    for group in parsed.groups:
        workflow.indicator_return_save_draft(
            indicator=group.indicator, locality=group.locality, period=period, organisation=council(), user=officer,
            figures=group.figures, expected_version=group.current.version if group.current else None,
            action=ReturnEvent.Action.IMPORTED,
        )


class Rollback(Exception):
    pass


def in_savepoint(fn):
    """Run ``fn`` and roll back what it wrote, so every example starts from the same returns."""
    result = None
    try:
        with transaction.atomic():
            result = fn()
            raise Rollback
    except Rollback:
        pass
    return result


# --- The properties ----------------------------------------------------------------------------

STATS = {"examples": 0, "refused": 0, "rejected": 0, "applied": 0}


def test_fuzzed_uploads_are_refused_whole_or_saved_as_the_services_would(officer, slots):
    period = slots
    base = template_records(period, submitted=False)
    before_returns, before_events = snapshot()
    assert_nothing_partly_saved()

    @FUZZ
    @given(upload=upload_files(base))
    def check(upload):
        raw, notes = upload
        STATS["examples"] += 1

        def run():
            job, error = preview(officer, period, raw)
            assert counts() == (len(before_returns), len(before_events)), "a preview saved returns"
            if error is not None:
                STATS["refused"] += 1
                assert_clear_file_error(error)
                return
            assert_clear_row_errors(job)
            if notes["bad_row"] is not None and not notes["file_level"]:
                assert any(e["column"] == "value" for r in job.rows if r["line"] == notes["bad_row"] for e in r.get("errors", [])), \
                    f"row {notes['bad_row']} has a bad value and no error on it: {job.rows}"
            if job.state == ReturnImport.State.REJECTED:
                STATS["rejected"] += 1
                with pytest.raises(ValidationError, match="already been dealt with"):
                    imports.import_apply(user=officer, job=job)
                assert snapshot() == (before_returns, before_events), "a rejected file changed returns"
                return
            assert not notes["bad_row"] or notes["file_level"], "a file with a bad number was accepted"
            # The reference: the same file entered through the services, one return at a time.
            expected = in_savepoint(lambda: (apply_by_services(officer, period, job), snapshot())[1])
            try:
                applied = imports.import_apply(user=officer, job=job)
            except (ValidationError, PermissionDenied) as error:
                assert_clear_file_error(error)
                assert snapshot() == (before_returns, before_events), "a refused confirmation changed returns"
                return
            assert applied.state == ReturnImport.State.APPLIED, f"a previewed file was {applied.state} on confirmation: {applied.rows}"
            STATS["applied"] += 1
            after = snapshot()
            assert_nothing_partly_saved()
            assert after == expected, "the import saved something other than the services would"
            # The plain numbers written in total rows are what is stored.
            stored = {(r.indicator.code, r.locality.gss_code): r for r in IndicatorReturn.objects.filter(
                period=period, breakdown__isnull=True).select_related("indicator", "locality")}
            for (code, gss), (line, number) in notes["plain"].items():
                ret = stored.get((code, gss))
                if ret is not None and not ret.indicator.is_rate and ret.organisation == council() and ret.state == "draft" \
                        and any(r["line"] == line and r.get("action") for r in job.rows):
                    assert ret.value == number.quantize(NUMBER_PLACES), f"row {line}: {number} was stored as {ret.value}"
            # Round trip: the template downloaded now uploads again as no change at all.
            again, error = preview(officer, period, template_bytes(template_records(period, submitted=False)))
            assert error is None or "no filled-in rows" in error.messages[0], error
            if again is not None:
                assert again.state == ReturnImport.State.PREVIEW, f"the re-exported template is rejected: {again.rows}"
                imports.import_apply(user=officer, job=again)
                assert snapshot() == after, "uploading the re-exported template changed returns"

        in_savepoint(run)

    check()
    print(f"\nimport fuzz: {STATS}")
    assert STATS["refused"] and STATS["rejected"] and STATS["applied"], f"the generator missed a kind of outcome: {STATS}"


def test_the_template_as_downloaded_uploads_again(officer, slots):
    records = template_records(slots)
    assert any(r[1] == "T-SUB" and r[6] == "5" for r in records), "the template carries the submitted return's figures"
    job = imports.import_preview(user=officer, organisation=council(), period=slots, filename="t.csv", raw=template_bytes(records))
    assert job.state == ReturnImport.State.PREVIEW, job.rows


@FUZZ
@given(raw=st.one_of(
    st.binary(max_size=3000),
    st.text(max_size=300).map(lambda t: t.encode("utf-8")),
    st.text(max_size=300).map(lambda t: t.encode("utf-16-le", "surrogatepass")),
    st.text(max_size=300).map(lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le", "surrogatepass")),
    st.text(max_size=300).map(lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be", "surrogatepass")),
    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
))
def test_any_bytes_get_a_clear_answer_and_save_nothing(officer, slots, raw):
    before = counts()
    job, error = in_savepoint(lambda: preview(officer, slots, raw))
    if error is not None:
        assert_clear_file_error(error)
    else:
        assert_clear_row_errors(job)
    assert counts() == before


def test_utf16_with_a_byte_order_mark_reads_as_utf8(officer, slots):
    records = template_records(slots)
    records[1][6], records[1][9] = "12", "Zoë’s figures"
    text = "".join(",".join(f'"{c}"' for c in r) + "\r\n" for r in records)
    results = []
    for raw in (text.encode("utf-8"), text.encode("utf-16"), codecs.BOM_UTF8 + text.encode("utf-8")):
        job, error = in_savepoint(lambda raw=raw: preview(officer, slots, raw))
        assert error is None, error
        results.append(job.rows)
    assert results[0] == results[1] == results[2]


@pytest.mark.parametrize("encoding, commentary, message", [
    ("latin-1", "Zoë's figures, café", "not UTF-8"), ("cp1252", "Zoë's figures, café", "not UTF-8"),
    ("utf-16-le", "Plain figures", "UTF-16 text without a byte-order mark"),
    ("utf-16-be", "Plain figures", "UTF-16 text without a byte-order mark"),
    ("utf-16-le", "Zoë's figures, café", "UTF-16 text without a byte-order mark"),
])
def test_wrong_encodings_are_refused_with_how_to_save_the_file(officer, slots, encoding, commentary, message):
    records = template_records(slots)
    records[1][6], records[1][9] = "12", commentary
    text = "\r\n".join(",".join(r) for r in records)
    before = counts()
    with pytest.raises(ValidationError, match=message) as refused:
        imports.import_preview(user=officer, organisation=council(), period=slots, filename="x.csv", raw=text.encode(encoding))
    assert "CSV UTF-8" in refused.value.messages[0]
    assert counts() == before


# --- Limits ------------------------------------------------------------------------------------

def _file(records) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(records)
    return out.getvalue().encode("utf-8")


def test_a_file_over_the_byte_limit_is_refused_by_the_service_and_the_page(client, officer, slots):
    records = template_records(slots)
    records[1][9] = "x" * 100
    raw = _file(records)
    raw += b"\r\n" * ((imports.max_bytes() + 1 - len(raw)) // 2 + 1)
    assert len(raw) > imports.max_bytes()
    before = counts()
    limit = f"the limit is {imports.max_bytes():,} bytes"  # 5 MB: one byte over, said to the byte
    with pytest.raises(ValidationError, match=rf"The file is {len(raw):,} bytes; {limit}"):
        imports.import_preview(user=officer, organisation=council(), period=slots, filename="big.csv", raw=raw)
    client.force_login(officer)
    response = client.post(reverse("performance:upload", args=[slots.pk]), {"file": SimpleUploadedFile("big.csv", raw, "text/csv")})
    assert response.status_code == 400 and limit in response.content.decode()
    assert counts() == before and not ReturnImport.objects.exists()


@override_settings(RETURN_IMPORT_MAX_ROWS=5000)  # the rule, not the default (60,000), whose file is slow to build
def test_a_file_over_max_rows_is_refused_and_one_at_max_rows_is_read(officer, slots):
    records = template_records(slots)
    blank = [records[1][0], "", "", "", "", "", "", "", "", "", ""]
    filled = [r for r in records[1:] if r[1] == "T-BIG"]
    filled[0][6] = "3"
    at_limit = [records[0]] + filled + [blank] * (imports.max_rows() - 1)
    job = imports.import_preview(user=officer, organisation=council(), period=slots, filename="ok.csv", raw=_file(at_limit))
    assert job.state == ReturnImport.State.PREVIEW and [r["line"] for r in job.rows] == [2]
    before = counts()
    with pytest.raises(ValidationError, match="more than 5,000 rows"):
        imports.import_preview(user=officer, organisation=council(), period=slots, filename="long.csv", raw=_file(at_limit + [blank]))
    assert counts() == before


def test_thousands_of_breakdown_rows_each_get_their_error_quickly_and_save_nothing(officer, slots):
    """4,999 breakdown rows: one good set for T-KSI, the rest repeats and unknown categories."""
    records = template_records(slots)
    header, total = records[0], next(r for r in records[1:] if r[1] == "T-KSI" and r[5] == "")
    total = list(total)
    total[6] = "20"
    rows = [total]
    rng = random.Random(7)
    for n in range(imports.max_rows() - 1):
        category = rng.choice(["severity:fatal", "severity:serious", f"severity:made-up-{n}", "age_band:under-16", "=1+1"])
        rows.append([total[0], "T-KSI", "", total[3], "", category, str(rng.randint(0, 50)), "", "", "", ""])
    before = counts()
    started = time.perf_counter()
    job = imports.import_preview(user=officer, organisation=council(), period=slots, filename="many.csv", raw=_file([header] + rows))
    elapsed = time.perf_counter() - started
    print(f"\npreview of {len(rows):,} rows with breakdowns: {elapsed:.2f} s")
    assert job.state == ReturnImport.State.REJECTED
    assert_clear_row_errors(job)
    errors = {r["line"] for r in job.rows if "errors" in r}
    assert len(job.rows) == len(rows) and len(errors) >= len(rows) - 3, "every repeated or unknown breakdown row is an error"
    assert counts() == before
    assert elapsed < 30, f"a 5,000-row preview took {elapsed:.1f} s"


# --- Through the page --------------------------------------------------------------------------

def test_fuzzed_uploads_through_the_page_never_get_a_server_error(officer, slots):
    """The upload page and the confirmation, over the same files: 302 to the preview or 400 with
    the message; confirming is 200 or 302. Django's test client re-raises a view's exception, so
    a server error fails here with its traceback."""
    base = template_records(slots, submitted=False)
    client = Client()
    client.force_login(officer)
    seen = {}

    @settings(FUZZ, max_examples=max(20, EXAMPLES // 3))
    @given(upload=upload_files(base), name=st.sampled_from(["returns.csv", "x" * 300 + ".csv", "=cmd.csv", "r\u00e9turns.txt"]))
    def check(upload, name):
        raw, _ = upload

        def run():
            before = counts()
            response = client.post(reverse("performance:upload", args=[slots.pk]), {"file": SimpleUploadedFile(name, raw, "text/csv")})
            assert response.status_code in (302, 400), response.status_code
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
            if response.status_code == 400:
                page = response.content.decode()
                assert "govuk-error-summary" in page and counts() == before
                return
            page = client.get(response["Location"])
            assert page.status_code == 200
            confirmed = client.post(response["Location"], {"action": "confirm"})
            assert confirmed.status_code in (200, 302)
            if confirmed.status_code == 200:
                assert counts() == before, "a confirmation that was not applied changed returns"

        in_savepoint(run)

    check()
    assert len(seen) == 2, f"the files all got {seen}"


# --- Every CSV export neutralises formulas ------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
A_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def assert_no_live_formula(text: str, where: str) -> list[list[str]]:
    """No cell of a CSV starts as a spreadsheet formula would, except a plain (negative) number."""
    records = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    for line, record in enumerate(records, 1):
        for cell in record:
            assert not cell.startswith(FORMULA_STARTS) or A_NUMBER.match(cell), f"{where}, row {line}: live formula {cell!r}"
    return records


@given(text=st.text(st.characters(blacklist_categories=("Cs",)), max_size=30) | st.sampled_from(
    ["=1+1", "+1", "-1", "@A1", "\t=1", "\r=1", "-12.5", "'=x", "=", "-", "—5"]))
def test_safe_cell_neutralises_every_formula_and_the_import_takes_it_back(text):
    cell = csvcells.safe_cell(text)
    assert not cell.startswith(FORMULA_STARTS)
    assert cell == text or cell == "'" + text
    assert csvcells.unneutralised(cell) == text or text.startswith("'")


def test_every_csv_export_neutralises_formulas_and_keeps_negative_numbers(client, officer, approver, period, count_indicator):
    """The officers' template, the approved-values export and an API list as CSV, each over an
    indicator named like a formula, a formula commentary and a negative approved value."""
    signed = IndicatorFactory(code="T-NEG", name="=HYPERLINK(\"http://evil.example\")", polarity=Indicator.Polarity.HIGHER,
                              unit=Indicator.Unit.SCORE, aggregation=Indicator.Aggregation.NONE)
    services.assignment_ensure(organisation=council(), locality=district(), indicator=signed)
    ret = workflow.indicator_return_save_draft(indicator=signed, locality=district(), period=period, organisation=council(), user=officer,
                                         figures=validation.IndicatorFigures(value=Decimal("-12.5"), commentary="+cmd|' /C calc'!A0"))
    workflow.indicator_return_submit(ret=ret, expected_version=ret.version, user=officer, confirm_warnings=True)
    workflow.return_approve(ret=ret, expected_version=ret.version, user=approver)
    client.force_login(officer)
    template = assert_no_live_formula(client.get(reverse("performance:template", args=[period.pk])).content.decode(), "template")
    assert any(r[2] == "'=HYPERLINK(\"http://evil.example\")" and r[9] == "'+cmd|' /C calc'!A0" for r in template)
    client.logout()
    streamed = client.get("/api/v1/exports/approved-values.csv")
    export = assert_no_live_formula(b"".join(streamed.streaming_content).decode(), "export")
    assert any(r[1] == "T-NEG" and r[4] == "-12.5" for r in export), "a negative value stays a number"
    for url in ("/api/v1/indicators/?format=csv", "/api/v1/indicator-returns/?format=csv&state=approved"):
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        records = assert_no_live_formula(response.content.decode(), url)
        assert any("'=HYPERLINK(\"http://evil.example\")" in r or "-12.5000" in r or "-12.5" in r for r in records), url


def test_board_report_csv_keeps_negative_numbers_as_numbers():


    response = _csv_response([["indicator", "value", "change"], ["=cmd", Decimal("-2.5"), -3]], "r.csv")
    records = assert_no_live_formula(response.content.decode(), "board report")
    assert records[1] == ["'=cmd", "-2.5", "-3"]
