"""The worker loop: enqueue periodic jobs that are due, claim one job, run it, record the outcome.

* While a job runs, a heartbeat thread extends its lease every third of the lease, so a long job
  keeps it and a dead worker's job is free again within one lease (VENTANILLA_JOBS_LEASE_SECONDS).
* SIGTERM or SIGINT: the worker finishes the job in hand, records it, and exits (systemd's stop,
  Ctrl-C). SIGKILL loses nothing either: the job goes back to the queue when its lease passes, or
  at once when the worker is restarted with the same fixed `--id`.
* Database connections are handled as Django handles a request: stale ones are closed before and
  after every job, so a worker survives database restarts and `CONN_MAX_AGE`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from . import _current, periodic_jobs, registered
from .base import Backend, ClaimedJob, retry_delay

logger = logging.getLogger("ventanilla.jobs")

DEFAULT_LEASE_SECONDS = 60
DEFAULT_POLL_SECONDS = 1.0


def _refresh_connections() -> None:
    """Closes stale database connections, as Django does around a request (not inside an atomic
    block: a test running a worker in its transaction keeps its connection)."""
    if not connection.in_atomic_block:
        close_old_connections()


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class _Heartbeat:
    """Extends the lease of the job in hand until stopped (in its own thread and DB connection)."""

    def __init__(self, backend: Backend, job: ClaimedJob, lease_seconds: int, clock: Callable[[], dt.datetime]):
        self.backend, self.job, self.lease_seconds, self.clock = backend, job, lease_seconds, clock
        self._stop = threading.Event()
        self.lost = False
        self._thread = threading.Thread(target=self._run, name=f"job-heartbeat-{job.id}", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        interval = max(1.0, self.lease_seconds / 3)
        try:
            while not self._stop.wait(interval):
                try:
                    if not self.backend.extend(self.job, now=self.clock(), lease_seconds=self.lease_seconds):
                        self.lost = True
                        logger.warning("job lease lost", extra={"job": self.job.id, "job_name": self.job.name})
                        return
                except Exception:  # noqa: BLE001 - a failed renewal is retried at the next beat
                    logger.exception("could not extend a job lease", extra={"job": self.job.id})
        finally:
            connection.close()  # this thread's own connection


class Worker:
    def __init__(self, backend: Backend, *, worker_id: str | None = None, schedule: bool = True,
                 lease_seconds: int | None = None, poll_seconds: float | None = None,
                 clock: Callable[[], dt.datetime] = timezone.now):
        self.backend = backend
        self.fixed_id = worker_id is not None
        self.worker_id = worker_id or default_worker_id()
        self.schedule = schedule
        self.lease_seconds = int(lease_seconds or getattr(settings, "VENTANILLA_JOBS_LEASE_SECONDS", DEFAULT_LEASE_SECONDS))
        self.poll_seconds = float(poll_seconds if poll_seconds is not None
                                  else getattr(settings, "VENTANILLA_JOBS_POLL_SECONDS", DEFAULT_POLL_SECONDS))
        self.clock = clock
        self.stopping = False
        self.processed = 0
        self._last_tick = -1.0
        self._periods_seen: dict[str, int] = {}

    # --- Periodic jobs -----------------------------------------------------------------------------

    def tick(self, now: dt.datetime | None = None) -> list[str]:
        """Enqueues every periodic job whose current period no worker has taken yet."""
        now = now or self.clock()
        enqueued = []
        for spec in periodic_jobs():
            every = spec.interval()
            if not every or every <= 0:
                continue
            period = int(now.timestamp() // every)
            if self._periods_seen.get(spec.name, -1) >= period:
                continue  # this worker already tried this period (and won or lost it)
            job_id = self.backend.enqueue_periodic(
                spec.name, period, key=f"periodic:{spec.name}", max_attempts=spec.max_attempts, now=now,
                worker_id=self.worker_id, ttl_seconds=2 * every + 60,
            )
            self._periods_seen[spec.name] = period
            if job_id is not None:
                logger.info("periodic job queued", extra={"job": job_id, "job_name": spec.name, "period": period})
                enqueued.append(spec.name)
        return enqueued

    # --- One job -------------------------------------------------------------------------------------

    def claim(self, *, wait: float = 0.0) -> ClaimedJob | None:
        return self.backend.claim(self.worker_id, now=self.clock(), lease_seconds=self.lease_seconds, wait=wait)

    def execute(self, job: ClaimedJob) -> bool:
        """Runs a claimed job and records the outcome. True when it succeeded."""
        spec = registered(job.name)
        if spec is None:
            self.backend.fail(job, f"No hay una función registrada con el nombre {job.name!r}.", now=self.clock(),
                              retry_at=None)
            logger.error("unknown job", extra={"job": job.id, "job_name": job.name})
            return False
        started = time.monotonic()
        _refresh_connections()
        try:
            with _Heartbeat(self.backend, job, self.lease_seconds, self.clock):
                _current.backend = self.backend
                try:
                    spec.fn(**job.kwargs)
                finally:
                    _current.backend = None
        except Exception as exc:  # noqa: BLE001 - any error of a job is recorded, never fatal
            _refresh_connections()
            error = "".join(traceback.format_exception(exc))
            now = self.clock()
            retry_at = now + retry_delay(job.attempts) if job.attempts < job.max_attempts else None
            self.backend.fail(job, error, now=now, retry_at=retry_at)
            logger.error("job failed", extra={
                "job": job.id, "job_name": job.name, "attempt": job.attempts, "error": repr(exc)[:500],
                "retry_at": retry_at.isoformat() if retry_at else None,
            })
            return False
        finally:
            _refresh_connections()
        if not self.backend.complete(job, now=self.clock()):
            logger.warning("job finished after its lease was taken over", extra={"job": job.id, "job_name": job.name})
        logger.info("job done", extra={"job": job.id, "job_name": job.name,
                                       "seconds": round(time.monotonic() - started, 3)})
        return True

    def work_one(self, *, wait: float = 0.0) -> bool:
        """Claims and runs one job; False when none was due."""
        job = self.claim(wait=wait)
        if job is None:
            return False
        self.execute(job)
        self.processed += 1
        return True

    # --- The loop --------------------------------------------------------------------------------------

    def _maybe_tick(self) -> None:
        if not self.schedule:
            return
        moment = time.monotonic()
        if self._last_tick >= 0 and moment - self._last_tick < 1.0:
            return
        self._last_tick = moment
        self.tick()

    def request_stop(self, *_args) -> None:
        self.stopping = True

    def run(self, *, once: bool = False, handle_signals: bool = True) -> int:
        """Works until asked to stop; with `once`, until nothing is due. Returns the jobs run."""
        previous = {}
        if handle_signals and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                previous[sig] = signal.signal(sig, self.request_stop)
        logger.info("worker started", extra={"worker": self.worker_id, "backend": self.backend.name})
        try:
            if self.fixed_id:
                released = self.backend.release_worker(self.worker_id, now=self.clock())
                if released:
                    logger.warning("jobs of the previous run of this worker queued again",
                                   extra={"worker": self.worker_id, "jobs": released})
            errors = 0
            while not self.stopping:
                try:
                    self._maybe_tick()
                    wait = 0.0 if once or self.backend.name != "redis" else self.poll_seconds
                    worked = self.work_one(wait=wait)
                    errors = 0
                except Exception:  # noqa: BLE001 - the broker or the database is away: wait, retry
                    errors += 1
                    logger.exception("worker loop error", extra={"worker": self.worker_id})
                    _refresh_connections()
                    if once and errors >= 3:
                        raise
                    self._sleep(min(30.0, self.poll_seconds * 2 ** min(errors, 5)))
                    continue
                if worked:
                    continue
                if once:
                    break
                if self.backend.name != "redis":
                    self._sleep(self.poll_seconds)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            _refresh_connections()
            logger.info("worker stopped", extra={"worker": self.worker_id, "jobs": self.processed})
        return self.processed

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.stopping:
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.2))
