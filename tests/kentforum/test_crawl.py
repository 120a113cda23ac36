"""A whole-site crawl: every link each role is shown works.

Over the demo set (the framework and the demo loaded by the real loaders), plus a return written
by a partner's API key through the API and one entered by an officer through the form, each
demo role (anonymous, the four officers, the approver, the board member, the Forum team admin)
starts at ``/`` and follows every ``<a href>`` of every HTML page it reaches, as a user clicks:
same-site links only, breadth-first, each URL once per role, at most ``MAX_PAGES`` pages per
role. The admin is crawled to its changelists (``/admin/<app>/<model>/``, not their filters,
sorting or objects). Downloads (CSV, JSON) are fetched and read through, but not parsed.

What counts as working: 200; a redirect within the site (its target is then crawled too); and,
for an anonymous visitor only, a redirect to a sign-in page. Anything else is a failure: a 500
(the exception and where it was raised), and a 403 or 404 on a link the page showed (a link
shown must work). All failures are reported together, each with the page that showed the link.
"""
from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import time
import traceback
from collections import Counter, deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.utils.html import escape
from rest_framework.test import APIClient

from kentforum.loaders.demo import demo_load
from kentforum.roles import user_organisation
from partnerships.models import Organisation, PartnerAPIKey
from performance.models import IndicatorAssignment, IndicatorReturn, ReportingPeriod, ReturnEvent

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

ROLES = [None, "officer.ashford", "officer.thanet", "officer.police", "officer.kcc", "approver", "board.member",
         "forum.admin"]  # None: an anonymous visitor
MAX_PAGES = 1500  # per role; the crawl fails if a role reaches more (the bound would hide pages)
SKIPPED = ("/accounts/logout/",)
# The dashboards' tables as files are the same for anyone (the access matrix checks every role's
# status): only the anonymous visitor fetches each page's workbook, and nobody here its ~800 CSVs
# (each rebuilds its page, minutes in all): tests/performance/test_table_downloads.py's demo walk
# fetches every one of those links over the same demo set and checks it against its table.
TABLE_DOWNLOADS = re.compile(r"^/dashboards/(.+/)?tables(\.xlsx|/[-\w]+\.csv)$")
TABLE_CSV = re.compile(r"^/dashboards/(.+/)?tables/[-\w]+\.csv$")
SIGN_IN_PAGES = ("/accounts/login/", "/admin/login/")
KEY_NAME = "County research and intelligence loader"
ROOT = str(settings.BASE_DIR) + "/"


# --- The site: the demo set and two writes, built once for the module and rolled back after it -----

@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_site()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def editable_slot(organisation):
    """One of ``organisation``'s quarterly returns in the open quarter that it may still change
    (none yet, a draft or sent back), with no breakdowns; and the figures of its last return, so
    that the write passes the range and outlier checks."""
    period = ReportingPeriod.objects.get(status=ReportingPeriod.Status.OPEN, kind=ReportingPeriod.Kind.QUARTER)
    assignments = IndicatorAssignment.objects.filter(
        organisation=organisation, indicator__frequency="quarterly", indicator__breakdown_dimensions__isnull=True,
    ).select_related("indicator", "locality").order_by("indicator__code", "locality__gss_code")
    for assignment in assignments:
        slot = IndicatorReturn.objects.filter(
            indicator=assignment.indicator, locality=assignment.locality, breakdown__isnull=True
        )
        current = slot.filter(period=period).first()
        last = slot.exclude(period=period).order_by("-period__start").first()
        if last is None or (current is not None and current.state not in ("draft", "returned")):
            continue
        fields = ("numerator", "denominator") if assignment.indicator.is_rate else ("value",)
        figures = {name: str(getattr(last, name)) for name in fields}
        return assignment, period, current, figures
    raise AssertionError(f"{organisation} has no return left to change in the open quarter")


def build_site():
    demo_load()
    users = {u.username: u for u in get_user_model().objects.filter(username__in=[r for r in ROLES if r])}
    assert len(users) == len(ROLES) - 1, "the demo set has one user per role"

    # A partner's system (the county's research and intelligence team, which loads most series
    # centrally) writes and submits one of its returns through the API.
    kcc = Organisation.objects.get(name="Kent County Council")
    key, raw = PartnerAPIKey.objects.create_key(name=KEY_NAME, partner=kcc, scope="submit")
    key.organisations.set([kcc])
    assignment, period, current, figures = editable_slot(kcc)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    response = api.post("/api/v1/indicator-returns/", {
        "indicator": assignment.indicator.code, "locality": assignment.locality.gss_code, "period": period.label,
        **figures, "commentary": "Sent by the council's finance system.", "submit": True, "confirm_warnings": True,
        **({"version": current.version} if current else {}),
    }, format="json")
    assert response.status_code == 201, response.content
    by_key = IndicatorReturn.objects.get(pk=response.json()["id"])
    assert by_key.state == "submitted"

    # An officer enters and submits another of the county's returns through the form.
    officer = users["officer.kcc"]
    assignment, period, current, figures = editable_slot(user_organisation(officer))
    browser = Client()
    browser.force_login(officer)
    url = f"/returns/{period.pk}/indicators/{assignment.indicator.code}/{assignment.locality.gss_code}/"
    response = browser.post(url, {
        **figures, "commentary": "Entered through the form.", "action": "submit", "confirm_warnings": "on",
        "version": current.version if current else "",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    by_form = IndicatorReturn.objects.get(
        indicator=assignment.indicator, locality=assignment.locality, period=period, breakdown__isnull=True
    )
    assert by_form.state == "submitted"
    assert ReturnEvent.objects.filter(indicator_return=by_form, actor=officer).exists()
    return {"users": users, "by_key": by_key, "by_form": by_form}


# --- The crawl ------------------------------------------------------------------------------------------

class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a" and (href := dict(attrs).get("href")):
            self.hrefs.append(href)


def links_on(page_url: str, html: str) -> list[str]:
    """The same-site links of a page, as paths with their query string (no fragment)."""
    parser = Links()
    parser.feed(html)
    found = []
    for href in parser.hrefs:
        parts = urlsplit(urljoin(f"http://testserver{page_url}", href.strip()))
        if parts.scheme not in ("http", "https") or parts.netloc != "testserver":
            continue
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def followed(url: str) -> bool:
    if url.startswith(SKIPPED):
        return False
    if url.startswith("/admin/"):  # the admin's index, app pages and changelists, without filters
        path, _, query = url.partition("?")
        return not query and path.count("/") <= 4 and not path.startswith("/admin/logout/")
    return True


def fetch(client, url):
    """The response and its body, or (None, a summary of the exception a view raised)."""
    try:
        response = client.get(url)
        if getattr(response, "streaming", False):
            body = b"".join(response.streaming_content)
        else:
            body = response.content
    except Exception as exc:  # noqa: BLE001 - a 500 is a finding, reported with the others
        frames = traceback.extract_tb(exc.__traceback__)
        ours = [f for f in frames if f.filename.startswith(ROOT)
                and not f.filename.startswith((ROOT + "tests/", ROOT + ".venv/"))] or frames
        where = " < ".join(f"{f.filename.removeprefix(ROOT)}:{f.lineno} {f.name}" for f in ours[::-1][:3])
        return None, f"{type(exc).__name__}: {str(exc)[:200]} (at {where})"
    return response, body


def crawl(role, user):
    """Breadth-first from ``/``: (pages reached, failures as (url, shown on, what happened))."""
    cache.clear()  # rate limits and cached figures from the last role
    client = Client()
    if user is not None:
        client.force_login(user)
    queue, seen, failures, statuses = deque([("/", None)]), {"/"}, [], Counter()
    while queue:
        url, shown_on = queue.popleft()
        if len(seen) > MAX_PAGES:
            failures.append((url, shown_on, f"more than {MAX_PAGES} pages: raise MAX_PAGES or bound the crawl"))
            break
        response, body = fetch(client, url)
        if response is None:
            statuses[500] += 1
            failures.append((url, shown_on, f"500 {body}"))
            continue
        status = response.status_code
        statuses[status] += 1
        next_urls = []
        if status in (301, 302, 303, 307, 308):
            target = urlsplit(urljoin(f"http://testserver{url}", response["Location"]))
            if target.netloc != "testserver":
                pass  # another site: not ours to crawl
            elif target.path.startswith(SIGN_IN_PAGES):
                if user is not None:
                    failures.append((url, shown_on, f"{status} to sign in again ({response['Location']})"))
            else:
                next_urls = [target.path + (f"?{target.query}" if target.query else "")]
        elif status != 200:
            failures.append((url, shown_on, f"{status} on a link the page showed"))
        elif response.get("Content-Type", "").startswith("text/html"):
            next_urls = links_on(url, body.decode("utf-8", "replace"))
        for link in next_urls:
            if link not in seen and followed(link) and not TABLE_CSV.match(link) \
                    and (user is None or not TABLE_DOWNLOADS.match(link)):
                seen.add(link)
                queue.append((link, url))
    return seen, failures, statuses


@pytest.fixture
def quiet_logs():
    """Each refusal would log a warning (they are what the crawl reports)."""
    logging.disable(logging.CRITICAL)
    yield
    logging.disable(logging.NOTSET)


def test_every_link_each_role_is_shown_works(site, quiet_logs, capsys):
    started = time.monotonic()
    pages, failures, statuses, per_role = 0, [], Counter(), {}
    reached = {}
    for role in ROLES:
        seen, role_failures, role_statuses = crawl(role, site["users"].get(role))
        reached[role or "anonymous"] = seen
        per_role[role or "anonymous"] = len(seen)
        pages += len(seen)
        statuses += role_statuses
        failures += [(role or "anonymous", *failure) for failure in role_failures]
    elapsed = time.monotonic() - started
    server_errors = statuses[500] + sum(n for status, n in statuses.items() if status > 500)
    path = os.environ.get("CRAWL_JSON", os.path.join(tempfile.gettempdir(), "kentforum-crawl.json"))
    with open(path, "w") as out:
        json.dump({"pages": pages, "roles": per_role, "statuses": statuses, "seconds": round(elapsed, 1),
                   "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
                   "failures": failures, "reached": {r: sorted(urls) for r, urls in reached.items()}}, out, indent=1)
    with capsys.disabled():
        print(f"\ncrawled {pages} pages as {len(ROLES)} roles, {server_errors} server errors "
              f"({', '.join(f'{r} {n}' for r, n in per_role.items())}; statuses {dict(sorted(statuses.items()))}; "
              f"{elapsed:.0f} s; written to {path})")

    assert not failures, f"{len(failures)} links do not work:\n" + "\n".join(
        f"  {role:16} {url}  (shown on {shown_on}): {what}" for role, url, shown_on, what in failures
    )
    # The crawl reached the returns written by the key and through the form (the approver from
    # the approvals, their officers from My returns), and the admin.
    for ret, officer in ((site["by_key"], "officer.kcc"), (site["by_form"], "officer.kcc")):
        page = return_page(ret)
        assert page in reached["approver"] and page in reached[officer], page
    assert "/admin/" in reached["forum.admin"]


def return_page(ret) -> str:
    return f"/returns/{ret.period_id}/indicators/{ret.indicator.code}/{ret.locality.gss_code}/"


@pytest.mark.parametrize("role", ["approver", "forum.admin"])
def test_the_history_names_the_key_the_person_and_the_system(site, client, role):
    """A key's write shows as the key and its partner; an officer's as the officer; the demo
    loader's entries (no person, no key) as the system."""
    client.force_login(site["users"][role])
    pages = {ret: client.get(return_page(ret)).content.decode() for ret in (site["by_key"], site["by_form"])}
    assert f"via API key {KEY_NAME} (Kent County Council)" in pages[site["by_key"]]
    assert site["users"]["officer.kcc"].get_full_name() in pages[site["by_form"]]
    key_events = ReturnEvent.objects.filter(indicator_return=site["by_key"], api_key__name=KEY_NAME)
    assert key_events.count() >= 2, "the services record the key of a key's save and submission"
    for event in key_events:
        if reason := event.note.strip():  # e.g. the warnings the key confirmed
            assert escape(reason) in pages[site["by_key"]], reason
    system = (
        ReturnEvent.objects.filter(actor__isnull=True, api_key__isnull=True, indicator_return__breakdown__isnull=True)
        .select_related("indicator_return__indicator", "indicator_return__locality").first()
    )
    response = client.get(return_page(system.indicator_return))
    assert response.status_code == 200
    assert '<td class="govuk-table__cell">the system</td>' in response.content.decode()
