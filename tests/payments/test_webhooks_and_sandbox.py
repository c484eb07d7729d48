"""The webhook endpoint, the sandbox processor and the browser-return path."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from ventanilla.payments import services
from ventanilla.payments.cards import CardInputError, luhn_valid
from ventanilla.payments.models import OrderStatus, Payment, ProviderEvent, SandboxTransaction
from ventanilla.payments.providers.sandbox import SIGNATURE_HEADER, SandboxProvider, sign

pytestmark = pytest.mark.django_db

WEBHOOK = "/pagos/webhook/sandbox/"


def post_webhook(client, body: bytes, headers: dict):
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k != "content-type"}
    return client.post(WEBHOOK, data=body, content_type="application/json", **extra)


def test_webhook_url():
    assert reverse("payments:webhook", args=["sandbox"]) == WEBHOOK


def test_same_webhook_twice_credits_once(client, order, paid_cash, paid_handler_calls):
    _, body, headers = paid_cash(order)
    first = post_webhook(client, body, headers)
    assert first.status_code == 200 and first.json()["outcome"] == "credited"
    second = post_webhook(client, body, headers)
    assert second.status_code == 200 and second.json()["duplicate"] is True
    assert Payment.objects.filter(order=order).count() == 1
    assert ProviderEvent.objects.filter(signature_valid=True).count() == 1
    assert paid_handler_calls == [order.pk]
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_forged_signature_is_refused_and_cannot_squat_the_event_id(client, order, paid_cash):
    _, body, headers = paid_cash(order)
    forged = dict(headers, **{SIGNATURE_HEADER: sign(body, secret="no-es-el-secreto", timestamp=int(timezone.now().timestamp()))})
    response = post_webhook(client, body, forged)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert "firma" in response.json()["detail"].lower()
    assert not Payment.objects.exists()
    rejected = ProviderEvent.objects.get()
    assert rejected.signature_valid is False and rejected.event_id == "" and rejected.outcome == "rejected_signature"
    # The real event with the same id still goes through.
    assert post_webhook(client, body, headers).json()["outcome"] == "credited"


def test_tampered_body_unsigned_and_stale_webhooks_are_refused(client, order, paid_cash, sandbox):
    _, body, headers = paid_cash(order)
    tampered = body.replace(str(order.amount_centavos).encode(), b"1")
    assert post_webhook(client, tampered, headers).status_code == 401
    assert post_webhook(client, body, {}).status_code == 401
    stale = sandbox.signed_headers(body)
    stale[SIGNATURE_HEADER] = sign(body, secret=sandbox.secret, timestamp=int(timezone.now().timestamp()) - 3600)
    assert post_webhook(client, body, stale).status_code == 401
    assert not Payment.objects.exists()


def test_verified_but_unreadable_webhook_is_400(client, sandbox):
    for body in (b"{no es json", b"[" * 100_000):  # the second is nested too deep to decode
        response = post_webhook(client, body, sandbox.signed_headers(body))
        assert response.status_code == 400 and "JSON" in response.json()["detail"]
    body = json.dumps({"id": "evt_x", "type": "charge.succeeded", "data": {"amount_centavos": -1}}).encode()
    assert post_webhook(client, body, sandbox.signed_headers(body)).status_code == 400


def test_unknown_provider_and_wrong_method(client):
    assert client.post("/pagos/webhook/paypal/", data=b"{}", content_type="application/json").status_code == 404
    assert client.get(WEBHOOK).status_code == 405


def test_other_event_types_are_stored_and_acknowledged(client, sandbox):
    body = json.dumps({"id": "evt_other", "type": "charge.created", "data": {}}).encode()
    response = post_webhook(client, body, sandbox.signed_headers(body))
    assert response.status_code == 200
    assert ProviderEvent.objects.get(event_id="evt_other").outcome == "other"


def test_webhook_before_the_browser_returns(order, sandbox_with_webhooks, good_card, paid_handler_calls):
    """The sandbox's webhook credits the order while the charge request is still running; the
    browser return then finds it credited."""
    outcome = services.pay_by_card(order, good_card, provider=sandbox_with_webhooks)
    assert outcome.paid
    assert outcome.credit.outcome == "duplicate"  # the webhook was first
    event = ProviderEvent.objects.get(signature_valid=True)
    assert event.outcome == "credited" and event.payment == outcome.credit.payment
    assert Payment.objects.filter(order=order).count() == 1
    assert paid_handler_calls == [order.pk]


def test_webhook_after_the_browser_returns(order, sandbox, good_card, paid_handler_calls):
    outcome = services.pay_by_card(order, good_card, provider=sandbox)
    assert outcome.paid and outcome.credit.outcome == "credited"
    txn = SandboxTransaction.objects.get(transaction_id=outcome.charge.provider_payment_id)
    status, answer = sandbox.send_webhook(txn)
    assert status == 200 and answer["outcome"] == "duplicate"
    assert Payment.objects.filter(order=order).count() == 1
    assert paid_handler_calls == [order.pk]


def test_declined_card_keeps_the_order_pending(order, sandbox, declined_card):
    outcome = services.pay_by_card(order, declined_card, provider=sandbox)
    assert not outcome.paid and outcome.credit is None
    assert "rechazó" in outcome.charge.message
    assert SandboxTransaction.objects.get().status == "declined"
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING and not Payment.objects.exists()


def test_card_input_is_checked_before_the_provider(order, sandbox, good_card):
    from dataclasses import replace

    with pytest.raises(CardInputError) as exc:
        services.pay_by_card(order, replace(good_card, number="4242 4242 4242 4241", cvv="1", exp_month="13",
                                            holder_name=""), provider=sandbox)
    assert set(exc.value.errors) == {"number", "cvv", "exp_month", "holder_name"}
    with pytest.raises(CardInputError) as exc:
        services.pay_by_card(order, replace(good_card, exp_year="20"), provider=sandbox)
    assert exc.value.errors == {"exp_year": "La tarjeta ya venció."}
    assert not SandboxTransaction.objects.exists()


def test_only_test_cards_pass_in_the_sandbox(order, sandbox, good_card):
    from dataclasses import replace

    other = replace(good_card, number="4111111111111111")
    assert luhn_valid(other.digits)
    outcome = services.pay_by_card(order, other, provider=sandbox)
    assert not outcome.paid and "tarjetas de prueba" in outcome.charge.message
    debit = services.pay_by_card(order, replace(good_card, number="5200828282828210"), provider=sandbox)
    assert debit.paid and debit.credit.receipt.forma_pago == "28"


def test_paid_or_expired_orders_cannot_be_charged(make_order, sandbox, good_card):
    expired = make_order(due_date=timezone.localdate() - timedelta(days=1))
    with pytest.raises(services.PaymentError) as exc:
        services.pay_by_card(expired, good_card, provider=sandbox)
    assert "venció" in exc.value.message
    order = make_order()
    services.pay_by_card(order, good_card, provider=sandbox)
    order.refresh_from_db()
    with pytest.raises(services.PaymentError):
        services.pay_by_card(order, good_card, provider=sandbox)
    assert SandboxTransaction.objects.filter(kind="card").count() == 1


def test_sandbox_pay_cash_command_sends_a_signed_webhook(order, sandbox, paid_handler_calls, capsys):
    voucher = services.cash_voucher(order, provider=sandbox)
    assert voucher.reference == order.reference
    assert services.cash_voucher(order, provider=sandbox).pk == voucher.pk  # asked once
    call_command("sandbox_pay_cash", order.reference_grouped)
    out = capsys.readouterr().out
    assert "HTTP 200" in out and "credited" in out
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and paid_handler_calls == [order.pk]
    with pytest.raises(CommandError):
        call_command("sandbox_pay_cash", order.reference)  # already paid
    call_command("sandbox_pay_cash", order.reference, "--resend")  # the same event again
    assert "duplicate" in capsys.readouterr().out
    assert Payment.objects.filter(order=order).count() == 1


def test_sandbox_pay_cash_late_with_at(make_order, sandbox):
    order = make_order(due_date=timezone.localdate() - timedelta(days=10))
    # The reference was issued before the due date; the money arrives after it.
    sandbox.create_cash_reference(order)
    at = timezone.localtime() - timedelta(days=2)
    call_command("sandbox_pay_cash", order.reference, "--at", at.isoformat())
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.paid_late
    assert order.paid_at == at


def test_sandbox_pay_cash_rejects_unknown_references_and_bad_options(order):
    with pytest.raises(CommandError):
        call_command("sandbox_pay_cash", order.reference)  # no cash reference was issued
    services.cash_voucher(order, provider=SandboxProvider())
    with pytest.raises(CommandError):
        call_command("sandbox_pay_cash", order.reference, "--at", "ayer")
    with pytest.raises(CommandError):
        call_command("sandbox_pay_cash", order.reference, "--amount", "diez")


def test_a_worker_dying_between_inbox_and_credit_loses_nothing(order, paid_cash, sandbox, monkeypatch):
    """The event was stored, the worker died before crediting: the provider's retry (or
    process_payment_events) credits it once."""
    _, body, headers = paid_cash(order)

    def die(*args, **kwargs):
        raise RuntimeError("worker died")

    monkeypatch.setattr(services, "credit", die)
    response = services.receive_webhook("sandbox", headers, body)
    assert response.status == 503
    event = ProviderEvent.objects.get(signature_valid=True)
    assert event.processed_at is None and not Payment.objects.exists()
    monkeypatch.undo()
    assert services.process_pending_events() == 1
    assert services.process_pending_events() == 0
    event.refresh_from_db()
    assert event.outcome == "credited"
    assert services.receive_webhook("sandbox", headers, body).body["duplicate"] is True
    assert Payment.objects.filter(order=order).count() == 1
    call_command("process_payment_events")


def test_sandbox_statement_lists_settled_charges_and_refunds(order, make_order, sandbox, good_card, declined_card):
    services.pay_by_card(order, good_card, provider=sandbox)
    services.pay_by_card(make_order(), declined_card, provider=sandbox)
    pending = make_order()
    sandbox.create_cash_reference(pending)
    payment = Payment.objects.get(order=order)
    services.refund(payment, reason="Prueba", amount_centavos=50, provider=sandbox)
    lines = sandbox.statement(timezone.localdate())
    assert [(line.kind, line.amount_centavos) for line in lines] == [
        ("charge", order.amount_centavos), ("refund", 50)]
    assert sandbox.statement(timezone.localdate() - timedelta(days=1)) == []


def test_webhook_secret_comes_from_settings_or_the_secret_key(settings):
    from ventanilla.payments.providers.sandbox import webhook_secret

    settings.VENTANILLA_SANDBOX_WEBHOOK_SECRET = ""
    derived = webhook_secret()
    assert len(derived) == 64 and derived != settings.SECRET_KEY
    settings.SECRET_KEY = "otra llave secreta de la instalación"
    assert webhook_secret() != derived
    settings.VENTANILLA_SANDBOX_WEBHOOK_SECRET = "configurado"
    assert webhook_secret() == "configurado" == SandboxProvider().secret


def test_http_delivery_posts_the_signed_webhook(order, paid_cash, sandbox):
    """With --url (or VENTANILLA_SANDBOX_WEBHOOK_DELIVERY=http) the sandbox POSTs the webhook; the
    receiving end here is a local HTTP server that verifies it with the platform's own handler."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, dict(self.headers), body))
            notification = sandbox.parse_webhook({k.lower(): v for k, v in self.headers.items()}, body)
            answer = json.dumps({"outcome": "ok", "event": notification.event_id}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        txn, body, _ = paid_cash(order)
        status, answer = sandbox.send_webhook(txn, url=f"http://127.0.0.1:{server.server_port}/pagos/webhook/sandbox/")
    finally:
        server.shutdown()
    assert status == 200 and answer == {"outcome": "ok", "event": txn.webhook_event_id}
    (path, headers, sent), = received
    assert path == "/pagos/webhook/sandbox/" and sent == body
    assert {k.lower() for k in headers} >= {"ventanilla-signature", "content-type"}
