"""The core services of a request's life: submit, review steps in sequence and in parallel, the
correction request (prevención) that stops the legal clock, rejection, resolution, notes,
messages and assignment. Called directly, as views, the API and the worker do."""

from __future__ import annotations

import copy
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.procedures_fixtures import demo_spec
from ventanilla.documents import services as documents_services

TZ = ZoneInfo("America/Monterrey")


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=TZ)


@pytest.fixture
def services():
    from ventanilla.procedures import services

    return services


@pytest.fixture
def de_reviewer(reviewers):
    return reviewers[0]


@pytest.fixture
def pc_reviewer(reviewers):
    return reviewers[1]


def _notifications(user):
    from ventanilla.notifications.models import Notification

    return list(Notification.objects.filter(recipient=user).order_by("created_at", "id"))


def _events(request):
    return list(request.events.order_by("at", "pk").values_list("kind", flat=True))


@pytest.fixture
def parallel_licence(licence, make_official):
    """The licence with a second published version: documentary review and civil protection in
    parallel, then a final opinion by Desarrollo Económico's administrator after both."""
    from ventanilla.procedures import services

    spec = copy.deepcopy(demo_spec("TOR-DGDE-001"))
    spec["steps"] = [
        {"key": "revision_documental", "name": "Revisión documental", "department": "desarrollo-economico",
         "role": "reviewer", "after": []},
        {"key": "proteccion_civil", "name": "Visto bueno de Protección Civil", "department": "proteccion-civil",
         "role": "reviewer", "after": []},
        {"key": "dictamen", "name": "Dictamen final", "department": "desarrollo-economico",
         "role": "department_admin", "after": ["revision_documental", "proteccion_civil"]},
    ]
    services.save_draft_spec(licence, spec, by=None)
    services.publish_definition(licence, by=None)
    licence.refresh_from_db()
    return licence


@pytest.fixture
def free_licence(make_procedure, licence):
    """A procedure without a fee, filed with the licence's form: approval resolves at once."""
    from ventanilla.procedures import services

    procedure = make_procedure(publish=True, cost_kind="free", cost_amount_centavos=None, response_days=3,
                               ficta="negativa", correction_days=5)
    definition = services.get_or_create_definition(procedure)
    services.save_draft_spec(definition, demo_spec("TOR-DGDE-001"), by=None)
    services.publish_definition(definition, by=None)
    definition.refresh_from_db()
    return definition


# --- submit --------------------------------------------------------------------------------------


def test_submit_files_the_draft_with_folio_steps_deadline_event_and_notice(services, licence, fill_licence, make_resident):
    from ventanilla.procedures import calendar
    from ventanilla.procedures.models import EventKind, Status, StepStatus

    resident = make_resident()
    draft = fill_licence(services.start_draft(licence, applicant=resident, now=at("2026-06-01", 9)))
    request = services.submit(draft, actor=resident, now=at("2026-06-01", 10))
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW
    assert request.folio == f"TRC-2026-{request.pk:07d}"
    assert request.submitted_at == at("2026-06-01", 10)
    assert request.draft_expires_at is None
    assert request.fee_centavos == 82000
    # 3 business days after Monday 1 June 2026: Thursday 4 June.
    assert request.due_date == dt.date(2026, 6, 4) == calendar.add_business_days(dt.date(2026, 6, 1), 3)
    steps = {s.key: s.status for s in request.steps.all()}
    assert steps == {"revision_documental": StepStatus.ACTIVE, "proteccion_civil": StepStatus.WAITING}
    assert _events(request) == [EventKind.CREATED, EventKind.SUBMITTED]
    submitted = request.events.get(kind=EventKind.SUBMITTED)
    assert submitted.data["city_documents"] == ["uso_suelo"]  # the city holds the land-use feasibility
    [notice] = _notifications(resident)
    assert request.folio in notice.subject and "04/06/2026" in notice.body


def test_notices_are_written_in_spanish_whatever_language_the_actor_uses(services, licence, fill_licence, make_resident):
    """A resident browsing in English submits: the stored and e-mailed notice is in the
    platform's language, not the actor's interface language of that moment."""
    from django.utils import translation

    resident = make_resident()
    with translation.override("en"):
        assert translation.gettext("Recibimos tu solicitud %(folio)s") != "Recibimos tu solicitud %(folio)s"
        draft = fill_licence(services.start_draft(licence, applicant=resident, now=at("2026-06-01", 9)))
        request = services.submit(draft, actor=resident, now=at("2026-06-01", 10))
    [notice] = _notifications(resident)
    assert notice.subject == f"Recibimos tu solicitud {request.folio}"
    assert notice.body.startswith("Tu solicitud de «")


def test_submit_refuses_incomplete_drafts_other_people_and_a_second_time(services, licence, fill_licence, make_resident):
    from ventanilla.procedures.models import Status

    resident = make_resident()
    draft = services.start_draft(licence, applicant=resident)
    with pytest.raises(services.ProcedureError) as incomplete:
        services.submit(draft, actor=resident)
    assert "Falta" in incomplete.value.errors["__all__"]
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and draft.folio is None and not draft.steps.exists()

    fill_licence(draft)
    with pytest.raises(services.NotAllowed):
        services.submit(draft, actor=make_resident())
    services.submit(draft, actor=resident)
    with pytest.raises(services.ProcedureError):
        services.submit(draft, actor=resident)
    assert draft.steps.count() == 2


# --- steps ---------------------------------------------------------------------------------------


def test_steps_in_sequence_each_by_its_department(services, submitted_request, de_reviewer, pc_reviewer):
    from ventanilla.procedures.models import EventKind, Status, StepStatus

    request = submitted_request()
    # Protección Civil's step waits for the documentary review.
    assert services.reviewable_steps(request, pc_reviewer) == []
    with pytest.raises(services.NotAllowed):
        services.approve_step(request, "proteccion_civil", official=pc_reviewer, expected_revision=request.revision)
    with pytest.raises(services.NotAllowed):
        services.approve_step(request, "revision_documental", official=pc_reviewer, expected_revision=request.revision)

    services.approve_step(request, "revision_documental", official=de_reviewer, expected_revision=request.revision)
    steps = {s.key: s for s in request.steps.all()}
    assert steps["revision_documental"].status == StepStatus.APPROVED
    assert steps["revision_documental"].decided_by == de_reviewer
    assert steps["proteccion_civil"].status == StepStatus.ACTIVE
    assert services.reviewable_steps(request, de_reviewer) == []
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW
    assert _events(request).count(EventKind.STEP_APPROVED) == 1


def test_last_step_with_a_fee_asks_for_payment(services, submitted_request, de_reviewer, pc_reviewer):
    from ventanilla.payments import selectors as payments
    from ventanilla.procedures.models import EventKind, Status

    request = submitted_request()
    services.approve_step(request, "revision_documental", official=de_reviewer, expected_revision=request.revision)
    services.approve_step(request, "proteccion_civil", official=pc_reviewer, expected_revision=request.revision)
    request.refresh_from_db()
    assert request.status == Status.AWAITING_PAYMENT
    order = payments.order_for_source(services.source_ref(request))
    assert order is not None and order.amount_centavos == 82000 and order.payer == request.applicant
    assert request.payment_order == order.public_id
    assert _events(request)[-2:] == [EventKind.APPROVED, EventKind.PAYMENT_REQUESTED]
    assert any("falta el pago" in n.subject for n in _notifications(request.applicant))


def test_last_step_without_a_fee_resolves_with_a_signed_document(services, free_licence, fill_licence, make_resident, reviewers):
    from ventanilla.documents import selectors as documents
    from ventanilla.files import selectors as files
    from ventanilla.procedures.models import EventKind, Status

    de_reviewer, pc_reviewer = reviewers
    resident = make_resident()
    request = services.submit(fill_licence(services.start_draft(free_licence, applicant=resident)), actor=resident)
    assert request.fee_centavos == 0
    services.approve_step(request, "revision_documental", official=de_reviewer, expected_revision=request.revision)
    services.approve_step(request, "proteccion_civil", official=pc_reviewer, expected_revision=request.revision)
    request.refresh_from_db()
    assert request.status == Status.APPROVED and request.resolved_at is not None
    issued = documents.document_by_public_id(request.resolution_document)
    assert issued is not None and issued.folio == request.folio and issued.owner == resident
    assert any(d.issued_document == issued.public_id for d in files.documents_of(resident))
    assert _events(request)[-2:] == [EventKind.APPROVED, EventKind.RESOLVED]


def test_parallel_steps_are_active_together_and_the_next_waits_for_both(services, parallel_licence, fill_licence,
                                                                        make_resident, reviewers, make_official):
    from ventanilla.organization.models import Department
    from ventanilla.procedures.models import Status, StepStatus

    de_reviewer, pc_reviewer = reviewers
    de_admin = make_official("department_admin", department=Department.objects.get(slug="desarrollo-economico"))
    resident = make_resident()
    request = services.submit(fill_licence(services.start_draft(parallel_licence, applicant=resident)), actor=resident)

    def states():
        return {s.key: s.status for s in request.steps.all()}

    assert states() == {"revision_documental": StepStatus.ACTIVE, "proteccion_civil": StepStatus.ACTIVE,
                        "dictamen": StepStatus.WAITING}
    assert [s.key for s in services.reviewable_steps(request, pc_reviewer)] == ["proteccion_civil"]
    services.approve_step(request, "proteccion_civil", official=pc_reviewer, expected_revision=request.revision)
    assert states()["dictamen"] == StepStatus.WAITING
    assert states()["revision_documental"] == StepStatus.ACTIVE
    # A reviewer is not the department administrator the final step asks for.
    services.approve_step(request, "revision_documental", official=de_reviewer, expected_revision=request.revision)
    assert states()["dictamen"] == StepStatus.ACTIVE
    assert services.reviewable_steps(request, de_reviewer) == []
    services.approve_step(request, "dictamen", official=de_admin, expected_revision=request.revision)
    request.refresh_from_db()
    assert request.status == Status.AWAITING_PAYMENT


def test_a_stale_revision_is_a_conflict_and_changes_nothing(services, submitted_request, de_reviewer):
    from ventanilla.procedures.models import StepStatus

    request = submitted_request()
    seen = request.revision
    services.assign(request, official=de_reviewer, to=de_reviewer, expected_revision=seen)
    with pytest.raises(services.Conflict) as exc:
        services.approve_step(request, "revision_documental", official=de_reviewer, expected_revision=seen)
    assert "Otra persona actualizó esta solicitud" in exc.value.message
    assert request.steps.get(key="revision_documental").status == StepStatus.ACTIVE
    assert request.revision == seen + 1


@pytest.mark.parametrize("returning", [True, False], ids=["update-returning", "update-then-read"])
def test_claiming_bumps_the_revision_and_reads_the_row_in_one_statement_or_two(
        services, submitted_request, de_reviewer, monkeypatch, returning):
    """`_bump_revision` is one UPDATE … RETURNING where the engine has it and an UPDATE followed by
    a read where it does not (SQLite older than 3.35); both give the row as it is now."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    request = submitted_request()
    monkeypatch.setattr(connection.features, "can_return_columns_from_insert", returning)
    with CaptureQueriesContext(connection) as queries:
        fresh = services._bump_revision(request.pk, request.revision)
    assert len(queries) == (1 if returning else 2)
    assert fresh.pk == request.pk and fresh.revision == request.revision + 1
    assert fresh.folio == request.folio and fresh.answers == request.answers and fresh.due_date == request.due_date
    assert services._bump_revision(request.pk, request.revision) is None  # the revision moved on
    assert services._bump_revision(10**9, None) is None  # no such row
    monkeypatch.undo()
    services.assign(request, official=de_reviewer, to=de_reviewer, expected_revision=fresh.revision)
    request.refresh_from_db()
    assert request.revision == fresh.revision + 1 and request.assigned_to_id == de_reviewer.pk


def test_a_refused_action_leaves_the_callers_object_as_the_database_has_it(services, submitted_request, de_reviewer, pc_reviewer):
    from ventanilla.procedures.models import Request

    request = submitted_request()
    for refused in (
        lambda: services.approve_step(request, "proteccion_civil", official=pc_reviewer, expected_revision=request.revision),
        lambda: services.request_correction(request, official=de_reviewer, text="Falta", days=99,
                                            expected_revision=request.revision),
        lambda: services.reject(request, official=pc_reviewer, grounds="Fundamentos suficientemente largos.",
                                expected_revision=request.revision),
    ):
        with pytest.raises(services.ProcedureError):
            refused()
        assert request.revision == Request.objects.get(pk=request.pk).revision
    # So the same object can still act without a false conflict.
    services.approve_step(request, "revision_documental", official=de_reviewer, expected_revision=request.revision)


# --- correction ----------------------------------------------------------------------------------


def test_correction_stops_the_clock_and_the_answer_moves_the_due_date(services, licence, fill_licence,
                                                                      make_resident, de_reviewer):
    from ventanilla.procedures.models import Correction, EventKind, Status

    resident = make_resident()
    request = services.submit(fill_licence(services.start_draft(licence, applicant=resident, now=at("2026-06-01", 9))),
                              actor=resident, now=at("2026-06-01", 10))
    assert request.due_date == dt.date(2026, 6, 4)

    correction = services.request_correction(request, official=de_reviewer, text="Falta la firma en la identificación.",
                                             days=5, expected_revision=request.revision, now=at("2026-06-02"))
    request.refresh_from_db()
    assert request.status == Status.CORRECTION
    assert request.due_date is None  # the clock is stopped
    assert correction.due_date == dt.date(2026, 6, 9)  # 5 business days after Tuesday 2 June
    assert any("corrección" in n.subject for n in _notifications(resident))

    # Answered on Friday 5 June: 2-5 June do not count; 3 days from 1 June resume on 8, 9, 10 June.
    services.answer_correction(request, actor=resident, text="Adjunté la identificación firmada.", now=at("2026-06-05"))
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW
    assert request.due_date == dt.date(2026, 6, 10)
    answered = Correction.objects.get(pk=correction.pk)
    assert answered.answered_at == at("2026-06-05") and answered.answer_text == "Adjunté la identificación firmada."
    assert _events(request)[-2:] == [EventKind.CORRECTION_REQUESTED, EventKind.CORRECTION_ANSWERED]


def test_correction_refusals(services, submitted_request, de_reviewer, pc_reviewer):
    from ventanilla.procedures.models import Status

    request = submitted_request()
    with pytest.raises(services.ProcedureError) as empty:
        services.request_correction(request, official=de_reviewer, text="  ", expected_revision=request.revision)
    assert "text" in empty.value.errors
    with pytest.raises(services.ProcedureError):
        services.request_correction(request, official=de_reviewer, text="x", days=61, expected_revision=request.revision)
    with pytest.raises(services.NotAllowed):  # Protección Civil's step is not active yet
        services.request_correction(request, official=pc_reviewer, text="Falta algo", expected_revision=request.revision)
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW and not request.corrections.exists()


def test_correction_default_term_is_the_procedures_and_late_answers_are_refused(services, licence, fill_licence,
                                                                               make_resident, de_reviewer):
    resident = make_resident()
    request = services.submit(fill_licence(services.start_draft(licence, applicant=resident, now=at("2026-06-01", 9))),
                              actor=resident, now=at("2026-06-01", 10))
    correction = services.request_correction(request, official=de_reviewer, text="Falta el comprobante.",
                                             expected_revision=request.revision, now=at("2026-06-01", 11))
    assert correction.due_date == dt.date(2026, 6, 8)  # the licence gives 5 business days
    with pytest.raises(services.NotAllowed):
        services.answer_correction(request, actor=de_reviewer, text="No soy la persona", now=at("2026-06-02"))
    with pytest.raises(services.ProcedureError) as late:
        services.answer_correction(request, actor=resident, text="Aquí está", now=at("2026-06-09"))
    assert "venció" in late.value.message


# --- reject and resolve --------------------------------------------------------------------------


def test_reject_needs_grounds_and_resolves_with_them(services, submitted_request, de_reviewer):
    from ventanilla.audit.models import AuditEntry
    from ventanilla.procedures.models import EventKind, Status, StepStatus

    request = submitted_request()
    with pytest.raises(services.ProcedureError) as short:
        services.reject(request, official=de_reviewer, grounds="No procede.", expected_revision=request.revision)
    assert "grounds" in short.value.errors
    grounds = "El giro solicitado no es compatible con el uso de suelo (Reglamento de Zonificación, art. 12)."
    services.reject(request, official=de_reviewer, grounds=grounds, expected_revision=request.revision)
    request.refresh_from_db()
    assert request.status == Status.REJECTED and request.resolution_text == grounds
    # The denial is a signed resolution the resident can download and appeal, with its grounds.
    from ventanilla.documents import selectors as documents_selectors

    resolution = documents_selectors.document_by_public_id(request.resolution_document)
    assert resolution.kind == "resolution" and resolution.owner == request.applicant
    assert resolution.title == "Resolución que niega la solicitud" and grounds in resolution.paragraphs
    assert documents_services.verify_pdf(bytes(resolution.pdf)).status == "valid"
    assert request.steps.get(key="revision_documental").status == StepStatus.REJECTED
    assert request.steps.get(key="proteccion_civil").status == StepStatus.WAITING
    assert _events(request)[-2:] == [EventKind.REJECTED, EventKind.RESOLVED]
    assert AuditEntry.objects.filter(action="procedures.rejected", subject_id=str(request.pk)).exists()
    with pytest.raises(services.ProcedureError):
        services.approve_step(request, "revision_documental", official=de_reviewer, expected_revision=request.revision)


def test_reject_by_someone_without_an_active_step_changes_nothing(services, submitted_request, pc_reviewer):
    from ventanilla.procedures.models import Status

    request = submitted_request()
    seen = request.revision
    with pytest.raises(services.NotAllowed):
        services.reject(request, official=pc_reviewer, grounds="Fundamentos suficientemente largos.", expected_revision=seen)
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW and request.revision == seen


def test_resolve_approved_issues_the_template_and_keeps_a_copy_in_the_file(services, submitted_request):
    from django.db import transaction

    from ventanilla.documents import selectors as documents
    from ventanilla.files import selectors as files
    from ventanilla.procedures.models import Status

    request = submitted_request()
    with transaction.atomic():
        services.resolve(request, status=Status.APPROVED, actor=None, now=at("2026-06-03"))
    request.refresh_from_db()
    doc = documents.document_by_public_id(request.resolution_document)
    assert doc.kind == "certificate" and doc.title == "Licencia de funcionamiento para negocio de bajo impacto"
    assert ("Nombre comercial del negocio", "Abarrotes Doña Lupita") in documents_services.document_fields(doc)
    assert files.documents_of(request.applicant).filter(issued_document=doc.public_id).count() == 1
    assert any("fue resuelta" in n.subject for n in _notifications(request.applicant))


# --- notes, messages, assignment, visibility -----------------------------------------------------


def test_notes_are_internal_and_need_to_see_the_case(services, submitted_request, de_reviewer, make_official, other_department):
    from ventanilla.procedures import selectors

    request = submitted_request()
    note = services.add_note(request, official=de_reviewer, text="Revisar con la dirección.")
    assert note.internal and note.kind == "note"
    assert note not in selectors.public_history(request)
    assert note in selectors.full_history(request)
    with pytest.raises(services.NotAllowed):
        services.add_note(request, official=make_official("reviewer", department=other_department), text="Hola")
    with pytest.raises(services.ProcedureError):
        services.add_note(request, official=de_reviewer, text=" ")


def test_messages_between_officials_and_the_resident(services, submitted_request, de_reviewer, make_resident,
                                                     make_official, other_department):
    request = submitted_request()
    before = len(_notifications(request.applicant))
    sent = services.send_message(request, sender=de_reviewer, text="¿El local tiene salida de emergencia?")
    assert not sent.internal and sent.data == {"from_resident": False}
    assert len(_notifications(request.applicant)) == before + 1
    reply = services.send_message(request, sender=request.applicant, text="Sí, por la calle lateral.")
    assert reply.data == {"from_resident": True}
    assert len(_notifications(request.applicant)) == before + 1
    with pytest.raises(services.NotAllowed):
        services.send_message(request, sender=make_resident(), text="Hola")
    with pytest.raises(services.NotAllowed):
        services.send_message(request, sender=make_official("reviewer", department=other_department), text="Hola")


def test_assign_to_a_colleague_and_back_to_nobody(services, submitted_request, de_reviewer, pc_reviewer,
                                                  make_official, other_department, department):
    from ventanilla.procedures.models import EventKind

    request = submitted_request()
    colleague = make_official("reviewer", department=department)
    services.assign(request, official=de_reviewer, to=colleague, expected_revision=request.revision)
    request.refresh_from_db()
    assert request.assigned_to == colleague
    event = request.events.filter(kind=EventKind.ASSIGNED).get()
    assert event.internal and event.data == {"to": str(colleague.public_id)}
    # Protección Civil's reviewer sees the case (one of its steps) and may hand it on.
    services.assign(request, official=pc_reviewer, to=None, expected_revision=request.revision)
    request.refresh_from_db()
    assert request.assigned_to is None
    outsider = make_official("reviewer", department=other_department)
    with pytest.raises(services.ProcedureError):
        services.assign(request, official=de_reviewer, to=outsider, expected_revision=request.revision)
    with pytest.raises(services.NotAllowed):
        services.assign(request, official=outsider, to=outsider, expected_revision=request.revision)
    request.refresh_from_db()
    assert request.assigned_to is None


def test_can_view(services, submitted_request, reviewers, make_official, other_department, department, make_resident):
    request = submitted_request()
    de_reviewer, pc_reviewer = reviewers
    assert services.can_view(request, de_reviewer)
    assert services.can_view(request, pc_reviewer)
    assert services.can_view(request, make_official("counter_clerk", department=department))
    assert services.can_view(request, make_official("platform_admin", department=other_department))
    assert not services.can_view(request, make_official("reviewer", department=other_department))
    assert not services.can_view(request, make_official("catalog_editor", department=department))
    assert not services.can_view(request, make_resident())
