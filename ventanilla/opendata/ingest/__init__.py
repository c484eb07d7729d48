"""Loading an uploaded file into a resource version: store it, recognise it, infer column types
over the whole file (pass 1), load typed rows into a new datastore table in batches (pass 2),
index it, and write the data dictionary and the validation report.

`ingest_version` is called by `services.add_version` inside its transaction. On any failure it
raises `OpendataError` and leaves nothing behind: the stored file is deleted and the version row,
its data dictionary and the datastore table disappear with the rolled-back savepoint.

Pass 1 also decides which columns have few distinct values; pass 2 gathers their bitmap indexes
and writes the words of the other text columns marked as free text (datastore/bitmaps.py).

Memory stays bounded whatever the file size: the upload is streamed to storage in 256 kB chunks
(hashed, size-capped and checked for encoding on the way), each pass reads the stored file row by
row, rows go to the engine in batches of at most 5,000 rows or ~400 kB of text, and what is kept
per column is a handful of counters, at most 10,000 hashes (pass 1) and the compressed bitmaps of
at most 10,000 values (pass 2). A 21 MB CSV stays under a quarter of its size in Python memory
(test). Load times of one million rows: docs/opendata.md, Benchmark."""

from __future__ import annotations

import gc
import hashlib
from contextlib import contextmanager
from typing import IO

from django.db import DataError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..datastore import bitmaps, tables
from ..models import DataField, ResourceVersion
from ..services import OpendataError
from . import files
from .types import NUMERIC, TEXT, ColumnStats, converter, normalise_words, unique_ids

REPORT_CAP = 1000
MAX_COLUMNS = 1000  # PostgreSQL allows 1,600 columns a table, SQLite 2,000
BATCH_CHARS = 400_000  # a batch holds at most ~5,000 rows or about 400 kB of text, whichever comes first
TYPE_WORDS = {
    "int": gettext_lazy("un número entero"), "numeric": gettext_lazy("un número"), "date": gettext_lazy("una fecha"),
    "timestamp": gettext_lazy("una fecha y hora"), "bool": gettext_lazy("sí o no"),
}

__all__ = ["ingest_version", "REPORT_CAP"]


class Report:
    """The validation report: at most REPORT_CAP entries, then one line counting the rest."""

    def __init__(self) -> None:
        self.items: list[dict] = []
        self.extra = 0

    def add(self, row: int | None, column: str | None, message: str) -> None:
        if len(self.items) < REPORT_CAP:
            self.items.append({"row": row, "column": column, "message": message})
        else:
            self.extra += 1

    def extend(self, entries) -> None:
        for e in entries:
            self.add(e.get("row"), e.get("column"), e["message"])

    def result(self) -> list[dict]:
        if self.extra:
            return self.items + [{"row": None, "column": None,
                                  "message": _("Hay %d problemas más que no se muestran.") % self.extra}]
        return self.items


def ingest_version(version: ResourceVersion, *, upload: IO[bytes], filename: str,
                   previous: ResourceVersion | None) -> ResourceVersion:
    stored = ""
    try:
        stored, info = files.store(upload, filename)
        version.file.name = stored
        version.size = info.size_seen
        version.sha256 = info.sha.hexdigest()
        kind = files.declared_kind(filename, getattr(version.resource, "format", ""))
        kind, version.mimetype = files.sniff(kind, info)
        if kind and info.size_seen == 0:
            raise OpendataError(_("El archivo está vacío."), field="upload", code="empty")
        with transaction.atomic():
            version.status = ResourceVersion.Status.READY
            version.save()
            if kind:
                if kind == "xlsx":
                    files.check_zip(stored)
                tab = files.open_tabular(stored, kind, info)
                try:
                    load_table(version, tab, previous)
                except DataError as exc:
                    raise OpendataError(_("No se pudo cargar un valor en el almacén de datos: %s")
                                        % str(exc).splitlines()[0][:200], field="upload") from None
                version.save()
    except BaseException:
        files.discard(stored)
        version.table_name = ""
        raise
    return version


@contextmanager
def _without_cycle_collection():
    """The two passes make millions of short-lived lists and tuples that never form cycles; the
    cyclic garbage collector would scan them again and again (about 8 % of a load)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_table(version: ResourceVersion, tab: files.TabularFile, previous: ResourceVersion | None) -> None:
    with _without_cycle_collection():
        _load_table(version, tab, previous)


def _load_table(version: ResourceVersion, tab: files.TabularFile, previous: ResourceVersion | None) -> None:
    report = Report()
    headers = tab.header()
    report.extend(tab.notes)
    ids, header_problems = unique_ids(headers)
    report.extend(header_problems)
    ncol = len(ids)
    if ncol > MAX_COLUMNS:
        raise OpendataError(_("El archivo tiene %(n)d columnas; el máximo es %(max)d.") % {"n": ncol, "max": MAX_COLUMNS},
                            field="upload")
    labels = [(h or "").strip() or i for h, i in zip(headers, ids)]
    stats = [ColumnStats() for _ in ids]
    strict_width = tab.kind == "csv"

    # Pass 1: types over the whole file, row width problems.
    rows = 0
    active = list(range(ncol))
    cardinality = bitmaps.Cardinality(ncol)
    seen_rows = cardinality.buffer
    for number, cells in tab.rows():
        rows += 1
        seen_rows.append(cells)
        if len(seen_rows) >= cardinality.BATCH:
            cardinality.flush()
            seen_rows = cardinality.buffer
        width = len(cells)
        if width != ncol and (strict_width or width > ncol):
            if width > ncol and not strict_width and all(c in (None, "") for c in cells[ncol:]):
                pass
            else:
                report.add(number, None, _("La fila tiene %(n)d campos y el encabezado %(m)d; %(what)s.") % {
                    "n": width, "m": ncol,
                    "what": _("se completó con vacíos") if width < ncol else _("se descartaron los sobrantes")})
        changed = False
        for i in active:
            if i < width:
                value = cells[i]
                if value and not value.isspace():
                    st = stats[i]
                    st.see(value, number)
                    if not st.candidates:
                        changed = True
        if changed:
            active = [i for i in active if stats[i].candidates]
    kinds = [st.final_type() for st in stats]
    if tab.geometry:
        kinds[-1] = TEXT
    for i, st in enumerate(stats):
        if kinds[i] != TEXT:
            for row, value in st.markers:
                report.add(row, labels[i], _("«%(value)s» se cargó como vacío (sin dato).") % {"value": value})
        else:
            miss = st.near_miss()
            if miss:
                kind, row, value = miss
                report.add(row, labels[i], _(
                    "La columna se cargó como texto porque «%(value)s» no es %(what)s; corrige ese valor "
                    "si la columna debe ser numérica o de fechas.") % {"value": value[:80], "what": TYPE_WORDS[kind]})

    # Pass 2: convert and load in batches.
    table = f"ds_{version.id.hex}"
    tables.create_table(table, list(zip(ids, kinds)))
    convs = []
    for kind in kinds:
        conv, adapt = converter(kind), tables.adapter(kind)
        if conv is not None and adapt is not None:
            convs.append(lambda v, c=conv, a=adapt: x if (x := c(v)) is None or isinstance(x, str) else a(x))
        else:
            convs.append(conv)
    # Full text covers the text columns (numbers, dates and the geometry are filtered, not searched):
    # first the words of low-cardinality columns (those with bitmaps), then the others' words marked
    # as free text (datastore/bitmaps.py).
    geometry = [ncol - 1] if tab.geometry else []
    low = cardinality.low(kinds, exclude=geometry)
    text_cols = [i for i, k in enumerate(kinds) if k == TEXT and i not in geometry]
    low_set = set(low)
    low_text = [i for i in text_cols if i in low_set]
    free_text = [i for i in text_cols if i not in low_set]
    builder = bitmaps.Builder([(i, ids[i], kinds[i]) for i in low])
    add_to_bitmaps = builder.add_batch
    full_text_words = bitmaps.full_text_words
    max_len = cardinality.max_len
    blake = hashlib.blake2b
    loader = tables.Loader(table, ids)
    error = None
    _id = 0
    try:
        batch: list[tuple] = []
        batch_chars = 0
        pad = [None] * ncol
        for _number, cells in tab.rows():
            if len(cells) != ncol:
                cells = (list(cells) + pad)[:ncol]
            _id += 1
            raw = "\x1f".join([v or "" for v in cells])
            if "\x00" in raw:  # PostgreSQL text cannot hold NUL; neither engine gets it
                cells = [v.replace("\x00", "") if v else v for v in cells]
            values = [c(v) if c is not None else (v or None) for c, v in zip(convs, cells)]
            parts = [cells[i] for i in low_text if cells[i]]
            free = [cells[i] for i in free_text if cells[i]]
            # Folding is character by character, so one call on the joined text gives the same words
            # as folding each value (and costs one call a row instead of one a value).
            words = full_text_words(normalise_words(" ".join(parts)), free)
            if len(words) > tables.MAX_LEXEME:
                words = tables.full_text_value(words)
            digest = blake(raw.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
            batch.append((_id, *values, words, digest))
            batch_chars += len(raw)
            if len(batch) >= tables.BATCH or batch_chars >= BATCH_CHARS:
                loader.write(batch)
                add_to_bitmaps(batch)
                batch = []
                batch_chars = 0
        if batch:
            loader.write(batch)
            add_to_bitmaps(batch)
    except BaseException as exc:
        error = exc
        raise
    finally:
        loader.close(error)
    indexed = [ids[i] for i, k in enumerate(kinds)
               if not (tab.geometry and i == ncol - 1) and (k != TEXT or 0 < max_len[i] <= tables.MAX_INDEXED_TEXT)]
    tables.finish_table(table, indexed)
    version.bitmaps = {"columns": builder.save(table), "free_text": bool(free_text)}

    version.table_name = table
    version.row_count = _id
    version.encoding = getattr(tab, "encoding", "").replace("-sig", "")[:20]
    version.delimiter = getattr(tab, "delimiter", "")
    version.report = report.result()
    if previous is not None and previous.table_name and tables.table_exists(previous.table_name):
        version.rows_added, version.rows_removed = tables.diff_counts(table, previous.table_name)
    DataField.objects.bulk_create([
        DataField(version=version, position=i, name=ids[i], source_name=(headers[i] or "")[:300],
                  type=kinds[i], label=labels[i][:200],
                  unit="$" if kinds[i] == NUMERIC and stats[i].money else "",
                  description=_("Geometría del elemento en formato GeoJSON.")
                  if tab.geometry and i == ncol - 1 else "")
        for i in range(ncol)
    ])
