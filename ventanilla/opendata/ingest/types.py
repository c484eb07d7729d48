"""Column names, type inference and value conversion for the datastore.

Decisions:

* Every value arrives as text (readers turn spreadsheet and JSON values into their canonical text).
* A column gets the narrowest type that EVERY non-empty value of the whole file fits, in this order:
  bool, int, numeric, date, timestamp; otherwise text. Nothing is ever lost: one value that does not
  fit makes the whole column text, and the validation report names the row, the column and the value.
* "No data" markers (N/D, NA, N/A, S/D, SD, "sin dato", "-", "--", null) are loaded as empty (NULL)
  in typed columns and each one is reported with its row and column.
* Integers: optional sign, digits, optional comma thousands ("1,234"). A leading zero ("01234",
  postal codes, CURP-like codes) keeps the column as text. Outside 64-bit range → numeric.
* Numbers: as integers plus a decimal point and optional exponent; Mexican money "$1,234.50" and
  "-$20.00" are numbers (the column's unit becomes "$" when every value carries it). A decimal
  comma ("1234,50") is text: Mexican files use the point.
* Dates: ISO 8601 (2024-03-31) and day-first dd/mm/yyyy or d/m/yyyy (31/03/2024).
* Timestamps: a date as above plus HH:MM[:SS[.ffffff]] (separated by "T" or a space); no time zone
  offsets (such values stay text). A column mixing dates and timestamps is timestamp.
* Booleans: sí/si/no, true/false, verdadero/falso (any case). 1/0 are integers.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

TEXT, INT, NUMERIC, DATE, TIMESTAMP, BOOL = "text", "int", "numeric", "date", "timestamp", "bool"
CANDIDATES = (BOOL, INT, NUMERIC, DATE, TIMESTAMP)

NULL_MARKERS = frozenset({"n/d", "nd", "na", "n/a", "s/d", "sd", "sin dato", "sin datos", "-", "--", "null"})
TRUE_WORDS = frozenset({"si", "sí", "true", "verdadero"})
FALSE_WORDS = frozenset({"no", "false", "falso"})

_INT = re.compile(r"^[+-]?(?:0|[1-9]\d*|[1-9]\d{0,2}(?:,\d{3})+)$", re.ASCII)
_NUM = re.compile(
    r"^(?P<sign>[+-]?)(?P<cur>\$?)(?P<sign2>[+-]?)"
    r"(?P<int>0|[1-9]\d*|[1-9]\d{0,2}(?:,\d{3})+)?(?P<frac>\.\d+)?(?P<exp>[eE][+-]?\d+)?$", re.ASCII
)
_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$", re.ASCII)
_DATE_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$", re.ASCII)
_TS = re.compile(
    r"^(?:(\d{4})-(\d{2})-(\d{2})|(\d{1,2})/(\d{1,2})/(\d{4}))"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?$", re.ASCII
)
INT64 = 2**63 - 1


def parse_bool(value: str) -> bool | None:
    v = value.strip().lower()
    if v in TRUE_WORDS:
        return True
    if v in FALSE_WORDS:
        return False
    return None


def parse_int(value: str) -> int | None:
    v = value.strip()
    if not _INT.match(v):
        return None
    n = int(v.replace(",", ""))
    return n if -INT64 <= n <= INT64 else None


def parse_numeric(value: str) -> Decimal | None:
    v = value.strip()
    m = _NUM.match(v)
    if not m or not (m["int"] or m["frac"]) or (m["sign"] and m["sign2"]):
        return None
    if m["sign2"] and not m["cur"]:
        return None
    text = (m["sign"] or m["sign2"]) + (m["int"] or "0").replace(",", "") + (m["frac"] or "") + (m["exp"] or "")
    try:
        number = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern only lets valid numbers through
        return None
    return number if number.is_finite() and abs(number.adjusted()) < 300 else None


def parse_date(value: str) -> date | None:
    v = value.strip()
    m = _DATE_ISO.match(v)
    try:
        if m:
            return date(int(m[1]), int(m[2]), int(m[3]))
        m = _DATE_DMY.match(v)
        if m:
            return date(int(m[3]), int(m[2]), int(m[1]))
    except ValueError:
        return None
    return None


def parse_timestamp(value: str) -> datetime | None:
    m = _TS.match(value.strip())
    if not m:
        return None
    try:
        if m[1]:
            y, mo, d = int(m[1]), int(m[2]), int(m[3])
        else:
            y, mo, d = int(m[6]), int(m[5]), int(m[4])
        micro = int((m[10] or "0").ljust(6, "0"))
        return datetime(y, mo, d, int(m[7] or 0), int(m[8] or 0), int(m[9] or 0), micro)
    except ValueError:
        return None


# A value that fits a type also fits the wider type of its family.
IMPLIES = {BOOL: (), INT: (NUMERIC,), NUMERIC: (), DATE: (TIMESTAMP,), TIMESTAMP: ()}
PARSERS = {BOOL: parse_bool, INT: parse_int, NUMERIC: parse_numeric, DATE: parse_date, TIMESTAMP: parse_timestamp}


def is_null(value: str | None) -> bool:
    return value is None or value == "" or value.isspace()


def is_null_marker(value: str) -> bool:
    return len(value) <= 9 and value.strip().lower() in NULL_MARKERS


class ColumnStats:
    """What pass 1 learns about one column: which types every value fits, the first value that
    ruled each type out, the "no data" markers and whether every number carried a "$". The column
    arrives in batches (`see_column`); the outcome is that of reading it value by value."""

    __slots__ = ("candidates", "non_empty", "first_misfit", "misfits", "markers", "money", "has_code", "fits")

    def __init__(self) -> None:
        self.candidates = list(CANDIDATES)
        self.non_empty = 0
        self.first_misfit: dict[str, tuple[int, str]] = {}
        self.misfits: dict[str, int] = {}
        self.markers: list[tuple[int, str]] = []
        self.money = True
        self.has_code = False  # a digits-only value with a leading zero: the column holds codes
        # Short values that fitted every candidate type when first seen: candidates are only ever
        # dropped, so such a value fits them all again and needs no parsing (dates and amounts
        # repeat).
        self.fits: set[str] = set()

    def see_column(self, column: Sequence[str | None], rows: Sequence[int]) -> None:
        """One batch of the column's values (`rows`: their row numbers). Each distinct value not
        yet known to fit is parsed once, in the order it first appears, and counts as often as it
        occurs; the rest is counting, done by the interpreter's C code."""
        if not self.candidates:  # text already: nothing more to learn (the ingestion stops asking)
            return
        present = len(column) - column.count(None) - column.count("")
        new = set(column)
        new.discard(None)
        new.discard("")
        new.difference_update(self.fits)
        if new:
            first = dict(zip(reversed(column), range(len(column) - 1, -1, -1)))  # value -> first position
            counts = Counter(column) if len(new) > 1 else {v: column.count(v) for v in new}
            uncounted = []  # blank values and "no data" markers
            for value in sorted(new, key=first.__getitem__):
                n = counts[value]
                if value.isspace() or not self._see(value, rows[first[value]], n, column, rows):
                    present -= n
                    uncounted.append(value)
                elif not self.candidates:
                    # The column is text from here on: like a row-by-row reading, count only the
                    # values up to this one (near_miss() weighs the odd values against them).
                    head = column[:first[value] + 1]
                    present = len(head) - head.count(None) - head.count("") - sum(map(head.count, uncounted))
                    break
        self.non_empty += present

    def see_known(self, distinct: Iterable[str], present: int) -> bool:
        """A batch whose distinct non-empty values are `distinct`, `present` cells in all: counted
        as `see_column` counts it when each value is known to fit (the common case of dates and
        amounts, which repeat), without the cells themselves. False, and nothing counted, when
        some value is not known: then the batch goes to `see_column`."""
        if not self.candidates:
            return True
        if not self.fits.issuperset(distinct):
            return False
        self.non_empty += present
        return True

    def _see(self, value: str, row: int, n: int, column: Sequence[str | None], rows: Sequence[int]) -> bool:
        """Parses one distinct value occurring `n` times; False for a "no data" marker."""
        if not self.candidates:
            return True
        kept = []
        implied = ()
        for kind in self.candidates:
            if kind in implied or PARSERS[kind](value) is not None:
                kept.append(kind)
                implied = IMPLIES[kind] if not implied else implied
            elif not kept and is_null_marker(value):
                where = [row] if n == 1 else [rows[p] for p, v in enumerate(column) if v == value]
                self.markers.extend((r, value) for r in where)
                if len(self.markers) > 1000:  # the first thousand rows (later batches hold later rows)
                    self.markers.sort()
                    del self.markers[1000:]
                return False
            else:
                self.misfits[kind] = self.misfits.get(kind, 0) + 1  # the type is dropped here
                self.first_misfit.setdefault(kind, (row, value))
                if kind == INT and value[:1] == "0" and value.isdigit():
                    self.has_code = True
        if self.money and NUMERIC in kept and "$" not in value:
            self.money = False
        # Types are only ever dropped, so text columns stop being parsed after their first values.
        if len(kept) == len(self.candidates) and len(value) <= 64 and len(self.fits) < 4096:
            self.fits.add(value)
        self.candidates = kept
        return True

    def final_type(self) -> str:
        if self.non_empty == 0:
            return TEXT
        for kind in CANDIDATES:
            if kind in self.candidates:
                return kind
        return TEXT

    def near_miss(self) -> tuple[str, int, str] | None:
        """(type, row, value) when the column is text only because of a few odd values (≤ 1 %)."""
        if self.final_type() != TEXT or self.non_empty == 0 or self.has_code:
            return None
        for kind in (INT, NUMERIC, DATE, TIMESTAMP):
            misses = self.misfits.get(kind, 0)
            if kind in self.first_misfit and misses <= max(1, self.non_empty // 100) and misses < self.non_empty:
                row, value = self.first_misfit[kind]
                return kind, row, value
        return None


def converter(kind: str):
    """Text → value for loading (None for empty values and "no data" markers), or None for text
    columns (the loader keeps their text as is). Values already in the form both engines read
    natively (ASCII digits, a plain decimal, an ISO date) pass through as text: PostgreSQL parses
    them in COPY and SQLite's column affinity stores them as numbers; inference has already
    checked every one of them."""
    if kind == TEXT:
        return None
    parse = PARSERS[kind]

    def slow(v):
        if v is None or v == "" or v.isspace() or is_null_marker(v):
            return None
        return parse(v)

    if kind == INT:
        return lambda v: v if v and v.isascii() and v.isdigit() else slow(v)
    if kind == NUMERIC:
        return lambda v: v if v and v.isascii() and v.replace(".", "", 1).isdigit() and v[0] != "." else slow(v)
    if kind == DATE:
        return lambda v: v if v and len(v) == 10 and v[4] == "-" and v.isascii() else slow(v)
    return slow


# --- Column ids and full-text normalisation --------------------------------------------------

_NOT_ID = re.compile(r"[^a-z0-9]+")


def ascii_fold(text: str) -> str:
    if text.isascii():
        return text
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def column_id(header: str) -> str:
    """A safe SQL identifier for a header: ASCII lowercase letters, digits and underscores,
    starting with a letter, at most 60 characters ("Año de alta" → "ano_de_alta")."""
    base = _NOT_ID.sub("_", ascii_fold(header).lower()).strip("_")[:60].strip("_")
    if base and not base[0].isalpha():
        base = ("c_" + base)[:60]
    return base


def unique_ids(headers: list[str]) -> tuple[list[str], list[dict]]:
    """Column ids for the headers plus report entries for empty and duplicate headers."""
    ids: list[str] = []
    problems: list[dict] = []
    seen: set[str] = set()
    seen_headers: dict[str, int] = {}
    for pos, header in enumerate(headers, start=1):
        header = (header or "").strip()
        base = column_id(header)
        if not header:
            base = f"columna_{pos}"
            problems.append({"row": 1, "column": base,
                             "message": _("La columna %(pos)d no tiene encabezado; se llamó «%(name)s».")
                             % {"pos": pos, "name": base}})
        elif not base:
            base = f"columna_{pos}"
        key = header.lower()
        if header and key in seen_headers:
            problems.append({"row": 1, "column": header, "message": _(
                "El encabezado «%(header)s» se repite (columnas %(first)d y %(pos)d); la segunda se "
                "llamó de otra forma.") % {"header": header, "first": seen_headers[key], "pos": pos}})
        seen_headers.setdefault(key, pos)
        name, n = base, 1
        while name in seen or name.startswith("_"):
            n += 1
            name = f"{base[:56]}_{n}"
        seen.add(name)
        ids.append(name)
    return ids, problems


_FOLD_TABLE = bytes(
    (c + 32) if 65 <= c <= 90 else c if (48 <= c <= 57 or 97 <= c <= 122) else 32 for c in range(256)
)


def normalise_words(text: str) -> str:
    """Lowercase ASCII words separated by spaces ("Camión-Rojo #5" → "camion rojo  5"): the form
    both engines index for full-text search, so results are identical on each (both tokenizers
    split on runs of spaces the same way)."""
    return ascii_fold(text).encode("ascii", "ignore").translate(_FOLD_TABLE).decode("ascii")


_FOLD_KEEPING_NUL = _FOLD_TABLE[:0] + b"\x00" + _FOLD_TABLE[1:]


def normalise_words_joined(values: Sequence[str]) -> str:
    """`normalise_words` of each value, joined by NUL, in one pass over the joined text (folding
    is character by character, so the result is the same). The values must not contain NUL."""
    return ascii_fold("\x00".join(values)).encode("ascii", "ignore").translate(_FOLD_KEEPING_NUL).decode("ascii")

