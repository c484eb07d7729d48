from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from ventanilla.api import api

admin.site.site_header = f"Ventanilla · {settings.CITY['name']}"
admin.site.site_title = "Ventanilla"

urlpatterns = [
    # First: the JSON API is the busiest path, and its prefix is a single check for everything else.
    path("api/v1/", api.urls),
    path("", include("ventanilla.core.urls")),
    path("", include("ventanilla.portal.urls")),
    path("", include("ventanilla.identity.urls")),  # /llave/… (residents) and /oficina/… (back office)
    path("", include("ventanilla.catalog.urls")),
    path("", include("ventanilla.opendata.metadata_urls")),  # /catalog.jsonld, /catalog.ttl, /data.json
    path("", include("ventanilla.opendata.api_urls")),  # /api/3/action/… (CKAN), /datos/recurso/…/descargar/
    path("", include("ventanilla.opendata.urls")),  # /datos/… (open data pages)
    path("", include("ventanilla.opendata.backoffice_urls")),  # /oficina/datos/… (publishers)
    path("", include("ventanilla.procedures.urls")),
    path("", include("ventanilla.payments.urls")),
    path("", include("ventanilla.files.urls")),
    path("", include("ventanilla.documents.urls")),
    path("", include("ventanilla.notifications.urls")),
    path("o/", include("ventanilla.identity.oidc_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("oficina/admin/", admin.site.urls),
]

handler400 = "ventanilla.portal.views.bad_request"
handler403 = "ventanilla.portal.views.forbidden"
handler404 = "ventanilla.portal.views.not_found"
handler500 = "ventanilla.portal.views.server_error"
