"""The Openpay adapter against recorded responses of the documented shape (no network): a fake
transport stands where urllib would be, behind the same provider interface."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from ventanilla.payments import services
from ventanilla.payments.models import OrderStatus, Payment
from ventanilla.payments.providers.base import (
    PAYMENT_SUCCEEDED,
    VERIFICATION,
    CardInput,
    ProviderError,
    WebhookPayloadError,
    WebhookSignatureError,
    get_provider,
)
from ventanilla.payments.providers.openpay import OpenpayProvider

pytestmark = pytest.mark.django_db

MERCHANT = "mzdtln0bmtms6o3kck8f"


class FakeTransport:
    """Replays (status, JSON) answers in order and records every request."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[dict] = []

    def __call__(self, method, url, headers, body, timeout):
        self.requests.append({"method": method, "url": url, "headers": dict(headers),
                              "json": json.loads(body) if body else None, "timeout": timeout})
        status, payload = self.answers.pop(0)
        return status, json.dumps(payload).encode()


def provider(transport, **kwargs) -> OpenpayProvider:
    defaults = {"merchant_id": MERCHANT, "private_key": "sk_test_private", "public_key": "pk_test_public",
                "webhook_user": "ventanilla", "webhook_password": "una clave larga", "transport": transport}
    return OpenpayProvider(**(defaults | kwargs))


def token_answer():
    return 200, {"id": "kqgykn96i7bcs1wwhvgw", "card": {"card_number": "411111XXXXXX1111", "brand": "visa"}}


def charge_answer(order, *, status="completed", card_type="debit", amount=None):
    return 200, {
        "id": "trzjaozcik8msyqshka4", "authorization": "801585", "operation_type": "in", "method": "card",
        "transaction_type": "charge", "status": status, "conciliated": False,
        "creation_date": "2026-05-04T10:21:34-06:00", "operation_date": "2026-05-04T10:21:35-06:00",
        "description": order.concept, "error_message": None, "order_id": f"{order.reference}-1",
        "amount": amount if amount is not None else order.amount_centavos / 100, "currency": "MXN",
        "card": {"type": card_type, "brand": "visa", "address": None, "card_number": "411111XXXXXX1111",
                 "holder_name": "Maria Gomez", "expiration_year": "29", "expiration_month": "12",
                 "allows_charges": True, "allows_payouts": True, "bank_name": "Banamex", "bank_code": "002"},
    }


def error_answer(code, http, description):
    return http, {"category": "gateway" if code >= 3000 else "request", "description": description,
                  "http_code": http, "error_code": code, "request_id": "1981cdb8-19cb-4bad-8256-e95d58bc035c"}


CARD = CardInput(number="4111111111111111", holder_name="María Gómez", exp_month="12", exp_year="29", cvv="110")


def test_card_charge_tokenises_then_charges_and_credits(order):
    transport = FakeTransport(token_answer(), charge_answer(order))
    op = provider(transport)
    outcome = services.pay_by_card(order, CARD, provider=op)
    assert outcome.paid and outcome.credit.payment.provider == "openpay"
    assert outcome.credit.receipt.forma_pago == "28"
    token_req, charge_req = transport.requests
    assert token_req["method"] == "POST" and token_req["url"] == f"https://sandbox-api.openpay.mx/v1/{MERCHANT}/tokens"
    assert token_req["headers"]["Authorization"] == "Basic " + base64.b64encode(b"pk_test_public:").decode()
    assert token_req["json"]["card_number"] == "4111111111111111" and token_req["json"]["cvv2"] == "110"
    assert charge_req["url"] == f"https://sandbox-api.openpay.mx/v1/{MERCHANT}/charges"
    assert charge_req["headers"]["Authorization"] == "Basic " + base64.b64encode(b"sk_test_private:").decode()
    body = charge_req["json"]
    assert body["method"] == "card" and body["source_id"] == "kqgykn96i7bcs1wwhvgw" and body["currency"] == "MXN"
    assert body["amount"] == order.amount_centavos / 100
    assert body["order_id"] == f"{order.reference}-1"
    assert body["customer"]["email"] == order.payer.email
    assert charge_req["timeout"] > 0
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_browser_token_and_device_session_are_passed_through(order):
    transport = FakeTransport(charge_answer(order))
    card = CardInput(token="tok_from_openpay_js", device_session_id="kR1MiQhz2otdIuUlQkbEyitIqVMiI16f")
    assert services.pay_by_card(order, card, provider=provider(transport)).paid
    (charge_req,) = transport.requests
    assert charge_req["json"]["source_id"] == "tok_from_openpay_js"
    assert charge_req["json"]["device_session_id"] == "kR1MiQhz2otdIuUlQkbEyitIqVMiI16f"


@pytest.mark.parametrize("code, expected", [
    (3001, "rechazó"), (3003, "fondos"), (3004, "rechazó"), (3005, "rechazó"), (2005, "venció"), (3012, "llame"),
])
def test_card_declines_become_spanish_messages(order, code, expected):
    transport = FakeTransport(token_answer(), error_answer(code, 402, "The card was declined"))
    outcome = services.pay_by_card(order, CARD, provider=provider(transport))
    assert not outcome.paid and expected in outcome.charge.message
    assert outcome.charge.error_code == str(code)
    assert not Payment.objects.exists()


def test_provider_failures_raise_a_spanish_provider_error(order):
    transport = FakeTransport(token_answer(), error_answer(1004, 503, "Service unavailable"))
    with pytest.raises(ProviderError) as exc:
        services.pay_by_card(order, CARD, provider=provider(transport))
    assert "no está disponible" in exc.value.message
    with pytest.raises(ProviderError) as exc:
        provider(FakeTransport(), merchant_id="").charge_card(order, CARD)
    assert exc.value.code == "not_configured"


def test_a_charge_that_needs_3d_secure_is_not_credited(order):
    transport = FakeTransport(token_answer(), charge_answer(order, status="charge_pending"))
    outcome = services.pay_by_card(order, CARD, provider=provider(transport))
    assert not outcome.paid and "verificación adicional" in outcome.charge.message


def test_store_reference(order):
    transport = FakeTransport((200, {
        "id": "trgklldjutbqv9gqzyn9", "authorization": None, "operation_type": "in", "method": "store",
        "transaction_type": "charge", "status": "in_progress", "description": order.concept,
        "order_id": f"{order.reference}-1", "amount": order.amount_centavos / 100, "currency": "MXN",
        "payment_method": {"type": "store", "reference": "1010101389264548",
                           "barcode_url": "https://sandbox-api.openpay.mx/barcode/1010101389264548?width=1&height=45&text=false"},
    }))
    voucher = services.cash_voucher(order, provider=provider(transport))
    assert voucher.reference == "1010101389264548" and voucher.barcode_value == "1010101389264548"
    assert voucher.provider_payment_id == "trgklldjutbqv9gqzyn9" and "Paynet" in voucher.instructions
    body = transport.requests[0]["json"]
    assert body["method"] == "store" and body["due_date"].startswith(order.due_date.isoformat())


def test_store_payments_have_a_ceiling(make_order):
    big = make_order(amount_centavos=1_000_000)
    with pytest.raises(ProviderError) as exc:
        provider(FakeTransport()).create_cash_reference(big)
    assert "9,999.99" in exc.value.message


def openpay_webhook(order, *, amount=None, method="store", txn_id="trgklldjutbqv9gqzyn9"):
    return {
        "type": "charge.succeeded", "event_date": "2026-05-06T13:35:37-06:00",
        "transaction": {
            "id": txn_id, "authorization": "016341", "operation_type": "in", "transaction_type": "charge",
            "status": "completed", "conciliated": False, "creation_date": "2026-05-04T13:29:04-06:00",
            "operation_date": "2026-05-06T13:35:37-06:00", "description": order.concept, "error_message": None,
            "order_id": f"{order.reference}-1", "amount": amount if amount is not None else order.amount_centavos / 100,
            "currency": "MXN", "method": method,
            "payment_method": {"type": "store", "reference": "1010101602603877"},
        },
    }


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_webhook_with_the_configured_credentials_credits(order, client, monkeypatch):
    op = provider(FakeTransport())
    monkeypatch.setattr("ventanilla.payments.providers.openpay.OpenpayProvider.from_settings", classmethod(lambda cls: op))
    body = json.dumps(openpay_webhook(order)).encode()
    url = "/pagos/webhook/openpay/"
    ok = client.post(url, data=body, content_type="application/json",
                     HTTP_AUTHORIZATION=basic("ventanilla", "una clave larga"))
    assert ok.status_code == 200 and ok.json()["outcome"] == "credited"
    payment = Payment.objects.get()
    assert (payment.provider, payment.method, payment.amount_centavos) == ("openpay", "cash", order.amount_centavos)
    again = client.post(url, data=body, content_type="application/json",
                        HTTP_AUTHORIZATION=basic("ventanilla", "una clave larga"))
    assert again.json()["duplicate"] is True
    for auth in (basic("ventanilla", "otra"), basic("otro", "una clave larga"), "Basic ***", "Bearer x", ""):
        bad = client.post(url, data=body, content_type="application/json", HTTP_AUTHORIZATION=auth)
        assert bad.status_code == 401, auth
    assert Payment.objects.count() == 1


def test_webhook_parsing():
    op = provider(FakeTransport())
    with pytest.raises(WebhookSignatureError):
        provider(FakeTransport(), webhook_password="").parse_webhook(
            {"authorization": basic("ventanilla", "")}, b"{}")
    auth = {"authorization": basic("ventanilla", "una clave larga")}
    verification = op.parse_webhook(auth, json.dumps({"type": "verification", "event_date": "2026-05-06T13:35:37-06:00",
                                                      "verification_code": "jmTgXLk1"}).encode())
    assert verification.kind == VERIFICATION and verification.event_id == "verification:jmTgXLk1"
    for body in (b"not json", b"[" * 100_000):  # the second is nested too deep to decode
        with pytest.raises(WebhookPayloadError):
            op.parse_webhook(auth, body)
    with pytest.raises(WebhookPayloadError):
        op.parse_webhook(auth, json.dumps({"type": "charge.succeeded", "transaction": {"id": "t", "amount": 1.234,
                                                                                        "method": "card",
                                                                                        "operation_date": "2026-05-06T13:35:37-06:00"}}).encode())
    failed = op.notification_from_payload({"type": "charge.failed", "transaction": {"id": "t1"}})
    assert failed.kind == "payment_failed" and failed.event_id == "charge.failed:t1"


def test_webhook_amounts_are_exact(make_order):
    op = provider(FakeTransport())
    order = make_order(amount_centavos=123_456_789)
    note = op.notification_from_payload(openpay_webhook(order))
    assert note.kind == PAYMENT_SUCCEEDED and note.amount_centavos == 123_456_789
    assert note.order_reference == order.reference and note.method == "cash"


def test_statement_filters_by_settlement_day_and_lists_refunds(order):
    day = timezone.localdate()
    today = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    yesterday = today - timedelta(days=1)
    page = [
        {"id": "tr_today", "transaction_type": "charge", "status": "completed", "method": "card", "amount": 450.5,
         "order_id": f"{order.reference}-1", "operation_date": today.isoformat()},
        {"id": "tr_yesterday", "transaction_type": "charge", "status": "completed", "method": "store", "amount": 10,
         "order_id": "x-1", "operation_date": yesterday.isoformat()},
        {"id": "tr_pending", "transaction_type": "charge", "status": "in_progress", "method": "store", "amount": 10,
         "order_id": "y-1", "operation_date": today.isoformat()},
        {"id": "tr_refunded", "transaction_type": "charge", "status": "refunded", "method": "card", "amount": 20,
         "order_id": "z-1", "operation_date": yesterday.isoformat(),
         "refund": {"id": "trr_1", "amount": 20, "status": "completed", "operation_date": today.isoformat()}},
    ]
    transport = FakeTransport((200, page))
    lines = provider(transport).statement(day)
    assert [(ln.kind, ln.provider_payment_id, ln.amount_centavos) for ln in lines] == [
        ("charge", "tr_today", 45_050), ("refund", "trr_1", 2_000)]
    assert lines[0].order_reference == order.reference and lines[0].method == "card"
    query = transport.requests[0]["url"].split("?", 1)[1]
    assert "creation%5Bgte%5D=" in query and f"creation%5Blte%5D={day.isoformat()}" in query and "limit=100" in query


def test_statement_pages_until_a_short_page():
    full = [{"id": f"tr{i}", "status": "in_progress", "operation_date": None} for i in range(100)]
    transport = FakeTransport((200, full), (200, full[:3]))
    assert provider(transport).statement(timezone.localdate()) == []
    assert [r["url"].split("offset=")[1].split("&")[0] for r in transport.requests] == ["0", "100"]


def test_refund(order):
    transport = FakeTransport(token_answer(), charge_answer(order))
    op = provider(transport)
    payment = services.pay_by_card(order, CARD, provider=op).credit.payment
    transport.answers.append((200, charge_answer(order)[1] | {"refund": {"id": "trcbsmjkroqmvzhhpstb", "amount": 100.0,
                                                                        "status": "completed"}}))
    refund = services.refund(payment, reason="Cobro indebido", amount_centavos=10_000, provider=op)
    assert refund.status == "completed" and refund.provider_refund_id == "trcbsmjkroqmvzhhpstb"
    req = transport.requests[-1]
    assert req["url"].endswith(f"/charges/{payment.provider_payment_id}/refund") and req["json"]["amount"] == 100.0
    transport.answers.append(error_answer(1005, 404, "The requested resource doesn't exist"))
    failed = services.refund(payment, reason="Otra", amount_centavos=100, provider=op)
    assert failed.status == "failed"


def test_registry(settings):
    assert get_provider().name == "sandbox"
    settings.VENTANILLA_PAYMENT_PROVIDER = "openpay"
    assert isinstance(get_provider(), OpenpayProvider)
    with pytest.raises(LookupError):
        get_provider("paypal")


def test_production_base_url(order):
    transport = FakeTransport(charge_answer(order))
    provider(transport, production=True).charge_card(order, CardInput(token="t"))
    assert transport.requests[0]["url"].startswith("https://api.openpay.mx/v1/")
