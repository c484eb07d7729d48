from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ventanilla.catalog import selectors as catalog_selectors

from .services import TITLE_MAX_LENGTH
from .uploads import human_size, max_upload_bytes


class UploadForm(forms.Form):
    title = forms.CharField(
        label=_("Nombre del documento"), max_length=TITLE_MAX_LENGTH,
        help_text=_("Por ejemplo: «Comprobante de domicilio, recibo de agua de marzo»."),
    )
    document_type = forms.ChoiceField(label=_("Tipo de documento"), required=False)
    file = forms.FileField(label=_("Archivo"), allow_empty_file=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document_type"].choices = [("", _("Otro"))] + [
            (t.code, t.name) for t in catalog_selectors.document_types()
        ]
        self.fields["file"].help_text = _("PDF, JPG o PNG de hasta %(max)s.") % {"max": human_size(max_upload_bytes())}
        self.fields["file"].widget.attrs["accept"] = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"
