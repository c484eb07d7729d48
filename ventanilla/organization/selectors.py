from __future__ import annotations

from django.db.models import QuerySet

from .models import Department, Office


def active_departments() -> QuerySet[Department]:
    return Department.objects.filter(is_active=True)


def department_by_slug(slug: str) -> Department | None:
    return Department.objects.filter(slug=slug).first()


def offices_of(department: Department) -> QuerySet[Office]:
    return Office.objects.filter(department=department)


def all_departments() -> QuerySet[Department]:
    return Department.objects.order_by("name")


def departments_by_ids(ids) -> QuerySet[Department]:
    return Department.objects.filter(id__in=list(ids)).order_by("name")


def offices_by_ids(ids) -> QuerySet[Office]:
    return Office.objects.filter(pk__in=list(ids))


def offices_of_departments(department_ids) -> QuerySet[Office]:
    return Office.objects.filter(department_id__in=list(department_ids)).select_related("department")


def departments_by_slugs(slugs) -> QuerySet[Department]:
    return Department.objects.filter(slug__in=list(slugs))
