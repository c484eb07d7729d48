"""Freshness maths, overdue notices sent once per period, link checking against a live server."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.core import mail
from django.core.management import call_command

from ventanilla.identity.models import Role
from ventanilla.opendata import freshness, linkcheck, services
from ventanilla.opendata.models import Dataset, Frequency, Resource

T0 = datetime(2026, 1, 15, 12, 0, tzinfo=dt_timezone.utc)


def _dataset(department, name, frequency, updated=T0, **extra):
    dataset = services.create_dataset(by=None, data={
        "owner_org": department, "name": name, "title": name.title(), "update_frequency": frequency, **extra})
    Dataset.objects.filter(pk=dataset.pk).update(data_modified=updated)
    dataset.refresh_from_db()
    return dataset


def test_expected_intervals():
    assert freshness.expected_interval("diaria") == timedelta(days=1)
    assert freshness.expected_interval("semanal") == timedelta(days=7)
    assert freshness.expected_interval("mensual") == timedelta(days=31)
    assert freshness.expected_interval("trimestral") == timedelta(days=92)
    assert freshness.expected_interval("anual") == timedelta(days=366)
    assert freshness.expected_interval("continua") == timedelta(days=1)
    assert freshness.expected_interval("irregular") is None
    assert freshness.expected_interval("cada-luna-llena") is None


def test_overdue_boundaries(department):
    monthly = _dataset(department, "mensual", Frequency.MONTHLY)
    # 31 days + grace (max(1 day, 3.1 days) = 3.1 days).
    limit = T0 + timedelta(days=31) + timedelta(days=3.1)
    assert not freshness.is_overdue(monthly, now=limit)
    assert freshness.is_overdue(monthly, now=limit + timedelta(seconds=1))
    daily = _dataset(department, "diaria", Frequency.DAILY)
    assert not freshness.is_overdue(daily, now=T0 + timedelta(days=2))  # 1 day + 1 day grace
    assert freshness.is_overdue(daily, now=T0 + timedelta(days=2, minutes=1))
    irregular = _dataset(department, "irregular", Frequency.IRREGULAR)
    assert not freshness.is_overdue(irregular, now=T0 + timedelta(days=3650))


def test_never_updated_counts_from_creation(department):
    dataset = services.create_dataset(by=None, data={"owner_org": department, "name": "nuevo", "title": "Nuevo",
                                                     "update_frequency": "semanal"})
    assert dataset.data_modified is None
    created = dataset.metadata_created
    assert not freshness.is_overdue(dataset, now=created + timedelta(days=7))
    assert freshness.is_overdue(dataset, now=created + timedelta(days=9))


def test_overdue_datasets_lists_active_only(department):
    late = _dataset(department, "tarde", Frequency.WEEKLY)
    _dataset(department, "a-tiempo", Frequency.WEEKLY, updated=T0 + timedelta(days=20))
    draft = _dataset(department, "borrador", Frequency.WEEKLY, state="draft")
    private = _dataset(department, "privado", Frequency.DAILY, private=True)
    deleted = _dataset(department, "borrado", Frequency.DAILY)
    Dataset.objects.filter(pk=deleted.pk).update(state=Dataset.State.DELETED)
    found = freshness.overdue_datasets(now=T0 + timedelta(days=22))
    assert [d.name for d in found] == ["privado", "tarde"]  # earliest due first; drafts and deleted left out
    assert draft not in found and late in found and private in found


def test_notices_sent_once_per_period(department, make_official, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    publisher = make_official(Role.DATA_PUBLISHER, department=department)
    make_official(Role.DATA_PUBLISHER, department=department, is_active=False)  # left: not told
    dataset = _dataset(department, "luminarias", Frequency.MONTHLY)
    first = T0 + timedelta(days=40)
    sent = freshness.notify_publishers(now=first)
    assert [n.dataset.name for n in sent] == ["luminarias"]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [publisher.email]
    assert "Luminarias" in message.subject and "/datos/luminarias/" in message.body
    # Running again in the same period sends nothing.
    assert freshness.notify_publishers(now=first + timedelta(days=1)) == []
    assert freshness.notify_publishers(now=first + timedelta(days=20)) == []
    assert len(mail.outbox) == 1
    # One more whole period missed: told again.
    assert len(freshness.notify_publishers(now=first + timedelta(days=31))) == 1
    # The publisher uploads: the clock restarts, and the next lapse is a new notice.
    Dataset.objects.filter(pk=dataset.pk).update(data_modified=first + timedelta(days=32))
    assert freshness.notify_publishers(now=first + timedelta(days=40)) == []
    assert len(freshness.notify_publishers(now=first + timedelta(days=32 + 35))) == 1
    assert len(mail.outbox) == 3


def test_no_publisher_no_notice_until_one_exists(department, other_department, make_official, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    make_official(Role.DATA_PUBLISHER, department=other_department)  # another department's publisher
    _dataset(department, "huerfano", Frequency.WEEKLY)
    now = T0 + timedelta(days=30)
    assert freshness.notify_publishers(now=now) == []
    make_official(Role.DATA_PUBLISHER, department=department)
    assert len(freshness.notify_publishers(now=now)) == 1
    assert len(mail.outbox) == 1


# --- Link checking ---------------------------------------------------------------------------

@pytest.fixture
def links(department, live_server):
    dataset = _dataset(department, "enlaces", Frequency.IRREGULAR)
    make = lambda name, url: services.create_resource(dataset, by=None, data={"name": name, "url": url})  # noqa: E731
    return {
        "ok": make("Hoja de estilo", f"{live_server.url}/theme.css"),
        "missing": make("No existe", f"{live_server.url}/no-existe-este-archivo.csv"),
        "head_refused": make("Solo GET", f"{live_server.url}/catalog.ttl"),  # HEAD → 405, GET works
        "closed": make("Puerto cerrado", "http://127.0.0.1:9/datos.csv"),
    }


@pytest.mark.django_db(transaction=True)
def test_check_links_records_and_notifies(links, department, make_official, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    publisher = make_official(Role.DATA_PUBLISHER, department=department)
    counts = linkcheck.check_links(timeout=3)
    assert counts == {"checked": 4, "ok": 2, "broken": 2, "notified": 2}
    status = {k: Resource.objects.get(pk=r.pk) for k, r in links.items()}
    assert status["ok"].link_status == status["head_refused"].link_status == Resource.LinkStatus.OK
    assert status["missing"].link_status == Resource.LinkStatus.BROKEN
    assert "404" in status["missing"].link_error
    assert status["closed"].link_status == Resource.LinkStatus.BROKEN and status["closed"].link_error
    assert all(s.link_checked_at is not None for s in status.values())
    assert len(mail.outbox) == 2 and all(m.to == [publisher.email] for m in mail.outbox)
    # Still broken next time: not reported again.
    again = linkcheck.check_links(timeout=3)
    assert again["broken"] == 2 and again["notified"] == 0 and len(mail.outbox) == 2


@pytest.mark.django_db(transaction=True)
def test_opendata_check_command(links, department, capsys):
    late = _dataset(department, "vencido", Frequency.DAILY, updated=T0)
    call_command("opendata_check", "--timeout", "3")
    out = capsys.readouterr().out
    assert "Conjuntos vencidos: 1" in out and "Enlaces revisados: 4" in out and "rotos: 2" in out
    assert Resource.objects.filter(link_status=Resource.LinkStatus.UNCHECKED).count() == 0
    assert late.name == "vencido"
