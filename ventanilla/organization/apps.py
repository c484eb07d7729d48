from django.apps import AppConfig


class OrganizationConfig(AppConfig):
    name = "ventanilla.organization"
    label = "organization"
    verbose_name = "Dependencias y oficinas"
