"""Creates the demonstration certificate authority and the municipality's demonstration signing
certificate (idempotent). Never for production: there, configure a real certificate."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ventanilla.documents.signing import DEMO_ROOT_NAME, create_demo_ca, demo_signer_name


class Command(BaseCommand):
    help = "Crea la autoridad certificadora de demostración y el certificado de firma del municipio (idempotente)."

    def add_arguments(self, parser):
        parser.add_argument("--dir", default=None, help="Carpeta (por omisión VENTANILLA_SIGNING_DEMO_DIR).")

    def handle(self, *args, **options):
        if getattr(settings, "PRODUCTION", False):
            raise CommandError(
                "La autoridad de demostración no se usa en producción: configure VENTANILLA_SIGNING_KEY, "
                "VENTANILLA_SIGNING_CERT y VENTANILLA_SIGNING_CHAIN."
            )
        directory = Path(options["dir"] or settings.VENTANILLA_SIGNING_DEMO_DIR)
        name = demo_signer_name()
        paths, created = create_demo_ca(directory, signer_name=name)
        if created:
            self.stdout.write(f"Autoridad «{DEMO_ROOT_NAME}» y certificado «{name}» creados en {paths.directory}.")
        else:
            self.stdout.write(f"Certificados de firma de demostración ya presentes en {paths.directory}.")
