"""PATCH is a partial update: every field a PATCH does not send keeps its stored value, for every
writable field of every writable resource (indicator returns, count and rate, with their
breakdowns; milestone returns). A POST with the version is the full write (fields not sent are
emptied); PUT is not offered. The OpenAPI schema documents the PATCH body with every field
optional, and the cases below cover every field it documents."""
import datetime
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from performance.catalogue import services
from performance.models import BreakdownCategory, IndicatorReturn, MilestoneReturn
from performance.returns import validation, workflow
from tests.factories import council, district

pytestmark = pytest.mark.django_db

# Fields of a write body that are not stored on the return: what the body asks to do, and the
# fields that name the return (a PATCH cannot move a return to another slot).
ACTIONS = {"version", "submit", "confirm_warnings"}
NAMING = {"indicator-returns": {"indicator", "locality", "period"}, "milestone-returns": {"milestone", "period"}}

# (return, field, value sent alone, what changes): everything else must stay as stored.
CASES = [
    ("count", "value", "14", {"value": Decimal(14)}),
    ("count", "value", None, {"value": None}),
    ("count", "commentary", "Revised by the police", {"commentary": "Revised by the police"}),
    ("count", "commentary", "", {"commentary": ""}),
    ("count", "breakdowns", {"severity:fatal": "3"}, {"breakdowns": {"severity:fatal": Decimal(3), "severity:serious": Decimal(10)}}),
    ("count", "breakdowns", {"severity:serious": None}, {"breakdowns": {"severity:fatal": Decimal(2), "severity:serious": None}}),
    ("count", "breakdowns", {}, {}),
    ("count", "numerator", "5", {}),  # a count has no numerator or denominator: nothing changes
    ("count", "denominator", "5", {}),
    ("rate", "numerator", "50", {"numerator": Decimal(50), "value": Decimal(50)}),
    ("rate", "numerator", None, {"numerator": None, "value": None}),
    ("rate", "denominator", "125", {"denominator": Decimal(125), "value": Decimal(36)}),
    ("rate", "denominator", None, {"denominator": None, "value": None}),
    ("rate", "commentary", "Checked with the waste team", {"commentary": "Checked with the waste team"}),
    ("rate", "value", "99", {}),  # a rate's value is computed from its numerator and denominator
    # data quality and survey fields: each alone, the others kept
    ("count", "quality", "provisional", {"quality": "provisional"}),
    ("count", "quality_note", "Police data are provisional until July", {"quality_note": "Police data are provisional until July"}),
    ("count", "source_released", "2012-07-19", {"source_released": datetime.date(2012, 7, 19)}),
    ("count", "source_released", None, {"source_released": None}),
    ("survey", "ci_lower", "60.5", {"ci_lower": Decimal("60.5")}),
    ("survey", "ci_upper", "70.5", {"ci_upper": Decimal("70.5")}),
    ("survey", "sample_base", 900, {"sample_base": 900}),
    ("survey", "sample_base", None, {"sample_base": None}),
    ("milestone", "status", "at_risk", {"status": "at_risk"}),
    ("milestone", "percent_complete", 55, {"percent_complete": 55}),
    ("milestone", "revised_date", "2012-11-30", {"revised_date": datetime.date(2012, 11, 30)}),
    ("milestone", "revised_date", None, {"revised_date": None}),
    ("milestone", "commentary", "Contractor delayed", {"commentary": "Contractor delayed"}),
    ("milestone", "commentary", "", {"commentary": ""}),
]
RESOURCE = {"count": "indicator-returns", "rate": "indicator-returns", "survey": "indicator-returns",
            "milestone": "milestone-returns"}


@pytest.fixture
def client(submit_client):
    return submit_client


def category(code):
    return BreakdownCategory.objects.get(dimension__code="severity", code=code)


@pytest.fixture
def returns(period, count_indicator, rate_indicator, officer):
    """Three drafts with every field filled in: Ashford's KSI count with its severity breakdown,
    its recycling rate, and a milestone's progress."""
    from ambitions.models import DeliveryPlan
    from performance.models import Milestone
    from tests.factories import IndicatorFactory

    count = workflow.indicator_return_save_draft(
        indicator=count_indicator, locality=district(), period=period, organisation=council(), user=officer,
        figures=validation.IndicatorFigures(value=Decimal(12), commentary="From the police",
                                          breakdowns={category("fatal").pk: Decimal(2), category("serious").pk: Decimal(10)},
                                          quality={"quality": "estimated", "quality_note": "Two weeks estimated",
                                                   "source_released": datetime.date(2012, 7, 1)}),
    )
    survey_indicator = IndicatorFactory(code="T-SURVEY", unit="percentage", aggregation="none", is_survey=True)
    services.assignment_ensure(organisation=council(), indicator=survey_indicator, locality=district())
    survey = workflow.indicator_return_save_draft(
        indicator=survey_indicator, locality=district(), period=period, organisation=council(), user=officer,
        figures=validation.IndicatorFigures(value=Decimal(64), commentary="Place Survey",
                                          quality={"ci_lower": Decimal(61), "ci_upper": Decimal(67), "sample_base": 1100}),
    )
    rate = workflow.indicator_return_save_draft(
        indicator=rate_indicator, locality=district(), period=period, organisation=council(), user=officer,
        figures=validation.IndicatorFigures(numerator=Decimal(45), denominator=Decimal(100), commentary="From the waste team"),
    )
    milestone = Milestone.objects.create(
        title="Junction 10a opens", delivery_plan=DeliveryPlan.objects.get(name="Local Transport Plan"),
        owner=council(), due_date=datetime.date(2012, 9, 30),
    )
    progress = workflow.milestone_return_save_draft(
        milestone=milestone, period=period, organisation=council(), user=officer,
        progress=validation.MilestoneProgress(status="on_track", percent_complete=30,
                                            revised_date=datetime.date(2012, 10, 31), commentary="On schedule"),
    )
    return {"count": count, "rate": rate, "survey": survey, "milestone": progress}


def stored(ret) -> dict:
    """Everything stored about a return (its breakdowns too), without its version."""
    if isinstance(ret, MilestoneReturn):
        row = MilestoneReturn.objects.get(pk=ret.pk)
        return {"status": row.status, "percent_complete": row.percent_complete, "revised_date": row.revised_date,
                "commentary": row.commentary, "state": row.state}
    row = IndicatorReturn.objects.get(pk=ret.pk)
    parts = IndicatorReturn.objects.filter(indicator=row.indicator, locality=row.locality, period=row.period,
                                           breakdown__isnull=False).select_related("breakdown__dimension")
    return {"value": row.value, "numerator": row.numerator, "denominator": row.denominator, "commentary": row.commentary,
            "state": row.state, **{name: getattr(row, name) for name in validation.QUALITY_FIELDS},
            "breakdowns": {f"{p.breakdown.dimension.code}:{p.breakdown.code}": p.value for p in parts}}


def version(ret) -> int:
    return type(ret).objects.get(pk=ret.pk).version


def url(which, ret):
    return f"/api/v1/{RESOURCE[which]}/{ret.pk}/"


# --- PATCH: one field at a time -------------------------------------------------------------------

@pytest.mark.parametrize(("which", "field", "sent", "changes"), CASES, ids=[f"{c[0]}-{c[1]}-{c[2]!r}" for c in CASES])
def test_a_patch_of_one_field_keeps_every_other_field(client, returns, which, field, sent, changes):
    ret = returns[which]
    before, read = stored(ret), version(ret)
    response = client.patch(url(which, ret), {field: sent, "version": read}, format="json")
    assert response.status_code == 200, response.content
    assert stored(ret) == {**before, **changes}
    assert version(ret) == (read + 1 if changes else read), "a new version only when something changed"
    assert response.json() == client.get(url(which, ret)).json(), "the answer is the return as stored"


@pytest.mark.parametrize("which", ["count", "rate", "milestone"])
def test_a_patch_with_only_the_version_changes_nothing(client, returns, which):
    ret = returns[which]
    before, read = stored(ret), version(ret)
    response = client.patch(url(which, ret), {"version": read}, format="json")
    assert response.status_code == 200, response.content
    assert stored(ret) == before and version(ret) == read


def test_patches_one_after_another_each_keep_the_others(client, returns):
    """The issue's examples, in turn on the same returns."""
    count, rate, milestone = returns["count"], returns["rate"], returns["milestone"]
    assert client.patch(url("count", count), {"commentary": "x", "version": version(count)}, format="json").status_code == 200
    assert client.patch(url("rate", rate), {"numerator": "40", "version": version(rate)}, format="json").status_code == 200
    assert client.patch(url("milestone", milestone), {"percent_complete": 40, "version": version(milestone)},
                        format="json").status_code == 200
    assert stored(count)["value"] == Decimal(12) and stored(count)["commentary"] == "x"
    assert stored(rate) == {"value": Decimal(40), "numerator": Decimal(40), "denominator": Decimal(100),
                            "commentary": "From the waste team", "state": "draft", "breakdowns": {},
                            **validation.QUALITY_DEFAULTS}
    assert stored(milestone) == {"status": "on_track", "percent_complete": 40, "revised_date": datetime.date(2012, 10, 31),
                                 "commentary": "On schedule", "state": "draft"}


@pytest.mark.parametrize("which", ["count", "milestone"])
def test_a_patch_that_submits_submits_the_stored_figures(client, returns, which):
    ret = returns[which]
    before = stored(ret)
    response = client.patch(url(which, ret), {"submit": True, "version": version(ret)}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "submitted"
    assert stored(ret) == {**before, "state": "submitted"}


# --- What a PATCH may not do ------------------------------------------------------------------------

@pytest.mark.parametrize(("which", "field", "other"), [
    ("count", "indicator", "T-RECYC"), ("count", "locality", "E07000108"), ("count", "period", "2011/12 Q1"),
    ("milestone", "period", "2011/12 Q1"), ("milestone", "milestone", 999999),
])
def test_a_patch_cannot_move_a_return_to_another_slot(client, returns, which, field, other):
    ret = returns[which]
    before, read = {k: stored(r) for k, r in returns.items()}, version(ret)
    response = client.patch(url(which, ret), {field: other, "value": "1", "version": read}, format="json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert {k: stored(r) for k, r in returns.items()} == before and version(ret) == read


def test_a_patch_may_name_its_own_slot(client, returns, period):
    ret = returns["count"]
    response = client.patch(url("count", ret), {"indicator": "T-KSI", "locality": "E07000105", "period": period.label,
                                                "value": "13", "version": version(ret)}, format="json")
    assert response.status_code == 200 and stored(ret)["value"] == Decimal(13)


def test_a_breakdown_row_is_changed_through_its_total(client, returns):
    count = returns["count"]
    part = IndicatorReturn.objects.get(breakdown=category("fatal"))
    before = stored(count)
    response = client.patch(f"/api/v1/indicator-returns/{part.pk}/", {"value": "7", "version": part.version}, format="json")
    assert response.status_code == 400
    message = response.json()["non_field_errors"][0]
    assert f"id {count.pk}" in message and "severity:fatal" in message
    assert stored(count) == before


@pytest.mark.parametrize("which", ["count", "milestone"])
def test_a_patch_without_a_version_is_a_400(client, returns, which):
    ret = returns[which]
    before = stored(ret)
    for body in ({"commentary": "no version"}, {"commentary": "no version", "version": None}):
        response = client.patch(url(which, ret), body, format="json")
        assert response.status_code == 400 and "version" in response.json()
    assert stored(ret) == before


@pytest.mark.parametrize("body", ['[{"commentary": "x", "version": 1}]', "[]", '"version"', "2", "null"])
@pytest.mark.parametrize("which", ["count", "milestone"])
def test_a_patch_whose_body_is_not_an_object_is_a_400(client, returns, which, body):
    ret = returns[which]
    before = stored(ret)
    response = client.patch(url(which, ret), data=body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert "JSON object" in response.json()["detail"]
    assert stored(ret) == before


@pytest.mark.parametrize("which", ["count", "milestone"])
def test_put_is_not_offered(client, returns, which):
    ret = returns[which]
    before = stored(ret)
    response = client.put(url(which, ret), {"commentary": "x", "version": version(ret)}, format="json")
    assert response.status_code == 405
    assert stored(ret) == before


# --- The full write: POST with the version ---------------------------------------------------------

def test_a_post_with_the_version_replaces_the_figures(client, returns, period):
    count = returns["count"]
    response = client.post("/api/v1/indicator-returns/", {
        "indicator": "T-KSI", "locality": "E07000105", "period": period.label, "value": "9", "version": version(count),
    }, format="json")
    assert response.status_code == 201, response.content
    # Every figure not sent is emptied; breakdowns are rows of their own and only change when named;
    # the data-quality fields, which older partner systems do not know of, keep their stored values.
    assert stored(count) == {"value": Decimal(9), "numerator": None, "denominator": None, "commentary": "", "state": "draft",
                             "breakdowns": {"severity:fatal": Decimal(2), "severity:serious": Decimal(10)},
                             "quality": "estimated", "quality_note": "Two weeks estimated",
                             "source_released": datetime.date(2012, 7, 1), "ci_lower": None, "ci_upper": None,
                             "sample_base": None}


def test_a_milestone_post_with_the_version_replaces_the_progress(client, returns, period):
    ret = returns["milestone"]
    response = client.post("/api/v1/milestone-returns/", {
        "milestone": ret.milestone_id, "period": period.label, "status": "on_track", "percent_complete": 35,
        "version": version(ret),
    }, format="json")
    assert response.status_code == 201, response.content
    assert stored(ret) == {"status": "on_track", "percent_complete": 35, "revised_date": None, "commentary": "", "state": "draft"}


# --- The OpenAPI schema -------------------------------------------------------------------------------

def test_the_schema_documents_patch_bodies_with_every_field_optional_and_the_cases_cover_them():
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    components = schema["components"]["schemas"]
    patch_paths = {path for path, operations in schema["paths"].items() if "patch" in operations}
    assert patch_paths == {"/api/v1/indicator-returns/{id}/", "/api/v1/milestone-returns/{id}/"}, "every writable resource"
    for resource in ("indicator-returns", "milestone-returns"):
        operations = schema["paths"][f"/api/v1/{resource}/{{id}}/"]
        assert "put" not in operations
        ref = operations["patch"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        name = ref.rsplit("/", 1)[1]
        assert name.startswith("Patched"), name
        patch_body = components[name]
        assert not patch_body.get("required"), (name, patch_body.get("required"))
        assert not operations["patch"]["requestBody"].get("required")
        # The PATCH body documents the same fields as the POST body, all of them optional.
        post_ref = schema["paths"][f"/api/v1/{resource}/"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert set(patch_body["properties"]) == set(components[post_ref.rsplit("/", 1)[1]]["properties"])
        stored_fields = set(patch_body["properties"]) - ACTIONS - NAMING[resource]
        tested = {field for which, field, _, _ in CASES if RESOURCE[which] == resource}
        assert stored_fields == tested, f"{resource}: every writable field has a PATCH case"
