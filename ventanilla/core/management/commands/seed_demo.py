"""Builds Torreón's deterministic demo data. Safe to run again: every builder is idempotent."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction


class Command(BaseCommand):
    help = "Crea los datos de demostración de Torreón (idempotente)."

    def add_arguments(self, parser):
        parser.add_argument("--quiet-if-present", action="store_true", help="No hace nada si ya existen.")
        parser.add_argument("--history-days", type=int, default=120, help="Días de historial de uso del catálogo.")
        parser.add_argument("--opendata-rows", type=int, default=None,
                            help="Filas del conjunto de infracciones de tránsito (por omisión, un millón).")
        parser.add_argument("--procedures-requests", type=int, default=None,
                            help="Solicitudes históricas de trámites en línea (por omisión, 3000).")

    def handle(self, *args, **options):
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError("Los datos de demostración no se crean en producción.")
        # The demonstration signing certificate, so documents issued in the demo verify (idempotent).
        call_command("signing_demo_ca", stdout=self.stdout)
        from ventanilla.catalog import demo as catalog_demo
        from ventanilla.identity import demo as identity_demo
        from ventanilla.opendata import demo as opendata_demo
        from ventanilla.opendata import publish as opendata_publish
        from ventanilla.procedures import demo as procedures_demo

        requests = procedures_demo.DEFAULT_REQUESTS if options["procedures_requests"] is None else options["procedures_requests"]
        if (options["quiet_if_present"] and catalog_demo.is_present() and opendata_demo.is_present()
                and procedures_demo.is_present(requests)):
            self.stdout.write("Datos de demostración ya presentes.")
            return
        with transaction.atomic():
            catalog_demo.build(history_days=options["history_days"], stdout=self.stdout)
            identity_demo.build(stdout=self.stdout)
            procedures_demo.build(requests, stdout=self.stdout)
        fines = options["opendata_rows"] or opendata_demo.FINES_DEFAULT
        opendata_demo.build(fines_count=fines, stdout=self.stdout)
        for name, result in opendata_publish.refresh_all().items():
            if isinstance(result, Exception):
                self.stderr.write(f"{name}: {getattr(result, 'message', result)}")
        self.stdout.write(self.style.SUCCESS("Datos de demostración listos."))
