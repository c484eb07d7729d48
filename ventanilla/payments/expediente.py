"""The "Pagos" part of Mi expediente and of the ARCO archive: the resident's orders and receipts."""

from __future__ import annotations

import json

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import selectors


def section_context(user) -> dict:
    orders = list(selectors.orders_of(user).prefetch_related("payments__receipt"))
    for order in orders:
        order.receipt_folio = next(
            (p.receipt.folio for p in order.payments.all() if p.credited_at and hasattr(p, "receipt")), ""
        )
    return {"orders": orders}


def _iso(value) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def export(user) -> dict[str, bytes]:
    """Every order, payment and receipt of `user`, as JSON (the ARCO archive's "pagos" folder)."""
    orders = []
    for order in selectors.orders_of(user).prefetch_related("payments__receipt", "payments__refunds"):
        payments = []
        for payment in order.payments.all():
            receipt = getattr(payment, "receipt", None)
            payments.append({
                "proveedor": payment.provider,
                "operacion": payment.provider_payment_id,
                "forma": payment.method,
                "importe_centavos": payment.amount_centavos,
                "pagado": _iso(payment.paid_at),
                "acreditado": _iso(payment.credited_at),
                "fuera_de_plazo": payment.late,
                "observacion": payment.anomaly,
                "reembolsos": [
                    {"importe_centavos": r.amount_centavos, "estado": r.status, "motivo": r.reason,
                     "fecha": _iso(r.completed_at or r.requested_at)}
                    for r in payment.refunds.all()
                ],
                "recibo": None if receipt is None else {
                    "folio": receipt.folio, "fecha": _iso(receipt.issued_at),
                    "emisor_rfc": receipt.emisor_rfc, "receptor_rfc": receipt.receptor_rfc,
                    "receptor_nombre": receipt.receptor_nombre, "uso_cfdi": receipt.uso_cfdi,
                    "forma_pago": receipt.forma_pago, "metodo_pago": receipt.metodo_pago,
                    "clave_prod_serv": receipt.clave_prod_serv, "importe_centavos": receipt.importe_centavos,
                    "moneda": receipt.moneda,
                },
            })
        orders.append({
            "id": str(order.public_id),
            "linea_de_captura": order.reference,
            "concepto": order.concept,
            "importe_centavos": order.amount_centavos,
            "fecha_limite": order.due_date.isoformat(),
            "estado": order.status,
            "creada": _iso(order.created_at),
            "pagada": _iso(order.paid_at),
            "datos_fiscales": {
                "rfc": order.receptor_rfc, "nombre": order.receptor_name,
                "codigo_postal": order.receptor_postal_code, "regimen": order.receptor_regimen,
                "uso_cfdi": order.receptor_uso_cfdi,
            },
            "pagos": payments,
        })
    data = json.dumps({"ordenes_de_pago": orders}, ensure_ascii=False, indent=2).encode()
    return {"ordenes_de_pago.json": data}


def register_section() -> bool:
    """Adds "Pagos" to Mi expediente when the files app offers sections; False otherwise."""
    try:
        from ventanilla.files.sections import Section, register
    except ImportError:
        return False
    register(Section(
        key="pagos",
        title=_("Pagos"),
        template_name="payments/expediente_section.html",
        context=section_context,
        export=export,
    ))
    return True
