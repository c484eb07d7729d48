"""The datastore's performance measures keep results exact: free-text words found by the bitmaps
of their prefixes on PostgreSQL, frozen rows, full statistics, SQLite connection settings, the
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
from ventanilla.opendata.datastore import bitmaps, tables
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


def _prefixes_by_hand(words: list[str | None]) -> list[tuple[str, int]]:
    """(prefix, row) of every word, in row order: its first PREFIX_LENGTH characters after the mark."""
    return [(part[1:1 + bitmaps.PREFIX_LENGTH], row) for row, text in enumerate(words) if text
            for part in text.split(" ") if len(part) > 1]


def _prefixes(words: pa.Array) -> list[tuple[str, int]]:
    codes, rows = bitmaps.prefix_codes(words)
    return [(bitmaps.prefix_text(c), r) for c, r in zip(codes.tolist(), rows.tolist())]


@given(st.lists(st.one_of(st.none(), _WORDS), max_size=30), st.sampled_from([1, 3, 7, 1 << 20]))
def test_prefix_codes_cut_every_word_and_keep_rows_apart(words, chunk):
    """Whatever the words, the slice of the batch and the bytes cut at a time
    (bitmaps.PREFIX_CHUNK), each word's prefix and row come back in row order."""
    import unittest.mock

    expected = _prefixes_by_hand(words)
    with unittest.mock.patch.object(bitmaps, "PREFIX_CHUNK", chunk):
        assert _prefixes(pa.array(words, pa.string())) == expected
        assert _prefixes(pa.array([None, "_x", *words], pa.string())[2:]) == expected  # a slice


def test_prefix_codes_are_numbers_that_stand_for_the_prefix():
    assert _prefixes(pa.array(["_inf _0000123 _ab", None, "_", "_z9"])) == [
        ("inf", 0), ("00001", 0), ("ab", 0), ("z9", 3)]
    codes = bitmaps.prefix_codes(pa.array(["_a _zzzzz _99999 _0"]))[0].tolist()
    assert len(set(codes)) == 4 and max(codes) < 2**32 and 0 not in codes
    assert [bitmaps.prefix_text(c) for c in codes] == ["a", "zzzzz", "99999", "0"]


def test_the_prefix_builder_groups_the_rows_of_each_prefix(monkeypatch):
    """Batch after batch (folded several times along the way), each prefix's bitmap holds exactly
    the rows with a word having it; past its limits the builder lets the GIN do the work."""
    from pyroaring import BitMap

    monkeypatch.setattr(bitmaps, "PREFIX_FLUSH_CELLS", 50)
    texts = [f"_inf _{n:07d}" + (" _camioneta" if n % 3 == 0 else "") for n in range(1, 1001)]
    builder = bitmaps.PrefixBuilder()
    for start in range(0, 1000, 64):
        part = texts[start:start + 64]
        builder.add(range(start + 1, start + 1 + len(part)), pa.array(part), list(range(start, start + len(part))))
    assert builder.word_index() == f"bitmaps:{bitmaps.PREFIX_LENGTH}"
    rows = {token: BitMap.deserialize(bits) for col, token, bits in builder.serialize()
            if col == bitmaps.PREFIXES}
    assert rows["inf"] == BitMap(range(1, 1001)) and rows["camio"] == BitMap(range(3, 1001, 3))
    assert rows["00001"] == BitMap(range(100, 200)) and rows["00000"] == BitMap(range(1, 100))
    assert set(rows) == {"inf", "camio", "00000", "00001", *(f"0000{d}" for d in range(2, 10)), "00010"}

    monkeypatch.setattr(bitmaps, "MAX_PREFIXES", 5)
    many = bitmaps.PrefixBuilder()
    many.add(range(1, 1001), pa.array(texts), list(range(1000)))
    assert many.overflowed and many.bitmaps == {} and many.word_index() == "words"
    monkeypatch.setattr(bitmaps, "MAX_PREFIXES", 10_000)
    monkeypatch.setattr(bitmaps, "MAX_PREFIX_CELLS", 1500)
    dense = bitmaps.PrefixBuilder()
    dense.add(range(1, 1001), pa.array(texts), list(range(1000)))
    assert dense.overflowed and dense.word_index() == "words"


def test_the_prefix_builder_s_memory_does_not_grow_with_the_rows():
    """For the same prefixes, three times the rows take about the same Python memory: the pairs
    are folded every PREFIX_FLUSH_CELLS, and the bitmaps live outside the interpreter's heap."""
    import tracemalloc

    peaks = []
    for rows in (100_000, 300_000):
        builder = bitmaps.PrefixBuilder()
        tracemalloc.start()
        for start in range(0, rows, 4096):
            n = min(4096, rows - start)
            part = pa.array([f"_placa _{(start + i) % 5000:05d} _nota{(start + i) % 7}" for i in range(n)])
            builder.add(range(start + 1, start + 1 + n), part, list(range(start, start + n)))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert len(builder.serialize()) == 1 + 5000 + 7  # "placa", the numbers, "nota0" … "nota6"
    small, large = peaks
    assert large < small * 1.25 + 1e6, (small, large)


def test_the_prefix_builder_s_memory_is_bounded_by_its_prefixes(monkeypatch):
    """Each prefix costs the interpreter about a hundred bytes (its code and bitmap object), so
    MAX_PREFIXES bounds that memory whatever the file; past it everything is let go."""
    import tracemalloc

    monkeypatch.setattr(bitmaps, "MAX_PREFIXES", 40_000)
    builder = bitmaps.PrefixBuilder()
    tracemalloc.start()
    for start in range(0, 40_000, 4096):
        n = min(4096, 40_000 - start)
        builder.add(range(start + 1, start + 1 + n), pa.array([f"_{start + i:05d}" for i in range(n)]),
                    list(range(start, start + n)))
    builder.word_index()
    held, peak = tracemalloc.get_traced_memory()
    builder.add(range(40_001, 40_002), pa.array(["_otra"]), [0])  # one more prefix: past the limit
    assert builder.word_index() == "words"
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(builder.bitmaps) == 0 and builder.overflowed and builder.word_index() == "words"
    assert peak < 40_000 * 200 + 2e6, peak
    assert after < held - 40_000 * 50, (held, after)


def test_the_word_sample_is_the_rows_whose_fingerprint_is_a_multiple():
    import random

    rng = random.Random(0)
    sample, rows = bitmaps.WordSample(), []
    for start in range(0, 200_000, 4096):
        batch = [(rng.getrandbits(64) - 2**63, f"_w{n}") for n in range(start, min(start + 4096, 200_000))]
        rows.extend(batch)
        sample.add([h for h, _w in batch], pa.array([w for _h, w in batch], pa.string()))
    assert sample.rows == 200_000 and sample.every & (sample.every - 1) == 0  # a power of two
    assert bitmaps.PREFIX_SAMPLE_ROWS <= len(sample.kept) <= 2 * bitmaps.PREFIX_SAMPLE_ROWS
    assert sample.kept == [(h, w) for h, w in rows if h % sample.every == 0]
    long_words = bitmaps.WordSample()  # long rows: the sample is bounded by its characters too
    long_words.add([h for h, _w in rows[:50_000]], pa.array(["_x" * 200] * 50_000))
    assert long_words.chars <= bitmaps.PREFIX_SAMPLE_CHARS and len(long_words.kept) > 100


def test_prefixes_part_words_unless_many_rows_share_one():
    import random

    rng = random.Random(1)
    rows = 1_000_000
    picked = rng.sample(range(1, rows + 1), 3_000)  # a random sample, as the loader keeps one
    assert bitmaps.prefixes_part_words([f"_inf _{i:07d}" for i in picked], rows)  # 100 numbers a prefix
    assert not bitmaps.prefixes_part_words([f"_inf2025{i:07d} _placa" for i in picked], rows)  # one prefix
    assert bitmaps.prefixes_part_words([f"_c{i % 90:02d} _x" for i in picked], rows)  # short words: indexed whole
    assert bitmaps.prefixes_part_words([], 0)


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
                        "WHERE attrelid = %s::regclass AND attname LIKE '\\_%%' AND attnum > 0", [table])
            assert dict(cur.fetchall()) == {"_id": "bigint", "_full_text": "text", "_hash": "bigint"}
            # the free words are found by prefix bitmaps, not a GIN; the primary key was added
            # after the COPY
            cur.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [table])
            definitions = [row[0] for row in cur.fetchall()]
            assert not any("USING gin" in d for d in definitions)
            assert any("UNIQUE INDEX" in d and "(_id)" in d for d in definitions)
            assert resource.current_version.bitmaps["word_index"] == f"bitmaps:{bitmaps.PREFIX_LENGTH}"
            cur.execute(f"SELECT token FROM {tables.qn(tables.index_table(table))} WHERE col = %s",
                        [bitmaps.PREFIXES])
            assert {row[0] for row in cur.fetchall()} == {"palab"}  # the notes' words (folios have bitmaps)
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
