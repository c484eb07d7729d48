"""System checks (`manage.py check`, `migrate` and every management command run them): an
installation in production must take real money, so it must not use the sandbox (a simulated
processor that "approves" test cards and lets anyone run `sandbox_pay_cash`)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.utils.translation import gettext as _

from .providers.base import provider_names

HINT = "docs/payments.md: VENTANILLA_PAYMENT_PROVIDER=openpay + VENTANILLA_OPENPAY_*"


def _production() -> bool:
    return bool(getattr(settings, "PRODUCTION", False)) or getattr(settings, "ENVIRONMENT", "") == "production"


@register()
def payment_provider_configured(app_configs=None, **kwargs) -> list:
    name = getattr(settings, "VENTANILLA_PAYMENT_PROVIDER", "")
    if name not in provider_names():
        return [Error(
            _("VENTANILLA_PAYMENT_PROVIDER=«%(name)s» no es un proveedor de pagos registrado (%(names)s).")
            % {"name": name, "names": ", ".join(provider_names())}, hint=HINT, id="payments.E002",
        )]
    if not _production():
        return []
    if name == "sandbox":
        return [Error(
            _("VENTANILLA_ENV=production usa el proveedor de pagos «sandbox» (simulado): no cobra dinero "
              "real y acepta tarjetas de prueba."), hint=HINT, id="payments.E001",
        )]
    problems: list = []
    if name == "openpay":
        missing = [var for var in ("VENTANILLA_OPENPAY_MERCHANT_ID", "VENTANILLA_OPENPAY_PRIVATE_KEY",
                                   "VENTANILLA_OPENPAY_WEBHOOK_USER", "VENTANILLA_OPENPAY_WEBHOOK_PASSWORD")
                   if not getattr(settings, var, "")]
        if missing:
            problems.append(Error(
                _("Openpay está elegido pero faltan %(missing)s: no se podrá cobrar ni recibir avisos de pago.")
                % {"missing": ", ".join(missing)}, hint=HINT, id="payments.E003",
            ))
        if not getattr(settings, "VENTANILLA_OPENPAY_PRODUCTION", False):
            problems.append(Warning(
                _("VENTANILLA_ENV=production usa el entorno de pruebas de Openpay (sandbox-api.openpay.mx)."),
                hint="VENTANILLA_OPENPAY_PRODUCTION=1", id="payments.W001",
            ))
    return problems
