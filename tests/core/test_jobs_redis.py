"""Background jobs on the Redis backend, against the real Redis at 127.0.0.1:6379 (each test under
its own key prefix, deleted afterwards): enqueue/claim/ack, a dead worker's job delivered again
after its lease, deduplication keys, retries, periodic jobs once per period with two workers, and a
worker process killed mid-job. The clock is passed in; nothing waits for a lease to run out."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from ventanilla.core import jobs
from ventanilla.core.jobs.redis import RedisBackend
from ventanilla.core.jobs.worker import Worker

REDIS_URL = os.environ.get("VENTANILLA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)
LEASE = 60
CALLS: list[dict] = []


@jobs.job("tests.redis.record")
def record(**kwargs):
    CALLS.append(kwargs)


@jobs.job("tests.redis.flaky", max_attempts=2)
def flaky():
    raise ValueError("proveedor caído")


@jobs.job("tests.redis.tick", every=lambda: 300)
def tick():
    CALLS.append({"tick": True})


@jobs.job("tests.redis.gate")
def gate(started: str, release: str, done: str):
    """Says it started, waits until the test releases it (an event, not a duration), then marks done.
    Used by the subprocess tests: the worker is killed or stopped while it waits."""
    Path(started).write_text(str(os.getpid()))
    while not Path(release).exists():
        time.sleep(0.01)
    with open(done, "a") as out:
        out.write(f"{os.getpid()}\n")


def _redis_or_skip():
    import redis

    client = redis.Redis.from_url(REDIS_URL, decode_responses=True, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not reachable at {REDIS_URL} ({exc}); the Redis job backend is not tested")
    return client


@pytest.fixture
def prefix():
    client = _redis_or_skip()
    name = f"ventanilla-test:{uuid.uuid4().hex[:12]}"
    yield name
    keys = list(client.scan_iter(f"{name}:*", count=500))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def backend(prefix, db) -> RedisBackend:
    """(`db`: an in-process worker tidies Django's database connections around each job.)"""
    b = RedisBackend(REDIS_URL, prefix=prefix)
    yield b
    b.close()


@pytest.fixture(autouse=True)
def clear_calls():
    CALLS.clear()
    yield
    CALLS.clear()


def put(backend, name="tests.redis.record", kwargs=None, *, key=None, run_at=None, max_attempts=5, now=T0):
    return backend.enqueue(name, kwargs or {}, key=key, run_at=run_at, max_attempts=max_attempts, now=now)


def claim(backend, worker="w1", at=T0):
    return backend.claim(worker, now=at, lease_seconds=LEASE)


def test_the_broker_setting_selects_redis(settings, prefix):
    settings.VENTANILLA_JOBS_BROKER = REDIS_URL
    settings.VENTANILLA_JOBS_PREFIX = prefix
    backend = jobs.get_backend()
    assert isinstance(backend, RedisBackend) and backend.prefix == prefix
    assert jobs.get_backend("redis").url == REDIS_URL
    job_id = jobs.enqueue("tests.redis.record", n=1)  # outside any transaction: pushed at once
    assert backend.info(job_id).state == "queued"


def test_enqueue_inside_a_transaction_is_pushed_when_it_commits(backend, transactional_db):
    from django.db import transaction

    with transaction.atomic():
        rolled_back = jobs.enqueue("tests.redis.record", backend=backend, n=1)
        transaction.set_rollback(True)
    assert backend.info(rolled_back) is None
    with transaction.atomic():
        committed = jobs.enqueue("tests.redis.record", backend=backend, n=2)
        assert backend.info(committed) is None  # not before the commit
    assert backend.info(committed).kwargs == {"n": 2}


def test_enqueue_claim_ack(backend):
    job_id = put(backend, kwargs={"folio": "TRC-1"})
    assert backend.counts()["queued"] == 1
    job = claim(backend)
    assert (job.id, job.name, job.kwargs, job.attempts) == (job_id, "tests.redis.record", {"folio": "TRC-1"}, 1)
    assert backend.info(job_id).state == "running"
    assert backend.client.lrange(backend.k("processing"), 0, -1) == [job_id]
    assert claim(backend, "w2") is None
    assert backend.complete(job, now=T0)
    assert backend.info(job_id).state == "done"
    assert backend.counts() == {"queued": 0, "running": 0, "failed": 0}
    assert backend.client.ttl(backend.k(f"job:{job_id}")) > 0  # finished jobs expire


def test_jobs_come_out_in_order(backend):
    ids = [put(backend, kwargs={"n": n}) for n in range(5)]
    assert [claim(backend).id for _ in ids] == ids


def test_run_at_delays_the_job(backend):
    job_id = put(backend, run_at=T0 + dt.timedelta(minutes=5))
    assert claim(backend, at=T0 + dt.timedelta(minutes=4)) is None
    assert claim(backend, at=T0 + dt.timedelta(minutes=5)).id == job_id


def test_dedup_key_while_open(backend):
    first = put(backend, key="notify:7")
    assert put(backend, key="notify:7") == first
    job = claim(backend)
    assert put(backend, key="notify:7") == first
    backend.complete(job, now=T0)
    second = put(backend, key="notify:7")
    assert second != first
    assert backend.counts()["queued"] == 1


def test_a_dead_workers_job_is_delivered_again_after_its_lease(backend):
    job_id = put(backend)
    dead = claim(backend, "w1", T0)
    assert claim(backend, "w2", T0 + dt.timedelta(seconds=LEASE - 1)) is None
    again = claim(backend, "w2", T0 + dt.timedelta(seconds=LEASE + 1))
    assert (again.id, again.attempts) == (job_id, 2)
    assert backend.client.lrange(backend.k("processing"), 0, -1) == [job_id]  # once, for w2
    assert not backend.complete(dead, now=T0)  # the stale token changes nothing
    assert not backend.extend(dead, now=T0, lease_seconds=LEASE)
    assert backend.info(job_id).state == "running"
    assert backend.complete(again, now=T0)
    assert backend.info(job_id).state == "done"


def test_an_extended_lease_keeps_the_job(backend):
    put(backend)
    job = claim(backend, "w1", T0)
    assert backend.extend(job, now=T0 + dt.timedelta(seconds=50), lease_seconds=LEASE)
    assert claim(backend, "w2", T0 + dt.timedelta(seconds=LEASE + 1)) is None
    assert claim(backend, "w2", T0 + dt.timedelta(seconds=50 + LEASE + 1)) is not None


def test_a_job_moved_but_never_leased_is_recovered(backend):
    """The worker died between BLMOVE and recording its lease: maintenance gives the orphan a
    lease, and it is delivered again when that lease ends."""
    job_id = put(backend)
    assert backend.client.lmove(backend.k("ready"), backend.k("processing"), "RIGHT", "LEFT") == job_id
    assert claim(backend, "w2", T0) is None
    again = claim(backend, "w2", T0 + dt.timedelta(seconds=LEASE + 1))
    assert again.id == job_id


def test_the_last_attempt_lost_ends_failed(backend):
    job_id = put(backend, key="k", max_attempts=1)
    claim(backend, "w1", T0)
    assert claim(backend, "w2", T0 + dt.timedelta(seconds=LEASE + 1)) is None
    info = backend.info(job_id)
    assert info.state == "failed" and "dejó de responder" in info.last_error
    assert backend.client.lrange(backend.k("failed"), 0, -1) == [job_id]
    assert put(backend, key="k") != job_id  # the key was released


def test_errors_are_retried_with_backoff_then_kept(backend):
    now = [T0]
    worker = Worker(backend, worker_id="w", schedule=False, clock=lambda: now[0])
    job_id = put(backend, "tests.redis.flaky", max_attempts=2)
    assert worker.work_one()
    info = backend.info(job_id)
    assert (info.state, info.attempts) == ("queued", 1)
    assert info.run_at == T0 + dt.timedelta(seconds=15)
    assert "proveedor caído" in info.last_error
    now[0] = T0 + dt.timedelta(seconds=14)
    assert not worker.work_one()
    now[0] = T0 + dt.timedelta(seconds=15)
    assert worker.work_one()
    info = backend.info(job_id)
    assert (info.state, info.attempts) == ("failed", 2)
    assert "ValueError: proveedor caído" in info.last_error
    assert backend.counts()["failed"] == 1
    assert backend.purge(done_before=now[0], failed_before=now[0] + dt.timedelta(days=1)) == 1
    assert backend.info(job_id) is None


def test_a_restarted_worker_with_a_fixed_id_takes_back_its_jobs(backend):
    mine = put(backend)
    theirs = put(backend)
    claim(backend, "worker-1")
    claim(backend, "worker-2")
    assert backend.release_worker("worker-1", now=T0) == 1
    again = claim(backend, "worker-1")
    assert (again.id, again.attempts) == (mine, 2)
    assert backend.info(theirs).state == "running"


def test_worker_loop_runs_jobs_and_stops_when_idle(backend):
    put(backend, kwargs={"n": 1})
    put(backend, kwargs={"n": 2})
    assert jobs.run_worker(backend=backend, once=True, schedule=False) == 2
    assert CALLS == [{"n": 1}, {"n": 2}]


def test_periodic_job_runs_once_per_period_with_several_workers(prefix, db):
    """Six workers, each with its own Redis connection, tick in the same instant from six threads:
    the job is queued once for the period and runs once; the next period queues it once more."""
    backends = [RedisBackend(REDIS_URL, prefix=prefix) for _ in range(6)]
    workers = [Worker(b, worker_id=f"w{i}", clock=lambda: T0) for i, b in enumerate(backends)]
    queued: list[str] = []
    barrier = threading.Barrier(len(workers))

    def ticks(worker):
        barrier.wait()
        queued.extend(n for n in worker.tick(T0) if n == "tests.redis.tick")

    threads = [threading.Thread(target=ticks, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert queued == ["tests.redis.tick"]
    while any(w.work_one() for w in workers):  # every worker drains the queue
        pass
    assert CALLS.count({"tick": True}) == 1
    later = T0 + dt.timedelta(seconds=300)
    assert [n for w in workers for n in w.tick(later) if n == "tests.redis.tick"] == ["tests.redis.tick"]
    for backend in backends:
        backend.close()


@jobs.job("tests.redis.watch_lease")
def watch_lease(prefix: str):
    """Waits (on an event, at most 30 s) until the worker's heartbeat has moved its own lease."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    job_id = client.lrange(f"{prefix}:processing", 0, 0)[0]
    first = client.zscore(f"{prefix}:leases", job_id)
    give_up = time.monotonic() + 30
    while client.zscore(f"{prefix}:leases", job_id) == first:
        assert time.monotonic() < give_up, "the lease was never extended"
        time.sleep(0.05)
    CALLS.append({"extended_from": first, "to": client.zscore(f"{prefix}:leases", job_id)})
    client.close()


def test_the_heartbeat_extends_the_lease_of_a_running_job(backend):
    worker = Worker(backend, schedule=False, lease_seconds=3)  # a beat every second
    job_id = put(backend, "tests.redis.watch_lease", {"prefix": backend.prefix}, now=dt.datetime.now(dt.UTC))
    assert worker.work_one()
    assert backend.info(job_id).state == "done"
    assert CALLS[0]["to"] > CALLS[0]["extended_from"]


# --- A real worker process ------------------------------------------------------------------------

def _worker_env(prefix: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VENTANILLA_", "DJANGO_", "DATABASE_URL"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "ventanilla.settings",
        "VENTANILLA_VAR_DIR": str(tmp_path / "var"),
        "VENTANILLA_JOBS_BROKER": REDIS_URL,
        "VENTANILLA_JOBS_PREFIX": prefix,
        "VENTANILLA_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    })
    return env


# The worker process registers this module's jobs, then runs as `manage.py run_worker` would.
WORKER_SCRIPT = (
    "import sys, django; django.setup(); import tests.core.test_jobs_redis; "
    "from ventanilla.core.jobs import run_worker; "
    "once = sys.argv[2] == 'once'; "
    "print(run_worker(once=once, worker_id=sys.argv[1], schedule=False, poll_seconds=0.2), flush=True)"
)


def _start_worker(env, worker_id: str, mode: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WORKER_SCRIPT, worker_id, mode], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def _wait_for(path: Path, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            pytest.fail(f"the worker exited early:\n{process.stderr.read()[-3000:]}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the worker never started the job")
        time.sleep(0.02)


def _gate_paths(tmp_path: Path) -> dict[str, str]:
    return {name: str(tmp_path / name) for name in ("started", "release", "done")}


def test_worker_process_killed_mid_job_its_restart_runs_the_job_again(backend, tmp_path):
    """SIGKILL while the job runs: the job stays in `processing` under the dead worker's lease; the
    worker restarted with the same --id takes it back at once and runs it to the end."""
    env = _worker_env(backend.prefix, tmp_path)
    paths = _gate_paths(tmp_path)
    job_id = put(backend, "tests.redis.gate", paths, now=dt.datetime.now(dt.UTC))
    first = _start_worker(env, "worker-1", "loop")
    _wait_for(Path(paths["started"]), first)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    info = backend.info(job_id)
    assert (info.state, info.locked_by) == ("running", "worker-1")
    Path(paths["started"]).unlink()
    Path(paths["release"]).write_text("go")
    second = _start_worker(env, "worker-1", "once")
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err[-3000:]
    assert out.strip().splitlines()[-1] == "1"
    info = backend.info(job_id)
    assert (info.state, info.attempts) == ("done", 2)
    assert len(Path(paths["done"]).read_text().splitlines()) == 1


def test_sigterm_lets_the_job_in_hand_finish_then_the_worker_exits(backend, tmp_path):
    env = _worker_env(backend.prefix, tmp_path)
    paths = _gate_paths(tmp_path)
    job_id = put(backend, "tests.redis.gate", paths, now=dt.datetime.now(dt.UTC))
    waiting = put(backend, kwargs={"n": 1}, now=dt.datetime.now(dt.UTC))
    worker = _start_worker(env, "worker-t", "loop")
    _wait_for(Path(paths["started"]), worker)
    worker.send_signal(signal.SIGTERM)
    Path(paths["release"]).write_text("go")
    out, err = worker.communicate(timeout=120)
    assert worker.returncode == 0, err[-3000:]
    assert backend.info(job_id).state == "done"
    assert backend.info(waiting).state == "queued"  # not started after the stop request
