"""Prints the TOTP code a demo official can use now (development only)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Imprime el código de 6 dígitos vigente de un servidor público de demostración."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, **options):
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from ventanilla.identity.demo import OFFICIALS
        from ventanilla.identity.totp import acceptable_code

        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError("Este comando solo funciona con datos de demostración.")
        email = options["email"].strip().lower()
        if email not in {o.email for o in OFFICIALS}:
            raise CommandError(f"{email} no es una cuenta de demostración.")
        device = TOTPDevice.objects.filter(user__email=email, name="Demo", confirmed=True).first()
        if device is None:
            raise CommandError("No hay dispositivo de demostración: ejecuta primero manage.py seed_demo.")
        # A code already used (a second sign-in within 30 seconds) is refused: print the next one.
        self.stdout.write(acceptable_code(device))
