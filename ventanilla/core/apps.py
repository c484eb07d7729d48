from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "ventanilla.core"
    label = "core"
    verbose_name = _("Núcleo")

    def ready(self) -> None:
        from django.core.signals import request_finished

        from .logging import clear_request_id

        # The request id lives until the request has finished (see RequestIdMiddleware).
        request_finished.connect(clear_request_id, dispatch_uid="ventanilla.core.clear_request_id")
