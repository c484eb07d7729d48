"""Mi expediente: the resident's documents and the ARCO archive."""

from django.urls import path

from . import views

app_name = "files"

urlpatterns = [
    path("mi-expediente/", views.home, name="home"),
    path("mi-expediente/subir/", views.upload, name="upload"),
    path("mi-expediente/descargar/", views.download_archive, name="archive"),
    path("mi-expediente/documentos/<uuid:public_id>/", views.document, name="document"),
    path("mi-expediente/documentos/<uuid:public_id>/borrar/", views.delete, name="delete"),
]
