"""Scheduled refresh of the datasets the platform publishes about itself (run daily)."""

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Actualiza los conjuntos de datos que la plataforma publica sobre sí misma."

    def add_arguments(self, parser):
        parser.add_argument("nombres", nargs="*", help="Solo estas publicaciones (por omisión, todas).")

    def handle(self, *args, **options):
        from ventanilla.opendata import publish

        names = options["nombres"] or None
        unknown = set(names or ()) - set(publish.publications())
        if unknown:
            raise CommandError("No existen las publicaciones: " + ", ".join(sorted(unknown)))
        failed = 0
        for name, result in publish.refresh_all(names).items():
            if isinstance(result, Exception):
                failed += 1
                message = getattr(result, "message", None) or str(result)
                self.stderr.write(f"{name}: error: {message}")
            else:
                version = result.resources.order_by("position").first()
                number = version.current_version.number if version and version.current_version else 0
                self.stdout.write(f"{name}: versión {number}")
        if failed:
            raise CommandError(f"{failed} publicaciones fallaron.")
