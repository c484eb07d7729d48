"""The online-procedures demo: five published definitions and a deterministic history that keeps
the invariants the services keep (folios, due dates, steps, events, answers, fees)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from ventanilla.procedures import demo
from ventanilla.procedures import spec as spec_module
from ventanilla.procedures.models import (
    Definition,
    Request,
)

NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
COUNT = 1200


@pytest.fixture
def demo_world(db):
    from ventanilla.catalog import demo as catalog_demo
    from ventanilla.identity import demo as identity_demo

    catalog_demo.build(history_days=0)
    identity_demo.build()

def test_five_definitions_published_from_the_catalogue(demo_world):
    definitions = demo.build_definitions()
    assert sorted(d.procedure.clave for d in definitions) == sorted(demo.CLAVES)
    for d in definitions:
        assert d.published_version.number == 1
        spec = spec_module.parse_spec(d.published_version.spec)
        assert {s.department for s in spec.steps} <= {"desarrollo-economico", "proteccion-civil", "transito-vialidad",
                                                      "ordenamiento-territorial"}
    fine = next(d for d in definitions if d.procedure.clave == "TOR-DTV-001")
    assert spec_module.parse_spec(fine.published_version.spec).fee_parameters == {"umas": "umas"}
    # Idempotent: no new version while the file does not change.
    demo.build_definitions()
    assert all(d.versions.count() == 1 for d in Definition.objects.all())
    assert demo.is_present(0) and not demo.is_present(10)

def test_fees_follow_the_catalogue_rules(demo_world):
    from ventanilla.catalog import services as catalog_services
    from ventanilla.catalog.fees import uma

    definitions = {d.procedure.clave: d for d in demo.build_definitions()}
    assert catalog_services.compute_fee(definitions["TOR-DGOTU-002"].procedure, {"m2": "30"}) == 30 * 1860 + 25000
    assert catalog_services.compute_fee(definitions["TOR-DTV-001"].procedure, {"umas": "10"}) == int(uma() * 10 * 100)
    assert catalog_services.compute_fee(definitions["TOR-DGDE-002"].procedure, {}) == 40200

def test_seed_demo_builds_the_procedures_demo_once(db, settings, tmp_path):
    settings.VENTANILLA_SIGNING_DEMO_DIR = str(tmp_path / "signing")
    args = ["--history-days=0", "--opendata-rows=200", "--procedures-requests=40", "--quiet-if-present"]
    call_command("seed_demo", *args)
    assert Request.objects.count() == 40
    assert demo.is_present(40)
    call_command("seed_demo", *args)
    assert Request.objects.count() == 40
