"""Signing material for tests: one demonstration CA per test session, in a temporary folder,
so every suite can issue documents without setup. Listed in tests/conftest.py's pytest_plugins."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def signing_demo_ca(tmp_path_factory):
    """Points the signing settings at a fresh demonstration CA (session-wide, for every test)."""
    from django.conf import settings

    from ventanilla.documents.signing import create_demo_ca

    paths, _ = create_demo_ca(tmp_path_factory.mktemp("signing"))
    names = {
        "VENTANILLA_SIGNING_DEMO_DIR": paths.directory,  # `signing_demo_ca` (seed_demo) writes here
        "VENTANILLA_SIGNING_KEY": str(paths.signer_key),
        "VENTANILLA_SIGNING_CERT": str(paths.signer_cert),
        "VENTANILLA_SIGNING_CHAIN": [str(paths.root_cert)],
        "VENTANILLA_SIGNING_TRUST_ROOTS": [str(paths.root_cert)],
        "VENTANILLA_SIGNING_KEY_PASSWORD": "",
        "VENTANILLA_SIGNING_PREVIOUS_CERTS": [],
    }
    missing = object()
    saved = {name: getattr(settings, name, missing) for name in names}
    for name, value in names.items():
        setattr(settings, name, value)
    yield paths
    for name, value in saved.items():
        if value is missing:
            delattr(settings, name)
        else:
            setattr(settings, name, value)
