"""The payments' periodic jobs: a worker, with nobody running commands, credits a webhook event
stranded in the inbox and expires overdue orders."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from ventanilla.core import jobs
from ventanilla.core.models import Job
from ventanilla.payments import jobs as payment_jobs
from ventanilla.payments import services
from ventanilla.payments.models import OrderStatus, Payment, ProviderEvent

pytestmark = pytest.mark.django_db


def strand(order, paid_cash, monkeypatch):
    """A verified webhook stored in the inbox whose crediting failed (the worker died)."""
    _, body, headers = paid_cash(order)

    def die(*args, **kwargs):
        raise RuntimeError("worker died")

    monkeypatch.setattr(services, "credit", die)
    assert services.receive_webhook("sandbox", headers, body).status == 503
    monkeypatch.undo()
    event = ProviderEvent.objects.get(signature_valid=True, event_id=json.loads(body)["id"])
    assert event.processed_at is None
    return event


def test_the_jobs_are_registered_as_periodic_with_their_settings(settings):
    names = {spec.name: spec for spec in jobs.periodic_jobs()}
    assert {"payments.process_pending_events", "payments.expire_overdue_orders"} <= set(names)
    assert names["payments.process_pending_events"].interval() == 300
    assert names["payments.expire_overdue_orders"].interval() == 3600
    settings.VENTANILLA_PAYMENT_EVENTS_SWEEP_SECONDS = 60
    settings.VENTANILLA_PAYMENT_EXPIRY_SWEEP_SECONDS = 900
    assert names["payments.process_pending_events"].interval() == 60
    assert names["payments.expire_overdue_orders"].interval() == 900


def test_a_worker_credits_a_stranded_event_and_expires_overdue_orders(
        order, make_order, paid_cash, monkeypatch, paid_handler_calls):
    event = strand(order, paid_cash, monkeypatch)
    overdue = make_order(due_date=timezone.localdate() - timedelta(days=1))
    current = make_order()

    jobs.run_worker(once=True, schedule=True, handle_signals=False)

    event.refresh_from_db()
    assert event.processed_at is not None and event.outcome == "credited"
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and paid_handler_calls == [order.pk]
    assert Payment.objects.filter(order=order, credited_at__isnull=False).count() == 1
    overdue.refresh_from_db()
    current.refresh_from_db()
    assert (overdue.status, current.status) == (OrderStatus.EXPIRED, OrderStatus.PENDING)
    done = set(Job.objects.filter(state="done").values_list("name", flat=True))
    assert {"payments.process_pending_events", "payments.expire_overdue_orders"} <= done

    # Run again (at-least-once delivery): nothing is credited twice.
    assert payment_jobs.process_pending_events() == 0
    assert payment_jobs.expire_overdue_orders() == 0
    assert paid_handler_calls == [order.pk]


def test_one_failing_event_does_not_strand_the_ones_after_it(order, make_order, paid_cash, monkeypatch):
    first = strand(order, paid_cash, monkeypatch)
    other = make_order(source_ref="tests.other:1")
    second = strand(other, paid_cash, monkeypatch)
    assert first.received_at <= second.received_at

    def refuse(o):
        raise RuntimeError("the app that asked for this money is failing")

    services.register_paid_handler("tests.order:", refuse)
    try:
        assert payment_jobs.process_pending_events() == 1
    finally:
        services.unregister_paid_handler("tests.order:", refuse)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.processed_at is None  # left for the next run
    assert second.outcome == "credited"
    assert payment_jobs.process_pending_events() == 1  # the next run, once the app recovered
    first.refresh_from_db()
    assert first.outcome == "credited"
