"""The online-procedures demo history: deterministic, and keeping the invariants the services keep
(folios, due dates, steps, events, answers, fees, documents, payment orders). Built once for the
module inside a transaction rolled back at the end; each test runs in its own savepoint."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pytest
from django.utils import timezone

from ventanilla.procedures import calendar, demo, metrics, services
from ventanilla.procedures import spec as spec_module
from ventanilla.procedures.models import (
    Correction,
    DeadlineAction,
    EventKind,
    FormPageEvent,
    Request,
    RequestDocument,
    RequestEvent,
    RequestStep,
    Status,
    StepStatus,
)

NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
COUNT = 1200


@pytest.fixture(scope="module")
def history_rows(django_db_setup, django_db_blocker):
    from django.db import transaction

    from ventanilla.catalog import demo as catalog_demo
    from ventanilla.identity import demo as identity_demo

    with django_db_blocker.unblock(), transaction.atomic():
        catalog_demo.build(history_days=0)
        identity_demo.build()
        assert demo.build(COUNT, now=NOW) == COUNT
        yield
        transaction.set_rollback(True)


@pytest.fixture
def history(history_rows, db):
    return list(Request.objects.select_related("procedure", "version", "applicant").order_by("pk"))


def test_history_covers_every_channel_procedure_and_state(history):
    assert len(history) == COUNT
    assert {r.channel for r in history} == {"online", "counter", "kiosk"}
    assert {r.procedure.clave for r in history} == set(demo.CLAVES)
    statuses = Counter(r.status for r in history)
    assert set(statuses) == {s.value for s in Status}, statuses
    # Most requests were submitted and resolved; a fair share of drafts were abandoned.
    assert statuses[Status.APPROVED] > COUNT / 3
    assert COUNT / 10 < statuses[Status.EXPIRED] + statuses[Status.DRAFT] < COUNT / 2
    kiosk = {r.procedure.clave for r in history if r.channel == "kiosk"}
    assert "TOR-DGDE-001" not in kiosk  # its catalogue entry has no kiosk
    counter = [r for r in history if r.channel == "counter"]
    assert all(r.filed_by is not None and r.filed_by.email == demo.CLERK for r in counter)


def test_history_keeps_the_services_invariants(history):
    closed = calendar.closed_days(2024, 2027)
    corrections: dict[int, list[Correction]] = {}
    for c in Correction.objects.order_by("requested_at"):
        corrections.setdefault(c.request_id, []).append(c)
    events: dict[int, list[str]] = {}
    for request_id, kind in RequestEvent.objects.order_by("at", "pk").values_list("request_id", "kind"):
        events.setdefault(request_id, []).append(kind)
    actions = set(DeadlineAction.objects.values_list("request_id", "rule"))
    for r in history:
        kinds = events[r.pk]
        assert kinds[0] == EventKind.CREATED
        assert r.created_at <= NOW
        if r.status in (Status.DRAFT, Status.EXPIRED):
            assert r.folio is None and r.submitted_at is None and EventKind.SUBMITTED not in kinds
            assert (r.status == Status.EXPIRED) == ((r.pk, DeadlineAction.Rule.DRAFT_EXPIRED) in actions)
            assert (r.status == Status.EXPIRED) == (r.draft_expires_at <= NOW)
            continue
        assert r.folio == services._make_folio(r, r.submitted_at)
        assert re.fullmatch(r"TRC-20\d\d-\d{7}", r.folio)
        spec = spec_module.parse_spec(r.version.spec)
        assert spec_module.missing_answers(spec, r.answers) == []
        assert r.fee_centavos == services.compute_fee(r) > 0
        pauses = [(timezone.localdate(c.requested_at), timezone.localdate(c.answered_at))
                  for c in corrections.get(r.pk, []) if c.answered_at]
        open_correction = any(c.answered_at is None for c in corrections.get(r.pk, []))
        if r.status in (Status.CORRECTION, Status.DISCARDED):
            assert open_correction and r.due_date is None
        else:
            assert r.due_date == calendar.deadline(timezone.localdate(r.submitted_at), r.procedure.response_days,
                                                   pauses=pauses, extra_closed=closed)
        if r.status == Status.APPROVED:
            assert kinds[-4:] == [EventKind.APPROVED, EventKind.PAYMENT_REQUESTED, EventKind.PAID, EventKind.RESOLVED]
            assert r.resolved_at <= NOW and not r.resolution_document
        if r.status == Status.REJECTED:
            assert kinds[-2:] == [EventKind.REJECTED, EventKind.RESOLVED] and len(r.resolution_text) >= 20
        if r.status in (Status.APPROVED_FICTA, Status.DENIED_FICTA):
            rule = "afirmativa_ficta" if r.status == Status.APPROVED_FICTA else "negativa_ficta"
            assert (r.pk, rule) in actions and kinds[-2:] == [EventKind.FICTA, EventKind.RESOLVED]
            assert timezone.localdate(r.resolved_at) > r.due_date
            assert r.procedure.ficta == rule.split("_")[0]
        if r.status == Status.DISCARDED:
            assert (r.pk, DeadlineAction.Rule.CORRECTION_EXPIRED) in actions
        if r.status == Status.IN_REVIEW:
            assert EventKind.RESOLVED not in kinds and r.resolved_at is None


def test_review_steps_are_decided_by_their_department_in_office_hours(history):
    from ventanilla.identity.permissions import has_role

    closed = calendar.closed_days(2024, 2027)
    steps = RequestStep.objects.select_related("department", "decided_by", "request")
    assert steps.exists()
    reviewers = {}
    for s in steps:
        if s.status in (StepStatus.APPROVED, StepStatus.REJECTED):
            key = (s.decided_by_id, s.department_id)
            if key not in reviewers:
                reviewers[key] = has_role(s.decided_by, s.role, department=s.department)
            assert reviewers[key]
            assert s.activated_at <= s.decided_at <= NOW
            local = timezone.localtime(s.decided_at)
            assert calendar.is_business_day(local.date(), extra_closed=closed) and 8 <= local.hour < 17
        if s.status == StepStatus.WAITING:
            assert s.activated_at is None
    for r in Request.objects.filter(status=Status.APPROVED):
        assert set(r.steps.values_list("status", flat=True)) == {StepStatus.APPROVED}


def test_open_requests_can_be_carried_on(history):
    from ventanilla.files import selectors as files
    from ventanilla.payments import selectors as payments

    awaiting = [r for r in history if r.status == Status.AWAITING_PAYMENT]
    assert awaiting
    for r in awaiting:
        r.refresh_from_db()
        order = payments.order_by_public_id(r.payment_order)
        assert order is not None and order.amount_centavos == r.fee_centavos and order.payer_id == r.applicant_id
        assert order.source_ref == services.source_ref(r)
    open_ones = [r for r in history if r.status in (Status.IN_REVIEW, Status.CORRECTION, Status.AWAITING_PAYMENT)]
    for r in open_ones:
        assert services.missing_documents(r) == []
        for attached in RequestDocument.objects.filter(request=r):
            assert files.document_of(r.applicant, attached.file_document) is not None


def test_demo_residents_have_valid_curps(history):
    from ventanilla.identity.curp import is_valid
    from ventanilla.identity.models import User

    residents = User.objects.filter(email__endswith=f"@{demo.DEMO_EMAIL_DOMAIN}")
    assert residents.count() == max(40, COUNT // 6)
    assert all(is_valid(curp) for curp in residents.values_list("curp", flat=True))
    assert not any(u.has_usable_password() for u in residents)


def test_page_events_describe_the_journey(history):
    first = FormPageEvent.objects.filter(request__status=Status.APPROVED).values_list("request_id", flat=True).first()
    request = Request.objects.get(pk=first)
    spec = spec_module.parse_spec(request.version.spec)
    pages = list(FormPageEvent.objects.filter(request=request).order_by("at", "pk").values_list("page", "kind"))
    expected = [(p.key, k) for p in spec.pages for k in ("viewed", "completed")] + [("documentos", "viewed"), ("revisar", "viewed")]
    assert pages == expected


def test_history_is_deterministic_and_written_once(history):
    def signature():
        return [(r.procedure.clave, r.channel, r.status, r.created_at, r.submitted_at, r.due_date, r.fee_centavos, r.public_id)
                for r in Request.objects.select_related("procedure").order_by("created_at", "public_id")]

    first = signature()
    assert demo.build(COUNT, now=NOW) == 0  # already there
    assert Request.objects.count() == COUNT
    from ventanilla.payments.models import PaymentOrder

    RequestDocument.objects.all().delete()
    PaymentOrder.objects.all().delete()
    Request.objects.all().delete()
    assert demo.build(COUNT, now=NOW) == COUNT
    assert signature() == first


def test_dashboard_figures_match_the_history(history):
    today = timezone.localdate(NOW)
    start = today - dt.timedelta(days=400)
    submitted = [r for r in history if r.submitted_at is not None]
    assert sum(row.count for row in metrics.submissions(start, today)) == len(submitted)
    funnels = metrics.form_funnel(start, today)
    assert sum(f.started for f in funnels) == COUNT
    assert sum(f.submitted for f in funnels) == len(submitted)
    paid = [r for r in history if r.status == Status.APPROVED]
    assert sum(row.centavos for row in metrics.revenue(start, today)) == sum(r.fee_centavos for r in paid)
    outcomes = metrics.outcomes(start, today)
    assert sum(row.counts[Status.REJECTED] for row in outcomes) == sum(r.status == Status.REJECTED for r in history)
