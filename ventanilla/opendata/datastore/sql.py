"""`datastore_search_sql`: one read-only SELECT over public datastore resources.

Defence in depth, each layer enough on its own for what it covers:

1. The query is parsed with sqlglot in the engine's dialect. It must be exactly one statement, a
   SELECT (or UNION/INTERSECT/EXCEPT of SELECTs, optionally with read-only CTEs); no INTO, no
   locking clause, no write anywhere in the tree.
2. Every table must be `"<resource id>"` of a public, published resource with a datastore table;
   anything else (system catalogues, the platform's own tables, physical `ds_` names, private
   resources) is refused with the same message, so nothing reveals what exists. Table-valued
   functions are refused. Every function must be on an allow-list.
3. The SQL that runs is REGENERATED from the checked tree (comments dropped, names rewritten to the
   physical tables); the text the caller sent never reaches the engine.
4. It runs in a savepoint that is always rolled back, read-only (PostgreSQL: `SET TRANSACTION READ
   ONLY`; SQLite: `PRAGMA query_only` plus an authorizer that allows reading only the mapped
   tables), with a time limit (PostgreSQL `SET LOCAL statement_timeout`; SQLite a progress handler)
   and a row cap (a LIMIT one past the cap; `records_truncated` says when it was hit)."""

from __future__ import annotations

import sqlite3
import time
import uuid
from typing import Any

import sqlglot
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils.translation import gettext as _
from sqlglot import exp

from ..models import Dataset, Resource
from ..services import OpendataError
from . import out
from .tables import is_postgres

ROW_CAP = 32000
MAX_SQL_LENGTH = 20_000
TIMEOUT_MS = int(getattr(settings, "OPENDATA_SQL_TIMEOUT_MS", 5000))

ALLOWED_FUNCTIONS = frozenset({
    # aggregates
    "COUNT", "SUM", "AVG", "MIN", "MAX", "STDDEV", "STDDEV_POP", "STDDEV_SAMP", "VARIANCE", "VARIANCE_POP",
    "GROUP_CONCAT", "ARRAY_AGG", "PERCENTILE_CONT", "PERCENTILE_DISC", "MEDIAN", "TOTAL", "COUNT_IF",
    # conditional and conversion
    "COALESCE", "NULLIF", "IF", "IFNULL", "CASE", "CAST", "TRY_CAST", "GREATEST", "LEAST", "TYPEOF",
    # text
    "LOWER", "UPPER", "LENGTH", "SUBSTRING", "TRIM", "LTRIM", "RTRIM", "BTRIM", "REPLACE", "CONCAT",
    "CONCAT_WS", "STR_POSITION", "LEFT", "RIGHT", "INITCAP", "SPLIT_PART", "INSTR", "STRPOS", "CHAR_LENGTH",
    # math
    "ABS", "ROUND", "FLOOR", "CEIL", "SQRT", "POWER", "LN", "LOG", "EXP", "SIGN", "MOD", "TRUNC",
    # dates
    "DATE", "DATETIME", "JULIANDAY", "STRFTIME", "TIME_TO_STR", "STR_TO_TIME", "STR_TO_DATE", "DATE_TRUNC",
    "TIMESTAMP_TRUNC", "EXTRACT", "DATE_PART", "TO_CHAR", "TO_DATE", "TS_OR_DS_TO_TIMESTAMP",
    "TS_OR_DS_TO_DATE", "CURRENT_DATE", "CURRENT_TIMESTAMP", "AGE", "DATE_ADD", "DATE_SUB", "DATE_DIFF",
    "TIME_STR_TO_TIME", "UNIX_TO_TIME", "TIME_TO_UNIX",
    # window functions
    "ROW_NUMBER", "RANK", "DENSE_RANK", "NTILE", "LAG", "LEAD", "FIRST_VALUE", "LAST_VALUE", "CUME_DIST",
    "PERCENT_RANK",
})
# Nodes that never belong in a read-only query, wherever they appear.
FORBIDDEN_NODES = tuple(getattr(exp, name) for name in (
    "Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "Command", "Into", "Lock", "Pragma",
    "Set", "Use", "Copy", "LoadData", "Transaction", "Commit", "Rollback", "Attach", "Detach", "Grant",
    "Describe", "Show", "TruncateTable", "Analyze", "Kill", "Cache", "Uncache", "Refresh", "Summarize",
    "Export", "Install",
) if hasattr(exp, name))
# What the regenerated SQL may call on SQLite (checked again by the connection's authorizer).
SQLITE_FUNCTIONS = frozenset("""
count sum avg min max total group_concat lower upper length substr substring trim ltrim rtrim replace instr
abs round coalesce ifnull nullif iif typeof date time datetime julianday strftime unixepoch like glob floor
ceil ceiling sqrt pow power ln log log10 exp sign mod trunc row_number rank dense_rank ntile lag lead
first_value last_value cume_dist percent_rank concat concat_ws
""".split())
SET_OPERATIONS = (exp.Union, exp.Intersect, exp.Except)


def _refuse(message: str, code: str = "invalid") -> OpendataError:
    return OpendataError(message, field="sql", code=code, status=400)


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).upper()
    return node.sql_name().upper()


def _public_tables(ids: set[str]) -> dict[str, str]:
    """resource id → physical table, only for public published resources with a datastore."""
    uuids = []
    for key in ids:
        try:
            uuids.append(uuid.UUID(key))
        except ValueError:
            continue
    rows = (Resource.objects.filter(pk__in=uuids, datastore_active=True, dataset__private=False,
                                    dataset__state=Dataset.State.ACTIVE, current_version__isnull=False)
            .exclude(current_version__table_name="")
            .values_list("pk", "current_version__table_name"))
    return {str(pk): table for pk, table in rows}


def _existing_relations(names: set[str]) -> set[str]:
    lowered = sorted({n.lower() for n in names})
    with connection.cursor() as cur:
        if is_postgres():
            cur.execute("SELECT DISTINCT lower(relname) FROM pg_catalog.pg_class WHERE lower(relname) = ANY(%s)",
                        [lowered])
            found = {r[0] for r in cur.fetchall()}
        else:
            cur.execute("SELECT lower(name) FROM sqlite_master")
            found = {r[0] for r in cur.fetchall()} & set(lowered)
            found |= {n for n in lowered if n.startswith("sqlite_")}
    return found


def check(sql: str) -> tuple[str, dict[str, str]]:
    """Validates the query; returns the SQL to run and {physical table: resource id}."""
    if not isinstance(sql, str) or not sql.strip():
        raise _refuse(_("Escribe una consulta SELECT en «sql»."), "required")
    if len(sql) > MAX_SQL_LENGTH:
        raise _refuse(_("La consulta es demasiado larga (máximo %d caracteres).") % MAX_SQL_LENGTH)
    if "\x00" in sql:
        raise _refuse(_("La consulta contiene caracteres no válidos."))
    dialect = "postgres" if is_postgres() else "sqlite"
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError, ValueError, RecursionError):
        raise _refuse(_("La consulta no es SQL válido.")) from None
    if len(statements) != 1:
        raise _refuse(_("Envía una sola consulta SELECT (sin varias sentencias separadas por «;»)."), "multiple")
    tree = statements[0]
    if not isinstance(tree, (exp.Select, *SET_OPERATIONS)):
        raise _refuse(_("Solo se permiten consultas SELECT de lectura."), "not_select")
    cte_names: set[str] = set()
    for node in tree.walk():
        if isinstance(node, FORBIDDEN_NODES):
            raise _refuse(_("Solo se permiten consultas SELECT de lectura."), "not_select")
        if isinstance(node, exp.CTE):
            body = node.this
            if not isinstance(body, (exp.Select, *SET_OPERATIONS)):
                raise _refuse(_("Solo se permiten consultas SELECT de lectura."), "not_select")
            cte_names.add(node.alias_or_name.lower())
        # sqlglot models AND, OR and XOR as functions (exp.Connector); they are operators
        if isinstance(node, exp.Func) and not isinstance(node, exp.Connector):
            name = _function_name(node)
            if name not in ALLOWED_FUNCTIONS:
                raise _refuse(_("La función «%s» no está permitida.") % name.lower()[:60], "function")
        if isinstance(node, (exp.Lateral, exp.Unnest)):
            raise _refuse(_("Solo se puede consultar tablas de recursos públicos."), "table")
        if isinstance(node, (exp.Cast, exp.TryCast)):
            to = node.args.get("to")
            type_sql = to.sql(dialect=dialect).upper() if to is not None else ""
            if type_sql.startswith(("REG", "OID", "XML", "JSON")) or (
                    to is not None and to.this == exp.DataType.Type.USERDEFINED):
                raise _refuse(_("No se permite convertir a ese tipo de dato."), "function")
    if cte_names:
        # A WITH name is resolved by scope: outside its scope the same name would reach a real table
        # (e.g. a later CTE's name inside an earlier one). Names of existing relations are refused.
        clash = _existing_relations(cte_names)
        if clash:
            raise _refuse(_("El nombre «%s» no se puede usar en WITH; elige otro.") % sorted(clash)[0][:60], "table")
    tables = list(tree.find_all(exp.Table))
    wanted = set()
    for table in tables:
        if not isinstance(table.this, exp.Identifier):  # a function in FROM, e.g. generate_series()
            raise _refuse(_("Solo se puede consultar tablas de recursos públicos."), "table")
        if table.args.get("db") or table.args.get("catalog"):
            raise _refuse(_("La tabla «%s» no es un recurso público del almacén de datos.")
                          % table.sql(dialect=dialect)[:80], "table")
        if table.name.lower() in cte_names:
            continue
        wanted.add(table.name)
    mapping = _public_tables(wanted)
    used: dict[str, str] = {}
    for table in tables:
        name = table.name
        if name.lower() in cte_names:
            continue
        physical = mapping.get(name.lower()) or mapping.get(name)
        if physical is None:
            raise _refuse(_("La tabla «%s» no es un recurso público del almacén de datos.") % name[:80], "table")
        alias = table.alias or name
        table.set("this", exp.to_identifier(physical, quoted=True))
        table.set("alias", exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))
        used[physical] = name
    if not used:
        raise _refuse(_("La consulta debe leer al menos un recurso: FROM \"<id del recurso>\"."), "table")
    # Row cap: one past the cap, to know whether it was hit.
    if isinstance(tree, exp.Select):
        current = tree.args.get("limit")
        limit_value = None
        if current is not None:
            expr = current.expression if isinstance(current, exp.Limit) else None
            if isinstance(expr, exp.Literal) and expr.is_int:
                limit_value = int(expr.this)
        if limit_value is None or limit_value > ROW_CAP + 1:
            tree = tree.limit(ROW_CAP + 1, copy=False)
    else:
        tree = exp.select("*").from_(tree.subquery("_q")).limit(ROW_CAP + 1)
    final = tree.sql(dialect=dialect, comments=False)
    return final, used


def run_sql(sql: str, user=None) -> dict:
    final, used = check(sql)
    started = time.monotonic()
    try:
        with transaction.atomic():
            try:
                if is_postgres():
                    rows, columns = _run_postgres(final)
                else:
                    rows, columns = _run_sqlite(final, set(used))
            finally:
                transaction.set_rollback(True)
    except _Timeout:
        raise _refuse(_("La consulta tardó más de %d segundos y se detuvo. Filtra o agrega menos datos.")
                      % max(1, TIMEOUT_MS // 1000), "timeout") from None
    except DatabaseError as exc:
        message = str(exc).splitlines()[0] if str(exc) else ""
        if "statement timeout" in message or "canceling statement" in message or "interrupted" in message:
            raise _refuse(_("La consulta tardó más de %d segundos y se detuvo. Filtra o agrega menos datos.")
                          % max(1, TIMEOUT_MS // 1000), "timeout") from None
        for physical, name in used.items():
            message = message.replace(physical, name)
        raise _refuse(_("La consulta no se pudo ejecutar: %s") % message[:300], "sql_error") from None
    truncated = len(rows) > ROW_CAP
    rows = rows[:ROW_CAP]
    fields = []
    for i, name in enumerate(columns):
        sample = next((r[i] for r in rows if r[i] is not None), None)
        fields.append({"id": name, "type": _type_of(sample)})
    kinds = [f["type"] for f in fields]
    records = [{name: out(kind, v) for name, kind, v in zip(columns, kinds, row)} for row in rows]
    return {"sql": sql, "records": records, "fields": fields, "records_truncated": truncated,
            "elapsed_ms": round((time.monotonic() - started) * 1000, 1)}


def _type_of(value: Any) -> str:
    from datetime import date, datetime
    from decimal import Decimal

    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, (float, Decimal)):
        return "numeric"
    if isinstance(value, datetime):
        return "timestamp"
    if isinstance(value, date):
        return "date"
    return "text"


class _Timeout(Exception):
    pass


def _run_postgres(final: str) -> tuple[list, list[str]]:
    with connection.cursor() as cur:
        cur.execute("SET TRANSACTION READ ONLY")
        cur.execute("SELECT set_config('statement_timeout', %s, true)", [str(TIMEOUT_MS)])
        cur.execute(final.replace("%", "%%"), [])
        columns = [d[0] for d in cur.description]
        return cur.fetchmany(ROW_CAP + 1), columns


def _run_sqlite(final: str, allowed_tables: set[str]) -> tuple[list, list[str]]:
    connection.ensure_connection()
    raw: sqlite3.Connection = connection.connection
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    timed_out = []

    def progress():
        if time.monotonic() > deadline:
            timed_out.append(True)
            return 1
        return 0

    def authorizer(action, arg1, arg2, db_name, trigger):
        if action == sqlite3.SQLITE_SELECT:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_READ:
            return sqlite3.SQLITE_OK if arg1 in allowed_tables else sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_FUNCTION:
            return sqlite3.SQLITE_OK if (arg2 or "").lower() in SQLITE_FUNCTIONS else sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_RECURSIVE:
            return sqlite3.SQLITE_OK
        return sqlite3.SQLITE_DENY

    cur = raw.cursor()
    cur.execute("PRAGMA query_only = ON")
    raw.set_progress_handler(progress, 10_000)
    raw.set_authorizer(authorizer)
    try:
        try:
            cur.execute(final)
            columns = [d[0] for d in cur.description]
            rows = cur.fetchmany(ROW_CAP + 1)
        except sqlite3.OperationalError as exc:
            if timed_out:
                raise _Timeout() from None
            if "not authorized" in str(exc):
                raise OpendataError(_("La consulta usa algo que no está permitido."), field="sql") from None
            raise DatabaseError(str(exc)) from None
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(str(exc)) from None
        return rows, columns
    finally:
        raw.set_authorizer(None)
        raw.set_progress_handler(None, 0)
        cur.execute("PRAGMA query_only = OFF")
        cur.close()
