"""`manage.py payments_refund` and `payments_cancel`: a platform administrator gives money back
or cancels an order from the command line, through the services, audited; clear Spanish errors."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ventanilla.audit.models import AuditEntry
from ventanilla.identity.models import Role
from ventanilla.payments import services
from ventanilla.payments.models import Anomaly, OrderStatus, Payment, Refund, RefundStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(make_official):
    return make_official(Role.PLATFORM_ADMIN, email="tesoreria.admin@torreon.gob.mx")


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def card_payment(order, sandbox, good_card) -> Payment:
    return services.pay_by_card(order, good_card, provider=sandbox).credit.payment


def test_refund_by_receipt_folio_in_full_turns_the_order_refunded(order, sandbox, good_card, admin):
    payment = card_payment(order, sandbox, good_card)
    out = run("payments_refund", payment.receipt.folio, "--reason", "Cobro duplicado", "--by", admin.email)
    assert "Reembolso de $450.50 del pago" in out
    refund = Refund.objects.get()
    assert (refund.status, refund.amount_centavos, refund.requested_by) == (RefundStatus.COMPLETED, 45_050, admin)
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    entry = AuditEntry.objects.filter(action="payments.refund").get()
    assert entry.actor_id == admin.pk and entry.data["reason"] == "Cobro duplicado"
    assert entry.data["amount_centavos"] == 45_050


def test_partial_refund_by_provider_id_and_the_rest(order, sandbox, good_card, admin):
    payment = card_payment(order, sandbox, good_card)
    run("payments_refund", f"sandbox:{payment.provider_payment_id}", "--reason", "Descuento", "--amount", "50.50",
        "--by", admin.email)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    with pytest.raises(CommandError) as exc:
        run("payments_refund", payment.provider_payment_id, "--reason", "Otra", "--amount", "500", "--by", admin.email)
    assert "no puede exceder $400.00" in str(exc.value)
    run("payments_refund", payment.provider_payment_id, "--reason", "El resto", "--by", admin.email)
    assert [r.amount_centavos for r in Refund.objects.order_by("pk")] == [5_050, 40_000]
    with pytest.raises(CommandError) as exc:
        run("payments_refund", payment.provider_payment_id, "--reason", "Otra vez", "--by", admin.email)
    assert "No queda nada por reembolsar" in str(exc.value)


def test_refund_of_money_that_arrived_for_a_cancelled_order(order, notification_for, sandbox, admin):
    run("payments_cancel", order.reference, "--reason", "Trámite desistido", "--by", admin.email)
    sandbox.create_cash_reference(order)
    txn = sandbox.pay_cash(order.reference)
    sandbox.send_webhook(txn)
    payment = Payment.objects.get()
    assert payment.anomaly == Anomaly.ORDER_CANCELLED
    run("payments_refund", txn.transaction_id, "--reason", "La orden estaba cancelada", "--by", admin.email)
    assert Refund.objects.get().status == RefundStatus.COMPLETED


def test_refund_errors_are_clear_and_spanish(order, sandbox, good_card, admin, make_official):
    payment = card_payment(order, sandbox, good_card)
    clerk = make_official(Role.COUNTER_CLERK)
    cases = [
        (("REC-9999999999", "--reason", "x", "--by", admin.email), "No existe un pago con el folio"),
        (("nadie:123", "--reason", "x", "--by", admin.email), "No existe un pago"),
        ((payment.receipt.folio, "--reason", "x", "--by", "nadie@torreon.gob.mx"), "No hay un servidor público activo"),
        ((payment.receipt.folio, "--reason", "x", "--by", clerk.email), "Solo un administrador de la plataforma"),
        ((payment.receipt.folio, "--reason", "  ", "--by", admin.email), "Escriba el motivo del reembolso"),
        ((payment.receipt.folio, "--reason", "x", "--amount", "diez", "--by", admin.email), "Escriba la cantidad en pesos"),
    ]
    for args, message in cases:
        with pytest.raises(CommandError) as exc:
            run("payments_refund", *args)
        assert message in str(exc.value), (args, str(exc.value))
    assert not Refund.objects.exists() and not AuditEntry.objects.filter(action="payments.refund").exists()


def test_a_refund_the_provider_refuses_is_recorded_failed_and_the_command_fails(order, sandbox, good_card, admin):
    payment = card_payment(order, sandbox, good_card)
    from ventanilla.payments.models import SandboxTransaction

    SandboxTransaction.objects.filter(transaction_id=payment.provider_payment_id).update(status="declined")
    with pytest.raises(CommandError) as exc:
        run("payments_refund", payment.receipt.folio, "--reason", "Prueba", "--by", admin.email)
    assert "El proveedor no hizo el reembolso de $450.50: El simulador no tiene ese cargo cobrado." in str(exc.value)
    assert Refund.objects.get().status == RefundStatus.FAILED
    assert AuditEntry.objects.get(action="payments.refund").data["status"] == "failed"


def test_a_payment_of_an_unavailable_provider_leaves_no_requested_refund(order, notification_for, admin):
    services.credit("antiguo", notification_for(order, provider_payment_id="pay_old"))
    payment = Payment.objects.get()
    with pytest.raises(services.PaymentError) as exc:
        services.refund(payment, reason="Prueba", by=admin)
    assert "«antiguo»" in exc.value.message
    assert not Refund.objects.exists()


def test_cancel_by_reference_or_id_is_audited_and_idempotent(order, make_order, admin):
    out = run("payments_cancel", order.reference_grouped, "--reason", "Orden emitida por error", "--by", admin.email)
    assert f"Orden {order.reference} cancelada." in out
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and order.cancelled_by == admin
    assert order.cancel_reason == "Orden emitida por error"
    entry = AuditEntry.objects.get(action="payments.order_cancelled")
    assert entry.actor_id == admin.pk and entry.data["reference"] == order.reference
    assert "ya estaba cancelada" in run("payments_cancel", str(order.public_id), "--reason", "Otra", "--by", admin.email)
    assert AuditEntry.objects.filter(action="payments.order_cancelled").count() == 1


def test_cancel_errors(order, notification_for, admin):
    services.credit("sandbox", notification_for(order))
    cases = [
        ((order.reference, "--reason", "x", "--by", admin.email), "Solo se puede cancelar una orden pendiente o vencida."),
        (("35000000000000000000", "--reason", "x", "--by", admin.email), "No existe una orden de pago"),
        (("no-es-una-orden", "--reason", "x", "--by", admin.email), "No existe una orden de pago"),
        ((order.reference, "--reason", "", "--by", admin.email), "Escriba el motivo de la cancelación"),
        ((order.reference, "--reason", "x", "--by", ""), "No hay un servidor público activo"),
    ]
    for args, message in cases:
        with pytest.raises(CommandError) as exc:
            run("payments_cancel", *args)
        assert message in str(exc.value), (args, str(exc.value))
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_cancelling_an_order_another_app_waits_for_warns(order, admin, paid_handler_calls):
    out = run("payments_cancel", order.reference, "--reason", "Desistimiento", "--by", admin.email)
    assert "Atención: la orden viene de tests.order:" in out
