from django.urls import path

from . import metrics_views

urlpatterns = [
    path("oficina/medicion/", metrics_views.dashboard, name="metrics"),
    path("oficina/medicion/<slug:table>.csv", metrics_views.table_csv, name="metrics_csv"),
]
