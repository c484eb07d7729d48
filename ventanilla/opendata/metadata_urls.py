from django.urls import path

from . import metadata_views

urlpatterns = [
    path("catalog.jsonld", metadata_views.catalog_jsonld, name="opendata-catalog-jsonld"),
    path("catalog.ttl", metadata_views.catalog_turtle, name="opendata-catalog-ttl"),
    path("data.json", metadata_views.data_json, name="opendata-data-json"),
]
