"""datastore_search (every parameter), datastore_search_sql against hostile queries, downloads."""

from __future__ import annotations

import csv
import io
import json
from unittest import mock

import pytest
from django.db import connection

from ventanilla.opendata import datastore, services
from ventanilla.opendata.datastore import sql as ds_sql
from ventanilla.opendata.models import Resource

from .test_ingest import dataset, media, upload  # noqa: F401  (fixtures)

ROWS = [
    # nombre, tipo, colonia, potencia_w, instalada, encendida
    ("Luminaria 1", "LED", "Centro", "100", "2023-01-10", "sí"),
    ("Luminaria 2", "Sodio", "Centro", "250", "2022-06-01", "no"),
    ("Luminaria 3", "LED", "Torreón Jardín", "100", "2024-02-29", "sí"),
    ("Luminaria 4", "LED", "Camión Rojo", "", "2021-12-31", "sí"),
    ("Luminaria 5", "Aditivo metálico", "Los Ángeles", "400", "", "no"),
    ("Luminaria 6", "LED", "Nueva Laguna", "150", "2024-05-05", "sí"),
]


@pytest.fixture
def resource(upload):  # noqa: F811
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["Nombre", "Tipo", "Colonia", "Potencia (W)", "Instalada", "Encendida"])
    writer.writerows(ROWS)
    return upload(buf.getvalue().encode(), "luminarias.csv")


def ids(result):
    return [r["_id"] for r in result["records"]]


def test_default_search_shape(resource):
    result = datastore.search(resource, {})
    assert result["resource_id"] == str(resource.pk)
    assert [f["id"] for f in result["fields"]] == ["_id", "nombre", "tipo", "colonia", "potencia_w", "instalada",
                                                  "encendida"]
    assert result["fields"][4] == {"id": "potencia_w", "type": "int",
                                   "info": {"label": "Potencia (W)", "notes": "", "unit": ""}}
    assert result["total"] == 6 and result["total_was_estimated"] is False
    assert result["limit"] == 100 and result["offset"] == 0
    assert result["records"][0] == {"_id": 1, "nombre": "Luminaria 1", "tipo": "LED", "colonia": "Centro",
                                    "potencia_w": 100, "instalada": "2023-01-10", "encendida": True}
    assert result["_links"]["start"].startswith("/api/3/action/datastore_search?resource_id=")
    assert "offset=100" in result["_links"]["next"]


def test_filters_value_list_and_types(resource):
    assert ids(datastore.search(resource, {"filters": {"tipo": "LED"}})) == [1, 3, 4, 6]
    assert ids(datastore.search(resource, {"filters": {"tipo": ["Sodio", "Aditivo metálico"]}})) == [2, 5]
    assert ids(datastore.search(resource, {"filters": {"tipo": "LED", "potencia_w": "100"}})) == [1, 3]
    assert ids(datastore.search(resource, {"filters": json.dumps({"encendida": False})})) == [2, 5]
    assert ids(datastore.search(resource, {"filters": {"instalada": "2024-02-29"}})) == [3]
    assert ids(datastore.search(resource, {"filters": {"potencia_w": [None, 400]}})) == [4, 5]
    result = datastore.search(resource, {"filters": {"tipo": "LED"}})
    assert result["total"] == 4 and result["filters"] == {"tipo": "LED"}


def test_q_is_accent_and_case_insensitive(resource):
    assert ids(datastore.search(resource, {"q": "camion"})) == [4]
    assert ids(datastore.search(resource, {"q": "ÁNGELES"})) == [5]
    assert ids(datastore.search(resource, {"q": "torreon jard"})) == [3]  # words are prefixes
    assert ids(datastore.search(resource, {"q": "led centro"})) == [1]
    assert ids(datastore.search(resource, {"q": "¿¡"})) == [1, 2, 3, 4, 5, 6]
    assert datastore.search(resource, {"q": "laguna"})["total"] == 1


def test_q_per_field(resource):
    assert ids(datastore.search(resource, {"q": {"colonia": "jardin"}})) == [3]
    assert ids(datastore.search(resource, {"q": json.dumps({"colonia": "centro"})})) == [1, 2]
    assert ids(datastore.search(resource, {"q": {"nombre": "centro"}})) == []
    with pytest.raises(services.OpendataError) as err:
        datastore.search(resource, {"q": {"potencia_w": "100"}})
    assert "texto" in err.value.message


def test_fields_sort_limit_offset(resource):
    result = datastore.search(resource, {"fields": "nombre,potencia_w", "sort": "potencia_w desc, nombre"})
    assert [f["id"] for f in result["fields"]] == ["nombre", "potencia_w"]
    assert [r["potencia_w"] for r in result["records"]] == [400, 250, 150, 100, 100, None]
    assert result["sort"] == "potencia_w desc, nombre asc, _id asc"
    every = [f["id"] for f in datastore.search(resource, {})["fields"]]
    for nothing_named in (" ,", ",", [" "], []):  # found by schemathesis: was "SELECT  FROM" (a 500)
        assert [f["id"] for f in datastore.search(resource, {"fields": nothing_named})["fields"]] == every
    asc = datastore.search(resource, {"fields": ["_id"], "sort": "potencia_w"})
    assert ids(asc) == [4, 1, 3, 6, 2, 5]  # empty values first in ascending order, on both engines
    page = datastore.search(resource, {"limit": 2, "offset": 2})
    assert ids(page) == [3, 4] and page["total"] == 6
    assert ids(datastore.search(resource, {"limit": 2, "offset": 5})) == [6]
    assert ids(datastore.search(resource, {"offset": 10})) == []
    assert ids(datastore.search(resource, {"limit": 0})) == []
    assert ids(datastore.search(resource, {"limit": 2, "offset": 1, "filters": {"tipo": "LED"}})) == [3, 4]
    assert ids(datastore.search(resource, {"limit": 2, "offset": 1, "sort": "_id desc"})) == [5, 4]


def test_distinct_and_include_total(resource):
    result = datastore.search(resource, {"fields": "tipo", "distinct": True, "sort": "tipo"})
    assert result["records"] == [{"tipo": "Aditivo metálico"}, {"tipo": "LED"}, {"tipo": "Sodio"}]
    assert result["total"] == 3
    assert "total" not in datastore.search(resource, {"include_total": "false"})


def test_records_formats(resource):
    lists = datastore.search(resource, {"records_format": "lists", "fields": "nombre,encendida", "limit": 2})
    assert lists["records"] == [["Luminaria 1", True], ["Luminaria 2", False]]
    csv_text = datastore.search(resource, {"records_format": "csv", "fields": "nombre,colonia", "limit": 3,
                                           "offset": 2})["records"]
    assert csv_text == "Luminaria 3,Torreón Jardín\nLuminaria 4,Camión Rojo\nLuminaria 5,Los Ángeles\n"
    tsv = datastore.search(resource, {"records_format": "tsv", "fields": "nombre,potencia_w", "limit": 1,
                                      "offset": 3})["records"]
    assert tsv == "Luminaria 4\t\n"


def test_cached_total_without_filters_costs_no_count(resource, django_assert_num_queries):
    resource = Resource.objects.select_related("current_version").get(pk=resource.pk)
    with django_assert_num_queries(2):  # the data dictionary and the page; no COUNT(*)
        assert datastore.search(resource, {"limit": 1})["total"] == 6


@pytest.mark.parametrize("params,field", [
    ({"filters": {"no_existe": "x"}}, "filters"),
    ({"filters": {"potencia_w": "mucha"}}, "filters"),
    ({"filters": {"instalada": "31 de marzo"}}, "filters"),
    ({"filters": "[1]"}, "filters"),
    ({"filters": "{no es json"}, "filters"),
    ({"filters": {"tipo": []}}, "filters"),
    ({"filters": {"tipo": {"$gt": 1}}}, "filters"),
    ({"q": 5}, "q"),
    ({"q": {"no_existe": "x"}}, "q"),
    ({"fields": "nombre,secreto"}, "fields"),
    ({"fields": 7}, "fields"),
    ({"sort": "potencia_w; DROP TABLE x"}, "sort"),
    ({"sort": "nombre sideways"}, "sort"),
    ({"sort": "(SELECT 1)"}, "sort"),
    ({"limit": "-1"}, "limit"),
    ({"limit": "muchos"}, "limit"),
    ({"limit": 32001}, "limit"),
    ({"offset": "-5"}, "offset"),
    ({"distinct": "quizá"}, "distinct"),
    ({"include_total": "2"}, "include_total"),
    ({"records_format": "xml"}, "records_format"),
    ({"inventado": 1}, "inventado"),
    ({"filters": "[" * 100_000}, "filters"),  # nested too deep for Python's JSON decoder
    ({"q": "{" * 100_000}, "q"),
])
def test_bad_params_raise_opendata_error_naming_the_field(resource, params, field):
    with pytest.raises(services.OpendataError) as err:
        datastore.search(resource, params)
    assert err.value.status == 400 and err.value.field == field and err.value.message


def test_table_fields(resource):
    assert [f.name for f in datastore.table_fields(resource)][:2] == ["nombre", "tipo"]


# --- Downloads ------------------------------------------------------------------------------------

def _body(stream) -> bytes:
    return b"".join(stream)


def test_dump_csv_with_bom(resource):
    stream, content_type, filename = datastore.dump(resource, "csv", {"filters": {"tipo": "LED"},
                                                                      "fields": "nombre,colonia"})
    body = _body(stream)
    assert content_type.startswith("text/csv") and filename == "luminariascsv.csv" or filename.endswith(".csv")
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows == [["nombre", "colonia"], ["Luminaria 1", "Centro"], ["Luminaria 3", "Torreón Jardín"],
                    ["Luminaria 4", "Camión Rojo"], ["Luminaria 6", "Nueva Laguna"]]


def test_dump_json_streams_every_row_in_batches(resource, monkeypatch):
    from ventanilla.opendata.datastore import downloads as dump_module

    real = datastore.iter_rows
    monkeypatch.setattr(dump_module, "iter_rows", lambda q, limit=None: real(q, batch=2, limit=limit))
    stream, content_type, _name = datastore.dump(resource, "json", {"sort": "potencia_w desc"})
    data = json.loads(_body(stream))
    assert content_type == "application/json"
    assert [r["potencia_w"] for r in data] == [400, 250, 150, 100, 100, None]
    stream, _ct, _n = datastore.dump(resource, "json", {"limit": 3})
    assert [r["_id"] for r in json.loads(_body(stream))] == [1, 2, 3]


def test_dump_xlsx(resource):
    from openpyxl import load_workbook

    resource_rows = datastore.search(resource, {})["records"]
    stream, content_type, filename = datastore.dump(resource, "xlsx", {})
    wb = load_workbook(io.BytesIO(_body(stream)), read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert filename.endswith(".xlsx") and "spreadsheetml" in content_type
    assert rows[0][:3] == ("_id", "nombre", "tipo") and len(rows) == 7
    assert rows[3][3] == "Torreón Jardín" and rows[1][0] == 1 and rows[1][4] == 100
    assert len(resource_rows) == 6


def test_dump_bad_format(resource):
    with pytest.raises(services.OpendataError):
        datastore.dump(resource, "pdf", {})


def test_xlsx_dump_never_writes_formulas(upload):  # noqa: F811
    resource = upload(b'formula\n"=HYPERLINK(""http://x"",""y"")"\n', "f.csv")
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(_body(datastore.dump(resource, "xlsx", {})[0])))
    cell = wb.worksheets[0]["B2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


# --- datastore_search_sql -----------------------------------------------------------------------

def test_sql_select_aggregates_over_a_public_resource(resource):
    result = datastore.search_sql(
        f'SELECT tipo, COUNT(*) AS n, MAX(potencia_w) AS maxima FROM "{resource.pk}" '
        f"GROUP BY tipo ORDER BY n DESC, tipo")
    assert result["records"] == [{"tipo": "LED", "n": 4, "maxima": 150}, {"tipo": "Aditivo metálico", "n": 1,
                                 "maxima": 400}, {"tipo": "Sodio", "n": 1, "maxima": 250}]
    assert result["records_truncated"] is False
    assert [f["id"] for f in result["fields"]] == ["tipo", "n", "maxima"]


def test_sql_conditions_with_and_or_and_not(resource):
    """AND and OR are operators, whatever sqlglot's tree calls them."""
    result = datastore.search_sql(
        f'SELECT _id FROM "{resource.pk}" WHERE (tipo = \'LED\' AND potencia_w > 50) OR NOT (_id < 6) ORDER BY _id')
    rows = datastore.search(resource, {"limit": 100})["records"]
    expected = [r["_id"] for r in rows if (r["tipo"] == "LED" and (r["potencia_w"] or 0) > 50) or not r["_id"] < 6]
    assert [r["_id"] for r in result["records"]] == expected and 0 < len(expected) < len(rows)


def test_sql_finds_free_text_words_as_the_docs_say(upload):  # noqa: F811
    """docs/opendata.md: free-text words are found with strpos (instr on SQLite) over `_full_text`."""
    from ventanilla.opendata.datastore import bitmaps

    with mock.patch.object(bitmaps, "MAX_VALUES", 2):  # the folios are free text
        resource = upload(b"Folio,Tipo\nINF-0001,A\nINF-0002,B\nOTR-0003,A\n", "folios.csv")
    find = "strpos" if connection.vendor == "postgresql" else "instr"
    result = datastore.search_sql(
        f"SELECT folio FROM \"{resource.pk}\" WHERE {find}(' ' || _full_text, ' _inf') > 0 AND tipo = 'A'")
    assert result["records"] == [{"folio": "INF-0001"}]


def test_sql_join_alias_cte_and_row_cap(resource, monkeypatch):
    sql = (f'WITH led AS (SELECT * FROM "{resource.pk}" WHERE tipo = \'LED\') '
           f'SELECT a.nombre FROM led a JOIN "{resource.pk}" b ON a._id = b._id ORDER BY a._id')
    assert [r["nombre"] for r in datastore.search_sql(sql)["records"]] == [
        "Luminaria 1", "Luminaria 3", "Luminaria 4", "Luminaria 6"]
    monkeypatch.setattr(ds_sql, "ROW_CAP", 2)
    capped = datastore.search_sql(f'SELECT _id FROM "{resource.pk}" ORDER BY _id')
    assert [r["_id"] for r in capped["records"]] == [1, 2] and capped["records_truncated"] is True
    union = datastore.search_sql(f'SELECT _id FROM "{resource.pk}" UNION ALL SELECT _id FROM "{resource.pk}"')
    assert len(union["records"]) == 2 and union["records_truncated"] is True


def _refused(sql: str, words: str = "") -> services.OpendataError:
    with pytest.raises(services.OpendataError) as err:
        datastore.search_sql(sql)
    assert err.value.status == 400 and err.value.field == "sql"
    assert words in err.value.message, err.value.message
    return err.value


@pytest.mark.parametrize("template", [
    'INSERT INTO "{id}" (nombre) VALUES (\'x\')',
    'UPDATE "{id}" SET nombre = \'x\'',
    'DELETE FROM "{id}"',
    'DROP TABLE "{id}"',
    "ATTACH DATABASE '/tmp/x.db' AS x",
    "PRAGMA table_info('identity_user')",
    'CREATE TABLE x AS SELECT * FROM "{id}"',
    'SELECT * INTO copia FROM "{id}"',
    'WITH d AS (DELETE FROM "{id}" RETURNING *) SELECT * FROM d',
    'SELECT * FROM "{id}" FOR UPDATE',
])
def test_sql_refuses_writes(resource, template):
    _refused(template.format(id=resource.pk))
    assert datastore.search(resource, {})["total"] == 6


@pytest.mark.parametrize("template", [
    'SELECT 1 FROM "{id}"; SELECT 2 FROM "{id}"',
    'SELECT * FROM "{id}"; DROP TABLE "{id}"',
    'SELECT * FROM "{id}" -- comentario\n; DELETE FROM "{id}"',
    'SELECT * FROM "{id}" /* ; */ ; UPDATE "{id}" SET nombre = \'x\'',
])
def test_sql_refuses_several_statements(resource, template):
    _refused(template.format(id=resource.pk))
    assert datastore.search(resource, {})["records"][0]["nombre"] == "Luminaria 1"


def test_sql_comments_cannot_hide_anything(resource):
    # The comment is dropped: the regenerated SQL is only what was parsed, and it runs fine.
    result = datastore.search_sql(f'SELECT /* DROP TABLE x; */ COUNT(*) AS n FROM "{resource.pk}" -- ; DELETE')
    assert result["records"] == [{"n": 6}]


@pytest.mark.parametrize("table", [
    "sqlite_master", "sqlite_schema", "pg_catalog.pg_tables", "pg_user", "information_schema.tables",
    "identity_user", "opendata_apitoken", "django_session", "main.sqlite_master",
])
def test_sql_refuses_system_and_platform_tables(resource, table):
    _refused(f"SELECT * FROM {table}", "no es un recurso público")
    _refused(f'SELECT * FROM "{resource.pk}" WHERE nombre IN (SELECT name FROM {table})', "no es un recurso público")


def test_sql_refuses_the_physical_table_name(resource):
    _refused(f"SELECT * FROM {resource.current_version.table_name}", "no es un recurso público")


def test_sql_refuses_a_private_resource(resource):
    services.update_dataset(resource.dataset, by=None, data={"private": True})
    _refused(f'SELECT * FROM "{resource.pk}"', "no es un recurso público")


def test_sql_refuses_an_unknown_resource(db):
    _refused('SELECT * FROM "9d4a5c3e-1111-4222-8333-444455556666"', "no es un recurso público")


@pytest.mark.parametrize("call", [
    "pg_sleep(10)", "pg_read_file('/etc/passwd')", "current_setting('is_superuser')", "load_extension('x')",
    "randomblob(1000000000)", "sqlite_version()", "version()", "lo_import('/etc/passwd')", "zeroblob(100)",
    "set_config('statement_timeout', '0', false)", "repeat('x', 1000000000)", "printf('%s', 1)",
])
def test_sql_refuses_functions_off_the_allow_list(resource, call):
    _refused(f'SELECT {call} FROM "{resource.pk}"', "no está permitida")


def test_sql_refuses_table_functions(resource):
    _refused("SELECT * FROM generate_series(1, 10)")
    _refused('SELECT * FROM json_each(\'[1,2]\')')


def test_sql_refuses_garbage_and_empty(db):
    _refused("")
    _refused("SELEC nada")
    _refused("SELECT 1")  # no resource at all


def test_sql_slow_recursive_cte_is_stopped(resource, monkeypatch):
    monkeypatch.setattr(ds_sql, "TIMEOUT_MS", 300)
    sql = (f'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) '
           f'SELECT COUNT(*) AS c FROM n, "{resource.pk}" WHERE n.i < 0')
    _refused(sql, "tardó más")
    assert datastore.search(resource, {})["total"] == 6  # the connection is usable afterwards


def test_sql_slow_cartesian_join_is_stopped(resource, monkeypatch):
    monkeypatch.setattr(ds_sql, "TIMEOUT_MS", 300)
    r = f'"{resource.pk}"'
    joins = ", ".join(f"{r} t{i}" for i in range(12))
    _refused(f"SELECT COUNT(*) AS c FROM {joins}", "tardó más")
    assert datastore.search(resource, {"limit": 1})["records"][0]["_id"] == 1


def test_sql_leaves_the_connection_writable(resource):
    datastore.search_sql(f'SELECT COUNT(*) AS n FROM "{resource.pk}"')
    services.update_dataset(resource.dataset, by=None, data={"title": "Luminarias (actualizado)"})
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("PRAGMA query_only")
            assert cur.fetchone()[0] == 0


@pytest.mark.parametrize("engine,template", [
    # A later CTE's name used inside an earlier one would reach the real table.
    ("any", 'WITH a AS (SELECT * FROM identity_user), identity_user AS (SELECT * FROM "{id}") SELECT * FROM a'),
    ("any", 'SELECT * FROM (WITH identity_user AS (SELECT _id FROM "{id}") SELECT * FROM identity_user) x, '
            'identity_user'),
    ("sqlite", 'WITH sqlite_master AS (SELECT * FROM "{id}") SELECT * FROM sqlite_master'),
    ("postgresql", 'WITH pg_user AS (SELECT * FROM "{id}") SELECT * FROM pg_user'),
])
def test_sql_cte_names_cannot_shadow_real_tables(resource, engine, template):
    if engine not in ("any", connection.vendor):
        pytest.skip(f"{engine} only: on the other engine no relation has that name, so the CTE is harmless")
    _refused(template.format(id=resource.pk))


def test_sql_cte_with_a_fresh_name_works(resource):
    result = datastore.search_sql(f'WITH mis_datos AS (SELECT * FROM "{resource.pk}") SELECT COUNT(*) AS n '
                                  f"FROM mis_datos")
    assert result["records"] == [{"n": 6}]


def test_sql_refuses_casts_to_catalog_types(resource):
    if connection.vendor != "postgresql":
        pytest.skip("regclass exists only on PostgreSQL")
    _refused(f"SELECT 'identity_user'::regclass FROM \"{resource.pk}\"", "tipo de dato")
