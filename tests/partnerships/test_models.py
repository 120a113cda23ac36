"""Rules of the partnership structure."""
import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from partnerships.models import Board, BoardMembership, Organisation, Person
from partnerships.services import membership_create

pytestmark = pytest.mark.django_db


def board(number: int) -> Board:
    return Board.objects.get(kind="ambition", ambition__number=number)


def seat(name: str):
    """A nominated member of Ambition Board 1 and the organisation they represent."""
    person = Person.objects.get(name=name)
    return person, person.organisation


def test_chair_and_vice_chair_from_different_tiers_is_accepted():
    kevin, kcc = seat("Kevin Lynes")
    john, canterbury = seat("John Gilbey")
    BoardMembership.objects.filter(board=board(1)).delete()
    membership_create(board=board(1), person=kevin, organisation=kcc, role="chair", category="kcc_cabinet_member")
    vice = membership_create(board=board(1), person=john, organisation=canterbury, role="vice_chair", category="district_leader")
    assert vice.pk


def test_chair_and_vice_chair_from_the_same_tier_is_a_validation_error():
    BoardMembership.objects.filter(board=board(1)).delete()
    paul, dover = seat("Paul Watkins")
    john, canterbury = seat("John Gilbey")
    membership_create(board=board(1), person=paul, organisation=dover, role="chair", category="district_leader")
    with pytest.raises(ValidationError) as error:
        membership_create(board=board(1), person=john, organisation=canterbury, role="vice_chair", category="district_leader")
    assert "different tiers" in str(error.value)
    assert not BoardMembership.objects.filter(board=board(1), role="vice_chair").exists()


def test_rule_applies_whichever_office_is_filled_second():
    BoardMembership.objects.filter(board=board(3)).delete()
    mike, kcc = seat("Mike Hill")
    bryan, _ = seat("Bryan Sweetland")
    membership_create(board=board(3), person=mike, organisation=kcc, role="vice_chair")
    with pytest.raises(ValidationError, match="different tiers"):
        membership_create(board=board(3), person=bryan, organisation=kcc, role="chair")


def test_chair_must_represent_county_or_district():
    BoardMembership.objects.filter(board=board(2)).delete()
    brian, fire = seat("Bryan Cope")
    with pytest.raises(ValidationError, match="county or a district"):
        membership_create(board=board(2), person=brian, organisation=fire, role="chair", category="fire_chairman")


def test_rule_does_not_bind_boards_other_than_ambition_boards():
    forum = Board.objects.get(kind="forum")
    assert forum.memberships.get(role="chair").organisation.tier == "county"
    jkc = Board.objects.get(kind="joint_chiefs")
    ashford, _ = seat("John Bunnett")
    dartford, _ = seat("Graham Harris")
    membership = BoardMembership.objects.get(board=jkc, person=ashford)
    membership.role = "chair"
    membership.full_clean()
    membership.save()
    other = BoardMembership.objects.get(board=jkc, person=dartford)
    other.role = "vice_chair"
    other.full_clean()


def test_only_one_current_chair_in_the_database():
    BoardMembership.objects.filter(board=board(1)).delete()
    kevin, kcc = seat("Kevin Lynes")
    simmons, _ = seat("John Simmons")
    BoardMembership.objects.create(board=board(1), person=kevin, organisation=kcc, role="chair")
    with pytest.raises(IntegrityError), transaction.atomic():
        BoardMembership.objects.create(board=board(1), person=simmons, organisation=kcc, role="chair")


def test_ambition_board_needs_an_ambition_in_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        Board.objects.create(kind="ambition", name="Ambition Board 4", slug="ab4")


def test_locality_board_cannot_serve_the_county_area():
    from localities.models import Locality

    county = Locality.objects.get(kind="county")
    candidate = Board(kind="locality", name="Kent Locality Board", slug="kent-lb", locality=county)
    with pytest.raises(ValidationError, match="district"):
        candidate.full_clean()


def test_membership_cannot_end_before_it_starts():
    import datetime

    kevin, kcc = seat("Kevin Lynes")
    membership = BoardMembership(
        board=Board.objects.get(kind="locality", locality__name="Dover"), person=kevin, organisation=kcc,
        start_date=datetime.date(2012, 1, 1), end_date=datetime.date(2011, 1, 1),
    )
    with pytest.raises(ValidationError, match="end before"):
        membership.full_clean()


def test_strategic_partnership_must_be_led_by_an_ambition_board():
    from partnerships.models import StrategicPartnership

    partnership = StrategicPartnership.objects.first()
    partnership.lead_board = Board.objects.get(kind="forum")
    with pytest.raises(ValidationError, match="led by an Ambition Board"):
        partnership.full_clean()


def test_organisation_tiers():
    assert Organisation.objects.get(short_name="KCC").tier == "county"
    assert Organisation.objects.filter(tier="district").count() == 12
