"""Rules of the open data portal: who may publish, creating and changing datasets and resources,
uploading new versions, and publishers' API tokens.

Every write goes through these functions (the CKAN action API, the back office, the platform's
self-publication and the demo loader alike). They raise `OpendataError` with a Spanish message
that can be shown as is; nothing is half-written when they fail."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from ventanilla.audit.services import record as audit_record
from ventanilla.identity.models import Role
from ventanilla.identity.permissions import departments_where, has_role
from ventanilla.organization import selectors as org_selectors
from ventanilla.organization.models import Department

from .models import LICENSES, ApiToken, Dataset, Frequency, Resource, ResourceVersion, Tag, Theme

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{1,99}$")
MAX_TITLE = 300
MAX_NOTES = 20_000
MAX_TAGS = 30
MAX_UPLOAD_BYTES = 1024 * 1024 * 1024  # 1 GiB; the web server's own limit must allow it too
TABULAR_FORMATS = {"CSV", "TSV", "XLSX", "JSON", "GEOJSON"}


class OpendataError(Exception):
    """A rule was not met. `message` is Spanish; `field` names the offending input when known."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid", status: int = 400):
        super().__init__(message)
        self.message, self.field, self.code, self.status = message, field, code, status


class NotAuthorized(OpendataError):
    def __init__(self, message: str | None = None):
        super().__init__(message or _("No tienes permiso para publicar en esta dependencia."),
                         code="not_authorized", status=403)


# --- Who may publish ---------------------------------------------------------------------------

def publishing_departments(user) -> list[Department]:
    """Departments whose datasets `user` may create and change (data publishers; platform
    administrators everywhere)."""
    return departments_where(user, Role.DATA_PUBLISHER)


def can_publish(user, department: Department) -> bool:
    return bool(user is not None and getattr(user, "is_active", False)
                and has_role(user, Role.DATA_PUBLISHER, department=department))


def require_publisher(user, department: Department) -> None:
    if not can_publish(user, department):
        raise NotAuthorized()


def can_see(user, dataset: Dataset) -> bool:
    """Public datasets are for everyone; private and draft ones only for their publishers."""
    if dataset.state == Dataset.State.DELETED:
        return False
    if not dataset.private and dataset.state == Dataset.State.ACTIVE:
        return True
    return can_publish(user, dataset.organization)


# --- Validation helpers -------------------------------------------------------------------------

def _text(value: Any, *, field: str, label: str, max_length: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise OpendataError(_("%(label)s debe ser texto.") % {"label": label}, field=field)
    value = value.strip()
    if required and not value:
        raise OpendataError(_("Falta %(label)s.") % {"label": label}, field=field, code="required")
    if len(value) > max_length:
        raise OpendataError(
            _("%(label)s es demasiado largo (máximo %(max)d caracteres).") % {"label": label, "max": max_length},
            field=field,
        )
    if "<" in value or ">" in value or "\x00" in value:
        raise OpendataError(_("%(label)s no puede contener los signos < ni >.") % {"label": label}, field=field)
    return value


def _date(value: Any, *, field: str, label: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise OpendataError(
            _("%(label)s debe ser una fecha con la forma AAAA-MM-DD.") % {"label": label}, field=field
        ) from None


def clean_name(value: Any, *, field: str = "name") -> str:
    name = _text(value, field=field, label=_("La clave"), max_length=100, required=True).lower()
    if not NAME_PATTERN.match(name):
        raise OpendataError(
            _("La clave solo puede llevar minúsculas sin acentos, números, guiones y guiones bajos "
              "(de 2 a 100 caracteres)."),
            field=field,
        )
    return name


def unique_name_for(title: str) -> str:
    """A free dataset name derived from a title ("Luminarias 2026" → "luminarias-2026")."""
    base = (slugify(title)[:90] or "conjunto").strip("-") or "conjunto"
    name, n = base, 1
    while Dataset.objects.filter(name=name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def _department(value: Any) -> Department:
    if isinstance(value, Department):
        return value
    department = org_selectors.department_by_slug(str(value or "")[:64])
    if department is None:
        raise OpendataError(_("No existe esa dependencia."), field="owner_org", code="not_found", status=404)
    return department


def _tags(values: Iterable[Any]) -> list[Tag]:
    names = []
    for raw in values:
        raw = raw.get("name", "") if isinstance(raw, Mapping) else raw
        name = _text(raw, field="tags", label=_("Cada palabra clave"), max_length=100, required=True)
        if name.lower() not in {n.lower() for n in names}:
            names.append(name)
    if len(names) > MAX_TAGS:
        raise OpendataError(_("Son demasiadas palabras clave (máximo %d).") % MAX_TAGS, field="tags")
    tags = []
    for name in names:
        tag = Tag.objects.filter(name__iexact=name).first() or _create_tag(name)
        tags.append(tag)
    return tags


def _create_tag(name: str) -> Tag:
    """Another request may create the same tag at the same moment (several web workers)."""
    try:
        with transaction.atomic():
            return Tag.objects.create(name=name)
    except IntegrityError:
        tag = Tag.objects.filter(name__iexact=name).first()
        if tag is None:
            raise
        return tag


def _themes(values: Iterable[Any]) -> list[Theme]:
    themes = []
    for raw in values:
        key = raw.get("name", "") if isinstance(raw, Mapping) else raw
        theme = Theme.objects.filter(name=str(key)[:100]).first()
        if theme is None:
            raise OpendataError(_("No existe el tema «%s».") % str(key)[:100], field="groups", code="not_found")
        themes.append(theme)
    return themes


# --- Datasets -----------------------------------------------------------------------------------

DATASET_FIELDS = (
    "title", "notes", "license_id", "maintainer", "maintainer_email", "temporal_start", "temporal_end",
    "spatial", "update_frequency", "private", "state",
)


def _apply_dataset_fields(dataset: Dataset, data: Mapping[str, Any]) -> None:
    if "title" in data or dataset._state.adding:
        dataset.title = _text(data.get("title", dataset.title), field="title", label=_("El título"),
                              max_length=MAX_TITLE, required=True)
    if "notes" in data:
        dataset.notes = _text(data["notes"], field="notes", label=_("La descripción"), max_length=MAX_NOTES)
    if "license_id" in data:
        license_id = str(data["license_id"] or "")
        if license_id not in LICENSES:
            raise OpendataError(_("Esa licencia no existe. Usa una de: %s.") % ", ".join(LICENSES), field="license_id")
        dataset.license_id = license_id
    if "maintainer" in data:
        dataset.maintainer = _text(data["maintainer"], field="maintainer", label=_("El contacto"), max_length=200)
    if "maintainer_email" in data:
        email = _text(data["maintainer_email"], field="maintainer_email", label=_("El correo"), max_length=254)
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise OpendataError(_("El correo de contacto no es válido."), field="maintainer_email") from None
        dataset.maintainer_email = email
    for key, label in (("temporal_start", _("La fecha inicial")), ("temporal_end", _("La fecha final"))):
        if key in data:
            setattr(dataset, key, _date(data[key], field=key, label=label))
    if dataset.temporal_start and dataset.temporal_end and dataset.temporal_start > dataset.temporal_end:
        raise OpendataError(_("La cobertura temporal termina antes de empezar."), field="temporal_end")
    if "spatial" in data:
        dataset.spatial = _text(data["spatial"], field="spatial", label=_("La cobertura geográfica"), max_length=200)
    if "update_frequency" in data:
        if data["update_frequency"] not in Frequency.values:
            raise OpendataError(
                _("La frecuencia debe ser una de: %s.") % ", ".join(Frequency.values), field="update_frequency"
            )
        dataset.update_frequency = data["update_frequency"]
    if "private" in data:
        if not isinstance(data["private"], bool):
            raise OpendataError(_("«private» debe ser verdadero o falso."), field="private")
        dataset.private = data["private"]
    if "state" in data:
        if data["state"] not in (Dataset.State.ACTIVE, Dataset.State.DRAFT):
            raise OpendataError(_("El estado debe ser «active» o «draft»."), field="state")
        dataset.state = data["state"]


def _save_unique_name(dataset: Dataset) -> None:
    """Saves the dataset; a name taken meanwhile by a concurrent request (another web worker, after
    the check above) is the same 409 as a name taken before, not a database error."""
    try:
        with transaction.atomic():
            dataset.save()
    except IntegrityError:
        if not Dataset.objects.filter(name=dataset.name).exclude(pk=dataset.pk).exists():
            raise
        raise OpendataError(_("Ya existe un conjunto de datos con la clave «%s».") % dataset.name,
                            field="name", code="duplicate", status=409) from None


def create_dataset(*, by, data: Mapping[str, Any], managed_by: str = "", request=None) -> Dataset:
    """Creates a dataset in `data["owner_org"]` (department slug or instance). `data` uses CKAN's
    field names: name (optional: derived from the title), title, notes, license_id, maintainer,
    maintainer_email, temporal_start, temporal_end, spatial, update_frequency, private, state,
    tags (names), groups (theme names). `by=None` only for the platform's own datasets."""
    department = _department(data.get("owner_org"))
    if by is not None:
        require_publisher(by, department)
    with transaction.atomic():
        dataset = Dataset(organization=department, created_by=by if by is not None else None,
                          managed_by=managed_by)
        _apply_dataset_fields(dataset, data)
        dataset.name = clean_name(data["name"]) if data.get("name") else unique_name_for(dataset.title)
        if Dataset.objects.filter(name=dataset.name).exists():
            raise OpendataError(_("Ya existe un conjunto de datos con la clave «%s».") % dataset.name,
                                field="name", code="duplicate", status=409)
        tags = _tags(data.get("tags") or [])
        themes = _themes(data.get("groups") or [])
        _save_unique_name(dataset)
        dataset.tags.set(tags)
        dataset.themes.set(themes)
        audit_record("opendata.dataset_create", actor=by, subject=dataset, request=request,
                     data={"name": dataset.name, "organization": department.slug})
    return dataset


def update_dataset(dataset: Dataset, *, by, data: Mapping[str, Any], request=None) -> Dataset:
    """Changes only the fields present in `data` (CKAN's package_patch semantics)."""
    if by is not None:
        require_publisher(by, dataset.organization)
    with transaction.atomic():
        dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
        if "owner_org" in data:
            department = _department(data["owner_org"])
            if by is not None:
                require_publisher(by, department)
            dataset.organization = department
        if "name" in data and data["name"] != dataset.name:
            name = clean_name(data["name"])
            if Dataset.objects.filter(name=name).exclude(pk=dataset.pk).exists():
                raise OpendataError(_("Ya existe un conjunto de datos con la clave «%s».") % name,
                                    field="name", code="duplicate", status=409)
            dataset.name = name
        _apply_dataset_fields(dataset, data)
        _save_unique_name(dataset)
        if "tags" in data:
            dataset.tags.set(_tags(data.get("tags") or []))
        if "groups" in data:
            dataset.themes.set(_themes(data.get("groups") or []))
        audit_record("opendata.dataset_update", actor=by, subject=dataset, request=request,
                     data={"fields": sorted(k for k in data if k in DATASET_FIELDS or k in ("tags", "groups", "name", "owner_org"))})
    return dataset


def delete_dataset(dataset: Dataset, *, by, request=None) -> None:
    require_publisher(by, dataset.organization)
    Dataset.objects.filter(pk=dataset.pk).update(state=Dataset.State.DELETED, metadata_modified=timezone.now())
    audit_record("opendata.dataset_delete", actor=by, subject=dataset, request=request)


def upsert_theme(*, name: str, title: str, description: str = "") -> Theme:
    theme = Theme.objects.filter(name=name).first() or Theme(name=clean_name(name))
    theme.title = _text(title, field="title", label=_("El título"), max_length=200, required=True)
    theme.description = _text(description, field="description", label=_("La descripción"), max_length=2000)
    theme.save()
    return theme


# --- Resources and versions ---------------------------------------------------------------------

def _format_from_filename(filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].upper() if "." in filename else ""
    return {"JSON": "JSON", "GEOJSON": "GEOJSON", "XLSX": "XLSX", "CSV": "CSV", "TSV": "TSV", "TXT": "CSV"}.get(ext, ext[:20])


def create_resource(dataset: Dataset, *, by, data: Mapping[str, Any], upload: IO[bytes] | None = None,
                    filename: str = "", request=None) -> Resource:
    """Adds a resource: a link (`data["url"]`) or an uploaded file (`upload`, read as a stream).
    A tabular upload is loaded into the datastore before the call returns; if it cannot be read
    the whole call fails and nothing is left behind."""
    if by is not None:
        require_publisher(by, dataset.organization)
    name = _text(data.get("name") or filename or data.get("url") or "", field="name", label=_("El nombre"),
                 max_length=300, required=True)
    description = _text(data.get("description", ""), field="description", label=_("La descripción"), max_length=5000)
    url = str(data.get("url") or "")
    if upload is None and not url:
        raise OpendataError(_("Sube un archivo o escribe el enlace del recurso."), field="upload", code="required")
    if upload is None:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            raise OpendataError(_("El enlace no es una dirección web válida."), field="url") from None
    fmt = _text(data.get("format", ""), field="format", label=_("El formato"), max_length=20).upper()
    with transaction.atomic():
        position = (Resource.objects.filter(dataset=dataset).aggregate(m=Max("position"))["m"] or 0) + 1
        resource = Resource.objects.create(
            dataset=dataset, name=name, description=description,
            kind=Resource.Kind.UPLOAD if upload is not None else Resource.Kind.LINK,
            url="" if upload is not None else url, format=fmt or _format_from_filename(filename or url),
            position=position,
        )
        if upload is not None:
            add_version(resource, upload=upload, filename=filename or name, by=by, request=request)
            resource.refresh_from_db()  # add_version worked on its own locked copy
        Dataset.objects.filter(pk=dataset.pk).update(metadata_modified=timezone.now())
        audit_record("opendata.resource_create", actor=by, subject=resource, request=request,
                     data={"dataset": dataset.name, "kind": resource.kind})
    return resource


def add_version(resource: Resource, *, upload: IO[bytes], filename: str, by, request=None) -> ResourceVersion:
    """Stores a new version of an uploaded resource and, when it is tabular, loads it into the
    datastore (typed columns, data dictionary, validation report, rows added/removed against the
    previous version). Atomic: a file that cannot be read raises OpendataError and leaves no
    version, no table and no stored file."""
    from .ingest import ingest_version  # the loader: readers, type inference, datastore tables

    if by is not None:
        require_publisher(by, resource.dataset.organization)
    with transaction.atomic():
        resource = Resource.objects.select_for_update().get(pk=resource.pk)
        number = (resource.versions.aggregate(m=Max("number"))["m"] or 0) + 1
        version = ResourceVersion(resource=resource, number=number, original_filename=filename[:300],
                                  created_by=by if by is not None else None)
        ingest_version(version, upload=upload, filename=filename, previous=resource.current_version)
        resource.current_version = version
        resource.datastore_active = bool(version.table_name)
        resource.kind = Resource.Kind.UPLOAD
        if not resource.format:
            resource.format = _format_from_filename(filename)
        resource.save(update_fields=["current_version", "datastore_active", "kind", "format", "last_modified"])
        now = timezone.now()
        Dataset.objects.filter(pk=resource.dataset_id).update(metadata_modified=now, data_modified=now)
        audit_record("opendata.resource_version", actor=by, subject=resource, request=request,
                     data={"number": number, "rows": version.row_count, "sha256": version.sha256})
    return version


# --- Publishers' API tokens ---------------------------------------------------------------------

def create_token(user, name: str, *, expires: datetime | None = None) -> tuple[ApiToken, str]:
    """Returns the token row and the secret, which is shown once and never stored."""
    if not publishing_departments(user):
        raise NotAuthorized(_("Solo quien publica datos puede crear tokens de API."))
    secret = "vt_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=_text(name, field="name", label=_("El nombre"), max_length=100, required=True),
        token_hash=hashlib.sha256(secret.encode()).hexdigest(), expires=expires,
    )
    audit_record("opendata.token_create", actor=user, subject=token, data={"name": token.name})
    return token, secret


def user_for_token(secret: str | None):
    """The active user behind an API token, or None."""
    if not secret or len(secret) > 200:
        return None
    digest = hashlib.sha256(secret.strip().encode()).hexdigest()
    token = ApiToken.objects.select_related("user").filter(token_hash=digest, revoked__isnull=True).first()
    now = timezone.now()
    if token is None or (token.expires and token.expires <= now) or not token.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used=now)
    return token.user


def revoke_token(token: ApiToken, *, by) -> None:
    if by.pk != token.user_id and not has_role(by, Role.PLATFORM_ADMIN):
        raise NotAuthorized(_("Solo puedes retirar tus propios tokens."))
    ApiToken.objects.filter(pk=token.pk).update(revoked=timezone.now())
    audit_record("opendata.token_revoke", actor=by, subject=token)
