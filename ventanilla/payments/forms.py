"""Forms of the payment pages. They only carry text; the rules are in services, cards and cfdi."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from . import cfdi


class CardForm(forms.Form):
    holder_name = forms.CharField(
        label=_("Nombre como aparece en la tarjeta"), max_length=80, required=False,
        widget=forms.TextInput(attrs={"autocomplete": "cc-name"}),
    )
    number = forms.CharField(
        label=_("Número de la tarjeta"), max_length=30, required=False,
        help_text=_("16 números, sin espacios o con espacios."),
        widget=forms.TextInput(attrs={"autocomplete": "cc-number", "inputmode": "numeric"}),
    )
    exp_month = forms.CharField(
        label=_("Mes de vencimiento"), max_length=2, required=False, help_text=_("Por ejemplo 08."),
        widget=forms.TextInput(attrs={"autocomplete": "cc-exp-month", "inputmode": "numeric", "size": "3"}),
    )
    exp_year = forms.CharField(
        label=_("Año de vencimiento"), max_length=4, required=False, help_text=_("Por ejemplo 29."),
        widget=forms.TextInput(attrs={"autocomplete": "cc-exp-year", "inputmode": "numeric", "size": "5"}),
    )
    cvv = forms.CharField(
        label=_("Código de seguridad"), max_length=4, required=False,
        help_text=_("Los 3 números del reverso de la tarjeta (4 al frente en American Express)."),
        widget=forms.PasswordInput(attrs={"autocomplete": "cc-csc", "inputmode": "numeric", "size": "5"}),
    )
    # Filled by a provider's tokenisation script, when the installation serves one.
    token = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)
    device_session_id = forms.CharField(required=False, max_length=255, widget=forms.HiddenInput)


class InvoiceForm(forms.Form):
    rfc = forms.CharField(label=_("RFC"), max_length=20, required=False,
                          widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    name = forms.CharField(label=_("Nombre o razón social"), max_length=254, required=False,
                           help_text=_("Como aparece en su constancia de situación fiscal."))
    postal_code = forms.CharField(label=_("Código postal de su domicilio fiscal"), max_length=5, required=False,
                                  widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}))
    regimen = forms.ChoiceField(label=_("Régimen fiscal"), required=False)
    uso_cfdi = forms.ChoiceField(label=_("Uso del CFDI"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["regimen"].choices = [("", _("Elija…"))] + [
            (code, f"{code} · {label}") for code, label in cfdi.REGIMENES.items()
        ]
        self.fields["uso_cfdi"].choices = [("", _("Elija…"))] + [
            (code, f"{code} · {label}") for code, label in cfdi.USOS.items()
        ]
