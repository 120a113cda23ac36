"""Facts of the Kent framework checked against the source documents (issue 18): Kent County
Council's Group Managing Director on Joint Kent Chiefs, Bryan Cope and the Fire and Rescue
Authority, the Locality Boards' community strategies (Annex 3), and the boards' relationships
(the Forum non-decision making, the Locality Boards advisory to their councils).

Each fact is quoted as published; where the documents are on disk (``/work/shared/seeds``) the
quotes are also checked against them, so a quote cannot drift from its source."""
from pathlib import Path

import pytest

from kentforum.loaders.framework import framework_load
from partnerships.models import Board, BoardMembership, CommunityStrategy, Organisation, Person

pytestmark = pytest.mark.django_db

SEEDS = Path("/work/shared/seeds")
VISION = "002_cfdf0846c7aaebc6.txt"
BRIEFING = "004_43fb3eb14b964e13.txt"

QUOTES = {
    VISION: [
        "Katherine Kerswell, Group Managing Director, Kent County Council",
        "Bryan Cope, Chairman of Kent and Medway",
        "Kent and Medway Fire & Rescue Authority",
        "Non decision making body that:",
        "Advisory Boards to County and District Councils on:",
        "District-level Sustainable Community Strategies",
    ],
    BRIEFING: [
        "Brian Cope\tKent Fire and Rescue",
        "the Leaders of Kent's 13 local authorities and the fire authority",
        "The Ambition Board is accountable to the Kent Forum.",
    ],
}

# Annex 3, "District-level Sustainable Community Strategies": heading, name, link, as published.
ANNEX_3_STRATEGIES = [
    ("Ashford", "Ashford Sustainable Community Strategy",
     "http://www.ashford.gov.uk/ashford_borough_council/partnership_working/local_strategic_partnership.aspx"),
    ("Dartford and Gravesham", "Dartford and Gravesham Sustainable Community Strategy",
     "http://www.gravesham.gov.uk/index.jsp?articleid=4562"),
    ("East Kent", "Lighting the Way to Success: The EKLSP Sustainable Community Strategy",
     "http://www.eastkentlsp.org.uk/"),
    ("Maidstone", "The Sustainable Community Strategy for Maidstone Borough 2009-2020",
     "http://www.maidstone.gov.uk/PDF/Sustainable%20Community%20Strategy%20for%20Maidstone%20Borough%20adopted%20april%2009.pdf"),
    ("Sevenoaks", "Sevenoaks District Sustainable Community Action Plan 2010-2013",
     "http://www.sevenoaks.gov.uk/community__living/sevenoaks_district_community_plan/default.asp"),
    ("Swale", "Ambitions for Swale – Swale’s Sustainable Community Strategy", "http://www.swale.gov.uk/ambitions-for-swale/"),
    ("Tonbridge and Malling", "Tonbridge and Malling LSP 2009-2012 Sustainable Community Strategy",
     "http://www.tmbc.gov.uk/cgi-bin/buildpage.pl?mysql=461"),
    ("Tunbridge Wells", "Love Where We Live - Tunbridge Wells’ Sustainable Community Strategy (2010-2026)",
     "http://www2.tunbridgewells.gov.uk/Default.aspx?page=715"),
]


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the source documents are not on this machine")
def test_the_quotes_are_in_the_source_documents():
    for name, quotes in QUOTES.items():
        text = (SEEDS / name).read_text(encoding="utf-8")
        for quote in quotes:
            assert quote in text, (name, quote)
    vision = (SEEDS / VISION).read_text(encoding="utf-8")
    for _, strategy, link in ANNEX_3_STRATEGIES:
        assert strategy in vision and link in vision, strategy


def test_joint_kent_chiefs_has_kccs_group_managing_director():
    seat = BoardMembership.objects.get(board__kind="joint_chiefs", organisation__short_name="KCC")
    assert seat.person.name == "Katherine Kerswell"
    assert seat.category == "kcc_group_managing_director"
    assert seat.get_category_display() == "Group Managing Director of Kent County Council"


def test_bryan_cope_chairs_the_authority_and_keeps_both_spellings():
    authority = Organisation.objects.get(name="Kent and Medway Fire and Rescue Authority")
    assert authority.sector == "fire" and authority.tier == "none"
    cope = Person.objects.get(name="Bryan Cope")
    assert cope.organisation == authority
    assert "Brian Cope" in cope.other_spellings
    assert not Person.objects.filter(name="Brian Cope").exists()
    seats = BoardMembership.objects.filter(person=cope).select_related("board")
    assert {(s.board.kind, s.category, s.organisation_id) for s in seats} == {
        ("forum", "fire_chairman", authority.pk), ("ambition", "fire_chairman", authority.pk),
    }
    # The Service keeps its Chief Executive.
    assert BoardMembership.objects.filter(
        person__name="Ann Millington", organisation__name="Kent Fire and Rescue Service"
    ).exists()


def test_a_person_loaded_under_the_old_spelling_is_renamed_in_place():
    cope = Person.objects.get(name="Bryan Cope")
    service = Organisation.objects.get(name="Kent Fire and Rescue Service")
    Person.objects.filter(pk=cope.pk).update(name="Brian Cope", organisation=service, other_spellings="")
    report = framework_load()
    assert report.counts["people"]["updated"] == 1
    cope = Person.objects.get(pk=cope.pk)
    assert cope.name == "Bryan Cope" and cope.organisation.name == "Kent and Medway Fire and Rescue Authority"
    assert BoardMembership.objects.filter(person__name__in=["Bryan Cope", "Brian Cope"]).count() == 2
    assert not framework_load().changed


def test_the_forum_is_non_decision_making_and_accountable_to_no_board():
    forum = Board.objects.get(kind="forum")
    assert forum.decision_making is False
    assert forum.accountable_to is None
    assert forum.decision_making_display == "Non-decision-making body"


def test_ambition_boards_and_joint_chiefs_are_accountable_to_the_forum():
    forum = Board.objects.get(kind="forum")
    for board in Board.objects.filter(kind__in=["ambition", "joint_chiefs"]):
        assert board.accountable_to == forum, board
        assert board.decision_making is None, "the documents do not say"


def test_locality_boards_advise_the_county_and_their_district_council():
    kcc = Organisation.objects.get(short_name="KCC")
    boards = Board.objects.filter(kind="locality").select_related("locality").prefetch_related("advises")
    assert boards.count() == 12
    for board in boards:
        assert board.accountable_to is None, board
        district = Organisation.objects.get(tier="district", locality=board.locality)
        assert set(board.advises.all()) == {kcc, district}, board


def test_annex_3_community_strategies_are_the_locality_boards_plans():
    strategies = list(CommunityStrategy.objects.prefetch_related("boards__locality"))
    assert [(s.listed_under, s.name, s.link) for s in strategies] == ANNEX_3_STRATEGIES
    districts = {s.name: {b.locality.name for b in s.boards.all()} for s in strategies}
    assert districts["Dartford and Gravesham Sustainable Community Strategy"] == {"Dartford", "Gravesham"}
    assert districts["Lighting the Way to Success: The EKLSP Sustainable Community Strategy"] == {
        "Canterbury", "Dover", "Shepway", "Thanet",
    }
    assert districts["Ashford Sustainable Community Strategy"] == {"Ashford"}
    covered = [d for names in districts.values() for d in names]
    assert len(covered) == len(set(covered)) == 12, "each Locality Board has exactly one strategy"
    assert all(b.kind == "locality" for s in strategies for b in s.boards.all())


def test_board_pages_show_the_relationships_and_the_community_strategy(client, django_assert_max_num_queries):
    from django.urls import reverse

    forum = client.get(reverse("board", args=[Board.objects.get(kind="forum").slug])).content.decode()
    assert "Kent Forum: a non-decision-making body." in forum
    with django_assert_max_num_queries(12):
        response = client.get(reverse("board", args=[Board.objects.get(locality__name="Dartford").slug]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "advisory to Dartford Borough Council and Kent County Council" in html
    assert "accountable to" not in html
    assert "Dartford and Gravesham Sustainable Community Strategy" in html
    assert 'href="http://www.gravesham.gov.uk/index.jsp?articleid=4562"' in html


def test_the_board_api_holds_the_relationships_and_the_strategies(django_assert_max_num_queries):
    from rest_framework.test import APIClient

    client = APIClient()
    with django_assert_max_num_queries(8):
        boards = client.get("/api/v1/boards/", {"page_size": 100}).json()["results"]
    by_kind = {}
    for board in boards:
        by_kind.setdefault(board["kind"], []).append(board)
    (forum,) = by_kind["forum"]
    assert forum["decision_making"] is False and forum["accountable_to"] is None
    assert all(b["accountable_to"] == forum["slug"] for b in by_kind["ambition"] + by_kind["joint_chiefs"])
    maidstone = next(b for b in by_kind["locality"] if b["name"] == "Maidstone Locality Board")
    assert maidstone["accountable_to"] is None and maidstone["decision_making"] is None
    assert set(maidstone["advises"]) == {"kent-county-council", "maidstone-borough-council"}
    assert maidstone["community_strategies"] == [{
        "name": "The Sustainable Community Strategy for Maidstone Borough 2009-2020", "listed_under": "Maidstone",
        "link": ANNEX_3_STRATEGIES[3][2], "source_note": "",
    }]
