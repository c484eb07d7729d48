from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "ventanilla.catalog"
    label = "catalog"
    verbose_name = _("Catálogo de trámites y servicios")

    def ready(self) -> None:
        from ventanilla.core.backoffice import Tool, register
        from ventanilla.identity.models import Role

        register(
            Tool(
                label=_("Catálogo de trámites"),
                url_name="catalog:editor_list",
                roles=(Role.CATALOG_EDITOR,),
                description=_("Crear, corregir, publicar y retirar trámites; sinónimos de búsqueda."),
            )
        )
