from django.urls import path

from . import views

app_name = "documents"

urlpatterns = [
    path("verificar/", views.verify_upload, name="verify_upload"),
    path("verificar/<uuid:public_id>/", views.verify, name="verify"),
    path("documentos/<uuid:public_id>.pdf", views.download, name="download"),
    path("oficina/documentos/", views.backoffice_search, name="backoffice_search"),
    path("oficina/documentos/<uuid:public_id>/revocar/", views.backoffice_revoke, name="revoke"),
]
