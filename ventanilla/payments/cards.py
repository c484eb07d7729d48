"""Checks on what a person types in the card form, before anything reaches a provider."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _

from .providers.base import CardInput


class CardInputError(ValueError):
    """`errors` maps a form field to its Spanish message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check every card number carries (ISO/IEC 7812-1)."""
    if not (digits.isascii() and digits.isdigit()) or not 12 <= len(digits) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def brand_of(digits: str) -> str:
    if digits.startswith("4"):
        return "visa"
    if digits[:2] in {"51", "52", "53", "54", "55"} or "2221" <= digits[:4] <= "2720":
        return "mastercard"
    if digits[:2] in {"34", "37"}:
        return "amex"
    return "otra"


def validate_card(card: CardInput, *, today: date) -> CardInput:
    """The card with its number cleaned, or CardInputError naming every wrong field."""
    errors: dict[str, str] = {}
    digits = card.digits
    if not card.holder_name.strip():
        errors["holder_name"] = _("Escriba el nombre como aparece en la tarjeta.")
    elif len(card.holder_name.strip()) > 80:
        errors["holder_name"] = _("El nombre es demasiado largo.")
    if not digits:
        errors["number"] = _("Escriba el número de la tarjeta.")
    elif not (digits.isascii() and digits.isdigit()):
        errors["number"] = _("El número de la tarjeta solo lleva números.")
    elif not 12 <= len(digits) <= 19 or not luhn_valid(digits):
        errors["number"] = _("El número de la tarjeta no es válido. Revíselo.")
    month, year = card.exp_month.strip(), card.exp_year.strip()
    if not (month.isascii() and month.isdigit() and 1 <= int(month) <= 12):
        errors["exp_month"] = _("Escriba el mes de vencimiento (1 a 12).")
    if not (year.isascii() and year.isdigit() and len(year) in (2, 4)):
        errors["exp_year"] = _("Escriba el año de vencimiento, por ejemplo 29.")
    if "exp_month" not in errors and "exp_year" not in errors:
        full_year = int(year) + (2000 if len(year) == 2 else 0)
        if (full_year, int(month)) < (today.year, today.month):
            errors["exp_year"] = _("La tarjeta ya venció.")
        elif full_year > today.year + 20:
            errors["exp_year"] = _("El año de vencimiento no es válido.")
    cvv = card.cvv.strip()
    expected = 4 if brand_of(digits) == "amex" else 3
    if not (cvv.isascii() and cvv.isdigit() and len(cvv) == expected):
        errors["cvv"] = _("El código de seguridad tiene %(n)d números.") % {"n": expected}
    if errors:
        raise CardInputError(errors)
    return CardInput(
        number=digits, holder_name=card.holder_name.strip(), exp_month=f"{int(month):02d}",
        exp_year=year[-2:], cvv=cvv, token=card.token, device_session_id=card.device_session_id,
    )
