"""The datastore's performance measures keep results exact: full text indexed by its words'
prefixes on PostgreSQL, frozen rows, full statistics, SQLite connection settings, the
full-text-only count."""

from __future__ import annotations

import csv
import io

import pyarrow as pa
import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from ventanilla.opendata import datastore
from ventanilla.opendata.datastore import tables
from ventanilla.opendata.signals import SQLITE_PRAGMAS

from .test_ingest import dataset, media, upload  # noqa: F401  (fixtures)

LONG = "x" * 3000  # longer than a PostgreSQL tsvector word may be


@pytest.fixture
def resource(upload):  # noqa: F811
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["Folio", "Estatus", "Colonia", "Nota"])
    for n in range(1, 201):
        writer.writerow([f"F-{n:04d}", "Pagada" if n % 2 else "Pendiente", f"Colonia {n % 40}",
                         f"palabra{n % 7} {LONG if n == 5 else ''}".strip()])
    return upload(buf.getvalue().encode(), "multas.csv")


def test_full_text_value_drops_words_the_engine_cannot_index():
    assert tables.full_text_value("camion rojo 5") == "camion rojo 5"
    assert tables.full_text_value(f"centro {LONG} centro luz") == "centro luz"
    huge = " ".join(f"w{i:07d}" for i in range(100_000))
    capped = tables.full_text_value(huge)
    assert len(capped) <= tables.MAX_FULL_TEXT and capped.split()[:2] == ["w0000000", "w0000001"]


_WORD = st.text("abcxyz019", max_size=12).map(lambda w: "_" + w)
_WORDS = st.lists(_WORD, min_size=1, max_size=6).map(" ".join)  # a lone mark or a run of spaces too


@given(st.lists(st.one_of(st.none(), _WORDS), max_size=30))
def test_word_prefixes_cut_every_word_and_keep_rows_apart(words):
    expected = [None if w is None else " ".join(part[:tables.PREFIX_LENGTH + 1] for part in w.split(" ")) or None
                for w in words]
    assert tables.word_prefixes(pa.array(words, pa.string())).to_pylist() == expected
    assert tables.word_prefixes(pa.array([None, "_x", *words], pa.string())[2:]).to_pylist() == expected  # a slice
    assert tables.word_prefixes(pa.array(["_inf _0000123 _ab"])).to_pylist() == ["_inf _00001 _ab"]


def test_word_prefixes_cut_part_by_part_are_the_same(monkeypatch):
    """Long batches are cut PREFIX_CHUNK characters' worth of rows at a time (the numpy passes
    take about ten bytes a character): the parts join up exactly, slices and nulls included."""
    import random

    rng = random.Random(1)
    words = [None if rng.random() < 0.2 else " ".join(
        "_" + "".join(rng.choice("ab01") for _ in range(rng.randrange(0, 12))) for _ in range(rng.randrange(1, 4)))
        for _ in range(300)]
    whole = tables.word_prefixes(pa.array(words, pa.string())).to_pylist()
    monkeypatch.setattr(tables, "PREFIX_CHUNK", 7)
    assert tables.word_prefixes(pa.array(words, pa.string())).to_pylist() == whole
    assert tables.word_prefixes(pa.array(["_x", *words], pa.string())[1:]).to_pylist() == whole
    assert whole == [None if w is None else " ".join(p[:tables.PREFIX_LENGTH + 1] for p in w.split(" "))
                     for w in words]


def test_the_word_sample_is_the_rows_whose_fingerprint_is_a_multiple():
    import random

    rng = random.Random(0)
    sample, rows = tables.WordSample(), []
    for start in range(0, 200_000, 4096):
        batch = [(rng.getrandbits(64) - 2**63, f"_w{n}") for n in range(start, min(start + 4096, 200_000))]
        rows.extend(batch)
        sample.add([h for h, _w in batch], pa.array([w for _h, w in batch], pa.string()))
    assert sample.rows == 200_000 and sample.every & (sample.every - 1) == 0  # a power of two
    assert tables.PREFIX_SAMPLE_ROWS <= len(sample.kept) <= 2 * tables.PREFIX_SAMPLE_ROWS
    assert sample.kept == [(h, w) for h, w in rows if h % sample.every == 0]
    long_words = tables.WordSample()  # long rows: the sample is bounded by its characters too
    long_words.add([h for h, _w in rows[:50_000]], pa.array(["_x" * 200] * 50_000))
    assert long_words.chars <= tables.PREFIX_SAMPLE_CHARS and len(long_words.kept) > 100


def test_prefixes_part_words_unless_many_rows_share_one():
    import random

    rng = random.Random(1)
    rows = 1_000_000
    picked = rng.sample(range(1, rows + 1), 3_000)  # a random sample, as the loader keeps one
    assert tables.prefixes_part_words([f"_inf _{i:07d}" for i in picked], rows)  # 100 numbers a prefix
    assert not tables.prefixes_part_words([f"_inf2025{i:07d} _placa" for i in picked], rows)  # one prefix
    assert tables.prefixes_part_words([f"_c{i % 90:02d} _x" for i in picked], rows)  # short words: indexed whole
    assert tables.prefixes_part_words([], 0)


@pytest.mark.parametrize("q,expected", [("palabra3", 29), ("pagada", 100), ("colonia 1", 55), ("pagada palabra0", 14),
                                        ("xxx", 0), ("nada", 0)])
def test_q_totals_match_the_rows(resource, q, expected):
    result = datastore.search(resource, {"q": q, "limit": 1000})
    assert result["total"] == len(result["records"]) == expected
    assert result["total_was_estimated"] is False
    # The same words combined with a filter still count exactly.
    filtered = datastore.search(resource, {"q": q, "filters": {"estatus": "Pagada"}, "limit": 1000})
    assert filtered["total"] == len(filtered["records"]) == sum(1 for r in result["records"] if r["estatus"] == "Pagada")


def test_row_with_an_overlong_word_loads_and_is_found_by_its_other_words(resource):
    result = datastore.search(resource, {"q": "f 0005"})
    assert [r["_id"] for r in result["records"]] == [5]
    assert result["records"][0]["nota"].endswith(LONG)


def test_engine_structures(resource):
    table = resource.current_version.table_name
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                        "WHERE attrelid = %s::regclass AND attname IN ('_full_text', '_prefixes')", [table])
            assert dict(cur.fetchall()) == {"_full_text": "text", "_prefixes": "tsvector"}
            # the GIN is over the words' prefixes; the primary key was added after the COPY
            cur.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [table])
            definitions = [row[0] for row in cur.fetchall()]
            assert any("USING gin (_prefixes)" in d for d in definitions)
            assert any("UNIQUE INDEX" in d and "(_id)" in d for d in definitions)
            assert resource.current_version.bitmaps["word_index"] == f"prefixes:{tables.PREFIX_LENGTH}"
            cur.execute("SELECT relpages, relallvisible FROM pg_class WHERE relname = %s", [table])
            pages, visible = cur.fetchone()
            assert pages >= 1 and visible == pages  # COPY FREEZE: every page all-visible
        else:
            cur.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = %s", [table])
            stats = [row[0].split() for row in cur.fetchall()]
            assert ["200"] in stats  # the planner knows the table's size (every column here has bitmaps)
            for pragma, expected in (("cache_size", -65536), ("temp_store", 2)):
                cur.execute(f"PRAGMA {pragma}")
                assert cur.fetchone()[0] == expected
            assert "cache_size" in SQLITE_PRAGMAS[0]
