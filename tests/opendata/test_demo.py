"""The open data demo: deterministic, loaded through the real ingestion, idempotent."""

from __future__ import annotations

from datetime import date

from ventanilla.opendata import datastore, demo
from ventanilla.opendata.models import Dataset


def test_demo_builds_small(db):
    built = demo.build(streetlights_count=300, parks_count=40, wifi_count=12, fines_count=500,
                       water_until=date(2024, 3, 1))
    assert built == ["inventario-de-luminarias", "parques-y-plazas", "internet-gratuito-en-espacios-publicos",
                     "calidad-del-agua-por-planta", "presupuesto-de-egresos", "indicadores-implan",
                     "infracciones-de-transito"]
    datasets = {d.name: d for d in Dataset.objects.all()}
    assert len({d.organization_id for d in datasets.values()}) >= 6  # several departments
    assert {d.license_id for d in datasets.values()} >= {"libre-uso-mx", "cc-by-4.0", "cc0-1.0"}

    def rows(name, position=0):
        resource = datasets[name].resources.order_by("position")[position]
        assert resource.datastore_active, (name, resource.current_version.error)
        return resource, resource.current_version.row_count

    assert rows("inventario-de-luminarias")[1] == 300
    assert rows("parques-y-plazas")[1] == 40
    assert rows("internet-gratuito-en-espacios-publicos")[1] == 12
    assert rows("calidad-del-agua-por-planta")[1] == 3 * len(demo.WATER_PLANTS) * len(demo.WATER_PARAMETERS)
    assert rows("presupuesto-de-egresos")[1] == 3 * len(demo.BUDGET_UNITS) * len(demo.BUDGET_CHAPTERS)
    assert rows("infracciones-de-transito")[1] == 500

    implan, count = rows("indicadores-implan")
    assert count == 80
    found = datastore.search(implan, {"filters": {"indicador": "Tasa de homicidios", "region": "Torreón",
                                                  "fuente": "IMCO"}, "sort": "fecha"})
    assert found["total"] == 5 and float(found["records"][-1]["valor"]) == 109.716

    fines, _ = rows("infracciones-de-transito")
    fields = {f.name: f.type for f in fines.current_version.fields.all()}
    assert fields["monto_pesos"] == "int" and fields["fecha"] == "date"

    # Idempotent: a second run builds nothing and changes nothing.
    assert demo.build(streetlights_count=300, parks_count=40, wifi_count=12, fines_count=500) == []
    assert Dataset.objects.count() == 7


def test_rows_are_deterministic_and_plausible():
    first = list(demo.fine_rows(200))
    assert first == list(demo.fine_rows(200))
    assert first != list(demo.fine_rows(200, seed=1))
    assert all(date(2024, 1, 1) <= date.fromisoformat(r[1]) <= date(2026, 4, 30) for r in first)
    assert {r[8] for r in first} == {"Pagada", "Pendiente"}
    assert all(len(r[2]) == 5 and 0 <= int(r[2][:2]) < 24 and 0 <= int(r[2][3:]) < 60 for r in first)
    assert first[0][:3] == ["INF-0000001", "2024-07-04", "01:06"]  # the same fines in every release
    lat, lon = demo._point(__import__("random").Random(1), 10)
    assert demo.LAT[0] <= lat <= demo.LAT[1] and demo.LON[0] <= lon <= demo.LON[1]
