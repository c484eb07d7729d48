"""Identity's periodic job: sending-limit counters whose window ended are forgotten."""

from __future__ import annotations

from django.conf import settings

from ventanilla.core.jobs import job

from . import send_limits


@job("identity.forget_send_counters", every=lambda: int(settings.SEND_LIMIT_WINDOW_SECONDS), max_attempts=3)
def forget_send_counters() -> int:
    return send_limits.forget_old()
