"""The platform publishes itself: publish_table idempotence and versioning, the procedure
catalogue and monthly statistics, and the opendata_refresh command."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from ventanilla.opendata import datastore, publish, services
from ventanilla.opendata.models import Dataset, Resource

FIELDS = [("barrio", "text", "Barrio", ""), ("luminarias", "int", "Luminarias", "piezas"),
          ("consumo", "numeric", "Consumo", "kWh")]


def _publish(department, rows, **extra):
    return publish.publish_table(
        name="luminarias-por-barrio", title="Luminarias por barrio", description="Cuenta por barrio.",
        organization_slug=department.slug, rows=rows, fields=FIELDS, frequency="mensual",
        themes=[("servicios-publicos", "Servicios públicos")], tags=["alumbrado"], **extra)


ROWS = [{"barrio": "Centro", "luminarias": 1200, "consumo": 3500.5},
        {"barrio": "Torreón Jardín", "luminarias": 800, "consumo": 2100.25}]


def test_publish_table_creates_managed_dataset_through_ingestion(department):
    dataset = _publish(department, ROWS)
    assert dataset.managed_by == "luminarias-por-barrio"
    assert dataset.organization == department and dataset.update_frequency == "mensual"
    assert [t.name for t in dataset.themes.all()] == ["servicios-publicos"]
    resource = dataset.resources.get()
    version = resource.current_version
    assert version.number == 1 and version.row_count == 2 and resource.datastore_active
    result = datastore.search(resource, {"sort": "luminarias desc"})
    assert [r["barrio"] for r in result["records"]] == ["Centro", "Torreón Jardín"]
    assert result["records"][0]["luminarias"] == 1200
    fields = {f.name: f for f in version.fields.all()}
    assert fields["luminarias"].type == "int" and fields["luminarias"].unit == "piezas"
    assert fields["consumo"].label == "Consumo" and fields["consumo"].unit == "kWh"


def test_same_content_makes_no_new_version(department):
    first = _publish(department, ROWS)
    version = first.resources.get().current_version
    again = _publish(department, list(ROWS))
    resource = again.resources.get()
    assert again.pk == first.pk
    assert resource.current_version_id == version.pk and resource.versions.count() == 1


def test_changed_content_makes_a_new_version(department):
    _publish(department, ROWS)
    dataset = _publish(department, ROWS + [{"barrio": "Las Margaritas", "luminarias": 450, "consumo": 990}])
    resource = dataset.resources.get()
    assert resource.versions.count() == 2
    current = resource.current_version
    assert current.number == 2 and current.row_count == 3
    assert current.rows_added == 1 and current.rows_removed == 0
    assert Resource.objects.filter(dataset=dataset).count() == 1


def test_refuses_hand_made_dataset_and_bad_input(department):
    services.create_dataset(by=None, data={"owner_org": department, "name": "luminarias-por-barrio",
                                           "title": "Hecho a mano"})
    with pytest.raises(services.OpendataError) as err:
        _publish(department, ROWS)
    assert err.value.status == 409
    with pytest.raises(services.OpendataError):
        publish.publish_table(name="x-y", title="X", description="", organization_slug="no-existe",
                              rows=[], fields=FIELDS, frequency="mensual")
    with pytest.raises(services.OpendataError):
        publish.publish_table(name="x-y", title="X", description="", organization_slug=department.slug,
                              rows=[], fields=FIELDS, frequency="a-veces")
    assert not Dataset.objects.filter(name="x-y").exists()


def test_procedure_catalogue_and_statistics(make_procedure, department):
    from ventanilla.catalog.models import ProcedureDailyUsage

    online = make_procedure(publish=True, name="Licencia de funcionamiento")
    make_procedure(publish=True, name="Constancia de residencia", channel_online=False, ficta="negativa")
    make_procedure(name="Borrador sin publicar")
    dataset = publish.publish_procedure_catalogue()
    resource = dataset.resources.get()
    records = datastore.search(resource, {"sort": "nombre"})["records"]
    assert [r["nombre"] for r in records] == ["Constancia de residencia", "Licencia de funcionamiento"]
    assert records[1]["clave"] == online.clave and records[1]["dependencia"] == department.name
    assert records[0]["ficta"] == "Negativa ficta"

    # Usage: two whole months and the current (partial) one, which is left out.
    first_of_month = timezone.localdate().replace(day=1)
    prev = (first_of_month - timedelta(days=1)).replace(day=1)
    prev2 = (prev - timedelta(days=1)).replace(day=1)
    for day, views, starts in ((prev2, 10, 2), (prev2 + timedelta(days=3), 5, 1), (prev, 7, 0), (first_of_month, 99, 9)):
        ProcedureDailyUsage.objects.create(procedure=online, date=day, views=views, starts=starts)
    stats = publish.publish_procedure_statistics()
    rows = datastore.search(stats.resources.get(), {"sort": "mes"})["records"]
    assert [(r["mes"], r["consultas"], r["solicitudes_iniciadas"], r["canal"]) for r in rows] == [
        (prev2.strftime("%Y-%m"), 15, 3, "en línea"), (prev.strftime("%Y-%m"), 7, 0, "en línea")]
    assert stats.temporal_start == prev2 and stats.temporal_end == first_of_month - timedelta(days=1)
    assert "en línea" in stats.notes


def test_monthly_usage_selector(make_procedure):
    from ventanilla.catalog.models import ProcedureDailyUsage
    from ventanilla.catalog.selectors import monthly_usage

    p = make_procedure(publish=True)
    ProcedureDailyUsage.objects.create(procedure=p, date=date(2025, 3, 2), views=4, starts=1)
    ProcedureDailyUsage.objects.create(procedure=p, date=date(2025, 3, 30), views=6, starts=2)
    ProcedureDailyUsage.objects.create(procedure=p, date=date(2025, 4, 1), views=1, starts=0)
    got = monthly_usage()
    assert [(u.month, u.views, u.starts) for u in got] == [("2025-03", 10, 3), ("2025-04", 1, 0)]
    assert [u.month for u in monthly_usage(until=date(2025, 3, 31))] == ["2025-03"]


def test_opendata_refresh_command(make_procedure, capsys):
    make_procedure(publish=True)
    call_command("opendata_refresh")
    out = capsys.readouterr().out
    assert "catalogo-de-tramites: versión 1" in out
    call_command("opendata_refresh", "catalogo-de-tramites")
    assert "catalogo-de-tramites: versión 1" in capsys.readouterr().out  # unchanged: no new version
    with pytest.raises(CommandError):
        call_command("opendata_refresh", "no-existe")


def test_registry_runs_later_modules_and_isolates_failures(department):
    calls = []

    def ok():
        calls.append("ok")
        return _publish(department, ROWS)

    def broken():
        raise services.OpendataError("falla")

    publish.register_publication("zz-prueba-ok", ok)
    publish.register_publication("zz-prueba-falla", broken)
    try:
        results = publish.refresh_all(["zz-prueba-ok", "zz-prueba-falla"])
        assert isinstance(results["zz-prueba-ok"], Dataset) and isinstance(results["zz-prueba-falla"], Exception)
        assert calls == ["ok"]
    finally:
        publish._PUBLICATIONS.pop("zz-prueba-ok")
        publish._PUBLICATIONS.pop("zz-prueba-falla")
