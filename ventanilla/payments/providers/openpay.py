"""Openpay (México) adapter, written against Openpay's documented REST API (documents.openpay.mx).

* Base URL https://sandbox-api.openpay.mx (tests) or https://api.openpay.mx (production), then
  /v1/{merchant_id}/...; HTTP Basic authentication with the private key as user and an empty
  password; JSON bodies; errors come back as {"category", "error_code", "description",
  "http_code", "request_id"}.
* Card charge: POST /charges {"method": "card", "source_id": <token>, "amount", "currency": "MXN",
  "description", "order_id", "device_session_id", "customer": {...}}. Without a token from
  Openpay.js, the card is tokenised first with POST /tokens (public key), which puts the card
  number through this server: see docs/payments.md for the PCI consequence.
* Store (Paynet) charge: POST /charges {"method": "store", ...} answers
  payment_method.reference and payment_method.barcode_url; the resident pays at a store and
  Openpay notifies later. The barcode is drawn by the platform (Code 128 of the reference),
  nothing is loaded from Openpay's site.
* Refund: POST /charges/{transaction_id}/refund {"description", "amount"}.
* Statement: GET /charges?creation[gte]=…&creation[lte]=…&offset=…&limit=… (settled ones are
  filtered by their operation_date).
* Webhooks: {"type": "charge.succeeded", "event_date", "transaction": {...}} or
  {"type": "verification", "verification_code"}; Openpay sends the user and password configured
  on the webhook as HTTP Basic credentials, compared here in constant time. Notifications carry
  no event id: "<type>:<transaction id>" is one (Openpay resends the same notification until it
  gets a 2xx).

Amounts travel as decimal pesos and become integer centavos at this boundary. The HTTP transport
is injectable; tests replay recorded responses of the documented shape (no network).
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from ..money import centavos_from_decimal, pesos_decimal
from .base import (
    OTHER,
    PAYMENT_FAILED,
    PAYMENT_SUCCEEDED,
    REFUNDED,
    VERIFICATION,
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

SANDBOX_URL = "https://sandbox-api.openpay.mx"
PRODUCTION_URL = "https://api.openpay.mx"
STORE_MAX_CENTAVOS = 999_999  # Openpay: store payments up to $9,999.99 MXN
STATEMENT_LOOKBACK_DAYS = 45  # a store reference paid today may have been created weeks ago
PAGE_SIZE = 100
MAX_PAGES = 200

# (method, url, headers, body, timeout) -> (status, body)
Transport = Callable[[str, str, Mapping[str, str], bytes | None, float], tuple[int, bytes]]


def urllib_transport(method: str, url: str, headers: Mapping[str, str], body: bytes | None,
                     timeout: float) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # fixed https base URL
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        logger.warning("openpay unreachable: %s", exc)
        raise ProviderError(
            _("No se pudo comunicar con el procesador de pagos. Intente más tarde."), code="unreachable"
        ) from exc


class OpenpayError(ProviderError):
    def __init__(self, message: str, *, error_code: int, http_code: int, description: str = ""):
        super().__init__(message, code=str(error_code))
        self.error_code = error_code
        self.http_code = http_code
        self.description = description


# Openpay error codes (documented list) -> what the resident reads. Stolen, lost, fraud and
# "retain card" declines read as a plain decline on purpose.
_CARD_DECLINES = {
    2004: "invalid_number", 2005: "expired", 2006: "cvv_required", 3001: "declined", 3002: "expired",
    3003: "insufficient_funds", 3004: "declined", 3005: "declined", 3006: "not_allowed",
    3008: "not_online", 3009: "declined", 3010: "restricted", 3011: "declined", 3012: "call_bank",
}


def _decline_message(kind: str) -> str:
    return {
        "invalid_number": _("El número de la tarjeta no es válido. Revíselo."),
        "expired": _("La tarjeta ya venció."),
        "cvv_required": _("Falta el código de seguridad de la tarjeta."),
        "insufficient_funds": _("La tarjeta no tiene fondos suficientes. Intente con otra tarjeta o pague en efectivo."),
        "not_allowed": _("Esta tarjeta no permite esta operación."),
        "not_online": _("Esta tarjeta no acepta compras en línea."),
        "restricted": _("El banco restringió la tarjeta."),
        "call_bank": _("Su banco pide autorizar este pago: llame a su banco e intente de nuevo."),
        "requires_action": _(
            "El banco pidió una verificación adicional que esta ventanilla todavía no ofrece. "
            "Intente con otra tarjeta o pague en efectivo."
        ),
    }.get(kind, _("El banco rechazó la tarjeta. Intente con otra tarjeta o pague en efectivo."))


def _generic_error_message(error_code: int) -> str:
    if error_code in (1004, 1000):
        return _("El procesador de pagos no está disponible. Intente más tarde.")
    if error_code == 1002:
        return _("La conexión con el procesador de pagos no está bien configurada. Avise a la Tesorería.")
    if error_code == 1006:
        return _("Esta operación ya se había enviado al procesador de pagos.")
    return _("El procesador de pagos no aceptó la operación. Intente más tarde o pague en efectivo.")


def _amount(value) -> int:
    """A JSON amount in pesos (number or text) -> centavos."""
    if isinstance(value, float):
        value = repr(value)  # shortest text that round-trips: the decimal Openpay sent
    try:
        return centavos_from_decimal(Decimal(str(value)))
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise WebhookPayloadError(_("El importe del aviso no es válido.")) from exc


def _json_amount(centavos: int) -> float:
    # A float prints as the shortest decimal that round-trips, i.e. exactly "1234.5".
    return float(pesos_decimal(centavos))


_METHODS = {"card": "card", "store": "cash", "bank_account": "bank"}


def _statement_time(value, item_id) -> datetime | None:
    """When a statement item settled: None when it has not (no operation date); ProviderError
    when the date is there but is not a real one (the statement cannot be trusted for that day)."""
    if value in (None, ""):
        return None
    when = parse_aware_datetime(value)
    if when is None:
        raise ProviderError(
            _("El estado de cuenta del proveedor trae una fecha que no es válida (%(value)s) en la "
              "operación %(id)s; no se puede conciliar ese día.") % {
                "value": str(value)[:40], "id": str(item_id or "?")[:60]},
            code="bad_response",
        )
    return when


class OpenpayProvider(PaymentProvider):
    name = "openpay"
    label = "Openpay"

    def __init__(
        self,
        *,
        merchant_id: str,
        private_key: str,
        public_key: str = "",
        production: bool = False,
        webhook_user: str = "",
        webhook_password: str = "",
        timeout: float = 20.0,
        transport: Transport | None = None,
    ):
        self.merchant_id = merchant_id
        self.private_key = private_key
        self.public_key = public_key
        self.base_url = PRODUCTION_URL if production else SANDBOX_URL
        self.webhook_user = webhook_user
        self.webhook_password = webhook_password
        self.timeout = timeout
        self.transport = transport or urllib_transport

    @classmethod
    def from_settings(cls) -> OpenpayProvider:
        return cls(
            merchant_id=settings.VENTANILLA_OPENPAY_MERCHANT_ID,
            private_key=settings.VENTANILLA_OPENPAY_PRIVATE_KEY,
            public_key=settings.VENTANILLA_OPENPAY_PUBLIC_KEY,
            production=settings.VENTANILLA_OPENPAY_PRODUCTION,
            webhook_user=settings.VENTANILLA_OPENPAY_WEBHOOK_USER,
            webhook_password=settings.VENTANILLA_OPENPAY_WEBHOOK_PASSWORD,
            timeout=settings.VENTANILLA_OPENPAY_TIMEOUT_SECONDS,
        )

    # --- HTTP --------------------------------------------------------------------------------
    def _url(self, path: str, query: Mapping[str, str] | None = None) -> str:
        url = f"{self.base_url}/v1/{urllib.parse.quote(self.merchant_id, safe='')}{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        return url

    def _request(self, method: str, path: str, payload: dict | None = None, *,
                 query: Mapping[str, str] | None = None, key: str | None = None):
        if not self.merchant_id or not (key or self.private_key):
            raise ProviderError(_("El procesador de pagos no está configurado. Avise a la Tesorería."),
                                code="not_configured")
        credentials = base64.b64encode(f"{key or self.private_key}:".encode()).decode()
        headers = {"Authorization": f"Basic {credentials}", "Accept": "application/json"}
        body = None
        if payload is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(payload, ensure_ascii=False).encode()
        status, raw = self.transport(method, self._url(path, query), headers, body, self.timeout)
        try:
            data = json.loads(raw) if raw else {}
        except (ValueError, RecursionError) as exc:
            raise ProviderError(_("El procesador de pagos respondió algo que no se entiende."), code="bad_response") from exc
        if status >= 400 or (isinstance(data, dict) and "error_code" in data and status >= 300):
            error_code = int(data.get("error_code", 0)) if isinstance(data, dict) else 0
            description = str(data.get("description", "")) if isinstance(data, dict) else ""
            logger.info("openpay error %s (%s): %s", error_code, status, description)
            raise OpenpayError(_generic_error_message(error_code), error_code=error_code, http_code=status,
                               description=description)
        return data

    def _customer(self, order) -> dict:
        payer = order.payer
        last_name = " ".join(p for p in (getattr(payer, "first_surname", ""), getattr(payer, "second_surname", "")) if p)
        return {
            "name": (getattr(payer, "given_names", "") or "Contribuyente")[:100],
            "last_name": last_name[:100],
            "email": getattr(payer, "email", ""),
        }

    # --- Cards -------------------------------------------------------------------------------
    def _token(self, card: CardInput) -> str:
        data = self._request("POST", "/tokens", {
            "card_number": card.digits,
            "holder_name": card.holder_name,
            "expiration_year": card.exp_year[-2:],
            "expiration_month": card.exp_month,
            "cvv2": card.cvv,
        }, key=self.public_key or self.private_key)
        token = data.get("id") if isinstance(data, dict) else None
        if not token:
            raise ProviderError(_("El procesador de pagos no aceptó la tarjeta."), code="no_token")
        return str(token)

    def charge_card(self, order, card: CardInput) -> ChargeResult:
        try:
            token = card.token or self._token(card)
            payload = {
                "method": "card",
                "source_id": token,
                "amount": _json_amount(order.amount_centavos),
                "currency": "MXN",
                "description": order.concept[:250],
                "order_id": f"{order.reference}-{order.provider_attempts}",
                "customer": self._customer(order),
            }
            if card.device_session_id:
                payload["device_session_id"] = card.device_session_id
            data = self._request("POST", "/charges", payload)
        except OpenpayError as exc:
            if exc.error_code in _CARD_DECLINES:
                return ChargeResult(succeeded=False, message=_decline_message(_CARD_DECLINES[exc.error_code]),
                                    error_code=str(exc.error_code))
            raise
        card_data = data.get("card") or {}
        number = str(card_data.get("card_number") or "")
        if data.get("status") != "completed":
            return ChargeResult(succeeded=False, provider_payment_id=str(data.get("id", "")),
                                message=_decline_message("requires_action"), error_code=str(data.get("status")))
        return ChargeResult(
            succeeded=True,
            provider_payment_id=str(data["id"]),
            amount_centavos=_amount(data.get("amount")),
            paid_at=parse_aware_datetime(data.get("operation_date") or data.get("creation_date")) or timezone.now(),
            funding=card_data.get("type") if card_data.get("type") in ("credit", "debit") else "",
            brand=str(card_data.get("brand") or ""),
            last4=number[-4:],
        )

    # --- Cash (Paynet stores) ------------------------------------------------------------------
    def create_cash_reference(self, order) -> CashReference:
        if order.amount_centavos > STORE_MAX_CENTAVOS:
            raise ProviderError(_(
                "Las tiendas reciben pagos de hasta $9,999.99. Pague con tarjeta o en la caja de la Tesorería."
            ), code="store_limit")
        due = timezone.make_aware(datetime.combine(order.due_date, datetime.max.time().replace(microsecond=0)))
        data = self._request("POST", "/charges", {
            "method": "store",
            "amount": _json_amount(order.amount_centavos),
            "currency": "MXN",
            "description": order.concept[:250],
            "order_id": f"{order.reference}-{order.provider_attempts}",
            "due_date": due.isoformat(),
            "customer": self._customer(order),
        })
        method = data.get("payment_method") or {}
        reference = str(method.get("reference") or "")
        if not reference:
            raise ProviderError(_("El procesador de pagos no devolvió la referencia."), code="no_reference")
        return CashReference(
            provider_payment_id=str(data["id"]),
            reference=reference,
            barcode_value=reference,
            instructions=_("Pague en cualquier tienda de la red Paynet (Walmart, 7-Eleven, Farmacias del Ahorro y otras) "
                           "mostrando este código o dictando la referencia."),
        )

    # --- Webhooks ----------------------------------------------------------------------------
    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> ProviderNotification:
        if not (self.webhook_user and self.webhook_password):
            raise WebhookSignatureError(_("Los avisos de Openpay no están configurados en esta instalación."))
        auth = headers.get("authorization", "")
        given = b""
        if auth[:6].lower() == "basic ":
            try:
                given = base64.b64decode(auth[6:].strip(), validate=True)
            except ValueError:
                given = b""
        expected = f"{self.webhook_user}:{self.webhook_password}".encode()
        if not hmac.compare_digest(given, expected):
            raise WebhookSignatureError(_("Las credenciales del aviso no son válidas."))
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise WebhookPayloadError(_("El cuerpo del aviso no es JSON válido.")) from exc
        notification = self.notification_from_payload(payload)
        if notification.kind == VERIFICATION:
            # Openpay shows this code in its dashboard to confirm the webhook; the inbox keeps it.
            logger.warning("openpay webhook verification code received: %s",
                           payload.get("verification_code"))
        return notification

    def notification_from_payload(self, payload: dict) -> ProviderNotification:
        if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
            raise WebhookPayloadError(_("El aviso no trae su tipo."))
        kind = payload["type"]
        if kind == "verification":
            code = str(payload.get("verification_code") or "")
            if not code:
                raise WebhookPayloadError(_("El aviso de verificación no trae código."))
            return ProviderNotification(event_id=f"verification:{code}", kind=VERIFICATION, payload=payload)
        txn = payload.get("transaction")
        if not isinstance(txn, dict) or not txn.get("id"):
            raise WebhookPayloadError(_("El aviso no trae la operación."))
        event_id = f"{kind}:{txn['id']}"
        if kind != "charge.succeeded":
            mapped = {"charge.failed": PAYMENT_FAILED, "charge.cancelled": PAYMENT_FAILED,
                      "charge.refunded": REFUNDED}.get(kind, OTHER)
            return ProviderNotification(event_id=event_id, kind=mapped, provider_payment_id=str(txn["id"]),
                                        payload=payload)
        paid_at = parse_aware_datetime(txn.get("operation_date") or payload.get("event_date"))
        method = _METHODS.get(str(txn.get("method")))
        if paid_at is None or method is None:
            raise WebhookPayloadError(_("Los datos del cargo en el aviso no son válidos."))
        amount = _amount(txn.get("amount"))
        if amount <= 0:
            raise WebhookPayloadError(_("El importe del aviso no es válido."))
        card = txn.get("card") if isinstance(txn.get("card"), dict) else {}
        return ProviderNotification(
            event_id=event_id,
            kind=PAYMENT_SUCCEEDED,
            provider_payment_id=str(txn["id"]),
            order_reference=str(txn.get("order_id") or "").split("-", 1)[0],
            amount_centavos=amount,
            method=method,
            funding=card.get("type") if card.get("type") in ("credit", "debit") else "",
            paid_at=paid_at,
            payload=payload,
        )

    # --- Statement and refunds --------------------------------------------------------------
    def _charges_created_between(self, first: date, last: date) -> list[dict]:
        found: list[dict] = []
        for page in range(MAX_PAGES):
            data = self._request("GET", "/charges", query={
                "creation[gte]": first.isoformat(), "creation[lte]": last.isoformat(),
                "offset": str(page * PAGE_SIZE), "limit": str(PAGE_SIZE),
            })
            if not isinstance(data, list):
                raise ProviderError(_("El procesador de pagos respondió algo que no se entiende."), code="bad_response")
            found.extend(item for item in data if isinstance(item, dict))
            if len(data) < PAGE_SIZE:
                return found
        raise ProviderError(_("El estado de cuenta del proveedor es demasiado largo para un día."), code="too_long")

    def statement(self, day: date) -> list[StatementLine]:
        lines: list[StatementLine] = []
        for charge in self._charges_created_between(day - timedelta(days=STATEMENT_LOOKBACK_DAYS), day):
            if charge.get("transaction_type", "charge") != "charge":
                continue
            reference = str(charge.get("order_id") or "").split("-", 1)[0]
            method = _METHODS.get(str(charge.get("method")), "")
            when = _statement_time(charge.get("operation_date"), charge.get("id"))
            if charge.get("status") in ("completed", "refunded") and when and timezone.localtime(when).date() == day:
                lines.append(StatementLine(str(charge["id"]), "charge", _amount(charge.get("amount")), when,
                                           reference, method))
            refund = charge.get("refund")
            if isinstance(refund, dict) and refund.get("status") == "completed":
                refund_when = _statement_time(refund.get("operation_date"), refund.get("id"))
                if refund_when and timezone.localtime(refund_when).date() == day:
                    lines.append(StatementLine(str(refund["id"]), "refund", _amount(refund.get("amount")),
                                               refund_when, reference, method))
        return lines

    def refund(self, payment, amount_centavos: int) -> RefundResult:
        path = f"/charges/{urllib.parse.quote(payment.provider_payment_id, safe='')}/refund"
        try:
            data = self._request("POST", path, {"description": "Reembolso", "amount": _json_amount(amount_centavos)})
        except OpenpayError as exc:
            return RefundResult(succeeded=False, message=exc.message)
        refund = data.get("refund") if isinstance(data, dict) else None
        if not isinstance(refund, dict) or not refund.get("id"):
            return RefundResult(succeeded=False, message=_("El procesador de pagos no confirmó el reembolso."))
        return RefundResult(succeeded=True, provider_refund_id=str(refund["id"]))
