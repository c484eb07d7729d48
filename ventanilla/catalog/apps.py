from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "ventanilla.catalog"
    label = "catalog"
    verbose_name = "Catálogo de trámites y servicios"
