"""The open data portal: datasets of the municipality's departments, their resources (files or
links), every version of each resource, the data dictionary, and the publishers' API tokens.

Tabular resources are loaded into the datastore (`datastore/`): one physical table per resource
version in the platform's own database, with typed columns. CKAN clients see datasets as
"packages", departments as "organizations" and themes as "groups"."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

LICENSES: dict[str, tuple[str, str]] = {
    # id: (title, url). "libre-uso-mx" is the Mexican federal open data licence, the default.
    "libre-uso-mx": ("Términos de Libre Uso MX", "https://www.gob.mx/terminos"),
    "cc-by-4.0": ("Creative Commons Atribución 4.0", "https://creativecommons.org/licenses/by/4.0/"),
    "cc0-1.0": ("Creative Commons CC0 1.0 (dominio público)", "https://creativecommons.org/publicdomain/zero/1.0/"),
    "odc-odbl": ("Open Database License (ODbL)", "https://opendatacommons.org/licenses/odbl/"),
}
DEFAULT_LICENSE = "libre-uso-mx"


class Frequency(models.TextChoices):
    """Declared update frequency, with ISO 8601 durations for DCAT's accrualPeriodicity."""

    DAILY = "diaria", _("Diaria")
    WEEKLY = "semanal", _("Semanal")
    MONTHLY = "mensual", _("Mensual")
    QUARTERLY = "trimestral", _("Trimestral")
    YEARLY = "anual", _("Anual")
    IRREGULAR = "irregular", _("Irregular")
    CONTINUOUS = "continua", _("Continua (en tiempo real)")


class Theme(models.Model):
    """A theme (CKAN "group") cutting across departments: "Movilidad", "Finanzas públicas"…"""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.SlugField(_("clave"), max_length=100, unique=True)
    title = models.CharField(_("nombre"), max_length=200)
    description = models.TextField(_("descripción"), blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("tema")
        verbose_name_plural = _("temas")

    def __str__(self) -> str:
        return self.title


class Tag(models.Model):
    name = models.CharField(_("palabra clave"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("palabra clave")
        verbose_name_plural = _("palabras clave")

    def __str__(self) -> str:
        return self.name


class Dataset(models.Model):
    class State(models.TextChoices):
        ACTIVE = "active", _("Publicado")
        DRAFT = "draft", _("Borrador")
        DELETED = "deleted", _("Eliminado")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.SlugField(_("clave"), max_length=100, unique=True)  # CKAN "name": the URL slug
    title = models.CharField(_("título"), max_length=300)
    notes = models.TextField(_("descripción"), blank=True)
    organization = models.ForeignKey(
        "organization.Department", on_delete=models.PROTECT, related_name="datasets",
        verbose_name=_("dependencia que publica"),
    )
    themes = models.ManyToManyField(Theme, blank=True, related_name="datasets", verbose_name=_("temas"))
    tags = models.ManyToManyField(Tag, blank=True, related_name="datasets", verbose_name=_("palabras clave"))
    license_id = models.CharField(_("licencia"), max_length=40, default=DEFAULT_LICENSE)
    maintainer = models.CharField(_("contacto"), max_length=200, blank=True)
    maintainer_email = models.EmailField(_("correo de contacto"), blank=True)
    temporal_start = models.DateField(_("cobertura temporal: desde"), null=True, blank=True)
    temporal_end = models.DateField(_("cobertura temporal: hasta"), null=True, blank=True)
    spatial = models.CharField(_("cobertura geográfica"), max_length=200, blank=True)
    update_frequency = models.CharField(
        _("frecuencia de actualización"), max_length=12, choices=Frequency.choices, default=Frequency.IRREGULAR
    )
    private = models.BooleanField(_("privado"), default=False)
    state = models.CharField(_("estado"), max_length=10, choices=State.choices, default=State.ACTIVE, db_index=True)
    # Datasets the platform publishes about itself are refreshed by code, not by hand.
    managed_by = models.CharField(_("generado por"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    metadata_created = models.DateTimeField(auto_now_add=True)
    metadata_modified = models.DateTimeField(auto_now=True, db_index=True)
    data_modified = models.DateTimeField(_("datos actualizados"), null=True, blank=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("conjunto de datos")
        verbose_name_plural = _("conjuntos de datos")

    def __str__(self) -> str:
        return self.title


class Resource(models.Model):
    class Kind(models.TextChoices):
        UPLOAD = "upload", _("Archivo")
        LINK = "link", _("Enlace")

    class LinkStatus(models.TextChoices):
        UNCHECKED = "unchecked", _("Sin revisar")
        OK = "ok", _("Funciona")
        BROKEN = "broken", _("Roto")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="resources")
    name = models.CharField(_("nombre"), max_length=300)
    description = models.TextField(_("descripción"), blank=True)
    kind = models.CharField(_("tipo"), max_length=8, choices=Kind.choices, default=Kind.UPLOAD)
    url = models.URLField(_("enlace"), max_length=1000, blank=True)  # only for links
    format = models.CharField(_("formato"), max_length=20, blank=True)  # CSV, XLSX, JSON, GEOJSON, PDF…
    position = models.PositiveSmallIntegerField(default=0)
    current_version = models.ForeignKey(
        "ResourceVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    datastore_active = models.BooleanField(_("consultable"), default=False)
    link_status = models.CharField(max_length=10, choices=LinkStatus.choices, default=LinkStatus.UNCHECKED)
    link_checked_at = models.DateTimeField(null=True, blank=True)
    link_error = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    last_modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["dataset", "position", "created"]
        verbose_name = _("recurso")
        verbose_name_plural = _("recursos")

    def __str__(self) -> str:
        return self.name


class ResourceVersion(models.Model):
    """One upload of a resource. Earlier versions stay downloadable; the datastore table of the
    current version answers queries."""

    class Status(models.TextChoices):
        PENDING = "pending", _("En proceso")
        READY = "ready", _("Lista")
        FAILED = "failed", _("Con errores")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    file = models.FileField(upload_to="opendata/%Y/%m/", max_length=300, blank=True)
    original_filename = models.CharField(max_length=300, blank=True)
    mimetype = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    encoding = models.CharField(max_length=20, blank=True)  # detected: utf-8, latin-1, cp1252
    delimiter = models.CharField(max_length=4, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    # Problems found while loading: [{"row": 12, "column": "monto", "message": "..."}], capped.
    report = models.JSONField(default=list, blank=True)
    table_name = models.CharField(max_length=63, blank=True)  # the datastore table, if tabular
    row_count = models.PositiveBigIntegerField(default=0)
    # The columns with bitmap indexes in `<table>_ix` (datastore/bitmaps.py) and whether other text
    # columns' words carry the free-text mark; None for tables loaded before bitmaps existed.
    bitmaps = models.JSONField(null=True, blank=True, default=None)
    rows_added = models.PositiveBigIntegerField(null=True, blank=True)  # against the previous version
    rows_removed = models.PositiveBigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["resource", "-number"]
        constraints = [models.UniqueConstraint(fields=["resource", "number"], name="resource_version_unique_number")]
        verbose_name = _("versión de recurso")
        verbose_name_plural = _("versiones de recursos")


class DataField(models.Model):
    """The data dictionary of a resource version: one row per column, editable by publishers."""

    class Type(models.TextChoices):
        TEXT = "text", _("Texto")
        INTEGER = "int", _("Entero")
        NUMERIC = "numeric", _("Número decimal")
        DATE = "date", _("Fecha")
        TIMESTAMP = "timestamp", _("Fecha y hora")
        BOOLEAN = "bool", _("Verdadero/falso")

    version = models.ForeignKey(ResourceVersion, on_delete=models.CASCADE, related_name="fields")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(_("columna"), max_length=63)  # column id in the datastore table
    source_name = models.CharField(_("encabezado original"), max_length=300, blank=True)
    type = models.CharField(_("tipo"), max_length=10, choices=Type.choices, default=Type.TEXT)
    label = models.CharField(_("etiqueta"), max_length=200, blank=True)
    description = models.TextField(_("descripción"), blank=True)
    unit = models.CharField(_("unidad"), max_length=50, blank=True)

    class Meta:
        ordering = ["version", "position"]
        constraints = [models.UniqueConstraint(fields=["version", "name"], name="datafield_unique_name")]
        verbose_name = _("campo del diccionario de datos")
        verbose_name_plural = _("diccionario de datos")


class ApiToken(models.Model):
    """A publisher's token for the CKAN write actions (`Authorization: <token>`). Only its
    SHA-256 is stored; the token itself is shown once when created."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="opendata_tokens")
    name = models.CharField(_("nombre"), max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)
    expires = models.DateTimeField(null=True, blank=True)
    revoked = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("token de API")
        verbose_name_plural = _("tokens de API")
