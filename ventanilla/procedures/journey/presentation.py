"""How a request reads to the resident: its state in plain words, its public history, where to
pick it up again, and its answers as a "check your answers" list."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from ventanilla.catalog.fees import FormulaError
from ventanilla.payments.money import format_pesos

from .. import services, spec as spec_module
from ..models import EventKind, Request, Status

DOCUMENTS_PAGE = "documentos"


def long_date(value) -> str:
    """'23 de diciembre de 2026' in Spanish (months in lower case, as es-MX writes them)."""
    if not value:
        return ""
    text = formats.date_format(value, "DATE_FORMAT")
    return text.lower() if (get_language() or "es").startswith("es") else text


def status_words(request: Request) -> str:
    """One or two sentences: where the request stands and what happens next."""
    due = long_date(request.due_date)
    if request.status == Status.DRAFT:
        expires = long_date(timezone.localdate(request.draft_expires_at)) if request.draft_expires_at else ""
        return _("Todavía no la presentas. Complétala y preséntala antes del %(date)s; después el borrador se borra.") % {"date": expires}
    if request.status == Status.IN_REVIEW:
        if due:
            return _("La están revisando. La respuesta llegará a más tardar el %(date)s.") % {"date": due}
        return _("La están revisando.")
    if request.status == Status.CORRECTION:
        return _("El municipio necesita que corrijas o completes algo. Mientras respondes, el plazo para resolver está detenido.")
    if request.status == Status.AWAITING_PAYMENT:
        return _("Tu solicitud fue aprobada. Paga los derechos para recibir tu documento.")
    if request.status == Status.APPROVED:
        return _("Tu solicitud fue aprobada. Tu documento está listo para descargar y también quedó en Mi expediente.")
    if request.status == Status.APPROVED_FICTA:
        return _("El municipio no respondió a tiempo y, como marca la ley, tu solicitud se tiene por aprobada (afirmativa ficta). Descarga la certificación.")
    if request.status == Status.REJECTED:
        return _("Tu solicitud fue negada. Abajo están los motivos; puedes impugnar la resolución ante la autoridad competente.")
    if request.status == Status.DENIED_FICTA:
        return _("El municipio no respondió a tiempo y, como marca la ley para este trámite, tu solicitud se tiene por negada (negativa ficta).")
    if request.status == Status.DISCARDED:
        return _("La corrección que se te pidió no se respondió a tiempo y la solicitud se desechó. Puedes volver a iniciarla.")
    if request.status == Status.EXPIRED:
        return _("El borrador venció sin presentarse. Puedes volver a iniciarla.")
    return request.get_status_display()


@dataclass(frozen=True)
class HistoryItem:
    at: object
    title: str
    text: str
    from_resident: bool = False


def history(request: Request, events) -> list[HistoryItem]:
    """The public history (no internal notes) in words; messages are listed separately."""
    items = []
    for event in events:
        if event.kind == EventKind.MESSAGE:
            continue
        title = event.get_kind_display()
        text = ""
        if event.kind == EventKind.STEP_APPROVED:
            title = _("Paso aprobado: %(name)s") % {"name": event.data.get("name", "")}
        elif event.kind == EventKind.CORRECTION_REQUESTED:
            title = _("El municipio pidió una corrección")
            text = event.text
        elif event.kind == EventKind.CORRECTION_ANSWERED:
            title = _("Respondiste la corrección")
            text = event.text
        elif event.kind == EventKind.PAYMENT_REQUESTED:
            amount = event.data.get("amount")
            if isinstance(amount, int):
                text = _("Monto: %(amount)s") % {"amount": format_pesos(amount)}
        elif event.kind == EventKind.RESOLVED:
            status = event.data.get("status", "")
            title = _("Resolución: %(status)s") % {"status": Status(status).label if status in Status.values else status}
            text = event.text
        elif event.kind == EventKind.REJECTED:
            text = event.text
        items.append(HistoryItem(event.at, title, text))
    return items


def conversation(request: Request, events) -> list[HistoryItem]:
    """Messages between the resident (or their counter clerk) and the officials of the case."""
    out = []
    for event in events:
        if event.kind != EventKind.MESSAGE:
            continue
        mine = bool(event.data.get("from_resident"))
        who = _("Tú") if mine else _("El municipio")
        out.append(HistoryItem(event.at, who, event.text, mine))
    return out


def page_url(request: Request, page_key: str) -> str:
    return reverse("procedures:page", args=[request.public_id, page_key])


def resume_url(request: Request) -> str:
    """Where a draft continues: the page it stopped at, the documents, or its status page."""
    if request.status != Status.DRAFT:
        return reverse("procedures:status", args=[request.public_id])
    spec = services.spec_of(request)
    if request.current_page == DOCUMENTS_PAGE:
        if not spec_module.missing_answers(spec, request.answers) and not services.missing_documents(request):
            return reverse("procedures:check", args=[request.public_id])
        return reverse("procedures:documents", args=[request.public_id])
    if spec.page(request.current_page) is not None:
        return page_url(request, request.current_page)
    return page_url(request, spec.pages[0].key)


@dataclass(frozen=True)
class AnswerRow:
    label: str
    value: str
    change_url: str
    missing: bool = False


def answer_rows(request: Request, file_titles: dict[str, str]) -> list[tuple[str, list[AnswerRow]]]:
    """Check your answers: for each page, its visible questions with the answer and a link back."""
    spec = services.spec_of(request)
    counted = spec_module.visible_answers(spec, request.answers)
    sections = []
    for page in spec.pages:
        rows = []
        for f in page.visible_fields(counted):
            value = counted.get(f.key)
            if f.type == "file" and value:
                shown = file_titles.get(str(value), _("Documento de tu expediente"))
            else:
                shown = spec_module.display_value(f, value)
            url = f"{page_url(request, page.key)}?volver=revisar#pregunta-{f.key}"
            missing = f.required and value in (None, "", {})
            rows.append(AnswerRow(f.label, shown or (_("Sin responder") if missing else _("No aplica")), url, missing))
        sections.append((page.title, rows))
    return sections


def fee_centavos(request: Request) -> int | None:
    """The fee to pay if the request is approved, or None if it cannot be computed yet."""
    try:
        fee = services.compute_fee(request) if request.status == Status.DRAFT else request.fee_centavos
    except FormulaError:
        return None
    return None if fee is None else int(fee)
