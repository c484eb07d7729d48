"""Password strength: zxcvbn's estimate of how many guesses an attacker needs."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from zxcvbn import zxcvbn

MIN_SCORE = 3  # "safely unguessable: moderate protection from offline slow-hash scenario"
MAX_LENGTH = 128
ZXCVBN_MAX_LENGTH = 72  # zxcvbn refuses longer input; the first 72 characters decide its estimate


class StrengthValidator:
    def validate(self, password: str, user=None) -> None:
        if len(password) > MAX_LENGTH:
            raise ValidationError(
                _("La contraseña es demasiado larga (máximo %(max)d caracteres).") % {"max": MAX_LENGTH},
                code="password_too_long",
            )
        inputs = []
        if user is not None:
            inputs = [v for v in (getattr(user, "email", ""), getattr(user, "given_names", ""),
                                  getattr(user, "first_surname", ""), getattr(user, "curp", "")) if v]
        result = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=inputs + ["torreon", "coahuila", "ventanilla", "llave"])
        if result["score"] < MIN_SCORE:
            raise ValidationError(
                _("La contraseña es fácil de adivinar. Usa una frase de varias palabras o combina más caracteres."),
                code="password_too_weak",
            )

    def get_help_text(self) -> str:
        return _("Usa al menos 10 caracteres; una frase de varias palabras es fácil de recordar y difícil de adivinar.")
