from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    """Documents the city issues: PDFs signed (PAdES) with the municipality's certificate,
    verifiable by QR code on a public page."""

    name = "ventanilla.documents"
    label = "documents"
    verbose_name = _("Documentos emitidos")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import importlib.util

        from ventanilla.core.backoffice import Tool, register
        from ventanilla.identity.models import Role

        from . import checks  # noqa: F401  (registers the signing-key check)

        register(
            Tool(
                label=_("Documentos emitidos"),
                url_name="documents:backoffice_search",
                roles=(Role.PLATFORM_ADMIN,),
                description=_("Buscar un documento firmado por su folio y revocarlo."),
            )
        )
        # The resident's issued documents in "Mi expediente" and its ARCO archive.
        if importlib.util.find_spec("ventanilla.files.sections") is not None:
            from .expediente import register_section

            register_section()
