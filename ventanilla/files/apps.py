from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FilesConfig(AppConfig):
    """Mi expediente: the resident's documents (encrypted at rest) and their whole file."""

    name = "ventanilla.files"
    label = "files"
    verbose_name = _("Mi expediente")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import crypto

        # Refuse to start without the master key in production, or with a malformed key anywhere.
        crypto.check_configuration()
