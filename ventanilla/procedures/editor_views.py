"""The catalogue editor's back office for online procedures: define, preview, validate and publish
how a catalogue procedure is filed online, without code. Views are thin: every change of the
draft is a function of `editor_services`, publishing is `services.publish_definition`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ventanilla.catalog import selectors as catalog_selectors
from ventanilla.identity.models import Role
from ventanilla.identity.permissions import departments_where, official_required
from ventanilla.organization import selectors as org_selectors

from . import editor_services as editor
from . import services
from . import spec as spec_module
from .editor_forms import (
    DocumentForm,
    FeeForm,
    FieldForm,
    ImportForm,
    PageForm,
    PublishForm,
    ReceptionForm,
    StepForm,
    TemplateForm,
)
from .models import Definition

editor_required = official_required(Role.CATALOG_EDITOR)


# --- Access ---------------------------------------------------------------------------------------


def _departments(request: HttpRequest) -> list:
    return departments_where(request.user, Role.CATALOG_EDITOR)


def _procedure(request: HttpRequest, clave: str):
    """The catalogue procedure if it belongs to one of the editor's departments; 404 otherwise
    (procedures of other departments are never revealed)."""
    procedure = catalog_selectors.any_procedure_by_clave(clave)
    if procedure is None or procedure.department_id not in {d.pk for d in _departments(request)}:
        raise Http404
    return procedure


def _definition(request: HttpRequest, clave: str) -> tuple[Any, Definition]:
    procedure = _procedure(request, clave)
    definition = Definition.objects.select_related("published_version", "procedure").filter(procedure=procedure).first()
    if definition is None:
        raise Http404
    return procedure, definition


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    return render(request, f"procedures/editor/{template}", context, status=status)


def _apply(request: HttpRequest, definition: Definition, change: Callable[[dict], Any], success: str) -> bool:
    """Applies one change to the draft; reports success or the Spanish reason as a message."""
    try:
        editor.edit_draft(definition, change, by=request.user)
    except editor.EditError as exc:
        messages.error(request, exc.message)
        return False
    messages.success(request, success)
    return True


def _base_context(procedure, definition: Definition | None, draft: dict | None = None) -> dict:
    return {"procedure": procedure, "definition": definition,
            "draft": draft if draft is not None else editor.normalised(definition.draft_spec if definition else {})}


# --- List and overview ----------------------------------------------------------------------------


@editor_required
@require_GET
def editor_list(request: HttpRequest) -> HttpResponse:
    departments = _departments(request)
    procedures = list(catalog_selectors.editor_procedures(departments))
    definitions = editor.definitions_by_procedure(p.pk for p in procedures)
    rows = [{"procedure": p, "state": editor.online_state(definitions.get(p.pk))} for p in procedures]
    return _page(request, "list.html", {"rows": rows, "departments": departments})


@editor_required
@require_GET
def editor_definition(request: HttpRequest, clave: str) -> HttpResponse:
    procedure = _procedure(request, clave)
    definition = Definition.objects.select_related("published_version").filter(procedure=procedure).first()
    context = _base_context(procedure, definition)
    context["state"] = editor.online_state(definition)
    if definition is not None:
        draft = context["draft"]
        context.update({
            "errors": editor.validation_errors(definition),
            "field_count": len(editor.all_fields(draft)),
            "publish_form": PublishForm(),
            "reception_form": ReceptionForm(),
            "versions": editor.versions_of(definition)[:3],
        })
    return _page(request, "definition.html", context)


@editor_required
@require_POST
def editor_start(request: HttpRequest, clave: str) -> HttpResponse:
    procedure = _procedure(request, clave)
    editor.start_definition(procedure, by=request.user)
    messages.success(request, _("Se creó el borrador con los documentos del catálogo. Agrega las páginas del formulario."))
    return redirect("procedures:editor_definition", clave=procedure.clave)


# --- Pages ------------------------------------------------------------------------------------------


@editor_required
@require_http_methods(["GET", "POST"])
def editor_pages(request: HttpRequest, clave: str) -> HttpResponse:
    procedure, definition = _definition(request, clave)
    form = PageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created: dict[str, str] = {}

        def change(draft: dict) -> None:
            created["key"] = editor.add_page(draft, form.cleaned_data["title"])

        if _apply(request, definition, change, _("Se agregó la página. Ahora agrega sus preguntas.")):
            return redirect("procedures:editor_page", clave=clave, page=created["key"])
        return redirect("procedures:editor_pages", clave=clave)
    return _page(request, "pages.html", {**_base_context(procedure, definition), "form": form},
                 status=400 if request.method == "POST" else 200)


@editor_required
@require_http_methods(["GET", "POST"])
def editor_page(request: HttpRequest, clave: str, page: str) -> HttpResponse:
    procedure, definition = _definition(request, clave)
    draft = editor.normalised(definition.draft_spec)
    try:
        current = editor.find_page(draft, page)
    except editor.EditError as exc:
        messages.error(request, exc.message)
        return redirect("procedures:editor_pages", clave=clave)
    form = PageForm(request.POST or None, initial={"title": current.get("title", "")})
    if request.method == "POST" and form.is_valid():
        _apply(request, definition, lambda d: editor.rename_page(d, page, form.cleaned_data["title"]),
               _("Se cambió el título de la página."))
        return redirect("procedures:editor_page", clave=clave, page=page)
    return _page(request, "page.html", {
        **_base_context(procedure, definition, draft), "page": current, "form": form,
        **_preview_context(draft, only=page),
    }, status=400 if request.method == "POST" else 200)


def _direction(request: HttpRequest) -> str:
    return "up" if request.POST.get("direction") == "up" else "down"


@editor_required
@require_POST
def editor_page_move(request: HttpRequest, clave: str, page: str) -> HttpResponse:
    _procedure_obj, definition = _definition(request, clave)
    _apply(request, definition, lambda d: editor.move_page(d, page, _direction(request)), _("Se movió la página."))
    return redirect(reverse("procedures:editor_pages", args=[clave]) + f"#pagina-{page}")


@editor_required
@require_http_methods(["GET", "POST"])
def editor_page_delete(request: HttpRequest, clave: str, page: str) -> HttpResponse:
    procedure, definition = _definition(request, clave)
    draft = editor.normalised(definition.draft_spec)
    try:
        current = editor.find_page(draft, page)
    except editor.EditError as exc:
        messages.error(request, exc.message)
        return redirect("procedures:editor_pages", clave=clave)
    if request.method == "POST":
        if _apply(request, definition, lambda d: editor.delete_page(d, page), _("Se borró la página.")):
            return redirect("procedures:editor_pages", clave=clave)
        return redirect("procedures:editor_page", clave=clave, page=page)
    return _page(request, "confirm_delete.html", {
        **_base_context(procedure, definition, draft),
        "what": _("la página «%(t)s» y sus %(n)s preguntas") % {"t": current.get("title"), "n": len(current["fields"])},
        "uses": editor.page_uses(draft, page),
        "cancel": reverse("procedures:editor_page", args=[clave, page]),
    })


# --- Questions --------------------------------------------------------------------------------------


def _field_page(request: HttpRequest, clave: str, page: str, field: str | None) -> HttpResponse:
    procedure, definition = _definition(request, clave)
    draft = editor.normalised(definition.draft_spec)
    try:
        current_page = editor.find_page(draft, page)
        current = editor.find_field(draft, page, field) if field else None
    except editor.EditError as exc:
        messages.error(request, exc.message)
        return redirect("procedures:editor_pages", clave=clave)
    earlier = editor.fields_before(draft, page, field)
    if request.method == "POST":
        form = FieldForm(request.POST, earlier=earlier)
        if form.is_valid():
            data = form.to_spec()
            if field is None:
                if _apply(request, definition, lambda d: editor.add_field(d, page, data), _("Se agregó la pregunta.")):
                    return redirect(reverse("procedures:editor_page", args=[clave, page]) + "#preguntas")
            elif _apply(request, definition, lambda d: editor.update_field(d, page, field, data),
                        _("Se guardó la pregunta.")):
                return redirect(reverse("procedures:editor_page", args=[clave, page]) + "#preguntas")
    else:
        form = FieldForm(initial=FieldForm.initial_from(current) if current else {"required": True, "type": "text"},
                         earlier=earlier)
    return _page(request, "field.html", {
        **_base_context(procedure, definition, draft), "page": current_page, "field": current, "form": form,
        "uses": editor.references_to(draft, field) if field else [],
    }, status=400 if request.method == "POST" else 200)


@editor_required
@require_http_methods(["GET", "POST"])
def editor_field_add(request: HttpRequest, clave: str, page: str) -> HttpResponse:
    return _field_page(request, clave, page, None)


@editor_required
@require_http_methods(["GET", "POST"])
def editor_field(request: HttpRequest, clave: str, page: str, field: str) -> HttpResponse:
    return _field_page(request, clave, page, field)


@editor_required
@require_POST
def editor_field_move(request: HttpRequest, clave: str, page: str, field: str) -> HttpResponse:
    _procedure_obj, definition = _definition(request, clave)
    _apply(request, definition, lambda d: editor.move_field(d, page, field, _direction(request)),
           _("Se movió la pregunta."))
    return redirect(reverse("procedures:editor_page", args=[clave, page]) + f"#pregunta-{field}")


@editor_required
@require_http_methods(["GET", "POST"])
def editor_field_delete(request: HttpRequest, clave: str, page: str, field: str) -> HttpResponse:
    procedure, definition = _definition(request, clave)
    draft = editor.normalised(definition.draft_spec)
    try:
        current = editor.find_field(draft, page, field)
    except editor.EditError as exc:
        messages.error(request, exc.message)
        return redirect("procedures:editor_pages", clave=clave)
    if request.method == "POST":
        _apply(request, definition, lambda d: editor.delete_field(d, page, field), _("Se borró la pregunta."))
        return redirect(reverse("procedures:editor_page", args=[clave, page]) + "#preguntas")
    return _page(request, "confirm_delete.html", {
        **_base_context(procedure, definition, draft),
        "what": _("la pregunta «%(q)s»") % {"q": current.get("label") or field},
        "uses": editor.references_to(draft, field),
        "cancel": reverse("procedures:editor_field", args=[clave, page, field]),
    })


# --- Documents ---------------------------------------------------------------------------------------


def _document_types() -> list[tuple[str, str]]:
    return [(t.code, f"{t.name} ({t.code})") for t in catalog_selectors.document_types()]


@editor_required
@require_http_methods(["GET", "POST"])
def editor_documents(request: HttpRequest, clave: str) -> HttpResponse:
    procedure, definition = _definition(request, clave)
    form = DocumentForm(request.POST or None, document_types=_document_types(), initial={"required": True})
    if request.method == "POST" and form.is_valid():
        data = form.to_spec()
        if _apply(request, definition, lambda d: editor.add_document(d, data), _("Se agregó el documento.")):
            return redirect("procedures:editor_documents", clave=clave)
    held = set(catalog_selectors.document_types_held_by_city())
    return _page(request, "documents.html", {**_base_context(procedure, definition), "form": form, "held": held},
                 status=400 if request.method == "POST" else 200)


@editor_required
@require_http_methods(["GET", "POST"])
def editor_document(request: HttpRequest, clave: str, key: str) -> HttpResponse:
    procedure, definition = _definition(request, clave)
    draft = editor.normalised(definition.draft_spec)
    try:
        current = editor.find_item(draft, "documents", key)
    except editor.EditError as exc:
        messages.error(request, exc.message)
        return redirect("procedures:editor_documents", clave=clave)
    initial = {"label": current.get("label", ""), "document_type": current.get("document_type", ""),
               "required": bool(current.get("required", True)), "help": current.get("help", "")}
    form = DocumentForm(request.POST or None, document_types=_document_types(), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.to_spec()
        if _apply(request, definition, lambda d: editor.update_document(d, key, data), _("Se guardó el documento.")):
            return redirect("procedures:editor_documents", clave=clave)
    return _page(request, "document.html", {**_base_context(procedure, definition, draft), "item": current, "form": form},
                 status=400 if request.method == "POST" else 200)


@editor_required
@require_POST
def editor_document_move(request: HttpRequest, clave: str, key: str) -> HttpResponse:
    _procedure_obj, definition = _definition(request, clave)
    _apply(request, definition, lambda d: editor.move_document(d, key, _direction(request)), _("Se movió el documento."))
    return redirect("procedures:editor_documents", clave=clave)


@editor_required
@require_POST
def editor_document_delete(request: HttpRequest, clave: str, key: str) -> HttpResponse:
    _procedure_obj, definition = _definition(request, clave)
    _apply(request, definition, lambda d: editor.delete_document(d, key), _("Se quitó el documento."))
    return redirect("procedures:editor_documents", clave=clave)


# --- Review steps ------------------------------------------------------------------------------------


def _department_choices() -> list[tuple[str, str]]:
    return [(d.slug, d.name) for d in org_selectors.all_departments()]


@editor_required
@require_http_methods(["GET", "POST"])
def editor_steps(request: HttpRequest, clave: str) -> HttpResponse:
    procedure, definition = _definition(request, clave)
    draft = editor.normalised(definition.draft_spec)
    form = StepForm(request.POST or None, departments=_department_choices(), earlier=draft["steps"],
                    initial={"department": procedure.department.slug, "role": "reviewer"})
    if request.method == "POST" and form.is_valid():
        data = form.to_spec()
        if _apply(request, definition, lambda d: editor.add_step(d, data), _("Se agregó el paso de revisión.")):
            return redirect("procedures:editor_steps", clave=clave)
    departments = dict(_department_choices())
    names = {s.get("key"): s.get("name") or s.get("key") for s in draft["steps"]}
    rows = [{**s, "department_name": departments.get(s.get("department"), s.get("department")),
             "after_names": [names.get(a, a) for a in (s.get("after") if isinstance(s.get("after"), list) else []) if isinstance(a, str)]}
            for s in draft["steps"]]
    return _page(request, "steps.html", {**_base_context(procedure, definition, draft), "form": form,
                                         "step_rows": rows},
                 status=400 if request.method == "POST" else 200)


@editor_required
@require_http_methods(["GET", "POST"])
def editor_step(request: HttpRequest, clave: str, key: str) -> HttpResponse:
    procedure, definition = _definition(request, clave)
    draft = editor.normalised(definition.draft_spec)
    try:
        current = editor.find_item(draft, "steps", key)
    except editor.EditError as exc:
        messages.error(request, exc.message)
        return redirect("procedures:editor_steps", clave=clave)
    after = current.get("after") if isinstance(current.get("after"), list) else []
    initial = {"name": current.get("name", ""), "department": current.get("department", ""),
               "role": current.get("role", "reviewer"), "after": after}
    form = StepForm(request.POST or None, departments=_department_choices(), earlier=editor.steps_before(draft, key),
                    initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.to_spec()
        if _apply(request, definition, lambda d: editor.update_step(d, key, data), _("Se guardó el paso de revisión.")):
            return redirect("procedures:editor_steps", clave=clave)
    return _page(request, "step.html", {**_base_context(procedure, definition, draft), "item": current, "form": form},
                 status=400 if request.method == "POST" else 200)


@editor_required
@require_POST
def editor_step_delete(request: HttpRequest, clave: str, key: str) -> HttpResponse:
    _procedure_obj, definition = _definition(request, clave)
    _apply(request, definition, lambda d: editor.delete_step(d, key), _("Se borró el paso de revisión."))
    return redirect("procedures:editor_steps", clave=clave)


# --- Fee and resulting document -----------------------------------------------------------------------


@editor_required
@require_http_methods(["GET", "POST"])
def editor_fee(request: HttpRequest, clave: str) -> HttpResponse:
    procedure, definition = _definition(request, clave)
    draft = editor.normalised(definition.draft_spec)
    is_rule = procedure.cost_kind == procedure.CostKind.RULE
    parameters = [p for p in procedure.cost_parameters or [] if isinstance(p, dict)] if is_rule else []
    numeric = [f for _p, f in editor.all_fields(draft)
               if f.get("type") in ("number", "money") and f.get("required", True) and not f.get("show_if")]
    form = FeeForm(request.POST or None, parameters=parameters, numeric_fields=numeric,
                   initial={f"param_{k}": v for k, v in draft["fee"]["parameters"].items()})
    if request.method == "POST" and is_rule and form.is_valid():
        mapping = form.mapping()
        if _apply(request, definition, lambda d: editor.set_fee_parameters(d, mapping), _("Se guardó el cálculo del costo.")):
            return redirect("procedures:editor_definition", clave=clave)
    return _page(request, "fee.html", {**_base_context(procedure, definition, draft), "form": form, "is_rule": is_rule,
                                       "parameters": parameters},
                 status=400 if request.method == "POST" else 200)


@editor_required
@require_http_methods(["GET", "POST"])
def editor_template(request: HttpRequest, clave: str) -> HttpResponse:
    procedure, definition = _definition(request, clave)
    draft = editor.normalised(definition.draft_spec)
    template = draft["template"]
    available = editor.placeholders(draft)
    initial = {"kind": template.get("kind") or "certificate", "title": template.get("title") or procedure.name,
               "shown": template["fields"], "paragraphs": TemplateForm.paragraphs_text(template["paragraphs"])}
    form = TemplateForm(request.POST or None, initial=initial, all_fields=[f for _p, f in editor.all_fields(draft)],
                        allowed_placeholders=[name for name, _label in available])
    if request.method == "POST" and form.is_valid():
        data = form.to_spec()
        if _apply(request, definition, lambda d: editor.set_template(d, data), _("Se guardó el documento que se entrega.")):
            return redirect("procedures:editor_definition", clave=clave)
    return _page(request, "template.html", {**_base_context(procedure, definition, draft), "form": form,
                                            "placeholders": available},
                 status=400 if request.method == "POST" else 200)


# --- Preview, publication, reception, versions, JSON -----------------------------------------------------


def _preview_pages(draft: dict, only: str | None = None) -> list[dict]:
    """Pages as a resident sees them, each field with what it needs to render read-only."""
    labels = {f.get("key"): f.get("label") for _p, f in editor.all_fields(draft)}
    pages = []
    for page in draft["pages"]:
        if only is not None and page.get("key") != only:
            continue
        fields = []
        for f in page["fields"]:
            show_if = f.get("show_if") if isinstance(f.get("show_if"), dict) else None
            condition = ""
            if show_if:
                target = labels.get(show_if.get("field"), show_if.get("field"))
                if show_if.get("filled"):
                    condition = _("Se muestra si se respondió «%(q)s».") % {"q": target}
                elif "in" in show_if:
                    condition = _("Se muestra si «%(q)s» es una de: %(v)s.") % {
                        "q": target, "v": ", ".join(str(v) for v in show_if.get("in") or [])}
                else:
                    condition = _("Se muestra si «%(q)s» es «%(v)s».") % {"q": target, "v": show_if.get("equals")}
            fields.append({**f, "condition": condition,
                           "choices": [c for c in f.get("choices") or [] if isinstance(c, dict)]
                           if isinstance(f.get("choices"), list) else []})
        pages.append({**page, "fields": fields})
    return pages


def _preview_context(draft: dict, only: str | None = None) -> dict:
    return {"preview_pages": _preview_pages(draft, only=only), "address_parts": spec_module.ADDRESS_PARTS,
            "road_types": spec_module.ROAD_TYPES, "settlement_types": spec_module.SETTLEMENT_TYPES}


@editor_required
@require_GET
def editor_preview(request: HttpRequest, clave: str) -> HttpResponse:
    procedure, definition = _definition(request, clave)
    draft = editor.normalised(definition.draft_spec)
    return _page(request, "preview.html", {
        **_base_context(procedure, definition, draft), **_preview_context(draft),
    })


@editor_required
@require_POST
def editor_publish(request: HttpRequest, clave: str) -> HttpResponse:
    _procedure_obj, definition = _definition(request, clave)
    form = PublishForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    if not editor.online_state(definition).unpublished_changes and definition.published_version_id is not None:
        messages.info(request, _("No hay cambios que publicar: el borrador es igual a la versión publicada."))
        return redirect("procedures:editor_definition", clave=clave)
    try:
        version = services.publish_definition(definition, by=request.user, note=note)
    except services.ProcedureError as exc:
        messages.error(request, exc.message)
        return redirect("procedures:editor_definition", clave=clave)
    messages.success(request, _(
        "Se publicó la versión %(n)s. Las solicitudes nuevas la usan; las ya presentadas conservan la suya."
    ) % {"n": version.number})
    return redirect("procedures:editor_definition", clave=clave)


@editor_required
@require_POST
def editor_reception(request: HttpRequest, clave: str) -> HttpResponse:
    _procedure_obj, definition = _definition(request, clave)
    accepting = request.POST.get("accepting") == "1"
    form = ReceptionForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        editor.set_accepting_requests(definition, accepting, by=request.user, reason=reason, request=request)
    except editor.EditError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("El trámite vuelve a recibir solicitudes en línea.") if accepting else _(
            "El trámite ya no recibe solicitudes nuevas. Las presentadas siguen su curso."))
    return redirect("procedures:editor_definition", clave=clave)


@editor_required
@require_GET
def editor_versions(request: HttpRequest, clave: str) -> HttpResponse:
    procedure, definition = _definition(request, clave)
    return _page(request, "versions.html", {**_base_context(procedure, definition), "versions": editor.versions_of(definition)})


@editor_required
@require_GET
def editor_version(request: HttpRequest, clave: str, number: int) -> HttpResponse:
    procedure, definition = _definition(request, clave)
    version = definition.versions.select_related("published_by").filter(number=number).first()
    if version is None:
        raise Http404
    if request.GET.get("formato") == "json":
        return _json_download(editor.export_json(version.spec), f"{procedure.clave}-v{version.number}.json")
    return _page(request, "version.html", {
        **_base_context(procedure, definition), "version": version, "spec": editor.normalised(version.spec),
        "spec_json": editor.export_json(version.spec), "filed": editor.requests_on_version(version),
    })


def _json_download(body: str, filename: str) -> HttpResponse:
    response = HttpResponse(body.encode("utf-8"), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@editor_required
@require_http_methods(["GET", "POST"])
def editor_json(request: HttpRequest, clave: str) -> HttpResponse:
    procedure, definition = _definition(request, clave)
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                raw = editor.parse_import(form.cleaned_data["text"])
            except editor.EditError as exc:
                form.add_error(None, exc.message)
            else:
                def replace(draft: dict) -> None:
                    draft.clear()
                    draft.update(editor.normalised(raw))

                _apply(request, definition, replace, _("Se importó la definición como borrador. Revisa los problemas antes de publicar."))
                return redirect("procedures:editor_definition", clave=clave)
    else:
        form = ImportForm(initial={"spec_json": editor.export_json(definition.draft_spec)})
    return _page(request, "json.html", {**_base_context(procedure, definition), "form": form},
                 status=400 if request.method == "POST" else 200)


@editor_required
@require_GET
def editor_json_download(request: HttpRequest, clave: str) -> HttpResponse:
    procedure, definition = _definition(request, clave)
    return _json_download(editor.export_json(definition.draft_spec), f"{procedure.clave}-borrador.json")
