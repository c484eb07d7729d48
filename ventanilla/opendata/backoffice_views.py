"""The publishers' back office (/oficina/datos/): their departments' datasets with freshness,
dataset metadata, resources (upload or link), new versions with the validation report, the data
dictionary and API tokens. Every change goes through services.py / dictionary.py; a publisher
never reaches another department's datasets (404)."""

from __future__ import annotations

from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ventanilla.identity.models import Role
from ventanilla.identity.permissions import official_required

from . import selectors, services
from .dictionary import update_data_field
from .forms import DataFieldForm, DatasetForm, ResourceForm, TokenForm, VersionForm
from .models import ApiToken, DataField, Dataset, Resource
from .services import NotAuthorized, OpendataError
from .views import is_overdue

publisher_required = official_required(Role.DATA_PUBLISHER)


def _departments(request: HttpRequest) -> list:
    return services.publishing_departments(request.user)


def _dataset(request: HttpRequest, name: str) -> Dataset:
    departments = _departments(request)
    dataset = (selectors.visible_datasets(request.user).filter(name=name, organization__in=departments)
               .exclude(state=Dataset.State.DELETED).first())
    if dataset is None:
        raise Http404
    return dataset


def _resource(request: HttpRequest, name: str, resource_id) -> tuple[Dataset, Resource]:
    dataset = _dataset(request, name)
    resource = dataset.resources.select_related("current_version").filter(pk=resource_id).first()
    if resource is None:
        raise Http404
    return dataset, resource


def _add_error(form: django_forms.Form, exc: OpendataError, aliases: dict[str, str] | None = None) -> None:
    if isinstance(exc, NotAuthorized):
        raise PermissionDenied(exc.message)
    target = (aliases or {}).get(exc.field or "", exc.field)
    form.add_error(target if target in form.fields else None, exc.message)


# --- Datasets ----------------------------------------------------------------------------------

@publisher_required
@require_http_methods(["GET"])
def dataset_list(request: HttpRequest) -> HttpResponse:
    departments = _departments(request)
    now = timezone.now()
    datasets = (selectors.visible_datasets(request.user).filter(organization__in=departments)
                .exclude(state=Dataset.State.DELETED).order_by("organization__name", "title"))
    rows = [{"dataset": d, "overdue": is_overdue(d, now)} for d in datasets]
    return render(request, "opendata/oficina/list.html", {
        "rows": rows, "departments": departments, "overdue_count": sum(r["overdue"] for r in rows),
    })


def _dataset_form_page(request: HttpRequest, dataset: Dataset | None) -> HttpResponse:
    departments = _departments(request)
    themes = list(selectors.themes())
    if request.method == "POST":
        form = DatasetForm(request.POST, departments=departments, themes=themes)
        if form.is_valid():
            try:
                if dataset is None:
                    dataset = services.create_dataset(by=request.user, data=form.service_data(), request=request)
                    messages.success(request, _("Se creó el conjunto de datos. Ahora agrega sus archivos."))
                else:
                    dataset = services.update_dataset(dataset, by=request.user, data=form.service_data(),
                                                       request=request)
                    messages.success(request, _("Se guardaron los cambios."))
                return redirect("opendata-bo-dataset", name=dataset.name)
            except OpendataError as exc:
                _add_error(form, exc, {"groups": "groups", "owner_org": "owner_org"})
        status = 400
    else:
        initial = DatasetForm.initial_for(dataset) if dataset else {
            "owner_org": departments[0].slug if len(departments) == 1 else "", "license_id": "libre-uso-mx",
            "update_frequency": "irregular", "state": Dataset.State.ACTIVE,
        }
        form = DatasetForm(initial=initial, departments=departments, themes=themes)
        status = 200
    return render(request, "opendata/oficina/dataset_form.html", {"form": form, "dataset": dataset}, status=status)


@publisher_required
@require_http_methods(["GET", "POST"])
def dataset_create(request: HttpRequest) -> HttpResponse:
    if not _departments(request):
        raise PermissionDenied
    return _dataset_form_page(request, None)


@publisher_required
@require_http_methods(["GET", "POST"])
def dataset_edit(request: HttpRequest, name: str) -> HttpResponse:
    return _dataset_form_page(request, _dataset(request, name))


@publisher_required
@require_http_methods(["GET"])
def dataset_detail(request: HttpRequest, name: str) -> HttpResponse:
    dataset = _dataset(request, name)
    resources = dataset.resources.select_related("current_version").order_by("position", "created")
    return render(request, "opendata/oficina/dataset.html", {
        "dataset": dataset, "resources": resources, "overdue": is_overdue(dataset, timezone.now()),
    })


# --- Resources, versions, dictionary -------------------------------------------------------------

@publisher_required
@require_http_methods(["GET", "POST"])
def resource_create(request: HttpRequest, name: str) -> HttpResponse:
    dataset = _dataset(request, name)
    form = ResourceForm(request.POST, request.FILES) if request.method == "POST" else ResourceForm()
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data.get("upload")
            data = {k: form.cleaned_data[k] for k in ("name", "description", "url", "format")}
            try:
                resource = services.create_resource(dataset, by=request.user, data=data, upload=upload,
                                                    filename=upload.name if upload else "", request=request)
            except OpendataError as exc:
                _add_error(form, exc, {"file": "upload"})
            else:
                messages.success(request, _("Se agregó el recurso «%s».") % resource.name)
                return redirect("opendata-bo-resource", name=dataset.name, resource_id=resource.pk)
        return render(request, "opendata/oficina/resource_form.html", {"form": form, "dataset": dataset}, status=400)
    return render(request, "opendata/oficina/resource_form.html", {"form": form, "dataset": dataset})


def _resource_page(request: HttpRequest, dataset: Dataset, resource: Resource, *, version_form=None,
                   status: int = 200) -> HttpResponse:
    version = resource.current_version
    fields = list(version.fields.all()) if version else []
    return render(request, "opendata/oficina/resource.html", {
        "dataset": dataset, "resource": resource, "version": version, "fields": fields,
        "versions": resource.versions.order_by("-number"),
        "version_form": version_form or VersionForm(),
    }, status=status)


@publisher_required
@require_http_methods(["GET"])
def resource_detail(request: HttpRequest, name: str, resource_id) -> HttpResponse:
    dataset, resource = _resource(request, name, resource_id)
    return _resource_page(request, dataset, resource)


@publisher_required
@require_POST
def version_create(request: HttpRequest, name: str, resource_id) -> HttpResponse:
    dataset, resource = _resource(request, name, resource_id)
    form = VersionForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["upload"]
        try:
            version = services.add_version(resource, upload=upload, filename=upload.name, by=request.user,
                                           request=request)
        except OpendataError as exc:
            _add_error(form, exc, {"file": "upload"})
        else:
            messages.success(request, _("Se cargó la versión %(n)d con %(rows)d registros.")
                             % {"n": version.number, "rows": version.row_count})
            return redirect("opendata-bo-resource", name=dataset.name, resource_id=resource.pk)
    return _resource_page(request, dataset, resource, version_form=form, status=400)


@publisher_required
@require_http_methods(["GET", "POST"])
def field_edit(request: HttpRequest, name: str, resource_id, field_id: int) -> HttpResponse:
    dataset, resource = _resource(request, name, resource_id)
    field = DataField.objects.filter(pk=field_id, version_id=resource.current_version_id).first()
    if field is None:
        raise Http404
    if request.method == "POST":
        form = DataFieldForm(request.POST)
        if form.is_valid():
            try:
                update_data_field(field, by=request.user, data=form.cleaned_data, request=request)
            except OpendataError as exc:
                _add_error(form, exc)
            else:
                messages.success(request, _("Se guardó la descripción de la columna «%s».") % field.name)
                return redirect("opendata-bo-resource", name=dataset.name, resource_id=resource.pk)
        status = 400
    else:
        form = DataFieldForm(initial={"label": field.label, "description": field.description, "type": field.type,
                                      "unit": field.unit})
        status = 200
    return render(request, "opendata/oficina/field_form.html", {
        "form": form, "dataset": dataset, "resource": resource, "field": field,
    }, status=status)


# --- API tokens --------------------------------------------------------------------------------

@publisher_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST) if request.method == "POST" else TokenForm()
    secret = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                _token, secret = services.create_token(request.user, form.cleaned_data["name"])
            except OpendataError as exc:
                _add_error(form, exc)
                status = 400
            else:
                form = TokenForm()
        else:
            status = 400
    rows = ApiToken.objects.filter(user=request.user).order_by("-created")
    response = render(request, "opendata/oficina/tokens.html", {
        "form": form, "secret": secret, "tokens": rows, "now": timezone.now(),
    }, status=status)
    if secret:
        response["Cache-Control"] = "no-store"
    return response


@publisher_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = ApiToken.objects.filter(pk=pk, user=request.user, revoked__isnull=True).first()
    if token is None:
        raise Http404
    services.revoke_token(token, by=request.user)
    messages.success(request, _("Se retiró el token «%s». Ya no sirve para publicar.") % token.name)
    return redirect("opendata-bo-tokens")
