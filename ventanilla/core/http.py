"""HTTP helpers shared by every app."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _normalized(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip().split("%", 1)[0]))
    except ValueError:
        return None


def client_ip(request: HttpRequest | None) -> str | None:
    """The visitor's IP address, normalised (so it hashes and compares the same everywhere).

    Behind a reverse proxy REMOTE_ADDR is the proxy's own address. X-Forwarded-For is believed
    only when the request comes from a proxy listed in VENTANILLA_TRUSTED_PROXIES, and then the
    address taken is the right-most one that is not itself a trusted proxy."""
    if request is None:
        return None
    remote = _normalized(request.META.get("REMOTE_ADDR", ""))
    trusted = {ip for ip in (_normalized(p) for p in settings.TRUSTED_PROXIES) if ip}
    if remote is None or remote not in trusted:
        return remote
    forwarded = [_normalized(part) for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed(forwarded):
        if hop is None:
            return remote  # a malformed chain: fall back to what we know for sure
        if hop not in trusted:
            return hop
    return remote
