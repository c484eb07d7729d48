"""The catalogue editor's changes to an online procedure's definition, one small step at a time.

The back office never asks an editor to type JSON: each sub-form (a page, a question, a document,
a review step, the fee mapping, the resulting document) changes the draft spec through the
functions here, which keep the draft in the shape `spec.parse_spec` reads and refuse changes that
would leave it pointing at something that no longer exists. A draft may still be incomplete;
`services.validate_definition_spec` lists what is missing before publishing.

Every change goes through `edit_draft`, which locks the definition row while it reads, changes
and stores the draft, so two editors saving different sub-forms at once never lose each other's
work.
"""

from __future__ import annotations

import copy
import json
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ventanilla.audit import services as audit
from ventanilla.catalog import selectors as catalog_selectors

from . import services
from . import spec as spec_module
from .models import Definition, DefinitionVersion, Request

T = TypeVar("T")

MAX_IMPORT_BYTES = 1_000_000
# Page keys the resident's journey uses for its own steps after the form pages.
RESERVED_PAGE_KEYS = frozenset({"documentos", "revisar", "confirmacion", "estado"})
BUILTIN_PLACEHOLDER_LABELS: dict[str, Any] = {
    "folio": gettext_lazy("Folio de la solicitud"),
    "solicitante": gettext_lazy("Nombre completo de quien solicita"),
    "curp": gettext_lazy("CURP de quien solicita"),
    "fecha": gettext_lazy("Fecha de la resolución"),
    "tramite": gettext_lazy("Nombre del trámite"),
    "municipio": gettext_lazy("Nombre del municipio"),
}


class EditError(Exception):
    """A change the editor cannot make; `message` is Spanish and can be shown as is."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


# --- Reading a draft ---------------------------------------------------------------------------


def _dicts(value: Any) -> list[dict]:
    return [dict(item) for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def normalised(raw: Any) -> dict:
    """A deep copy of a draft in the shape the editor works on: pages (with fields), documents
    and steps as lists of objects, `fee.parameters` and `template` as objects. Entries that are
    not objects (which `parse_spec` refuses anyway) are left out."""
    raw = copy.deepcopy(raw) if isinstance(raw, Mapping) else {}
    pages = []
    for page in _dicts(raw.get("pages")):
        page["fields"] = _dicts(page.get("fields"))
        pages.append(page)
    fee = raw.get("fee") if isinstance(raw.get("fee"), Mapping) else {}
    parameters = fee.get("parameters") if isinstance(fee.get("parameters"), Mapping) else {}
    template = dict(raw["template"]) if isinstance(raw.get("template"), Mapping) else {}
    template.setdefault("kind", "certificate")
    template.setdefault("title", "")
    template["fields"] = [k for k in template.get("fields") or [] if isinstance(k, str)] if isinstance(template.get("fields"), list) else []
    template["paragraphs"] = [p for p in template.get("paragraphs") or [] if isinstance(p, str)] if isinstance(template.get("paragraphs"), list) else []
    return {
        **raw,
        "pages": pages,
        "documents": _dicts(raw.get("documents")),
        "steps": _dicts(raw.get("steps")),
        "fee": {**fee, "parameters": {str(k): v for k, v in parameters.items()}},
        "template": template,
    }


def all_fields(draft: Mapping) -> list[tuple[dict, dict]]:
    """(page, field) for every question, in form order."""
    return [(page, f) for page in draft["pages"] for f in page["fields"]]


def find_page(draft: Mapping, page_key: str) -> dict:
    page = next((p for p in draft["pages"] if p.get("key") == page_key), None)
    if page is None:
        raise EditError(_("Esa página ya no existe en el borrador."))
    return page


def find_field(draft: Mapping, page_key: str, field_key: str) -> dict:
    f = next((f for f in find_page(draft, page_key)["fields"] if f.get("key") == field_key), None)
    if f is None:
        raise EditError(_("Esa pregunta ya no existe en el borrador."))
    return f


def find_item(draft: Mapping, section: str, key: str) -> dict:
    item = next((i for i in draft[section] if i.get("key") == key), None)
    if item is None:
        raise EditError(_("Ese elemento ya no existe en el borrador."))
    return item


def fields_before(draft: Mapping, page_key: str, field_key: str | None = None) -> list[dict]:
    """The questions a condition of `field_key` (or of a new question at the end of `page_key`)
    may depend on: every question that comes before it."""
    earlier: list[dict] = []
    for page in draft["pages"]:
        for f in page["fields"]:
            if field_key is not None and page.get("key") == page_key and f.get("key") == field_key:
                return earlier
            earlier.append(f)
        if field_key is None and page.get("key") == page_key:
            return earlier
    return earlier


def steps_before(draft: Mapping, step_key: str | None) -> list[dict]:
    earlier = []
    for step in draft["steps"]:
        if step_key is not None and step.get("key") == step_key:
            break
        earlier.append(step)
    return earlier


def _taken_keys(draft: Mapping) -> set[str]:
    keys = {str(f.get("key")) for _p, f in all_fields(draft)}
    keys |= {str(d.get("key")) for d in draft["documents"]}
    return keys | set(spec_module.BUILTIN_PLACEHOLDERS)


def make_key(text: str, taken: Iterable[str], fallback: str) -> str:
    """A key for `text` that `spec.KEY_RE` accepts and is not in `taken`: "Superficie (m²)" →
    "superficie_m2"; "2 plantas" → "pregunta_2_plantas"."""
    base = slugify(str(text)).replace("-", "_").strip("_")
    if not base or not base[0].isalpha():
        base = f"{fallback}_{base}".strip("_")
    base = base[:34].rstrip("_")
    taken = set(taken)
    key, n = base, 2
    while key in taken:
        key = f"{base}_{n}"
        n += 1
    return key


def placeholders(draft: Mapping) -> list[tuple[str, str]]:
    """What a paragraph of the resulting document may use: {key} and what it is replaced by."""
    items = [(name, str(label)) for name, label in BUILTIN_PLACEHOLDER_LABELS.items()]
    items += [(str(f.get("key")), str(f.get("label") or "")) for _p, f in all_fields(draft) if f.get("key")]
    return items


def placeholders_in(paragraph: str) -> list[str]:
    """The {names} a paragraph uses; raises ValueError on unbalanced braces."""
    return [name for _lit, name, _fmt, _conv in string.Formatter().parse(paragraph) if name is not None]


def references_to(draft: Mapping, field_key: str) -> list[str]:
    """Where a question is used, as Spanish sentences (conditions, fee, resulting document)."""
    found = []
    for _page, f in all_fields(draft):
        show_if = f.get("show_if")
        if isinstance(show_if, Mapping) and show_if.get("field") == field_key:
            found.append(_("La pregunta «%(q)s» se muestra según esta respuesta.") % {"q": f.get("label") or f.get("key")})
    for param, target in draft["fee"]["parameters"].items():
        if target == field_key:
            found.append(_("El dato de costo «%(p)s» sale de esta pregunta.") % {"p": param})
    if field_key in draft["template"]["fields"]:
        found.append(_("El documento que se entrega muestra esta respuesta."))
    for paragraph in draft["template"]["paragraphs"]:
        try:
            if field_key in placeholders_in(paragraph):
                found.append(_("Un párrafo del documento que se entrega usa «{%(k)s}».") % {"k": field_key})
                break
        except ValueError:
            continue
    return found


def condition_order_problems(draft: Mapping) -> list[str]:
    """Conditions that name a question that does not come earlier (after a move)."""
    seen: set[str] = set()
    problems = []
    for _page, f in all_fields(draft):
        show_if = f.get("show_if")
        if isinstance(show_if, Mapping) and show_if.get("field") not in seen:
            problems.append(
                _("La pregunta «%(q)s» depende de «%(d)s», que tiene que ir antes.")
                % {"q": f.get("label") or f.get("key"), "d": show_if.get("field")}
            )
        if isinstance(f.get("key"), str):
            seen.add(f["key"])
    return problems


# --- Changing a draft (pure functions on the normalised dict) -----------------------------------


def _move(items: list[dict], key: str, direction: str) -> None:
    index = next((i for i, item in enumerate(items) if item.get("key") == key), None)
    if index is None:
        raise EditError(_("Ese elemento ya no existe en el borrador."))
    target = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= target < len(items):
        return
    items[index], items[target] = items[target], items[index]


def add_page(draft: dict, title: str) -> str:
    title = _required_text(title, _("Escribe el título de la página."))
    taken = {str(p.get("key")) for p in draft["pages"]} | RESERVED_PAGE_KEYS
    if len(draft["pages"]) >= spec_module.MAX_PAGES:
        raise EditError(_("El formulario ya tiene el máximo de %(n)s páginas.") % {"n": spec_module.MAX_PAGES})
    key = make_key(title, taken, "pagina")
    draft["pages"].append({"key": key, "title": title, "fields": []})
    return key


def rename_page(draft: dict, page_key: str, title: str) -> None:
    find_page(draft, page_key)["title"] = _required_text(title, _("Escribe el título de la página."))


def move_page(draft: dict, page_key: str, direction: str) -> None:
    _move(draft["pages"], page_key, direction)
    problems = condition_order_problems(draft)
    if problems:
        raise EditError(_("No se puede mover la página: %(p)s") % {"p": " ".join(problems)})


def page_uses(draft: Mapping, page_key: str) -> list[str]:
    """Where the questions of a page are used outside that page."""
    page = find_page(draft, page_key)
    rest = {**draft, "pages": [p for p in draft["pages"] if p is not page]}
    return [use for f in page["fields"] if isinstance(f.get("key"), str) for use in references_to(rest, f["key"])]


def delete_page(draft: dict, page_key: str) -> None:
    uses = page_uses(draft, page_key)
    if uses:
        raise EditError(_("No se puede borrar la página porque otras partes usan sus preguntas: %(u)s") % {"u": " ".join(uses)})
    page = find_page(draft, page_key)
    draft["pages"] = [p for p in draft["pages"] if p is not page]


def _required_text(value: str, message: str, limit: int = spec_module.MAX_LABEL) -> str:
    value = (value or "").strip()
    if not value:
        raise EditError(message)
    if len(value) > limit:
        raise EditError(_("Escribe como máximo %(n)s caracteres.") % {"n": limit})
    return value


def add_field(draft: dict, page_key: str, data: Mapping[str, Any]) -> str:
    page = find_page(draft, page_key)
    if len(page["fields"]) >= spec_module.MAX_FIELDS_PER_PAGE:
        raise EditError(_("La página ya tiene el máximo de %(n)s preguntas.") % {"n": spec_module.MAX_FIELDS_PER_PAGE})
    key = make_key(data.get("label", ""), _taken_keys(draft), "pregunta")
    page["fields"].append({"key": key, **{k: v for k, v in data.items() if k != "key"}})
    return key


def update_field(draft: dict, page_key: str, field_key: str, data: Mapping[str, Any]) -> None:
    f = find_field(draft, page_key, field_key)
    f.clear()
    f.update({"key": field_key, **{k: v for k, v in data.items() if k != "key"}})


def move_field(draft: dict, page_key: str, field_key: str, direction: str) -> None:
    _move(find_page(draft, page_key)["fields"], field_key, direction)
    problems = condition_order_problems(draft)
    if problems:
        raise EditError(_("No se puede mover la pregunta: %(p)s") % {"p": " ".join(problems)})


def delete_field(draft: dict, page_key: str, field_key: str) -> None:
    page = find_page(draft, page_key)
    find_field(draft, page_key, field_key)
    uses = references_to(draft, field_key)
    if uses:
        raise EditError(_("No se puede borrar la pregunta porque se usa en otras partes: %(u)s") % {"u": " ".join(uses)})
    page["fields"] = [f for f in page["fields"] if f.get("key") != field_key]


def add_document(draft: dict, data: Mapping[str, Any]) -> str:
    key = make_key(data.get("label", ""), _taken_keys(draft), "documento")
    draft["documents"].append({"key": key, **{k: v for k, v in data.items() if k != "key"}})
    return key


def update_document(draft: dict, key: str, data: Mapping[str, Any]) -> None:
    item = find_item(draft, "documents", key)
    item.clear()
    item.update({"key": key, **{k: v for k, v in data.items() if k != "key"}})


def move_document(draft: dict, key: str, direction: str) -> None:
    _move(draft["documents"], key, direction)


def delete_document(draft: dict, key: str) -> None:
    find_item(draft, "documents", key)
    draft["documents"] = [d for d in draft["documents"] if d.get("key") != key]


def add_step(draft: dict, data: Mapping[str, Any]) -> str:
    key = make_key(data.get("name", ""), {str(s.get("key")) for s in draft["steps"]}, "paso")
    draft["steps"].append({"key": key, **{k: v for k, v in data.items() if k != "key"}})
    return key


def update_step(draft: dict, key: str, data: Mapping[str, Any]) -> None:
    step = find_item(draft, "steps", key)
    step.clear()
    step.update({"key": key, **{k: v for k, v in data.items() if k != "key"}})


def delete_step(draft: dict, key: str) -> None:
    find_item(draft, "steps", key)
    draft["steps"] = [s for s in draft["steps"] if s.get("key") != key]
    dependants = [s for s in draft["steps"] if isinstance(s.get("after"), list) and key in s["after"]]
    if dependants:
        raise EditError(
            _("No se puede borrar el paso porque otros pasos van después de él: %(s)s.")
            % {"s": ", ".join(str(s.get("name") or s.get("key")) for s in dependants)}
        )


def set_fee_parameters(draft: dict, mapping: Mapping[str, str]) -> None:
    draft["fee"]["parameters"] = {str(k): str(v) for k, v in mapping.items() if v}


def set_template(draft: dict, data: Mapping[str, Any]) -> None:
    draft["template"] = {
        "kind": data["kind"], "title": data["title"], "fields": list(data["fields"]),
        "paragraphs": list(data["paragraphs"]),
    }


# --- Storing ------------------------------------------------------------------------------------


def edit_draft(definition: Definition, change: Callable[[dict], T], *, by) -> T:
    """Applies `change` to the current draft (normalised) and stores it, with the definition row
    locked so concurrent editors do not overwrite each other. `change` raises EditError to refuse;
    then nothing is stored."""
    with transaction.atomic():
        locked = Definition.objects.select_for_update().get(pk=definition.pk)
        draft = normalised(locked.draft_spec)
        result = change(draft)
        services.save_draft_spec(locked, draft, by=by)
    definition.draft_spec = locked.draft_spec
    return result


def starter_draft(procedure) -> dict:
    """A first draft from the catalogue entry: one document slot per requirement (a document the
    city holds is never asked for), a review step in the procedure's department, and the resulting
    document titled like the procedure."""
    detailed = catalog_selectors.procedure_with_details(procedure.pk)
    documents: list[dict] = []
    taken = set(spec_module.BUILTIN_PLACEHOLDERS)
    for requirement in detailed.requirements.all():
        doc_type = requirement.document_type
        key = make_key(doc_type.name, taken, "documento")
        taken.add(key)
        documents.append({"key": key, "label": doc_type.name, "document_type": doc_type.code, "required": True,
                          "help": requirement.detail or ""})
    return {
        "pages": [],
        "documents": documents,
        "steps": [{"key": "revision", "name": _("Revisión de la solicitud"), "department": procedure.department.slug,
                   "role": "reviewer", "after": []}],
        "fee": {"parameters": {}},
        "template": {"kind": "certificate", "title": procedure.name, "fields": [], "paragraphs": []},
    }


@transaction.atomic
def start_definition(procedure, *, by) -> Definition:
    """The procedure's online definition, created with a starter draft the first time."""
    definition = services.get_or_create_definition(procedure, by=by)
    definition = Definition.objects.select_for_update().get(pk=definition.pk)
    if not definition.draft_spec and definition.published_version_id is None:
        services.save_draft_spec(definition, starter_draft(procedure), by=by)
    return definition


@transaction.atomic
def set_accepting_requests(definition: Definition, accepting: bool, *, by, reason: str = "",
                           request=None) -> Definition:
    """Opens or closes the reception of new online requests (filed ones go on). Audited."""
    definition = Definition.objects.select_for_update().select_related("procedure").get(pk=definition.pk)
    if accepting and definition.published_version_id is None:
        raise EditError(_("Primero publica la definición para poder recibir solicitudes."))
    if definition.is_active == accepting:
        return definition
    definition.is_active = accepting
    definition.updated_by = by
    definition.save(update_fields=["is_active", "updated_by", "updated_at"])
    audit.record(
        "procedures.definition_reception_opened" if accepting else "procedures.definition_reception_closed",
        actor=by, subject=definition,
        data={"procedure": definition.procedure.clave, "reason": (reason or "").strip()[:300]}, request=request,
    )
    return definition


def import_problems(raw: Any) -> list[str]:
    """Why an imported JSON cannot become the draft: only its overall shape is checked here (the
    editor can then fix the details, which validation lists)."""
    if not isinstance(raw, Mapping):
        return [_("La definición debe ser un objeto JSON ({ … }).")]
    problems = []
    for section in ("pages", "documents", "steps"):
        value = raw.get(section, [])
        if not isinstance(value, list) or any(not isinstance(item, Mapping) for item in value):
            problems.append(_("«%(s)s» debe ser una lista de objetos.") % {"s": section})
    for page in raw.get("pages") if isinstance(raw.get("pages"), list) else []:
        if isinstance(page, Mapping):
            fields = page.get("fields", [])
            if not isinstance(fields, list) or any(not isinstance(item, Mapping) for item in fields):
                problems.append(_("Las preguntas («fields») de cada página deben ser una lista de objetos."))
                break
    fee = raw.get("fee", {})
    if not isinstance(fee, Mapping) or not isinstance(fee.get("parameters", {}), Mapping):
        problems.append(_("«fee» debe ser un objeto con «parameters»."))
    template = raw.get("template", {})
    if not isinstance(template, Mapping):
        problems.append(_("«template» debe ser un objeto."))
    else:
        for key in ("fields", "paragraphs"):
            value = template.get(key, [])
            if not isinstance(value, list) or any(not isinstance(item, str) for item in value):
                problems.append(_("«template.%(k)s» debe ser una lista de textos.") % {"k": key})
    return problems


def parse_import(text: str) -> dict:
    """The draft an advanced user pasted or uploaded; raises EditError with the reason."""
    if len(text.encode("utf-8")) > MAX_IMPORT_BYTES:
        raise EditError(_("El archivo es demasiado grande (máximo 1 MB)."))
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as exc:
        where = f" (línea {exc.lineno}, columna {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise EditError(_("El texto no es JSON válido%(where)s.") % {"where": where}) from None
    problems = import_problems(raw)
    if problems:
        raise EditError(" ".join(problems))
    return dict(raw)


def export_json(spec: Mapping) -> str:
    return json.dumps(spec, ensure_ascii=False, indent=2, sort_keys=False)


# --- State ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OnlineState:
    code: str  # "none" | "draft" | "published" | "inactive"
    label: str
    version: int | None = None
    unpublished_changes: bool = False


def online_state(definition: Definition | None) -> OnlineState:
    if definition is None:
        return OnlineState("none", _("Sin trámite en línea"))
    version = definition.published_version
    if version is None:
        return OnlineState("draft", _("Borrador sin publicar"))
    changed = definition.draft_spec != version.spec
    if not definition.is_active:
        return OnlineState("inactive", _("Versión %(n)s publicada; no recibe solicitudes") % {"n": version.number},
                           version.number, changed)
    return OnlineState("published", _("Publicado: versión %(n)s") % {"n": version.number}, version.number, changed)


def definitions_by_procedure(procedure_ids: Iterable[int]) -> dict[int, Definition]:
    return {
        d.procedure_id: d
        for d in Definition.objects.filter(procedure_id__in=list(procedure_ids)).select_related("published_version")
    }


def validation_errors(definition: Definition) -> list[str]:
    """Every problem that stops the draft from being published (Spanish), or []."""
    try:
        services.validate_definition_spec(definition, definition.draft_spec)
    except spec_module.SpecError as exc:
        return list(exc.errors)
    return []


def versions_of(definition: Definition) -> list[tuple[DefinitionVersion, int]]:
    """Published versions, newest first, with how many filed requests use each."""
    from django.db.models import Count, Q

    rows = definition.versions.select_related("published_by").annotate(
        filed=Count("requests", filter=~Q(requests__status="draft"))
    ).order_by("-number")
    return [(v, v.filed) for v in rows]


def requests_on_version(version: DefinitionVersion) -> int:
    return Request.objects.filter(version=version).exclude(status="draft").count()
