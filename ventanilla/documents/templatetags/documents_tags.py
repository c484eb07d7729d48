"""`long_date`: '5 de marzo de 2026' in Spanish (months in lower case, as es-MX writes them);
the active language's long date format otherwise."""

from __future__ import annotations

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils.translation import get_language

from ventanilla.documents.rendering import date_es

register = template.Library()


@register.filter
def long_date(value):
    if not value:
        return ""
    if (get_language() or "es").startswith("es"):
        return date_es(value)
    return date_filter(value, "DATE_FORMAT")
