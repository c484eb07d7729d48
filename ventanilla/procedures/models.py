from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class NonWorkingDay(models.Model):
    """A day the city declares non-working (días inhábiles): legal deadlines skip it.

    The statutory holidays of the Ley Federal del Trabajo are computed in
    `ventanilla.procedures.calendar`; only the city's own declarations live here.
    """

    date = models.DateField(_("fecha"), unique=True)
    reason = models.CharField(
        _("motivo"),
        max_length=200,
        help_text=_("Por ejemplo: acuerdo de Cabildo que declara el día inhábil."),
    )
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("declarado por"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("registrado"), auto_now_add=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("día inhábil")
        verbose_name_plural = _("días inhábiles")

    def __str__(self) -> str:
        return f"{self.date.isoformat()} — {self.reason}"
