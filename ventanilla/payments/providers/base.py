"""The one interface every payment provider implements, and the registry that picks one by name.

A provider moves money and reports it; it never credits anything. Crediting happens only in
`payments.services.credit()`, which every path (webhook, browser return, re-processing) goes
through. Amounts are integer centavos everywhere on this side of the adapter.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

# ProviderNotification.kind values
PAYMENT_SUCCEEDED = "payment_succeeded"
PAYMENT_FAILED = "payment_failed"
REFUNDED = "refunded"
VERIFICATION = "verification"
OTHER = "other"


def parse_aware_datetime(value: object) -> datetime | None:
    """An ISO 8601 date and time with its UTC offset, as providers send them; None when `value`
    is not one: empty, not text, without an offset, naming a day or hour that does not exist
    ("2026-02-30T10:00:00-06:00", on which Django's `parse_datetime` raises ValueError), or so
    close to year 1 or 9999 that it cannot be expressed in UTC or in the city's time zone."""
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    try:
        parsed = parse_datetime(value)
        if parsed is None or parsed.utcoffset() is None:
            return None
        timezone.localtime(parsed)  # OverflowError at the ends of the calendar
    except (ValueError, OverflowError):
        return None
    return parsed


class ProviderError(Exception):
    """The provider refused or failed; `message` is Spanish and safe to show a resident."""

    def __init__(self, message: str, *, code: str = ""):
        super().__init__(message)
        self.message = message
        self.code = code


class WebhookSignatureError(ProviderError):
    """The webhook's signature or credentials do not verify: answer 401."""


class WebhookPayloadError(ProviderError):
    """The webhook verified but its body is not a notification we understand: answer 400."""


@dataclass(frozen=True)
class CardInput:
    """What the card form sends. A provider with browser tokenisation receives `token` (and
    `device_session_id`); the sandbox, and Openpay without its JavaScript, receive the card."""

    number: str = ""
    holder_name: str = ""
    exp_month: str = ""
    exp_year: str = ""
    cvv: str = ""
    token: str = ""
    device_session_id: str = ""

    @property
    def digits(self) -> str:
        return "".join(ch for ch in self.number if ch not in " -")

    def __repr__(self) -> str:  # never print a card number or CVV in a log
        return f"CardInput(last4={self.digits[-4:]!r}, token={bool(self.token)})"


@dataclass(frozen=True)
class ChargeResult:
    succeeded: bool
    provider_payment_id: str = ""
    amount_centavos: int = 0
    paid_at: datetime | None = None
    funding: str = ""  # "credit" | "debit" | ""
    brand: str = ""
    last4: str = ""
    message: str = ""  # Spanish, for a decline
    error_code: str = ""


@dataclass(frozen=True)
class CashReference:
    provider_payment_id: str
    reference: str  # what the cashier types
    barcode_value: str  # what the Code 128 barcode encodes
    instructions: str = ""


@dataclass(frozen=True)
class ProviderNotification:
    event_id: str
    kind: str
    provider_payment_id: str = ""
    order_reference: str = ""  # the order's línea de captura
    amount_centavos: int = 0
    method: str = ""  # "card" | "cash" | "bank"
    funding: str = ""
    paid_at: datetime | None = None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StatementLine:
    provider_payment_id: str
    kind: str  # "charge" | "refund"
    amount_centavos: int
    at: datetime
    order_reference: str = ""
    method: str = ""


@dataclass(frozen=True)
class RefundResult:
    succeeded: bool
    provider_refund_id: str = ""
    message: str = ""


class PaymentProvider(ABC):
    """Every provider: a name (used in URLs, settings and the ledger) and five operations."""

    name: str = ""
    label: str = ""

    @abstractmethod
    def charge_card(self, order, card: CardInput) -> ChargeResult:
        """Charge the order's amount to a card. A decline is a result, not an exception;
        ProviderError only when the provider could not be reached or refused the request."""

    @abstractmethod
    def create_cash_reference(self, order) -> CashReference:
        """A reference the resident pays in cash at a store or bank; paid later, by webhook."""

    @abstractmethod
    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> ProviderNotification:
        """Verify and read a webhook. WebhookSignatureError if it does not verify,
        WebhookPayloadError if it verifies but cannot be read. `headers` keys are lower case."""

    @abstractmethod
    def notification_from_payload(self, payload: dict) -> ProviderNotification:
        """Read a payload already verified and stored in the inbox (for re-processing)."""

    @abstractmethod
    def statement(self, day: date) -> list[StatementLine]:
        """Every charge and refund the provider settled on `day` (the city's time zone)."""

    @abstractmethod
    def refund(self, payment, amount_centavos: int) -> RefundResult:
        """Give back `amount_centavos` of a payment."""


_FACTORIES: dict[str, Callable[[], PaymentProvider] | str] = {
    "sandbox": "ventanilla.payments.providers.sandbox:SandboxProvider",
    "openpay": "ventanilla.payments.providers.openpay:OpenpayProvider.from_settings",
}


def register_provider(name: str, factory: Callable[[], PaymentProvider]) -> None:
    """Add (or replace) a provider; `factory()` builds it from settings."""
    _FACTORIES[name] = factory


def provider_names() -> list[str]:
    return list(_FACTORIES)


def _resolve(target: str) -> Callable[[], PaymentProvider]:
    module_name, _, attr_path = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for attr in attr_path.split("."):
        obj = getattr(obj, attr)
    return obj


def get_provider(name: str | None = None) -> PaymentProvider:
    """The provider called `name` (default: settings.VENTANILLA_PAYMENT_PROVIDER).
    LookupError for an unknown name."""
    name = name or settings.VENTANILLA_PAYMENT_PROVIDER
    factory = _FACTORIES.get(name)
    if factory is None:
        raise LookupError(name)
    if isinstance(factory, str):
        factory = _resolve(factory)
    return factory()
