"""One test walks every URL of the platform as every kind of user.

For each URL pattern (with real sample values for its parameters) and each kind of user —
anonymous, resident, official without a second factor, official with a device who has not entered
the code in this session, and an official of every role — it GETs the page and checks that
nothing answers 500; that every back-office view (`official_required`) sends anonymous visitors to
sign in, refuses residents (403), sends officials without a verified second factor to the code
page, refuses officials lacking the role, and serves those who hold it; and that only a platform
administrator with a verified second factor reaches the Django admin. POST handling and pages for
signed-in residents are covered by each app's own tests."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from ventanilla.identity.models import Role

pytestmark = pytest.mark.django_db

_PARAM = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>")


def iter_routes(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from iter_routes(entry, route)
        elif isinstance(entry, URLPattern):
            yield route, entry.callback


def concrete(route: str, samples: dict[str, str]) -> str | None:
    """Fill a route's parameters with sample values; None when a regex route cannot be filled."""
    route = route.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\.", ".")
    if any(ch in route for ch in "()[]*+?|\\"):
        return None

    def fill(match: re.Match) -> str:
        name = match["name"]
        conv = match["conv"] or "str"
        if name in samples:
            return samples[name]
        return {"int": "1", "slug": "muestra", "uuid": "00000000-0000-0000-0000-000000000000"}.get(conv, "muestra")

    return "/" + _PARAM.sub(fill, route)


def official_roles(callback) -> tuple[str, ...] | None:
    """The roles an `official_required` view demands (() = any official), or None if it is not one."""
    seen = set()
    while callback is not None and id(callback) not in seen:
        seen.add(id(callback))
        if hasattr(callback, "official_roles"):
            return callback.official_roles
        callback = getattr(callback, "__wrapped__", None)
    return None


ADMIN_PUBLIC = {"oficina/admin/logout/"}


WHO = ["anonimo", "residente", "servidor_sin_2fa", "admin_sin_codigo", *Role.values]


def make_person(who: str, make_resident, make_official):
    if who == "anonimo":
        return None
    if who == "residente":
        return make_resident()
    if who == "servidor_sin_2fa":
        return make_official(Role.REVIEWER, totp=False)
    if who == "admin_sin_codigo":
        # Has a device, but signed in with the password only in this session.
        return make_official(Role.PLATFORM_ADMIN, is_staff=True, is_superuser=True)
    return make_official(who)


# One test per kind of user, so that test workers share the walk.
@pytest.mark.parametrize("who", WHO)
def test_every_url_as_every_role(who, client, make_resident, make_official, login_official, url_samples):
    user = make_person(who, make_resident, make_official)
    failures: list[str] = []
    checked = 0
    for route, callback in iter_routes():
        url = concrete(route, url_samples)
        if url is None:
            continue
        roles_needed = official_roles(callback)
        client.logout()
        if user is not None:
            if who != "admin_sin_codigo" and user.is_official and user.totpdevice_set.exists():
                login_official(user)
            else:
                client.force_login(user)
        response = client.get(url)
        checked += 1
        status = response.status_code
        if status >= 500:
            failures.append(f"{who} GET {url} → {status}")
            continue
        if route.startswith("oficina/admin/") and route not in ADMIN_PUBLIC:
            # Django's admin: only a platform administrator with a verified second factor.
            if who != Role.PLATFORM_ADMIN and status == 200:
                failures.append(f"{who} reached the admin: GET {url}")
            continue
        if roles_needed is None:
            continue
        location = response.get("Location", "")
        if who == "anonimo":
            ok = status == 302 and "/llave/entrar/" in location
        elif who == "residente":
            ok = status == 403
        elif who in ("servidor_sin_2fa", "admin_sin_codigo"):
            ok = status == 302 and "next=" in location
        elif not roles_needed or who in roles_needed or who == Role.PLATFORM_ADMIN:
            ok = status in (200, 302, 404, 405)
        else:
            ok = status in (403, 404)
        if not ok:
            failures.append(f"{who} GET {url} → {status} {location}")
    assert checked > 10
    assert not failures, "\n".join(failures)
