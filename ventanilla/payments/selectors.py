"""Read-only access to payment orders, for this app's views and for other apps."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from .models import Payment, PaymentOrder, Receipt


def _as_uuid(value) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def order_by_public_id(public_id) -> PaymentOrder | None:
    key = _as_uuid(public_id)
    if key is None:
        return None
    return PaymentOrder.objects.select_related("payer").filter(public_id=key).first()


def order_of(payer, public_id) -> PaymentOrder | None:
    """The order, only when `payer` is the one who owes it."""
    order = order_by_public_id(public_id)
    if order is None or getattr(payer, "pk", None) is None or order.payer_id != payer.pk:
        return None
    return order


def orders_of(payer) -> QuerySet[PaymentOrder]:
    return PaymentOrder.objects.filter(payer=payer).order_by("-created_at", "-pk")


def order_for_source(source_ref: str) -> PaymentOrder | None:
    return PaymentOrder.objects.filter(source_ref=source_ref).first()


def order_by_reference(reference: str) -> PaymentOrder | None:
    return PaymentOrder.objects.filter(reference=reference).first()


def credited_payment(order: PaymentOrder) -> Payment | None:
    return order.payments.filter(credited_at__isnull=False).first()


def receipt_of(order: PaymentOrder) -> Receipt | None:
    return Receipt.objects.select_related("payment").filter(payment__order=order).first()


def receipts_of(payer) -> QuerySet[Receipt]:
    return Receipt.objects.select_related("payment__order").filter(payment__order__payer=payer)


def payments_needing_refund() -> QuerySet[Payment]:
    """Money that arrived but could not be credited and has not been given back yet."""
    return Payment.objects.exclude(anomaly="").select_related("order").order_by("-paid_at")
