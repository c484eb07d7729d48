"""One test walks every URL of the platform as every kind of user.

For each URL pattern (with sample values for its parameters) and each role it checks that nothing
answers 500, that back-office views refuse whoever lacks the role or the second factor, and that
pages for signed-in people send anonymous visitors to the sign-in page."""

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


@pytest.fixture
def people(make_resident, make_official):
    everyone = {"anonimo": None, "residente": make_resident(), "servidor_sin_2fa": make_official(Role.REVIEWER, totp=False)}
    for role in Role.values:
        everyone[role] = make_official(role)
    return everyone


def test_every_url_as_every_role(client, people, login_official, url_samples):
    failures: list[str] = []
    checked = 0
    for route, callback in iter_routes():
        url = concrete(route, url_samples)
        if url is None:
            continue
        roles_needed = official_roles(callback)
        for who, user in people.items():
            client.logout()
            if user is not None:
                if user.is_official and user.totpdevice_set.exists():
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
            elif who == "servidor_sin_2fa":
                ok = status == 302 and "next=" in location
            elif not roles_needed or who in roles_needed or who == Role.PLATFORM_ADMIN:
                ok = status in (200, 302, 404, 405)
            else:
                ok = status in (403, 404)
            if not ok:
                failures.append(f"{who} GET {url} → {status} {location}")
    assert checked > 100
    assert not failures, "\n".join(failures)
