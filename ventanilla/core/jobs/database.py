"""The database job backend (the default): the `core.Job` table in the platform's own database.

Claiming
    PostgreSQL: `SELECT ... FOR UPDATE SKIP LOCKED` picks the oldest due row no other worker is
    claiming, and the same transaction marks it running. Other engines (SQLite): a conditional
    UPDATE repeats the claim condition in its WHERE clause, so of two workers racing for a row
    exactly one updates it (SQLite runs one writer at a time; the settings open IMMEDIATE
    transactions).

Leases
    A claimed job carries `locked_until`; the worker extends it while the job runs. A running job
    whose lease passed was left by a dead worker and is claimed again (its attempt counted). Each
    claim gets a fresh `token`; completing, failing or extending with an old token does nothing,
    so a worker that lost its lease cannot overwrite its successor's result.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q

from .base import MAX_ERROR, ClaimedJob, JobInfo

OPEN_STATES = ("queued", "running")


def _models():
    from ventanilla.core.models import Job, JobSchedule

    return Job, JobSchedule


class DatabaseBackend:
    name = "database"
    defers_to_commit = False

    def new_id(self) -> str:  # ids come from the table
        raise NotImplementedError

    # --- Producing -------------------------------------------------------------------------------

    def enqueue(self, name: str, kwargs: dict[str, Any], *, key: str | None, run_at: dt.datetime | None,
                max_attempts: int, now: dt.datetime, job_id: str | None = None) -> str:
        Job, _ = _models()
        fields = {"name": name, "kwargs": kwargs, "run_at": run_at or now, "max_attempts": max_attempts, "created_at": now}
        if not key:  # nothing to collide with: one INSERT, no savepoint
            return str(Job.objects.create(**fields).pk)
        existing = Job.objects.filter(key=key, state__in=OPEN_STATES).values_list("pk", flat=True).first()
        if existing is not None:
            return str(existing)
        try:
            with transaction.atomic():
                job = Job.objects.create(key=key, **fields)
        except IntegrityError:
            # A concurrent transaction queued the same key first (PostgreSQL waited for it).
            existing = Job.objects.filter(key=key, state__in=OPEN_STATES).values_list("pk", flat=True).first()
            if existing is None:
                raise
            return str(existing)
        return str(job.pk)

    def enqueue_periodic(self, name: str, period: int, *, key: str, max_attempts: int, now: dt.datetime,
                         worker_id: str, ttl_seconds: int) -> str | None:
        _, JobSchedule = _models()
        with transaction.atomic():
            JobSchedule.objects.get_or_create(name=name)
            won = JobSchedule.objects.filter(name=name, last_period__lt=period).update(
                last_period=period, last_enqueued_at=now, last_enqueued_by=worker_id[:200],
            )
            if not won:
                return None
            # Same transaction: the period is taken if and only if the job is queued.
            return self.enqueue(name, {}, key=key, run_at=None, max_attempts=max_attempts, now=now)

    # --- Consuming -------------------------------------------------------------------------------

    @staticmethod
    def _claimable(now: dt.datetime) -> Q:
        return Q(state="queued", run_at__lte=now) | Q(state="running", locked_until__lt=now)

    def _fail_exhausted(self, now: dt.datetime) -> None:
        """Running jobs whose lease passed on their last attempt: their worker died every time."""
        Job, _ = _models()
        Job.objects.filter(state="running", locked_until__lt=now, attempts__gte=F("max_attempts")).update(
            state="failed", finished_at=now, locked_until=None, token="",
            last_error="Se agotaron los intentos: el trabajador que lo ejecutaba dejó de responder.",
        )

    def claim(self, worker_id: str, *, now: dt.datetime, lease_seconds: int, wait: float = 0.0) -> ClaimedJob | None:
        Job, _ = _models()
        self._fail_exhausted(now)
        changes = {
            "state": "running", "attempts": F("attempts") + 1, "locked_by": worker_id[:200],
            "locked_until": now + dt.timedelta(seconds=lease_seconds), "started_at": now,
        }
        if connection.features.has_select_for_update_skip_locked:
            with transaction.atomic():
                pk = (Job.objects.select_for_update(skip_locked=True).filter(self._claimable(now))
                      .order_by("run_at", "pk").values_list("pk", flat=True).first())
                if pk is None:
                    return None
                token = secrets.token_hex(16)
                Job.objects.filter(pk=pk).update(token=token, **changes)
                return self._claimed(pk, token)
        for _round in range(20):
            candidates = list(Job.objects.filter(self._claimable(now)).order_by("run_at", "pk")
                              .values_list("pk", flat=True)[:8])
            if not candidates:
                return None
            for pk in candidates:
                token = secrets.token_hex(16)
                if Job.objects.filter(self._claimable(now), pk=pk).update(token=token, **changes):
                    return self._claimed(pk, token)
        return None

    def _claimed(self, pk: int, token: str) -> ClaimedJob:
        Job, _ = _models()
        job = Job.objects.get(pk=pk)
        return ClaimedJob(id=str(pk), name=job.name, kwargs=dict(job.kwargs or {}), attempts=job.attempts,
                          max_attempts=job.max_attempts, token=token)

    def _mine(self, job: ClaimedJob):
        Job, _ = _models()
        return Job.objects.filter(pk=int(job.id), token=job.token, state="running")

    def extend(self, job: ClaimedJob, *, now: dt.datetime, lease_seconds: int) -> bool:
        return bool(self._mine(job).update(locked_until=now + dt.timedelta(seconds=lease_seconds)))

    def complete(self, job: ClaimedJob, *, now: dt.datetime) -> bool:
        return bool(self._mine(job).update(state="done", finished_at=now, locked_until=None, token=""))

    def fail(self, job: ClaimedJob, error: str, *, now: dt.datetime, retry_at: dt.datetime | None) -> bool:
        error = error[-MAX_ERROR:]
        if retry_at is not None:
            return bool(self._mine(job).update(state="queued", run_at=retry_at, last_error=error,
                                               locked_until=None, token=""))
        return bool(self._mine(job).update(state="failed", finished_at=now, last_error=error,
                                           locked_until=None, token=""))

    def release_worker(self, worker_id: str, *, now: dt.datetime) -> int:
        Job, _ = _models()
        mine = Job.objects.filter(state="running", locked_by=worker_id[:200])
        exhausted = mine.filter(attempts__gte=F("max_attempts")).update(
            state="failed", finished_at=now, locked_until=None, token="",
            last_error="Se agotaron los intentos: el trabajador se reinició mientras lo ejecutaba.",
        )
        return exhausted + mine.update(
            state="queued", run_at=now, locked_until=None, token="",
            last_error="El trabajador se reinició mientras lo ejecutaba.",
        )

    # --- Looking ----------------------------------------------------------------------------------

    def info(self, job_id: str) -> JobInfo | None:
        Job, _ = _models()
        try:
            job = Job.objects.filter(pk=int(job_id)).first()
        except (TypeError, ValueError):
            return None
        if job is None:
            return None
        return JobInfo(id=str(job.pk), name=job.name, kwargs=dict(job.kwargs or {}), key=job.key or "",
                       state=job.state, attempts=job.attempts, max_attempts=job.max_attempts, run_at=job.run_at,
                       locked_by=job.locked_by, last_error=job.last_error)

    def counts(self) -> dict[str, int]:
        Job, _ = _models()
        counts = dict.fromkeys(("queued", "running", "done", "failed"), 0)
        for state in counts:
            counts[state] = Job.objects.filter(state=state).count()
        return counts

    def purge(self, *, done_before: dt.datetime, failed_before: dt.datetime) -> int:
        Job, _ = _models()
        deleted, _detail = Job.objects.filter(
            Q(state="done", finished_at__lt=done_before) | Q(state="failed", finished_at__lt=failed_before)
        ).delete()
        return deleted
