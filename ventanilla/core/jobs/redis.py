"""The Redis job backend (`VENTANILLA_JOBS_BROKER=redis://host:6379/0`): a reliable queue.

Keys (P = VENTANILLA_JOBS_PREFIX, "ventanilla:jobs" by default):

    P:job:<id>          hash: name, kwargs (JSON), key, state, attempts, max_attempts, run_at,
                        worker, token, last_error, created_at, started_at, finished_at
    P:ready             list of ids ready to run (pushed on the left, taken from the right)
    P:processing        list of ids some worker holds (BLMOVE moves them here atomically)
    P:leases            sorted set id -> lease end (epoch seconds)
    P:delayed           sorted set id -> when it may run (run_at, back-off after an error)
    P:failed            list of ids that ran out of attempts (their hash keeps the error)
    P:key:<key>         id of the open job with that deduplication key
    P:period:<name>:<n> the worker that enqueued periodic job <name> for period n (SET NX EX)

A worker takes a job with BLMOVE ready -> processing, then a script records its lease. Before
taking, every worker runs the maintenance script: delayed jobs that are due go to `ready`; a job
in `processing` with no lease (its worker died between the move and the lease) gets one; jobs
whose lease passed go back to `ready` (or to `failed` on their last attempt). Every state change
is one Lua script, so it is atomic; each claim has its own token, and completing, failing or
extending with a stale token does nothing. Clock: the worker's (scripts take `now`), so tests
control it; a Redis used by several machines needs their clocks in sync (NTP).

Finished jobs expire after a week; failed ones stay until `purge`.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import uuid
from typing import Any

import redis as redis_py

from .base import MAX_ERROR, ClaimedJob, JobInfo

KEEP_DONE_SECONDS = 7 * 24 * 3600
MAINTENANCE_BATCH = 200

_ENQUEUE = """
local P, id = ARGV[1], ARGV[2]
local gate, gate_value, gate_ttl = ARGV[10], ARGV[11], ARGV[12]
if gate ~= "" then
  if not redis.call("SET", P .. ":period:" .. gate, gate_value, "NX", "EX", gate_ttl) then
    return {0, ""}
  end
end
local key = ARGV[5]
if key ~= "" then
  local existing = redis.call("GET", P .. ":key:" .. key)
  if existing then
    local state = redis.call("HGET", P .. ":job:" .. existing, "state")
    if state == "queued" or state == "running" then
      return {2, existing}
    end
  end
  redis.call("SET", P .. ":key:" .. key, id)
end
local jk = P .. ":job:" .. id
redis.call("HSET", jk, "name", ARGV[3], "kwargs", ARGV[4], "key", key, "max_attempts", ARGV[6],
  "attempts", 0, "state", "queued", "run_at", ARGV[7], "created_at", ARGV[8], "worker", "", "token", "",
  "last_error", "")
if tonumber(ARGV[7]) > tonumber(ARGV[8]) then
  redis.call("ZADD", P .. ":delayed", ARGV[7], id)
else
  redis.call("LPUSH", P .. ":ready", id)
end
return {1, id}
"""

# Releases the deduplication key of job `id` (if it still points at it) — shared snippet.
_RELEASE_KEY = """
local function release_key(P, id, jk)
  local key = redis.call("HGET", jk, "key")
  if key and key ~= "" and redis.call("GET", P .. ":key:" .. key) == id then
    redis.call("DEL", P .. ":key:" .. key)
  end
end
"""

# Puts a job its worker no longer holds back in the queue, or fails it on its last attempt.
_REQUEUE = _RELEASE_KEY + """
local function requeue(P, id, now, reason)
  local jk = P .. ":job:" .. id
  redis.call("ZREM", P .. ":leases", id)
  redis.call("LREM", P .. ":processing", 0, id)
  if redis.call("EXISTS", jk) == 0 then return 0 end
  local attempts = tonumber(redis.call("HGET", jk, "attempts") or "0")
  local max_attempts = tonumber(redis.call("HGET", jk, "max_attempts") or "1")
  if attempts >= max_attempts then
    redis.call("HSET", jk, "state", "failed", "token", "", "finished_at", now,
      "last_error", "Se agotaron los intentos: " .. reason)
    redis.call("LPUSH", P .. ":failed", id)
    release_key(P, id, jk)
  else
    redis.call("HSET", jk, "state", "queued", "token", "", "worker", "", "last_error", reason)
    redis.call("RPUSH", P .. ":ready", id)
  end
  return 1
end
"""

_MAINTAIN = _REQUEUE + """
local P, now, grace, batch = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local due = redis.call("ZRANGEBYSCORE", P .. ":delayed", "-inf", now, "LIMIT", 0, batch)
for _, id in ipairs(due) do
  redis.call("ZREM", P .. ":delayed", id)
  redis.call("LPUSH", P .. ":ready", id)
end
for _, id in ipairs(redis.call("LRANGE", P .. ":processing", 0, -1)) do
  if not redis.call("ZSCORE", P .. ":leases", id) then
    redis.call("ZADD", P .. ":leases", now + grace, id)
  end
end
local expired = redis.call("ZRANGEBYSCORE", P .. ":leases", "-inf", "(" .. now, "LIMIT", 0, batch)
for _, id in ipairs(expired) do
  requeue(P, id, now, "el trabajador que lo ejecutaba dejó de responder.")
end
return #expired
"""

_START = """
local P, id, worker, token, lease_end, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local jk = P .. ":job:" .. id
if redis.call("EXISTS", jk) == 0 then
  redis.call("LREM", P .. ":processing", 0, id)
  return false
end
redis.call("ZADD", P .. ":leases", lease_end, id)
redis.call("HINCRBY", jk, "attempts", 1)
redis.call("HSET", jk, "state", "running", "worker", worker, "token", token, "started_at", now)
return redis.call("HMGET", jk, "name", "kwargs", "attempts", "max_attempts")
"""

_EXTEND = """
local P, id, token, lease_end = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if redis.call("HGET", P .. ":job:" .. id, "token") ~= token then return 0 end
redis.call("ZADD", P .. ":leases", "XX", lease_end, id)
return 1
"""

_FINISH = _RELEASE_KEY + """
local P, id, token, now, outcome, err, retry_at, keep = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local jk = P .. ":job:" .. id
if token == "" or redis.call("HGET", jk, "token") ~= token then return 0 end
redis.call("ZREM", P .. ":leases", id)
redis.call("LREM", P .. ":processing", 0, id)
if outcome == "done" then
  redis.call("HSET", jk, "state", "done", "token", "", "finished_at", now)
  release_key(P, id, jk)
  redis.call("EXPIRE", jk, keep)
elseif outcome == "retry" then
  redis.call("HSET", jk, "state", "queued", "token", "", "worker", "", "last_error", err, "run_at", retry_at)
  redis.call("ZADD", P .. ":delayed", retry_at, id)
else
  redis.call("HSET", jk, "state", "failed", "token", "", "finished_at", now, "last_error", err)
  redis.call("LPUSH", P .. ":failed", id)
  release_key(P, id, jk)
end
return 1
"""

_RELEASE_WORKER = _REQUEUE + """
local P, worker, now = ARGV[1], ARGV[2], ARGV[3]
local count = 0
for _, id in ipairs(redis.call("LRANGE", P .. ":processing", 0, -1)) do
  if redis.call("HGET", P .. ":job:" .. id, "worker") == worker then
    count = count + requeue(P, id, now, "el trabajador se reinició mientras lo ejecutaba.")
  end
end
return count
"""


def _ts(moment: dt.datetime) -> str:
    return repr(moment.timestamp())


def _dt(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromtimestamp(float(value), tz=dt.UTC)


class RedisBackend:
    name = "redis"
    defers_to_commit = True

    def __init__(self, url: str, *, prefix: str = "ventanilla:jobs", client: redis_py.Redis | None = None):
        self.url = url
        self.prefix = prefix.rstrip(":")
        self.client = client or redis_py.Redis.from_url(url, decode_responses=True, health_check_interval=30)
        self._enqueue = self.client.register_script(_ENQUEUE)
        self._maintain = self.client.register_script(_MAINTAIN)
        self._start = self.client.register_script(_START)
        self._extend = self.client.register_script(_EXTEND)
        self._finish = self.client.register_script(_FINISH)
        self._release_worker = self.client.register_script(_RELEASE_WORKER)

    def k(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def new_id(self) -> str:
        return uuid.uuid4().hex

    # --- Producing -------------------------------------------------------------------------------

    def _push(self, name: str, kwargs: dict[str, Any], *, key: str | None, run_at: dt.datetime | None,
              max_attempts: int, now: dt.datetime, job_id: str, gate: tuple[str, str, int] | None) -> str | None:
        gate_name, gate_value, gate_ttl = gate or ("", "", 0)
        status, found = self._enqueue(args=[
            self.prefix, job_id, name, json.dumps(kwargs, separators=(",", ":")), key or "", max_attempts,
            _ts(run_at or now), _ts(now), "", gate_name, gate_value, gate_ttl,
        ])
        return None if int(status) == 0 else found

    def enqueue(self, name: str, kwargs: dict[str, Any], *, key: str | None, run_at: dt.datetime | None,
                max_attempts: int, now: dt.datetime, job_id: str | None = None) -> str:
        return self._push(name, kwargs, key=key, run_at=run_at, max_attempts=max_attempts, now=now,
                          job_id=job_id or self.new_id(), gate=None)

    def enqueue_periodic(self, name: str, period: int, *, key: str, max_attempts: int, now: dt.datetime,
                         worker_id: str, ttl_seconds: int) -> str | None:
        return self._push(name, {}, key=key, run_at=None, max_attempts=max_attempts, now=now,
                          job_id=self.new_id(), gate=(f"{name}:{period}", worker_id, max(1, int(ttl_seconds))))

    # --- Consuming -------------------------------------------------------------------------------

    def maintain(self, *, now: dt.datetime, lease_seconds: int) -> int:
        """Due delayed jobs to `ready`; expired leases back to `ready` (or `failed`)."""
        return int(self._maintain(args=[self.prefix, now.timestamp(), lease_seconds, MAINTENANCE_BATCH]))

    def claim(self, worker_id: str, *, now: dt.datetime, lease_seconds: int, wait: float = 0.0) -> ClaimedJob | None:
        self.maintain(now=now, lease_seconds=lease_seconds)
        if wait > 0:
            # Blocks at most `wait` seconds (far less than a lease), so the lease may start at `now`.
            job_id = self.client.blmove(self.k("ready"), self.k("processing"), wait, src="RIGHT", dest="LEFT")
        else:
            job_id = self.client.lmove(self.k("ready"), self.k("processing"), src="RIGHT", dest="LEFT")
        if job_id is None:
            return None
        token = secrets.token_hex(16)
        row = self._start(args=[self.prefix, job_id, worker_id, token,
                                (now + dt.timedelta(seconds=lease_seconds)).timestamp(), now.timestamp()])
        if not row:
            return None
        name, kwargs, attempts, max_attempts = row
        return ClaimedJob(id=job_id, name=name, kwargs=json.loads(kwargs or "{}"), attempts=int(attempts),
                          max_attempts=int(max_attempts), token=token)

    def extend(self, job: ClaimedJob, *, now: dt.datetime, lease_seconds: int) -> bool:
        end = (now + dt.timedelta(seconds=lease_seconds)).timestamp()
        return bool(int(self._extend(args=[self.prefix, job.id, job.token, end])))

    def _finish_as(self, job: ClaimedJob, outcome: str, *, now: dt.datetime, error: str = "",
                   retry_at: dt.datetime | None = None) -> bool:
        return bool(int(self._finish(args=[
            self.prefix, job.id, job.token, now.timestamp(), outcome, error[-MAX_ERROR:],
            retry_at.timestamp() if retry_at else 0, KEEP_DONE_SECONDS,
        ])))

    def complete(self, job: ClaimedJob, *, now: dt.datetime) -> bool:
        return self._finish_as(job, "done", now=now)

    def fail(self, job: ClaimedJob, error: str, *, now: dt.datetime, retry_at: dt.datetime | None) -> bool:
        return self._finish_as(job, "retry" if retry_at else "failed", now=now, error=error, retry_at=retry_at)

    def release_worker(self, worker_id: str, *, now: dt.datetime) -> int:
        return int(self._release_worker(args=[self.prefix, worker_id, now.timestamp()]))

    # --- Looking ----------------------------------------------------------------------------------

    def info(self, job_id: str) -> JobInfo | None:
        data = self.client.hgetall(self.k(f"job:{job_id}"))
        if not data:
            return None
        return JobInfo(
            id=job_id, name=data.get("name", ""), kwargs=json.loads(data.get("kwargs") or "{}"),
            key=data.get("key", ""), state=data.get("state", ""), attempts=int(data.get("attempts") or 0),
            max_attempts=int(data.get("max_attempts") or 0), run_at=_dt(data.get("run_at")),
            locked_by=data.get("worker", ""), last_error=data.get("last_error", ""),
        )

    def counts(self) -> dict[str, int]:
        pipe = self.client.pipeline()
        pipe.llen(self.k("ready"))
        pipe.zcard(self.k("delayed"))
        pipe.llen(self.k("processing"))
        pipe.llen(self.k("failed"))
        ready, delayed, processing, failed = pipe.execute()
        return {"queued": ready + delayed, "running": processing, "failed": failed}

    def purge(self, *, done_before: dt.datetime, failed_before: dt.datetime) -> int:
        """Finished jobs expire by themselves; failed ones older than `failed_before` go."""
        removed = 0
        for job_id in self.client.lrange(self.k("failed"), 0, -1):
            finished = _dt(self.client.hget(self.k(f"job:{job_id}"), "finished_at"))
            if finished is None or finished < failed_before:
                self.client.delete(self.k(f"job:{job_id}"))
                self.client.lrem(self.k("failed"), 0, job_id)
                removed += 1
        return removed

    def close(self) -> None:
        self.client.close()
