"""Pure functions of the chart builder and the map: data in, accessible SVG out."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ventanilla.opendata import charts, maps
from ventanilla.opendata.chart_data import ChartRequest, build_sql
from ventanilla.opendata.services import OpendataError

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.text
    assert desc is not None and desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert "style" not in svg
    return root


def test_bar_chart_has_one_bar_per_category_and_series_and_escapes_text():
    svg = charts.bar_chart(
        ["Centro", "Nazas", "<script>alert(1)</script>"],
        [charts.Series("Watts", [100, 150, None]), charts.Series("Luminarias", [3, 1, 2])],
        title="Watts & luminarias por colonia", description="Dos series", x_label="Colonia", y_label="Watts",
    )
    root = parse(svg)
    bars = [e for e in root.iter(f"{SVG}rect") if e.get("class") == "bar"]
    assert len(bars) == 5  # 3 categories × 2 series, minus the missing value
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Colonia" in texts and "Watts" in texts  # axis labels
    assert "150" in texts  # a readable tick value
    # Colour-blind-safe palette: the two series use the first two Okabe–Ito colours.
    assert {b.get("fill") for b in bars} == {charts.PALETTE[0], charts.PALETTE[1]}


def test_negative_values_draw_bars_to_the_left_of_zero():
    root = parse(charts.bar_chart(["a", "b"], [charts.Series("saldo", [-50, 100])], title="t", description="d",
                                  x_label="x", y_label="y"))
    a, b = [e for e in root.iter(f"{SVG}rect") if e.get("class") == "bar"]
    assert float(a.get("x")) + float(a.get("width")) == pytest.approx(float(b.get("x")), abs=0.2)


def test_line_chart_draws_one_path_per_series_with_distinct_dashes():
    root = parse(charts.line_chart(
        ["2021", "2022", "2023", "2024"],
        [charts.Series("Ingresos", [10, 12, 15, 14]), charts.Series("Egresos", [9, 13, 14, 16])],
        title="Finanzas", description="Dos líneas", x_label="Año", y_label="Millones de pesos",
    ))
    paths = [e for e in root.iter(f"{SVG}path") if e.get("class") == "line"]
    assert len(paths) == 2
    assert paths[0].get("stroke-dasharray") != paths[1].get("stroke-dasharray")
    assert len([e for e in root.iter(f"{SVG}circle")]) == 8


def test_empty_chart_still_parses():
    parse(charts.bar_chart([], [charts.Series("v", [])], title="Nada", description="Sin datos", x_label="x",
                           y_label="y"))


@pytest.mark.parametrize("lo,hi", [(0, 1), (0, 7), (-3, 1234567), (5, 5), (0.001, 0.0042)])
def test_nice_ticks_cover_the_range_with_round_steps(lo, hi):
    ticks = charts.nice_ticks(lo, hi)
    assert ticks[0] <= lo and ticks[-1] >= hi
    assert 2 <= len(ticks) <= 12


def test_numbers_are_written_the_mexican_way():
    assert charts.format_number(75474) == "75,474"
    assert charts.format_number(1234.5) == "1,234.5"
    assert charts.format_number(25_000_000) == "25 M"
    assert charts.format_number(None) == "–"


FEATURES = [
    {"type": "Feature", "properties": {"nombre": "Parque España"},
     "geometry": {"type": "Polygon", "coordinates": [[[-103.45, 25.54], [-103.44, 25.54], [-103.44, 25.55], [-103.45, 25.54]]]}},
    {"type": "Feature", "properties": {"nombre": "Calzada Colón"},
     "geometry": {"type": "LineString", "coordinates": [[-103.46, 25.53], [-103.43, 25.56]]}},
    *[{"type": "Feature", "properties": {"id": i}, "geometry": {"type": "Point", "coordinates": [-103.4 - i / 1000, 25.5]}}
      for i in range(10)],
    {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": ["x", 999]}},
]


def test_map_draws_points_lines_and_polygons_inside_the_box():
    result = maps.render_map(FEATURES, title="Parques", description="Mapa de prueba", max_points=5)
    root = parse(result.svg)
    width, height = float(root.get("width")), float(root.get("height"))
    circles = list(root.iter(f"{SVG}circle"))
    assert len(circles) == 5  # capped
    assert result.skipped_points == 5 and result.invalid == 1
    assert result.drawn == 7 and result.total == len(FEATURES)
    for c in circles:
        assert 0 <= float(c.get("cx")) <= width and 0 <= float(c.get("cy")) <= height
    groups = {g.get("class") for g in root.iter(f"{SVG}g")}
    assert {"map__polygons", "map__lines", "map__points"} <= groups
    west, south, east, north = result.bbox
    assert west == pytest.approx(-103.46) and north == pytest.approx(25.56)
    assert maps.feature_label(FEATURES[0], 0) == "Parque España"


def test_map_of_one_point_and_of_nothing_parses():
    parse(maps.render_map(FEATURES[2:3], title="Un punto", description="d").svg)
    assert maps.render_map([], title="Vacío", description="d").drawn == 0


class Field:
    def __init__(self, name, type_, label=""):
        self.name, self.type, self.label = name, type_, label


FIELDS = [Field("colonia", "text"), Field("watts", "int"), Field("costo", "numeric")]


class Params(dict):
    def getlist(self, key):
        value = self.get(key, [])
        return value if isinstance(value, list) else [value]


def test_chart_request_is_validated_against_the_columns():
    req = ChartRequest.parse(Params(tipo="barras", x="colonia", y=["watts", "costo"], agregacion="suma"), FIELDS)
    assert req.ys == ("watts", "costo")
    for bad, field in [
        (Params(tipo="pastel", x="colonia", y=["watts"]), "tipo"),
        (Params(x="nada", y=["watts"]), "x"),
        (Params(x="colonia", y=["colonia"]), "y"),  # text cannot be summed
        (Params(x="colonia", y=[]), "y"),
        (Params(x="colonia", y=["watts"], agregacion="mediana"), "agregacion"),
    ]:
        with pytest.raises(OpendataError) as exc:
            ChartRequest.parse(bad, FIELDS)
        assert exc.value.field == field
    assert ChartRequest.parse(Params(x="colonia", agregacion="conteo"), FIELDS).ys == ()


def test_aggregate_sql_quotes_identifiers_and_caps_categories():
    class R:
        pk = "11111111-2222-3333-4444-555555555555"

    grouped, total = build_sql(R(), ChartRequest("barras", 'col"x', ("watts",), "promedio"))
    assert 'FROM "11111111-2222-3333-4444-555555555555"' in grouped
    assert '"col""x"' in grouped and "AVG(\"watts\")" in grouped and "LIMIT 31" in grouped
    assert total.startswith("SELECT COUNT(*) AS n")
