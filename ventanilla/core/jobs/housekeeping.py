"""The job system's own periodic job: finished jobs are forgotten after a while."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from . import current_backend, job


def _purge_interval() -> int:
    return int(getattr(settings, "VENTANILLA_JOBS_PURGE_SECONDS", 24 * 3600))


@job("core.purge_jobs", every=_purge_interval)
def purge_jobs() -> int:
    """Deletes jobs finished more than VENTANILLA_JOBS_KEEP_DAYS ago (failed ones: four times as
    long, so someone can look at their errors)."""
    keep = dt.timedelta(days=int(getattr(settings, "VENTANILLA_JOBS_KEEP_DAYS", 7)))
    now = timezone.now()
    return current_backend().purge(done_before=now - keep, failed_before=now - 4 * keep)
