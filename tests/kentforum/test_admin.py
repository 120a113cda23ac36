"""The Django admin: every model registered, with list filters and search, usable by the Forum team."""
import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from ambitions.models import KPQ, Ambition, DeliveryPlan
from kentforum.roles import Role
from localities.models import Locality
from partnerships.models import Board, Organisation, StrategicPartnership
from partnerships.services import person_user_ensure

pytestmark = pytest.mark.django_db

DOMAIN_APPS = ("ambitions", "partnerships", "performance", "localities")


# Lists of three or four rows, where a filter would have nothing to narrow.
SMALL_TABLES = {"Ambition", "BreakdownDimension"}


def domain_models():
    return [m for m in apps.get_models() if m._meta.app_label in DOMAIN_APPS and not m._meta.auto_created]


def test_every_domain_model_is_registered_with_filters_and_search():
    for model in domain_models():
        model_admin = admin.site._registry.get(model)
        assert model_admin is not None, f"{model.__name__} is not in the admin"
        assert model_admin.search_fields, f"{model.__name__} has no search"
        if model.__name__ not in SMALL_TABLES:
            assert model_admin.list_filter, f"{model.__name__} has no list filters"


@pytest.fixture
def forum_admin(client):
    user, _ = person_user_ensure(
        username="forum.team", name="Forum Team", organisation=Organisation.objects.get(short_name="KCC"),
        roles=[Role.FORUM_ADMIN], password="a-long-test-password",
    )
    client.force_login(user)
    return client


def test_the_forum_team_sees_every_changelist(forum_admin):
    for model in domain_models():
        if model not in admin.site._registry:
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert forum_admin.get(url).status_code == 200, url
        assert forum_admin.get(url, {"q": "Kent"}).status_code == 200, url


def test_the_admin_lists_every_ambition_kpq_board_locality_plan_and_partnership(forum_admin):
    expectations = [
        (Ambition, Ambition.objects.values_list("title", flat=True)),
        (KPQ, KPQ.objects.values_list("text", flat=True)),
        (Board, Board.objects.values_list("name", flat=True)),
        (Locality, Locality.objects.values_list("name", flat=True)),
        (DeliveryPlan, DeliveryPlan.objects.values_list("name", flat=True)),
        (StrategicPartnership, StrategicPartnership.objects.values_list("name", flat=True)),
    ]
    from django.utils.html import escape

    for model, names in expectations:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        html = forum_admin.get(url, {"all": ""}).content.decode()
        for name in names:
            assert escape(name) in html, f"{model.__name__}: {name}"


def test_returns_are_read_only_in_the_admin(forum_admin):
    response = forum_admin.get(reverse("admin:performance_indicatorreturn_add"))
    assert response.status_code == 403


def test_an_officer_cannot_use_the_admin(client):
    user, _ = person_user_ensure(
        username="officer", name="An Officer", organisation=Organisation.objects.get(name="Dover District Council"),
        roles=[Role.OFFICER], password="a-long-test-password",
    )
    client.force_login(user)
    response = client.get(reverse("admin:ambitions_ambition_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_admin_refuses_chair_and_vice_chair_from_one_tier(forum_admin):
    board = Board.objects.get(kind="ambition", ambition__number=1)
    memberships = list(board.memberships.select_related("person", "organisation"))
    district_seats = [m for m in memberships if m.organisation.tier == "district"][:2]
    data = {
        "kind": board.kind, "name": board.name, "slug": board.slug, "ambition": board.ambition_id,
        "accountable_to": board.accountable_to_id, "roles": board.roles,
        "memberships-TOTAL_FORMS": str(len(memberships)), "memberships-INITIAL_FORMS": str(len(memberships)),
        "memberships-MIN_NUM_FORMS": "0", "memberships-MAX_NUM_FORMS": "1000",
    }
    for index, m in enumerate(memberships):
        role = "chair" if m == district_seats[0] else "vice_chair" if m == district_seats[1] else "member"
        data.update({
            f"memberships-{index}-id": m.pk, f"memberships-{index}-board": board.pk,
            f"memberships-{index}-person": m.person_id, f"memberships-{index}-organisation": m.organisation_id,
            f"memberships-{index}-role": role, f"memberships-{index}-category": m.category,
            f"memberships-{index}-is_core": "on", f"memberships-{index}-note": m.note,
        })
    response = forum_admin.post(reverse("admin:partnerships_board_change", args=[board.pk]), data)
    assert response.status_code == 200
    assert "different tiers" in response.content.decode()
    assert not board.memberships.filter(role__in=["chair", "vice_chair"]).exists()
