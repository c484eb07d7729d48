"""Payments JSON API, mounted at /api/v1/pagos/."""

from __future__ import annotations

from datetime import date

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.security import django_auth

from . import reference as reference_module
from . import selectors, services
from .models import OrderStatus

API_PREFIX = "/pagos/"
router = Router(tags=["Pagos"])


class OrderOut(Schema):
    id: str
    reference: str
    concept: str
    amount_centavos: int
    amount: str
    due_date: date
    status: str
    status_text: str
    paid_late: bool
    paid_at: str | None = None
    pay_url: str
    receipt_url: str | None = None


@router.get("/ordenes/{public_id}", response=OrderOut, summary="Una orden de pago", auth=django_auth)
def get_order(request: HttpRequest, public_id: str):
    """La orden de pago, solo para quien la debe (cookie de sesión). Cualquier otra cuenta
    recibe 404, exista o no la orden."""
    from django.urls import reverse

    order = selectors.order_of(request.auth, public_id)
    if order is None:
        raise Http404
    receipt = selectors.receipt_of(order)
    return OrderOut(
        id=str(order.public_id), reference=order.reference or "", concept=order.concept,
        amount_centavos=order.amount_centavos, amount=order.amount_display, due_date=order.due_date,
        status=order.status, status_text=order.status_text, paid_late=order.paid_late,
        paid_at=order.paid_at.isoformat() if order.paid_at else None,
        pay_url=reverse("payments:pay", args=[order.public_id]),
        receipt_url=reverse("payments:receipt", args=[order.public_id]) if receipt else None,
    )


class ReferenceOut(Schema):
    valid: bool
    reference: str | None = None
    exists: bool = False
    payable: bool = False
    status: str | None = None
    amount_centavos: int | None = None
    due_date: date | None = None
    error: str | None = None


@router.get("/referencia/{ref}", response=ReferenceOut, summary="Validar una línea de captura", auth=None)
def check_reference(request: HttpRequest, ref: str):
    """Revisa los dígitos verificadores de una línea de captura (bancos, tiendas, cajas) y dice si
    corresponde a una orden que se puede pagar, con su importe y fecha límite. No revela quién
    debe ni el concepto."""
    if len(ref) > 64:
        return ReferenceOut(valid=False, error=_("La línea de captura es demasiado larga."))
    try:
        reference_module.parse_reference(ref)
    except reference_module.ReferenceError as exc:
        return ReferenceOut(valid=False, error=exc.message)
    digits = reference_module.normalize(ref)
    order = selectors.order_by_reference(digits)
    if order is None:
        return ReferenceOut(valid=True, reference=digits, exists=False,
                            error=_("La línea de captura es correcta, pero no corresponde a ninguna orden."))
    return ReferenceOut(
        valid=True, reference=digits, exists=True,
        payable=order.status == OrderStatus.PENDING and not services.is_overdue(order),
        status=order.status, amount_centavos=order.amount_centavos, due_date=order.due_date,
    )
