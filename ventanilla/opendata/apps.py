from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpendataConfig(AppConfig):
    name = "ventanilla.opendata"
    label = "opendata"
    verbose_name = _("Datos abiertos")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from ventanilla.core.backoffice import Tool, register

        from .signals import tune_connection

        connection_created.connect(tune_connection, dispatch_uid="opendata-tune-connection")
        from ventanilla.identity.models import Role

        register(
            Tool(
                label=_("Datos abiertos"),
                url_name="opendata-bo-list",
                roles=(Role.DATA_PUBLISHER,),
                description=_("Publicar conjuntos de datos, subir versiones, diccionario de datos y tokens de API."),
            )
        )
