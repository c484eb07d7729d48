"""What every job backend offers the worker (the database and Redis backends implement it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

# Back-off after a failed attempt: 15 s, 30 s, 1 min, 2 min ... at most one hour.
BACKOFF_BASE_SECONDS = 15
BACKOFF_MAX_SECONDS = 3600
MAX_ERROR = 4000


class JobError(Exception):
    """A job that cannot be queued as asked (unknown name, arguments that are not JSON...)."""


def retry_delay(attempts: int) -> dt.timedelta:
    """How long a job waits before its next try, after `attempts` tries (>= 1)."""
    exponent = max(0, min(attempts - 1, 20))
    return dt.timedelta(seconds=min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** exponent))


@dataclass(frozen=True)
class ClaimedJob:
    """A job a worker holds: it alone may complete, fail or extend it while `token` is current."""

    id: str
    name: str
    kwargs: dict[str, Any]
    attempts: int
    max_attempts: int
    token: str


@dataclass(frozen=True)
class JobInfo:
    """A job as stored, for tests, the admin and the command line."""

    id: str
    name: str
    kwargs: dict[str, Any]
    key: str
    state: str  # queued | running | done | failed
    attempts: int
    max_attempts: int
    run_at: dt.datetime | None
    locked_by: str
    last_error: str


class Backend(Protocol):
    name: str
    # True when enqueueing inside a database transaction must wait for its commit (Redis).
    defers_to_commit: bool

    def new_id(self) -> str: ...

    def enqueue(self, name: str, kwargs: dict[str, Any], *, key: str | None, run_at: dt.datetime | None,
                max_attempts: int, now: dt.datetime, job_id: str | None = None) -> str: ...

    def enqueue_periodic(self, name: str, period: int, *, key: str, max_attempts: int, now: dt.datetime,
                         worker_id: str, ttl_seconds: int) -> str | None:
        """Enqueues `name` if no worker did so for `period` yet; returns the job id or None."""

    def claim(self, worker_id: str, *, now: dt.datetime, lease_seconds: int, wait: float = 0.0) -> ClaimedJob | None:
        """The next due job (or one whose worker's lease expired), leased to this worker."""

    def extend(self, job: ClaimedJob, *, now: dt.datetime, lease_seconds: int) -> bool: ...

    def complete(self, job: ClaimedJob, *, now: dt.datetime) -> bool: ...

    def fail(self, job: ClaimedJob, error: str, *, now: dt.datetime, retry_at: dt.datetime | None) -> bool:
        """Records the error; queues the job again at `retry_at`, or keeps it as failed (None)."""

    def release_worker(self, worker_id: str, *, now: dt.datetime) -> int:
        """Queues again every job still leased to `worker_id` (a restarted worker with a fixed id)."""

    def info(self, job_id: str) -> JobInfo | None: ...

    def counts(self) -> dict[str, int]: ...

    def purge(self, *, done_before: dt.datetime, failed_before: dt.datetime) -> int: ...
