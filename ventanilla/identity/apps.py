from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    name = "ventanilla.identity"
    label = "identity"
    verbose_name = _("Llave: identidad")

    def ready(self) -> None:
        from django.contrib import admin

        from ventanilla.core import backoffice

        from . import oidc_keys, signals  # noqa: F401
        from .admin_site import LlaveAdminSite
        from .models import Role

        oidc_keys.install_signing_key()
        # The Django admin requires a verified second factor and the platform administrator role.
        admin.site.__class__ = LlaveAdminSite
        backoffice.register(backoffice.Tool(
            label=_("Servidores públicos"), url_name="identity:officials", roles=(Role.PLATFORM_ADMIN,),
            description=_("Dar de alta, cambiar roles y desactivar cuentas de servidores públicos."),
        ))
        backoffice.register(backoffice.Tool(
            label=_("Verificar identidad en ventanilla"), url_name="identity:counter", roles=(Role.COUNTER_CLERK,),
            description=_("Consultar a una persona por su CURP y verificar su cuenta con una identificación."),
        ))
