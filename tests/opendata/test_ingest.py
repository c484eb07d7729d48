"""Ingestion: encodings, delimiters, spreadsheets, JSON and GeoJSON, type inference, the validation
report, versions with rows added and removed, and failures that leave nothing behind."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from django.db import connection

from ventanilla.opendata import datastore, services
from ventanilla.opendata.datastore import bitmaps, tables
from ventanilla.opendata.ingest.types import column_id, normalise_words, unique_ids
from ventanilla.opendata.models import DataField, Resource, ResourceVersion


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def dataset(department):
    return services.create_dataset(by=None, data={"owner_org": department, "title": "Luminarias de Torreón"})


@pytest.fixture
def upload(dataset):
    """Uploads bytes as a new resource of `dataset`; returns the resource (reloaded)."""

    def do(content: bytes, filename: str, **data) -> Resource:
        resource = services.create_resource(dataset, by=None, data={"name": filename, **data},
                                            upload=io.BytesIO(content), filename=filename)
        return Resource.objects.select_related("current_version").get(pk=resource.pk)

    return do


def fields_of(resource) -> dict[str, DataField]:
    return {f.name: f for f in datastore.table_fields(resource)}


def records(resource, **params):
    return datastore.search(resource, {"limit": 1000, **params})["records"]


def ds_tables() -> set[str]:
    return {t for t in connection.introspection.table_names() if t.startswith("ds_")}


def stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


# --- Encodings and delimiters ---------------------------------------------------------------

def test_windows_1252_semicolon_csv_with_accents_gives_text_and_types(upload):
    text = ("Colonia;Número de luminarias;Inversión;Fecha de instalación;¿Funciona?;Código postal\r\n"
            "Centro;1,250;$1,234.50;31/03/2024;Sí;27000\r\n"
            "Torreón Jardín;87;$12.00;01/04/2024;No;27200\r\n"
            "Ampliación Los Ángeles “Sur”;5;-$3.25;15/05/2024;sí;07050\r\n")
    resource = upload(text.encode("cp1252"), "luminarias.csv")
    version = resource.current_version
    assert version.encoding == "cp1252" and version.delimiter == ";"
    assert version.row_count == 3
    f = fields_of(resource)
    assert list(f) == ["colonia", "numero_de_luminarias", "inversion", "fecha_de_instalacion", "funciona",
                       "codigo_postal"]
    assert f["numero_de_luminarias"].source_name == "Número de luminarias"
    assert f["numero_de_luminarias"].label == "Número de luminarias"
    assert [f[n].type for n in f] == ["text", "int", "numeric", "date", "bool", "text"]
    assert f["inversion"].unit == "$"
    rows = records(resource)
    assert rows[2]["colonia"] == "Ampliación Los Ángeles “Sur”"
    assert rows[0]["numero_de_luminarias"] == 1250
    assert rows[0]["inversion"] == 1234.5 and rows[2]["inversion"] == -3.25
    assert rows[0]["fecha_de_instalacion"] == "2024-03-31"
    assert rows[1]["funciona"] is False and rows[2]["funciona"] is True
    assert rows[2]["codigo_postal"] == "07050"  # leading zero kept: postal codes are text
    assert version.report == []
    assert version.sha256 and version.size == len(text.encode("cp1252"))
    assert version.mimetype == "text/csv"


def test_latin1_csv(upload):
    text = "nombre,edad\nJosé Peña,34\nMaría Ñúñez,28\n"
    resource = upload(text.encode("latin-1"), "personas.csv")
    assert resource.current_version.encoding == "latin-1"
    assert [r["nombre"] for r in records(resource)] == ["José Peña", "María Ñúñez"]
    assert fields_of(resource)["edad"].type == "int"


def test_utf8_bom_csv(upload):
    resource = upload("\ufeffid,colonia\n1,Nazario Ortiz Garza\n2,Villa Florida\n".encode(), "colonias.csv")
    assert resource.current_version.encoding == "utf-8"
    assert list(fields_of(resource)) == ["id", "colonia"]  # the BOM is not part of the first header


@pytest.mark.parametrize("delimiter,filename", [("\t", "datos.tsv"), ("|", "datos.csv"), ("\t", "datos.csv")])
def test_tab_and_pipe_delimiters(upload, delimiter, filename):
    lines = [["parque", "superficie_m2", "colonia"], ["Bosque Venustiano Carranza", "152000.5", "Centro"],
             ["Parque Fundadores", "30000", "Torreón Jardín, sector 2"]]
    content = "\n".join(delimiter.join(r) for r in lines).encode()
    resource = upload(content, filename)
    assert resource.current_version.delimiter == delimiter
    rows = records(resource)
    assert rows[1]["colonia"] == "Torreón Jardín, sector 2"
    assert fields_of(resource)["superficie_m2"].type == "numeric"


# --- Spreadsheets, JSON, GeoJSON ------------------------------------------------------------

def xlsx_bytes(rows, sheets=1) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Presupuesto"
    for row in rows:
        ws.append(row)
    for n in range(1, sheets):
        wb.create_sheet(f"Otra {n}").append(["x"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_first_sheet_typed(upload):
    content = xlsx_bytes([
        ["Partida", "Monto aprobado", "Fecha", "Registro", "Clave"],
        ["Alumbrado público", 1500000.75, datetime(2024, 1, 31), datetime(2024, 1, 31, 9, 30), "0012"],
        ["Parques y jardines", 820000, datetime(2024, 2, 29), datetime(2024, 2, 29, 17, 5, 12), "0450"],
    ], sheets=2)
    resource = upload(content, "presupuesto.xlsx")
    version = resource.current_version
    f = fields_of(resource)
    assert [f[n].type for n in f] == ["text", "numeric", "date", "timestamp", "text"]
    rows = records(resource)
    assert rows[0]["monto_aprobado"] == 1500000.75 and rows[1]["monto_aprobado"] == 820000
    assert rows[1]["fecha"] == "2024-02-29" and rows[1]["registro"] == "2024-02-29T17:05:12"
    assert rows[0]["clave"] == "0012"
    assert any("solo se cargó la primera" in item["message"] for item in version.report)
    assert version.mimetype.endswith("spreadsheetml.sheet")


def test_json_array_and_records_object(upload):
    data = [{"planta": "Planta Norte", "ph": 7.2, "cloro": 0.5, "apta": True, "muestra": "2024-05-01"},
            {"planta": "Planta Sur", "ph": 6.9, "cloro": None, "apta": False, "muestra": "2024-05-02",
             "nota": {"analista": "Q. Ruiz"}}]
    resource = upload(json.dumps(data).encode(), "agua.json")
    f = fields_of(resource)
    assert [f[n].type for n in f] == ["text", "numeric", "numeric", "bool", "date", "text"]
    rows = records(resource)
    assert rows[1]["nota"] == '{"analista":"Q. Ruiz"}' and rows[0]["nota"] is None
    resource2 = upload(json.dumps({"records": data, "fuente": "SIMAS"}).encode(), "agua2.json")
    assert records(resource2)[0]["planta"] == "Planta Norte"


def test_geojson_properties_become_columns_and_geometry_is_kept(upload):
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-103.4068, 25.5428]},
         "properties": {"nombre": "Wifi Plaza de Armas", "velocidad_mbps": 50}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-103.43, 25.55]},
         "properties": {"nombre": "Wifi Alameda", "velocidad_mbps": 20, "geometry": "x"}},
    ]}
    resource = upload(json.dumps(fc).encode(), "wifi.geojson")
    version = resource.current_version
    f = fields_of(resource)
    assert list(f) == ["nombre", "velocidad_mbps", "geometry", "geometry_2"]
    assert f["velocidad_mbps"].type == "int" and f["geometry_2"].type == "text"
    row = records(resource)[0]
    assert json.loads(row["geometry_2"]) == {"type": "Point", "coordinates": [-103.4068, 25.5428]}
    assert version.file and version.mimetype == "application/geo+json"
    assert records(resource, q="plaza")[0]["nombre"] == "Wifi Plaza de Armas"
    assert records(resource, q="103") == []  # coordinates are not words to search


# --- Failures leave nothing behind -----------------------------------------------------------

def test_binary_renamed_csv_is_refused_and_nothing_is_left(upload, dataset, media):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20
    with pytest.raises(services.OpendataError) as err:
        upload(png, "datos.csv")
    assert "no es un CSV de texto" in err.value.message
    assert not ResourceVersion.objects.exists() and not Resource.objects.filter(dataset=dataset).exists()
    assert ds_tables() == set() and stored_files(media) == []


def test_truncated_xlsx_gives_clear_error_and_nothing_is_left(upload, media):
    content = xlsx_bytes([["a", "b"], *[[i, f"fila {i}"] for i in range(2000)]])
    with pytest.raises(services.OpendataError) as err:
        upload(content[: len(content) // 2], "presupuesto.xlsx")
    assert "dañado o incompleto" in err.value.message
    assert not ResourceVersion.objects.exists() and ds_tables() == set() and stored_files(media) == []


def test_corrupt_sheet_inside_valid_zip_is_refused(upload, media):
    good = xlsx_bytes([["a"], [1]])
    src = zipfile.ZipFile(io.BytesIO(good))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            dst.writestr(item, data)
    with pytest.raises(services.OpendataError) as err:
        upload(out.getvalue(), "roto.xlsx")
    assert "dañado o incompleto" in err.value.message
    assert ds_tables() == set() and stored_files(media) == []


@pytest.mark.parametrize("content,filename,words", [
    (b"", "vacio.csv", "vacío"),
    (b"[1, 2, 3]", "numeros.json", "no es un objeto"),
    (b'{"a": [1, 2', "roto.json", "mal formado"),
    (b"hola", "datos.json", "no es JSON"),
    (b"not a zip at all", "hoja.xlsx", "no es un XLSX"),
])
def test_unreadable_files_give_clear_errors(upload, media, content, filename, words):
    with pytest.raises(services.OpendataError) as err:
        upload(content, filename)
    assert words in err.value.message
    assert ds_tables() == set() and stored_files(media) == []


def test_failure_after_the_table_was_loaded_drops_it(upload, media, monkeypatch):
    def boom(*args, **kwargs):
        raise services.OpendataError("falla simulada al indexar")

    monkeypatch.setattr(tables, "finish_table", boom)
    with pytest.raises(services.OpendataError):
        upload(b"a,b\n1,2\n", "datos.csv")
    assert ds_tables() == set() and stored_files(media) == [] and not ResourceVersion.objects.exists()


def test_too_large_upload_is_refused(upload, media, monkeypatch):
    from ventanilla.opendata.ingest import files

    monkeypatch.setattr(files, "MAX_UPLOAD_BYTES", 1000)
    monkeypatch.setattr(files, "CHUNK", 256)
    with pytest.raises(services.OpendataError) as err:
        upload(b"a,b\n" + b"1,2\n" * 500, "grande.csv")
    assert err.value.status == 413 and stored_files(media) == []


def test_non_tabular_upload_is_stored_without_table(upload):
    resource = upload(b"%PDF-1.4 minimal", "acta.pdf")
    version = resource.current_version
    assert version.mimetype == "application/pdf" and not version.table_name and not resource.datastore_active
    with pytest.raises(services.OpendataError) as err:
        datastore.search(resource, {})
    assert err.value.status == 404


# --- Inference and the validation report -------------------------------------------------------

def test_validation_report_names_row_and_column(upload):
    text = ("folio,monto,fecha,,colonia,colonia\n"
            "1,100.5,2024-01-01,x,Centro,a\n"
            "2,N/D,2024-01-02,y,Centro,b\n"
            "3,200,2024-01-03\n"
            "4,300,2024-01-04,z,Centro,c,extra\n")
    resource = upload(text.encode(), "pagos.csv")
    report = resource.current_version.report
    f = fields_of(resource)
    assert f["monto"].type == "numeric"  # one "N/D" does not turn the column into text
    assert list(f) == ["folio", "monto", "fecha", "columna_4", "colonia", "colonia_2"]
    assert {"row": 3, "column": "monto", "message": "«N/D» se cargó como vacío (sin dato)."} in report
    assert any(i["row"] == 1 and i["column"] == "columna_4" for i in report)  # empty header
    assert any(i["row"] == 1 and "se repite" in i["message"] for i in report)  # duplicate header
    assert any(i["row"] == 4 and "3 campos" in i["message"] for i in report)
    assert any(i["row"] == 5 and "7 campos" in i["message"] for i in report)
    assert records(resource)[1]["monto"] is None


def test_an_odd_value_keeps_the_column_text_and_is_reported(upload):
    lines = ["clave,importe"] + [f"{i},{i * 10}" for i in range(1, 300)] + ["300,mil"]
    resource = upload("\n".join(lines).encode(), "importes.csv")
    assert fields_of(resource)["importe"].type == "text"
    assert any(i["row"] == 301 and i["column"] == "importe" and "«mil»" in i["message"]
               for i in resource.current_version.report)


def test_types_are_inferred_over_the_whole_file(upload):
    lines = ["n,cp"] + [f"{i},{27000 + i}" for i in range(1, 20001)] + ["20001,07000"]
    resource = upload("\n".join(lines).encode(), "largo.csv")
    f = fields_of(resource)
    assert f["n"].type == "int" and f["cp"].type == "text"  # the last row decides: "07000" is a code
    assert resource.current_version.row_count == 20001


def test_report_is_capped(upload):
    lines = ["a,b"] + ["1"] * 1500
    resource = upload("\n".join(lines).encode(), "corto.csv")
    report = resource.current_version.report
    assert len(report) == 1001 and "500 problemas más" in report[-1]["message"]


def test_column_ids():
    assert column_id("Año de alta") == "ano_de_alta"
    assert column_id("2024 Total ($)") == "c_2024_total"
    assert column_id("  ") == ""
    ids, problems = unique_ids(["Monto", "monto", "", "_id", "x" * 100])
    assert ids == ["monto", "monto_2", "columna_3", "id", "x" * 60]
    assert len(problems) == 2
    assert normalise_words("¡Camión-Rojo #5 en PEÑÓN!").split() == ["camion", "rojo", "5", "en", "penon"]


def test_type_decisions(upload):
    text = ("entero,miles,decimal,dinero,fecha_iso,fecha_mx,hora,logico,curp,mixto_fecha\n"
            "1,\"1,234\",0.5,$10,2024-12-31,1/2/2024,2024-01-01 10:00,true,GOMA900101HCLRRN09,2024-01-01\n"
            "-7,\"12,000,000\",1e3,\"$1,000.25\",2025-01-01,28/02/2024,2024-01-02T23:59:59.5,FALSE,GOMA900101MCLRRN01,"
            "2024-01-02 08:00\n")
    resource = upload(text.encode(), "tipos.csv")
    f = fields_of(resource)
    assert {n: f[n].type for n in f} == {
        "entero": "int", "miles": "int", "decimal": "numeric", "dinero": "numeric", "fecha_iso": "date",
        "fecha_mx": "date", "hora": "timestamp", "logico": "bool", "curp": "text", "mixto_fecha": "timestamp"}
    rows = records(resource)
    assert rows[1]["miles"] == 12_000_000 and rows[1]["decimal"] == 1000.0 and rows[1]["dinero"] == 1000.25
    assert rows[0]["fecha_mx"] == "2024-02-01" and rows[1]["hora"] == "2024-01-02T23:59:59.500000"
    assert rows[0]["mixto_fecha"] == "2024-01-01T00:00:00"


# --- Versions ---------------------------------------------------------------------------------

def test_reupload_creates_version_2_with_rows_added_and_removed(upload):
    v1 = "colonia,luminarias\nCentro,10\nTorreón Jardín,20\nLos Ángeles,30\n"
    resource = upload(v1.encode(), "luminarias.csv")
    first = resource.current_version
    assert first.number == 1 and first.rows_added is None
    v2 = "colonia,luminarias\nCentro,10\nLos Ángeles,31\nNueva Laguna,5\nCampestre,7\n"
    second = services.add_version(resource, upload=io.BytesIO(v2.encode("cp1252")), filename="luminarias.csv",
                                  by=None)
    resource.refresh_from_db()
    assert second.number == 2 and resource.current_version_id == second.pk
    assert (second.rows_added, second.rows_removed) == (3, 2)
    assert second.table_name != first.table_name and tables.table_exists(first.table_name)
    assert ResourceVersion.objects.get(pk=first.pk).file  # the earlier file stays downloadable
    assert datastore.search(resource, {})["total"] == 4


def test_a_late_odd_value_is_reported_whatever_the_batch(upload):
    """150 integers then two "abc": the column is text because of one odd value, and the report
    says so (the batch boundaries of the reading do not matter)."""
    resource = upload(("n\n" + "".join(f"{i}\n" for i in range(1, 151)) + "abc\nabc\n").encode(), "n.csv")
    messages = [e["message"] for e in resource.current_version.report]
    assert any("«abc»" in m and "número entero" in m for m in messages), messages


def test_rows_added_against_a_version_with_older_fingerprints_are_unknown(upload):
    """A version loaded before this release's fingerprints (no `fingerprints` mark) cannot be
    compared row by row: the counts stay unknown ("—") rather than wrong."""
    resource = upload(b"colonia,luminarias\nCentro,10\n", "luminarias.csv")
    first = resource.current_version
    ResourceVersion.objects.filter(pk=first.pk).update(bitmaps={"columns": first.bitmaps["columns"],
                                                                "free_text": False})
    resource.refresh_from_db()
    second = services.add_version(resource, upload=io.BytesIO(b"colonia,luminarias\nCentro,10\nNorte,2\n"),
                                  filename="luminarias.csv", by=None)
    assert (second.rows_added, second.rows_removed) == (None, None) and second.row_count == 2


def test_fingerprints_tell_rows_apart_and_are_stable():
    import numpy as np

    from ventanilla.opendata.ingest import cell_hashes, fingerprints

    rows = [("Centro", "10"), ("Centro", "11"), ("Centro", "10"), ("", ""), ("Ñuñoa", "\ud800"),  # a lone surrogate
            ("10", "Centro")]  # cells swapped
    columns = [[r[0] for r in rows], [r[1] for r in rows]]
    values = fingerprints(columns, [None, None]).tolist()
    assert values[0] == values[2] and len(set(values)) == 5
    # A column given as codes gives the same fingerprints as its text.
    names = ["Centro", "", "Ñuñoa", "10"]
    codes = np.array([names.index(v) for v in columns[0]], dtype=np.uint16)
    assert fingerprints([codes, columns[1]], [cell_hashes(names), None]).tolist() == values
    # The same in every process and release (no random seed): versions loaded earlier compare with it.
    assert cell_hashes(["Centro"]).tolist() == [37215998415433]
    assert values[0] == -3260885820658983692


# --- Memory stays bounded ----------------------------------------------------------------------

def _load_measuring_memory(dataset, path, name):
    """(version, the Python memory peak while loading, in bytes)."""
    import tracemalloc

    tracemalloc.start()
    try:
        with open(path, "rb") as fh:
            resource = services.create_resource(dataset, by=None, data={"name": "Censo"}, upload=fh, filename=name)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    resource.refresh_from_db()
    return resource, peak


def _write_census(path, megabytes: int, *, blank_line: bool = False) -> int:
    filler = "Descripción larga de la luminaria con su ubicación exacta y observaciones del censo " * 4
    with open(path, "w", encoding="utf-8", newline="") as fh:
        if blank_line:
            fh.write("\n")  # the header is not on the first line: Arrow's reader is not even started
        fh.write("folio,colonia,potencia_w,instalada,descripcion\n")
        n = 0
        while fh.tell() < megabytes * 1024 * 1024:
            n += 1
            fh.write(f"L{n:07d},Colonia {n % 300},{50 + n % 400},2024-{1 + n % 12:02d}-{1 + n % 28:02d},"
                     f"{filler}{n}\n")
    return n


@pytest.mark.parametrize("blank_first_line", [False, True], ids=["by columns", "row by row"])
def test_large_files_are_streamed_with_memory_bounded_whatever_their_size(dataset, tmp_path, blank_first_line,
                                                                        monkeypatch):
    """The upload is streamed to storage and read and written in batches, by Arrow's reader (it
    holds a fixed number of blocks read ahead, files.COLUMNAR_BLOCK, about 9 MB) or row by row (a
    blank first line keeps a file from Arrow's reader): the Python memory peak is about the same for
    a file three times larger, and stays under a bound that does not depend on the file (200 MB
    files work the same way). The free words' prefix bitmaps (PostgreSQL) grow with the distinct
    prefixes up to their own bound (bitmaps.MAX_PREFIXES; test_datastore_perf.py): each row's
    description here ends in its own number, so the limit is made small for both files to reach it."""
    monkeypatch.setattr(bitmaps, "MAX_PREFIXES", 1000)
    peaks = []
    for megabytes in (6, 18):
        path = tmp_path / f"censo-{megabytes}.csv"
        n = _write_census(path, megabytes, blank_line=blank_first_line)
        resource, peak = _load_measuring_memory(dataset, path, path.name)
        version = resource.current_version
        assert version.row_count == n and version.size == path.stat().st_size
        assert datastore.search(resource, {"filters": {"folio": f"L{n:07d}"}})["records"][0]["potencia_w"] == 50 + n % 400
        peaks.append(peak)
    small, large = peaks
    assert large < small * 1.25 + 1e6, f"peaks {small / 1e6:.1f} and {large / 1e6:.1f} MB"
    assert large < 16e6


def test_benchmark_builder_loads_the_demo_fines(db):
    from ventanilla.opendata.ingest.bench import build_resource

    resource, seconds, path = build_resource(500)
    try:
        assert resource.current_version.row_count == 500 and seconds > 0
        assert datastore.search(resource, {"limit": 1})["total"] == 500
    finally:
        Path(path).unlink()


def test_too_many_columns_is_refused(upload, media):
    header = ",".join(f"c{i}" for i in range(1001))
    with pytest.raises(services.OpendataError) as err:
        upload(f"{header}\n".encode(), "ancho.csv")
    assert "1001 columnas" in err.value.message and ds_tables() == set() and stored_files(media) == []


def test_create_resource_returns_the_resource_with_its_version(db, department, make_official):
    """Callers get the resource as it is after the upload: current version and datastore flag set."""
    import io

    from ventanilla.identity.models import Role
    from ventanilla.opendata import services

    publisher = make_official(Role.DATA_PUBLISHER, department=department)
    dataset = services.create_dataset(by=publisher, data={"owner_org": department, "title": "Prueba"})
    resource = services.create_resource(dataset, by=publisher, data={"name": "datos.csv"},
                                        upload=io.BytesIO(b"a,b\n1,2\n"), filename="datos.csv")
    assert resource.current_version is not None and resource.current_version.row_count == 1
    assert resource.datastore_active


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.sampled_from(["", " ", "12", "1,250", "007", "3.5", "$4.00", "2024-03-01", "31/12/2024",
                                        "2024-03-01 10:00", "sí", "No", "N/D", "-", "abc", None]), max_size=40),
       cut=st.integers(min_value=1, max_value=41))
def test_a_column_read_in_batches_gets_the_type_of_one_read_value_by_value(values, cut):
    """Pass 1 parses each distinct value of a batch once; the outcome is that of reading the
    column one value at a time: type, first value ruling each type out, markers, money, codes."""
    from ventanilla.opendata.ingest.types import ColumnStats

    rows = list(range(2, len(values) + 2))
    one, batched, arrow = ColumnStats(), ColumnStats(), ColumnStats()
    for k in range(len(values)):
        one.see_column(values[k:k + 1], rows[k:k + 1])
    for start in range(0, len(values), cut):
        batched.see_column(values[start:start + cut], rows[start:start + cut])
        # Arrow columns (an empty cell is null): a batch of known values only counted (see_known)
        part = [v or None for v in values[start:start + cut]]
        distinct = {v for v in part if v is not None}
        if not arrow.see_known(distinct, len(part) - part.count(None)):
            arrow.see_column(part, rows[start:start + cut])
    for other in (batched, arrow):
        assert (other.candidates, other.first_misfit, other.misfits, other.non_empty, other.near_miss()) == (
            one.candidates, one.first_misfit, one.misfits, one.non_empty, one.near_miss())
    assert batched.final_type() == one.final_type()
    assert batched.candidates == one.candidates and batched.first_misfit == one.first_misfit
    assert batched.misfits == one.misfits and batched.non_empty == one.non_empty
    assert batched.near_miss() == one.near_miss()  # the report's "loaded as text because …"
    assert (batched.money, batched.has_code) == (one.money, one.has_code)
    if one.final_type() != "text":
        assert sorted(batched.markers) == one.markers


_CELL = st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=12)  # lone surrogates too


@settings(max_examples=200, deadline=None)
@given(batches=st.lists(st.integers(1, 4).flatmap(lambda ncol: st.tuples(
    st.lists(st.lists(_CELL, min_size=ncol, max_size=ncol), min_size=1, max_size=6),
    st.lists(st.booleans(), min_size=ncol, max_size=ncol))), min_size=0, max_size=4))
def test_the_spill_gives_back_each_batch_as_written(batches):
    """Pass 2 reads pass 1's batches from the spill: the same cells, codes and fingerprints."""
    import numpy as np

    from ventanilla.opendata.ingest.spill import Spill

    def plain(columns):
        return [c.tolist() if isinstance(c, np.ndarray) else list(c) for c in columns]

    with Spill() as spill:
        written = []
        for rows, as_codes in batches:
            columns = [list(c) for c in zip(*rows)]
            coded = {i: np.array([hash(v) % 65536 for v in c], dtype=np.uint16)
                     for i, c in enumerate(columns) if as_codes[i]}
            hashes = [hash(tuple(r)) & (2**48 - 1) for r in rows]
            spill.write(columns, hashes, coded)
            written.append(([coded[i].tolist() if i in coded else c for i, c in enumerate(columns)], hashes))
        for _again in range(2):
            got = [(plain(cols), list(h)) for cols, h in spill]
            assert got == written


def test_the_spill_leaves_no_file_behind(tmp_path, settings):
    from ventanilla.opendata.ingest.spill import Spill

    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    with Spill() as spill:
        spill.write([["a", "b"]], [1, 2])
        assert list(tmp_path.iterdir()) == []  # unlinked from the start
    assert spill.file.closed


def test_nul_characters_are_removed_before_types_are_inferred(upload):
    """Neither engine stores NUL; the types are those of the text as stored."""
    body = json.dumps([{"n": "1\u0000", "d": "2024-01-01\u0000", "t": "a\u0000b"}, {"n": "2", "d": "2024-01-02", "t": "c"}])
    resource = upload(body.encode(), "nul.json")
    fields = fields_of(resource)
    assert (fields["n"].type, fields["d"].type, fields["t"].type) == ("int", "date", "text")
    assert [(r["n"], r["d"], r["t"]) for r in records(resource)] == [(1, "2024-01-01", "ab"), (2, "2024-01-02", "c")]


def test_a_row_has_one_fingerprint_whether_its_columns_were_kept_as_codes_or_text(upload, monkeypatch):
    """The same file loaded twice, once with its columns kept as codes and once as text (no
    column with few enough values), has no rows added or removed."""
    from ventanilla.opendata.datastore import bitmaps

    body = ("colonia,potencia,folio\n" + "".join(f"Colonia {i % 7},{50 + i % 3},L{i}\n" for i in range(1, 600))).encode()
    monkeypatch.setattr(bitmaps, "MAX_VALUES", 100)  # the folios are text, the others codes
    resource = upload(body, "luminarias.csv")
    assert resource.current_version.bitmaps["columns"] == ["colonia", "potencia"]
    monkeypatch.setattr(bitmaps, "MAX_VALUES", 2)
    second = services.add_version(resource, upload=io.BytesIO(body), filename="luminarias.csv", by=None)
    assert second.bitmaps["columns"] == [] and (second.rows_added, second.rows_removed) == (0, 0)
