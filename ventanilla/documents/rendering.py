"""Render an issued document as a PDF with reportlab: the city's letterhead, title, folio, issue
date, labelled fields, paragraphs and a QR code to the public verification page.

Built-in Helvetica only (no font files to embed), so a document renders in a few milliseconds.
Helvetica's WinAnsi encoding covers Spanish; any other character is transliterated or replaced.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

import segno
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas

MONTHS_ES = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio",
    "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre",
)
PAGE_W, PAGE_H = LETTER
MARGIN = 20 * mm
CONTENT_W = PAGE_W - 2 * MARGIN
QR_SIZE = 32 * mm
FOOTER_H = QR_SIZE + 8 * mm


def verification_url(public_id) -> str:
    """The absolute address of a document's public verification page (what the QR encodes)."""
    path = reverse("documents:verify", kwargs={"public_id": public_id})
    return f"{settings.SITE_URL}{path}"


def date_es(moment: datetime) -> str:
    """'5 de marzo de 2026', in the installation's time zone."""
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    return f"{local.day} de {MONTHS_ES[local.month - 1]} de {local.year}"


# Letters that do not decompose into a base letter plus accents.
_TRANSLITERATE = {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i", "ŀ": "l", "Ŀ": "L"}


def pdf_text(text: str) -> str:
    """Text Helvetica can show: WinAnsi (cp1252) characters kept, others transliterated
    (accents dropped) or replaced by '?'; control characters become spaces."""
    out = []
    for ch in unicodedata.normalize("NFC", str(text)):
        if ch in "\t\r\n" or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(" ")
            continue
        try:
            ch.encode("cp1252")
            out.append(ch)
            continue
        except UnicodeEncodeError:
            pass
        base = _TRANSLITERATE.get(ch) or "".join(
            c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
        )
        try:
            base.encode("cp1252")
            out.append(base or "?")
        except UnicodeEncodeError:
            out.append("?")
    return "".join(out)


@dataclass(frozen=True)
class Content:
    public_id: str
    kind_label: str
    title: str
    folio: str
    issued_at: datetime
    holder: str
    fields: Sequence[tuple[str, str]]
    paragraphs: Sequence[str]


class _Page:
    """A cursor over reportlab pages that starts a new page when the text reaches the footer."""

    def __init__(self, c: canvas.Canvas, content: Content, url: str):
        self.c, self.content, self.url = c, content, url
        self.number = 0
        self._start()

    def _start(self) -> None:
        self.number += 1
        c, city = self.c, settings.CITY
        c.setFillColor(_color(city.get("primary_color", "#0b4f6c")))
        c.rect(0, PAGE_H - 14 * mm, PAGE_W, 14 * mm, stroke=0, fill=1)
        c.setFillColorRGB(1, 1, 1)
        c.setFont("Helvetica-Bold", 13)
        c.drawString(MARGIN, PAGE_H - 9.5 * mm, pdf_text(city.get("government", "")))
        c.setFont("Helvetica", 9)
        c.drawRightString(
            PAGE_W - MARGIN, PAGE_H - 9.5 * mm, pdf_text(f"{city.get('name', '')}, {city.get('state', '')}")
        )
        c.setFillColorRGB(0, 0, 0)
        self.y = PAGE_H - 14 * mm - 12 * mm
        self._footer()

    def _footer(self) -> None:
        c = self.c
        text_x = MARGIN + QR_SIZE + 5 * mm
        _draw_qr(c, self.url, MARGIN, MARGIN, QR_SIZE)
        c.linkURL(self.url, (MARGIN, MARGIN, MARGIN + QR_SIZE, MARGIN + QR_SIZE), relative=0)
        c.setFont("Helvetica-Bold", 9)
        y = MARGIN + QR_SIZE - 4 * mm
        c.drawString(text_x, y, pdf_text(f"Folio {self.content.folio}"))
        c.setFont("Helvetica", 8.5)
        lines = simpleSplit(
            pdf_text(f"Verifique este documento en {self.url}"), "Helvetica", 8.5, CONTENT_W - QR_SIZE - 5 * mm
        )
        for line in lines:
            y -= 4.2 * mm
            c.drawString(text_x, y, line)
        c.linkURL(self.url, (text_x, y - 1 * mm, PAGE_W - MARGIN, MARGIN + QR_SIZE - 6 * mm), relative=0)
        y -= 4.2 * mm
        for line in simpleSplit(
            pdf_text(
                "Documento firmado electrónicamente por el municipio. La firma y la página de "
                "verificación confirman que no ha sido alterado."
            ),
            "Helvetica", 8, CONTENT_W - QR_SIZE - 5 * mm,
        ):
            c.setFont("Helvetica", 8)
            c.drawString(text_x, y, line)
            y -= 3.8 * mm
        c.setFont("Helvetica", 8)
        c.drawRightString(PAGE_W - MARGIN, MARGIN - 6 * mm, f"Página {self.number}")

    def need(self, height: float) -> None:
        if self.y - height < MARGIN + FOOTER_H:
            self.c.showPage()
            self._start()

    def lines(self, text: str, font: str, size: float, *, indent: float = 0, leading: float | None = None) -> None:
        leading = leading or size * 1.35
        for line in simpleSplit(pdf_text(text), font, size, CONTENT_W - indent) or [""]:
            self.need(leading)
            self.c.setFont(font, size)
            self.y -= leading
            self.c.drawString(MARGIN + indent, self.y, line)

    def gap(self, height: float) -> None:
        self.y -= height


def _color(value: str):
    from reportlab.lib.colors import HexColor

    try:
        return HexColor(value)
    except (ValueError, TypeError):
        return HexColor("#0b4f6c")


def _qr(url: str) -> segno.QRCode:
    """Error correction M (15 % of the symbol may be damaged). A fixed mask pattern: any mask is
    valid and decodes the same, and skipping the search for the "best" one saves ~5 ms."""
    return segno.make_qr(url, error="m", mask=0, boost_error=False)


def _draw_qr(c: canvas.Canvas, url: str, x: float, y: float, size: float) -> None:
    """Draw the QR code of `url`: one rectangle per run of dark modules in a row, written as raw
    path operators in module units (reportlab formats every coordinate in pure Python otherwise)."""
    matrix = _qr(url).matrix
    border = 2
    module = size / (len(matrix) + 2 * border)
    c.setFillColorRGB(1, 1, 1)
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.setFillColorRGB(0, 0, 0)
    ops = []
    for row_index, row in enumerate(matrix):
        col, width = 0, len(row)
        while col < width:
            if row[col] & 1:
                start = col
                while col < width and row[col] & 1:
                    col += 1
                ops.append(f"{start} {row_index} {col - start} 1 re")
            else:
                col += 1
    c.saveState()
    # Module units, origin at the symbol's top-left corner, rows growing downwards.
    c.transform(module, 0, 0, -module, x + border * module, y + size - border * module)
    c.addLiteral("\n".join(ops) + "\nf")
    c.restoreState()


def qr_matrix(url: str) -> tuple[tuple[bool, ...], ...]:
    """The modules the PDF draws for `url` (True = dark); tests decode it back."""
    return tuple(tuple(bool(v & 1) for v in row) for row in _qr(url).matrix)


def render_pdf(content: Content) -> bytes:
    """The unsigned PDF of a document."""
    url = verification_url(content.public_id)
    buffer = BytesIO()
    c = canvas.Canvas(buffer, pagesize=LETTER, pageCompression=1, invariant=0)
    city = settings.CITY
    c.setTitle(pdf_text(content.title))
    c.setAuthor(pdf_text(city.get("government", "")))
    c.setSubject(pdf_text(f"{content.kind_label} · Folio {content.folio}"))
    c.setKeywords(f"ventanilla-documento:{content.public_id}")
    c.setCreator("Ventanilla")
    page = _Page(c, content, url)

    page.lines(content.kind_label.upper(), "Helvetica", 9)
    page.gap(1 * mm)
    page.lines(content.title, "Helvetica-Bold", 17)
    page.gap(3 * mm)
    page.lines(f"Folio: {content.folio}", "Helvetica-Bold", 11)
    page.lines(f"Fecha de emisión: {city.get('name', '')}, {city.get('state', '')}, a {date_es(content.issued_at)}",
               "Helvetica", 10)
    if content.holder:
        page.lines(f"A nombre de: {content.holder}", "Helvetica", 10)
    page.gap(5 * mm)

    for label, value in content.fields:
        page.need(12 * mm)
        page.lines(label, "Helvetica-Bold", 9.5)
        page.lines(value or "—", "Helvetica", 11, indent=0)
        page.gap(2.5 * mm)
    if content.paragraphs:
        page.gap(3 * mm)
    for paragraph in content.paragraphs:
        page.lines(paragraph, "Helvetica", 10.5, leading=14.5)
        page.gap(3 * mm)

    c.showPage()
    c.save()
    return buffer.getvalue()
