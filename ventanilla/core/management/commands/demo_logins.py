from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Imprime la dirección de la plataforma y las cuentas de demostración."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args, **options):
        from ventanilla.identity import demo as identity_demo

        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Ventanilla está en {options['url']}"))
        self.stdout.write("Cuentas de demostración (solo para desarrollo):")
        for line in identity_demo.login_lines():
            self.stdout.write(f"  {line}")
        self.stdout.write("")
