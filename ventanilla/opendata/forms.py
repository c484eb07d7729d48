"""Forms of the open data pages and the publishers' back office. They only shape input; the rules
(who may publish, valid licences, names, dates…) live in services.py and dictionary.py."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import LICENSES, DataField, Dataset, Frequency
from .services import MAX_UPLOAD_BYTES

UPLOAD_EXTENSIONS = ("csv", "tsv", "txt", "xlsx", "json", "geojson", "pdf", "zip", "xml", "kml")


def _human_size(n: int) -> str:
    return f"{n / (1024 * 1024 * 1024):.0f} GB" if n >= 1024 ** 3 else f"{n / (1024 * 1024):.0f} MB"


def check_upload(upload) -> None:
    """Refuses files that are empty, too large or of a kind the portal does not publish."""
    if upload is None:
        return
    name = (upload.name or "").lower()
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    if ext not in UPLOAD_EXTENSIONS:
        raise forms.ValidationError(
            _("Ese tipo de archivo no se puede publicar. Sube un archivo %(types)s.")
            % {"types": ", ".join(e.upper() for e in UPLOAD_EXTENSIONS)}
        )
    if upload.size == 0:
        raise forms.ValidationError(_("El archivo está vacío."))
    if upload.size > MAX_UPLOAD_BYTES:
        raise forms.ValidationError(
            _("El archivo pesa más de %(max)s, el máximo que se puede subir.") % {"max": _human_size(MAX_UPLOAD_BYTES)}
        )


class DatasetForm(forms.Form):
    title = forms.CharField(label=_("Título"), max_length=300,
                            help_text=_("Qué datos son, en pocas palabras. Por ejemplo: Luminarias del alumbrado público."))
    name = forms.CharField(label=_("Clave en la dirección web"), max_length=100, required=False,
                           help_text=_("Minúsculas, números y guiones. Si la dejas vacía se forma con el título."))
    owner_org = forms.ChoiceField(label=_("Dependencia que publica"))
    notes = forms.CharField(label=_("Descripción"), required=False, max_length=20_000,
                            widget=forms.Textarea(attrs={"rows": 5}),
                            help_text=_("Qué contiene, de dónde salen los datos y para qué sirven."))
    groups = forms.MultipleChoiceField(label=_("Temas"), required=False, widget=forms.CheckboxSelectMultiple)
    tags = forms.CharField(label=_("Palabras clave"), required=False, max_length=3000,
                           help_text=_("Separadas por comas. Por ejemplo: alumbrado, luminarias, servicios públicos."))
    license_id = forms.ChoiceField(label=_("Licencia"), choices=[(k, v[0]) for k, v in LICENSES.items()])
    maintainer = forms.CharField(label=_("Contacto"), max_length=200, required=False,
                                 help_text=_("Área o persona que responde dudas sobre los datos."))
    maintainer_email = forms.EmailField(label=_("Correo de contacto"), required=False)
    temporal_start = forms.DateField(label=_("Cobertura temporal: desde"), required=False,
                                     help_text=_("AAAA-MM-DD"), widget=forms.DateInput(attrs={"type": "date"}))
    temporal_end = forms.DateField(label=_("Cobertura temporal: hasta"), required=False,
                                   help_text=_("AAAA-MM-DD"), widget=forms.DateInput(attrs={"type": "date"}))
    spatial = forms.CharField(label=_("Cobertura geográfica"), max_length=200, required=False,
                              help_text=_("Por ejemplo: Municipio de Torreón."))
    update_frequency = forms.ChoiceField(label=_("Frecuencia de actualización"), choices=Frequency.choices)
    state = forms.ChoiceField(label=_("Estado"), choices=[(Dataset.State.ACTIVE, _("Publicado")),
                                                          (Dataset.State.DRAFT, _("Borrador (no se muestra al público)"))])
    private = forms.BooleanField(label=_("Privado: solo lo ven quienes publican en la dependencia"), required=False)

    def __init__(self, *args, departments=(), themes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_org"].choices = [(d.slug, d.name) for d in departments]
        self.fields["groups"].choices = [(t.name, t.title) for t in themes]

    @classmethod
    def initial_for(cls, dataset: Dataset) -> dict:
        return {
            "title": dataset.title, "name": dataset.name, "owner_org": dataset.organization.slug,
            "notes": dataset.notes, "groups": [t.name for t in dataset.themes.all()],
            "tags": ", ".join(t.name for t in dataset.tags.all()), "license_id": dataset.license_id,
            "maintainer": dataset.maintainer, "maintainer_email": dataset.maintainer_email,
            "temporal_start": dataset.temporal_start, "temporal_end": dataset.temporal_end,
            "spatial": dataset.spatial, "update_frequency": dataset.update_frequency,
            "state": dataset.state if dataset.state != Dataset.State.DELETED else Dataset.State.DRAFT,
            "private": dataset.private,
        }

    def service_data(self) -> dict:
        d = self.cleaned_data
        data = {k: d[k] for k in ("title", "owner_org", "notes", "license_id", "maintainer", "maintainer_email",
                                  "temporal_start", "temporal_end", "spatial", "update_frequency", "state", "private")}
        data["groups"] = list(d["groups"])
        data["tags"] = [t.strip() for t in d["tags"].split(",") if t.strip()]
        if d["name"].strip():
            data["name"] = d["name"].strip()
        return data


class ResourceForm(forms.Form):
    name = forms.CharField(label=_("Nombre"), max_length=300, required=False,
                           help_text=_("Si lo dejas vacío se usa el nombre del archivo."))
    description = forms.CharField(label=_("Descripción"), max_length=5000, required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    upload = forms.FileField(label=_("Archivo"), required=False,
                             help_text=_("CSV, XLSX, JSON o GeoJSON se cargan para consultarse y graficarse; también PDF o ZIP."))
    url = forms.URLField(label=_("O un enlace"), required=False, max_length=1000, assume_scheme="https",
                         help_text=_("Si los datos están en otro sitio, la dirección completa (https://…)."))
    format = forms.CharField(label=_("Formato"), max_length=20, required=False,
                             help_text=_("Por ejemplo CSV. Si lo dejas vacío se toma de la extensión."))

    def clean_upload(self):
        upload = self.cleaned_data.get("upload")
        check_upload(upload)
        return upload

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            if cleaned.get("upload") and cleaned.get("url"):
                raise forms.ValidationError(_("Sube un archivo o escribe un enlace, no los dos."))
            if not cleaned.get("upload") and not cleaned.get("url"):
                raise forms.ValidationError(_("Sube un archivo o escribe el enlace del recurso."))
        return cleaned


class VersionForm(forms.Form):
    upload = forms.FileField(label=_("Archivo con los datos nuevos"),
                             help_text=_("La versión anterior se conserva y se puede seguir descargando."))

    def clean_upload(self):
        upload = self.cleaned_data.get("upload")
        check_upload(upload)
        return upload


class DataFieldForm(forms.Form):
    label = forms.CharField(label=_("Etiqueta"), max_length=200, required=False)
    description = forms.CharField(label=_("Descripción"), max_length=5000, required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    type = forms.ChoiceField(label=_("Tipo"), choices=DataField.Type.choices)
    unit = forms.CharField(label=_("Unidad"), max_length=50, required=False,
                           help_text=_("Por ejemplo: pesos, metros, kWh."))


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Nombre del token"), max_length=100,
                           help_text=_("Para recordar dónde lo usas. Por ejemplo: carga nocturna de luminarias."))
