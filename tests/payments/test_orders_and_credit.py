"""Orders and crediting: credit() is the only place money is credited, exactly once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from ventanilla.audit.models import AuditEntry
from ventanilla.payments import reference, selectors, services
from ventanilla.payments.models import Anomaly, OrderStatus, Payment, PaymentOrder, Receipt

pytestmark = pytest.mark.django_db


# --- Orders ---------------------------------------------------------------------------------

def test_create_order_has_a_valid_reference(order):
    assert order.status == OrderStatus.PENDING
    parsed = reference.parse_reference(order.reference, prefix="35")
    assert parsed.folio == order.pk
    assert parsed.due == order.due_date
    assert reference.verify(order.reference, order.amount_centavos)
    assert order.due_date == timezone.localdate() + timedelta(days=30)


def test_create_order_is_idempotent_on_source_ref(payer):
    first = services.create_order(payer=payer, concept="Constancia", amount_centavos=10_000, source_ref="x:1")
    again = services.create_order(payer=payer, concept="Constancia", amount_centavos=10_000, source_ref="x:1")
    assert again.pk == first.pk
    assert PaymentOrder.objects.filter(source_ref="x:1").count() == 1


def test_create_order_refuses_a_different_amount_or_payer_for_the_same_source(payer, other_resident):
    services.create_order(payer=payer, concept="Constancia", amount_centavos=10_000, source_ref="x:2")
    with pytest.raises(services.PaymentError):
        services.create_order(payer=payer, concept="Constancia", amount_centavos=10_001, source_ref="x:2")
    with pytest.raises(services.PaymentError):
        services.create_order(payer=other_resident, concept="Constancia", amount_centavos=10_000, source_ref="x:2")


@pytest.mark.parametrize("kwargs, message", [
    ({"amount_centavos": 0}, "mayor que cero"),
    ({"amount_centavos": -5}, "mayor que cero"),
    ({"concept": "  "}, "concepto"),
    ({"source_ref": ""}, "origen"),
    ({"due_date": date(2020, 1, 1)}, "fecha límite"),
])
def test_create_order_rejects_bad_input_in_spanish(payer, kwargs, message):
    data = {"payer": payer, "concept": "Derecho", "amount_centavos": 100, "source_ref": "x:bad"} | kwargs
    with pytest.raises(services.PaymentError) as exc:
        services.create_order(**data)
    assert message in exc.value.message
    assert not PaymentOrder.objects.filter(source_ref="x:bad").exists()


def test_create_order_amount_must_be_integer_centavos(payer):
    with pytest.raises(TypeError):
        services.create_order(payer=payer, concept="Derecho", amount_centavos=10.5, source_ref="x:float")


def test_expire_overdue_orders(make_order):
    old = make_order(due_date=timezone.localdate() - timedelta(days=1))
    fresh = make_order()
    assert services.expire_overdue_orders() == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == OrderStatus.EXPIRED and fresh.status == OrderStatus.PENDING


def test_selectors(order, payer, other_resident):
    assert selectors.order_by_public_id(order.public_id) == order
    assert selectors.order_by_public_id("no-es-uuid") is None
    assert selectors.order_of(payer, order.public_id) == order
    assert selectors.order_of(other_resident, order.public_id) is None
    assert list(selectors.orders_of(payer)) == [order]
    assert selectors.order_for_source(order.source_ref) == order


# --- Crediting ------------------------------------------------------------------------------

def test_credit_marks_paid_issues_receipt_and_calls_handler_once(order, notification_for, paid_handler_calls):
    note = notification_for(order)
    result = services.credit("sandbox", note)
    assert result.outcome == "credited" and result.credited
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.paid_at == note.paid_at and not order.paid_late
    assert paid_handler_calls == [order.pk]
    receipt = result.receipt
    assert receipt.folio.startswith("REC-")
    assert receipt.receptor_rfc == "XAXX010101000" and receipt.uso_cfdi == "S01"
    assert receipt.receptor_regimen == "616" and receipt.receptor_domicilio_fiscal == receipt.lugar_expedicion
    assert receipt.forma_pago == "01" and receipt.metodo_pago == "PUE" and receipt.moneda == "MXN"
    assert receipt.clave_prod_serv == "93161700" and receipt.clave_unidad == "E48"
    assert receipt.importe_centavos == order.amount_centavos
    assert AuditEntry.objects.filter(action="payments.credited", subject_id=str(order.pk)).count() == 1

    again = services.credit("sandbox", note)
    assert again.outcome == "duplicate" and again.credited
    assert again.payment.pk == result.payment.pk and again.receipt.pk == receipt.pk
    assert paid_handler_calls == [order.pk]
    assert Payment.objects.filter(order=order).count() == 1


def test_card_funding_sets_forma_de_pago(make_order, notification_for):
    from dataclasses import replace

    credit_order, debit_order = make_order(), make_order()
    r1 = services.credit("sandbox", replace(notification_for(credit_order), method="card", funding="credit"))
    r2 = services.credit("sandbox", replace(notification_for(debit_order), method="card", funding="debit"))
    assert (r1.receipt.forma_pago, r2.receipt.forma_pago) == ("04", "28")


def test_amount_mismatch_is_recorded_not_credited(order, notification_for, paid_handler_calls):
    result = services.credit("sandbox", notification_for(order, amount_centavos=order.amount_centavos - 1))
    assert result.outcome == Anomaly.AMOUNT_MISMATCH and not result.credited
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    payment = Payment.objects.get(order=order)
    assert payment.anomaly == Anomaly.AMOUNT_MISMATCH and payment.credited_at is None
    assert not Receipt.objects.exists() and paid_handler_calls == []
    assert list(selectors.payments_needing_refund()) == [payment]
    # The right amount still pays the order afterwards.
    assert services.credit("sandbox", notification_for(order)).credited


def test_late_cash_payment_is_credited_and_flagged(make_order, notification_for):
    order = make_order(due_date=timezone.localdate() - timedelta(days=3))
    services.expire_overdue_orders()
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    result = services.credit("sandbox", notification_for(order))
    assert result.credited and result.payment.late
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.paid_late
    assert order.status_text == "Pagada después de la fecha límite"


def test_payment_on_a_cancelled_order_is_recorded_for_refund(order, notification_for, paid_handler_calls):
    services.cancel_order(order, reason="Trámite desistido")
    result = services.credit("sandbox", notification_for(order))
    assert result.outcome == Anomaly.ORDER_CANCELLED and not result.credited
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert Payment.objects.get(order=order).anomaly == Anomaly.ORDER_CANCELLED
    assert paid_handler_calls == []
    assert AuditEntry.objects.filter(action="payments.payment_not_credited").exists()


def test_second_different_payment_for_a_paid_order_is_recorded_for_refund(order, notification_for):
    assert services.credit("sandbox", notification_for(order, method="card")).credited
    second = services.credit("sandbox", notification_for(order, method="cash"))
    assert second.outcome == Anomaly.ALREADY_PAID and not second.credited
    assert Payment.objects.filter(order=order, credited_at__isnull=False).count() == 1


def test_unknown_order_and_other_notifications(notification_for, order):
    from dataclasses import replace

    from ventanilla.payments.providers.base import OTHER

    unknown = replace(notification_for(order), order_reference="35" + "9" * 18)
    assert services.credit("sandbox", unknown).outcome == "unknown_order"
    assert services.credit("sandbox", replace(notification_for(order), kind=OTHER)).outcome == "ignored"
    assert not Payment.objects.exists()


def test_a_failing_paid_handler_credits_nothing_and_a_retry_credits_once(order, notification_for):
    """A worker dying inside the crediting transaction (here: an exception raised after the
    Payment row was inserted) leaves nothing behind; the retry credits exactly once."""
    calls = []

    def explode(o):
        assert Payment.objects.filter(order=o).count() == 1  # the insert already happened
        raise RuntimeError("worker died")

    def count(o):
        calls.append(o.pk)

    note = notification_for(order)
    services.register_paid_handler("tests.order:", explode)
    try:
        with pytest.raises(RuntimeError):
            services.credit("sandbox", note)
    finally:
        services.unregister_paid_handler("tests.order:", explode)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert not Payment.objects.exists() and not Receipt.objects.exists()

    services.register_paid_handler("tests.order:", count)
    try:
        assert services.credit("sandbox", note).credited
        assert services.credit("sandbox", note).outcome == "duplicate"
    finally:
        services.unregister_paid_handler("tests.order:", count)
    assert calls == [order.pk]
    assert Payment.objects.filter(order=order).count() == 1


def test_database_refuses_a_second_credited_payment_and_a_repeated_provider_id(order):
    now = timezone.now()
    Payment.objects.create(order=order, provider="sandbox", provider_payment_id="a", method="cash",
                           amount_centavos=order.amount_centavos, paid_at=now, credited_at=now)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(order=order, provider="sandbox", provider_payment_id="b", method="cash",
                               amount_centavos=order.amount_centavos, paid_at=now, credited_at=now)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(order=order, provider="sandbox", provider_payment_id="a", method="cash",
                               amount_centavos=order.amount_centavos, paid_at=now)
    # Not credited payments for the same order are allowed (they await a refund).
    Payment.objects.create(order=order, provider="sandbox", provider_payment_id="c", method="cash",
                           amount_centavos=1, paid_at=now, anomaly=Anomaly.ALREADY_PAID)


def test_cancel_order_rules(order, notification_for, make_official):
    official = make_official("department_admin")
    with pytest.raises(services.PaymentError):
        services.cancel_order(order, reason=" ")
    cancelled = services.cancel_order(order, reason="Error de captura", by=official)
    assert cancelled.status == OrderStatus.CANCELLED and cancelled.cancelled_by == official
    assert AuditEntry.objects.filter(action="payments.order_cancelled", actor_id=official.pk).exists()
    paid = services.create_order(payer=order.payer, concept="Otro", amount_centavos=100, source_ref="x:paid")
    services.credit("sandbox", notification_for(paid))
    with pytest.raises(services.PaymentError):
        services.cancel_order(paid, reason="No")


def test_invoice_data_goes_to_the_receipt(order, notification_for):
    from ventanilla.identity.rfc import with_check_digit
    from ventanilla.payments.cfdi import InvoiceDataError

    rfc = with_check_digit("GOAM900101AB")
    with pytest.raises(InvoiceDataError) as exc:
        services.set_invoice_data(order, rfc="XAXX010101000", name="", postal_code="123", regimen="999", uso_cfdi="")
    assert set(exc.value.errors) == {"rfc", "name", "postal_code", "regimen", "uso_cfdi"}
    services.set_invoice_data(order, rfc=rfc.lower(), name="María Gómez Arriaga", postal_code="27000",
                              regimen="605", uso_cfdi="G03")
    receipt = services.credit("sandbox", notification_for(order)).receipt
    assert (receipt.receptor_rfc, receipt.receptor_nombre, receipt.receptor_regimen) == (rfc, "MARÍA GÓMEZ ARRIAGA", "605")
    assert (receipt.uso_cfdi, receipt.receptor_domicilio_fiscal) == ("G03", "27000")
    order.refresh_from_db()
    with pytest.raises(services.PaymentError):
        services.set_invoice_data(order, rfc=rfc, name="X", postal_code="27000", regimen="605", uso_cfdi="G03")


# --- Refunds --------------------------------------------------------------------------------

def test_refund_through_the_sandbox(order, sandbox, good_card, make_official):
    official = make_official("department_admin")
    outcome = services.pay_by_card(order, good_card, provider=sandbox)
    payment = outcome.credit.payment
    with pytest.raises(services.PaymentError):
        services.refund(payment, reason="Demasiado", amount_centavos=payment.amount_centavos + 1,
                        by=official, provider=sandbox)
    partial = services.refund(payment, reason="Cobro parcial indebido", amount_centavos=100, by=official,
                              provider=sandbox)
    assert partial.status == "completed" and partial.provider_refund_id.startswith("sbr_")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    rest = services.refund(payment, reason="Desistimiento", by=official, provider=sandbox)
    assert rest.amount_centavos == payment.amount_centavos - 100
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    with pytest.raises(services.PaymentError):
        services.refund(payment, reason="Otra vez", by=official, provider=sandbox)
    assert AuditEntry.objects.filter(action="payments.refund").count() == 2


def test_failed_refund_is_recorded(order, notification_for, sandbox):
    result = services.credit("sandbox", notification_for(order))  # unknown to the sandbox's ledger
    refund = services.refund(result.payment, reason="Prueba", provider=sandbox)
    assert refund.status == "failed" and refund.error_message
    # A failed refund does not use up the refundable amount.
    assert services.refundable_centavos(result.payment) == result.payment.amount_centavos
