"""files.uploads: the type comes from the content, every refusal is an UploadRejected in Spanish."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ventanilla.files.uploads import (
    CheckedUpload,
    UploadRejected,
    check_count,
    check_upload,
    human_size,
    sanitize_filename,
    sniff,
)

from .conftest import make_image, make_pdf, uploaded

MB = 1024 * 1024


def test_accepts_real_pdf_jpeg_png(pdf_bytes, jpeg_bytes, png_bytes):
    for data, name, ctype, kind, mime in [
        (pdf_bytes, "acta.pdf", "application/pdf", "pdf", "application/pdf"),
        (jpeg_bytes, "foto.JPG", "image/jpeg", "jpeg", "image/jpeg"),
        (png_bytes, "croquis.png", "image/png", "png", "image/png"),
    ]:
        checked = check_upload(uploaded(data, name, ctype))
        assert isinstance(checked, CheckedUpload)
        assert (checked.kind, checked.mime, checked.size) == (kind, mime, len(data))
        assert checked.data == data
        assert checked.sha256 == hashlib.sha256(data).hexdigest()
        assert checked.filename == name


def test_pdf_with_an_incremental_update_is_accepted():
    """What signing does: a revision appended after the first %%EOF; the last startxref counts."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(make_pdf("Base")))
    writer.root["/PageMode"] = generic.NameObject("/UseNone")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    data = out.getvalue()
    assert data.count(b"%%EOF") == 2
    assert check_upload(uploaded(data, "firmado.pdf")).kind == "pdf"


def test_progressive_jpeg_and_generic_content_types_are_accepted():
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (1, 2, 3)).save(buffer, format="JPEG", progressive=True)
    checked = check_upload(uploaded(buffer.getvalue(), "foto.jpeg", "application/octet-stream"))
    assert checked.kind == "jpeg"
    assert check_upload(uploaded(buffer.getvalue(), "foto.jpg", "")).kind == "jpeg"


def test_jpeg_with_data_after_the_end_marker_is_accepted(jpeg_bytes):
    """Phones append data (motion photos) after EOI."""
    assert check_upload(uploaded(jpeg_bytes + b"\x00" * 100 + b"MotionPhoto", "foto.jpg", "image/jpeg")).kind == "jpeg"


def test_missing_extension_gets_the_kind_s(png_bytes):
    assert check_upload(uploaded(png_bytes, "captura", "image/png")).filename == "captura.png"


@pytest.mark.parametrize("data", [
    b"hola, esto es texto",
    b"MZ\x90\x00" + b"\x00" * 200,  # a Windows executable
    b"PK\x03\x04" + b"\x00" * 200,  # a ZIP / DOCX
    b"GIF89a" + b"\x00" * 200,
    b"<html><script>alert(1)</script></html>",
])
def test_other_content_is_refused_with_the_spanish_message(data):
    with pytest.raises(UploadRejected) as exc:
        check_upload(uploaded(data, "x.pdf"))
    assert exc.value.message == "El archivo «x.pdf» no es un PDF, JPG ni PNG."


def test_truncated_or_fake_structures_are_refused(pdf_bytes, jpeg_bytes, png_bytes):
    fakes = [
        b"%PDF-1.7\n" + b"A" * 500,  # header only
        pdf_bytes[: len(pdf_bytes) // 2],  # cut in half: no %%EOF
        pdf_bytes.replace(b"startxref", b"startxrex"),
        b"%PDF-1.4\nstartxref\n999999\n%%EOF\n",  # offset beyond the file
        b"\xff\xd8\xff" + b"\x00" * 100 + b"\xff\xd9",  # JPEG magic without segments
        jpeg_bytes[: len(jpeg_bytes) // 3],  # cut before the scan ends
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 100,  # PNG signature only
        png_bytes[:-12],  # no IEND
    ]
    # A PNG whose IHDR CRC was altered.
    bad_crc = bytearray(png_bytes)
    bad_crc[29] ^= 0xFF
    fakes.append(bytes(bad_crc))
    for data in fakes:
        assert sniff(data) is None, data[:40]
        with pytest.raises(UploadRejected):
            check_upload(uploaded(data, "archivo.pdf", "application/octet-stream"))


def test_extension_must_agree_with_content(pdf_bytes, jpeg_bytes):
    with pytest.raises(UploadRejected) as exc:
        check_upload(uploaded(pdf_bytes, "foto.jpg", "application/octet-stream"))
    assert "se llama como JPG pero su contenido es PDF" in exc.value.message
    with pytest.raises(UploadRejected) as exc:
        check_upload(uploaded(pdf_bytes, "contrato.docx", "application/pdf"))
    assert exc.value.message == "El archivo «contrato.docx» no es un PDF, JPG ni PNG."
    with pytest.raises(UploadRejected) as exc:
        check_upload(uploaded(jpeg_bytes, "foto.exe", "image/jpeg"))
    assert "no es un PDF, JPG ni PNG" in exc.value.message


def test_declared_content_type_must_agree_with_content(pdf_bytes):
    with pytest.raises(UploadRejected) as exc:
        check_upload(uploaded(pdf_bytes, "acta.pdf", "image/png"))
    assert "se declaró como «image/png» pero su contenido es PDF" in exc.value.message
    with pytest.raises(UploadRejected):
        check_upload(uploaded(pdf_bytes, "acta.pdf", "text/html"))


def test_kinds_restrict_what_is_accepted(pdf_bytes, png_bytes):
    with pytest.raises(UploadRejected) as exc:
        check_upload(uploaded(pdf_bytes, "acta.pdf"), kinds=("jpeg", "png"))
    assert exc.value.message == "El archivo «acta.pdf» no es un JPG ni PNG."
    with pytest.raises(UploadRejected) as exc:
        check_upload(uploaded(png_bytes, "a.png", "image/png"), kinds=("pdf",))
    assert exc.value.message == "El archivo «a.png» no es un PDF."
    with pytest.raises(ValueError):
        check_upload(uploaded(pdf_bytes), kinds=("gif",))


def test_size_limit_and_message(pdf_bytes, settings):
    padded = pdf_bytes + b"\n%" + b"x" * (int(12.25 * MB) - len(pdf_bytes))
    with pytest.raises(UploadRejected) as exc:
        check_upload(uploaded(padded, "grande.pdf"))
    assert exc.value.message == "El archivo «grande.pdf» pesa 12.3 MB; el máximo es 10 MB."
    with pytest.raises(UploadRejected) as exc:
        check_upload(uploaded(pdf_bytes, "acta.pdf"), max_bytes=len(pdf_bytes) - 1)
    assert "el máximo es" in exc.value.message
    assert check_upload(uploaded(pdf_bytes, "acta.pdf"), max_bytes=len(pdf_bytes)).size == len(pdf_bytes)
    settings.VENTANILLA_UPLOAD_MAX_BYTES = 1024
    with pytest.raises(UploadRejected) as exc:
        check_upload(uploaded(pdf_bytes, "acta.pdf"))
    assert "el máximo es 1 KB" in exc.value.message


def test_a_lying_size_is_not_believed(pdf_bytes):
    f = uploaded(pdf_bytes + b"%" * 5000, "acta.pdf")
    f.size = 10  # what a tampered upload handler might claim
    with pytest.raises(UploadRejected) as exc:
        check_upload(f, max_bytes=len(pdf_bytes))
    assert "pesa" in exc.value.message


def test_empty_and_missing_files():
    with pytest.raises(UploadRejected) as exc:
        check_upload(uploaded(b"", "vacio.pdf"))
    assert exc.value.message == "El archivo «vacio.pdf» está vacío."
    with pytest.raises(UploadRejected):
        check_upload(None)


def test_filename_is_sanitised(pdf_bytes):
    assert check_upload(uploaded(pdf_bytes, "../../etc/passwd.pdf")).filename == "passwd.pdf"
    assert check_upload(uploaded(pdf_bytes, "C:\\Users\\ana\\Acta de nacimiento.pdf")).filename == "Acta de nacimiento.pdf"
    assert sanitize_filename("<b>x|y*?.pdf") == "_b_x_y_.pdf"
    assert sanitize_filename("<script>alert(1)</script>.pdf") == "script_.pdf"
    assert sanitize_filename("..pdf") == "pdf"
    assert sanitize_filename("a\x00b\u202ec.pdf") == "abc.pdf"
    assert sanitize_filename("   ") == "documento"
    assert sanitize_filename("Credencial Peña.pdf") == "Credencial Peña.pdf"
    long = sanitize_filename("x" * 500 + ".pdf")
    assert len(long) == 100 and long.endswith(".pdf")


def test_human_size():
    assert human_size(500) == "500 bytes"
    assert human_size(1024) == "1 KB"
    assert human_size(1536) == "1.5 KB"
    assert human_size(10 * MB) == "10 MB"
    assert human_size(int(12.25 * MB)) == "12.3 MB"
    assert human_size(10 * MB + 1) == "10.1 MB"


def test_check_count():
    check_count(3, 3)
    with pytest.raises(UploadRejected) as exc:
        check_count(5, 3)
    assert exc.value.message == "Puedes subir como máximo 3 archivos; elegiste 5."
    with pytest.raises(UploadRejected) as exc:
        check_count(2, 1)
    assert exc.value.message == "Puedes subir solo un archivo; elegiste 2."


class _RawUpload:
    """What an upload handler hands over, with the hostile client's name and type untouched."""

    def __init__(self, data: bytes, name: str, content_type: str):
        self.data, self.name, self.content_type, self.size = data, name, content_type, len(data)

    def chunks(self):
        for i in range(0, len(self.data), 1000):
            yield self.data[i:i + 1000]


_PREFIXES = [b"", b"%PDF-1.7\n", b"\xff\xd8\xff", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", b"\x89PNG\r\n\x1a\n",
             b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"]
_SUFFIXES = [b"", b"%%EOF", b"startxref\n10\n%%EOF\n", b"\xff\xd9", b"\x00\x00\x00\x00IEND\xaeB`\x82"]


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    prefix=st.sampled_from(_PREFIXES),
    body=st.binary(max_size=3000),
    suffix=st.sampled_from(_SUFFIXES),
    name=st.text(max_size=300),
    content_type=st.one_of(st.sampled_from(["application/pdf", "image/jpeg", "image/png", "", "text/plain"]),
                           st.text(max_size=100)),
    max_bytes=st.one_of(st.none(), st.integers(min_value=0, max_value=4000)),
)
def test_random_input_only_ever_raises_upload_rejected(prefix, body, suffix, name, content_type, max_bytes):
    f = _RawUpload(prefix + body + suffix, name, content_type)
    try:
        checked = check_upload(f, max_bytes=max_bytes)
    except UploadRejected as exc:
        assert exc.message and isinstance(exc.message, str)
    else:
        assert checked.kind in ("pdf", "jpeg", "png") and checked.size > 0


@settings(max_examples=200, deadline=None)
@given(data=st.binary(min_size=0, max_size=5000))
def test_sniff_never_raises(data):
    assert sniff(data) in (None, "pdf", "jpeg", "png")


@settings(max_examples=300, deadline=None)
@given(name=st.text(max_size=400))
def test_sanitised_names_are_safe(name):
    clean = sanitize_filename(name)
    assert clean and len(clean) <= 100
    assert "/" not in clean and "\\" not in clean and not clean.startswith(".")
    assert all(ch.isprintable() for ch in clean)


def test_png_with_zero_width_is_refused(png_bytes):
    ihdr = bytearray(png_bytes[16:29])
    ihdr[0:4] = b"\x00\x00\x00\x00"
    data = png_bytes[:16] + bytes(ihdr) + struct.pack(">I", zlib.crc32(b"IHDR" + bytes(ihdr))) + png_bytes[33:]
    assert sniff(data) is None
    assert sniff(make_image("PNG", size=(1, 1))) == "png"


def test_bounded_memory_handler_keeps_at_most_the_limit_but_reports_the_real_size(pdf_bytes):
    from ventanilla.files.uploads import BoundedMemoryUploadHandler

    handler = BoundedMemoryUploadHandler(None, max_bytes=1000)
    handler.new_file("file", "grande.pdf", "application/pdf", 0)
    data = pdf_bytes + b"%" * 5000
    for i in range(0, len(data), 700):
        assert handler.receive_data_chunk(data[i:i + 700], i) is None
    f = handler.file_complete(len(data))
    assert f.size == len(data) and len(f.read()) == 1001
    with pytest.raises(UploadRejected, match="pesa"):
        check_upload(f, max_bytes=1000)
