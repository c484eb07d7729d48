"""Read-only access to the published catalogue, for the portal, the API and other apps.

Nothing here returns drafts or withdrawn procedures; the back office uses `editor_procedures`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, IntegerField, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import DocumentType, LifeEvent, Procedure, ProcedureVersion, Requirement, SearchSynonym
from .search import SearchHit, search  # noqa: F401  (re-exported for the portal)

__all__ = [
    "LifeEventCount", "MonthlyUsage", "SearchHit", "document_types", "editor_procedures",
    "life_event_by_slug", "life_events_with_counts", "monthly_usage", "most_requested", "procedure_by_clave",
    "procedure_versions", "procedures_in_life_event", "published_procedures", "search", "synonyms",
]

# Weight of an application started compared to a page view in "most requested".
START_WEIGHT = 5


def published_procedures() -> QuerySet[Procedure]:
    """Every published procedure, ordered by name, with its department loaded."""
    return (
        Procedure.objects.filter(status=Procedure.Status.PUBLISHED)
        .select_related("department")
        .order_by("name", "clave")
    )


def _with_details(qs: QuerySet[Procedure]) -> QuerySet[Procedure]:
    return qs.prefetch_related(
        Prefetch("requirements", queryset=Requirement.objects.select_related("document_type").order_by("order", "pk")),
        "offices",
        "life_events",
    )


def procedure_by_clave(clave: str) -> Procedure | None:
    """The published procedure with this clave, with requirements (and their document types),
    offices and life events prefetched; None when it does not exist or is not published."""
    if not clave or len(clave) > 40:
        return None
    return _with_details(published_procedures().filter(clave=clave.strip().upper())).first()


@dataclass(frozen=True)
class LifeEventCount:
    slug: str
    name: str
    description: str
    order: int
    count: int


def life_events_with_counts(*, include_empty: bool = False) -> list[LifeEventCount]:
    """Life events in their display order with how many published procedures each holds."""
    qs = LifeEvent.objects.annotate(
        n=Count("procedures", filter=Q(procedures__status=Procedure.Status.PUBLISHED), distinct=True)
    ).order_by("order", "name")
    return [
        LifeEventCount(e.slug, e.name, e.description, e.order, e.n)
        for e in qs
        if include_empty or e.n
    ]


def life_event_by_slug(slug: str) -> LifeEvent | None:
    return LifeEvent.objects.filter(slug=slug).first() if slug and len(slug) <= 64 else None


def procedures_in_life_event(slug: str) -> QuerySet[Procedure]:
    """Published procedures of one life event, by name."""
    return published_procedures().filter(life_events__slug=slug).distinct()


def most_requested(limit: int = 8, days: int = 90) -> list[Procedure]:
    """The published procedures most used in the last `days` days: a started application counts
    START_WEIGHT times a page view. Ties by name, then clave. Procedures with no use are left out."""
    since = timezone.localdate() - timedelta(days=days)
    usage = Q(daily_usage__date__gt=since)
    qs = (
        published_procedures()
        .annotate(
            demand=Coalesce(Sum("daily_usage__views", filter=usage), Value(0), output_field=IntegerField())
            + START_WEIGHT * Coalesce(Sum("daily_usage__starts", filter=usage), Value(0), output_field=IntegerField())
        )
        .filter(demand__gt=0)
        .order_by("-demand", "name", "clave")
    )
    return list(qs[: max(0, int(limit))])


def synonyms() -> QuerySet[SearchSynonym]:
    return SearchSynonym.objects.order_by("term")


def document_types() -> QuerySet[DocumentType]:
    """Every kind of document the catalogue knows, by name (forms that ask which one it is)."""
    return DocumentType.objects.order_by("name")


def editor_procedures(departments) -> QuerySet[Procedure]:
    """All procedures (any status) of the given departments, for the back office."""
    return Procedure.objects.filter(department__in=departments).select_related("department").order_by("name", "clave")


def any_procedure_by_clave(clave: str) -> Procedure | None:
    """A procedure in any status (drafts and withdrawn too), for the back office."""
    if not clave or len(clave) > 40:
        return None
    return Procedure.objects.select_related("department").filter(clave=clave).first()


def procedure_with_details(pk: int) -> Procedure:
    """One procedure in any status with requirements, offices and life events loaded."""
    return _with_details(Procedure.objects.filter(pk=pk)).select_related("department").get()


def procedure_versions(procedure: Procedure) -> QuerySet[ProcedureVersion]:
    return procedure.versions.select_related("author").order_by("-number")


@dataclass(frozen=True)
class MonthlyUsage:
    month: str  # "YYYY-MM"
    clave: str
    name: str
    department: str
    views: int
    starts: int


def monthly_usage(*, until=None) -> list[MonthlyUsage]:
    """Page views and applications started online per procedure and calendar month, from the
    portal's daily counters, oldest month first. `until` (a date) leaves out later days, e.g. the
    month still running."""
    from django.db.models.functions import TruncMonth

    from .models import ProcedureDailyUsage

    qs = ProcedureDailyUsage.objects.all()
    if until is not None:
        qs = qs.filter(date__lte=until)
    rows = (
        qs.annotate(month=TruncMonth("date"))
        .values("month", "procedure__clave", "procedure__name", "procedure__department__name")
        .annotate(views=Sum("views"), starts=Sum("starts"))
        .order_by("month", "procedure__clave")
    )
    return [
        MonthlyUsage(r["month"].strftime("%Y-%m"), r["procedure__clave"], r["procedure__name"],
                     r["procedure__department__name"] or "", int(r["views"] or 0), int(r["starts"] or 0))
        for r in rows
    ]


def document_type_codes() -> list[str]:
    return list(DocumentType.objects.order_by("code").values_list("code", flat=True))


def document_types_held_by_city() -> list[str]:
    """Codes of the documents the municipality issues or keeps itself: a procedure never asks a
    resident for one of these (LNETB art. 40: the authority may not ask again for what it holds)."""
    return list(DocumentType.objects.filter(held_by_city=True).values_list("code", flat=True))
