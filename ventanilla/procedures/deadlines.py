"""Legal deadlines applied by the background worker (docs/jobs.md, "The deadline rules").

* Afirmativa ficta: the response term ran out with the request still in review and the
  procedure's catalogue entry says silence means approval -> approved (`approved_ficta`) with a
  signed certification of positive silence ("ficta_certificate") in the resident's file.
* Negativa ficta: the same, when silence means denial -> denied (`denied_ficta`) with a signed
  notice ("denial_notice") the resident can take to court. LFPA art. 17: past the term the request
  is taken as denied unless a rule says otherwise, and the authority must certify either outcome.
* An unanswered correction request (prevención, LFPA art. 17-A) past its own term -> discarded.
* An abandoned draft past `draft_expires_at` -> expired.

A term "ran out" the day after its last business day (`due_date < today`, in the city's time zone).

Exactly once: each rule writes a `DeadlineAction` row (unique per request and rule) in the same
transaction as the state change, the event, the issued document and the notice, after claiming
the request's revision (a conditional UPDATE that serialises it with every other change of the
request). A worker killed midway rolls back whole; the next sweep finds the rule still due and
applies it. Two workers sweeping at once: the second one's claim waits for the first, then finds
the revision moved (`Conflict`) or the rule applied, and skips the request.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from .models import Correction, DeadlineAction, EventKind, Request, Status
from .services import Conflict, _claim, _event, _local_date, _now, resolve, source_ref

logger = logging.getLogger(__name__)

Rule = DeadlineAction.Rule
ALL_RULES = (Rule.AFIRMATIVA_FICTA, Rule.NEGATIVA_FICTA, Rule.CORRECTION_EXPIRED, Rule.DRAFT_EXPIRED)
# The rules that decide a filed request (swept often); drafts expire on a slower sweep.
LEGAL_RULES = (Rule.AFIRMATIVA_FICTA, Rule.NEGATIVA_FICTA, Rule.CORRECTION_EXPIRED)


@dataclass(frozen=True)
class DeadlineOutcome:
    request_id: int
    rule: str


class DeadlineSweepError(Exception):
    """Some rules could not be applied (each failure is logged with its traceback). The others
    were applied: `applied` lists them, `failed` lists the ones to try again."""

    def __init__(self, applied: list[DeadlineOutcome], failed: list[tuple[DeadlineOutcome, BaseException]]):
        super().__init__(f"{len(failed)} deadline rule(s) failed, {len(applied)} applied")
        self.applied = applied
        self.failed = failed


def apply_deadline_rule(request_id: int, rule: str, *, now: dt.datetime | None = None) -> bool:
    """Applies one deadline rule to one request, exactly once: the DeadlineAction row (unique per
    request and rule) is written in the same transaction as the state change and the document.
    Returns False when the rule no longer applies or was already applied."""
    if rule not in ALL_RULES:
        raise ValueError(f"unknown rule {rule}")
    now = _now(now)
    today = _local_date(now)
    with transaction.atomic():
        request = Request.objects.select_related("procedure", "applicant", "version").filter(pk=request_id).first()
        if request is None:
            return False
        try:
            request = _claim(request, request.revision)
        except Conflict:
            return False
        if DeadlineAction.objects.filter(request=request, rule=rule).exists() or not _due(request, rule, now, today):
            transaction.set_rollback(True)
            return False
        if rule in (Rule.AFIRMATIVA_FICTA, Rule.NEGATIVA_FICTA):
            DeadlineAction.objects.create(request=request, rule=rule, applied_at=now)
            _event(request, EventKind.FICTA, at=now, data={"rule": rule, "due_date": request.due_date.isoformat()})
            if rule == Rule.AFIRMATIVA_FICTA:
                resolve(request, status=Status.APPROVED_FICTA, actor=None, now=now)
            else:
                resolve(request, status=Status.DENIED_FICTA, actor=None, now=now, grounds=_(
                    "El plazo legal para resolver venció sin respuesta; conforme a la ley la solicitud "
                    "se tiene por negada (negativa ficta). Puede impugnarse ante la autoridad competente."
                ))
                _issue_denial_notice(request, now)
            return True
        if rule == Rule.CORRECTION_EXPIRED:
            correction = _open_correction(request)
            DeadlineAction.objects.create(request=request, rule=rule, applied_at=now)
            _event(request, EventKind.DISCARDED, at=now, data={"correction_due": correction.due_date.isoformat()})
            resolve(request, status=Status.DISCARDED, actor=None, now=now, grounds=_(
                "La prevención no se atendió dentro del plazo; la solicitud se desecha (LFPA art. 17-A)."
            ))
            return True
        # Rule.DRAFT_EXPIRED
        DeadlineAction.objects.create(request=request, rule=rule, applied_at=now)
        request.status = Status.EXPIRED
        request.save(update_fields=["status", "updated_at"])
        _event(request, EventKind.EXPIRED, at=now)
        return True


def _open_correction(request: Request) -> Correction | None:
    return request.corrections.filter(answered_at__isnull=True).order_by("-requested_at").first()


def _due(request: Request, rule: str, now: dt.datetime, today: dt.date) -> bool:
    """Whether `rule` applies to the request as it is now (the sweep's list may be stale)."""
    if rule in (Rule.AFIRMATIVA_FICTA, Rule.NEGATIVA_FICTA):
        wanted = "afirmativa" if rule == Rule.AFIRMATIVA_FICTA else "negativa"
        return (request.status == Status.IN_REVIEW and request.due_date is not None
                and request.due_date < today and request.procedure.ficta == wanted)
    if rule == Rule.CORRECTION_EXPIRED:
        correction = _open_correction(request)
        return request.status == Status.CORRECTION and correction is not None and correction.due_date < today
    return (request.status == Status.DRAFT and request.draft_expires_at is not None
            and request.draft_expires_at <= now)


def _issue_denial_notice(request: Request, now: dt.datetime) -> None:
    """The certification of negative silence (LFPA art. 17: the authority certifies that the term
    ran out), signed, in the resident's file and linked as the request's resolution document."""
    from ventanilla.documents import services as documents
    from ventanilla.files import services as files

    title = _("Constancia de negativa ficta")
    due = request.due_date.strftime("%d/%m/%Y") if request.due_date else ""
    fields = [
        (_("Solicitante"), request.applicant.full_name, True),  # personal: masked on the public page
        (_("Trámite"), request.procedure.name),
        (_("Presentada"), _local_date(request.submitted_at).strftime("%d/%m/%Y") if request.submitted_at else ""),
        (_("Plazo para resolver"), _("%(days)s días hábiles") % {"days": request.procedure.response_days}),
        (_("Venció"), due),
    ]
    paragraphs = [
        _(
            "El plazo legal de %(days)s días hábiles para resolver la solicitud %(folio)s de «%(p)s» venció el "
            "%(due)s sin que la autoridad emitiera resolución. Conforme a la ley, la solicitud se tiene por negada "
            "(negativa ficta)."
        ) % {"days": request.procedure.response_days, "folio": request.folio, "p": request.procedure.name, "due": due},
        _(
            "Esta constancia acredita que el plazo transcurrió; con ella la persona solicitante puede impugnar la "
            "negativa ante la autoridad competente o presentar de nuevo su solicitud."
        ),
    ]
    document = documents.issue(kind="denial_notice", owner=request.applicant, title=title, folio=request.folio,
                               fields=fields, paragraphs=paragraphs, source_ref=source_ref(request))
    files.store_issued(request.applicant, title=f"{title} · {request.folio}", document_type="",
                       pdf=document.pdf, issued_document=document.public_id)
    request.resolution_document = document.public_id
    request.save(update_fields=["resolution_document"])


def due_deadline_work(now: dt.datetime | None = None, *, limit: int = 1000,
                      rules: Iterable[str] = ALL_RULES) -> list[DeadlineOutcome]:
    """Requests whose legal deadline has passed and the rule each one should get (at most
    `limit` per rule family, oldest deadline first)."""
    now = _now(now)
    today = _local_date(now)
    rules = set(rules)
    work: list[DeadlineOutcome] = []
    fictas = [f for f, r in (("afirmativa", Rule.AFIRMATIVA_FICTA), ("negativa", Rule.NEGATIVA_FICTA)) if r in rules]
    if fictas:
        overdue = (
            Request.objects.filter(status=Status.IN_REVIEW, due_date__lt=today, procedure__ficta__in=fictas)
            .order_by("due_date", "pk").values_list("pk", "procedure__ficta")[:limit]
        )
        for pk, ficta in overdue:
            work.append(DeadlineOutcome(pk, Rule.AFIRMATIVA_FICTA if ficta == "afirmativa" else Rule.NEGATIVA_FICTA))
    if Rule.CORRECTION_EXPIRED in rules:
        corrections = (
            Correction.objects.filter(answered_at__isnull=True, due_date__lt=today, request__status=Status.CORRECTION)
            .order_by("due_date", "request_id").values_list("request_id", flat=True)[:limit]
        )
        work += [DeadlineOutcome(pk, Rule.CORRECTION_EXPIRED) for pk in dict.fromkeys(corrections)]
    if Rule.DRAFT_EXPIRED in rules:
        drafts = (Request.objects.filter(status=Status.DRAFT, draft_expires_at__lte=now)
                  .order_by("draft_expires_at", "pk").values_list("pk", flat=True)[:limit])
        work += [DeadlineOutcome(pk, Rule.DRAFT_EXPIRED) for pk in drafts]
    return work


def apply_due_deadlines(now: dt.datetime | None = None, *, limit: int = 1000,
                        rules: Iterable[str] = ALL_RULES) -> list[DeadlineOutcome]:
    """One sweep: applies every due rule, each in its own transaction; safe to run from several
    workers at once and to kill at any point (unapplied rules are found again next sweep).

    A rule that raises (a signing key missing, say) does not stop the others: the sweep goes on
    and raises `DeadlineSweepError` at the end, listing what was applied and what failed."""
    applied: list[DeadlineOutcome] = []
    failed: list[tuple[DeadlineOutcome, BaseException]] = []
    for item in due_deadline_work(now, limit=limit, rules=rules):
        try:
            if apply_deadline_rule(item.request_id, item.rule, now=now):
                applied.append(item)
        except Exception as exc:  # noqa: BLE001 - isolated per request, reported below
            logger.exception("deadline rule failed", extra={"request": item.request_id, "rule": item.rule})
            failed.append((item, exc))
    if failed:
        raise DeadlineSweepError(applied, failed)
    return applied
