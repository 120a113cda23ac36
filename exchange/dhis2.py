"""DHIS2 ``dataValueSets`` JSON: approved values written as data values, and data values read as
figures for ``services.returns_import``, through the mapping tables (``models``).

A data value set is ``{"dataValues": [{"dataElement", "period", "orgUnit", "categoryOptionCombo",
"value"}, ...]}``; the period is DHIS2's ISO period (``exchange.periods``) and the value a number
as text. Reading, a set's own ``period`` and ``orgUnit`` stand for values that give none."""
from __future__ import annotations

from exchange import periods, selectors
from exchange.figures import TOTAL, Figure, parse_amount, row_error
from exchange.models import Measure
from kentforum.csvcells import number_cell


def element_index(mappings) -> dict[tuple[str, str, str], tuple[str, str]]:
    """(indicator code, breakdown key or "", measure): (data element, category option combo)."""
    index = {}
    for m in mappings:
        key = f"{m.breakdown.dimension.code}:{m.breakdown.code}" if m.breakdown_id else TOTAL
        index[(m.indicator.code, key, m.measure)] = (m.data_element, m.category_option_combo)
    return index


def data_value_set(rows) -> dict:
    """Approved values (``selectors.approved_values`` rows) as a data value set: one data value per
    mapped figure (value, numerator, denominator) of an area with an organisation unit. Figures
    with no mapping are left out."""
    elements = element_index(selectors.data_element_mappings())
    org_units = selectors.org_unit_mappings()
    values = []
    for (kind, start, code, _unit, _aggregation, gss, dimension, category, value, numerator, denominator,
         _quality) in rows:
        org_unit = org_units.get(gss)
        if org_unit is None:
            continue
        key = f"{dimension}:{category}" if dimension else TOTAL
        period = periods.to_dhis2(kind, start)
        for measure, amount in ((Measure.VALUE, value), (Measure.NUMERATOR, numerator), (Measure.DENOMINATOR, denominator)):
            element = elements.get((code, key, measure))
            if element is None or amount is None:
                continue
            item = {"dataElement": element[0], "period": period, "orgUnit": org_unit}
            if element[1]:
                item["categoryOptionCombo"] = element[1]
            item["value"] = number_cell(amount)
            values.append(item)
    return {"dataValues": values}


def text_of(item: dict, name: str, default="") -> str:
    value = item.get(name, default)
    return value.strip() if isinstance(value, str) else ""


def read_data_value_set(payload) -> tuple[list[Figure], list[dict]]:
    """The figures of a data value set, and the errors of the values that cannot be read (rows
    count the data values from 1): an unmapped data element, combo or organisation unit, a
    period that is not DHIS2's, a value that is not a number."""
    if not isinstance(payload, dict) or not isinstance(payload.get("dataValues"), list):
        return [], [row_error(0, "dataValues", 'Send a data value set: {"dataValues": [{"dataElement": …, "period": …, '
                                               '"orgUnit": …, "value": …}, …]}.')]
    by_element: dict[tuple[str, str], tuple] = {}
    for m in selectors.data_element_mappings():
        key = f"{m.breakdown.dimension.code}:{m.breakdown.code}" if m.breakdown_id else TOTAL
        by_element[(m.data_element, m.category_option_combo)] = (m.indicator.code, key, m.measure)
    localities = {org_unit: gss for gss, org_unit in selectors.org_unit_mappings().items()}
    default_period, default_org_unit = text_of(payload, "period"), text_of(payload, "orgUnit")
    figures, errors = [], []
    for row, item in enumerate(payload["dataValues"], start=1):
        if not isinstance(item, dict):
            errors.append(row_error(row, "dataValues", "A data value is an object with dataElement, period, orgUnit and value."))
            continue
        problems: list[dict] = []
        element, combo = text_of(item, "dataElement"), text_of(item, "categoryOptionCombo")
        mapped = by_element.get((element, combo)) or by_element.get((element, ""))
        if mapped is None and not combo:  # DHIS2's default combo: the element's one mapping
            only = [target for (e, _), target in by_element.items() if e == element]
            mapped = only[0] if len(only) == 1 else None
        if mapped is None:
            if not element:
                problems.append(row_error(row, "dataElement", "Give the data value's dataElement."))
            elif any(e == element for e, _ in by_element):
                problems.append(row_error(row, "categoryOptionCombo", (
                    f"The category option combo “{combo[:20]}” of data element “{element[:20]}” is not mapped to a figure "
                    "of ours; ask the Kent Forum team to add it to the DHIS2 data element mappings.")))
            else:
                problems.append(row_error(row, "dataElement", (
                    f"The data element “{element[:20]}” is not mapped to an indicator; ask the Kent Forum team to add it "
                    "to the DHIS2 data element mappings.")))
        org_unit = text_of(item, "orgUnit") or default_org_unit
        gss = localities.get(org_unit)
        if gss is None:
            problems.append(row_error(row, "orgUnit", (
                f"The organisation unit “{org_unit[:20]}” is not mapped to an area; ask the Kent Forum team to add it "
                "to the DHIS2 organisation unit mappings.") if org_unit else "Give the data value's orgUnit."))
        period = None
        try:
            period = periods.from_dhis2(text_of(item, "period") or default_period)
        except periods.PeriodError as invalid:
            problems.append(row_error(row, "period", str(invalid)))
        amount = parse_amount(item.get("value"), row, "value", problems)
        if problems:
            errors += problems
            continue
        code, breakdown, measure = mapped
        figures.append(Figure(row, code, gss, period, breakdown, measure, amount))
    return figures, errors
