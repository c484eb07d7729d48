"""Every change to the catalogue goes through these functions: they validate, keep the version
history, run the legal completeness check before publishing, write the audit log and bump the
catalogue revision that keeps every worker's search index fresh."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from ventanilla.audit.services import record as audit_record
from ventanilla.organization import selectors as org_selectors
from ventanilla.organization.models import Department, Office

from . import fees
from .fees import FormulaError
from .models import (
    CatalogRevision,
    DocumentType,
    LifeEvent,
    Procedure,
    ProcedureDailyUsage,
    ProcedureVersion,
    Requirement,
    SearchSynonym,
)

__all__ = [
    "FormulaError", "ProcedureIncomplete", "bump_revision", "compute_fee", "create_procedure",
    "current_revision", "delete_synonym", "missing_required_fields", "publish", "record_start",
    "record_view", "restore_version", "save_synonym", "snapshot", "update_procedure",
    "upsert_document_type", "upsert_life_event", "withdraw",
]

CLAVE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,39}$")
MAX_LIST_ITEMS = 60
MAX_ITEM_LENGTH = 1000

# Scalar fields copied into each version snapshot and editable through create/update.
SCALAR_FIELDS: tuple[str, ...] = (
    "clave", "name", "kind", "modality", "channel_online", "channel_in_person", "channel_kiosk",
    "presentation", "legal_basis", "description", "who_may_file", "steps", "has_inspection",
    "inspection_objective", "cost_kind", "cost_amount_centavos", "cost_description",
    "cost_parameters", "cost_formula", "payment_alternatives", "response_days", "ficta",
    "prevention_days", "correction_days", "validity", "resolution_criteria", "contact_phone",
    "contact_email", "complaint_channels", "requires_appointment", "keywords",
)
LIST_FIELDS = ("steps", "keywords", "payment_alternatives")
NO_ANGLE_BRACKETS = ("clave", "name", "modality", "validity", "contact_phone")


class ProcedureIncomplete(ValidationError):
    """Publishing was refused; `missing` holds the Spanish labels of the fields still empty."""

    def __init__(self, missing: list[str]):
        self.missing = missing
        super().__init__(
            [ValidationError(_("Falta: %(field)s") % {"field": label}, code="missing") for label in missing]
        )


# --- Revision counter --------------------------------------------------------------------------


def current_revision() -> tuple[int, str]:
    row = CatalogRevision.objects.filter(pk=1).values_list("number", "token").first()
    return (row[0], str(row[1])) if row else (0, "")


def bump_revision() -> None:
    """Tells every worker that search results may have changed."""
    updated = CatalogRevision.objects.filter(pk=1).update(number=F("number") + 1, token=uuid.uuid4(),
                                                          changed_at=timezone.now())
    if not updated:
        try:
            with transaction.atomic():
                CatalogRevision.objects.create(pk=1, number=1)
        except IntegrityError:
            CatalogRevision.objects.filter(pk=1).update(number=F("number") + 1, token=uuid.uuid4())


# --- Reference data ----------------------------------------------------------------------------


def upsert_life_event(*, slug: str, name: str, description: str = "", order: int = 0) -> LifeEvent:
    event, _created = LifeEvent.objects.update_or_create(
        slug=slug, defaults={"name": name, "description": description, "order": order}
    )
    event.full_clean()
    return event


def upsert_document_type(
    *, code: str, name: str, description: str = "", held_by_city: bool = False, issuer: str = ""
) -> DocumentType:
    doc, _created = DocumentType.objects.update_or_create(
        code=code,
        defaults={"name": name, "description": description, "held_by_city": held_by_city, "issuer": issuer},
    )
    return doc


# --- Validation --------------------------------------------------------------------------------


def _clean_list(value: Any, label: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [line for line in value.splitlines()]
    if not isinstance(value, (list, tuple)):
        raise ValidationError(_("«%(label)s» debe ser una lista.") % {"label": label})
    items = [str(v).strip() for v in value if str(v).strip()]
    if len(items) > MAX_LIST_ITEMS:
        raise ValidationError(_("«%(label)s» tiene demasiados elementos.") % {"label": label})
    if any(len(item) > MAX_ITEM_LENGTH for item in items):
        raise ValidationError(_("Un elemento de «%(label)s» es demasiado largo.") % {"label": label})
    return items


def _validate(procedure: Procedure) -> None:
    """Shape checks that apply to drafts too (completeness is `missing_required_fields`)."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    procedure.clave = (procedure.clave or "").strip().upper()
    procedure.name = (procedure.name or "").strip()
    if not CLAVE_RE.match(procedure.clave):
        add("clave", _("La clave solo puede tener letras mayúsculas, números y guiones (por ejemplo TOR-DGDE-001)."))
    for field in NO_ANGLE_BRACKETS:
        if any(c in (getattr(procedure, field) or "") for c in "<>"):
            add(field, _("No puede contener los signos «<» ni «>»."))
    for field in LIST_FIELDS:
        label = str(Procedure._meta.get_field(field).verbose_name)
        try:
            setattr(procedure, field, _clean_list(getattr(procedure, field), label))
        except ValidationError as exc:
            add(field, exc.messages[0])
    if any(c in kw for kw in procedure.keywords or [] for c in "<>"):
        add("keywords", _("No puede contener los signos «<» ni «>»."))
    valid_payments = set(Procedure.Payment.values)
    if any(p not in valid_payments for p in procedure.payment_alternatives or []):
        add("payment_alternatives", _("Hay una forma de pago que no existe."))
    procedure.payment_alternatives = list(dict.fromkeys(procedure.payment_alternatives or []))
    if procedure.contact_email:
        try:
            validate_email(procedure.contact_email)
        except ValidationError:
            add("contact_email", _("Escribe un correo válido, como nombre@torreon.gob.mx."))
    if procedure.cost_kind == Procedure.CostKind.RULE:
        try:
            procedure.cost_parameters = fees.validate_parameters(procedure.cost_parameters or [])
        except FormulaError as exc:
            add("cost_parameters", str(exc))
        else:
            if procedure.cost_formula:
                try:
                    fees.validate_formula(procedure.cost_formula, [p["name"] for p in procedure.cost_parameters])
                except FormulaError as exc:
                    add("cost_formula", str(exc))
    if procedure.cost_kind == Procedure.CostKind.FREE:
        procedure.cost_amount_centavos = None
        procedure.payment_alternatives = []
    if errors:
        raise ValidationError(errors)
    try:
        procedure.full_clean(exclude=["department"] if procedure.department_id else None,
                             validate_unique=True)
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None


def missing_required_fields(procedure: Procedure) -> list[str]:
    """Spanish labels of every field the law requires that is still empty. An empty list means
    the procedure may be published."""
    p = procedure
    missing: list[str] = []

    def need(condition: bool, label: str) -> None:
        if not condition:
            missing.append(label)

    need(bool(p.name.strip()), _("Nombre"))
    need(bool(p.clave.strip()), _("Clave"))
    need(bool(p.modality.strip()), _("Modalidad"))
    need(p.channel_online or p.channel_in_person or p.channel_kiosk,
         _("Canales de atención (al menos uno: en línea, presencial o kiosco)"))
    need(bool(p.presentation), _("Forma de presentación"))
    need(bool(p.legal_basis.strip()), _("Fundamento jurídico"))
    need(bool(p.description.strip()), _("Descripción en lenguaje claro"))
    need(bool(p.who_may_file.strip()), _("Quién puede solicitarlo"))
    need(bool(p.steps), _("Pasos a seguir"))
    if p.pk:
        need(p.requirements.exists(), _("Requisitos (al menos uno)"))
        if p.channel_in_person:
            need(p.offices.exists(), _("Oficinas de atención (al menos una, porque se atiende en persona)"))
    else:
        need(False, _("Requisitos (al menos uno)"))
        if p.channel_in_person:
            need(False, _("Oficinas de atención (al menos una, porque se atiende en persona)"))
    if p.has_inspection:
        need(bool(p.inspection_objective.strip()), _("Objetivo de la inspección"))
    if p.cost_kind == Procedure.CostKind.FIXED:
        need(bool(p.cost_amount_centavos and p.cost_amount_centavos > 0), _("Monto del costo (mayor que cero)"))
    if p.cost_kind == Procedure.CostKind.RULE:
        need(bool(p.cost_description.strip()), _("Descripción de cómo se calcula el costo"))
        try:
            params = fees.validate_parameters(p.cost_parameters or [])
            fees.validate_formula(p.cost_formula, [x["name"] for x in params])
            ok = True
        except FormulaError:
            ok = False
        need(ok, _("Fórmula válida para calcular el costo"))
    if p.cost_kind != Procedure.CostKind.FREE:
        need(bool(p.payment_alternatives), _("Formas de pago"))
    need(p.response_days is not None, _("Plazo de respuesta"))
    need(bool(p.ficta), _("Afirmativa o negativa ficta"))
    need(p.prevention_days is not None, _("Plazo para prevenir al solicitante"))
    need(p.correction_days is not None, _("Plazo para cumplir la prevención"))
    need(bool(p.validity.strip()), _("Vigencia"))
    need(bool(p.resolution_criteria.strip()), _("Criterios de resolución"))
    need(bool(p.contact_phone.strip() or p.contact_email.strip()), _("Datos de contacto (teléfono o correo)"))
    need(bool(p.complaint_channels.strip()), _("Medios para quejas y denuncias"))
    need(bool(p.department_id), _("Dependencia responsable"))
    return missing


# --- Snapshots and versions --------------------------------------------------------------------


def snapshot(procedure: Procedure) -> dict[str, Any]:
    """Everything about a procedure as plain JSON: fields, department, offices, life events and
    requirements. Used for versions, diffs and restores."""
    data: dict[str, Any] = {field: getattr(procedure, field) for field in SCALAR_FIELDS}
    data["department"] = procedure.department.slug if procedure.department_id else None
    data["status"] = procedure.status
    data["offices"] = [
        {"id": o.pk, "name": o.name}
        for o in procedure.offices.order_by("name", "pk")
    ]
    data["life_events"] = sorted(procedure.life_events.values_list("slug", flat=True))
    data["requirements"] = [
        {
            "document_type": r.document_type.code,
            "detail": r.detail,
            "original": r.original,
            "copies": r.copies,
            "legal_basis": r.legal_basis,
        }
        for r in procedure.requirements.select_related("document_type").order_by("order", "pk")
    ]
    return data


def _record_version(procedure: Procedure, by, note: str) -> ProcedureVersion:
    last = procedure.versions.aggregate(n=Max("number"))["n"] or 0
    return ProcedureVersion.objects.create(
        procedure=procedure, number=last + 1, snapshot=snapshot(procedure),
        author=by if getattr(by, "is_authenticated", False) else None, note=(note or "")[:300],
    )


def _set_requirements(procedure: Procedure, requirements: Sequence[Mapping[str, Any]]) -> None:
    if len(requirements) > MAX_LIST_ITEMS:
        raise ValidationError({"requirements": [_("Hay demasiados requisitos.")]})
    rows = []
    for index, item in enumerate(requirements):
        doc = item.get("document_type")
        if not isinstance(doc, DocumentType):
            doc = DocumentType.objects.filter(code=str(doc)).first()
            if doc is None:
                raise ValidationError(
                    {"requirements": [_("El documento «%(code)s» no existe en el catálogo.")
                                      % {"code": str(item.get("document_type"))[:40]}]}
                )
        copies = item.get("copies", 0) or 0
        if not isinstance(copies, int) or isinstance(copies, bool) or not 0 <= copies <= 20:
            raise ValidationError({"requirements": [_("El número de copias debe estar entre 0 y 20.")]})
        rows.append(Requirement(
            procedure=procedure, document_type=doc, detail=str(item.get("detail", "") or "")[:2000],
            original=bool(item.get("original", True)), copies=copies,
            legal_basis=str(item.get("legal_basis", "") or "")[:2000], order=index,
        ))
    procedure.requirements.all().delete()
    Requirement.objects.bulk_create(rows)


def _set_offices(procedure: Procedure, offices: Iterable[Office | int]) -> None:
    ids = [o.pk if isinstance(o, Office) else int(o) for o in offices]
    found = list(org_selectors.offices_by_ids(ids))
    if len(found) != len(set(ids)):
        raise ValidationError({"offices": [_("Una de las oficinas no existe.")]})
    procedure.offices.set(found)


def _set_life_events(procedure: Procedure, events: Iterable[LifeEvent | str]) -> None:
    slugs = [e.slug if isinstance(e, LifeEvent) else str(e) for e in events]
    found = list(LifeEvent.objects.filter(slug__in=slugs))
    if len(found) != len(set(slugs)):
        raise ValidationError({"life_events": [_("Uno de los momentos de vida no existe.")]})
    procedure.life_events.set(found)


def _apply(
    procedure: Procedure,
    data: Mapping[str, Any],
    *,
    requirements: Sequence[Mapping[str, Any]] | None,
    offices: Iterable[Office | int] | None,
    life_events: Iterable[LifeEvent | str] | None,
) -> None:
    unknown = set(data) - set(SCALAR_FIELDS) - {"department"}
    if unknown:
        raise ValueError(f"unknown procedure fields: {sorted(unknown)}")
    for field, value in data.items():
        if field == "department":
            if isinstance(value, str):
                value = org_selectors.department_by_slug(value)
                if value is None:
                    raise ValidationError({"department": [_("La dependencia no existe.")]})
            procedure.department = value
        else:
            setattr(procedure, field, value)
    if not procedure.department_id:
        raise ValidationError({"department": [_("Indica la dependencia responsable.")]})
    _validate(procedure)
    procedure.save()
    if requirements is not None:
        _set_requirements(procedure, requirements)
    if offices is not None:
        _set_offices(procedure, offices)
    if life_events is not None:
        _set_life_events(procedure, life_events)
    if procedure.channel_in_person or offices is not None:
        foreign = procedure.offices.exclude(department_id=procedure.department_id)
        if foreign.exists():
            raise ValidationError({"offices": [_("Las oficinas deben ser de la dependencia responsable.")]})


def create_procedure(
    *,
    by,
    data: Mapping[str, Any],
    requirements: Sequence[Mapping[str, Any]] | None = None,
    offices: Iterable[Office | int] | None = None,
    life_events: Iterable[LifeEvent | str] | None = None,
    note: str = "",
) -> Procedure:
    """Creates a draft procedure and its first version. `data` holds any of SCALAR_FIELDS and
    `department` (instance or slug). Raises ValidationError (Spanish messages by field)."""
    with transaction.atomic():
        procedure = Procedure(status=Procedure.Status.DRAFT)
        _apply(procedure, data, requirements=requirements or [], offices=offices or [],
               life_events=life_events or [])
        _record_version(procedure, by, note or _("Creado"))
    return procedure


def update_procedure(
    procedure: Procedure,
    *,
    by,
    data: Mapping[str, Any] | None = None,
    requirements: Sequence[Mapping[str, Any]] | None = None,
    offices: Iterable[Office | int] | None = None,
    life_events: Iterable[LifeEvent | str] | None = None,
    note: str = "",
) -> Procedure:
    """Changes a procedure and records a new version. A published procedure must stay complete:
    a change that would leave a legally required field empty raises ProcedureIncomplete."""
    with transaction.atomic():
        locked = Procedure.objects.select_for_update().get(pk=procedure.pk)
        # Work on the caller's instance so it reflects the change, but start from the DB state.
        for field in SCALAR_FIELDS + ("department_id", "status", "published_at"):
            setattr(procedure, field, getattr(locked, field))
        _apply(procedure, data or {}, requirements=requirements, offices=offices, life_events=life_events)
        if procedure.is_published:
            missing = missing_required_fields(procedure)
            if missing:
                raise ProcedureIncomplete(missing)
            bump_revision()
        _record_version(procedure, by, note or _("Editado"))
    return procedure


def publish(procedure: Procedure, by, *, request=None) -> Procedure:
    """Publishes the procedure after the legal completeness check. Raises ProcedureIncomplete
    (a ValidationError whose messages name every missing field)."""
    with transaction.atomic():
        procedure = Procedure.objects.select_for_update().get(pk=procedure.pk)
        missing = missing_required_fields(procedure)
        if missing:
            raise ProcedureIncomplete(missing)
        procedure.status = Procedure.Status.PUBLISHED
        procedure.published_at = timezone.now()
        procedure.withdrawn_at = None
        procedure.withdrawal_reason = ""
        procedure.save(update_fields=["status", "published_at", "withdrawn_at", "withdrawal_reason", "updated_at"])
        _record_version(procedure, by, _("Publicado"))
        bump_revision()
        audit_record("catalog.publish", actor=by, subject=procedure, data={"clave": procedure.clave},
                     request=request)
    return procedure


def withdraw(procedure: Procedure, by, reason: str, *, request=None) -> Procedure:
    """Takes a published procedure off the public catalogue, with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Escribe el motivo del retiro.")]})
    if len(reason) > 1000:
        raise ValidationError({"reason": [_("El motivo es demasiado largo (máximo 1000 caracteres).")]})
    if any(c in reason for c in "<>"):
        raise ValidationError({"reason": [_("No puede contener los signos «<» ni «>».")]})
    with transaction.atomic():
        procedure = Procedure.objects.select_for_update().get(pk=procedure.pk)
        if procedure.status != Procedure.Status.PUBLISHED:
            raise ValidationError({"reason": [_("Solo se puede retirar un trámite publicado.")]})
        procedure.status = Procedure.Status.WITHDRAWN
        procedure.withdrawn_at = timezone.now()
        procedure.withdrawal_reason = reason
        procedure.save(update_fields=["status", "withdrawn_at", "withdrawal_reason", "updated_at"])
        _record_version(procedure, by, _("Retirado: %(reason)s") % {"reason": reason[:250]})
        bump_revision()
        audit_record("catalog.withdraw", actor=by, subject=procedure,
                     data={"clave": procedure.clave, "reason": reason}, request=request)
    return procedure


def restore_version(procedure: Procedure, number: int, by, *, request=None) -> Procedure:
    """Brings back the content of version `number` (not its status) as a new version."""
    version = ProcedureVersion.objects.filter(procedure=procedure, number=number).first()
    if version is None:
        raise ValidationError(_("Esa versión no existe."))
    snap = version.snapshot
    data = {field: snap[field] for field in SCALAR_FIELDS if field in snap}
    if snap.get("department"):
        data["department"] = snap["department"]
    office_ids = list(org_selectors.offices_by_ids([o["id"] for o in snap.get("offices", [])])
                      .values_list("pk", flat=True))
    with transaction.atomic():
        update_procedure(
            procedure, by=by, data=data, requirements=snap.get("requirements", []), offices=office_ids,
            life_events=list(LifeEvent.objects.filter(slug__in=snap.get("life_events", []))),
            note=_("Restaurada la versión %(n)s") % {"n": number},
        )
        audit_record("catalog.restore", actor=by, subject=procedure,
                     data={"clave": procedure.clave, "version": number}, request=request)
    return procedure


def diff_snapshots(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    """[{field, label, old, new}] for every field that differs between two snapshots."""
    labels = {f: str(Procedure._meta.get_field(f).verbose_name) for f in SCALAR_FIELDS}
    labels.update({
        "department": _("dependencia responsable"), "status": _("estado"), "offices": _("oficinas"),
        "life_events": _("momentos de vida"), "requirements": _("requisitos"),
    })
    changes = []
    for field in list(SCALAR_FIELDS) + ["department", "status", "offices", "life_events", "requirements"]:
        if old.get(field) != new.get(field):
            changes.append({"field": field, "label": labels[field], "old": old.get(field), "new": new.get(field)})
    return changes


# --- Fees --------------------------------------------------------------------------------------


def compute_fee(procedure: Procedure, params: Mapping[str, object] | None = None) -> int:
    """The fee in integer centavos. Free → 0; fixed → the amount; rule → the formula evaluated with
    `params` (raises FormulaError with a Spanish message when a value is missing or invalid)."""
    if procedure.cost_kind == Procedure.CostKind.FREE:
        return 0
    if procedure.cost_kind == Procedure.CostKind.FIXED:
        if not procedure.cost_amount_centavos:
            raise FormulaError(_("Este trámite no tiene un monto registrado."))
        return int(procedure.cost_amount_centavos)
    return fees.evaluate(procedure.cost_formula, procedure.cost_parameters or [], params or {})


# --- Synonyms ----------------------------------------------------------------------------------


def save_synonym(term: str, expansion: str, *, by=None, synonym: SearchSynonym | None = None) -> SearchSynonym:
    term, expansion = (term or "").strip().lower(), (expansion or "").strip().lower()
    errors: dict[str, list[str]] = {}
    if not term:
        errors["term"] = [_("Escribe cómo lo dice la gente.")]
    elif len(term) > 100:
        errors["term"] = [_("Máximo 100 caracteres.")]
    if not expansion:
        errors["expansion"] = [_("Escribe cómo lo dice el catálogo.")]
    elif len(expansion) > 200:
        errors["expansion"] = [_("Máximo 200 caracteres.")]
    for field, value in (("term", term), ("expansion", expansion)):
        if any(c in value for c in "<>"):
            errors.setdefault(field, []).append(_("No puede contener los signos «<» ni «>»."))
    clash = SearchSynonym.objects.filter(term=term)
    if synonym is not None:
        clash = clash.exclude(pk=synonym.pk)
    if term and clash.exists():
        errors.setdefault("term", []).append(_("Ya existe un sinónimo para «%(term)s».") % {"term": term})
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        synonym = synonym or SearchSynonym()
        synonym.term, synonym.expansion = term, expansion
        synonym.save()
        bump_revision()
        audit_record("catalog.synonym", actor=by, subject=synonym, data={"term": term, "expansion": expansion})
    return synonym


def delete_synonym(synonym: SearchSynonym, *, by=None) -> None:
    with transaction.atomic():
        audit_record("catalog.synonym_delete", actor=by, subject=synonym, data={"term": synonym.term})
        synonym.delete()
        bump_revision()


# --- Usage -------------------------------------------------------------------------------------


def _bump_usage(procedure_id: int, day: date, field: str) -> None:
    updated = ProcedureDailyUsage.objects.filter(procedure_id=procedure_id, date=day).update(
        **{field: F(field) + 1}
    )
    if updated:
        return
    try:
        with transaction.atomic():
            ProcedureDailyUsage.objects.create(procedure_id=procedure_id, date=day, **{field: 1})
    except IntegrityError:
        # Another request created today's row first: count on it.
        ProcedureDailyUsage.objects.filter(procedure_id=procedure_id, date=day).update(**{field: F(field) + 1})


def record_view(procedure: Procedure | int, day: date | None = None) -> None:
    """Counts one view of a procedure's page (atomic, safe under concurrency)."""
    _bump_usage(getattr(procedure, "pk", procedure), day or timezone.localdate(), "views")


def record_start(procedure: Procedure | int, day: date | None = None) -> None:
    """Counts one application started for the procedure."""
    _bump_usage(getattr(procedure, "pk", procedure), day or timezone.localdate(), "starts")
