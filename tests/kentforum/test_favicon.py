"""The favicon: our own small SVG (not the GOV.UK crown), linked from every page and answered
at /favicon.ico, which browsers and crawlers ask for whatever a page says; allowed by the CSP."""
from xml.etree import ElementTree

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static

pytestmark = pytest.mark.django_db


def test_favicon_ico_redirects_to_our_svg_icon_for_anyone(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"] == static("favicon.svg")
    assert client.head("/favicon.ico").status_code == 302
    assert client.post("/favicon.ico").status_code == 405


def test_the_icon_is_a_small_svg_of_our_own():
    path = finders.find("favicon.svg")
    assert path, "static/favicon.svg is missing"
    text = open(path, encoding="utf-8").read()
    root = ElementTree.fromstring(text)
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("viewBox") == "0 0 32 32"
    assert len(text) < 1024 and "crown" not in text.lower() and "<script" not in text


def test_every_page_links_the_icon_and_the_csp_allows_it(client):
    response = client.get("/")
    html = response.content.decode()
    assert f'<link rel="icon" href="{static("favicon.svg")}" type="image/svg+xml">' in html
    policy = {part.strip().split(" ", 1)[0]: part.strip() for part in response["Content-Security-Policy"].split(";")}
    assert "'self'" in policy["img-src"].split(), "favicons are images: img-src 'self' lets the browser load ours"
