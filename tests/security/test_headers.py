"""Every page carries the Content-Security-Policy and the other security headers, and no
template holds inline script, event handlers or style attributes (email bodies aside)."""

import re
from pathlib import Path

import pytest
from django.test import Client

from tests.incidents.factories import declare
from tests.statuspage.conftest import _own_cache_namespace  # noqa: F401 - autouse: a cache key prefix per test

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def _directives(header):
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("path", ["/", "/incidents/", "/accounts/login/", "/status/", "/status/subscribe/", "/admin/login/", "/api/v1/incidents/", "/oncall/", "/nope/"])
def test_pages_carry_a_strict_policy_and_security_headers(path, admin_user):
    client = Client()
    client.force_login(admin_user)
    response = client.get(path, HTTP_ACCEPT="text/html")
    policy = _directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] in ("same-origin", "strict-origin-when-cross-origin")
    assert response["X-Frame-Options"] == "DENY"


def test_a_cached_status_page_answer_keeps_the_policy(client):
    first = client.get("/status/")
    second = client.get("/status/")
    assert first["Content-Security-Policy"] == second["Content-Security-Policy"]


def test_api_docs_load_their_script_from_a_url_not_inline(admin_user):
    client = Client()
    client.force_login(admin_user)
    html = client.get("/api/docs/").content.decode()
    assert re.search(r"<script>\s*\S", html) is None
    script = re.search(r'<script src="(/api/docs/\?[^"]*script[^"]*)"', html).group(1).replace("&amp;", "&")
    js = client.get(script)
    assert js.status_code == 200 and "SwaggerUIBundle" in js.content.decode()
    assert "'unsafe-inline'" not in _directives(js["Content-Security-Policy"]).get("script-src", [])


def test_severity_colours_come_from_a_stylesheet(responder, client):
    declare(by=responder)
    css = client.get("/severities.css")
    assert css["Content-Type"].startswith("text/css") and re.search(r"\.sev-\d+\{background:#[0-9a-fA-F]{6};color:#[0-9a-fA-F]{6}\}", css.content.decode())
    assert client.get("/severities.css", HTTP_IF_NONE_MATCH=css["ETag"]).status_code == 304


def _templates():
    for base in (ROOT / "templates", ROOT / "incidents", ROOT / "oncall", ROOT / "postmortems"):
        for path in base.rglob("*.html"):
            if "email" not in path.parts and "emails" not in path.parts:
                yield path


def test_no_template_holds_inline_script_handlers_or_styles():
    offenders = []
    for path in _templates():
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            offenders.append(f"{path}: inline <script>")
        if re.search(r"\son[a-z]+\s*=", text):
            offenders.append(f"{path}: on*= handler")
        if re.search(r"\sstyle\s*=|<style", text):
            offenders.append(f"{path}: inline style")
        if "javascript:" in text.lower():
            offenders.append(f"{path}: javascript: URL")
    assert offenders == []


def test_status_page_colours_come_from_a_stylesheet(client):
    from incidents.statuspage import selectors

    page = selectors.page_settings()
    type(page).objects.filter(pk=page.pk).update(brand_colour="#123abc")
    from incidents.statuspage.cache import bump

    bump()
    html = client.get("/status/").content.decode()
    assert '<link rel="stylesheet" href="/status/theme.css">' in html
    css = client.get("/status/theme.css")
    assert css["Content-Type"].startswith("text/css") and "--brand: #123abc" in css.content.decode()
