"""The sandbox: a simulated payment processor that runs inside the platform.

It behaves like a remote provider: it approves or declines test cards, issues cash references
that are "paid later" at a store or bank (`manage.py sandbox_pay_cash`), keeps its own ledger
(`SandboxTransaction`, so `statement()` is real and reconciliation has something to compare) and
reports payments with webhooks signed with HMAC-SHA256 (VENTANILLA_SANDBOX_WEBHOOK_SECRET).

Test cards (any future expiry date, any 3-digit code):

    4242 4242 4242 4242   approved (credit)
    5200 8282 8282 8210   approved (debit)
    4000 0000 0000 0002   declined by the bank
    4000 0000 0000 9995   declined: insufficient funds

Any other number that passes the Luhn check is declined ("use a test card").

Webhook: POST body (JSON)::

    {"id": "evt_…", "type": "charge.succeeded", "created": "2026-05-01T10:00:00-06:00",
     "data": {"transaction_id": "sbx_…", "order_reference": "35…", "amount_centavos": 12345,
              "method": "card" | "cash", "funding": "credit" | "debit" | "", "paid_at": "…"}}

with the header ``Ventanilla-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ..cards import brand_of, luhn_valid
from ..models import SandboxTransaction
from .base import (
    OTHER,
    PAYMENT_SUCCEEDED,
    CardInput,
    CashReference,
    ChargeResult,
    PaymentProvider,
    ProviderError,
    ProviderNotification,
    RefundResult,
    StatementLine,
    WebhookPayloadError,
    WebhookSignatureError,
    parse_aware_datetime,
)

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "ventanilla-signature"
TOLERANCE_SECONDS = 300

# number -> (funding, decline code or "")
TEST_CARDS = {
    "4242424242424242": ("credit", ""),
    "5200828282828210": ("debit", ""),
    "4000000000000002": ("credit", "card_declined"),
    "4000000000009995": ("credit", "insufficient_funds"),
}


def decline_message(code: str) -> str:
    return {
        "card_declined": _("El banco rechazó la tarjeta. Intente con otra tarjeta o pague en efectivo."),
        "insufficient_funds": _("La tarjeta no tiene fondos suficientes. Intente con otra tarjeta o pague en efectivo."),
        "invalid_number": _("El número de la tarjeta no es válido. Revíselo."),
        "not_a_test_card": _(
            "En el entorno de pruebas solo se aceptan tarjetas de prueba, por ejemplo 4242 4242 4242 4242."
        ),
    }.get(code, _("La tarjeta fue rechazada."))


def sign(body: bytes, *, secret: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def webhook_secret() -> str:
    """VENTANILLA_SANDBOX_WEBHOOK_SECRET, or one derived from SECRET_KEY (the same in every worker)."""
    configured = settings.VENTANILLA_SANDBOX_WEBHOOK_SECRET
    if configured:
        return configured
    return hmac.new(settings.SECRET_KEY.encode(), b"ventanilla-sandbox-webhook", hashlib.sha256).hexdigest()


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


class SandboxProvider(PaymentProvider):
    name = "sandbox"
    label = "Sandbox (pruebas)"

    def __init__(
        self,
        *,
        secret: str | None = None,
        clock: Callable[[], float] = time.time,
        card_webhooks: bool = True,
        delivery: str | None = None,
    ):
        self.secret = secret if secret is not None else webhook_secret()
        self.clock = clock
        self.card_webhooks = card_webhooks
        self.delivery = delivery or settings.VENTANILLA_SANDBOX_WEBHOOK_DELIVERY

    # --- Cards -------------------------------------------------------------------------------
    def charge_card(self, order, card: CardInput) -> ChargeResult:
        digits = card.digits
        if not luhn_valid(digits):
            return ChargeResult(succeeded=False, message=decline_message("invalid_number"), error_code="invalid_number")
        funding, decline = TEST_CARDS.get(digits, ("", "not_a_test_card"))
        now = timezone.now()
        txn = SandboxTransaction.objects.create(
            transaction_id=_new_id("sbx"),
            kind=SandboxTransaction.Kind.CARD,
            status=SandboxTransaction.Status.DECLINED if decline else SandboxTransaction.Status.SUCCEEDED,
            order_reference=order.reference,
            amount_centavos=order.amount_centavos,
            card_brand=brand_of(digits),
            card_last4=digits[-4:],
            funding=funding,
            decline_code=decline,
            created_at=now,
            paid_at=None if decline else now,
            webhook_event_id="" if decline else _new_id("evt"),
        )
        if decline:
            return ChargeResult(
                succeeded=False, provider_payment_id=txn.transaction_id, amount_centavos=txn.amount_centavos,
                brand=txn.card_brand, last4=txn.card_last4, message=decline_message(decline), error_code=decline,
            )
        if self.card_webhooks:
            # Like a real processor, the sandbox also reports the approved charge by webhook,
            # usually before the resident's browser comes back.
            self.send_webhook(txn)
        return ChargeResult(
            succeeded=True, provider_payment_id=txn.transaction_id, amount_centavos=txn.amount_centavos,
            paid_at=txn.paid_at, funding=funding, brand=txn.card_brand, last4=txn.card_last4,
        )

    # --- Cash --------------------------------------------------------------------------------
    def create_cash_reference(self, order) -> CashReference:
        with transaction.atomic():
            txn = (
                SandboxTransaction.objects.select_for_update()
                .filter(kind=SandboxTransaction.Kind.CASH, order_reference=order.reference)
                .first()
            )
            if txn is None:
                txn = SandboxTransaction.objects.create(
                    transaction_id=_new_id("sbx"), kind=SandboxTransaction.Kind.CASH,
                    status=SandboxTransaction.Status.PENDING, order_reference=order.reference,
                    amount_centavos=order.amount_centavos,
                )
        return CashReference(
            provider_payment_id=txn.transaction_id,
            reference=order.reference,
            barcode_value=order.reference,
            instructions=_(
                "Pague en la caja de la Tesorería, en un banco o en una tienda de conveniencia "
                "dictando o mostrando esta línea de captura."
            ),
        )

    def pay_cash(
        self, reference: str, *, at: datetime | None = None, amount_centavos: int | None = None
    ) -> SandboxTransaction:
        """A store or bank took the money for `reference` (at `at`, default now). Records it in
        the sandbox's ledger; call `send_webhook` afterwards to tell the platform."""
        ref = "".join(ch for ch in reference if ch.isdigit())
        with transaction.atomic():
            txn = (
                SandboxTransaction.objects.select_for_update()
                .filter(kind=SandboxTransaction.Kind.CASH, order_reference=ref)
                .first()
            )
            if txn is None:
                raise ProviderError(
                    _("El simulador no emitió esa referencia. Elija «Pagar en efectivo» en la orden primero.")
                )
            if txn.status == SandboxTransaction.Status.PAID:
                raise ProviderError(_("Esa referencia ya fue pagada en el simulador."), code="already_paid")
            if amount_centavos is not None:
                if amount_centavos <= 0:
                    raise ProviderError(_("El importe debe ser mayor que cero."))
                txn.amount_centavos = amount_centavos
            txn.status = SandboxTransaction.Status.PAID
            txn.paid_at = at or timezone.now()
            txn.webhook_event_id = _new_id("evt")
            txn.save(update_fields=["status", "paid_at", "amount_centavos", "webhook_event_id"])
        return txn

    # --- Webhooks ----------------------------------------------------------------------------
    def event_body(self, txn: SandboxTransaction) -> bytes:
        """The webhook body for a settled transaction; the same bytes every time it is sent."""
        paid_at = timezone.localtime(txn.paid_at).isoformat()
        document = {
            "id": txn.webhook_event_id,
            "type": "charge.succeeded",
            "created": paid_at,
            "data": {
                "transaction_id": txn.transaction_id,
                "order_reference": txn.order_reference,
                "amount_centavos": txn.amount_centavos,
                "method": txn.kind,
                "funding": txn.funding,
                "paid_at": paid_at,
            },
        }
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()

    def signed_headers(self, body: bytes) -> dict[str, str]:
        return {
            "content-type": "application/json",
            SIGNATURE_HEADER: sign(body, secret=self.secret, timestamp=int(self.clock())),
        }

    def send_webhook(self, txn: SandboxTransaction, *, url: str | None = None) -> tuple[int, dict]:
        """Send the signed webhook of `txn` to the platform: in-process through the same handler
        the webhook URL uses ("inline"), or over HTTP ("http", or whenever `url` is given).
        Returns the platform's (status, JSON answer). Never raises for a delivery failure."""
        body = self.event_body(txn)
        headers = self.signed_headers(body)
        if url is None and self.delivery != "http":
            from ..services import receive_webhook  # the platform side

            try:
                result = receive_webhook(self.name, headers, body)
            except Exception:  # the provider keeps the event to resend, as a real one would
                logger.exception("sandbox webhook delivery failed", extra={"event": txn.webhook_event_id})
                return 503, {"detail": "delivery failed"}
            return result.status, result.body
        target = url or settings.SITE_URL + reverse("payments:webhook", args=[self.name])
        request = urllib.request.Request(target, data=body, method="POST")
        for key, value in headers.items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # our own URL
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                return exc.code, json.loads(exc.read() or b"{}")
            except ValueError:
                return exc.code, {}
        except (urllib.error.URLError, OSError, ValueError) as exc:
            logger.warning("sandbox webhook delivery failed: %s", exc)
            return 0, {"detail": str(exc)}

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> ProviderNotification:
        header = headers.get(SIGNATURE_HEADER, "")
        parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
        timestamp, given = parts.get("t", ""), parts.get("v1", "")
        if not (self.secret and timestamp.isascii() and timestamp.isdigit() and given):
            raise WebhookSignatureError(_("El aviso no trae una firma válida."))
        expected = sign(body, secret=self.secret, timestamp=int(timestamp)).split("v1=", 1)[1]
        if not hmac.compare_digest(expected.encode(), given.encode()):
            raise WebhookSignatureError(_("La firma del aviso no coincide."))
        if abs(self.clock() - int(timestamp)) > TOLERANCE_SECONDS:
            raise WebhookSignatureError(_("La firma del aviso está vencida."))
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise WebhookPayloadError(_("El cuerpo del aviso no es JSON válido.")) from exc
        return self.notification_from_payload(payload)

    def notification_from_payload(self, payload: dict) -> ProviderNotification:
        if not isinstance(payload, dict) or not isinstance(payload.get("id"), str) or not payload["id"]:
            raise WebhookPayloadError(_("El aviso no trae identificador."))
        data = payload.get("data")
        if payload.get("type") != "charge.succeeded":
            return ProviderNotification(event_id=payload["id"], kind=OTHER, payload=payload)
        if not isinstance(data, dict):
            raise WebhookPayloadError(_("El aviso no trae los datos del cargo."))
        amount = data.get("amount_centavos")
        paid_at = parse_aware_datetime(data.get("paid_at"))  # None for "2026-02-30T…" too
        method = data.get("method")
        if (
            isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0
            or paid_at is None
            or method not in ("card", "cash") or not data.get("transaction_id")
        ):
            raise WebhookPayloadError(_("Los datos del cargo en el aviso no son válidos."))
        return ProviderNotification(
            event_id=payload["id"],
            kind=PAYMENT_SUCCEEDED,
            provider_payment_id=str(data["transaction_id"]),
            order_reference=str(data.get("order_reference", "")),
            amount_centavos=amount,
            method=method,
            funding=str(data.get("funding") or ""),
            paid_at=paid_at,
            payload=payload,
        )

    # --- Statement and refunds --------------------------------------------------------------
    def statement(self, day: date) -> list[StatementLine]:
        start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
        end = timezone.make_aware(datetime.combine(day + timedelta(days=1), datetime.min.time()))
        lines = []
        settled = SandboxTransaction.objects.filter(
            paid_at__gte=start, paid_at__lt=end,
            status__in=[SandboxTransaction.Status.SUCCEEDED, SandboxTransaction.Status.PAID],
        ).select_related("refund_of")
        for txn in settled.order_by("paid_at", "pk"):
            if txn.kind == SandboxTransaction.Kind.REFUND:
                lines.append(StatementLine(
                    provider_payment_id=txn.transaction_id, kind="refund", amount_centavos=txn.amount_centavos,
                    at=txn.paid_at, order_reference=txn.order_reference, method=txn.refund_of.kind,
                ))
            else:
                lines.append(StatementLine(
                    provider_payment_id=txn.transaction_id, kind="charge", amount_centavos=txn.amount_centavos,
                    at=txn.paid_at, order_reference=txn.order_reference, method=txn.kind,
                ))
        return lines

    def refund(self, payment, amount_centavos: int) -> RefundResult:
        with transaction.atomic():
            original = (
                SandboxTransaction.objects.select_for_update()
                .filter(transaction_id=payment.provider_payment_id)
                .exclude(kind=SandboxTransaction.Kind.REFUND)
                .first()
            )
            if original is None or original.status not in (
                SandboxTransaction.Status.SUCCEEDED, SandboxTransaction.Status.PAID
            ):
                return RefundResult(succeeded=False, message=_("El simulador no tiene ese cargo cobrado."))
            refunded = original.refunds.aggregate(total=Sum("amount_centavos"))["total"] or 0
            if amount_centavos <= 0 or refunded + amount_centavos > original.amount_centavos:
                return RefundResult(succeeded=False, message=_("El reembolso excede lo cobrado."))
            txn = SandboxTransaction.objects.create(
                transaction_id=_new_id("sbr"), kind=SandboxTransaction.Kind.REFUND,
                status=SandboxTransaction.Status.SUCCEEDED, order_reference=original.order_reference,
                amount_centavos=amount_centavos, refund_of=original, paid_at=timezone.now(),
            )
        return RefundResult(succeeded=True, provider_refund_id=txn.transaction_id)
