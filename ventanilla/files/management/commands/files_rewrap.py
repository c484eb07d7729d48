"""After a master-key rotation: wrap every document's data key with VENTANILLA_FILES_KEY."""

from django.core.management.base import BaseCommand

from ventanilla.files import crypto, services


class Command(BaseCommand):
    help = "Re-wraps every resident document's data key with the current VENTANILLA_FILES_KEY."

    def handle(self, *args, **options) -> None:
        changed = services.rewrap_all()
        self.stdout.write(f"{changed} documents re-wrapped with key {crypto.current_key_id()}.")
