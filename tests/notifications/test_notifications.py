"""notifications: inbox rows and their e-mail jobs in the caller's transaction, e-mail sent by the
worker (retried when the server fails), idempotent keys, and an inbox nobody else can read."""

from __future__ import annotations

import uuid

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ventanilla.core import jobs
from ventanilla.core.models import Job
from ventanilla.identity.models import Role
from ventanilla.notifications import selectors, services
from ventanilla.notifications.models import Notification

pytestmark = pytest.mark.django_db(transaction=False)


def notify(user, **kwargs):
    kwargs.setdefault("subject", "Tu solicitud fue aprobada")
    kwargs.setdefault("body", "La Dirección de Desarrollo Económico aprobó tu licencia.")
    return services.notify(user, **kwargs)


# --- notify() ----------------------------------------------------------------------------------

def run_jobs() -> int:
    """What a worker does: runs every queued job (here, the e-mails)."""
    return jobs.run_worker(once=True, schedule=False, handle_signals=False)


def test_notify_writes_the_row_and_an_email_job_the_worker_sends(make_resident, settings):
    settings.SITE_URL = "https://tramites.torreon.gob.mx"
    resident = make_resident(given_names="Lucía")
    with CaptureQueriesContext(connection) as queries:
        n = notify(resident, url="/tramites/solicitudes/123/")
    assert Notification.objects.filter(pk=n.pk).exists()
    assert not any("SELECT" in q["sql"] for q in queries.captured_queries)  # writes only, no read first
    assert mail.outbox == []  # the request never waits for a mail server
    job = Job.objects.get(name="notifications.email")
    assert job.kwargs == {"notification_id": n.pk} and job.state == "queued"
    assert run_jobs() == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [resident.email]
    assert message.subject == "Tu solicitud fue aprobada"
    assert "Hola, Lucía:" in message.body
    assert "aprobó tu licencia" in message.body
    assert "https://tramites.torreon.gob.mx/tramites/solicitudes/123/" in message.body
    assert "https://tramites.torreon.gob.mx/avisos/" in message.body
    n.refresh_from_db()
    assert n.emailed_at is not None and n.read_at is None
    # A second delivery of the same job (at-least-once queues) sends nothing more.
    assert services.send_email(n.pk) is False
    assert len(mail.outbox) == 1


def test_rolled_back_notification_is_neither_stored_nor_mailed(make_resident):
    resident = make_resident()
    with pytest.raises(RuntimeError), transaction.atomic():
        notify(resident)
        raise RuntimeError("the status change failed")
    assert not Notification.objects.exists()
    assert not Job.objects.exists()
    assert run_jobs() == 0
    assert mail.outbox == []


def test_key_makes_it_idempotent(make_resident):
    resident = make_resident()
    first = notify(resident, key="procedures.approved:42")
    second = notify(resident, key="procedures.approved:42")
    third = notify(resident, key="")
    fourth = notify(resident, key="")
    assert first is not None and second is None
    assert third is not None and fourth is not None
    assert Notification.objects.count() == 3
    assert Job.objects.count() == 3
    run_jobs()
    assert len(mail.outbox) == 3


def test_a_repeated_key_inside_a_transaction_keeps_the_transaction(make_resident):
    """The unique key is caught in a savepoint: the caller's transaction goes on."""
    resident = make_resident()
    with transaction.atomic():
        assert notify(resident, key="k1") is not None
        assert notify(resident, key="k1") is None
        notify(resident, subject="Otro aviso")
    assert Notification.objects.count() == 2


def test_mail_server_failure_keeps_the_notice_and_retries(make_resident, monkeypatch, caplog):
    def boom(*args, **kwargs):
        raise ConnectionRefusedError("SMTP down")

    monkeypatch.setattr(services, "send_mail", boom)
    n = notify(make_resident())
    run_jobs()
    n.refresh_from_db()
    assert n.emailed_at is None
    assert "notification e-mail failed" in caplog.text
    job = Job.objects.get(name="notifications.email")
    assert job.state == "queued" and job.attempts == 1 and "SMTP down" in job.last_error  # tried again later
    monkeypatch.undo()
    Job.objects.filter(pk=job.pk).update(run_at=timezone.now())
    run_jobs()
    n.refresh_from_db()
    assert n.emailed_at is not None and len(mail.outbox) == 1


def test_texts_are_stored_in_spanish_whatever_the_request_language(make_resident):
    from django.utils import translation
    from django.utils.translation import gettext_lazy

    with translation.override("en"):
        n = notify(make_resident(), subject=gettext_lazy("Avisos"), body=gettext_lazy("Avisos"))
    assert n.subject == "Avisos"


def test_bad_arguments(make_resident, settings):
    resident = make_resident()
    for url in ["https://malicioso.example/", "//malicioso.example/", "javascript:alert(1)", "/a\nb"]:
        with pytest.raises(ValueError):
            notify(resident, url=url)
    with pytest.raises(ValueError):
        notify(resident, subject=" ")
    with pytest.raises(ValueError):
        notify(resident, body="")
    n = notify(resident, url=settings.SITE_URL + "/pagos/x/", subject="x" * 300)
    assert n.url == "/pagos/x/" and len(n.subject) == 200
    assert not Notification.objects.filter(subject="").exists()


# --- Inbox ---------------------------------------------------------------------------------------

def test_inbox_lists_only_mine_and_opening_marks_read(client, make_resident):
    ana, beto = make_resident(), make_resident()
    mine = notify(ana, subject="Aviso de Ana", url="/mi-expediente/")
    notify(beto, subject="Aviso de Beto")
    client.force_login(ana)
    page = client.get(reverse("notifications:inbox"))
    html = page.content.decode()
    assert page.status_code == 200 and "Aviso de Ana" in html and "Aviso de Beto" not in html
    assert "Avisos (1" in html  # the header's unread count
    detail = client.get(reverse("notifications:detail", args=[mine.public_id]))
    assert detail.status_code == 200 and 'href="/mi-expediente/"' in detail.content.decode()
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert "Avisos (" not in client.get(reverse("notifications:inbox")).content.decode()


def test_mark_all_read(client, make_resident):
    ana, beto = make_resident(), make_resident()
    notify(ana)
    notify(ana)
    other = notify(beto)
    client.force_login(ana)
    assert client.get(reverse("notifications:mark_all_read")).status_code == 405
    response = client.post(reverse("notifications:mark_all_read"))
    assert response.status_code == 302
    assert selectors.unread_count(ana) == 0
    other.refresh_from_db()
    assert other.read_at is None


def test_anonymous_is_sent_to_sign_in(client, make_resident):
    n = notify(make_resident())
    for method, url in [("get", reverse("notifications:inbox")),
                        ("get", reverse("notifications:detail", args=[n.public_id])),
                        ("post", reverse("notifications:mark_all_read"))]:
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("identity:login")), url


def test_nobody_reads_another_s_notification(client, make_resident, make_official, login_official):
    n = notify(make_resident(), subject="Privado")
    client.force_login(make_resident())
    assert client.get(reverse("notifications:detail", args=[n.public_id])).status_code == 404
    assert client.get(reverse("notifications:detail", args=[uuid.uuid4()])).status_code == 404
    client.logout()
    official = make_official(Role.PLATFORM_ADMIN)
    login_official(official)
    own = notify(official, subject="Aviso del servidor")
    assert client.get(reverse("notifications:detail", args=[n.public_id])).status_code == 404
    assert client.get(reverse("notifications:detail", args=[own.public_id])).status_code == 200
    html = client.get(reverse("notifications:inbox")).content.decode()
    assert "Aviso del servidor" in html and "Privado" not in html
    n.refresh_from_db()
    assert n.read_at is None


def test_header_count_is_one_cheap_query_and_only_when_signed_in(client, make_resident):
    from django.test import RequestFactory

    from ventanilla.notifications.context_processors import unread

    resident = make_resident()
    notify(resident)
    notify(resident)
    request = RequestFactory().get("/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    assert unread(request) == {}
    request.user = resident
    context = unread(request)
    with CaptureQueriesContext(connection) as queries:
        assert context["unread_notifications"]() == 2
        assert context["unread_notifications"]() == 2
    assert len(queries) == 1 and "COUNT" in queries[0]["sql"].upper()
    client.force_login(resident)
    assert "Avisos (2" in client.get(reverse("portal:home")).content.decode()
