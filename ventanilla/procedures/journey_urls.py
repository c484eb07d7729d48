"""The resident's pages (/solicitudes/…) and the kiosk (/kiosco/…), in the namespace "procedures"."""

from django.urls import path

from . import kiosk
from .journey import views

urlpatterns = [
    path("solicitudes/", views.my_requests, name="my_requests"),
    path("solicitudes/iniciar/<str:clave>/", views.start, name="start"),
    path("solicitudes/<uuid:public_id>/", views.status, name="status"),
    path("solicitudes/<uuid:public_id>/paginas/<slug:page_key>/", views.page, name="page"),
    path("solicitudes/<uuid:public_id>/documentos/", views.documents, name="documents"),
    path("solicitudes/<uuid:public_id>/documentos/<slug:slot>/quitar/", views.detach, name="detach"),
    path("solicitudes/<uuid:public_id>/revisar/", views.check, name="check"),
    path("solicitudes/<uuid:public_id>/presentar/", views.submit, name="submit"),
    path("solicitudes/<uuid:public_id>/confirmacion/", views.confirmation, name="confirmation"),
    path("solicitudes/<uuid:public_id>/acuse.pdf", views.acuse, name="acuse"),
    path("solicitudes/<uuid:public_id>/mensajes/", views.message, name="message"),
    path("solicitudes/<uuid:public_id>/prevencion/", views.correction, name="correction"),
    path("kiosco/", kiosk.home, name="kiosk"),
    path("kiosco/entrar/", kiosk.sign_in, name="kiosk_login"),
    path("kiosco/sigo-aqui/", kiosk.still_here, name="kiosk_still_here"),
    path("kiosco/activar/<str:token>/", kiosk.activate, name="kiosk_activate"),
    path("kiosco/desactivar/<str:token>/", kiosk.deactivate, name="kiosk_deactivate"),
]
