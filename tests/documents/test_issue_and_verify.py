"""Issuing and verifying signed documents: valid, revoked, unknown, and any alteration invalid."""

from __future__ import annotations

import hashlib
import random
import re

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ventanilla.audit.models import AuditEntry
from ventanilla.documents import selectors, services, signing
from ventanilla.documents.models import IssuedDocument
from ventanilla.documents.rendering import verification_url

pytestmark = pytest.mark.django_db


def contents_span(pdf: bytes) -> tuple[int, int]:
    """Start and end (exclusive) of the signature's /Contents hex string, from its /ByteRange."""
    match = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    assert match, "no /ByteRange"
    a, b, c, d = (int(x) for x in match.groups())
    assert a == 0 and c + d == len(pdf)
    return b, c


def test_issue_stores_a_signed_pdf_that_verifies_as_valid(issue_document):
    document = issue_document()
    stored = IssuedDocument.objects.get(pk=document.pk)
    pdf = bytes(stored.pdf)
    assert pdf.startswith(b"%PDF-")
    assert stored.sha256 == hashlib.sha256(pdf).hexdigest()
    assert stored.fields == [["Clave catastral", "001-002-003", False], ["Domicilio", "Av. Morelos 1200, Centro", False]]
    result = services.verify_pdf(pdf)
    assert result.status == "valid"
    assert result.document == stored
    assert "auténtico" in result.message


def test_signature_is_pades_by_the_municipal_certificate(issue_document, signing_demo_ca):
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader

    pdf = bytes(issue_document().pdf)
    reader = PdfFileReader(BytesIO(pdf))
    (embedded,) = reader.embedded_signatures
    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert "Municipio de Torreón (demostración)" in embedded.signer_cert.subject.human_friendly
    assert str(reader.root[signing.CATALOG_KEY]) == str(IssuedDocument.objects.get().public_id)


def test_revoked_document_verifies_as_revoked_with_reason_and_audit(issue_document, make_official):
    from ventanilla.identity.models import Role

    admin = make_official(Role.PLATFORM_ADMIN)
    document = issue_document()
    services.revoke(document, reason="Se emitió con un domicilio equivocado.", by=admin)
    stored = IssuedDocument.objects.get(pk=document.pk)
    assert stored.revoked_at is not None and stored.revoked_by == admin
    assert stored.revoked_reason == "Se emitió con un domicilio equivocado."
    result = services.verify_pdf(bytes(stored.pdf))
    assert result.status == "revoked"
    assert result.document.revoked_reason == "Se emitió con un domicilio equivocado."
    entry = AuditEntry.objects.get(action="documents.revoke")
    assert entry.actor_id == admin.pk and entry.data["public_id"] == str(document.public_id)


def test_revoke_needs_a_reason_and_happens_once(issue_document, make_official):
    document = issue_document()
    admin = make_official()
    with pytest.raises(services.DocumentError, match="motivo"):
        services.revoke(document, reason="   ", by=admin)
    with pytest.raises(services.DocumentError, match="largo"):
        services.revoke(document, reason="x" * 501, by=admin)
    services.revoke(document, reason="Error de captura", by=admin)
    with pytest.raises(services.DocumentError, match="ya estaba revocado"):
        services.revoke(document, reason="otra vez", by=admin)
    assert AuditEntry.objects.filter(action="documents.revoke").count() == 1


def test_signed_by_our_key_but_not_in_the_register_is_unknown(issue_document):
    document = issue_document()
    pdf = bytes(document.pdf)
    IssuedDocument.objects.filter(pk=document.pk).delete()
    result = services.verify_pdf(pdf)
    assert result.status == "unknown"
    assert result.document is None


def test_issue_is_idempotent_on_kind_and_source_ref(issue_document, make_resident):
    owner = make_resident()
    first = issue_document(owner=owner, source_ref="procedures.request:abc", kind="acuse")
    again = issue_document(owner=owner, source_ref="procedures.request:abc", kind="acuse", folio="OTRO")
    assert again.pk == first.pk and again.folio == first.folio
    assert isinstance(again.pdf, bytes) and again.pdf == first.pdf  # bytes on every database
    # Another kind for the same source is another document; an empty source_ref never collides.
    other_kind = issue_document(owner=owner, source_ref="procedures.request:abc", kind="resolution")
    assert other_kind.pk != first.pk
    issue_document(owner=owner)
    issue_document(owner=owner)
    assert IssuedDocument.objects.count() == 4
    assert selectors.document_for_source("acuse", "procedures.request:abc") == first
    assert selectors.document_for_source("acuse", "") is None


def test_concurrent_issue_of_the_same_source_returns_the_first(issue_document, monkeypatch):
    first = issue_document(source_ref="pagos:1", kind="receipt")
    # As if another request had inserted it between our check and our insert.
    original = IssuedDocument.objects.filter

    calls = {"n": 0}

    def filter_missing_once(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            return IssuedDocument.objects.none()
        return original(*args, **kwargs)

    monkeypatch.setattr(IssuedDocument.objects, "filter", filter_missing_once)
    again = issue_document(source_ref="pagos:1", kind="receipt")
    assert again.pk == first.pk
    monkeypatch.undo()
    assert IssuedDocument.objects.count() == 1


def test_a_rollback_leaves_nothing(issue_document):
    with pytest.raises(RuntimeError), transaction.atomic():
        issue_document(source_ref="procedures.request:x")
        raise RuntimeError("the caller failed after issuing")
    assert IssuedDocument.objects.count() == 0
    assert selectors.document_for_source("certificate", "procedures.request:x") is None


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kind": "carta"}, "Tipo de documento"),
        ({"title": " "}, "título"),
        ({"folio": ""}, "folio"),
        ({"folio": None}, "folio"),
        ({"folio": "x" * 65}, "folio"),
        ({"source_ref": "x" * 201}, "referencia"),
    ],
)
def test_issue_rejects_bad_input(issue_document, kwargs, message):
    with pytest.raises(services.DocumentError, match=message):
        issue_document(**kwargs)
    assert IssuedDocument.objects.count() == 0


def test_selectors(issue_document, make_resident):
    owner, other = make_resident(), make_resident()
    mine = issue_document(owner=owner)
    issue_document(owner=other)
    assert list(selectors.documents_of(owner)) == [mine]
    assert selectors.document_by_public_id(mine.public_id) == mine
    assert selectors.document_by_public_id(str(mine.public_id)) == mine
    assert selectors.document_by_public_id("no-es-uuid") is None
    assert selectors.document_of(owner, mine.public_id) == mine
    assert selectors.document_of(other, mine.public_id) is None
    assert selectors.search(mine.folio[:8])[0].folio == mine.folio
    assert selectors.search(str(mine.public_id)) == [mine]
    assert selectors.search("") == []


# --- Alterations -----------------------------------------------------------------------------


def sampled_positions(pdf: bytes, count: int = 200) -> list[int]:
    """Positions across the whole file: the first signed range, the signature contents (the DER
    and its zero padding), the second signed range and the trailer."""
    start, end = contents_span(pdf)
    rng = random.Random(20260314)
    positions = {0, 1, 5, start, start + 1, end - 2, end - 1, end, len(pdf) - 1}
    positions |= set(range(len(pdf) - 40, len(pdf)))  # trailer, startxref, %%EOF
    positions |= set(range(start + 1, start + 21))  # start of the CMS object
    positions |= set(range(end - 21, end - 1))  # zero padding at the end of /Contents
    while len(positions) < count:
        region = rng.choice(["before", "contents", "after"])
        lo, hi = {"before": (0, start), "contents": (start, end), "after": (end, len(pdf))}[region]
        positions.add(rng.randrange(lo, hi))
    return sorted(positions)


def flipped(pdf: bytes, position: int) -> bytes:
    altered = bytearray(pdf)
    altered[position] ^= 0x01
    return bytes(altered)


def test_any_flipped_byte_is_invalid(issue_document):
    pdf = bytes(issue_document().pdf)
    failures = []
    for position in sampled_positions(pdf):
        result = services.verify_pdf(flipped(pdf, position))
        if result.status != "invalid":
            failures.append((position, result.status))
    assert not failures


def test_flipped_signed_bytes_are_invalid_by_the_signature_alone(issue_document):
    """Even with no record to compare the fingerprint with, the signature check rejects every
    alteration of the signed bytes, of the certificates it carries and of the zero padding.
    (Inside the CMS container a few unsigned bytes are malleable; the stored SHA-256 catches those.)"""
    document = issue_document()
    pdf = bytes(document.pdf)
    start, end = contents_span(pdf)
    IssuedDocument.objects.filter(pk=document.pk).delete()
    positions = [p for p in sampled_positions(pdf, count=150) if not start < p < end - 1]
    positions += list(range(end - 40, end - 1))  # zero padding
    assert len(positions) > 100
    failures = [p for p in positions if signing.check_signature(flipped(pdf, p)).ok]
    assert not failures


def test_certificates_inside_the_signature_must_be_ours(issue_document):
    """The certificates a CMS carries are not signed: an altered copy of the root is rejected."""
    document = issue_document()
    pdf = bytes(document.pdf)
    IssuedDocument.objects.filter(pk=document.pk).delete()
    root_der = signing.material().trust_roots[0].dump()
    start, end = contents_span(pdf)
    hex_root = root_der.hex().upper().encode()
    where = pdf.upper().find(hex_root, start, end)
    assert where > 0, "the root certificate travels in the signature"
    # Change one byte inside the root certificate's signature value (its last byte).
    position = where + len(hex_root) - 1
    altered = bytearray(pdf)
    altered[position : position + 1] = b"0" if pdf[position : position + 1] not in (b"0",) else b"1"
    assert signing.check_signature(bytes(altered)).ok is False
    assert signing.check_signature(pdf).ok is True


def test_truncated_and_appended_files_are_invalid(issue_document):
    pdf = bytes(issue_document().pdf)
    for variant in (pdf[:-1], pdf[:-10], pdf[: len(pdf) // 2], pdf[:5], pdf + b"\n", pdf + b"%%EOF\n",
                    pdf + b"\x00" * 10, b" " + pdf, pdf.replace(b"%%EOF", b"%%EOF ", 1)):
        assert services.verify_pdf(variant).status == "invalid"


def test_hex_case_change_in_the_signature_is_invalid(issue_document):
    """Changing the case of the signature's hex digits keeps the same signature value but changes
    the file."""
    pdf = bytes(issue_document().pdf)
    start, end = contents_span(pdf)
    altered = pdf[:start] + pdf[start:end].lower() + pdf[end:]
    assert altered != pdf
    assert services.verify_pdf(altered).status == "invalid"


def test_an_incremental_update_after_signing_is_invalid(issue_document):
    """A valid PDF revision appended after the signature (here: a new title) is a modification."""
    from io import BytesIO

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    document = issue_document()
    writer = IncrementalPdfFileWriter(BytesIO(bytes(document.pdf)))
    writer.root["/Lang"] = generic.TextStringObject("es-MX")
    writer.update_root()
    out = BytesIO()
    writer.write(out)
    assert len(out.getvalue()) > len(bytes(document.pdf))
    assert services.verify_pdf(out.getvalue()).status == "invalid"
    IssuedDocument.objects.filter(pk=document.pk).delete()
    assert signing.check_signature(out.getvalue()).ok is False


def test_two_signatures_by_our_key_are_invalid(issue_document):
    """Exactly one signature: a file our key signed twice is not one of our documents."""
    from io import BytesIO

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    from ventanilla.documents.rendering import Content, render_pdf

    document = issue_document()
    pdf = render_pdf(Content(str(document.public_id), "Constancia", document.title, document.folio,
                             document.issued_at, "María", [], []))
    for name in ("Primera", "Segunda"):
        writer = IncrementalPdfFileWriter(BytesIO(pdf))
        writer.root[signing.CATALOG_KEY] = generic.TextStringObject(str(document.public_id))
        writer.update_root()
        meta = signers.PdfSignatureMetadata(field_name=name, subfilter=fields.SigSeedSubFilter.PADES)
        pdf = signers.sign_pdf(writer, meta, signer=signing.material().signer).getvalue()
    IssuedDocument.objects.filter(pk=document.pk).update(pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest())
    check = signing.check_signature(pdf)
    assert check.ok is False and "2 signatures" in check.problem
    assert services.verify_pdf(pdf).status == "invalid"


def test_a_pdf_signed_by_another_key_is_invalid(issue_document, tmp_path):
    """A look-alike signed by someone else's CA (same names) is not ours."""
    from io import BytesIO

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    from ventanilla.documents.rendering import Content, render_pdf

    paths, _ = signing.create_demo_ca(tmp_path / "otra")
    impostor = signers.SimpleSigner.load(str(paths.signer_key), str(paths.signer_cert), [str(paths.root_cert)])
    document = issue_document()
    unsigned = render_pdf(Content(str(document.public_id), "Constancia", document.title, document.folio,
                                  document.issued_at, "María", [], []))
    writer = IncrementalPdfFileWriter(BytesIO(unsigned))
    from pyhanko.pdf_utils import generic

    writer.root[signing.CATALOG_KEY] = generic.TextStringObject(str(document.public_id))
    writer.update_root()
    out = signers.sign_pdf(writer, signers.PdfSignatureMetadata(field_name=signing.SIGNATURE_FIELD), signer=impostor)
    assert services.verify_pdf(out.getvalue()).status == "invalid"


def test_an_unsigned_pdf_is_invalid(issue_document):
    from ventanilla.documents.rendering import Content, render_pdf

    document = issue_document()
    unsigned = render_pdf(Content(str(document.public_id), "Constancia", document.title, document.folio,
                                  document.issued_at, "María", [], []))
    assert services.verify_pdf(unsigned).status == "invalid"


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.one_of(st.binary(max_size=4000), st.binary(max_size=4000).map(lambda b: b"%PDF-1.7\n" + b)))
def test_garbage_is_invalid_and_never_raises(data):
    assert services.verify_pdf(data).status == "invalid"


@pytest.fixture
def one_pdf(issue_document):
    return bytes(issue_document().pdf)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_random_edits_of_a_real_document_are_invalid(one_pdf, data):
    pdf = one_pdf
    position = data.draw(st.integers(0, len(pdf) - 1))
    new = data.draw(st.integers(0, 255).filter(lambda b: b != pdf[position]))
    edit = data.draw(st.sampled_from(["replace", "insert", "delete"]))
    if edit == "replace":
        altered = pdf[:position] + bytes([new]) + pdf[position + 1:]
    elif edit == "insert":
        altered = pdf[:position] + bytes([new]) + pdf[position:]
    else:
        altered = pdf[:position] + pdf[position + 1:]
    assert services.verify_pdf(altered).status == "invalid"


# --- What the PDF says -------------------------------------------------------------------------


def page_text(pdf: bytes) -> str:
    """The text the pages show, in order: every string shown with Tj, unescaped, joined by spaces."""
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(BytesIO(pdf))
    shown = []
    for index in range(reader.root["/Pages"]["/Count"]):
        page = reader.find_page_for_modification(index)[0].get_object()
        contents = page["/Contents"]
        for stream in contents if isinstance(contents, list) else [contents]:
            data = stream.get_object().data.decode("latin-1")
            for literal in re.findall(r"\(((?:[^()\\]|\\.)*)\)\s*Tj", data):
                shown.append(re.sub(r"\\([0-7]{1,3}|.)", _unescape, literal))
    return " ".join(shown)


def _unescape(match: re.Match) -> str:
    value = match.group(1)
    if value[0] in "01234567":
        return bytes([int(value, 8)]).decode("cp1252")
    return {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}.get(value, value)


def test_the_pdf_shows_the_folio_fields_and_verification_url(issue_document, settings):
    settings.SITE_URL = "https://ventanilla.torreon.gob.mx"
    document = issue_document(folio="DU-2026-77")
    pdf = bytes(document.pdf)
    url = f"https://ventanilla.torreon.gob.mx/verificar/{document.public_id}/"
    assert verification_url(document.public_id) == url
    text = page_text(pdf)
    assert f"Verifique este documento en {url}" in text
    assert "Folio: DU-2026-77" in text
    assert "Clave catastral" in text and "001-002-003" in text
    assert "Gobierno Municipal de Torreón" in text  # WinAnsi: accents kept
    assert "Constancia de no adeudo del impuesto predial" in text
    assert f"/URI ({url})".encode() in pdf  # the QR and the line are links to the page


def test_long_documents_continue_on_more_pages(issue_document):
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader

    document = issue_document(paragraphs=["Párrafo largo de prueba. " * 40] * 12,
                              fields=[(f"Dato {i}", "valor " * 10) for i in range(30)])
    reader = PdfFileReader(BytesIO(bytes(document.pdf)))
    assert reader.root["/Pages"]["/Count"] >= 3
    text = page_text(bytes(document.pdf))
    assert text.count("Verifique este documento en") == reader.root["/Pages"]["/Count"]
    assert services.verify_pdf(bytes(document.pdf)).status == "valid"


def test_text_outside_winansi_is_transliterated(issue_document):
    document = issue_document(title="Constancia para Łukasz Ōta 😀", fields=[("Nombre", "Zoë «Ñandú» €")])
    text = page_text(bytes(document.pdf))
    assert "Constancia para Lukasz Ota ?" in text, text
    assert IssuedDocument.objects.get().title == "Constancia para Łukasz Ōta 😀"  # stored as given



def test_signing_and_checking_work_inside_a_running_event_loop(issue_document):
    """pyHanko is asynchronous inside; an async caller (ASGI, a worker) must not break it."""
    import asyncio

    from ventanilla.documents.rendering import Content, render_pdf

    document = issue_document()
    pdf = bytes(document.pdf)
    unsigned = render_pdf(Content(str(document.public_id), "Constancia", "T", "F", document.issued_at, "", [], []))

    async def main():
        return signing.check_signature(pdf), signing.sign_pdf(
            unsigned, document_id=str(document.public_id), reason="r", location="l"
        )

    check, signed = asyncio.run(main())
    assert check.ok and check.document_id == str(document.public_id)
    assert signing.check_signature(signed).ok


def test_compressed_structures_are_refused_before_parsing():
    """A cross-reference stream that inflates to 64 MB (a decompression bomb) is not parsed."""
    import zlib

    bomb = zlib.compress(b"\x00" * (64 * 1024 * 1024), 9)
    data = (
        b"%PDF-1.7\n1 0 obj\n<< /Type /XRef /Size 2 /W [1 4 2] /Filter /FlateDecode /Length "
        + str(len(bomb)).encode() + b" >>\nstream\n" + bomb + b"\nendstream\nendobj\nstartxref\n9\n%%EOF\n"
    )
    check = signing.check_signature(data)
    assert not check.ok and "cross-reference" in check.problem
    assert services.verify_pdf(data).status == "invalid"


def test_issued_pdfs_use_classic_cross_reference_tables(issue_document):
    document = issue_document(title="Constancia /Type /XRef /ObjStm", paragraphs=["x " * 3000])
    pdf = bytes(document.pdf)
    assert signing._classic_xref_only(pdf)
    assert pdf.count(b"\nxref\n") == 2  # reportlab's table and the signature's incremental update
    assert services.verify_pdf(pdf).status == "valid"
