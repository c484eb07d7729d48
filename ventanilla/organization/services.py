"""Changes to departments and offices. Other apps (the catalogue's demo loader, the back office)
create and update them only through these functions."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .models import Department, Office


def _decimal_or_none(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValidationError(_("Coordenada no válida.")) from None


def upsert_department(
    *, slug: str, name: str, acronym: str = "", description: str = "", email: str = "", phone: str = "",
    is_active: bool = True,
) -> Department:
    """Creates or updates the department with this slug (validated)."""
    with transaction.atomic():
        department = Department.objects.filter(slug=slug).first() or Department(slug=slug)
        department.name, department.acronym, department.description = name, acronym, description
        department.email, department.phone, department.is_active = email, phone, is_active
        department.full_clean()
        department.save()
    return department


def upsert_office(
    department: Department, *, name: str, address: str, hours: str, phone: str = "", email: str = "",
    latitude=None, longitude=None,
) -> Office:
    """Creates or updates the office called `name` of `department` (validated)."""
    with transaction.atomic():
        office = Office.objects.filter(department=department, name=name).first() or Office(
            department=department, name=name
        )
        office.address, office.hours, office.phone, office.email = address, hours, phone, email
        office.latitude, office.longitude = _decimal_or_none(latitude), _decimal_or_none(longitude)
        office.full_clean()
        office.save()
    return office
