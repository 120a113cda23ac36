"""Landing where you work: after signing in, each role lands on the page it came for (issue 15,
item 7), and an address asked for before signing in comes first."""
import datetime

import pytest
from django.urls import reverse

from localities.models import Locality
from partnerships.models import Board, BoardMembership
from tests.performance.conftest import PASSWORD, approver, board_member, forum_admin, officer  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def sign_in(client, user, **extra):
    return client.post(reverse("login") + extra.get("query", ""), {"username": user.username, "password": PASSWORD})


def landed(client, response) -> str:
    """Follow the sign-in's redirects to where the person lands."""
    assert response.status_code == 302, response.content[:500]
    response = client.get(response["Location"])
    while response.status_code == 302:
        response = client.get(response["Location"])
    assert response.status_code == 200
    return response.request["PATH_INFO"]


def seat(user, board, **dates):
    BoardMembership.objects.create(board=board, person=user.person, organisation=user.person.organisation, **dates)


@pytest.mark.parametrize("who,page", [
    ("officer", "performance:my-returns"), ("approver", "performance:approvals"), ("forum_admin", "dashboards:forum"),
])
def test_each_role_lands_where_it_works(client, request, who, page):
    user = request.getfixturevalue(who)
    assert landed(client, sign_in(client, user)) == reverse(page)


def test_a_board_member_lands_on_the_board_they_sit_on(client, board_member):
    # Given a seat on Ambition Board 2 and on a Locality Board, and one on Ambition Board 1 that ended
    seat(board_member, Board.objects.get(ambition__number=1), end_date=datetime.date(2010, 1, 1))
    seat(board_member, Board.objects.get(locality=Locality.objects.get(name="Canterbury")))
    seat(board_member, Board.objects.get(ambition__number=2))
    # Then they land on Ambition Board 2's dashboard: an Ambition Board first, a current seat only
    assert landed(client, sign_in(client, board_member)) == reverse("dashboards:ambition", args=[2])


def test_a_board_member_of_a_locality_board_lands_on_its_dashboard(client, board_member):
    canterbury = Locality.objects.get(name="Canterbury")
    seat(board_member, Board.objects.get(locality=canterbury))
    assert landed(client, sign_in(client, board_member)) == reverse("dashboards:locality", args=[canterbury.gss_code])


def test_a_board_member_with_no_seat_lands_on_the_forum_dashboard(client, board_member):
    assert landed(client, sign_in(client, board_member)) == reverse("dashboards:forum")


def test_the_address_asked_for_before_signing_in_comes_first(client, officer):
    wanted = reverse("dashboards:ambition", args=[3])
    assert landed(client, sign_in(client, officer, query=f"?next={wanted}")) == wanted
