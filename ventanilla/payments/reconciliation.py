"""Daily reconciliation: the provider's statement against the platform's ledger.

For one day (the city's time zone) every charge and refund the provider settled must be in the
ledger with the same amount, and every payment or completed refund in the ledger must be in the
provider's statement. Items are matched by the provider's id, so a payment recorded just after
midnight on the other side is looked for in the neighbouring day's statement before it is
reported missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Payment, Refund, RefundStatus
from .money import format_pesos
from .providers.base import PaymentProvider, StatementLine, get_provider

MISSING_IN_LEDGER = "missing_in_ledger"
MISSING_AT_PROVIDER = "missing_at_provider"
AMOUNT_MISMATCH = "amount_mismatch"


@dataclass(frozen=True)
class Difference:
    kind: str  # missing_in_ledger | missing_at_provider | amount_mismatch
    item: str  # "charge" | "refund"
    provider_id: str
    provider_amount_centavos: int | None
    ledger_amount_centavos: int | None
    order_reference: str = ""

    @property
    def message(self) -> str:
        what = _("cargo") if self.item == "charge" else _("reembolso")
        if self.kind == MISSING_IN_LEDGER:
            return _("%(what)s %(id)s por %(amount)s está en el estado de cuenta del proveedor pero no en la plataforma.") % {
                "what": what, "id": self.provider_id, "amount": format_pesos(self.provider_amount_centavos or 0)}
        if self.kind == MISSING_AT_PROVIDER:
            return _("%(what)s %(id)s por %(amount)s está en la plataforma pero no en el estado de cuenta del proveedor.") % {
                "what": what, "id": self.provider_id, "amount": format_pesos(self.ledger_amount_centavos or 0)}
        return _("%(what)s %(id)s: el proveedor dice %(provider)s y la plataforma %(ledger)s.") % {
            "what": what, "id": self.provider_id, "provider": format_pesos(self.provider_amount_centavos or 0),
            "ledger": format_pesos(self.ledger_amount_centavos or 0)}


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), datetime.min.time()))


def reconcile(provider: PaymentProvider | str, day: date) -> list[Difference]:
    provider = get_provider(provider) if isinstance(provider, str) else provider
    name = provider.name
    start, end = _day_bounds(day)
    lines = provider.statement(day)
    differences: list[Difference] = []

    charge_ids = [line.provider_payment_id for line in lines if line.kind == "charge"]
    refund_ids = [line.provider_payment_id for line in lines if line.kind == "refund"]
    payments = {p.provider_payment_id: p for p in Payment.objects.filter(provider=name, provider_payment_id__in=charge_ids)}
    refunds = {
        r.provider_refund_id: r
        for r in Refund.objects.filter(payment__provider=name, provider_refund_id__in=refund_ids,
                                       status=RefundStatus.COMPLETED)
    }
    for line in lines:
        ledger = payments.get(line.provider_payment_id) if line.kind == "charge" else refunds.get(line.provider_payment_id)
        if ledger is None:
            differences.append(Difference(MISSING_IN_LEDGER, line.kind, line.provider_payment_id,
                                          line.amount_centavos, None, line.order_reference))
        elif ledger.amount_centavos != line.amount_centavos:
            differences.append(Difference(AMOUNT_MISMATCH, line.kind, line.provider_payment_id,
                                          line.amount_centavos, ledger.amount_centavos, line.order_reference))

    neighbours: dict[date, set[tuple[str, str]]] = {}

    def seen_nearby(kind: str, provider_id: str) -> bool:
        for other in (day - timedelta(days=1), day + timedelta(days=1)):
            if other not in neighbours:
                neighbours[other] = {(ln.kind, ln.provider_payment_id) for ln in provider.statement(other)}
            if (kind, provider_id) in neighbours[other]:
                return True
        return False

    listed = {(line.kind, line.provider_payment_id) for line in lines}
    for payment in Payment.objects.filter(provider=name, paid_at__gte=start, paid_at__lt=end).select_related("order"):
        key = ("charge", payment.provider_payment_id)
        if key not in listed and not seen_nearby(*key):
            differences.append(Difference(MISSING_AT_PROVIDER, "charge", payment.provider_payment_id, None,
                                          payment.amount_centavos, payment.order.reference or ""))
    completed = Refund.objects.filter(payment__provider=name, status=RefundStatus.COMPLETED,
                                      completed_at__gte=start, completed_at__lt=end).select_related("payment__order")
    for refund in completed:
        key = ("refund", refund.provider_refund_id)
        if key not in listed and not seen_nearby(*key):
            differences.append(Difference(MISSING_AT_PROVIDER, "refund", refund.provider_refund_id, None,
                                          refund.amount_centavos, refund.payment.order.reference or ""))
    return differences


__all__ = ["AMOUNT_MISMATCH", "MISSING_AT_PROVIDER", "MISSING_IN_LEDGER", "Difference", "StatementLine", "reconcile"]
