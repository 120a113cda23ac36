"""SDMX-CSV: approved values written as observations of the Kent Forum's data structure, and
observations read as figures for ``services.returns_import``.

The data structure definition (``KENT_FORUM:DSD_PERFORMANCE(1.0)``, dataflow
``KENT_FORUM:DF_PERFORMANCE(1.0)``; documented in the README, "Exchange with DHIS2 and SDMX"):

- dimensions: ``FREQ`` (Q, A, M), ``INDICATOR`` (our indicator codes), ``REF_AREA`` (GSS codes),
  ``BREAKDOWN`` (``_T`` for the total, else ``<dimension>__<category>`` of our breakdown codes),
  ``TIME_PERIOD`` (``exchange.periods``);
- measure: ``OBS_VALUE`` (the value; for a rate, the rate computed from its numerator and denominator);
- attributes: ``NUMERATOR``, ``DENOMINATOR`` (of a rate), ``UNIT_MEASURE`` (the indicator's unit),
  ``OBS_STATUS`` (A final, P provisional, E estimated, R revised), ``REPORTING_YEAR_START_DAY``
  (``--04-01`` for financial periods).

Written as SDMX-CSV 2.0 (SDMX 3.0: ``STRUCTURE``, ``STRUCTURE_ID``, ``ACTION`` first); read as
SDMX-CSV 2.0 or 1.0 (SDMX 2.1: ``DATAFLOW`` first). The import reads the dimensions, OBS_VALUE,
NUMERATOR, DENOMINATOR and REPORTING_YEAR_START_DAY; the other attributes are for the reader."""
from __future__ import annotations

import csv
import io

from exchange import periods
from exchange.figures import TOTAL, Figure, parse_amount, row_error
from kentforum.csvcells import number_cell, safe_cell, unneutralised

AGENCY, DATAFLOW, DSD, VERSION = "KENT_FORUM", "DF_PERFORMANCE", "DSD_PERFORMANCE", "1.0"
STRUCTURE_ID = f"{AGENCY}:{DATAFLOW}({VERSION})"
TOTAL_CODE = "_T"
DIMENSIONS = ("FREQ", "INDICATOR", "REF_AREA", "BREAKDOWN", "TIME_PERIOD")
ATTRIBUTES = ("NUMERATOR", "DENOMINATOR", "UNIT_MEASURE", "OBS_STATUS", "REPORTING_YEAR_START_DAY")
COLUMNS = ("STRUCTURE", "STRUCTURE_ID", "ACTION", *DIMENSIONS, "OBS_VALUE", *ATTRIBUTES)
REQUIRED = ("INDICATOR", "REF_AREA", "TIME_PERIOD", "OBS_VALUE")
FREQUENCIES = {"quarter": "Q", "financial_year": "A", "calendar_year": "A", "month": "M"}
OBS_STATUS = {"final": "A", "provisional": "P", "estimated": "E", "revised": "R"}
ACTIONS = {"", "I", "A", "M", "R"}  # information, append, merge, replace: all save the values


def breakdown_code(dimension: str | None, category: str | None) -> str:
    return f"{dimension}__{category}" if dimension else TOTAL_CODE


def breakdown_key(code: str) -> str:
    """A BREAKDOWN code as our breakdown key ("dimension:category", or "" for the total)."""
    if code in ("", TOTAL_CODE):
        return TOTAL
    dimension, separator, category = code.partition("__")
    if separator:
        return f"{dimension}:{category}"
    return code  # given as our own key


def observation_rows(rows):
    """The SDMX-CSV lines of approved values (``selectors.approved_values`` rows), header first."""
    yield list(COLUMNS)
    for (kind, start, code, unit, aggregation, gss, dimension, category, value, numerator, denominator,
         quality) in rows:
        time_period, start_day = periods.to_sdmx(kind, start)
        yield [
            "dataflow", STRUCTURE_ID, "I", FREQUENCIES[kind], safe_cell(code), safe_cell(gss),
            safe_cell(breakdown_code(dimension, category)), time_period, number_cell(value),
            number_cell(numerator) if aggregation == "ratio" else "", number_cell(denominator) if aggregation == "ratio" else "",
            safe_cell(unit), OBS_STATUS.get(quality, ""), start_day,
        ]


def write(rows, out) -> None:
    csv.writer(out).writerows(observation_rows(rows))


def read(text: str) -> tuple[list[Figure], list[dict]]:
    """The figures of an SDMX-CSV file and the errors of the rows that cannot be read (rows as a
    spreadsheet numbers them, the header being row 1)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        return [], [row_error(1, "header", f"The file could not be read as CSV: {exc}.")]
    if not header:
        return [], [row_error(1, "header", "The file is empty: send SDMX-CSV with a header row.")]
    # SDMX-CSV may label columns "ID: Name"; the ID is what counts.
    names = [unneutralised(h.strip().lstrip("\ufeff")).split(":")[0].strip().upper() for h in header]
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        return [], [row_error(1, "header", (
            f"The header lacks the column(s) {', '.join(missing)}. SDMX-CSV of {STRUCTURE_ID} has the columns "
            f"{', '.join(COLUMNS)}."))]
    at = {name: names.index(name) for name in names}
    structure_at = at.get("STRUCTURE_ID", at.get("DATAFLOW"))
    figures, errors = [], []
    line = 1
    try:
        for record in reader:
            line += 1
            if not any(cell.strip() for cell in record):
                continue
            record = record + [""] * (len(names) - len(record))

            def cell(name: str) -> str:
                return unneutralised(record[at[name]].strip()) if name in at else ""

            problems: list[dict] = []
            if structure_at is not None:
                structure = record[structure_at].strip()
                if structure.split("(")[0] not in (f"{AGENCY}:{DATAFLOW}", f"{AGENCY}:{DSD}"):
                    problems.append(row_error(line, "STRUCTURE_ID", (
                        f"“{structure[:40]}” is not the Kent Forum's dataflow; send observations of {STRUCTURE_ID}.")))
            action = cell("ACTION").upper()
            if action not in ACTIONS:
                problems.append(row_error(line, "ACTION", (
                    f"The action “{action[:5]}” is not offered: send I, A, M or R (values are saved; nothing is deleted).")))
            code, gss = cell("INDICATOR"), cell("REF_AREA")
            if not code:
                problems.append(row_error(line, "INDICATOR", "Give the indicator's code."))
            if not gss:
                problems.append(row_error(line, "REF_AREA", "Give the area's GSS code."))
            period = None
            try:
                period = periods.from_sdmx(cell("TIME_PERIOD"), cell("REPORTING_YEAR_START_DAY"))
            except periods.PeriodError as invalid:
                problems.append(row_error(line, "TIME_PERIOD", str(invalid)))
            breakdown = breakdown_key(cell("BREAKDOWN"))
            amounts = {"value": parse_amount(cell("OBS_VALUE"), line, "OBS_VALUE", problems)}
            if breakdown == TOTAL:
                for name in ("NUMERATOR", "DENOMINATOR"):
                    if cell(name):
                        amounts[name.lower()] = parse_amount(cell(name), line, name, problems)
            if problems:
                errors += problems
                continue
            for measure, amount in amounts.items():
                figures.append(Figure(line, code, gss, period, breakdown, measure, amount))
    except csv.Error as exc:
        errors.append(row_error(line + 1, "file", f"The file could not be read as CSV: {exc}. Check for a quote mark that is not closed."))
    return figures, errors
