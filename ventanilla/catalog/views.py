"""Plain Django views of the catalogue: the open exports (CSV, CPSV-AP JSON-LD) and the catalogue
editor's back office. Views stay thin: every rule is in services.py / selectors.py."""

from __future__ import annotations

import csv
import io
import json

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ventanilla.identity.models import Role
from ventanilla.identity.permissions import departments_where, official_required

from . import selectors, services
from .api import procedure_detail_dict
from .forms import (
    ProcedureForm,
    RequirementFormSet,
    SynonymForm,
    WithdrawForm,
    requirement_initial,
    requirements_from,
)
from .models import Procedure, SearchSynonym

# --- Open exports ------------------------------------------------------------------------------

CSV_COLUMNS = [
    ("clave", "Clave"), ("name", "Nombre"), ("kind", "Tipo"), ("modality", "Modalidad"),
    ("department", "Dependencia responsable"), ("description", "Descripción"), ("who_may_file", "Quién puede solicitarlo"),
    ("channels", "Canales"), ("presentation", "Forma de presentación"), ("legal_basis", "Fundamento jurídico"),
    ("steps", "Pasos"), ("requirements", "Requisitos"), ("inspection", "Inspección"), ("cost_kind", "Tipo de costo"),
    ("cost", "Costo"), ("payment_alternatives", "Formas de pago"), ("response_days", "Plazo de respuesta (días hábiles)"),
    ("ficta", "Ficta"), ("prevention_days", "Plazo para prevenir (días hábiles)"),
    ("correction_days", "Plazo para cumplir la prevención (días hábiles)"), ("validity", "Vigencia"),
    ("resolution_criteria", "Criterios de resolución"), ("offices", "Oficinas"), ("contact_phone", "Teléfono"),
    ("contact_email", "Correo"), ("complaint_channels", "Quejas y denuncias"), ("requires_appointment", "Requiere cita"),
    ("life_events", "Momentos de vida"), ("published_at", "Publicado"),
]


def _export_queryset():
    return selectors.published_procedures().prefetch_related(
        "requirements__document_type", "offices", "life_events"
    ).order_by("clave")


def _csv_safe(value: str) -> str:
    """Neutralises spreadsheet formulas (CSV injection) in free text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _csv_row(p: Procedure) -> list[str]:
    d = procedure_detail_dict(p)
    cost = {"free": "Gratuito", "fixed": f"${d['cost']['amount_mxn']}", "rule": d["cost"]["description"]}[p.cost_kind]
    values = {
        **{k: d.get(k) for k, _label in CSV_COLUMNS},
        "department": p.department.name,
        "channels": ", ".join({"online": "En línea", "in_person": "Presencial", "kiosk": "Kiosco"}[c] for c in p.channels),
        "steps": " | ".join(p.steps),
        "requirements": " | ".join(
            f"{r['document']}" + (f" ({r['detail']})" if r["detail"] else "") for r in d["requirements"]
        ),
        "inspection": d["inspection_objective"] or "No",
        "cost_kind": p.cost_kind, "cost": cost,
        "payment_alternatives": ", ".join(p.payment_alternative_labels()),
        "offices": " | ".join(f"{o['name']}: {o['address']} ({o['hours']})" for o in d["offices"]),
        "requires_appointment": "Sí" if p.requires_appointment else "No",
        "life_events": ", ".join(d["life_events"]),
        "published_at": p.published_at.isoformat() if p.published_at else "",
    }
    return [_csv_safe("" if values[k] is None else str(values[k])) for k, _label in CSV_COLUMNS]


@require_GET
@cache_control(public=True, max_age=300)
def export_csv(request: HttpRequest) -> HttpResponse:
    """The published catalogue as CSV, UTF-8 with BOM so spreadsheets show accents correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([label for _k, label in CSV_COLUMNS])
    for p in _export_queryset():
        writer.writerow(_csv_row(p))
    response = HttpResponse(("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="tramites.csv"'
    return response


CPSV_CONTEXT = {
    "cpsv": "http://purl.org/vocab/cpsv#",
    "cv": "http://data.europa.eu/m8g/",
    "dct": "http://purl.org/dc/terms/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "schema": "http://schema.org/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "foaf": "http://xmlns.com/foaf/0.1/",
}


def _jsonld_service(p: Procedure, base: str) -> dict:
    d = procedure_detail_dict(p)
    uri = f"{base}/tramites/{p.clave}"
    channels = []
    for code, label in (("online", "En línea"), ("in_person", "Presencial"), ("kiosk", "Kiosco")):
        if code in p.channels:
            channels.append({"@id": f"{uri}#canal-{code}", "@type": "cv:Channel", "dct:type": label})
    cost: dict = {"@id": f"{uri}#costo", "@type": "cv:Cost", "cv:currency": "MXN"}
    if p.cost_kind == "free":
        cost.update({"cv:value": "0.00", "dct:description": "Gratuito"})
    elif p.cost_kind == "fixed":
        cost.update({"cv:value": d["cost"]["amount_mxn"], "dct:description": "Monto fijo"})
    else:
        cost.update({"dct:description": p.cost_description})
    evidences = [
        {"@id": f"{uri}#requisito-{i}", "@type": "cv:Evidence", "dct:identifier": r["document_code"],
         "dct:title": r["document"], "dct:description": r["detail"]}
        for i, r in enumerate(d["requirements"], start=1)
    ]
    service = {
        "@id": uri,
        "@type": "cpsv:PublicService",
        "dct:identifier": p.clave,
        "dct:title": {"@value": p.name, "@language": "es"},
        "dct:description": {"@value": p.description, "@language": "es"},
        "dct:type": p.get_kind_display(),
        "cv:hasCompetentAuthority": {
            "@id": f"{base}/dependencias/{p.department.slug}", "@type": "cv:PublicOrganisation",
            "skos:prefLabel": p.department.name,
        },
        "cv:hasChannel": channels,
        "cv:hasCost": [cost],
        "cv:hasInput": evidences,
        "cv:hasCriterionRequirement": [
            {"@id": f"{uri}#quien", "@type": "cv:CriterionRequirement", "dct:title": "Quién puede solicitarlo",
             "dct:description": p.who_may_file},
        ],
        "cv:hasLegalResource": {"@type": "eli:LegalResource", "dct:description": p.legal_basis},
        "cv:processingTime": f"P{p.response_days}D" if p.response_days is not None else None,
        "cv:isGroupedBy": [{"@id": f"{base}/momentos/{slug}", "@type": "cv:Event"} for slug in d["life_events"]],
        "cv:hasContactPoint": {"@type": "schema:ContactPoint", "schema:telephone": p.contact_phone,
                               "schema:email": p.contact_email},
        "cv:produces": {"@type": "cv:Output", "dct:description": f"Vigencia: {p.validity}"},
        "schema:availableAtOrFrom": [
            {"@type": "schema:Place", "schema:name": o["name"], "schema:address": o["address"],
             "schema:openingHours": o["hours"]}
            for o in d["offices"]
        ],
        "dct:keyword": list(p.keywords),
    }
    return service


@require_GET
@cache_control(public=True, max_age=300)
def export_jsonld(request: HttpRequest) -> HttpResponse:
    """The published catalogue as CPSV-AP (Core Public Service Vocabulary) JSON-LD."""
    base = settings.SITE_URL
    context = {**CPSV_CONTEXT, "eli": "http://data.europa.eu/eli/ontology#"}
    document = {
        "@context": context,
        "@graph": [_jsonld_service(p, base) for p in _export_queryset()],
    }
    body = json.dumps(document, ensure_ascii=False, indent=1, default=str)
    return HttpResponse(body.encode("utf-8"), content_type="application/ld+json; charset=utf-8")


# --- Catalogue editor back office --------------------------------------------------------------

editor_required = official_required(Role.CATALOG_EDITOR)


def _departments(request: HttpRequest) -> list:
    return departments_where(request.user, Role.CATALOG_EDITOR)


def _editable(request: HttpRequest, clave: str) -> Procedure:
    """The procedure if it belongs to one of the editor's departments; 404 otherwise (never
    reveals procedures of other departments)."""
    procedure = selectors.any_procedure_by_clave(clave)
    if procedure is None or procedure.department_id not in {d.pk for d in _departments(request)}:
        raise Http404
    return procedure


def _validation_messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "message_dict"):
        return [m for msgs in exc.message_dict.values() for m in msgs]
    return list(exc.messages)


@editor_required
@require_GET
def editor_list(request: HttpRequest) -> HttpResponse:
    departments = _departments(request)
    status = request.GET.get("estado", "")
    procedures = selectors.editor_procedures(departments)
    if status in Procedure.Status.values:
        procedures = procedures.filter(status=status)
    return render(request, "catalog/editor/list.html", {
        "procedures": procedures, "departments": departments, "status": status,
        "statuses": Procedure.Status.choices,
    })


def _form_page(request: HttpRequest, procedure: Procedure | None) -> HttpResponse:
    departments = _departments(request)
    if request.method == "POST":
        form = ProcedureForm(request.POST, instance=procedure or Procedure(), departments=departments)
        formset = RequirementFormSet(request.POST, prefix="req")
        if form.is_valid() and formset.is_valid():
            kwargs = {
                "data": form.service_data(), "requirements": requirements_from(formset),
                "offices": list(form.cleaned_data["offices"]), "life_events": list(form.cleaned_data["life_events"]),
            }
            try:
                if procedure is None:
                    procedure = services.create_procedure(by=request.user, **kwargs)
                    messages.success(request, _("Se guardó el borrador."))
                else:
                    services.update_procedure(procedure, by=request.user, **kwargs)
                    messages.success(request, _("Se guardaron los cambios."))
                return redirect("catalog:editor_detail", clave=procedure.clave)
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for field, errors in exc.message_dict.items():
                        target = field if field in form.fields else None
                        for message in errors:
                            form.add_error(target, message)
                else:
                    for message in exc.messages:
                        form.add_error(None, message)
    else:
        form = ProcedureForm(instance=procedure, departments=departments)
        formset = RequirementFormSet(prefix="req", initial=requirement_initial(procedure) if procedure else None)
    status = 400 if request.method == "POST" else 200
    return render(request, "catalog/editor/form.html", {
        "form": form, "formset": formset, "procedure": procedure,
    }, status=status)


@editor_required
@require_http_methods(["GET", "POST"])
def editor_create(request: HttpRequest) -> HttpResponse:
    return _form_page(request, None)


@editor_required
@require_http_methods(["GET", "POST"])
def editor_edit(request: HttpRequest, clave: str) -> HttpResponse:
    procedure = _editable(request, clave)
    if procedure.status == Procedure.Status.WITHDRAWN:
        messages.info(request, _("Este trámite está retirado: los cambios no se publican hasta que lo vuelvas a publicar."))
    return _form_page(request, procedure)


@editor_required
@require_GET
def editor_detail(request: HttpRequest, clave: str) -> HttpResponse:
    """Preview of the procedure as residents will see it, with what is still missing."""
    procedure = _editable(request, clave)
    procedure = selectors.procedure_with_details(procedure.pk)
    return render(request, "catalog/editor/detail.html", {
        "procedure": procedure, "missing": services.missing_required_fields(procedure),
        "withdraw_form": WithdrawForm(),
    })


@editor_required
@require_POST
def editor_publish(request: HttpRequest, clave: str) -> HttpResponse:
    procedure = _editable(request, clave)
    try:
        services.publish(procedure, request.user, request=request)
    except services.ProcedureIncomplete as exc:
        procedure = selectors.procedure_with_details(procedure.pk)
        return render(request, "catalog/editor/detail.html", {
            "procedure": procedure, "missing": exc.missing, "publish_refused": True,
            "withdraw_form": WithdrawForm(),
        }, status=400)
    messages.success(request, _("El trámite ya está publicado."))
    return redirect("catalog:editor_detail", clave=procedure.clave)


@editor_required
@require_http_methods(["GET", "POST"])
def editor_withdraw(request: HttpRequest, clave: str) -> HttpResponse:
    procedure = _editable(request, clave)
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.withdraw(procedure, request.user, form.cleaned_data["reason"], request=request)
        except ValidationError as exc:
            for message in _validation_messages(exc):
                form.add_error(None, message)
        else:
            messages.success(request, _("El trámite se retiró del catálogo público."))
            return redirect("catalog:editor_detail", clave=procedure.clave)
    return render(request, "catalog/editor/withdraw.html", {"procedure": procedure, "form": form},
                  status=400 if request.method == "POST" else 200)


@editor_required
@require_GET
def editor_versions(request: HttpRequest, clave: str) -> HttpResponse:
    procedure = _editable(request, clave)
    versions = list(selectors.procedure_versions(procedure))
    rows = []
    for newer, older in zip(versions, versions[1:] + [None]):
        rows.append({
            "version": newer,
            "changes": services.diff_snapshots(older.snapshot, newer.snapshot) if older else [],
        })
    return render(request, "catalog/editor/versions.html", {"procedure": procedure, "rows": rows})


@editor_required
@require_POST
def editor_restore(request: HttpRequest, clave: str, number: int) -> HttpResponse:
    procedure = _editable(request, clave)
    try:
        services.restore_version(procedure, number, request.user, request=request)
    except ValidationError as exc:
        for message in _validation_messages(exc):
            messages.error(request, message)
        return redirect("catalog:editor_versions", clave=procedure.clave)
    messages.success(request, _("Se restauró la versión %(n)s.") % {"n": number})
    return redirect("catalog:editor_detail", clave=procedure.clave)


@editor_required
@require_http_methods(["GET", "POST"])
def editor_synonyms(request: HttpRequest) -> HttpResponse:
    form = SynonymForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                with transaction.atomic():
                    services.save_synonym(form.cleaned_data["term"], form.cleaned_data["expansion"], by=request.user)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for message in errors:
                        form.add_error(field if field in form.fields else None, message)
            else:
                messages.success(request, _("Se agregó el sinónimo."))
                return redirect("catalog:editor_synonyms")
        status = 400
    return render(request, "catalog/editor/synonyms.html", {"form": form, "synonyms": selectors.synonyms()},
                  status=status)


@editor_required
@require_POST
def editor_synonym_delete(request: HttpRequest, pk: int) -> HttpResponse:
    synonym = get_object_or_404(SearchSynonym, pk=pk)
    services.delete_synonym(synonym, by=request.user)
    messages.success(request, _("Se borró el sinónimo «%(term)s».") % {"term": synonym.term})
    return redirect(reverse("catalog:editor_synonyms"))
