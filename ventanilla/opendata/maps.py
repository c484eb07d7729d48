"""Maps of GeoJSON resources drawn on the server as accessible SVG: no tiles, no scripts.

Features are projected to their bounding box with an equirectangular projection (x scaled by the
cosine of the central latitude, which is exact enough at city scale). Points are capped: a map of
75,474 streetlights draws the first `max_points` and says so; the page offers the download."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

POINT_COLOUR = "#0072B2"
LINE_COLOUR = "#D55E00"
FILL_COLOUR = "#009E73"
MAX_VERTICES = 200_000  # across all features: keeps the page small


@dataclass
class MapResult:
    svg: str
    drawn: int = 0
    total: int = 0
    skipped_points: int = 0
    invalid: int = 0
    bbox: tuple[float, float, float, float] | None = None  # min lon, min lat, max lon, max lat
    kinds: dict[str, int] = field(default_factory=dict)


def _valid_position(p) -> bool:
    return (isinstance(p, (list, tuple)) and len(p) >= 2
            and all(isinstance(c, (int, float)) and not isinstance(c, bool) and math.isfinite(c) for c in p[:2])
            and -180 <= p[0] <= 180 and -90 <= p[1] <= 90)


def _parts(geometry: Mapping | None) -> Iterable[tuple[str, list]]:
    """(kind, list of rings/lines/points) for each simple geometry inside `geometry`."""
    if not isinstance(geometry, Mapping):
        return
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "GeometryCollection":
        for g in geometry.get("geometries") or []:
            yield from _parts(g)
    elif kind == "Point":
        yield "point", [coords]
    elif kind == "MultiPoint":
        yield "point", list(coords or [])
    elif kind == "LineString":
        yield "line", [coords]
    elif kind == "MultiLineString":
        yield "line", list(coords or [])
    elif kind == "Polygon":
        yield "polygon", list(coords or [])
    elif kind == "MultiPolygon":
        for polygon in coords or []:
            yield "polygon", list(polygon or [])


def _positions(kind: str, items: list) -> list:
    if kind == "point":
        return [p for p in items if _valid_position(p)]
    return [p for ring in items if isinstance(ring, list) for p in ring if _valid_position(p)]


def feature_label(feature: Mapping, index: int) -> str:
    props = feature.get("properties") if isinstance(feature, Mapping) else None
    if isinstance(props, Mapping):
        for key in ("nombre", "name", "NOMBRE", "Name", "titulo", "title", "id", "clave"):
            if props.get(key) not in (None, ""):
                return str(props[key])[:120]
    return f"#{index + 1}"


def render_map(features: Iterable[Mapping], *, title: str, description: str, total: int | None = None,
               max_points: int = 2000, chart_id: str = "mapa", width: int = 640) -> MapResult:
    """The features as SVG. `total` is the number of features in the whole resource when only a
    part is passed (so the caption can say how many were left out)."""
    shapes: list[tuple[str, list, int]] = []
    invalid = points = skipped = vertices = count = 0
    kinds: dict[str, int] = {}
    for index, feature in enumerate(features):
        count += 1
        geometry = feature.get("geometry") if isinstance(feature, Mapping) else None
        parts = list(_parts(geometry))
        if not parts or not any(_positions(k, items) for k, items in parts):
            invalid += 1
            continue
        is_point = all(k == "point" for k, _ in parts)
        if is_point:
            if points >= max_points:
                skipped += 1
                continue
            points += 1
        n = sum(len(_positions(k, items)) for k, items in parts)
        if vertices + n > MAX_VERTICES:
            skipped += 1
            continue
        vertices += n
        for kind, items in parts:
            kinds[kind] = kinds.get(kind, 0) + 1
            shapes.append((kind, items, index))
    all_positions = [p for kind, items, _ in shapes for p in _positions(kind, items)]
    result = MapResult(svg="", total=total if total is not None else count, invalid=invalid,
                       skipped_points=skipped, kinds=kinds)
    result.drawn = len({index for _, _, index in shapes})
    if all_positions:
        lons, lats = [p[0] for p in all_positions], [p[1] for p in all_positions]
        result.bbox = (min(lons), min(lats), max(lons), max(lats))
    result.svg = _svg(shapes, result.bbox, title=title, description=description, chart_id=chart_id, width=width)
    return result


def _svg(shapes, bbox, *, title: str, description: str, chart_id: str, width: int) -> str:
    pad = 12
    if bbox is None:
        min_lon = min_lat = 0.0
        max_lon = max_lat = 1.0
    else:
        min_lon, min_lat, max_lon, max_lat = bbox
    k = math.cos(math.radians((min_lat + max_lat) / 2))
    span_x = max((max_lon - min_lon) * k, 1e-9)
    span_y = max(max_lat - min_lat, 1e-9)
    if span_x < 1e-6 and span_y < 1e-6:  # one point: a small square around it
        span_x = span_y = 0.01
        min_lon -= 0.005 / max(k, 1e-6)
        min_lat -= 0.005
    inner_w = width - 2 * pad
    scale = inner_w / span_x
    inner_h = min(span_y * scale, inner_w * 1.5)
    scale = min(scale, inner_h / span_y) if span_y * scale > inner_h else scale
    height = int(inner_h + 2 * pad)

    def project(p) -> str:
        x = pad + (p[0] - min_lon) * k * scale
        y = pad + inner_h - (p[1] - min_lat) * scale
        return f"{x:.1f},{y:.1f}"

    ids = f"{chart_id}-title {chart_id}-desc"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="map" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-labelledby={quoteattr(ids)}>',
        f'<title id={quoteattr(chart_id + "-title")}>{escape(title)}</title>',
        f'<desc id={quoteattr(chart_id + "-desc")}>{escape(description)}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#f3f2f1" stroke="#b1b4b6"/>',
    ]
    polygons, lines, dots = [], [], []
    for kind, items, _index in shapes:
        if kind == "point":
            for p in items:
                if _valid_position(p):
                    x, y = project(p).split(",")
                    dots.append(f'<circle cx="{x}" cy="{y}" r="2.5"/>')
        else:
            d = []
            for ring in items:
                ring = [p for p in ring if _valid_position(p)] if isinstance(ring, list) else []
                if len(ring) < 2:
                    continue
                d.append("M" + " L".join(project(p) for p in ring) + ("Z" if kind == "polygon" else ""))
            if d:
                target = polygons if kind == "polygon" else lines
                target.append(f'<path d="{" ".join(d)}"/>')
    if polygons:
        out.append(f'<g class="map__polygons" fill="{FILL_COLOUR}" fill-opacity="0.35" stroke="{FILL_COLOUR}" '
                   f'stroke-width="1" fill-rule="evenodd">{"".join(polygons)}</g>')
    if lines:
        out.append(f'<g class="map__lines" fill="none" stroke="{LINE_COLOUR}" stroke-width="2">{"".join(lines)}</g>')
    if dots:
        out.append(f'<g class="map__points" fill="{POINT_COLOUR}" stroke="#ffffff" stroke-width="0.5">{"".join(dots)}</g>')
    out.append("</svg>")
    return "".join(out)
