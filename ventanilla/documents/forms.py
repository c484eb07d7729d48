"""Forms of the documents pages. They only shape input; the rules live in services."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .services import MAX_REASON

DEFAULT_MAX_UPLOAD = 10 * 1024 * 1024


def max_upload_bytes() -> int:
    return int(getattr(settings, "VENTANILLA_UPLOAD_MAX_BYTES", DEFAULT_MAX_UPLOAD))


class VerifyUploadForm(forms.Form):
    document = forms.FileField(
        label=_("Documento en PDF"),
        help_text=_("El archivo PDF que recibiste del municipio, tal como lo descargaste. Máximo 10 MB."),
        error_messages={
            "required": _("Elige el archivo PDF que quieres verificar."),
            "empty": _("El archivo está vacío."),
            "invalid": _("No se recibió un archivo. Vuelve a elegirlo."),
        },
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )

    def clean_document(self):
        upload = self.cleaned_data["document"]
        limit = max_upload_bytes()
        if upload.size > limit:
            raise forms.ValidationError(
                _("El archivo pesa más de %(mb)d MB. Sube el PDF original del municipio.")
                % {"mb": limit // (1024 * 1024)}
            )
        head = upload.read(5)
        upload.seek(0)
        if head != b"%PDF-":
            raise forms.ValidationError(_("El archivo no es un PDF. Sube el documento PDF que recibiste."))
        return upload


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("Motivo de la revocación"), max_length=MAX_REASON, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Lo verá cualquier persona que verifique el documento. Se guarda en la bitácora."),
        error_messages={
            "required": _("Escribe el motivo de la revocación."),
            "max_length": _("El motivo es demasiado largo (máximo %(limit_value)d caracteres)."),
        },
    )


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Folio o código del documento"), max_length=64, required=False,
        help_text=_("El folio impreso o el código que aparece en la dirección de verificación."),
        error_messages={"max_length": _("Escribe como máximo %(limit_value)d caracteres.")},
    )
