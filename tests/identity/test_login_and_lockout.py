from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from ventanilla.audit.models import AuditEntry
from ventanilla.identity import lockout, services

PASSWORD = "una frase larga y secreta 2026"


@pytest.fixture
def lock_settings(settings):
    settings.LOGIN_FAILURES_BEFORE_LOCK = 3
    settings.LOGIN_LOCK_BASE_SECONDS = 60
    settings.LOGIN_LOCK_MAX_SECONDS = 300
    settings.LOGIN_IP_FAILURES_BEFORE_LOCK = 6
    return settings


def test_sign_in_with_email_or_curp(client, make_resident):
    user = make_resident()
    response = client.post("/llave/entrar/", {"identifier": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 302 and response.url == reverse("identity:my_data")
    client.post(reverse("identity:logout"))
    response = client.post("/llave/entrar/", {"identifier": user.curp.lower(), "password": PASSWORD})
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="identity.login", subject_id=str(user.pk)).count() == 2
    assert AuditEntry.objects.filter(action="identity.logout").count() == 1


def test_wrong_password_is_refused_and_audited_without_password(client, make_resident):
    user = make_resident()
    response = client.post("/llave/entrar/", {"identifier": user.email, "password": "no es esta clave"})
    assert response.status_code == 400
    assert "no son correctos" in response.content.decode()
    entry = AuditEntry.objects.get(action="identity.login_failed")
    assert entry.subject_id == str(user.pk)
    assert "no es esta clave" not in str(entry.data)


def test_safe_next_only(client, make_resident):
    user = make_resident()
    response = client.post("/llave/entrar/?next=https://malo.example/", {"identifier": user.email, "password": PASSWORD})
    assert response.url == reverse("identity:my_data")
    client.post(reverse("identity:logout"))
    response = client.post("/llave/entrar/", {"identifier": user.email, "password": PASSWORD, "next": "/tramites/"})
    assert response.url == "/tramites/"


def test_logout_requires_post(client, make_resident):
    client.force_login(make_resident())
    assert client.get(reverse("identity:logout")).status_code == 405
    assert client.post(reverse("identity:logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_lock_seconds_double_up_to_the_maximum(lock_settings):
    assert [lockout.lock_seconds("account", n) for n in range(1, 8)] == [0, 0, 60, 120, 240, 300, 300]


def test_lockout_back_off_timing(db, make_resident, lock_settings):
    user = make_resident()
    t0 = timezone.now()
    for i in range(2):
        assert services.sign_in(user.email, "mal", ip="10.0.0.1", now=t0).kind == "invalid"
    third = services.sign_in(user.email, "mal", ip="10.0.0.1", now=t0)
    assert third.kind == "locked" and third.locked_until == t0 + timedelta(seconds=60)
    assert "Vuelve a intentarlo después de las" in third.message
    # While locked even the right password is refused, and refusals do not extend the lock.
    assert services.sign_in(user.email, PASSWORD, ip="10.0.0.1", now=t0 + timedelta(seconds=30)).kind == "locked"
    # After the lock, one more failure locks for twice as long.
    t1 = t0 + timedelta(seconds=61)
    fourth = services.sign_in(user.email, "mal", ip="10.0.0.1", now=t1)
    assert fourth.kind == "locked" and fourth.locked_until == t1 + timedelta(seconds=120)
    t2 = t1 + timedelta(seconds=121)
    assert services.sign_in(user.email, "mal", ip="10.0.0.1", now=t2).locked_until == t2 + timedelta(seconds=240)
    t3 = t2 + timedelta(seconds=241)
    assert services.sign_in(user.email, "mal", ip="10.0.0.1", now=t3).locked_until == t3 + timedelta(seconds=300)
    # Success after the lock resets the account's counter.
    t4 = t3 + timedelta(seconds=301)
    assert services.sign_in(user.email, PASSWORD, ip="10.0.0.1", now=t4).ok
    assert services.sign_in(user.email, "mal", ip="10.0.0.2", now=t4).kind == "invalid"


def test_lock_is_per_identifier_and_applies_to_curp_and_email_separately(db, make_resident, lock_settings):
    a, b = make_resident(), make_resident()
    now = timezone.now()
    for _ in range(3):
        services.sign_in(a.email, "mal", ip="10.0.0.1", now=now)
    assert services.sign_in(a.email, PASSWORD, ip="10.0.0.9", now=now).kind == "locked"
    assert services.sign_in(b.email, PASSWORD, ip="10.0.0.9", now=now).ok


def test_lock_per_ip_across_accounts(db, make_resident, lock_settings):
    users = [make_resident() for _ in range(3)]
    now = timezone.now()
    for user in users:
        for _ in range(2):
            services.sign_in(user.email, "mal", ip="10.9.9.9", now=now)
    result = services.sign_in("otra@example.mx", "mal", ip="10.9.9.9", now=now)
    assert result.kind == "locked"
    fresh = make_resident()
    assert services.sign_in(fresh.email, PASSWORD, ip="10.9.9.9", now=now).kind == "locked"
    assert services.sign_in(fresh.email, PASSWORD, ip="10.1.1.1", now=now).ok


def test_unknown_accounts_are_locked_too(db, lock_settings):
    now = timezone.now()
    for _ in range(3):
        result = services.sign_in("nadie@example.mx", "x", ip=None, now=now)
    assert result.kind == "locked"


def test_locked_page_says_when_and_answers_429(client, make_resident, lock_settings):
    user = make_resident()
    for _ in range(3):
        response = client.post("/llave/entrar/", {"identifier": user.email, "password": "mal"})
    assert response.status_code == 429
    assert "Vuelve a intentarlo después de las" in response.content.decode()
    assert AuditEntry.objects.filter(action="identity.login_failed").count() == 3


def test_password_reset_flow_does_not_reveal_accounts(client, make_resident):
    user = make_resident()
    response = client.post(reverse("identity:password_reset"), {"email": "nadie@example.mx"})
    assert response.status_code == 302 and len(mail.outbox) == 0
    response = client.post(reverse("identity:password_reset"), {"email": user.email})
    assert response.status_code == 302 and response.url == reverse("identity:password_reset_done")
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "contraseña nueva" in body
    link = next(line for line in body.splitlines() if "/llave/contrasena/nueva/" in line)
    path = link.split("://", 1)[-1]
    path = path[path.index("/"):]
    response = client.get(path, follow=True)
    assert response.status_code == 200 and "Crea una contraseña nueva" in response.content.decode()
    form_url = response.redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": "corto", "new_password2": "corto"})
    assert response.status_code == 400 and response.context["form"].errors
    new = "girasol montaña lenta violeta 42"
    response = client.post(form_url, {"new_password1": new, "new_password2": new})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)


def test_password_change_requires_login_and_old_password(client, make_resident):
    user = make_resident()
    response = client.get(reverse("identity:password_change"))
    assert response.status_code == 302 and "/llave/entrar/" in response.url
    client.force_login(user)
    new = "girasol montaña lenta violeta 42"
    response = client.post(reverse("identity:password_change"),
                           {"old_password": "mal", "new_password1": new, "new_password2": new})
    assert response.status_code == 400 and response.context["form"].errors
    response = client.post(reverse("identity:password_change"),
                           {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)


def test_session_expires_after_inactivity(client, make_resident, settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    client.force_login(make_resident())
    assert client.get(reverse("identity:my_data")).status_code == 200
    from django.contrib.sessions.models import Session

    session = Session.objects.get(session_key=client.session.session_key)
    # Activity slides the expiry 30 minutes ahead...
    assert abs((session.expire_date - timezone.now()).total_seconds() - 1800) < 60
    # ...and once 30 minutes pass without activity the session is gone.
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("identity:my_data"))
    assert response.status_code == 302 and "/llave/entrar/" in response.url


def test_activity_slides_the_expiry_with_at_most_one_write_a_minute(client, make_resident, monkeypatch):
    """A signed-in person's requests do not write the session each time; a request more than
    VENTANILLA_SESSION_REFRESH_SECONDS after the last write does, and renews the cookie."""
    import time as time_module

    from django.conf import settings
    from django.contrib.sessions.models import Session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(make_resident())
    client.get(reverse("identity:my_data"))  # the first request marks the session
    key = client.session.session_key
    Session.objects.filter(pk=key).update(expire_date=timezone.now() + timedelta(minutes=10))

    def session_writes() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("identity:my_data"))
        assert response.status_code == 200
        written = [q for q in queries.captured_queries if q["sql"].startswith(("UPDATE", "INSERT"))
                   and "django_session" in q["sql"]]
        return len(written), response.cookies.get(settings.SESSION_COOKIE_NAME)

    writes, cookie = session_writes()
    assert writes == 0 and cookie is None  # within the minute: nothing written, cookie untouched
    assert (Session.objects.get(pk=key).expire_date - timezone.now()).total_seconds() < 11 * 60

    later = time_module.time() + 61
    monkeypatch.setattr(time_module, "time", lambda: later)
    writes, cookie = session_writes()
    assert writes == 1 and cookie is not None and cookie.value == key
    remaining = (Session.objects.get(pk=key).expire_date - timezone.now()).total_seconds()
    assert abs(remaining - 1800) < 120  # slid 30 minutes ahead again


def test_a_stale_cookie_creates_no_session(client, db):
    from django.conf import settings
    from django.contrib.sessions.models import Session

    client.cookies[settings.SESSION_COOKIE_NAME] = "x" * 32
    response = client.get(reverse("identity:my_data"))
    assert response.status_code == 302
    assert not Session.objects.exists()


def test_failures_fade_after_a_quiet_spell(db):
    """A shared address (a counter, a carrier's NAT) is not locked by failures spread over hours."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from ventanilla.identity import lockout

    start = timezone.now()
    ip = "203.0.113.50"
    threshold = settings.LOGIN_IP_FAILURES_BEFORE_LOCK
    for i in range(threshold - 1):
        assert not lockout.register_failure(None, ip, now=start + timedelta(seconds=i)).locked
    later = start + timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS + threshold + 1)
    assert not lockout.register_failure(None, ip, now=later).locked
    # Within the window, the failures add up and lock.
    for i in range(threshold - 1):
        result = lockout.register_failure(None, ip, now=later + timedelta(seconds=i + 1))
    assert result.locked


def test_login_with_a_nul_character_is_a_400(client, db):
    response = client.post(reverse("identity:login"), {"identifier": "ana\x00@example.mx", "password": "x"})
    assert response.status_code == 400


def test_official_changes_password_only_after_the_second_factor(client, make_official):
    official = make_official("reviewer")
    client.force_login(official)
    response = client.get(reverse("identity:password_change"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("identity:two_factor"))
