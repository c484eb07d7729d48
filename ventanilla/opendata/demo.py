"""Torreón's open data demo: datasets of several departments, loaded through `services` and the
real ingestion (the same path as a publisher's upload). Deterministic (seeded) and idempotent:
a dataset that already exists is left alone.

Real figures where public (the IMPLAN indicator series in `demo/implan_indicadores.csv`, the
75,474 streetlights of the PDD, 880 parks, 115 public wifi sites); the rows themselves are
synthetic but plausible (coordinates inside the city, realistic technologies, amounts and
parameters). The big dataset (traffic fines) has one million rows in `seed_demo` (about 17 s
to make and load on SQLite); `seed_demo --opendata-rows N` makes it any size."""

from __future__ import annotations

import csv
import io
import json
import random
import tempfile
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import transaction

from ventanilla.organization import selectors as org_selectors
from ventanilla.organization.services import upsert_department

from . import services
from .models import Dataset, Theme

DEMO_DIR = Path(__file__).parent / "demo"
SEED = 2026
STREETLIGHTS = 75_474
PARKS = 880
WIFI_SITES = 115
FINES_DEFAULT = 1_000_000

# The city's urban area, roughly (latitude, longitude).
LAT = (25.485, 25.610)
LON = (-103.470, -103.330)

COLONIAS = [
    ("Centro", 1), ("Primero de Cobián Centro", 1), ("Moderna", 1), ("Los Ángeles", 2), ("Nueva Los Ángeles", 2),
    ("Torreón Jardín", 2), ("Campestre La Rosita", 3), ("Residencial Senderos", 3), ("San Isidro", 3),
    ("La Merced", 4), ("Las Margaritas", 4), ("Villa Florida", 4), ("Valle Oriente", 5), ("Abastos", 5),
    ("Ciudad Nazas", 5), ("Zaragoza Sur", 6), ("Eduardo Guerra", 6), ("Aviación", 6), ("Nueva California", 7),
    ("Villa California", 7), ("Residencial del Norte", 7), ("Lázaro Cárdenas", 8), ("Nuevo México", 8),
    ("Vencedora", 8), ("San Joaquín", 9), ("Fidel Velázquez", 9), ("Compresora", 9), ("Jacarandas", 10),
    ("Magdalenas", 10), ("Carolinas", 10),
]

THEMES = {
    "servicios-publicos": ("Servicios públicos", "Alumbrado, parques, limpieza y otros servicios de la ciudad."),
    "agua": ("Agua", "Calidad, abasto y saneamiento del agua."),
    "finanzas-publicas": ("Finanzas públicas", "Presupuesto, ingresos y gasto del municipio."),
    "movilidad": ("Movilidad", "Tránsito, vialidad y transporte."),
    "indicadores": ("Indicadores de la ciudad", "Series de indicadores para medir el desarrollo de la ciudad."),
    "conectividad": ("Conectividad", "Internet público y gobierno digital."),
    "medio-ambiente": ("Medio ambiente", "Áreas verdes, calidad del aire y residuos."),
}

EXTRA_DEPARTMENTS = {
    "implan": ("Instituto Municipal de Planeación y Competitividad de Torreón (IMPLAN)", "IMPLAN", "implan@torreon.gob.mx"),
    "innovacion": ("Dirección de Innovación y Gobierno Digital", "DIGD", "gobiernodigital@torreon.gob.mx"),
}
# Used only when the catalogue demo has not created them (slugs as in catalog/demo/torreon.json).
BASE_DEPARTMENTS = {
    "servicios-publicos": ("Dirección General de Servicios Públicos Municipales", "DGSPM", "serviciospublicos@torreon.gob.mx"),
    "medio-ambiente": ("Dirección General de Medio Ambiente", "DGMA", "medioambiente@torreon.gob.mx"),
    "simas": ("Sistema Municipal de Aguas y Saneamiento de Torreón (SIMAS Torreón)", "SIMAS", "atencion@simastorreon.gob.mx"),
    "tesoreria": ("Tesorería Municipal", "TES", "ingresos@torreon.gob.mx"),
    "transito-vialidad": ("Dirección de Tránsito y Vialidad", "DTV", "transito@torreon.gob.mx"),
}


def _department(slug: str):
    department = org_selectors.department_by_slug(slug)
    if department is None:
        name, acronym, email = {**BASE_DEPARTMENTS, **EXTRA_DEPARTMENTS}[slug]
        department = upsert_department(slug=slug, name=name, acronym=acronym, email=email)
    return department


def _point(rng: random.Random, sector: int) -> tuple[float, float]:
    """A point in one of ten bands of the city, so each sector sits in its own area."""
    band = (LAT[1] - LAT[0]) / 10
    lat = LAT[0] + band * (sector - 1) + rng.random() * band
    return round(lat, 6), round(LON[0] + rng.random() * (LON[1] - LON[0]), 6)


def _csv_file(header: Sequence[str], rows: Iterable[Sequence[Any]]):
    out = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    text.flush()
    text.detach()
    out.seek(0)
    return out


def _geojson_file(features: Iterable[dict]):
    out = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)
    out.write(json.dumps({"type": "FeatureCollection", "features": list(features)}, ensure_ascii=False).encode())
    out.seek(0)
    return out


def _dataset(data: dict[str, Any]) -> Dataset | None:
    """Creates the dataset unless it exists (then None: the builder skips it)."""
    if Dataset.objects.filter(name=data["name"]).exists():
        return None
    return services.create_dataset(by=None, data=data)


def _resource(dataset: Dataset, name: str, description: str, upload, filename: str) -> None:
    try:
        services.create_resource(dataset, by=None, data={"name": name, "description": description},
                                 upload=upload, filename=filename)
    finally:
        upload.close()


# --- The datasets -------------------------------------------------------------------------------

def streetlights(rng: random.Random, n: int) -> None:
    ds = _dataset({
        "name": "inventario-de-luminarias", "owner_org": _department("servicios-publicos"),
        "title": "Inventario de luminarias del alumbrado público",
        "notes": ("Cada luminaria del alumbrado público municipal con su tecnología, potencia, poste, estado "
                  "y ubicación. El Programa de Desarrollo Digital cuenta 75,474 luminarias en la ciudad."),
        "tags": ["alumbrado", "luminarias", "energía"], "groups": ["servicios-publicos"],
        "maintainer": "Coordinación de Alumbrado Público", "update_frequency": "mensual",
        "spatial": "Torreón, Coahuila", "temporal_start": "2010-01-01", "temporal_end": "2026-05-31",
    })
    if ds is None:
        return
    techs = [("LED", [40, 60, 90, 120, 150], 0.62), ("Vapor de sodio alta presión", [100, 150, 250], 0.30),
             ("Aditivos metálicos", [150, 250, 400], 0.08)]
    poles = ["Metálico", "Concreto", "Madera", "Adosado a fachada"]
    states = [("Funcionando", 0.93), ("Apagada", 0.04), ("En reparación", 0.03)]
    rows, centro = [], []
    for i in range(1, n + 1):
        colonia, sector = COLONIAS[rng.randrange(len(COLONIAS))]
        tech = rng.choices(techs, weights=[t[2] for t in techs])[0]
        lat, lon = _point(rng, sector)
        state = rng.choices([s[0] for s in states], weights=[s[1] for s in states])[0]
        installed = date(2010, 1, 1) + timedelta(days=rng.randrange(16 * 365))
        row = [f"LUM-{i:06d}", colonia, sector, tech[0], rng.choice(tech[1]), rng.choice(poles),
               rng.choice([6, 7.5, 9, 12]), state, lat, lon, installed.isoformat()]
        rows.append(row)
        if sector == 1:
            centro.append(row)
    header = ["clave", "colonia", "sector", "tecnologia", "potencia_w", "tipo_poste", "altura_m", "estado",
              "latitud", "longitud", "fecha_instalacion"]
    _resource(ds, "Luminarias (CSV)", "Todas las luminarias, una por fila.", _csv_file(header, rows),
              "luminarias.csv")
    features = ({"type": "Feature", "geometry": {"type": "Point", "coordinates": [r[9], r[8]]},
                 "properties": dict(zip(header[:8], r[:8], strict=True))} for r in centro[:3000])
    _resource(ds, "Luminarias del sector 1, Centro (GeoJSON)", "Para verlas en el mapa.",
              _geojson_file(features), "luminarias-sector-1.geojson")


def parks(rng: random.Random, n: int) -> None:
    ds = _dataset({
        "name": "parques-y-plazas", "owner_org": _department("medio-ambiente"),
        "title": "Parques, plazas y áreas verdes",
        "notes": "Los 880 parques, plazas y áreas verdes que mantiene el municipio, con superficie y equipamiento.",
        "tags": ["parques", "áreas verdes", "plazas"], "groups": ["medio-ambiente", "servicios-publicos"],
        "update_frequency": "anual", "spatial": "Torreón, Coahuila", "license_id": "cc-by-4.0",
    })
    if ds is None:
        return
    kinds = [("Plaza", 800, 6000), ("Parque vecinal", 1500, 15000), ("Área verde", 200, 3000),
             ("Camellón", 300, 5000), ("Unidad deportiva", 8000, 60000)]
    named = ["Plaza de Armas", "Bosque Venustiano Carranza", "Parque Fundadores", "Plaza Mayor",
             "Bosque Urbano", "Parque Las Etnias", "Parque Xochimilco"]
    features = []
    for i in range(1, n + 1):
        colonia, sector = COLONIAS[rng.randrange(len(COLONIAS))]
        kind, low, high = rng.choice(kinds)
        name = named[i - 1] if i <= len(named) else f"{kind} {colonia} {i}"
        lat, lon = _point(rng, sector)
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                         "properties": {"clave": f"PAR-{i:04d}", "nombre": name, "tipo": kind, "colonia": colonia,
                                        "superficie_m2": rng.randrange(low, high), "juegos_infantiles":
                                        rng.random() < 0.55, "alumbrado": rng.random() < 0.8}})
    _resource(ds, "Parques (GeoJSON)", "Un punto por parque, con sus datos.", _geojson_file(features),
              "parques.geojson")


def wifi(rng: random.Random, n: int) -> None:
    ds = _dataset({
        "name": "internet-gratuito-en-espacios-publicos", "owner_org": _department("innovacion"),
        "title": "Sitios de internet gratuito en espacios públicos",
        "notes": "Los 115 sitios con internet inalámbrico gratuito del municipio: lugar, ubicación, velocidad y estado.",
        "tags": ["wifi", "internet", "conectividad"], "groups": ["conectividad"],
        "update_frequency": "trimestral", "spatial": "Torreón, Coahuila", "license_id": "cc0-1.0",
    })
    if ds is None:
        return
    places = ["Plaza", "Biblioteca municipal", "Centro comunitario", "Unidad deportiva", "Presidencia municipal",
              "Mercado"]
    rows = []
    for i in range(1, n + 1):
        colonia, sector = COLONIAS[rng.randrange(len(COLONIAS))]
        place = rng.choice(places)
        lat, lon = _point(rng, sector)
        rows.append([f"WIFI-{i:03d}", f"{place} {colonia}", place, colonia, lat, lon, rng.choice([20, 50, 100]),
                     rng.choices(["Activo", "Sin servicio"], weights=[0.9, 0.1])[0],
                     (date(2022, 1, 1) + timedelta(days=rng.randrange(1200))).isoformat()])
    _resource(ds, "Sitios de internet gratuito (CSV)", "Un sitio por fila.", _csv_file(
        ["clave", "sitio", "tipo_lugar", "colonia", "latitud", "longitud", "velocidad_mbps", "estado", "en_servicio_desde"],
        rows), "wifi-publico.csv")


WATER_PLANTS = ["Potabilizadora Agua Saludable para La Laguna", "Removedora de arsénico Pozo 12",
                "Removedora de arsénico Pozo 38", "Removedora de arsénico Pozo 73", "Removedora de arsénico Pozo 91"]
# parameter, unit, typical value, spread, NOM-127-SSA1-2021 limit ("" when it is a range)
WATER_PARAMETERS = [
    ("Arsénico", "mg/L", 0.012, 0.006, "0.025"), ("Fluoruros", "mg/L", 0.9, 0.3, "1.5"),
    ("Cloro residual libre", "mg/L", 0.8, 0.3, "0.2 a 1.5"), ("Turbiedad", "UTN", 0.8, 0.5, "4"),
    ("pH", "unidades de pH", 7.5, 0.3, "6.5 a 8.5"), ("Sólidos disueltos totales", "mg/L", 520, 120, "1000"),
    ("Coliformes fecales", "NMP/100 mL", 0, 0, "No detectable"),
]


def water_quality(rng: random.Random, until: date) -> None:
    ds = _dataset({
        "name": "calidad-del-agua-por-planta", "owner_org": _department("simas"),
        "title": "Calidad del agua tratada por planta",
        "notes": ("Resultados mensuales de los parámetros de calidad del agua que entrega cada planta "
                  "potabilizadora y removedora de arsénico, con el límite de la NOM-127-SSA1-2021."),
        "tags": ["agua potable", "calidad del agua", "arsénico"], "groups": ["agua"],
        "update_frequency": "mensual", "spatial": "Torreón, Coahuila", "temporal_start": "2024-01-01",
        "temporal_end": until.isoformat(),
    })
    if ds is None:
        return
    rows, month = [], date(2024, 1, 1)
    while month <= until:
        for plant in WATER_PLANTS:
            for name, unit, typical, spread, limit in WATER_PARAMETERS:
                value = max(0.0, rng.gauss(typical, spread / 2)) if spread else 0
                rows.append([month.strftime("%Y-%m"), plant, name, round(value, 3), unit, limit])
        month = (month + timedelta(days=32)).replace(day=1)
    _resource(ds, "Resultados mensuales (CSV)", "Una fila por mes, planta y parámetro.",
              _csv_file(["mes", "planta", "parametro", "valor", "unidad", "limite_nom_127"], rows),
              "calidad-agua.csv")


BUDGET_CHAPTERS = [
    ("1000", "Servicios personales", 0.42), ("2000", "Materiales y suministros", 0.08),
    ("3000", "Servicios generales", 0.17), ("4000", "Transferencias, asignaciones, subsidios y otras ayudas", 0.09),
    ("5000", "Bienes muebles, inmuebles e intangibles", 0.03), ("6000", "Inversión pública", 0.16),
    ("9000", "Deuda pública", 0.05),
]
BUDGET_UNITS = [("Servicios Públicos Municipales", 0.24), ("Seguridad Pública", 0.22), ("Obras Públicas", 0.16),
                ("Tesorería Municipal", 0.08), ("DIF Torreón", 0.07), ("Desarrollo Social", 0.06),
                ("Medio Ambiente", 0.04), ("Tránsito y Vialidad", 0.05), ("Presidencia y Ayuntamiento", 0.05),
                ("IMPLAN", 0.01), ("Innovación y Gobierno Digital", 0.02)]
BUDGET_TOTAL = {2024: 5_480_000_000, 2025: 5_830_000_000, 2026: 6_120_000_000}


def budget(rng: random.Random) -> None:
    ds = _dataset({
        "name": "presupuesto-de-egresos", "owner_org": _department("tesoreria"),
        "title": "Presupuesto de egresos por capítulo y dependencia, 2024–2026",
        "notes": ("Presupuesto aprobado, modificado y ejercido por capítulo del Clasificador por Objeto del Gasto "
                  "y por dependencia. En el año en curso el ejercido es el acumulado al cierre del mes anterior."),
        "tags": ["presupuesto", "gasto público", "egresos"], "groups": ["finanzas-publicas"],
        "update_frequency": "trimestral", "spatial": "Municipio de Torreón, Coahuila",
        "temporal_start": "2024-01-01", "temporal_end": "2026-12-31",
    })
    if ds is None:
        return
    rows = []
    for year, total in BUDGET_TOTAL.items():
        for unit, unit_share in BUDGET_UNITS:
            for code, chapter, share in BUDGET_CHAPTERS:
                approved = round(total * unit_share * share * rng.uniform(0.85, 1.15), 2)
                modified = round(approved * rng.uniform(0.95, 1.08), 2)
                spent_share = 1.0 if year < 2026 else 0.38
                spent = round(modified * rng.uniform(0.9, 1.0) * spent_share, 2)
                rows.append([year, unit, code, chapter, f"{approved:.2f}", f"{modified:.2f}", f"{spent:.2f}"])
    _resource(ds, "Presupuesto por capítulo (CSV)", "Montos en pesos.", _csv_file(
        ["ejercicio", "dependencia", "capitulo", "descripcion_capitulo", "aprobado", "modificado", "ejercido"],
        rows), "presupuesto-egresos.csv")


def implan_indicators() -> None:
    ds = _dataset({
        "name": "indicadores-implan", "owner_org": _department("implan"),
        "title": "Sistema Municipal de Indicadores (series del IMPLAN)",
        "notes": ("Series de indicadores de Torreón y La Laguna con su fuente, en la forma de los datos abiertos "
                  "del IMPLAN: indicador, región, fecha, valor, unidad y fuente. Un indicador puede tener más de "
                  "una fuente; cada una es su propia serie."),
        "tags": ["indicadores", "IMPLAN", "La Laguna"], "groups": ["indicadores"], "license_id": "cc-by-4.0",
        "update_frequency": "anual", "spatial": "Torreón y Zona Metropolitana de La Laguna",
        "temporal_start": "1990-01-01", "temporal_end": "2020-12-31",
    })
    if ds is None:
        return
    with open(DEMO_DIR / "implan_indicadores.csv", "rb") as handle:
        upload = tempfile.SpooledTemporaryFile()
        upload.write(handle.read())
        upload.seek(0)
    _resource(ds, "Series de indicadores (CSV)", "Una observación por fila.", upload, "implan-indicadores.csv")


FINE_REASONS = [
    ("Estacionarse en lugar prohibido", "Art. 98", 1086), ("Exceso de velocidad", "Art. 45", 1629),
    ("No respetar semáforo en rojo", "Art. 52", 2172), ("Usar el teléfono al conducir", "Art. 61", 1629),
    ("No usar cinturón de seguridad", "Art. 63", 543), ("Circular sin placas", "Art. 20", 2715),
    ("Estacionarse en lugar para personas con discapacidad", "Art. 99", 5430),
    ("Conducir en estado de ebriedad", "Art. 70", 10860),
]
VEHICLES = ["Automóvil", "Camioneta", "Motocicleta", "Camión de carga", "Transporte público"]


def fine_rows(n: int, seed: int = SEED) -> Iterable[list[Any]]:
    """`n` deterministic traffic fines spread over 2024-01-01 … 2026-04-30."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1)
    span = int((datetime(2026, 5, 1) - start).total_seconds())
    # A moment `s` seconds after midnight of the start: its day and its hh:mm, looked up (the same
    # text strftime gives, without formatting two million times).
    days = [(start + timedelta(days=d)).strftime("%Y-%m-%d") for d in range(span // 86400 + 1)]
    minutes = [f"{m // 60:02d}:{m % 60:02d}" for m in range(1440)]
    for i in range(1, n + 1):
        s = rng.randrange(span)
        reason, article, amount = FINE_REASONS[min(int(rng.expovariate(0.6)), len(FINE_REASONS) - 1)]
        colonia, _sector = COLONIAS[rng.randrange(len(COLONIAS))]
        paid = rng.random() < 0.64
        yield [f"INF-{i:07d}", days[s // 86400], minutes[s % 86400 // 60], colonia, reason, article,
               rng.choice(VEHICLES), amount, "Pagada" if paid else "Pendiente"]


FINE_HEADER = ["folio", "fecha", "hora", "colonia", "motivo", "articulo", "tipo_vehiculo", "monto_pesos", "estatus"]


def fines_csv(n: int, seed: int = SEED):
    """The fines as a CSV file on disk (streamed; a million rows is about 90 MB)."""
    out = tempfile.TemporaryFile()
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(FINE_HEADER)
    writer.writerows(fine_rows(n, seed))
    text.flush()
    text.detach()
    out.seek(0)
    return out


def fines(n: int) -> None:
    ds = _dataset({
        "name": "infracciones-de-transito", "owner_org": _department("transito-vialidad"),
        "title": "Infracciones de tránsito",
        "notes": ("Cada infracción de tránsito levantada: fecha, hora, colonia, motivo y artículo del reglamento, "
                  "tipo de vehículo, monto en pesos y si ya se pagó. No incluye datos de las personas ni placas."),
        "tags": ["tránsito", "infracciones", "multas"], "groups": ["movilidad", "finanzas-publicas"],
        "update_frequency": "diaria", "spatial": "Torreón, Coahuila", "temporal_start": "2024-01-01",
        "temporal_end": "2026-04-30",
    })
    if ds is None:
        return
    _resource(ds, "Infracciones (CSV)", f"{n:,} infracciones, una por fila.", fines_csv(n), "infracciones.csv")


# --- Entry point --------------------------------------------------------------------------------

def is_present() -> bool:
    return Dataset.objects.filter(name="inventario-de-luminarias").exists()


def build(*, streetlights_count: int = STREETLIGHTS, parks_count: int = PARKS, wifi_count: int = WIFI_SITES,
          fines_count: int = FINES_DEFAULT, water_until: date = date(2026, 5, 1), seed: int = SEED,
          stdout=None) -> list[str]:
    """Builds every demo dataset that does not exist yet. Returns the names of the datasets built.
    Each dataset is its own transaction, so an interrupted run keeps what finished."""
    say: Callable[[str], Any] = stdout.write if stdout is not None else (lambda _m: None)
    for key, (title, description) in THEMES.items():
        if not Theme.objects.filter(name=key).exists():
            services.upsert_theme(name=key, title=title, description=description)
    steps = [
        ("inventario-de-luminarias", lambda: streetlights(random.Random(seed), streetlights_count)),
        ("parques-y-plazas", lambda: parks(random.Random(seed + 1), parks_count)),
        ("internet-gratuito-en-espacios-publicos", lambda: wifi(random.Random(seed + 2), wifi_count)),
        ("calidad-del-agua-por-planta", lambda: water_quality(random.Random(seed + 3), water_until)),
        ("presupuesto-de-egresos", lambda: budget(random.Random(seed + 4))),
        ("indicadores-implan", implan_indicators),
        ("infracciones-de-transito", lambda: fines(fines_count)),
    ]
    built = []
    for name, step in steps:
        if Dataset.objects.filter(name=name).exists():
            continue
        started = datetime.now()
        with transaction.atomic():
            step()
        built.append(name)
        say(f"Datos abiertos: {name} ({(datetime.now() - started).total_seconds():.1f} s)\n")
    return built
