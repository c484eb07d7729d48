"""URLs of the CKAN Action API and of resource downloads (included from ventanilla/urls.py)."""

from django.urls import path

from . import ckan_api, ckan_openapi, download_views

urlpatterns = [
    path("api/3", ckan_api.api_root, name="ckan-root"),
    path("api/3/openapi.json", ckan_openapi.openapi_view, name="ckan-openapi"),
    path("api/3/action/help_show/<str:name>", ckan_api.help_view, name="ckan-help"),
    path("api/3/action/<str:name>", ckan_api.action_view, name="ckan-action"),
    # CKAN also answers without the version; the ckanapi client calls this form.
    path("api/action/<str:name>", ckan_api.action_view, name="ckan-action-unversioned"),
    path("datos/recurso/<uuid:resource_id>/descargar/", download_views.download, name="opendata-download"),
    path("datos/recurso/<uuid:resource_id>/version/<int:number>/descargar/", download_views.download_version,
         name="opendata-download-version"),
]
