"""Mi expediente's pages: who may see what, uploads through the form, downloads, the ARCO archive."""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import pytest
from django.test import Client
from django.urls import reverse

from ventanilla.audit.models import AuditEntry
from ventanilla.files import sections, selectors, services
from ventanilla.files.models import ResidentDocument
from ventanilla.identity.models import Consent, Role
from ventanilla.identity.services import open_resident_record

from .conftest import make_pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def test_section():
    """A section as another app would register it, removed afterwards."""
    section = sections.register(sections.Section(
        key="prueba",
        title="Sección de prueba",
        template_name="files/tests/section.html",
        context=lambda user: {"who": user.email},
        export=lambda user: {"mios.json": json.dumps({"correo": user.email}).encode(),
                             "../../fuera.txt": b"path traversal stays inside the folder"},
    ))
    yield section
    sections.unregister("prueba")


@pytest.fixture(autouse=True)
def _section_template(settings, tmp_path):
    folder = tmp_path / "templates" / "files" / "tests"
    folder.mkdir(parents=True)
    (folder / "section.html").write_text("<p>Contenido de prueba para {{ who }}</p>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path / "templates"]}]


def login(client, user):
    client.force_login(user)
    return client


# --- Authorization, every URL ---------------------------------------------------------------------

def urls_for(doc):
    return [
        ("get", reverse("files:home")),
        ("get", reverse("files:upload")),
        ("get", reverse("files:archive")),
        ("get", reverse("files:document", args=[doc.public_id])),
        ("get", reverse("files:delete", args=[doc.public_id])),
        ("post", reverse("files:delete", args=[doc.public_id])),
    ]


def test_anonymous_is_sent_to_sign_in(client, make_resident, store_pdf):
    doc = store_pdf(make_resident())
    for method, url in urls_for(doc) + [("post", reverse("files:upload"))]:
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("identity:login") + "?next="), url


def test_another_resident_gets_404_for_someone_else_s_document(client, make_resident, store_pdf):
    doc = store_pdf(make_resident(), title="Acta privada de otra persona")
    login(client, make_resident())
    assert client.get(reverse("files:document", args=[doc.public_id])).status_code == 404
    assert client.post(reverse("files:delete", args=[doc.public_id])).status_code == 404
    assert client.get(reverse("files:delete", args=[doc.public_id])).status_code == 404
    assert client.get(reverse("files:document", args=[uuid.uuid4()])).status_code == 404
    assert ResidentDocument.objects.filter(pk=doc.pk).exists()
    home = client.get(reverse("files:home"))
    assert doc.title not in home.content.decode()


def test_officials_see_only_their_own(client, make_resident, make_official, login_official, store_pdf):
    resident_doc = store_pdf(make_resident(), title="Documento de la residente")
    official = make_official(Role.PLATFORM_ADMIN)
    login_official(official)
    own = store_pdf(official, title="Documento del servidor")
    assert client.get(reverse("files:document", args=[resident_doc.public_id])).status_code == 404
    assert client.post(reverse("files:delete", args=[resident_doc.public_id])).status_code == 404
    assert client.get(reverse("files:delete", args=[resident_doc.public_id])).status_code == 404
    page = client.get(reverse("files:home")).content.decode()
    assert "Documento del servidor" in page and "Documento de la residente" not in page
    assert client.get(reverse("files:document", args=[own.public_id])).status_code == 200
    archive = client.get(reverse("files:archive"))
    names = zipfile.ZipFile(io.BytesIO(b"".join(archive.streaming_content))).namelist()
    assert not any(str(resident_doc.public_id)[:8] in n for n in names)


def test_wrong_methods(client, make_resident, store_pdf):
    owner = make_resident()
    doc = store_pdf(owner)
    login(client, owner)
    assert client.put(reverse("files:delete", args=[doc.public_id])).status_code == 405
    assert client.post(reverse("files:home")).status_code == 405
    assert client.post(reverse("files:archive")).status_code == 405


# --- The page ---------------------------------------------------------------------------------------

def test_home_lists_documents_then_sections_then_my_data(client, make_resident, store_pdf, test_section, doc_ine):
    owner = make_resident()
    store_pdf(owner, title="Mi credencial", document_type="INE")
    login(client, owner)
    response = client.get(reverse("files:home"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    html = response.content.decode()
    assert "Mi credencial" in html and "Identificación oficial vigente" in html and "comprobante.pdf" in html
    assert f"Contenido de prueba para {owner.email}" in html
    order = [html.index(s) for s in ("Mis documentos", "Sección de prueba", "Mis datos y consentimientos")]
    assert order == sorted(order)
    assert reverse("identity:my_data") in html
    assert 'name="document_type"' in html and 'value="INE"' in html


def test_home_shows_consents_and_accesses(client, make_resident, make_official, department):
    owner = make_resident()
    Consent.objects.create(resident=owner, grantee_kind="department", grantee_label="Tesorería Municipal",
                           scope="Comprobante de domicilio", purpose="Predial")
    clerk = make_official(Role.COUNTER_CLERK, department=department)
    open_resident_record(clerk, owner.curp, "Verificación de identidad en ventanilla")
    login(client, owner)
    html = client.get(reverse("files:home")).content.decode()
    assert "Tesorería Municipal" in html
    assert "Verificación de identidad en ventanilla" in html
    assert "1 consulta registrada" in html


def test_header_links_for_signed_in_residents(client, make_resident):
    page = client.get(reverse("portal:home")).content.decode()
    assert reverse("files:home") not in page
    login(client, make_resident())
    page = client.get(reverse("portal:home")).content.decode()
    assert reverse("files:home") in page and reverse("notifications:inbox") in page


# --- Upload ----------------------------------------------------------------------------------------

def post_upload(client, data: bytes, name="comprobante.pdf", content_type="application/pdf", **fields):
    from django.core.files.uploadedfile import SimpleUploadedFile

    payload = {"title": "Comprobante de domicilio", "document_type": "", **fields,
               "file": SimpleUploadedFile(name, data, content_type=content_type)}
    return client.post(reverse("files:upload"), payload)


def test_upload_stores_encrypted_and_redirects(client, make_resident, pdf_bytes, doc_ine):
    owner = make_resident()
    login(client, owner)
    assert client.get(reverse("files:upload")).status_code == 200
    response = post_upload(client, pdf_bytes, document_type="INE")
    assert response.status_code == 302 and response["Location"] == reverse("files:home")
    doc = ResidentDocument.objects.get(owner=owner)
    assert doc.document_type == "INE" and doc.title == "Comprobante de domicilio"
    assert selectors.read_content(doc) == pdf_bytes
    assert "Guardamos «Comprobante de domicilio»" in client.get(reverse("files:home")).content.decode()


@pytest.mark.parametrize("data,name,ctype,message", [
    (b"MZ\x90\x00 executable", "virus.pdf", "application/pdf", "no es un PDF, JPG ni PNG"),
    (b"", "vacio.pdf", "application/pdf", "está vacío"),
    (None, "foto.png", "image/png", "se llama como PNG pero su contenido es PDF"),
])
def test_bad_uploads_are_400_with_a_message(client, make_resident, pdf_bytes, data, name, ctype, message):
    owner = make_resident()
    login(client, owner)
    response = post_upload(client, pdf_bytes if data is None else data, name=name, content_type=ctype)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ResidentDocument.objects.exists()


def test_upload_form_errors(client, make_resident, pdf_bytes):
    login(client, make_resident())
    response = post_upload(client, pdf_bytes, title="")
    assert response.status_code == 400
    response = post_upload(client, pdf_bytes, title="<script>alert(1)</script>", document_type="NO-EXISTE")
    assert response.status_code == 400 and "<script>alert(1)</script>" not in response.content.decode()
    response = client.post(reverse("files:upload"), {"title": "Sin archivo"})
    assert response.status_code == 400
    assert not ResidentDocument.objects.exists()


def test_oversized_request_is_refused_before_reading_it(client, make_resident, settings, pdf_bytes):
    settings.VENTANILLA_UPLOAD_MAX_BYTES = 1024
    login(client, make_resident())
    big = pdf_bytes + b"%" * (200 * 1024)
    response = post_upload(client, big)
    assert response.status_code == 413
    assert "el máximo por archivo es 1 KB" in response.content.decode()
    assert not ResidentDocument.objects.exists()


def test_upload_needs_the_csrf_token(make_resident, pdf_bytes):
    client = Client(enforce_csrf_checks=True)
    login(client, make_resident())
    assert post_upload(client, pdf_bytes).status_code == 403
    assert not ResidentDocument.objects.exists()


# --- Download and delete ---------------------------------------------------------------------------

def test_download_is_an_attachment_with_nosniff(client, make_resident, store_pdf, pdf_bytes):
    owner = make_resident()
    doc = store_pdf(owner, data=pdf_bytes)
    login(client, owner)
    response = client.get(reverse("files:document", args=[doc.public_id]))
    assert response.status_code == 200
    assert response.content == pdf_bytes
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="comprobante.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"


def test_delete_own_upload(client, make_resident, store_pdf):
    owner = make_resident()
    doc = store_pdf(owner, title="Recibo viejo")
    login(client, owner)
    confirm = client.get(reverse("files:delete", args=[doc.public_id]))
    assert confirm.status_code == 200 and "¿Borrar «Recibo viejo» de tu expediente?" in confirm.content.decode()
    assert ResidentDocument.objects.filter(pk=doc.pk).exists()  # asking is not deleting
    response = client.post(reverse("files:delete", args=[doc.public_id]))
    assert response.status_code == 302
    assert not ResidentDocument.objects.filter(pk=doc.pk).exists()


def test_issued_documents_have_no_delete_button_and_are_refused(client, make_resident):
    owner = make_resident()
    doc = services.store_issued(owner, title="Licencia", document_type="", pdf=make_pdf(), issued_document=uuid.uuid4())
    login(client, owner)
    html = client.get(reverse("files:home")).content.decode()
    assert reverse("files:delete", args=[doc.public_id]) not in html
    response = client.post(reverse("files:delete", args=[doc.public_id]), follow=True)
    assert "no se pueden borrar" in response.content.decode()
    response = client.get(reverse("files:delete", args=[doc.public_id]), follow=True)
    assert "no se pueden borrar" in response.content.decode()
    assert ResidentDocument.objects.filter(pk=doc.pk).exists()


# --- ARCO archive ---------------------------------------------------------------------------------

def read_zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="mi-expediente-')
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_archive_holds_every_part_and_nothing_of_another_resident(
        client, make_resident, make_official, department, store_pdf, test_section):
    ana = make_resident(given_names="Ana", email="ana@example.mx")
    beto = make_resident(given_names="Beto", email="beto@example.mx", phone="8712223344")
    ana_pdf, beto_pdf = make_pdf("PDF DE ANA"), make_pdf("PDF DE BETO")
    ana_doc = store_pdf(ana, title="Acta de Ana", data=ana_pdf)
    store_pdf(beto, title="Acta de Beto", data=beto_pdf)
    for who, label in ((ana, "Permiso de Ana"), (beto, "Permiso de Beto")):
        Consent.objects.create(resident=who, grantee_kind="department", grantee_label=label, scope="x", purpose="y")
    clerk = make_official(Role.COUNTER_CLERK, department=department)
    open_resident_record(clerk, ana.curp, "Consulta sobre Ana en ventanilla")
    open_resident_record(clerk, beto.curp, "Consulta sobre Beto en ventanilla")
    from ventanilla.notifications.services import notify
    notify(ana, subject="Aviso para Ana", body="Tu trámite avanzó.")
    notify(beto, subject="Aviso para Beto", body="Tu trámite avanzó.")

    login(client, ana)
    archive = read_zip(client.get(reverse("files:archive")))
    names = archive.namelist()
    assert "datos.json" in names and "LEEME.txt" in names
    data = json.loads(archive.read("datos.json"))
    assert data["titular"]["correo"] == "ana@example.mx" and data["titular"]["curp"] == ana.curp
    assert [c["a_quien"] for c in data["permisos_otorgados"]] == ["Permiso de Ana"]
    assert [a["motivo"] for a in data["consultas_a_tus_datos"]] == ["Consulta sobre Ana en ventanilla"]
    assert data["documentos"][0]["nombre"] == "Acta de Ana"
    doc_names = [n for n in names if n.startswith("documentos/")]
    assert len(doc_names) == 1 and archive.read(doc_names[0]) == ana_pdf
    assert doc_names[0] == data["documentos"][0]["archivo"] and str(ana_doc.public_id)[:8] in doc_names[0]
    # Registered sections' exports, each in its own folder, names kept inside it.
    assert json.loads(archive.read("prueba/mios.json")) == {"correo": "ana@example.mx"}
    assert "prueba/fuera.txt" in names and not any(".." in n for n in names)
    assert [n["asunto"] for n in json.loads(archive.read("avisos/avisos.json"))] == ["Aviso para Ana"]
    # Nothing of Beto anywhere in the archive.
    everything = b"".join(archive.read(n) for n in names)
    for needle in (b"Beto", b"beto@example.mx", beto.curp.encode(), b"PDF DE BETO", b"8712223344"):
        assert needle not in everything
    entry = AuditEntry.objects.filter(action="files.arco_access_export").get()
    assert entry.actor_id == ana.pk


def test_archive_for_an_empty_file(client, make_resident):
    login(client, make_resident())
    archive = read_zip(client.get(reverse("files:archive")))
    data = json.loads(archive.read("datos.json"))
    assert data["documentos"] == [] and data["permisos_otorgados"] == []
    assert archive.testzip() is None


def test_uploads_never_touch_the_disk(client, make_resident, settings, pdf_bytes, monkeypatch):
    """Even above FILE_UPLOAD_MAX_MEMORY_SIZE, the plaintext never goes to a temporary file."""
    from django.core.files import uploadhandler

    def no_disk(*args, **kwargs):
        raise AssertionError("a resident's document was written to a temporary file")

    monkeypatch.setattr(uploadhandler, "TemporaryUploadedFile", no_disk)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10
    owner = make_resident()
    login(client, owner)
    assert post_upload(client, pdf_bytes).status_code == 302
    assert selectors.read_content(ResidentDocument.objects.get(owner=owner)) == pdf_bytes


def test_file_slightly_over_the_limit_is_refused_with_its_size(client, make_resident, settings, pdf_bytes):
    settings.VENTANILLA_UPLOAD_MAX_BYTES = len(pdf_bytes) - 100  # within the multipart allowance
    login(client, make_resident())
    response = post_upload(client, pdf_bytes)
    assert response.status_code == 400
    assert "pesa" in response.content.decode() and "el máximo es" in response.content.decode()
    assert not ResidentDocument.objects.exists()


def test_my_data_links_to_the_archive(client, make_resident):
    login(client, make_resident())
    html = client.get(reverse("identity:my_data")).content.decode()
    assert reverse("files:archive") in html and reverse("files:home") in html
