"""Online-procedure fixtures shared by every suite (listed in tests/conftest.py): the demo
business licence definition, published, and factories for drafts and submitted requests."""

from __future__ import annotations


import json
from pathlib import Path

import pytest

DEFINITIONS = Path(__file__).resolve().parent.parent / "ventanilla" / "procedures" / "demo" / "definitions.json"

# Answers that complete every page of the business licence (TOR-DGDE-001).
LICENCE_PAGES = {
    "negocio": {"nombre_comercial": "Abarrotes Doña Lupita", "giro": "abarrotes", "superficie": "48"},
    "fiscal": {"rfc": "GODE561231GR8"},
    "local": {
        "domicilio.road_type": "AVENIDA", "domicilio.road_name": "Juárez", "domicilio.exterior_number": "1250",
        "domicilio.settlement_type": "COLONIA", "domicilio.settlement_name": "Centro",
        "domicilio.postal_code": "27000", "domicilio.locality": "Torreón", "domicilio.municipality": "Torreón",
        "domicilio.state": "Coahuila de Zaragoza", "clave_catastral": "001-045-012", "local_rentado": "no",
    },
}

def _tiny_pdf() -> bytes:
    """The smallest well-formed PDF (header, objects, xref table, trailer, startxref, %%EOF)."""
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


TINY_PDF = _tiny_pdf()


def demo_spec(clave: str) -> dict:
    return json.loads(DEFINITIONS.read_text(encoding="utf-8"))[clave]


@pytest.fixture
def licence(db, make_procedure, department):
    """The low-impact business licence, online, with its demo definition published."""
    from ventanilla.catalog import services as catalog
    from ventanilla.organization.models import Department
    from ventanilla.procedures import services

    Department.objects.get_or_create(slug="proteccion-civil", defaults={"name": "Protección Civil", "acronym": "PC"})
    catalog.upsert_document_type(code="COMPROBANTE_DOMICILIO", name="Comprobante de domicilio")
    catalog.upsert_document_type(code="USO_SUELO", name="Factibilidad de uso de suelo", held_by_city=True)
    procedure = make_procedure(
        publish=True, clave="TOR-DGDE-001", name="Licencia de funcionamiento para negocio de bajo impacto",
        cost_kind="fixed", cost_amount_centavos=82000, response_days=3, ficta="negativa", correction_days=5,
    )
    definition = services.get_or_create_definition(procedure)
    services.save_draft_spec(definition, demo_spec("TOR-DGDE-001"), by=None)
    services.publish_definition(definition, by=None)
    definition.refresh_from_db()
    return definition


@pytest.fixture
def upload_pdf():
    """Stores a small PDF in a resident's file and returns the ResidentDocument."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from ventanilla.files import services as files
    from ventanilla.files import uploads

    def store(owner, *, title: str = "Identificación", document_type: str = "INE"):
        checked = uploads.check_upload(SimpleUploadedFile(f"{document_type.lower()}.pdf", TINY_PDF, "application/pdf"))
        return files.store_upload(owner, checked, title=title, document_type=document_type)

    return store


@pytest.fixture
def fill_licence(licence, upload_pdf):
    """Returns a function that takes a draft of the licence through every page and document."""
    from ventanilla.procedures import services

    def fill(request):
        for page, data in LICENCE_PAGES.items():
            result = services.save_page(request, page, data)
            assert result.ok, result.errors
        for slot, doc_type in (("identificacion", "INE"), ("comprobante_domicilio", "COMPROBANTE_DOMICILIO")):
            doc = upload_pdf(request.applicant, document_type=doc_type)
            services.attach_document(request, slot, doc.public_id, source="uploaded")
        request.refresh_from_db()
        return request

    return fill


@pytest.fixture
def submitted_request(licence, fill_licence, make_resident):
    """A factory: a licence request filed online by a new (or the given) resident."""
    from ventanilla.procedures import services

    def factory(applicant=None, **kwargs):
        applicant = applicant or make_resident()
        request = services.start_draft(licence, applicant=applicant, **kwargs)
        fill_licence(request)
        return services.submit(request, actor=kwargs.get("filed_by") or applicant)

    return factory


@pytest.fixture
def reviewers(make_official, licence):
    """A reviewer of Desarrollo Económico and one of Protección Civil (the licence's two steps)."""
    from ventanilla.organization.models import Department

    de = Department.objects.get(slug="desarrollo-economico")
    pc = Department.objects.get(slug="proteccion-civil")
    return make_official("reviewer", department=de), make_official("reviewer", department=pc)



