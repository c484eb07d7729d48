"""Bitmap indexes of a datastore table: for each value of a column with few distinct values, the
set of row numbers (`_id`) holding it, as a compressed (roaring) bitmap in a side table
`<table>_ix`. They answer equality filters and full-text words with exact totals in about a
millisecond, whatever the number of matching rows, and give the rows of any page in the natural
order by primary key, or sorted by one of those columns (`sorted_page`: the values in order).

Why: CKAN clients ask for the exact total on every page, and the engines pay for it by visiting
every matching row. Counting the 200,000 rows of a million that say "camioneta" makes PostgreSQL
read ~37,000 heap pages after its GIN index (150-190 ms on a 2-CPU server) and SQLite probe the
table once per match; two filters on big columns cost about the same. Intersecting compressed
bitmaps costs next to nothing.

Which columns ("low-cardinality" columns, decided in the ingestion's first pass, `Cardinality`):
text, int, date, timestamp and bool columns with at most `MAX_VALUES` distinct values and (text)
no value longer than `MAX_VALUE_LENGTH`. Numeric columns are left to the engine (SQLite stores
them as binary floats, so equality there is the engine's to decide). Columns with bitmaps get no
b-tree (building b-trees was most of a load); the other columns keep the engine's b-tree indexes,
which also serve sorting by them.

Full text. The row's words (`_full_text`) are the words of the text columns without bitmaps
(identifiers, descriptions), each with a leading "_" (`FREE_MARK`; folded words are [a-z0-9]
only, so the mark never collides); the words of columns with bitmaps are word bitmaps only
(version.bitmaps["words"] == LAYOUT_FREE). A search word w matches a row when some word of the row
begins with w, i.e. exactly the union of

* the bitmaps of the low-cardinality values that have a word beginning with w (the values and
  their words are few: thousands, not millions), and
* the rows the engine's full-text index finds for "_w" prefix (usually none or few: identifiers
  and descriptions seldom hold the words people search for).

The SQL path (sorting by several columns or one without bitmaps, per-column `q`, `distinct`)
asks the engine, for each word, for the rows whose free-text words match "_w*" or whose value in
a column with bitmaps is one of the values having such a word (`word_values`), and finds the same
rows, without an index on those columns. Tables loaded before this layout kept the words of every
column in `_full_text` ((w* OR _w*)) and b-trees on every column; tables loaded before bitmaps
existed (`version.bitmaps` is None) keep the plain words and the SQL path.

Memory stays bounded: pass 1 keeps at most `MAX_VALUES` hashes a column, pass 2 gathers ids in
plain arrays for one roaring container (65,536 rows) at a time and folds them into the bitmaps."""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from operator import call
from typing import Any

from django.db import connection
from pyroaring import BitMap

from ..ingest.types import normalise_words, normalise_words_joined
from .tables import fts_table, index_table, is_postgres, qn

MAX_VALUES = 10_000
MAX_VALUE_LENGTH = 200
FLUSH_ROWS = 65_536  # one roaring container
INDEXED_KINDS = frozenset({"text", "int", "date", "timestamp", "bool"})
FREE_MARK = "_"
WORDS = "_words"  # the `col` of word bitmaps in `<table>_ix` (no data column id starts with "_")
NULL = ""  # the key of NULL (an empty text cell is stored as NULL, so no value has this key)
WORD_END = "{"  # sorts after every character of a folded word ([a-z0-9]): the end of a prefix range
# `version.bitmaps["words"]`: `_full_text` holds only the marked words of the columns without
# bitmaps; the words of columns with bitmaps are answered from them alone (tables loaded before
# this layout also kept those words in `_full_text`, and b-trees on every column).
LAYOUT_FREE = "free"


def key(value: Any) -> str:
    """The key of a stored value, the same on both engines for the same data: NULL, booleans as
    1/0 (SQLite stores them so), integers in decimal, dates and timestamps in ISO 8601 (SQLite
    stores them so; PostgreSQL returns date objects), text as it is."""
    if value is None:
        return NULL
    if value is True:
        return "1"
    if value is False:
        return "0"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


# --- Ingestion ------------------------------------------------------------------------------


class Cardinality:
    """Pass 1: which columns have few distinct values (a bounded set of hashes per column), and
    the longest value of each. The ingestion hands it each batch column by column (`add`), so
    the work per value is in C."""

    def __init__(self, ncol: int):
        self.ncol = ncol
        self.seen: dict[int, set[int]] = {i: set() for i in range(ncol)}
        self.max_len = [0] * ncol  # the longest value of each column (characters)

    def add(self, columns: Sequence[Sequence[str | None]]) -> None:
        max_len = self.max_len
        for i in range(self.ncol):
            column = columns[i]
            seen = self.seen.get(i)
            if seen is None:  # many values: only the longest matters
                longest = max(map(len, filter(None, column)), default=0)
            else:  # few values so far: look at each distinct value once
                distinct = set(column)
                distinct.discard(None)
                distinct.discard("")
                longest = max(map(len, distinct), default=0)
                seen.update(map(hash, distinct))
                # NULL is one more value: stay within MAX_VALUES
                if len(seen) >= MAX_VALUES or longest > MAX_VALUE_LENGTH:
                    del self.seen[i]
            if longest > max_len[i]:
                max_len[i] = longest

    def low(self, kinds: Sequence[str], exclude: Iterable[int] = ()) -> list[int]:
        excluded = set(exclude)
        return [i for i in self.seen if kinds[i] in INDEXED_KINDS and i not in excluded]


def free_text_batch(values: Sequence[str]) -> list[str]:
    """Each value's free-text words for `_full_text`: its folded words, each with FREE_MARK in
    front ("INF-0001" → "_inf _0001"; runs of spaces give lone marks, which no search word
    matches). One call folds the whole batch. Values must not contain NUL."""
    if not values:
        return []
    folded = normalise_words_joined(values)
    marked = FREE_MARK + folded.replace(" ", " " + FREE_MARK).replace("\x00", "\x00" + FREE_MARK)
    return marked.split("\x00")


class Builder:
    """Pass 2: gathers the value bitmaps of the low-cardinality columns from the batches of rows
    the loader writes (`(_id, *values, ...)` tuples, in `_id` order)."""

    def __init__(self, columns: Sequence[tuple[int, str, str]]):
        self.columns = list(columns)  # (position in the values, id, kind)
        # value -> the `append` of the array of ids gathered since the last fold, per column
        # (values of one column have one Python type, plus None, so they are their own keys)
        self.pending: list[dict[Any, Any]] = [{} for _ in self.columns]
        self.bitmaps: list[dict[Any, BitMap]] = [{} for _ in self.columns]
        self.rows_pending = 0

    def add(self, ids: range, columns: Sequence[Sequence[Any]]) -> None:
        """One batch: the rows' ids and their stored values, column by column (all columns, in
        table order). Each value's `append` is called through map, with no interpreted loop per
        value (splitting a byte code per row at each value's byte measured slower)."""
        if not self.columns or not ids:
            return
        for (i, _name, _kind), pending in zip(self.columns, self.pending):
            values = columns[i]
            for value in set(values).difference(pending):
                pending[value] = array("I").append
            deque(map(call, map(pending.__getitem__, values), ids), maxlen=0)
        self.rows_pending += len(ids)
        if self.rows_pending >= FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        for n, pending in enumerate(self.pending):
            bitmaps = self.bitmaps[n]
            for value, append in pending.items():
                ids = append.__self__
                bm = bitmaps.get(value)
                if bm is None:
                    bitmaps[value] = BitMap(ids)
                else:
                    bm.update(ids)
            self.pending[n] = {}
        self.rows_pending = 0

    def save(self, table: str) -> list[str]:
        """Writes the value bitmaps, and the word bitmaps of the low-cardinality text columns, to
        `<table>_ix`; returns the ids of the columns with bitmaps."""
        self._flush()
        words: dict[str, BitMap] = {}
        rows: list[tuple[str, str, bytes]] = []
        for (_i, name, kind), bitmaps in zip(self.columns, self.bitmaps):
            by_key: dict[str, BitMap] = {}
            for value, bm in bitmaps.items():
                # Values stored alike share a key ("1234" passed through as text and 1234 parsed
                # from "1,234"; an ISO date as text and one parsed from dd/mm/yyyy).
                k = key(value)
                if k in by_key:
                    by_key[k] |= bm
                else:
                    by_key[k] = bm
            for k, bm in by_key.items():
                bm.run_optimize()
                rows.append((name, k, bm.serialize()))
                if kind == "text" and k != NULL:
                    for w in set(normalise_words(k).split()):
                        if w in words:
                            words[w] |= bm
                        else:
                            words[w] = BitMap(bm)
        for w, bm in words.items():
            bm.run_optimize()
            rows.append((WORDS, w, bm.serialize()))
        ix = qn(index_table(table))
        text = 'text COLLATE "C"' if is_postgres() else "TEXT"
        blob = "bytea" if is_postgres() else "BLOB"
        with connection.cursor() as cur:
            cur.execute(f"CREATE TABLE {ix} (col {text} NOT NULL, token {text} NOT NULL, bits {blob} NOT NULL, "
                        f"PRIMARY KEY (col, token))")
            if is_postgres():  # COPY: one round trip instead of one a row
                with cur.cursor.copy(f"COPY {ix} (col, token, bits) FROM STDIN") as copy:
                    deque(map(copy.write_row, rows), maxlen=0)
            else:
                cur.cursor.executemany(f"INSERT INTO {ix} (col, token, bits) VALUES (?, ?, ?)", rows)
        self.bitmaps = []
        return [name for _i, name, _kind in self.columns]


# --- Queries --------------------------------------------------------------------------------


def fts_argument(words: Sequence[str], *, marked: bool) -> str:
    """The engine's full-text query for `words` (each the beginning of a word of the row): a
    tsquery on PostgreSQL, an FTS5 query on SQLite. `marked`: the table's free-text words carry
    FREE_MARK, so each word is looked for as itself or marked."""
    if is_postgres():
        if marked:
            return " & ".join(f"({w}:* | {FREE_MARK}{w}:*)" for w in words)
        return " & ".join(f"{w}:*" for w in words)
    if marked:
        return " AND ".join(f'("{w}"* OR "{FREE_MARK}{w}"*)' for w in words)
    return " ".join(f'"{w}"*' for w in words)


def free_word_argument(word: str) -> str:
    """The engine's full-text query for the marked (free-text) words beginning with `word`."""
    if is_postgres():
        return f"{FREE_MARK}{word}:*"
    return f'"{FREE_MARK}{word}"*'


def word_values(table: str, columns: Sequence[str], words: Sequence[str]) -> dict[str, dict[str, list[str]]]:
    """For each word, the values of the low-cardinality text `columns` that have a word beginning
    with it: {word: {column: [values]}}. What the SQL path asks the engine for instead of the words
    of those columns (their words are not in `_full_text`)."""
    result: dict[str, dict[str, list[str]]] = {w: {} for w in words}
    if not columns or not words:
        return result
    with connection.cursor() as cur:
        cur.execute(f"SELECT col, token FROM {qn(index_table(table))} WHERE col IN ({', '.join(['%s'] * len(columns))})"
                    f" AND token <> %s", [*columns, NULL])
        found = cur.fetchall()
    for col, token in found:
        folded = normalise_words(token).split()
        for w in words:
            if any(x.startswith(w) for x in folded):
                result[w].setdefault(col, []).append(token)
    return result


def sorted_page(table: str, column: str, kind: str, descending: bool, within: BitMap | None, offset: int,
                limit: int) -> list[int]:
    """The ids of rows offset+1 .. offset+limit in the order (column, _id), both ascending or both
    descending, of the rows in `within` (every row when None), from the column's value bitmaps.
    The engines' order: NULLs first when ascending and last when descending, integers by value,
    booleans false first, text by code point (COLLATE "C" / BINARY), dates and timestamps in ISO
    form (chronological)."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT token, bits FROM {qn(index_table(table))} WHERE col = %s", [column])
        found = cur.fetchall()

    def order(entry: tuple[str, Any]) -> tuple:
        token = entry[0]
        if token == NULL:
            return (0,)
        return (1, int(token)) if kind == "int" else (1, token)

    found.sort(key=order, reverse=descending)
    wanted: list[int] = []
    skip = offset
    for _token, bits in found:
        if len(wanted) >= limit:
            break
        bm = BitMap.deserialize(bytes(bits))
        n = bm.intersection_cardinality(within) if within is not None else len(bm)
        if skip >= n:
            skip -= n
            continue
        if within is not None:
            bm &= within
        need = limit - len(wanted)
        if descending:
            high = n - skip
            chunk = list(bm[max(0, high - need):high])
            chunk.reverse()
        else:
            chunk = list(bm[skip:skip + need])
        wanted.extend(chunk)
        skip = 0
    return wanted


def _free_ids(table: str, word: str) -> BitMap:
    """Rows whose free-text (marked) words include one beginning with `word`, from the engine's
    full-text index."""
    with connection.cursor() as cur:
        if is_postgres():
            cur.execute(f"SELECT _id FROM {qn(table)} WHERE _full_text @@ %s::tsquery", [free_word_argument(word)])
        else:
            f = qn(fts_table(table))
            cur.execute(f"SELECT rowid FROM {f} WHERE {f} MATCH %s", [free_word_argument(word)])
        return BitMap(r[0] for r in cur.fetchall())


def matching(table: str, filters: Sequence[tuple[str, list[Any]]], words: Sequence[str], *,
             free_text: bool) -> BitMap:
    """The ids of the rows where every filter column holds one of its values and every word
    begins a word of the row. `free_text`: the table has text columns without bitmaps (their
    words are looked up in the engine's full-text index). One query reads every bitmap needed."""
    clauses, args = [], []
    for column, values in filters:
        keys = list(dict.fromkeys(key(v) for v in values))
        clauses.append(f"(col = %s AND token IN ({', '.join(['%s'] * len(keys))}))")
        args.extend([column, *keys])
    for w in words:
        clauses.append("(col = %s AND token >= %s AND token < %s)")
        args.extend([WORDS, w, w + WORD_END])
    if not clauses:
        raise ValueError("nothing to match")
    with connection.cursor() as cur:
        cur.execute(f"SELECT col, token, bits FROM {qn(index_table(table))} WHERE {' OR '.join(clauses)}", args)
        found = cur.fetchall()
    by_column: dict[str, list[tuple[str, bytes]]] = {}
    for col, token, bits in found:
        by_column.setdefault(col, []).append((token, bytes(bits)))
    sets: list[BitMap] = []
    for column, values in filters:
        keys = {key(v) for v in values}
        sets.append(_union(b for t, b in by_column.get(column, []) if t in keys))
    tokens = by_column.get(WORDS, [])
    pending_words = []
    for w in words:
        low = _union(b for t, b in tokens if t.startswith(w))
        if free_text:
            pending_words.append((w, low))
        else:
            sets.append(low)
    sets.sort(key=len)
    result = sets[0] if sets else None
    for other in sets[1:]:
        if not result:
            return result
        result &= other
    # Free-text lookups last: they are engine queries, skipped once nothing can match.
    for w, low in pending_words:
        if result is not None and not result:
            return result
        found_words = low | _free_ids(table, w)
        result = found_words if result is None else result & found_words
    return result if result is not None else BitMap()


def _union(serialized: Iterable[bytes]) -> BitMap:
    result = BitMap()
    for bits in serialized:
        result |= BitMap.deserialize(bits)
    return result


def page(ids: BitMap, offset: int, limit: int) -> list[int]:
    """The ids of rows offset+1 .. offset+limit of the result, in `_id` order."""
    if offset >= len(ids) or limit <= 0:
        return []
    return list(ids[offset:offset + limit])
