"""The briefing pack's data tables (issue 18, item 5) loaded by ``load_kent_framework``: the 2009
population by age, the 2009 road traffic injuries by age and severity, the 2008 Place Survey.

Each table's printed totals and some of its cells are checked against the figures the document
prints; where the documents are on disk (``/work/shared/seeds``) the printed lines themselves are
checked too, so a transcription cannot drift from its source. The sums are checked at load time:
the population table's printed total (1,411,100) is 200 less than its age bands add up to
(1,411,300), and both are kept as published."""
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from kentforum.loaders.framework import framework_load
from kentforum.loaders.source_tables import SourceTableError
from localities.models import SourceFigure, SourceTable
from performance.models import BreakdownCategory
from tests.factories import IndicatorFactory

pytestmark = pytest.mark.django_db

SEEDS = Path("/work/shared/seeds")
BRIEFING = "004_43fb3eb14b964e13.txt"

# (line, text) as printed in the briefing pack (tabs between the cells).
PRINTED_LINES = [
    (420, "Population by gender, 2009 - KCC Area\t"),
    (422, "All Ages\t1,411,100"),
    (423, "0-4\t84,500"),
    (440, "85+\t35,100"),
    (442, "Source: Office for National Statistics"),
    (481, "Road Traffic Injuries - 2009 - KCC Area\t\t\t\t"),
    (482, "Age\tSlight injury\tSerious injury\tFatal injury\tTotal Injuries"),
    (483, "Under 16\t521\t52\t3\t576"),
    (486, "40-64\t1537\t159\t26\t1722"),
    (489, "Total\t5477\t568\t61\t6106"),
    (491, "Source: Kent Highways Services"),
    (700, "3.4 The state of the county (Place Survey 2008)"),
]
PLACE_SURVEY_QUOTES = {
    702: "interviews with 1,164 residents aged 18+ within the Kent County Council area",
    706: "while 89% are either very or fairly satisfied",
    710: "74% say they belong at least fairly to their immediate local area",
    717: "In Kent this proportion is only two in three (67%)",
}


def figure(table, row, column):
    return SourceFigure.objects.get(table__code=table, row_code=row, column_code=column)


@pytest.fixture
def loaded():
    framework_load()


@pytest.mark.skipif(not (SEEDS / BRIEFING).exists(), reason="the source documents are not on disk")
def test_the_transcribed_lines_are_the_documents_own():
    lines = (SEEDS / BRIEFING).read_text(encoding="utf-8").splitlines()
    for number, text in PRINTED_LINES:
        assert lines[number - 1] == text, number
    for number, quote in PLACE_SURVEY_QUOTES.items():
        assert quote in lines[number - 1], number
    # Every loaded figure's printed line carries its value as printed (with or without commas).
    framework_load()
    for f in SourceFigure.objects.exclude(table__code="place-survey-2008"):
        value = int(f.value)
        assert f"{value:,}" in lines[f.line - 1] or str(value) in lines[f.line - 1], f


def test_road_injuries_2009_printed_totals_and_cells(loaded):
    # The printed totals: fatal 61, serious 568, slight 5,477, 6,106 injuries in all.
    for column, value in (("fatal", 61), ("serious", 568), ("slight", 5477), ("total", 6106)):
        total = figure("road-injuries-2009", "total", column)
        assert total.value == value and total.is_total and total.line == 489
        assert total.parts_sum == value  # every total equals its parts
    assert figure("road-injuries-2009", "under-16", "slight").value == 521
    assert figure("road-injuries-2009", "40-64", "fatal").value == 26
    assert figure("road-injuries-2009", "unknown", "total").value == 96
    table = SourceTable.objects.get(code="road-injuries-2009")
    assert table.source == "Kent Highways Services" and table.area.gss_code == "E10000016"
    assert (table.first_line, table.last_line) == (481, 491)
    assert table.discrepancy_note == ""
    assert table.figures.count() == 7 * 4


def test_the_full_severity_scale_has_slight_after_fatal_and_serious_and_ksi_keeps_two(loaded):
    categories = BreakdownCategory.objects.filter(dimension__code="injury_severity").order_by("order")
    assert [(c.code, c.label) for c in categories] == [
        ("fatal", "Fatal injury"), ("serious", "Serious injury"), ("slight", "Slight injury")]
    ksi = BreakdownCategory.objects.filter(dimension__code="severity").order_by("order")
    assert [c.code for c in ksi] == ["fatal", "serious"], "a KSI figure counts no slight injuries"
    # The road-injury table's columns are the severity categories, its rows the age bands.
    assert set(SourceFigure.objects.filter(table__code="road-injuries-2009", is_total=False)
               .values_list("column_code", flat=True)) == set(categories.values_list("code", flat=True))
    ages = set(BreakdownCategory.objects.filter(dimension__code="age_band").values_list("code", flat=True))
    assert set(SourceFigure.objects.filter(table__code="road-injuries-2009", is_total=False)
               .values_list("row_code", flat=True)) == ages


def test_population_2009_keeps_the_printed_total_and_the_sum_of_its_bands(loaded):
    total = figure("population-2009", "all-ages", "persons")
    assert total.value == 1411100 and total.line == 422
    assert total.parts_sum == 1411300 and total.discrepancy == -200
    bands = SourceFigure.objects.filter(table__code="population-2009", is_total=False)
    assert bands.count() == 18
    assert sum(b.value for b in bands) == Decimal(1411300)
    assert figure("population-2009", "0-4", "persons").value == 84500
    assert figure("population-2009", "85-plus", "persons").value == 35100
    note = SourceTable.objects.get(code="population-2009").discrepancy_note
    assert note == ("All Ages, No. of Persons: printed 1,411,100, its parts add up to 1,411,300 (200 more). "
                    "Both kept as published.")


def test_place_survey_2008_figures_and_their_baseline_links(loaded):
    table = SourceTable.objects.get(code="place-survey-2008")
    assert table.year == "2008" and "1,164 residents aged 18+" in table.source
    assert figure("place-survey-2008", "satisfied", "percent").value == 89
    assert figure("place-survey-2008", "belong", "percent").value == 74
    assert figure("place-survey-2008", "cohesion-agree", "percent").value == 67
    assert figure("place-survey-2008", "cohesion-england", "percent").value == 84
    assert not table.figures.filter(is_total=True).exists()  # no totals printed, none invented
    # The Kent framework has no indicators: the baselines are named but unlinked.
    satisfied = figure("place-survey-2008", "satisfied", "percent")
    assert satisfied.baseline_for == "DEMO-NI5" and satisfied.baseline_of is None
    # When the indicator is loaded, a second run links the figure to it.
    indicator = IndicatorFactory(code="DEMO-NI5")
    framework_load()
    assert figure("place-survey-2008", "satisfied", "percent").baseline_of == indicator
    assert list(indicator.source_baselines.values_list("value", flat=True)) == [Decimal(89)]


def test_a_second_load_changes_nothing(loaded, capsys):
    before = list(SourceFigure.objects.order_by("pk").values())
    report = framework_load()
    assert not report.changed
    assert list(SourceFigure.objects.order_by("pk").values()) == before
    call_command("load_kent_framework")
    assert "No changes: the Kent framework is already up to date." in capsys.readouterr().out


def test_an_undeclared_discrepancy_stops_the_load(tmp_path):
    # Given a transcription slip in a printed total
    data = tmp_path / "kent_framework"
    shutil.copytree(settings.FRAMEWORK_DATA_DIR, data)
    path = data / "road_injuries_2009.yaml"
    path.write_text(path.read_text().replace("values: [5477, 568, 61]", "values: [5477, 586, 61]"))
    # then the load stops, and nothing of it is kept
    with pytest.raises(SourceTableError, match="road-injuries-2009"):
        framework_load(data_dir=data)
    assert not SourceFigure.objects.filter(value=586).exists()


def test_a_declared_discrepancy_that_is_not_found_stops_the_load(tmp_path):
    data = tmp_path / "kent_framework"
    shutil.copytree(settings.FRAMEWORK_DATA_DIR, data)
    path = data / "population_2009.yaml"
    path.write_text(path.read_text().replace("values: [84500]", "values: [84300]"))
    with pytest.raises(SourceTableError, match="population-2009"):
        framework_load(data_dir=data)


def test_the_data_tables_page_shows_the_tables_as_printed(loaded, client, django_assert_max_num_queries):
    # Given the tables loaded, when anyone opens the page
    with django_assert_max_num_queries(9):  # 6 for the tables, 3 for the road injuries' rates per head
        response = client.get("/data-tables/")
    html = response.content.decode()
    # then each table is there with its source, printed totals and the discrepancy note
    assert response.status_code == 200
    assert "Road Traffic Injuries - 2009 - KCC Area" in html and "Source: Kent Highways Services" in html
    for printed in ("5,477", "6,106", "1,411,100", "(parts: 1,411,300)"):
        assert printed in html, printed
    assert "its parts add up to 1,411,300 (200 more). Both kept as published." in html
    assert "DEMO-NI5 (not loaded)" in html
