"""Limits on what sends e-mail or creates accounts for whoever asks: confirmation links resent,
password resets and sign-ups. Without them anyone could flood a resident's inbox from the
"forgot my password" page, or create accounts by the thousand.

Each request is counted for its e-mail address and for its IP address in a fixed window of
`SEND_LIMIT_WINDOW_SECONDS` (an hour by default): at most `SEND_LIMIT_PER_ADDRESS` messages to one
address and `SEND_LIMIT_PER_IP` requests from one IP (generous, because residents share the
address of a counter, a kiosk or a mobile carrier). A request over a limit is refused before
anything is sent or written. The pages that send links say the same whether or not an account
exists, so a refusal there is silent too; sign-up, which reveals nothing by refusing, answers 429.

The state lives in the database (`SendCounter`), so the limits hold across web workers; keys are
digests. Every function takes `now` so tests move the clock without patching."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .lockout import digest, normalize_identifier
from .models import SendCounter

CONFIRMATION = "confirmation"
PASSWORD_RESET = "password_reset"
SIGN_UP = "sign_up"
KINDS = (CONFIRMATION, PASSWORD_RESET, SIGN_UP)


def window() -> timedelta:
    return timedelta(seconds=int(settings.SEND_LIMIT_WINDOW_SECONDS))


def _counters(kind: str, email: str | None, ip: str | None) -> list[tuple[str, str, int]]:
    """(counter kind, key, limit) for each thing this request is counted against."""
    counters = []
    if email:
        counters.append((f"{kind}:a", digest(normalize_identifier(email)), int(settings.SEND_LIMIT_PER_ADDRESS)))
    if ip:
        counters.append((f"{kind}:i", digest(ip), int(settings.SEND_LIMIT_PER_IP)))
    return counters


def allow(kind: str, *, email: str | None, ip: str | None, now: datetime | None = None) -> bool:
    """Counts one request of `kind` for the address and the IP and says whether it may go ahead:
    False when either is already at its limit in the current window (the refused request is not
    counted, so a refusal never extends the wait)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    now = now or timezone.now()
    counters = _counters(kind, email, ip)
    for _attempt in range(3):
        try:
            with transaction.atomic():
                rows = []
                for counter_kind, key, limit in counters:
                    row, _created = SendCounter.objects.select_for_update().get_or_create(
                        kind=counter_kind, key=key, defaults={"window_started_at": now})
                    if now - row.window_started_at >= window():
                        row.window_started_at, row.count = now, 0  # a new window
                    if row.count >= limit:
                        return False
                    rows.append(row)
                for row in rows:
                    row.count += 1
                    row.save(update_fields=["window_started_at", "count"])
                return True
        except IntegrityError:
            continue  # another worker created the row first: count again with it
    return False


def forget_old(*, now: datetime | None = None) -> int:
    """Deletes counters whose window ended (housekeeping); returns how many."""
    now = now or timezone.now()
    deleted, _ = SendCounter.objects.filter(window_started_at__lte=now - window()).delete()
    return deleted
