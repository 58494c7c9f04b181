"""A person's browser without the browser: a `requests` session against the live test server,
signed in through the login page, sending each form with its CSRF token as a browser does.
Responses are real HTTP (status, headers, cookies, the session across requests)."""

import re

import requests


class LiveClient:
    def __init__(self, base_url: str):
        self.base = base_url.rstrip("/")
        self.session = requests.Session()

    def get(self, path: str, **kw) -> requests.Response:
        return self.session.get(self.base + path, timeout=30, **kw)

    def post(self, path: str, data=None, *, follow=False) -> requests.Response:
        """`data`: a dict (list values for multi-valued fields) or a list of (name, value) pairs."""
        pairs = list(data.items()) if isinstance(data, dict) else list(data or [])
        pairs.append(("csrfmiddlewaretoken", self.session.cookies.get("csrftoken", "")))
        return self.session.post(self.base + path, data=pairs, timeout=30, allow_redirects=follow)

    def login(self, username: str, password: str = "pw-123456") -> "LiveClient":
        self.get("/accounts/login/")
        response = self.post("/accounts/login/", {"username": username, "password": password})
        assert response.status_code == 302, f"login as {username} failed: {response.status_code}"
        return self


def field_value(html: str, name: str) -> str | None:
    """The value an <input name=...> or the text a <textarea name=...> shows in the page."""
    m = re.search(rf'<textarea[^>]*name="{re.escape(name)}"[^>]*>(.*?)</textarea>', html, re.S)
    if m:
        return m.group(1).strip()
    m = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', html)
    if m:
        v = re.search(r'value="([^"]*)"', m.group(0))
        return v.group(1) if v else ""
    return None
