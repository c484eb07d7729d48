"""Read-only access to payment orders, for this app's views and for other apps."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db.models import QuerySet, Sum

from .models import Payment, PaymentOrder, Receipt, Refund, RefundStatus


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


def refunded_credited_centavos(source_prefix: str, start: datetime, end: datetime) -> list[tuple[str, datetime, int]]:
    """Money given back in [start, end) on credited payments (income that had been counted) of
    orders whose source starts with `source_prefix`: (source_ref, completed_at, centavos), one row
    per completed refund. Refunds of money that was never credited (an anomaly) are not here."""
    rows = (
        Refund.objects.filter(status=RefundStatus.COMPLETED, completed_at__gte=start, completed_at__lt=end,
                              payment__credited_at__isnull=False,
                              payment__order__source_ref__startswith=source_prefix)
        .values_list("payment__order__source_ref", "completed_at")
        .annotate(total=Sum("amount_centavos"))
        .order_by("completed_at")
    )
    return [(ref, at, int(total)) for ref, at, total in rows]
