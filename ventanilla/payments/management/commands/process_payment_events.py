"""Process webhook events that were stored but never processed (e.g. a worker died)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from ventanilla.payments.services import process_pending_events


class Command(BaseCommand):
    help = "Procesa los avisos de pago recibidos que quedaron sin procesar."

    def handle(self, *args, **options):
        count = process_pending_events()
        self.stdout.write(f"{count} aviso(s) procesado(s).")
