"""The RSA key that signs OpenID Connect ID tokens.

Production: `VENTANILLA_OIDC_PRIVATE_KEY` (PEM text) or `VENTANILLA_OIDC_KEY_PATH` (a file every
web worker can read). Development and tests: a key is generated once into var/ (never committed).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.conf import settings


def _generate_pem() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private_key_pem() -> str:
    pem = os.environ.get("VENTANILLA_OIDC_PRIVATE_KEY")
    if pem:
        return pem
    path = Path(settings.OIDC_KEY_PATH)
    if not path.exists():
        if settings.PRODUCTION:
            raise RuntimeError(
                "Configure VENTANILLA_OIDC_PRIVATE_KEY or VENTANILLA_OIDC_KEY_PATH in production."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        # Several workers may start at once: each writes a complete key to its own file, and only the
        # first to link it into place wins, so no worker ever reads a half-written (empty) key.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".oidc-key-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(_generate_pem())
            os.chmod(tmp, 0o600)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
    return path.read_text()


def install_signing_key() -> None:
    provider = settings.OAUTH2_PROVIDER
    if not provider.get("OIDC_RSA_PRIVATE_KEY"):
        provider["OIDC_RSA_PRIVATE_KEY"] = load_private_key_pem()
