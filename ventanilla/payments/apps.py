"""Payments (issue 3 §6): payment orders with their línea de captura, providers behind one
interface, verified webhooks, crediting exactly once, receipts, reconciliation."""
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "ventanilla.payments"
    label = "payments"
    verbose_name = _("Pagos")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the payment provider check)
        from .expediente import register_section

        register_section()
