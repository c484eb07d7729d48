"""Public pages of the open data portal under /datos/. Names carry the "opendata-" prefix (no
namespace) so the CKAN dictionaries and metadata exports can link to the dataset pages."""

from django.urls import path

from . import views

urlpatterns = [
    path("datos/", views.home, name="opendata-home"),
    path("datos/buscar/", views.search, name="opendata-search"),
    path("datos/<str:name>/", views.dataset_detail, name="opendata-dataset"),
    path("datos/<str:name>/recurso/<uuid:resource_id>/", views.resource_detail, name="opendata-resource"),
    path("datos/<str:name>/recurso/<uuid:resource_id>/consulta.<str:fmt>", views.resource_export,
         name="opendata-resource-export"),
    path("datos/<str:name>/recurso/<uuid:resource_id>/version/<int:number>/", views.version_download,
         name="opendata-version"),
    path("datos/<str:name>/recurso/<uuid:resource_id>/grafica/", views.resource_chart, name="opendata-chart"),
    path("datos/<str:name>/recurso/<uuid:resource_id>/mapa/", views.resource_map, name="opendata-map"),
]
