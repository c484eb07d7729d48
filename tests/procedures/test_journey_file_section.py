"""The "Mis solicitudes" section of Mi expediente and its part of the ARCO archive."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.urls import reverse

from ventanilla.files import sections
from ventanilla.procedures import file_section, services

from .journey_support import file_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def registered():
    """The section as ProceduresConfig.ready() registers it; whatever was there is put back."""
    before = next((s for s in sections.registered() if s.key == file_section.SECTION_KEY), None)
    file_section.register()
    yield
    if before is None:
        sections.unregister(file_section.SECTION_KEY)
    else:
        sections.register(before)


def test_export_holds_my_requests_with_answers_status_dates_and_public_history(licence, make_resident, reviewers):
    resident = make_resident()
    filed = file_request(licence, resident)
    services.add_note(filed, official=reviewers[0], text="Nota interna que el residente no ve")
    services.send_message(filed, sender=reviewers[0], text="Gracias, la revisamos.")
    draft = services.start_draft(licence, applicant=resident)
    file_request(licence, make_resident())  # someone else's

    rows = json.loads(file_section.export(resident)["solicitudes.json"])
    assert [r["id"] for r in rows] == [str(filed.public_id), str(draft.public_id)]
    first = rows[0]
    assert first["folio"] == filed.folio and first["estado"] == "in_review" and first["estado_texto"] == "En revisión"
    assert first["respuestas"]["nombre_comercial"] == "Abarrotes Doña Lupita"
    assert first["presentada"] and first["fecha_limite_respuesta"] and first["tramite"]["clave"] == "TOR-DGDE-001"
    assert {d["documento"] for d in first["documentos"]} == {"identificacion", "comprobante_domicilio"}
    events = [e["evento"] for e in first["historial"]]
    assert events == ["created", "submitted", "message"]
    assert "Nota interna" not in json.dumps(rows, ensure_ascii=False)
    assert rows[1]["estado"] == "draft" and rows[1]["borrador_vence"]


def test_section_on_mi_expediente_and_in_the_archive(client, registered, licence, make_resident):
    resident = make_resident()
    filed = file_request(licence, resident)
    client.force_login(resident)
    page = client.get(reverse("files:home")).content.decode()
    assert "Mis solicitudes" in page and filed.folio in page
    assert reverse("procedures:status", args=[filed.public_id]) in page
    archive = b"".join(client.get(reverse("files:archive")).streaming_content)
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        names = zf.namelist()
        name = next(n for n in names if n.endswith("solicitudes/solicitudes.json"))
        assert json.loads(zf.read(name))[0]["folio"] == filed.folio


def test_empty_section(client, registered, make_resident):
    client.force_login(make_resident())
    assert "Todavía no has iniciado solicitudes en línea." in client.get(reverse("files:home")).content.decode()
