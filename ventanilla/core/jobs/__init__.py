"""Background jobs: one interface, two backends (docs/jobs.md).

    from ventanilla.core import jobs

    @jobs.job("procedures.deadline_sweep", every=lambda: settings.VENTANILLA_DEADLINE_SWEEP_SECONDS)
    def deadline_sweep() -> None: ...

    jobs.enqueue("files.rewrap", owner_id=7, key="rewrap:7")      # later, by a worker
    jobs.run_worker()                                              # `manage.py run_worker`

* A job is a registered function called with JSON keyword arguments. Delivery is at least once: a
  worker that dies mid-job leaves the job to be run again after its lease, so every job must be
  idempotent (the legal deadline rules get their exactly-once from `DeadlineAction`).
* `key=` deduplicates: while a job with that key is queued or running, enqueueing it again returns
  the existing job. `run_at=` delays it. Errors are retried with exponential back-off up to the
  job's `max_attempts`; a job that runs out is kept as failed, with its error.
* Periodic jobs are declared in code (`every=` seconds, or a callable returning them, read when
  the worker runs). Time is cut into periods of that length; however many workers run, one of them
  enqueues the job once per period (a lease row in the database, a `SET NX` key in Redis).
* Backend: `VENTANILLA_JOBS_BROKER` unset or "database" keeps the queue in the platform's database
  (no other service); "redis://host:6379/0" uses Redis. Modules named `jobs` of every installed
  app are imported to register their jobs (as the admin does with `admin` modules).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from .base import Backend, ClaimedJob, JobError, JobInfo, retry_delay

__all__ = [
    "Backend", "ClaimedJob", "JobError", "JobInfo", "JobSpec", "autodiscover", "current_backend", "enqueue",
    "get_backend",
    "job", "periodic_jobs", "registered", "retry_delay", "run_worker",
]

DEFAULT_MAX_ATTEMPTS = 5
MAX_NAME = 200
MAX_KEY = 200


@dataclass(frozen=True)
class JobSpec:
    """A registered job: its name, the function, how often it may be tried and, for periodic
    jobs, its interval in seconds (an int or a callable read each time)."""

    name: str
    fn: Callable[..., Any]
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    every: int | Callable[[], int] | None = None

    def interval(self) -> int | None:
        value = self.every() if callable(self.every) else self.every
        return int(value) if value else None


_registry: dict[str, JobSpec] = {}
_registry_lock = threading.Lock()
_discovered = False


def job(name: str, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        every: int | Callable[[], int] | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Registers the decorated function as the job `name` (e.g. "procedures.deadline_sweep").
    With `every`, workers also enqueue it once per period of that many seconds."""
    if not name or len(name) > MAX_NAME:
        raise ValueError("a job name is 1 to 200 characters")
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        with _registry_lock:
            existing = _registry.get(name)
            if existing is not None and _origin(existing.fn) != _origin(fn):
                raise ImproperlyConfigured(
                    f"job {name!r} is registered twice: {_origin(existing.fn)} and {_origin(fn)}"
                )
            _registry[name] = JobSpec(name=name, fn=fn, max_attempts=max_attempts, every=every)
        fn.job_name = name  # type: ignore[attr-defined]
        return fn

    return register


def _origin(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def autodiscover() -> None:
    """Imports the `jobs` module of every installed app (once per process)."""
    global _discovered
    if _discovered:
        return
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("jobs")
    _discovered = True


def registered(name: str) -> JobSpec | None:
    autodiscover()
    return _registry.get(name)


def periodic_jobs() -> list[JobSpec]:
    autodiscover()
    return [spec for spec in _registry.values() if spec.every is not None]


# --- Backends ------------------------------------------------------------------------------------

_backends: dict[str, Backend] = {}
_backends_lock = threading.Lock()


def broker_url(value: str | None = None) -> str:
    """The broker a name or URL designates: "database" or a redis:// URL."""
    value = (value if value is not None else getattr(settings, "VENTANILLA_JOBS_BROKER", "")) or "database"
    value = value.strip()
    if value == "redis":
        configured = getattr(settings, "VENTANILLA_JOBS_BROKER", "") or ""
        value = configured if configured.startswith(("redis://", "rediss://", "unix://")) else "redis://127.0.0.1:6379/0"
    if value != "database" and not value.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            f"VENTANILLA_JOBS_BROKER must be empty, 'database' or a redis:// URL (got {value[:40]!r})"
        )
    return value


def get_backend(broker: str | None = None) -> Backend:
    """The backend for `broker` (default: the setting), one instance per process and URL."""
    url = broker_url(broker)
    prefix = getattr(settings, "VENTANILLA_JOBS_PREFIX", "ventanilla:jobs")
    cache_key = f"{url}|{prefix}"
    with _backends_lock:
        backend = _backends.get(cache_key)
        if backend is None:
            if url == "database":
                from .database import DatabaseBackend

                backend = DatabaseBackend()
            else:
                from .redis import RedisBackend

                backend = RedisBackend(url, prefix=prefix)
            _backends[cache_key] = backend
        return backend


def enqueue(name: str, *, key: str | None = None, run_at: dt.datetime | None = None,
            backend: Backend | None = None, **kwargs: Any) -> str:
    """Queues the job `name` with JSON keyword arguments and returns its id.

    * `key`: while a job with this key is queued or running, returns that job's id instead.
    * `run_at`: not before this moment (aware datetime).
    * Database backend: the job row is written in the caller's transaction (it exists if and only
      if the caller commits). Redis backend: inside a transaction the job is pushed when it
      commits (`transaction.on_commit`); the id returned is then the new job's, even if the key
      folds it into an existing one.
    """
    spec = registered(name)
    if spec is None:
        raise JobError(f"unknown job {name!r}: no function is registered with @job({name!r})")
    if key is not None:
        key = str(key)
        if not key or len(key) > MAX_KEY:
            raise JobError("a job key is 1 to 200 characters")
    if run_at is not None and timezone.is_naive(run_at):
        raise JobError("run_at must be an aware datetime")
    try:
        payload = json.loads(json.dumps(kwargs, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise JobError(f"the arguments of job {name!r} must be JSON values: {exc}") from None
    backend = backend or current_backend()  # inside a job: the worker's own backend
    now = timezone.now()
    if backend.defers_to_commit and transaction.get_connection().in_atomic_block:
        job_id = backend.new_id()
        transaction.on_commit(lambda: backend.enqueue(
            name, payload, key=key, run_at=run_at, max_attempts=spec.max_attempts, now=timezone.now(), job_id=job_id,
        ))
        return job_id
    return backend.enqueue(name, payload, key=key, run_at=run_at, max_attempts=spec.max_attempts, now=now)


_current = threading.local()


def current_backend() -> Backend:
    """The backend of the worker running the current job (or the configured one)."""
    return getattr(_current, "backend", None) or get_backend()


def run_worker(*, backend: Backend | None = None, once: bool = False, worker_id: str | None = None,
               schedule: bool = True, poll_seconds: float | None = None, handle_signals: bool = True) -> int:
    """Runs a worker in this process until SIGTERM/SIGINT (or, with `once`, until nothing is
    due). Returns how many jobs it ran. See `ventanilla.core.jobs.worker.Worker`."""
    from .worker import Worker

    worker = Worker(backend or get_backend(), worker_id=worker_id, schedule=schedule, poll_seconds=poll_seconds)
    return worker.run(once=once, handle_signals=handle_signals)


# The platform's own housekeeping jobs (imported by autodiscovery as core's `jobs` module).
from . import housekeeping  # noqa: E402,F401
