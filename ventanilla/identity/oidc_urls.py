from oauth2_provider import urls as oauth2_urls

app_name = "oauth2_provider"
urlpatterns = oauth2_urls.base_urlpatterns + oauth2_urls.oidc_urlpatterns
