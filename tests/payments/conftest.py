"""Fixtures for the payments suite: payers, orders, the sandbox provider and signed webhooks."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

import pytest

_refs = itertools.count(1)


@pytest.fixture
def payer(make_resident):
    return make_resident()


@pytest.fixture
def other_resident(make_resident):
    return make_resident()


@pytest.fixture
def make_order(db, payer):
    from ventanilla.payments import services

    def factory(*, amount_centavos: int = 45_050, who=None, due_date: date | None = None, source_ref: str = "",
                concept: str = "Licencia de funcionamiento"):
        return services.create_order(
            payer=who or payer, concept=concept, amount_centavos=amount_centavos,
            source_ref=source_ref or f"tests.order:{next(_refs)}", due_date=due_date,
        )

    return factory


@pytest.fixture
def order(make_order):
    return make_order()


@pytest.fixture
def sandbox():
    from ventanilla.payments.providers.sandbox import SandboxProvider

    return SandboxProvider(card_webhooks=False)


@pytest.fixture
def sandbox_with_webhooks():
    from ventanilla.payments.providers.sandbox import SandboxProvider

    return SandboxProvider(card_webhooks=True)


@pytest.fixture
def good_card():
    from ventanilla.payments.providers.base import CardInput

    return CardInput(number="4242 4242 4242 4242", holder_name="María Gómez", exp_month="12",
                     exp_year=str((date.today().year + 3) % 100), cvv="123")


@pytest.fixture
def declined_card(good_card):
    from dataclasses import replace

    return replace(good_card, number="4000000000000002")


@pytest.fixture
def paid_cash(sandbox):
    """Pays `order` in cash at the sandbox (optionally at `at`, with another amount) and returns
    (transaction, body, headers) of the signed webhook, without delivering it."""

    def pay(order, *, at: datetime | None = None, amount_centavos: int | None = None):
        sandbox.create_cash_reference(order)
        txn = sandbox.pay_cash(order.reference, at=at, amount_centavos=amount_centavos)
        body = sandbox.event_body(txn)
        return txn, body, sandbox.signed_headers(body)

    return pay


@pytest.fixture
def notification_for():
    """A payment notification for an order, as a provider adapter would produce it."""
    from django.utils import timezone

    from ventanilla.payments.providers.base import PAYMENT_SUCCEEDED, ProviderNotification

    counter = itertools.count(1)

    def build(order, *, amount_centavos: int | None = None, provider_payment_id: str = "", method: str = "cash",
              paid_at: datetime | None = None):
        n = next(counter)
        return ProviderNotification(
            event_id=f"evt_test_{n}", kind=PAYMENT_SUCCEEDED,
            provider_payment_id=provider_payment_id or f"pay_test_{n}_{order.pk}",
            order_reference=order.reference,
            amount_centavos=order.amount_centavos if amount_centavos is None else amount_centavos,
            method=method, paid_at=paid_at or timezone.now(),
        )

    return build


@pytest.fixture
def paid_handler_calls():
    """Registers a paid handler for the "tests.order:" prefix and yields the orders it saw."""
    from ventanilla.payments import services

    calls: list = []

    def handler(order):
        calls.append(order.pk)

    services.register_paid_handler("tests.order:", handler)
    yield calls
    services.unregister_paid_handler("tests.order:", handler)


def days_after(d: date, n: int) -> date:
    return d + timedelta(days=n)
