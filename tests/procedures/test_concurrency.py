"""Two officials act on the same case at the same moment, with the same revision, on PostgreSQL
(real row locks, real concurrent transactions in two threads with their own connections).
Exactly one succeeds; the other gets Conflict; the case stays consistent (one event, one step
decision). SQLite serialises every write on the whole database, so the interleavings tested here
cannot happen there; the sequential stale-revision case is tested on both in test_backoffice.py."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="needs PostgreSQL: concurrent transactions and row locks (SQLite locks the whole file)"),
    pytest.mark.django_db(transaction=True),
]

TIMEOUT = 60  # a safety bound for a hung test, never a speed expectation


class Racer(threading.Thread):
    """Runs one action in its own thread and database connection; keeps its result or exception."""

    def __init__(self, name: str, action, barrier: threading.Barrier | None = None):
        super().__init__(name=name, daemon=True)
        self.action, self.barrier = action, barrier
        self.result = self.error = None

    def run(self):
        try:
            if self.barrier is not None:
                self.barrier.wait(timeout=TIMEOUT)
            self.result = self.action()
        except Exception as exc:  # noqa: BLE001 (kept for the assertions)
            self.error = exc
        finally:
            connections.close_all()


def _wait_for(predicate, what: str):
    deadline = time.monotonic() + TIMEOUT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0] > 0


@pytest.fixture
def two_de_reviewers(reviewers, make_official, department):
    return reviewers[0], make_official("reviewer", department=department)


@pytest.fixture
def hold_first_claim(monkeypatch):
    """Makes the thread named "first" stop right after its claim (row locked, not committed)
    until released, so the second action provably runs while the first is in flight."""
    from ventanilla.procedures import services

    real_claim = services._claim
    inside, release = threading.Event(), threading.Event()

    def claim(request, expected_revision):
        fresh = real_claim(request, expected_revision)
        if threading.current_thread().name == "first":
            inside.set()
            release.wait(timeout=TIMEOUT)
        return fresh

    monkeypatch.setattr(services, "_claim", claim)
    return inside, release


def _interleave(first_action, second_action, hold):
    inside, release = hold
    first = Racer("first", first_action)
    first.start()
    assert inside.wait(timeout=TIMEOUT), "the first action never claimed the request"
    second = Racer("second", second_action)
    second.start()
    _wait_for(_someone_waits_for_a_lock, "the second action to wait for the row lock")
    release.set()
    first.join(TIMEOUT)
    second.join(TIMEOUT)
    assert not first.is_alive() and not second.is_alive()
    return first, second


def test_two_approvals_of_the_same_step_in_flight_together(submitted_request, two_de_reviewers, hold_first_claim):
    from ventanilla.audit.models import AuditEntry
    from ventanilla.procedures import services
    from ventanilla.procedures.models import EventKind, Request

    one, two = two_de_reviewers
    request = submitted_request()
    seen = request.revision
    first, second = _interleave(
        lambda: services.approve_step(Request.objects.get(pk=request.pk), "revision_documental", official=one,
                                      expected_revision=seen),
        lambda: services.approve_step(Request.objects.get(pk=request.pk), "revision_documental", official=two,
                                      expected_revision=seen),
        hold_first_claim,
    )
    assert first.error is None, first.error
    assert isinstance(second.error, services.Conflict)
    request.refresh_from_db()
    assert request.revision == seen + 1
    step = request.steps.get(key="revision_documental")
    assert step.status == "approved" and step.decided_by == one
    assert request.events.filter(kind=EventKind.STEP_APPROVED).count() == 1
    assert request.steps.get(key="proteccion_civil").status == "active"
    assert AuditEntry.objects.filter(action="procedures.step_approved", subject_id=str(request.pk)).count() == 1


def test_a_correction_and_an_approval_in_flight_together(submitted_request, two_de_reviewers, hold_first_claim):
    from ventanilla.procedures import services
    from ventanilla.procedures.models import EventKind, Request

    one, two = two_de_reviewers
    request = submitted_request()
    seen = request.revision
    first, second = _interleave(
        lambda: services.request_correction(Request.objects.get(pk=request.pk), official=one,
                                            text="Falta la firma en la identificación.", expected_revision=seen),
        lambda: services.approve_step(Request.objects.get(pk=request.pk), "revision_documental", official=two,
                                      expected_revision=seen),
        hold_first_claim,
    )
    assert first.error is None, first.error
    assert isinstance(second.error, services.Conflict)
    request.refresh_from_db()
    assert request.status == "correction" and request.revision == seen + 1
    assert request.corrections.count() == 1
    assert request.steps.get(key="revision_documental").status == "active"
    assert not request.events.filter(kind=EventKind.STEP_APPROVED).exists()
    assert request.events.filter(kind=EventKind.CORRECTION_REQUESTED).count() == 1


@pytest.mark.parametrize("round_", range(3))
def test_started_at_the_same_instant_exactly_one_wins(submitted_request, two_de_reviewers, round_):
    from ventanilla.procedures import services
    from ventanilla.procedures.models import EventKind, Request

    one, two = two_de_reviewers
    request = submitted_request()
    seen = request.revision
    barrier = threading.Barrier(2)
    racers = [
        Racer("approve", lambda: services.approve_step(Request.objects.get(pk=request.pk), "revision_documental",
                                                       official=one, expected_revision=seen), barrier),
        Racer("correct", lambda: services.request_correction(Request.objects.get(pk=request.pk), official=two,
                                                             text="Falta el comprobante.", expected_revision=seen),
              barrier),
    ]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(TIMEOUT)
    winners = [r for r in racers if r.error is None]
    losers = [r for r in racers if r.error is not None]
    assert len(winners) == 1 and len(losers) == 1
    assert isinstance(losers[0].error, services.Conflict), losers[0].error
    request.refresh_from_db()
    assert request.revision == seen + 1
    approved = request.events.filter(kind=EventKind.STEP_APPROVED).count()
    corrected = request.corrections.count()
    assert (approved, corrected) == ((1, 0) if winners[0].name == "approve" else (0, 1))
    assert request.status == ("in_review" if winners[0].name == "approve" else "correction")


def test_two_officials_post_at_once_through_the_case_page(submitted_request, two_de_reviewers, login_official):
    from ventanilla.procedures.models import EventKind

    one, two = two_de_reviewers
    request = submitted_request()
    seen = request.revision
    clients = [login_official(one, Client()), login_official(two, Client())]
    url = reverse("procedures:backoffice_approve", args=[request.public_id])
    barrier = threading.Barrier(2)
    racers = [
        Racer(f"official-{i}", lambda c=c: c.post(url, {"revision": seen, "step": "revision_documental"}), barrier)
        for i, c in enumerate(clients)
    ]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(TIMEOUT)
    assert all(r.error is None for r in racers), [r.error for r in racers]
    statuses = sorted(r.result.status_code for r in racers)
    assert statuses == [302, 409]
    loser = next(r.result for r in racers if r.result.status_code == 409)
    assert "Otra persona actualizó esta solicitud" in loser.content.decode()
    assert "Aprobado" in loser.content.decode()  # the fresh case shows the winner's decision
    request.refresh_from_db()
    assert request.revision == seen + 1
    assert request.events.filter(kind=EventKind.STEP_APPROVED).count() == 1
