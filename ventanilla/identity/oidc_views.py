"""Thin glue around django-oauth-toolkit's views: S256-only PKCE, the Spanish consent screen,
remembered consent, the CSP form-action for the client's redirect, and the resident's list of
connected applications."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView
from oauthlib.oauth2.rfc6749 import errors as oauth2_errors
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.views import AuthorizationView, UserInfoView

from . import oidc_services
from .models import Consent


class LlaveAuthorizationView(AuthorizationView):
    # Not "oauth2_provider/authorize.html": the oauth2_provider app is installed before ours,
    # so its own template of that name would win the app-directories lookup.
    template_name = "oauth2_provider/llave_authorize.html"

    def dispatch(self, request, *args, **kwargs):
        # An official's session counts only once the second factor is verified, here as in
        # the back office: an application must not receive a half-authenticated official.
        user = request.user
        if user.is_authenticated and user.is_official and not user.is_verified():
            from django.shortcuts import redirect

            from .permissions import two_factor_url

            return redirect(two_factor_url(request.get_full_path()))
        return super().dispatch(request, *args, **kwargs)

    def validate_authorization_request(self, request):
        scopes, credentials = super().validate_authorization_request(request)
        # PKCE is required (PKCE_REQUIRED) and only with S256: a "plain" challenge would let
        # anyone who sees the authorization request redeem the code.
        if credentials.get("code_challenge_method") != "S256":
            raise OAuthToolkitError(
                error=oauth2_errors.InvalidRequestError(
                    description='PKCE requires code_challenge_method "S256".',
                    state=credentials.get("state"),
                ),
                redirect_uri=credentials["redirect_uri"],
            )
        return scopes, credentials

    def _prompt(self) -> set[str]:
        return set(self.request.GET.get("prompt", "").split())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if "application" in context and "error" not in context:
            context["scope_summaries"] = oidc_services.scope_summaries(
                context.get("scopes", []), user=self.request.user
            )
        return context

    def render_to_response(self, context, **response_kwargs):
        is_consent_page = (
            self.request.method == "GET" and "error" not in context and "application" in context
        )
        if is_consent_page:
            consent = oidc_services.active_application_consent(self.request.user, context["application"])
            if "consent" not in self._prompt() and oidc_services.consent_covers(consent, context["scopes"]):
                # The resident already allowed this application these data: continue directly.
                form = self.get_form_class()(data={**context["form"].initial, "allow": "on"})
                if form.is_valid():
                    self._remembered_consent = True
                    return self.form_valid(form)
        response = super().render_to_response(context, **response_kwargs)
        if is_consent_page:
            # Browsers apply the page's form-action to the redirect that follows the POST.
            response._csp_update = {"form-action": [oidc_services.redirect_origin(context["redirect_uri"])]}
        return response

    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            allowed = form.cleaned_data.get("allow")
            granted = response.status_code == 302 and "code=" in response.get("Location", "")
            if allowed and granted and not getattr(self, "_remembered_consent", False):
                application = oidc_services.Application.objects.get(client_id=form.cleaned_data["client_id"])
                oidc_services.record_application_consent(
                    self.request.user, application, form.cleaned_data["scope"].split(), request=self.request
                )
        return response


class LlaveUserInfoView(UserInfoView):
    """DOT's userinfo endpoint, minus access tokens in the query string (RFC 6750 §5.3,
    RFC 9700 §4.3.2): URLs end up in logs and browser history. DOT's
    COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT gate does not cover this endpoint."""

    def dispatch(self, request, *args, **kwargs):
        if "access_token" in request.GET:
            response = HttpResponse(status=401)
            response["WWW-Authenticate"] = (
                'Bearer error="invalid_request", '
                'error_description="Send the access token in the Authorization header"'
            )
            return response
        return super().dispatch(request, *args, **kwargs)


class ConnectionsView(LoginRequiredMixin, TemplateView):
    """The applications the resident lets use their Llave, with a way to disconnect each."""

    template_name = "oauth2_provider/connections.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        consents = list(oidc_services.application_consents(self.request.user))
        context["connections"] = [
            {
                "consent": consent,
                "scopes": oidc_services.scope_summaries(oidc_services.consent_scopes(consent)),
            }
            for consent in consents
        ]
        return context


class ConnectionRevokeView(LoginRequiredMixin, TemplateView):
    """GET: confirm; POST: disconnect. A resident only ever sees their own consents (404
    otherwise, so other residents' consent ids reveal nothing)."""

    template_name = "oauth2_provider/connection_revoke.html"

    def get_consent(self) -> Consent:
        consent = get_object_or_404(
            Consent,
            pk=self.kwargs["pk"],
            resident=self.request.user,
            grantee_kind=Consent.GranteeKind.APPLICATION,
        )
        if not consent.is_active:
            raise Http404
        return consent

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        consent = self.get_consent()
        context["consent"] = consent
        context["scopes"] = oidc_services.scope_summaries(oidc_services.consent_scopes(consent))
        return context

    def post(self, request, *args, **kwargs):
        consent = self.get_consent()
        oidc_services.revoke_application_access(consent, actor=request.user, request=request)
        messages.success(
            request,
            _("Desconectaste %(app)s. La próxima vez que entres ahí te pediremos permiso otra vez.")
            % {"app": consent.grantee_label},
        )
        return HttpResponseRedirect(reverse("oauth2_provider:connections"))
