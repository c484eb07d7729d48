"""Sending limits: confirmation links resent, password resets and sign-ups, per e-mail address
and per IP address (identity.send_limits), across the pages that send them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from hypothesis import given, settings as hsettings
from hypothesis import strategies as st

from ventanilla.core.jobs import registered
from ventanilla.identity import send_limits
from ventanilla.identity.models import SendCounter, User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def limits(settings):
    settings.SEND_LIMIT_PER_ADDRESS = 3
    settings.SEND_LIMIT_PER_IP = 5
    settings.SEND_LIMIT_WINDOW_SECONDS = 3600
    return settings


def reset(client, email, ip="203.0.113.7"):
    return client.post(reverse("identity:password_reset"), {"email": email}, REMOTE_ADDR=ip)


def resend(client, email, ip="203.0.113.7"):
    return client.post(reverse("identity:resend_confirmation"), {"email": email}, REMOTE_ADDR=ip)


def test_password_resets_to_one_address_stop_at_the_limit_and_the_page_says_the_same(client, make_resident):
    user = make_resident()
    answers = [reset(client, user.email) for _ in range(5)]
    assert all(r.status_code == 302 and r.url == reverse("identity:password_reset_done") for r in answers)
    assert len(mail.outbox) == 3  # the 4th and 5th were refused in silence
    # Another address from the same IP still gets its message.
    other = make_resident(email="otra.persona@example.mx")
    reset(client, other.email)
    assert len(mail.outbox) == 4 and mail.outbox[-1].to == [other.email]


def test_the_address_is_counted_whatever_its_case_or_spaces(client, make_resident):
    user = make_resident()
    for email in (user.email, user.email.upper(), f"  {user.email} ", user.email):
        reset(client, email)
    assert len(mail.outbox) == 3


def test_one_ip_asking_for_many_addresses_stops_at_its_limit(client, make_resident):
    people = [make_resident(email=f"vecino{i}@example.mx") for i in range(7)]
    for person in people:
        reset(client, person.email)
    assert len(mail.outbox) == 5
    # Another connection is not affected.
    reset(client, people[-1].email, ip="198.51.100.20")
    assert len(mail.outbox) == 6


def test_nonexistent_addresses_count_too(client, make_resident):
    """The limit does not depend on whether an account exists (that would reveal it)."""
    for i in range(5):
        reset(client, f"nadie{i}@example.mx")
    user = make_resident()
    reset(client, user.email)
    assert mail.outbox == []


def test_the_window_ends_and_sending_is_allowed_again():
    now = timezone.now()
    ask = lambda at: send_limits.allow(send_limits.CONFIRMATION, email="a@example.mx", ip=None, now=at)  # noqa: E731
    assert [ask(now) for _ in range(4)] == [True, True, True, False]
    assert ask(now + timedelta(minutes=59)) is False
    # A request whose clock read a moment before the window began (it waited for the row lock)
    # does not start a new window.
    assert ask(now - timedelta(seconds=1)) is False
    assert ask(now + timedelta(minutes=60)) is True
    # A refused request does not extend the wait.
    assert [ask(now + timedelta(minutes=61)) for _ in range(3)] == [True, True, False]


def test_resent_confirmation_links_are_limited(client, signup_post):
    client.post("/llave/crear-cuenta/", signup_post(), REMOTE_ADDR="203.0.113.9")
    assert len(mail.outbox) == 1
    user = User.objects.get()
    answers = [resend(client, user.email) for _ in range(5)]
    assert all(r.status_code == 302 for r in answers)
    assert len(mail.outbox) == 1 + 3


def test_sign_ups_from_one_ip_stop_at_the_limit_with_a_429_and_no_account(client, signup_post, curp_factory):
    for i in range(5):
        response = client.post("/llave/crear-cuenta/", signup_post(email=f"p{i}@example.mx", curp=curp_factory()),
                               REMOTE_ADDR="203.0.113.10")
        assert response.status_code == 302
    response = client.post("/llave/crear-cuenta/", signup_post(email="p5@example.mx", curp=curp_factory()),
                           REMOTE_ADDR="203.0.113.10")
    assert response.status_code == 429
    assert "demasiadas cuentas desde esta conexión" in response.content.decode()
    assert User.objects.count() == 5 and len(mail.outbox) == 5
    # A form with mistakes still gets its own messages first (the limit is checked last).
    response = client.post("/llave/crear-cuenta/", signup_post(email="p6@example.mx", curp="GOMA900101MCLBCD"),
                           REMOTE_ADDR="203.0.113.10")
    assert response.status_code == 400 and "18 caracteres" in response.content.decode()
    # Another connection can still sign up.
    response = client.post("/llave/crear-cuenta/", signup_post(email="p6@example.mx", curp=curp_factory()),
                           REMOTE_ADDR="203.0.113.11")
    assert response.status_code == 302


def test_counters_keep_digests_only_and_old_ones_are_forgotten(client, make_resident):
    user = make_resident()
    reset(client, user.email)
    stored = " ".join(f"{c.kind} {c.key}" for c in SendCounter.objects.all())
    assert user.email not in stored and "203.0.113.7" not in stored
    assert SendCounter.objects.count() == 2
    later = timezone.now() + timedelta(hours=2)
    assert send_limits.forget_old(now=later) == 2
    assert registered("identity.forget_send_counters").interval() == 3600


def test_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError):
        send_limits.allow("sms", email="a@example.mx", ip=None)


@hsettings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(["a", "b"]), min_size=1, max_size=12))
def test_no_address_ever_gets_more_than_its_limit(sequence):
    SendCounter.objects.all().delete()
    now = timezone.now()
    sent = {"a": 0, "b": 0}
    for who in sequence:
        if send_limits.allow(send_limits.PASSWORD_RESET, email=f"{who}@example.mx", ip="192.0.2.1", now=now):
            sent[who] += 1
    assert sent["a"] <= 3 and sent["b"] <= 3 and sent["a"] + sent["b"] <= 5
    assert sent["a"] == min(3, sequence.count("a")) or sent["a"] + sent["b"] == 5
