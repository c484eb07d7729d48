"""Tables of the database job backend (`ventanilla.core.jobs.database`): the queue of background
jobs and one lease row per periodic schedule. With a Redis broker these tables stay empty."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Job(models.Model):
    """One background job: a registered function's name and its JSON keyword arguments.

    Life: `queued` (waiting for `run_at`) -> `running` (claimed by a worker until `locked_until`)
    -> `done`, or back to `queued` with a back-off after an error, or `failed` once `max_attempts`
    is spent (kept with its error). A running job whose lease passed is claimed again: its worker
    died, and jobs are written to be run more than once (at-least-once delivery)."""

    class State(models.TextChoices):
        QUEUED = "queued", _("En cola")
        RUNNING = "running", _("En ejecución")
        DONE = "done", _("Terminado")
        FAILED = "failed", _("Fallido")

    name = models.CharField(_("tarea"), max_length=200)
    kwargs = models.JSONField(_("argumentos"), default=dict, blank=True)
    key = models.CharField(
        _("clave única"), max_length=200, null=True, blank=True,
        help_text=_("Mientras un trabajo con esta clave espera o se ejecuta, no se encola otro igual."),
    )
    state = models.CharField(_("estado"), max_length=8, choices=State.choices, default=State.QUEUED)
    run_at = models.DateTimeField(_("ejecutar desde"), default=timezone.now)
    attempts = models.PositiveIntegerField(_("intentos"), default=0)
    max_attempts = models.PositiveIntegerField(_("intentos máximos"), default=5)
    locked_by = models.CharField(_("trabajador"), max_length=200, blank=True)
    locked_until = models.DateTimeField(_("reservado hasta"), null=True, blank=True)
    token = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(_("último error"), blank=True)
    created_at = models.DateTimeField(_("creado"), default=timezone.now)
    started_at = models.DateTimeField(_("iniciado"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminado"), null=True, blank=True)

    class Meta:
        verbose_name = _("trabajo en segundo plano")
        verbose_name_plural = _("trabajos en segundo plano")
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=Q(state__in=["queued", "running"]), name="job_key_once_while_open",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "run_at"], name="job_ready_idx"),
            models.Index(fields=["state", "locked_until"], name="job_lease_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk} ({self.state})"


class JobSchedule(models.Model):
    """The lease of one periodic job: the last period (seconds since the epoch divided by the
    interval) for which a worker enqueued it. Workers advance it with a conditional UPDATE, so
    however many run, one of them enqueues the job once per period."""

    name = models.CharField(max_length=200, primary_key=True)
    last_period = models.BigIntegerField(default=-1)
    last_enqueued_at = models.DateTimeField(null=True, blank=True)
    last_enqueued_by = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("tarea periódica")
        verbose_name_plural = _("tareas periódicas")

    def __str__(self) -> str:
        return self.name
