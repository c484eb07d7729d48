"""Give back (all or part of) a payment through the provider that took it: money that arrived
for a cancelled or already-paid order (`selectors.payments_needing_refund()`), a charge made by
mistake. Calls `services.refund`, which records the refund before asking the provider and writes
the audit log entry "payments.refund" attributed to the administrator given with --by."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ventanilla.payments import services
from ventanilla.payments.models import RefundStatus
from ventanilla.payments.money import MoneyError, format_pesos, parse_pesos


class Command(BaseCommand):
    help = _("Reembolsa un pago (completo o una parte) por medio del proveedor que lo cobró.")

    def add_arguments(self, parser):
        parser.add_argument("payment", help=_("Folio del recibo (REC-…), proveedor:identificador o el identificador "
                                              "del pago en el proveedor."))
        parser.add_argument("--reason", required=True, help=_("Motivo del reembolso (queda en la bitácora)."))
        parser.add_argument("--by", required=True,
                            help=_("Correo del administrador de la plataforma que autoriza el reembolso."))
        parser.add_argument("--amount", help=_("Importe en pesos si no es todo lo que queda por reembolsar "
                                               "(p. ej. 150.00)."))

    def handle(self, *args, **options):
        try:
            official = services.payment_administrator(options["by"])
            payment = services.find_payment(options["payment"])
            amount = parse_pesos(options["amount"]) if options["amount"] else None
            refund = services.refund(payment, reason=options["reason"], by=official, amount_centavos=amount)
        except (services.PaymentError, MoneyError) as exc:
            raise CommandError(exc.message) from exc
        if refund.status != RefundStatus.COMPLETED:
            raise CommandError(_("El proveedor no hizo el reembolso de %(amount)s: %(message)s") % {
                "amount": format_pesos(refund.amount_centavos), "message": refund.error_message})
        self.stdout.write(_("Reembolso de %(amount)s del pago %(payment)s hecho (%(provider_id)s).") % {
            "amount": format_pesos(refund.amount_centavos), "payment": payment.provider_payment_id,
            "provider_id": refund.provider_refund_id})
