"""Simulate a cash payment at a store or bank for a sandbox reference, and send the signed
webhook to the platform exactly as a provider would."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from ventanilla.payments.models import SandboxTransaction
from ventanilla.payments.money import MoneyError, parse_pesos
from ventanilla.payments.providers.base import ProviderError
from ventanilla.payments.providers.sandbox import SandboxProvider


class Command(BaseCommand):
    help = "Sandbox: paga en efectivo una línea de captura y envía el aviso (webhook) firmado."

    def add_arguments(self, parser):
        parser.add_argument("reference", help="La línea de captura (20 números; se aceptan espacios).")
        parser.add_argument("--at", help="Fecha y hora del pago, ISO 8601 (por omisión: ahora).")
        parser.add_argument("--amount", help="Importe pagado en pesos, si no es el de la orden (p. ej. 150.00).")
        parser.add_argument("--url", help="Enviar el aviso por HTTP a esta URL en vez de entregarlo dentro del proceso.")
        parser.add_argument("--resend", action="store_true",
                            help="Volver a enviar el aviso de una referencia ya pagada (mismo evento).")

    def handle(self, *args, **options):
        provider = SandboxProvider()
        reference = "".join(ch for ch in options["reference"] if ch.isdigit())
        if options["resend"]:
            txn = SandboxTransaction.objects.filter(
                kind=SandboxTransaction.Kind.CASH, order_reference=reference, status=SandboxTransaction.Status.PAID
            ).first()
            if txn is None:
                raise CommandError("Esa referencia no está pagada en el simulador.")
        else:
            at = None
            if options["at"]:
                try:
                    at = parse_datetime(options["at"])  # ValueError for a day that does not exist
                    if at is not None and timezone.is_naive(at):
                        at = timezone.make_aware(at)
                    if at is not None:
                        timezone.localtime(at)  # OverflowError at the ends of the calendar
                except (ValueError, OverflowError):
                    raise CommandError(_("--at no es una fecha y hora que exista: %(value)s.")
                                       % {"value": options["at"][:40]}) from None
                if at is None:
                    raise CommandError("--at no es una fecha y hora ISO 8601 (p. ej. 2026-05-01T10:30:00-06:00).")
            amount = None
            if options["amount"]:
                try:
                    amount = parse_pesos(options["amount"])
                except MoneyError as exc:
                    raise CommandError(exc.message) from exc
            try:
                txn = provider.pay_cash(reference, at=at, amount_centavos=amount)
            except ProviderError as exc:
                raise CommandError(exc.message) from exc
        status, answer = provider.send_webhook(txn, url=options["url"])
        self.stdout.write(f"{txn.transaction_id} {txn.order_reference} {txn.amount_centavos} centavos "
                          f"pagado {timezone.localtime(txn.paid_at).isoformat()}")
        self.stdout.write(f"webhook {txn.webhook_event_id}: HTTP {status} {answer}")
        if status != 200:
            raise CommandError("La plataforma no aceptó el aviso; vuelva a enviarlo con --resend.")
