"""Checking a file a resident uploads, before anything is stored.

The type is decided by the CONTENT (magic bytes and a cheap structural walk), never by the name or
the browser's declared type; those must merely agree with the content. Every refusal is an
`UploadRejected` carrying a Spanish message for the resident; no other exception escapes
`check_upload`, whatever the bytes (tests/files/test_uploads.py feeds it random data).
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import struct
import unicodedata
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.utils.translation import gettext as _

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
KINDS = ("pdf", "jpeg", "png")
MIME = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}
LABEL = {"pdf": "PDF", "jpeg": "JPG", "png": "PNG"}
EXTENSION = {"pdf": "pdf", "jpeg": "jpg", "png": "png"}
# Extensions a resident's file may carry for each kind.
_EXTENSIONS = {"pdf": "pdf", "jpg": "jpeg", "jpeg": "jpeg", "jpe": "jpeg", "jfif": "jpeg", "png": "png"}
# Declared content types that name a kind; generic ones ("", octet-stream) agree with anything.
_DECLARED = {
    "application/pdf": "pdf", "application/x-pdf": "pdf",
    "image/jpeg": "jpeg", "image/jpg": "jpeg", "image/pjpeg": "jpeg",
    "image/png": "png", "image/x-png": "png",
}
_GENERIC_TYPES = {"", "application/octet-stream", "binary/octet-stream", "application/x-download"}
FILENAME_MAX_LENGTH = 100


class UploadRejected(Exception):
    """The file cannot be accepted; `message` says why, in Spanish, for the resident."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CheckedUpload:
    kind: str  # "pdf" | "jpeg" | "png"
    mime: str
    size: int
    sha256: str
    data: bytes
    filename: str  # sanitised, with the extension of its kind


def max_upload_bytes() -> int:
    return int(getattr(settings, "VENTANILLA_UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES) or DEFAULT_MAX_BYTES)


def human_size(n: int) -> str:
    """1536 -> "1.5 KB", 12_900_000 -> "12.3 MB" (binary units, one decimal rounded up, ".0" dropped)."""
    if n < 1024:
        return _("%(n)d bytes") % {"n": n}
    for unit, factor in (("KB", 1024), ("MB", 1024**2), ("GB", 1024**3)):
        if n < factor * 1024 or unit == "GB":
            value = math.ceil(n * 10 / factor) / 10
            text = f"{value:.1f}".removesuffix(".0")
            return f"{text} {unit}"
    raise AssertionError("unreachable")


def _kinds_phrase(kinds: Iterable[str]) -> str:
    labels = [LABEL[k] for k in KINDS if k in kinds]
    if len(labels) == 1:
        return _("un %(kind)s") % {"kind": labels[0]}
    return _("un %(kinds)s ni %(last)s") % {"kinds": ", ".join(labels[:-1]), "last": labels[-1]}


# --- Filenames -----------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^\w .()\-]", re.UNICODE)


def sanitize_filename(name: str | None, *, default: str = "documento") -> str:
    """The last path component, NFC-normalised, without control or shell-significant characters,
    without leading dots, at most FILENAME_MAX_LENGTH characters (the extension is kept)."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    name = re.sub(r"_{2,}", "_", name)
    if not name:
        return default
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext) > 10:
        stem, ext = name, ""
    room = FILENAME_MAX_LENGTH - (len(ext) + 1 if ext else 0)
    stem = stem[:room].rstrip(" .") or default
    return f"{stem}.{ext}" if ext else stem


def _extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


# --- Content sniffing ----------------------------------------------------------------------------

_PDF_HEADER = re.compile(rb"%PDF-[12]\.\d")
_STARTXREF = re.compile(rb"startxref\s+(\d{1,12})\s+%%EOF", re.DOTALL)
_OBJ_AT = re.compile(rb"\s*(?:xref\b|\d{1,10}\s+\d{1,5}\s+obj\b)")
_PDF_TOLERANCE = 64  # bytes a writer's startxref offset may be off by (readers repair these)


def _is_pdf(data: bytes) -> bool:
    """Header `%PDF-x.y` at the start, `%%EOF` near the end preceded by `startxref <offset>`, and at
    that offset (give or take a few bytes) a cross-reference table or an object (xref stream)."""
    if not _PDF_HEADER.match(data, 0, 16):
        return False
    tail = data[-2048:]
    matches = list(_STARTXREF.finditer(tail))
    if not matches:
        return False
    offset = int(matches[-1].group(1))
    if offset <= 0 or offset >= len(data):
        return False
    start = max(0, offset - _PDF_TOLERANCE)
    window = data[start:offset + _PDF_TOLERANCE]
    if not any(_OBJ_AT.match(window, i) for i in _candidate_starts(window)):
        return False
    return b"endobj" in data or b"xref" in data[start:]


def _candidate_starts(window: bytes) -> Iterable[int]:
    for i, byte in enumerate(window):
        if byte in b"x0123456789" and (i == 0 or window[i - 1] in b" \t\r\n\f\x00>"):
            yield i


_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD8)}
_JPEG_SOF = {*range(0xC0, 0xD0)} - {0xC4, 0xC8, 0xCC}


def _is_jpeg(data: bytes) -> bool:
    """SOI FF D8 FF, then a walk over the marker segments up to the start of scan (with a frame
    header before it), then an EOI FF D9 after the scan (phones may append data after it)."""
    if not data.startswith(b"\xff\xd8\xff"):
        return False
    pos, n, seen_frame = 2, len(data), False
    while pos + 4 <= n:
        if data[pos] != 0xFF:
            return False
        while pos < n and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= n:
            return False
        marker = data[pos]
        pos += 1
        if marker in _JPEG_STANDALONE:
            continue
        if marker in (0xD8, 0xD9, 0x00):
            return False
        if pos + 2 > n:
            return False
        (length,) = struct.unpack(">H", data[pos:pos + 2])
        if length < 2:
            return False
        seen_frame = seen_frame or marker in _JPEG_SOF
        pos += length
        if marker == 0xDA:
            return seen_frame and pos <= n and data.find(b"\xff\xd9", pos) != -1
    return False


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def _is_png(data: bytes) -> bool:
    """Signature, then an IHDR chunk of 13 bytes with a valid CRC and non-zero dimensions, and an
    IEND chunk."""
    if not data.startswith(_PNG_SIGNATURE) or len(data) < 8 + 25 + 12:
        return False
    length, ctype = struct.unpack(">I4s", data[8:16])
    if length != 13 or ctype != b"IHDR":
        return False
    body = data[16:29]
    (crc,) = struct.unpack(">I", data[29:33])
    if zlib.crc32(ctype + body) != crc:
        return False
    width, height, depth, color = struct.unpack(">IIBB", body[:10])
    if not (0 < width < 2**31 and 0 < height < 2**31) or depth not in (1, 2, 4, 8, 16) or color not in (0, 2, 3, 4, 6):
        return False
    return _PNG_IEND in data[-64:]


_SNIFFERS = {"pdf": _is_pdf, "jpeg": _is_jpeg, "png": _is_png}


def sniff(data: bytes) -> str | None:
    """The kind the bytes really are ("pdf", "jpeg", "png") or None."""
    for kind, test in _SNIFFERS.items():
        if test(data):
            return kind
    return None


# --- The checks --------------------------------------------------------------------------------------

def _read_at_most(f, limit: int) -> bytes:
    """Reads the upload, stopping once it passes `limit` bytes (its declared size may lie)."""
    parts: list[bytes] = []
    total = 0
    chunks = f.chunks() if hasattr(f, "chunks") else iter(lambda: f.read(64 * 1024), b"")
    for chunk in chunks:
        parts.append(bytes(chunk))
        total += len(chunk)
        if total > limit:
            break
    return b"".join(parts)


def too_big_message(name: str, size: int, max_bytes: int) -> str:
    return _("El archivo «%(name)s» pesa %(size)s; el máximo es %(max)s.") % {
        "name": name, "size": human_size(size), "max": human_size(max_bytes)}


def check_upload(f, *, kinds: Iterable[str] = KINDS, max_bytes: int | None = None) -> CheckedUpload:
    """Accepts a PDF, JPG or PNG (or the subset in `kinds`) of at most `max_bytes` (default:
    settings.VENTANILLA_UPLOAD_MAX_BYTES, 10 MB). Raises UploadRejected with a Spanish message."""
    kinds = tuple(kinds)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise ValueError(f"Unknown upload kinds: {unknown or kinds!r}")
    limit = max_bytes if max_bytes is not None else max_upload_bytes()
    if f is None:
        raise UploadRejected(_("Elige un archivo."))
    try:
        raw_name = str(getattr(f, "name", "") or "")
        declared = str(getattr(f, "content_type", "") or "").split(";")[0].strip().lower()
        declared_size = getattr(f, "size", None)
    except Exception as exc:  # a broken file object is still only a rejected upload
        raise UploadRejected(_("No se pudo leer el archivo. Vuelve a intentarlo.")) from exc
    name = sanitize_filename(raw_name)
    if isinstance(declared_size, int) and declared_size > limit:
        raise UploadRejected(too_big_message(name, declared_size, limit))
    try:
        data = _read_at_most(f, limit)
    except (OSError, ValueError) as exc:
        raise UploadRejected(_("No se pudo leer el archivo «%(name)s». Vuelve a intentarlo.") % {"name": name}) from exc
    if len(data) > limit:
        raise UploadRejected(too_big_message(name, max(len(data), declared_size or 0), limit))
    if not data:
        raise UploadRejected(_("El archivo «%(name)s» está vacío.") % {"name": name})
    kind = sniff(data)
    not_allowed = _("El archivo «%(name)s» no es %(kinds)s.") % {"name": name, "kinds": _kinds_phrase(kinds)}
    if kind is None or kind not in kinds:
        raise UploadRejected(not_allowed)
    ext = _extension(name)
    named_kind = _EXTENSIONS.get(ext)
    if ext and named_kind is None:
        raise UploadRejected(not_allowed)
    if named_kind is not None and named_kind != kind:
        raise UploadRejected(
            _("El archivo «%(name)s» se llama como %(named)s pero su contenido es %(real)s; revisa que sea el archivo correcto.")
            % {"name": name, "named": LABEL[named_kind], "real": LABEL[kind]})
    declared_kind = _DECLARED.get(declared)
    if declared not in _GENERIC_TYPES and declared_kind != kind:
        raise UploadRejected(
            _("El archivo «%(name)s» se declaró como «%(declared)s» pero su contenido es %(real)s.")
            % {"name": name, "declared": declared[:60], "real": LABEL[kind]})
    if not ext:
        name = sanitize_filename(f"{name}.{EXTENSION[kind]}")
    return CheckedUpload(kind=kind, mime=MIME[kind], size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                         data=data, filename=name)


class BoundedMemoryUploadHandler(FileUploadHandler):
    """Keeps each uploaded file in memory, never in a temporary file on disk (a resident's document
    must not reach the disk unencrypted), and keeps at most `max_bytes` + 1 bytes of each: the
    file's real size is still reported, so check_upload refuses it as too big. Install it with
    `use_bounded_memory_uploads(request)` before anything reads request.POST / request.FILES."""

    def __init__(self, request=None, max_bytes: int | None = None):
        super().__init__(request)
        self.max_bytes = max_bytes if max_bytes is not None else max_upload_bytes()

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.buffer = io.BytesIO()
        self.total = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        room = self.max_bytes + 1 - self.buffer.tell()
        if room > 0:
            self.buffer.write(raw_data[:room])
        self.total += len(raw_data)
        return None

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            file=self.buffer, field_name=self.field_name, name=self.file_name, content_type=self.content_type,
            size=self.total, charset=self.charset, content_type_extra=self.content_type_extra)


def use_bounded_memory_uploads(request, max_bytes: int | None = None) -> None:
    """For views that receive residents' documents. Must run before request.POST is read, so such
    a view is `csrf_exempt` and checks CSRF itself with `csrf_protect` afterwards (see
    files.views.upload), as Django's documentation on upload handlers explains."""
    request.upload_handlers = [BoundedMemoryUploadHandler(request, max_bytes)]


def check_count(n: int, maximum: int) -> None:
    """Refuses more than `maximum` files at once."""
    if n > maximum:
        raise UploadRejected(
            _("Puedes subir como máximo %(max)d archivos; elegiste %(n)d.") % {"max": maximum, "n": n}
            if maximum != 1 else _("Puedes subir solo un archivo; elegiste %(n)d.") % {"n": n})
