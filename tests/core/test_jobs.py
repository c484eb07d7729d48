"""Background jobs on the database backend: queueing, deduplication, delays, leases, retries with
back-off, failed jobs kept with their error, periodic jobs once per period. The clock is passed in
(`now=`), never waited for."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, transaction
from django.test import override_settings

from ventanilla.core import jobs
from ventanilla.core.jobs.database import DatabaseBackend
from ventanilla.core.jobs.worker import Worker
from ventanilla.core.models import Job, JobSchedule

T0 = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)
LEASE = 60
CALLS: list[tuple[str, dict]] = []


@jobs.job("tests.record")
def record(**kwargs):
    CALLS.append(("record", kwargs))


@jobs.job("tests.explode", max_attempts=3)
def explode(message: str = "boom"):
    CALLS.append(("explode", {"message": message}))
    raise RuntimeError(message)


@jobs.job("tests.tick", every=lambda: 600)
def periodic_tick():
    CALLS.append(("tick", {}))


@pytest.fixture(autouse=True)
def clear_calls():
    CALLS.clear()
    yield
    CALLS.clear()


@pytest.fixture
def backend(db) -> DatabaseBackend:
    return DatabaseBackend()


def claim(backend, worker="w1", at=T0, lease=LEASE):
    return backend.claim(worker, now=at, lease_seconds=lease)


def test_the_configured_backend_is_the_database_without_a_broker(settings):
    settings.VENTANILLA_JOBS_BROKER = ""
    assert jobs.get_backend().name == "database"
    settings.VENTANILLA_JOBS_BROKER = "database"
    assert isinstance(jobs.get_backend(), DatabaseBackend)
    settings.VENTANILLA_JOBS_BROKER = "amqp://elsewhere"
    with pytest.raises(Exception, match="VENTANILLA_JOBS_BROKER"):
        jobs.get_backend()


def test_enqueue_claim_complete(backend):
    job_id = backend.enqueue("tests.record", {"n": 1}, key=None, run_at=None, max_attempts=5, now=T0)
    assert backend.info(job_id).state == "queued"
    claimed = claim(backend)
    assert (claimed.id, claimed.name, claimed.kwargs, claimed.attempts) == (job_id, "tests.record", {"n": 1}, 1)
    info = backend.info(job_id)
    assert (info.state, info.locked_by) == ("running", "w1")
    assert claim(backend) is None  # nothing else to take
    assert backend.complete(claimed, now=T0)
    assert backend.info(job_id).state == "done"
    assert backend.counts() == {"queued": 0, "running": 0, "done": 1, "failed": 0}


def test_enqueue_checks_the_name_and_json_arguments(db):
    with pytest.raises(jobs.JobError, match="unknown job"):
        jobs.enqueue("tests.nobody")
    with pytest.raises(jobs.JobError, match="JSON"):
        jobs.enqueue("tests.record", when=T0)
    with pytest.raises(jobs.JobError, match="JSON"):
        jobs.enqueue("tests.record", x=float("nan"))
    with pytest.raises(jobs.JobError, match="aware"):
        jobs.enqueue("tests.record", run_at=dt.datetime(2026, 1, 1))
    with pytest.raises(jobs.JobError, match="key"):
        jobs.enqueue("tests.record", key="x" * 201)
    assert not Job.objects.exists()


def test_enqueue_writes_in_the_callers_transaction(db):
    with transaction.atomic():
        sid = transaction.savepoint()
        jobs.enqueue("tests.record", n=1)
        transaction.savepoint_rollback(sid)
    assert not Job.objects.exists()
    jobs.enqueue("tests.record", n=2)
    assert list(Job.objects.values_list("kwargs", flat=True)) == [{"n": 2}]


def test_a_key_deduplicates_while_the_job_is_open(backend):
    first = jobs.enqueue("tests.record", key="once", n=1, backend=backend)
    assert jobs.enqueue("tests.record", key="once", n=2, backend=backend) == first
    claimed = claim(backend, at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))
    assert claimed.id == first
    # Still open while running.
    assert jobs.enqueue("tests.record", key="once", n=3, backend=backend) == first
    backend.complete(claimed, now=T0)
    second = jobs.enqueue("tests.record", key="once", n=4, backend=backend)
    assert second != first
    assert Job.objects.filter(key="once", state="queued").get().kwargs == {"n": 4}


def test_run_at_delays_the_job(backend):
    job_id = backend.enqueue("tests.record", {}, key=None, run_at=T0 + dt.timedelta(minutes=5), max_attempts=5, now=T0)
    assert claim(backend, at=T0 + dt.timedelta(minutes=4, seconds=59)) is None
    assert claim(backend, at=T0 + dt.timedelta(minutes=5)).id == job_id


def test_jobs_are_claimed_oldest_first(backend):
    late = backend.enqueue("tests.record", {"n": 2}, key=None, run_at=T0, max_attempts=5, now=T0)
    early = backend.enqueue("tests.record", {"n": 1}, key=None, run_at=T0 - dt.timedelta(minutes=1), max_attempts=5, now=T0)
    assert [claim(backend).id, claim(backend).id] == [early, late]


def test_a_dead_workers_job_is_claimed_again_after_its_lease(backend):
    job_id = backend.enqueue("tests.record", {}, key=None, run_at=None, max_attempts=5, now=T0)
    first = claim(backend, "w1", T0)
    assert claim(backend, "w2", T0 + dt.timedelta(seconds=LEASE - 1)) is None
    # w1 extended its lease while alive...
    assert backend.extend(first, now=T0 + dt.timedelta(seconds=50), lease_seconds=LEASE)
    assert claim(backend, "w2", T0 + dt.timedelta(seconds=LEASE + 1)) is None
    # ...then died: after the lease the job is w2's, on its second attempt.
    second = claim(backend, "w2", T0 + dt.timedelta(seconds=50 + LEASE + 1))
    assert (second.id, second.attempts) == (job_id, 2)
    # The dead worker's late answers change nothing.
    assert not backend.complete(first, now=T0)
    assert not backend.extend(first, now=T0, lease_seconds=LEASE)
    assert not backend.fail(first, "late", now=T0, retry_at=None)
    assert backend.info(job_id).state == "running"
    assert backend.complete(second, now=T0)
    assert backend.info(job_id).state == "done"


def test_a_job_whose_worker_dies_on_every_attempt_ends_failed(backend):
    job_id = backend.enqueue("tests.record", {}, key="k", run_at=None, max_attempts=2, now=T0)
    claim(backend, "w1", T0)
    claim(backend, "w2", T0 + dt.timedelta(seconds=LEASE + 1))
    assert claim(backend, "w3", T0 + dt.timedelta(seconds=3 * LEASE)) is None
    info = backend.info(job_id)
    assert (info.state, info.attempts) == ("failed", 2)
    assert "dejó de responder" in info.last_error
    # The key is free again.
    assert jobs.enqueue("tests.record", key="k", backend=backend) != job_id


def test_a_restarted_worker_with_a_fixed_id_takes_back_its_jobs_at_once(backend):
    job_id = backend.enqueue("tests.record", {}, key=None, run_at=None, max_attempts=5, now=T0)
    other = backend.enqueue("tests.record", {}, key=None, run_at=None, max_attempts=5, now=T0)
    claim(backend, "worker-1", T0)
    claim(backend, "worker-2", T0)
    assert backend.release_worker("worker-1", now=T0 + dt.timedelta(seconds=1)) == 1
    again = claim(backend, "worker-1", T0 + dt.timedelta(seconds=1))
    assert (again.id, again.attempts) == (job_id, 2)
    assert backend.info(other).state == "running"  # worker-2's job is left alone


def test_worker_retries_with_backoff_and_keeps_the_error(backend):
    now = [T0]
    worker = Worker(backend, worker_id="w", schedule=False, clock=lambda: now[0])
    job_id = jobs.enqueue("tests.explode", message="sin firma", backend=backend)
    Job.objects.filter(pk=job_id).update(run_at=T0)
    assert worker.work_one()
    info = backend.info(job_id)
    assert (info.state, info.attempts) == ("queued", 1)
    assert info.run_at == T0 + dt.timedelta(seconds=15)
    assert "RuntimeError: sin firma" in info.last_error and "Traceback" in info.last_error
    now[0] = T0 + dt.timedelta(seconds=14)
    assert not worker.work_one()
    now[0] = T0 + dt.timedelta(seconds=15)
    assert worker.work_one()
    assert backend.info(job_id).run_at == now[0] + dt.timedelta(seconds=30)
    now[0] += dt.timedelta(seconds=30)
    assert worker.work_one()
    info = backend.info(job_id)
    assert (info.state, info.attempts) == ("failed", 3)
    assert "sin firma" in info.last_error
    assert [c[0] for c in CALLS] == ["explode"] * 3
    now[0] += dt.timedelta(days=1)
    assert not worker.work_one()


def test_retry_delay_grows_and_is_capped():
    assert [jobs.retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [15, 30, 60, 120]
    assert jobs.retry_delay(50).total_seconds() == 3600


def test_worker_runs_jobs_with_their_arguments_and_once_stops_when_idle(backend):
    jobs.enqueue("tests.record", backend=backend, folio="TRC-1", n=3)
    jobs.enqueue("tests.record", backend=backend, folio="TRC-2", n=4)
    done = jobs.run_worker(backend=backend, once=True, schedule=False)
    assert done == 2
    assert CALLS == [("record", {"folio": "TRC-1", "n": 3}), ("record", {"folio": "TRC-2", "n": 4})]
    assert set(Job.objects.values_list("state", flat=True)) == {"done"}


def test_an_unknown_job_name_fails_without_retries(backend):
    job_id = backend.enqueue("tests.removed_since", {}, key=None, run_at=None, max_attempts=5, now=T0)
    Worker(backend, schedule=False, clock=lambda: T0).work_one()
    info = backend.info(job_id)
    assert info.state == "failed" and "tests.removed_since" in info.last_error


def test_periodic_job_is_queued_once_per_period_whatever_the_number_of_workers(backend):
    a = Worker(backend, worker_id="a", clock=lambda: T0)
    b = Worker(backend, worker_id="b", clock=lambda: T0)
    assert "tests.tick" in a.tick(T0)
    assert "tests.tick" not in b.tick(T0 + dt.timedelta(seconds=1))
    assert Job.objects.filter(name="tests.tick").count() == 1
    schedule = JobSchedule.objects.get(name="tests.tick")
    assert (schedule.last_period, schedule.last_enqueued_by) == (int(T0.timestamp() // 600), "a")
    # The next period: once again, by whichever worker gets there first.
    next_period = T0 + dt.timedelta(seconds=600)
    job = claim(backend, "b", next_period)
    while job is not None:  # run what the first tick queued
        backend.complete(job, now=next_period)
        job = claim(backend, "b", next_period)
    assert "tests.tick" in b.tick(next_period)
    assert "tests.tick" not in a.tick(next_period)
    assert Job.objects.filter(name="tests.tick").count() == 2


def test_periodic_job_is_not_stacked_while_the_previous_one_is_open(backend):
    w = Worker(backend, worker_id="a")
    w.tick(T0)
    w.tick(T0 + dt.timedelta(seconds=600))  # the first one never ran
    assert Job.objects.filter(name="tests.tick").count() == 1


def test_periodic_interval_is_read_from_settings_when_the_worker_ticks(backend):
    from ventanilla.core.jobs import registered

    spec = registered("procedures.deadline_sweep")
    with override_settings(VENTANILLA_DEADLINE_SWEEP_SECONDS=42):
        assert spec.interval() == 42
    assert spec.interval() == 300


def test_purge_forgets_old_finished_jobs(backend):
    old = backend.enqueue("tests.record", {}, key=None, run_at=None, max_attempts=1, now=T0)
    backend.complete(claim(backend), now=T0)
    failed = backend.enqueue("tests.record", {}, key=None, run_at=None, max_attempts=1, now=T0)
    backend.fail(claim(backend), "x", now=T0, retry_at=None)
    assert backend.purge(done_before=T0 + dt.timedelta(days=1), failed_before=T0) == 1
    assert backend.info(old) is None and backend.info(failed).state == "failed"


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_never_hand_out_a_job_twice():
    """Several threads (each its own connection) claim at once: every job goes to one of them.
    PostgreSQL uses SKIP LOCKED; SQLite's single writer serialises the conditional UPDATEs."""
    if connection.vendor == "sqlite":
        pytest.skip("the in-memory SQLite test database is one connection; tests/procedures/test_deadlines_worker.py "
                    "runs workers over a SQLite file")
    backend = DatabaseBackend()
    ids = {backend.enqueue("tests.record", {"n": n}, key=None, run_at=None, max_attempts=5, now=T0) for n in range(40)}
    got: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def take(name):
        from django.db import connection as conn

        try:
            start.wait()
            while (job := backend.claim(name, now=T0, lease_seconds=LEASE)) is not None:
                with lock:
                    got.append(job.id)
        finally:
            conn.close()

    threads = [threading.Thread(target=take, args=(f"t{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == sorted(ids)


@pytest.mark.django_db(transaction=True)
def test_concurrent_ticks_queue_a_periodic_job_once():
    """Six workers (threads, each its own connection) tick in the same instant on PostgreSQL: the
    lease row lets one of them queue the job for the period."""
    if connection.vendor == "sqlite":
        pytest.skip("the in-memory SQLite test database is one connection; tests/procedures/test_deadlines_worker.py "
                    "runs workers over a SQLite file")
    queued: list[str] = []
    start = threading.Barrier(6)

    def tick(name):
        from django.db import connection as conn

        try:
            start.wait()
            queued.extend(n for n in Worker(DatabaseBackend(), worker_id=name).tick(T0) if n == "tests.tick")
        finally:
            conn.close()

    threads = [threading.Thread(target=tick, args=(f"t{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert queued == ["tests.tick"]
    assert Job.objects.filter(name="tests.tick").count() == 1


def test_run_worker_command(db, capsys):
    from django.core.management import CommandError, call_command

    jobs.enqueue("tests.record", folio="TRC-9")
    call_command("run_worker", "--once", "--no-schedule", "--id", "cmd-worker")
    assert CALLS == [("record", {"folio": "TRC-9"})]
    assert "1 trabajos ejecutados (database, cmd-worker)" in capsys.readouterr().out
    with pytest.raises(CommandError, match="VENTANILLA_JOBS_BROKER"):
        call_command("run_worker", "--once", "--backend", "amqp://elsewhere")
    with pytest.raises(CommandError, match="--id"):
        call_command("run_worker", "--once", "--id", "x" * 201)
