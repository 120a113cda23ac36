"""Existing strategic partnerships and their rationalisation (issue 18, item 3), checked against
the Ambition Board 3 briefing pack.

The pack says "Around 40 strategic partnerships have been identified in Kent (see Appendix 4)"
(line 266) but its text holds no list of them: appendix 4.4 (line 1400) carries only the table of
the 15 required partnerships. What it does list is section 3.7 (ii), "Key partnerships to support
Kent's communities" (lines 1143-1186), for Ambition Board 3; those six are loaded, each "to be
reviewed" and mapped to no required partnership, since the pack states no outcome or mapping.
Where the documents are on disk (``/work/shared/seeds``) each name is checked at its line."""
import datetime
from pathlib import Path

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from kentforum.loaders.base import read_yaml
from kentforum.loaders.framework import framework_load
from partnerships.models import Board, ExistingPartnership, StrategicPartnership

pytestmark = pytest.mark.django_db

SEEDS = Path("/work/shared/seeds")
BRIEFING = SEEDS / "004_43fb3eb14b964e13.txt"

# (name, line of the briefing pack text where it is printed, the text printed on that line)
EXPECTED = [
    ("Kent Drug and Alcohol Action Team", 1147, "Kent Drug and Alcohol Action Team"),
    ("Kent County Youth Justice Board", 1157, "Kent County Youth Justice Board"),
    ("Supporting People Commissioning Board", 1163, "Supporting People Commissioning Board"),
    ("Kent Waste Partnership", 1167, "Kent Waste Partnership"),
    ("Kent Youth County Council", 1176, "Participation of Children and Young People – Kent Youth County Council"),
    (
        "County Community Safety Partnership", 1186,
        "The Safer and Stronger Communities Group has now been replaced by the County Community Safety Partnership.",
    ),
]


def briefing_lines() -> list[str]:
    return BRIEFING.read_text(encoding="utf-8").splitlines()


def test_the_names_are_the_documents_in_its_order():
    assert list(ExistingPartnership.objects.values_list("name", "source_line")) == [(n, line) for n, line, _ in EXPECTED]
    assert ExistingPartnership.objects.count() == 6


@pytest.mark.skipif(not BRIEFING.exists(), reason="the source documents are not on disk")
def test_each_name_is_printed_at_its_line_in_the_seed():
    lines = briefing_lines()
    for name, number, printed in EXPECTED:
        assert lines[number - 1] == printed, (number, lines[number - 1])
        assert name in lines[number - 1]
    assert lines[1142] == "Key partnerships to support Kent's communities"
    assert "Around 40 strategic partnerships have been identified in Kent" in lines[265]
    assert "Examples include the County Youth Justice Board and the Kent Waste Partnership" in lines[265]


@pytest.mark.skipif(not BRIEFING.exists(), reason="the source documents are not on disk")
def test_the_seed_has_no_list_of_existing_partnerships_under_appendix_4_4():
    """Appendix 4.4's heading is followed by the required-partnerships table only, so the data
    file invents no mapping: if the list ever turns up in the text, this test says so."""
    lines = briefing_lines()
    assert lines[1399] == "Existing Strategic Partnerships alignment to Ambition Boards"
    section = lines[1400:1430]
    header = [i for i, line in enumerate(section) if line.startswith("Partnership required\t")]
    assert header, "the required-partnerships table follows the heading"
    names = {p.name for p in StrategicPartnership.objects.all()}
    rows = [line.split("\t")[0] for line in section[header[0] + 1:] if "\t" in line and not line.startswith("Partnership required")]
    assert all(row in names or row.startswith("Improving outcomes for children") or row == "people and families" for row in rows if row)


def test_each_mapping_is_what_the_document_states():
    """No outcome or mapping is stated: each is to be reviewed, undecided, mapped to none, and
    listed for Ambition Board 3 (the pack's section 3.7 (ii) is Ambition Board 3's)."""
    board_3 = Board.objects.get(kind="ambition", ambition__number=3)
    for existing in ExistingPartnership.objects.all():
        assert existing.status == ExistingPartnership.Status.TO_BE_REVIEWED, existing
        assert existing.decided_on is None
        assert list(existing.required_partnerships.all()) == []
        assert existing.aligned_board == board_3


def test_the_data_file_matches_the_database():
    data = read_yaml(Path(__file__).resolve().parents[2] / "data" / "kent_framework" / "existing_partnerships.yaml")
    items = data["existing_partnerships"]
    assert [i["name"] for i in items] == [n for n, _, _ in EXPECTED]
    assert all(i["status"] == "to_be_reviewed" and i["required"] == [] for i in items)


def test_a_reload_changes_nothing():
    report = framework_load()
    assert not report.changed, report.lines()


def test_a_decision_recorded_in_the_admin_survives_a_reload():
    waste = ExistingPartnership.objects.get(name="Kent Waste Partnership")
    environment = StrategicPartnership.objects.get(name="Environment, energy and climate change")
    waste.status = ExistingPartnership.Status.RETAINED
    waste.status_note = "Retained as the environment partnership."
    waste.decided_on = datetime.date(2011, 9, 1)
    waste.save()
    waste.required_partnerships.set([environment])

    report = framework_load()

    waste.refresh_from_db()
    assert waste.status == ExistingPartnership.Status.RETAINED
    assert waste.status_note == "Retained as the environment partnership."
    assert waste.decided_on == datetime.date(2011, 9, 1)
    assert list(waste.required_partnerships.all()) == [environment]
    assert not report.changed, report.lines()


def test_the_forum_team_records_a_decision_in_the_admin_and_a_reload_keeps_it(client):
    from kentforum.roles import Role
    from partnerships.models import Organisation
    from partnerships.services import person_user_ensure

    user, _ = person_user_ensure(
        username="forum.team", name="Forum Team", organisation=Organisation.objects.get(short_name="KCC"),
        roles=[Role.FORUM_ADMIN], password="a-long-test-password",
    )
    client.force_login(user)
    existing = ExistingPartnership.objects.get(name="Kent County Youth Justice Board")
    community_safety = StrategicPartnership.objects.get(name="Community safety / criminal justice")
    url = reverse("admin:partnerships_existingpartnership_change", args=[existing.pk])
    assert client.get(url).status_code == 200
    form = {
        "name": existing.name, "slug": existing.slug, "required_partnerships": [community_safety.pk],
        "aligned_board": existing.aligned_board_id, "status": "retained", "status_note": "Retained (test).",
        "decided_on": "2011-11-01", "source_line": existing.source_line, "source_note": existing.source_note,
        "order": existing.order,
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]

    framework_load()

    existing.refresh_from_db()
    assert existing.status == "retained" and existing.decided_on == datetime.date(2011, 11, 1)
    assert list(existing.required_partnerships.all()) == [community_safety]


def test_a_document_fact_is_brought_back_on_reload():
    waste = ExistingPartnership.objects.get(name="Kent Waste Partnership")
    waste.source_line = 1
    waste.save()
    framework_load()
    waste.refresh_from_db()
    assert waste.source_line == 1167


def test_a_decision_needs_a_date():
    from django.core.exceptions import ValidationError

    existing = ExistingPartnership.objects.get(name="Kent Waste Partnership")
    existing.status = ExistingPartnership.Status.MERGED
    with pytest.raises(ValidationError):
        existing.full_clean()


def test_the_page_shows_the_progress(client):
    waste = ExistingPartnership.objects.get(name="Kent Waste Partnership")
    waste.status = ExistingPartnership.Status.MERGED
    waste.decided_on = datetime.date(2011, 10, 3)
    waste.save()
    waste.required_partnerships.set([StrategicPartnership.objects.get(name="Environment, energy and climate change")])

    response = client.get(reverse("partnerships"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Existing partnerships by status (6 recorded)" in html
    assert "<caption" in html and "Existing partnerships mapped to each required partnership" in html
    progress = response.context["progress"]
    assert progress["counts"] == [("Merged", 1), ("Retained", 0), ("To be reviewed", 5)]
    row = dict((r.name, e) for r, e in progress["rows"])
    assert row["Environment, energy and climate change"] == [waste]
    assert len(progress["unmapped"]) == 5
    assert "Kent Waste Partnership: merged (3 October 2011)" in html
    assert "County Community Safety Partnership: to be reviewed" in html


def test_the_api_lists_and_filters():
    api = APIClient()
    url = "/api/v1/existing-partnerships/"
    response = api.get(url)
    assert response.status_code == 200
    body = response.json()
    results = body["results"] if isinstance(body, dict) else body
    assert [r["name"] for r in results] == [n for n, _, _ in EXPECTED]
    assert results[0]["status"] == "to_be_reviewed" and results[0]["required_partnerships"] == []

    waste = ExistingPartnership.objects.get(name="Kent Waste Partnership")
    environment = StrategicPartnership.objects.get(name="Environment, energy and climate change")
    waste.required_partnerships.set([environment])

    def names(query):
        r = api.get(url, query)
        assert r.status_code == 200, r.content
        data = r.json()
        return [x["name"] for x in (data["results"] if isinstance(data, dict) else data)]

    assert names({"required_partnership": environment.slug}) == ["Kent Waste Partnership"]
    assert names({"lead_board": environment.lead_board.slug}) == ["Kent Waste Partnership"]
    assert names({"status": "merged"}) == []
    assert len(names({"status": "to_be_reviewed"})) == 6
    assert names({"q": "youth"}) == ["Kent County Youth Justice Board", "Kent Youth County Council"]
    assert api.get(url, {"colour": "red"}).status_code == 400
