"""Read-only queries of online procedures, for views, the API and other apps."""

from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet

from .models import Definition, Request, RequestEvent, Status


def _uuid(value) -> UUID | None:
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except (TypeError, ValueError):
        return None


def definition_for_procedure(procedure) -> Definition | None:
    return Definition.objects.select_related("published_version", "procedure").filter(procedure=procedure).first()


def online_definitions() -> QuerySet[Definition]:
    """Definitions that accept requests (published, active, on a published catalogue entry)."""
    return (
        Definition.objects.filter(published_version__isnull=False, is_active=True, procedure__status="published")
        .select_related("procedure", "published_version")
        .order_by("procedure__name")
    )


def requests_of(user) -> QuerySet[Request]:
    """A resident's requests, newest first (drafts included, expired drafts not)."""
    return (
        Request.objects.filter(applicant=user)
        .exclude(status=Status.EXPIRED)
        .select_related("procedure")
        .order_by("-created_at")
    )


def request_of(user, public_id) -> Request | None:
    """The request if it is the user's (as applicant, or the clerk who is filing it); else None."""
    key = _uuid(public_id)
    if key is None or not getattr(user, "is_authenticated", False):
        return None
    # The department is read when a page needs it; the applicant is usually the user already loaded.
    try:  # get(), not first(): a unique key needs no ORDER BY (a busy API's most frequent read)
        request = Request.objects.select_related("procedure", "version").get(public_id=key)
    except Request.DoesNotExist:
        return None
    if user.pk not in (request.applicant_id, request.filed_by_id):
        return None
    if request.applicant_id == user.pk:
        request.applicant = user
    return request


def request_by_public_id(public_id) -> Request | None:
    key = _uuid(public_id)
    if key is None:
        return None
    return Request.objects.select_related("procedure", "version", "department", "applicant").filter(public_id=key).first()


def public_history(request: Request, *, with_actors: bool = True) -> QuerySet[RequestEvent]:
    """What the resident sees of the history: no internal notes or assignments (and who acted,
    unless `with_actors` is False)."""
    events = request.events.filter(internal=False).order_by("at", "pk")
    return events.select_related("actor") if with_actors else events


def full_history(request: Request) -> QuerySet[RequestEvent]:
    return request.events.select_related("actor").order_by("at", "pk")
