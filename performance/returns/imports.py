"""Bulk entry of indicator returns by CSV: an upload that is checked row by row into a preview,
and a confirmation that saves every row or none.

The checks are the return form's own (``returns.validation``, ``catalogue.services.check_period_open``,
``returns.access``, the outlier and breakdown rules of ``catalogue.rules``), applied to the
whole file at once (``returns.import_checks``). The confirmation checks the file again and
saves it set-based, in one transaction (``returns.bulk_write``): a return changed since the
preview refuses the whole file. The rows are saved as drafts, with the same versions and
``ReturnEvent`` rows (action ``imported``) as ``workflow.indicator_return_save_draft`` writes; the
officer then submits them.

Limits: settings ``RETURN_IMPORT_MAX_BYTES`` and ``RETURN_IMPORT_MAX_ROWS``."""
from __future__ import annotations

import codecs
import csv
import io

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from kentforum.csvcells import unneutralised
from performance.catalogue import services
from performance.models import (
    BreakdownCategory,
    IndicatorReturn,
    ReportingPeriod,
    ReturnEvent,
    ReturnImport,
    WorkflowState,
)
from performance.models.scope import EDITABLE_STATES
from performance.returns import access, audit, bulk_write, validation, workflow
from performance.returns.exports import COLUMNS
from performance.returns.import_checks import (
    ParsedUpload,
    RowCheck,
    SlotRows,
    UploadContext,
    cell_error,
    check_slot,
    size_words,
)

REQUIRED_COLUMNS = {"period", "indicator_code", "area_gss_code", "value", "numerator", "denominator"}
OPTIONAL_COLUMNS = ("breakdown", "commentary", "version")
UTF16_WITHOUT_BOM = (
    "The file looks like UTF-16 text without a byte-order mark. In Excel choose Save As, then "
    "'CSV UTF-8 (Comma delimited)'."
)


def max_rows() -> int:
    """The most rows an upload may hold, the header not counted (settings ``RETURN_IMPORT_MAX_ROWS``)."""
    return settings.RETURN_IMPORT_MAX_ROWS


def max_bytes() -> int:
    """The largest upload, in bytes (settings ``RETURN_IMPORT_MAX_BYTES``)."""
    return settings.RETURN_IMPORT_MAX_BYTES


def size_error(size: int) -> str | None:
    """The upload's one size rule (``max_bytes``), in one wording for the form and the service."""
    if size > max_bytes():
        limit = max_bytes()
        sizes = (size_words(size), size_words(limit))
        if sizes[0] == sizes[1]:  # rounding would hide the difference
            sizes = (f"{size:,} bytes", f"{limit:,} bytes")
        return f"The file is {sizes[0]}; the limit is {sizes[1]}. Split it into smaller files."
    return None


def decode_upload(raw: bytes) -> str:
    """The text of an uploaded file: UTF-8 (with or without a byte-order mark) or UTF-16 with
    one. Anything else is refused with a message saying how to save the file."""
    if not raw:
        raise ValidationError("The file is empty: download the template, fill it in and upload that.")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise ValidationError(
                "The file starts like UTF-16 text but cannot be read as it. In Excel choose Save As, then "
                "'CSV UTF-8 (Comma delimited)'."
            ) from None
    sample = raw[:4000]
    for zeros, encoding in ((sample[1::2], "utf-16-le"), (sample[0::2], "utf-16-be")):
        # UTF-16 without a byte-order mark: Latin text has a NUL in every other byte.
        if len(zeros) >= 8 and zeros.count(0) >= 0.9 * len(zeros):
            raise ValidationError(UTF16_WITHOUT_BOM)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ValidationError(
            f"The file is not UTF-8 text (the first character that is not is on line {line}). In Excel choose "
            "Save As, then 'CSV UTF-8 (Comma delimited)'."
        ) from None


def _header(record: list[str]) -> list[str]:
    return [unneutralised(h.strip().lstrip("\ufeff").strip()).lower() for h in record]


def _delimiter(text: str) -> str:
    """Comma, unless the first line plainly uses semicolons or tabs (some spreadsheets' CSV)."""
    first = text.lstrip("\r\n").split("\n", 1)[0]
    if "," not in first:
        for candidate in (";", "\t"):
            if candidate in first:
                return candidate
    return ","


def _columns(header: list[str]) -> dict[str, int]:
    missing = REQUIRED_COLUMNS - set(header)
    if missing:
        raise ValidationError(
            f"The file is missing the column(s) {', '.join(sorted(missing))}. Download the template and keep its header row."
        )
    twice = sorted({h for h in header if h in COLUMNS and header.count(h) > 1})
    if twice:
        raise ValidationError(f"The column(s) {', '.join(twice)} appear more than once in the header; keep one of each.")
    index = {name: header.index(name) for name in COLUMNS if name in header}
    for name in OPTIONAL_COLUMNS:
        index.setdefault(name, len(header))  # absent: the empty cell added after the row's last
    return index


def parse_upload(*, text: str, organisation, period: ReportingPeriod, warnings: bool = True) -> ParsedUpload:
    """Check every row of an uploaded CSV against the rules, without saving anything. Raises
    ValidationError for a file that cannot be read at all (binary, wrong columns, too long);
    otherwise every problem is an error of its row, naming the row (as a spreadsheet numbers
    it, the header being row 1), the column and what is wrong. ``warnings=False`` skips what
    only the preview shows (outliers against history, breakdowns that do not add up). The file is
    read whole before any row is checked, so that the checks load only the indicators it names
    (``UploadContext``), not every one the organisation returns."""
    if "\x00" in text:
        if text.count("\x00") * 3 >= len(text):
            raise ValidationError(UTF16_WITHOUT_BOM)
        raise ValidationError("The file contains binary data; upload the CSV template filled in.")
    limit = max_rows()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    rows: list[dict] = []
    groups: dict[tuple[int, int], SlotRows] = {}
    line = 0
    try:
        for record in reader:
            line += 1
            if any(cell.strip() for cell in record):
                break
        else:
            raise ValidationError("The file has no header row: download the template and keep its header row.")
        header = _header(record)
        index = _columns(header)
        header_line, width = line, len(header)
        records = []  # read whole first: the indicators the file names decide what the checks load
        for record in reader:
            line += 1
            if line - header_line > limit:
                raise ValidationError(f"The file has more than {limit:,} rows; split it into files of at most {limit:,} rows.")
            records.append(record)
    except csv.Error as exc:
        raise ValidationError(
            f"The file could not be read as CSV at row {line + 1}: {exc}. Check for a quote mark that is not closed."
        ) from None
    at_code = index["indicator_code"]
    codes = {unneutralised(record[at_code].strip()) for record in records if len(record) > at_code}
    context = UploadContext(organisation, period, codes)
    check = RowCheck(organisation, period, context, index, rows, groups)
    at_value, at_numerator, at_denominator, at_commentary = (
        index["value"], index["numerator"], index["denominator"], index["commentary"]
    )
    for line, record in enumerate(records, start=header_line + 1):
        cells = len(record)
        if cells > width:
            if any(cell.strip() for cell in record[width:]):
                rows.append({"line": line, "errors": [cell_error(
                    f"column {width + 1}",
                    f"The row has {cells} cells but the header has {width}: more cells than the header.",
                )]})
                continue
        else:
            record.extend([""] * (width - cells + 1))
        value, numerator, denominator, commentary = (
            record[at_value].strip(), record[at_numerator].strip(), record[at_denominator].strip(),
            record[at_commentary].strip(),
        )
        if value or numerator or denominator or commentary:
            check(line, record, value, numerator, denominator, commentary)
        # else: a row left blank is not part of the return
    history = context.history(period, groups) if warnings and groups else {}
    ready = []
    for group in groups.values():
        check_slot(group, context, history if warnings else None)
        if group.total is not None and not group.frozen:
            ready.append(group)
    return ParsedUpload(rows=rows, groups=ready)


# --- Preview and apply -------------------------------------------------------------------------

@transaction.atomic
def import_preview(*, user, organisation, period: ReportingPeriod, filename: str, raw: bytes) -> ReturnImport:
    """Check an upload and keep it as a preview job; nothing is saved to the returns yet."""
    access.check_can_enter(user, organisation)
    services.check_period_open(period)
    if problem := size_error(len(raw)):
        raise ValidationError(problem)
    text = decode_upload(raw)
    parsed = parse_upload(text=text, organisation=organisation, period=period)
    if not parsed.rows:
        raise ValidationError("The file has no filled-in rows: enter values in the template before uploading it.")
    if not parsed.has_errors:
        for group in parsed.groups:
            if slot_changes(group) is None:  # the save's own rule: this return would not be written
                group.total["action"] = "unchanged"
    return ReturnImport.objects.create(
        organisation=organisation, period=period, uploaded_by=user, filename=filename[:255], content=text,
        rows=parsed.rows, state=ReturnImport.State.REJECTED if parsed.has_errors else ReturnImport.State.PREVIEW,
    )



@transaction.atomic
def import_apply(*, user, job: ReturnImport) -> ReturnImport:
    """Save every row of a previewed upload, or none. The file is checked again against what is
    stored now (returns may have changed since the preview), then saved set-based in one
    transaction; a return changed meanwhile refuses the whole file."""
    job = ReturnImport.objects.select_for_update().defer("rows").get(pk=job.pk)
    if job.uploaded_by_id != getattr(user, "pk", None):
        raise PermissionDenied("Only the person who uploaded the file may confirm it.")
    access.check_can_enter(user, job.organisation)
    if job.state != ReturnImport.State.PREVIEW:
        raise ValidationError("This upload has already been dealt with.")
    services.check_period_open(job.period)
    parsed = parse_upload(text=job.content, organisation=job.organisation, period=job.period, warnings=False)
    if not parsed.has_errors:
        try:
            with transaction.atomic():
                written = save_slots(parsed.groups, user=user, organisation=job.organisation, period=job.period)
        except (bulk_write.Changed, IntegrityError):
            # A return changed between the check and the write: say which, save nothing.
            parsed = parse_upload(text=job.content, organisation=job.organisation, period=job.period, warnings=False)
            if not parsed.has_errors:
                raise ValidationError("Some of these returns were changed while the file was being saved. Upload it again.") from None
    if parsed.has_errors:
        job.rows, job.state = parsed.rows, ReturnImport.State.REJECTED
        job.save(update_fields=["rows", "state", "updated_at"])
        return job
    job.state, job.applied_count = ReturnImport.State.APPLIED, written
    job.save(update_fields=["state", "applied_count", "updated_at"])
    return job


@transaction.atomic
def import_cancel(*, user, job: ReturnImport) -> ReturnImport:
    if job.uploaded_by_id != getattr(user, "pk", None):
        raise PermissionDenied("Only the person who uploaded the file may cancel it.")
    if job.state == ReturnImport.State.PREVIEW:
        job.state = ReturnImport.State.CANCELLED
        job.save(update_fields=["state", "updated_at"])
    return job


def preview_counts(job: ReturnImport) -> dict[str, int]:
    """What confirming ``job`` will change, one count per return (a total row): ``changed`` (created
    or updated), ``unchanged`` (left as stored, by ``slot_changes``, the rule ``save_slots`` follows) and
    ``errors`` (rows with errors)."""
    totals = [row for row in job.rows if not row.get("breakdown") and not row.get("errors") and row.get("action")]
    unchanged = sum(1 for row in totals if row["action"] == "unchanged")
    return {"changed": len(totals) - unchanged, "unchanged": unchanged, "errors": job.error_count}


def slot_changes(group: SlotRows) -> dict | None:
    """What saving ``group`` changes, or None if ``save_slots`` would write nothing for it: the
    services' rule (``audit.draft_changes``) over the stored return and its breakdown rows."""
    if group.frozen:
        return None
    values = validation.return_values(group.indicator, group.figures, group.current)
    if group.current is None:
        return dict(validation.creation_changes(values))
    breakdowns_changed = any(
        (stored.value if (stored := group.stored_breakdowns.get(category_id)) else None) != value
        for category_id, value in group.figures.breakdowns.items()
    )
    return audit.draft_changes(group.current, values, breakdowns_changed=breakdowns_changed)


# --- The set-based write -------------------------------------------------------------------------

def save_slots(groups: list[SlotRows], *, user, organisation, period) -> int:
    """Write the checked groups as drafts, as ``workflow.indicator_return_save_draft`` would one by one:
    a new return at version 1; an existing draft or returned return, if anything changed, at its
    version + 1 (only if still at the version read, else ``bulk_write.Changed``), its breakdown rows
    brought in line and moved to draft; one ``imported`` event per return written. A return
    whose figures the file leaves as stored is not written at all: it keeps its version, its
    state (a returned return stays returned) and its reason. No approved figure changes, so
    there is no rollup to queue. Returns how many returns were written. The write itself is ``bulk_write.write``, shared with the API's bulk
    entry: COPY and one conditional UPDATE on PostgreSQL."""
    labels = dict(BreakdownCategory.objects.values_list("pk", "label"))
    jsonable = audit.jsonable
    draft, imported = WorkflowState.DRAFT, ReturnEvent.Action.IMPORTED
    plan = bulk_write.Plan()
    written = 0
    for group in groups:
        indicator, figures, current = group.indicator, group.figures, group.current
        values = validation.return_values(indicator, figures, current)  # data quality as stored: the file has none
        slot = {"indicator_id": indicator.id, "locality_id": group.locality.id, "period_id": period.pk,
                "organisation_id": organisation.pk}
        stored_breakdowns = group.stored_breakdowns
        bump = 0 if current is None else 1
        new_breakdowns: list[bulk_write.NewReturn] = []
        breakdown_changes: dict = {}
        for category_id, value in figures.breakdowns.items():
            stored = stored_breakdowns.get(category_id)
            old = stored.value if stored else None
            if stored is None:
                if value is None:
                    continue
                new_breakdowns.append(bulk_write.NewReturn(
                    **slot, breakdown_id=category_id, value=value, numerator=None, denominator=None, commentary="",
                    state=draft, version=1 + bump,
                ))
            if old != value:
                breakdown_changes[f"breakdown: {labels.get(category_id, category_id)}"] = [jsonable(old), jsonable(value)]
        if current is None:
            changes = {k: [None, jsonable(v)] for k, (_, v) in validation.creation_changes(values).items()}
            plan.new.append(bulk_write.NewReturn(
                **slot, breakdown_id=None, **values, state=draft, version=1,
                events=(bulk_write.Event(imported, "", draft, 1, {**changes, **breakdown_changes}),),
            ))
            plan.new += new_breakdowns
            written += 1
            continue
        # The services' rule (``audit.draft_changes``): figures as stored, nothing is written,
        # and a returned return stays returned with its version and reason.
        diff = audit.draft_changes(current, values, breakdowns_changed=bool(breakdown_changes))
        if diff is None:
            continue  # nothing changed: no new version, no event
        written += 1
        changes = {**{k: [jsonable(a), jsonable(b)] for k, (a, b) in diff.items()}, **breakdown_changes}
        plan.new += new_breakdowns
        plan.updates.append(bulk_write.TotalUpdate(pk=current.pk, expected=current.version, version=current.version + 1,
                                             state=draft, **values))
        plan.events.append((current.pk, bulk_write.Event(imported, current.state, draft, current.version + 1, changes)))
        for category_id, stored in stored_breakdowns.items():
            changed = category_id in figures.breakdowns and figures.breakdowns[category_id] != stored.value
            plan.breakdown_updates.append(bulk_write.BreakdownUpdate(
                pk=stored.pk, set_value=changed, value=figures.breakdowns.get(category_id), state=draft,
                bump=2 if changed else 1,
            ))
    bulk_write.write(plan, now=timezone.now(), actor_id=getattr(audit.recorded_person(user), "pk", None))
    return written


# --- Submitting what an upload saved ----------------------------------------------------------------

def import_drafts(job: ReturnImport):
    """The returns an applied upload may submit: the total returns the file named (changed by it or
    left unchanged, since the officer checked every row of the file), of the uploader's
    organisation and the upload's period, still a draft or returned. Other drafts are not
    included: the officer did not check them in this upload."""
    if job.state != ReturnImport.State.APPLIED:
        return IndicatorReturn.objects.none()
    slots = {(row.get("indicator"), row.get("area")) for row in job.rows
             if not row.get("breakdown") and not row.get("errors") and row.get("action")}
    candidates = (
        IndicatorReturn.objects.filter(
            organisation=job.organisation_id, period=job.period_id, breakdown__isnull=True, state__in=EDITABLE_STATES,
            indicator__code__in={code for code, _ in slots}, locality__gss_code__in={gss for _, gss in slots},
        )
        .select_related("indicator", "locality", "period", "organisation")
        .order_by("indicator__code", "locality__name")
    )
    return [ret for ret in candidates if (ret.indicator.code, ret.locality.gss_code) in slots]


def import_submit_all(*, user, job: ReturnImport, versions: dict[int, int], confirm_warnings: bool):
    """Submit each return of ``import_drafts(job)`` that ``versions`` names (id: the version shown
    to the officer), each on its own through ``workflow.indicator_return_submit``: one that fails
    its checks, or changed since it was shown, is reported with the reason and left as it is.
    Returns (submitted, refused) where refused holds (return, reason)."""
    if job.uploaded_by_id != getattr(user, "pk", None):
        raise PermissionDenied("Only the person who uploaded the file may submit its returns.")
    access.check_can_enter(user, job.organisation)
    if job.state != ReturnImport.State.APPLIED:
        raise ValidationError("This upload has not been saved, so there is nothing of it to submit.")
    submitted, refused = [], []
    for ret in import_drafts(job):
        if ret.pk not in versions:
            continue
        try:
            workflow.indicator_return_submit(
                ret=ret, expected_version=versions[ret.pk], user=user, confirm_warnings=confirm_warnings,
            )
        except workflow.StaleReturnError as stale:
            refused.append((ret, f"it was changed by someone else after this page was shown (now version {stale.current.version})"))
        except workflow.UnconfirmedWarnings as warned:
            refused.append((ret, "it has warnings to confirm: " + "; ".join(warned.warnings)))
        except ValidationError as invalid:
            refused.append((ret, " ".join(invalid.messages)))
        else:
            submitted.append(ret)
    return submitted, refused
