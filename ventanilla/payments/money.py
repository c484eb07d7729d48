"""Money as integer centavos.

Every amount in Ventanilla is an `int` of centavos (1 peso = 100 centavos): no floats, no
Decimals in the ledger. `parse_pesos` turns what a person types into centavos, strictly;
`format_pesos` writes centavos the way Mexican receipts do ("$1,234.50").
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

# Optional "$", then either digits with correct thousands commas or plain digits, then an
# optional decimal point with one or two digits.
_AMOUNT = re.compile(
    r"^\$?\s?(?P<int>[1-9]\d{0,2}(?:,\d{3})+|[1-9]\d*|0)(?:\.(?P<frac>\d{1,2}))?$"
)
MAX_CENTAVOS = 10**14  # one trillion pesos: far above any municipal fee, guards overflow


class MoneyError(ValueError):
    """An amount a person typed is not valid; `message` is in Spanish."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def parse_pesos(text: str) -> int:
    """'1,234.50' -> 123450. Accepts an optional '$', thousands commas, up to 2 decimals.

    Rejects negatives, more than two decimals, misplaced commas, letters and empty input.
    """
    if not isinstance(text, str):
        raise MoneyError(_("Escriba la cantidad en pesos, por ejemplo 1,234.50."))
    cleaned = text.strip()
    if not cleaned:
        raise MoneyError(_("Escriba la cantidad en pesos."))
    if cleaned.startswith("-"):
        raise MoneyError(_("La cantidad no puede ser negativa."))
    match = _AMOUNT.match(cleaned)
    if match is None:
        if re.fullmatch(r"\$?\s?[\d,]*\.\d{3,}", cleaned):
            raise MoneyError(_("La cantidad solo puede tener dos decimales (centavos)."))
        raise MoneyError(
            _("Escriba la cantidad en pesos con números, por ejemplo 1,234.50.")
        )
    pesos = int(match["int"].replace(",", ""))
    frac = (match["frac"] or "").ljust(2, "0")
    centavos = pesos * 100 + int(frac)
    if centavos >= MAX_CENTAVOS:
        raise MoneyError(_("La cantidad es demasiado grande."))
    return centavos


def format_pesos(centavos: int) -> str:
    """123450 -> '$1,234.50'; -5 -> '-$0.05'."""
    if isinstance(centavos, bool) or not isinstance(centavos, int):
        raise TypeError("amounts are integer centavos")
    sign = "-" if centavos < 0 else ""
    pesos, cents = divmod(abs(centavos), 100)
    return f"{sign}${pesos:,}.{cents:02d}"


def centavos_from_decimal(value) -> int:
    """An amount in pesos as a provider sends it (JSON number parsed as Decimal, or its text)
    -> centavos. Exact: rejects more than two decimals, non-finite values and floats (a float
    may already have lost the centavos)."""
    from decimal import Decimal, InvalidOperation

    if isinstance(value, (bool, float)):
        raise TypeError("parse provider amounts as Decimal, not float")
    try:
        amount = Decimal(value) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    centavos = amount * 100
    if centavos != centavos.to_integral_value():
        raise ValueError(f"more than two decimals: {value!r}")
    if abs(centavos) >= MAX_CENTAVOS:
        raise ValueError(f"amount out of range: {value!r}")
    return int(centavos)


def pesos_decimal(centavos: int):
    """123450 -> Decimal('1234.50'), the form payment APIs take."""
    from decimal import Decimal

    if isinstance(centavos, bool) or not isinstance(centavos, int):
        raise TypeError("amounts are integer centavos")
    return Decimal(centavos).scaleb(-2).quantize(Decimal("0.01"))
