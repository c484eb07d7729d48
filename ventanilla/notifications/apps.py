from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """Every status change reaches the resident: an in-app inbox and an e-mail."""

    name = "ventanilla.notifications"
    label = "notifications"
    verbose_name = _("Avisos")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ventanilla.files.sections import register

        from .sections import SECTION

        register(SECTION)
