"""Kiosk mode: a public terminal in a city office where residents file procedures themselves.

A terminal becomes a kiosk when somebody who knows one of the tokens in
settings.VENTANILLA_KIOSK_TOKENS opens /kiosco/activar/<token>/ on it: the response stores a
signed cookie naming the terminal (a hash of its token, so removing the token from the settings
switches the terminal off). The marker grants NOTHING: it only makes the presentation bigger and
the session policy stricter, and records the channel "kiosk" on the requests filed there:

* large touch targets and type (kiosk.css), printable receipts;
* no stored credentials: the sign-in page has autocomplete="off" and no "remember me", and every
  session cookie dies when the browser closes;
* automatic sign-out after VENTANILLA_KIOSK_IDLE_SECONDS without a request, enforced here on the
  server; kiosk.js warns VENTANILLA_KIOSK_WARNING_SECONDS before and signs out by itself;
* no page is kept in the browser's cache (the back button cannot show the previous resident's data).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from ventanilla.audit import services as audit

COOKIE_SALT = "ventanilla.procedures.kiosk"
COOKIE_MAX_AGE = 365 * 24 * 3600
LAST_SEEN_KEY = "kiosk_last_seen"
DEFAULT_IDLE_SECONDS = 120
DEFAULT_WARNING_SECONDS = 30
MIN_TOKEN_LENGTH = 24


@dataclass(frozen=True)
class Terminal:
    id: str
    idle_seconds: int
    warning_seconds: int


def idle_seconds() -> int:
    return max(10, int(getattr(settings, "VENTANILLA_KIOSK_IDLE_SECONDS", DEFAULT_IDLE_SECONDS)))


def warning_seconds() -> int:
    return max(0, min(idle_seconds() - 5, int(getattr(settings, "VENTANILLA_KIOSK_WARNING_SECONDS", DEFAULT_WARNING_SECONDS))))


def configured_tokens() -> list[str]:
    """Tokens long enough to be unguessable; shorter ones are ignored (see docs)."""
    raw = getattr(settings, "VENTANILLA_KIOSK_TOKENS", []) or []
    if isinstance(raw, str):
        raw = raw.split(",")
    return [t.strip() for t in raw if isinstance(t, str) and len(t.strip()) >= MIN_TOKEN_LENGTH]


def terminal_id(token: str) -> str:
    return hashlib.sha256(f"ventanilla-kiosk:{token}".encode()).hexdigest()[:20]


def _terminal(tid: str) -> Terminal:
    return Terminal(id=tid, idle_seconds=idle_seconds(), warning_seconds=warning_seconds())


def terminal_for_token(token: str) -> Terminal | None:
    """The terminal a token configures, compared in constant time; None if it is not configured."""
    token = (token or "")[:200]
    found = None
    for candidate in configured_tokens():
        if hmac.compare_digest(candidate.encode(), token.encode()):
            found = candidate
    return _terminal(terminal_id(found)) if found else None


def cookie_name() -> str:
    return "__Host-kiosk" if getattr(settings, "SESSION_COOKIE_SECURE", False) else "kiosk"


def terminal_of(request: HttpRequest) -> Terminal | None:
    """The kiosk this browser is, from its signed cookie, while its token is still configured."""
    value = request.get_signed_cookie(cookie_name(), default=None, salt=COOKIE_SALT)
    if not value:
        return None
    if not any(hmac.compare_digest(value, terminal_id(t)) for t in configured_tokens()):
        return None
    return _terminal(value)


def is_kiosk(request: HttpRequest) -> bool:
    if hasattr(request, "kiosk"):
        return request.kiosk is not None
    return terminal_of(request) is not None


class KioskMiddleware:
    """Sets `request.kiosk` (a Terminal or None) and, on a kiosk, applies the session policy:
    cookies that die with the browser, sign-out after inactivity, no cached pages, the kiosk's own
    sign-in page. Must come after the session, authentication and messages middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.kiosk = terminal_of(request)
        if request.kiosk is None:
            return self.get_response(request)
        response = self._policy(request)
        if response is None:
            response = self.get_response(request)
        patch_cache_control(response, private=True, no_store=True, max_age=0)
        return response

    def _policy(self, request: HttpRequest) -> HttpResponse | None:
        session = request.session
        now = time.time()
        last = session.get(LAST_SEEN_KEY)
        idle = request.kiosk.idle_seconds
        if request.user.is_authenticated and isinstance(last, (int, float)) and now - last > idle:
            audit.record("procedures.kiosk_idle_sign_out", actor=request.user, request=request,
                         data={"terminal": request.kiosk.id, "idle_seconds": idle})
            logout(request)
            request.session[LAST_SEEN_KEY] = now
            request.session.set_expiry(0)
            message = _("Cerramos la sesión porque pasó un rato sin actividad; así nadie más puede ver tus datos. Vuelve a entrar para continuar.")
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=401)
            messages.info(request, message)
            return redirect("procedures:kiosk")
        session[LAST_SEEN_KEY] = now
        if not session.get_expire_at_browser_close():
            session.set_expiry(0)
        if request.method == "GET" and request.path == reverse("identity:login"):
            query = request.META.get("QUERY_STRING", "")
            return redirect(reverse("procedures:kiosk_login") + (f"?{query}" if query else ""))
        return None


# --- Views ---------------------------------------------------------------------------------------


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The kiosk's start screen (or, on an ordinary browser, what the kiosk is)."""
    return render(request, "procedures/kiosk/home.html", {"terminal": getattr(request, "kiosk", None)})


@require_GET
def activate(request: HttpRequest, token: str) -> HttpResponse:
    """Turns this browser into a kiosk terminal. Unknown tokens are a plain 404."""
    terminal = terminal_for_token(token)
    if terminal is None:
        raise Http404
    if request.user.is_authenticated:
        logout(request)
    audit.record("procedures.kiosk_activated", request=request, data={"terminal": terminal.id})
    response = redirect("procedures:kiosk")
    response.set_signed_cookie(
        cookie_name(), terminal.id, salt=COOKIE_SALT, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax",
        secure=getattr(settings, "SESSION_COOKIE_SECURE", False), path="/",
    )
    return response


@require_http_methods(["GET", "POST"])
def deactivate(request: HttpRequest, token: str) -> HttpResponse:
    """Turns kiosk mode off on this browser (the token is needed, so a resident cannot)."""
    terminal = terminal_for_token(token)
    if terminal is None:
        raise Http404
    if request.method == "GET":
        return render(request, "procedures/kiosk/deactivate.html", {"token": token})
    if request.user.is_authenticated:
        logout(request)
    audit.record("procedures.kiosk_deactivated", request=request, data={"terminal": terminal.id})
    response = redirect("portal:home")
    response.delete_cookie(cookie_name(), path="/", samesite="Lax")
    return response


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return ""


def kiosk_login_form(data=None):
    """Llave's sign-in form without stored credentials: nothing for the browser to remember."""
    from ventanilla.identity import forms as identity_forms

    form = identity_forms.LoginForm(data)
    for field in form.fields.values():
        field.widget.attrs["autocomplete"] = "off"
    form.fields["identifier"].widget.attrs["autocapitalize"] = "none"
    return form


@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """Sign-in on a kiosk: residents only (an official's account never opens on a public terminal)."""
    from ventanilla.core.http import client_ip
    from ventanilla.identity import services as identity_services

    if not is_kiosk(request):
        return redirect("identity:login")
    form = kiosk_login_form(request.POST or None)
    context = {"form": form, "next": _safe_next(request)}
    status = 200
    if request.method == "POST" and form.is_valid():
        result = identity_services.sign_in(form.cleaned_data["identifier"], form.cleaned_data["password"],
                                           ip=client_ip(request), request=request)
        if result.ok and result.user.is_official:
            form.add_error(None, _("En un kiosco público solo entran residentes. Los servidores públicos entran desde su equipo de trabajo."))
            status = 403
        elif result.ok:
            auth_login(request, result.user)
            request.session.set_expiry(0)
            request.session[LAST_SEEN_KEY] = time.time()
            return redirect(context["next"] or reverse("procedures:my_requests"))
        else:
            form.add_error(None, result.message)
            status = 429 if result.kind == "locked" else 400
    elif form.errors:
        status = 400
    return render(request, "procedures/kiosk/login.html", context, status=status)


@require_GET
def still_here(request: HttpRequest) -> HttpResponse:
    """kiosk.js calls this when the resident answers "Sigo aquí": the request itself is the activity."""
    response = HttpResponse(status=204)
    patch_cache_control(response, private=True, no_store=True)
    return response
