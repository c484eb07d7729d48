#!/usr/bin/env python
"""Datastore benchmark: a 1M-row resource, 200 representative `datastore_search` calls.

    python bench/datastore.py [--rows 1000000] [--queries 200] [--seed 0]

Sets Django up on a temporary SQLite database (or on DATABASE_URL if given; a PostgreSQL URL gets
its own temporary database), migrates, and:

1. Loads the demo's traffic-fines CSV (`opendata.demo.fines_csv`, `--rows` rows) through the real
   path (`services.create_resource` → ingestion: stored file, type inference over the whole
   file, typed table, row fingerprints, indexes, full text), and times it next to the engine's own
   import of the same file into a plain table (PostgreSQL `COPY … FROM STDIN` with psycopg 3;
   SQLite `executemany` in one transaction, and, where the `sqlite3` shell is installed, its
   `.import`, SQLite's own CSV import in C): plain, with a b-tree on every column, and with those
   plus the engine's own full-text index over the text columns (a searchable table).
2. Runs `--queries` representative `datastore.search` calls — filters on one to three columns,
   full-text `q`, sort, deep offsets, with and without `include_total` — and, in the same run, the
   same queries written by hand in SQL against that last table, the engine's own searchable table
   (a b-tree on every column, GIN / FTS5 over the text columns; the data query plus `COUNT(*)`
   when a total is asked for), and prints p50/p99 of both and their ratio. The datastore answers
   filters, words and sorting by columns with few values from its bitmap indexes
   (opendata/datastore/bitmaps.py), built during the load, and needs no b-tree on those columns.

Prints figures only; it asserts nothing about timings. Goals: p99 < 150 ms, p50 < 50 ms, at most
2x the engine, and the load within 2x the engine's own CSV import."""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import statistics
import subprocess
import time

from harness import percentile, temporary_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3,
                        help="loads through the ingestion, each next to a plain engine import (medians reported)")
    args = parser.parse_args()

    with temporary_django("datastore"):
        run(args)


# --- Load ---------------------------------------------------------------------------------------

PLAIN_COLUMNS = [("folio", "text"), ("fecha", "date"), ("hora", "text"), ("colonia", "text"), ("motivo", "text"),
                 ("articulo", "text"), ("tipo_vehiculo", "text"), ("monto_pesos", "bigint"), ("estatus", "text")]


TEXT_COLUMNS = [n for n, t in PLAIN_COLUMNS if t == "text"]


def engine_import(path: str, *, indexes: bool, full_text: bool = False, table: str | None = None) -> float:
    """The engine's own CSV import of the same file into a plain table; seconds. `indexes`: plus
    a b-tree per column; `full_text`: plus the engine's own full-text search over the text columns
    (PostgreSQL: a generated `to_tsvector('simple', …)` column computed during COPY and its GIN
    index; SQLite: an FTS5 table filled from the table), what a searchable datastore needs."""
    from django.db import connection, transaction

    table = table or ("bench_plain_fts" if full_text else "bench_plain_idx" if indexes else "bench_plain")
    pg = connection.vendor == "postgresql"
    cols = ", ".join(f'"{n}" {t if pg else t.upper().replace("BIGINT", "INTEGER")}' for n, t in PLAIN_COLUMNS)
    words = " || ' ' || ".join(f"coalesce(\"{n}\", '')" for n in TEXT_COLUMNS)
    if full_text and pg:
        # Spanish accents folded as the datastore folds them (SQLite's tokenizer removes them itself).
        folded = f"translate(lower({words}), 'áéíóúüñ', 'aeiouun')"
        cols += f", _full_text tsvector GENERATED ALWAYS AS (to_tsvector('simple', {folded})) STORED"
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f'CREATE TABLE "{table}" (_id {"bigserial" if pg else "INTEGER"} PRIMARY KEY, {cols})')
        names = ", ".join(f'"{n}"' for n, _t in PLAIN_COLUMNS)
        if pg:
            with open(path, "rb") as handle, cur.cursor.copy(
                    f'COPY "{table}" ({names}) FROM STDIN WITH (FORMAT csv, HEADER true)') as copy:
                for chunk in iter(lambda: handle.read(1024 * 1024), b""):
                    copy.write(chunk)
        else:
            marks = ", ".join("?" for _ in PLAIN_COLUMNS)
            sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'
            with open(path, encoding="utf-8", newline="") as handle:
                reader = csv.reader(handle)
                next(reader)
                batch = []
                for row in reader:
                    batch.append(row)
                    if len(batch) >= 5000:
                        cur.cursor.executemany(sql, batch)
                        batch = []
                if batch:
                    cur.cursor.executemany(sql, batch)
        if indexes or full_text:
            for n, (name, _t) in enumerate(PLAIN_COLUMNS):
                cur.execute(f'CREATE INDEX "{table}_i{n}" ON "{table}" ("{name}")')
        if full_text:
            if pg:
                cur.execute(f'CREATE INDEX "{table}_fts" ON "{table}" USING gin (_full_text)')
            else:
                cur.execute(f'CREATE VIRTUAL TABLE "{table}_fts" USING fts5(t, content=\'\', '
                            f"tokenize='unicode61 remove_diacritics 2', detail=none)")
                cur.execute(f'INSERT INTO "{table}_fts" (rowid, t) SELECT _id, {words} FROM "{table}"')
    return time.perf_counter() - t0


def cli_import(path: str, table: str) -> float | None:
    """SQLite's own CSV import, the sqlite3 shell's `.import` (C code from file to table), into a
    table of the same columns in the same database file; seconds, or None without the shell."""
    from django.db import connection

    shell = shutil.which("sqlite3")
    if connection.vendor != "sqlite" or shell is None:
        return None
    cols = ", ".join(f'"{n}" {t.upper().replace("BIGINT", "INTEGER")}' for n, t in PLAIN_COLUMNS)
    with connection.cursor() as cur:
        cur.execute(f'CREATE TABLE "{table}" ({cols})')  # autocommit: committed before the shell writes
    t0 = time.perf_counter()
    subprocess.run([shell, str(connection.settings_dict["NAME"]), f'.import --csv --skip 1 "{path}" {table}'],
                   check=True)
    return time.perf_counter() - t0


def write_csv(rows: int) -> str:
    """The demo's traffic fines as a CSV file; its path."""
    from ventanilla.opendata import demo

    source = demo.fines_csv(rows)
    path = os.path.join(os.environ["VENTANILLA_VAR_DIR"], "infracciones.csv")
    with open(path, "wb") as out:
        for chunk in iter(lambda: source.read(1024 * 1024), b""):
            out.write(chunk)
    source.close()
    return path


def load(path: str, n: int):
    """The CSV through the real ingestion, as the n-th resource; (resource, seconds)."""
    from ventanilla.opendata import services
    from ventanilla.organization.services import upsert_department

    department = upsert_department(slug="transito-vialidad", name="Dirección de Tránsito y Vialidad")
    dataset = services.create_dataset(by=None, data={"owner_org": department, "name": f"infracciones-bench-{n}",
                                                     "title": "Infracciones (benchmark)"})
    t0 = time.perf_counter()
    with open(path, "rb") as upload:
        resource = services.create_resource(dataset, by=None, data={"name": "Infracciones"}, upload=upload,
                                            filename="infracciones.csv")
    elapsed = time.perf_counter() - t0
    resource.refresh_from_db()
    return resource, elapsed


def drop(table: str) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(f'DROP TABLE IF EXISTS "{table}"')


# --- Queries ------------------------------------------------------------------------------------

def make_queries(n: int, rows: int, rng: random.Random) -> list[tuple[str, dict]]:
    from ventanilla.opendata import demo

    colonias = [c for c, _s in demo.COLONIAS]
    reasons = [r for r, _a, _m in demo.FINE_REASONS]
    words = ["semaforo", "velocidad", "motocicleta", "telefono", "cinturon", "placas", "ebriedad", "centro",
             "camioneta", "discapacidad"]
    kinds = ["filter1", "filter2", "filter3", "q", "q_filter", "sort", "deep_offset", "no_total"]
    queries = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        colonia, reason = rng.choice(colonias), rng.choice(reasons)
        status, vehicle = rng.choice(["Pagada", "Pendiente"]), rng.choice(demo.VEHICLES)
        if kind == "filter1":
            params = {"filters": {"colonia": colonia}}
        elif kind == "filter2":
            params = {"filters": {"colonia": colonia, "motivo": reason}}
        elif kind == "filter3":
            params = {"filters": {"colonia": colonia, "motivo": reason, "estatus": status}}
        elif kind == "q":
            params = {"q": rng.choice(words)}
        elif kind == "q_filter":
            params = {"q": rng.choice(words), "filters": {"tipo_vehiculo": vehicle}}
        elif kind == "sort":
            params = {"sort": rng.choice(["monto_pesos desc", "fecha desc", "fecha asc", "colonia asc"]),
                      "filters": {"estatus": status} if rng.random() < 0.5 else {}}
        elif kind == "deep_offset":
            params = {"offset": rng.randrange(max(1, rows - 100))}
        else:
            params = {"filters": {"colonia": colonia, "estatus": status}, "include_total": False,
                      "offset": rng.randrange(0, 2000)}
        params.setdefault("limit", 100)
        queries.append((kind, params))
    return queries


def raw_sql(table: str, params: dict) -> list[tuple[str, list]]:
    """The same query written by hand for the engine: the page, and COUNT(*) when a total is asked."""
    from django.db import connection

    pg = connection.vendor == "postgresql"
    mark = "%s"
    where, args = [], []
    for column, value in params.get("filters", {}).items():
        where.append(f'"{column}" = {mark}')
        args.append(value)
    if params.get("q"):
        # The same prefix match as the datastore's `q` ("semaforo" also finds "semaforos"), with
        # the engine's own full-text index over the text columns.
        w = params["q"]
        if pg:
            where.append(f"_full_text @@ to_tsquery('simple', {mark})")
            args.append(f"{w}:*")
        else:
            where.append(f'_id IN (SELECT rowid FROM "{table}_fts" WHERE "{table}_fts" MATCH {mark})')
            args.append(f'"{w}"*')
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    order = "_id"
    if params.get("sort"):
        column, direction = params["sort"].split()
        order = f'"{column}" {direction.upper()}, _id'
    page = (f'SELECT * FROM "{table}"{clause} ORDER BY {order} LIMIT {int(params["limit"])} '
            f'OFFSET {int(params.get("offset", 0))}')
    statements = [(page, list(args))]
    if params.get("include_total", True):
        statements.append((f'SELECT COUNT(*) FROM "{table}"{clause}', list(args)))
    return statements


def run(args) -> None:
    from django.core.management import call_command
    from django.db import connection

    from ventanilla.opendata import datastore

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_s = time.perf_counter() - t0

    path = write_csv(args.rows)
    size_mb = os.path.getsize(path) / 1e6
    # Loads and plain imports alternate, so a change in the machine's speed during the run weighs
    # on both; the figures are the medians of the rounds.
    loads, imports, shell_imports, resource = [], [], [], None
    for n in range(max(1, args.rounds)):
        imports.append(engine_import(path, indexes=False, table=f"bench_plain_{n}"))
        drop(f"bench_plain_{n}")
        shell = cli_import(path, f"bench_shell_{n}")
        if shell is not None:
            shell_imports.append(shell)
            drop(f"bench_shell_{n}")
        resource, seconds = load(path, n)
        loads.append(seconds)
        print(f"Round {n + 1}: ingestion {seconds:.1f} s, engine import {imports[-1]:.1f} s "
              f"(ratio {seconds / imports[-1]:.2f}x)"
              + (f", sqlite3 shell .import {shell:.1f} s (ratio {seconds / shell:.2f}x)" if shell else ""), flush=True)
    version = resource.current_version
    load_s, import_s = statistics.median(loads), statistics.median(imports)
    ratio = statistics.median(a / b for a, b in zip(loads, imports))
    import_idx_s = engine_import(path, indexes=True)
    import_fts_s = engine_import(path, indexes=True, full_text=True)

    rng = random.Random(args.seed)
    queries = make_queries(args.queries, version.row_count, rng)
    table = "bench_plain_fts"  # the engine's own table: a b-tree on every column and its full-text index
    # Warm both paths once.
    datastore.search(resource, {"limit": 1})
    with connection.cursor() as cur:
        cur.execute(f'SELECT * FROM "{table}" LIMIT 1')
        cur.fetchall()
        if connection.vendor == "postgresql":
            cur.execute(f'ANALYZE "{table}"')
        else:
            cur.execute("PRAGMA analysis_limit=0")
            cur.execute(f'ANALYZE "{table}"')

    api_ms, raw_ms, by_kind = [], [], {}
    for kind, params in queries:
        t = time.perf_counter()
        result = datastore.search(resource, dict(params))
        a = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        with connection.cursor() as cur:
            raw_rows = None
            for sql, sql_args in raw_sql(table, params):
                cur.execute(sql, sql_args)
                fetched = cur.fetchall()
                raw_rows = fetched if raw_rows is None else raw_rows
        r = (time.perf_counter() - t) * 1000
        if len(result["records"]) != len(raw_rows):
            print(f"  ! {kind} {params}: datastore {len(result['records'])} rows, SQL {len(raw_rows)} rows")
        api_ms.append(a)
        raw_ms.append(r)
        by_kind.setdefault(kind, ([], []))
        by_kind[kind][0].append(a)
        by_kind[kind][1].append(r)

    print(f"Database: {connection.vendor}; rows: {version.row_count:,}; CSV {size_mb:.0f} MB; "
          f"queries: {len(queries)}; migrate {migrate_s:.1f} s")
    print(f"Load through ingestion (median of {len(loads)}): {load_s:8.1f} s   engine import: {import_s:6.1f} s "
          f"(ratio {ratio:.2f}x, median of the rounds' ratios)   engine import + indexes: {import_idx_s:6.1f} s "
          f"(ratio {load_s / import_idx_s:.1f}x)   engine import + indexes + full text: {import_fts_s:6.1f} s "
          f"(ratio {load_s / import_fts_s:.1f}x)")
    if shell_imports:
        shell_s = statistics.median(shell_imports)
        shell_ratio = statistics.median(a / b for a, b in zip(loads, shell_imports))
        print(f"SQLite's own CSV import, the sqlite3 shell's .import (median): {shell_s:6.1f} s "
              f"(ratio {shell_ratio:.2f}x, median of the rounds' ratios)")
    p50a, p99a, p50r, p99r = (percentile(api_ms, 50), percentile(api_ms, 99), percentile(raw_ms, 50),
                              percentile(raw_ms, 99))
    print(f"datastore_search  p50 {p50a:7.2f} ms   p99 {p99a:7.2f} ms   max {max(api_ms):7.2f} ms")
    print(f"engine SQL        p50 {p50r:7.2f} ms   p99 {p99r:7.2f} ms   max {max(raw_ms):7.2f} ms")
    print(f"ratio             p50 {p50a / p50r:5.2f}x     p99 {p99a / p99r:5.2f}x")
    for kind, (a, r) in sorted(by_kind.items()):
        print(f"  {kind:<12} n={len(a):3d}  search p50 {percentile(a, 50):7.2f} p99 {percentile(a, 99):7.2f} ms   "
              f"SQL p50 {percentile(r, 50):7.2f} p99 {percentile(r, 99):7.2f} ms")


if __name__ == "__main__":
    main()
