"""Who may do what. Every back-office view goes through `official_required`.

An official reaches the back office only when signed in with password AND a verified second
factor (TOTP) in this session; without a confirmed device they are sent to enrol one."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from ventanilla.organization import selectors as org_selectors

from .models import Membership, Role


def roles_of(user, department=None) -> set[str]:
    if not getattr(user, "is_authenticated", False) or not user.is_official:
        return set()
    qs = Membership.objects.filter(user=user)
    if department is not None:
        qs = qs.filter(department=department)
    return set(qs.values_list("role", flat=True))


def has_role(user, *roles: str, department=None) -> bool:
    """True when the official holds any of `roles` (in `department`, if given). Platform
    administrators hold every role everywhere."""
    held = roles_of(user, department) | (roles_of(user) & {Role.PLATFORM_ADMIN})
    if getattr(user, "is_superuser", False) and getattr(user, "is_official", False) and user.is_active:
        held |= {Role.PLATFORM_ADMIN}  # the first administrator, made with `createsuperuser`
    if not roles:
        return bool(held)
    return bool(held & ({*roles} | {Role.PLATFORM_ADMIN}))


def departments_where(user, *roles: str) -> list:
    if has_role(user, Role.PLATFORM_ADMIN):
        return list(org_selectors.all_departments())
    ids = Membership.objects.filter(user=user, role__in=roles).values_list("department_id", flat=True)
    return list(org_selectors.departments_by_ids(ids))


def official_required(*roles: str) -> Callable:
    """Decorator for back-office views. Anonymous → sign-in; official without verified 2FA →
    the second-factor page (enrolment if they have no device); resident or missing role → 403."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user.is_official:
                raise PermissionDenied
            if not user.is_verified():
                return redirect(two_factor_url(request.get_full_path()))
            if roles and not has_role(user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.official_roles = roles  # read by the "every URL as every role" test
        return wrapper

    return decorator


def two_factor_url(next_url: str) -> str:
    """The second-factor page, coming back to `next_url` afterwards (query string kept whole)."""
    from django.urls import reverse
    from django.utils.http import urlencode

    return f"{reverse('identity:two_factor')}?{urlencode({'next': next_url})}"
