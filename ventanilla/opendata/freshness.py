"""Freshness: is each dataset updated as often as its publisher promised?

A dataset is overdue when more time has passed since its data last changed (`data_modified`, or
its creation if no data was ever uploaded) than its declared update frequency plus a grace
period (a tenth of the interval, at least one day). Irregular datasets are never overdue.

Publishers of the department are told once per missed period: each notice is written to the
audit log (`opendata.overdue_notice`, subject the dataset, with the period's key), and a notice
for a period already in the log is not sent again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from django.utils.translation import gettext as _

from ventanilla.audit import selectors as audit_selectors
from ventanilla.audit.services import record as audit_record
from ventanilla.identity import selectors as identity_selectors
from ventanilla.identity.models import Role

from .models import Dataset, Frequency

NOTICE_ACTION = "opendata.overdue_notice"

_INTERVALS = {
    Frequency.DAILY: timedelta(days=1),
    Frequency.WEEKLY: timedelta(days=7),
    Frequency.MONTHLY: timedelta(days=31),
    Frequency.QUARTERLY: timedelta(days=92),
    Frequency.YEARLY: timedelta(days=366),
    # Real-time data that has not moved for a day has stopped flowing.
    Frequency.CONTINUOUS: timedelta(days=1),
    Frequency.IRREGULAR: None,
}


def expected_interval(frequency: str) -> timedelta | None:
    """The longest time between two updates the frequency allows; None for irregular data.
    Months count as 31 days, quarters 92, years 366 (the longest of each)."""
    try:
        return _INTERVALS[Frequency(frequency)]
    except ValueError:
        return None


def grace(interval: timedelta) -> timedelta:
    return max(timedelta(days=1), interval / 10)


def last_update(dataset: Dataset) -> datetime:
    return dataset.data_modified or dataset.metadata_created


def due_at(dataset: Dataset) -> datetime | None:
    """When the dataset becomes overdue, or None when it never does."""
    interval = expected_interval(dataset.update_frequency)
    if interval is None:
        return None
    return last_update(dataset) + interval + grace(interval)


def is_overdue(dataset: Dataset, now: datetime | None = None) -> bool:
    if dataset.state != Dataset.State.ACTIVE:
        return False
    due = due_at(dataset)
    return due is not None and (now or timezone.now()) > due


def overdue_datasets(now: datetime | None = None) -> list[Dataset]:
    """Active datasets (public or private) that missed their declared update, oldest first."""
    now = now or timezone.now()
    candidates = (
        Dataset.objects.filter(state=Dataset.State.ACTIVE)
        .exclude(update_frequency=Frequency.IRREGULAR)
        .select_related("organization")
    )
    found = [d for d in candidates if is_overdue(d, now)]
    return sorted(found, key=lambda d: (due_at(d), d.name))


def period_key(dataset: Dataset, now: datetime) -> str:
    """Identifies the missed period: the last update plus how many whole intervals have been
    missed. A new upload changes the key, so the next lapse is notified again."""
    interval = expected_interval(dataset.update_frequency)
    assert interval is not None
    missed = int((now - last_update(dataset) - grace(interval)) / interval)
    return f"{last_update(dataset).isoformat()}#{missed}"


def publishers_of(department) -> list:
    """Active officials who publish data for the department."""
    return list(
        identity_selectors.officials()
        .filter(is_active=True, memberships__department=department, memberships__role=Role.DATA_PUBLISHER)
        .distinct()
    )


def already_notified(dataset: Dataset, key: str, action: str = NOTICE_ACTION) -> bool:
    entries = audit_selectors.entries_for_subject(dataset._meta.label_lower, str(dataset.pk)).filter(action=action)
    return any((entry.data or {}).get("period") == key for entry in entries)


@dataclass(frozen=True)
class Notice:
    dataset: Dataset
    recipients: tuple[str, ...]
    period: str


def notify_publishers(now: datetime | None = None) -> list[Notice]:
    """E-mails each overdue dataset's publishers once per missed period. Returns what was sent."""
    now = now or timezone.now()
    sent = []
    for dataset in overdue_datasets(now):
        key = period_key(dataset, now)
        if already_notified(dataset, key):
            continue
        recipients = tuple(sorted({u.email for u in publishers_of(dataset.organization) if u.email}))
        if not recipients:
            continue  # nobody to tell yet: nothing is recorded, so a publisher named later hears of it
        context = {
            "title": dataset.title,
            "frequency": Frequency(dataset.update_frequency).label,
            "last": timezone.localtime(last_update(dataset)).strftime("%d/%m/%Y"),
            "url": f"{settings.SITE_URL}/datos/{dataset.name}/",
        }
        send_mail(
            subject=_("Datos por actualizar: %(title)s") % context,
            message=_(
                "El conjunto de datos «%(title)s» debía actualizarse con frecuencia %(frequency)s "
                "y su última actualización fue el %(last)s.\n\n"
                "Sube la versión nueva de sus datos o cambia la frecuencia declarada si ya no aplica:\n"
                "%(url)s\n"
            ) % {**context, "frequency": str(context["frequency"]).lower()},
            from_email=None,
            recipient_list=list(recipients),
        )
        audit_record(NOTICE_ACTION, subject=dataset, data={"period": key, "recipients": len(recipients)})
        sent.append(Notice(dataset, recipients, key))
    return sent
