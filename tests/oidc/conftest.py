"""Fixtures for the OpenID Connect provider tests."""

from __future__ import annotations

import base64
import hashlib
import secrets
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

REDIRECT_URI = "http://127.0.0.1:9/callback"  # nothing listens there: tests read Location instead
ALL_SCOPES = "openid profile email curp"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def oidc_app(db):
    """A confidential client registered the way the management command does it."""
    from ventanilla.identity.oidc_services import register_client

    application, secret = register_client("Decidim Torreón", [REDIRECT_URI])
    return application, secret


@pytest.fixture
def authorize_url(oidc_app):
    """Builds /o/authorize/?... for the test client; returns (url, verifier)."""

    def build(scope: str = ALL_SCOPES, **overrides) -> tuple[str, str]:
        application, _ = oidc_app
        verifier, challenge = pkce_pair()
        params = {
            "response_type": "code",
            "client_id": application.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": scope,
            "state": "estado-123",
            "nonce": "nonce-abc",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        params.update(overrides)
        params = {k: v for k, v in params.items() if v is not None}
        return "/o/authorize/?" + urlencode(params), verifier

    return build


class FormParser(HTMLParser):
    """Collects every <form> on a page with its inputs (enough for a login or consent form)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._current = {"action": attrs.get("action"), "method": (attrs.get("method") or "get").lower(), "inputs": []}
            self.forms.append(self._current)
        elif tag in {"input", "button", "select", "textarea"} and self._current is not None:
            self._current["inputs"].append({"tag": tag, **attrs})

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def parse_forms(html: str) -> list[dict]:
    parser = FormParser()
    parser.feed(html)
    return parser.forms


def consent_form_data(html: str, allow: bool) -> dict[str, str]:
    form = next(f for f in parse_forms(html) if any(i.get("name") == "client_id" for i in f["inputs"]))
    data = {i["name"]: i.get("value", "") for i in form["inputs"] if i.get("type") == "hidden" and i.get("name")}
    if allow:
        data["allow"] = "on"
    return data
