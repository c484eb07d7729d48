"""Loading an uploaded file into a resource version: store it, recognise it, read it once to
infer column types over the whole file (pass 1), load typed rows into a new datastore table in
batches (pass 2), index it, and write the data dictionary and the validation report.

`ingest_version` is called by `services.add_version` inside its transaction. On any failure it
raises `OpendataError` and leaves nothing behind: the stored file is deleted and the version row,
its data dictionary and the datastore table disappear with the rolled-back savepoint; the spill
file (below) is deleted whatever happens.

A plain CSV is read column by column by Apache Arrow's C++ reader in both passes
(files.CsvFile.columns; `_pass1_columnar`, `_pass2_columnar`). Any other file, and a CSV that
reader cannot read exactly as the csv module does, is read row by row (`_pass1_rows`,
`_pass2_spilled`): pass 1 fits each row to the header's width, removes NUL and keeps each
cleaned batch in a temporary spill file (spill.py), the columns with few values as their codes,
the others as text, which pass 2 reads back instead of parsing the file again. Either way the
table, the types, the report, the bitmaps and the fingerprints are the same
(tests/opendata/test_ingest_columnar.py).

Pass 1 decides which columns have few distinct values and gathers their bitmap indexes (those
columns get no b-tree; datastore/bitmaps.py). Pass 2 turns codes into stored values, computes the
rows' fingerprints and writes the words of the other text columns, marked as free text, to
`_full_text`.

Both passes work on batches column by column, so that the work per value is done in C or C++
(the interpreter's csv, zip, set, map, itemgetter and str methods, numpy, Arrow), not by Python
bytecode: pass 1 parses each distinct value of a batch once (`ColumnStats.see_column`), pass 2
converts each distinct value of a column with few values once for the whole file and folds the
free text of a whole batch in one call.

Memory stays bounded whatever the file size: the upload is streamed to storage in 256 kB chunks
(hashed, size-capped and checked for encoding and NUL bytes on the way); Arrow reads 256 kB
blocks, about 35 of them ahead; the row reader and the spill work in batches of at most 4,096
rows, fewer when rows are long (each batch is sized from the rows just read to hold about 200 kB
of text: files.BATCH_ROWS, BATCH_CHARS); and what is kept per column is a handful of counters, at
most 10,000 values with their bitmaps, and the codes of at most 4 million cells not yet folded
into them (tests: test_ingest.py, memory). Load times of one million rows: docs/opendata.md,
Benchmark."""

from __future__ import annotations

import gc
from binascii import crc_hqx
from collections.abc import Sequence
from contextlib import contextmanager
from itertools import repeat
from operator import lshift, methodcaller, or_
from zlib import crc32
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.db import DataError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..datastore import bitmaps, tables
from ..models import DataField, ResourceVersion
from ..services import OpendataError
from . import files
from .spill import Spill
from .types import NUMERIC, TEXT, ColumnStats, converter, unique_ids

REPORT_CAP = 1000
MAX_COLUMNS = 1000  # PostgreSQL allows 1,600 columns a table, SQLite 2,000
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
    with _without_cycle_collection(), Spill() as spill:
        _load_table(version, tab, previous, spill)


_ENCODE = methodcaller("encode", "utf-8", "surrogatepass")


def cell_hashes(values: Sequence[str]) -> np.ndarray:
    """Each value's 48-bit hash: CRC-32 and CRC-16-CCITT of its UTF-8, two different polynomials,
    side by side. Computed by the interpreter's C code for a whole column of a batch."""
    encoded = list(map(_ENCODE, values))
    return np.fromiter(map(or_, map(lshift, map(crc32, encoded), repeat(16)), map(crc_hqx, encoded, repeat(0))),
                       np.uint64, len(encoded))


FINGERPRINTS = 2  # `version.bitmaps["fingerprints"]`: the rows' fingerprints are `fingerprints()`'s
_MIX = np.uint64(0x9E3779B97F4A7C15)


def fingerprints(columns: Sequence[Sequence[str] | np.ndarray], hashes_of: Sequence[np.ndarray | None]) -> np.ndarray:
    """Each row's fingerprint (the `_hash` column), from its cells as stored: the row's cell
    hashes mixed column after column (fp = fp × M + h, modulo 2⁶⁴, M odd), so any changed cell,
    and any two cells swapped, change it. A column given as codes (`hashes_of[i]`: the hash of each
    code's value) costs one numpy lookup a batch; the others have each cell hashed
    (`cell_hashes`). Versions are compared by fingerprint (rows added and removed): a row with
    one changed cell passes for its old self only if the two cells' 48-bit hashes collide (about
    1 in 280 trillion), and for another row of a million with a chance of the order of a million
    in 2⁶⁴. Signed 64-bit integers, as both engines store them."""
    rows = len(columns[0]) if columns else 0
    fp = np.zeros(rows, np.uint64)
    for column, table in zip(columns, hashes_of):
        fp *= _MIX
        fp += table[column] if table is not None else cell_hashes(column)
    return fp.view(np.int64)


def _fit_width(batch: list[list[str | None]], numbers, ncol: int, strict: bool, report: Report | None):
    """The batch's rows with exactly `ncol` cells: short rows completed with empty cells, the
    extra cells of long rows dropped. `report`: the rows of the wrong width are reported (`strict`:
    CSV, where every row should have the header's width; other files may leave trailing cells out)."""
    if min(map(len, batch)) == ncol == max(map(len, batch)):
        return batch
    fitted = []
    pad = [""] * ncol
    for number, cells in zip(numbers, batch):
        width = len(cells)
        if width != ncol:
            if report is not None and (strict or width > ncol) and not (
                    width > ncol and not strict and all(c in (None, "") for c in cells[ncol:])):
                report.add(number, None, _("La fila tiene %(n)d campos y el encabezado %(m)d; %(what)s.") % {
                    "n": width, "m": ncol,
                    "what": _("se completó con vacíos") if width < ncol else _("se descartaron los sobrantes")})
            cells = (list(cells) + pad)[:ncol]
        fitted.append(cells)
    return fitted


def _or_none(value: str) -> str | None:
    return value or None


def _convert(column: Sequence[str], conv) -> list:
    """A column's raw text → the values the engine stores (None for empty cells)."""
    if conv is None:  # text
        return list(map(_or_none, column))
    return list(map(conv, column))


def _text(column: Sequence[str] | np.ndarray, builder: bitmaps.Builder, i: int) -> Sequence[str]:
    """A spilled column's text (a column with many values may have been kept as codes for its
    first batches, before it had too many)."""
    if isinstance(column, np.ndarray):
        return list(map(builder.values(i).__getitem__, column.tolist()))
    return column


def _free_words(columns: list[Sequence[str]]) -> pa.Array:
    """Each row's `_full_text` (null: no word at all): the folded words of its free-text values,
    marked (bitmaps.py), for a whole batch at once (`columns`: lists of text, "" for an empty
    cell). The folding is one `str.translate` of the batch's joined text, faster than Arrow's
    regular expressions; the result goes on as an Arrow array."""
    parts = columns[0] if len(columns) == 1 else list(map(" ".join, zip(*columns)))
    words = bitmaps.free_text_batch(parts)
    if max(map(len, words)) > tables.MAX_LEXEME:
        words = [tables.full_text_value(w) if len(w) > tables.MAX_LEXEME else w for w in words]
    marked = pa.array(words, pa.string())
    return pc.if_else(pc.match_substring_regex(marked, "[a-z0-9]"), marked, pa.scalar(None, pa.string()))


class _Pass1:
    """What pass 1 gathers: the types' evidence, the bitmaps of columns with few values, the hash
    of each code's value, the number of rows, and whether the file was read column by column."""

    def __init__(self, ncol: int) -> None:
        self.stats = [ColumnStats() for _ in range(ncol)]
        self.builder = bitmaps.Builder(ncol)
        self.value_hashes = [np.zeros(0, np.uint64) for _ in range(ncol)]  # the hash of each code's value
        self.rows = 0
        self.columnar = False
        self.active = list(range(ncol))  # the columns whose type is still being learnt

    def see(self, numbers: Sequence[int], columns: Sequence) -> dict[int, np.ndarray]:
        """One batch of rows: their numbers and their columns (lists of text, or Arrow arrays);
        returns the codes of the columns that still have few values."""
        first = self.rows + 1
        self.rows += len(numbers)
        coded = self.builder.add(range(first, self.rows + 1), columns)
        for i in coded:
            known = len(self.value_hashes[i])
            if len(values := self.builder.values(i)) > known:
                self.value_hashes[i] = np.concatenate([self.value_hashes[i], cell_hashes(values[known:])])
        for i in self.active:
            column = columns[i]
            if isinstance(column, Sequence):
                self.stats[i].see_column(column, numbers)
            # An Arrow column (null for an empty cell): its distinct values found in C++ first,
            # and the cells turned into Python strings only if one of them needs parsing.
            elif not self.stats[i].see_known(pc.unique(column.drop_null()).to_pylist(), len(column) - column.null_count):
                self.stats[i].see_column(column.to_pylist(), numbers)
        self.active = [i for i in self.active if self.stats[i].candidates]
        return coded


def _pass1_columnar(tab: files.TabularFile, ncol: int) -> _Pass1 | None:
    """Pass 1 over Arrow's record batches (files.CsvFile.columns); None if the file must be read
    row by row. Nothing is spilled: pass 2 parses the file again, which costs less in C++ than
    the spill costs in Python."""
    seen = _Pass1(ncol)
    try:
        for batch in tab.columns(ncol):
            if batch.num_rows:
                # no blank line anywhere (Arrow's reader refuses the file), so the rows follow the
                # header, row 1, without gaps
                seen.see(range(seen.rows + 2, seen.rows + 2 + batch.num_rows), batch.columns)
    except files.NotColumnar:
        return None
    seen.columnar = True
    return seen


def _pass1_rows(tab: files.TabularFile, ncol: int, report: Report, spill: Spill) -> _Pass1:
    """Pass 1 over the reader's batches of rows: row width problems reported, NUL removed, and
    the cleaned batches kept in the spill with their fingerprints for pass 2."""
    seen = _Pass1(ncol)
    strict_width = tab.kind == "csv"
    for numbers, batch in tab.batches():
        batch = _fit_width(batch, numbers, ncol, strict_width, report)
        if tab.kind != "csv":  # spreadsheet and JSON cells may be None
            batch = [[v or "" for v in cells] for cells in batch]
        # PostgreSQL text cannot hold NUL; neither engine gets it
        if tab.may_hold_nul and any(map(methodcaller("__contains__", "\x00"), map("".join, batch))):
            batch = [[v.replace("\x00", "") for v in cells] for cells in batch]
        columns = list(zip(*batch))
        coded = seen.see(numbers, columns)
        hashes = fingerprints([coded.get(i, c) for i, c in enumerate(columns)],
                              [seen.value_hashes[i] if i in coded else None for i in range(ncol)])
        spill.write(columns, hashes, coded)
    return seen


def _pass2_spilled(spill: Spill, ncol: int, builder: bitmaps.Builder, stored: dict[int, np.ndarray], convs,
                   free_text: list[int], text_as_read: bool):
    """Pass 2 over the spill: each batch's (values, free words, fingerprints)."""
    for columns, hashes in spill:
        values = [stored[i][c].tolist() if isinstance(c := columns[i], np.ndarray)
                  else c if text_as_read and convs[i] is None else _convert(c, convs[i])
                  for i in range(ncol)]
        words = _free_words([_text(columns[i], builder, i) for i in free_text]) if free_text else None
        yield values, words, hashes


def _pass2_columnar(tab: files.TabularFile, ncol: int, builder: bitmaps.Builder, low: list[int],
                    value_hashes: list[np.ndarray], stored: dict[int, np.ndarray], convs, free_text: list[int]):
    """Pass 2 over the file parsed again by Arrow: each batch's (values, free words,
    fingerprints). The columns with bitmaps are looked up as codes (`Builder.codes_of`) and
    become their stored values by one `take`; text columns pass as Arrow arrays (empty cells are
    already null); the other columns are converted value by value. The fingerprints are those of
    pass 1 of a row-by-row reading, from the same cells."""
    postgres = not tables.Loader.empty_text_is_null()
    stored_arrays = {i: pa.array(list(map(tables.pg_text, stored[i])), pa.string())
                     for i in low if i in stored} if postgres else {}
    try:
        for batch in tab.columns(ncol, checked=False):  # pass 1 read the whole file with the checks
            if not batch.num_rows:
                continue
            columns = batch.columns
            codes = {i: builder.codes_of(i, columns[i]) for i in low}
            texts = {i: columns[i].fill_null("").to_pylist() for i in range(ncol) if i not in codes}
            hashes = fingerprints([codes[i] if i in codes else texts[i] for i in range(ncol)],
                                  [value_hashes[i] if i in codes else None for i in range(ncol)])
            values = []
            for i, column in enumerate(columns):
                if i in codes:
                    values.append(stored_arrays[i].take(codes[i]) if postgres else stored[i][codes[i]].tolist())
                elif convs[i] is None:
                    values.append(column)
                else:
                    values.append(_convert(texts[i], convs[i]))
            words = _free_words([texts[i] for i in free_text]) if free_text else None
            yield values, words, hashes
    except files.NotColumnar as exc:  # the file was read by pass 1 the same way
        raise OpendataError(_("El CSV no se pudo leer: %s") % exc, field="upload") from None


def _load_table(version: ResourceVersion, tab: files.TabularFile, previous: ResourceVersion | None,
                spill: Spill) -> None:
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

    # Pass 1: types over the whole file, row width problems, the bitmaps of columns with few
    # values, the rows' fingerprints. A plain CSV is read column by column by Arrow's C++ reader
    # (files.CsvFile.columns) and parsed again in pass 2; any other file, or a CSV that reader
    # cannot read exactly as the csv module does, row by row, its cleaned batches kept for pass 2
    # (spill.py).
    seen = (_pass1_columnar(tab, ncol) if tab.columnar else None) or _pass1_rows(tab, ncol, report, spill)
    stats, builder, value_hashes = seen.stats, seen.builder, seen.value_hashes
    kinds = [st.final_type() for st in stats]
    if tab.geometry:
        kinds[-1] = TEXT
    for i, st in enumerate(stats):
        if kinds[i] != TEXT:
            for row, value in sorted(st.markers):
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
    low = builder.low(kinds, exclude=geometry)
    builder.keep(low)
    text_cols = [i for i, k in enumerate(kinds) if k == TEXT and i not in geometry]
    low_set = set(low)
    free_text = [i for i in text_cols if i not in low_set]
    # Columns kept as codes (spill.py): the stored value of each code, converted once a value.
    text_as_read = tables.Loader.empty_text_is_null()
    stored = {}
    for i in (low if seen.columnar else range(ncol)):
        if raw := builder.values(i):
            conv = convs[i] if convs[i] is not None else (None if text_as_read else _or_none)
            stored[i] = np.empty(len(raw), dtype=object)
            stored[i][:] = raw if conv is None else list(map(conv, raw))
    loader = tables.Loader(table, ids, text_columns=[ids[i] for i, k in enumerate(kinds) if k == TEXT])
    # PostgreSQL: the free-text words' prefix bitmaps, instead of a GIN (bitmaps.PrefixBuilder);
    # SQLite indexes the words with FTS5.
    prefixes = bitmaps.PrefixBuilder() if free_text and tables.is_postgres() else None
    error = None
    _id = 0
    if seen.columnar:
        batches = _pass2_columnar(tab, ncol, builder, low, value_hashes, stored, convs, free_text)
    else:
        batches = _pass2_spilled(spill, ncol, builder, stored, convs, free_text, text_as_read)
    try:
        for values, words, hashes in batches:
            first = _id + 1
            _id += len(hashes)
            loader.write(range(first, _id + 1), values, words, hashes)
            if prefixes is not None:
                prefixes.add(range(first, _id + 1), words, hashes)
    except BaseException as exc:
        error = exc
        raise
    finally:
        loader.close(error)
    if _id != seen.rows:  # pass 2 read the file as pass 1 did, or nothing is loaded
        raise OpendataError(_("El archivo cambió mientras se cargaba."), field="upload")
    # Columns with bitmaps need no b-tree: the bitmaps answer their filters, words and sorting.
    max_len = builder.max_len
    indexed = [ids[i] for i, k in enumerate(kinds)
               if i not in low_set and not (tab.geometry and i == ncol - 1)
               and (k != TEXT or 0 < max_len[i] <= tables.MAX_INDEXED_TEXT)]
    with_bitmaps = [(i, ids[i], kinds[i], convs[i] or _or_none) for i in low]
    word_index = prefixes.word_index() if prefixes is not None else None
    by_prefix = bitmaps.prefix_bitmap_length(word_index) is not None

    def serialize() -> list[tuple[str, str, bytes]]:
        rows = builder.serialize(with_bitmaps)
        return rows + prefixes.serialize() if by_prefix else rows

    bitmap_rows = tables.finish_table(table, indexed, full_text=bool(free_text), word_index=word_index,
                                      alongside=serialize)
    saved = builder.write(table, bitmap_rows, with_bitmaps)
    version.bitmaps = {"columns": saved, "free_text": bool(free_text), "words": bitmaps.LAYOUT_FREE,
                       "kinds": {ids[i]: kinds[i] for i in low}, "fingerprints": FINGERPRINTS}
    if word_index:
        version.bitmaps["word_index"] = word_index  # PostgreSQL: how the free-text words are found

    version.table_name = table
    version.row_count = _id
    version.encoding = getattr(tab, "encoding", "").replace("-sig", "")[:20]
    version.delimiter = getattr(tab, "delimiter", "")
    version.report = report.result()
    # Tables loaded before the fingerprints of this release (`words` below) hold other ones: their
    # differences stay unknown (shown as "—").
    if (previous is not None and previous.table_name and (previous.bitmaps or {}).get("fingerprints") == FINGERPRINTS
            and tables.table_exists(previous.table_name)):
        version.rows_added, version.rows_removed = tables.diff_counts(table, previous.table_name)
    DataField.objects.bulk_create([
        DataField(version=version, position=i, name=ids[i], source_name=(headers[i] or "")[:300],
                  type=kinds[i], label=labels[i][:200],
                  unit="$" if kinds[i] == NUMERIC and stats[i].money else "",
                  description=_("Geometría del elemento en formato GeoJSON.")
                  if tab.geometry and i == ncol - 1 else "")
        for i in range(ncol)
    ])
