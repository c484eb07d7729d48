"""Llave's OpenID Connect endpoints, mounted at /o/ (namespace "oauth2_provider").

Only what an authorization-code + PKCE relying party needs is exposed: no device flow, no
application self-registration, no token introspection."""

from django.urls import path, re_path
from oauth2_provider import views as dot_views

from . import oidc_views

app_name = "oauth2_provider"

urlpatterns = [
    path("authorize/", oidc_views.LlaveAuthorizationView.as_view(), name="authorize"),
    path("token/", dot_views.TokenView.as_view(), name="token"),
    path("revoke_token/", dot_views.RevokeTokenView.as_view(), name="revoke-token"),
    re_path(
        r"^\.well-known/openid-configuration/?$",
        dot_views.ConnectDiscoveryInfoView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    path(
        ".well-known/oauth-authorization-server",
        dot_views.OAuthServerMetadataView.as_view(),
        name="oauth-server-metadata",
    ),
    path(".well-known/jwks.json", dot_views.JwksInfoView.as_view(), name="jwks-info"),
    path("userinfo/", oidc_views.LlaveUserInfoView.as_view(), name="user-info"),
    path("conexiones/", oidc_views.ConnectionsView.as_view(), name="connections"),
    path(
        "conexiones/<int:pk>/desconectar/",
        oidc_views.ConnectionRevokeView.as_view(),
        name="connection-revoke",
    ),
]
