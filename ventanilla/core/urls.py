from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("health", views.health, name="health"),
    path("theme.css", views.theme_css, name="theme_css"),
]
