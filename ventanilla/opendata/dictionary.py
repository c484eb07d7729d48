"""The data dictionary: publishers describe each column of a resource (label, description, type,
unit). The column's name in the datastore never changes here; a type change applies to how the
column is described (the next upload is loaded with it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from ventanilla.audit.services import record as audit_record

from .models import DataField
from .services import OpendataError, require_publisher
from .services import _text as _clean_text  # the same text rules as every other field

LIMITS = {"label": 200, "description": 5000, "unit": 50}


def update_data_field(field: DataField, *, by, data: Mapping[str, Any], request=None) -> DataField:
    """Changes the label, description, type and/or unit of one column (only the keys present in
    `data`). Only publishers of the dataset's department may do it."""
    dataset = field.version.resource.dataset
    if by is not None:
        require_publisher(by, dataset.organization)
    labels = {"label": _("La etiqueta"), "description": _("La descripción"), "unit": _("La unidad")}
    changes: dict[str, Any] = {}
    for key, max_length in LIMITS.items():
        if key in data:
            changes[key] = _clean_text(data[key], field=key, label=labels[key], max_length=max_length)
    if "type" in data:
        if data["type"] not in DataField.Type.values:
            raise OpendataError(
                _("El tipo debe ser uno de: %s.") % ", ".join(str(label) for label in DataField.Type.labels),
                field="type",
            )
        changes["type"] = data["type"]
    with transaction.atomic():
        changed = [k for k, v in changes.items() if getattr(field, k) != v]
        for key, value in changes.items():
            setattr(field, key, value)
        if changed:
            field.save(update_fields=changed)
            audit_record("opendata.data_field_update", actor=by, subject=dataset, request=request,
                         data={"resource": str(field.version.resource_id), "column": field.name, "fields": changed})
    return field
