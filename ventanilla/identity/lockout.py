"""Sign-in lockout with exponential back-off, per account identifier and per IP address.

After `LOGIN_FAILURES_BEFORE_LOCK` failures the key is locked for `LOGIN_LOCK_BASE_SECONDS`;
every further failure (after the lock ends) doubles the lock, up to `LOGIN_LOCK_MAX_SECONDS`.
A success resets the account's counter; a quiet spell of `LOGIN_FAILURE_WINDOW_SECONDS` with no
failure resets any counter (so one stranger's typo hours later does not lock a shared address). IP addresses tolerate more failures
(`LOGIN_IP_FAILURES_BEFORE_LOCK`, by default four times the per-account number) because many
residents may share one address at a counter or a kiosk.

The state lives in the database so it holds across web workers. Every function takes `now` so
tests can move the clock without patching.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import LoginThrottle

Scope = LoginThrottle.Scope


@dataclass(frozen=True)
class LockStatus:
    locked: bool
    until: datetime | None = None

    @property
    def seconds_left(self) -> int:
        if not self.locked or self.until is None:
            return 0
        return max(1, int((self.until - timezone.now()).total_seconds()))


def normalize_identifier(identifier: str) -> str:
    return "".join((identifier or "").split()).lower()[:254]


def digest(value: str) -> str:
    """A keyed digest of an identifier or an address, so throttling tables never hold them in clear."""
    return hashlib.sha256(f"{settings.SECRET_KEY[:16]}|{value}".encode()).hexdigest()


def threshold(scope: str) -> int:
    base = int(settings.LOGIN_FAILURES_BEFORE_LOCK)
    if scope == Scope.IP:
        return int(getattr(settings, "LOGIN_IP_FAILURES_BEFORE_LOCK", base * 4))
    return base


def failure_window() -> timedelta:
    """Failures older than this, with none since, no longer count."""
    return timedelta(seconds=int(getattr(settings, "LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60)))


def lock_seconds(scope: str, failures: int) -> int:
    """Length of the lock that starts after the `failures`-th failure (0 = no lock yet)."""
    over = failures - threshold(scope)
    if over < 0:
        return 0
    base = int(settings.LOGIN_LOCK_BASE_SECONDS)
    maximum = int(settings.LOGIN_LOCK_MAX_SECONDS)
    # Cap the exponent so a long attack cannot overflow anything.
    return min(base * (2 ** min(over, 40)), maximum)


def _keys(identifier: str | None, ip: str | None) -> list[tuple[str, str]]:
    keys = []
    if identifier:
        keys.append((Scope.ACCOUNT, digest(normalize_identifier(identifier))))
    if ip:
        keys.append((Scope.IP, digest(ip)))
    return keys


def status(identifier: str | None, ip: str | None, *, now: datetime | None = None,
           scope_override: str | None = None) -> LockStatus:
    """Whether a sign-in for `identifier` from `ip` must be refused right now, and until when."""
    now = now or timezone.now()
    latest: datetime | None = None
    for scope, key in _keys_for(identifier, ip, scope_override):
        row = LoginThrottle.objects.filter(scope=scope, key=key).only("locked_until").first()
        if row and row.locked_until and row.locked_until > now:
            latest = max(latest, row.locked_until) if latest else row.locked_until
    return LockStatus(locked=latest is not None, until=latest)


def _keys_for(identifier, ip, scope_override):
    if scope_override:
        return [(scope_override, digest(normalize_identifier(identifier or "")))]
    return _keys(identifier, ip)


def register_failure(identifier: str | None, ip: str | None, *, now: datetime | None = None,
                     scope_override: str | None = None) -> LockStatus:
    """Counts one failure for the identifier and for the IP; returns the resulting lock."""
    now = now or timezone.now()
    for scope, key in _keys_for(identifier, ip, scope_override):
        _increment(scope, key, now)
    return status(identifier, ip, now=now, scope_override=scope_override)


def _increment(scope: str, key: str, now: datetime) -> None:
    for _attempt in range(3):
        try:
            with transaction.atomic():
                row, _ = LoginThrottle.objects.select_for_update().get_or_create(scope=scope, key=key)
                if row.locked_until and row.locked_until > now:
                    return  # refused attempts while locked do not extend the lock
                if row.last_failure_at and now - row.last_failure_at > failure_window():
                    row.failures = 0  # a quiet spell forgets old failures (shared IPs, old typos)
                row.failures += 1
                row.last_failure_at = now
                seconds = lock_seconds(scope, row.failures)
                row.locked_until = now + timedelta(seconds=seconds) if seconds else None
                row.save(update_fields=["failures", "last_failure_at", "locked_until"])
                return
        except IntegrityError:
            continue  # another worker created the row first: retry with it


def register_success(identifier: str | None, *, scope_override: str | None = None) -> None:
    """Resets the account's counter. The IP's counter is left alone: one good password from an
    address must not wipe out the failures it made against other accounts."""
    for scope, key in _keys_for(identifier, None, scope_override):
        LoginThrottle.objects.filter(scope=scope, key=key).delete()
