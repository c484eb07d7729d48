"""Read-only queries other apps and Llave's views may use."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Consent, Membership, PersonalDataAccess, User


def data_accesses_for(resident: User) -> QuerySet[PersonalDataAccess]:
    """Who opened this resident's personal data (newest first)."""
    return PersonalDataAccess.objects.filter(resident=resident).select_related("official", "department")


def consents_for(resident: User) -> QuerySet[Consent]:
    return Consent.objects.filter(resident=resident).select_related("department")


def officials() -> QuerySet[User]:
    return User.objects.filter(is_official=True).order_by("first_surname", "given_names")


def official_by_public_id(public_id) -> User | None:
    return officials().filter(public_id=public_id).first()


def memberships_of(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("department").order_by("department__name", "role")


def user_by_curp(curp: str) -> User | None:
    return User.objects.filter(curp=curp).first()
