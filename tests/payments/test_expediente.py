"""The "Pagos" section of Mi expediente and its part of the ARCO archive."""

from __future__ import annotations

import json

import pytest

from ventanilla.payments import expediente, services

pytestmark = pytest.mark.django_db


def test_section_is_registered():
    sections = pytest.importorskip("ventanilla.files.sections")
    assert "pagos" in {s.key for s in sections.registered()}


def test_export_holds_only_the_residents_own_orders(make_order, payer, other_resident, notification_for):
    mine = make_order()
    theirs = make_order(who=other_resident, concept="Predial ajeno")
    services.credit("sandbox", notification_for(mine))
    files = expediente.export(payer)
    data = json.loads(files["ordenes_de_pago.json"])
    (order,) = data["ordenes_de_pago"]
    assert order["linea_de_captura"] == mine.reference and order["estado"] == "paid"
    assert order["pagos"][0]["recibo"]["folio"].startswith("REC-")
    assert theirs.reference not in files["ordenes_de_pago.json"].decode()
    context = expediente.section_context(payer)
    assert [o.pk for o in context["orders"]] == [mine.pk]
    assert context["orders"][0].receipt_folio.startswith("REC-")


def test_section_renders_on_mi_expediente(client, payer, make_order):
    pytest.importorskip("ventanilla.files.sections")
    order = make_order()
    client.force_login(payer)
    response = client.get("/mi-expediente/")
    assert response.status_code == 200
    assert order.concept in response.content.decode()
