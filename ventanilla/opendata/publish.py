"""The platform publishes its own data: any module turns a table it computes into an open dataset
with `publish_table()`, and registers a callable with `register_publication()` so that the
scheduled `manage.py opendata_refresh` keeps it current.

The table is written as CSV and loaded through `services.create_resource` / `add_version`, the
same ingestion every upload goes through. A new version is made only when the CSV's bytes
changed (same SHA-256 → nothing happens), so refreshing often costs nothing and the version
history shows real changes only."""

from __future__ import annotations

import csv
import hashlib
import io
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from ventanilla.organization import selectors as org_selectors

from . import services
from .models import Dataset, Frequency, Resource, Theme

FieldSpec = tuple[str, str, str, str]  # (column id, type, label, unit)
RESOURCE_NAME = "Datos (CSV)"

_PUBLICATIONS: dict[str, Callable[[], Dataset]] = {}


def register_publication(name: str, publisher: Callable[[], Dataset]) -> None:
    """Adds (or replaces) a publication that `opendata_refresh` runs."""
    _PUBLICATIONS[name] = publisher


def publications() -> dict[str, Callable[[], Dataset]]:
    return dict(_PUBLICATIONS)


def refresh_all(names: Iterable[str] | None = None) -> dict[str, Dataset | Exception]:
    """Runs every registered publication (or the ones named); one failing does not stop the rest."""
    results: dict[str, Dataset | Exception] = {}
    for name, publisher in sorted(_PUBLICATIONS.items()):
        if names is not None and name not in names:
            continue
        try:
            results[name] = publisher()
        except Exception as exc:  # reported by the command; the others still run
            results[name] = exc
    return results


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def write_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]):
    """Writes the rows as UTF-8 CSV into a temporary file (kept in memory while small). Returns the
    file, rewound, and its SHA-256."""
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    text.flush()
    text.detach()
    digest = hashlib.sha256()
    out.seek(0)
    for chunk in iter(lambda: out.read(1024 * 1024), b""):
        digest.update(chunk)
    out.seek(0)
    return out, digest.hexdigest()


def _ensure_themes(names: Iterable[str | tuple[str, str]]) -> list[str]:
    keys = []
    for item in names:
        key, title = item if isinstance(item, tuple) else (item, item.replace("-", " ").capitalize())
        if not Theme.objects.filter(name=key).exists():
            services.upsert_theme(name=key, title=title)
        keys.append(key)
    return keys


def publish_table(
    *,
    name: str,
    title: str,
    description: str,
    organization_slug: str,
    rows: Iterable[Mapping[str, Any]],
    fields: Sequence[FieldSpec],
    frequency: str,
    themes: Iterable[str | tuple[str, str]] = (),
    tags: Iterable[str] = (),
    temporal_start: date | None = None,
    temporal_end: date | None = None,
    spatial: str = "",
) -> Dataset:
    """Creates or updates the managed dataset `name` with one CSV resource holding `rows` (the
    columns of `fields`, in order). A new resource version is loaded only if the CSV changed.
    Refuses to overwrite a dataset somebody created by hand."""
    if frequency not in Frequency.values:
        raise services.OpendataError(_("La frecuencia debe ser una de: %s.") % ", ".join(Frequency.values),
                                     field="update_frequency")
    department = org_selectors.department_by_slug(organization_slug)
    if department is None:
        raise services.OpendataError(_("No existe esa dependencia."), field="owner_org", code="not_found", status=404)
    columns = [spec[0] for spec in fields]
    if not columns or len(set(columns)) != len(columns):
        raise services.OpendataError(_("Las columnas deben existir y no repetirse."), field="fields")
    data: dict[str, Any] = {
        "title": title, "notes": description, "owner_org": department, "update_frequency": frequency,
        "tags": list(tags), "groups": _ensure_themes(themes), "spatial": spatial,
        "temporal_start": temporal_start, "temporal_end": temporal_end,
        "maintainer": department.name, "maintainer_email": department.email or "",
    }
    upload, sha256 = write_csv(rows, columns)
    try:
        with transaction.atomic():
            dataset = Dataset.objects.filter(name=name).first()
            if dataset is None:
                dataset = services.create_dataset(by=None, data={**data, "name": name}, managed_by=name)
            elif dataset.managed_by != name:
                raise services.OpendataError(
                    _("Ya existe un conjunto de datos «%s» que no genera la plataforma.") % name,
                    field="name", code="duplicate", status=409)
            else:
                if dataset.state == Dataset.State.DELETED:
                    Dataset.objects.filter(pk=dataset.pk).update(state=Dataset.State.ACTIVE)
                dataset = services.update_dataset(dataset, by=None, data=data)
            resource = (Resource.objects.filter(dataset=dataset, kind=Resource.Kind.UPLOAD)
                        .select_related("current_version").order_by("position").first())
            filename = f"{name}.csv"
            if resource is None:
                resource = services.create_resource(dataset, by=None, data={"name": RESOURCE_NAME, "format": "CSV"},
                                                    upload=upload, filename=filename)
            elif resource.current_version is None or resource.current_version.sha256 != sha256:
                services.add_version(resource, upload=upload, filename=filename, by=None)
            describe_columns(resource, fields)
    finally:
        upload.close()
    dataset.refresh_from_db()
    return dataset


def describe_columns(resource: Resource, fields: Sequence[FieldSpec]) -> None:
    """Copies labels and units into the data dictionary of the current version."""
    from .dictionary import update_data_field

    resource.refresh_from_db(fields=["current_version"])
    version = resource.current_version
    if version is None:
        return
    by_source = {spec[0]: spec for spec in fields}
    for field in version.fields.all():
        spec = by_source.get(field.source_name) or by_source.get(field.name)
        if spec is None:
            continue
        _id, _type, label, unit = spec
        if field.label != label or field.unit != unit:
            update_data_field(field, by=None, data={"label": label, "unit": unit})


# --- The platform's own publications ----------------------------------------------------------

PROCEDURES_ORG_SETTING = "OPENDATA_SELF_PUBLISHER"


def _self_publisher_slug() -> str:
    """The department that publishes the platform's own data: settings.OPENDATA_SELF_PUBLISHER,
    else the first department holding published procedures."""
    from django.conf import settings

    from ventanilla.catalog import selectors as catalog_selectors

    slug = getattr(settings, PROCEDURES_ORG_SETTING, "")
    if slug and org_selectors.department_by_slug(slug):
        return slug
    first = catalog_selectors.published_procedures().order_by("department__name").first()
    if first is None:
        raise services.OpendataError(_("No hay trámites publicados que publicar."), code="empty")
    return first.department.slug




def publish_procedure_catalogue() -> Dataset:
    from ventanilla.catalog import selectors as catalog_selectors

    def rows():
        for p in catalog_selectors.published_procedures():
            yield {
                "clave": p.clave, "nombre": p.name, "tipo": p.get_kind_display(),
                "dependencia": p.department.name,
                "en_linea": p.channel_online, "presencial": p.channel_in_person, "kiosco": p.channel_kiosk,
                "costo": p.get_cost_kind_display(),
                "monto_pesos": (Decimal(p.cost_amount_centavos) / 100) if p.cost_amount_centavos is not None else None,
                "plazo_dias_habiles": p.response_days,
                "ficta": p.get_ficta_display() if p.ficta else "",
                "vigencia": p.validity,
            }

    return publish_table(
        name="catalogo-de-tramites",
        title="Catálogo de trámites y servicios",
        description=("Todos los trámites y servicios publicados en la ventanilla digital: clave, nombre, "
                     "dependencia responsable, canales en que se pueden hacer, costo, plazo de respuesta "
                     "en días hábiles y si aplica afirmativa o negativa ficta. Se genera automáticamente "
                     "del catálogo oficial."),
        organization_slug=_self_publisher_slug(),
        rows=rows(),
        fields=[
            ("clave", "text", "Clave", ""), ("nombre", "text", "Nombre", ""), ("tipo", "text", "Tipo", ""),
            ("dependencia", "text", "Dependencia", ""), ("en_linea", "bool", "En línea", ""),
            ("presencial", "bool", "Presencial", ""), ("kiosco", "bool", "En kiosco", ""),
            ("costo", "text", "Costo", ""), ("monto_pesos", "numeric", "Monto", "pesos"),
            ("plazo_dias_habiles", "int", "Plazo de respuesta", "días hábiles"),
            ("ficta", "text", "Ficta", ""), ("vigencia", "text", "Vigencia", ""),
        ],
        frequency=Frequency.DAILY,
        themes=[("gobierno-digital", "Gobierno digital")],
        tags=["trámites", "servicios", "catálogo"],
    )


def publish_procedure_statistics() -> Dataset:
    from django.utils import timezone

    from ventanilla.catalog import selectors as catalog_selectors

    today = timezone.localdate()
    last_month_end = today.replace(day=1) - timedelta(days=1)
    usage = catalog_selectors.monthly_usage(until=last_month_end)  # whole months only

    def rows():
        for u in usage:
            yield {"mes": u.month, "clave": u.clave, "tramite": u.name, "dependencia": u.department,
                   "canal": "en línea", "consultas": u.views, "solicitudes_iniciadas": u.starts}

    start = date.fromisoformat(usage[0].month + "-01") if usage else None
    return publish_table(
        name="estadisticas-mensuales-de-tramites",
        title="Estadísticas mensuales de trámites por canal",
        description=("Consultas de la ficha y solicitudes iniciadas de cada trámite, por mes y por canal. "
                     "Hoy el portal mide el canal en línea; los canales presencial y de kiosco se añadirán "
                     "cuando la plataforma registre esas atenciones. Solo meses completos."),
        organization_slug=_self_publisher_slug(),
        rows=rows(),
        fields=[
            ("mes", "text", "Mes (AAAA-MM)", ""), ("clave", "text", "Clave del trámite", ""),
            ("tramite", "text", "Trámite", ""), ("dependencia", "text", "Dependencia", ""),
            ("canal", "text", "Canal", ""), ("consultas", "int", "Consultas de la ficha", "consultas"),
            ("solicitudes_iniciadas", "int", "Solicitudes iniciadas", "solicitudes"),
        ],
        frequency=Frequency.MONTHLY,
        themes=[("gobierno-digital", "Gobierno digital")],
        tags=["trámites", "estadísticas", "uso"],
        temporal_start=start,
        temporal_end=last_month_end if usage else None,
    )


register_publication("catalogo-de-tramites", publish_procedure_catalogue)
register_publication("estadisticas-mensuales-de-tramites", publish_procedure_statistics)
