"""Access control, generated from the URL resolver.

Every URL pattern of the portal, the API (the DRF router included) and the admin is walked from
``get_resolver()``; each must have an entry in ``EXPECTED``, the one table that says, per HTTP
method, what each role gets: anonymous visitors, an officer of Ashford (A) and one of Dover (B),
an approver, a board member, a Forum team admin, a superuser, and on API URLs a read-scope and a
submit-scope partner key of Ashford. A new URL with no entry fails
``test_every_url_is_in_the_table``; an entry that matches no URL fails too.

Path parameters are filled with real objects, one of every kind (action plan, priority area,
forward-plan item, local priority, study, rollups, KPQ judgement, target, API keys, returns,
milestones, periods, events, a published board report, import jobs ...). The URLs that point at
one district's objects (return pages, decisions, import jobs, the API's return details) are
requested twice: once for Ashford's objects and once for Dover's, so each officer probes the
other's drafts by id. Each district's drafts carry sentinels (a value and a commentary); no
response to anyone who may not read that district's drafts may contain them, whatever its status,
and a page that shows a return to whoever may read it must contain them (so the probe points at
the right object).

All requests run in one test, each inside a savepoint that is rolled back, against a world built
once for the module; every mismatch is collected and reported in one table. The case count and
timing are written to ``$ACCESS_MATRIX_JSON`` (default: the temp dir).

Where the app is wrong the table says what is right and ``KNOWN`` lists the case with the status
it gives today and why; the test fails if a known case starts to behave (remove it from KNOWN).
"""
from __future__ import annotations

import datetime
import json
import logging
import os
import re
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from rest_framework.test import APIClient

from ambitions.models import KPQ, ActionPlan, Ambition, DeliveryPlan, ForwardPlanItem, PriorityArea
from exchange.models import DataElementMapping, OrgUnitMapping
from kentforum.roles import Role
from localities.models import LocalPriority
from partnerships.models import Board, Organisation, PartnerAPIKey
from performance.catalogue import services
from performance.comparators import services as comparator_services
from performance.dashboards import judgements, reports
from performance.models import (
    BoardReport,
    IndicatorAssignment,
    IndicatorReturn,
    IndicatorRollup,
    IndicatorTarget,
    KPQJudgement,
    Milestone,
    MilestoneReturn,
    MilestoneRollup,
    PeriodEvent,
    ReturnEvent,
    ReturnImport,
    Study,
)
from performance.returns import comments, imports, validation, workflow
from performance.rollups import engine
from sso.models import ExternalIdentity, OrganisationClaim
from tests.factories import IndicatorFactory, council, district, open_quarter
from webhooks import services as webhook_services

pytestmark = pytest.mark.slow  # the evidence tier (README, "Tests")

# --- Roles and the districts' sentinels -------------------------------------------------------------

PORTAL_ROLES = ["anon", "officer_a", "officer_b", "approver", "board_member", "forum_admin", "superuser"]
KEY_ROLES = ["key_read", "key_submit"]  # partner keys of Ashford; only the API reads them
API_ROLES = PORTAL_ROLES + KEY_ROLES

DISTRICTS = {
    "A": {"officer": "officer_a", "org": "Ashford Borough Council", "locality": "Ashford",
          "value": Decimal("876543.2109"), "texts": ("876543", "876,543", "SENTINEL-ASHFORD-4410")},
    "B": {"officer": "officer_b", "org": "Dover District Council", "locality": "Dover",
          "value": Decimal("987654.3210"), "texts": ("987654", "987,654", "SENTINEL-DOVER-7731")},
}
# Who may read a district's unpublished (draft) returns: its own officers, the Forum team, a
# superuser (in the admin), and for Ashford its submit key.
MAY_READ_DRAFTS = {
    "A": {"officer_a", "forum_admin", "superuser", "key_submit"},
    "B": {"officer_b", "forum_admin", "superuser"},
}

LOGIN = "LOGIN"  # a redirect to a sign-in page (the portal's or the admin's)
# Not requested, to keep the run short: the superuser's way through the framework's admin pages
# is Django's own (is_superuser has every permission) and is checked on the changelists; the
# staff's empty POSTs to framework forms would only render the form again with its errors.
NOT_SENT = None


# --- The expectation table --------------------------------------------------------------------------
#
# EXPECTED maps a regular expression over the full route (as the resolver writes it; the first
# key that matches wins) to {method: expectation}. An expectation is {role: status} where status
# is an HTTP status, LOGIN, or a frozenset of statuses; or an ``Owned`` for URLs that point at one
# district's object, written with the pseudo-roles owner / other (the officers of the object's
# district and of the other one) and key_own / key_other (Ashford's submit key, when the object
# is Ashford's / Dover's).

def every(status, **roles):
    return {**{role: status for role in API_ROLES}, **roles}


def signed_in(others=403, **roles):
    """A page behind login_required: anonymous visitors go to sign in, the named roles get their
    status, other signed-in users ``others``."""
    return {**{role: others for role in API_ROLES}, "anon": LOGIN, **roles}


def admin_page(staff=200, **roles):
    """The admin: anyone but staff goes to the admin's sign-in page."""
    return {**{role: LOGIN for role in API_ROLES}, "forum_admin": staff, "superuser": staff, **roles}


def api_write(status, **roles):
    """An API write: anonymous callers 401 (the key scheme answers), read keys 403."""
    return {**{role: status for role in API_ROLES}, "anon": 401, "key_read": 403, **roles}


def key_only(status, **roles):
    """The webhooks API: a partner's keys only (these are Ashford's, and the world's endpoint is
    Ashford's); anonymous callers 401, signed-in people 403."""
    return {**{role: 403 for role in API_ROLES}, "anon": 401, "key_read": status, "key_submit": status, **roles}


@dataclass(frozen=True)
class Owned:
    spec: dict

    def for_target(self, target: str) -> dict:
        other_target = "B" if target == "A" else "A"
        out = {role: status for role, status in self.spec.items() if role not in ("owner", "other", "key_own", "key_other")}
        out[DISTRICTS[target]["officer"]] = self.spec["owner"]
        out[DISTRICTS[other_target]["officer"]] = self.spec["other"]
        if "key_own" in self.spec:
            out["key_submit"] = self.spec["key_own"] if target == "A" else self.spec["key_other"]
        return out


def owned(base: dict, **roles) -> Owned:
    """``base`` (from every/signed_in/api_write) for everyone, then the pseudo-roles."""
    spec = {role: status for role, status in base.items() if role not in ("officer_a", "officer_b")}
    spec.setdefault("owner", base["officer_a"])
    spec.setdefault("other", base["officer_a"])
    if "key_submit" in base:
        spec.setdefault("key_own", base["key_submit"])
        spec.setdefault("key_other", base["key_submit"])
    spec.update(roles)
    return Owned(spec)


PUBLIC_PAGE = {"GET": every(200), "POST": every(405)}
API_READ_LIST = {"GET": every(200), "POST": api_write(405)}
API_READ_DETAIL = {"GET": every(200), "PATCH": api_write(405), "PUT": api_write(405), "DELETE": api_write(405)}
API_FORMAT = {"GET": every(200)}
# A district's unpublished return through the API: its officers, the Forum team and (Ashford's)
# submit key read it; everyone else gets 404, as if it did not exist. PATCH sends the version it
# read and a new commentary: its owners may save (rolled back here), the Forum team may read but
# not enter returns (403), anyone else 404.
API_RETURN_DETAIL = {
    "GET": owned(every(404), owner=200, forum_admin=200, key_own=200),
    "PATCH": owned(api_write(404), owner=200, forum_admin=403, key_own=200),
    "PUT": owned(api_write(405)),
    "DELETE": owned(api_write(405)),
}
API_RETURN_FORMAT = {"GET": API_RETURN_DETAIL["GET"]}

API_RESOURCES = (
    "organisations|people|memberships|boards|ambitions|kpqs|top-priorities|partnerships|existing-partnerships|officer-groups|delivery-plans|localities"
    "|indicators|periods|milestones|rollups|studies|comparator-areas|comparator-figures"
)
FRAMEWORK_APPS = "ambitions|partnerships|localities|performance|webhooks|sso|exchange"  # the Forum team keeps these in the admin
SUPERUSER_APPS = "auth|rest_framework_api_key|axes|notifications"  # users, groups, plain keys, sign-in records, notifications
READ_ONLY_MODELS = (  # shown in the admin, changed only by the workflow (or not at all)
    "indicatorreturn|milestonereturn|returnevent|returncomment|periodevent|returnimport|indicatorrollup|milestonerollup"
    "|kpqjudgement|comparatorfigure"
)
ADMIN_OBJECT = r"<path:object_id>/"

EXPECTED: dict[str, dict] = {
    # Published pages: anyone reads, nobody posts.
    r"^$": PUBLIC_PAGE,
    r"^delivery-plans/$": PUBLIC_PAGE,
    r"^partnerships/$": PUBLIC_PAGE,
    r"^data-tables/$": PUBLIC_PAGE,
    r"^boards/<slug:slug>/$": PUBLIC_PAGE,
    # The indicator list is a filtered read and accepts any method; a POST only reads.
    r"^indicators/$": {"GET": every(200), "POST": every(405)},
    r"^dashboards/$": PUBLIC_PAGE,
    r"^dashboards/ambitions/<int:number>/$": PUBLIC_PAGE,
    r"^dashboards/localities/<str:gss_code>/$": PUBLIC_PAGE,
    r"^dashboards/reports/<int:pk>/$": PUBLIC_PAGE,
    # The Forum's board pack (PDF), the Forum dashboard's figures as at now: anyone.
    r"^dashboards/pack\.pdf$": PUBLIC_PAGE,
    # An indicator's own page reads the summary tables only (approved figures): anyone.
    r"^dashboards/indicators/<str:code>/$": PUBLIC_PAGE,
    # A dashboard's tables as files (every table as Excel, one as CSV): anyone, as the page. The
    # draft indicator has no approved figures, so its page has no tables: 404 for anyone alike.
    r"^dashboards/indicators/<str:code>/tables/<slug:table>\.csv$": {"GET": every(404), "POST": every(405)},
    r"^dashboards/(ambitions/<int:number>/|localities/<str:gss_code>/|kpqs/<str:code>/|indicators/<str:code>/)?"
    r"tables(\.xlsx|/<slug:table>\.csv)$": PUBLIC_PAGE,
    # The search finds published things only: anyone.
    r"^search/$": PUBLIC_PAGE,
    # The favicon: a redirect to our static SVG for anyone; nobody posts.
    r"^favicon\.ico$": {"GET": every(302), "POST": every(405)},
    # Where a signed-in person lands: a redirect to their role's page; nobody posts.
    r"^welcome/$": {"GET": signed_in(302), "POST": signed_in(405)},
    # Notifications: each signed-in person's own; another's is 404, as if it did not exist (the
    # one probed is Ashford's officer's: opening it marks it read and goes to its page).
    r"^notifications/$": {"GET": signed_in(200), "POST": signed_in(405)},
    r"^notifications/read/$": {"GET": signed_in(405), "POST": signed_in(302)},
    r"^notifications/<int:pk>/$": {"GET": signed_in(404, officer_a=302), "POST": signed_in(405)},
    r"^notifications/preferences/$": {"GET": signed_in(200), "POST": signed_in(302)},  # empty: nothing e-mailed
    r"^notifications/following/$": {"GET": signed_in(405), "POST": signed_in(400)},  # naming no indicator
    # Anyone reads a KPQ; board members and the Forum team judge (an empty judgement is 400).
    r"^dashboards/kpqs/<str:code>/$": {
        "GET": every(200),
        "POST": signed_in(board_member=400, forum_admin=400),
    },
    # The draft board report: board members and the Forum team read it; posting publishes
    # nothing (405: publishing goes through the preview).
    r"^dashboards/ambitions/<int:number>/report/$": {
        "GET": signed_in(board_member=200, forum_admin=200),
        "POST": signed_in(board_member=405, forum_admin=405),
    },
    # Publishing it: the Forum team and members of that board (this board member has no seat on
    # it). A POST with no fingerprint of the checked figures is a conflict: nothing is published.
    r"^dashboards/ambitions/<int:number>/report/publish/$": {
        "GET": signed_in(forum_admin=200),
        "POST": signed_in(forum_admin=409),
    },
    # Signing in and out (a signed-in user is sent on from the sign-in page).
    r"^accounts/login/$": {"GET": every(302, anon=200), "POST": every(302, anon=200)},
    r"^accounts/logout/$": {"GET": every(405), "POST": every(302)},
    # Single sign-on (sso/): not configured in the tests, so its sign-in addresses are 404 for anyone
    # (tests/sso drives them configured). First sign-ins are the Forum team's to decide; a POST
    # naming no request is 404.
    r"^accounts/sso/(start|callback|held)/$": {"GET": every(404), "POST": every(404)},
    r"^accounts/sso/requests/$": {"GET": signed_in(forum_admin=200), "POST": signed_in(forum_admin=404)},
    # The returns workflow.
    r"^returns/$": {"GET": signed_in(officer_a=200, officer_b=200), "POST": signed_in(officer_a=200, officer_b=200)},
    r"^returns/<int:period_id>/indicators/<str:code>/<str:gss_code>/$": {
        "GET": owned(signed_in(), owner=200, forum_admin=200),
        "POST": owned(signed_in(), owner=409),  # no version sent for an existing return: a conflict
    },
    r"^returns/<int:period_id>/milestones/<int:milestone_id>/$": {
        "GET": owned(signed_in(), owner=200, forum_admin=200),
        "POST": owned(signed_in(), owner=400),  # an empty form
    },
    # A comment on a return (the probes are drafts): whoever sees its workings, its officers and the
    # Forum team (an empty comment is 400, the page shown again); approvers do not see drafts.
    r"^returns/<int:period_id>/(indicators/<str:code>/<str:gss_code>|milestones/<int:milestone_id>)/comments/$": {
        "GET": owned(signed_in(others=405)),
        "POST": owned(signed_in(), owner=400, forum_admin=400),
    },
    r"^returns/<int:period_id>/template\.csv$": {
        "GET": signed_in(officer_a=200, officer_b=200),
        "POST": signed_in(officer_a=200, officer_b=200),
    },
    r"^returns/<int:period_id>/upload/$": {
        "GET": signed_in(officer_a=200, officer_b=200),
        "POST": signed_in(officer_a=400, officer_b=400),  # no file
    },
    # An import job: only the officer who uploaded it (posting without "confirm" cancels it).
    r"^returns/imports/<int:pk>/$": {
        "GET": owned(signed_in(), owner=200),
        "POST": owned(signed_in(), owner=302),
    },
    # Submitting the drafts an upload saved: only its uploader, by POST; an upload not yet saved is a 400.
    r"^returns/imports/<int:pk>/submit/$": {
        "GET": owned(signed_in(), owner=405, other=405),
        "POST": owned(signed_in(), owner=400),
    },
    # The approval queue (a GET form of filters), and its bulk approval: a POST of the selection to
    # the confirmation page, then a POST that approves; posting no selection is a 400.
    r"^approvals/$": {"GET": signed_in(approver=200), "POST": signed_in(approver=405)},
    r"^approvals/confirm/$": {"GET": signed_in(approver=405), "POST": signed_in(approver=400)},
    r"^approvals/approve/$": {"GET": signed_in(approver=405), "POST": signed_in(approver=400)},
    # Deciding on a draft: nobody may (approvers do not see drafts; officers and the Forum team do
    # not approve).
    r"^approvals/indicator/<int:pk>/<str:decision>/$": {
        "GET": owned(signed_in(others=405)),
        "POST": owned(signed_in()),
    },
    r"^approvals/milestone/<int:pk>/<str:decision>/$": {
        "GET": owned(signed_in(others=405)),
        "POST": owned(signed_in()),
    },
    # Periods: the Forum team (a post naming no period is 404).
    r"^periods/$": {"GET": signed_in(forum_admin=200), "POST": signed_in(forum_admin=404)},
    # Loading comparator figures (England, the South East, similar counties): the Forum team (a post with no file is 400).
    r"^comparators/upload/$": {"GET": signed_in(forum_admin=200), "POST": signed_in(forum_admin=400)},
    # The API.
    r"^api/v1/exports/approved-values\.csv$": {"GET": every(200), "POST": api_write(405)},
    # Exchange with DHIS2 and SDMX: anyone exports approved values; an import is for whoever may enter
    # the returns it names (an empty data value set is a 400; an SDMX import must be text/csv: 415).
    r"^api/v1/exchange/dhis2/dataValueSets$": {"GET": every(200), "POST": api_write(400)},
    r"^api/v1/exchange/sdmx/data\.csv$": {"GET": every(200), "POST": api_write(415)},
    r"^api/v1/$|^api/v1/<drf_format_suffix:format>$": {"GET": every(200), "POST": every(405)},
    r"^api/schema/$": {"GET": every(200), "POST": every(405)},
    r"^api/docs/$": {"GET": every(200), "POST": every(405)},
    r"^api/v1/\^indicator-returns/bulk/\$$": {"GET": every(405), "POST": api_write(400)},
    r"^api/v1/\^indicator-returns/bulk\\\.": {"GET": every(405)},
    r"^api/v1/\^(indicator|milestone)-returns/\$$": {"GET": every(200), "POST": api_write(400)},
    r"^api/v1/\^(indicator|milestone)-returns\\\.": API_FORMAT,
    r"^api/v1/\^(indicator|milestone)-returns/\(\?P<pk>\[\^/\]\+\)/\$$": API_RETURN_DETAIL,
    r"^api/v1/\^(indicator|milestone)-returns/\(\?P<pk>\[\^/\]\+\)\\\.": API_RETURN_FORMAT,
    # Partner webhooks: each partner's keys manage its own endpoints (an empty POST is 400).
    r"^api/v1/\^webhooks/\$$": {"GET": key_only(200), "POST": key_only(400)},
    r"^api/v1/\^webhooks/\(\?P<pk>\[\^/\]\+\)/\$$": {
        "GET": key_only(200), "DELETE": key_only(204), "PATCH": key_only(405), "PUT": key_only(405)},
    r"^api/v1/\^webhooks/\(\?P<pk>\[\^/\]\+\)/deliveries/\$$": {"GET": key_only(200), "POST": key_only(405)},
    r"^api/v1/\^webhooks/\(\?P<pk>\[\^/\]\+\)/deliveries/\(\?P<delivery_id>\[\^/\]\+\)/replay/\$$": {
        "GET": key_only(405), "POST": key_only(202)},
    r"^api/v1/\^webhooks/.*/replay\\\.": {"GET": key_only(405)},
    r"^api/v1/\^webhooks.*\\\.": {"GET": key_only(200)},
    rf"^api/v1/\^({API_RESOURCES})/\$$": API_READ_LIST,
    rf"^api/v1/\^({API_RESOURCES})/\(\?P<\w+>\[\^/\]\+\)/\$$": API_READ_DETAIL,
    rf"^api/v1/\^({API_RESOURCES})(/\(\?P<\w+>\[\^/\]\+\))?\\\.": API_FORMAT,
    # The admin: staff only.
    r"^admin/login/$": {"GET": every(200, forum_admin=302, superuser=302)},
    # Signing out of the admin: anyone but staff is sent to the admin's index; staff must POST.
    r"^admin/logout/$": {"GET": admin_page(405, **{role: 302 for role in API_ROLES if role not in ("forum_admin", "superuser")}),
                         "POST": every(302)},
    r"^admin/$|^admin/password_change/(done/)?$|^admin/jsi18n/$": {"GET": admin_page()},
    r"^admin/autocomplete/$": {"GET": admin_page(403)},  # asked for no field to complete
    # The app index lists every app with models in the admin; a new one needs its own entries.
    rf"^admin/\^\(\?P<app_label>(({SUPERUSER_APPS}|{FRAMEWORK_APPS})\|?)+\)/\$$": {"GET": admin_page()},
    r"^admin/r/<path:content_type_id>/<path:object_id>/$": {"GET": admin_page(404)},  # boards have no public URL
    r"^admin/\(\?P<url>\.\*\)\$$": {"GET": admin_page(404)},
    # Users, groups, plain keys and sign-in records are the superuser's.
    rf"^admin/({SUPERUSER_APPS}|{FRAMEWORK_APPS})/\w+/{ADMIN_OBJECT}$": {"GET": admin_page(302)},  # old-style URL: on to change/
    r"^admin/auth/user/<id>/password/$": {"GET": admin_page(forum_admin=403), "POST": admin_page(forum_admin=403)},
    # Sign-in records are never added; their change page shows read-only fields (a POST saves nothing).
    r"^admin/axes/\w+/add/$": {"GET": admin_page(403), "POST": admin_page(403)},
    r"^admin/axes/\w+/<path:object_id>/change/$": {"GET": admin_page(forum_admin=403), "POST": admin_page(302, forum_admin=403)},
    rf"^admin/({SUPERUSER_APPS})/\w+/$": {"GET": admin_page(forum_admin=403)},
    rf"^admin/({SUPERUSER_APPS})/\w+/{ADMIN_OBJECT}history/$": {"GET": admin_page(forum_admin=403)},
    rf"^admin/({SUPERUSER_APPS})/\w+/(add/|{ADMIN_OBJECT}(change|delete)/)$": {
        "GET": admin_page(forum_admin=403), "POST": admin_page(forum_admin=403)},
    # A published board report: only its route (the dates it went to Joint Kent Chiefs and the
    # Forum) is recorded in the admin; never added or deleted there.
    r"^admin/performance/boardreport/(add/|<path:object_id>/delete/)$": {"GET": admin_page(403), "POST": admin_page(403)},
    r"^admin/performance/boardreport/<path:object_id>/change/$": {
        "GET": admin_page(), "POST": admin_page(forum_admin=NOT_SENT, superuser=NOT_SENT)},
    # Returns, their history, rollups, judgements: read-only for everyone.
    rf"^admin/performance/({READ_ONLY_MODELS})/(add/|{ADMIN_OBJECT}delete/)$": {
        "GET": admin_page(403), "POST": admin_page(403)},
    rf"^admin/performance/({READ_ONLY_MODELS})/{ADMIN_OBJECT}change/$": {"GET": admin_page(), "POST": admin_page(403)},
    # The briefing pack's data tables: read-only (loaded from data/kent_framework/).
    r"^admin/localities/(sourcetable|sourcefigure)/(add/|<path:object_id>/delete/)$": {
        "GET": admin_page(403), "POST": admin_page(403)},
    r"^admin/localities/(sourcetable|sourcefigure)/<path:object_id>/change/$": {"GET": admin_page(), "POST": admin_page(403)},
    # Webhook deliveries: read-only (replayed by an action on the list).
    r"^admin/webhooks/webhookdelivery/(add/|<path:object_id>/delete/)$": {"GET": admin_page(403), "POST": admin_page(403)},
    r"^admin/webhooks/webhookdelivery/<path:object_id>/change/$": {"GET": admin_page(), "POST": admin_page(403)},
    # Single sign-on's identities: read-only (decided on /accounts/sso/requests/).
    r"^admin/sso/externalidentity/(add/|<path:object_id>/delete/)$": {"GET": admin_page(403), "POST": admin_page(403)},
    r"^admin/sso/externalidentity/<path:object_id>/change/$": {"GET": admin_page(), "POST": admin_page(403)},
    # The framework: the Forum team keeps it.
    rf"^admin/({FRAMEWORK_APPS})/\w+/$": {"GET": admin_page()},
    rf"^admin/({FRAMEWORK_APPS})/\w+/{ADMIN_OBJECT}history/$": {"GET": admin_page(superuser=NOT_SENT)},
    rf"^admin/({FRAMEWORK_APPS})/\w+/(add/|{ADMIN_OBJECT}(change|delete)/)$": {
        "GET": admin_page(superuser=NOT_SENT), "POST": admin_page(forum_admin=NOT_SENT, superuser=NOT_SENT)},
}

# Known app bugs: (route key, method, target or None, role) -> (status it gives today, why).
# The table above says what is right; each of these fails today as described, and the test fails
# when one of them starts to behave, so that it is taken off this list.
KNOWN: dict[tuple, tuple] = {}  # none at present (milestone decisions by approvers on drafts: fixed)

# Pages that show the return they point at to whoever may read it.
SHOWS_TARGET = {
    r"^returns/<int:period_id>/indicators/<str:code>/<str:gss_code>/$",
    r"^returns/<int:period_id>/milestones/<int:milestone_id>/$",
    r"^returns/imports/<int:pk>/$",
    r"^api/v1/\^(indicator|milestone)-returns/\(\?P<pk>\[\^/\]\+\)/\$$",
    r"^api/v1/\^(indicator|milestone)-returns/\(\?P<pk>\[\^/\]\+\)\\\.",
}


# --- The URL walk -------------------------------------------------------------------------------------

def walk(resolver=None, prefix="", namespace=None):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from walk(entry, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield prefix + str(entry.pattern), name


PATTERNS = sorted(set(walk()))
ROUTES = sorted({route for route, _ in PATTERNS})


def expectation_for(route):
    for key, methods in EXPECTED.items():
        if re.search(key, route):
            return key, methods
    return None, None


def roles_for(route):
    return API_ROLES if route.startswith("api/") else PORTAL_ROLES


def test_every_url_is_in_the_table():
    missing = [route for route in ROUTES if expectation_for(route)[0] is None]
    assert not missing, "URLs with no access expectation (add them to EXPECTED):\n" + "\n".join(missing)


def test_every_table_entry_matches_a_url():
    unused = [key for key in EXPECTED if not any(expectation_for(route)[0] == key for route in ROUTES)]
    assert not unused, f"Entries that match no URL (or are shadowed by an earlier one): {unused}"


def test_every_role_has_an_expectation_in_every_entry():
    gaps = []
    for key, methods in EXPECTED.items():
        for method, expectation in methods.items():
            for target in ("A", "B") if isinstance(expectation, Owned) else (None,):
                table = expectation.for_target(target) if target else expectation
                gaps += [(key, method, target, role) for role in API_ROLES if role not in table]
    assert not gaps, gaps


# --- The world: built once for the module, rolled back after it -------------------------------------

@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def build_world():
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.auth import get_user_model
    from django.test import Client
    from rest_framework_api_key.models import APIKey

    from tests.performance.conftest import make_user

    users = {
        "officer_a": make_user("ashford", DISTRICTS["A"]["org"], Role.OFFICER),
        "officer_b": make_user("dover", DISTRICTS["B"]["org"], Role.OFFICER),
        "approver": make_user("approver", "Kent County Council", Role.APPROVER),
        "board_member": make_user("member", "Canterbury City Council", Role.BOARD_MEMBER),
        "forum_admin": make_user("forumadmin", "Kent County Council", Role.FORUM_ADMIN),
        "superuser": get_user_model().objects.create_superuser("root", "root@example.org", "a-long-root-password"),
    }
    period = open_quarter(2012, 1)
    period.deadline = datetime.date(2012, 7, 31)
    period.save()
    ambition = Ambition.objects.get(number=1)
    kpq = KPQ.objects.filter(ambition=ambition).order_by("number").first()
    plan = DeliveryPlan.objects.order_by("pk").first()

    # The drafts the officers probe: one indicator return and one milestone return per district.
    draft_indicator = IndicatorFactory(code="T-KSI", name="People killed or seriously injured", min_value=Decimal(0))
    targets = {}
    for target, d in DISTRICTS.items():
        organisation, locality, officer = council(d["org"]), district(d["locality"]), users[d["officer"]]
        services.assignment_ensure(organisation=organisation, indicator=draft_indicator, locality=locality)
        ret = workflow.indicator_return_save_draft(
            indicator=draft_indicator, locality=locality, period=period, organisation=organisation, user=officer,
            figures=validation.IndicatorFigures(value=d["value"], commentary=f"{d['texts'][2]} indicator"),
        )
        milestone = Milestone.objects.create(
            title=f"{d['locality']} town centre regeneration", delivery_plan=plan, owner=organisation,
            due_date=datetime.date(2013, 3, 31),
        )
        ms_ret = workflow.milestone_return_save_draft(
            milestone=milestone, period=period, organisation=organisation, user=officer,
            progress=validation.MilestoneProgress(status="at_risk", percent_complete=37, commentary=f"{d['texts'][2]} milestone"),
        )
        comments.return_comment_add(ret=ret, user=officer, text=f"{d['texts'][2]} comment")  # workings, as the draft
        upload = ("period,indicator_code,area_gss_code,value,numerator,denominator,commentary,version\n"
                  f"{period.label},T-KSI,{locality.gss_code},{d['value']},,,{d['texts'][2]} upload,{ret.version}\n")
        job = imports.import_preview(user=officer, organisation=organisation, period=period,
                                     filename=f"{d['locality'].lower()}.csv", raw=upload.encode())
        targets[target] = {"ret": ret, "ms_ret": ms_ret, "milestone": milestone, "import": job, "locality": locality}

    # A published figure of Ashford's, so that rollups, dashboards, a board report and the
    # export have something to show.
    published = IndicatorFactory(code="T-PUB", name="Published test indicator", min_value=Decimal(0))
    published.kpqs.add(kpq)
    published.ambitions.add(ambition)
    services.assignment_ensure(organisation=council(DISTRICTS["A"]["org"]), indicator=published, locality=district())
    IndicatorTarget.objects.create(indicator=published, period=period, locality=district(), target=Decimal(50),
                                   tolerance_percent=Decimal(10))
    pub = workflow.indicator_return_save_draft(
        indicator=published, locality=district(), period=period, organisation=council(), user=users["officer_a"],
        figures=validation.IndicatorFigures(value=Decimal("42"), commentary="A published figure."),
    )
    workflow.indicator_return_submit(ret=pub, expected_version=pub.version, user=users["officer_a"])
    workflow.return_approve(ret=pub, expected_version=pub.version, user=users["approver"])
    # The other districts' approved figures, so that Kent's figure is complete and can be judged
    # and reported (a county count from one district is not).
    from localities.models import Locality

    IndicatorReturn.objects.bulk_create([
        IndicatorReturn(indicator=published, locality=other, period=period, organisation=Organisation.objects.get(locality=other),
                        value=Decimal(40), state="approved", decided_at=pub.decided_at)
        for other in Locality.objects.filter(kind="district").exclude(pk=district().pk)
    ])
    engine.rollup_slice(published.pk, period.pk)
    engine.rollup_milestones(period.pk)
    judgements.kpq_judgement_add(user=users["board_member"], kpq=kpq, period=period, answer="improving",
                               rationale="The published figure is on target.", derived_answer="not_enough_data")
    report = reports.board_report_publish(
        user=users["forum_admin"], number=1,
        fingerprint=reports.board_report_fingerprint(reports.board_report_content(1)),
    )

    # One object of every other kind the admin and the API show.
    board = Board.objects.get(kind="ambition", ambition=ambition)
    action_plan = ActionPlan.objects.create(board=board, year="2012/13", title="Ambition 1 action plan 2012/13")
    PriorityArea.objects.create(action_plan=action_plan, number=1, title="Jobs for young people")
    ForwardPlanItem.objects.create(board=board, meeting_date=datetime.date(2012, 9, 20), title="Quarterly performance")
    LocalPriority.objects.create(locality=district(), title="Town centre vitality", weight=7, ambition=ambition)
    study = Study.objects.create(title="Kent economic assessment", kind=Study.Kind.RESEARCH,
                                 commissioned_by=Organisation.objects.get(short_name="KCC"))
    study.kpqs.add(kpq)
    ashford_org = council(DISTRICTS["A"]["org"])
    _key, read_raw = PartnerAPIKey.objects.create_key(name="Ashford read key", partner=ashford_org, scope="read")
    submit_key, submit_raw = PartnerAPIKey.objects.create_key(name="Ashford submit key", partner=ashford_org, scope="submit")
    submit_key.organisations.set([ashford_org])
    APIKey.objects.create_key(name="a plain library key")
    # Ashford's webhook endpoint, with one delivery in its log.
    hook = webhook_services.endpoint_create(partner=ashford_org, url="https://hooks.ashford.example/kentforum",
                                            events=["return.approved"], created_by_key=submit_key)
    webhook_delivery, = webhook_services.outbox_write(event="return.approved", data={}, endpoint_ids=[hook.pk])
    # Single sign-on: an organisation claim mapped to Ashford, and a first sign-in waiting for the Forum team.
    OrganisationClaim.objects.create(value="ashford.gov.example", organisation=ashford_org, role=Role.OFFICER)
    ExternalIdentity.objects.create(issuer="https://login.example/o", subject="sso-1", claim_value="ashford.gov.example",
                                    organisation=ashford_org, role=Role.OFFICER, name="Ash Waiting")
    # The exchange's DHIS2 mapping tables (kept by the Forum team in the admin).
    OrgUnitMapping.objects.create(locality=district(DISTRICTS["A"]["locality"]), org_unit="OuAshford01")
    # Comparator areas and one of England's figures, loaded centrally by the Forum team.
    comparator_services.comparator_figures_import(user=users["forum_admin"], raw=(
        "indicator_code,area_gss_code,period,value,ci_lower,ci_upper,source,released,quality\n"
        f"T-PUB,E92000001,{period.label},41,,,ONS,2012-09-01,final\n").encode())
    DataElementMapping.objects.create(indicator=targets["A"]["ret"].indicator, data_element="DeProbe0001")
    # Ashford's milestone return is last changed by its partner's system through the API, so
    # every role's view of a return written by a key (no person in its history) is probed too.
    ms_ret = targets["A"]["ms_ret"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {submit_raw}")
    written = api.patch(f"/api/v1/milestone-returns/{ms_ret.pk}/", {
        "commentary": f"{DISTRICTS['A']['texts'][2]} milestone, from the council's system", "version": ms_ret.version,
    }, format="json")
    assert written.status_code == 200, written.content
    assert ReturnEvent.objects.filter(milestone_return=ms_ret, api_key=submit_key).exists()
    ms_ret.refresh_from_db()
    seen = {"user_agent": "pytest", "ip_address": "127.0.0.1", "username": "ashford", "http_accept": "*/*", "path_info": "/accounts/login/"}
    AccessAttempt.objects.create(**seen, get_data="", post_data="", failures_since_start=1)
    AccessFailureLog.objects.create(**seen)
    AccessLog.objects.create(**seen)

    for model in (IndicatorRollup, MilestoneRollup, KPQJudgement, BoardReport, PeriodEvent, ReturnEvent, IndicatorAssignment):
        assert model.objects.exists(), f"the world has no {model.__name__}"

    sessions = {}
    for role, user in users.items():
        client = Client()
        client.force_login(user)
        sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return {
        "users": users, "period": period, "draft_indicator": draft_indicator, "targets": targets, "report": report,
        "kpq": kpq, "board": board, "keys": {"key_read": read_raw, "key_submit": submit_raw}, "sessions": sessions,
        "urls": {}, "webhook_delivery": webhook_delivery,
    }


# --- Filling path parameters --------------------------------------------------------------------------

def _admin_object_id(route, world):
    from django.apps import apps

    app_label, model_name = route.split("/")[1:3]
    t = world["targets"]["B"]
    owned_objects = {
        "indicatorreturn": t["ret"], "milestonereturn": t["ms_ret"], "returnimport": t["import"],
        "returnevent": ReturnEvent.objects.filter(indicator_return=t["ret"]).first(),
        "returncomment": t["ret"].comments.first(),
    }
    # The newest row: the module's own fixtures, or a framework row with few relations (the
    # choice does not change who may see the page, and a board with fifty seats renders slowly).
    obj = owned_objects.get(model_name) or apps.get_model(app_label, model_name)._default_manager.order_by("-pk").first()
    assert obj is not None, f"the world has no {app_label}.{model_name} for {route}"
    return obj.pk


def _api_lookup(route, world, target):
    from kentforum.api.urls import router

    resource = re.match(r"api/v1/\^([a-z-]+)", route).group(1)
    if resource == "indicator-returns":
        return world["targets"][target]["ret"].pk
    if resource == "milestone-returns":
        return world["targets"][target]["ms_ret"].pk
    viewset = next(v for prefix, v, _ in router.registry if prefix == resource)
    obj = viewset.queryset.order_by("-pk").first()
    assert obj is not None, f"the world has no object for {route}"
    return getattr(obj, viewset.lookup_field)


def kwargs_for(route, world, target):
    names = re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route)
    names = [a or b for a, b in names]
    t = world["targets"][target or "B"]
    out = {}
    for name in names:
        if name == "format":
            out[name] = "json" if route.startswith("api/v1/<") or "^" not in route else "csv"
        elif route.startswith("api/v1/^"):
            out[name] = world["webhook_delivery"] if name == "delivery_id" else _api_lookup(route, world, target or "B")
        elif route.startswith("admin/"):
            if name == "app_label":
                out[name] = "performance"
            elif name == "url":
                out[name] = "no-such-page/"
            elif name == "content_type_id":
                from django.contrib.contenttypes.models import ContentType

                out[name] = ContentType.objects.get_for_model(Board).pk
            elif name == "id":
                out[name] = world["users"]["officer_a"].pk
            elif route.startswith("admin/r/"):
                out[name] = world["board"].pk
            else:
                out[name] = _admin_object_id(route, world)
        elif route.startswith("notifications/"):  # a notification of Ashford's officer (of the approval below)
            from notifications.models import Notification

            out[name] = Notification.objects.filter(user=world["users"]["officer_a"]).order_by("pk").first().pk
        elif name == "pk":
            out[name] = {
                "dashboards/reports/": world["report"].pk, "returns/imports/": t["import"].pk,
                "approvals/indicator/": t["ret"].pk, "approvals/milestone/": t["ms_ret"].pk,
            }[next(p for p in ("dashboards/reports/", "returns/imports/", "approvals/indicator/", "approvals/milestone/") if route.startswith(p))]
        else:
            out[name] = {
                "period_id": world["period"].pk, "gss_code": t["locality"].gss_code, "milestone_id": t["milestone"].pk,
                "decision": "approve", "number": 1, "slug": world["board"].slug,
                "code": world["kpq"].code if route.startswith("dashboards/kpqs/") else world["draft_indicator"].code,
                "table": "judgements" if route.startswith("dashboards/kpqs/") else "scorecard",  # a table the page shows
            }[name]
    return out


def url_for(route, name, world, target):
    cached = world["urls"].get((route, target))
    if cached:
        return cached
    kwargs = kwargs_for(route, world, target)
    if name:
        url = reverse(name, kwargs=kwargs)
    elif route == r"admin/(?P<url>.*)$":  # the admin's catch-all
        url = "/admin/" + kwargs["url"]
    else:  # unnamed path() routes, such as the admin's old-style object URLs
        assert "(?P<" not in route, route
        url = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m.group(1)]), route)
    resolved = resolve(url).route  # (the resolver drops a regex's leading ^ here)
    assert resolved.replace("^", "") == route.replace("^", ""), f"{url} resolves to {resolved}, not {route}"
    world["urls"][(route, target)] = url
    return url


# --- Requests -------------------------------------------------------------------------------------------

_CLIENT: list = []


def client_for(role, world):
    """One client for every role, given only that role's credentials for each request. (A new
    client loads the middleware again, and WhiteNoise's scan of the static files costs a second.)"""
    from http.cookies import SimpleCookie

    if not _CLIENT:
        _CLIENT.append(APIClient())
    client = _CLIENT[0]
    client.cookies = SimpleCookie()  # whatever the last response set (a sign-out, messages) is dropped
    client.credentials()
    if role in world["keys"]:
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {world['keys'][role]}")
    elif role != "anon":
        client.cookies[settings.SESSION_COOKIE_NAME] = world["sessions"][role]
    return client


def body_for(method, route, world, target):
    """A harmless body: empty, except an API return PATCH, which sends the version it read and a
    new commentary (its owner's save is rolled back with the rest)."""
    if method == "PATCH" and re.search(r"\^(indicator|milestone)-returns/", route):
        kind = "ret" if route.startswith("api/v1/^indicator") else "ms_ret"
        ret = world["targets"][target][kind]
        return {"version": ret.version, "commentary": "A probe's commentary."}
    return {}


def body_of(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def outcome(response) -> object:
    if response.status_code == 302 and "login" in response.get("Location", ""):
        return LOGIN
    return response.status_code


def matches(observed, expected) -> bool:
    return observed in expected if isinstance(expected, frozenset) else observed == expected


def fingerprint():
    """The returns' versions and the number of audit events, in one query: every change to a
    return through the services bumps its version and writes an event."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM {ReturnEvent._meta.db_table}),"
            f" (SELECT COALESCE(SUM(version), 0) FROM {IndicatorReturn._meta.db_table}),"
            f" (SELECT COUNT(*) FROM {IndicatorReturn._meta.db_table}),"
            f" (SELECT COALESCE(SUM(version), 0) FROM {MilestoneReturn._meta.db_table}),"
            f" (SELECT COUNT(*) FROM {MilestoneReturn._meta.db_table})"
        )
        return cursor.fetchone()


def cases():
    for route, name in PATTERNS:
        key, methods = expectation_for(route)
        if key is None:
            continue
        for method, expectation in methods.items():
            for target in ("A", "B") if isinstance(expectation, Owned) else (None,):
                table = expectation.for_target(target) if target else expectation
                for role in roles_for(route):
                    if table[role] is not NOT_SENT:
                        yield route, name, key, method, target, role, table[role]


# --- The matrix -------------------------------------------------------------------------------------------

@pytest.fixture
def quiet_logs():
    """Thousands of refusals would each log a warning and a security-log line (those have their
    own tests in test_security.py)."""
    logging.disable(logging.CRITICAL)
    yield
    logging.disable(logging.NOTSET)


@pytest.mark.django_db
def test_access_matrix(world, quiet_logs, capsys):
    started = time.monotonic()
    before = fingerprint()
    mismatches, leaks, unshown, writes, known_fixed, counted = [], [], [], [], [], Counter()
    known_seen, seconds_by_entry, seconds_by_role, slowest = set(), Counter(), Counter(), Counter()
    for route, name, key, method, target, role, expected in cases():
        case_started = time.monotonic()
        url = url_for(route, name, world, target)
        client = client_for(role, world)
        if route.startswith("api/"):
            cache.clear()  # rate limits are tested elsewhere
        counted[method] += 1
        body, response = "", None
        try:
            with transaction.atomic():
                send = getattr(client, method.lower())
                data = body_for(method, route, world, target)
                response = send(url, data, format="json") if route.startswith("api/") else send(url, data)
                body = body_of(response)
                observed = outcome(response)
                if method != "GET" and not (200 <= response.status_code < 300 or observed == 302):
                    if fingerprint() != before:
                        writes.append((method, url, role, observed))
                transaction.set_rollback(True)
        except Exception as exc:  # noqa: BLE001 - a 500 is a finding, reported with the others
            observed = f"500 {type(exc).__name__}: {str(exc)[:120]}"
        case = (key, method, target, role)
        if case in KNOWN:
            known_seen.add(case)
            if matches(observed, expected) or observed != KNOWN[case][0]:
                known_fixed.append((method, url, role, observed, KNOWN[case]))
        elif not matches(observed, expected):
            mismatches.append((method, url, target or "", role, expected, observed))
        for district, d in DISTRICTS.items():
            if role not in MAY_READ_DRAFTS[district]:
                found = [text for text in d["texts"] if text in body]
                if found:
                    leaks.append((method, url, role, observed, district, found))
        seconds_by_entry[key] += time.monotonic() - case_started
        seconds_by_role[f"{role} {method}"] += time.monotonic() - case_started
        slowest[f"{method} {url} as {role}"] = time.monotonic() - case_started
        if (key in SHOWS_TARGET and method == "GET" and observed == 200
                and not any(text in body for text in DISTRICTS[target]["texts"])):
            unshown.append((url, role))
    elapsed = time.monotonic() - started
    total = sum(counted.values())
    not_sent = sum(
        1 for route, _name in PATTERNS for _method, expectation in (expectation_for(route)[1] or {}).items()
        for table in ([expectation.for_target(t) for t in ("A", "B")] if isinstance(expectation, Owned) else [expectation])
        for role in roles_for(route) if table[role] is NOT_SENT
    )
    report = {
        "routes": len(ROUTES), "patterns": len(PATTERNS), "cases": total, "not_sent": not_sent, "by_method": dict(counted),
        "roles": {"portal_and_admin": PORTAL_ROLES, "api": API_ROLES}, "seconds": round(elapsed, 1),
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "mismatches": len(mismatches), "leaks": len(leaks), "known": sorted(map(str, KNOWN)),
        "slowest_entries": {k: round(v, 2) for k, v in seconds_by_entry.most_common(12)},
        "seconds_by_role_and_method": {k: round(v, 2) for k, v in seconds_by_role.most_common()},
        "slowest_requests": {k: round(v, 3) for k, v in slowest.most_common(25)},
    }
    path = os.environ.get("ACCESS_MATRIX_JSON", os.path.join(tempfile.gettempdir(), "kentforum-access-matrix.json"))
    with open(path, "w") as out:
        json.dump(report, out, indent=2)
    with capsys.disabled():
        print(f"\naccess matrix: {total} cases ({len(ROUTES)} URL patterns x roles x methods) in {elapsed:.1f} s on "
              f"{report['database']}; {len(mismatches)} mismatches, {len(leaks)} leaks, {len(KNOWN)} known; written to {path}")

    problems = []
    if mismatches:
        problems.append(f"{len(mismatches)} outcomes differ from EXPECTED:\n" + "\n".join(
            f"  {m:6} {u:70} {t:1} {r:12} expected {e!s:8} got {o}" for m, u, t, r, e, o in mismatches))
    if leaks:
        problems.append("Unpublished figures reached someone who may not read them:\n" + "\n".join(
            f"  {m:6} {u} as {r} ({o}): district {d}'s {f}" for m, u, r, o, d, f in leaks))
    if unshown:
        problems.append("A page that should show the return did not (the probe points elsewhere):\n" + "\n".join(
            f"  {u} as {r}" for u, r in unshown))
    if writes:
        problems.append("A refused request changed returns:\n" + "\n".join(f"  {w}" for w in writes))
    if known_fixed:
        problems.append("Known bugs that now behave differently (update KNOWN):\n" + "\n".join(f"  {k}" for k in known_fixed))
    if set(KNOWN) - known_seen:
        problems.append(f"KNOWN cases that match no case: {sorted(set(KNOWN) - known_seen)}")
    assert not problems, "\n\n".join(problems)


# --- The officer of one district probes the other's returns through the other doors ------------------------

@pytest.mark.django_db
def test_district_probe_through_filters_exports_writes_and_csv_import(world):
    """Officer A and Ashford's submit key look for and write to Dover's returns through list
    filters, CSV renderings, the export, the template, a create, a bulk create and a CSV
    upload; officer B does the same to Ashford's. Nothing of the other's drafts comes back and
    nothing changes."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    before = fingerprint()
    period = world["period"]
    for role, victim in (("officer_a", "B"), ("key_submit", "B"), ("officer_b", "A")):
        cache.clear()
        client = client_for(role, world)
        t = world["targets"][victim]
        organisation = t["ret"].organisation
        bodies = []
        for resource in ("indicator-returns", "milestone-returns"):
            for params in ({"organisation": organisation.pk}, {"locality": t["locality"].gss_code},
                           {"format": "csv"}, {"organisation": organisation.pk, "format": "csv"},
                           {"state": "draft"}, {"q": DISTRICTS[victim]["texts"][2]}):
                response = client.get(f"/api/v1/{resource}/", params)
                assert response.status_code in (200, 400), (resource, params, response.status_code)
                bodies.append(body_of(response))
        bodies.append(body_of(client.get("/api/v1/exports/approved-values.csv", {"locality": t["locality"].gss_code})))
        slot = {"indicator": world["draft_indicator"].code, "locality": t["locality"].gss_code, "period": period.label,
                "value": "1", "version": t["ret"].version, "commentary": "probe"}
        for url, data in (("/api/v1/indicator-returns/", slot), ("/api/v1/indicator-returns/bulk/", [slot]),
                          ("/api/v1/milestone-returns/", {"milestone": t["milestone"].pk, "period": period.label,
                                                          "status": "on_track", "percent_complete": 50,
                                                          "version": t["ms_ret"].version})):
            response = client.post(url, data, format="json")
            body = body_of(response)
            # Refused because it is not theirs (a bulk request lists the refused item and saves none).
            assert response.status_code == (400 if url.endswith("bulk/") else 403), (role, url, response.status_code, body[:300])
            assert "Only an officer of the organisation that makes this return may change it." in body, body[:300]
            bodies.append(body)
        if not role.startswith("key"):
            bodies.append(body_of(client.get(f"/returns/{period.pk}/template.csv")))
            bodies.append(body_of(client.get("/returns/")))
            text = ("period,indicator_code,area_gss_code,value,numerator,denominator\n"
                    f"{period.label},{world['draft_indicator'].code},{t['locality'].gss_code},1,,\n").encode()
            response = client.post(f"/returns/{period.pk}/upload/", {"file": SimpleUploadedFile("x.csv", text)}, follow=True)
            bodies.append(body_of(response))
            job = ReturnImport.objects.filter(uploaded_by=world["users"][role]).order_by("-pk").first()
            if job is not None and job.state == ReturnImport.State.PREVIEW and job.filename == "x.csv":
                bodies.append(body_of(client.post(f"/returns/imports/{job.pk}/", {"action": "confirm"}, follow=True)))
        for body in bodies:
            for text in DISTRICTS[victim]["texts"]:
                assert text not in body, f"{role} read district {victim}'s draft ({text})"
    assert fingerprint() == before
