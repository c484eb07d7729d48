"""Sign-ins, sign-outs and failed attempts go to the audit log."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from ventanilla.audit.services import record


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs) -> None:
    record("identity.login", actor=user, subject=user, request=request)


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        record("identity.logout", actor=user, subject=user, request=request)
