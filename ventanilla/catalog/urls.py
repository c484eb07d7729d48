from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("catalogo/exportar/tramites.csv", views.export_csv, name="export_csv"),
    path("catalogo/exportar/tramites.jsonld", views.export_jsonld, name="export_jsonld"),
    path("oficina/catalogo/", views.editor_list, name="editor_list"),
    path("oficina/catalogo/nuevo/", views.editor_create, name="editor_create"),
    path("oficina/catalogo/sinonimos/", views.editor_synonyms, name="editor_synonyms"),
    path("oficina/catalogo/sinonimos/<int:pk>/borrar/", views.editor_synonym_delete, name="editor_synonym_delete"),
    path("oficina/catalogo/<str:clave>/", views.editor_detail, name="editor_detail"),
    path("oficina/catalogo/<str:clave>/editar/", views.editor_edit, name="editor_edit"),
    path("oficina/catalogo/<str:clave>/publicar/", views.editor_publish, name="editor_publish"),
    path("oficina/catalogo/<str:clave>/retirar/", views.editor_withdraw, name="editor_withdraw"),
    path("oficina/catalogo/<str:clave>/versiones/", views.editor_versions, name="editor_versions"),
    path(
        "oficina/catalogo/<str:clave>/versiones/<int:number>/restaurar/",
        views.editor_restore,
        name="editor_restore",
    ),
]
