"""Plain-language rendering of a procedure's legal data."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()


def format_pesos(centavos: int) -> str:
    """12345678 → "$123,456.78" (Mexican notation)."""
    pesos, cents = divmod(int(centavos), 100)
    return f"${pesos:,}.{cents:02d}"


@register.simple_tag
def procedure_cost(procedure) -> str:
    if procedure.cost_kind == procedure.CostKind.FREE:
        return _("Gratuito")
    if procedure.cost_kind == procedure.CostKind.FIXED and procedure.cost_amount_centavos is not None:
        return format_pesos(procedure.cost_amount_centavos)
    return procedure.cost_description or _("Se calcula según tu caso")


@register.simple_tag
def ficta_explained(procedure) -> str:
    days = procedure.response_days or 0
    if procedure.ficta == procedure.Ficta.AFIRMATIVA:
        return ngettext(
            "Si pasa %(days)d día hábil sin respuesta, tu solicitud se considera aprobada (afirmativa ficta).",
            "Si pasan %(days)d días hábiles sin respuesta, tu solicitud se considera aprobada (afirmativa ficta).",
            days,
        ) % {"days": days}
    if procedure.ficta == procedure.Ficta.NEGATIVA:
        return ngettext(
            "Si pasa %(days)d día hábil sin respuesta, tu solicitud se considera negada (negativa ficta) y puedes inconformarte.",
            "Si pasan %(days)d días hábiles sin respuesta, tu solicitud se considera negada (negativa ficta) y puedes inconformarte.",
            days,
        ) % {"days": days}
    return _("No aplica afirmativa ni negativa ficta.")
