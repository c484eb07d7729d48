"""Scheduled check of the open data portal: overdue datasets and broken links (run it daily from
cron or the platform's scheduler)."""

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Avisa a quien publica de los conjuntos de datos vencidos y revisa los enlaces de los recursos."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=5.0, help="Segundos de espera por enlace.")
        parser.add_argument("--sin-enlaces", action="store_true", dest="no_links", help="No revisa los enlaces.")

    def handle(self, *args, **options):
        from ventanilla.opendata import freshness, linkcheck

        overdue = freshness.overdue_datasets()
        notices = freshness.notify_publishers()
        self.stdout.write(f"Conjuntos vencidos: {len(overdue)}; avisos enviados: {len(notices)}.")
        if not options["no_links"]:
            counts = linkcheck.check_links(timeout=options["timeout"])
            self.stdout.write(
                f"Enlaces revisados: {counts['checked']}; funcionan: {counts['ok']}; rotos: {counts['broken']}; "
                f"avisos enviados: {counts['notified']}."
            )
