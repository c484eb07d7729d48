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
