"""The definition of an online procedure ("spec"): its form, documents, review steps, fee mapping
and resulting document, as JSON a catalogue editor builds in the back office. No code per
procedure: this module validates a spec, and cleans and displays a resident's answers to it.

Spec format (every key is required unless marked optional)::

    {
      "pages": [                                   # one or a few questions per page (GOV.UK)
        {"key": "negocio", "title": "Tu negocio", "fields": [
          {"key": "nombre", "type": "text", "label": "Nombre comercial", "required": true,
           "help": "", "max_length": 200, "pattern": ""},           # help/max_length/pattern optional
          {"key": "superficie", "type": "number", "label": "Superficie (m²)", "min": 1, "max": 500},
          {"key": "giro", "type": "choice", "label": "Giro", "choices": [
              {"value": "abarrotes", "label": "Abarrotes"}]},
          {"key": "local_rentado", "type": "choice", "label": "¿El local es rentado?", "choices": [...]},
          {"key": "contrato", "type": "file", "label": "Contrato de arrendamiento",
           "show_if": {"field": "local_rentado", "equals": "si"}}   # conditional visibility
        ]}
      ],
      "documents": [                               # uploaded or picked from "Mi expediente"
        {"key": "identificacion", "label": "Identificación oficial", "document_type": "INE",
         "required": true}
      ],
      "steps": [                                   # review steps; same `after` => in parallel
        {"key": "revision", "name": "Revisión documental", "department": "desarrollo-economico",
         "role": "reviewer", "after": []},
        {"key": "pc", "name": "Protección Civil", "department": "proteccion-civil",
         "role": "reviewer", "after": ["revision"]}
      ],
      "fee": {"parameters": {"m2": "superficie"}},  # catalogue fee parameter -> form field
      "template": {"kind": "certificate", "title": "Licencia de funcionamiento",
                   "fields": ["nombre", "giro"],
                   "paragraphs": ["Se otorga a {solicitante} la licencia para {nombre}."]}
    }

Field types: text, number, money, date, choice, curp, rfc, address (INEGI's Norma Técnica sobre
Domicilios Geográficos), parcel_key (clave catastral), file (a document of the resident's file).
`show_if` may only name a field that comes earlier, so visibility can never loop.

Answers are stored JSON-ready: text/choice/curp/rfc/parcel_key/file → str, number → str (exact
decimal), money → int centavos, date → "YYYY-MM-DD", address → dict of its parts.
"""

from __future__ import annotations

import datetime as dt
import re
import string
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ventanilla.identity import curp as curp_module
from ventanilla.identity import rfc as rfc_module
from ventanilla.payments.money import MoneyError, format_pesos, parse_pesos

FIELD_TYPES: dict[str, Any] = {
    "text": gettext_lazy("Texto"),
    "number": gettext_lazy("Número"),
    "money": gettext_lazy("Cantidad de dinero"),
    "date": gettext_lazy("Fecha"),
    "choice": gettext_lazy("Opción de una lista"),
    "curp": gettext_lazy("CURP"),
    "rfc": gettext_lazy("RFC"),
    "address": gettext_lazy("Domicilio (formato INEGI)"),
    "parcel_key": gettext_lazy("Clave catastral"),
    "file": gettext_lazy("Archivo"),
}
# Answers of these types name a person or where they live: printed whole on the issued document,
# masked on its public verification page.
PERSONAL_TYPES = frozenset({"curp", "rfc", "address"})
DOCUMENT_KINDS = ("certificate", "resolution")
STEP_ROLES = ("reviewer", "department_admin")
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_PAGES = 30
MAX_FIELDS_PER_PAGE = 30
MAX_TEXT = 2000
MAX_LABEL = 200
MAX_PATTERN = 200
MAX_CHOICES = 200

# INEGI, Norma Técnica sobre Domicilios Geográficos (DOF 12-11-2010): types of road and of
# human settlement, and the parts of an address.
ROAD_TYPES = (
    "AMPLIACIÓN", "ANDADOR", "AVENIDA", "BOULEVARD", "CALLE", "CALLEJÓN", "CALZADA", "CERRADA",
    "CIRCUITO", "CIRCUNVALACIÓN", "CONTINUACIÓN", "CORREDOR", "DIAGONAL", "EJE VIAL", "PASAJE",
    "PEATONAL", "PERIFÉRICO", "PRIVADA", "PROLONGACIÓN", "RETORNO", "VIADUCTO", "CARRETERA",
    "CAMINO", "BRECHA", "TERRACERÍA", "VEREDA",
)
SETTLEMENT_TYPES = (
    "AEROPUERTO", "AMPLIACIÓN", "BARRIO", "CANTÓN", "CIUDAD", "CIUDAD INDUSTRIAL", "COLONIA",
    "CONDOMINIO", "CONJUNTO HABITACIONAL", "CORREDOR INDUSTRIAL", "COTO", "CUARTEL", "EJIDO",
    "EXHACIENDA", "FRACCIÓN", "FRACCIONAMIENTO", "GRANJA", "HACIENDA", "INGENIO", "MANZANA",
    "PARAJE", "PARQUE INDUSTRIAL", "PRIVADA", "PROLONGACIÓN", "PUEBLO", "PUERTO", "RANCHERÍA",
    "RANCHO", "REGIÓN", "RESIDENCIAL", "RINCONADA", "SECCIÓN", "SECTOR", "SUPERMANZANA", "UNIDAD",
    "UNIDAD HABITACIONAL", "VILLA", "ZONA FEDERAL", "ZONA INDUSTRIAL", "ZONA MILITAR", "ZONA NAVAL",
)
ADDRESS_PARTS: tuple[tuple[str, Any, bool, int], ...] = (
    # (part, label, required, max length)
    ("road_type", gettext_lazy("Tipo de vialidad"), True, 20),
    ("road_name", gettext_lazy("Nombre de la vialidad"), True, 120),
    ("exterior_number", gettext_lazy("Número exterior"), True, 20),
    ("interior_number", gettext_lazy("Número interior"), False, 20),
    ("settlement_type", gettext_lazy("Tipo de asentamiento"), True, 30),
    ("settlement_name", gettext_lazy("Nombre del asentamiento (colonia)"), True, 120),
    ("postal_code", gettext_lazy("Código postal"), True, 5),
    ("locality", gettext_lazy("Localidad"), True, 120),
    ("municipality", gettext_lazy("Municipio"), True, 120),
    ("state", gettext_lazy("Estado"), True, 60),
    ("between_roads", gettext_lazy("Entre vialidades"), False, 200),
    ("description", gettext_lazy("Descripción de la ubicación"), False, 300),
)
_EXTERIOR_RE = re.compile(r"^(?:SN|S/N|\d{1,6}(?:\s?[A-Z])?(?:-\d{1,5})?)$")
_POSTAL_RE = re.compile(r"^\d{5}$")
_DECIMAL_RE = re.compile(r"^-?\d{1,15}(?:\.\d{1,6})?$")
BUILTIN_PLACEHOLDERS = ("folio", "solicitante", "curp", "fecha", "tramite", "municipio")


class SpecError(ValueError):
    """A definition that cannot be used; `errors` are Spanish messages for the editor."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


def parcel_key_pattern() -> re.Pattern[str]:
    """The city's cadastral key. Torreón: sector-manzana-lote with an optional unit
    ("001-045-012" or "001-045-012-003"); another city sets VENTANILLA_PARCEL_KEY_PATTERN."""
    return re.compile(getattr(settings, "VENTANILLA_PARCEL_KEY_PATTERN", r"^\d{3}-\d{3}-\d{3}(?:-\d{3})?$"))


# --- Parsed spec ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    key: str
    type: str
    label: str
    required: bool = True
    help: str = ""
    min: Decimal | None = None
    max: Decimal | None = None
    max_length: int = 500
    pattern: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    show_if: Mapping[str, Any] | None = None

    def is_visible(self, answers: Mapping[str, Any]) -> bool:
        if not self.show_if:
            return True
        value = answers.get(self.show_if["field"])
        if "equals" in self.show_if:
            return value == self.show_if["equals"]
        if "in" in self.show_if:
            return value in self.show_if["in"]
        return value not in (None, "", {}, [])  # {"filled": true}

    def choice_label(self, value: str) -> str:
        return dict(self.choices).get(value, value)


@dataclass(frozen=True)
class Page:
    key: str
    title: str
    fields: tuple[Field, ...]

    def visible_fields(self, answers: Mapping[str, Any]) -> list[Field]:
        return [f for f in self.fields if f.is_visible(answers)]


@dataclass(frozen=True)
class DocumentSlot:
    key: str
    label: str
    document_type: str = ""
    required: bool = True
    help: str = ""


@dataclass(frozen=True)
class Step:
    key: str
    name: str
    department: str
    role: str
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class Template:
    kind: str
    title: str
    fields: tuple[str, ...] = ()
    paragraphs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Spec:
    pages: tuple[Page, ...]
    documents: tuple[DocumentSlot, ...]
    steps: tuple[Step, ...]
    fee_parameters: Mapping[str, str]
    template: Template
    fields_by_key: Mapping[str, Field] = field(default_factory=dict)

    def page(self, key: str) -> Page | None:
        return next((p for p in self.pages if p.key == key), None)

    def next_page(self, key: str) -> Page | None:
        keys = [p.key for p in self.pages]
        if key not in keys or keys.index(key) + 1 >= len(keys):
            return None
        return self.pages[keys.index(key) + 1]

    def previous_page(self, key: str) -> Page | None:
        keys = [p.key for p in self.pages]
        if key not in keys or keys.index(key) == 0:
            return None
        return self.pages[keys.index(key) - 1]


# --- Validation of a spec (editor side) ----------------------------------------------------------


def _text(value: Any, limit: int = MAX_LABEL) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _number(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError
    number = Decimal(str(value))
    if not number.is_finite():
        raise ValueError
    return number


def _check_key(key: Any, what: str, seen: set[str], errors: list[str]) -> str:
    if not isinstance(key, str) or not KEY_RE.match(key):
        errors.append(
            _("%(what)s: la clave «%(key)s» no sirve; usa minúsculas, números y guion bajo, empezando con letra.")
            % {"what": what, "key": str(key)[:40]}
        )
        return ""
    if key in seen:
        errors.append(_("%(what)s: la clave «%(key)s» está repetida.") % {"what": what, "key": key})
    seen.add(key)
    return key


def _parse_field(raw: Any, earlier: Mapping[str, Field], seen: set[str], errors: list[str]) -> Field | None:
    if not isinstance(raw, Mapping):
        errors.append(_("Cada pregunta debe ser un objeto con clave, tipo y etiqueta."))
        return None
    key = _check_key(raw.get("key"), _("Pregunta"), seen, errors)
    label = _text(raw.get("label"))
    where = label or key or "?"
    if key in BUILTIN_PLACEHOLDERS:
        # {folio}, {fecha}… in the resulting document must keep meaning what the editor was told.
        errors.append(_("La pregunta «%(f)s»: la clave «%(key)s» está reservada para el documento que se entrega.") % {"f": where, "key": key})
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in FIELD_TYPES:
        errors.append(_("La pregunta «%(f)s» tiene un tipo desconocido: «%(t)s».") % {"f": where, "t": str(kind)[:20]})
        return None
    if not label:
        errors.append(_("La pregunta «%(f)s» no tiene etiqueta.") % {"f": where})
    try:
        low, high = _number(raw.get("min")), _number(raw.get("max"))
    except (ValueError, InvalidOperation):
        errors.append(_("La pregunta «%(f)s»: el mínimo y el máximo deben ser números.") % {"f": where})
        low = high = None
    if low is not None and high is not None and low > high:
        errors.append(_("La pregunta «%(f)s»: el mínimo es mayor que el máximo.") % {"f": where})
    max_length = raw.get("max_length") or 500
    if not isinstance(max_length, int) or isinstance(max_length, bool) or not 1 <= max_length <= MAX_TEXT:
        errors.append(_("La pregunta «%(f)s»: la longitud máxima debe estar entre 1 y %(n)s.") % {"f": where, "n": MAX_TEXT})
        max_length = 500
    pattern = _text(raw.get("pattern"), MAX_PATTERN + 1)
    if len(pattern) > MAX_PATTERN:
        errors.append(_("La pregunta «%(f)s»: el patrón es demasiado largo.") % {"f": where})
        pattern = ""
    elif pattern:
        try:
            re.compile(pattern)
        except (re.error, OverflowError, RecursionError):
            errors.append(_("La pregunta «%(f)s»: el patrón no es una expresión regular válida.") % {"f": where})
            pattern = ""
    choices: list[tuple[str, str]] = []
    if kind == "choice":
        raw_choices = raw.get("choices")
        if not isinstance(raw_choices, list) or not raw_choices or len(raw_choices) > MAX_CHOICES:
            errors.append(_("La pregunta «%(f)s» necesita entre 1 y %(n)s opciones.") % {"f": where, "n": MAX_CHOICES})
        else:
            values: set[str] = set()
            for item in raw_choices:
                value = _text(item.get("value"), 60) if isinstance(item, Mapping) else ""
                text = _text(item.get("label")) if isinstance(item, Mapping) else ""
                if not value or not text:
                    errors.append(_("La pregunta «%(f)s»: cada opción necesita valor y texto.") % {"f": where})
                    continue
                if value in values:
                    errors.append(_("La pregunta «%(f)s»: la opción «%(v)s» está repetida.") % {"f": where, "v": value})
                values.add(value)
                choices.append((value, text))
    show_if = raw.get("show_if") or None
    if show_if is not None:
        ok = isinstance(show_if, Mapping) and isinstance(show_if.get("field"), str) and show_if.get("field") in earlier and (
            "equals" in show_if or isinstance(show_if.get("in"), list) or show_if.get("filled") is True
        )
        if not ok:
            errors.append(
                _("La pregunta «%(f)s» solo puede mostrarse según una pregunta anterior (con «es igual a», «es una de» o «tiene respuesta»).")
                % {"f": where}
            )
            show_if = None
        else:
            show_if = dict(show_if)
    return Field(
        key=key, type=kind, label=label, required=bool(raw.get("required", True)),
        help=_text(raw.get("help"), MAX_TEXT), min=low, max=high, max_length=max_length,
        pattern=pattern, choices=tuple(choices), show_if=show_if,
    )


def parse_spec(
    raw: Any,
    *,
    departments: Collection[str] | None = None,
    document_types: Collection[str] | None = None,
    fee_parameters: Collection[str] | None = None,
) -> Spec:
    """Validates `raw` and returns the parsed spec, or raises SpecError with every problem found.
    The collections, when given, are what the spec may refer to (department slugs, catalogue
    document type codes, the catalogue fee rule's parameter names, all of which must be mapped)."""
    errors: list[str] = []
    if not isinstance(raw, Mapping):
        raise SpecError([_("La definición debe ser un objeto JSON.")])
    pages: list[Page] = []
    fields_by_key: dict[str, Field] = {}
    page_keys: set[str] = set()
    field_keys: set[str] = set()
    raw_pages = raw.get("pages")
    if not isinstance(raw_pages, list) or not raw_pages:
        errors.append(_("El formulario necesita al menos una página."))
        raw_pages = []
    if len(raw_pages) > MAX_PAGES:
        errors.append(_("El formulario tiene demasiadas páginas (máximo %(n)s).") % {"n": MAX_PAGES})
        raw_pages = raw_pages[:MAX_PAGES]
    for raw_page in raw_pages:
        if not isinstance(raw_page, Mapping):
            errors.append(_("Cada página debe ser un objeto con clave, título y preguntas."))
            continue
        key = _check_key(raw_page.get("key"), _("Página"), page_keys, errors)
        title = _text(raw_page.get("title"))
        if not title:
            errors.append(_("La página «%(p)s» no tiene título.") % {"p": key or "?"})
        raw_fields = raw_page.get("fields")
        if not isinstance(raw_fields, list) or not raw_fields:
            errors.append(_("La página «%(p)s» no tiene preguntas.") % {"p": title or key or "?"})
            raw_fields = []
        if len(raw_fields) > MAX_FIELDS_PER_PAGE:
            errors.append(_("La página «%(p)s» tiene demasiadas preguntas.") % {"p": title or key})
            raw_fields = raw_fields[:MAX_FIELDS_PER_PAGE]
        fields: list[Field] = []
        for raw_field in raw_fields:
            parsed = _parse_field(raw_field, fields_by_key, field_keys, errors)
            if parsed is not None:
                fields.append(parsed)
                if parsed.key:
                    fields_by_key[parsed.key] = parsed
        pages.append(Page(key=key, title=title, fields=tuple(fields)))

    documents: list[DocumentSlot] = []
    doc_keys: set[str] = set()
    raw_docs = raw.get("documents") or []
    if not isinstance(raw_docs, list):
        errors.append(_("Los documentos deben ser una lista."))
        raw_docs = []
    for raw_doc in raw_docs:
        if not isinstance(raw_doc, Mapping):
            errors.append(_("Cada documento debe ser un objeto con clave y nombre."))
            continue
        key = _check_key(raw_doc.get("key"), _("Documento"), doc_keys | field_keys, errors)
        doc_keys.add(key)
        label = _text(raw_doc.get("label"))
        doc_type = _text(raw_doc.get("document_type"), 40)
        if not label:
            errors.append(_("El documento «%(d)s» no tiene nombre.") % {"d": key or "?"})
        if doc_type and document_types is not None and doc_type not in document_types:
            errors.append(_("El documento «%(d)s» usa un tipo que no está en el catálogo: «%(t)s».") % {"d": label or key, "t": doc_type})
        documents.append(DocumentSlot(key=key, label=label, document_type=doc_type,
                                      required=bool(raw_doc.get("required", True)),
                                      help=_text(raw_doc.get("help"), MAX_TEXT)))

    steps: list[Step] = []
    step_keys: set[str] = set()
    raw_steps = raw.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        errors.append(_("Se necesita al menos un paso de revisión."))
        raw_steps = []
    for raw_step in raw_steps:
        if not isinstance(raw_step, Mapping):
            errors.append(_("Cada paso de revisión debe ser un objeto."))
            continue
        earlier = set(step_keys)
        key = _check_key(raw_step.get("key"), _("Paso"), step_keys, errors)
        name = _text(raw_step.get("name"))
        department = _text(raw_step.get("department"), 64)
        role = raw_step.get("role") or "reviewer"
        after = raw_step.get("after") or []
        if not name:
            errors.append(_("El paso «%(s)s» no tiene nombre.") % {"s": key or "?"})
        if not department or (departments is not None and department not in departments):
            errors.append(_("El paso «%(s)s» necesita una dependencia que exista.") % {"s": name or key or "?"})
        if role not in STEP_ROLES:
            errors.append(_("El paso «%(s)s» tiene un rol que no puede revisar.") % {"s": name or key or "?"})
        if not isinstance(after, list) or any(not isinstance(a, str) or a not in earlier for a in after):
            errors.append(_("El paso «%(s)s» solo puede ir después de pasos anteriores.") % {"s": name or key or "?"})
            after = []
        steps.append(Step(key=key, name=name, department=department, role=role, after=tuple(after)))

    fee = raw.get("fee") or {}
    mapping = fee.get("parameters") if isinstance(fee, Mapping) else None
    mapping = mapping or {}
    if not isinstance(mapping, Mapping):
        errors.append(_("Los datos del costo deben relacionar cada dato con una pregunta."))
        mapping = {}
    for param, field_key in mapping.items():
        target = fields_by_key.get(field_key) if isinstance(field_key, str) else None
        if target is None or target.type not in ("number", "money"):
            errors.append(_("El dato del costo «%(p)s» debe tomarse de una pregunta numérica.") % {"p": param})
        elif target.show_if or not target.required:
            errors.append(_("El dato del costo «%(p)s» debe venir de una pregunta obligatoria que siempre se muestre.") % {"p": param})
        if fee_parameters is not None and param not in fee_parameters:
            errors.append(_("El catálogo no tiene el dato de costo «%(p)s».") % {"p": param})
    for param in fee_parameters or ():
        if param not in mapping:
            errors.append(_("Falta indicar de qué pregunta sale el dato de costo «%(p)s».") % {"p": param})

    raw_template = raw.get("template")
    template = Template(kind="certificate", title="")
    if not isinstance(raw_template, Mapping):
        errors.append(_("Falta la plantilla del documento que se entrega."))
    else:
        kind = raw_template.get("kind") or "certificate"
        title = _text(raw_template.get("title"))
        shown = raw_template.get("fields") or []
        paragraphs = raw_template.get("paragraphs") or []
        if kind not in DOCUMENT_KINDS:
            errors.append(_("El tipo de documento que se entrega no es válido."))
            kind = "certificate"
        if not title:
            errors.append(_("La plantilla necesita un título."))
        if not isinstance(shown, list) or any(not isinstance(k, str) or k not in fields_by_key for k in shown):
            errors.append(_("La plantilla solo puede mostrar preguntas del formulario."))
            shown = []
        if not isinstance(paragraphs, list) or any(not isinstance(p, str) for p in paragraphs):
            errors.append(_("Los párrafos de la plantilla deben ser textos."))
            paragraphs = []
        allowed = set(fields_by_key) | set(BUILTIN_PLACEHOLDERS)
        for paragraph in paragraphs:
            if len(paragraph.strip()) > MAX_TEXT:
                # Cutting it could split a {placeholder} and break the document when it is issued.
                errors.append(_("Un párrafo de la plantilla es demasiado largo (máximo %(n)s caracteres).") % {"n": MAX_TEXT})
                continue
            try:
                names = [name for _lit, name, _fmt, _conv in string.Formatter().parse(paragraph) if name is not None]
            except ValueError:
                errors.append(_("Un párrafo de la plantilla tiene llaves { } sin cerrar."))
                continue
            for name in names:
                if name not in allowed:
                    errors.append(_("La plantilla usa «{%(n)s}», que no es una pregunta ni un dato disponible.") % {"n": name[:40]})
        template = Template(kind=kind, title=title, fields=tuple(shown),
                            paragraphs=tuple(p.strip()[:MAX_TEXT] for p in paragraphs))

    if errors:
        raise SpecError(errors)
    return Spec(pages=tuple(pages), documents=tuple(documents), steps=tuple(steps),
                fee_parameters=dict(mapping), template=template, fields_by_key=fields_by_key)


# --- Answers (resident side) ----------------------------------------------------------------------


def _clean_value(f: Field, data: Mapping[str, Any]) -> Any:
    """Returns the clean value of `f` from submitted `data` (None when empty) or raises
    ValueError with a Spanish message."""
    if f.type == "address":
        return _clean_address(f, data)
    raw = data.get(f.key)
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        return None
    if len(text) > (f.max_length if f.type == "text" else max(f.max_length, 40)):
        raise ValueError(_("Escribe como máximo %(n)s caracteres.") % {"n": f.max_length})
    if f.type == "text":
        if f.pattern and not re.fullmatch(f.pattern, text):
            raise ValueError(_("El texto no tiene el formato que se pide."))
        return text
    if f.type == "number":
        normal = text.replace(",", "").replace(" ", "")
        if not _DECIMAL_RE.match(normal):
            raise ValueError(_("Escribe un número, por ejemplo 120 o 85.5."))
        number = Decimal(normal)
        _check_bounds(f, number)
        return str(int(number)) if number == number.to_integral() else str(number)
    if f.type == "money":
        try:
            centavos = parse_pesos(text)
        except MoneyError as exc:
            raise ValueError(str(exc)) from None
        _check_bounds(f, Decimal(centavos) / 100)
        return centavos
    if f.type == "date":
        return _clean_date(text).isoformat()
    if f.type == "choice":
        if text not in dict(f.choices):
            raise ValueError(_("Elige una de las opciones."))
        return text
    if f.type == "curp":
        try:
            return curp_module.parse(text).value
        except curp_module.CurpError as exc:
            raise ValueError(str(exc)) from None
    if f.type == "rfc":
        try:
            return rfc_module.parse(text).value
        except rfc_module.RfcError as exc:
            raise ValueError(str(exc)) from None
    if f.type == "parcel_key":
        key = text.upper()
        if not parcel_key_pattern().match(key):
            raise ValueError(_("La clave catastral no tiene el formato correcto (por ejemplo 001-045-012). Está en tu recibo del predial."))
        return key
    if f.type == "file":
        try:
            return str(uuid.UUID(text))
        except ValueError:
            raise ValueError(_("Sube el archivo o elige uno de Mi expediente.")) from None
    raise ValueError(_("Tipo de pregunta desconocido."))


def _check_bounds(f: Field, number: Decimal) -> None:
    if f.min is not None and number < f.min:
        raise ValueError(_("Debe ser al menos %(n)s.") % {"n": f.min})
    if f.max is not None and number > f.max:
        raise ValueError(_("Debe ser como máximo %(n)s.") % {"n": f.max})


def _clean_date(text: str) -> dt.date:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"):
        try:
            value = dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if not 1900 <= value.year <= 2200:
            break
        return value
    raise ValueError(_("Escribe una fecha válida, por ejemplo 31/12/2026."))


def _clean_address(f: Field, data: Mapping[str, Any]) -> dict[str, str] | None:
    parts = {}
    for part, _label, _required, limit in ADDRESS_PARTS:
        raw = data.get(f"{f.key}.{part}")
        value = " ".join(raw.split()).upper() if isinstance(raw, str) else ""
        if len(value) > limit:
            raise ValueError(_("%(part)s: escribe como máximo %(n)s caracteres.") % {"part": _label, "n": limit})
        parts[part] = value
    if not any(parts.values()):
        return None
    missing = [str(label) for part, label, required, _l in ADDRESS_PARTS if required and not parts[part]]
    if missing:
        raise ValueError(_("Falta en el domicilio: %(parts)s.") % {"parts": ", ".join(missing)})
    if parts["road_type"] not in ROAD_TYPES:
        raise ValueError(_("Elige el tipo de vialidad de la lista."))
    if parts["settlement_type"] not in SETTLEMENT_TYPES:
        raise ValueError(_("Elige el tipo de asentamiento de la lista."))
    if not _EXTERIOR_RE.match(parts["exterior_number"]):
        raise ValueError(_("El número exterior debe ser un número (por ejemplo 1250 o 1250-B) o «SN» si no tiene."))
    if parts["exterior_number"] == "S/N":
        parts["exterior_number"] = "SN"
    if not _POSTAL_RE.match(parts["postal_code"]):
        raise ValueError(_("El código postal tiene 5 dígitos."))
    return parts


@dataclass
class PageResult:
    values: dict[str, Any]
    errors: dict[str, str]

    @property
    def ok(self) -> bool:
        return not self.errors


def clean_page(spec: Spec, page_key: str, data: Mapping[str, Any], answers: Mapping[str, Any]) -> PageResult:
    """Cleans one page's submitted `data` given the `answers` so far. Fields hidden by their
    condition are dropped (their old answers too); required visible fields must be answered."""
    page = spec.page(page_key)
    if page is None:
        return PageResult({}, {"__all__": _("Esta página no existe en el formulario.")})
    merged: dict[str, Any] = {k: v for k, v in answers.items() if k not in {f.key for f in page.fields}}
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in page.fields:
        # Visibility may depend on an earlier field of this same page: use what was just cleaned.
        if not f.is_visible({**merged, **values}):
            continue
        try:
            value = _clean_value(f, data)
        except ValueError as exc:
            errors[f.key] = str(exc)
            continue
        if value is None:
            if f.required:
                errors[f.key] = _("Responde «%(label)s».") % {"label": f.label}
            continue
        values[f.key] = value
    return PageResult(values, errors)


def visible_answers(spec: Spec, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers that count: those of fields visible given the other answers, in form order."""
    result: dict[str, Any] = {}
    for page in spec.pages:
        for f in page.fields:
            if f.is_visible(result) and f.key in answers:
                result[f.key] = answers[f.key]
    return result


def missing_answers(spec: Spec, answers: Mapping[str, Any]) -> list[tuple[Page, Field]]:
    """Required visible questions without an answer (what blocks submission)."""
    counted = visible_answers(spec, answers)
    missing = []
    for page in spec.pages:
        for f in page.fields:
            if f.required and f.is_visible(counted) and counted.get(f.key) in (None, "", {}):
                missing.append((page, f))
    return missing


def display_value(f: Field, value: Any) -> str:
    """A stored answer as people read it (check-your-answers page, PDFs, back office)."""
    if value is None or value == "":
        return ""
    if f.type == "money":
        return format_pesos(int(value))
    if f.type == "date":
        return dt.date.fromisoformat(value).strftime("%d/%m/%Y")
    if f.type == "choice":
        return f.choice_label(value)
    if f.type == "address" and isinstance(value, Mapping):
        line1 = f"{value.get('road_type', '')} {value.get('road_name', '')} {value.get('exterior_number', '')}".strip()
        if value.get("interior_number"):
            line1 += f" INT. {value['interior_number']}"
        line2 = f"{value.get('settlement_type', '')} {value.get('settlement_name', '')}, C.P. {value.get('postal_code', '')}"
        line3 = f"{value.get('locality', '')}, {value.get('municipality', '')}, {value.get('state', '')}"
        return ", ".join(x.strip(" ,") for x in (line1, line2, line3) if x.strip(" ,"))
    return str(value)


class _SafeFormat(dict):
    def __missing__(self, key: str) -> str:
        return ""


def render_paragraph(paragraph: str, spec: Spec, answers: Mapping[str, Any], builtins: Mapping[str, str]) -> str:
    """Fills a template paragraph: {field_key} becomes the displayed answer, built-ins
    ({folio}, {solicitante}, ...) come from `builtins`. Format specs and attribute access are
    refused, so an editor's template cannot reach into Python objects."""
    values = _SafeFormat(builtins)
    for key, f in spec.fields_by_key.items():
        values[key] = display_value(f, answers.get(key))
    out = []
    for literal, name, _fmt, _conv in string.Formatter().parse(paragraph):
        out.append(literal)
        if name is not None:
            out.append(values[name] if re.fullmatch(r"[a-z_][a-z0-9_]*", name) else "")
    return "".join(out)
