"""Back-office forms of the catalogue editor. They only shape input; the rules live in services."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from ventanilla.organization import selectors as org_selectors

from .fees import to_centavos
from .models import DocumentType, LifeEvent, Procedure, SearchSynonym

LINES_HINT = _("Uno por renglón.")


class LinesField(forms.CharField):
    """A list of strings edited as one item per line."""

    widget = forms.Textarea(attrs={"rows": 4})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(value)
        return value

    def to_python(self, value):
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class ProcedureForm(forms.ModelForm):
    steps = LinesField(label=_("Pasos a seguir"), required=False, help_text=LINES_HINT)
    keywords = LinesField(label=_("Palabras clave"), required=False,
                          help_text=_("Cómo buscaría la gente este trámite. Una por renglón."))
    payment_alternatives = forms.MultipleChoiceField(
        label=_("Formas de pago"), required=False, choices=Procedure.Payment.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    cost_amount = forms.CharField(
        label=_("Monto en pesos"), required=False, max_length=16,
        help_text=_("Solo si el costo es un monto fijo. Por ejemplo 1250.00"),
    )
    cost_parameters_text = forms.CharField(
        label=_("Datos para calcular el costo"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Solo si el costo se calcula. Uno por renglón: nombre | etiqueta | unidad. "
                    "Por ejemplo: m2 | Superficie a construir | m²"),
    )

    class Meta:
        model = Procedure
        fields = [
            "clave", "name", "kind", "modality", "department", "description", "who_may_file", "steps",
            "channel_online", "channel_in_person", "channel_kiosk", "presentation", "legal_basis",
            "has_inspection", "inspection_objective", "cost_kind", "cost_description", "cost_formula",
            "response_days", "ficta", "prevention_days", "correction_days", "validity",
            "resolution_criteria", "offices", "contact_phone", "contact_email", "complaint_channels",
            "requires_appointment", "keywords", "life_events",
        ]
        widgets = {
            "offices": forms.CheckboxSelectMultiple, "life_events": forms.CheckboxSelectMultiple,
            "description": forms.Textarea(attrs={"rows": 4}), "who_may_file": forms.Textarea(attrs={"rows": 2}),
            "legal_basis": forms.Textarea(attrs={"rows": 3}), "inspection_objective": forms.Textarea(attrs={"rows": 2}),
            "cost_description": forms.Textarea(attrs={"rows": 2}), "resolution_criteria": forms.Textarea(attrs={"rows": 3}),
            "complaint_channels": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "clave": _("Letras mayúsculas, números y guiones. Por ejemplo TOR-DGDE-001."),
            "description": _("Qué es y cuándo lo necesitas, en 2 a 4 frases sencillas, hablando de «tú»."),
            "cost_formula": _("Con los nombres de los datos, números, + - * / ( ), min(a, b), max(a, b) y UMA."),
            "response_days": _("Días hábiles."),
        }

    def __init__(self, *args, departments=None, **kwargs):
        super().__init__(*args, **kwargs)
        if departments is not None:
            ids = [d.pk for d in departments]
            self.fields["department"].queryset = self.fields["department"].queryset.filter(pk__in=ids)
            self.fields["offices"].queryset = org_selectors.offices_of_departments(ids)
        self.fields["life_events"].queryset = LifeEvent.objects.all()
        if self.instance.pk:
            self.fields["clave"].disabled = True
            if self.instance.cost_amount_centavos:
                self.initial["cost_amount"] = self.instance.cost_amount_pesos
            self.initial["cost_parameters_text"] = "\n".join(
                " | ".join([p.get("name", ""), p.get("label", ""), p.get("unit", "")])
                for p in self.instance.cost_parameters or []
            )
            self.initial["payment_alternatives"] = self.instance.payment_alternatives

    def clean_cost_amount(self) -> int | None:
        text = (self.cleaned_data.get("cost_amount") or "").strip().replace(",", "").replace("$", "")
        if not text:
            return None
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise forms.ValidationError(_("Escribe el monto en pesos, por ejemplo 1250.00")) from None
        if not value.is_finite() or value <= 0 or value > Decimal("100000000"):
            raise forms.ValidationError(_("El monto debe ser mayor que cero y menor que cien millones."))
        return to_centavos(value)

    def clean_cost_parameters_text(self) -> list[dict]:
        rows = []
        for line in (self.cleaned_data.get("cost_parameters_text") or "").splitlines():
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split("|")]
            rows.append({"name": parts[0], "label": parts[1] if len(parts) > 1 else parts[0],
                         "unit": parts[2] if len(parts) > 2 else ""})
        return rows

    def service_data(self) -> dict:
        """The cleaned data in the shape `services.create_procedure/update_procedure` take."""
        cd = self.cleaned_data
        data = {k: cd[k] for k in self.Meta.fields if k not in ("offices", "life_events") and k in cd}
        if self.instance.pk:
            data.pop("clave", None)
        data["payment_alternatives"] = cd.get("payment_alternatives") or []
        data["cost_amount_centavos"] = cd.get("cost_amount")
        data["cost_parameters"] = cd.get("cost_parameters_text") or []
        for key in ("response_days", "prevention_days", "correction_days"):
            data[key] = cd.get(key)
        return data


class RequirementForm(forms.Form):
    document_type = forms.ModelChoiceField(label=_("Documento"), queryset=DocumentType.objects.all())
    detail = forms.CharField(label=_("Detalle"), required=False, max_length=2000)
    original = forms.BooleanField(label=_("Original para cotejo"), required=False, initial=True)
    copies = forms.IntegerField(label=_("Copias"), min_value=0, max_value=20, initial=0)
    legal_basis = forms.CharField(label=_("Fundamento jurídico del requisito"), required=False, max_length=2000)


RequirementFormSet = forms.formset_factory(RequirementForm, extra=2, can_delete=True, max_num=60, validate_max=True)


def requirement_initial(procedure: Procedure) -> list[dict]:
    return [
        {"document_type": r.document_type_id, "detail": r.detail, "original": r.original, "copies": r.copies,
         "legal_basis": r.legal_basis}
        for r in procedure.requirements.all()
    ]


def requirements_from(formset) -> list[dict]:
    return [
        f.cleaned_data for f in formset.forms
        if f.cleaned_data and not f.cleaned_data.get("DELETE") and f.cleaned_data.get("document_type")
    ]


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Motivo del retiro"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Se guarda en el historial y en la bitácora."),
        error_messages={"required": _("Escribe el motivo del retiro.")},
    )


class SynonymForm(forms.ModelForm):
    class Meta:
        model = SearchSynonym
        fields = ["term", "expansion"]
        help_texts = {
            "term": _("Por ejemplo «tiendita» o «changarro»."),
            "expansion": _("Por ejemplo «licencia de funcionamiento»."),
        }

    def validate_unique(self):  # the service checks uniqueness with a clearer message
        pass
