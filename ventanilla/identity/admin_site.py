"""The Django admin: only platform administrators, and only with a verified second factor."""

from __future__ import annotations

from django_otp.admin import OTPAdminSite


class LlaveAdminSite(OTPAdminSite):
    def has_permission(self, request) -> bool:
        from .permissions import has_role

        user = request.user
        if not super().has_permission(request):  # active, staff and OTP-verified
            return False
        return bool(user.is_superuser or (user.is_official and has_role(user, "platform_admin")))

    def login(self, request, extra_context=None):
        """The admin has no sign-in form of its own: Llave's applies the lockout, the audit and
        the second factor to everybody."""
        from django.contrib.auth.views import redirect_to_login
        from django.shortcuts import redirect
        from django.urls import reverse

        from .permissions import two_factor_url

        next_url = request.GET.get("next") or reverse("admin:index")
        if request.user.is_authenticated and request.user.is_official and not request.user.is_verified():
            return redirect(two_factor_url(next_url))
        return redirect_to_login(next_url, reverse("identity:login"))
