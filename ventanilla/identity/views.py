"""Llave's pages. Thin: each view turns a request into a call to services.py and renders."""

from __future__ import annotations

import base64

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from ventanilla.core.backoffice import tools_for
from ventanilla.core.http import client_ip

from . import forms, selectors, send_limits, services
from .models import Consent, Role
from .permissions import official_required, two_factor_url

SIGNUP_EMAIL_SESSION_KEY = "identity_signup_email"


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


def _render_sign_in_step(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    """Renders a sign-in step (password or second factor). When the step continues an OpenID
    Connect authorization, browsers apply this page's CSP form-action to the whole redirect chain
    after the POST, which may end at the registered application: allow exactly that origin."""
    from .oidc_services import form_action_origins_for_next

    response = render(request, template, context, status=status)
    origins = form_action_origins_for_next(context.get("next") or _safe_next(request, ""))
    if origins:
        response._csp_update = {"form-action": origins}
    return response


def _apply_errors(form, errors: dict[str, list[str]]) -> None:
    for name, msgs in errors.items():
        for msg in msgs:
            form.add_error(name if name in form.fields else None, msg)


# --- Residents: sign-up, confirmation, sign-in -------------------------------------------------

@sensitive_post_parameters("password", "password_confirmation")
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("identity:my_data")
    form = forms.SignUpForm(request.POST or None)
    duplicate = False
    if request.method == "POST" and form.is_valid():
        data = services.SignUpData(**{k: form.cleaned_data.get(k, "") for k in form.fields})
        try:
            user = services.sign_up(data, request=request)
        except services.TooManyRequests as exc:
            form.add_error(None, exc.message)
            return render(request, "identity/signup.html", {"form": form, "duplicate": False}, status=429)
        except services.FieldErrors as exc:
            _apply_errors(form, exc.errors)
            duplicate = any("¿" in m for msgs in exc.errors.values() for m in msgs)
            status = 409 if duplicate else 400
            return render(request, "identity/signup.html", {"form": form, "duplicate": duplicate}, status=status)
        request.session[SIGNUP_EMAIL_SESSION_KEY] = user.email
        return redirect("identity:signup_done")
    return render(request, "identity/signup.html", {"form": form, "duplicate": duplicate},
                  status=400 if form.errors else 200)


def signup_done(request: HttpRequest) -> HttpResponse:
    return render(request, "identity/signup_done.html",
                  {"email": request.session.get(SIGNUP_EMAIL_SESSION_KEY, "")})


def confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    try:
        services.confirm_email(token)
    except services.ConfirmationError as exc:
        return render(request, "identity/confirm_failed.html", {"message": exc.message, "code": exc.code}, status=400)
    messages.success(request, _("Listo: confirmaste tu correo. Ya puedes entrar con tu Llave."))
    return redirect("identity:login")


@require_http_methods(["GET", "POST"])
def resend_confirmation(request: HttpRequest) -> HttpResponse:
    form = forms.EmailForm(request.POST or None, initial={"email": request.GET.get("correo", "")[:254]})
    if request.method == "POST" and form.is_valid():
        services.resend_confirmation(form.cleaned_data["email"], ip=client_ip(request))
        request.session[SIGNUP_EMAIL_SESSION_KEY] = form.cleaned_data["email"].strip()[:254]
        return redirect("identity:signup_done")
    return render(request, "identity/resend_confirmation.html", {"form": form}, status=400 if form.errors else 200)


@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = forms.LoginForm(request.POST or None)
    context = {"form": form, "next": _safe_next(request, "")}
    if request.method == "POST" and form.is_valid():
        result = services.sign_in(form.cleaned_data["identifier"], form.cleaned_data["password"],
                                  ip=client_ip(request), request=request)
        if result.ok:
            user = result.user
            auth_login(request, user)
            if user.is_official:
                target = _safe_next(request, reverse("identity:backoffice"))
                return redirect(two_factor_url(target))
            return redirect(_safe_next(request, reverse(settings.LOGIN_REDIRECT_URL)))
        form.add_error(None, result.message)
        context.update(kind=result.kind, identifier=form.cleaned_data["identifier"])
        return _render_sign_in_step(request, "identity/login.html", context,
                                    status=429 if result.kind == "locked" else 400)
    return _render_sign_in_step(request, "identity/login.html", context, status=400 if form.errors else 200)


class InvalidFormIs400:
    """Django's class-based auth views answer an invalid form with 200; ours say 400."""

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class PasswordResetView(InvalidFormIs400, auth_views.PasswordResetView):
    form_class = forms.PasswordResetForm
    template_name = "identity/password_reset_form.html"
    email_template_name = "identity/email/password_reset.txt"
    subject_template_name = "identity/email/password_reset_subject.txt"
    success_url = reverse_lazy("identity:password_reset_done")

    def form_valid(self, form):
        # Over the sending limit the page says the same as always and sends nothing: it never
        # tells whether an account exists (identity.send_limits).
        if not send_limits.allow(send_limits.PASSWORD_RESET, email=form.cleaned_data["email"],
                                 ip=client_ip(self.request)):
            return redirect(self.get_success_url())
        self.extra_email_context = {"city": settings.CITY, "site_url": settings.SITE_URL,
                                   "hours": settings.PASSWORD_RESET_TIMEOUT // 3600}
        return super().form_valid(form)


class PasswordResetConfirmView(InvalidFormIs400, auth_views.PasswordResetConfirmView):
    form_class = forms.SetPasswordForm
    template_name = "identity/password_reset_confirm.html"
    success_url = reverse_lazy("identity:password_reset_complete")


class PasswordChangeView(InvalidFormIs400, auth_views.PasswordChangeView):
    form_class = forms.PasswordChangeForm
    template_name = "identity/password_change.html"
    success_url = reverse_lazy("identity:my_data")

    def dispatch(self, request, *args, **kwargs):
        # An official's password is changed only with the second factor verified.
        user = request.user
        if user.is_authenticated and user.is_official and not user.is_verified():
            return redirect(two_factor_url(request.get_full_path()))
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Cambiaste tu contraseña."))
        return response


# --- Second factor ---------------------------------------------------------------------------

def _otp_login(request: HttpRequest, device) -> None:
    from django_otp import login as otp_login

    otp_login(request, device)
    # A new session key once the second factor is in (no session fixation between steps).
    request.session.cycle_key()


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    user = request.user
    target = _safe_next(request, reverse("identity:backoffice"))
    if not user.is_official:
        return redirect("identity:my_data")
    if user.is_verified():
        return redirect(target)
    form = forms.OtpForm(request.POST or None)
    enrolling = not services.has_confirmed_totp(user)
    device = services.pending_totp_device(user) if enrolling else None
    status = 200
    if request.method == "POST" and form.is_valid():
        lock = services.otp_locked(user)
        if lock.locked:
            form.add_error("code", services.lock_message(lock.until))
            status = 429
        else:
            code = form.cleaned_data["code"]
            matched = (services.confirm_totp_enrolment(user, device, code, request=request) if enrolling
                       else services.check_otp(user, code, request=request))
            if matched is not None:
                _otp_login(request, matched)
                return redirect(target)
            form.add_error("code", _("El código no es correcto o ya venció. Escribe el código que muestra ahora tu aplicación."))
            status = 400
    context = {"form": form, "enrolling": enrolling, "next": target}
    if enrolling:
        import segno

        secret = base64.b32encode(device.bin_key).decode()
        context["secret"] = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
        context["qr_svg"] = segno.make(device.config_url, error="m").svg_inline(
            scale=4, title=_("Código QR para tu aplicación autenticadora"), svgclass="qr", lineclass="qr__line",
        )
    return _render_sign_in_step(request, "identity/two_factor.html", context, status=status)


# --- Back office ----------------------------------------------------------------------------

@official_required()
def backoffice_home(request: HttpRequest) -> HttpResponse:
    return render(request, "identity/backoffice.html", {"tools": tools_for(request.user)})


@official_required(Role.PLATFORM_ADMIN)
def officials_list(request: HttpRequest) -> HttpResponse:
    rows = [(o, selectors.memberships_of(o)) for o in selectors.officials()]
    return render(request, "identity/officials_list.html", {"rows": rows})


@official_required(Role.PLATFORM_ADMIN)
@require_http_methods(["GET", "POST"])
def official_create(request: HttpRequest) -> HttpResponse:
    form = forms.OfficialForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = services.OfficialData(**{k: form.cleaned_data[k] for k in
                                        ("email", "given_names", "first_surname", "second_surname")})
        try:
            official = services.create_official(request.user, data, forms.parse_grants(form.cleaned_data["grants"]),
                                                request=request)
        except services.TooManyRequests as exc:
            form.add_error(None, exc.message)
            return render(request, "identity/signup.html", {"form": form, "duplicate": False}, status=429)
        except services.FieldErrors as exc:
            _apply_errors(form, exc.errors)
        else:
            messages.success(request, _("Creamos la cuenta de %(name)s y le enviamos un correo para crear su contraseña.")
                             % {"name": official.full_name})
            return redirect("identity:officials")
    return render(request, "identity/official_form.html", {"form": form}, status=400 if form.errors else 200)


def _official_or_404(public_id) -> object:
    official = selectors.official_by_public_id(public_id)
    if official is None:
        raise Http404
    return official


@official_required(Role.PLATFORM_ADMIN)
@require_http_methods(["GET", "POST"])
def official_detail(request: HttpRequest, public_id) -> HttpResponse:
    official = _official_or_404(public_id)
    initial = {"grants": [f"{d}:{r}" for d, r in services.grants_of(official)]}
    form = forms.GrantsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_official_roles(request.user, official, forms.parse_grants(form.cleaned_data["grants"]),
                                        request=request)
        except services.ServiceError as exc:
            form.add_error("grants", exc.message)
        else:
            messages.success(request, _("Guardamos los roles de %(name)s.") % {"name": official.full_name})
            return redirect("identity:official_detail", public_id=official.public_id)
    return render(request, "identity/official_detail.html",
                  {"official": official, "form": form, "memberships": selectors.memberships_of(official)},
                  status=400 if form.errors else 200)


@official_required(Role.PLATFORM_ADMIN)
@require_POST
def official_deactivate(request: HttpRequest, public_id) -> HttpResponse:
    official = _official_or_404(public_id)
    try:
        services.deactivate_official(request.user, official, request=request)
    except services.ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("identity:official_detail", public_id=official.public_id)
    messages.success(request, _("Desactivamos la cuenta de %(name)s.") % {"name": official.full_name})
    return redirect("identity:officials")


@official_required(Role.COUNTER_CLERK)
@require_http_methods(["GET", "POST"])
def counter_lookup(request: HttpRequest) -> HttpResponse:
    form = forms.LookupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            record = services.open_resident_record(
                request.user, data["curp"], data["purpose"], data["case_reference"],
                data["fields_wanted"], request=request,
            )
        except services.ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            return render(request, "identity/counter_lookup.html", {"form": form},
                          status=404 if isinstance(exc, services.ResidentNotFound) else 400)
        verify_form = forms.VerifyForm(initial={"resident": record.resident.public_id})
        return render(request, "identity/counter_record.html", {"record": record, "verify_form": verify_form})
    return render(request, "identity/counter_lookup.html", {"form": form}, status=400 if form.errors else 200)


@official_required(Role.COUNTER_CLERK)
@require_POST
def counter_verify(request: HttpRequest) -> HttpResponse:
    form = forms.VerifyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Elige el documento de identidad que revisaste."))
        return redirect("identity:counter")
    resident = selectors.User.objects.filter(public_id=form.cleaned_data["resident"]).first()
    if resident is None:
        raise Http404
    try:
        services.verify_resident(request.user, resident, form.cleaned_data["document"], request=request)
    except services.ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("identity:counter")
    messages.success(request, _("La cuenta de %(name)s ahora es verificada.") % {"name": resident.full_name})
    return redirect("identity:counter")


# --- Mis datos ------------------------------------------------------------------------------

@login_required
def my_data(request: HttpRequest) -> HttpResponse:
    # By design this page only ever shows request.user: there is no id in the URL to change.
    resident = request.user
    return render(request, "identity/my_data.html", {
        "resident": resident,
        "accesses": [(a, [services.field_label(f) for f in a.fields])
                     for a in selectors.data_accesses_for(resident)[:200]],
        "consents": selectors.consents_for(resident),
    })


@login_required
@require_POST
def consent_revoke(request: HttpRequest, consent_id: int) -> HttpResponse:
    try:
        consent = services.revoke_consent(request.user, consent_id, request=request)
    except Consent.DoesNotExist as exc:
        raise Http404 from exc
    messages.success(request, _("Retiraste tu permiso a %(who)s.") % {"who": consent.grantee_label})
    return redirect("identity:my_data")

