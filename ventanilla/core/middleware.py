from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from .logging import request_id_var

logger = logging.getLogger("ventanilla.request")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# One-use secrets that travel in URLs (e-mail confirmation, password reset) never reach the logs.
_SECRET_PATHS = re.compile(r"^(/llave/(?:confirmar|contrasena/nueva)/).*$")


def loggable_path(path: str) -> str:
    return _SECRET_PATHS.sub(r"\1…", path)


class RequestIdMiddleware:
    """Tags each request with an id (kept from a trusted proxy's X-Request-ID when well formed),
    logs one structured line per request and returns the id to the client."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        # Kept until the request has finished (core.apps clears it on request_finished), so
        # Django's own "django.request" warnings, logged after the middleware returns, carry it.
        request_id_var.set(request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        logger.info(
            "request",
            extra={
                "method": request.method,
                "path": loggable_path(request.path),
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return response


class SlidingSessionMiddleware:
    """The idle timeout (SESSION_COOKIE_AGE, 30 minutes) slides with activity, but the session row
    is written at most once per VENTANILLA_SESSION_REFRESH_SECONDS (60) instead of on every
    request: a signed-in person's requests cost no session write, and the session still ends
    between 29 and 30 minutes after the last one. Must come right after SessionMiddleware, so
    that the mark it leaves is saved by it."""

    KEY = "_refreshed_at"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        response = self.get_response(request)
        session = getattr(request, "session", None)
        # A request that never looked at its session (no signed-in user involved) is no activity.
        if session is None or not session.accessed:
            return response
        last = session.get(self.KEY)
        # Only a live session with data: never one made up for a visitor whose cookie expired.
        if session.session_key is None or not any(k != self.KEY for k in session.keys()):
            return response
        now = int(time.time())
        every = int(getattr(settings, "VENTANILLA_SESSION_REFRESH_SECONDS", 60))
        if session.modified or not isinstance(last, int) or now - last >= every:
            session[self.KEY] = now  # modified: SessionMiddleware saves it and renews the cookie
        return response


class SecurityHeadersMiddleware:
    """Headers Django does not set itself."""

    PERMISSIONS_POLICY = "camera=(), microphone=(), payment=(), usb=(), geolocation=(self)"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", self.PERMISSIONS_POLICY)
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response


class ExplicitLanguageMiddleware:
    """Spanish (es-MX) first: the interface changes language only when the person chooses it
    (the language selector stores the choice in a cookie), never because of the browser's
    Accept-Language — many phones in Mexico are set to English."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings
        from django.utils import translation

        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        supported = {code for code, _ in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        patch_vary_headers(response, ("Cookie",))
        return response
