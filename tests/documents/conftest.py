"""The documents suite: the session's demonstration CA (tests.documents_fixtures) and helpers."""

from __future__ import annotations

import pytest

from tests.documents_fixtures import signing_demo_ca  # noqa: F401  (also when run on its own)


@pytest.fixture
def issue_document(make_resident):
    """Issue a document with sensible defaults; keyword arguments override them."""
    from ventanilla.documents import services

    def factory(**kwargs):
        defaults = {
            "kind": "certificate",
            "owner": kwargs.pop("owner", None) or make_resident(),
            "title": "Constancia de no adeudo del impuesto predial",
            "folio": "TES-2026-000123",
            "fields": [("Clave catastral", "001-002-003"), ("Domicilio", "Av. Morelos 1200, Centro")],
            "paragraphs": ["Se hace constar que el predio no tiene adeudos a la fecha de emisión."],
        }
        defaults.update(kwargs)
        return services.issue(**defaults)

    return factory
