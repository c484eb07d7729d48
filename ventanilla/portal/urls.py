from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("tramites/", views.procedures, name="procedures"),
    path("tramites/tema/<slug:slug>/", views.life_event, name="life_event"),
    path("tramites/<str:clave>/", views.procedure_detail, name="procedure"),
    path("tramites/<str:clave>/iniciar/", views.procedure_start, name="procedure_start"),
    path("privacidad/", views.privacy, name="privacy"),
    path("sin-conexion/", views.offline, name="offline"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="service_worker"),
]
