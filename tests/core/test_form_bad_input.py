"""Every form of the platform, fed hostile input, answers with a 4xx and a message — never a
500, never a new record, never the attacker's markup unescaped."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from ventanilla.catalog.models import Procedure, SearchSynonym
from ventanilla.identity.models import Membership, PersonalDataAccess, Role, User

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('x')</script>"
FREE_TEXT = "free text"
HOSTILE_VALUES = [
    "x" * 5000,  # over-long
    SCRIPT,  # HTML / script
    "abc",  # wrong type for numbers, malformed CURP / e-mail / code
    "",  # missing
]
_FIELD = re.compile(r'<(?:input|textarea|select)[^>]*\bname="([^"]+)"', re.I)


def form_fields(html: str) -> list[str]:
    return [name for name in dict.fromkeys(_FIELD.findall(html)) if name != "csrfmiddlewaretoken"]


def counts() -> tuple[int, ...]:
    return (
        User.objects.count(), Procedure.objects.count(), SearchSynonym.objects.count(),
        Membership.objects.count(), PersonalDataAccess.objects.count(),
        Procedure.objects.filter(status=Procedure.Status.PUBLISHED).count(),
    )


@pytest.fixture
def form_urls(make_procedure, make_resident, make_official, department):
    """(url name, args, role that may use the form) for every form of the platform."""
    procedure = make_procedure()
    published = make_procedure(publish=True)
    return [
        ("identity:signup", [], None),
        ("identity:login", [], None),
        ("identity:resend_confirmation", [], None),
        ("identity:password_reset", [], None),
        ("identity:password_change", [], "resident"),
        ("identity:two_factor", [], "official_no_2fa"),
        ("identity:counter", [], Role.COUNTER_CLERK),
        ("identity:official_create", [], Role.PLATFORM_ADMIN),
        ("catalog:editor_create", [], Role.CATALOG_EDITOR),
        ("catalog:editor_edit", [procedure.clave], Role.CATALOG_EDITOR),
        # Free-text forms: a short plain word is valid input there.
        ("catalog:editor_withdraw", [published.clave], Role.CATALOG_EDITOR, FREE_TEXT),
        ("catalog:editor_synonyms", [], Role.CATALOG_EDITOR, FREE_TEXT),
    ]


def _sign_in(client, who, make_resident, make_official, login_official, department):
    if who is None:
        return
    if who == "resident":
        client.force_login(make_resident())
    elif who == "official_no_2fa":
        client.force_login(make_official(Role.REVIEWER, totp=False))
    else:
        login_official(make_official(who, department=department))


def test_every_form_rejects_hostile_input(client, form_urls, make_resident, make_official, login_official, department):
    checked = 0
    expected = 0
    for name, args, who, *kind in form_urls:
        client.logout()
        _sign_in(client, who, make_resident, make_official, login_official, department)
        url = reverse(name, args=args)
        page = client.get(url)
        assert page.status_code == 200, (url, page.status_code)
        fields = form_fields(page.content.decode())
        assert fields, url
        for value in HOSTILE_VALUES:
            if kind == [FREE_TEXT] and value == "abc":
                continue
            expected += 1
            before = counts()
            response = client.post(url, {field: value for field in fields})
            body = response.content.decode()
            assert 400 <= response.status_code < 500, (url, value[:20], response.status_code)
            assert SCRIPT not in body, (url, "unescaped markup")
            assert "error" in body.lower(), (url, "no error message shown")
            assert counts() == before, (url, value[:20], "a record was written")
            checked += 1
    assert checked == expected >= 40
