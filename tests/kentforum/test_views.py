"""The public framework pages: anyone may read them; no personal contact data on them."""
import pytest
from django.urls import reverse

from partnerships.models import Board, Person

pytestmark = pytest.mark.django_db


def test_home_lists_the_ambitions_and_kpqs(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        response = client.get(reverse("home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "To put citizens in control" in html
    assert "Are communities finding solutions to their own problems?" in html
    assert html.count('<span class="code">') == 15


def test_delivery_plans_page_shows_primary_and_contributing_ambitions(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        response = client.get(reverse("delivery-plans"))
    html = response.content.decode()
    assert "Growth Without Gridlock" in html and "None named" in html
    assert "Link to be included in final version" in html


def test_board_page_lists_members_without_contact_details(client):
    person = Person.objects.get(name="Amanda Honey")
    person.email, person.phone = "amanda@example.org", "01622 000000"
    person.save()
    board = Board.objects.get(kind="ambition", ambition__number=3)
    response = client.get(reverse("board", args=[board.slug]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Amanda Honey" in html and "Culture, recreation and leisure" in html
    assert "amanda@example.org" not in html and "01622" not in html


def test_unknown_board_is_404(client):
    assert client.get(reverse("board", args=["no-such-board"])).status_code == 404


def test_partnerships_page(client):
    html = client.get(reverse("partnerships")).content.decode()
    assert "Health inequalities" in html


def test_healthz_reports_the_database_to_any_host(client):
    response = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")
    body = response.json()
    assert response.status_code == 200 and body["status"] == "ok" and body["database"] == "ok"
    assert set(body) == {"status", "database", "redis", "worker"}, "up or down only: no versions, hosts or errors"


def test_pages_refuse_writes(client):
    assert client.post(reverse("home")).status_code == 405
