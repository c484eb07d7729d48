"""Datasets, resources, organisations and themes as CKAN's action API shows them (the package
dict, resource dict, organization and group dicts), so CKAN clients and harvesters read them
unchanged. Our DCAT and Mexican open data guide fields that CKAN has no column for travel in
`extras`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from django.urls import reverse

from .models import LICENSES, Dataset, Frequency, Resource, Theme

# ISO 8601 durations for DCAT's accrualPeriodicity.
FREQUENCY_ISO = {
    Frequency.DAILY: "R/P1D", Frequency.WEEKLY: "R/P1W", Frequency.MONTHLY: "R/P1M",
    Frequency.QUARTERLY: "R/P3M", Frequency.YEARLY: "R/P1Y", Frequency.IRREGULAR: "irregular",
    Frequency.CONTINUOUS: "R/PT1S",
}


def ckan_time(value: datetime | date | None) -> str | None:
    """CKAN's timestamps: ISO 8601 in UTC without an offset ("2026-01-31T17:05:12.345678")."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat()
    return value.isoformat()


def organization_dict(department, *, package_count: int | None = None) -> dict[str, Any]:
    data = {
        "id": str(department.pk),
        "name": department.slug,
        "title": department.name,
        "display_name": department.name,
        "description": department.description,
        "image_url": "",
        "image_display_url": "",
        "type": "organization",
        "is_organization": True,
        "state": "active" if department.is_active else "deleted",
        "approval_status": "approved",
        "acronym": department.acronym,
    }
    if package_count is not None:
        data["package_count"] = package_count
    return data


def group_dict(theme: Theme, *, package_count: int | None = None) -> dict[str, Any]:
    data = {
        "id": str(theme.pk),
        "name": theme.name,
        "title": theme.title,
        "display_name": theme.title,
        "description": theme.description,
        "image_url": "",
        "image_display_url": "",
        "type": "group",
        "is_organization": False,
        "state": "active",
        "approval_status": "approved",
        "created": ckan_time(theme.created),
    }
    if package_count is not None:
        data["package_count"] = package_count
    return data


def download_url(resource: Resource, request=None, *, number: int | None = None) -> str:
    if number is None:
        path = reverse("opendata-download", args=[resource.pk])
    else:
        path = reverse("opendata-download-version", args=[resource.pk, number])
    return request.build_absolute_uri(path) if request is not None else path


def resource_dict(resource: Resource, request=None, *, position: int | None = None) -> dict[str, Any]:
    version = resource.current_version
    uploaded = resource.kind == Resource.Kind.UPLOAD
    return {
        "id": str(resource.pk),
        "package_id": str(resource.dataset_id),
        "name": resource.name,
        "description": resource.description,
        "format": resource.format,
        "url": download_url(resource, request) if uploaded else resource.url,
        "url_type": "upload" if uploaded else None,
        "mimetype": (version.mimetype or None) if version else None,
        "size": version.size if version else None,
        "hash": f"sha256:{version.sha256}" if version and version.sha256 else "",
        "created": ckan_time(resource.created),
        "last_modified": ckan_time(version.created if version else resource.last_modified),
        "metadata_modified": ckan_time(resource.last_modified),
        "datastore_active": resource.datastore_active,
        "position": position if position is not None else max(resource.position - 1, 0),
        "state": "active",
        "version": version.number if version else None,
        "row_count": version.row_count if version and version.table_name else None,
        "link_status": resource.link_status if not uploaded else None,
    }


def package_dict(dataset: Dataset, request=None) -> dict[str, Any]:
    """CKAN's package dict. Expects `organization` selected and tags/themes/resources either
    prefetched or cheap to read."""
    license_title, license_url = LICENSES.get(dataset.license_id, (dataset.license_id, ""))
    tags = sorted(dataset.tags.all(), key=lambda t: t.name.lower())
    themes = sorted(dataset.themes.all(), key=lambda t: t.title)
    resources = sorted(dataset.resources.all(), key=lambda r: (r.position, r.created))
    landing = reverse_or_none("opendata-dataset", dataset.name)
    extras = {
        "identifier": str(dataset.pk),
        "accrual_periodicity": FREQUENCY_ISO.get(dataset.update_frequency, dataset.update_frequency),
        "update_frequency": dataset.update_frequency,
        "temporal_start": ckan_time(dataset.temporal_start) or "",
        "temporal_end": ckan_time(dataset.temporal_end) or "",
        "spatial_text": dataset.spatial,
        "data_modified": ckan_time(dataset.data_modified) or "",
        "publisher": dataset.organization.name,
        "landing_page": (request.build_absolute_uri(landing) if request is not None and landing else landing) or "",
    }
    if dataset.managed_by:
        extras["managed_by"] = dataset.managed_by
    return {
        "id": str(dataset.pk),
        "name": dataset.name,
        "title": dataset.title,
        "notes": dataset.notes,
        "type": "dataset",
        "owner_org": str(dataset.organization_id),
        "organization": organization_dict(dataset.organization),
        "groups": [group_dict(t) for t in themes],
        "tags": [{"name": t.name, "display_name": t.name, "state": "active", "vocabulary_id": None} for t in tags],
        "license_id": dataset.license_id,
        "license_title": license_title,
        "license_url": license_url,
        "isopen": dataset.license_id in LICENSES,
        "author": dataset.organization.name,
        "author_email": dataset.organization.email or "",
        "maintainer": dataset.maintainer,
        "maintainer_email": dataset.maintainer_email,
        "url": "",
        "version": None,
        "private": dataset.private,
        "state": dataset.state,
        "metadata_created": ckan_time(dataset.metadata_created),
        "metadata_modified": ckan_time(dataset.metadata_modified),
        "num_resources": len(resources),
        "num_tags": len(tags),
        "resources": [resource_dict(r, request, position=i) for i, r in enumerate(resources)],
        "extras": [{"key": k, "value": v} for k, v in extras.items()],
        "relationships_as_object": [],
        "relationships_as_subject": [],
    }


def reverse_or_none(url_name: str, *args) -> str | None:
    """The dataset page belongs to the portal pages; until they exist there is no landing page."""
    from django.urls import NoReverseMatch

    try:
        return reverse(url_name, args=args)
    except NoReverseMatch:
        return None
