"""The catalogue editor's back office for online procedures (namespace "procedures")."""

from django.urls import path

from . import editor_views as views

BASE = "oficina/tramites-en-linea/"
ONE = BASE + "<str:clave>/"

urlpatterns = [
    path(BASE, views.editor_list, name="editor_list"),
    path(ONE, views.editor_definition, name="editor_definition"),
    path(ONE + "iniciar/", views.editor_start, name="editor_start"),
    path(ONE + "paginas/", views.editor_pages, name="editor_pages"),
    path(ONE + "paginas/<str:page>/", views.editor_page, name="editor_page"),
    path(ONE + "paginas/<str:page>/mover/", views.editor_page_move, name="editor_page_move"),
    path(ONE + "paginas/<str:page>/borrar/", views.editor_page_delete, name="editor_page_delete"),
    path(ONE + "paginas/<str:page>/preguntas/nueva/", views.editor_field_add, name="editor_field_add"),
    path(ONE + "paginas/<str:page>/preguntas/<str:field>/", views.editor_field, name="editor_field"),
    path(ONE + "paginas/<str:page>/preguntas/<str:field>/mover/", views.editor_field_move, name="editor_field_move"),
    path(ONE + "paginas/<str:page>/preguntas/<str:field>/borrar/", views.editor_field_delete, name="editor_field_delete"),
    path(ONE + "documentos/", views.editor_documents, name="editor_documents"),
    path(ONE + "documentos/<str:key>/", views.editor_document, name="editor_document"),
    path(ONE + "documentos/<str:key>/mover/", views.editor_document_move, name="editor_document_move"),
    path(ONE + "documentos/<str:key>/borrar/", views.editor_document_delete, name="editor_document_delete"),
    path(ONE + "revision/", views.editor_steps, name="editor_steps"),
    path(ONE + "revision/<str:key>/", views.editor_step, name="editor_step"),
    path(ONE + "revision/<str:key>/borrar/", views.editor_step_delete, name="editor_step_delete"),
    path(ONE + "costo/", views.editor_fee, name="editor_fee"),
    path(ONE + "documento-que-se-entrega/", views.editor_template, name="editor_template"),
    path(ONE + "vista-previa/", views.editor_preview, name="editor_preview"),
    path(ONE + "publicar/", views.editor_publish, name="editor_publish"),
    path(ONE + "recepcion/", views.editor_reception, name="editor_reception"),
    path(ONE + "versiones/", views.editor_versions, name="editor_versions"),
    path(ONE + "versiones/<int:number>/", views.editor_version, name="editor_version"),
    path(ONE + "json/", views.editor_json, name="editor_json"),
    path(ONE + "json/descargar/", views.editor_json_download, name="editor_json_download"),
]
