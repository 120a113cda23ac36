"""The site's search (issue 15, item 7): indicators, KPQs, delivery plans, boards and
partnerships by words; full-text (stemmed, ranked) on PostgreSQL and every-word-must-appear on
SQLite; published things only; anyone may use it."""
import pytest
from django.db import connection
from django.urls import reverse

from kentforum.search import MAX_WORDS, search
from tests.factories import IndicatorFactory

pytestmark = pytest.mark.django_db


def kinds(results):
    return {r.kind for r in results}


def test_an_indicator_is_found_by_its_words_and_links_to_its_page():
    IndicatorFactory(code="T-NEET", name="Young people not in education, employment or training",
                     definition="Share of 16 to 18 year olds who are NEET.")
    results = search("young people training")
    found = [r for r in results if r.kind == "Indicator"]
    assert [r.title for r in found] == ["Young people not in education, employment or training (T-NEET)"]
    assert found[0].url == reverse("dashboards:indicator", args=["T-NEET"])


def test_every_word_must_match():
    IndicatorFactory(code="T-ROAD", name="Road casualties killed or seriously injured")
    assert [r.title for r in search("road casualties") if r.kind == "Indicator"]
    assert not [r for r in search("road casualties zebra") if r.kind == "Indicator"]


def test_a_retired_indicator_is_not_found():
    IndicatorFactory(code="T-OLD", name="Retired measure of libraries", is_active=False)
    assert not [r for r in search("retired libraries") if r.kind == "Indicator"]


def test_the_framework_is_found_too():
    # the Kent framework is loaded for every test: its boards, KPQs, plans and partnerships
    assert "Board" in kinds(search("Ambition Board"))
    assert "Key Performance Question" in kinds(search("Kent"))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="full-text search is PostgreSQL's")
def test_on_postgresql_other_forms_of_a_word_match():
    IndicatorFactory(code="T-STEM", name="Reducing reoffending by adults")
    assert [r for r in search("reduce reoffend") if r.kind == "Indicator"]


def test_an_empty_or_huge_query_is_harmless(client):
    assert search("") == [] and search("   ") == []
    assert client.get(reverse("search"), {"q": "x " * 1000}).status_code == 200
    assert len(("x " * 1000).split()[:MAX_WORDS]) == MAX_WORDS


def test_anyone_may_search_from_every_page(client):
    IndicatorFactory(code="T-PAGE", name="Visitor numbers to museums")
    assert 'href="/search/"' in client.get(reverse("home")).content.decode()
    html = client.get(reverse("search"), {"q": "museums"}).content.decode()
    assert "1 result for" in html and "Visitor numbers to museums" in html and 'for="id_q"' in html
    assert "Nothing matches" in client.get(reverse("search"), {"q": "qwertyuiop"}).content.decode()
