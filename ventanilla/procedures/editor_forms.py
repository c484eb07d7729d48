"""Forms of the online-procedure editor. Each form turns plain inputs (texts, selects, one choice
per line) into the piece of the definition spec it edits; nobody types JSON."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import spec as spec_module
from .editor_services import placeholders_in

OPERATORS = (
    ("equals", gettext_lazy("es igual a")),
    ("in", gettext_lazy("es una de")),
    ("filled", gettext_lazy("tiene respuesta")),
)
# Questions whose answer is a plain text a condition can compare with.
COMPARABLE_TYPES = ("choice", "text")
NUMERIC_TYPES = ("number", "money")


class ChoicesError(ValueError):
    pass


def parse_choices(text: str) -> list[dict[str, str]]:
    """One option per line, "valor|Texto que ve la persona"; a line with only a text gets a value
    made from it ("Sí" → "si"). Raises ChoicesError with a Spanish message."""
    choices: list[dict[str, str]] = []
    seen: set[str] = set()
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        if "|" in line:
            value, label = (part.strip() for part in line.split("|", 1))
        else:
            value, label = slugify(line).replace("-", "_")[:60], line
        if not value or not label:
            raise ChoicesError(_("Línea %(n)s: escribe el valor y el texto separados por «|», por ejemplo «si|Sí».") % {"n": number})
        if len(value) > 60:
            raise ChoicesError(_("Línea %(n)s: el valor es demasiado largo (máximo 60 caracteres).") % {"n": number})
        if len(label) > spec_module.MAX_LABEL:
            raise ChoicesError(_("Línea %(n)s: el texto es demasiado largo (máximo %(m)s caracteres).") % {"n": number, "m": spec_module.MAX_LABEL})
        if value in seen:
            raise ChoicesError(_("Línea %(n)s: el valor «%(v)s» está repetido.") % {"n": number, "v": value})
        seen.add(value)
        choices.append({"value": value, "label": label})
    if not choices:
        raise ChoicesError(_("Escribe al menos una opción."))
    if len(choices) > spec_module.MAX_CHOICES:
        raise ChoicesError(_("Escribe como máximo %(n)s opciones.") % {"n": spec_module.MAX_CHOICES})
    return choices


def format_choices(choices: Any) -> str:
    if not isinstance(choices, list):
        return ""
    return "\n".join(
        f"{c.get('value', '')}|{c.get('label', '')}" for c in choices if isinstance(c, Mapping)
    )


def _field_label(f: Mapping) -> str:
    return f"{f.get('label') or f.get('key')} ({spec_module.FIELD_TYPES.get(f.get('type'), f.get('type'))})"


class FieldForm(forms.Form):
    """A question of the form. `earlier` are the questions before it (a condition may only look
    back, so visibility never loops)."""

    type = forms.ChoiceField(label=gettext_lazy("Tipo de respuesta"), choices=list(spec_module.FIELD_TYPES.items()))
    label = forms.CharField(label=gettext_lazy("Pregunta o etiqueta"), max_length=spec_module.MAX_LABEL,
                            help_text=gettext_lazy("Lo que lee la persona, por ejemplo «Nombre del evento»."))
    help = forms.CharField(label=gettext_lazy("Ayuda (opcional)"), required=False, max_length=spec_module.MAX_TEXT,
                           widget=forms.Textarea(attrs={"rows": 2}),
                           help_text=gettext_lazy("Una explicación corta debajo de la pregunta."))
    required = forms.BooleanField(label=gettext_lazy("Es obligatoria"), required=False, initial=True)
    min = forms.DecimalField(label=gettext_lazy("Valor mínimo (opcional)"), required=False, max_digits=21, decimal_places=6,
                             help_text=gettext_lazy("Solo para números y cantidades de dinero (en pesos)."))
    max = forms.DecimalField(label=gettext_lazy("Valor máximo (opcional)"), required=False, max_digits=21, decimal_places=6,
                             help_text=gettext_lazy("Solo para números y cantidades de dinero (en pesos)."))
    max_length = forms.IntegerField(label=gettext_lazy("Longitud máxima (opcional)"), required=False, min_value=1,
                                    max_value=spec_module.MAX_TEXT,
                                    help_text=gettext_lazy("Solo para textos: cuántos caracteres se pueden escribir."))
    pattern = forms.CharField(label=gettext_lazy("Formato (expresión regular, opcional)"), required=False,
                              max_length=spec_module.MAX_PATTERN,
                              help_text=gettext_lazy("Solo para textos. Por ejemplo [0-9]{10} para un teléfono de 10 dígitos."))
    choices = forms.CharField(label=gettext_lazy("Opciones"), required=False, widget=forms.Textarea(attrs={"rows": 5}),
                              help_text=gettext_lazy("Solo para «Opción de una lista»: una por línea, como valor|Texto "
                                                     "(por ejemplo si|Sí). Si escribes solo el texto, el valor se forma solo."))
    condition_field = forms.ChoiceField(label=gettext_lazy("Mostrar esta pregunta"), required=False)
    condition_operator = forms.ChoiceField(label=gettext_lazy("Condición"), choices=OPERATORS, required=False)
    condition_value = forms.CharField(label=gettext_lazy("Valor de la condición"), required=False, max_length=500,
                                      help_text=gettext_lazy("El valor (o el texto) de la opción. Para «es una de», "
                                                             "sepáralos con comas."))

    def __init__(self, *args, earlier: Sequence[Mapping] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.earlier = {str(f.get("key")): f for f in earlier if f.get("key")}
        self.fields["condition_field"].choices = [("", _("Siempre"))] + [
            (key, _("Solo si «%(q)s»…") % {"q": _field_label(f)}) for key, f in self.earlier.items()
        ]

    @classmethod
    def initial_from(cls, f: Mapping) -> dict:
        show_if = f.get("show_if") if isinstance(f.get("show_if"), Mapping) else {}
        operator, value = "equals", ""
        if "in" in show_if:
            operator, value = "in", ", ".join(str(v) for v in show_if.get("in") or [])
        elif show_if.get("filled"):
            operator = "filled"
        elif "equals" in show_if:
            value = str(show_if.get("equals"))
        return {
            "type": f.get("type"), "label": f.get("label", ""), "help": f.get("help", ""),
            "required": bool(f.get("required", True)), "min": f.get("min"), "max": f.get("max"),
            "max_length": f.get("max_length"), "pattern": f.get("pattern", ""),
            "choices": format_choices(f.get("choices")),
            "condition_field": show_if.get("field", ""), "condition_operator": operator, "condition_value": value,
        }

    def clean_pattern(self) -> str:
        pattern = self.cleaned_data["pattern"].strip()
        if pattern:
            try:
                re.compile(pattern)
            except (re.error, OverflowError, RecursionError):
                raise forms.ValidationError(_("No es una expresión regular válida.")) from None
        return pattern

    def _condition_value(self, target: Mapping, operator: str, text: str) -> Any:
        """The stored value(s) of a condition; the text of a choice is accepted for its value."""
        parts = [p.strip() for p in text.split(",")] if operator == "in" else [text.strip()]
        parts = [p for p in parts if p]
        if not parts:
            self.add_error("condition_value", _("Escribe el valor con el que se compara la respuesta."))
            return None
        if target.get("type") == "choice":
            choices = [c for c in target.get("choices") or [] if isinstance(c, Mapping)]
            by_label = {str(c.get("label", "")).casefold(): c.get("value") for c in choices}
            values = {c.get("value") for c in choices}
            resolved = []
            for part in parts:
                value = part if part in values else by_label.get(part.casefold())
                if value is None:
                    self.add_error("condition_value", _("«%(v)s» no es una opción de «%(q)s». Opciones: %(o)s.") % {
                        "v": part, "q": target.get("label"), "o": ", ".join(str(v) for v in values)})
                    return None
                resolved.append(value)
            parts = resolved
        return parts if operator == "in" else parts[0]

    def clean(self) -> dict:
        data = super().clean()
        kind = data.get("type")
        if kind == "choice":
            try:
                data["parsed_choices"] = parse_choices(data.get("choices", ""))
            except ChoicesError as exc:
                self.add_error("choices", str(exc))
        low, high = data.get("min"), data.get("max")
        if low is not None and high is not None and low > high:
            self.add_error("max", _("El máximo debe ser mayor o igual que el mínimo."))
        condition = data.get("condition_field")
        if condition:
            target = self.earlier.get(condition)
            operator = data.get("condition_operator") or "equals"
            if target is None:
                self.add_error("condition_field", _("Elige una pregunta anterior."))
            elif operator == "filled":
                data["show_if"] = {"field": condition, "filled": True}
            elif target.get("type") not in COMPARABLE_TYPES:
                self.add_error("condition_operator", _(
                    "Con una pregunta de tipo «%(t)s» solo se puede usar «tiene respuesta»."
                ) % {"t": spec_module.FIELD_TYPES.get(target.get("type"), target.get("type"))})
            else:
                value = self._condition_value(target, operator, data.get("condition_value", ""))
                if value is not None:
                    data["show_if"] = {"field": condition, operator: value}
        return data

    def to_spec(self) -> dict:
        """The question as the spec stores it (only what applies to its type)."""
        data = self.cleaned_data
        kind = data["type"]
        f: dict[str, Any] = {"type": kind, "label": data["label"].strip(), "required": bool(data.get("required"))}
        if data.get("help", "").strip():
            f["help"] = data["help"].strip()
        if kind in NUMERIC_TYPES:
            for bound in ("min", "max"):
                if data.get(bound) is not None:
                    f[bound] = _json_number(data[bound])
        if kind == "text":
            if data.get("max_length"):
                f["max_length"] = data["max_length"]
            if data.get("pattern"):
                f["pattern"] = data["pattern"]
        if kind == "choice":
            f["choices"] = data["parsed_choices"]
        if data.get("show_if"):
            f["show_if"] = data["show_if"]
        return f


def _json_number(value: Decimal) -> int | str:
    """A Decimal as JSON keeps it exact: whole numbers as int, others as their decimal text."""
    value = value.normalize()
    if value == value.to_integral_value():
        return int(value)
    return format(value, "f")


class PageForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Título de la página"), max_length=spec_module.MAX_LABEL,
                            help_text=gettext_lazy("Una pregunta o un tema por página, por ejemplo «Tu evento»."))


class DocumentForm(forms.Form):
    label = forms.CharField(label=gettext_lazy("Nombre del documento"), max_length=spec_module.MAX_LABEL,
                            help_text=gettext_lazy("Como lo ve la persona, por ejemplo «Identificación oficial vigente»."))
    document_type = forms.ChoiceField(
        label=gettext_lazy("Tipo de documento del catálogo"), required=False,
        help_text=gettext_lazy("Permite tomarlo de Mi expediente; si el municipio ya lo tiene, no se le pide a nadie."),
    )
    required = forms.BooleanField(label=gettext_lazy("Es obligatorio"), required=False, initial=True)
    help = forms.CharField(label=gettext_lazy("Ayuda (opcional)"), required=False, max_length=spec_module.MAX_TEXT,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, document_types: Sequence[tuple[str, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document_type"].choices = [("", _("Ninguno (solo se sube el archivo)"))] + list(document_types)

    def to_spec(self) -> dict:
        data = self.cleaned_data
        doc = {"label": data["label"].strip(), "document_type": data.get("document_type") or "",
               "required": bool(data.get("required"))}
        if data.get("help", "").strip():
            doc["help"] = data["help"].strip()
        return doc


class StepForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Nombre del paso"), max_length=spec_module.MAX_LABEL,
                           help_text=gettext_lazy("Por ejemplo «Revisión documental» o «Visto bueno de Protección Civil»."))
    department = forms.ChoiceField(label=gettext_lazy("Dependencia que revisa"))
    role = forms.ChoiceField(label=gettext_lazy("Quién decide"), choices=(
        ("reviewer", gettext_lazy("Revisores de la dependencia")),
        ("department_admin", gettext_lazy("Administradores de la dependencia")),
    ))
    after = forms.MultipleChoiceField(
        label=gettext_lazy("Va después de"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Sin marcar, empieza al presentar la solicitud. Los pasos que van después de los "
                               "mismos pasos se revisan al mismo tiempo."),
    )

    def __init__(self, *args, departments: Sequence[tuple[str, str]] = (), earlier: Sequence[Mapping] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = list(departments)
        self.fields["after"].choices = [(str(s.get("key")), str(s.get("name") or s.get("key"))) for s in earlier]
        if not earlier:
            del self.fields["after"]

    def to_spec(self) -> dict:
        data = self.cleaned_data
        return {"name": data["name"].strip(), "department": data["department"], "role": data["role"],
                "after": list(data.get("after") or [])}


class FeeForm(forms.Form):
    """One select per parameter of the catalogue's fee rule: which numeric question gives it."""

    def __init__(self, *args, parameters: Sequence[Mapping] = (), numeric_fields: Sequence[Mapping] = (), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("Elige una pregunta"))] + [(str(f.get("key")), _field_label(f)) for f in numeric_fields]
        self.parameter_names = []
        for param in parameters:
            name = str(param.get("name"))
            label = str(param.get("label") or name)
            unit = str(param.get("unit") or "")
            self.parameter_names.append(name)
            self.fields[f"param_{name}"] = forms.ChoiceField(
                label=_("«%(p)s»%(u)s sale de la pregunta") % {"p": label, "u": f" ({unit})" if unit else ""},
                choices=choices, required=True,
                error_messages={"required": _("Elige de qué pregunta sale «%(p)s».") % {"p": label}},
            )

    def mapping(self) -> dict[str, str]:
        return {name: self.cleaned_data[f"param_{name}"] for name in self.parameter_names}


class TemplateForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Qué se entrega"), widget=forms.RadioSelect, choices=(
        ("certificate", gettext_lazy("Constancia, licencia o permiso")),
        ("resolution", gettext_lazy("Resolución")),
    ))
    title = forms.CharField(label=gettext_lazy("Título del documento"), max_length=spec_module.MAX_LABEL)
    shown = forms.MultipleChoiceField(label=gettext_lazy("Respuestas que muestra el documento"), required=False,
                                       widget=forms.CheckboxSelectMultiple)
    paragraphs = forms.CharField(
        label=gettext_lazy("Texto del documento"), required=False, widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy("Separa los párrafos con una línea en blanco. Usa los datos disponibles entre llaves, "
                               "por ejemplo {solicitante}."),
    )

    def __init__(self, *args, all_fields: Sequence[Mapping] = (), allowed_placeholders: Sequence[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shown"].choices = [(str(f.get("key")), str(f.get("label") or f.get("key"))) for f in all_fields]
        if not all_fields:
            del self.fields["shown"]
        self.allowed = set(allowed_placeholders)

    @staticmethod
    def paragraphs_text(paragraphs: Sequence[str]) -> str:
        return "\n\n".join(paragraphs)

    def clean_paragraphs(self) -> list[str]:
        text = self.cleaned_data["paragraphs"].replace("\r\n", "\n")
        paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]
        problems = []
        for paragraph in paragraphs:
            if len(paragraph) > spec_module.MAX_TEXT:
                problems.append(_("Cada párrafo puede tener como máximo %(n)s caracteres.") % {"n": spec_module.MAX_TEXT})
                continue
            try:
                names = placeholders_in(paragraph)
            except ValueError:
                problems.append(_("Un párrafo tiene llaves { } sin cerrar: «%(p)s…».") % {"p": paragraph[:60]})
                continue
            for name in names:
                if name not in self.allowed:
                    problems.append(_("«{%(n)s}» no es un dato disponible.") % {"n": name[:40]})
        if problems:
            raise forms.ValidationError(problems)
        return paragraphs

    def to_spec(self) -> dict:
        data = self.cleaned_data
        return {"kind": data["kind"], "title": data["title"].strip(), "fields": list(data.get("shown") or []),
                "paragraphs": data["paragraphs"]}


class PublishForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Nota de la versión (opcional)"), required=False, max_length=300,
                           help_text=gettext_lazy("Qué cambió, por ejemplo «Se agregó la pregunta del aforo»."))


class ReceptionForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Motivo (opcional)"), required=False, max_length=300)


class ImportForm(forms.Form):
    spec_json = forms.CharField(label=gettext_lazy("Definición en JSON"), required=False,
                                widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false"}))
    spec_file = forms.FileField(label=gettext_lazy("O sube un archivo .json"), required=False)

    def clean(self) -> dict:
        data = super().clean()
        upload = data.get("spec_file")
        if upload is not None:
            if upload.size > 1_000_000:
                raise forms.ValidationError(_("El archivo es demasiado grande (máximo 1 MB)."))
            try:
                data["text"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError(_("El archivo debe estar en UTF-8.")) from None
        elif (data.get("spec_json") or "").strip():
            data["text"] = data["spec_json"]
        else:
            raise forms.ValidationError(_("Pega la definición o sube un archivo."))
        return data
