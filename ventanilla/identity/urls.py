from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "identity"

urlpatterns = [
    path("entrar/", auth_views.LoginView.as_view(template_name="identity/login.html"), name="login"),
    path("salir/", auth_views.LogoutView.as_view(), name="logout"),
    path("mis-datos/", views.my_data, name="my_data"),
    path("oficina/", views.backoffice, name="backoffice"),
]
