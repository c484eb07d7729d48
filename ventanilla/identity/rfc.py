"""RFC (Registro Federal de Contribuyentes): format, date and check digit (homoclave digit).

Structure (SAT): 4 letters for a person (persona física) or 3 for a company (persona moral),
the date YYMMDD (birth or incorporation), a 2-character homoclave and 1 check digit.
The check digit is the SAT's modulo-11 algorithm over the first 12 characters (a company's RFC
is padded with a leading space to 12). The generic RFCs of the CFDI rules (XAXX010101000 público
en general, XEXX010101000 extranjeros) are accepted as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _

GENERIC_PUBLIC = "XAXX010101000"
GENERIC_FOREIGN = "XEXX010101000"
GENERIC = frozenset({GENERIC_PUBLIC, GENERIC_FOREIGN})
_VALUES = "0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ Ñ"
_PATTERN = re.compile(r"^(?P<name>[A-ZÑ&]{3,4})(?P<yy>\d{2})(?P<mm>\d{2})(?P<dd>\d{2})(?P<homo>[A-Z0-9]{2})(?P<check>[0-9A])$")


class RfcError(ValueError):
    """Raised with a Spanish message that can be shown as is."""


@dataclass(frozen=True)
class Rfc:
    value: str
    is_company: bool
    date: date | None


def normalize(raw: str) -> str:
    return "".join((raw or "").split()).upper()


def check_digit(first: str) -> str:
    """The check character for the first 11 (company) or 12 (person) characters."""
    padded = first.rjust(12)
    total = sum(_VALUES.index(ch) * (13 - i) for i, ch in enumerate(padded))
    remainder = total % 11
    if remainder == 0:
        return "0"
    digit = 11 - remainder
    return "A" if digit == 10 else str(digit)


def parse(raw: str) -> Rfc:
    value = normalize(raw)
    if value in GENERIC:
        return Rfc(value=value, is_company=False, date=None)
    if len(value) not in (12, 13):
        raise RfcError(_("El RFC debe tener 13 caracteres (persona física) o 12 (persona moral)."))
    match = _PATTERN.match(value)
    if not match or len(match["name"]) != len(value) - 9:
        raise RfcError(_("El RFC no tiene el formato correcto. Revísalo en tu constancia de situación fiscal."))
    yy, mm, dd = int(match["yy"]), int(match["mm"]), int(match["dd"])
    parsed_date = None
    for century in (2000, 1900):
        try:
            candidate = date(century + yy, mm, dd)
        except ValueError:
            break
        if candidate <= date.today():
            parsed_date = candidate
            break
    if parsed_date is None:
        raise RfcError(_("La fecha del RFC no existe."))
    if check_digit(value[:-1]) != match["check"]:
        raise RfcError(_("El RFC no es válido: el dígito verificador no coincide. Revisa que esté bien escrito."))
    return Rfc(value=value, is_company=len(value) == 12, date=parsed_date)


def with_check_digit(first: str) -> str:
    """Completes an RFC without its last character (demo data and tests)."""
    first = normalize(first)
    return first + check_digit(first)
