"""Storing an upload (streamed, hashed, size-capped) and reading tabular files row by row.

Every reader yields `(row_number, values)` where values are text (or None) and `row_number` is the
row as a spreadsheet shows it (the header is row 1), so the validation report points at the place
a person would look. Readers open the stored file again for each pass and never hold it whole."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
import uuid
import zipfile
from collections.abc import Iterator, Sequence
from itertools import islice
from datetime import date, datetime, time
from typing import IO

import numpy as np
import pyarrow as pa
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext as _
from pyarrow import csv as arrow_csv

from ..services import MAX_UPLOAD_BYTES, OpendataError

CHUNK = 256 * 1024
DELIMITERS = (",", ";", "\t", "|")
_C1 = re.compile(rb"[\x80-\x9f]")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class _HashingFile(File):
    """Wraps an upload so that storing it also measures, hashes and inspects every byte: size cap,
    SHA-256, NUL bytes (binary), whether it is valid UTF-8, and whether bytes 0x80–0x9F occur
    (Windows-1252 punctuation; in Latin-1 they are invisible control characters)."""

    def __init__(self, upload: IO[bytes]):
        super().__init__(upload)
        self.size_seen = 0
        self.sha = hashlib.sha256()
        self.head = b""
        self.has_nul = False
        self.utf8_ok = True
        self.has_c1 = False
        self._decoder = codecs.getincrementaldecoder("utf-8")()

    @property
    def size(self):  # storage backends may ask; the real size is known only once read
        return self.size_seen

    def chunks(self, chunk_size=None):
        if hasattr(self.file, "seek"):
            try:
                self.file.seek(0)
            except (OSError, ValueError):
                pass
        while True:
            data = self.file.read(CHUNK)
            if not data:
                break
            if isinstance(data, str):
                data = data.encode("utf-8")
            self.size_seen += len(data)
            if self.size_seen > MAX_UPLOAD_BYTES:
                raise OpendataError(
                    _("El archivo es demasiado grande (el máximo es %d MB).") % (MAX_UPLOAD_BYTES // (1024 * 1024)),
                    field="upload", code="too_large", status=413,
                )
            self.sha.update(data)
            if len(self.head) < 65536:
                self.head += data[: 65536 - len(self.head)]
            if not self.has_nul and b"\x00" in data:
                self.has_nul = True
            if self.utf8_ok:
                try:
                    self._decoder.decode(data)
                except UnicodeDecodeError:
                    self.utf8_ok = False
            if not self.has_c1 and _C1.search(data):
                self.has_c1 = True
            yield data
        if self.utf8_ok:
            try:
                self._decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                self.utf8_ok = False


def store(upload: IO[bytes], filename: str) -> tuple[str, _HashingFile]:
    """Streams the upload into default_storage. Returns the stored name and what was learnt.
    On failure the partial file is removed and the error raised."""
    safe = _SAFE_NAME.sub("-", (filename or "archivo").rsplit("/", 1)[-1].rsplit("\\", 1)[-1])[-120:].strip("-.")
    wanted = f"opendata/{timezone.now():%Y/%m}/{uuid.uuid4().hex}/{safe or 'archivo'}"
    wrapper = _HashingFile(upload)
    try:
        name = default_storage.save(wanted, wrapper)
    except BaseException:
        discard(wanted)
        raise
    return name, wrapper


def discard(name: str) -> None:
    try:
        if name and default_storage.exists(name):
            default_storage.delete(name)
    except OSError:  # pragma: no cover - nothing more can be done; never mask the real error
        pass


# --- What kind of file is it? --------------------------------------------------------------

def declared_kind(filename: str, fmt: str = "") -> str:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    kind = {"csv": "csv", "txt": "csv", "tsv": "tsv", "tab": "tsv", "xlsx": "xlsx", "json": "json",
            "geojson": "geojson"}.get(ext)
    if kind is None:
        kind = {"CSV": "csv", "TSV": "tsv", "XLSX": "xlsx", "JSON": "json", "GEOJSON": "geojson"}.get(
            (fmt or "").upper(), "")
    return kind


def sniff(kind: str, info: _HashingFile) -> tuple[str, str]:
    """Checks the content against the declared kind. Returns (kind, mimetype) or raises."""
    head = info.head
    is_zip = head.startswith(b"PK\x03\x04")
    if kind in ("csv", "tsv", "json", "geojson"):
        binary = info.has_nul or is_zip or head[:5] == b"%PDF-" or head[:4] in (b"\x89PNG", b"\xd0\xcf\x11\xe0") \
            or head[:3] == b"\xff\xd8\xff" or (info.size_seen and not info.utf8_ok and _looks_binary(head))
        if binary:
            if kind in ("csv", "tsv"):
                raise OpendataError(
                    _("El archivo no es un CSV de texto: parece un archivo binario (por ejemplo, una hoja de "
                      "cálculo o una imagen con otro nombre). Guárdalo como CSV desde tu programa y súbelo otra vez."),
                    field="upload", code="not_text")
            raise OpendataError(_("El archivo no es un JSON de texto: parece un archivo binario."),
                                field="upload", code="not_text")
        if kind in ("json", "geojson"):
            first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
            if first not in (b"[", b"{"):
                raise OpendataError(_("El archivo no es JSON: debe empezar con «[» o «{»."), field="upload")
            if not info.utf8_ok:
                raise OpendataError(_("El archivo JSON debe estar en UTF-8."), field="upload")
            return kind, "application/geo+json" if kind == "geojson" else "application/json"
        return kind, "text/tab-separated-values" if kind == "tsv" else "text/csv"
    if kind == "xlsx":
        if not is_zip:
            raise OpendataError(
                _("El archivo no es un XLSX válido (no es un libro de Excel). Si es un .xls antiguo o un CSV, "
                  "guárdalo como XLSX o CSV y súbelo otra vez."), field="upload", code="not_xlsx")
        return kind, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    mimetype = "application/pdf" if head[:5] == b"%PDF-" else "application/zip" if is_zip else (
        "text/plain" if info.utf8_ok and not info.has_nul else "application/octet-stream")
    return "", mimetype


def _looks_binary(head: bytes) -> bool:
    controls = sum(1 for b in head[:4096] if b < 32 and b not in (9, 10, 13))
    return controls > len(head[:4096]) * 0.01


def text_encoding(info: _HashingFile) -> str:
    if info.utf8_ok:
        return "utf-8-sig" if info.head.startswith(codecs.BOM_UTF8) else "utf-8"
    return "cp1252" if info.has_c1 else "latin-1"


def _open_text(name: str, encoding: str) -> IO[str]:
    raw = default_storage.open(name, "rb")
    # The storage's File proxies every read through Python; read the file object it wraps (for
    # the file system, the real buffered file: each line then costs nothing in the interpreter).
    raw = getattr(raw, "file", None) or raw
    # cp1252 leaves five bytes undefined; replace them rather than fail on one stray byte.
    return io.TextIOWrapper(raw, encoding=encoding, errors="replace" if encoding == "cp1252" else "strict",
                            newline="")


def sniff_delimiter(name: str, encoding: str, kind: str) -> str:
    with _open_text(name, encoding) as fh:
        sample = fh.read(65536)
    lines = sample.splitlines()
    if len(sample) == 65536 and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut
    lines = [line for line in lines[:200] if line.strip()]
    if not lines:
        raise OpendataError(_("El archivo está vacío."), field="upload", code="empty")
    text = "\n".join(lines)
    hint = None
    try:
        hint = csv.Sniffer().sniff(text, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        pass
    best, best_score = ("\t" if kind == "tsv" else ","), (0.0, 0)
    for delim in DELIMITERS:
        counts = [len(r) for r in csv.reader(io.StringIO(text), delimiter=delim)]
        if not counts:
            continue
        header = counts[0]
        if header < 2:
            continue
        consistent = sum(1 for c in counts if c == header) / len(counts)
        score = (round(consistent, 2) + (0.01 if delim == hint else 0), header)
        if score > best_score:
            best, best_score = delim, score
    return best


# --- Readers -------------------------------------------------------------------------------

def _cell_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.time() == time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.replace(tzinfo=None).isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return repr(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


BATCH_ROWS = 4096  # rows a batch holds at most ...
BATCH_CHARS = 200_000  # ... and about this much text, whichever comes first


def _next_size(rows: list[list[str | None]]) -> int:
    """The size of the next batch: BATCH_ROWS, or fewer when rows are long (judged by a sample of
    the last batch), so a batch stays near BATCH_CHARS of text whatever the width of the file."""
    sample = rows[:64]
    per_row = sum(len(v) for row in sample for v in row if v) / len(sample) if sample else 0
    return max(1, min(BATCH_ROWS, int(BATCH_CHARS / max(per_row, 1))))


class NotColumnar(Exception):
    """The columnar reader cannot read this file exactly as the csv module does (`CsvFile.columns`);
    the ingestion reads it row by row instead."""


COLUMNAR_BLOCK = 256 * 1024  # bytes Arrow's CSV reader parses at a time (a row must fit in one); it reads
# about 35 blocks ahead, so this bounds the reader's memory too (9 MB)


class TabularFile:
    """A stored tabular file: `header` (original headers), `rows()` (a fresh pass each call) and
    `batches()` (the same rows in lists, with their row numbers)."""

    kind = ""
    encoding = ""
    delimiter = ""
    geometry = False
    may_hold_nul = True  # a value may contain NUL (which neither engine stores)
    columnar = False  # `columns()` may be tried (CsvFile)

    def __init__(self, name: str):
        self.name = name
        self.notes: list[dict] = []  # report entries about the file as a whole

    def header(self) -> list[str]:
        raise NotImplementedError

    def rows(self) -> Iterator[tuple[int, list[str | None]]]:
        raise NotImplementedError

    def batches(self) -> Iterator[tuple[Sequence[int], list[list[str | None]]]]:
        numbers: list[int] = []
        rows: list[list[str | None]] = []
        size = 256
        for number, cells in self.rows():
            numbers.append(number)
            rows.append(cells)
            if len(rows) >= size:
                size = _next_size(rows)
                yield numbers, rows
                numbers, rows = [], []
        if rows:
            yield numbers, rows


def _has_empty_row(batch) -> bool:
    if min(c.null_count for c in batch.columns) == 0:  # a column with no empty cell
        return False
    return bool(np.logical_and.reduce([c.is_null().to_numpy(zero_copy_only=False) for c in batch.columns]).any())


def _holds_carriage_return(column) -> bool:
    data = column.buffers()[2]  # the UTF-8 bytes of the column's values (CR is never part of another character)
    return data is not None and bool((np.frombuffer(data, np.uint8) == 13).any())


class CsvFile(TabularFile):
    kind = "csv"

    def __init__(self, name: str, encoding: str, delimiter: str):
        super().__init__(name)
        self.encoding, self.delimiter = encoding, delimiter
        csv.field_size_limit(16 * 1024 * 1024)

    def _reader(self, fh):
        return csv.reader(fh, delimiter=self.delimiter)

    def header(self) -> list[str]:
        with _open_text(self.name, self.encoding) as fh:
            for number, row in enumerate(self._reader(fh), start=1):
                if any(cell.strip() for cell in row):
                    self._header_record = (number, row)
                    return [c.strip() for c in row]
        raise OpendataError(_("El archivo está vacío."), field="upload", code="empty")

    def columns(self, ncol: int, *, checked: bool = True) -> Iterator:
        """The rows after the header as Arrow record batches of `ncol` string columns (null for an
        empty cell), parsed by Arrow's CSV reader in C++ a block at a time: the same cells as
        `batches`, the rows numbered from 2 without gaps. Arrow quotes, unquotes and splits rows as
        the csv module does (tests/opendata/test_ingest_columnar.py) but knows nothing of rows of
        another width, reads a blank line as a row of empty cells, like a row of delimiters only
        (which the csv module keeps and `batches` skips), and skips the first line, not the first
        record; and it drops the LF of a quoted CRLF that straddles two blocks. So it is used only
        where none of that can change the result: the header is the first line and a whole
        record, every row has the header's width, no row is all empty and no value holds a CR.
        Anything else raises NotColumnar: before the first batch, or at the batch where it shows
        (then nothing read before may be used; a row longer than COLUMNAR_BLOCK and text that does
        not decode do the same). `checked=False`: the file was read whole with the checks
        before (pass 1), and they are skipped."""
        if not self.columnar or ncol < 2:  # one column: a line of spaces is a blank line to the csv module
            raise NotColumnar("not a plain file")
        number, row = getattr(self, "_header_record", (0, None))
        raw = default_storage.open(self.name, "rb")
        reader = None
        try:
            first_line = raw.read(COLUMNAR_BLOCK).split(b"\n", 1)[0].split(b"\r", 1)[0]
            try:
                alone = list(self._reader([first_line.decode(self.encoding)]))
            except (UnicodeDecodeError, csv.Error):
                alone = []
            if number != 1 or alone != [row]:
                raise NotColumnar("the header is not the first line")
            raw.seek(0)
            names = [f"c{i}" for i in range(ncol)]
            reader = arrow_csv.open_csv(
                getattr(raw, "file", None) or raw,
                read_options=arrow_csv.ReadOptions(skip_rows=1, column_names=names, block_size=COLUMNAR_BLOCK,
                                                   use_threads=False,
                                                   encoding="utf8" if self.encoding.startswith("utf-8") else self.encoding),
                parse_options=arrow_csv.ParseOptions(delimiter=self.delimiter, newlines_in_values=True,
                                                     ignore_empty_lines=False),
                convert_options=arrow_csv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()), null_values=[""], strings_can_be_null=True,
                    quoted_strings_can_be_null=True))
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    return
                if checked:
                    if _has_empty_row(batch):
                        raise NotColumnar("a blank line or a row of empty cells")
                    if any(map(_holds_carriage_return, batch.columns)):
                        # Arrow 26 drops the LF of a quoted CRLF whose CR ends a block ("uno\r\ndos"
                        # read as "uno\rdos"; apache/arrow#51368); the csv module keeps both, and so
                        # does the row reader
                        raise NotColumnar("a value holds a carriage return")
                yield batch
        except (pa.ArrowException, UnicodeError, ValueError) as exc:
            raise NotColumnar(str(exc)[:200]) from None
        finally:
            if reader is not None:
                reader.close()  # before its file: Arrow may still be reading ahead from it
            raw.close()

    def rows(self):
        for numbers, batch in self.batches():
            yield from zip(numbers, batch)

    def batches(self):
        """The rows after the header, read by the csv module a batch at a time (the per-row work
        stays in C); blank lines are skipped and keep their numbers."""
        reader = None
        try:
            with _open_text(self.name, self.encoding) as fh:
                reader = self._reader(fh)
                number = 0
                for row in reader:  # up to the header
                    number += 1
                    if any(cell.strip() for cell in row):
                        break
                size = 256
                while chunk := list(islice(reader, size)):
                    start = number + 1
                    number += len(chunk)
                    if min(map(len, chunk)) > 1:  # a blank line reads as [] or [""]
                        yield range(start, number + 1), chunk
                    else:
                        kept = [(start + k, row) for k, row in enumerate(chunk)
                                if row and not (len(row) == 1 and not row[0].strip())]
                        if kept:
                            yield [n for n, _row in kept], [row for _n, row in kept]
                    size = _next_size(chunk)
        except csv.Error as exc:
            raise OpendataError(_("El CSV no se pudo leer cerca de la fila %(row)d: %(error)s.")
                                % {"row": reader.line_num if reader is not None else 1, "error": exc},
                                field="upload") from None
        except UnicodeDecodeError:
            raise OpendataError(_("El CSV tiene caracteres que no se pueden leer (codificación mixta)."),
                                field="upload") from None


class XlsxFile(TabularFile):
    kind = "xlsx"

    def _workbook(self):
        import openpyxl

        fh = default_storage.open(self.name, "rb")
        try:
            wb = openpyxl.load_workbook(fh, read_only=True, data_only=True)
        except Exception:
            fh.close()
            raise self.broken() from None
        if not wb.worksheets:
            fh.close()
            raise OpendataError(_("El libro de Excel no tiene hojas."), field="upload")
        return fh, wb

    def broken(self) -> OpendataError:
        return OpendataError(
            _("El archivo XLSX está dañado o incompleto y no se puede leer. Ábrelo en tu programa de hojas "
              "de cálculo, guárdalo de nuevo y vuelve a subirlo."), field="upload", code="corrupt")

    def header(self) -> list[str]:
        for number, row in self._iter(header=True):
            return row
        raise OpendataError(_("El archivo está vacío."), field="upload", code="empty")

    def _iter(self, header=False):
        fh, wb = self._workbook()
        try:
            if len(wb.worksheets) > 1 and header:
                self.notes.append({"row": None, "column": None, "message": _(
                    "El libro tiene %(n)d hojas; solo se cargó la primera («%(sheet)s»).")
                    % {"n": len(wb.worksheets), "sheet": wb.worksheets[0].title}})
            try:
                for number, values in enumerate(wb.worksheets[0].iter_rows(values_only=True), start=1):
                    cells = [_cell_text(v) for v in values]
                    while cells and (cells[-1] is None or cells[-1] == ""):
                        cells.pop()
                    if not cells:
                        continue
                    yield number, [c.strip() if isinstance(c, str) and header else c for c in cells]
            except OpendataError:
                raise
            except Exception:
                raise self.broken() from None
        finally:
            wb.close()
            fh.close()

    def rows(self):
        first = True
        for number, cells in self._iter():
            if first:
                first = False
                continue
            yield number, cells


class JsonFile(TabularFile):
    """A JSON array of objects, {"records": [...]}, or a GeoJSON FeatureCollection (properties
    become columns, the geometry a `geometry` text column holding GeoJSON). Streamed with ijson;
    the header is the union of keys in order of first appearance (found in pass 1)."""

    kind = "json"

    def __init__(self, name: str):
        super().__init__(name)
        self._keys: list[str] | None = None
        self.prefix = self._find_prefix()
        self.geometry = self.prefix == "features.item"
        if self.geometry:
            self.kind = "geojson"

    def _find_prefix(self) -> str:
        import ijson

        with default_storage.open(self.name, "rb") as fh:
            try:
                for prefix, event, value in ijson.parse(fh):
                    if prefix == "" and event == "start_array":
                        return "item"
                    if prefix == "" and event == "map_key" and value in ("features", "records"):
                        return f"{value}.item"
                    if prefix == "" and event == "end_map":
                        break
            except ijson.JSONError:
                raise self.broken() from None
        raise OpendataError(
            _("El JSON debe ser una lista de objetos, un objeto con «records» o una colección GeoJSON "
              "(FeatureCollection)."), field="upload")

    def broken(self) -> OpendataError:
        return OpendataError(_("El archivo JSON está mal formado o incompleto y no se puede leer."),
                             field="upload", code="corrupt")

    def _objects(self):
        import ijson

        with default_storage.open(self.name, "rb") as fh:
            try:
                for n, item in enumerate(ijson.items(fh, self.prefix, use_float=True), start=1):
                    if not isinstance(item, dict):
                        raise OpendataError(_("El elemento %d del JSON no es un objeto.") % n, field="upload")
                    if self.geometry:
                        props = item.get("properties") or {}
                        if not isinstance(props, dict):
                            raise OpendataError(_("Las propiedades del elemento %d no son un objeto.") % n,
                                                field="upload")
                        yield n, props, item.get("geometry")
                    else:
                        yield n, item, None
            except ijson.JSONError:
                raise self.broken() from None

    def header(self) -> list[str]:
        if self._keys is None:
            keys: dict[str, None] = {}
            for _n, obj, _g in self._objects():
                for key in obj:
                    if key not in keys:
                        keys[key] = None
                        if len(keys) > 1000:
                            raise OpendataError(_("El JSON tiene más de 1000 columnas distintas."), field="upload")
            self._keys = list(keys)
            if not self._keys and not self.geometry:
                raise OpendataError(_("El archivo está vacío."), field="upload", code="empty")
        return self._keys + (["geometry"] if self.geometry else [])

    def rows(self):
        keys = self._keys if self._keys is not None else self.header()[: -1 if self.geometry else None]
        for n, obj, geometry in self._objects():
            cells = [_cell_text(obj.get(k)) for k in keys]
            if self.geometry:
                cells.append(_cell_text(geometry))
            yield n + 1, cells


def open_tabular(name: str, kind: str, info: _HashingFile) -> TabularFile:
    if kind in ("csv", "tsv"):
        encoding = text_encoding(info)
        tab = CsvFile(name, encoding, sniff_delimiter(name, encoding, kind))
        tab.may_hold_nul = info.has_nul  # every byte was looked at while storing
        tab.columnar = not info.has_nul
        return tab
    if kind == "xlsx":
        return XlsxFile(name)
    return JsonFile(name)


def check_zip(name: str) -> None:
    """A cheap integrity check of an XLSX's zip directory (a truncated file has none)."""
    with default_storage.open(name, "rb") as fh:
        try:
            with zipfile.ZipFile(fh) as zf:
                if "xl/workbook.xml" not in zf.namelist():
                    raise OpendataError(_("El archivo no es un libro de Excel (XLSX)."), field="upload")
        except (zipfile.BadZipFile, OSError, EOFError):
            raise OpendataError(
                _("El archivo XLSX está dañado o incompleto y no se puede leer. Ábrelo en tu programa de hojas "
                  "de cálculo, guárdalo de nuevo y vuelve a subirlo."), field="upload", code="corrupt") from None
