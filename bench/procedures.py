#!/usr/bin/env python
"""Online procedures benchmark: submissions per second through the residents' API, and the time
to list a page of a department queue holding 100,000 requests.

    DATABASE_URL=postgres://... python bench/procedures.py [--workers N] [--per-worker 100] [--rounds 3]
                                                          [--queue-requests 100000] [--seed 0]

Sets Django up on its own temporary database (a PostgreSQL URL gets a new database next to the
one it names, dropped at the end; without DATABASE_URL a temporary SQLite file, where only one
worker makes sense), migrates, loads the Torreón catalogue, the demo officials and the five online
definitions, and then:

1. Submissions. `--workers` processes, each signed in as its own resident with Django's test
   Client, prepare `--per-worker` drafts of the licence renewal (TOR-DGDE-002: two form pages, the
   previous licence is held by the city, so no upload) through `POST /api/v1/tramites-en-linea/
   solicitudes` and `PUT …/paginas/{page}`, then, in `--rounds` rounds, all submit `--per-worker`
   of them at once with `POST …/presentar` (folio, review steps, legal due date, history, inbox
   notice and its e-mail job). Prints submissions per second (all workers, wall clock) of each
   round and their median, and the p50/p95 latency of one submission. The e-mail itself is sent
   by the background worker, outside the request, and is not measured here.
2. Queue. Bulk-inserts `--queue-requests` filed requests of one department (in review with an
   active review step, due dates spread over two months), then times the first page and a deep
   page of `procedures.queues.department_queue` (the reviewer's "pending" tab sorted by due date,
   and the "all" tab sorted by filing date), and the queue page over HTTP.

Every figure is printed next to a trivial query (`SELECT 1` through the ORM, a raw queryset) timed
in the same run. Prints figures only; it asserts nothing about timings. Goals: at least 100
submissions per second; a queue page under 100 ms."""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import random
import statistics
import time

from harness import percentile, temporary_django

PROCEDURE = "TOR-DGDE-002"
API = "/api/v1/tramites-en-linea/solicitudes"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=None,
                        help="processes submitting at once (default: one per CPU core on PostgreSQL, "
                             "1 on SQLite)")
    parser.add_argument("--per-worker", type=int, default=100, help="submissions per process and round")
    parser.add_argument("--rounds", type=int, default=3,
                        help="submission rounds; the median rate is reported (a shared machine varies)")
    parser.add_argument("--queue-requests", type=int, default=100_000)
    parser.add_argument("--queue-samples", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.environ["VENTANILLA_EMAIL_BACKEND"] = "django.core.mail.backends.dummy.EmailBackend"
    with temporary_django("procedures"):
        run(args)


def trivial_ms(samples: int = 300) -> float:
    """p50 of `SELECT 1` through the ORM (a raw queryset), in milliseconds."""
    from ventanilla.procedures.models import Request

    times = []
    for _i in range(samples):
        t = time.perf_counter()
        list(Request.objects.raw("SELECT 1 AS id"))
        times.append((time.perf_counter() - t) * 1000)
    return percentile(times, 50)


# --- Setup --------------------------------------------------------------------------------------


def setup(args) -> None:
    from django.core.management import call_command

    from ventanilla.catalog import demo as catalog_demo
    from ventanilla.identity import demo as identity_demo
    from ventanilla.procedures import demo as procedures_demo

    call_command("migrate", verbosity=0)
    catalog_demo.build(history_days=0)
    identity_demo.build()
    procedures_demo.build_definitions()


def residents(count: int, seed: int) -> list:
    import random as rnd

    from django.utils import timezone

    from ventanilla.procedures import demo as procedures_demo

    return procedures_demo.build_residents(count, rnd.Random(seed), timezone.now())


# --- 1. Submissions through the API --------------------------------------------------------------


def _client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def _answers(n: int) -> list[tuple[str, dict]]:
    return [
        ("licencia", {"numero_licencia": f"LF-2025-{n:06d}", "nombre_comercial": f"Abarrotes Número {n}"}),
        ("confirmacion", {"sin_cambios": "si", "rfc": "GODE561231GR8"}),
    ]


def _worker(user_id: int, per_worker: int, rounds: int, barrier, queue) -> None:
    """One process: prepares its drafts, then, in each round, waits for every other worker and
    submits `per_worker` of them."""
    from django.db import connections

    from ventanilla.identity.models import User

    connections.close_all()  # never share the parent's connection
    client = _client(User.objects.get(pk=user_id))
    drafts = []
    t0 = time.perf_counter()
    for n in range(per_worker * rounds):
        response = client.post(API, {"tramite": PROCEDURE}, content_type="application/json")
        assert response.status_code == 201, response.content
        draft = response.json()["id"]
        for page, answers in _answers(user_id * 100_000 + n):
            response = client.put(f"{API}/{draft}/paginas/{page}", {"respuestas": answers},
                                  content_type="application/json")
            assert response.status_code == 200, response.content
        drafts.append(draft)
    prepare_s = time.perf_counter() - t0
    for round_ in range(rounds):
        barrier.wait()
        latencies = []
        began = time.time()
        for draft in drafts[round_ * per_worker:(round_ + 1) * per_worker]:
            t = time.perf_counter()
            response = client.post(f"{API}/{draft}/presentar", content_type="application/json")
            latencies.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200, response.content
        queue.put({"round": round_, "began": began, "ended": time.time(), "latencies": latencies,
                   "prepare_s": prepare_s})
    connections.close_all()


def bench_submissions(args, trivial: float) -> None:
    from django.db import connection, connections

    if args.workers is None:
        # One per core: the submissions are CPU-bound, and PostgreSQL shares the cores; more
        # processes than cores measured 25-30 % fewer submissions per second (context switches).
        args.workers = (os.cpu_count() or 2) if connection.vendor == "postgresql" else 1
    from ventanilla.procedures.models import Request, Status

    users = residents(args.workers, args.seed)
    connections.close_all()
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    # In each round everyone starts submitting at the same moment.
    barrier = ctx.Barrier(args.workers)
    procs = [ctx.Process(target=_worker, args=(u.pk, args.per_worker, args.rounds, barrier, queue)) for u in users]
    for p in procs:
        p.start()
    results = [queue.get() for _i in range(len(procs) * args.rounds)]
    for p in procs:
        p.join()
        if p.exitcode:
            raise SystemExit(f"a worker failed (exit code {p.exitcode})")
    prepared = args.workers * args.per_worker * args.rounds
    prepare_rate = prepared / max(r["prepare_s"] for r in results)
    rates = []
    for round_ in range(args.rounds):
        mine = [r for r in results if r["round"] == round_]
        total = sum(len(r["latencies"]) for r in mine)
        wall = max(r["ended"] for r in mine) - min(r["began"] for r in mine)
        rates.append(total / wall)
    latencies = [x for r in results for x in r["latencies"]]
    submitted = Request.objects.filter(status=Status.IN_REVIEW, procedure__clave=PROCEDURE).count()
    rate = statistics.median(rates)
    print(f"Database: {connection.vendor}; workers: {args.workers} processes × {args.per_worker} submissions "
          f"× {args.rounds} rounds")
    print(f"submissions      median {rate:7.1f} /s over {args.rounds} rounds "
          f"({', '.join(f'{r:.1f}' for r in rates)})   (goal ≥ 100 /s; {submitted} requests in review)")
    print(f"one submission   p50 {percentile(latencies, 50):7.2f} ms   p95 {percentile(latencies, 95):7.2f} ms   "
          f"mean {statistics.mean(latencies):7.2f} ms")
    print(f"drafts prepared  {prepared} (start + 2 pages each) at {prepare_rate:7.1f} /s")
    print(f"SELECT 1 (ORM)   p50 {trivial:7.3f} ms")
    print(f"ratio            wall time per submission / SELECT 1 = {1000 / rate / trivial:.0f}x;   "
          f"p50 submission / SELECT 1 = {percentile(latencies, 50) / trivial:.0f}x")


# --- 2. Department queue ------------------------------------------------------------------------


def fill_queue(count: int, seed: int) -> tuple:
    """`count` filed requests of Desarrollo Económico (licence, in review, an active step there)."""
    from django.db import transaction
    from django.utils import timezone

    from ventanilla.identity.models import User
    from ventanilla.organization import selectors as org_selectors
    from ventanilla.procedures import selectors
    from ventanilla.procedures.models import Channel, Request, RequestStep, Status, StepStatus

    rng = random.Random(seed)
    department = org_selectors.department_by_slug("desarrollo-economico")
    from ventanilla.catalog import selectors as catalog_selectors

    definition = selectors.definition_for_procedure(catalog_selectors.procedure_by_clave("TOR-DGDE-001"))
    applicants = residents(1000, seed + 1)
    now = timezone.now()
    today = timezone.localdate()
    batch = 5000
    t0 = time.perf_counter()
    for start in range(0, count, batch):
        with transaction.atomic():
            rows = []
            for i in range(start, min(count, start + batch)):
                submitted = now - dt.timedelta(minutes=rng.randrange(1, 60 * 24 * 60))
                status = Status.IN_REVIEW if rng.random() < 0.9 else Status.CORRECTION
                rows.append(Request(
                    version=definition.published_version, procedure=definition.procedure, department=department,
                    applicant=rng.choice(applicants), channel=rng.choice(Channel.values), status=status,
                    created_at=submitted - dt.timedelta(minutes=20), submitted_at=submitted,
                    due_date=today + dt.timedelta(days=rng.randrange(-20, 40)) if status == Status.IN_REVIEW else None,
                    fee_centavos=82000, folio=f"BEN-{timezone.localdate(submitted).year}-{i + 1:07d}",
                ))
            Request.objects.bulk_create(rows, batch_size=1000)
            RequestStep.objects.bulk_create([
                RequestStep(request=r, key="revision_documental", name="Revisión documental", department=department,
                            role="reviewer", order=0, status=StepStatus.ACTIVE, activated_at=r.submitted_at)
                for r in rows
            ], batch_size=1000)
    load_s = time.perf_counter() - t0
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    reviewer = User.objects.get(email="revisor.dgde@torreon.example")
    return reviewer, load_s


def _timed(fn, samples: int) -> list[float]:
    fn()  # warm-up
    times = []
    for _i in range(samples):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return times


def bench_queue(args, trivial: float) -> None:
    from django.http import HttpRequest
    from django.test import Client
    from django_otp import login as otp_login

    from ventanilla.procedures import queues

    reviewer, load_s = fill_queue(args.queue_requests, args.seed)
    print(f"\nQueue: {args.queue_requests} requests of one department bulk-inserted in {load_s:.1f} s")
    pending = queues.QueueFilters()
    everything = queues.QueueFilters(tab=queues.Tab.ALL)
    first = queues.department_queue(reviewer, filters=pending)
    deep = first
    for _i in range(40):  # 40 pages in: a cursor in the middle of the queue
        deep = queues.department_queue(reviewer, filters=pending, page=deep.next_cursor)
    cases = {
        "pending, first page": lambda: queues.department_queue(reviewer, filters=pending),
        "pending, page 41": lambda: queues.department_queue(reviewer, filters=pending, page=deep.next_cursor),
        "all, first page": lambda: queues.department_queue(reviewer, filters=everything),
        "folio search": lambda: queues.department_queue(reviewer, filters=queues.QueueFilters(folio="0054321")),
    }
    client = Client()
    client.force_login(reviewer)
    device = reviewer.totpdevice_set.filter(confirmed=True).first()
    http_request = HttpRequest()
    http_request.session = client.session
    http_request.user = reviewer
    otp_login(http_request, device)
    http_request.session.save()

    def page_over_http():
        response = client.get("/oficina/solicitudes/")
        assert response.status_code == 200, response.status_code

    cases["queue page over HTTP"] = page_over_http
    print(f"{'':22} {'p50':>9} {'p95':>9}   ratio p50 / SELECT 1   (goal < 100 ms)")
    for name, fn in cases.items():
        times = _timed(fn, args.queue_samples)
        print(f"{name:22} {percentile(times, 50):7.2f} ms {percentile(times, 95):7.2f} ms   "
              f"{percentile(times, 50) / trivial:6.0f}x")
    print(f"{'SELECT 1 (ORM)':22} {trivial:7.3f} ms")


def run(args) -> None:
    t0 = time.perf_counter()
    setup(args)
    print(f"Setup (migrate, catalogue, officials, definitions): {time.perf_counter() - t0:.1f} s")
    trivial = trivial_ms()
    bench_submissions(args, trivial)
    bench_queue(args, trivial_ms())


if __name__ == "__main__":
    main()
