"""Content Security Policy: the header on every page, and no inline script, event-handler
attribute or javascript: URL in any page a signed-in forum admin can reach."""
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client

from kentforum.roles import Role
from tests.performance.conftest import make_user
from tests.performance.test_browser import CHROMIUM, browser  # noqa: F401 - the Chromium fixture
from tests.performance.test_dashboards import seed

pytestmark = pytest.mark.django_db

POLICY = {
    "default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'self'",
    "frame-ancestors 'none'", "form-action 'self'",
}


class Audit(HTMLParser):
    def __init__(self):
        super().__init__()
        self.problems, self.links = [], []
        self._inline = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, value in attrs.items():
            if name.startswith("on"):
                self.problems.append(f"event handler {name}= on <{tag}>")
            if name in ("href", "src", "action", "formaction") and value and value.strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL in <{tag} {name}>")
        if tag == "script" and not attrs.get("src") and attrs.get("type") != "application/json":
            self.problems.append(f"inline <script {attrs}>")
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


def audit(client, path):
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    policy = {part.strip() for part in response["Content-Security-Policy"].split(";")}
    assert POLICY <= policy, (path, policy)
    assert not any("unsafe-eval" in p or ("script-src" in p and "unsafe-inline" in p) for p in policy)
    parser = Audit()
    parser.feed(response.content.decode())
    return parser


def test_every_page_a_forum_admin_reaches_has_the_csp_and_no_inline_script(client):
    approver = make_user("csp.approver", "Kent County Council", Role.APPROVER)
    seed(approver, 2, 12)
    admin = make_user("csp.admin", "Kent County Council", Role.FORUM_ADMIN)
    client.force_login(admin)
    preview = client.get("/dashboards/ambitions/2/report/publish/")  # a published board report to crawl too
    assert client.post("/dashboards/ambitions/2/report/publish/", {"fingerprint": preview.context["fingerprint"]}).status_code == 302
    start = ["/", "/dashboards/", "/dashboards/ambitions/2/", "/dashboards/kpqs/A2-KPQ3/",
             "/dashboards/localities/E07000105/", "/periods/", "/indicators/",
             "/api/docs/", "/admin/"]
    seen, queue, problems = set(), list(start), {}
    while queue and len(seen) < 150:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        parser = audit(client, path)
        if parser.problems:
            problems[path] = parser.problems
        for href in parser.links:
            url = urlsplit(urljoin(path, href))
            if url.netloc or url.scheme not in ("", "http", "https"):
                continue
            target = url.path + (f"?{url.query}" if url.query else "")
            # Same-site HTML pages only: not downloads, not the admin's deeper screens, not sign-out.
            if (target in seen or target.endswith((".csv", ".xlsx", ".pdf")) or "format=" in target or target.startswith("/api/v1")
                    or target.startswith("/static/") or (target.startswith("/admin/") and target != "/admin/")
                    or target.startswith("/accounts/")):
                continue
            queue.append(target)
    assert {"/dashboards/ambitions/2/", "/api/docs/", "/admin/", "/periods/"} <= seen
    assert any(p.startswith("/boards/") for p in seen) and any(p.startswith("/dashboards/reports/") for p in seen), seen
    assert len(seen) >= 20, seen
    assert problems == {}


def test_signed_out_pages_and_the_api_docs_script(client):
    anon = Client()
    for path in ("/accounts/login/", "/admin/login/", "/api/docs/"):
        assert audit(anon, path).problems == [], path
    docs = anon.get("/api/docs/").content.decode()
    assert "/api/docs/?script=" in docs, "Swagger UI's start-up script is a separate file"
    script = anon.get("/api/docs/?script=")
    assert script.status_code == 200 and "javascript" in script["Content-Type"]
    assert "SwaggerUIBundle" in script.content.decode()


@pytest.mark.browser
@pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="needs Debian's chromium")
def test_charts_draw_under_the_csp_with_no_violation_in_the_console(framework, live_server, browser):
    """Real Chromium: a dashboard's charts are drawn and GOV.UK Frontend starts, and the browser
    reports no Content Security Policy violation."""
    approver = make_user("csp.browser", "Kent County Council", Role.APPROVER)
    seed(approver, 2, 12)
    if True:
        page = browser.new_page()
        console = []
        page.on("console", lambda message: console.append(message.text))
        page.on("pageerror", lambda error: console.append(str(error)))
        page.goto(f"{live_server.url}/dashboards/ambitions/2/")
        page.locator(".kf-chart").first.scroll_into_view_if_needed()  # drawn as they come into view
        page.wait_for_selector(".kf-chart--drawn .main-svg", timeout=15000)
        assert page.locator(".kf-chart--drawn").count() >= 1
        assert page.evaluate("document.body.classList.contains('govuk-frontend-supported')"), "GOV.UK JS ran"
        page.goto(f"{live_server.url}/api/docs/")
        page.wait_for_selector(".swagger-ui .info", timeout=15000)
        violations = [line for line in console if "Content Security Policy" in line or "Refused to" in line]
        assert violations == [], violations
