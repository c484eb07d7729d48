from __future__ import annotations

from django.db.models import QuerySet

from .models import Department, Office


def active_departments() -> QuerySet[Department]:
    return Department.objects.filter(is_active=True)


def department_by_slug(slug: str) -> Department | None:
    return Department.objects.filter(slug=slug).first()


def offices_of(department: Department) -> QuerySet[Office]:
    return Office.objects.filter(department=department)
