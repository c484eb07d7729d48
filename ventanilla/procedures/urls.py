from django.urls import include, path

app_name = "procedures"

urlpatterns = [
    path("", include("ventanilla.procedures.journey_urls")),  # /solicitudes/… (residents, kiosk)
    path("", include("ventanilla.procedures.backoffice_urls")),  # /oficina/solicitudes/… (reviewers, counter)
    path("", include("ventanilla.procedures.editor_urls")),  # /oficina/tramites-en-linea/… (editors)
    path("", include("ventanilla.procedures.metrics_urls")),  # /oficina/medicion/… (analysts)
]
