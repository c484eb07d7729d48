"""Cancel a pending or expired payment order (`services.cancel_order`): it can no longer be paid,
and money that still arrives for it is recorded for refund. Audited ("payments.order_cancelled")
and attributed to the administrator given with --by.

Cancelling does not tell the app that asked for the money: a procedure request waiting for this
payment stays "awaiting payment" (payments has no cancellation hook yet; see docs/payments.md)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ventanilla.payments import services
from ventanilla.payments.models import OrderStatus


class Command(BaseCommand):
    help = _("Cancela una orden de pago pendiente o vencida.")

    def add_arguments(self, parser):
        parser.add_argument("order", help=_("Línea de captura (20 números; se aceptan espacios) o identificador "
                                            "de la orden."))
        parser.add_argument("--reason", required=True, help=_("Motivo de la cancelación (queda en la bitácora)."))
        parser.add_argument("--by", required=True,
                            help=_("Correo del administrador de la plataforma que autoriza la cancelación."))

    def handle(self, *args, **options):
        try:
            official = services.payment_administrator(options["by"])
            order = services.find_order(options["order"])
            was_cancelled = order.status == OrderStatus.CANCELLED
            order = services.cancel_order(order, reason=options["reason"], by=official)
        except services.PaymentError as exc:
            raise CommandError(exc.message) from exc
        if was_cancelled:
            self.stdout.write(_("La orden %(reference)s ya estaba cancelada.") % {"reference": order.reference})
            return
        self.stdout.write(_("Orden %(reference)s cancelada.") % {"reference": order.reference})
        if services.has_paid_handler(order):
            self.stderr.write(_(
                "Atención: la orden viene de %(source)s, que esperaba este pago; ese registro no cambia de estado "
                "al cancelar la orden."
            ) % {"source": order.source_ref})
