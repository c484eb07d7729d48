"""Llave's URLs. Mounted at the site root: resident pages under /llave/, back office under
/oficina/ (the Django admin lives at /oficina/admin/, see ventanilla/urls.py)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "identity"

urlpatterns = [
    # Residents
    path("llave/crear-cuenta/", views.signup, name="signup"),
    path("llave/crear-cuenta/revisa-tu-correo/", views.signup_done, name="signup_done"),
    path("llave/confirmar/<str:token>/", views.confirm_email, name="confirm_email"),
    path("llave/confirmar-correo/", views.resend_confirmation, name="resend_confirmation"),
    path("llave/entrar/", views.login_view, name="login"),
    path("llave/salir/", auth_views.LogoutView.as_view(), name="logout"),
    path("llave/contrasena/olvide/", views.PasswordResetView.as_view(), name="password_reset"),
    path("llave/contrasena/olvide/enviado/",
         auth_views.PasswordResetDoneView.as_view(template_name="identity/password_reset_done.html"),
         name="password_reset_done"),
    path("llave/contrasena/nueva/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("llave/contrasena/lista/",
         auth_views.PasswordResetCompleteView.as_view(template_name="identity/password_reset_complete.html"),
         name="password_reset_complete"),
    path("llave/contrasena/cambiar/", views.PasswordChangeView.as_view(), name="password_change"),
    path("llave/segundo-factor/", views.two_factor, name="two_factor"),
    path("llave/mis-datos/", views.my_data, name="my_data"),
    path("llave/mis-datos/permisos/<int:consent_id>/retirar/", views.consent_revoke, name="consent_revoke"),
    # Back office
    path("oficina/", views.backoffice_home, name="backoffice"),
    path("oficina/servidores/", views.officials_list, name="officials"),
    path("oficina/servidores/nuevo/", views.official_create, name="official_create"),
    path("oficina/servidores/<uuid:public_id>/", views.official_detail, name="official_detail"),
    path("oficina/servidores/<uuid:public_id>/desactivar/", views.official_deactivate, name="official_deactivate"),
    path("oficina/ventanilla/", views.counter_lookup, name="counter"),
    path("oficina/ventanilla/verificar/", views.counter_verify, name="counter_verify"),
]
