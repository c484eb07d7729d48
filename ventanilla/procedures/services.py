"""The life of an online request, from draft to resolution. Every change of a request goes
through these functions; views, the API, the counter, the kiosk and the deadline worker all
call them, so the rules live in one place.

Concurrency: each action takes the request's `revision` the actor saw. The first statement of
the transaction is a conditional UPDATE (`revision = seen + 1 WHERE revision = seen`), which
takes the row's write lock (PostgreSQL) or the database's (SQLite); a second official acting on
the same version updates nothing and gets `Conflict`, never a half-applied change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, prefetch_related_objects
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ventanilla.audit import services as audit
from ventanilla.catalog import selectors as catalog_selectors
from ventanilla.catalog import services as catalog_services
from ventanilla.catalog.fees import FormulaError
from ventanilla.identity.models import Role
from ventanilla.identity.permissions import has_role
from ventanilla.organization import selectors as org_selectors

from . import calendar, spec as spec_module
from .models import (
    Channel,
    Correction,
    Definition,
    DefinitionVersion,
    DocumentSource,
    EventKind,
    FormPageEvent,
    Request,
    RequestDocument,
    RequestEvent,
    RequestStep,
    Status,
    StepStatus,
)

SOURCE_PREFIX = "procedures.request:"
DEFAULT_CORRECTION_DAYS = 10
MAX_NOTE = 4000


class ProcedureError(Exception):
    """An action that cannot be done; the message is Spanish and can be shown as is."""

    def __init__(self, message: str, errors: Mapping[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = dict(errors or {})


class Conflict(ProcedureError):
    """Someone else changed the request since the actor loaded it."""


class NotAllowed(ProcedureError):
    """The actor may not do this to this request."""


# --- Small helpers ---------------------------------------------------------------------------


def source_ref(request: Request) -> str:
    return f"{SOURCE_PREFIX}{request.public_id}"


_SPEC_CACHE: dict[tuple[int, dt.datetime], spec_module.Spec] = {}
_SPEC_CACHE_SIZE = 256


def spec_of(request: Request) -> spec_module.Spec:
    """The parsed spec of the request's version. A published version never changes, so each is
    parsed once per process (keyed by id and publication time, which a reused id cannot share)."""
    version = request.version
    key = (version.pk, version.published_at)
    parsed = _SPEC_CACHE.get(key)
    if parsed is None:
        parsed = spec_module.parse_spec(version.spec)
        if len(_SPEC_CACHE) >= _SPEC_CACHE_SIZE:
            _SPEC_CACHE.clear()
        _SPEC_CACHE[key] = parsed
    return parsed


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _local_date(moment: dt.datetime) -> dt.date:
    return timezone.localdate(moment)


def draft_ttl() -> dt.timedelta:
    return dt.timedelta(days=int(getattr(settings, "VENTANILLA_DRAFT_TTL_DAYS", 30)))


def _event(request: Request, kind: str, *, actor=None, text: str = "", internal: bool = False,
           data: dict | None = None, at: dt.datetime | None = None) -> RequestEvent:
    return RequestEvent.objects.create(
        request=request, kind=kind, actor=actor if getattr(actor, "pk", None) else None,
        text=text, internal=internal, data=data or {}, at=at or timezone.now(),
    )


def _claim(request: Request, expected_revision: int | None) -> Request:
    """Inside a transaction: bumps the revision if it is still `expected_revision` (or whatever
    it is now, when None) and returns the fresh row; raises Conflict otherwise. The UPDATE takes
    the row's write lock first, so everything read afterwards is current."""
    fresh = _bump_revision(request.pk, expected_revision)
    if fresh is None:
        if expected_revision is None:
            raise ProcedureError(_("La solicitud ya no existe."))
        raise Conflict(_(
            "Otra persona actualizó esta solicitud mientras la revisabas. Vuelve a abrirla para ver "
            "los cambios antes de actuar."
        ))
    # Related rows the caller already loaded are reused when they are still the same rows (a
    # version, procedure, department or applicant does not change under a request).
    cache = request._state.fields_cache
    for name in ("version", "procedure", "department", "applicant"):
        related = cache.get(name)
        if related is not None and related.pk == getattr(fresh, f"{name}_id"):
            fresh._state.fields_cache[name] = related
    request.__dict__.update({k: v for k, v in fresh.__dict__.items() if not k.startswith("_")})
    request._state.fields_cache.update(fresh._state.fields_cache)
    return fresh


def _bump_revision(pk: int, expected_revision: int | None) -> Request | None:
    """UPDATE revision = revision + 1 (when it still is `expected_revision`) and the row as it is
    now, or None when no row matched. One statement (UPDATE … RETURNING) where the engine has it
    (PostgreSQL, SQLite 3.35+); otherwise the UPDATE, then a read under the lock it took."""
    now = timezone.now()
    if not connection.features.can_return_columns_from_insert:  # an old SQLite: no RETURNING
        match = {"pk": pk} if expected_revision is None else {"pk": pk, "revision": expected_revision}
        if not Request.objects.filter(**match).update(revision=F("revision") + 1, updated_at=now):
            return None
        return Request.objects.get(pk=pk)
    quote = connection.ops.quote_name
    meta = Request._meta
    columns = ", ".join(quote(f.column) for f in meta.concrete_fields)
    revision, updated_at, pk_column = (quote(meta.get_field(n).column) for n in ("revision", "updated_at", "id"))
    sql = (f"UPDATE {quote(meta.db_table)} SET {revision} = {revision} + 1, {updated_at} = %s "
           f"WHERE {pk_column} = %s" + ("" if expected_revision is None else f" AND {revision} = %s")
           + f" RETURNING {columns}")
    params = [connection.ops.adapt_datetimefield_value(now), pk]
    if expected_revision is not None:
        params.append(expected_revision)
    return next(iter(Request.objects.raw(sql, params)), None)


def _claiming_action(fn):
    """`transaction.atomic` for a service that claims the caller's request. `_claim` refreshes the
    caller's object in place; when the action then fails, the transaction (and the revision bump)
    rolls back, so the caller's object is put back as it was instead of keeping a revision that
    never existed (which would make the caller's next action a false Conflict)."""
    atomic_fn = transaction.atomic(fn)

    @wraps(fn)
    def wrapper(request: Request, *args, **kwargs):
        saved = dict(request.__dict__)
        try:
            return atomic_fn(request, *args, **kwargs)
        except Exception:
            request.__dict__.update(saved)
            raise

    return wrapper


def _notify(request: Request, key: str, texts: Callable[[], tuple[str, str]]) -> None:
    """Tells the applicant. `texts` returns (subject, body) and is called in the platform's
    language (Spanish), whatever language the official or resident acting is using: the notice
    is stored and e-mailed once, for a resident who may read it in any interface."""
    from ventanilla.notifications import services as notifications

    with translation.override(settings.LANGUAGE_CODE):
        subject, body = texts()
    notifications.notify(
        request.applicant,
        subject=subject,
        body=body,
        url=reverse("procedures:status", args=[request.public_id]),
        key=f"request:{request.public_id}:{key}",
    )


def closed_days_around(day: dt.date) -> frozenset[dt.date]:
    return calendar.closed_days(day.year - 1, day.year + 2)


# --- Definitions (catalogue editors) -----------------------------------------------------------


def spec_references() -> dict[str, Any]:
    """What a spec may refer to: department slugs and catalogue document type codes."""
    return {
        "departments": {d.slug for d in org_selectors.all_departments()},
        "document_types": set(catalog_selectors.document_type_codes()),
    }


def validate_definition_spec(definition: Definition, raw: Any) -> spec_module.Spec:
    procedure = definition.procedure
    fee_parameters = None
    if procedure.cost_kind == procedure.CostKind.RULE:
        fee_parameters = [p["name"] for p in procedure.cost_parameters or []]
    return spec_module.parse_spec(raw, fee_parameters=fee_parameters or [], **spec_references())


def get_or_create_definition(procedure, *, by=None) -> Definition:
    definition, _created = Definition.objects.get_or_create(procedure=procedure, defaults={"updated_by": by})
    return definition


def save_draft_spec(definition: Definition, raw: Any, *, by) -> Definition:
    """Stores the editor's draft (even an incomplete one); publishing validates it."""
    if not isinstance(raw, dict):
        raise ProcedureError(_("La definición debe ser un objeto JSON."))
    definition.draft_spec = raw
    definition.updated_by = by
    definition.save(update_fields=["draft_spec", "updated_by", "updated_at"])
    return definition


@transaction.atomic
def publish_definition(definition: Definition, *, by, note: str = "") -> DefinitionVersion:
    """Freezes the draft as the next version; new requests use it, filed ones keep theirs."""
    definition = Definition.objects.select_for_update().select_related("procedure").get(pk=definition.pk)
    try:
        validate_definition_spec(definition, definition.draft_spec)
    except spec_module.SpecError as exc:
        raise ProcedureError(_("La definición tiene problemas que hay que corregir."), {"spec": "\n".join(exc.errors)}) from None
    last = definition.versions.order_by("-number").values_list("number", flat=True).first() or 0
    version = DefinitionVersion.objects.create(
        definition=definition, number=last + 1, spec=definition.draft_spec, published_by=by, note=note[:300],
    )
    definition.published_version = version
    definition.save(update_fields=["published_version", "updated_at"])
    audit.record("procedures.definition_published", actor=by, subject=definition,
                 data={"procedure": definition.procedure.clave, "version": version.number})
    return version


# --- Drafts and the resident's journey --------------------------------------------------------


def _check_can_file(definition: Definition, channel: str) -> DefinitionVersion:
    version = definition.published_version
    if version is None or not definition.is_active:
        raise ProcedureError(_("Este trámite todavía no se puede hacer en línea."))
    if not definition.procedure.is_published:
        raise ProcedureError(_("Este trámite no está publicado en el catálogo."))
    if channel not in Channel.values:
        raise ProcedureError(_("Canal desconocido."))
    return version


@transaction.atomic
def start_draft(definition: Definition, *, applicant, channel: str = Channel.ONLINE, filed_by=None,
                now: dt.datetime | None = None) -> Request:
    """A new draft on the definition's published version. At the counter, `filed_by` is the
    clerk and `applicant` the resident identified by CURP."""
    now = _now(now)
    version = _check_can_file(definition, channel)
    if applicant.is_official and filed_by is None:
        raise NotAllowed(_("Los servidores públicos presentan trámites a nombre de una persona desde el modo ventanilla."))
    if channel == Channel.COUNTER and (filed_by is None or not has_role(filed_by, Role.COUNTER_CLERK)):
        raise NotAllowed(_("Solo el personal de ventanilla puede capturar solicitudes presenciales."))
    request = Request.objects.create(
        version=version, procedure=definition.procedure, department=definition.procedure.department,
        applicant=applicant, filed_by=filed_by, channel=channel, status=Status.DRAFT,
        created_at=now, draft_expires_at=now + draft_ttl(),
        current_page=spec_module.parse_spec(version.spec).pages[0].key,
    )
    _event(request, EventKind.CREATED, actor=filed_by or applicant, at=now, data={"channel": channel})
    catalog_services.record_start(definition.procedure, _local_date(now))
    return request


def _require_draft(request: Request) -> None:
    if request.status != Status.DRAFT:
        raise ProcedureError(_("Esta solicitud ya fue presentada y no se puede modificar."))


def record_page_view(request: Request, page_key: str, *, now: dt.datetime | None = None) -> None:
    FormPageEvent.objects.create(request=request, page=page_key[:60], kind=FormPageEvent.Kind.VIEWED, at=_now(now))


@_claiming_action
def save_page(request: Request, page_key: str, data: Mapping[str, Any], *,
              now: dt.datetime | None = None) -> spec_module.PageResult:
    """Validates one page and, when it is valid, stores its answers in the draft. Files of
    `file` fields must already be in the applicant's file (their ids are checked here)."""
    now = _now(now)
    request = _claim(request, None)
    _require_draft(request)
    spec = spec_of(request)
    result = spec_module.clean_page(spec, page_key, data, request.answers)
    page = spec.page(page_key)
    if page is not None:
        for f in page.fields:
            if f.type == "file" and f.key in result.values and not _owns_file(request, result.values[f.key]):
                result.errors[f.key] = _("Ese archivo no está en tu expediente.")
                result.values.pop(f.key)
    if not result.ok:
        transaction.set_rollback(True)
        return result
    answers = {k: v for k, v in request.answers.items() if k not in {f.key for f in page.fields}}
    answers.update(result.values)
    request.answers = spec_module.visible_answers(spec, answers)
    next_page = spec.next_page(page_key)
    request.current_page = next_page.key if next_page else "documentos"
    request.draft_expires_at = now + draft_ttl()
    request.save(update_fields=["answers", "current_page", "draft_expires_at", "updated_at"])
    FormPageEvent.objects.create(request=request, page=page_key, kind=FormPageEvent.Kind.COMPLETED, at=now)
    return result


def _owns_file(request: Request, public_id: str | UUID) -> bool:
    from ventanilla.files import selectors as files

    return files.document_of(request.applicant, public_id) is not None


def document_in_use(document) -> str | None:
    """Delete guard for Mi expediente: a document attached to a request that is not final (or
    whose decision the resident may still contest) is evidence of that request and stays."""
    uses = RequestDocument.objects.filter(file_document=document.public_id).exclude(
        request__status__in=[Status.EXPIRED, Status.DISCARDED]
    ).select_related("request")
    first = uses.first()
    if first is None:
        return None
    return _("Este documento forma parte de tu solicitud %(folio)s; no se puede borrar.") % {
        "folio": first.request.folio or _("en borrador")
    }


def city_held_types(request: Request) -> set[str]:
    """Document types of this procedure the city already holds, so nobody is asked for them.
    Read once per request object (a submission and the answer describing it share it)."""
    held = request.__dict__.get("_city_held_types")
    if held is None:
        held = request.__dict__["_city_held_types"] = frozenset(catalog_selectors.document_types_held_by_city())
    return set(held)


@_claiming_action
def attach_document(request: Request, slot_key: str, file_document: str | UUID, *, source: str,
                    now: dt.datetime | None = None) -> RequestDocument:
    """Attaches a document of the applicant's file (just uploaded, or picked) to a slot."""
    request = _claim(request, None)
    _require_draft(request)
    slot = next((d for d in spec_of(request).documents if d.key == slot_key), None)
    if slot is None:
        raise ProcedureError(_("Este trámite no pide ese documento."))
    if source not in (DocumentSource.UPLOADED, DocumentSource.FILE):
        raise ProcedureError(_("Origen del documento desconocido."))
    if not _owns_file(request, file_document):
        raise NotAllowed(_("Ese documento no está en tu expediente."))
    attached, _created = RequestDocument.objects.update_or_create(
        request=request, key=slot_key,
        defaults={"file_document": UUID(str(file_document)), "source": source, "added_at": _now(now)},
    )
    return attached


@_claiming_action
def detach_document(request: Request, slot_key: str) -> None:
    request = _claim(request, None)
    _require_draft(request)
    RequestDocument.objects.filter(request=request, key=slot_key).delete()


def missing_documents(request: Request, *, held: set[str] | None = None,
                      attached: set[str] | None = None) -> list[spec_module.DocumentSlot]:
    held = city_held_types(request) if held is None else held
    attached = set(request.documents.values_list("key", flat=True)) if attached is None else attached
    return [
        d for d in spec_of(request).documents
        if d.required and d.key not in attached and not (d.document_type and d.document_type in held)
    ]


def submission_problems(request: Request, *, held: set[str] | None = None,
                        attached: set[str] | None = None) -> list[str]:
    """Everything that stops the draft from being submitted, as Spanish sentences."""
    spec = spec_of(request)
    problems = [_("Falta responder «%(q)s».") % {"q": f.label} for _page, f in spec_module.missing_answers(spec, request.answers)]
    problems += [_("Falta el documento «%(d)s».") % {"d": d.label}
                 for d in missing_documents(request, held=held, attached=attached)]
    if spec.fee_parameters:
        try:
            compute_fee(request)
        except FormulaError as exc:
            problems.append(str(exc))
    return problems


def compute_fee(request: Request) -> int:
    """The fee from the catalogue rule, with the rule's parameters taken from the answers."""
    spec = spec_of(request)
    params = {param: request.answers.get(field_key) for param, field_key in spec.fee_parameters.items()}
    for param, field_key in spec.fee_parameters.items():
        f = spec.fields_by_key.get(field_key)
        if f is not None and f.type == "money" and params[param] is not None:
            params[param] = str(int(params[param]) / 100)
    return catalog_services.compute_fee(request.procedure, params)


def _make_folio(request: Request, when: dt.datetime) -> str:
    prefix = getattr(settings, "VENTANILLA_FOLIO_PREFIX", "TRC")
    return f"{prefix}-{_local_date(when).year}-{request.pk:07d}"


def _compute_due_date(request: Request, *, first: bool = False) -> dt.date | None:
    """The legal response date: `response_days` business days from submission, not counting the
    days a correction request stopped the clock (none yet when `first`, at submission)."""
    days = request.procedure.response_days
    if not days or request.submitted_at is None:
        return None
    start = _local_date(request.submitted_at)
    pauses = [] if first else [
        (_local_date(c.requested_at), _local_date(c.answered_at) if c.answered_at else None)
        for c in request.corrections.all()
    ]
    return calendar.deadline(start, days, pauses=pauses, extra_closed=closed_days_around(start))


def _activate_ready_steps(request: Request, now: dt.datetime) -> list[RequestStep]:
    steps = list(request.steps.all())
    approved = {s.key for s in steps if s.status == StepStatus.APPROVED}
    activated = []
    for step in steps:
        if step.status == StepStatus.WAITING and all(a in approved for a in step.after):
            step.status = StepStatus.ACTIVE
            step.activated_at = now
            step.save(update_fields=["status", "activated_at"])
            activated.append(step)
    return activated


@_claiming_action
def submit(request: Request, *, actor, now: dt.datetime | None = None) -> Request:
    """Files the draft: folio, review steps, legal deadline, history and a notice."""
    now = _now(now)
    request = _claim(request, None)
    _require_draft(request)
    if actor.pk not in (request.applicant_id, request.filed_by_id):
        raise NotAllowed(_("Solo quien captura la solicitud puede presentarla."))
    held = city_held_types(request)
    prefetch_related_objects([request], "documents")  # read once: here, and for the caller's answer
    attached = {d.key for d in request.documents.all()}
    problems = submission_problems(request, held=held, attached=attached)
    if problems:
        raise ProcedureError(_("La solicitud no está completa."), {"__all__": "\n".join(problems)})
    spec = spec_of(request)
    departments = {d.slug: d for d in org_selectors.departments_by_slugs({s.department for s in spec.steps})}
    steps = []
    for order, step in enumerate(spec.steps):
        department = departments.get(step.department)
        if department is None:
            raise ProcedureError(_("Una dependencia de la revisión ya no existe; avisa al municipio."))
        first = not step.after  # steps with no predecessor start at once
        steps.append(RequestStep(
            request=request, key=step.key, name=step.name, department=department, role=step.role,
            after=list(step.after), order=order,
            status=StepStatus.ACTIVE if first else StepStatus.WAITING, activated_at=now if first else None,
        ))
    RequestStep.objects.bulk_create(steps)
    city_docs = [d.key for d in spec.documents if d.key not in attached and d.document_type in held and d.document_type]
    request.status = Status.IN_REVIEW
    request.submitted_at = now
    request.draft_expires_at = None
    request.folio = _make_folio(request, now)
    request.fee_centavos = compute_fee(request)
    request.due_date = _compute_due_date(request, first=True)
    request.save(update_fields=["status", "submitted_at", "draft_expires_at", "folio", "fee_centavos", "due_date", "updated_at"])
    _event(request, EventKind.SUBMITTED, actor=actor, at=now,
           data={"channel": request.channel, "city_documents": city_docs})
    _notify(request, "submitted", lambda: (
        _("Recibimos tu solicitud %(folio)s") % {"folio": request.folio},
        _("Tu solicitud de «%(p)s» quedó registrada con el folio %(folio)s. La respuesta llegará a más tardar el %(due)s.")
        % {"p": request.procedure.name, "folio": request.folio,
           "due": request.due_date.strftime("%d/%m/%Y") if request.due_date else _("plazo sin fecha")}))
    return request


# --- The back office -----------------------------------------------------------------------------


def reviewable_steps(request: Request, official) -> list[RequestStep]:
    """Active steps this official may decide (their department and role)."""
    return [
        s for s in request.steps.select_related("department").all()
        if s.status == StepStatus.ACTIVE and has_role(official, s.role, department=s.department)
    ]


def can_view(request: Request, official) -> bool:
    """Officials see a case when it belongs to a department where they review, clerk or
    administer, or one of its steps does."""
    roles = (Role.REVIEWER, Role.DEPARTMENT_ADMIN, Role.COUNTER_CLERK)
    if has_role(official, Role.PLATFORM_ADMIN):
        return True
    departments = {request.department_id, *request.steps.values_list("department_id", flat=True)}
    return any(has_role(official, *roles, department=d) for d in org_selectors.departments_by_ids(departments))


def _require_reviewer(request: Request, official) -> list[RequestStep]:
    steps = reviewable_steps(request, official)
    if not steps:
        raise NotAllowed(_("No tienes un paso de revisión activo en esta solicitud."))
    return steps


def _require_open(request: Request, *statuses: str) -> None:
    if request.status not in (statuses or (Status.IN_REVIEW,)):
        raise ProcedureError(_("La solicitud ya no está en revisión (estado: %(s)s).") % {"s": request.get_status_display()})


@_claiming_action
def approve_step(request: Request, step_key: str, *, official, expected_revision: int,
                 now: dt.datetime | None = None) -> Request:
    now = _now(now)
    request = _claim(request, expected_revision)
    _require_open(request)
    step = next((s for s in _require_reviewer(request, official) if s.key == step_key), None)
    if step is None:
        raise NotAllowed(_("Ese paso no está activo o no te corresponde."))
    step.status = StepStatus.APPROVED
    step.decided_at = now
    step.decided_by = official
    step.save(update_fields=["status", "decided_at", "decided_by"])
    _event(request, EventKind.STEP_APPROVED, actor=official, at=now, data={"step": step.key, "name": step.name})
    audit.record("procedures.step_approved", actor=official, subject=request, data={"folio": request.folio, "step": step.key})
    _activate_ready_steps(request, now)
    if all(s.status == StepStatus.APPROVED for s in request.steps.all()):
        _approve(request, actor=official, now=now)
    return request


def _approve(request: Request, *, actor, now: dt.datetime) -> None:
    """Every step approved: ask for the fee, or resolve at once when there is none."""
    _event(request, EventKind.APPROVED, actor=actor, at=now)
    fee = request.fee_centavos or 0
    if fee > 0:
        from ventanilla.payments import services as payments

        order = payments.create_order(
            payer=request.applicant, concept=f"{request.procedure.name} · {request.folio}",
            amount_centavos=fee, source_ref=source_ref(request),
        )
        request.status = Status.AWAITING_PAYMENT
        request.payment_order = order.public_id
        request.save(update_fields=["status", "payment_order", "updated_at"])
        _event(request, EventKind.PAYMENT_REQUESTED, actor=actor, at=now, data={"order": str(order.public_id), "amount": fee})
        _notify(request, "payment", lambda: (
            _("Tu solicitud %(folio)s fue aprobada: falta el pago") % {"folio": request.folio},
            _("Para recibir tu documento paga los derechos con tarjeta en línea o en efectivo con tu línea de captura.")))
    else:
        resolve(request, status=Status.APPROVED, actor=actor, now=now)


def handle_paid_order(order) -> None:
    """Registered with payments: runs inside the transaction that credits the order."""
    public_id = order.source_ref.removeprefix(SOURCE_PREFIX)
    request = Request.objects.select_related("procedure", "applicant", "version").get(public_id=public_id)
    request = _claim(request, None)
    if request.status != Status.AWAITING_PAYMENT:
        # Paid after a change of state (should not happen: orders are cancelled first); keep a trace.
        _event(request, EventKind.PAID, data={"order": str(order.public_id), "unexpected": True}, internal=True)
        return
    now = timezone.now()
    _event(request, EventKind.PAID, at=now, data={"order": str(order.public_id)})
    resolve(request, status=Status.APPROVED, actor=None, now=now)


def resolve(request: Request, *, status: str, actor, now: dt.datetime, grounds: str = "") -> None:
    """Final state and its signed document: for approvals, the version's template (or the
    certification of afirmativa ficta); for a denial with grounds or a discarded request, the
    signed resolution the resident may appeal. (Negativa ficta gets its own notice, from
    `deadlines`.)"""
    from ventanilla.documents import services as documents
    from ventanilla.files import services as files

    request.status = status
    request.resolved_at = now
    request.resolution_text = grounds
    spec = spec_of(request)
    builtins = {
        "folio": request.folio or "", "solicitante": request.applicant.full_name,
        "curp": request.applicant.curp or "", "fecha": _local_date(now).strftime("%d/%m/%Y"),
        "tramite": request.procedure.name, "municipio": settings.CITY["name"],
    }
    applicant = (_("Solicitante"), request.applicant.full_name, True)  # masked on the public page
    issued = None
    if status in (Status.APPROVED, Status.APPROVED_FICTA):
        if status == Status.APPROVED:
            kind, title = spec.template.kind, spec.template.title
            paragraphs = [spec_module.render_paragraph(p, spec, request.answers, builtins) for p in spec.template.paragraphs]
        else:
            kind = "ficta_certificate"
            title = _("Certificación de afirmativa ficta")
            paragraphs = [_(
                "El plazo legal de %(days)s días hábiles para resolver la solicitud %(folio)s de «%(p)s» venció "
                "el %(due)s sin respuesta de la autoridad. Conforme a la ley, la solicitud se tiene por aprobada "
                "(afirmativa ficta)."
            ) % {"days": request.procedure.response_days, "folio": request.folio, "p": request.procedure.name,
                 "due": request.due_date.strftime("%d/%m/%Y") if request.due_date else ""}]
        fields = [applicant, (_("Trámite"), request.procedure.name)]
        fields += [
            (spec.fields_by_key[k].label, spec_module.display_value(spec.fields_by_key[k], request.answers.get(k)),
             spec.fields_by_key[k].type in spec_module.PERSONAL_TYPES)
            for k in spec.template.fields if k in spec.fields_by_key
        ]
        issued = (kind, title, fields, paragraphs)
    elif status in (Status.REJECTED, Status.DISCARDED):
        rejected = status == Status.REJECTED
        title = _("Resolución que niega la solicitud") if rejected else _("Acuerdo que desecha la solicitud")
        fields = [applicant, (_("Trámite"), request.procedure.name), (_("Dependencia"), request.department.name),
                  (_("Fecha de la resolución"), builtins["fecha"])]
        paragraphs = [
            (_("%(department)s resolvió negar la solicitud %(folio)s de «%(p)s» con los fundamentos y motivos "
               "siguientes:") if rejected else
             _("La solicitud %(folio)s de «%(p)s» se desecha por lo siguiente:"))
            % {"department": request.department.name, "folio": request.folio, "p": request.procedure.name},
            grounds,
            _("Contra esta resolución procede el recurso o el juicio que prevén las leyes ante la autoridad "
              "competente; también puede presentarse de nuevo la solicitud."),
        ]
        issued = ("resolution", title, fields, paragraphs)
    if issued is not None:
        kind, title, fields, paragraphs = issued
        document = documents.issue(kind=kind, owner=request.applicant, title=title, folio=request.folio,
                                   fields=fields, paragraphs=paragraphs, source_ref=source_ref(request))
        files.store_issued(request.applicant, title=f"{title} · {request.folio}", document_type="",
                           pdf=document.pdf, issued_document=document.public_id)
        request.resolution_document = document.public_id
    request.save(update_fields=["status", "resolved_at", "resolution_text", "resolution_document", "updated_at"])
    _event(request, EventKind.RESOLVED, actor=actor, at=now, text=grounds, data={"status": status})
    _notify(request, f"resolved:{status}", lambda: (
        _("Tu solicitud %(folio)s fue resuelta") % {"folio": request.folio},
        _("Resultado: %(status)s.") % {"status": request.get_status_display()}))


@_claiming_action
def request_correction(request: Request, *, official, text: str, expected_revision: int,
                       days: int | None = None, now: dt.datetime | None = None) -> Correction:
    """Prevención: stops the legal clock until the resident answers within `days` business days."""
    now = _now(now)
    text = (text or "").strip()
    if not text:
        raise ProcedureError(_("Escribe qué falta o qué debe corregirse."), {"text": _("Escribe qué falta o qué debe corregirse.")})
    if len(text) > MAX_NOTE:
        raise ProcedureError(_("El texto es demasiado largo."), {"text": _("El texto es demasiado largo.")})
    request = _claim(request, expected_revision)
    _require_open(request)
    _require_reviewer(request, official)
    days = days or request.procedure.correction_days or DEFAULT_CORRECTION_DAYS
    if not 1 <= days <= 60:
        raise ProcedureError(_("El plazo para responder debe estar entre 1 y 60 días hábiles."))
    today = _local_date(now)
    correction = Correction.objects.create(
        request=request, requested_by=official, text=text, requested_at=now,
        due_date=calendar.add_business_days(today, days, extra_closed=closed_days_around(today)),
    )
    request.status = Status.CORRECTION
    request.due_date = None  # the clock is stopped
    request.save(update_fields=["status", "due_date", "updated_at"])
    _event(request, EventKind.CORRECTION_REQUESTED, actor=official, at=now, text=text,
           data={"due_date": correction.due_date.isoformat()})
    audit.record("procedures.correction_requested", actor=official, subject=request, data={"folio": request.folio})
    _notify(request, f"correction:{correction.pk}", lambda: (
        _("Tu solicitud %(folio)s necesita una corrección") % {"folio": request.folio},
        _("%(text)s\n\nTienes hasta el %(due)s para responder.") % {"text": text, "due": correction.due_date.strftime("%d/%m/%Y")}))
    return correction


@_claiming_action
def answer_correction(request: Request, *, actor, text: str, answers: Mapping[str, Any] | None = None,
                      documents: Mapping[str, str] | None = None, now: dt.datetime | None = None) -> Request:
    """The resident answers the prevención: a text, corrected answers and/or documents. The
    clock resumes and the active steps go back to their reviewers."""
    now = _now(now)
    request = _claim(request, None)
    if actor.pk not in (request.applicant_id, request.filed_by_id):
        raise NotAllowed(_("Solo quien presentó la solicitud puede responder la prevención."))
    if request.status != Status.CORRECTION:
        raise ProcedureError(_("Esta solicitud no tiene una prevención pendiente."))
    correction = request.corrections.filter(answered_at__isnull=True).order_by("-requested_at").first()
    if correction is None or correction.due_date < _local_date(now):
        raise ProcedureError(_("El plazo para responder la prevención ya venció."))
    text = (text or "").strip()
    if not text and not answers and not documents:
        raise ProcedureError(_("Escribe tu respuesta o adjunta lo que te pidieron."), {"text": _("Escribe tu respuesta.")})
    if len(text) > MAX_NOTE:
        raise ProcedureError(_("El texto es demasiado largo."), {"text": _("El texto es demasiado largo.")})
    spec = spec_of(request)
    if answers:
        merged = dict(request.answers)
        for page in spec.pages:
            keys = {f.key for f in page.fields}
            if keys & set(answers):
                result = spec_module.clean_page(spec, page.key, {**{k: v for k, v in merged.items() if isinstance(v, str)}, **answers}, merged)
                if not result.ok:
                    raise ProcedureError(_("Revisa las respuestas corregidas."), result.errors)
                merged.update(result.values)
        request.answers = spec_module.visible_answers(spec, merged)
    for slot_key, file_document in (documents or {}).items():
        if not any(d.key == slot_key for d in spec.documents):
            raise ProcedureError(_("Este trámite no pide ese documento."))
        if not _owns_file(request, file_document):
            raise NotAllowed(_("Ese documento no está en tu expediente."))
        RequestDocument.objects.update_or_create(
            request=request, key=slot_key,
            defaults={"file_document": UUID(str(file_document)), "source": DocumentSource.FILE, "added_at": now},
        )
    correction.answered_at = now
    correction.answer_text = text
    correction.save(update_fields=["answered_at", "answer_text"])
    request.status = Status.IN_REVIEW
    request.save(update_fields=["answers", "status", "updated_at"])
    request.due_date = _compute_due_date(request)
    request.save(update_fields=["due_date"])
    _event(request, EventKind.CORRECTION_ANSWERED, actor=actor, at=now, text=text,
           data={"answers": sorted(answers or {}), "documents": sorted(documents or {})})
    return request


@_claiming_action
def reject(request: Request, *, official, grounds: str, expected_revision: int,
           now: dt.datetime | None = None) -> Request:
    """Denies the request with its legal grounds (fundamentación y motivación)."""
    now = _now(now)
    grounds = (grounds or "").strip()
    if len(grounds) < 20:
        raise ProcedureError(_("Escribe los fundamentos y motivos de la negativa (al menos 20 caracteres)."),
                             {"grounds": _("Escribe los fundamentos y motivos.")})
    if len(grounds) > MAX_NOTE:
        raise ProcedureError(_("El texto es demasiado largo."), {"grounds": _("El texto es demasiado largo.")})
    request = _claim(request, expected_revision)
    _require_open(request)
    steps = _require_reviewer(request, official)
    for step in steps:
        step.status = StepStatus.REJECTED
        step.decided_at = now
        step.decided_by = official
        step.save(update_fields=["status", "decided_at", "decided_by"])
    _event(request, EventKind.REJECTED, actor=official, at=now, text=grounds)
    audit.record("procedures.rejected", actor=official, subject=request, data={"folio": request.folio})
    resolve(request, status=Status.REJECTED, actor=official, now=now, grounds=grounds)
    return request


@transaction.atomic
def add_note(request: Request, *, official, text: str) -> RequestEvent:
    text = (text or "").strip()
    if not text or len(text) > MAX_NOTE:
        raise ProcedureError(_("La nota debe tener entre 1 y %(n)s caracteres.") % {"n": MAX_NOTE})
    if not can_view(request, official):
        raise NotAllowed(_("No puedes ver esta solicitud."))
    return _event(request, EventKind.NOTE, actor=official, text=text, internal=True)


@transaction.atomic
def send_message(request: Request, *, sender, text: str) -> RequestEvent:
    """A message between the resident and the officials of the case (visible to both)."""
    text = (text or "").strip()
    if not text or len(text) > MAX_NOTE:
        raise ProcedureError(_("El mensaje debe tener entre 1 y %(n)s caracteres.") % {"n": MAX_NOTE})
    from_resident = sender.pk in (request.applicant_id, request.filed_by_id) and not sender.is_official
    if not from_resident and not (sender.is_official and can_view(request, sender)):
        raise NotAllowed(_("No puedes escribir en esta solicitud."))
    event = _event(request, EventKind.MESSAGE, actor=sender, text=text, data={"from_resident": from_resident})
    if not from_resident:
        _notify(request, f"message:{event.pk}", lambda: (
            _("Mensaje sobre tu solicitud %(folio)s") % {"folio": request.folio}, text))
    return event


@_claiming_action
def assign(request: Request, *, official, to, expected_revision: int) -> Request:
    request = _claim(request, expected_revision)
    if not can_view(request, official):
        raise NotAllowed(_("No puedes ver esta solicitud."))
    if to is not None and not can_view(request, to):
        raise ProcedureError(_("Esa persona no revisa solicitudes de esta dependencia."))
    request.assigned_to = to
    request.save(update_fields=["assigned_to", "updated_at"])
    _event(request, EventKind.ASSIGNED, actor=official, internal=True,
           data={"to": str(to.public_id) if to else None})
    return request
