"""The officials' queue selector (`queues.department_queue`) and the deadline states, called
directly. Requests are written straight to the tables here: the selector only reads them."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ventanilla.procedures import calendar
from ventanilla.procedures.queues import (
    Cursor,
    DeadlineState,
    QueueFilters,
    Tab,
    deadline_of,
    department_queue,
    due_soon_limit,
    filed_by_clerk_on,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 10)  # a Wednesday


@pytest.fixture
def departments(department, other_department):
    from ventanilla.organization.models import Department

    pc = Department.objects.get_or_create(slug="proteccion-civil", defaults={"name": "Protección Civil"})[0]
    return {"de": department, "pc": pc, "tes": other_department}


@pytest.fixture
def make_case(licence, make_resident, departments):
    """A filed request with the given status, due date and steps ((department key, step status), ...)."""
    from django.utils import timezone

    from ventanilla.procedures.models import Request, RequestStep

    resident = make_resident()
    seq = itertools.count(1)

    def factory(*, status="in_review", due=None, steps=(("de", "active"),), channel="online", assigned_to=None,
                department="de", submitted=True, procedure=None):
        n = next(seq)
        request = Request.objects.create(
            version=licence.published_version, procedure=procedure or licence.procedure,
            department=departments[department], applicant=resident, channel=channel, status=status, due_date=due,
            submitted_at=timezone.now() - dt.timedelta(hours=1000 - n) if submitted else None,
            assigned_to=assigned_to,
        )
        if submitted:
            request.folio = f"TRC-2026-{request.pk:07d}"
            request.save(update_fields=["folio"])
        for order, (dept, step_status) in enumerate(steps):
            RequestStep.objects.create(request=request, key=f"paso{order}", name=f"Paso {order}",
                                       department=departments[dept], role="reviewer", order=order, status=step_status)
        return request

    return factory


@pytest.fixture
def pc_procedure(make_procedure, departments):
    """A procedure of Protección Civil whose review has a step of Desarrollo Económico."""
    from tests.procedures_fixtures import demo_spec
    from ventanilla.organization.models import Office
    from ventanilla.procedures import services

    pc_office = Office.objects.create(department=departments["pc"], name="Protección Civil", address="Torreón",
                                      hours="Lunes a viernes")
    procedure = make_procedure(publish=True, department=departments["pc"], offices=[pc_office])
    definition = services.get_or_create_definition(procedure)
    services.save_draft_spec(definition, demo_spec("TOR-DGDE-001"), by=None)
    services.publish_definition(definition, by=None)
    return procedure


@pytest.fixture
def de_reviewer(make_official, departments):
    return make_official("reviewer", department=departments["de"])


def folios(page):
    return [row.request.folio for row in page.rows]


def queue(official, **filters):
    page = filters.pop("page", "")
    size = filters.pop("size", None)
    return department_queue(official, filters=QueueFilters(**filters), page=page, today=TODAY, size=size)


# --- Which requests ------------------------------------------------------------------------------


def test_pending_tab_holds_open_requests_with_an_active_step_in_my_departments(make_case, de_reviewer, make_official,
                                                                               departments, pc_procedure, step_lookup):
    mine = make_case(due=TODAY)
    waiting_mine = make_case(steps=(("pc", "active"), ("de", "waiting")))
    pc_own = make_case(department="pc", procedure=pc_procedure, steps=(("de", "approved"), ("pc", "active")))
    in_correction = make_case(status="correction")
    other_department_step = make_case(department="pc", procedure=pc_procedure, steps=(("de", "active"),))
    approved_step = make_case(steps=(("de", "approved"), ("pc", "active")))
    resolved = make_case(status="approved", steps=(("de", "approved"),))
    draft = make_case(status="draft", submitted=False, steps=())
    outside = make_case(department="tes", steps=(("tes", "active"),))

    page = queue(de_reviewer)
    assert set(folios(page)) == {mine.folio, in_correction.folio, other_department_step.folio}
    assert len(page.rows) == 3 and page.next_cursor is None

    pc_reviewer = make_official("reviewer", department=departments["pc"])
    assert set(folios(queue(pc_reviewer))) == {waiting_mine.folio, approved_step.folio, pc_own.folio}

    everything = set(folios(queue(de_reviewer, tab=Tab.ALL)))
    assert everything == {mine.folio, waiting_mine.folio, in_correction.folio, other_department_step.folio,
                          approved_step.folio, resolved.folio, pc_own.folio}
    assert draft.folio is None and outside.folio not in everything

    admin = make_official("platform_admin", department=departments["tes"])
    assert outside.folio in folios(queue(admin))
    clerk = make_official("counter_clerk", department=departments["de"])
    assert folios(queue(clerk)) == []  # clerks do not review
    assert mine.folio in folios(queue(clerk, tab=Tab.ALL))
    assert folios(queue(make_official("catalog_editor", department=departments["de"]), tab=Tab.ALL)) == []


def test_filters(make_case, de_reviewer, make_official, departments, make_procedure):
    colleague = make_official("reviewer", department=departments["de"])
    other_procedure = make_procedure(publish=True)
    overdue = make_case(due=TODAY - dt.timedelta(days=1))
    due_today = make_case(due=TODAY)
    due_in_two = make_case(due=calendar.add_business_days(TODAY, 2))
    on_time = make_case(due=calendar.add_business_days(TODAY, 3), channel="counter", assigned_to=de_reviewer)
    no_due = make_case(status="correction", assigned_to=colleague, procedure=other_procedure)

    assert folios(queue(de_reviewer, deadline=DeadlineState.OVERDUE)) == [overdue.folio]
    assert folios(queue(de_reviewer, deadline=DeadlineState.DUE_SOON)) == [due_today.folio, due_in_two.folio]
    assert folios(queue(de_reviewer, deadline=DeadlineState.ON_TIME)) == [on_time.folio]
    assert folios(queue(de_reviewer, channel="counter")) == [on_time.folio]
    assert folios(queue(de_reviewer, assignment="mias")) == [on_time.folio]
    assert set(folios(queue(de_reviewer, assignment="sin-asignar"))) == {overdue.folio, due_today.folio, due_in_two.folio}
    assert folios(queue(de_reviewer, status="correction")) == [no_due.folio]
    assert folios(queue(de_reviewer, procedure_id=other_procedure.pk)) == [no_due.folio]
    assert folios(queue(de_reviewer, folio=overdue.folio)) == [overdue.folio]
    assert folios(queue(de_reviewer, folio=overdue.folio.lower())) == [overdue.folio]
    assert folios(queue(de_reviewer, folio=str(due_today.pk))) == [due_today.folio]
    assert folios(queue(de_reviewer, folio=f"2026-{due_in_two.pk:07d}")) == [due_in_two.folio]
    assert folios(queue(de_reviewer, folio="ZZZ")) == []
    assert folios(queue(de_reviewer, department_id=departments["tes"].pk)) == []  # not one of theirs
    assert len(folios(queue(de_reviewer, department_id=departments["de"].pk))) == 5


def test_sorted_by_due_date_then_those_without_one(make_case, de_reviewer):
    later = make_case(due=TODAY + dt.timedelta(days=9))
    none_a = make_case(status="correction")
    sooner = make_case(due=TODAY - dt.timedelta(days=3))
    tie_1 = make_case(due=TODAY)
    tie_2 = make_case(due=TODAY)
    none_b = make_case(status="correction")
    assert folios(queue(de_reviewer)) == [sooner.folio, tie_1.folio, tie_2.folio, later.folio, none_a.folio, none_b.folio]


@pytest.fixture(params=["ids", "exists"])
def step_lookup(request, monkeypatch):
    """Both ways the queue checks steps: few matches (ids first) and many (EXISTS per row)."""
    from ventanilla.procedures import queues

    if request.param == "exists":
        monkeypatch.setattr(queues, "STEP_IDS_LIMIT", 0)
    return request.param


@pytest.mark.parametrize("tab", list(Tab))
@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_keyset_pages_cover_the_queue_once_forwards_and_backwards(make_case, de_reviewer, pc_procedure, tab, size,
                                                                  step_lookup):
    dues = [TODAY, None, TODAY, TODAY - dt.timedelta(days=2), None, TODAY + dt.timedelta(days=4), TODAY, None]
    made = []
    for n, due in enumerate(dues):
        status = ("in_review" if n % 2 else "awaiting_payment") if due else "correction"
        # Some are Protección Civil's with a step of Desarrollo Económico: read by another stream.
        theirs = {"department": "pc", "procedure": pc_procedure} if n % 3 == 0 else {}
        made.append(make_case(due=due, status=status, **theirs))
    expected = [r for r in made if tab == Tab.ALL or r.status != "awaiting_payment"]
    expected.sort(key=lambda r: (r.due_date is None, r.due_date or dt.date.min, r.pk))
    whole = folios(queue(de_reviewer, tab=tab, size=100))
    assert whole == [r.folio for r in expected]

    pages, page = [], queue(de_reviewer, tab=tab, size=size)
    assert page.previous_cursor is None
    while True:
        pages.append(folios(page))
        if page.next_cursor is None:
            break
        page = queue(de_reviewer, tab=tab, size=size, page=page.next_cursor)
        assert page.previous_cursor is not None
    assert [f for p in pages for f in p] == whole
    assert all(len(p) == size for p in pages[:-1])

    backwards = [folios(page)]
    while page.previous_cursor is not None:
        page = queue(de_reviewer, tab=tab, size=size, page=page.previous_cursor)
        backwards.append(folios(page))
    assert list(reversed(backwards)) == pages


def test_rows_carry_their_deadline_and_whether_they_are_mine(make_case, de_reviewer):
    make_case(due=TODAY - dt.timedelta(days=1), assigned_to=de_reviewer)
    [row] = queue(de_reviewer).rows
    assert row.assigned_to_me
    assert row.deadline.state == DeadlineState.OVERDUE and row.deadline.days_left == -1
    assert row.deadline.text == "Vencida hace 1 día hábil"


# --- Deadlines -----------------------------------------------------------------------------------


class _Req:
    def __init__(self, due, status="in_review"):
        self.due_date, self.status = due, status


def test_deadline_states_and_texts():
    friday = dt.date(2026, 6, 12)
    monday = dt.date(2026, 6, 15)
    assert deadline_of(_Req(None), today=TODAY) is None
    assert deadline_of(_Req(TODAY, "correction"), today=TODAY) is None
    assert deadline_of(_Req(TODAY, "approved"), today=TODAY) is None
    due_today = deadline_of(_Req(TODAY), today=TODAY)
    assert (due_today.state, due_today.days_left, due_today.text) == (DeadlineState.DUE_SOON, 0, "Vence hoy")
    assert deadline_of(_Req(friday), today=TODAY).text == "Vence en 2 días hábiles"
    assert deadline_of(_Req(monday), today=TODAY).state == DeadlineState.ON_TIME
    late = deadline_of(_Req(dt.date(2026, 6, 5)), today=TODAY)  # a Friday; Mon-Wed passed
    assert (late.state, late.days_left, late.text) == (DeadlineState.OVERDUE, -3, "Vencida hace 3 días hábiles")
    assert late.css == "deadline--vencida" and late.short_label == "Vencida"


@settings(max_examples=200, deadline=None)
@given(today=st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31)), offset=st.integers(-20, 20),
       closed=st.sets(st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31)), max_size=5))
def test_the_due_soon_filter_agrees_with_the_state_of_every_due_date(today, offset, closed):
    due = today + dt.timedelta(days=offset)
    closed = frozenset(closed)
    state = deadline_of(_Req(due), today=today, closed=closed).state
    in_filter = today <= due < due_soon_limit(today, closed)
    assert (state == DeadlineState.DUE_SOON) == in_filter
    assert (state == DeadlineState.OVERDUE) == (due < today)


@settings(max_examples=300, deadline=None)
@given(token=st.text(max_size=200))
def test_any_cursor_token_is_either_understood_or_ignored(token):
    cursor = Cursor.decode(token)
    assert cursor is None or isinstance(cursor.pk, int)


@settings(max_examples=100, deadline=None)
@given(after=st.booleans(), due=st.none() | st.dates(), pk=st.integers(0, 10**18 - 1))
def test_cursors_round_trip(after, due, pk):
    cursor = Cursor(after=after, due_date=due, pk=pk)
    assert Cursor.decode(cursor.encode()) == cursor


def test_filters_from_a_query_string_ignore_what_they_do_not_know():
    from django.http import QueryDict

    filters = QueueFilters.from_query(QueryDict(
        "vista=todas&tramite=12&estado=approved&canal=kiosk&asignacion=mias&plazo=vencida&folio=+TRC-1+&dependencia=3"))
    assert filters == QueueFilters(tab=Tab.ALL, procedure_id=12, status="approved", channel="kiosk", assignment="mias",
                                   deadline="vencida", folio="TRC-1", department_id=3)
    assert QueueFilters.from_query(filters.as_query()) == filters
    junk = QueueFilters.from_query(QueryDict("vista=x&tramite=-1&estado=draft&canal=&asignacion=todas&plazo=1&dependencia=%C2%B2"))
    assert junk == QueueFilters()


# --- The counter ---------------------------------------------------------------------------------


def test_filed_by_clerk_on_a_day(licence, make_official, make_resident, department):
    from ventanilla.procedures import services

    clerk = make_official("counter_clerk", department=department)
    other_clerk = make_official("counter_clerk", department=department)
    resident = make_resident()
    monday = dt.datetime(2026, 6, 8, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-6)))
    first = services.start_draft(licence, applicant=resident, channel="counter", filed_by=clerk, now=monday)
    services.start_draft(licence, applicant=resident, channel="counter", filed_by=clerk,
                         now=monday + dt.timedelta(hours=1))  # Tuesday, local time
    services.start_draft(licence, applicant=resident, channel="counter", filed_by=other_clerk, now=monday)
    services.start_draft(licence, applicant=resident, now=monday)
    assert list(filed_by_clerk_on(clerk, dt.date(2026, 6, 8))) == [first]
