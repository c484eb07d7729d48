"""The officials' back office for online requests (namespace "procedures"). Counter mode lives at
/oficina/ventanilla/tramites/ because /oficina/ventanilla/ is Llave's resident lookup."""

from django.urls import path

from . import backoffice_views as views

urlpatterns: list = [
    path("oficina/solicitudes/", views.queue, name="backoffice_queue"),
    path("oficina/solicitudes/<uuid:public_id>/", views.case, name="backoffice_case"),
    path("oficina/solicitudes/<uuid:public_id>/aprobar/", views.approve, name="backoffice_approve"),
    path("oficina/solicitudes/<uuid:public_id>/prevenir/", views.request_correction, name="backoffice_correction"),
    path("oficina/solicitudes/<uuid:public_id>/negar/", views.reject, name="backoffice_reject"),
    path("oficina/solicitudes/<uuid:public_id>/asignar/", views.assign, name="backoffice_assign"),
    path("oficina/solicitudes/<uuid:public_id>/nota/", views.note, name="backoffice_note"),
    path("oficina/solicitudes/<uuid:public_id>/mensaje/", views.message, name="backoffice_message"),
    path("oficina/solicitudes/<uuid:public_id>/documentos/<uuid:document_id>/", views.document,
         name="backoffice_document"),
    path("oficina/ventanilla/tramites/", views.counter_view, name="counter"),
]
