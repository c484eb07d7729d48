"""The datastore: every tabular resource's current version is a typed table in the platform's own
database, queried with CKAN's `datastore_search` semantics.

Public interface (used by the CKAN action API, the pages and the benchmark):

* `search(resource, params) -> dict` — filters, q, fields, sort, limit, offset, distinct,
  include_total, records_format; the result has CKAN's shape.
* `search_sql(sql, user=None) -> dict` — one read-only SELECT over public resources (see `sql.py`).
* `dump(resource, fmt, params) -> (iterator of bytes, content_type, filename)` — CSV/JSON/XLSX.
* `table_fields(resource) -> list[DataField]`.

Identifiers are never taken from the request: every column named in a parameter is checked against
the resource's data dictionary, and every value is a bound parameter."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..ingest.types import BOOL, DATE, INT, NUMERIC, TEXT, TIMESTAMP, normalise_words, parse_bool, \
    parse_date, parse_int, parse_numeric, parse_timestamp
from ..models import DataField, Resource
from ..services import OpendataError
from . import bitmaps, tables
from .tables import is_postgres, qn

DEFAULT_LIMIT = 100
MAX_LIMIT = 32000
MAX_OFFSET = 10**12
MAX_FILTER_VALUES = 1000
MAX_Q_WORDS = 20
RECORDS_FORMATS = ("objects", "lists", "csv", "tsv")

__all__ = ["search", "search_sql", "dump", "table_fields", "Query", "build_query", "DEFAULT_LIMIT", "MAX_LIMIT"]


def _fail(message: str, field: str) -> OpendataError:
    return OpendataError(message, field=field, code="invalid", status=400)


def table_fields(resource: Resource) -> list[DataField]:
    version = resource.current_version
    if version is None or not version.table_name:
        return []
    return list(DataField.objects.filter(version=version).order_by("position"))


def _table(resource: Resource) -> tuple[str, list[DataField], Any]:
    version = resource.current_version
    if not resource.datastore_active or version is None or not version.table_name:
        raise OpendataError(_("Este recurso no tiene datos consultables."), field="resource_id",
                            code="not_found", status=404)
    return version.table_name, table_fields(resource), version


# --- Parameter parsing ----------------------------------------------------------------------

def _bool_param(value: Any, field: str, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    parsed = parse_bool(str(value)) if isinstance(value, str) else None
    if isinstance(value, str) and value.strip() in ("1", "0"):
        parsed = value.strip() == "1"
    if parsed is None:
        raise _fail(_("«%s» debe ser true o false.") % field, field)
    return parsed


def _int_param(value: Any, field: str, default: int, maximum: int) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise _fail(_("«%s» debe ser un número entero.") % field, field)
    try:
        n = int(value) if isinstance(value, int) else int(str(value).strip())
    except ValueError:
        raise _fail(_("«%s» debe ser un número entero.") % field, field) from None
    if n < 0:
        raise _fail(_("«%s» no puede ser negativo.") % field, field)
    if n > maximum:
        raise _fail(_("«%(f)s» puede ser como máximo %(max)d.") % {"f": field, "max": maximum}, field)
    return n


def _json_param(value: Any, field: str) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in ("{", "["):
            try:
                return json.loads(text)
            except (ValueError, RecursionError):  # RecursionError: nested too deep to decode
                raise _fail(_("«%s» no es JSON válido.") % field, field) from None
    return value


def _name_list(value: Any, field: str) -> list[str]:
    value = _json_param(value, field)
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",")]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise _fail(_("«%s» debe ser una lista de nombres de columna.") % field, field)
    return [v.strip().strip('"') for v in value if v.strip()]


_PARSE = {INT: parse_int, NUMERIC: parse_numeric, DATE: parse_date, TIMESTAMP: parse_timestamp, BOOL: parse_bool}
_TYPE_WORDS = {INT: gettext_lazy("un número entero"), NUMERIC: gettext_lazy("un número"),
               DATE: gettext_lazy("una fecha AAAA-MM-DD"), TIMESTAMP: gettext_lazy("una fecha y hora"),
               BOOL: gettext_lazy("true o false")}


def _filter_value(value: Any, kind: str, column: str):
    if value is None:
        return None
    if isinstance(value, bool):
        value = "true" if value else "false"
    if isinstance(value, (int, float)) and kind in (INT, NUMERIC):
        value = repr(value) if isinstance(value, float) else str(value)
    if not isinstance(value, str):
        raise _fail(_("El filtro de «%s» debe ser un valor o una lista de valores.") % column, "filters")
    if kind == TEXT:
        # Empty cells are stored as NULL: filtering for "" finds them, as the bitmaps do.
        return value.replace("\x00", "") or None
    parsed = _PARSE[kind](value)
    if parsed is None:
        raise _fail(_("El filtro de «%(c)s» debe ser %(what)s.") % {"c": column, "what": _TYPE_WORDS[kind]},
                    "filters")
    adapt = tables.adapter(kind)
    return adapt(parsed) if adapt is not None and kind != TEXT else parsed


class Query:
    """A validated datastore query: the SQL pieces and the bound parameters."""

    def __init__(self, table: str, fields: list[DataField], version, params: Mapping[str, Any]):
        self.table = table
        self.version = version
        self.kinds = {"_id": INT, **{f.name: f.type for f in fields}}
        self.all_fields = fields
        unknown = set(params) - {"resource_id", "id", "filters", "q", "plain", "language", "fields", "sort",
                                 "limit", "offset", "distinct", "include_total", "total_estimation_threshold",
                                 "records_format", "full_text"}
        if unknown:
            name = sorted(unknown)[0]
            raise _fail(_("El parámetro «%s» no existe.") % name[:60], name[:60])
        self.limit = _int_param(params.get("limit"), "limit", DEFAULT_LIMIT, MAX_LIMIT)
        self.offset = _int_param(params.get("offset"), "offset", 0, MAX_OFFSET)
        self.distinct = _bool_param(params.get("distinct"), "distinct", False)
        self.include_total = _bool_param(params.get("include_total"), "include_total", True)
        self.records_format = str(params.get("records_format") or "objects")
        if self.records_format not in RECORDS_FORMATS:
            raise _fail(_("«records_format» debe ser uno de: %s.") % ", ".join(RECORDS_FORMATS), "records_format")
        # fields: none named (absent, empty, or only separators such as " ,") means every column
        names = _name_list(params["fields"], "fields") if params.get("fields") not in (None, "", []) else []
        for name in names:
            self._column(name, "fields")
        self.fields = list(dict.fromkeys(names)) or ["_id", *(f.name for f in fields)]
        self.where: list[str] = []
        self.args: list[Any] = []
        self._deferred_words: list[str] = []  # plain `q` words whose SQL conditions wait for `_resolve`
        self.fts_match: tuple[str, str] | None = None  # SQLite: the full-text condition and its argument
        self.bitmap_info = getattr(version, "bitmaps", None)  # None: a table loaded before bitmaps
        self.filter_values: list[tuple[str, list[Any]]] = []  # (column, stored values) of each filter
        self.q_words: list[str] = []  # the words of a plain-text `q`
        self.column_q = False  # `q` is {"column": "text"}
        self._ids: Any = False  # the bitmap of matching rows once computed; None: bitmaps cannot answer
        self.filters = self._filters(params.get("filters"))
        self._q(params.get("q"), params.get("full_text"))
        self.sort = self._sort(params.get("sort"))

    def _column(self, name: str, field: str) -> str:
        if name not in self.kinds:
            raise _fail(_("La columna «%s» no existe en este recurso.") % str(name)[:60], field)
        return name

    def _filters(self, raw: Any) -> dict:
        raw = _json_param(raw, "filters")
        if raw in (None, "", {}):
            return {}
        if not isinstance(raw, Mapping):
            raise _fail(_("«filters» debe ser un objeto {\"columna\": valor}."), "filters")
        for column, value in raw.items():
            self._column(column, "filters")
            kind = self.kinds[column]
            values = value if isinstance(value, list) else [value]
            if not values:
                raise _fail(_("El filtro de «%s» está vacío.") % column, "filters")
            if len(values) > MAX_FILTER_VALUES:
                raise _fail(_("El filtro de «%(c)s» tiene demasiados valores (máximo %(n)d).")
                            % {"c": column, "n": MAX_FILTER_VALUES}, "filters")
            converted = [_filter_value(v, kind, column) for v in values]
            self.filter_values.append((column, converted))
            non_null = [v for v in converted if v is not None]
            parts = []
            if non_null:
                if len(non_null) == 1:
                    parts.append(f"{qn(column)} = %s")
                else:
                    parts.append(f"{qn(column)} IN ({', '.join(['%s'] * len(non_null))})")
                self.args.extend(non_null)
            if len(non_null) < len(converted):
                parts.append(f"{qn(column)} IS NULL")
            self.where.append("(" + " OR ".join(parts) + ")")
        return dict(raw)

    def _free_layout(self) -> bool:
        """`_full_text` holds only the marked words of the columns without bitmaps (bitmaps.py)."""
        return bool(self.bitmap_info and self.bitmap_info.get("words") == bitmaps.LAYOUT_FREE)

    def _bitmap_text_columns(self) -> list[str]:
        """The columns with bitmaps that were text when loaded (the data dictionary's types can be
        edited since; the bitmaps and their words are those of the load)."""
        return [c for c, kind in (self.bitmap_info or {}).get("kinds", {}).items() if kind == TEXT]

    def _free_word(self, word: str) -> str | None:
        """The engine's condition for the free-text words beginning with `word`, if the table has any."""
        if not self.bitmap_info.get("free_text"):
            return None
        condition, args = bitmaps.free_word_condition(self.table, word, word_index=self.bitmap_info.get("word_index"))
        self.args.extend(args)
        return condition

    def _values_in(self, column: str, values: list[str]) -> str:
        """`column` is one of `values` (text), bound as ONE parameter: a word can begin words of
        thousands of values, more than the engines take as separate parameters."""
        if is_postgres():
            self.args.append(list(values))
            return f"{qn(column)} = ANY(%s::text[])"
        self.args.append(json.dumps(list(values), ensure_ascii=False))
        return f"{qn(column)} IN (SELECT value FROM json_each(%s))"

    def has_conditions(self) -> bool:
        return bool(self.where or self._deferred_words)

    def _resolve(self) -> None:
        """Adds the SQL conditions of a plain `q` on today's layout, which need the values of the
        columns with bitmaps that have each word; only the SQL path needs them, so they are read
        only when it runs (they are the last conditions, so their parameters come last too)."""
        words, self._deferred_words = self._deferred_words, []
        if not words:
            return
        found = bitmaps.word_values(self.table, self._bitmap_text_columns(), words)
        for w in words:
            parts = [self._values_in(column, values) for column, values in found[w].items()]
            free = self._free_word(w)
            if free:
                parts.append(free)
            self.where.append("(" + " OR ".join(parts) + ")" if parts else "1 = 0")

    def _fts(self, words: list[str]) -> None:
        if not words:
            return
        if self._free_layout():
            # Each word: a free-text word beginning with it, or a value of a column with bitmaps
            # that has such a word (`_resolve`, when the SQL path runs).
            self._deferred_words = list(words)
            return
        marked = bool(self.bitmap_info and self.bitmap_info.get("free_text"))
        if is_postgres():
            self.where.append("_full_text @@ %s::tsquery" if marked else "_full_text @@ to_tsquery('simple', %s)")
        else:
            self.where.append(f"_id IN (SELECT rowid FROM {qn(tables.fts_table(self.table))} WHERE "
                              f"{qn(tables.fts_table(self.table))} MATCH %s)")
        self.args.append(bitmaps.fts_argument(words, marked=marked))
        if not is_postgres():
            self.fts_match = (self.where[-1], self.args[-1])

    def _q(self, raw: Any, full_text: Any) -> None:
        raw = _json_param(raw, "q")
        if raw in (None, "", {}) and full_text:
            raw = full_text
        if raw in (None, "", {}):
            return
        if isinstance(raw, str):
            words = normalise_words(raw[:1000]).split()[:MAX_Q_WORDS]
            self.q_words = list(dict.fromkeys(words))
            self._fts(words)
            return
        if not isinstance(raw, Mapping):
            raise _fail(_("«q» debe ser texto o un objeto {\"columna\": \"texto\"}."), "q")
        all_words = []
        self.column_q = True
        for column, term in raw.items():
            self._column(column, "q")
            if self.kinds[column] != TEXT:
                raise _fail(_("La búsqueda por columna solo se aplica a columnas de texto («%s» no lo es).")
                            % column, "q")
            if not isinstance(term, str):
                raise _fail(_("La búsqueda en «%s» debe ser texto.") % column, "q")
            words = normalise_words(term[:1000]).split()[:MAX_Q_WORDS]
            if self._free_layout():
                # The column's words: from its values (bitmaps) or its marked free-text words.
                if column in self._bitmap_text_columns():
                    found = bitmaps.word_values(self.table, [column], words)
                    for w in words:
                        values = found[w].get(column)
                        self.where.append(self._values_in(column, values) if values else "1 = 0")
                    continue
                for w in words:
                    self.where.append(f"{_folded(qn(column))} LIKE %s")
                    self.args.append(f"%{w}%")
                    free = self._free_word(w)
                    self.where.append(free or "1 = 0")
                continue
            all_words.extend(words)
            for word in words:
                self.where.append(f"{_folded(qn(column))} LIKE %s")
                self.args.append(f"%{word}%")
        self._fts(list(dict.fromkeys(all_words)))

    def _sort(self, raw: Any) -> list[tuple[str, str]]:
        if raw in (None, ""):
            return [("_id", "ASC")]
        if not isinstance(raw, str):
            raise _fail(_("«sort» debe ser texto como «columna desc, otra»."), "sort")
        keys = []
        for part in raw.split(","):
            words = part.strip().split()
            if not words:
                continue
            if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
                raise _fail(_("«sort» debe tener la forma «columna desc, otra asc»."), "sort")
            name = self._column(words[0].strip('"'), "sort")
            keys.append((name, "DESC" if len(words) == 2 and words[1].lower() == "desc" else "ASC"))
        if not keys:
            return [("_id", "ASC")]
        if keys[-1][0] != "_id" and "_id" not in [k for k, _d in keys]:
            keys.append(("_id", keys[-1][1]))  # a stable order, so paging never repeats or skips rows
        return keys

    # --- SQL ----------------------------------------------------------------------------------

    def select_list(self) -> str:
        return ", ".join(qn(f) for f in self.fields)

    def order_by(self) -> str:
        parts = []
        for name, direction in self.sort:
            if is_postgres() and name != "_id":
                parts.append(f"{qn(name)} {direction} NULLS {'FIRST' if direction == 'ASC' else 'LAST'}")
            else:
                parts.append(f"{qn(name)} {direction}")
        return ", ".join(parts)

    def keyset(self) -> bool:
        """With no filter, no q, no distinct and the natural order, `_id` IS the row number (tables
        are written once, numbered 1..n), so OFFSET k is `_id > k`: constant time at any depth."""
        return not self.has_conditions() and not self.distinct and self.sort == [("_id", "ASC")]

    def sql(self, limit: int, offset: int) -> tuple[str, list[Any]]:
        self._resolve()
        where = list(self.where)
        args = list(self.args)
        if self.keyset() and offset:
            where.append("_id > %s")
            args.append(offset)
            offset = 0
        sql = f"SELECT {'DISTINCT ' if self.distinct else ''}{self.select_list()} FROM {qn(self.table)}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        if self.distinct:
            order = ", ".join(f"{qn(n)} {d}" for n, d in self.sort if n in self.fields) or "1"
            sql += f" ORDER BY {order}"
        else:
            sql += f" ORDER BY {self.order_by()}"
        sql += " LIMIT %s OFFSET %s"
        return sql, [*args, limit, offset]

    def matching_ids(self):
        """The ids of the matching rows from the table's bitmaps (bitmaps.py), or None when they
        cannot answer this query (no filter and no word, `distinct`, per-column `q`, a filter on a
        column without bitmaps, or a table loaded before bitmaps): the SQL conditions decide then."""
        if self._ids is False:
            self._ids = None
            info = self.bitmap_info
            if (info is not None and not self.distinct and not self.column_q
                    and (self.filter_values or self.q_words)
                    and all(c in info["columns"] for c, _v in self.filter_values)):
                self._ids = bitmaps.matching(self.table, self.filter_values, self.q_words,
                                             free_text=bool(info.get("free_text")),
                                             word_index=info.get("word_index"))
        return self._ids

    def page_by_ids(self, limit: int | None = None, offset: int | None = None) -> tuple[str, list[Any]] | None:
        """The page's rows read by primary key, at the same cost at any offset, when the bitmaps
        know which they are: in the natural order they are the result's n-th to m-th ids; sorted by
        one column with bitmaps, the column's values in order give them. None otherwise (the SQL
        conditions decide)."""
        limit = self.limit if limit is None else limit
        offset = self.offset if offset is None else offset
        if self.sort == [("_id", "ASC")]:
            ids = self.matching_ids()
            if ids is None:
                return None
            wanted = bitmaps.page(ids, offset, limit)
        else:
            wanted = self._sorted_by_bitmaps(limit, offset)
            if wanted is None:
                return None
        marks = ", ".join(["%s"] * len(wanted)) or "NULL"
        return (f"SELECT {self.select_list()} FROM {qn(self.table)} WHERE _id IN ({marks}) "
                f"ORDER BY {self.order_by()}", wanted)

    def _sorted_by_bitmaps(self, limit: int, offset: int) -> list[int] | None:
        info = self.bitmap_info
        if info is None or self.distinct or len(self.sort) != 2:
            return None
        (column, direction), (last, last_direction) = self.sort
        kind = info.get("kinds", {}).get(column)  # the type it was loaded with (tables of earlier layouts: none)
        if last != "_id" or direction != last_direction or kind is None:
            return None
        within = None
        if self.has_conditions():
            within = self.matching_ids()
            if within is None:
                return None
        return bitmaps.sorted_page(self.table, column, kind, direction == "DESC", within, offset, limit)

    def count(self) -> tuple[int, bool]:
        if not self.has_conditions() and not self.distinct:
            return self.version.row_count, False
        ids = self.matching_ids()
        if ids is not None:
            return len(ids), False
        self._resolve()
        if self.fts_match and self.where == [self.fts_match[0]] and not self.distinct:
            # Only full text: the FTS index alone knows how many rows match (its rowids are the
            # table's `_id`s), without building the list and probing the table (7 ms, not 45 ms,
            # for 67,000 matches in a million rows).
            f = qn(tables.fts_table(self.table))
            with connection.cursor() as cur:
                cur.execute(f"SELECT COUNT(*) FROM {f} WHERE {f} MATCH %s", [self.fts_match[1]])
                return int(cur.fetchone()[0]), False
        inner = f"SELECT {'DISTINCT ' if self.distinct else ''}{self.select_list() if self.distinct else '1'} " \
                f"FROM {qn(self.table)}"
        if self.where:
            inner += " WHERE " + " AND ".join(self.where)
        with connection.cursor() as cur:
            cur.execute(f"SELECT COUNT(*) FROM ({inner}) AS _c", self.args)
            return int(cur.fetchone()[0]), False

    def output(self, row: tuple) -> list:
        return [out(self.kinds.get(name), v) for name, v in zip(self.fields, row)]


def _folded(column_sql: str) -> str:
    """The column in lowercase without Spanish accents, with the same SQL on both engines."""
    expr = f"CAST({column_sql} AS TEXT)"
    for src, dst in (("á", "a"), ("é", "e"), ("í", "i"), ("ó", "o"), ("ú", "u"), ("ü", "u"), ("ñ", "n"),
                     ("Á", "a"), ("É", "e"), ("Í", "i"), ("Ó", "o"), ("Ú", "u"), ("Ü", "u"), ("Ñ", "n")):
        expr = f"REPLACE({expr}, '{src}', '{dst}')"
    return f"LOWER({expr})"


def out(kind: str | None, value: Any) -> Any:
    """An engine value → its JSON form, identical for both engines."""
    if value is None:
        return None
    if kind == BOOL:
        return bool(value)
    if isinstance(value, Decimal):
        return int(value) if kind == INT else float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if kind == NUMERIC and isinstance(value, int):
        return float(value)
    return value


def build_query(resource: Resource, params: Mapping[str, Any]) -> Query:
    if not isinstance(params, Mapping):
        raise _fail(_("Los parámetros deben ser un objeto."), "params")
    table, fields, version = _table(resource)
    return Query(table, fields, version, params)


def _field_info(query: Query) -> list[dict]:
    by_name = {f.name: f for f in query.all_fields}
    result = []
    for name in query.fields:
        if name == "_id":
            result.append({"id": "_id", "type": "int"})
            continue
        f = by_name[name]
        result.append({"id": name, "type": f.type,
                       "info": {"label": f.label, "notes": f.description, "unit": f.unit}})
    return result


def _delimited(rows: list[list], delimiter: str) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    for row in rows:
        writer.writerow(["" if v is None else ("true" if v is True else "false" if v is False else v) for v in row])
    return buf.getvalue()


def search(resource: Resource, params: Mapping[str, Any]) -> dict:
    """CKAN `datastore_search` over the resource's current version."""
    query = build_query(resource, params)
    sql, args = query.page_by_ids() or query.sql(query.limit, query.offset)
    with connection.cursor() as cur:
        cur.execute(sql, args)
        rows = [query.output(r) for r in cur.fetchall()]
    if query.records_format == "objects":
        records: Any = [dict(zip(query.fields, r)) for r in rows]
    elif query.records_format == "lists":
        records = rows
    else:
        records = _delimited(rows, "," if query.records_format == "csv" else "\t")
    result = {
        "resource_id": str(resource.pk),
        "fields": _field_info(query),
        "records": records,
        "limit": query.limit,
        "offset": query.offset,
        "filters": query.filters,
        "records_format": query.records_format,
        "_links": _links(resource, params, query),
    }
    if query.include_total:
        result["total"], result["total_was_estimated"] = query.count()
    if query.sort != [("_id", "ASC")]:
        result["sort"] = ", ".join(f"{n} {d.lower()}" for n, d in query.sort)
    if params.get("q") not in (None, "", {}):
        result["q"] = params.get("q")
    if query.distinct:
        result["distinct"] = True
    return result


def _links(resource: Resource, params: Mapping[str, Any], query: Query) -> dict:
    base = "/api/3/action/datastore_search"
    keep = {k: (json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v)
            for k, v in params.items() if k not in ("offset", "resource_id", "id") and v not in (None, "")}
    start = urlencode({"resource_id": str(resource.pk), **keep})
    nxt = urlencode({"resource_id": str(resource.pk), **keep, "offset": query.offset + query.limit})
    return {"start": f"{base}?{start}", "next": f"{base}?{nxt}"}


def iter_rows(query: Query, batch: int = 5000, limit: int | None = None) -> Iterator[list]:
    """Every row the query selects (all of them unless `limit`), fetched in batches: by `_id` when
    the order is natural (constant cost per batch), else by LIMIT/OFFSET."""
    sent = 0
    offset = query.offset
    while limit is None or sent < limit:
        size = batch if limit is None else min(batch, limit - sent)
        sql, args = query.page_by_ids(size, offset) or query.sql(size, offset)
        with connection.cursor() as cur:
            cur.execute(sql, args)
            rows = cur.fetchall()
        for row in rows:
            yield query.output(row)
        sent += len(rows)
        offset += len(rows)
        if len(rows) < size:
            return


def search_sql(sql: str, user=None) -> dict:
    from .sql import run_sql

    return run_sql(sql, user=user)


def dump(resource: Resource, fmt: str, params: Mapping[str, Any] | None = None):
    from .downloads import dump as _dump

    return _dump(resource, fmt, params or {})
