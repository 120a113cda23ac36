"""The Ambition Boards' terms of reference as checks (issue 18, item 4): core membership per
category (para 13) shown as warnings on the board page and in the admin, never blocking a save;
the fixed points (six-monthly reports to Joint Kent Chiefs then the Forum, first action plans in
September 2011) stated on an Ambition Board's page."""
import pytest
from django.urls import reverse

from kentforum.roles import Role
from partnerships.models import Board, BoardMembership, Organisation
from partnerships.selectors import board_detail, core_membership_counts, terms_of_reference_warnings
from partnerships.services import person_user_ensure

pytestmark = pytest.mark.django_db

LEADERS = "District Council Leaders or the Chairman of Kent Fire and Rescue"
CHIEFS = "District Council Chief Executives or the Chief Executive of Kent Fire and Rescue"


def ambition_board(number: int) -> Board:
    return Board.objects.get(kind=Board.Kind.AMBITION, ambition__number=number)


def counts(number: int) -> dict[str, int]:
    return {words: count for words, count, _, _ in core_membership_counts(ambition_board(number))}


def test_the_loaded_nominations_count_per_category():
    # Given the framework as loaded from boards.yaml (appendix 4.3's nominations)
    # Then the counts per para 13 category are as the briefing pack lists them
    assert counts(1) == {"KCC Cabinet Members": 2, LEADERS: 4, "representatives of KCC Corporate Management Team": 1,
                         CHIEFS: 3}
    assert counts(2) == {"KCC Cabinet Members": 2, LEADERS: 5, "representatives of KCC Corporate Management Team": 1,
                         CHIEFS: 5}
    assert counts(3) == {"KCC Cabinet Members": 2, LEADERS: 4, "representatives of KCC Corporate Management Team": 1,
                         CHIEFS: 5}


def test_boards_2_and_3_are_warned_with_13_and_12_nominees():
    assert terms_of_reference_warnings(ambition_board(2)) == [
        f"5 {LEADERS} are nominated; the terms of reference provide for 4 (para 13 b).",
        f"5 {CHIEFS} are nominated; the terms of reference provide for 3 (para 13 d).",
        "13 core members are nominated in all; the terms of reference provide for 10 (para 13).",
    ]
    assert terms_of_reference_warnings(ambition_board(3)) == [
        f"5 {CHIEFS} are nominated; the terms of reference provide for 3 (para 13 d).",
        "12 core members are nominated in all; the terms of reference provide for 10 (para 13).",
    ]


def test_a_board_within_the_limits_and_other_boards_have_no_warning():
    assert terms_of_reference_warnings(ambition_board(1)) == []
    # The Forum has 12 district leaders, but the terms of reference are the Ambition Boards'
    assert terms_of_reference_warnings(Board.objects.get(kind=Board.Kind.FORUM)) == []


def test_ended_and_non_core_seats_are_not_counted():
    board = ambition_board(2)
    # When the Chairman of Kent Fire and Rescue's seat ends and a Dover chief executive is invited, not core
    BoardMembership.objects.filter(board=board, category="fire_chairman").update(end_date="2012-03-31")
    BoardMembership.objects.filter(board=board, person__name="Nadeem Aziz").update(is_core=False)
    warnings = terms_of_reference_warnings(board)
    assert not any(LEADERS in w for w in warnings)
    assert f"4 {CHIEFS} are nominated; the terms of reference provide for 3 (para 13 d)." in warnings
    assert "11 core members are nominated in all; the terms of reference provide for 10 (para 13)." in warnings


def test_the_check_reads_prefetched_members_without_a_query(django_assert_num_queries):
    board = board_detail(ambition_board(2).slug)
    with django_assert_num_queries(0):
        assert len(terms_of_reference_warnings(board)) == 3


def test_the_board_page_shows_the_warnings_and_the_fixed_points(client):
    html = client.get(reverse("board", args=[ambition_board(2).slug])).content.decode()
    assert 'data-testid="terms-of-reference-warnings"' in html
    assert "Ambition Board terms of reference (draft), para 13" in html
    assert "13 core members are nominated in all; the terms of reference provide for 10 (para 13)." in html
    assert "to Joint Kent Chiefs first and then to the Kent Forum" in html
    assert "September 2011" in html


def test_the_board_page_of_a_board_within_the_limits_has_no_warning_but_states_the_facts(client):
    html = client.get(reverse("board", args=[ambition_board(1).slug])).content.decode()
    assert 'data-testid="terms-of-reference-warnings"' not in html
    assert "September 2011" in html


def test_a_locality_board_page_states_no_terms_of_reference(client):
    board = Board.objects.filter(kind=Board.Kind.LOCALITY).first()
    html = client.get(reverse("board", args=[board.slug])).content.decode()
    assert "Terms of reference" not in html and "September 2011" not in html


@pytest.fixture
def forum_admin(client):
    user, _ = person_user_ensure(
        username="forum.team", name="Forum Team", organisation=Organisation.objects.get(short_name="KCC"),
        roles=[Role.FORUM_ADMIN], password="a-long-test-password",
    )
    client.force_login(user)
    return client


def test_the_admin_change_page_shows_the_warnings_to_the_forum_team(forum_admin):
    response = forum_admin.get(reverse("admin:partnerships_board_change", args=[ambition_board(3).pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Terms of reference check" in html
    assert "12 core members are nominated in all; the terms of reference provide for 10 (para 13)." in html
    within = forum_admin.get(reverse("admin:partnerships_board_change", args=[ambition_board(1).pk])).content.decode()
    assert "Within the core membership of the Ambition Board terms of reference" in within


def test_the_admin_still_saves_a_board_over_the_limits(forum_admin):
    # Warnings, not errors: adding a sixth district chief executive to board 3 is saved
    board = ambition_board(3)
    seats = list(board.memberships.filter(end_date__isnull=True))
    extra = BoardMembership.objects.filter(board__kind="joint_chiefs", person__name="John Bunnett").get()
    data = {
        "kind": board.kind, "name": board.name, "slug": board.slug, "ambition": board.ambition_id,
        "accountable_to": board.accountable_to_id or "", "roles": board.roles, "decision_making": "unknown",
        "memberships-TOTAL_FORMS": len(seats) + 1, "memberships-INITIAL_FORMS": len(seats),
        "memberships-MIN_NUM_FORMS": 0, "memberships-MAX_NUM_FORMS": 1000,
    }
    for index, m in enumerate([*seats, None]):
        source = m or extra
        data.update({
            f"memberships-{index}-id": m.pk if m else "", f"memberships-{index}-board": board.pk,
            f"memberships-{index}-person": source.person_id, f"memberships-{index}-organisation": source.organisation_id,
            f"memberships-{index}-role": source.role if m else "member", f"memberships-{index}-category": source.category,
            f"memberships-{index}-is_core": "on", f"memberships-{index}-note": source.note,
        })
    response = forum_admin.post(reverse("admin:partnerships_board_change", args=[board.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert "13 core members are nominated in all" in " ".join(terms_of_reference_warnings(board_detail(board.slug)))
