from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProceduresConfig(AppConfig):
    name = "ventanilla.procedures"
    label = "procedures"
    verbose_name = _("Trámites en línea")
    default_auto_field = "django.db.models.BigAutoField"
