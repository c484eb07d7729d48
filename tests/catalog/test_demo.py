from __future__ import annotations

import io
from pathlib import Path

import pytest

from ventanilla.catalog import demo, selectors
from ventanilla.catalog.models import Procedure, ProcedureDailyUsage, ProcedureVersion
from ventanilla.organization.models import Department, Office

FIXTURE = Path(__file__).with_name("demo_fixture.json")
FIRST_WAVE = [
    "TOR-DTV-001",  # multas de tránsito
    "TOR-DCM-001",  # catastro
    "TOR-TM-001",  # predial
    "TOR-TM-002",  # constancia de no adeudo predial
    "TOR-DTV-002",  # constancia de no infracción
    "TOR-DGDE-001",  # licencia de funcionamiento
    "TOR-DGDE-002",  # refrendo de licencia de funcionamiento
    "TOR-DGOTU-001",  # licencia de construcción
]


@pytest.mark.django_db
def test_loader_is_idempotent_and_publishes_through_the_legal_check():
    out = io.StringIO()
    summary = demo.build(history_days=10, stdout=out, path=FIXTURE)
    assert summary["procedures"] == 2 and "trámites publicados" in out.getvalue()
    assert Procedure.objects.filter(status="published").count() == 2
    assert Office.objects.exists() and Department.objects.count() == 1
    versions = ProcedureVersion.objects.count()
    usage = list(ProcedureDailyUsage.objects.order_by("procedure__clave", "date").values_list("views", "starts"))
    demo.build(history_days=10, path=FIXTURE)
    assert Procedure.objects.count() == 2
    assert ProcedureVersion.objects.count() == versions  # unchanged content → no new versions
    again = list(ProcedureDailyUsage.objects.order_by("procedure__clave", "date").values_list("views", "starts"))
    assert again == usage  # deterministic history
    assert selectors.most_requested(limit=1)


@pytest.mark.django_db
def test_torreon_catalogue():
    assert demo.DEMO_FILE.exists()
    demo.build(history_days=30)
    assert demo.is_present()
    assert Procedure.objects.filter(status="published").count() >= 40
    assert Department.objects.count() >= 8
    published = set(Procedure.objects.filter(status="published").values_list("clave", flat=True))
    assert set(FIRST_WAVE) <= published
    assert selectors.search("tiendita")[0].name.lower().startswith("licencia de funcionamiento")
    assert selectors.search("quiero abrir un changarro")[0].name.lower().startswith("licencia de funcionamiento")
    assert selectors.search("predail")[0].clave == "TOR-TM-001"
    top = selectors.most_requested(limit=8)
    assert len(top) == 8 and top[0].clave in {"TOR-TM-001", "TOR-SIMAS-002", "TOR-DTV-001"}


@pytest.mark.django_db
def test_synthetic_catalogue_for_the_benchmark():
    made = demo.build_synthetic(15, seed=3, path=FIXTURE)
    assert len(made) == 15 and all(p.status == "published" for p in made)
    assert len({p.name for p in made}) > 5
    assert Procedure.objects.filter(clave__startswith="SYN-03-").count() == 15
