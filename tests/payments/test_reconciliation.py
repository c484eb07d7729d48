"""Reconciliation of the sandbox's statement with the ledger, including seeded mismatches."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from ventanilla.payments import services
from ventanilla.payments.models import Payment, SandboxTransaction
from ventanilla.payments.reconciliation import (
    AMOUNT_MISMATCH,
    MISSING_AT_PROVIDER,
    MISSING_IN_LEDGER,
    reconcile,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def settled_day(make_order, sandbox, good_card, paid_cash):
    """A day with a card payment, a cash payment and a partial refund, all consistent."""
    card_order, cash_order = make_order(), make_order(amount_centavos=12_300)
    paid = services.pay_by_card(card_order, good_card, provider=sandbox)
    _, body, headers = paid_cash(cash_order)
    assert services.receive_webhook("sandbox", headers, body).status == 200
    services.refund(paid.credit.payment, reason="Cobro parcial indebido", amount_centavos=1_000, provider=sandbox)
    return timezone.localdate()


def test_a_consistent_day_has_no_differences(settled_day, sandbox, capsys):
    assert reconcile(sandbox, settled_day) == []
    call_command("reconcile_payments", "--provider", "sandbox", "--date", settled_day.isoformat())
    assert "sin diferencias" in capsys.readouterr().out


def test_seeded_mismatches_are_reported(settled_day, sandbox, make_order, paid_cash, capsys):
    # 1. The provider settled an amount different from the one the ledger recorded.
    card_txn = SandboxTransaction.objects.filter(kind="card").get()
    SandboxTransaction.objects.filter(pk=card_txn.pk).update(amount_centavos=card_txn.amount_centavos + 1)
    # 2. Money the provider took whose webhook never arrived.
    lost_order = make_order(amount_centavos=9_900)
    lost_txn, _, _ = paid_cash(lost_order)
    # 3. A payment in the ledger the provider knows nothing about.
    ghost_order = make_order(amount_centavos=5_000)
    Payment.objects.create(order=ghost_order, provider="sandbox", provider_payment_id="sbx_ghost", method="cash",
                           amount_centavos=5_000, paid_at=timezone.now(), credited_at=timezone.now())

    differences = reconcile("sandbox", settled_day)
    found = {(d.kind, d.provider_id) for d in differences}
    assert found == {
        (AMOUNT_MISMATCH, card_txn.transaction_id),
        (MISSING_IN_LEDGER, lost_txn.transaction_id),
        (MISSING_AT_PROVIDER, "sbx_ghost"),
    }
    mismatch = next(d for d in differences if d.kind == AMOUNT_MISMATCH)
    assert mismatch.provider_amount_centavos == mismatch.ledger_amount_centavos + 1
    assert "el proveedor dice" in mismatch.message
    lost = next(d for d in differences if d.kind == MISSING_IN_LEDGER)
    assert lost.order_reference == lost_order.reference and lost.provider_amount_centavos == 9_900

    with pytest.raises(SystemExit) as exc:
        call_command("reconcile_payments", "--provider", "sandbox", "--date", settled_day.isoformat())
    assert exc.value.code == 1
    out = capsys.readouterr().out
    assert "3 diferencia(s)" in out and "sbx_ghost" in out


def test_a_refund_missing_at_the_provider_is_reported(settled_day, sandbox):
    SandboxTransaction.objects.filter(kind="refund").delete()
    differences = reconcile(sandbox, settled_day)
    assert [(d.kind, d.item) for d in differences] == [(MISSING_AT_PROVIDER, "refund")]


def test_command_rejects_bad_arguments():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("reconcile_payments", "--date", "31/12/2026")
    with pytest.raises(CommandError):
        call_command("reconcile_payments", "--provider", "paypal", "--date", "2026-01-01")
