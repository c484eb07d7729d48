"""System check: in production the municipality's signing key must be configured and loadable
(`manage.py check`, `migrate` and every management command report it before anything is issued)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured


@register()
def signing_key_configured(app_configs=None, **kwargs) -> list[Error]:
    if not getattr(settings, "PRODUCTION", False):
        return []
    from . import signing

    try:
        signing.material()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), hint="docs/documents.md: configurar un certificado real.", id="documents.E001")]
    return []
