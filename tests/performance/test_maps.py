"""The map of Kent's districts (issue 15, item 3): drawn from the project's own boundary file, a
filled outline per district coloured by status or by quintile, with the same figures in a table
beside it, the classes in words and the boundaries' attribution; a count with no district
targets is not mapped (it would mostly show each district's size)."""
import orjson
import plotly.graph_objects as go
import pytest
from django.urls import reverse

from localities.models import Locality
from performance.catalogue import rules
from performance.dashboards import maps
from performance.dashboards.indicator import indicator_page
from tests.performance.test_dashboards import approver, seed  # noqa: F401,F811 - the fixture and the seed


def test_the_boundary_file_is_the_projects_own_with_every_district():
    shapes = maps.outlines()
    assert maps.BOUNDARIES.is_relative_to(maps.settings.BASE_DIR) and (maps.BOUNDARIES.parent / "README.md").exists()
    assert len(shapes) == 12 and shapes["E07000105"]["name"] == "Ashford"
    for shape in shapes.values():
        points = [x for x in shape["x"] if x is not None]
        assert len(points) > 20 and len(shape["x"]) == len(shape["y"]) and shape["x"][-1] is None


def test_districts_are_classed_by_status_in_the_one_wording():
    areas = [{"gss_code": "A", "name": "A", "value": 1, "status": rules.GREEN},
             {"gss_code": "B", "name": "B", "value": 2, "status": rules.RED},
             {"gss_code": "C", "name": "C", "value": None, "status": None}]
    classed = {a["gss_code"]: (a["class"], a["colour"]) for a in maps.classify(areas, by="status")}
    assert classed["A"] == ("On target", maps.STATUS_COLOURS[rules.GREEN])
    assert classed["B"] == ("Off target", maps.STATUS_COLOURS[rules.RED])
    assert classed["C"] == (rules.STATUS_LABELS[rules.NO_DATA], maps.NEUTRAL)


def test_districts_are_classed_by_quintile_of_their_value():
    areas = [{"gss_code": str(n), "name": str(n), "value": n, "status": None} for n in range(1, 11)]
    classes = [a["class"] for a in maps.classify(areas, by="quintile")]
    assert classes[0].startswith("Quintile 1") and classes[-1].startswith("Quintile 5")
    assert [c.split(" ")[1] for c in classes] == ["1", "1", "2", "2", "3", "3", "4", "4", "5", "5"]


def test_the_map_is_a_figure_plotly_accepts_with_one_outline_a_district():
    areas = [{"gss_code": "E07000105", "name": "Ashford", "value": 4.4, "status": rules.GREEN}]
    figure = orjson.loads(maps.map_chart(title="A map", areas=areas, by="status"))
    go.Figure(figure)  # raises if Plotly would not draw it
    assert len(figure["data"]) == 12 and {t["fill"] for t in figure["data"]} == {"toself"}
    assert {t["type"] for t in figure["data"]} == {"scatter"}  # drawn by the lean bundle, no map tiles
    legend = [t["name"] for t in figure["data"] if t["showlegend"]]
    assert sorted(legend) == sorted({"On target", rules.STATUS_LABELS[rules.NO_DATA]})


@pytest.mark.django_db
def test_a_rates_page_has_its_map_with_the_table_and_the_attribution(client, approver):
    (count, rate), period = seed(approver, 2, 12)
    html = client.get(reverse("dashboards:indicator", args=[rate.code])).content.decode()
    assert 'id="map-' in html and "The map's figures" in html and maps.ATTRIBUTION in html and "Medway" in html
    context = indicator_page(rate.code)
    assert len(context["map_rows"]) == Locality.objects.filter(kind="district").count()


@pytest.mark.django_db
def test_a_count_with_no_district_targets_is_not_mapped(client, approver):
    (count, rate), period = seed(approver, 2, 12)
    context = indicator_page(count.code)
    assert context["district_map"] is None and "Not mapped" in context["map_note"]


@pytest.mark.django_db
def test_the_forum_maps_each_districts_share_of_judged_measures_on_target(client, approver):
    (count, rate), period = seed(approver, 2, 12)
    rows = {r["name"]: r for r in maps.districts_on_target([count.pk, rate.pk])}
    assert len(rows) == 12
    judged = [r for r in rows.values() if r["judged"]]
    assert judged and all(r["value"] == round(100 * r[rules.GREEN] / r["judged"]) for r in judged)
    html = client.get(reverse("dashboards:forum")).content.decode()
    assert 'id="map-forum"' in html and maps.ATTRIBUTION in html and "plotly-basic.min.js" in html
    orjson.loads(html.split('data-target="map-forum">')[1].split("</script>")[0])  # the map's figure is there
