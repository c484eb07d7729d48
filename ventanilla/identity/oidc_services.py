"""Llave as an OpenID Connect provider: the rules around django-oauth-toolkit.

Public functions (other apps call these, never the models directly):

- `register_client(name, redirect_uris, ...) -> (Application, client_secret)`
- `list_clients() -> list[Application]`
- `record_application_consent(user, application, scopes, request=None) -> Consent`
- `active_application_consent(user, application) -> Consent | None`
- `application_consents(user) -> QuerySet[Consent]` (the resident's active connections)
- `consent_covers(consent, scopes) -> bool`
- `revoke_application_access(consent, actor=None, request=None) -> None`
- `scope_summaries(scopes, user=None) -> list[ScopeSummary]` (what each scope shares, in Spanish)
- `redirect_origin(uri) -> str`
- `form_action_origins_for_next(next_url) -> list[str]` (for the login page, see its docstring)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)
from oauth2_provider.settings import oauth2_settings

from ventanilla.audit.services import record

from .models import Consent, User

Application = get_application_model()

# What each scope shares, in plain language (shown on the consent screen and in "Mis datos").
SCOPE_DETAILS = {
    "openid": gettext_lazy(
        "Un número de identificación de tu cuenta que no cambia. No es tu CURP ni tu contraseña."
    ),
    "profile": gettext_lazy("Tu nombre y apellidos, y el nivel de tu Llave (básica o verificada)."),
    "email": gettext_lazy("Tu correo electrónico y si ya lo confirmaste."),
    "curp": gettext_lazy("Tu Clave Única de Registro de Población."),
}

NAME_MAX_LENGTH = 120
MAX_REDIRECT_URIS = 10
_FORBIDDEN_NAME_CHARS = re.compile(r"[<>\x00-\x1f\x7f]")


class ClientRegistrationError(ValueError):
    """The client could not be registered; `messages` are in Spanish, one per problem."""

    def __init__(self, messages: Sequence[str]):
        super().__init__("; ".join(messages))
        self.messages = list(messages)


@dataclass(frozen=True)
class ScopeSummary:
    code: str
    label: str
    detail: str
    value: str  # the resident's own data that would be shared ("" when not applicable)


def _known_scopes() -> dict[str, str]:
    return dict(oauth2_settings.SCOPES)


def ordered_scopes(scopes: Iterable[str]) -> list[str]:
    """Known scopes only, in the order the settings declare them, without repetitions."""
    wanted = set(scopes)
    return [code for code in _known_scopes() if code in wanted]


def scope_labels(scopes: Iterable[str]) -> list[str]:
    """Spanish labels, as stored in `Consent.scope` (always in the site's default language so
    the stored text does not depend on the language the resident browses in)."""
    known = _known_scopes()
    with translation.override(settings.LANGUAGE_CODE):
        return [str(known[code]) for code in ordered_scopes(scopes)]


def _scopes_from_labels(text: str) -> set[str]:
    known = _known_scopes()
    with translation.override(settings.LANGUAGE_CODE):
        by_label = {str(label): code for code, label in known.items()}
    return {by_label[label] for label in (part.strip() for part in text.split(",")) if label in by_label}


def consent_scopes(consent: Consent) -> list[str]:
    return ordered_scopes(_scopes_from_labels(consent.scope))


def scope_summaries(scopes: Iterable[str], user: User | None = None) -> list[ScopeSummary]:
    known = _known_scopes()
    summaries = []
    for code in ordered_scopes(scopes):
        value = ""
        if user is not None:
            if code == "profile":
                value = user.full_name
            elif code == "email":
                value = user.email
            elif code == "curp":
                value = user.curp or ""
        summaries.append(
            ScopeSummary(code=code, label=str(known[code]), detail=str(SCOPE_DETAILS.get(code, "")), value=value)
        )
    return summaries


def redirect_origin(uri: str) -> str:
    """`scheme://host[:port]` of a redirect URI, for the CSP form-action directive."""
    parts = urlsplit(uri)
    if not parts.scheme or not parts.netloc:
        raise ValueError("not an absolute URI")
    return f"{parts.scheme}://{parts.netloc}"


def form_action_origins_for_next(next_url: str) -> list[str]:
    """When a sign-in form's `next` is Llave's authorization endpoint, the origin of the
    client's *registered* redirect URI (else []). Browsers apply the sign-in page's CSP
    form-action to the whole redirect chain after its POST; with a remembered consent that chain
    ends at the application, so the sign-in page must allow that origin
    (`response._csp_update = {"form-action": origins}`)."""
    from django.urls import reverse

    try:
        parts = urlsplit(next_url or "")
    except ValueError:
        return []
    if parts.scheme or parts.netloc or parts.path != reverse("oauth2_provider:authorize"):
        return []
    query = parse_qs(parts.query)
    client_id = (query.get("client_id") or [""])[0]
    redirect_uri = (query.get("redirect_uri") or [""])[0]
    if not client_id or not redirect_uri or len(client_id) > 100:
        return []
    application = Application.objects.filter(client_id=client_id).first()
    if application is None or not application.redirect_uri_allowed(redirect_uri):
        return []
    try:
        return [redirect_origin(redirect_uri)]
    except ValueError:
        return []


# --- Consent -----------------------------------------------------------------------------------

def _purpose(application) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _("Iniciar sesión en %(app)s") % {"app": application.name}


def active_application_consent(user: User, application) -> Consent | None:
    return (
        Consent.objects.filter(
            resident=user,
            grantee_kind=Consent.GranteeKind.APPLICATION,
            application=application,
            revoked_at__isnull=True,
        )
        .order_by("-granted_at", "-pk")
        .first()
    )


def application_consents(user: User) -> QuerySet[Consent]:
    """The resident's active connections to applications, newest first."""
    return (
        Consent.objects.filter(
            resident=user, grantee_kind=Consent.GranteeKind.APPLICATION, revoked_at__isnull=True
        )
        .select_related("application")
        .order_by("-granted_at", "-pk")
    )


def consent_covers(consent: Consent | None, scopes: Iterable[str]) -> bool:
    if consent is None or not consent.is_active:
        return False
    requested = set(scopes)
    return bool(requested) and requested <= set(consent_scopes(consent))


@transaction.atomic
def record_application_consent(
    user: User, application, scopes: Iterable[str], request: HttpRequest | None = None
) -> Consent:
    """The resident allowed `application` to receive `scopes`. Keeps one active consent per
    (resident, application): a new scope widens the existing one."""
    # Serialise concurrent approvals by the same resident (no duplicate active rows).
    User.objects.select_for_update().filter(pk=user.pk).first()
    granted = set(ordered_scopes(scopes))
    if not granted:
        raise ValueError("no known scope to consent to")
    active = list(
        Consent.objects.select_for_update()
        .filter(
            resident=user,
            grantee_kind=Consent.GranteeKind.APPLICATION,
            application=application,
            revoked_at__isnull=True,
        )
        .order_by("-granted_at", "-pk")
    )
    now = timezone.now()
    consent = active[0] if active else None
    previous: list[str] = []
    if consent is None:
        consent = Consent(
            resident=user,
            grantee_kind=Consent.GranteeKind.APPLICATION,
            application=application,
            granted_at=now,
        )
    else:
        previous = consent_scopes(consent)
        granted |= set(previous)
        # Older duplicates (should not exist) are closed so exactly one stays active.
        for extra in active[1:]:
            extra.revoked_at = now
            extra.save(update_fields=["revoked_at"])
    codes = ordered_scopes(granted)
    consent.grantee_label = application.name[:200]
    consent.scope = ", ".join(scope_labels(codes))[:200]
    consent.purpose = _purpose(application)[:300]
    if previous and previous != codes:
        consent.granted_at = now
    consent.save()
    if previous != codes:
        record(
            "identity.oidc_consent",
            actor=user,
            subject=consent,
            data={"application": application.client_id, "name": application.name, "scopes": codes},
            request=request,
        )
    return consent


@transaction.atomic
def revoke_application_access(
    consent: Consent, actor: User | None = None, request: HttpRequest | None = None
) -> None:
    """Withdraw the resident's consent for an application: every token and pending code it
    holds for that resident stops working, and the next sign-in asks for consent again."""
    if consent.grantee_kind != Consent.GranteeKind.APPLICATION or consent.application_id is None:
        raise ValueError("not an application consent")
    now = timezone.now()
    locked = Consent.objects.select_for_update().get(pk=consent.pk)
    user_id, application_id = locked.resident_id, locked.application_id
    Consent.objects.filter(
        resident_id=user_id,
        grantee_kind=Consent.GranteeKind.APPLICATION,
        application_id=application_id,
        revoked_at__isnull=True,
    ).update(revoked_at=now)
    for refresh in get_refresh_token_model().objects.filter(
        user_id=user_id, application_id=application_id, revoked__isnull=True
    ):
        refresh.revoke()
    get_access_token_model().objects.filter(user_id=user_id, application_id=application_id).delete()
    get_grant_model().objects.filter(user_id=user_id, application_id=application_id).delete()
    get_id_token_model().objects.filter(user_id=user_id, application_id=application_id).delete()
    consent.revoked_at = locked.revoked_at or now
    resident = locked.resident
    record(
        "identity.oidc_revoke",
        actor=actor or resident,
        subject=locked,
        data={"application": locked.application.client_id, "name": locked.application.name},
        request=request,
    )


# --- Clients -----------------------------------------------------------------------------------

def _validate_name(name: str) -> list[str]:
    errors = []
    if not name:
        errors.append(_("Escribe el nombre de la aplicación."))
    elif len(name) > NAME_MAX_LENGTH:
        errors.append(
            _("El nombre de la aplicación debe tener %(max)d caracteres o menos.") % {"max": NAME_MAX_LENGTH}
        )
    elif _FORBIDDEN_NAME_CHARS.search(name):
        errors.append(_("El nombre de la aplicación no puede llevar los signos < o > ni caracteres de control."))
    return errors


def _validate_redirect_uri(uri: str) -> list[str]:
    allowed = list(oauth2_settings.ALLOWED_REDIRECT_URI_SCHEMES)
    try:
        parts = urlsplit(uri)
    except ValueError:
        return [_("La dirección de retorno «%(uri)s» no es válida.") % {"uri": uri[:200]}]
    if any(ch.isspace() for ch in uri) or _FORBIDDEN_NAME_CHARS.search(uri):
        return [_("La dirección de retorno no puede llevar espacios ni los signos < o >.")]
    if parts.scheme not in allowed:
        return [
            _("La dirección de retorno «%(uri)s» debe empezar con %(schemes)s.")
            % {"uri": uri[:200], "schemes": " o ".join(f"{s}://" for s in allowed)}
        ]
    if not parts.hostname:
        return [_("La dirección de retorno «%(uri)s» debe incluir el dominio.") % {"uri": uri[:200]}]
    if parts.fragment:
        return [_("La dirección de retorno «%(uri)s» no puede llevar «#».") % {"uri": uri[:200]}]
    return []


@transaction.atomic
def register_client(
    name: str,
    redirect_uris: Sequence[str],
    *,
    post_logout_redirect_uris: Sequence[str] = (),
    actor: User | None = None,
) -> tuple[object, str]:
    """Register a municipal application as a confidential OpenID Connect client
    (authorization code + PKCE, RS256 ID tokens). Returns the application and its secret in
    clear text: only the hash is stored, so the secret cannot be shown again."""
    name = (name or "").strip()
    uris = [u.strip() for u in redirect_uris if u and u.strip()]
    logout_uris = [u.strip() for u in post_logout_redirect_uris if u and u.strip()]
    errors = _validate_name(name)
    if not uris:
        errors.append(_("Indica al menos una dirección de retorno (redirect URI)."))
    if len(uris) + len(logout_uris) > MAX_REDIRECT_URIS:
        errors.append(_("Registra como máximo %(max)d direcciones.") % {"max": MAX_REDIRECT_URIS})
    for uri in [*uris, *logout_uris]:
        errors.extend(_validate_redirect_uri(uri))
    if errors:
        raise ClientRegistrationError(errors)
    secret = generate_client_secret()
    application = Application(
        name=name,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(dict.fromkeys(uris)),
        post_logout_redirect_uris=" ".join(dict.fromkeys(logout_uris)),
        algorithm=Application.RS256_ALGORITHM,
        client_secret=secret,
        hash_client_secret=True,
        skip_authorization=False,
    )
    try:
        application.full_clean()
    except ValidationError as exc:
        raise ClientRegistrationError(
            [_("La aplicación no es válida: %(detail)s") % {"detail": "; ".join(exc.messages)}]
        ) from exc
    application.save()
    record(
        "identity.oidc_client_registered",
        actor=actor,
        subject=application,
        data={"client_id": application.client_id, "name": name, "redirect_uris": uris},
    )
    return application, secret


def list_clients() -> list:
    return list(Application.objects.order_by("name", "pk"))


def revoke_all_access(user: User, actor: User | None = None, request: HttpRequest | None = None) -> int:
    """Every application loses this person at once (deactivation): all consents revoked, all
    tokens and pending codes gone. Returns how many application consents were revoked."""
    consents = list(
        Consent.objects.filter(
            resident=user, grantee_kind=Consent.GranteeKind.APPLICATION, revoked_at__isnull=True,
            application__isnull=False,
        )
    )
    for consent in consents:
        revoke_application_access(consent, actor=actor, request=request)
    # Tokens issued without a recorded consent (e.g. skip_authorization clients) go too.
    for refresh in get_refresh_token_model().objects.filter(user=user, revoked__isnull=True):
        refresh.revoke()
    get_access_token_model().objects.filter(user=user).delete()
    get_grant_model().objects.filter(user=user).delete()
    get_id_token_model().objects.filter(user=user).delete()
    return len(consents)
