"""Downloads of any datastore query, streamed in batches: CSV (UTF-8 with BOM, so spreadsheet
programs read accents right), JSON (an array of objects) and XLSX (openpyxl write-only, written to
a temporary file and streamed from it). Without `limit`, a download holds every matching row."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterator, Mapping
from typing import Any

from django.utils.text import slugify
from django.utils.translation import gettext as _

from ..services import OpendataError
from . import MAX_LIMIT, Query, build_query, iter_rows

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
XLSX_MAX_ROWS = 1_048_575  # a worksheet holds 1,048,576 rows including the header


def dump(resource, fmt: str, params: Mapping[str, Any]):
    fmt = (fmt or "csv").lower()
    if fmt not in FORMATS:
        raise OpendataError(_("El formato de descarga debe ser csv, json o xlsx."), field="format")
    params = dict(params)
    limit = params.pop("limit", None)
    for key in ("records_format", "include_total"):
        params.pop(key, None)
    query = build_query(resource, {**params, "limit": MAX_LIMIT})
    cap = None
    if limit not in (None, ""):
        from . import _int_param

        cap = _int_param(limit, "limit", 0, 10**12)
    if fmt == "xlsx":
        cap = XLSX_MAX_ROWS if cap is None else min(cap, XLSX_MAX_ROWS)
    base = slugify(resource.name)[:80] or str(resource.pk)
    writer = {"csv": _csv, "json": _json, "xlsx": _xlsx}[fmt]
    return writer(query, cap), FORMATS[fmt], f"{base}.{fmt}"


def _csv(query: Query, cap: int | None) -> Iterator[bytes]:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(query.fields)
    yield b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")
    buf.seek(0)
    buf.truncate()
    n = 0
    for row in iter_rows(query, limit=cap):
        writer.writerow(["" if v is None else ("true" if v is True else "false" if v is False else v) for v in row])
        n += 1
        if n % 1000 == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    if buf.tell():
        yield buf.getvalue().encode("utf-8")


def _json(query: Query, cap: int | None) -> Iterator[bytes]:
    yield b"["
    first = True
    parts: list[str] = []
    for row in iter_rows(query, limit=cap):
        parts.append(("" if first else ",") + json.dumps(dict(zip(query.fields, row)), ensure_ascii=False))
        first = False
        if len(parts) >= 1000:
            yield "\n".join(parts).encode("utf-8")
            parts = []
    if parts:
        yield "\n".join(parts).encode("utf-8")
    yield b"]\n"


def _xlsx(query: Query, cap: int | None) -> Iterator[bytes]:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    with tempfile.TemporaryFile() as tmp:
        wb = Workbook(write_only=True)
        ws = wb.create_sheet(title="datos")
        ws.append(query.fields)
        for row in iter_rows(query, limit=cap):
            ws.append([_xlsx_value(ws, WriteOnlyCell, v) for v in row])
        wb.save(tmp)
        tmp.seek(0)
        while chunk := tmp.read(256 * 1024):
            yield chunk


def _xlsx_value(ws, cell_class, value: Any) -> Any:
    if isinstance(value, str):
        value = "".join(ch for ch in value if ch >= " " or ch in "\t\n\r")[:32767]
        if value.startswith("="):  # text, never a formula the spreadsheet would run
            cell = cell_class(ws, value=value)
            cell.data_type = "s"
            return cell
    return value
