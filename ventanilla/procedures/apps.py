from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProceduresConfig(AppConfig):
    name = "ventanilla.procedures"
    label = "procedures"
    verbose_name = _("Trámites en línea")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ventanilla.core.backoffice import Tool, register
        from ventanilla.files import services as files
        from ventanilla.identity.models import Role
        from ventanilla.payments import services as payments

        from . import file_section, services

        # A paid fee resolves the request, inside the transaction that credits the payment.
        payments.register_paid_handler(services.SOURCE_PREFIX, services.handle_paid_order)
        # A document that a request still relies on cannot be deleted from Mi expediente.
        files.register_delete_guard(services.document_in_use)
        # "Mis solicitudes" in Mi expediente and in the resident's ARCO archive.
        file_section.register()

        register(Tool(
            label=_("Medición de trámites en línea"),
            url_name="procedures:metrics",
            roles=(Role.ANALYST, Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN),
            description=_("Solicitudes por canal, abandono en cada página, tiempos de revisión, plazos e ingresos."),
        ))
        register(Tool(
            label=_("Trámites en línea"),
            url_name="procedures:editor_list",
            roles=(Role.CATALOG_EDITOR,),
            description=_("Definir sin programar el formulario, los documentos, la revisión y el documento que se entrega; publicar versiones."),
        ))
