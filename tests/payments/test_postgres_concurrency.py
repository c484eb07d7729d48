"""On PostgreSQL, with real concurrency: duplicate webhooks racing in threads, two different
payments racing for one order, and a worker process killed in the middle of crediting.

These need committed data shared between connections (`transactional_db`) and a server that
other processes can reach, so they run on PostgreSQL only (SQLite's test database lives in this
process's memory); the same rules are tested on both databases in the other files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from ventanilla.payments import services
from ventanilla.payments.models import OrderStatus, Payment, PaymentOrder, ProviderEvent, Receipt
from ventanilla.payments.providers.sandbox import webhook_secret

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


def run_in_threads(n: int, fn):
    """Start `n` threads that call fn(i) at the same moment; return their results (or errors)."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def worker(i):
        from django.db import connection as thread_connection

        try:
            barrier.wait(timeout=30)
            results[i] = fn(i)
        except Exception as exc:  # reported to the test
            results[i] = exc
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return results


def test_concurrent_duplicate_webhooks_credit_once(order, paid_cash):
    _, body, headers = paid_cash(order)
    calls = []
    lock = threading.Lock()

    def handler(o):
        with lock:
            calls.append(o.pk)

    services.register_paid_handler("tests.order:", handler)
    try:
        results = run_in_threads(8, lambda i: services.receive_webhook("sandbox", headers, body))
    finally:
        services.unregister_paid_handler("tests.order:", handler)
    assert all(not isinstance(r, Exception) for r in results), results
    assert sorted(r.status for r in results) == [200] * 8
    assert [r.body["outcome"] for r in results if not r.body["duplicate"]] == ["credited"]
    assert sum(1 for r in results if r.body["duplicate"]) == 7
    assert calls == [order.pk]
    assert Payment.objects.filter(order=order).count() == 1
    assert ProviderEvent.objects.filter(signature_valid=True).count() == 1
    assert Receipt.objects.count() == 1


def test_two_different_payments_racing_for_one_order(order, notification_for):
    notes = [notification_for(order, method="card"), notification_for(order, method="cash")]
    results = run_in_threads(2, lambda i: services.credit("sandbox", notes[i]))
    assert sorted(r.outcome for r in results) == ["already_paid", "credited"]
    assert Payment.objects.filter(order=order, credited_at__isnull=False).count() == 1
    assert Payment.objects.filter(order=order).count() == 2


def test_concurrent_create_order_makes_one_order(payer):
    results = run_in_threads(6, lambda i: services.create_order(
        payer=payer, concept="Derecho", amount_centavos=1_000, source_ref="race:1"))
    assert all(isinstance(r, PaymentOrder) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert PaymentOrder.objects.filter(source_ref="race:1").count() == 1


CHILD = """
import json, os, sys
import django
django.setup()
from ventanilla.payments import services
from ventanilla.payments.models import Payment, PaymentOrder

def die(order):
    # Inside the crediting transaction: the Payment row is inserted, the order marked paid and
    # the receipt issued, none of it committed. The worker is killed here.
    assert Payment.objects.filter(order=order).exists()
    assert PaymentOrder.objects.get(pk=order.pk).status == "paid"
    sys.stdout.write("dying\\n"); sys.stdout.flush()
    os._exit(17)

services.register_paid_handler("tests.order:", die)
request = json.loads(sys.stdin.read())
services.receive_webhook("sandbox", request["headers"], request["body"].encode())
sys.stdout.write("not reached\\n")
"""


def child_env() -> dict[str, str]:
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = db.get("PASSWORD") or ""
    auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
    url = f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or '5432'}/{db['NAME']}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "ventanilla.test_settings",
        "DATABASE_URL": url,
        "VENTANILLA_SECRET_KEY": settings.SECRET_KEY,
        "VENTANILLA_SANDBOX_WEBHOOK_SECRET": webhook_secret(),
        "VENTANILLA_LOG_LEVEL": "CRITICAL",
        "PYTHONPATH": str(ROOT),
    })
    return env


def test_worker_killed_mid_credit_loses_nothing_and_credits_once(order, paid_cash):
    _, body, headers = paid_cash(order)
    child = subprocess.run(
        [sys.executable, "-c", CHILD], input=json.dumps({"headers": headers, "body": body.decode()}),
        capture_output=True, text=True, env=child_env(), cwd=ROOT, timeout=120, check=False,
    )
    assert child.returncode == 17, child.stderr[-3000:]
    assert "dying" in child.stdout and "not reached" not in child.stdout

    # Nothing of the crediting transaction survived; the inbox kept the event, unprocessed.
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert not Payment.objects.exists() and not Receipt.objects.exists()
    event = ProviderEvent.objects.get(signature_valid=True)
    assert event.processed_at is None

    # The killed worker's row lock died with it: the provider's retry goes straight through.
    calls = []
    services.register_paid_handler("tests.order:", lambda o: calls.append(o.pk))
    try:
        retry = services.receive_webhook("sandbox", headers, body)
        assert retry.status == 200 and retry.body["outcome"] == "credited"
        assert services.process_pending_events() == 0
        assert services.receive_webhook("sandbox", headers, body).body["duplicate"] is True
    finally:
        services._PAID_HANDLERS[:] = [h for h in services._PAID_HANDLERS if h[0] != "tests.order:"]
    assert calls == [order.pk]
    assert Payment.objects.filter(order=order, credited_at__isnull=False).count() == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_worker_killed_then_inbox_reprocessed(order, paid_cash):
    """Same crash, but the provider never retries: process_payment_events finds the event."""
    _, body, headers = paid_cash(order)
    child = subprocess.run(
        [sys.executable, "-c", CHILD], input=json.dumps({"headers": headers, "body": body.decode()}),
        capture_output=True, text=True, env=child_env(), cwd=ROOT, timeout=120, check=False,
    )
    assert child.returncode == 17, child.stderr[-3000:]
    assert services.process_pending_events() == 1
    assert Payment.objects.filter(order=order, credited_at__isnull=False).count() == 1
    assert services.process_pending_events() == 0
