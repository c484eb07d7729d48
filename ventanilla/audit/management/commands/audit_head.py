import json

from django.core.management.base import BaseCommand

from ventanilla.audit.models import AuditHead


class Command(BaseCommand):
    help = "Imprime la huella de la última entrada de la bitácora, para publicarla fuera de la plataforma."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Salida en JSON.")

    def handle(self, *args, **options):
        head = AuditHead.objects.filter(pk=1).first()
        seq, digest = (head.seq, head.hash) if head else (0, "0" * 64)
        at = head.updated_at.isoformat() if head and head.updated_at else None
        if options["json"]:
            self.stdout.write(json.dumps({"seq": seq, "hash": digest, "at": at}))
        else:
            self.stdout.write(f"{seq}:{digest}")
