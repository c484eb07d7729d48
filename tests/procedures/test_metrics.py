"""Measurement functions over hand-built requests: every figure is checked exactly."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from ventanilla.procedures import metrics
from ventanilla.procedures.models import (
    EventKind,
    FormPageEvent,
    Request,
    RequestEvent,
    RequestStep,
    Status,
    StepStatus,
)

TZ = ZoneInfo(settings.TIME_ZONE)  # America/Monterrey: UTC−6
FROM, TO = dt.date(2025, 3, 1), dt.date(2025, 3, 31)


def at(day: int, hour: int = 10, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, minute, tzinfo=TZ)


TRAFFIC_SPEC = {
    "pages": [{"key": "multa", "title": "Tu multa", "fields": [
        {"key": "umas", "type": "number", "label": "UMA de la boleta", "min": 1, "max": 500}]}],
    "documents": [],
    "steps": [{"key": "validacion", "name": "Validación de la boleta", "department": "tesoreria",
               "role": "reviewer", "after": []}],
    "fee": {"parameters": {}},
    "template": {"kind": "resolution", "title": "Pago de multa", "fields": ["umas"], "paragraphs": []},
}


@pytest.fixture
def fines(db, make_procedure, other_department):
    """A second online procedure, owned by another department (Tesorería)."""
    from ventanilla.procedures import services

    procedure = make_procedure(publish=True, clave="TOR-TES-900", name="Pago de multas", department=other_department,
                               channel_in_person=False, presentation="en_linea",
                               cost_kind="fixed", cost_amount_centavos=5000)
    definition = services.get_or_create_definition(procedure)
    services.save_draft_spec(definition, TRAFFIC_SPEC, by=None)
    services.publish_definition(definition, by=None)
    definition.refresh_from_db()
    return definition


@pytest.fixture
def make_request(make_resident):
    """Builds a request row directly (no services), with the given dates and state."""
    resident = None

    def factory(definition, *, created=None, submitted=None, channel="online", status=None, fee=None,
                due=None, resolved=None) -> Request:
        nonlocal resident
        resident = resident or make_resident()
        created = created or submitted or at(1)
        status = status or (Status.IN_REVIEW if submitted else Status.DRAFT)
        request = Request.objects.create(
            version=definition.published_version, procedure=definition.procedure,
            department=definition.procedure.department, applicant=resident, channel=channel, status=status,
            created_at=created, submitted_at=submitted, fee_centavos=fee, due_date=due, resolved_at=resolved,
        )
        if submitted:
            request.folio = f"TRC-2025-{request.pk:07d}"
            request.save(update_fields=["folio"])
        return request

    return factory


def event(request, kind, when, **kwargs) -> RequestEvent:
    return RequestEvent.objects.create(request=request, kind=kind, at=when, **kwargs)


def page(request, key, kind, when) -> None:
    FormPageEvent.objects.create(request=request, page=key, kind=kind, at=when)


# --- Submissions -----------------------------------------------------------------------------------


@pytest.fixture
def submitted(licence, fines, make_request):
    for day in (2, 5, 9):
        make_request(licence, submitted=at(day))
    make_request(licence, submitted=at(10), channel="counter")
    make_request(licence, submitted=at(31, 23, 59))  # last minute of the range, local time
    make_request(licence, submitted=at(1, 0, 0, month=4))  # first minute after it
    make_request(licence, submitted=at(28, 12, month=2))  # before it
    make_request(licence, created=at(3))  # a draft: never submitted
    make_request(fines, submitted=at(4), channel="kiosk")
    make_request(fines, submitted=at(20), channel="kiosk")
    return licence, fines


def _rows(rows):
    return [(r.procedure.clave, r.channel, r.count) for r in rows]


def test_submissions_by_procedure_and_channel(submitted):
    _licence, _fines = submitted
    assert _rows(metrics.submissions(FROM, TO)) == [
        ("TOR-DGDE-001", "online", 4), ("TOR-TES-900", "kiosk", 2), ("TOR-DGDE-001", "counter", 1),
    ]


def test_submissions_filters(submitted):
    licence, fines = submitted
    assert _rows(metrics.submissions(FROM, TO, channel="counter")) == [("TOR-DGDE-001", "counter", 1)]
    assert _rows(metrics.submissions(FROM, TO, procedure=fines.procedure)) == [("TOR-TES-900", "kiosk", 2)]
    assert _rows(metrics.submissions(FROM, TO, department=fines.procedure.department)) == [("TOR-TES-900", "kiosk", 2)]
    assert _rows(metrics.submissions(FROM, TO, department=[fines.procedure.department_id,
                                                           licence.procedure.department_id])) == [
        ("TOR-DGDE-001", "online", 4), ("TOR-TES-900", "kiosk", 2), ("TOR-DGDE-001", "counter", 1),
    ]
    assert _rows(metrics.submissions(dt.date(2025, 4, 1), dt.date(2025, 4, 1))) == [("TOR-DGDE-001", "online", 1)]
    assert metrics.submissions(dt.date(2025, 3, 11), dt.date(2025, 3, 19)) == []


def test_submissions_by_month(submitted):
    months = metrics.submissions_by_month(dt.date(2025, 1, 15), dt.date(2025, 4, 30))
    assert [(m.month, m.count) for m in months] == [
        (dt.date(2025, 1, 1), 0), (dt.date(2025, 2, 1), 1), (dt.date(2025, 3, 1), 7), (dt.date(2025, 4, 1), 1),
    ]


def test_bad_filters_are_refused(db):
    with pytest.raises(metrics.MetricsError):
        metrics.submissions(TO, FROM)
    with pytest.raises(metrics.MetricsError):
        metrics.submissions(FROM, TO, channel="fax")
    with pytest.raises(metrics.MetricsError):
        metrics.outcomes(FROM, TO, procedure="TOR-DGDE-001")


# --- Form funnel -----------------------------------------------------------------------------------

V, C = FormPageEvent.Kind.VIEWED, FormPageEvent.Kind.COMPLETED


@pytest.fixture
def funnel_data(licence, fines, make_request):
    full = make_request(licence, created=at(2), submitted=at(2, 12))
    for i, key in enumerate(("negocio", "fiscal", "local")):
        page(full, key, V, at(2, 10, 10 * i))
        page(full, key, C, at(2, 10, 10 * i + 5))
    page(full, "documentos", V, at(2, 11))
    page(full, "revisar", V, at(2, 11, 30))
    at_fiscal = make_request(licence, created=at(3))
    page(at_fiscal, "negocio", V, at(3, 10))
    page(at_fiscal, "negocio", C, at(3, 11))
    page(at_fiscal, "fiscal", V, at(3, 12))
    at_first = make_request(licence, created=at(4), status=Status.EXPIRED)
    page(at_first, "negocio", V, at(4, 10))
    page(at_first, "negocio", V, at(4, 11))  # came back to it, then left
    make_request(licence, created=at(5))  # started, never saw a page
    at_documents = make_request(licence, created=at(6))
    for i, key in enumerate(("negocio", "fiscal", "local")):
        page(at_documents, key, V, at(6, 10, 10 * i))
        page(at_documents, key, C, at(6, 10, 10 * i + 5))
    page(at_documents, "documentos", V, at(6, 11))
    back_and_forth = make_request(licence, created=at(7))
    page(back_and_forth, "negocio", V, at(7, 10))
    page(back_and_forth, "negocio", C, at(7, 10, 5))
    page(back_and_forth, "fiscal", V, at(7, 10, 10))
    page(back_and_forth, "negocio", V, at(7, 10, 20))  # went back: negocio is the last page viewed
    earlier = make_request(licence, created=at(20, month=2))  # outside the range
    page(earlier, "negocio", V, at(20, 10, month=2))
    fine_draft = make_request(fines, created=at(8), channel="kiosk")
    page(fine_draft, "multa", V, at(8, 10))
    page(fine_draft, "pagina_vieja", V, at(8, 9))  # a page of an older version of the form
    return licence, fines


def test_form_funnel_per_page(funnel_data):
    licence_funnel, fines_funnel = metrics.form_funnel(FROM, TO)
    assert licence_funnel.procedure.clave == "TOR-DGDE-001"
    assert (licence_funnel.started, licence_funnel.submitted, licence_funnel.never_submitted,
            licence_funnel.expired, licence_funnel.no_page_viewed) == (6, 1, 5, 1, 1)
    assert [(p.key, p.title, p.reached, p.completed, p.abandoned) for p in licence_funnel.pages] == [
        ("negocio", "Tu negocio", 5, 4, 2),
        ("fiscal", "Datos fiscales", 4, 2, 1),
        ("local", "El local", 2, 2, 0),
        # The journey's pages record views only: completed = reached − dropped there.
        ("documentos", "Documentos", 2, 1, 1),
        ("revisar", "Revisa y presenta", 1, 1, 0),
    ]
    assert licence_funnel.pages[1].completion_rate == 0.5
    assert (fines_funnel.started, fines_funnel.submitted) == (1, 0)
    assert [(p.key, p.title, p.reached, p.completed, p.abandoned) for p in fines_funnel.pages] == [
        ("multa", "Tu multa", 1, 0, 1), ("pagina_vieja", "pagina_vieja", 1, 0, 0),
    ]


def test_form_funnel_filters(funnel_data):
    licence, _fines = funnel_data
    assert [f.procedure.clave for f in metrics.form_funnel(FROM, TO, channel="kiosk")] == ["TOR-TES-900"]
    assert [f.procedure.clave for f in metrics.form_funnel(FROM, TO, procedure=licence.procedure)] == ["TOR-DGDE-001"]
    only_feb = metrics.form_funnel(dt.date(2025, 2, 1), dt.date(2025, 2, 28))
    assert [(f.started, [(p.key, p.reached, p.abandoned) for p in f.pages]) for f in only_feb] == [
        (1, [("negocio", 1, 1), ("fiscal", 0, 0), ("local", 0, 0)]),
    ]
    assert metrics.form_funnel(dt.date(2025, 1, 1), dt.date(2025, 1, 31)) == []


# --- Step times ------------------------------------------------------------------------------------


@pytest.fixture
def step_data(licence, make_request):
    from ventanilla.organization.models import Department

    de = Department.objects.get(slug="desarrollo-economico")
    pc = Department.objects.get(slug="proteccion-civil")
    hours_documental = [4, 1, 10, 3, 2]
    hours_pc = [7, 5]
    for i, hours in enumerate(hours_documental):
        request = make_request(licence, submitted=at(2 + i))
        start = at(2 + i, 9)
        RequestStep.objects.create(request=request, key="revision_documental", name="Revisión documental",
                                   department=de, role="reviewer", status=StepStatus.APPROVED, order=0,
                                   activated_at=start, decided_at=start + dt.timedelta(hours=hours))
        if i < len(hours_pc):
            RequestStep.objects.create(request=request, key="proteccion_civil", name="Visto bueno de Protección Civil",
                                       department=pc, role="reviewer", order=1,
                                       status=StepStatus.REJECTED if i else StepStatus.APPROVED,
                                       activated_at=start + dt.timedelta(hours=hours),
                                       decided_at=start + dt.timedelta(hours=hours + hours_pc[i]))
        elif i == 2:
            RequestStep.objects.create(request=request, key="proteccion_civil", name="Visto bueno de Protección Civil",
                                       department=pc, role="reviewer", order=1, status=StepStatus.ACTIVE,
                                       activated_at=start + dt.timedelta(hours=hours))
    outside = make_request(licence, submitted=at(25, month=2))
    RequestStep.objects.create(request=outside, key="revision_documental", name="Revisión documental",
                               department=de, role="reviewer", status=StepStatus.APPROVED, order=0,
                               activated_at=at(25, 9, month=2), decided_at=at(26, 9, month=2))
    return de, pc


def test_step_times_median_and_p90(step_data):
    rows = metrics.step_times(FROM, TO)
    assert [(s.procedure.clave, s.key, s.name, s.decided, s.median, s.p90) for s in rows] == [
        ("TOR-DGDE-001", "proteccion_civil", "Visto bueno de Protección Civil", 2,
         dt.timedelta(hours=5), dt.timedelta(hours=7)),
        ("TOR-DGDE-001", "revision_documental", "Revisión documental", 5,
         dt.timedelta(hours=3), dt.timedelta(hours=10)),
    ]


def test_step_times_by_the_department_that_did_the_step(step_data):
    de, pc = step_data
    assert [s.key for s in metrics.step_times(FROM, TO, department=pc)] == ["proteccion_civil"]
    assert [s.key for s in metrics.step_times(FROM, TO, department=de)] == ["revision_documental"]
    assert metrics.step_times(FROM, TO, channel="kiosk") == []
    february = metrics.step_times(dt.date(2025, 2, 1), dt.date(2025, 2, 28))
    assert [(s.key, s.decided, s.median) for s in february] == [("revision_documental", 1, dt.timedelta(days=1))]


def test_nearest_rank():
    assert [metrics._rank(n, 0.5) for n in (1, 2, 3, 4, 5, 10)] == [0, 0, 1, 1, 2, 4]
    assert [metrics._rank(n, 0.9) for n in (1, 2, 9, 10, 11)] == [0, 1, 8, 8, 9]


# --- Deadlines -------------------------------------------------------------------------------------


def test_deadlines_on_time_late_and_ficta(licence, fines, make_request):
    due = dt.date(2025, 3, 10)
    on_due_day_late_evening = make_request(licence, submitted=at(3), due=due, status=Status.APPROVED)
    # 23:30 in Torreón is already the next day in UTC: still on time.
    event(on_due_day_late_evening, EventKind.APPROVED, at(10, 23, 30))
    early_rejection = make_request(licence, submitted=at(3), due=due, status=Status.REJECTED)
    event(early_rejection, EventKind.REJECTED, at(5))
    late = make_request(licence, submitted=at(3), due=due, status=Status.AWAITING_PAYMENT)
    event(late, EventKind.APPROVED, at(11, 0, 30))
    ficta = make_request(licence, submitted=at(3), due=due, status=Status.DENIED_FICTA)
    event(ficta, EventKind.FICTA, at(11, 6))
    no_term = make_request(fines, submitted=at(3), channel="counter")
    event(no_term, EventKind.APPROVED, at(4))
    outside = make_request(licence, submitted=at(3, month=2), due=dt.date(2025, 2, 6), status=Status.APPROVED)
    event(outside, EventKind.APPROVED, at(5, month=2))
    make_request(licence, submitted=at(3), due=due)  # still in review, no decision
    event(late, EventKind.STEP_APPROVED, at(11))  # other events do not count

    rows = metrics.deadlines(FROM, TO)
    assert [(r.procedure.clave, r.on_time, r.late, r.ficta, r.no_deadline, r.with_deadline) for r in rows] == [
        ("TOR-DGDE-001", 2, 1, 1, 0, 4),
        ("TOR-TES-900", 0, 0, 0, 1, 0),
    ]
    assert [(r.on_time, r.late) for r in metrics.deadlines(FROM, TO, channel="online")] == [(2, 1)]
    assert metrics.overdue_open(today=dt.date(2025, 3, 11)) == 1
    assert metrics.overdue_open(today=dt.date(2025, 3, 10)) == 0


# --- Revenue ---------------------------------------------------------------------------------------


def test_revenue_from_paid_events(licence, fines, make_request):
    for day in (3, 17):
        paid = make_request(licence, submitted=at(1), fee=82000, status=Status.APPROVED)
        event(paid, EventKind.PAID, at(day))
    unexpected = make_request(licence, submitted=at(1), fee=82000, status=Status.REJECTED)
    event(unexpected, EventKind.PAID, at(4), internal=True)  # paid after a change of state: not revenue
    waiting = make_request(licence, submitted=at(1), fee=82000, status=Status.AWAITING_PAYMENT)
    event(waiting, EventKind.PAYMENT_REQUESTED, at(2))
    april = make_request(licence, submitted=at(1), fee=82000, status=Status.APPROVED)
    event(april, EventKind.PAID, at(1, 9, month=4))
    fine = make_request(fines, submitted=at(1), fee=5000, status=Status.APPROVED, channel="kiosk")
    event(fine, EventKind.PAID, at(30))

    assert [(r.procedure.clave, r.paid_requests, r.centavos) for r in metrics.revenue(FROM, TO)] == [
        ("TOR-DGDE-001", 2, 164000), ("TOR-TES-900", 1, 5000),
    ]
    assert [(r.procedure.clave, r.centavos) for r in metrics.revenue(FROM, TO, channel="kiosk")] == [("TOR-TES-900", 5000)]
    assert metrics.revenue_by_month(dt.date(2025, 2, 10), dt.date(2025, 4, 30)) == [
        (dt.date(2025, 2, 1), 0), (dt.date(2025, 3, 1), 169000), (dt.date(2025, 4, 1), 82000),
    ]


def _refund(request, centavos: int, when: dt.datetime, *, credited: bool = True, status: str = "completed"):
    """A credited payment of the request's fee and a refund of part of it (payment rows as the
    payments app writes them: the metric reads them through payments.selectors)."""
    from ventanilla.payments.models import Payment, PaymentOrder, Refund
    from ventanilla.procedures.services import source_ref

    order = PaymentOrder.objects.filter(source_ref=source_ref(request)).first() or PaymentOrder.objects.create(
        payer=request.applicant, concept="Derechos", amount_centavos=request.fee_centavos,
        due_date=dt.date(2025, 4, 30), source_ref=source_ref(request), status="paid" if credited else "cancelled", paid_at=at(3) if credited else None,
        cancelled_at=None if credited else at(2))
    payment = Payment.objects.create(
        order=order, provider="sandbox", provider_payment_id=f"p-{order.pk}-{Payment.objects.count()}", method="card",
        amount_centavos=request.fee_centavos, paid_at=at(3), credited_at=at(3) if credited else None,
        anomaly="" if credited else "order_cancelled")
    return Refund.objects.create(payment=payment, amount_centavos=centavos, reason="Pago duplicado", status=status,
                                 completed_at=when if status == "completed" else None)


def test_revenue_subtracts_refunds_when_the_money_went_back(licence, fines, make_request):
    paid = make_request(licence, submitted=at(1), fee=82000, status=Status.APPROVED)
    event(paid, EventKind.PAID, at(3))
    _refund(paid, 20000, at(10))  # partial refund in March
    old = make_request(licence, submitted=at(1, month=2), fee=82000, status=Status.APPROVED)
    event(old, EventKind.PAID, at(5, month=2))  # paid in February, refunded in full in April
    _refund(old, 82000, at(2, month=4))
    fine = make_request(fines, submitted=at(1), fee=5000, status=Status.APPROVED, channel="kiosk")
    event(fine, EventKind.PAID, at(4))
    _refund(fine, 5000, at(6), status="failed")  # the provider refused: nothing went back
    anomaly = make_request(fines, submitted=at(1), fee=5000, status=Status.REJECTED)
    _refund(anomaly, 5000, at(6), credited=False)  # money never counted as income

    rows = metrics.revenue(FROM, TO)
    assert [(r.procedure.clave, r.paid_requests, r.centavos, r.refunded_centavos, r.net_centavos) for r in rows] == [
        ("TOR-DGDE-001", 1, 82000, 20000, 62000), ("TOR-TES-900", 1, 5000, 0, 5000),
    ]
    april = metrics.revenue(dt.date(2025, 4, 1), dt.date(2025, 4, 30))
    assert [(r.procedure.clave, r.paid_requests, r.centavos, r.refunded_centavos) for r in april] == [
        ("TOR-DGDE-001", 0, 0, 82000)]
    assert metrics.revenue(FROM, TO, channel="kiosk")[0].refunded_centavos == 0
    assert metrics.revenue_by_month(dt.date(2025, 2, 1), dt.date(2025, 4, 30)) == [
        (dt.date(2025, 2, 1), 82000), (dt.date(2025, 3, 1), 82000 + 5000 - 20000), (dt.date(2025, 4, 1), -82000),
    ]


# --- Outcomes --------------------------------------------------------------------------------------


def test_outcomes_by_final_state(licence, fines, make_request):
    for status, count in ((Status.APPROVED, 3), (Status.REJECTED, 2), (Status.APPROVED_FICTA, 1),
                          (Status.DENIED_FICTA, 1), (Status.DISCARDED, 1)):
        for _i in range(count):
            make_request(licence, submitted=at(2), status=status, resolved=at(12))
    make_request(licence, submitted=at(2), status=Status.APPROVED, resolved=at(12, month=4))
    make_request(licence, submitted=at(2), status=Status.AWAITING_PAYMENT)
    make_request(licence, created=at(2), status=Status.EXPIRED)
    make_request(fines, submitted=at(2), status=Status.REJECTED, resolved=at(13), channel="counter")

    rows = metrics.outcomes(FROM, TO)
    assert [(r.procedure.clave, r.counts, r.total) for r in rows] == [
        ("TOR-DGDE-001", {"approved": 3, "rejected": 2, "approved_ficta": 1, "denied_ficta": 1, "discarded": 1}, 8),
        ("TOR-TES-900", {"approved": 0, "rejected": 1, "approved_ficta": 0, "denied_ficta": 0, "discarded": 0}, 1),
    ]
    assert [r.procedure.clave for r in metrics.outcomes(FROM, TO, channel="counter")] == ["TOR-TES-900"]


# --- Cost does not grow with the data --------------------------------------------------------------


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_requests(funnel_data, step_data, make_request):
    licence, _fines = funnel_data
    calls = [
        lambda: metrics.submissions(FROM, TO), lambda: metrics.form_funnel(FROM, TO),
        lambda: metrics.step_times(FROM, TO), lambda: metrics.deadlines(FROM, TO),
        lambda: metrics.revenue(FROM, TO), lambda: metrics.outcomes(FROM, TO),
    ]
    before = [_queries(fn) for fn in calls]
    de, _pc = step_data
    for i in range(20):
        request = make_request(licence, created=at(9), submitted=at(9, 11), fee=82000, due=dt.date(2025, 3, 20),
                               status=Status.APPROVED, resolved=at(12))
        page(request, "negocio", V, at(9, 10))
        event(request, EventKind.APPROVED, at(11))
        event(request, EventKind.PAID, at(12))
        RequestStep.objects.create(request=request, key="revision_documental", name="Revisión documental",
                                   department=de, role="reviewer", status=StepStatus.APPROVED,
                                   activated_at=at(9, 11), decided_at=at(10, 11 + i % 5))
    assert [_queries(fn) for fn in calls] == before
    assert max(before) <= 6



def _nearest_rank(values: list[dt.timedelta], percent: int) -> dt.timedelta:
    """The textbook nearest-rank percentile: the ceil(p/100 · n)-th smallest value."""
    ordered = sorted(values)
    return ordered[-(-len(ordered) * percent // 100) - 1]


@hypothesis_settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(minutes=st.lists(st.integers(min_value=1, max_value=60 * 24 * 20), min_size=1, max_size=25))
def test_step_percentiles_are_the_nearest_rank_of_the_measured_times(licence, make_request, minutes):
    from ventanilla.organization.models import Department

    RequestStep.objects.all().delete()
    de = Department.objects.get(slug="desarrollo-economico")
    durations = [dt.timedelta(minutes=m) for m in minutes]
    for duration in durations:
        request = make_request(licence, submitted=at(1))
        RequestStep.objects.create(request=request, key="revision_documental", name="Revisión documental",
                                   department=de, role="reviewer", status=StepStatus.APPROVED,
                                   activated_at=at(2), decided_at=at(2) + duration)
    (row,) = metrics.step_times(FROM, TO)
    assert row.decided == len(durations)
    assert row.median == _nearest_rank(durations, 50)
    assert row.p90 == _nearest_rank(durations, 90)
