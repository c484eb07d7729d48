"""The officials' back office for online requests: the work queue, the case, its actions, the
documents (every read recorded in the resident's access log) and counter mode.

Every action form carries the request's `revision` as the official saw it; the services refuse a
stale one (`Conflict`) and the case is shown again, fresh, with the reason. Views only translate
HTTP to calls of `services`, `queues` and `counter`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ventanilla.files import selectors as files_selectors
from ventanilla.identity import selectors as identity_selectors
from ventanilla.identity import services as identity
from ventanilla.identity.models import Role
from ventanilla.identity.permissions import departments_where, official_required
from ventanilla.payments.money import format_pesos

from . import counter, queues, selectors, services
from . import spec as spec_module
from .models import Correction, DocumentSource, EventKind, Request, Status

logger = logging.getLogger(__name__)

CASE_ROLES = (Role.REVIEWER, Role.DEPARTMENT_ADMIN, Role.COUNTER_CLERK)
# The case page holds several forms: each gets its own element ids.
ASSIGN_ID, NOTE_ID, MESSAGE_ID = "asignar-%s", "nota-%s", "mensaje-%s"


def register_backoffice_tools() -> None:
    """Adds the queue and counter mode to the back-office home (call from ProceduresConfig.ready)."""
    from ventanilla.core.backoffice import Tool, register

    register(Tool(
        label=gettext_lazy("Solicitudes en línea"), url_name="procedures:backoffice_queue", roles=CASE_ROLES,
        description=gettext_lazy("Revisar, prevenir, aprobar o negar las solicitudes de tu dependencia."),
    ))
    register(Tool(
        label=gettext_lazy("Presentar un trámite en ventanilla"), url_name="procedures:counter",
        roles=(Role.COUNTER_CLERK,),
        description=gettext_lazy("Capturar un trámite en línea a nombre de una persona identificada por su CURP."),
    ))


# --- Forms ---------------------------------------------------------------------------------------

_REVISION_ERROR = gettext_lazy("Vuelve a abrir la solicitud e inténtalo de nuevo.")


def _revision_field() -> forms.IntegerField:
    return forms.IntegerField(min_value=0, widget=forms.HiddenInput,
                              error_messages={"required": _REVISION_ERROR, "invalid": _REVISION_ERROR,
                                              "min_value": _REVISION_ERROR})


class ApproveForm(forms.Form):
    revision = _revision_field()
    step = forms.CharField(max_length=40, widget=forms.HiddenInput)


class CorrectionForm(forms.Form):
    revision = _revision_field()
    text = forms.CharField(
        label=gettext_lazy("Qué falta o qué debe corregirse"), max_length=services.MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("Escríbelo en palabras sencillas: la persona lo leerá tal cual y el plazo legal se "
                               "detiene hasta que responda."),
        error_messages={"required": gettext_lazy("Escribe qué falta o qué debe corregirse.")},
    )
    days = forms.IntegerField(
        label=gettext_lazy("Días hábiles para responder"), min_value=1, max_value=60,
        help_text=gettext_lazy("Entre 1 y 60. Si no responde a tiempo, la solicitud se desecha."),
        error_messages={"required": gettext_lazy("Escribe cuántos días hábiles tiene para responder."),
                        "invalid": gettext_lazy("Escribe un número entero de días."),
                        "min_value": gettext_lazy("El plazo debe ser de al menos 1 día hábil."),
                        "max_value": gettext_lazy("El plazo no puede pasar de 60 días hábiles.")},
    )


class RejectForm(forms.Form):
    revision = _revision_field()
    grounds = forms.CharField(
        label=gettext_lazy("Fundamentos y motivos de la negativa"), max_length=services.MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy("Cita los artículos que la fundamentan y explica por qué se niega. La persona "
                               "recibirá este texto con la resolución."),
        error_messages={"required": gettext_lazy("Escribe los fundamentos y motivos de la negativa.")},
    )


class AssignForm(forms.Form):
    revision = _revision_field()
    to = forms.ChoiceField(label=gettext_lazy("Asignar a"))

    def __init__(self, *args, colleagues=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = (
            [("nadie", _("Nadie (quitar la asignación)"))]
            + [(str(c.public_id), f"{c.full_name} ({c.email})") for c in colleagues]
        )


class NoteForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Nota interna"), max_length=services.MAX_NOTE, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Solo la ven los servidores públicos que atienden la solicitud."),
        error_messages={"required": gettext_lazy("Escribe la nota.")},
    )


class MessageForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Mensaje para la persona"), max_length=services.MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("La persona lo verá en su solicitud y recibirá un aviso."),
        error_messages={"required": gettext_lazy("Escribe el mensaje.")},
    )


class CounterForm(forms.Form):
    definition = forms.TypedChoiceField(
        label=gettext_lazy("Trámite"), coerce=int,
        error_messages={"required": gettext_lazy("Elige el trámite."),
                        "invalid_choice": gettext_lazy("Elige un trámite de la lista.")},
    )
    curp = forms.CharField(
        label=gettext_lazy("CURP de la persona"), max_length=30,
        help_text=gettext_lazy("18 caracteres. La consulta queda registrada y la persona la verá en «Mis datos»."),
        error_messages={"required": gettext_lazy("Escribe la CURP de la persona.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}),
    )

    def __init__(self, *args, definitions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["definition"].choices = [("", _("Elige un trámite"))] + [
            (d.pk, f"{d.procedure.name} ({d.procedure.clave})") for d in definitions
        ]


def _bind(form: forms.Form) -> None:
    """Points each field at its hint and error (ids of the shared form-field include)."""
    for name, f in form.fields.items():
        auto_id = form[name].auto_id
        described = []
        if f.help_text:
            described.append(f"{auto_id}_helptext")
        if form.is_bound and name in form.errors:
            described.append(f"{auto_id}_error")
            f.widget.attrs["aria-invalid"] = "true"
        if described:
            f.widget.attrs["aria-describedby"] = " ".join(described)


# --- The queue -----------------------------------------------------------------------------------


@official_required(*CASE_ROLES)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    filters = queues.QueueFilters.from_query(request.GET)
    page = queues.department_queue(request.user, filters=filters, page=request.GET.get("pagina", ""))
    departments = queues.queue_departments(request.user, queues.Tab.ALL)
    department_ids = {d.pk for d in departments}
    reviewed = set().union(*queues.reviewed_elsewhere(departments).values())
    definitions = [
        d for d in selectors.online_definitions().defer("draft_spec", "published_version__spec")
        if d.procedure.department_id in department_ids or d.procedure_id in reviewed
    ]
    query = filters.as_query()
    tabs = [
        (tab, queues.TAB_LABELS[tab], "?" + urlencode(queues.with_tab(filters, tab).as_query()) if tab != filters.tab else "")
        for tab in queues.Tab
    ]
    return render(request, "procedures/backoffice/queue.html", {
        "filters": filters,
        "page": page,
        "tabs": tabs,
        "definitions": definitions,
        "departments": departments,
        "statuses": [(s.value, s.label) for s in
                     (queues.OPEN_STATUSES if filters.tab == queues.Tab.PENDING else queues.FILED_STATUSES)],
        "channels": services.Channel.choices,
        "assignments": list(queues.ASSIGNMENT_LABELS.items()),
        "deadlines": [(s.value, label) for s, label in queues.DEADLINE_LABELS.items()],
        "next_url": "?" + urlencode({**query, "pagina": page.next_cursor}) if page.next_cursor else "",
        "previous_url": "?" + urlencode({**query, "pagina": page.previous_cursor}) if page.previous_cursor else "",
        "first_url": "?" + urlencode(query) if not page.is_first else "",
        "filtered": any(k != "vista" for k in query),
    })


# --- The case ------------------------------------------------------------------------------------


def _case_or_404(user, public_id) -> Request:
    """The filed request if this official may see it; 404 otherwise (never reveal it exists)."""
    case = selectors.request_by_public_id(public_id)
    if case is None or case.submitted_at is None or not services.can_view(case, user):
        raise Http404
    return case


@dataclass(frozen=True)
class Answer:
    label: str
    value: str
    document_url: str = ""


@dataclass(frozen=True)
class DocumentRow:
    label: str
    status: str
    title: str = ""
    filename: str = ""
    size: int = 0
    url: str = ""
    source: str = ""


def _answers(case: Request, spec: spec_module.Spec) -> list[tuple[str, list[Answer]]]:
    pages = []
    for page in spec.pages:
        rows = []
        for f in page.fields:
            if f.key not in case.answers:
                continue
            value = case.answers[f.key]
            if f.type == "file":
                doc = files_selectors.document_by_public_id(value)
                rows.append(Answer(f.label, doc.title if doc else _("Documento no disponible"),
                                   _document_url(case, value) if doc else ""))
            else:
                rows.append(Answer(f.label, spec_module.display_value(f, value)))
        if rows:
            pages.append((page.title, rows))
    return pages


def _document_url(case: Request, document_id) -> str:
    return reverse("procedures:backoffice_document", args=[case.public_id, document_id])


def _documents(case: Request, spec: spec_module.Spec) -> list[DocumentRow]:
    attached = {d.key: d for d in case.documents.all()}
    submitted = case.events.filter(kind=EventKind.SUBMITTED).values_list("data", flat=True).first() or {}
    from_city = set(submitted.get("city_documents") or [])
    rows = []
    for slot in spec.documents:
        found = attached.get(slot.key)
        if found is not None:
            doc = files_selectors.document_by_public_id(found.file_document)
            if doc is None:
                rows.append(DocumentRow(slot.label, _("El archivo ya no está disponible")))
                continue
            rows.append(DocumentRow(
                slot.label, DocumentSource(found.source).label, title=doc.title, filename=doc.filename,
                size=doc.size, url=_document_url(case, found.file_document), source=found.source,
            ))
        elif slot.key in from_city:
            rows.append(DocumentRow(slot.label, str(DocumentSource.CITY.label), source=DocumentSource.CITY))
        else:
            rows.append(DocumentRow(slot.label, _("No se entregó") if slot.required else _("No se entregó (opcional)")))
    return rows


def _colleagues(case: Request) -> list:
    departments = {case.department_id, *case.steps.values_list("department_id", flat=True)}
    return list(
        identity_selectors.officials().filter(
            is_active=True, memberships__department_id__in=departments,
            memberships__role__in=[Role.REVIEWER, Role.DEPARTMENT_ADMIN],
        ).distinct()
    )


def _case_context(request: HttpRequest, case: Request, **overrides) -> dict:
    user = request.user
    spec = services.spec_of(case)
    today = timezone.localdate()
    closed = queues.closed_days_for(today)
    my_steps = services.reviewable_steps(case, user) if case.status == Status.IN_REVIEW else []
    history = list(selectors.full_history(case))
    colleagues = _colleagues(case)
    pending_correction: Correction | None = None
    if case.status == Status.CORRECTION:
        pending_correction = case.corrections.filter(answered_at__isnull=True).order_by("-requested_at").first()
    revision = {"revision": case.revision}
    context = {
        "case": case,
        "deadline": queues.deadline_of(case, today=today, closed=closed),
        "pending_correction": pending_correction,
        "answers": _answers(case, spec),
        "documents": _documents(case, spec),
        "steps": list(case.steps.select_related("department", "decided_by")),
        "my_steps": my_steps,
        "can_decide": bool(my_steps),
        "history": history,
        "notes": [e for e in history if e.kind == EventKind.NOTE],
        "conversation": [e for e in history if e.kind == EventKind.MESSAGE],
        "corrections": list(case.corrections.select_related("requested_by")),
        "assign_form": AssignForm(initial={**revision, "to": str(case.assigned_to.public_id) if case.assigned_to else "nadie"},
                                  colleagues=colleagues, auto_id=ASSIGN_ID),
        "can_take": case.assigned_to_id != user.pk and any(c.pk == user.pk for c in colleagues),
        "note_form": NoteForm(auto_id=NOTE_ID),
        "message_form": MessageForm(auto_id=MESSAGE_ID),
        "fee": format_pesos(case.fee_centavos) if case.fee_centavos else "",
        "correction_days": case.procedure.correction_days or services.DEFAULT_CORRECTION_DAYS,
        "conflict": "",
        "error": "",
        "unsaved": "",
    }
    context.update(overrides)
    for key in ("assign_form", "note_form", "message_form"):
        _bind(context[key])
    return context


def _render_case(request: HttpRequest, case: Request, *, status: int = 200, **overrides) -> HttpResponse:
    return render(request, "procedures/backoffice/case.html", _case_context(request, case, **overrides), status=status)


@official_required(*CASE_ROLES)
@require_GET
def case(request: HttpRequest, public_id) -> HttpResponse:
    """The case page shows the applicant's name and the personal data they gave in the request:
    each view is recorded in their access log ("Mis datos") with the folio as its reason."""
    case = _case_or_404(request.user, public_id)
    spec = services.spec_of(case)
    fields = ["nombre", *(["curp"] if any(f.type == "curp" for f in spec.fields_by_key.values()) else [])]
    if not _record_read(request, case, f"Revisar la solicitud {case.folio}", fields):
        return _render_case(request, case, status=403, error=_(
            "No se puede registrar la consulta de esta solicitud en el historial de la persona, así que no "
            "podemos mostrarla."))
    return _render_case(request, case)


def _record_read(request: HttpRequest, case: Request, purpose: str, fields: list[str]) -> bool:
    """Records that this official is shown the applicant's data (identity's access log), under
    the department through which they see the case. False when it cannot be recorded."""
    departments = {case.department_id, *case.steps.values_list("department_id", flat=True)}
    department = next((d for d in departments_where(request.user, *CASE_ROLES) if d.pk in departments), None)
    try:
        identity.record_resident_read(request.user, case.applicant, purpose, case_reference=case.folio or "",
                                      fields=fields, department=department, request=request)
    except identity.ServiceError:
        return False
    return True


def _fresh(case: Request) -> Request:
    return selectors.request_by_public_id(case.public_id)


def _act(request: HttpRequest, case: Request, action: Callable[[], object], *, success: str,
         unsaved: str = "", on_invalid: Callable[[services.ProcedureError], HttpResponse] | None = None) -> HttpResponse:
    """Runs one service call and answers the way every action does: redirect on success (POST/
    redirect/GET); on Conflict the fresh case with the reason (409); on NotAllowed the case with the
    reason (403); on any other refusal `on_invalid`, or the case with the message (400)."""
    try:
        action()
    except services.Conflict as exc:
        return _render_case(request, _fresh(case), status=409, conflict=exc.message, unsaved=unsaved)
    except services.NotAllowed as exc:
        return _render_case(request, _fresh(case), status=403, error=exc.message, unsaved=unsaved)
    except services.ProcedureError as exc:
        if on_invalid is not None:
            return on_invalid(exc)
        return _render_case(request, _fresh(case), status=400, error=exc.message, unsaved=unsaved)
    messages.success(request, success)
    return redirect("procedures:backoffice_case", public_id=case.public_id)


def _stale_form(request: HttpRequest, case: Request, form: forms.Form, unsaved: str = "") -> HttpResponse | None:
    """A form without a usable revision (tampered or very old page)."""
    if "revision" in form.errors:
        return _render_case(request, case, status=409, conflict=str(_REVISION_ERROR), unsaved=unsaved)
    return None


@official_required(*CASE_ROLES)
@require_POST
def approve(request: HttpRequest, public_id) -> HttpResponse:
    case = _case_or_404(request.user, public_id)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        return _stale_form(request, case, form) or _render_case(
            request, case, status=400, error=_("Elige el paso que quieres aprobar."))
    step = form.cleaned_data["step"]
    name = next((s.name for s in case.steps.all() if s.key == step), step)
    return _act(
        request, case,
        lambda: services.approve_step(case, step, official=request.user, expected_revision=form.cleaned_data["revision"]),
        success=_("Aprobaste el paso «%(step)s».") % {"step": name},
    )


def _decision_page(request: HttpRequest, case: Request, template: str, form: forms.Form, *, status: int = 200) -> HttpResponse:
    _bind(form)
    today = timezone.localdate()
    return render(request, template, {
        "case": case, "form": form, "deadline": queues.deadline_of(case, today=today, closed=queues.closed_days_for(today)),
        "my_steps": services.reviewable_steps(case, request.user),
    }, status=status)


def _initial_revision(request: HttpRequest, case: Request) -> int:
    """The revision the official saw on the case page (carried in the link), else the current one."""
    raw = request.GET.get("revision", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else case.revision


def _field_errors(form: forms.Form, exc: services.ProcedureError) -> None:
    placed = False
    for name, message in exc.errors.items():
        if name in form.fields:
            form.add_error(name, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


@official_required(*CASE_ROLES)
@require_http_methods(["GET", "POST"])
def request_correction(request: HttpRequest, public_id) -> HttpResponse:
    case = _case_or_404(request.user, public_id)
    template = "procedures/backoffice/correction.html"
    if request.method == "GET":
        days = case.procedure.correction_days or services.DEFAULT_CORRECTION_DAYS
        form = CorrectionForm(initial={"revision": _initial_revision(request, case), "days": days})
        return _decision_page(request, case, template, form)
    form = CorrectionForm(request.POST)
    unsaved = request.POST.get("text", "")[: services.MAX_NOTE]
    if not form.is_valid():
        return _stale_form(request, case, form, unsaved) or _decision_page(request, case, template, form, status=400)
    data = form.cleaned_data

    def invalid(exc: services.ProcedureError) -> HttpResponse:
        _field_errors(form, exc)
        return _decision_page(request, case, template, form, status=400)

    return _act(
        request, case,
        lambda: services.request_correction(case, official=request.user, text=data["text"], days=data["days"],
                                            expected_revision=data["revision"]),
        success=_("Enviamos la prevención. El plazo legal queda detenido hasta que la persona responda."),
        unsaved=unsaved, on_invalid=invalid,
    )


@official_required(*CASE_ROLES)
@require_http_methods(["GET", "POST"])
def reject(request: HttpRequest, public_id) -> HttpResponse:
    case = _case_or_404(request.user, public_id)
    template = "procedures/backoffice/reject.html"
    if request.method == "GET":
        return _decision_page(request, case, template, RejectForm(initial={"revision": _initial_revision(request, case)}))
    form = RejectForm(request.POST)
    unsaved = request.POST.get("grounds", "")[: services.MAX_NOTE]
    if not form.is_valid():
        return _stale_form(request, case, form, unsaved) or _decision_page(request, case, template, form, status=400)
    data = form.cleaned_data

    def invalid(exc: services.ProcedureError) -> HttpResponse:
        _field_errors(form, exc)
        return _decision_page(request, case, template, form, status=400)

    return _act(
        request, case,
        lambda: services.reject(case, official=request.user, grounds=data["grounds"], expected_revision=data["revision"]),
        success=_("La solicitud quedó negada y la persona recibió la resolución con sus fundamentos."),
        unsaved=unsaved, on_invalid=invalid,
    )


@official_required(*CASE_ROLES)
@require_POST
def assign(request: HttpRequest, public_id) -> HttpResponse:
    case = _case_or_404(request.user, public_id)
    colleagues = _colleagues(case)
    post = request.POST.copy()
    if post.get("to") == "yo":
        post["to"] = str(request.user.public_id)
    form = AssignForm(post, colleagues=colleagues, auto_id=ASSIGN_ID)
    if not form.is_valid():
        return _stale_form(request, case, form) or _render_case(
            request, case, status=400, assign_form=form, error=_("Elige a quién asignar la solicitud."))
    choice = form.cleaned_data["to"]
    to = None if choice == "nadie" else next(c for c in colleagues if str(c.public_id) == choice)
    if to is None:
        success = _("La solicitud ya no está asignada a nadie.")
    elif to.pk == request.user.pk:
        success = _("Te asignaste la solicitud.")
    else:
        success = _("Asignaste la solicitud a %(name)s.") % {"name": to.full_name}
    return _act(
        request, case,
        lambda: services.assign(case, official=request.user, to=to, expected_revision=form.cleaned_data["revision"]),
        success=success,
    )


@official_required(*CASE_ROLES)
@require_POST
def note(request: HttpRequest, public_id) -> HttpResponse:
    case = _case_or_404(request.user, public_id)
    form = NoteForm(request.POST, auto_id=NOTE_ID)
    if not form.is_valid():
        return _render_case(request, case, status=400, note_form=form)
    return _act(request, case, lambda: services.add_note(case, official=request.user, text=form.cleaned_data["text"]),
                success=_("Guardamos la nota interna."), unsaved=form.cleaned_data["text"])


@official_required(*CASE_ROLES)
@require_POST
def message(request: HttpRequest, public_id) -> HttpResponse:
    case = _case_or_404(request.user, public_id)
    form = MessageForm(request.POST, auto_id=MESSAGE_ID)
    if not form.is_valid():
        return _render_case(request, case, status=400, message_form=form)
    return _act(request, case, lambda: services.send_message(case, sender=request.user, text=form.cleaned_data["text"]),
                success=_("Enviamos el mensaje a la persona."), unsaved=form.cleaned_data["text"])


# --- Documents -----------------------------------------------------------------------------------


def _case_document_label(case: Request, document_id: UUID) -> str | None:
    """The label under which this document belongs to the case, or None if it does not."""
    spec = services.spec_of(case)
    labels = {d.key: d.label for d in spec.documents}
    for attached in case.documents.all():
        if attached.file_document == document_id:
            return labels.get(attached.key, attached.key)
    for key, f in spec.fields_by_key.items():
        if f.type == "file" and str(case.answers.get(key, "")).lower() == str(document_id):
            return f.label
    return None


@official_required(*CASE_ROLES)
@require_GET
def document(request: HttpRequest, public_id, document_id) -> HttpResponse:
    """A document of the case, for an official who may see the case. The read is recorded in the
    resident's personal-data access log ("Mis datos") with the case's folio as its reason."""
    case = _case_or_404(request.user, public_id)
    label = _case_document_label(case, document_id)
    doc = files_selectors.document_by_public_id(document_id) if label is not None else None
    if doc is None or doc.owner_id != case.applicant_id:
        raise Http404
    try:
        data = files_selectors.read_content(doc)
    except Exception:  # the stored bytes cannot be decrypted: a server-side fault, said plainly
        logger.exception("document %s of request %s cannot be read", doc.public_id, case.folio)
        return _render_case(request, case, status=503, error=_(
            "No pudimos leer este documento. Avisa al área de sistemas; la persona no tiene que hacer nada."))
    if not _record_read(request, case, f"Revisar el documento «{label[:150]}» de la solicitud {case.folio}",
                        ["nombre"]):
        return _render_case(request, case, status=403, error=_(
            "No se puede registrar la consulta de este documento en el historial de la persona, así que no "
            "podemos mostrarlo."))
    response = HttpResponse(data, content_type=doc.mime)
    response["Content-Disposition"] = content_disposition_header(True, doc.filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


# --- Counter mode --------------------------------------------------------------------------------


def _journey_url(draft: Request) -> str:
    return reverse("procedures:page", args=[draft.public_id, draft.current_page])


def _filed_url(clerk, filed: Request) -> str:
    """Where a clerk continues a request they filed: the journey while it is a draft, then the
    case (when their department sees it) or the resident's status page (they filed it)."""
    if filed.status == Status.DRAFT:
        return _journey_url(filed)
    if filed.submitted_at and services.can_view(filed, clerk):
        return reverse("procedures:backoffice_case", args=[filed.public_id])
    if filed.submitted_at:
        return reverse("procedures:status", args=[filed.public_id])
    return ""


@official_required(Role.COUNTER_CLERK)
@require_http_methods(["GET", "POST"])
def counter_view(request: HttpRequest) -> HttpResponse:
    definitions = list(selectors.online_definitions())
    form = CounterForm(request.POST or None, definitions=definitions)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            definition = next(d for d in definitions if d.pk == form.cleaned_data["definition"])
            try:
                draft = counter.start_counter_request(request.user, definition, form.cleaned_data["curp"],
                                                      http_request=request)
            except services.ProcedureError as exc:
                _field_errors(form, exc)
                status = 404 if isinstance(exc, counter.ResidentWithoutAccount) else 400
            else:
                messages.success(request, _(
                    "Iniciaste «%(procedure)s» a nombre de %(name)s. Captura sus respuestas y documentos; "
                    "todo queda en su expediente.") % {"procedure": definition.procedure.name,
                                                       "name": draft.applicant.full_name})
                return redirect(_journey_url(draft))
        else:
            status = 400
    _bind(form)
    today = timezone.localdate()
    filed = [(r, _filed_url(request.user, r)) for r in queues.filed_by_clerk_on(request.user, today)]
    return render(request, "procedures/backoffice/counter.html", {
        "form": form, "filed": filed, "today": today, "no_account": status == 404,
    }, status=status)
