"""The publishers' back office under /oficina/datos/."""

from django.urls import path

from . import backoffice_views as views

urlpatterns = [
    path("oficina/datos/", views.dataset_list, name="opendata-bo-list"),
    path("oficina/datos/nuevo/", views.dataset_create, name="opendata-bo-create"),
    path("oficina/datos/tokens/", views.tokens, name="opendata-bo-tokens"),
    path("oficina/datos/tokens/<int:pk>/retirar/", views.token_revoke, name="opendata-bo-token-revoke"),
    path("oficina/datos/<str:name>/", views.dataset_detail, name="opendata-bo-dataset"),
    path("oficina/datos/<str:name>/editar/", views.dataset_edit, name="opendata-bo-edit"),
    path("oficina/datos/<str:name>/recurso/nuevo/", views.resource_create, name="opendata-bo-resource-create"),
    path("oficina/datos/<str:name>/recurso/<uuid:resource_id>/", views.resource_detail, name="opendata-bo-resource"),
    path("oficina/datos/<str:name>/recurso/<uuid:resource_id>/version/", views.version_create,
         name="opendata-bo-version"),
    path("oficina/datos/<str:name>/recurso/<uuid:resource_id>/diccionario/<int:field_id>/", views.field_edit,
         name="opendata-bo-field"),
]
