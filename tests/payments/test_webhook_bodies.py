"""Webhook bodies a database cannot store as JSON (NUL, "\\u0000", lone surrogates) and dates that
do not exist ("2026-02-30"): a clear 401 or 400, never a 500, and nothing half-written. These run
on SQLite and on PostgreSQL (whichever DATABASE_URL names); test_postgres_webhook_bodies.py shows
on PostgreSQL itself why the raw body cannot go into the jsonb column as parsed JSON."""

from __future__ import annotations

import base64
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from ventanilla.payments import services
from ventanilla.payments.models import OrderStatus, Payment, ProviderEvent
from ventanilla.payments.providers.base import WebhookPayloadError, parse_aware_datetime
from ventanilla.payments.providers.openpay import OpenpayProvider
from ventanilla.payments.providers.sandbox import SIGNATURE_HEADER, sign

pytestmark = pytest.mark.django_db

NUL_BODIES = [
    b'{"id": "evt_x", "type": "charge.succeeded", "data": {"note": "\\u0000"}}',  # JSON escape
    b'{"id": "evt_x", "type": "charge.succeeded", "data": {"note": "a\x00b"}}',  # a raw NUL byte
    b'{"id": "evt_x\\ud800", "type": "charge.succeeded"}',  # a lone surrogate
    b"\x00\xff\xfe not even text",
]


def post(client, url: str, body: bytes, **headers):
    return client.post(url, data=body, content_type="application/json", **headers)


def forged_sandbox_headers(body: bytes) -> dict:
    return {"HTTP_VENTANILLA_SIGNATURE": sign(body, secret="no-es-el-secreto",
                                              timestamp=int(timezone.now().timestamp()))}


@pytest.mark.parametrize("body", NUL_BODIES)
def test_forged_sandbox_webhook_with_nul_is_a_401_and_is_kept_escaped(client, body):
    response = post(client, "/pagos/webhook/sandbox/", body, **forged_sandbox_headers(body))
    assert response.status_code == 401
    assert "firma" in response.json()["detail"]
    event = ProviderEvent.objects.get()
    assert (event.signature_valid, event.event_id, event.outcome) == (False, "", "rejected_signature")
    raw = event.payload["raw"]
    assert "\x00" not in raw and event.payload["bytes"] == len(body) and event.payload["truncated"] is False
    assert len(event.payload["sha256"]) == 64
    if b"\x00" in body:
        assert "\\x00" in raw  # the NUL byte is written as an escape
    if b"\\u0000" in body:
        assert "\\u0000" in raw  # never parsed: the six characters are kept as they came


def test_unsigned_webhook_with_nul_is_a_401(client):
    response = post(client, "/pagos/webhook/sandbox/", NUL_BODIES[0])
    assert response.status_code == 401
    assert ProviderEvent.objects.get().outcome == "rejected_signature"


@pytest.mark.parametrize("body", NUL_BODIES)
def test_openpay_webhook_with_nul_and_wrong_credentials_is_a_401(client, monkeypatch, body):
    op = OpenpayProvider(merchant_id="m", private_key="k", webhook_user="ventanilla", webhook_password="clave")
    monkeypatch.setattr(OpenpayProvider, "from_settings", classmethod(lambda cls: op))
    auth = "Basic " + base64.b64encode(b"ventanilla:otra").decode()
    response = post(client, "/pagos/webhook/openpay/", body, HTTP_AUTHORIZATION=auth)
    assert response.status_code == 401
    event = ProviderEvent.objects.get()
    assert event.outcome == "rejected_signature" and "\x00" not in event.payload["raw"]


def test_a_huge_forged_body_is_kept_cut_to_the_limit(client):
    body = b'{"pad": "' + b"\x00" * 10_000 + b'"}'
    assert post(client, "/pagos/webhook/sandbox/", body, **forged_sandbox_headers(body)).status_code == 401
    payload = ProviderEvent.objects.get().payload
    assert payload["truncated"] is True and payload["bytes"] == len(body)
    assert payload["raw"].count("\\x00") == services.RAW_BODY_LIMIT - len(b'{"pad": "')


def test_signed_webhook_with_nul_is_a_400_and_credits_nothing(client, order, paid_cash, sandbox):
    txn, body, _ = paid_cash(order)
    document = json.loads(body)
    document["data"]["funding"] = "\x00"
    for bad in (json.dumps(document).encode(),  # "\u0000" escape in a field we store
                json.dumps(document).encode().replace(b"\\u0000", b"\\ud800")):  # a lone surrogate
        response = post(client, "/pagos/webhook/sandbox/", bad,
                        HTTP_VENTANILLA_SIGNATURE=sandbox.signed_headers(bad)[SIGNATURE_HEADER])
        assert response.status_code == 400
        assert response.json()["detail"] == "El aviso contiene caracteres no permitidos."
    assert not Payment.objects.exists()
    assert not ProviderEvent.objects.filter(signature_valid=True).exclude(event_id="").exists()
    assert list(ProviderEvent.objects.values_list("outcome", flat=True)) == ["rejected_payload"] * 2
    # The real notification still goes through.
    assert post(client, "/pagos/webhook/sandbox/", body,
                HTTP_VENTANILLA_SIGNATURE=sandbox.signed_headers(body)[SIGNATURE_HEADER]).json()["outcome"] == "credited"


# --- Dates that do not exist -------------------------------------------------------------------

IMPOSSIBLE = ["2026-02-30T10:00:00-06:00", "2026-04-31T10:00:00-06:00", "2026-05-01T25:00:00-06:00",
              "0001-01-01T00:00:00+14:00", "2026-05-01T10:00:00"]


@pytest.mark.parametrize("value", IMPOSSIBLE + ["", None, 20260501, "ayer"])
def test_parse_aware_datetime_refuses_what_is_not_a_moment(value):
    assert parse_aware_datetime(value) is None


def test_parse_aware_datetime_reads_a_real_moment():
    moment = parse_aware_datetime("2026-02-28T10:00:00-06:00")
    assert moment is not None and moment.utcoffset().total_seconds() == -6 * 3600


@pytest.mark.parametrize("value", IMPOSSIBLE)
def test_signed_sandbox_webhook_with_an_impossible_date_is_a_400(client, order, paid_cash, sandbox, value):
    _, body, _ = paid_cash(order)
    document = json.loads(body)
    document["data"]["paid_at"] = value
    bad = json.dumps(document).encode()
    response = post(client, "/pagos/webhook/sandbox/", bad,
                    HTTP_VENTANILLA_SIGNATURE=sandbox.signed_headers(bad)[SIGNATURE_HEADER])
    assert response.status_code == 400
    assert "no son válidos" in response.json()["detail"]
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING and not Payment.objects.exists()
    assert list(ProviderEvent.objects.values_list("outcome", "event_id")) == [("rejected_payload", "")]


def test_signed_openpay_webhook_with_an_impossible_date_is_a_400(client, order, monkeypatch):
    op = OpenpayProvider(merchant_id="m", private_key="k", webhook_user="ventanilla", webhook_password="clave")
    monkeypatch.setattr(OpenpayProvider, "from_settings", classmethod(lambda cls: op))
    body = json.dumps({"type": "charge.succeeded", "event_date": "2026-02-30T13:35:37-06:00", "transaction": {
        "id": "tr_1", "status": "completed", "method": "store", "amount": order.amount_centavos / 100,
        "order_id": f"{order.reference}-1", "operation_date": "2026-02-30T13:35:37-06:00"}}).encode()
    auth = "Basic " + base64.b64encode(b"ventanilla:clave").decode()
    response = post(client, "/pagos/webhook/openpay/", body, HTTP_AUTHORIZATION=auth)
    assert response.status_code == 400
    assert not Payment.objects.exists()
    with pytest.raises(WebhookPayloadError):
        op.notification_from_payload(json.loads(body))


def test_an_inbox_event_with_an_impossible_date_does_not_stop_the_sweep(order, make_order, paid_cash, sandbox):
    """An event stored by an older version (or edited) whose date does not exist is skipped; the
    events after it are still credited."""
    other = make_order()
    _, body, headers = paid_cash(other)
    note = sandbox.parse_webhook(headers, body)
    broken = dict(note.payload, id="evt_broken", data=dict(note.payload["data"], paid_at="2026-02-30T10:00:00-06:00"))
    ProviderEvent.objects.create(provider="sandbox", event_id="evt_broken", signature_valid=True, payload=broken,
                                 received_at=timezone.now() - timezone.timedelta(minutes=5))
    ProviderEvent.objects.create(provider="sandbox", event_id=note.event_id, signature_valid=True,
                                 payload=note.payload, received_at=timezone.now())
    assert services.process_pending_events() == 1
    other.refresh_from_db()
    assert other.status == OrderStatus.PAID


def test_sandbox_pay_cash_with_an_impossible_at_is_a_clear_error(order, sandbox):
    sandbox.create_cash_reference(order)
    for value in ("2026-02-30T10:30:00-06:00", "2026-02-30T10:30:00", "0001-01-01T00:00:00+14:00"):
        with pytest.raises(CommandError) as exc:
            call_command("sandbox_pay_cash", order.reference, "--at", value)
        assert "--at no es una fecha y hora que exista" in str(exc.value)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING and not Payment.objects.exists()


def test_reconcile_with_an_impossible_date_in_the_openpay_statement_is_a_clear_error(monkeypatch):
    from tests.payments.test_openpay import FakeTransport, provider

    page = [{"id": "tr_bad", "transaction_type": "charge", "status": "completed", "method": "card", "amount": 10,
             "order_id": "x-1", "operation_date": "2026-02-30T12:00:00-06:00"}]
    op = provider(FakeTransport((200, page)))
    monkeypatch.setattr(OpenpayProvider, "from_settings", classmethod(lambda cls: op))
    with pytest.raises(CommandError) as exc:
        call_command("reconcile_payments", "--provider", "openpay", "--date", "2026-02-28")
    assert "fecha que no es válida (2026-02-30T12:00:00-06:00) en la operación tr_bad" in str(exc.value)

    refunded = [{"id": "tr_ok", "transaction_type": "charge", "status": "refunded", "method": "card", "amount": 10,
                 "order_id": "x-1", "operation_date": "2026-02-27T12:00:00-06:00",
                 "refund": {"id": "trr_bad", "amount": 10, "status": "completed", "operation_date": "2026-13-01T00:00:00Z"}}]
    op.transport = FakeTransport((200, refunded))
    with pytest.raises(CommandError) as exc:
        call_command("reconcile_payments", "--provider", "openpay", "--date", "2026-02-28")
    assert "trr_bad" in str(exc.value)


def test_openpay_card_charge_with_an_impossible_date_is_credited_now(order):
    from tests.payments.test_openpay import CARD, FakeTransport, charge_answer, provider, token_answer

    status, answer = charge_answer(order)
    answer = answer | {"operation_date": "2026-02-30T10:21:35-06:00", "creation_date": "2026-02-30T10:21:34-06:00"}
    outcome = services.pay_by_card(order, CARD, provider=provider(FakeTransport(token_answer(), (status, answer))))
    assert outcome.paid
    assert abs((outcome.credit.payment.paid_at - timezone.now()).total_seconds()) < 60
