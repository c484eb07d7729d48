"""Mark pending orders past their due date as expired (run daily)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from ventanilla.payments.services import expire_overdue_orders


class Command(BaseCommand):
    help = "Marca como vencidas las órdenes de pago pendientes cuya fecha límite ya pasó."

    def handle(self, *args, **options):
        self.stdout.write(f"{expire_overdue_orders()} orden(es) vencida(s).")
