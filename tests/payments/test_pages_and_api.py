"""Payment pages and API: what the payer sees, and that nobody else sees anything."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from ventanilla.payments import services
from ventanilla.payments.models import OrderStatus, Payment, Receipt

pytestmark = pytest.mark.django_db

CARD_POST = {"holder_name": "María Gómez", "number": "4242 4242 4242 4242", "exp_month": "12", "exp_year": "39",
             "cvv": "123"}


@pytest.fixture
def as_payer(client, payer):
    client.force_login(payer)
    return client


def order_urls(order) -> dict[str, str]:
    return {
        name: reverse(f"payments:{name}", args=[order.public_id])
        for name in ("pay", "pay_card", "cash", "invoice", "paid", "receipt", "receipt_pdf")
    }


def test_pay_page_shows_amount_reference_and_barcode(as_payer, order):
    response = as_payer.get(reverse("payments:pay", args=[order.public_id]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "$450.50" in html and order.concept in html
    assert order.reference_grouped in html
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="barcode" role="img"' in html
    assert "style=" not in html.split('class="barcode"')[1].split("</svg>")[0]  # CSP: no inline style
    assert 'action="/pagos/%s/tarjeta/"' % order.public_id in html
    assert "4242 4242 4242 4242" in html  # sandbox hint
    assert "payments/payments.css" in html


def test_card_payment_flow(as_payer, order, paid_handler_calls):
    response = as_payer.post(reverse("payments:pay_card", args=[order.public_id]), CARD_POST)
    assert response.status_code == 302 and response["Location"] == reverse("payments:paid", args=[order.public_id])
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and paid_handler_calls == [order.pk]
    page = as_payer.get(response["Location"])
    assert "Pago recibido" in page.content.decode()
    receipt = as_payer.get(reverse("payments:receipt", args=[order.public_id]))
    html = receipt.content.decode()
    assert receipt.status_code == 200
    folio = Receipt.objects.get().folio
    for text in (folio, "XAXX010101000", "S01", "PUE", "93161700", "E48", "04 Tarjeta de crédito", "$450.50 MXN"):
        assert text in html, text
    # Paying again is refused, the order stays paid once.
    again = as_payer.post(reverse("payments:pay_card", args=[order.public_id]), CARD_POST)
    assert again.status_code == 409 and "ya está pagada" in again.content.decode()
    assert Payment.objects.count() == 1


def test_declined_card_page(as_payer, order):
    response = as_payer.post(reverse("payments:pay_card", args=[order.public_id]),
                             CARD_POST | {"number": "4000 0000 0000 0002"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "No se pudo cobrar" in html and "rechazó" in html
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_mistyped_card_shows_errors_next_to_fields(as_payer, order):
    response = as_payer.post(reverse("payments:pay_card", args=[order.public_id]),
                             CARD_POST | {"number": "4242 4242 4242 4241", "cvv": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Hay un problema" in html and "no es válido" in html and "código de seguridad" in html
    assert "4242 4242 4242 4241" in html  # the number is kept so it can be corrected
    assert 'value="' + "" not in html.split('name="cvv"')[1].split(">")[0]  # the CVV is never echoed


def test_cash_reference_page(as_payer, order):
    response = as_payer.post(reverse("payments:cash", args=[order.public_id]))
    assert response.status_code == 302
    page = as_payer.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200 and order.reference in html and 'class="barcode"' in html
    assert "Importe exacto" in html
    # Once issued, the pay page links to it instead of asking again.
    assert reverse("payments:cash", args=[order.public_id]) in as_payer.get(
        reverse("payments:pay", args=[order.public_id])).content.decode()


def test_cash_page_without_a_reference_goes_back_to_the_order(as_payer, order):
    response = as_payer.get(reverse("payments:cash", args=[order.public_id]))
    assert response.status_code == 302 and response["Location"] == reverse("payments:pay", args=[order.public_id])


def test_expired_order_page_offers_no_payment(as_payer, make_order):
    expired = make_order(due_date=timezone.localdate() - timedelta(days=1))
    html = as_payer.get(reverse("payments:pay", args=[expired.public_id])).content.decode()
    assert "venció" in html and "tarjeta/" not in html
    response = as_payer.post(reverse("payments:cash", args=[expired.public_id]))
    assert response.status_code == 409


def test_invoice_form(as_payer, order):
    from ventanilla.identity.rfc import with_check_digit

    url = reverse("payments:invoice", args=[order.public_id])
    bad = as_payer.post(url, {"rfc": "ABC", "name": "", "postal_code": "1", "regimen": "", "uso_cfdi": ""})
    assert bad.status_code == 400 and "Hay un problema" in bad.content.decode()
    rfc = with_check_digit("GOAM900101AB")
    ok = as_payer.post(url, {"rfc": rfc, "name": "María Gómez", "postal_code": "27000", "regimen": "605",
                             "uso_cfdi": "G03"})
    assert ok.status_code == 302
    order.refresh_from_db()
    assert order.receptor_rfc == rfc
    assert rfc in as_payer.get(reverse("payments:pay", args=[order.public_id])).content.decode()


def test_my_orders_lists_only_mine(as_payer, order, make_order, other_resident):
    theirs = make_order(who=other_resident, concept="Predial de otra persona")
    html = as_payer.get(reverse("payments:my_orders")).content.decode()
    assert order.concept in html and theirs.concept not in html


def test_receipt_pdf_is_issued_once_through_documents(as_payer, order, notification_for):
    pytest.importorskip("ventanilla.documents.services")
    services.credit("sandbox", notification_for(order))
    url = reverse("payments:receipt_pdf", args=[order.public_id])
    first = as_payer.get(url)
    assert first.status_code == 200 and first["Content-Type"] == "application/pdf"
    assert first.content.startswith(b"%PDF")
    receipt = Receipt.objects.get()
    assert receipt.document_id is not None
    from ventanilla.documents.models import IssuedDocument

    document = IssuedDocument.objects.get(public_id=receipt.document_id)
    assert document.kind == "receipt" and document.source_ref == f"payments.receipt:{receipt.folio}"
    assert document.owner == order.payer
    second = as_payer.get(url)
    assert second.content == first.content
    assert IssuedDocument.objects.filter(kind="receipt").count() == 1


def test_receipt_pages_need_a_credited_payment(as_payer, order):
    assert as_payer.get(reverse("payments:receipt", args=[order.public_id])).status_code == 404
    assert as_payer.get(reverse("payments:receipt_pdf", args=[order.public_id])).status_code == 404
    assert as_payer.get(reverse("payments:paid", args=[order.public_id])).status_code == 302


def test_another_resident_cannot_open_anything(client, order, other_resident, notification_for, make_official,
                                               login_official):
    """Every order URL, paid (so the receipt and PDF exist) or not, with every id we have:
    another resident and an official get 404, an anonymous visitor is sent to sign in."""
    pending = services.create_order(payer=order.payer, concept="Otra", amount_centavos=100, source_ref="x:pending")
    services.credit("sandbox", notification_for(order))
    ids_seen = {str(order.public_id), str(pending.public_id)}
    for target in (order, pending):
        for name, url in order_urls(target).items():
            client.logout()
            anonymous = client.get(url)
            assert anonymous.status_code == 302 and "/llave/entrar/" in anonymous["Location"], (name, url)
            for intruder in (other_resident, make_official("counter_clerk")):
                if intruder.is_official:
                    login_official(intruder)
                else:
                    client.force_login(intruder)
                for method in ("get", "post"):
                    response = getattr(client, method)(url, CARD_POST if name == "pay_card" else {})
                    assert response.status_code in (404, 405), (intruder, method, name, url, response.status_code)
                    body = response.content.decode()
                    assert target.reference not in body and all(i not in body for i in ids_seen - {str(target.public_id)})
            api = client.get(f"/api/v1/pagos/ordenes/{target.public_id}")
            assert api.status_code == 404
    assert Payment.objects.count() == 1  # nobody paid someone else's order


def test_api_order_for_the_payer(as_payer, order, client):
    response = as_payer.get(f"/api/v1/pagos/ordenes/{order.public_id}")
    assert response.status_code == 200
    data = response.json()
    assert data["reference"] == order.reference and data["amount_centavos"] == 45_050 and data["amount"] == "$450.50"
    assert data["status"] == "pending" and data["receipt_url"] is None
    assert as_payer.get("/api/v1/pagos/ordenes/no-es-un-id").status_code == 404
    client.logout()
    anonymous = client.get(f"/api/v1/pagos/ordenes/{order.public_id}")
    assert anonymous.status_code == 401 and "autenticación" in anonymous.json()["detail"]


def test_api_reference_check(client, order):
    ok = client.get(f"/api/v1/pagos/referencia/{order.reference}").json()
    assert ok["valid"] and ok["exists"] and ok["payable"] and ok["amount_centavos"] == order.amount_centavos
    assert "concept" not in ok and "payer" not in ok
    typo = order.reference[:-1] + str((int(order.reference[-1]) + 1) % 10)
    bad = client.get(f"/api/v1/pagos/referencia/{typo}").json()
    assert not bad["valid"] and "no es válida" in bad["error"]
    short = client.get("/api/v1/pagos/referencia/123").json()
    assert not short["valid"] and "20 números" in short["error"]
    from ventanilla.payments.reference import build_reference

    nobody = build_reference(9_999_999, 100, order.due_date)
    missing = client.get(f"/api/v1/pagos/referencia/{nobody}").json()
    assert missing["valid"] and not missing["exists"]


def test_pages_work_without_javascript_and_without_inline_code(as_payer, order):
    html = as_payer.get(reverse("payments:pay", args=[order.public_id])).content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert " style=" not in html and "onclick" not in html
