"""Acceptance 2, the legal deadlines, with a controlled clock (`now=` everywhere, no sleeping):
afirmativa ficta, negativa ficta, a correction request pausing the clock, holidays (16 September,
a city non-working day) skipped, unanswered corrections discarded, abandoned drafts expired; each
rule once, whatever runs it twice or concurrently changes the request."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from ventanilla.documents import services as documents_services
from ventanilla.procedures import calendar, deadlines, services
from ventanilla.procedures.models import DeadlineAction, EventKind, NonWorkingDay, Request, Status

CITY = ZoneInfo("America/Monterrey")


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A moment in the city's time zone."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=CITY)


D = dt.date


def small_pdf(text: str = "Comprobante") -> bytes:
    """A genuine one-page PDF (what a scanner would give), for the resident's file."""
    import io

    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, text)
    page.save()
    return out.getvalue()


def fill_draft(request: Request) -> Request:
    """Every page of the licence and its two documents, uploaded to the applicant's file."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.procedures_fixtures import LICENCE_PAGES
    from ventanilla.files import services as files
    from ventanilla.files import uploads

    for page, data in LICENCE_PAGES.items():
        assert services.save_page(request, page, data).ok
    for slot, doc_type in (("identificacion", "INE"), ("comprobante_domicilio", "COMPROBANTE_DOMICILIO")):
        checked = uploads.check_upload(SimpleUploadedFile(f"{slot}.pdf", small_pdf(slot), "application/pdf"))
        doc = files.store_upload(request.applicant, checked, title=slot, document_type=doc_type)
        services.attach_document(request, slot, doc.public_id, source="uploaded")
    request.refresh_from_db()
    return request


@pytest.fixture
def file_request(licence, make_resident):
    """A licence request filed at a chosen moment (the licence answers in 3 business days)."""

    def factory(submitted: dt.datetime, *, ficta: str = "negativa") -> Request:
        licence.procedure.__class__.objects.filter(pk=licence.procedure.pk).update(ficta=ficta)
        applicant = make_resident()
        request = services.start_draft(licence, applicant=applicant, now=submitted - dt.timedelta(minutes=30))
        fill_draft(request)
        return services.submit(request, actor=applicant, now=submitted)

    return factory


def outcome(request: Request) -> dict:
    """Everything a rule leaves behind, to check it happened exactly once."""
    from ventanilla.documents.models import IssuedDocument
    from ventanilla.files.models import ResidentDocument
    from ventanilla.notifications.models import Notification

    request.refresh_from_db()
    return {
        "status": request.status,
        "actions": list(DeadlineAction.objects.filter(request=request).values_list("rule", flat=True)),
        "ficta_events": request.events.filter(kind=EventKind.FICTA).count(),
        "resolved_events": request.events.filter(kind=EventKind.RESOLVED).count(),
        "documents": sorted(IssuedDocument.objects.filter(source_ref=services.source_ref(request))
                            .values_list("kind", flat=True)),
        "file_copies": ResidentDocument.objects.filter(owner=request.applicant, source="issued").count(),
        "notices": Notification.objects.filter(recipient=request.applicant, key__contains=":resolved:").count(),
    }


# --- Afirmativa and negativa ficta -------------------------------------------------------------------------

def test_afirmativa_ficta_issues_the_certificate_of_positive_silence(file_request):
    from ventanilla.documents import selectors as documents
    from ventanilla.documents import services as document_services

    request = file_request(at(D(2026, 3, 2)), ficta="afirmativa")  # Monday
    assert request.due_date == D(2026, 3, 5)  # Tue, Wed, Thu
    assert deadlines.apply_due_deadlines(at(D(2026, 3, 5), 23, 59)) == []  # the last day is still in time
    applied = deadlines.apply_due_deadlines(at(D(2026, 3, 6), 0, 1))
    assert applied == [deadlines.DeadlineOutcome(request.pk, DeadlineAction.Rule.AFIRMATIVA_FICTA)]
    assert outcome(request) == {
        "status": Status.APPROVED_FICTA, "actions": ["afirmativa_ficta"], "ficta_events": 1, "resolved_events": 1,
        "documents": ["ficta_certificate"], "file_copies": 1, "notices": 1,
    }
    document = documents.document_for_source("ficta_certificate", services.source_ref(request))
    assert request.resolution_document == document.public_id
    assert document.owner == request.applicant and document.folio == request.folio
    assert any("afirmativa ficta" in p for p in document.paragraphs)
    assert document_services.verify_pdf(bytes(document.pdf)).status == "valid"
    # Once: the next sweeps and a direct second application change nothing.
    assert deadlines.apply_due_deadlines(at(D(2026, 3, 9))) == []
    assert not deadlines.apply_deadline_rule(request.pk, DeadlineAction.Rule.AFIRMATIVA_FICTA, now=at(D(2026, 3, 9)))
    assert outcome(request)["actions"] == ["afirmativa_ficta"]


def test_negativa_ficta_denies_with_a_signed_notice(file_request):
    from ventanilla.documents import selectors as documents

    request = file_request(at(D(2026, 3, 2)), ficta="negativa")
    applied = deadlines.apply_due_deadlines(at(D(2026, 3, 6), 9))
    assert applied == [deadlines.DeadlineOutcome(request.pk, DeadlineAction.Rule.NEGATIVA_FICTA)]
    assert outcome(request) == {
        "status": Status.DENIED_FICTA, "actions": ["negativa_ficta"], "ficta_events": 1, "resolved_events": 1,
        "documents": ["denial_notice"], "file_copies": 1, "notices": 1,
    }
    notice = documents.document_for_source("denial_notice", services.source_ref(request))
    assert request.resolution_document == notice.public_id
    assert "negativa ficta" in request.resolution_text
    assert dict(documents_services.document_fields(notice))["Venció"] == "05/03/2026"
    assert deadlines.apply_due_deadlines(at(D(2026, 3, 20))) == []


def test_no_ficta_when_the_catalogue_gives_none(file_request):
    request = file_request(at(D(2026, 3, 2)), ficta="")
    assert deadlines.apply_due_deadlines(at(D(2026, 4, 30))) == []
    assert not deadlines.apply_deadline_rule(request.pk, DeadlineAction.Rule.NEGATIVA_FICTA, now=at(D(2026, 4, 30)))
    assert outcome(request)["status"] == Status.IN_REVIEW


def test_the_wrong_ficta_rule_is_refused(file_request):
    request = file_request(at(D(2026, 3, 2)), ficta="negativa")
    assert not deadlines.apply_deadline_rule(request.pk, DeadlineAction.Rule.AFIRMATIVA_FICTA, now=at(D(2026, 3, 9)))
    assert outcome(request)["actions"] == []
    with pytest.raises(ValueError):
        deadlines.apply_deadline_rule(request.pk, "olvido", now=at(D(2026, 3, 9)))


def test_the_term_ends_at_midnight_in_the_city_not_in_utc(file_request):
    request = file_request(at(D(2026, 3, 2)), ficta="afirmativa")  # due Thursday 5 March
    # 05:59 UTC on Friday is still Thursday 23:59 in Torreón (UTC-6).
    assert deadlines.apply_due_deadlines(dt.datetime(2026, 3, 6, 5, 59, tzinfo=dt.UTC)) == []
    assert len(deadlines.apply_due_deadlines(dt.datetime(2026, 3, 6, 6, 0, tzinfo=dt.UTC))) == 1
    assert outcome(request)["status"] == Status.APPROVED_FICTA


# --- Holidays -----------------------------------------------------------------------------------------

def test_16_september_is_skipped(file_request):
    request = file_request(at(D(2026, 9, 14)), ficta="afirmativa")  # Monday; Wednesday 16 is a holiday
    assert request.due_date == D(2026, 9, 18)  # Tue 15, Thu 17, Fri 18
    assert deadlines.apply_due_deadlines(at(D(2026, 9, 18), 18)) == []
    assert len(deadlines.apply_due_deadlines(at(D(2026, 9, 19), 8))) == 1


def test_a_city_non_working_day_is_skipped(file_request):
    NonWorkingDay.objects.create(date=D(2026, 9, 17), reason="Acuerdo de Cabildo: día inhábil por obras")
    request = file_request(at(D(2026, 9, 14)), ficta="afirmativa")
    assert request.due_date == D(2026, 9, 21)  # Tue 15, Fri 18, Mon 21
    assert deadlines.apply_due_deadlines(at(D(2026, 9, 21), 18)) == []
    assert len(deadlines.apply_due_deadlines(at(D(2026, 9, 22), 8))) == 1


# --- Corrections (prevención) ----------------------------------------------------------------------------

def _request_correction(request, reviewer, when):
    request.refresh_from_db()
    return services.request_correction(request, official=reviewer, text="Falta el comprobante de domicilio legible.",
                                       expected_revision=request.revision, now=when)


def test_a_correction_pauses_the_clock(file_request, reviewers):
    request = file_request(at(D(2026, 3, 2)), ficta="negativa")
    original_due = request.due_date
    assert original_due == D(2026, 3, 5)
    correction = _request_correction(request, reviewers[0], at(D(2026, 3, 3)))  # Tuesday
    assert correction.due_date == D(2026, 3, 10)  # 5 business days to answer
    request.refresh_from_db()
    assert (request.status, request.due_date) == (Status.CORRECTION, None)
    # The clock is stopped: the original due date passes and nothing happens.
    assert deadlines.apply_due_deadlines(at(D(2026, 3, 6), 8)) == []
    answered = services.answer_correction(request, actor=request.applicant, text="Adjunto el comprobante.",
                                          now=at(D(2026, 3, 6), 10))
    # Paused from Tuesday 3 to Friday 6 (four business days): the due date moves four business days.
    assert answered.due_date == calendar.add_business_days(original_due, 4) == D(2026, 3, 11)
    assert deadlines.apply_due_deadlines(at(D(2026, 3, 11), 20)) == []
    applied = deadlines.apply_due_deadlines(at(D(2026, 3, 12), 8))
    assert applied == [deadlines.DeadlineOutcome(request.pk, DeadlineAction.Rule.NEGATIVA_FICTA)]


def test_an_unanswered_correction_discards_the_request(file_request, reviewers):
    request = file_request(at(D(2026, 3, 2)), ficta="afirmativa")
    _request_correction(request, reviewers[0], at(D(2026, 3, 3)))
    assert deadlines.apply_due_deadlines(at(D(2026, 3, 10), 23)) == []  # answerable all of its last day
    applied = deadlines.apply_due_deadlines(at(D(2026, 3, 11), 8))
    assert applied == [deadlines.DeadlineOutcome(request.pk, DeadlineAction.Rule.CORRECTION_EXPIRED)]
    state = outcome(request)
    assert (state["status"], state["actions"], state["documents"], state["notices"]) == (
        Status.DISCARDED, ["correction_expired"], ["resolution"], 1)  # the signed acuerdo, appealable
    assert request.events.filter(kind=EventKind.DISCARDED).count() == 1
    assert "17-A" in request.resolution_text
    # No ficta for a discarded request, and it can no longer be answered.
    assert deadlines.apply_due_deadlines(at(D(2026, 6, 1))) == []
    with pytest.raises(services.ProcedureError):
        services.answer_correction(request, actor=request.applicant, text="Tarde.", now=at(D(2026, 3, 11), 9))


# --- Drafts ----------------------------------------------------------------------------------------------

def test_an_abandoned_draft_expires(licence, make_resident, settings):
    settings.VENTANILLA_DRAFT_TTL_DAYS = 30
    started = at(D(2026, 3, 2))
    draft = services.start_draft(licence, applicant=make_resident(), now=started)
    assert draft.draft_expires_at == started + dt.timedelta(days=30)
    assert deadlines.apply_due_deadlines(started + dt.timedelta(days=30, seconds=-1)) == []
    applied = deadlines.apply_due_deadlines(started + dt.timedelta(days=30), rules=[DeadlineAction.Rule.DRAFT_EXPIRED])
    assert applied == [deadlines.DeadlineOutcome(draft.pk, DeadlineAction.Rule.DRAFT_EXPIRED)]
    draft.refresh_from_db()
    assert draft.status == Status.EXPIRED
    assert draft.events.filter(kind=EventKind.EXPIRED).count() == 1
    assert deadlines.apply_due_deadlines(started + dt.timedelta(days=40)) == []


def test_rules_select_what_a_sweep_looks_at(file_request, licence, make_resident):
    filed = file_request(at(D(2026, 3, 2)), ficta="negativa")
    draft = services.start_draft(licence, applicant=make_resident(), now=at(D(2026, 1, 5)))
    later = at(D(2026, 3, 20))
    assert deadlines.due_deadline_work(later, rules=deadlines.LEGAL_RULES) == [
        deadlines.DeadlineOutcome(filed.pk, DeadlineAction.Rule.NEGATIVA_FICTA)]
    assert deadlines.due_deadline_work(later, rules=[DeadlineAction.Rule.DRAFT_EXPIRED]) == [
        deadlines.DeadlineOutcome(draft.pk, DeadlineAction.Rule.DRAFT_EXPIRED)]
    assert len(deadlines.due_deadline_work(later)) == 2


# --- Races and failures ----------------------------------------------------------------------------------

def test_a_request_resolved_after_the_sweep_listed_it_is_left_alone(file_request, reviewers):
    request = file_request(at(D(2026, 3, 2)), ficta="negativa")
    work = deadlines.due_deadline_work(at(D(2026, 3, 6)))
    assert [w.request_id for w in work] == [request.pk]
    request.refresh_from_db()
    services.reject(request, official=reviewers[0], grounds="El giro solicitado no es compatible con la zona.",
                    expected_revision=request.revision, now=at(D(2026, 3, 6), 9))
    assert not deadlines.apply_deadline_rule(request.pk, work[0].rule, now=at(D(2026, 3, 6), 10))
    state = outcome(request)
    assert (state["status"], state["actions"]) == (Status.REJECTED, [])


def test_one_failing_request_does_not_stop_the_sweep(file_request, monkeypatch):
    from ventanilla.documents import services as documents

    broken = file_request(at(D(2026, 3, 2)), ficta="afirmativa")
    fine = file_request(at(D(2026, 3, 2)), ficta="afirmativa")
    real_issue = documents.issue

    def issue(**kwargs):
        if kwargs["folio"] == broken.folio:
            raise RuntimeError("el módulo de firma no responde")
        return real_issue(**kwargs)

    monkeypatch.setattr(documents, "issue", issue)
    with pytest.raises(deadlines.DeadlineSweepError) as caught:
        deadlines.apply_due_deadlines(at(D(2026, 3, 6)))
    assert caught.value.applied == [deadlines.DeadlineOutcome(fine.pk, DeadlineAction.Rule.AFIRMATIVA_FICTA)]
    assert [item for item, _error in caught.value.failed] == [
        deadlines.DeadlineOutcome(broken.pk, DeadlineAction.Rule.AFIRMATIVA_FICTA)]
    # The failed one rolled back whole.
    assert outcome(broken) == {"status": Status.IN_REVIEW, "actions": [], "ficta_events": 0, "resolved_events": 0,
                               "documents": [], "file_copies": 0, "notices": 0}
    monkeypatch.setattr(documents, "issue", real_issue)
    assert deadlines.apply_due_deadlines(at(D(2026, 3, 6))) == [
        deadlines.DeadlineOutcome(broken.pk, DeadlineAction.Rule.AFIRMATIVA_FICTA)]
    assert outcome(broken)["documents"] == ["ficta_certificate"]


def test_the_sweep_job_hands_failures_to_their_own_retried_job(file_request, monkeypatch):
    from ventanilla.core import jobs
    from ventanilla.core.jobs.database import DatabaseBackend
    from ventanilla.core.jobs.worker import Worker
    from ventanilla.core.models import Job
    from ventanilla.documents import services as documents

    broken = file_request(at(D(2026, 3, 2)), ficta="afirmativa")
    Job.objects.filter(name="notifications.email").delete()  # the filing's notice; not this test's
    real_issue = documents.issue
    monkeypatch.setattr(documents, "issue", lambda **kw: (_ for _ in ()).throw(RuntimeError("sin llave de firma")))
    # The sweep's clock is the real one: the request was due long ago.
    assert jobs.registered("procedures.deadline_sweep").fn() == 0
    retry = Job.objects.get(name="procedures.apply_deadline")
    assert retry.kwargs == {"request_id": broken.pk, "rule": "afirmativa_ficta"}
    assert retry.key == f"procedures.deadline:{broken.pk}:afirmativa_ficta"
    jobs.registered("procedures.deadline_sweep").fn()
    assert Job.objects.filter(name="procedures.apply_deadline").count() == 1  # deduplicated
    backend = DatabaseBackend()
    worker = Worker(backend, schedule=False)
    assert worker.work_one()
    retry.refresh_from_db()
    assert retry.state == "queued" and "sin llave de firma" in retry.last_error
    monkeypatch.setattr(documents, "issue", real_issue)
    Job.objects.filter(pk=retry.pk).update(run_at=retry.run_at - dt.timedelta(hours=1))
    assert worker.work_one()
    retry.refresh_from_db()
    assert retry.state == "done"
    assert outcome(broken)["actions"] == ["afirmativa_ficta"]


def test_the_draft_job_expires_only_drafts(file_request, licence, make_resident):
    from ventanilla.core import jobs

    filed = file_request(at(D(2026, 3, 2)), ficta="negativa")
    draft = services.start_draft(licence, applicant=make_resident(), now=at(D(2026, 1, 5)))
    assert jobs.registered("procedures.expire_drafts").fn() == 1
    draft.refresh_from_db()
    filed.refresh_from_db()
    assert (draft.status, filed.status) == (Status.EXPIRED, Status.IN_REVIEW)
    assert jobs.registered("procedures.deadline_sweep").fn() == 1
    filed.refresh_from_db()
    assert filed.status == Status.DENIED_FICTA
