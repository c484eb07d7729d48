from django.core.management.base import BaseCommand, CommandError

from ventanilla.audit.services import verify_chain


class Command(BaseCommand):
    help = "Verifica la cadena completa de la bitácora de auditoría y nombra la primera entrada alterada."

    def add_arguments(self, parser):
        parser.add_argument(
            "--expect",
            metavar="SEQ:HASH",
            help="Una huella publicada antes (salida de audit_head): esa entrada debe conservarla.",
        )

    def handle(self, *args, **options):
        expect = None
        if options["expect"]:
            try:
                seq, digest = options["expect"].split(":", 1)
                expect = (int(seq), digest.strip().lower())
            except ValueError as exc:
                raise CommandError("--expect debe tener la forma NUMERO:HUELLA") from exc
        report = verify_chain(expect=expect)
        if report.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Bitácora íntegra: {report.entries} entradas; última #{report.head_seq} {report.head_hash}"
                )
            )
            return
        problem = report.problem
        raise CommandError(f"Bitácora alterada ({problem.kind}) en la entrada #{problem.seq}: {problem.message}")
