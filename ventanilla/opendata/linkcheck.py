"""Link checking: resources that point elsewhere (links) are requested periodically; the result
is kept on the resource (`link_status`, `link_checked_at`, `link_error`) and the department's
publishers are told when a link breaks (once per break: a link that stays broken is not
reported again until it has worked in between)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from django.utils.translation import gettext as _

from ventanilla.audit.services import record as audit_record

from .freshness import publishers_of
from .models import Dataset, Resource

USER_AGENT = "Ventanilla-linkcheck/1.0 (+datos abiertos municipales)"


@dataclass(frozen=True)
class LinkResult:
    ok: bool
    status: int | None
    error: str


def probe(url: str, *, timeout: float = 5) -> LinkResult:
    """HEAD first; servers that refuse HEAD (405/501/403) get a GET for the first byte only."""
    headers = {"User-Agent": USER_AGENT}
    try:
        response = requests.head(url, timeout=timeout, allow_redirects=True, headers=headers)
        if response.status_code in (403, 405, 501) or response.status_code >= 500:
            with requests.get(url, timeout=timeout, allow_redirects=True, stream=True,
                              headers={**headers, "Range": "bytes=0-0"}) as got:
                response = got
        status = response.status_code
    except requests.Timeout:
        return LinkResult(False, None, _("El servidor no respondió a tiempo."))
    except requests.RequestException as exc:
        return LinkResult(False, None, (_("No se pudo conectar: %s") % exc.__class__.__name__)[:300])
    if status < 400:
        return LinkResult(True, status, "")
    return LinkResult(False, status, _("El enlace responde con el código %d.") % status)


def record_link_status(resource: Resource, result: LinkResult, *, now=None) -> None:
    """Stores the check on the resource (only these three fields)."""
    Resource.objects.filter(pk=resource.pk).update(
        link_status=Resource.LinkStatus.OK if result.ok else Resource.LinkStatus.BROKEN,
        link_checked_at=now or timezone.now(),
        link_error=result.error[:300],
    )


def link_resources() -> Iterable[Resource]:
    return (
        Resource.objects.filter(kind=Resource.Kind.LINK, dataset__state=Dataset.State.ACTIVE)
        .exclude(url="")
        .select_related("dataset", "dataset__organization")
        .order_by("link_checked_at", "pk")
    )


def check_links(resources: Iterable[Resource] | None = None, timeout: float = 5, *, notify: bool = True) -> dict[str, int]:
    """Checks every link resource of active datasets (or the ones given). Returns counts."""
    counts = {"checked": 0, "ok": 0, "broken": 0, "notified": 0}
    for resource in (link_resources() if resources is None else resources):
        if resource.kind != Resource.Kind.LINK or not resource.url:
            continue
        was_broken = resource.link_status == Resource.LinkStatus.BROKEN
        result = probe(resource.url, timeout=timeout)
        record_link_status(resource, result)
        counts["checked"] += 1
        counts["ok" if result.ok else "broken"] += 1
        if not result.ok and not was_broken and notify:
            counts["notified"] += notify_broken(resource, result)
    return counts


def notify_broken(resource: Resource, result: LinkResult) -> int:
    dataset = resource.dataset
    recipients = sorted({u.email for u in publishers_of(dataset.organization) if u.email})
    audit_record("opendata.link_broken", subject=resource,
                 data={"url": resource.url[:300], "status": result.status, "recipients": len(recipients)})
    if not recipients:
        return 0
    context = {"name": resource.name, "title": dataset.title, "url": resource.url, "error": result.error,
               "page": f"{settings.SITE_URL}/datos/{dataset.name}/"}
    send_mail(
        subject=_("Enlace roto en «%(title)s»") % context,
        message=_(
            "El recurso «%(name)s» del conjunto de datos «%(title)s» apunta a %(url)s, "
            "que no funciona: %(error)s\n\nCorrige el enlace o sube el archivo:\n%(page)s\n"
        ) % context,
        from_email=None,
        recipient_list=recipients,
    )
    return 1
