"""Reads of the open data portal for pages, the CKAN API, metadata exports and other apps."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import Dataset, Resource, Theme
from .services import publishing_departments


def visible_datasets(user=None) -> QuerySet[Dataset]:
    """Datasets `user` may see: every public active one, plus private or draft ones of the
    departments they publish for."""
    visible = Q(state=Dataset.State.ACTIVE, private=False)
    if user is not None and getattr(user, "is_authenticated", False):
        departments = publishing_departments(user)
        if departments:
            visible |= Q(organization__in=departments) & ~Q(state=Dataset.State.DELETED)
    return Dataset.objects.filter(visible).select_related("organization")


def dataset_by_name_or_id(key: str, user=None) -> Dataset | None:
    """CKAN accepts either the name or the id wherever a dataset is named."""
    key = (key or "").strip()[:100]
    if not key:
        return None
    qs = visible_datasets(user)
    found = qs.filter(name=key).first()
    if found is None:
        import uuid

        try:
            found = qs.filter(pk=uuid.UUID(key)).first()
        except ValueError:
            found = None
    return found


def resource_by_id(resource_id: str, user=None) -> Resource | None:
    import uuid

    try:
        pk = uuid.UUID(str(resource_id or "")[:40])
    except ValueError:
        return None
    resource = (
        Resource.objects.select_related("dataset", "dataset__organization", "current_version").filter(pk=pk).first()
    )
    if resource is None or not visible_datasets(user).filter(pk=resource.dataset_id).exists():
        return None
    return resource


def themes() -> QuerySet[Theme]:
    return Theme.objects.order_by("title")
