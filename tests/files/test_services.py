"""files.services and files.selectors: ownership, issued copies, deletion rules, audit."""

from __future__ import annotations

import uuid

import pytest

from ventanilla.audit.models import AuditEntry
from ventanilla.files import selectors, services
from ventanilla.files.models import ResidentDocument
from ventanilla.files.uploads import UploadRejected, check_upload

from .conftest import make_pdf, uploaded

pytestmark = pytest.mark.django_db


def test_store_upload_records_and_audits(make_resident, pdf_bytes, doc_ine):
    owner = make_resident()
    checked = check_upload(uploaded(pdf_bytes, "ine.pdf"))
    doc = services.store_upload(owner, checked, title="  Mi   INE ", document_type="INE")
    assert (doc.title, doc.document_type, doc.filename, doc.mime, doc.size, doc.source) == (
        "Mi INE", "INE", "ine.pdf", "application/pdf", len(pdf_bytes), "uploaded")
    assert doc.sha256 == checked.sha256
    entry = AuditEntry.objects.get(action="files.document_uploaded")
    assert entry.actor_id == owner.pk and entry.data["public_id"] == str(doc.public_id)


def test_store_upload_validates_title(make_resident, pdf_bytes):
    checked = check_upload(uploaded(pdf_bytes))
    for title in ["", "   ", "x" * 201]:
        with pytest.raises(services.FileError) as exc:
            services.store_upload(make_resident(), checked, title=title)
        assert exc.value.field == "title"
    assert not ResidentDocument.objects.exists()
    with pytest.raises(TypeError):
        services.store_upload(make_resident(), pdf_bytes, title="x")


def test_resident_file_has_a_maximum(make_resident, store_pdf, settings):
    settings.VENTANILLA_FILES_MAX_PER_RESIDENT = 2
    owner = make_resident()
    store_pdf(owner)
    store_pdf(owner)
    with pytest.raises(UploadRejected, match="como máximo 2 archivos"):
        store_pdf(owner)
    assert ResidentDocument.objects.filter(owner=owner).count() == 2


def test_selectors_only_return_the_owner_s(make_resident, store_pdf):
    ana, beto = make_resident(), make_resident()
    doc = store_pdf(ana, document_type="INE")
    store_pdf(beto)
    assert list(selectors.documents_of(ana)) == [doc]
    assert list(selectors.documents_of(ana, document_type="INE")) == [doc]
    assert not selectors.documents_of(ana, document_type="ACTA").exists()
    assert selectors.document_of(ana, doc.public_id) == doc
    assert selectors.document_of(ana, str(doc.public_id)) == doc
    assert selectors.document_of(beto, doc.public_id) is None
    assert selectors.document_of(ana, "no-es-uuid") is None
    assert selectors.document_of(ana, uuid.uuid4()) is None
    assert selectors.document_by_public_id(doc.public_id) == doc
    assert selectors.document_by_public_id("basura") is None


def test_lists_do_not_load_the_encrypted_bytes(make_resident, store_pdf):
    owner = make_resident()
    store_pdf(owner)
    doc = selectors.documents_of(owner).get()
    assert {"content", "wrapped_key"} <= doc.get_deferred_fields()


def test_store_issued_is_idempotent_and_readable(make_resident):
    owner = make_resident()
    pdf = make_pdf("Licencia de funcionamiento")

    class Issued:  # what documents.IssuedDocument offers (public_id, folio)
        public_id = uuid.uuid4()
        folio = "TOR/LIC/2026/0001"

    doc = services.store_issued(owner, title="Licencia de funcionamiento", document_type="", pdf=pdf,
                                issued_document=Issued)
    again = services.store_issued(owner, title="Licencia de funcionamiento", document_type="", pdf=pdf,
                                  issued_document=Issued.public_id)
    assert again.pk == doc.pk
    assert doc.source == "issued" and doc.issued_document == Issued.public_id
    assert doc.filename == "TOR-LIC-2026-0001.pdf"
    assert selectors.read_content(doc) == pdf
    assert AuditEntry.objects.filter(action="files.document_issued_stored").count() == 1


def test_resident_deletes_own_upload_only(make_resident, store_pdf):
    ana, beto = make_resident(), make_resident()
    doc = store_pdf(ana)
    with pytest.raises(services.FileError):
        services.delete_document(beto, doc)
    assert ResidentDocument.objects.filter(pk=doc.pk).exists()
    services.delete_document(ana, doc)
    assert not ResidentDocument.objects.filter(pk=doc.pk).exists()
    entry = AuditEntry.objects.get(action="files.document_deleted")
    assert entry.actor_id == ana.pk and entry.data["public_id"] == str(doc.public_id)


def test_issued_documents_cannot_be_deleted(make_resident):
    owner = make_resident()
    doc = services.store_issued(owner, title="Acuse", document_type="", pdf=make_pdf(), issued_document=uuid.uuid4())
    with pytest.raises(services.FileError, match="expidió el municipio"):
        services.delete_document(owner, doc)
    assert ResidentDocument.objects.filter(pk=doc.pk).exists()


def test_delete_guards_protect_documents_in_use(make_resident, store_pdf):
    owner = make_resident()
    doc = store_pdf(owner)

    def guard(d):
        return "Este documento está en tu solicitud TOR-1." if d.pk == doc.pk else None

    services.register_delete_guard(guard)
    try:
        with pytest.raises(services.FileError, match="TOR-1"):
            services.delete_document(owner, doc)
    finally:
        services.unregister_delete_guard(guard)
    assert ResidentDocument.objects.filter(pk=doc.pk).exists()
