"""CURP (Clave Única de Registro de Población): format, date, state and check digit.

Structure (RENAPO): 4 letters from the names, birth date YYMMDD, sex (H, M, or X since 2023),
2-letter state of birth (NE = born abroad), 3 internal consonants, 1 homonym differentiator
(a digit for births up to 1999, a letter from 2000), 1 check digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

STATES = {
    "AS": "Aguascalientes", "BC": "Baja California", "BS": "Baja California Sur", "CC": "Campeche",
    "CL": "Coahuila", "CM": "Colima", "CS": "Chiapas", "CH": "Chihuahua", "DF": "Ciudad de México",
    "DG": "Durango", "GT": "Guanajuato", "GR": "Guerrero", "HG": "Hidalgo", "JC": "Jalisco",
    "MC": "Estado de México", "MN": "Michoacán", "MS": "Morelos", "NT": "Nayarit", "NL": "Nuevo León",
    "OC": "Oaxaca", "PL": "Puebla", "QT": "Querétaro", "QR": "Quintana Roo", "SP": "San Luis Potosí",
    "SL": "Sinaloa", "SR": "Sonora", "TC": "Tabasco", "TS": "Tamaulipas", "TL": "Tlaxcala",
    "VZ": "Veracruz", "YN": "Yucatán", "ZS": "Zacatecas", "NE": "Nacido en el extranjero",
}
SEXES = {"H": gettext_noop("Hombre"), "M": gettext_noop("Mujer"), "X": gettext_noop("No binario")}
_ALPHABET = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ"
_PATTERN = re.compile(
    r"^[A-Z][AEIOUX][A-Z]{2}"  # names
    r"(?P<yy>\d{2})(?P<mm>\d{2})(?P<dd>\d{2})"
    r"(?P<sex>[HMX])"
    r"(?P<state>[A-Z]{2})"
    r"[B-DF-HJ-NP-TV-Z]{3}"  # internal consonants
    r"(?P<diff>[0-9A-Z])"
    r"(?P<check>\d)$"
)


class CurpError(ValueError):
    """Raised with a message in Spanish that can be shown to the resident as is."""


@dataclass(frozen=True)
class Curp:
    value: str
    birth_date: date
    sex: str
    state: str


def normalize(raw: str) -> str:
    return "".join(raw.split()).upper()


def check_digit(first17: str) -> int:
    total = sum(_ALPHABET.index(ch) * (18 - i) for i, ch in enumerate(first17))
    return (10 - total % 10) % 10


def parse(raw: str) -> Curp:
    value = normalize(raw or "")
    if len(value) != 18:
        raise CurpError(_("La CURP debe tener 18 caracteres."))
    match = _PATTERN.match(value)
    if not match:
        raise CurpError(_("La CURP no tiene el formato correcto. Revísala en tu acta o en tu INE."))
    if match["state"] not in STATES:
        raise CurpError(_("Las letras del estado de nacimiento de la CURP no son válidas."))
    year = int(match["yy"])
    # Differentiator: digit for births up to 1999, letter from 2000.
    century = 2000 if match["diff"].isalpha() else 1900
    try:
        born = date(century + year, int(match["mm"]), int(match["dd"]))
    except ValueError as exc:
        raise CurpError(_("La fecha de nacimiento de la CURP no existe.")) from exc
    if check_digit(value[:17]) != int(match["check"]):
        raise CurpError(_(
            "La CURP no es válida: el dígito verificador no coincide. Revisa que esté bien escrita."
        ))
    return Curp(value=value, birth_date=born, sex=match["sex"], state=match["state"])


def is_valid(raw: str) -> bool:
    try:
        parse(raw)
    except CurpError:
        return False
    return True


def with_check_digit(first17: str) -> str:
    """Completes a 17-character CURP prefix with its check digit (demo data and tests)."""
    first17 = normalize(first17)
    return first17 + str(check_digit(first17))
