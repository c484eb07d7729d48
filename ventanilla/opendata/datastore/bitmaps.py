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

Which columns ("low-cardinality" columns, decided in the ingestion's first pass, `Builder`):
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
* the rows with a free-text word beginning with w: on PostgreSQL from the bitmaps of the words'
  first PREFIX_LENGTH characters (`PrefixBuilder`; for a longer w, the rows of its prefix are
  checked against `_full_text`), or from a GIN over the whole words where prefixes would not
  part them well; on SQLite from FTS5 ("_w" prefix).

The SQL path (sorting by several columns or one without bitmaps, per-column `q`, `distinct`)
asks the engine, for each word, for the rows whose free-text words match "_w*" or whose value in
a column with bitmaps is one of the values having such a word (`word_values`), and finds the same
rows, without an index on those columns. Tables loaded before this layout kept the words of every
column in `_full_text` ((w* OR _w*)) and b-trees on every column; tables loaded before bitmaps
existed (`version.bitmaps` is None) keep the plain words and the SQL path.

Memory stays bounded: pass 1 keeps at most `MAX_VALUES` values a column and their bitmaps (a
column with more keeps the values of the codes it had, to read its first batches back), and the
codes of at most FLUSH_CELLS cells before it folds them into the bitmaps; pass 2 at most
MAX_PREFIXES prefix bitmaps of at most MAX_PREFIX_CELLS rows in all (or none, and a GIN)."""

from __future__ import annotations

from array import array
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from itertools import count, islice
from operator import itemgetter
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.db import connection
from pyroaring import BitMap

from ..ingest.types import normalise_words, normalise_words_joined
from .tables import fts_table, index_table, is_postgres, qn

MAX_VALUES = 10_000
MAX_VALUE_LENGTH = 200
CODE = np.uint16  # a value's code in its column (`add` splits batches that could bring more values)
FLUSH_CELLS = 1 << 22  # codes gathered before they are folded into bitmaps (8 MB)
INDEXED_KINDS = frozenset({"text", "int", "date", "timestamp", "bool"})
FREE_MARK = "_"
WORDS = "_words"  # the `col` of word bitmaps in `<table>_ix` (no data column id starts with "_")
PREFIX_LENGTH = 5  # PostgreSQL: the characters of a free-text word (after FREE_MARK) in its prefix
PREFIX_SAMPLE_ROWS = 2_000  # rows sampled to judge the prefixes, at least (all of a smaller table) ...
PREFIX_SAMPLE_CHARS = 64_000  # ... unless their words come to more than this
MAX_PREFIX_CANDIDATES = 20_000  # rows a search for one word may have to check, about 10 ms
PREFIXES = "_prefixes"  # the `col` of free-text prefix bitmaps (PrefixBuilder)
PREFIX_BITMAPS = "bitmaps"  # `version.bitmaps["word_index"]` "bitmaps:<length>": PrefixBuilder's
MAX_PREFIXES = 100_000
MAX_PREFIX_CELLS = 1 << 24  # (row, prefix) pairs: at most 32 MB of bitmaps
MAX_LISTED_IDS = 100_000  # rows checked by primary key; more are checked by one scan
PREFIX_FLUSH_CELLS = 1 << 18  # pairs gathered before they are folded into bitmaps (2 MB; 5 MB while folded)
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


def free_text_batch(values: Sequence[str]) -> list[str]:
    """Each value's free-text words for `_full_text`: its folded words, each with FREE_MARK in
    front ("INF-0001" → "_inf _0001"; runs of spaces give lone marks, which no search word
    matches). One call folds the whole batch. Values must not contain NUL."""
    if not values:
        return []
    folded = normalise_words_joined(values)
    marked = FREE_MARK + folded.replace(" ", " " + FREE_MARK).replace("\x00", "\x00" + FREE_MARK)
    return marked.split("\x00")


def _look_up(codes: defaultdict[str, int], values: Sequence[str]):
    """The codes of `values`, new ones given the next codes: itemgetter looks them up in one call,
    through the mapping protocol in C."""
    return itemgetter(*values)(codes) if len(values) > 1 else [codes[values[0]]]


def _arrow_longest(column) -> int:
    return pc.max(pc.utf8_length(column)).as_py() or 0


def _fold(bitmaps: dict[int, BitMap], codes: np.ndarray, ids: np.ndarray) -> None:
    """Adds each id to the bitmap of its code (`bitmaps`: code -> ids), ids in ascending order:
    a stable sort groups the ids of each code, still ascending, into a slice that becomes a
    roaring bitmap in one call."""
    order = np.argsort(codes, kind="stable")
    ordered = codes[order]
    _fold_groups(bitmaps, ordered, ids[order].astype(np.uint32, copy=False))


def _fold_groups(bitmaps: dict[int, BitMap], codes: np.ndarray, ids: np.ndarray, limit: int | None = None) -> bool:
    """`_fold` of ids already grouped by code (`codes` sorted, the ids of each code ascending, as
    uint32). With a `limit` on the codes, nothing is added (and False is returned) when there
    would be more."""
    if not len(codes):
        return True
    starts = np.flatnonzero(codes[1:] != codes[:-1]) + 1
    bounds = [0, *starts.tolist(), len(codes)]
    distinct = codes[bounds[:-1]].tolist()
    if limit is not None and len(bitmaps) + len(distinct) > limit:
        if len(bitmaps) + sum(code not in bitmaps for code in distinct) > limit:
            return False
    for code, start, end in zip(distinct, bounds, bounds[1:]):
        ids_of_code = array("I", ids[start:end].tobytes())  # pyroaring takes an array's buffer as it is
        if code in bitmaps:
            bitmaps[code].update(ids_of_code)
        else:
            bitmaps[code] = BitMap(ids_of_code)
    return True


class Builder:
    """Pass 1: the value bitmaps of every column while it has few distinct values, gathered from
    the text each batch holds (column by column, rows in `_id` order), and the longest value of
    each column (`max_len`). A column is dropped once it has MAX_VALUES distinct values besides
    the empty one, or a value longer than MAX_VALUE_LENGTH. When the types are known, `low` tells
    which of the remaining columns get bitmaps and `serialize` and `write` store theirs, keyed by the values the
    engine stores.

    The work per value is in C: a value gets a small code the first time it is looked up (a
    defaultdict with a counter), the codes are gathered by `itemgetter` into numpy arrays, and every
    FLUSH_CELLS cells a stable sort groups the ids of each code, in ascending order, into a slice
    that becomes a roaring bitmap in one call. `add` also returns each batch's codes, so the
    ingestion can keep those instead of the text (`values` tells which value a code stands for)."""

    def __init__(self, ncol: int):
        self.ncol = ncol
        # column -> value -> code; a value gets the next code when first looked up (in C)
        self.codes: dict[int, defaultdict[str, int]] = {i: defaultdict(count().__next__) for i in range(ncol)}
        self.pending: dict[int, list[np.ndarray]] = {i: [] for i in range(ncol)}  # codes since the last fold
        self.bitmaps: dict[int, dict[int, BitMap]] = {i: {} for i in range(ncol)}  # column -> code -> ids
        self.max_len = [0] * ncol  # the longest value of each column (characters)
        # column -> the values of its codes, in code order (a dropped column: those of its codes
        # returned by `add`, to read its first batches back)
        self.value_lists: dict[int, list[str]] = {i: [] for i in range(ncol)}
        self.first_pending = self.next_id = 1
        self.rows_pending = 0
        self._value_sets: dict[int, pa.Array] = {}  # Arrow columns: value_lists as Arrow arrays

    def add(self, ids: range, columns: Sequence[Sequence[str]]) -> dict[int, np.ndarray]:
        """One batch: its rows' ids (the next ones) and its text, column by column. Returns the
        batch's codes of the columns that still have few values."""
        if not ids:
            return {}
        if ids.start != self.next_id:
            raise ValueError("rows must come in id order")
        limit = int(np.iinfo(CODE).max) + 1 - MAX_VALUES  # new values a batch may bring and still fit CODE
        if len(ids) > limit:
            parts = [self.add(ids[start:start + limit], [column[start:start + limit] for column in columns])
                     for start in range(0, len(ids), limit)]
            return {i: np.concatenate([part[i] for part in parts]) for i in parts[0] if all(i in p for p in parts)}
        max_len = self.max_len
        coded = {}
        for i in range(self.ncol):
            column = columns[i]
            codes = self.codes.get(i)
            arrow = not isinstance(column, Sequence)  # an Arrow string array, null for empty cells
            if codes is None:  # many values: only the longest matters
                longest = (_arrow_longest(column) if arrow else max(map(len, column), default=0))
            else:
                known = len(codes)
                if arrow:
                    gathered = self._known_codes(i, column)
                    if gathered is None:  # new values: Arrow's dictionary lists the batch's values
                        # in the order they first appear, as a lookup row by row meets them, so
                        # they get the same codes
                        encoded = pc.dictionary_encode(column, null_encoding="encode")
                        distinct = [v or "" for v in encoded.dictionary.to_pylist()]
                        table = np.fromiter(_look_up(codes, distinct), CODE, len(distinct))
                        gathered = table[encoded.indices.to_numpy()]
                else:
                    gathered = np.fromiter(_look_up(codes, column), CODE, len(column))
                # the new values: the last ones in the dict, the others were seen before
                new = list(islice(reversed(codes), len(codes) - known))
                longest = max(map(len, new), default=0)
                # The empty value is NULL, one more value: stay within MAX_VALUES
                if len(codes) - ("" in codes) >= MAX_VALUES or longest > MAX_VALUE_LENGTH:
                    # this batch is kept as text: only the earlier codes will be read back
                    del self.codes[i], self.pending[i], self.bitmaps[i]
                else:
                    self.value_lists[i].extend(reversed(new))
                    self.pending[i].append(gathered)
                    coded[i] = gathered
            if longest > max_len[i]:
                max_len[i] = longest
        self.next_id = ids.stop
        self.rows_pending += len(ids)
        if self.rows_pending * len(self.codes) >= FLUSH_CELLS:
            self._flush()
        return coded

    def _known_codes(self, i: int, column) -> np.ndarray | None:
        """The codes of an Arrow column's values if all are known, looked up in C++ (`index_in`
        against the column's values in code order, an empty cell matching the empty value)."""
        values = self.value_lists[i]
        known = self._value_sets.get(i)
        if known is None or len(known) != len(values):
            known = self._value_sets[i] = pa.array([v or None for v in values], pa.string())
        found = pc.index_in(column, options=pc.SetLookupOptions(known, skip_nulls=False))
        if found.null_count:
            return None
        return found.to_numpy().astype(CODE)

    def codes_of(self, i: int, column) -> np.ndarray:
        """Pass 2: the codes of an Arrow column's values, all seen in pass 1 (column i kept)."""
        found = self._known_codes(i, column)
        if found is None:
            raise ValueError("a value pass 1 did not see")
        return found

    def keep(self, columns: Iterable[int]) -> None:
        """Once the types are known: only `columns` get bitmaps; the others keep just the
        values of their codes."""
        kept = set(columns)
        for i in [i for i in self.codes if i not in kept]:
            del self.codes[i], self.pending[i], self.bitmaps[i]

    def values(self, i: int) -> list[str]:
        """The values of column i's codes, in code order (code n is the n-th value)."""
        return self.value_lists[i]

    def _flush(self) -> None:
        if not self.rows_pending:
            return
        for i, pending in self.pending.items():
            codes = np.concatenate(pending)
            _fold(self.bitmaps[i], codes, np.arange(self.first_pending, self.first_pending + len(codes), dtype=np.uint32))
            pending.clear()
        self.first_pending = self.next_id
        self.rows_pending = 0

    def low(self, kinds: Sequence[str], exclude: Iterable[int] = ()) -> list[int]:
        """The columns that get bitmaps: few values, and of a kind bitmaps serve."""
        excluded = set(exclude)
        return [i for i in self.codes if kinds[i] in INDEXED_KINDS and i not in excluded]

    def serialize(self, columns: Sequence[tuple[int, str, str, Callable[[str], Any]]]) -> list[tuple[str, str, bytes]]:
        """The rows of `<table>_ix` for `columns` (position, id, kind and the conversion of the
        text to the stored value): their value bitmaps and the word bitmaps of the text columns
        among them, computed without touching the database (the ingestion does this while the
        engine builds the table's indexes); `write` stores them."""
        self._flush()
        words: dict[str, BitMap] = {}
        rows: list[tuple[str, str, bytes]] = []
        for i, name, kind, convert in columns:
            bitmaps = self.bitmaps[i]
            by_key: dict[str, BitMap] = {}
            for value, code in self.codes[i].items():
                bm = bitmaps[code]
                # Values stored alike share a key ("1234" passed through as text and 1234 parsed
                # from "1,234"; an ISO date as text and one parsed from dd/mm/yyyy; an empty cell
                # and a "no data" marker).
                k = key(convert(value))
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
        self.bitmaps = {}
        return rows

    def write(self, table: str, rows: Sequence[tuple[str, str, bytes]],
              columns: Sequence[tuple[int, str, str, Callable[[str], Any]]]) -> list[str]:
        """Writes `serialize`'s rows to `<table>_ix`; returns the ids of the columns."""
        ix = qn(index_table(table))
        text = 'text COLLATE "C"' if is_postgres() else "TEXT"
        blob = "bytea" if is_postgres() else "BLOB"
        with connection.cursor() as cur:
            cur.execute(f"CREATE TABLE {ix} (col {text} NOT NULL, token {text} NOT NULL, bits {blob} NOT NULL, "
                        f"PRIMARY KEY (col, token))")
            if is_postgres():
                # Roaring bitmaps are compressed already: stored as they are (no pglz on the way
                # in, none to undo when a query reads them). COPY: one round trip, not one a row.
                cur.execute(f"ALTER TABLE {ix} ALTER COLUMN bits SET STORAGE EXTERNAL")
                # Binary: the bitmaps go as they are, not escaped into text and parsed back.
                with cur.cursor.copy(f"COPY {ix} (col, token, bits) FROM STDIN (FORMAT binary)") as copy:
                    copy.set_types(["text", "text", "bytea"])
                    deque(map(copy.write_row, rows), maxlen=0)
            else:
                cur.cursor.executemany(f"INSERT INTO {ix} (col, token, bits) VALUES (?, ?, ?)", rows)
        return [name for _i, name, _kind, _convert in columns]


# --- Free-text prefixes (PostgreSQL) -------------------------------------------------------

# A prefix as a number: its characters ([a-z0-9], folded) as base-37 digits 1..36, padded with 0
# to PREFIX_LENGTH digits, so that prefixes need no dictionary while the rows are read (37^5 <
# 2^32), and code 0 is no prefix at all (a lone mark).
PREFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_DIGITS = np.zeros(256, np.uint32)
_DIGITS[np.frombuffer(PREFIX_ALPHABET.encode(), np.uint8)] = np.arange(1, len(PREFIX_ALPHABET) + 1, dtype=np.uint32)
PREFIX_CHUNK = 1 << 20  # bytes of words cut at a time (the numpy passes take about 30 bytes a byte)


def prefix_codes(words: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The prefix of each free-text word of a batch of `_full_text` values (null: no words), as
    (codes, row positions in the batch), both uint32, in row order: each word cut to its first
    PREFIX_LENGTH characters after FREE_MARK ("_inf _0000123" gives the codes of "inf" and
    "00001"), found by numpy passes over the bytes of the Arrow array (the words are ASCII; the
    mark begins each of them and nothing else), PREFIX_CHUNK bytes' worth of rows at a time."""
    if words.null_count:
        words = words.fill_null("")
    offsets = np.frombuffer(words.buffers()[1], np.int32, len(words) + 1, words.offset * 4).astype(np.int64)
    data_buffer = words.buffers()[2]
    if data_buffer is None or offsets[-1] == offsets[0]:
        return np.zeros(0, np.uint32), np.zeros(0, np.uint32)
    data = np.frombuffer(data_buffer, np.uint8, offsets[-1] - offsets[0], offsets[0])
    offsets -= offsets[0]
    bounds = np.unique(np.searchsorted(offsets, np.arange(0, offsets[-1], PREFIX_CHUNK), side="right") - 1)
    codes, rows = [], []
    for first, last in zip(bounds.tolist(), [*bounds[1:].tolist(), len(words)]):
        start, stop = offsets[first], offsets[last]
        part = data[start:stop]
        marks = np.flatnonzero(part == ord(FREE_MARK))
        code = np.zeros(len(marks), np.uint32)
        going = np.ones(len(marks), bool)  # the word has not ended before this character
        for k in range(1, PREFIX_LENGTH + 1):
            at = marks + k
            digit = _DIGITS[part[np.minimum(at, len(part) - 1)]]
            going &= (at < len(part)) & (digit > 0)  # a space, the next mark or the end: the word ended
            code = code * np.uint32(len(PREFIX_ALPHABET) + 1) + np.where(going, digit, 0).astype(np.uint32)
        found = code > 0
        codes.append(code[found])
        rows.append((np.searchsorted(offsets, marks[found] + start, side="right") - 1).astype(np.uint32))
    return np.concatenate(codes), np.concatenate(rows)


def prefix_text(code: int) -> str:
    """The prefix a code stands for (prefix_codes)."""
    chars = []
    for _k in range(PREFIX_LENGTH):
        code, digit = divmod(code, len(PREFIX_ALPHABET) + 1)
        if digit:
            chars.append(PREFIX_ALPHABET[digit - 1])
    return "".join(reversed(chars))


class WordSample:
    """A uniform random sample of a table's rows' words, kept while the rows are written without
    knowing how many there will be: the rows whose fingerprint is a multiple of `every` (the
    fingerprints are 64-bit mixes, so that is a random and repeatable choice), `every` doubling
    whenever the sample grows past twice PREFIX_SAMPLE_ROWS rows or PREFIX_SAMPLE_CHARS
    characters, so it stays small in memory whatever the table."""

    def __init__(self) -> None:
        self.every = 1
        self.rows = 0
        self.chars = 0
        self.kept: list[tuple[int, str]] = []  # (fingerprint, words or "")

    def add(self, hashes: Sequence[int], words: pa.Array) -> None:
        self.rows += len(hashes)
        fps = np.asarray(hashes, dtype=np.int64)
        chosen = np.flatnonzero(fps % self.every == 0)
        for fp, text in zip(fps[chosen].tolist(), words.take(chosen).to_pylist()):
            self.kept.append((fp, text or ""))
            self.chars += len(text or "")
        while len(self.kept) > 2 * PREFIX_SAMPLE_ROWS or self.chars > PREFIX_SAMPLE_CHARS:
            self.every *= 2
            self.kept = [(h, w) for h, w in self.kept if h % self.every == 0]
            self.chars = sum(len(w) for _h, w in self.kept)

    def words(self) -> list[str]:
        return [w for _h, w in self.kept]


def prefixes_part_words(sample: Sequence[str], rows: int) -> bool:
    """Whether the prefixes find a word quickly: among the words longer than a prefix
    in a random sample of the table's rows (`sample`: their `_full_text`, of `rows` rows), the
    rows a search for one word would check in vain, those with its prefix but another word
    (n − n/d for a prefix of n words, d of them distinct), scaled to the table, stay under
    MAX_PREFIX_CANDIDATES for every prefix."""
    if not sample:
        return True
    cut = PREFIX_LENGTH + 1  # with the mark
    seen: dict[str, int] = defaultdict(int)
    distinct: dict[str, set[str]] = defaultdict(set)
    for text in sample:
        for word in text.split():
            if len(word) > cut:
                seen[word[:cut]] += 1
                distinct[word[:cut]].add(word)
    wasted = max((n - n / len(distinct[p]) for p, n in seen.items()), default=0)
    return wasted * rows / len(sample) < MAX_PREFIX_CANDIDATES


class PrefixBuilder:
    """PostgreSQL, pass 2: the bitmap of the rows of each prefix of the free-text words (each word
    cut to its first PREFIX_LENGTH characters, `prefix_codes`), stored in `<table>_ix` under
    `PREFIXES` (the token is the prefix, without FREE_MARK). They take the place of a GIN: a
    search word of at most PREFIX_LENGTH characters is answered by the bitmaps of the prefixes
    that begin with it, exactly; a longer one by the bitmap of its own prefix, whose rows are
    checked against `_full_text` (`matching`, `free_word_condition`). The client groups the
    words while the server stores the rows, instead of the server after it has stored them all.

    Whether the prefixes part the words well enough for that is judged on a random sample of the
    rows' words (`word_index`, prefixes_part_words). When they do not, or when there are more
    than MAX_PREFIXES prefixes or MAX_PREFIX_CELLS (row, prefix) pairs (the bitmaps would take
    more memory than a load may: at most two bytes a pair, and about a hundred a prefix), the
    bitmaps are dropped and the server builds a GIN over the whole words ("words")."""

    def __init__(self) -> None:
        self.bitmaps: dict[int, BitMap] = {}  # prefix code -> ids
        self.pending: list[np.ndarray] = []  # (code << 32 | id) since the last fold
        self.pending_cells = self.cells = 0
        self.sample = WordSample()
        self.overflowed = False

    def add(self, ids: range, words: pa.Array, hashes: Sequence[int]) -> None:
        """One batch: its rows' ids, `_full_text` values (null: no words) and fingerprints."""
        if self.overflowed:
            return
        self.sample.add(hashes, words)
        codes, rows = prefix_codes(words)
        rows += np.uint32(ids.start)
        # (code, row) as one 64-bit key: one sort of the keys groups the rows of each prefix
        keys = codes.astype(np.uint64)
        keys <<= np.uint64(32)
        keys |= rows
        self.pending.append(keys)
        self.pending_cells += len(keys)
        self.cells += len(keys)
        if self.pending_cells >= PREFIX_FLUSH_CELLS or self.cells > MAX_PREFIX_CELLS:
            self._flush()

    def _flush(self) -> None:
        pending, self.pending, self.pending_cells = self.pending, [], 0
        folded = self.cells <= MAX_PREFIX_CELLS
        if folded and pending:
            keys = np.concatenate(pending)
            del pending  # the parts, once joined
            keys.sort()
            codes = (keys >> np.uint64(32)).astype(np.uint32)
            folded = _fold_groups(self.bitmaps, codes, keys.astype(np.uint32), MAX_PREFIXES)  # the low half: the row
        if not folded:
            self.overflowed = True
            self.bitmaps, self.sample = {}, WordSample()

    def word_index(self) -> str:
        """`version.bitmaps["word_index"]`: "bitmaps:<length>" when the prefix bitmaps serve,
        "words" when the server must build a GIN over the whole words."""
        if not self.overflowed:
            self._flush()
        if not self.overflowed and prefixes_part_words(self.sample.words(), self.sample.rows):
            return f"{PREFIX_BITMAPS}:{PREFIX_LENGTH}"
        return "words"

    def serialize(self) -> list[tuple[str, str, bytes]]:
        """The rows of `<table>_ix` (Builder.write stores them with the value bitmaps)."""
        self._flush()
        rows = []
        for code, bm in self.bitmaps.items():
            bm.run_optimize()
            rows.append((PREFIXES, prefix_text(code), bm.serialize()))
        self.bitmaps = {}
        return rows


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


def prefix_bitmap_length(word_index: str | None) -> int | None:
    """The prefix length of a table whose free-text words are indexed by prefix bitmaps
    (PrefixBuilder, "bitmaps:<length>"); None for the other layouts."""
    if word_index and word_index.startswith(PREFIX_BITMAPS + ":"):
        return int(word_index.partition(":")[2])
    return None


def _prefix_clause(word: str, length: int) -> tuple[str, list[str]]:
    """The condition on `<table>_ix` for the prefix bitmaps a free-text word beginning with
    `word` has: those of the prefixes beginning with it, or of its own prefix when it is longer."""
    if len(word) <= length:
        return "(col = %s AND token >= %s AND token < %s)", [PREFIXES, word, word + WORD_END]
    return "(col = %s AND token = %s)", [PREFIXES, word[:length]]


def _prefix_candidates(tokens: Iterable[tuple[str, bytes]], word: str, length: int) -> BitMap:
    """The rows of the prefix bitmaps among `tokens` that `word` needs (_prefix_clause): exactly
    the rows with a free-text word beginning with `word` when it is no longer than a prefix."""
    return _union(bits for token, bits in tokens if token.startswith(word[:length]))


def _full_word_check(word: str) -> tuple[str, str]:
    """The condition that a row's `_full_text` (its marked words, separated by spaces) has a word
    beginning with `word`, and its parameter."""
    return "strpos(' ' || _full_text, %s) > 0", f" {FREE_MARK}{word}"


def _checked(table: str, word: str, candidates: BitMap, length: int) -> BitMap:
    """The `candidates` (rows with a free-text word having `word`'s prefix) that have a free-text
    word beginning with all of `word`: read by primary key, or by one scan when there are more
    than MAX_LISTED_IDS (then the scan costs less than the lookups)."""
    if len(word) <= length or not candidates:
        return candidates
    condition, needle = _full_word_check(word)
    with connection.cursor() as cur:
        if len(candidates) <= MAX_LISTED_IDS:
            cur.execute(f"SELECT _id FROM {qn(table)} WHERE _id = ANY(%s::bigint[]) AND {condition}",
                        [list(candidates), needle])
        else:
            cur.execute(f"SELECT _id FROM {qn(table)} WHERE {condition}", [needle])
        return BitMap(r[0] for r in cur.fetchall()) & candidates


def free_word_condition(table: str, word: str, *, word_index: str | None) -> tuple[str, list[Any]]:
    """The SQL condition (on `table`, unaliased) and its parameters for the rows whose free-text
    words include one beginning with `word`. `word_index` on PostgreSQL: "bitmaps:<length>", the
    prefix bitmaps (PrefixBuilder; the rows they give, as one array parameter, and `_full_text`
    checked when the word is longer than a prefix; a scan of `_full_text` when they are more
    than MAX_LISTED_IDS); "words", a GIN over the whole words; "prefixes:<length>", a GIN over
    the words' first characters in `_prefixes` (tables loaded before the prefix bitmaps: it finds
    the candidates, and `_full_text` tells which of them have the whole word's beginning); None,
    a table loaded before those, with a tsvector `_full_text`."""
    if not is_postgres():
        f = qn(fts_table(table))
        return f"_id IN (SELECT rowid FROM {f} WHERE {f} MATCH %s)", [free_word_argument(word)]
    length = prefix_bitmap_length(word_index)
    if length is not None:
        clause, args = _prefix_clause(word, length)
        with connection.cursor() as cur:
            cur.execute(f"SELECT token, bits FROM {qn(index_table(table))} WHERE {clause}", args)
            candidates = _prefix_candidates(((t, bytes(b)) for t, b in cur.fetchall()), word, length)
        condition, needle = _full_word_check(word)
        if len(candidates) > MAX_LISTED_IDS:
            return condition, [needle]
        if len(word) <= length:
            return "_id = ANY(%s::bigint[])", [list(candidates)]
        return f"(_id = ANY(%s::bigint[]) AND {condition})", [list(candidates), needle]
    if word_index and word_index.startswith("prefixes:"):
        length = int(word_index.partition(":")[2])
        return ("(_prefixes @@ %s::tsquery AND strpos(' ' || _full_text, %s) > 0)",
                [f"{FREE_MARK}{word[:length]}:*", f" {FREE_MARK}{word}"])
    if word_index == "words":
        return "(_full_text::tsvector) @@ %s::tsquery", [free_word_argument(word)]
    return "_full_text @@ %s::tsquery", [free_word_argument(word)]


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


def _free_ids(table: str, word: str, word_index: str | None) -> BitMap:
    """Rows whose free-text (marked) words include one beginning with `word`, from the engine's
    full-text index."""
    with connection.cursor() as cur:
        if is_postgres():
            condition, args = free_word_condition(table, word, word_index=word_index)
            cur.execute(f"SELECT _id FROM {qn(table)} WHERE {condition}", args)
        else:
            f = qn(fts_table(table))
            cur.execute(f"SELECT rowid FROM {f} WHERE {f} MATCH %s", [free_word_argument(word)])
        return BitMap(r[0] for r in cur.fetchall())


def matching(table: str, filters: Sequence[tuple[str, list[Any]]], words: Sequence[str], *,
             free_text: bool, word_index: str | None = None) -> BitMap:
    """The ids of the rows where every filter column holds one of its values and every word
    begins a word of the row. `free_text`: the table has text columns without bitmaps (their
    words are found by the prefix bitmaps, or looked up in the engine's full-text index;
    `word_index`: free_word_condition). One query reads every bitmap needed."""
    length = prefix_bitmap_length(word_index) if free_text and is_postgres() else None
    clauses, args = [], []
    for column, values in filters:
        keys = list(dict.fromkeys(key(v) for v in values))
        clauses.append(f"(col = %s AND token IN ({', '.join(['%s'] * len(keys))}))")
        args.extend([column, *keys])
    for w in words:
        clauses.append("(col = %s AND token >= %s AND token < %s)")
        args.extend([WORDS, w, w + WORD_END])
        if length is not None:
            clause, clause_args = _prefix_clause(w, length)
            clauses.append(clause)
            args.extend(clause_args)
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
    # Free-text words last: their rows may have to be checked in the table, or looked up in the
    # engine's index, which is skipped once nothing can match.
    prefix_tokens = by_column.get(PREFIXES, [])
    for w, low in pending_words:
        if result is not None and not result:
            return result
        if length is None:
            found_words = low | _free_ids(table, w, word_index)
        else:
            candidates = _prefix_candidates(prefix_tokens, w, length) - low  # rows of `low` match already
            if result is not None:
                candidates &= result
            found_words = low | _checked(table, w, candidates, length)
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
