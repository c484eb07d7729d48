"""Compare a provider's statement for one day with the platform's ledger."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ventanilla.payments.providers.base import ProviderError, get_provider
from ventanilla.payments.reconciliation import reconcile


class Command(BaseCommand):
    help = "Concilia el estado de cuenta de un proveedor con los pagos de la plataforma (sale con 1 si hay diferencias)."

    def add_arguments(self, parser):
        parser.add_argument("--provider", default=None, help="Proveedor (por omisión, el configurado).")
        parser.add_argument("--date", default=None, help="Día a conciliar, AAAA-MM-DD (por omisión, ayer).")

    def handle(self, *args, **options):
        try:
            day = date.fromisoformat(options["date"]) if options["date"] else timezone.localdate() - timedelta(days=1)
        except ValueError as exc:
            raise CommandError("--date debe ser AAAA-MM-DD.") from exc
        try:
            provider = get_provider(options["provider"])
        except LookupError as exc:
            raise CommandError(f"Proveedor desconocido: {options['provider']}") from exc
        try:
            differences = reconcile(provider, day)
        except ProviderError as exc:
            raise CommandError(exc.message) from exc
        if not differences:
            self.stdout.write(f"{provider.name} {day.isoformat()}: sin diferencias.")
            return
        self.stdout.write(f"{provider.name} {day.isoformat()}: {len(differences)} diferencia(s).")
        for diff in differences:
            self.stdout.write(f"{diff.kind}\t{diff.item}\t{diff.provider_id}\t{diff.provider_amount_centavos}\t"
                              f"{diff.ledger_amount_centavos}\t{diff.order_reference}\t{diff.message}")
        raise SystemExit(1)
