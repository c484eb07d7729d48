"""The payment reference ("línea de captura") printed on every payment order.

Layout: 20 decimal digits, the length of SAT's línea de captura, so it fits the numeric
reference field of bank deposit slips, convenience-store barcodes and SPEI concepts::

    PP FFFFFFFFFF DDDD AA CC
    |  |          |    |  '- check digits, ISO/IEC 7064 MOD 97-10 over the 18 digits before
    |  |          |    '---- amount check: amount in centavos mod 97, 2 digits
    |  |          '--------- due date, condensed
    |  '-------------------- folio of the payment order (unique, 10 digits)
    '----------------------- prefix: issuer code (default "35", Torreón's INEGI municipality)

The parts follow the public descriptions of Mexican bank referencing algorithms:

* Condensed date, as in BBVA's "Algoritmo 10" for CIE references:
  (year - base) * 372 + (month - 1) * 31 + (day - 1), zero-padded to 4 digits. Bancomer uses
  base 1988; we use base 2024, so due dates from 2024-01-01 to 2050-11-18 fit in 4 digits.
* Condensed amount: Bancomer condenses the amount to one digit (weights 7, 3, 1 mod 10), so
  it misses one wrong amount in ten. We use two digits, amount mod 97, which detects every
  wrong amount that differs from the right one by less than 97 centavos, in one digit, or by
  swapping two adjacent digits (same proof as below, applied to the amount's own digits).
* Check digits: ISO/IEC 7064 MOD 97-10, the "algoritmo 97" of IBAN (ISO 13616) and of many
  bank references: CC = 98 - (body * 100 mod 97), so the whole 20-digit number N satisfies
  N mod 97 == 1.

Why MOD 97-10 detects every single-character error and every adjacent transposition:
changing the digit at position k (weight 10^k) by e (0 < |e| <= 9) changes N by e * 10^k;
swapping adjacent digits a != b at positions k+1 and k changes N by (a - b) * 9 * 10^k.
97 is prime and divides none of e, a - b (both below 10 in absolute value), 9 or 10^k, so
the change is never a multiple of 97 and N mod 97 is no longer 1. A non-digit character or
a wrong length is rejected before any arithmetic.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from django.utils.translation import gettext as _

LENGTH = 20
DEFAULT_PREFIX = "35"
DATE_BASE_YEAR = 2024
MAX_FOLIO = 10**10 - 1
FIRST_DUE = dt.date(DATE_BASE_YEAR, 1, 1)
LAST_DUE = dt.date(2050, 11, 18)  # condensed 9999


class ReferenceError(ValueError):  # noqa: A001 - the name the payments API documents
    """A payment reference is malformed or mistyped; `message` is in Spanish."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ParsedReference(NamedTuple):
    folio: int
    due: dt.date
    amount_check: int


def _condense_date(due: dt.date) -> int:
    return (due.year - DATE_BASE_YEAR) * 372 + (due.month - 1) * 31 + (due.day - 1)


def _expand_date(value: int) -> dt.date:
    years, rest = divmod(value, 372)
    month0, day0 = divmod(rest, 31)
    return dt.date(DATE_BASE_YEAR + years, month0 + 1, day0 + 1)  # ValueError if not real


def amount_check(amount_centavos: int) -> int:
    """The two-digit amount check: amount in centavos mod 97."""
    return amount_centavos % 97


def check_digits(body: str) -> str:
    """ISO/IEC 7064 MOD 97-10 check digits for a string of decimal digits."""
    return f"{98 - (int(body) * 100) % 97:02d}"


def build_reference(
    folio: int, amount_centavos: int, due: dt.date, prefix: str = DEFAULT_PREFIX
) -> str:
    """The 20-digit reference for payment order `folio`, `amount_centavos`, due on `due`."""
    if isinstance(folio, bool) or not isinstance(folio, int) or not 0 < folio <= MAX_FOLIO:
        raise ValueError("folio must be an int in 1..9999999999")
    if isinstance(amount_centavos, bool) or not isinstance(amount_centavos, int):
        raise TypeError("amounts are integer centavos")
    if amount_centavos <= 0:
        raise ValueError("the amount must be positive")
    if not (len(prefix) == 2 and prefix.isascii() and prefix.isdigit()):
        raise ValueError("prefix must be two digits")
    if isinstance(due, dt.datetime) or not FIRST_DUE <= due <= LAST_DUE:
        raise ValueError(f"due must be a date in {FIRST_DUE}..{LAST_DUE}")
    body = (
        f"{prefix}{folio:010d}{_condense_date(due):04d}{amount_check(amount_centavos):02d}"
    )
    return body + check_digits(body)


def normalize(ref: str) -> str:
    """Drop the spaces and dashes people type when copying a printed reference."""
    return "".join(ch for ch in ref if ch not in " -\t")


def parse_reference(ref: str, *, prefix: str | None = None) -> ParsedReference:
    """(folio, due, amount_check) from a reference; ReferenceError for any typo.

    With `prefix`, also require the reference to belong to that issuer.
    """
    if not isinstance(ref, str):
        raise ReferenceError(_("Escriba la línea de captura."))
    digits = normalize(ref)
    if not digits:
        raise ReferenceError(_("Escriba la línea de captura."))
    if not (digits.isascii() and digits.isdigit()):
        raise ReferenceError(_("La línea de captura solo lleva números."))
    if len(digits) != LENGTH:
        raise ReferenceError(
            _("La línea de captura tiene %(expected)d números; usted escribió %(got)d.")
            % {"expected": LENGTH, "got": len(digits)}
        )
    if int(digits) % 97 != 1:
        raise ReferenceError(
            _("La línea de captura no es válida. Revise que la haya copiado sin errores.")
        )
    if prefix is not None and digits[:2] != prefix:
        raise ReferenceError(_("Esta línea de captura no es de este municipio."))
    folio = int(digits[2:12])
    try:
        due = _expand_date(int(digits[12:16]))
    except ValueError:
        due = None
    if folio == 0 or due is None:
        raise ReferenceError(
            _("La línea de captura no es válida. Revise que la haya copiado sin errores.")
        )
    return ParsedReference(folio=folio, due=due, amount_check=int(digits[16:18]))


def verify(ref: str, amount_centavos: int) -> bool:
    """True when `ref` is a well-formed reference whose amount check matches the amount."""
    try:
        parsed = parse_reference(ref)
    except ReferenceError:
        return False
    return parsed.amount_check == amount_check(amount_centavos)
