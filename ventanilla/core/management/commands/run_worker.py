from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Ejecuta los trabajos en segundo plano (plazos legales, limpieza...) hasta recibir SIGTERM "
        "o, con --once, hasta que no quede nada pendiente. Ver docs/jobs.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true",
                            help="Encola las tareas periódicas que toquen, ejecuta lo pendiente y termina.")
        parser.add_argument("--backend", default=None,
                            help='"database", "redis" o una URL redis://… (por omisión VENTANILLA_JOBS_BROKER).')
        parser.add_argument("--id", dest="worker_id", default=None,
                            help="Identificador fijo del trabajador: al reiniciarse recupera en seguida los "
                                 "trabajos que tenía (debe ser único entre los trabajadores vivos).")
        parser.add_argument("--no-schedule", action="store_true",
                            help="No encola tareas periódicas (solo ejecuta la cola).")
        parser.add_argument("--poll", type=float, default=None,
                            help="Segundos de espera cuando la cola está vacía (por omisión 1).")

    def handle(self, *args, **options):
        from ventanilla.core import jobs
        from ventanilla.core.jobs.worker import Worker

        try:
            backend = jobs.get_backend(options["backend"])
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        worker_id = options["worker_id"]
        if worker_id is not None and not (0 < len(worker_id) <= 200):
            raise CommandError("--id debe tener entre 1 y 200 caracteres.")
        worker = Worker(backend, worker_id=worker_id, schedule=not options["no_schedule"],
                        poll_seconds=options["poll"])
        done = worker.run(once=options["once"])
        if options["verbosity"] >= 1:
            self.stdout.write(f"{done} trabajos ejecutados ({backend.name}, {worker.worker_id}).")
