"""Payments: the rules. `credit()` is the only place money is credited.

Every path that learns of a payment — the provider's webhook, the resident's browser coming back
from a card charge, re-processing the webhook inbox — ends in `credit()`, which in one transaction
locks the order, inserts the `Payment` (unique per provider payment id; one credited payment per
order, both enforced by the database), marks the order paid, issues the receipt and calls the paid
handlers of the app that asked for the money. Whatever arrives twice, in whatever order, is
credited once.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from ventanilla.audit import services as audit

from . import cfdi
from . import reference as reference_module
from .cards import validate_card
from .models import (
    Anomaly,
    CashVoucher,
    Method,
    OrderStatus,
    Payment,
    PaymentOrder,
    ProviderEvent,
    Receipt,
    Refund,
    RefundStatus,
)
from .money import MAX_CENTAVOS, format_pesos
from .providers.base import (
    PAYMENT_SUCCEEDED,
    CardInput,
    ChargeResult,
    PaymentProvider,
    ProviderError,
    ProviderNotification,
    RefundResult,
    WebhookPayloadError,
    WebhookSignatureError,
    get_provider,
    provider_names,
)

logger = logging.getLogger(__name__)


class PaymentError(ValueError):
    """A payment rule was broken; `message` is Spanish and safe to show."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- Orders ---------------------------------------------------------------------------------

def default_due_date(today: date | None = None) -> date:
    return (today or timezone.localdate()) + timedelta(days=settings.VENTANILLA_PAYMENT_DUE_DAYS)


def create_order(
    *, payer, concept: str, amount_centavos: int, source_ref: str, due_date: date | None = None
) -> PaymentOrder:
    """A payment order with its línea de captura. Idempotent on `source_ref`: asking again for
    the same thing returns the first order; asking for a different amount or payer is an error."""
    if isinstance(amount_centavos, bool) or not isinstance(amount_centavos, int):
        raise TypeError("amounts are integer centavos")
    if amount_centavos <= 0:
        raise PaymentError(_("El importe de la orden debe ser mayor que cero."))
    if amount_centavos >= MAX_CENTAVOS:
        raise PaymentError(_("El importe de la orden es demasiado grande."))
    concept = " ".join(str(concept or "").split())
    if not concept or len(concept) > 300:
        raise PaymentError(_("El concepto es obligatorio (máximo 300 caracteres)."))
    source_ref = str(source_ref or "").strip()
    if not source_ref or len(source_ref) > 200:
        raise PaymentError(_("La orden necesita un origen (máximo 200 caracteres)."))
    if getattr(payer, "pk", None) is None:
        raise PaymentError(_("La orden necesita a quien paga."))
    due = due_date or default_due_date()
    if isinstance(due, datetime) or not reference_module.FIRST_DUE <= due <= reference_module.LAST_DUE:
        raise PaymentError(_("La fecha límite de pago no es válida."))

    existing = PaymentOrder.objects.filter(source_ref=source_ref).first()
    if existing is None:
        try:
            with transaction.atomic():
                order = PaymentOrder.objects.create(
                    payer=payer, concept=concept, amount_centavos=amount_centavos,
                    source_ref=source_ref, due_date=due,
                )
                order.reference = reference_module.build_reference(
                    order.pk, amount_centavos, due, prefix=settings.VENTANILLA_PAYMENT_REFERENCE_PREFIX
                )
                order.save(update_fields=["reference"])
                return order
        except IntegrityError:
            existing = PaymentOrder.objects.filter(source_ref=source_ref).first()
            if existing is None:
                raise
    if existing.payer_id != payer.pk or existing.amount_centavos != amount_centavos:
        raise PaymentError(_("Ya existe una orden de pago para este origen con otro importe o a otro nombre."))
    return existing


def is_overdue(order: PaymentOrder, today: date | None = None) -> bool:
    return (today or timezone.localdate()) > order.due_date


def payable(order: PaymentOrder, today: date | None = None) -> bool:
    """Can the resident start a payment now (card or new cash reference)?"""
    return order.status == OrderStatus.PENDING and not is_overdue(order, today)


def _require_payable(order: PaymentOrder, today: date | None = None) -> None:
    if order.status == OrderStatus.PAID:
        raise PaymentError(_("Esta orden ya está pagada."))
    if order.status == OrderStatus.CANCELLED:
        raise PaymentError(_("Esta orden fue cancelada; ya no se puede pagar."))
    if order.status == OrderStatus.REFUNDED:
        raise PaymentError(_("Esta orden fue reembolsada; ya no se puede pagar."))
    if order.status == OrderStatus.EXPIRED or is_overdue(order, today):
        raise PaymentError(
            _("Esta orden venció el %(date)s. Solicite una nueva orden de pago.")
            % {"date": order.due_date.strftime("%d/%m/%Y")}
        )


def set_invoice_data(order: PaymentOrder, *, rfc: str, name: str, postal_code: str, regimen: str,
                     uso_cfdi: str) -> PaymentOrder:
    """The payer's fiscal data for the CFDI; only before the order is paid. Raises
    cfdi.InvoiceDataError (per-field messages) or PaymentError."""
    data = cfdi.clean_invoice_data(rfc=rfc, name=name, postal_code=postal_code, regimen=regimen, uso_cfdi=uso_cfdi)
    with transaction.atomic():
        locked = PaymentOrder.objects.select_for_update().get(pk=order.pk)
        if locked.status != OrderStatus.PENDING:
            raise PaymentError(_("Los datos de facturación solo se pueden cambiar antes de pagar."))
        locked.receptor_rfc, locked.receptor_name = data.rfc, data.name
        locked.receptor_postal_code, locked.receptor_regimen = data.postal_code, data.regimen
        locked.receptor_uso_cfdi = data.uso_cfdi
        locked.save(update_fields=[
            "receptor_rfc", "receptor_name", "receptor_postal_code", "receptor_regimen", "receptor_uso_cfdi",
        ])
    return locked


def cancel_order(order: PaymentOrder, *, reason: str, by=None, request=None) -> PaymentOrder:
    """Cancel a pending or expired order. Money that arrives afterwards is recorded for refund."""
    reason = " ".join(str(reason or "").split())
    if not reason or len(reason) > 300:
        raise PaymentError(_("Escriba el motivo de la cancelación (máximo 300 caracteres)."))
    with transaction.atomic():
        locked = PaymentOrder.objects.select_for_update().get(pk=order.pk)
        if locked.status == OrderStatus.CANCELLED:
            return locked
        if locked.status not in (OrderStatus.PENDING, OrderStatus.EXPIRED):
            raise PaymentError(_("Solo se puede cancelar una orden pendiente o vencida."))
        locked.status = OrderStatus.CANCELLED
        locked.cancelled_at = timezone.now()
        locked.cancel_reason = reason
        locked.cancelled_by = by if getattr(by, "pk", None) else None
        locked.save(update_fields=["status", "cancelled_at", "cancel_reason", "cancelled_by"])
        audit.record("payments.order_cancelled", actor=by, subject=locked,
                     data={"reference": locked.reference, "reason": reason}, request=request)
    return locked


def expire_overdue_orders(*, today: date | None = None) -> int:
    """Pending orders past their due date become "expired". Money that still arrives for them
    is credited (flagged late)."""
    today = today or timezone.localdate()
    return PaymentOrder.objects.filter(status=OrderStatus.PENDING, due_date__lt=today).update(
        status=OrderStatus.EXPIRED
    )


# --- Paid handlers --------------------------------------------------------------------------

_PAID_HANDLERS: list[tuple[str, Callable[[PaymentOrder], None]]] = []


def register_paid_handler(prefix: str, fn: Callable[[PaymentOrder], None]) -> None:
    """`fn(order)` runs inside the crediting transaction, once, for every order whose source_ref
    starts with `prefix` (e.g. "procedures.request:"). If it raises, nothing is credited and the
    provider's retry (or `process_payment_events`) tries again."""
    if not prefix:
        raise ValueError("a paid handler needs a non-empty prefix")
    if (prefix, fn) not in _PAID_HANDLERS:
        _PAID_HANDLERS.append((prefix, fn))


def unregister_paid_handler(prefix: str, fn: Callable[[PaymentOrder], None]) -> None:
    if (prefix, fn) in _PAID_HANDLERS:
        _PAID_HANDLERS.remove((prefix, fn))


def has_paid_handler(order: PaymentOrder) -> bool:
    """Does another app wait for this order's payment (a paid handler matches its source)?"""
    return any(order.source_ref.startswith(prefix) for prefix, _fn in _PAID_HANDLERS)


def _run_paid_handlers(order: PaymentOrder) -> None:
    for prefix, fn in list(_PAID_HANDLERS):
        if order.source_ref.startswith(prefix):
            fn(order)


# --- Crediting ------------------------------------------------------------------------------

CREDITED = "credited"
DUPLICATE = "duplicate"
UNKNOWN_ORDER = "unknown_order"
IGNORED = "ignored"


@dataclass(frozen=True)
class CreditResult:
    outcome: str  # credited | duplicate | amount_mismatch | order_cancelled | already_paid | unknown_order | ignored
    order: PaymentOrder | None = None
    payment: Payment | None = None
    receipt: Receipt | None = None

    @property
    def credited(self) -> bool:
        """The order is paid by this payment (now or before: a duplicate of a credited one)."""
        return self.payment is not None and self.payment.credited_at is not None


def _find_order_for_update(order_reference: str) -> PaymentOrder | None:
    digits = "".join(ch for ch in str(order_reference or "") if ch.isdigit())
    if len(digits) != reference_module.LENGTH:
        return None
    return PaymentOrder.objects.select_for_update().filter(reference=digits).first()


def _existing_result(payment: Payment) -> CreditResult:
    receipt = Receipt.objects.filter(payment=payment).first()
    return CreditResult(DUPLICATE, order=payment.order, payment=payment, receipt=receipt)


def credit(provider: PaymentProvider | str, notification: ProviderNotification, *,
           now: datetime | None = None) -> CreditResult:
    """Record what a provider says was paid and, if it fits the order, credit it. See the module
    docstring. Amount mismatch, cancelled or already-paid orders: the payment is recorded with
    its anomaly (for review and refund) and not credited. Late money is credited, flagged late."""
    provider_name = getattr(provider, "name", provider)
    if notification.kind != PAYMENT_SUCCEEDED:
        return CreditResult(IGNORED)
    if not notification.provider_payment_id or notification.paid_at is None or notification.amount_centavos <= 0:
        raise ValueError("a payment notification needs an id, a date and a positive amount")
    now = now or timezone.now()
    with transaction.atomic():
        order = _find_order_for_update(notification.order_reference)
        existing = Payment.objects.select_related("order").filter(
            provider=provider_name, provider_payment_id=notification.provider_payment_id
        ).first()
        if existing is not None:
            return _existing_result(existing)
        if order is None:
            logger.warning("payment for an unknown order", extra={
                "provider": provider_name, "provider_payment_id": notification.provider_payment_id,
            })
            return CreditResult(UNKNOWN_ORDER)

        paid_local = timezone.localtime(notification.paid_at).date()
        late = paid_local > order.due_date
        if order.status == OrderStatus.CANCELLED:
            anomaly = Anomaly.ORDER_CANCELLED
        elif order.status in (OrderStatus.PAID, OrderStatus.REFUNDED):
            anomaly = Anomaly.ALREADY_PAID
        elif notification.amount_centavos != order.amount_centavos:
            anomaly = Anomaly.AMOUNT_MISMATCH
        else:
            anomaly = Anomaly.NONE
        method = notification.method if notification.method in Method.values else Method.CARD
        try:
            with transaction.atomic():
                payment = Payment.objects.create(
                    order=order, provider=provider_name, provider_payment_id=notification.provider_payment_id,
                    method=method, funding=notification.funding if notification.funding in ("credit", "debit") else "",
                    amount_centavos=notification.amount_centavos, paid_at=notification.paid_at,
                    received_at=now, late=late, anomaly=anomaly,
                    credited_at=None if anomaly else now,
                )
        except IntegrityError:
            # Only reachable if something bypassed the order lock; the constraints decide.
            existing = Payment.objects.select_related("order").filter(
                provider=provider_name, provider_payment_id=notification.provider_payment_id
            ).first()
            if existing is not None:
                return _existing_result(existing)
            raise
        audit_data = {
            "reference": order.reference, "provider": provider_name,
            "provider_payment_id": payment.provider_payment_id, "amount_centavos": payment.amount_centavos,
            "method": payment.method, "late": late,
        }
        if anomaly:
            audit.record("payments.payment_not_credited", subject=order, data={**audit_data, "anomaly": anomaly})
            return CreditResult(anomaly, order=order, payment=payment)

        order.status = OrderStatus.PAID
        order.paid_at = notification.paid_at
        order.paid_late = late
        order.save(update_fields=["status", "paid_at", "paid_late"])
        receipt = _issue_receipt(payment, order, now)
        _run_paid_handlers(order)
        audit.record("payments.credited", subject=order, data={**audit_data, "receipt": receipt.folio})
    return CreditResult(CREDITED, order=order, payment=payment, receipt=receipt)


def _issue_receipt(payment: Payment, order: PaymentOrder, now: datetime) -> Receipt:
    lugar = settings.VENTANILLA_CFDI_LUGAR_EXPEDICION
    if order.receptor_rfc:
        receptor = (order.receptor_rfc, order.receptor_name, order.receptor_regimen,
                    order.receptor_postal_code, order.receptor_uso_cfdi)
    else:
        receptor = (cfdi.PUBLIC_RFC, cfdi.PUBLIC_NAME, cfdi.PUBLIC_REGIMEN, lugar, cfdi.PUBLIC_USO)
    global_info = cfdi.informacion_global(receptor[0], receptor[1], timezone.localtime(payment.paid_at).date())
    return Receipt.objects.create(
        folio=f"REC-{payment.pk:010d}",
        payment=payment,
        issued_at=now,
        emisor_rfc=settings.VENTANILLA_CFDI_EMISOR_RFC,
        emisor_nombre=settings.VENTANILLA_CFDI_EMISOR_NAME,
        emisor_regimen=settings.VENTANILLA_CFDI_EMISOR_REGIMEN,
        lugar_expedicion=lugar,
        receptor_rfc=receptor[0], receptor_nombre=receptor[1], receptor_regimen=receptor[2],
        receptor_domicilio_fiscal=receptor[3], uso_cfdi=receptor[4],
        forma_pago=cfdi.forma_pago(payment.method, payment.funding),
        metodo_pago=cfdi.METODO_PUE,
        clave_prod_serv=settings.VENTANILLA_CFDI_CLAVE_PROD_SERV,
        clave_unidad=settings.VENTANILLA_CFDI_CLAVE_UNIDAD,
        cantidad=1,
        descripcion=order.concept,
        importe_centavos=payment.amount_centavos,
        moneda="MXN",
        objeto_imp=cfdi.OBJETO_NO_OBJETO,
        tipo_de_comprobante=cfdi.TIPO_INGRESO,
        exportacion=cfdi.EXPORTACION_NO_APLICA,
        informacion_global_periodicidad=global_info.periodicidad if global_info else "",
        informacion_global_meses=global_info.meses if global_info else "",
        informacion_global_anio=global_info.anio if global_info else None,
    )


# --- Paying ---------------------------------------------------------------------------------

def notification_from_charge(order: PaymentOrder, result: ChargeResult) -> ProviderNotification:
    """The browser-return path: an approved charge, told to credit() like a webhook."""
    return ProviderNotification(
        event_id=f"charge:{result.provider_payment_id}",
        kind=PAYMENT_SUCCEEDED,
        provider_payment_id=result.provider_payment_id,
        order_reference=order.reference or "",
        amount_centavos=result.amount_centavos,
        method=Method.CARD,
        funding=result.funding,
        paid_at=result.paid_at or timezone.now(),
    )


@dataclass(frozen=True)
class CardPaymentOutcome:
    charge: ChargeResult
    credit: CreditResult | None

    @property
    def paid(self) -> bool:
        return self.credit is not None and self.credit.credited


def pay_by_card(order: PaymentOrder, card: CardInput, *, provider: PaymentProvider | None = None,
                today: date | None = None) -> CardPaymentOutcome:
    """Charge the card and credit what was charged. Raises cards.CardInputError for a mistyped
    card, PaymentError when the order cannot be paid, ProviderError when the provider failed."""
    today = today or timezone.localdate()
    _require_payable(order, today)
    if not card.token:
        card = validate_card(card, today=today)
    provider = provider or get_provider()
    PaymentOrder.objects.filter(pk=order.pk).update(provider_attempts=F("provider_attempts") + 1)
    order.refresh_from_db(fields=["provider_attempts"])
    result = provider.charge_card(order, card)
    if not result.succeeded:
        logger.info("card declined", extra={"reference": order.reference, "code": result.error_code})
        return CardPaymentOutcome(charge=result, credit=None)
    outcome = credit(provider, notification_from_charge(order, result))
    order.refresh_from_db()
    return CardPaymentOutcome(charge=result, credit=outcome)


def cash_voucher(order: PaymentOrder, *, provider: PaymentProvider | None = None,
                 today: date | None = None) -> CashVoucher:
    """The store/bank reference for paying this order in cash (asked of the provider once)."""
    provider = provider or get_provider()
    voucher = CashVoucher.objects.filter(order=order, provider=provider.name).first()
    if voucher is not None:
        return voucher
    _require_payable(order, today)
    PaymentOrder.objects.filter(pk=order.pk).update(provider_attempts=F("provider_attempts") + 1)
    order.refresh_from_db(fields=["provider_attempts"])
    ref = provider.create_cash_reference(order)
    try:
        with transaction.atomic():
            return CashVoucher.objects.create(
                order=order, provider=provider.name, provider_payment_id=ref.provider_payment_id,
                reference=ref.reference, barcode_value=ref.barcode_value, instructions=ref.instructions[:300],
            )
    except IntegrityError:
        return CashVoucher.objects.get(order=order, provider=provider.name)


# --- Webhooks -------------------------------------------------------------------------------

@dataclass(frozen=True)
class WebhookResponse:
    status: int
    body: dict


RAW_BODY_LIMIT = 4096  # bytes of a refused webhook's body kept in the inbox, for the record


def _rejected_payload(body: bytes) -> dict:
    """What the inbox keeps of a webhook it refused: the body as text, never parsed (it is not
    trusted, and parsed JSON may hold "\\u0000", which PostgreSQL's jsonb refuses), cut to
    RAW_BODY_LIMIT bytes, with undecodable bytes and NUL written as backslash escapes, so any byte
    sequence can be stored on every database; plus its size and SHA-256 to match it later."""
    head = body[:RAW_BODY_LIMIT]
    text = head.decode("utf-8", "backslashreplace").replace("\x00", "\\x00")
    return {
        "raw": text, "bytes": len(body), "truncated": len(body) > RAW_BODY_LIMIT,
        "sha256": hashlib.sha256(body).hexdigest(),
    }


def _storable(value) -> bool:
    """Can this JSON value be stored as it is, on SQLite and PostgreSQL? PostgreSQL refuses NUL
    and lone surrogates ("\\u0000", "\\ud800") in text and jsonb, and no database driver
    encodes a lone surrogate into a text column."""
    if isinstance(value, str):
        return "\x00" not in value and not any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return all(_storable(k) and _storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_storable(item) for item in value)
    return True


def _reject(provider: PaymentProvider, body: bytes, now: datetime, *, signature_valid: bool,
            outcome: str) -> None:
    ProviderEvent.objects.create(
        provider=provider.name, event_id="", signature_valid=signature_valid, payload=_rejected_payload(body),
        received_at=now, processed_at=now, outcome=outcome,
    )


def receive_webhook(provider_name: str, headers: Mapping[str, str], body: bytes, *,
                    now: datetime | None = None) -> WebhookResponse:
    """The webhook endpoint's whole job: verify, store in the inbox (once per event id), credit,
    answer. 401 for a forged or unsigned call, 400 for an unreadable one, 200 for anything
    verified (duplicates included), 503 if crediting failed (the provider retries)."""
    now = now or timezone.now()
    try:
        provider = get_provider(provider_name)
    except LookupError:
        return WebhookResponse(404, {"detail": _("Proveedor de pagos desconocido.")})
    lower = {str(k).lower(): str(v) for k, v in headers.items()}
    try:
        notification = provider.parse_webhook(lower, body)
        if not _storable(notification.payload) or not _storable([
            notification.event_id, notification.provider_payment_id, notification.order_reference,
            notification.method, notification.funding,
        ]):
            raise WebhookPayloadError(_("El aviso contiene caracteres no permitidos."))
    except WebhookSignatureError as exc:
        _reject(provider, body, now, signature_valid=False, outcome="rejected_signature")
        logger.warning("payment webhook rejected: bad signature", extra={"provider": provider.name})
        return WebhookResponse(401, {"detail": exc.message})
    except WebhookPayloadError as exc:
        _reject(provider, body, now, signature_valid=True, outcome="rejected_payload")
        logger.warning("payment webhook rejected: unreadable body", extra={"provider": provider.name})
        return WebhookResponse(400, {"detail": exc.message})
    event = _store_event(provider.name, notification, now)
    try:
        return _process_event(event, provider, notification, now)
    except Exception:
        logger.exception("payment webhook could not be processed", extra={"event": notification.event_id})
        return WebhookResponse(503, {"detail": _("No se pudo procesar el aviso; vuelva a enviarlo.")})


def _store_event(provider_name: str, notification: ProviderNotification, now: datetime) -> ProviderEvent:
    try:
        with transaction.atomic():
            return ProviderEvent.objects.create(
                provider=provider_name, event_id=notification.event_id[:200], kind=notification.kind,
                signature_valid=True, payload=notification.payload, received_at=now,
            )
    except IntegrityError:
        return ProviderEvent.objects.get(
            provider=provider_name, event_id=notification.event_id[:200], signature_valid=True
        )


def _process_event(event: ProviderEvent, provider: PaymentProvider, notification: ProviderNotification,
                   now: datetime) -> WebhookResponse:
    with transaction.atomic():
        event = ProviderEvent.objects.select_for_update().get(pk=event.pk)
        if event.processed_at is not None:
            return WebhookResponse(200, {
                "detail": _("Aviso ya recibido."), "duplicate": True, "outcome": event.outcome,
            })
        result = credit(provider, notification, now=now)
        event.processed_at = now
        event.outcome = result.outcome if notification.kind == PAYMENT_SUCCEEDED else notification.kind
        event.payment = result.payment
        event.save(update_fields=["processed_at", "outcome", "payment"])
    return WebhookResponse(200, {"detail": _("Aviso procesado."), "duplicate": False, "outcome": event.outcome})


def process_pending_events(*, now: datetime | None = None) -> int:
    """Process verified inbox events that were stored but never processed (a worker died
    between storing and crediting, or crediting failed). Returns how many were processed now.
    Run periodically by the "payments.process_pending_events" job (payments/jobs.py) and by
    `manage.py process_payment_events`. An event that fails again (a paid handler raising) is
    logged and left for the next run; it never holds up the events after it."""
    count = 0
    pending = ProviderEvent.objects.filter(signature_valid=True, processed_at__isnull=True).exclude(event_id="")
    for event in pending.order_by("received_at", "pk"):
        try:
            provider = get_provider(event.provider)
            notification = provider.notification_from_payload(event.payload)
        except (LookupError, WebhookPayloadError):
            logger.warning("inbox event cannot be read", extra={"event": event.event_id})
            continue
        try:
            response = _process_event(event, provider, notification, now or timezone.now())
        except Exception:  # noqa: BLE001 - one failing event must not strand the others
            logger.exception("inbox event could not be processed", extra={"event": event.event_id})
            continue
        if not response.body.get("duplicate"):
            count += 1
    return count


# --- Refunds --------------------------------------------------------------------------------

def refundable_centavos(payment: Payment) -> int:
    taken = payment.refunds.filter(status__in=[RefundStatus.REQUESTED, RefundStatus.COMPLETED]).aggregate(
        total=Sum("amount_centavos")
    )["total"] or 0
    return payment.amount_centavos - taken


def refund(payment: Payment, *, reason: str, by=None, amount_centavos: int | None = None,
           provider: PaymentProvider | None = None, request=None) -> Refund:
    """Give money back through the provider that took it. The refund is recorded before the
    provider is called, so a crash in between leaves a visible "requested" refund. A credited
    payment refunded in full turns its order "refunded"."""
    reason = " ".join(str(reason or "").split())
    if not reason or len(reason) > 300:
        raise PaymentError(_("Escriba el motivo del reembolso (máximo 300 caracteres)."))
    if provider is None:
        # Before anything is recorded: an unknown provider must not leave a "requested" refund.
        try:
            provider = get_provider(payment.provider)
        except LookupError:
            raise PaymentError(
                _("El proveedor «%(provider)s» que cobró este pago no está disponible en esta instalación.")
                % {"provider": payment.provider}
            ) from None
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        available = refundable_centavos(locked)
        amount = available if amount_centavos is None else amount_centavos
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise TypeError("amounts are integer centavos")
        if amount <= 0:
            raise PaymentError(_("No queda nada por reembolsar de este pago.") if available <= 0
                               else _("El importe del reembolso debe ser mayor que cero."))
        if amount > available:
            raise PaymentError(_("El reembolso no puede exceder %(amount)s.") % {"amount": format_pesos(available)})
        record = Refund.objects.create(
            payment=locked, amount_centavos=amount, reason=reason,
            requested_by=by if getattr(by, "pk", None) else None,
        )
    try:
        result = provider.refund(payment, amount)
    except ProviderError as exc:
        result = RefundResult(succeeded=False, message=exc.message)
    with transaction.atomic():
        record = Refund.objects.select_for_update().get(pk=record.pk)
        if result.succeeded:
            record.status = RefundStatus.COMPLETED
            record.provider_refund_id = result.provider_refund_id[:100]
            record.completed_at = timezone.now()
        else:
            record.status = RefundStatus.FAILED
            record.error_message = (result.message or _("El proveedor no hizo el reembolso."))[:300]
        record.save(update_fields=["status", "provider_refund_id", "completed_at", "error_message"])
        if result.succeeded and payment.credited_at is not None:
            done = payment.refunds.filter(status=RefundStatus.COMPLETED).aggregate(
                total=Sum("amount_centavos"))["total"] or 0
            if done >= payment.amount_centavos:
                PaymentOrder.objects.filter(pk=payment.order_id, status=OrderStatus.PAID).update(
                    status=OrderStatus.REFUNDED
                )
        audit.record("payments.refund", actor=by, subject=payment.order, request=request, data={
            "reference": payment.order.reference, "provider_payment_id": payment.provider_payment_id,
            "amount_centavos": amount, "status": record.status, "reason": reason,
        })
    return record


# --- Back-office actions (manage.py payments_refund / payments_cancel) ---------------------

def payment_administrator(email: str):
    """The official a refund or a cancellation is attributed to in the audit log: an active
    official holding the platform administrator role. PaymentError otherwise."""
    from django.contrib.auth import get_user_model

    from ventanilla.identity.models import Role
    from ventanilla.identity.permissions import has_role

    email = str(email or "").strip()
    user = get_user_model()._default_manager.filter(email__iexact=email).first() if email else None
    if user is None or not user.is_active or not getattr(user, "is_official", False):
        raise PaymentError(_("No hay un servidor público activo con el correo «%(email)s».") % {"email": email[:254]})
    if not has_role(user, Role.PLATFORM_ADMIN):
        raise PaymentError(
            _("Solo un administrador de la plataforma puede reembolsar pagos o cancelar órdenes; "
              "%(email)s no lo es.") % {"email": user.email}
        )
    return user


def find_order(identifier: str) -> PaymentOrder:
    """An order by its línea de captura (20 digits, spaces allowed) or its public id (UUID)."""
    text = str(identifier or "").strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    order = None
    if len(digits) == reference_module.LENGTH and all(ch.isdigit() or ch in " -" for ch in text):
        order = PaymentOrder.objects.filter(reference=digits).first()
    else:
        from .selectors import order_by_public_id

        order = order_by_public_id(text)
    if order is None:
        raise PaymentError(_("No existe una orden de pago con la línea de captura o identificador «%(id)s».")
                           % {"id": text[:60]})
    return order


def find_payment(identifier: str) -> Payment:
    """A payment by its receipt's folio (REC-0000000123), by "<provider>:<provider's id>" or by
    the provider's id alone when only one provider used it."""
    text = str(identifier or "").strip()
    payments = Payment.objects.select_related("order")
    if text.upper().startswith("REC-"):
        found = list(payments.filter(receipt__folio=text.upper())[:1])
    else:
        provider, sep, provider_id = text.partition(":")
        if sep and provider in provider_names():
            found = list(payments.filter(provider=provider, provider_payment_id=provider_id)[:2])
        else:
            found = list(payments.filter(provider_payment_id=text)[:2]) if text else []
    if not found:
        raise PaymentError(_("No existe un pago con el folio o identificador «%(id)s».") % {"id": text[:100]})
    if len(found) > 1:
        raise PaymentError(
            _("Hay pagos de varios proveedores con el identificador «%(id)s»; escríbalo como "
              "proveedor:identificador (por ejemplo sandbox:%(id)s).") % {"id": text[:100]}
        )
    return found[0]


# --- Receipt PDF ----------------------------------------------------------------------------

def receipt_fields(receipt: Receipt) -> list[tuple[str, str]]:
    """The receipt's data as (label, value) rows, in Spanish, as printed on the PDF."""
    order = receipt.payment.order
    regimen_receptor = cfdi.REGIMENES.get(receipt.receptor_regimen, "")
    rows = [
        (_("Folio del recibo"), receipt.folio),
        (_("Fecha de pago"), timezone.localtime(receipt.payment.paid_at).strftime("%d/%m/%Y %H:%M")),
        (_("Concepto"), receipt.descripcion),
        (_("Importe"), f"{format_pesos(receipt.importe_centavos)} {receipt.moneda}"),
        (_("Línea de captura"), order.reference or ""),
        (_("Tipo de comprobante"),
         f"{receipt.tipo_de_comprobante} {cfdi.TIPOS_DE_COMPROBANTE.get(receipt.tipo_de_comprobante, '')}".strip()),
        (_("Forma de pago"), f"{receipt.forma_pago} {cfdi.FORMAS_PAGO.get(receipt.forma_pago, '')}"),
        (_("Método de pago"), f"{receipt.metodo_pago} {_('Pago en una sola exhibición')}"),
        (_("Exportación"), f"{receipt.exportacion} {cfdi.EXPORTACIONES.get(receipt.exportacion, '')}".strip()),
        (_("Emisor"), f"{receipt.emisor_nombre} · RFC {receipt.emisor_rfc} · {_('Régimen')} {receipt.emisor_regimen}"),
        (_("Receptor"), f"{receipt.receptor_nombre} · RFC {receipt.receptor_rfc}"),
        (_("Régimen fiscal del receptor"), f"{receipt.receptor_regimen} {regimen_receptor}".strip()),
        (_("Código postal del domicilio fiscal del receptor"), receipt.receptor_domicilio_fiscal),
        (_("Uso del CFDI"), receipt.uso_cfdi),
        (_("Clave del producto o servicio"), f"{receipt.clave_prod_serv} · {_('Unidad')} {receipt.clave_unidad}"),
        (_("Lugar de expedición"), receipt.lugar_expedicion),
    ]
    if receipt.informacion_global_periodicidad:
        rows.append((_("Información global"), informacion_global_text(receipt)))
    return rows


def informacion_global_text(receipt: Receipt) -> str:
    """"Periodicidad 01 Diario · Meses 05 Mayo · Año 2026" (empty without InformacionGlobal)."""
    if not receipt.informacion_global_periodicidad:
        return ""
    periodicidad, meses = receipt.informacion_global_periodicidad, receipt.informacion_global_meses
    return _("Periodicidad %(p)s %(p_name)s · Meses %(m)s %(m_name)s · Año %(year)s") % {
        "p": periodicidad, "p_name": cfdi.PERIODICIDADES.get(periodicidad, ""),
        "m": meses, "m_name": cfdi.MESES.get(meses, ""), "year": receipt.informacion_global_anio,
    }


def receipt_document(receipt: Receipt):
    """The signed PDF ("receipt" document) of a receipt, issued on first request through the
    documents app; None if that app offers no `issue`."""
    try:
        from ventanilla.documents import services as documents
    except ImportError:
        return None
    if not hasattr(documents, "issue"):
        return None
    order = receipt.payment.order
    with transaction.atomic():
        locked = Receipt.objects.select_for_update().get(pk=receipt.pk)
        document = documents.issue(
            kind="receipt",
            owner=order.payer,
            title=f"Recibo de pago {locked.folio}",
            folio=locked.folio,
            fields=receipt_fields(locked),
            paragraphs=[(
                "Recibo oficial del pago acreditado en la plataforma del municipio. Contiene los datos "
                "del comprobante fiscal (CFDI 4.0) que la Tesorería timbra ante el SAT."
            )],
            source_ref=f"payments.receipt:{locked.folio}",
        )
        if locked.document_id != document.public_id:
            locked.document_id = document.public_id
            locked.save(update_fields=["document_id"])
    return document
