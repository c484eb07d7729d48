"""Physical datastore tables in the platform's own database: DDL, bulk load, indexes, full text.

One table per resource version, named `ds_<version uuid hex>`, with `_id` (row number, primary key),
the typed columns, `_full_text` (the row's words, lowercase and without accents) and `_hash` (a
fingerprint of the row, to count rows added and removed between versions).

The engine-specific parts are small and side by side here:

* PostgreSQL: `COPY ... FROM STDIN (FORMAT csv)` (psycopg 3) to load, each batch written as CSV
  by Arrow in C++ (`Loader`), the primary key added afterwards (a sorted build costs about 60 %
  of keeping it up to date row by row); b-tree indexes `(column NULLS FIRST, _id)`. Full text:
  `_full_text` is text. Its words are found by the bitmaps of their prefixes, which the
  ingestion builds while the rows are copied (bitmaps.PrefixBuilder), so the server builds no
  index for them; where prefixes would not part the words well, `finish_table` builds a GIN over
  the whole words (`_full_text::tsvector`). `version.bitmaps["word_index"]` says which. Tables
  loaded before kept a `tsvector` `_prefixes` with a GIN over it ("prefixes:<length>") or a
  `tsvector` `_full_text` with the GIN on it (no "word_index"), and are still searched so.
* SQLite: `executemany` in the surrounding transaction; an external-content FTS5 table
  `<table>_fts` over `_full_text`; plain indexes (SQLite appends the rowid, i.e. `_id`).

Both sort NULLs first in ascending order (SQLite's rule; PostgreSQL is told so explicitly) and
compare text by code point (SQLite's BINARY; PostgreSQL columns use COLLATE "C"), so the same query
gives the same rows in the same order on both engines."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from itertools import repeat
from typing import TypeVar

import numpy as np
import pyarrow as pa
from django.db import connection
from pyarrow import csv as arrow_csv

T = TypeVar("T")

PG_TYPES = {"text": 'text COLLATE "C"', "int": "bigint", "numeric": "numeric", "date": "date", "timestamp": "timestamp",
            "bool": "boolean"}
SQLITE_TYPES = {"text": "TEXT", "int": "INTEGER", "numeric": "REAL", "date": "TEXT", "timestamp": "TEXT",
                "bool": "INTEGER"}
TABLE_NAME = re.compile(r"^ds_[0-9a-f]{32}$")
COLUMN_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MAX_INDEXED_COLUMNS = 20
MAX_INDEXED_TEXT = 500  # longer text values are not indexed (PostgreSQL b-tree rows must stay small)


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def qn(name: str) -> str:
    """Quotes an identifier that has ALREADY been validated (table names, column ids)."""
    if not (TABLE_NAME.match(name) or COLUMN_NAME.match(name) or name in ("_id", "_full_text", "_prefixes", "_hash")
            or (name.endswith(("_fts", "_ix")) and TABLE_NAME.match(name.rsplit("_", 1)[0]))):
        raise ValueError(f"unsafe identifier {name!r}")
    return f'"{name}"'


def fts_table(table: str) -> str:
    return f"{table}_fts"


def index_table(table: str) -> str:
    """The table's bitmap indexes (datastore/bitmaps.py)."""
    return f"{table}_ix"


def adapter(kind: str):
    """Python value → what the engine stores. PostgreSQL takes Decimal, date, datetime and bool as
    they are; SQLite stores numbers as REAL, dates and timestamps as ISO text, booleans as 0/1."""
    if is_postgres():
        return None
    if kind == "numeric":
        return float
    if kind in ("date", "timestamp"):
        return lambda v: v.isoformat()
    if kind == "bool":
        return int
    return None


MAX_LEXEME = 2046  # PostgreSQL's longest tsvector word (bytes; our words are ASCII)
MAX_FULL_TEXT = 500_000  # tsvectors are capped at 1 MB; longer rows keep their first distinct words


def full_text_value(words: str) -> str:
    """The row's folded words as the engine stores them. Only long values need work: PostgreSQL
    refuses tsvector words over 2,046 bytes and tsvectors over 1 MB (to_tsvector() would drop or
    fail on them too), so such words are left out and very long rows keep their distinct words up
    to the cap. Applied on both engines so `q` finds the same rows on each."""
    if len(words) <= MAX_LEXEME:
        return words
    kept, size = [], 0
    for w in dict.fromkeys(words.split()):
        if len(w) <= MAX_LEXEME:
            size += len(w) + 1
            if size > MAX_FULL_TEXT:
                break
            kept.append(w)
    return " ".join(kept)


def create_table(table: str, columns: Sequence[tuple[str, str]]) -> None:
    """The table, without its primary key on PostgreSQL (`finish_table` adds it)."""
    types = PG_TYPES if is_postgres() else SQLITE_TYPES
    pk = "bigint NOT NULL" if is_postgres() else "INTEGER PRIMARY KEY"
    cols = [f'"_id" {pk}'] + [f"{qn(name)} {types[kind]}" for name, kind in columns]
    if is_postgres():
        cols += ['"_full_text" text COLLATE "C"', '"_hash" bigint']
    else:
        cols += ['"_full_text" text', '"_hash" INTEGER']
    with connection.cursor() as cur:
        cur.execute(f"CREATE TABLE {qn(table)} ({', '.join(cols)})")


COPY_CHUNK = 128 * 1024  # bytes of CSV handed to psycopg at a time


def pg_text(value) -> str | None:
    """A converted value (types.converter) as PostgreSQL's COPY reads it."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)  # int, Decimal


class Loader:
    """Appends batches of rows to a new table: `write(ids, values, words, hashes)`, column by
    column (`values`: one column of stored values a data column, as a list or as an Arrow string
    array with nulls; `words`: each row's `_full_text`).

    PostgreSQL: one `COPY ... FROM STDIN (FORMAT csv)` for the whole table, each batch turned into
    CSV by Arrow's writer in C++ (every text quoted, NULL left empty), a few times cheaper than
    psycopg's `write_row` a row at a time. SQLite: `executemany` of the rows."""

    def __init__(self, table: str, columns: Sequence[str], text_columns: Iterable[str] = ()):
        self.table = table
        self.names = ["_id", *columns, "_full_text", "_hash"]
        self.cursor = connection.cursor()
        self.copy = None
        if is_postgres():
            raw = self.cursor.cursor  # the psycopg 3 cursor behind Django's wrapper
            cols = ", ".join(qn(n) for n in self.names)
            # FREEZE: the table was created in this same (sub)transaction, so its rows are written
            # frozen and all-visible. Readers then never rewrite every page to set hint bits (the
            # first queries after a load used to), and counts can use index-only scans.
            self._copy_cm = raw.copy(f"COPY {qn(table)} ({cols}) FROM STDIN WITH (FORMAT csv, FREEZE)")
            self.copy = self._copy_cm.__enter__()
            self._csv_options = arrow_csv.WriteOptions(include_header=False, quoting_style="needed")
            self._csv_names = [str(n) for n in range(len(self.names))]
        else:
            text = set(text_columns)
            marks = ", ".join("NULLIF(?, '')" if n in text else "?" for n in self.names)
            cols = ", ".join(qn(n) for n in self.names)
            self.sql = f"INSERT INTO {qn(table)} ({cols}) VALUES ({marks})"

    @staticmethod
    def empty_text_is_null() -> bool:
        """SQLite: empty text becomes NULL in the engine (NULLIF), so the loader may be given the
        text of `text_columns` as it was read; PostgreSQL needs None."""
        return not is_postgres()

    def write(self, ids: range, values: Sequence[Sequence | pa.Array], words: pa.Array | None,
              hashes: Sequence[int]) -> None:
        hashes = np.asarray(hashes, dtype=np.int64)
        if self.copy is None:
            # the sqlite3 cursor: no per-row SQL rewriting
            columns = [v.to_pylist() if isinstance(v, pa.Array) else v for v in values]
            self.cursor.cursor.executemany(self.sql, zip(ids, *columns, repeat(None) if words is None
                                                         else words.to_pylist(), hashes.tolist()))
            return
        rows = len(ids)
        arrays = [pa.array(np.arange(ids.start, ids.stop, dtype=np.int64))]
        for column in values:
            if not isinstance(column, pa.Array):
                column = pa.array(column if all(map(_is_text, column)) else list(map(pg_text, column)), pa.string())
            arrays.append(column)
        arrays.append(pa.nulls(rows, pa.string()) if words is None else words)
        arrays.append(pa.array(hashes, pa.int64()))
        out = pa.BufferOutputStream()
        arrow_csv.write_csv(pa.Table.from_arrays(arrays, names=self._csv_names), out, self._csv_options)
        data = memoryview(out.getvalue())
        for start in range(0, len(data), COPY_CHUNK):  # psycopg copies what it is given into bytes
            self.copy.write(data[start:start + COPY_CHUNK])

    def close(self, error: BaseException | None = None) -> None:
        try:
            if self.copy is not None:
                if error is None:
                    self._copy_cm.__exit__(None, None, None)
                else:
                    self._copy_cm.__exit__(type(error), error, error.__traceback__)
        finally:
            self.cursor.close()


def _is_text(value) -> bool:
    return value is None or type(value) is str


def finish_table(table: str, index_columns: Iterable[str], *, full_text: bool = True, word_index: str | None = None,
                 alongside: Callable[[], T] | None = None) -> T | None:
    """Indexes for filters and sorting, full-text search (`full_text`: the table has words in
    `_full_text`; on PostgreSQL `word_index` says how they are found: "words" needs a GIN over
    them, prefix bitmaps (bitmaps.PrefixBuilder) need nothing of the engine), planner
    statistics. Returns what `alongside()` returned.

    `alongside` is work of the caller's that does not touch the database: it runs in a second
    thread while this one waits for the engine, so the client's work and the server's overlap
    (the wait on the socket releases the interpreter's lock)."""
    t = qn(table)
    index_columns = list(index_columns)[:MAX_INDEXED_COLUMNS]
    statements = []
    if is_postgres():
        # More memory lets the b-trees be sorted by parallel workers (max_parallel_maintenance_workers)
        # and the GIN gather its entries in fewer passes.
        statements += ["SET LOCAL maintenance_work_mem = '256MB'", f"ALTER TABLE {t} ADD PRIMARY KEY (_id)"]
    for n, name in enumerate(index_columns):
        ix = f'"{table}_i{n}"'  # table is validated by qn() above
        if is_postgres():
            statements.append(f"CREATE INDEX {ix} ON {t} ({qn(name)} NULLS FIRST, _id)")
        else:
            statements.append(f"CREATE INDEX {ix} ON {t} ({qn(name)})")
    if is_postgres():
        words_gin = full_text and word_index == "words"
        if words_gin:
            statements.append(f"CREATE INDEX \"{table}_fts\" ON {t} USING gin ((_full_text::tsvector))")
            # Word frequencies of the tsvector let the planner choose between the GIN and a b-tree
            # (those of an index's expression are gathered only by an ANALYZE of every column).
            statements.append(f"ANALYZE {t}")
        else:
            statements.append(f"ANALYZE {t} ({', '.join(qn(c) for c in ['_id', *index_columns])})")
        statements.append("RESET maintenance_work_mem")
    else:
        if full_text:
            # Rows only, no positions (detail=none) and no per-row sizes (columnsize=0): `q`
            # matches words and never ranks, which is all those would serve (and they cost
            # more than half of building the index).
            f = qn(fts_table(table))
            statements += [f"CREATE VIRTUAL TABLE {f} USING fts5(_full_text, content={t}, content_rowid=_id, "
                           f"tokenize=\"unicode61 remove_diacritics 2 tokenchars '_'\", detail=none, columnsize=0)",
                           f"INSERT INTO {f}({f}) VALUES ('rebuild')"]
        # A full ANALYZE (a tenth of a second for a million rows): with a sampling limit SQLite
        # only sees the first entries of each index and may rate a column with few values as
        # selective as a key (columns with bitmaps have no b-tree, but a column with more
        # values than the bitmaps take can still hold long runs of one value).
        statements += ["PRAGMA analysis_limit=0", f"ANALYZE {t}"]
    if alongside is None:
        with connection.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
        return None
    with ThreadPoolExecutor(max_workers=1) as pool:
        working = pool.submit(alongside)
        try:
            with connection.cursor() as cur:
                for sql in statements:
                    cur.execute(sql)
        finally:
            error = working.exception()  # waits for it
    if error is not None:
        raise error
    return working.result()


def drop_table(table: str) -> None:
    with connection.cursor() as cur:
        if not is_postgres():
            cur.execute(f"DROP TABLE IF EXISTS {qn(fts_table(table))}")
        cur.execute(f"DROP TABLE IF EXISTS {qn(index_table(table))}")
        cur.execute(f"DROP TABLE IF EXISTS {qn(table)}")


def table_exists(table: str) -> bool:
    return table in connection.introspection.table_names()


def diff_counts(new: str, old: str) -> tuple[int, int]:
    """(rows in `new` whose fingerprint is not in `old`, rows in `old` not in `new`)."""
    sql = "SELECT COUNT(*) FROM {a} AS a WHERE NOT EXISTS (SELECT 1 FROM {b} AS b WHERE b._hash = a._hash)"
    with connection.cursor() as cur:
        cur.execute(sql.format(a=qn(new), b=qn(old)))
        added = cur.fetchone()[0]
        cur.execute(sql.format(a=qn(old), b=qn(new)))
        removed = cur.fetchone()[0]
    return added, removed
