"""The datastore's bitmap indexes (datastore/bitmaps.py) give exactly the rows and totals of the
SQL path, on both engines, for filters and full-text words; tables loaded before bitmaps keep
working; the side table is unreachable from datastore_search_sql and goes with its table."""

from __future__ import annotations

import csv
import io
import random
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ventanilla.opendata import datastore
from ventanilla.opendata.datastore import Query, bitmaps, tables
from ventanilla.opendata.datastore import sql as ds_sql
from ventanilla.opendata.services import OpendataError

from .test_ingest import dataset, media, upload  # noqa: F401  (fixtures)

COLONIAS = ["Centro", "Torreón Jardín", "Camión Rojo", "Los Ángeles", "Nueva Laguna", "Centro Norte", ""]
MOTIVOS = ["Exceso de velocidad", "Pasarse el semáforo en rojo", "Uso del teléfono al conducir", "Sin placas",
           "Estacionarse en lugar para personas con discapacidad"]
VEHICULOS = ["Automóvil", "Camioneta", "Motocicleta", "Camión de carga"]
WORDS = ["centro", "cam", "camion", "camioneta", "semaforo", "velocidad", "rojo", "luga", "inf", "folio", "nota",
         "2024", "1", "motocicleta", "jardin", "xyz", "a", "los"]


def _csv(n: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["Folio", "Fecha", "Colonia", "Motivo", "Tipo de vehículo", "Monto", "Pagada", "Tarifa",
                     "Nota"])
    for i in range(1, n + 1):
        writer.writerow([
            f"INF-2024-{i:05d}",  # unique: free text, no bitmaps
            f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
            rng.choice(COLONIAS),
            rng.choice(MOTIVOS),
            rng.choice(VEHICULOS),
            rng.choice(["500", "1000", "1500", ""]),
            rng.choice(["sí", "no", ""]),
            rng.choice(["1.5", "2.25", "3"]),  # numeric: left to the engine
            # a long free-text column, with words that also appear in the bitmap columns
            (f"Nota larga número {i}: el conductor iba en camioneta por el centro y no se detuvo " * 3)
            if i % 10 == 0 else "",
        ])
    return buf.getvalue().encode()


@pytest.fixture
def fines(upload, monkeypatch):  # noqa: F811
    # 100 values at most for a bitmap: the 400 folios are free text, the 84 dates are not
    monkeypatch.setattr(bitmaps, "MAX_VALUES", 100)
    return upload(_csv(400), "infracciones.csv")


def _sql_only(resource, params):
    """The same search with the bitmaps out of the way: the SQL conditions alone decide (the
    engine scans and sorts the table: columns with bitmaps have no b-tree)."""
    original, original_page = Query.matching_ids, Query.page_by_ids
    Query.matching_ids = lambda self: None
    Query.page_by_ids = lambda self, limit=None, offset=None: None
    try:
        return datastore.search(resource, dict(params))
    finally:
        Query.matching_ids, Query.page_by_ids = original, original_page


def _both(resource, params):
    with_bitmaps = datastore.search(resource, dict(params))
    query = datastore.build_query(resource, dict(params))
    assert query.matching_ids() is not None, params  # the bitmaps did answer this query
    plain = _sql_only(resource, params)
    return with_bitmaps, plain


def test_low_cardinality_columns_get_bitmaps_and_the_others_do_not(fines):
    info = fines.current_version.bitmaps
    assert set(info["columns"]) == {"fecha", "colonia", "motivo", "tipo_de_vehiculo", "monto", "pagada"}
    assert info["free_text"] is True  # folio and nota: their words are marked
    table = fines.current_version.table_name
    assert tables.table_exists(tables.index_table(table))


@pytest.mark.parametrize("params", [
    {"filters": {"colonia": "Centro"}},
    {"filters": {"colonia": ["Centro", "Los Ángeles"], "tipo_de_vehiculo": "Camioneta"}},
    {"filters": {"colonia": None}},  # NULL (an empty cell)
    {"filters": {"colonia": ["Centro", None], "pagada": True}},
    {"filters": {"pagada": "false", "monto": 1000}},
    {"filters": {"monto": "1500", "fecha": "2024-03-03"}},
    {"filters": {"colonia": "No existe"}},
    {"q": "camioneta"},  # in a bitmap column and in the free-text notes
    {"q": "cam"},  # a prefix of several words
    {"q": "inf 2024"},  # only in the free-text folio
    {"q": "nota centro"},
    {"q": "Semáforo", "filters": {"tipo_de_vehiculo": "Motocicleta"}},
    {"q": "camioneta", "filters": {"tipo_de_vehiculo": "Automóvil"}},
    {"q": "xyz"},
    {"filters": {"colonia": "Centro"}, "offset": 20, "limit": 7},
    {"filters": {"motivo": MOTIVOS[0]}, "offset": 10_000},
    {"q": "centro", "fields": "folio,colonia", "limit": 3, "offset": 4},
    {"q": "rojo", "include_total": False},
])
def test_bitmaps_give_the_rows_and_totals_of_the_sql_path(fines, params):
    with_bitmaps, plain = _both(fines, params)
    assert with_bitmaps["records"] == plain["records"]
    assert with_bitmaps.get("total") == plain.get("total")


@pytest.mark.parametrize("sort", ["monto desc", "monto", "fecha asc", "fecha desc", "colonia", "colonia desc",
                                  "pagada desc", "pagada", "tipo_de_vehiculo desc"])
@pytest.mark.parametrize("extra", [{}, {"filters": {"colonia": ["Centro", None]}}, {"q": "camioneta"},
                                   {"offset": 395, "limit": 10}, {"offset": 133, "limit": 40, "q": "cam"},
                                   {"offset": 1000}])
def test_sorting_by_a_column_with_bitmaps_gives_the_engines_order(fines, sort, extra):
    """NULLs first ascending and last descending, numbers by value, text by code point, ties by
    `_id` in the same direction: the rows the engine's ORDER BY gives, at any offset."""
    params = {"sort": sort, "limit": 60, **extra}
    query = datastore.build_query(fines, dict(params))
    assert query.page_by_ids() is not None  # the bitmaps answered
    with_bitmaps = datastore.search(fines, dict(params))
    plain = _sql_only(fines, params)
    assert with_bitmaps["records"] == plain["records"]
    assert with_bitmaps["total"] == plain["total"]


def test_sorts_the_bitmaps_cannot_answer_take_the_sql_path(fines):
    for sort in ("folio desc", "tarifa", "colonia, monto desc", "monto desc, _id asc"):
        query = datastore.build_query(fines, {"sort": sort})
        assert query.page_by_ids() is None, sort
        assert len(datastore.search(fines, {"sort": sort, "limit": 5})["records"]) == 5


def test_a_download_sorted_by_a_column_with_bitmaps_has_every_row_once_in_order(fines):
    query = datastore.build_query(fines, {"sort": "fecha desc", "filters": {"pagada": True}})
    rows = list(datastore.iter_rows(query, batch=7))
    plain = _sql_only(fines, {"sort": "fecha desc", "filters": {"pagada": True}, "limit": 1000})["records"]
    assert [r[0] for r in rows] == [r["_id"] for r in plain] and len(rows) > 7


def test_sorted_pages_keep_sql_rows_and_take_the_total_from_bitmaps(fines):
    params = {"filters": {"colonia": "Centro"}, "q": "velocidad", "sort": "monto desc"}
    with_bitmaps = datastore.search(fines, dict(params))
    plain = _sql_only(fines, params)
    assert with_bitmaps["records"] == plain["records"] and with_bitmaps["total"] == plain["total"] > 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    colonias=st.lists(st.sampled_from(COLONIAS), max_size=2),
    vehiculo=st.one_of(st.none(), st.sampled_from(VEHICULOS)),
    words=st.lists(st.sampled_from(WORDS), max_size=2),
    offset=st.integers(min_value=0, max_value=450),
    limit=st.integers(min_value=1, max_value=60),
)
def test_any_mix_of_filters_and_words_matches_the_sql_path(fines, colonias, vehiculo, words, offset, limit):
    params: dict = {"offset": offset, "limit": limit}
    filters = {}
    if colonias:
        filters["colonia"] = [c or None for c in colonias]
    if vehiculo:
        filters["tipo_de_vehiculo"] = vehiculo
    if filters:
        params["filters"] = filters
    if words:
        params["q"] = " ".join(words)
    if not filters and not words:
        return
    with_bitmaps, plain = _both(fines, params)
    assert with_bitmaps["records"] == plain["records"]
    assert with_bitmaps["total"] == plain["total"]


def test_queries_the_bitmaps_cannot_answer_take_the_sql_path(fines):
    for params in ({"filters": {"folio": "INF-2024-00007"}}, {"filters": {"tarifa": 3}}, {"distinct": True,
                   "fields": "colonia", "filters": {"colonia": "Centro"}}, {"q": {"colonia": "centro"}}):
        query = datastore.build_query(fines, params)
        assert query.matching_ids() is None, params
    assert datastore.search(fines, {"filters": {"folio": "INF-2024-00007"}})["total"] == 1
    assert datastore.search(fines, {"q": {"nota": "camioneta"}})["total"] == 40


def test_a_column_with_too_many_values_gets_no_bitmaps(upload, monkeypatch):  # noqa: F811
    monkeypatch.setattr(bitmaps, "MAX_VALUES", 5)
    resource = upload(_csv(60), "pocas.csv")
    columns = set(resource.current_version.bitmaps["columns"])
    assert "colonia" not in columns and "fecha" not in columns  # 7 and 60 distinct values
    assert {"tipo_de_vehiculo", "pagada", "monto"} <= columns
    # "centro" is now a free-text word of the colonia column: still found
    with_bitmaps, plain = _both(resource, {"q": "centro", "filters": {"pagada": True}})
    assert with_bitmaps["records"] == plain["records"] and with_bitmaps["total"] == plain["total"] > 0


@pytest.mark.parametrize("word_index", ["bitmaps", "words", "prefixes"])
def test_free_words_sharing_their_first_letters_are_told_apart(upload, monkeypatch, word_index):  # noqa: F811
    """On PostgreSQL the bitmaps of the words' first letters (bitmaps.PREFIX_LENGTH) find
    candidates that are checked against the whole words (a word no longer than a prefix is
    found by them alone); a GIN over the whole words finds them directly; tables loaded before
    the prefix bitmaps have a GIN over the prefixes instead. Each way a search finds exactly the
    rows with a word beginning with it, as SQLite's FTS5 does."""
    monkeypatch.setattr(bitmaps, "MAX_VALUES", 2)  # the notes are free text
    if word_index == "words":
        monkeypatch.setattr(bitmaps, "MAX_PREFIX_CANDIDATES", -1)
    notes = ["Camioneta roja", "Camionero", "Camión", "Cambio de aceite", "Camionetas", "Otra camioneta",
             "Descamionetado", "0001234", "0001299"]
    body = "Nota,Estado\n" + "".join(f"{n},{'A' if i % 2 else 'B'}\n" for i, n in enumerate(notes))
    resource = upload(body.encode(), "notas.csv")
    assert not set(resource.current_version.bitmaps["columns"]) & {"nota"}
    if word_index == "prefixes":
        _with_a_gin_over_prefixes(resource)
    assert resource.current_version.bitmaps.get("word_index", "").split(":")[0] == (
        word_index if tables.is_postgres() else "")
    for q, rows in [("camioneta", [1, 5, 6]), ("camione", [1, 2, 5, 6]), ("camio", [1, 2, 3, 5, 6]),
                    ("cam", [1, 2, 3, 4, 5, 6]), ("camionetas", [5]), ("camionetax", []), ("0001234", [8]),
                    ("00012", [8, 9]), ("0001", [8, 9]), ("roja camioneta", [1]), ("descamion", [7])]:
        for params in ({"q": q}, {"q": q, "filters": {"estado": ["A", "B"]}}, {"q": q, "sort": "nota desc"}):
            for search in (datastore.search, _sql_only):
                got = search(resource, dict(params, limit=100))
                assert sorted(r["_id"] for r in got["records"]) == rows and got["total"] == len(rows), (params, search)


@pytest.mark.parametrize("folio,expected", [("INF2025{:06d}", "words"), ("INF-{:07d}", "bitmaps")])
def test_identifiers_that_begin_alike_get_a_gin_over_whole_words(upload, monkeypatch, folio, expected):  # noqa: F811
    """A GIN over the first letters would make a search for one of 400 folios "INF2025…" check
    all 400 rows (one prefix); the sample shows it and the GIN is built over the whole words. The
    folios "INF-…" have their number as a word of its own, whose prefixes part them well."""
    monkeypatch.setattr(bitmaps, "MAX_VALUES", 2)
    monkeypatch.setattr(bitmaps, "MAX_PREFIX_CANDIDATES", 150)
    body = "Folio,Estado\n" + "".join(f"{folio.format(i)},{'A' if i % 2 else 'B'}\n" for i in range(1, 401))
    resource = upload(body.encode(), "folios.csv")
    word_index = resource.current_version.bitmaps.get("word_index")
    assert (word_index or "").split(":")[0] == (expected if tables.is_postgres() else "")
    wanted = folio.format(123)
    result = datastore.search(resource, {"q": wanted})
    assert [r["folio"] for r in result["records"]] == [wanted] and result["total"] == 1
    assert _sql_only(resource, {"q": wanted, "sort": "folio desc"})["total"] == 1


def _with_a_gin_over_prefixes(resource) -> None:
    """PostgreSQL tables loaded before the prefix bitmaps had each row's words cut to their
    prefixes in a tsvector `_prefixes`, with a GIN over it ("prefixes:<length>")."""
    from django.db import connection

    from ventanilla.opendata.models import ResourceVersion

    if not tables.is_postgres():
        return
    version = resource.current_version
    table = tables.qn(version.table_name)
    cut = bitmaps.PREFIX_LENGTH + 1  # with the mark
    with connection.cursor() as cur:
        cur.execute(f"ALTER TABLE {table} ADD COLUMN _prefixes tsvector")
        cur.execute(f"UPDATE {table} SET _prefixes = array_to_tsvector(ARRAY(SELECT DISTINCT left(w, %s) FROM "
                    f"unnest(string_to_array(_full_text, ' ')) AS w WHERE w <> '_'))", [cut])
        cur.execute(f"CREATE INDEX ON {table} USING gin (_prefixes)")
        cur.execute(f"DELETE FROM {tables.qn(tables.index_table(version.table_name))} WHERE col = %s",
                    [bitmaps.PREFIXES])
    info = dict(version.bitmaps, word_index=f"prefixes:{bitmaps.PREFIX_LENGTH}")
    ResourceVersion.objects.filter(pk=version.pk).update(bitmaps=info)
    resource.refresh_from_db()


def _with_old_full_text(cur, table: str) -> None:
    """PostgreSQL tables of earlier layouts kept their words in a tsvector `_full_text`, with the
    GIN on it."""
    if tables.is_postgres():
        cur.execute(f'DROP INDEX IF EXISTS "{table.strip(chr(34))}_fts"')
        cur.execute(f"ALTER TABLE {table} ALTER COLUMN _full_text TYPE tsvector USING _full_text::tsvector")
        cur.execute(f"CREATE INDEX ON {table} USING gin (_full_text)")


def test_a_table_loaded_before_bitmaps_keeps_the_sql_path(fines, upload):  # noqa: F811
    """Such a table has unmarked words and no bitmaps (version.bitmaps is None): the SQL path
    with the unmarked full-text query gives what a table with bitmaps gives."""
    from django.db import connection

    from ventanilla.opendata.ingest.types import normalise_words
    from ventanilla.opendata.models import ResourceVersion

    old = upload(_csv(400), "antes.csv")
    # Such a table's `_full_text` held the unmarked words of every text column.
    table = tables.qn(old.current_version.table_name)
    with connection.cursor() as cur:
        _with_old_full_text(cur, table)
        cur.execute(f"SELECT _id, folio, colonia, motivo, tipo_de_vehiculo, nota FROM {table}")
        rows = cur.fetchall()
        cast = "%s::tsvector" if tables.is_postgres() else "%s"
        cur.executemany(f"UPDATE {table} SET _full_text = {cast} WHERE _id = %s",
                        [(normalise_words(" ".join(v for v in values if v)), _id) for _id, *values in rows])
        if not tables.is_postgres():
            fts = tables.qn(tables.fts_table(old.current_version.table_name))
            cur.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
    ResourceVersion.objects.filter(pk=old.current_version_id).update(bitmaps=None)
    old.refresh_from_db()
    assert datastore.build_query(old, {"q": "inf"}).matching_ids() is None
    for params in ({"q": "camioneta"}, {"q": "inf 2024"}, {"q": "cam", "filters": {"colonia": "Centro"}},
                   {"filters": {"pagada": True, "monto": 500}}):
        expected = datastore.search(fines, dict(params))
        got = datastore.search(old, dict(params))
        assert got["total"] == expected["total"] and got["records"] == expected["records"], params


def test_a_table_loaded_with_every_word_in_its_full_text_keeps_working(fines, upload):  # noqa: F811
    """Tables loaded before `words: free` kept the words of the columns with bitmaps in
    `_full_text` too (unmarked) and had b-trees on every column: queries still find the same rows."""
    from django.db import connection

    from ventanilla.opendata.ingest.types import normalise_words
    from ventanilla.opendata.models import ResourceVersion

    old = upload(_csv(400), "antes.csv")
    version = old.current_version
    table = tables.qn(version.table_name)
    with connection.cursor() as cur:
        _with_old_full_text(cur, table)
        cur.execute(f"SELECT _id, colonia, motivo, tipo_de_vehiculo, folio, nota FROM {table}")
        rows = cur.fetchall()
        cast = "%s::tsvector" if tables.is_postgres() else "%s"
        cur.executemany(f"UPDATE {table} SET _full_text = {cast} WHERE _id = %s", [
            (" ".join([normalise_words(" ".join(v for v in low if v)),
                       *bitmaps.free_text_batch([" ".join(v for v in free if v)])]).strip(), _id)
            for _id, *values in rows for low, free in [(values[:3], values[3:])]])
        if not tables.is_postgres():
            fts = tables.qn(tables.fts_table(version.table_name))
            cur.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
    info = {k: v for k, v in version.bitmaps.items() if k not in ("words", "word_index")}
    ResourceVersion.objects.filter(pk=version.pk).update(bitmaps=info)
    old.refresh_from_db()
    for params in ({"q": "camioneta"}, {"q": "inf 2024"}, {"q": "cam", "filters": {"colonia": "Centro"}},
                   {"q": "centro", "sort": "folio desc"}, {"q": {"colonia": "centro"}}, {"q": {"nota": "camioneta"}},
                   {"q": "rojo", "distinct": True, "fields": "colonia"}):
        for search in (datastore.search, _sql_only):
            expected = search(fines, dict(params))
            got = search(old, dict(params))
            assert got["total"] == expected["total"] and got["records"] == expected["records"], params


def test_columns_with_bitmaps_get_no_b_tree_and_full_text_holds_only_free_words(fines):
    from django.db import connection

    table = fines.current_version.table_name
    assert fines.current_version.bitmaps["words"] == bitmaps.LAYOUT_FREE
    indexed = connection.introspection.get_constraints(connection.cursor(), table)
    columns = {c for info in indexed.values() if info["index"] and not info["primary_key"] for c in info["columns"]}
    assert columns - {"_id"} <= {"folio", "tarifa", "nota", "_full_text"} and "colonia" not in columns
    with connection.cursor() as cur:
        cur.execute(f"SELECT _full_text FROM {tables.qn(table)} WHERE _id = 10")
        words = str(cur.fetchone()[0]).replace("'", "").split()
    assert words and all(w.startswith("_") for w in words)  # folio and nota, marked; no colonia words


def test_the_sql_path_finds_words_of_columns_with_bitmaps_through_their_values(fines):
    import json

    query = datastore.build_query(fines, {"q": "camion"})
    sql, args = query.sql(10, 0)
    # the values, bound as one parameter (a text[] on PostgreSQL, a JSON array on SQLite)
    lists = [a if isinstance(a, list) else json.loads(a) for a in args if isinstance(a, list)
             or (isinstance(a, str) and a.startswith("["))]
    assert {"Camión Rojo", "Camión de carga"} <= {v for values in lists for v in values}
    sql, args = datastore.build_query(fines, {"q": "zzzz"}).sql(10, 0)
    assert args[:-2] == bitmaps.free_word_condition(  # no value has the word: only the free words' condition
        fines.current_version.table_name, "zzzz", word_index=fines.current_version.bitmaps.get("word_index"))[1]
    assert "1 = 0" in datastore.build_query(fines, {"q": {"colonia": "zzzz"}}).sql(10, 0)[0]
    assert _sql_only(fines, {"q": "zzzz"})["total"] == 0
    assert _sql_only(fines, {"q": {"colonia": "camion"}})["total"] == datastore.search(
        fines, {"filters": {"colonia": "Camión Rojo"}})["total"] > 0


def test_sorting_follows_the_type_a_column_was_loaded_with(fines):
    """Publishers may edit a column's type in the data dictionary; the table and its bitmaps keep
    the loaded ones, so sorting by bitmaps uses those and still gives the engine's order."""
    from ventanilla.opendata.models import DataField

    DataField.objects.filter(version=fines.current_version, name="monto").update(type="text")
    DataField.objects.filter(version=fines.current_version, name="colonia").update(type="int")
    for sort in ("monto desc", "colonia"):
        params = {"sort": sort, "limit": 10, "offset": 40}
        assert datastore.search(fines, dict(params))["records"] == _sql_only(fines, params)["records"], sort


def test_a_word_found_in_thousands_of_values_stays_one_parameter(upload, monkeypatch):  # noqa: F811
    """The SQL path binds the values that have a word as one parameter: thousands of them, for
    each of 20 words, are more than either engine takes as separate parameters."""
    rows = "".join(f"Calle {n:04d} norte sur este oeste,{n % 3}\n" for n in range(5000))
    resource = upload(("calle,zona\n" + rows).encode(), "calles.csv")
    assert "calle" in resource.current_version.bitmaps["columns"]
    words = "calle norte sur este oeste " * 4
    for params in ({"q": {"calle": words}}, {"q": words, "distinct": True, "fields": "zona"},
                   {"q": words, "sort": "zona desc, calle"}):
        result = datastore.search(resource, dict(params))
        assert result["total"] == (3 if "distinct" in params else 5000), params


def test_an_empty_text_filter_finds_the_empty_cells_on_both_paths(fines):
    expected = datastore.search(fines, {"filters": {"colonia": None}})["total"]
    assert expected > 0
    assert datastore.search(fines, {"filters": {"colonia": ""}})["total"] == expected
    assert _sql_only(fines, {"filters": {"colonia": ""}})["total"] == expected


def test_values_stored_alike_share_one_bitmap(upload):  # noqa: F811
    """ "1234" passes through as text and "1,234" is parsed to 1234; "2024-03-01" and "01/03/2024"
    likewise: one stored value, one bitmap (two would break the side table's key)."""
    content = "monto,fecha\n1234,2024-03-01\n\"1,234\",01/03/2024\n5,2024-03-02\n"
    resource = upload(content.encode(), "montos.csv")
    assert {"monto", "fecha"} <= set(resource.current_version.bitmaps["columns"])
    assert datastore.search(resource, {"filters": {"monto": 1234}})["total"] == 2
    assert datastore.search(resource, {"filters": {"fecha": "2024-03-01"}})["total"] == 2
    assert [r["_id"] for r in datastore.search(resource, {"sort": "monto desc"})["records"]] == [2, 1, 3]


def test_the_side_table_is_unreachable_from_sql_and_dropped_with_its_table(fines):
    table = fines.current_version.table_name
    for sql in (f'SELECT * FROM "{tables.index_table(table)}"', f"SELECT * FROM {tables.index_table(table)}"):
        with pytest.raises(OpendataError):
            ds_sql.run_sql(sql)
    tables.drop_table(table)
    assert not tables.table_exists(tables.index_table(table))


def test_keys_are_the_same_for_what_each_engine_stores():
    import datetime as dt

    assert bitmaps.key(True) == bitmaps.key(1) == "1" and bitmaps.key(False) == bitmaps.key(0) == "0"
    assert bitmaps.key(dt.date(2024, 3, 1)) == "2024-03-01"  # SQLite stores the ISO text
    assert bitmaps.key(None) == "" and bitmaps.key("Centro") == "Centro" and bitmaps.key(1500) == "1500"


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=20), max_size=8))
def test_free_words_of_a_batch_are_each_value_s_folded_words_with_the_mark(values):
    from ventanilla.opendata.ingest.types import normalise_words

    got = bitmaps.free_text_batch(values)
    assert len(got) == len(values)
    for value, words in zip(values, got):
        marked = words.split()
        assert [w for w in marked if w != "_"] == [f"_{w}" for w in normalise_words(value).split()]
        assert all(w == "_" or w[1:].isalnum() for w in marked)  # lone marks (runs of spaces) match nothing




@settings(max_examples=150, deadline=None)
@given(values=st.lists(st.sampled_from(["a", "b", "Centro", "", "1", "01"]), min_size=1, max_size=700),
       cut=st.integers(min_value=1, max_value=700), flush=st.sampled_from([1, 7, 1 << 22]))
def test_bitmaps_built_from_batches_hold_each_value_s_rows(values, cut, flush):
    """However the rows come in batches, and however often the codes are folded, each value's
    bitmap holds exactly the ids of its rows."""
    builder = bitmaps.Builder(2)
    with mock.patch.object(bitmaps, "FLUSH_CELLS", flush):
        for start in range(0, len(values), cut):
            chunk = values[start:start + cut]
            builder.add(range(start + 1, start + 1 + len(chunk)), [chunk, [f"x{start + k}" for k in range(len(chunk))]])
    builder._flush()
    expected: dict = {}
    for n, v in enumerate(values):
        expected.setdefault(v, []).append(n + 1)
    assert {v: list(builder.bitmaps[0][code]) for v, code in builder.codes[0].items()} == expected
    assert builder.max_len == [max(map(len, values)), len(f"x{len(values) - 1}")]


def test_the_builder_drops_a_column_with_too_many_or_too_long_values(monkeypatch):
    monkeypatch.setattr(bitmaps, "MAX_VALUES", 3)
    builder = bitmaps.Builder(3)
    builder.add(range(1, 4), [["a", "b", ""], ["a", "b", "c"], ["x" * 300, "", ""]])
    # two values and NULL fit; a third value does not; nor does a value over MAX_VALUE_LENGTH
    assert builder.low(["text", "text", "text"]) == [0]
    assert builder.low(["numeric", "text", "text"]) == []  # numbers are left to the engine
    with pytest.raises(ValueError):
        builder.add(range(7, 8), [["a"], ["a"], ["a"]])  # ids must follow on
    builder.add(range(4, 6), [["b", "a"], ["d", "a"], ["", "y"]])
    # a column dropped now keeps only the values of the codes of its earlier batches
    assert builder.values(1) == [] and builder.values(2) == []
    builder.keep([])  # the types are known: no column of these gets bitmaps
    assert builder.low(["text", "text", "text"]) == [] and builder.values(0) == ["a", "b", ""]


def test_a_batch_longer_than_the_codes_allow_is_gathered_in_parts():
    builder = bitmaps.Builder(1)
    n = 70_000  # more rows than a 16-bit code could number, were they all new values
    builder.add(range(1, n + 1), [["a" if k % 2 else "b" for k in range(n)]])
    builder._flush()
    assert 0 in builder.codes  # still few values
    got = {v: builder.bitmaps[0][code] for v, code in builder.codes[0].items()}
    assert len(got["a"]) == len(got["b"]) == n // 2 and 2 in got["a"] and 1 in got["b"]


def test_columns_with_many_values_only_after_their_first_batches_load_every_row(upload, monkeypatch):  # noqa: F811
    """Pass 1 keeps a column as codes while it has few values and as text once it has too many;
    pass 2 gives every row its value either way (a key, a number, a date), and `q` finds the
    words of rows kept as codes."""
    monkeypatch.setattr(bitmaps, "MAX_VALUES", 300)
    n = 3000  # the first batches (256, then up to 4,096 rows) see 20 values; the later rows one a row
    rows = [(f"K-{i % 20 if i <= 1500 else i}", str(i % 20 if i <= 1500 else i),
             f"2024-01-{1 + i % 20:02d}" if i <= 1500 else f"{2000 + i // 365:04d}-{1 + i % 12:02d}-{1 + i % 28:02d}",
             "Centro")
            for i in range(1, n + 1)]
    body = "clave,cantidad,fecha,colonia\n" + "".join(",".join(r) + "\n" for r in rows)
    resource = upload(body.encode(), "claves.csv")
    version = resource.current_version
    assert version.bitmaps["columns"] == ["colonia"]  # the others ended with too many values
    got = datastore.search(resource, {"limit": n})["records"]
    assert [(r["clave"], r["cantidad"], r["fecha"], r["colonia"]) for r in got] == [
        (c, int(q), f, col) for c, q, f, col in rows]
    # words begin with the searched word: "K-19" of the first rows, and "K-1900" … "K-1999"
    expected = [i for i in range(1, n + 1) if (i % 20 == 19 if i <= 1500 else str(i).startswith("19"))]
    assert [r["_id"] for r in datastore.search(resource, {"q": "19", "fields": "_id", "limit": n})["records"]] \
        == expected
    assert datastore.search(resource, {"filters": {"cantidad": 7}, "limit": 1})["total"] == 75


_FREE_CELL = st.one_of(st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=20),
                       st.text("aZ09 -_#\t", max_size=20))


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.tuples(_FREE_CELL, _FREE_CELL), min_size=1, max_size=8), long=st.booleans())
def test_a_row_s_full_text_joins_its_free_text_values(rows, long):
    """`ingest._free_words`: the values of a row joined by a space and folded, words too long for
    the engine dropped, and NULL when no word is left."""
    from ventanilla.opendata.datastore import tables
    from ventanilla.opendata.ingest import _free_words

    if long:
        rows[0] = (rows[0][0], "x" * (tables.MAX_LEXEME + 5) + " luz")
    expected = []
    for a, b in rows:
        words = tables.full_text_value(bitmaps.free_text_batch([f"{a} {b}"])[0])
        expected.append(words if words.strip(" _") else None)
    assert _free_words([[a for a, _b in rows], [b for _a, b in rows]]).to_pylist() == expected
    assert _free_words([[b for _a, b in rows]]).to_pylist() == [
        (w if (w := tables.full_text_value(bitmaps.free_text_batch([b])[0])).strip(" _") else None) for _a, b in rows]
