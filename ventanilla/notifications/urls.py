"""The resident's inbox of notices."""

from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("avisos/", views.inbox, name="inbox"),
    path("avisos/marcar-leidos/", views.mark_all_read, name="mark_all_read"),
    path("avisos/<uuid:public_id>/", views.detail, name="detail"),
]
