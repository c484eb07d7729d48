"""The columnar CSV path (Arrow's C++ reader, files.CsvFile.columns) against the row path (the csv
module, files.CsvFile.batches, and the spill): the reader gives the same cells with the same row
numbers whenever it does not give up (NotColumnar), and a load gives the same table, types,
report, bitmaps, fingerprints and version counts whichever path it takes; files the columnar
reader cannot read exactly as the csv module does load by the row path, as if it did not exist."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.db import connection
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from ventanilla.opendata import ingest, services
from ventanilla.opendata.datastore import bitmaps, tables
from ventanilla.opendata.ingest import files
from ventanilla.opendata.models import DataField, Resource, ResourceVersion

from .test_ingest import dataset, media  # noqa: F401  (fixtures; media is autouse there)


def stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


# --- 1. The readers --------------------------------------------------------------------------

def open_stored(data: bytes, filename: str = "x.csv"):
    """(stored name, TabularFile) the way ingest_version opens an upload."""
    name, info = files.store(io.BytesIO(data), filename)
    try:
        kind, _mimetype = files.sniff(files.declared_kind(filename), info)
        return name, files.open_tabular(name, kind, info)
    except BaseException:
        files.discard(name)
        raise


def columnar_rows(tab, ncol: int, **options) -> list[list[str]] | None:
    """The rows of `tab.columns(ncol)` (nulls as ""), or None if it gave up at any batch."""
    rows: list[list[str]] = []
    try:
        for batch in tab.columns(ncol, **options):
            assert batch.num_columns == ncol
            rows.extend([["" if v is None else v for v in row] for row in zip(*(c.to_pylist() for c in batch.columns))])
    except files.NotColumnar:
        return None
    return rows


# Arrow's CSV reader (pyarrow 26.0.1) drops the LF of a CRLF inside a quoted value when the CR is
# the last byte of a block it reads (files.COLUMNAR_BLOCK): "uno\r\ndos" comes back "uno\rdos",
# silently (https://github.com/apache/arrow/issues/51368, fix proposed in apache/arrow#51394).
# files.CsvFile.columns therefore gives up on any value holding a CR (tests below).


def compare_readers(data: bytes, filename: str = "x.csv") -> str:
    """Reads `data` with both readers. Returns "columnar" (and checks the readers agree), "fallback"
    (the columnar reader gave up) or "unreadable" (no header: an empty file)."""
    try:
        name, tab = open_stored(data, filename)
    except services.OpendataError:
        return "unreadable"
    try:
        try:
            header = tab.header()  # as _load_table does, before any pass
        except services.OpendataError:
            return "unreadable"
        ncol = len(header)
        try:
            numbered = [(n, row) for numbers, batch in tab.batches() for n, row in zip(numbers, batch)]
            row_error = None
        except services.OpendataError as exc:
            numbered, row_error = [], exc
        got = columnar_rows(tab, ncol)
        if got is None:
            return "fallback"
        assert row_error is None, f"the columnar reader read a file the csv module cannot: {row_error}"
        assert [n for n, _row in numbered] == list(range(2, len(numbered) + 2))
        assert columnar_rows(tab, ncol) == got  # read again: the same cells
        assert columnar_rows(tab, ncol, checked=False) == got  # as pass 2 reads it
        assert got == [row for _n, row in numbered]
        return "columnar"
    finally:
        files.discard(name)


@pytest.mark.parametrize("data,outcome", [
    (b"a,b\n1,2\n", "columnar"),
    (b"a,b\n1,2", "columnar"),  # no final newline
    (b"a,b\r\n1,2\r\n3,4\r\n", "columnar"),
    (b"a,b\r1,2\r3,4\r", "columnar"),  # old Mac line ends
    (b"a,b\n1,\"x\ny\"\n", "columnar"),  # a LF inside quotes
    (b"a,b\n1,x\"y\n", "columnar"),  # a quote inside an unquoted field is a plain character
    (b"a,b\n1,\"abc\"def\n", "columnar"),  # text after the closing quote is kept
    (b"a,b\n\"a\"b\"c,d\n", "columnar"),
    (b"a,b\n\"x\"\"y\",\"z,w\"\n", "columnar"),
    (b"a,b\n1,\"\n\"\n", "columnar"),  # a value that is one newline
    (b"a,b\n1,\"\"\n2,\n", "columnar"),  # empty and quoted empty cells next to values
    (b"a,b\n , \n", "columnar"),  # cells of spaces are values, not a blank row
    (b"\xef\xbb\xbfa,b\n1,2\n", "columnar"),
    (b"a;b\n\xf1;\x93x\x94\n", "columnar"),  # Windows-1252
    (b"a,b\n", "columnar"),  # a header only
    (b"a,b\n1,2\n\n", "fallback"),  # a trailing blank line
    (b"a,b\n1,2\r\n\r\n", "fallback"),
    (b"a,b\n1,2\n\n3,4\n", "fallback"),  # a blank line inside
    (b"a,b\n\r1,2\n", "fallback"),
    (b"a,b\n  \n1,2\n", "fallback"),  # a line of spaces: one cell to the csv module, skipped
    (b"a,b\n1,2\n,\n", "fallback"),  # a row of empty cells
    (b"a,b\n\"\",\"\"\n", "fallback"),
    (b"a,b\n1,2,3\n", "fallback"),  # one more cell
    (b"a,b\n1\n", "fallback"),  # one less
    (b"a,b\n1, \"x,y\"\n", "fallback"),  # a space before the quote: no quoting, three cells
    (b"a,\"b\nc\"\n1,2\n", "fallback"),  # the header spans two lines
    (b"\na,b\n1,2\n", "fallback"),  # the header is not on the first line
    (b",\na,b\n1,2\n", "fallback"),
    (b"a,b\n1,\x81\n", "fallback"),  # a byte Windows-1252 leaves undefined
    (b"nombre\nAna\n", "fallback"),  # one column
    (b"a,b\r1,\"x\ry\"\r", "fallback"),  # a CR inside quotes (the Arrow bug above)
    (b"a,b\r\n1,\"x\r\ny\"\r\n", "fallback"),
    (b"a,b\n1,\"2", None),  # an unclosed quote at the end: either way, but the same cells
    (b"a,b\n1,\"x\"\n\"", None),
    (b"a,b\n1,2\n\"\n", None),
])
def test_reader_on_hand_made_files(data, outcome, media):
    got = compare_readers(data)
    if outcome is not None:
        assert got == outcome
    assert stored_files(media) == []


def crlf_at(offset: int) -> bytes:
    """A CSV whose quoted value "uno\\r\\ndos" (the last row but one) has its CR at byte `offset`, after
    ordinary rows (the last one padded to put it there)."""
    head = b"folio,nota\r\n"
    rows, size, i = [], len(head), 0
    while size < offset - 200:
        i += 1
        rows.append(b"%d,relleno de la fila %d\r\n" % (i, i))
        size += len(rows[-1])
    filler = b"".join(rows)
    last = b'999998,"uno\r\ndos"\r\n'
    pad = offset - last.index(b"\r") - len(head) - len(filler) - len(b"999997,\r\n")
    data = head + filler + b"999997," + b"x" * pad + b"\r\n" + last + b"999999,fin\r\n"
    assert data.index(b"\r\ndos") == offset
    return data


@pytest.mark.parametrize("blocks", [1, 2])
def test_reader_gives_up_on_a_quoted_crlf_split_by_a_block_boundary(media, blocks):
    """At the real block size, with the CR of a quoted CRLF as the last byte of the first (second)
    block: where Arrow would read "uno\\rdos", the file goes to the row reader."""
    data = crlf_at(blocks * files.COLUMNAR_BLOCK - 1)
    name, tab = open_stored(data)
    try:
        assert tab.header() == ["folio", "nota"]
        assert [row for _numbers, batch in tab.batches() for row in batch][-2] == ["999998", "uno\r\ndos"]
    finally:
        files.discard(name)
    assert compare_readers(data) == "fallback"


@pytest.mark.parametrize("blocks", [1, 2])
def test_reader_reads_a_crlf_line_end_split_by_a_block_boundary(media, blocks):
    """A CRLF that ends a row, its CR the last byte of a block: one line end, no blank line."""
    head = b"folio,nota\r\n"
    data = head + b"1," + b"x" * (blocks * files.COLUMNAR_BLOCK - 1 - len(head) - 2) + b"\r\n2,dos\r\n3,tres\r\n"
    assert data[blocks * files.COLUMNAR_BLOCK - 1:blocks * files.COLUMNAR_BLOCK + 1] == b"\r\n"
    assert compare_readers(data) == "columnar"


_PIECES = ['"', '""', ",", ";", "\t", "|", "\r", "\n", "\r\n", " ", "ñ", "á", "ü", "É", "€", "“", "a", "x", "Z",
           "0", "7", ".", "$", "-", "/", "\\"]
_WORDS = ["", "", "$1,234.50", "N/D", "31/03/2024", "2024-03-31", "1,234", "007", "42", "sí", "No", "Torreón",
          "Peñón Jardín", "  ", "“Sur”", "dijo \"hola\"", "a,b;c|d\te", "línea\nnueva", "fin\r\n"]
CELL = st.one_of(st.sampled_from(_WORDS), st.lists(st.sampled_from(_PIECES), max_size=6).map("".join))
HEADER = st.one_of(st.sampled_from(["folio", "colonia", "Número", "monto", "Fecha", "Año", "¿Funciona?", "id"]),
                   st.sampled_from(["folio", "colonia", "monto"]).map(lambda h: h + " ñ"), CELL)
QUOTING = [(csv.QUOTE_MINIMAL, None), (csv.QUOTE_ALL, None), (csv.QUOTE_NONNUMERIC, None), (csv.QUOTE_NONE, "\\")]
ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "latin-1"]
TERMINATORS = ["\r\n", "\n", "\r"]
DELIMITERS = [",", ";", "\t", "|"]
BLOCKS = [None, 128, 1024]  # files.COLUMNAR_BLOCK as it is, or small enough that rows cross blocks


@st.composite
def csv_text(draw, malformed: bool):
    """(text, delimiter, encoding, block size): a grid written by csv.writer, with hand-made damage
    if `malformed`."""
    ncol = draw(st.integers(2, 5))
    header = draw(st.lists(HEADER, min_size=ncol, max_size=ncol))
    grid = draw(st.lists(st.lists(CELL, min_size=ncol, max_size=ncol), max_size=30))
    delimiter = draw(st.sampled_from(DELIMITERS))
    quoting, escapechar = draw(st.sampled_from(QUOTING))
    term = draw(st.sampled_from(TERMINATORS))

    def record(cells) -> str:
        buf = io.StringIO()
        try:
            csv.writer(buf, delimiter=delimiter, quoting=quoting, escapechar=escapechar,
                       lineterminator=term).writerow(cells)
        except csv.Error:  # QUOTE_NONE cannot write it
            buf = io.StringIO()
            csv.writer(buf, delimiter=delimiter, lineterminator=term).writerow(cells)
        return buf.getvalue()

    records = [record(header)] + [record(row) for row in grid]
    if malformed:
        damage = {
            "quote_inside": lambda: delimiter.join(['x"y'] + ["z"] * (ncol - 1)) + term,
            "quoted_then_text": delimiter.join(['"abc"def'] + ["1"] * (ncol - 1)) + term,
            "space_before_quote": delimiter.join([' "a' + delimiter + 'b"'] + ["1"] * (ncol - 1)) + term,
            "blank": term,
            "spaces": "   " + term,
            "delimiters_only": delimiter * (ncol - 1) + term,
            "quoted_empties": delimiter.join(['""'] * ncol) + term,
            "one_more": record(["1"] * (ncol + 1)),
            "one_less": record(["1"] * (ncol - 1)),
            "unclosed": '"abc' + delimiter + "x",
        }
        for what, where in draw(st.lists(st.tuples(st.sampled_from([*damage, "header_newline", "blank_first",
                                                                      "trailing_blank", "no_final_newline"]),
                                                   st.integers(1, 40)), min_size=1, max_size=3)):
            if what == "header_newline":
                records[0] = record([header[0] + "\nsigue", *header[1:]])
            elif what == "blank_first":
                records.insert(0, term)
            elif what == "trailing_blank":
                records.append(term)
            elif what == "no_final_newline":
                records[-1] = records[-1][: -len(term)] if records[-1].endswith(term) else records[-1]
            else:
                made = damage[what]
                records.insert(min(where, len(records)), made() if callable(made) else made)
    elif draw(st.booleans()):
        records[-1] = records[-1][: -len(term)]  # no newline after the last row
    return "".join(records), delimiter, draw(st.sampled_from(ENCODINGS)), draw(st.sampled_from(BLOCKS))


def _reader_property(example, outcomes: list[str], monkeypatch) -> None:
    text, delimiter, encoding, block = example
    data = text.encode(encoding, errors="replace")  # latin-1 has no "€" or "“": "?"
    with monkeypatch.context() as mp:
        if block:
            mp.setattr(files, "COLUMNAR_BLOCK", block)
        outcomes.append(compare_readers(data, "x.tsv" if delimiter == "\t" else "x.csv"))


def _reader_outcomes(monkeypatch, *, malformed: bool) -> list[str]:
    """`_reader_property` over 150 generated files; each one's outcome ("columnar"/"fallback")."""
    outcomes: list[str] = []

    @hsettings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(example=csv_text(malformed=malformed))
    def check(example):
        _reader_property(example, outcomes, monkeypatch)

    check()
    return outcomes


def test_readers_agree_on_files_written_by_csv_writer(media, monkeypatch):
    """Grids written by csv.writer (every quoting mode, delimiter, line end and encoding): whenever
    the columnar reader does not give up, its cells are the csv module's, its rows 2, 3, … And it
    gives up seldom enough that the comparison means something."""
    outcomes = _reader_outcomes(monkeypatch, malformed=False)
    # a quarter to a half are read column by column (QUOTE_NONE, rows of empty cells, odd headers
    # and unquoted CRs give the rest up)
    assert outcomes.count("columnar") >= len(outcomes) // 6, outcomes
    assert stored_files(media) == []


def test_readers_agree_on_malformed_files(media, monkeypatch):
    """The same with hand-made damage: quotes inside fields, text after a closing quote, blank
    lines and lines of spaces or delimiters anywhere, rows of another width, a header that spans
    lines or is not the first line, an unclosed quote."""
    outcomes = _reader_outcomes(monkeypatch, malformed=True)
    assert "columnar" in outcomes and outcomes.count("fallback") >= len(outcomes) // 4, outcomes
    assert stored_files(media) == []


# --- 2. Loads ----------------------------------------------------------------------------------

def _load(dataset, content: bytes, filename: str, *, rows_only: bool, previous: Resource | None = None):
    """Loads `content` as a new resource of `dataset` (or a new version of `previous`), with the
    columnar reader disabled if `rows_only`. Returns (version reloaded, the pass functions called)."""
    calls: list[str] = []
    real_rows, real_pass2 = ingest._pass1_rows, ingest._pass2_columnar

    def pass1_rows(*args, **kwargs):
        calls.append("pass1_rows")
        return real_rows(*args, **kwargs)

    def pass2_columnar(*args, **kwargs):
        calls.append("pass2_columnar")
        return real_pass2(*args, **kwargs)

    def no_columns(self, ncol, **options):
        raise files.NotColumnar("disabled by the test")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ingest, "_pass1_rows", pass1_rows)
        mp.setattr(ingest, "_pass2_columnar", pass2_columnar)
        if rows_only:
            mp.setattr(files.CsvFile, "columns", no_columns)
        if previous is None:
            resource = services.create_resource(dataset, by=None, data={"name": filename}, upload=io.BytesIO(content),
                                                filename=filename)
            version = resource.current_version
        else:
            version = services.add_version(previous, upload=io.BytesIO(content), filename=filename, by=None)
    return ResourceVersion.objects.select_related("resource").get(pk=version.pk), calls


def snapshot(version: ResourceVersion) -> dict:
    """Everything a load leaves: the table's rows (every column, `_full_text` and `_hash`
    included), its bitmaps (on PostgreSQL the free words' prefix bitmaps too), its indexes, the
    data dictionary and the version's fields."""
    table = version.table_name
    assert table
    qn = tables.qn
    with connection.cursor() as cur:
        cur.execute(f"SELECT * FROM {qn(table)} ORDER BY _id")
        columns = [d[0] for d in cur.description]
        rows = [tuple(row) for row in cur.fetchall()]
        cur.execute(f"SELECT col, token, bits FROM {qn(tables.index_table(table))}")
        ix = sorted((col, token, bytes(bits)) for col, token, bits in cur.fetchall())
        if tables.is_postgres():
            cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        else:
            cur.execute("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = %s AND type = 'index'", [table])
        indexes = sorted(tuple((v or "").replace(table, "<table>") for v in row) for row in cur.fetchall())
    side_tables = sorted(t.replace(table, "<table>") for t in connection.introspection.table_names()
                         if t.startswith(table))
    fields = list(DataField.objects.filter(version=version).order_by("position").values_list(
        "position", "name", "source_name", "type", "label", "unit", "description"))
    return {
        "columns": columns, "rows": rows, "ix": ix, "indexes": indexes, "side_tables": side_tables, "fields": fields,
        "row_count": version.row_count, "report": version.report, "bitmaps": version.bitmaps,
        "encoding": version.encoding, "delimiter": version.delimiter, "rows_added": version.rows_added,
        "rows_removed": version.rows_removed, "size": version.size, "sha256": version.sha256,
        "mimetype": version.mimetype, "status": version.status,
    }


def assert_same(fast: dict, slow: dict) -> None:
    assert fast.keys() == slow.keys()
    for key in fast:
        if key == "rows":
            assert len(fast["rows"]) == len(slow["rows"])
            for n, (a, b) in enumerate(zip(fast["rows"], slow["rows"])):
                assert a == b, f"row _id={n + 1} differs:\n columnar {a}\n rows     {b}\n columns  {fast['columns']}"
        else:
            assert fast[key] == slow[key], f"{key} differs"


def load_both(dataset, content: bytes, filename: str = "datos.csv", *, columnar: bool | None = True,
              previous: tuple[Resource, Resource] | None = None):
    """Loads `content` normally and with the columnar reader disabled; checks both leave the same
    and that the normal load took the columnar path (`columnar`) or fell back to the row path
    (False; None: either).
    `previous`: the resources (normal, rows only) to add a version to. Returns (snapshot, the
    normal version, the row-path version)."""
    fast, fast_calls = _load(dataset, content, filename, rows_only=False, previous=previous and previous[0])
    slow, slow_calls = _load(dataset, content, filename, rows_only=True, previous=previous and previous[1])
    if columnar:
        assert fast_calls == ["pass2_columnar"], "the normal load did not take the columnar path"
    elif columnar is not None:
        assert fast_calls == ["pass1_rows"], "the normal load did not fall back to the row path"
    assert slow_calls == ["pass1_rows"]
    a, b = snapshot(fast), snapshot(slow)
    assert_same(a, b)
    a["columnar"] = fast_calls == ["pass2_columnar"]
    return a, fast, slow


@pytest.fixture(params=["block", "small_blocks"])
def blocks(request, monkeypatch):
    """Each load as it is (one Arrow block for a small file) and with blocks of 512 bytes, so that
    pass 1 and pass 2 see many Arrow batches, whose boundaries differ from the row reader's."""
    if request.param == "small_blocks":
        monkeypatch.setattr(files, "COLUMNAR_BLOCK", 512)
    return request.param


TYPED = ("folio,cantidad,importe,fecha_mx,fecha_iso,registro,funciona,codigo,notas\n"
         "1,\"1,234\",$1.50,31/03/2024,2024-03-31,2024-03-31 10:00,sí,007,Primera\n"
         "2,17,\"$1,234.50\",1/2/2024,2024-02-01,2024-02-01T23:59:59.5,no,0450,\n"
         "3,\"12,000,000\",-$3.25,29/02/2024,2024-02-29,31/03/2024 08:15,Sí,27000,Tercera\n"
         "4,,,,,,NO,,\n"  # empty cells in typed columns, the numeric one (no bitmaps) too
         "5,-8,$12,01/01/2025,2025-01-01,2025-01-01 00:00:00,SI,00001,última\n")


def test_typed_columns(dataset, blocks):
    body = TYPED + "".join(f"{n},{n},${n}.25,{1 + n % 28}/03/2024,2024-03-{1 + n % 28:02d},2024-03-01 {n % 24}:05,"
                           f"{'sí' if n % 3 else 'no'},0{n},nota {n}\n" for n in range(6, 80))
    snap, fast, _slow = load_both(dataset, body.encode())
    types = [f[3] for f in snap["fields"]]
    assert types == ["int", "int", "numeric", "date", "date", "timestamp", "bool", "text", "text"]
    assert [f[5] for f in snap["fields"]][2] == "$"
    assert fast.row_count == 79 and fast.report == []
    assert set(fast.bitmaps["columns"]) >= {"cantidad", "fecha_mx", "funciona"}


def test_no_data_markers_are_reported_with_row_and_column(dataset, blocks):
    body = "folio,monto,fecha\n" + "".join(
        f"{n},{'N/D' if n == 3 else '-' if n == 40 else 'sin dato' if n == 77 else '  ' if n == 50 else n * 10},"
        f"{'NA' if n == 5 else f'2024-01-{1 + n % 28:02d}'}\n" for n in range(2, 90))
    snap, fast, _slow = load_both(dataset, body.encode())
    assert [f[3] for f in snap["fields"]] == ["int", "int", "date"]
    report = fast.report
    assert {"row": 3, "column": "monto", "message": "«N/D» se cargó como vacío (sin dato)."} in report
    # folio n is on row n (the header is row 1, the first folio is 2)
    assert {"row": 40, "column": "monto", "message": "«-» se cargó como vacío (sin dato)."} in report
    assert {"row": 77, "column": "monto", "message": "«sin dato» se cargó como vacío (sin dato)."} in report
    assert {"row": 5, "column": "fecha", "message": "«NA» se cargó como vacío (sin dato)."} in report
    assert len(report) == 4


def test_an_odd_value_makes_the_column_text_and_is_reported(dataset, blocks):
    body = "clave,importe\n" + "".join(f"{i},{i * 10}\n" for i in range(1, 300)) + "300,mil\n" + \
        "".join(f"{i},{i * 10}\n" for i in range(301, 320))
    snap, fast, _slow = load_both(dataset, body.encode())
    assert snap["fields"][1][3] == "text"
    assert [(e["row"], e["column"]) for e in fast.report] == [(301, "importe")] and "«mil»" in fast.report[0]["message"]


def test_a_column_with_more_values_than_bitmaps_take_next_to_columns_with_few(dataset):
    """A folio column with more than MAX_VALUES distinct values, and one with exactly MAX_VALUES,
    lose their bitmaps part way through the file (the row path spills their first batches as codes,
    the rest as text); a column with one value fewer plus empty cells keeps them, and so do the
    columns with few values."""
    n = bitmaps.MAX_VALUES + 300
    lines, k = [], 0
    for i in range(1, n + 1):
        empty = i % 97 == 0
        k += not empty
        lines.append(f"L{i:06d},{'' if empty else f'K{min(k, bitmaps.MAX_VALUES - 1)}'},"
                     f"{'' if empty else f'T{min(k, bitmaps.MAX_VALUES)}'},Colonia {i % 37},{50 + i % 4},"
                     f"Luminaria número {i} en la calle Peñón\n")
    body = "folio,casi,tope,colonia,potencia,descripcion\n" + "".join(lines)
    snap, fast, _slow = load_both(dataset, body.encode())
    kept = fast.bitmaps["columns"]
    assert kept == ["casi", "colonia", "potencia"], kept
    assert fast.row_count == n and fast.bitmaps["free_text"] is True


def test_free_text_with_accents(dataset, blocks, monkeypatch):
    """Text columns with many values (here more than 20) have their words in `_full_text`."""
    monkeypatch.setattr(bitmaps, "MAX_VALUES", 20)
    phrases = ["Ampliación Los Ángeles “Sur”", "Peñón del Río, sector 2", "ÑANDÚ güero", "Cañón de Jimulco",
               "Árbol caído; reportar", "  espacios  ", "mayúsculas Y minúsculas", "niño 5 años"]
    described = ["" if i % 7 == 3 else f'"{phrases[i % len(phrases)]} #{i}"' for i in range(60)]  # some empty
    body = "folio,descripcion,colonia\n" + "".join(
        f"F-{i},{described[i]},{'Centro' if i % 2 else 'Torreón Jardín'}\n" for i in range(60))
    snap, _fast, _slow = load_both(dataset, body.encode())
    words = [row[snap["columns"].index("_full_text")] for row in snap["rows"]]
    assert all(words) and any("_nandu" in w for w in words), words[:3]
    assert snap["rows"][3][2] is None  # an empty cell of a column without bitmaps is NULL on both engines
    assert snap["bitmaps"]["columns"] == ["colonia"] and snap["bitmaps"]["free_text"] is True


def test_windows_1252_semicolon_file_with_accents(dataset, blocks):
    text = ("Colonia;Número de luminarias;Inversión;Fecha de instalación;¿Funciona?;Código postal\r\n"
            "Centro;1,250;$1,234.50;31/03/2024;Sí;27000\r\n"
            "Torreón Jardín;87;$12.00;01/04/2024;No;27200\r\n"
            "Ampliación Los Ángeles “Sur”;5;-$3.25;15/05/2024;sí;07050\r\n") + "".join(
        f"Colonia Ñ{i} – {'€' if i % 5 == 0 else 'sección'};{i};${i}.50;{1 + i % 28:02d}/06/2024;no;{27000 + i}\r\n"
        for i in range(40))
    snap, fast, _slow = load_both(dataset, text.encode("cp1252"))
    assert fast.encoding == "cp1252" and fast.delimiter == ";"
    assert [f[3] for f in snap["fields"]] == ["text", "int", "numeric", "date", "bool", "text"]
    assert snap["rows"][2][1] == "Ampliación Los Ángeles “Sur”"


def test_quoted_values_with_newlines_and_delimiters(dataset, blocks):
    rows = [["folio", "direccion", "nota"]] + [
        [str(i), f"Calle {i}, esquina\nnorte" if i % 3 == 0 else f"Av. {i}; local \"B\"",
         "dijo \"hola\"\ny se fue" if i % 4 == 0 else "línea|con|barras\tand tabs" if i % 4 == 1 else ""]
        for i in range(1, 70)]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    snap, fast, _slow = load_both(dataset, buf.getvalue().encode())
    assert fast.row_count == 69
    assert snap["rows"][2][snap["columns"].index("direccion")] == "Calle 3, esquina\nnorte"
    assert snap["rows"][0][snap["columns"].index("nota")] == "línea|con|barras\tand tabs"
    assert snap["rows"][1][snap["columns"].index("nota")] is None  # an empty cell is NULL on both engines


def test_fallback_values_with_carriage_returns(dataset, blocks):
    """Quoted values holding CRLF or a lone CR (Windows line breaks inside a cell) go to the row
    path, wherever the blocks end."""
    rows = [["folio", "direccion", "monto"]] + [
        [str(i), f"Calle {i}, esquina\r\nnorte" if i % 3 == 0 else f"Av. {i}\rlocal" if i % 5 == 0 else f"Av. {i}",
         "N/D" if i == 40 else str(i * 10)] for i in range(1, 70)]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    snap, fast, _slow = load_both(dataset, buf.getvalue().encode(), columnar=False)
    assert snap["rows"][2][2] == "Calle 3, esquina\r\nnorte" and snap["rows"][4][2] == "Av. 5\rlocal"
    assert fast.report == [{"row": 41, "column": "monto", "message": "«N/D» se cargó como vacío (sin dato)."}]


@pytest.mark.parametrize("body,columnar", [
    (b"a,b\n", True),  # a header only
    (b"a,b", None),  # not even a newline (Arrow cannot skip the header: row path)
    (b"a,b\n1,2", True),
    (b"folio,vacia\n1,\n2,\n3,\n", True),  # a column with no value at all
    (b"folio,valor\n1,  \n2,3\n", True),  # a cell of spaces in a numeric column
    (b"folio,valor\n1,\"\"\n2,\"3\"\n", True),  # quoted empty and quoted number
])
def test_edge_files_load_alike(dataset, body, columnar):
    load_both(dataset, body, columnar=columnar)


def test_a_second_version_has_the_same_rows_added_and_removed(dataset, blocks):
    v1 = "colonia,luminarias,fecha\n" + "".join(f"Colonia {i},{i},2024-01-{1 + i % 28:02d}\n" for i in range(50))
    v2 = "colonia,luminarias,fecha\n" + "".join(f"Colonia {i},{i + (i % 7 == 0)},2024-01-{1 + i % 28:02d}\n"
                                                for i in range(5, 60))
    _snap, fast1, slow1 = load_both(dataset, v1.encode())
    previous = (fast1.resource, slow1.resource)
    snap, fast2, slow2 = load_both(dataset, v2.encode(), previous=previous)
    # rows 0-4 removed, 50-59 added, every seventh changed (7, 14, …, 49 in v1; 56 is new anyway)
    changed = len([i for i in range(5, 50) if i % 7 == 0])
    assert (snap["rows_added"], snap["rows_removed"]) == (10 + changed, 5 + changed)
    assert fast2.number == slow2.number == 2
    # the fingerprints of either path compare with the other's
    assert tables.diff_counts(fast2.table_name, slow1.table_name) == (10 + changed, 5 + changed)
    assert tables.diff_counts(fast1.table_name, slow1.table_name) == (0, 0)


def test_a_quoted_crlf_split_by_a_block_boundary_loads_by_the_row_path(dataset):
    """The Arrow bug above, in a load: the columnar path would store "uno\\rdos" (and that row's
    `_hash` would differ, so a new version would count it added and removed)."""
    snap, _fast, _slow = load_both(dataset, crlf_at(files.COLUMNAR_BLOCK - 1), columnar=False)
    assert snap["rows"][-2][1:3] == (999998, "uno\r\ndos")


_TYPED_VALUES = {
    "int": ["1", "27", "1,234", "-5", "12,000,000", "0"],
    "money": ["$1,234.50", "$12.00", "-$3.25", "$0.5"],
    "numeric": ["0.5", "1e3", "3.25", "-7.0", "10"],
    "date": ["31/03/2024", "1/2/2024", "29/02/2024", "2024-03-31"],
    "timestamp": ["2024-01-01 10:00", "2024-01-02T23:59:59.5", "31/03/2024 08:15", "2024-05-05"],
    "bool": ["sí", "No", "si", "NO", "true", "Falso"],
    "code": ["007", "27000", "0450"],
    "text": ["Centro", "Torreón Jardín", "Ampliación “Sur”", "Peñón, sector 2", "dijo \"hola\"", "línea\nnueva",
             "a;b|c\td"],
}
_ODD = ["", "", "", "N/D", "-", "sin dato", "  ", "mil", "abc"]


@st.composite
def typed_grid(draw):
    kinds = draw(st.lists(st.sampled_from(sorted(_TYPED_VALUES)), min_size=1, max_size=5))
    n = draw(st.integers(0, 40))
    columns = []
    for kind in kinds:
        usual = st.sampled_from(_TYPED_VALUES[kind])
        columns.append(draw(st.lists(st.one_of(usual, usual, usual, st.sampled_from(_ODD)), min_size=n, max_size=n)))
    folios = draw(st.lists(st.sampled_from(["A", "B", "Ñ", "x y"]), min_size=n, max_size=n))
    rows = [[f"{folios[r]}{r}", *(c[r] for c in columns)] for r in range(n)]  # never a row of empty cells
    return (["folio", *[f"{k} {i}" for i, k in enumerate(kinds)]], rows, draw(st.sampled_from(DELIMITERS)),
            draw(st.sampled_from(["utf-8", "cp1252"])), draw(st.sampled_from(["\r\n", "\n"])),
            draw(st.sampled_from([None, 256, 1024])))


def test_random_typed_grids_load_alike(dataset, monkeypatch):
    """Small random grids of typed columns with empty cells, "no data" markers and odd values,
    any delimiter and line end, UTF-8 or Windows-1252, Arrow blocks of any size: the same load.
    (The delimiter is sniffed, so a grid may read ragged and fall back; most must not.)"""
    paths = []

    @hsettings(max_examples=30, deadline=None, database=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(grid=typed_grid())
    def check(grid):
        header, rows, delimiter, encoding, term, block = grid
        buf = io.StringIO()
        csv.writer(buf, delimiter=delimiter, lineterminator=term).writerows([header, *rows])
        with monkeypatch.context() as mp:
            if block:
                mp.setattr(files, "COLUMNAR_BLOCK", block)
            snap, _fast, _slow = load_both(dataset, buf.getvalue().encode(encoding), columnar=None)
        paths.append(snap["columnar"])

    check()
    assert paths.count(True) >= len(paths) * 2 // 3, paths


# --- 3. Files the columnar reader leaves to the row path ------------------------------------

def _numbered(n: int, start: int = 1) -> str:
    return "".join(f"{i},{i * 10},Colonia {i % 5}\n" for i in range(start, start + n))


def test_fallback_blank_line_inside(dataset, monkeypatch):
    monkeypatch.setattr(files, "COLUMNAR_BLOCK", 1024)  # the blank line is several batches in
    body = "folio,monto,colonia\n" + _numbered(100) + "\n" + _numbered(20, 101).replace("110,1100", "110,N/D")
    _snap, fast, _slow = load_both(dataset, body.encode(), columnar=False)
    assert fast.row_count == 120
    # the blank line is row 102 and keeps its number: folio 110 is on row 112
    assert fast.report == [{"row": 112, "column": "monto", "message": "«N/D» se cargó como vacío (sin dato)."}]


def test_fallback_ragged_rows(dataset):
    body = "folio,monto,colonia\n" + _numbered(10) + "11,110\n" + _numbered(5, 12) + "17,170,Centro,extra\n"
    _snap, fast, _slow = load_both(dataset, body.encode(), columnar=False)
    assert fast.report == [
        {"row": 12, "column": None, "message": "La fila tiene 2 campos y el encabezado 3; se completó con vacíos."},
        {"row": 18, "column": None,
         "message": "La fila tiene 4 campos y el encabezado 3; se descartaron los sobrantes."}]


def test_fallback_header_not_on_the_first_line(dataset):
    body = "\n\r\nfolio,monto,colonia\n" + _numbered(10).replace("4,40", "4,N/D")
    _snap, fast, _slow = load_both(dataset, body.encode(), columnar=False)
    assert fast.row_count == 10
    assert fast.report == [{"row": 7, "column": "monto", "message": "«N/D» se cargó como vacío (sin dato)."}]


def test_fallback_row_longer_than_a_block(dataset, monkeypatch):
    monkeypatch.setattr(files, "COLUMNAR_BLOCK", 1024)
    long_text = "Descripción muy larga " * 80  # > 1024 bytes, after several blocks
    body = "folio,monto,descripcion\n" + "".join(f"{i},{i},corta {i}\n" for i in range(1, 200)) + \
        f"200,mil,\"{long_text}\"\n" + "".join(f"{i},{i},corta {i}\n" for i in range(201, 220))
    _snap, fast, _slow = load_both(dataset, body.encode(), columnar=False)
    assert fast.row_count == 219 and [(e["row"], e["column"]) for e in fast.report] == [(201, "monto")]


def test_fallback_one_column(dataset):
    body = "nombre\nAna\n   \nLuis\nN/D\n"
    snap, fast, _slow = load_both(dataset, body.encode(), columnar=False)
    assert fast.row_count == 3 and [row[1] for row in snap["rows"]] == ["Ana", "Luis", "N/D"]


def test_fallback_undecodable_windows_1252_byte(dataset, monkeypatch):
    monkeypatch.setattr(files, "COLUMNAR_BLOCK", 1024)
    body = ("colonia;monto\r\n" + "".join(f"Colonia “{i}”;{i}\r\n" for i in range(150))).encode("cp1252") + \
        b"Colonia \x81 rara;N/D\r\n" + "Última;5\r\n".encode("cp1252")
    snap, fast, _slow = load_both(dataset, body, columnar=False)
    assert fast.encoding == "cp1252" and fast.row_count == 152
    assert snap["rows"][150][1] == "Colonia \ufffd rara"
    assert fast.report == [{"row": 152, "column": "monto", "message": "«N/D» se cargó como vacío (sin dato)."}]
