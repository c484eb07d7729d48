"""Acceptance 2, the worker side: real `manage.py run_worker` processes over a shared database (a
SQLite file, or the PostgreSQL test database), many requests past their legal deadline.

* A worker is killed with SIGKILL in the middle of its sweep (as soon as the first rule has been
  committed), then restarted: in the end every request got its rule exactly once — one
  DeadlineAction, one FICTA event, one signed certificate, one copy in the resident's file, one notice.
* Two workers sweep at once: the same.
* SIGTERM in the middle of a sweep: the worker finishes the job in hand, records it, and exits.

How the shared database works is explained in tests/multiworker/conftest.py; here the functions at
the end of this module seed and count, in this process on PostgreSQL or in a subprocess on SQLite.
"""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.multiworker.conftest import ROOT, _base_env, _postgres_url

REQUESTS = 40  # a sweep of seconds (each rule renders and signs a PDF); the kill comes within milliseconds
TIMEOUT = 240


@dataclass
class Shared:
    vendor: str
    env: dict[str, str]
    sqlite_path: Path | None

    def call(self, function: str, **kwargs):
        """Runs one of this module's seed/count functions against the shared database."""
        if self.vendor == "postgresql":
            return json.loads(json.dumps(globals()[function](**kwargs)))
        script = (
            "import json, sys, django; django.setup(); "
            "from tests.procedures import test_deadlines_worker as m; "
            f"print(json.dumps(m.{function}(**json.loads(sys.argv[1]))))"
        )
        done = subprocess.run([sys.executable, "-c", script, json.dumps(kwargs)], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=TIMEOUT)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    def applied_rules(self) -> int:
        """DeadlineAction rows committed so far (read straight from the database, cheaply)."""
        if self.vendor == "postgresql":
            from ventanilla.procedures.models import DeadlineAction

            return DeadlineAction.objects.count()
        with sqlite3.connect(f"file:{self.sqlite_path}?mode=ro", uri=True, timeout=20) as con:
            return con.execute("SELECT COUNT(*) FROM procedures_deadlineaction").fetchone()[0]

    def worker(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "manage.py", "run_worker", *args], cwd=ROOT, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


@pytest.fixture(scope="module")
def migrated_file(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("deadlines-template")
    path = folder / "db.sqlite3"
    done = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT,
                          env=_base_env(folder, f"sqlite:///{path}"), capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr[-3000:]
    with sqlite3.connect(path) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.execute("PRAGMA journal_mode=DELETE")
    return path


@pytest.fixture
def shared(transactional_db, tmp_path, request, signing_demo_ca) -> Shared:
    from django.db import connection

    var_dir = tmp_path / "var"
    (var_dir / "media").mkdir(parents=True)
    sqlite_path = None
    if connection.vendor == "postgresql":
        url = _postgres_url(connection.settings_dict)
    else:
        sqlite_path = var_dir / "db.sqlite3"
        shutil.copyfile(request.getfixturevalue("migrated_file"), sqlite_path)
        url = f"sqlite:///{sqlite_path}"
    env = _base_env(var_dir, url)
    env.update({
        # The session's demonstration CA signs in every process.
        "VENTANILLA_SIGNING_KEY": str(signing_demo_ca.signer_key),
        "VENTANILLA_SIGNING_CERT": str(signing_demo_ca.signer_cert),
        "VENTANILLA_SIGNING_CHAIN": str(signing_demo_ca.root_cert),
        "VENTANILLA_SIGNING_TRUST_ROOTS": str(signing_demo_ca.root_cert),
        "VENTANILLA_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "VENTANILLA_LOG_LEVEL": "INFO",
        # One period for the whole test: a test that straddled the start of a new 5-minute period
        # (periods are wall-clock slots) saw a second sweep queued, rightly, and failed its count.
        "VENTANILLA_DEADLINE_SWEEP_SECONDS": str(10**9),
    })
    return Shared(vendor=connection.vendor, env=env, sqlite_path=sqlite_path)


def _finish(process: subprocess.Popen) -> tuple[str, str]:
    try:
        out, err = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"the worker did not finish:\n{err[-3000:]}")
    assert process.returncode == 0, err[-3000:]
    return out, err


def _applied_by(stderr: str) -> int:
    """What the worker's own log says its sweeps applied."""
    total = 0
    for line in stderr.splitlines():
        if line.startswith("{") and '"deadline rules applied"' in line:
            total += json.loads(line)["applied"]
    return total


def _assert_each_rule_once(state: dict, n: int, rule: str, status: str) -> None:
    assert state["requests"] == n
    assert state["statuses"] == {status: n}
    for metric in ("actions", "ficta_events", "resolved_events", "certificates", "file_copies", "notices"):
        assert state[metric] == [1] * n, (metric, state[metric])
    assert state["rules"] == [rule] * n


def test_worker_killed_mid_sweep_and_restarted_applies_each_rule_once(shared):
    seeded = shared.call("seed_due_requests", n=REQUESTS, ficta="afirmativa")
    assert len(seeded["ids"]) == REQUESTS
    first = shared.worker("--once", "--id", "deadline-worker-1")
    deadline = time.monotonic() + TIMEOUT
    while shared.applied_rules() == 0:
        if first.poll() is not None:
            pytest.fail("the worker ended before applying anything:\n" + first.stderr.read()[-3000:])
        assert time.monotonic() < deadline, "the worker never applied a rule"
        time.sleep(0.005)
    first.send_signal(signal.SIGKILL)  # mid-sweep, possibly mid-transaction
    first.wait(timeout=30)
    killed = shared.call("sweep_jobs")
    assert [(j["state"], j["attempts"], j["locked_by"]) for j in killed] == [("running", 1, "deadline-worker-1")]

    # The same worker restarted: it takes its sweep back at once and finishes it.
    out, err = _finish(shared.worker("--once", "--id", "deadline-worker-1"))
    by_restart = _applied_by(err)
    assert 0 < by_restart < REQUESTS, f"the kill should land mid-sweep (the restart applied {by_restart})"
    assert shared.applied_rules() == REQUESTS
    _assert_each_rule_once(shared.call("deadline_state", ids=seeded["ids"]), REQUESTS, "afirmativa_ficta",
                           "approved_ficta")
    jobs = shared.call("sweep_jobs")
    assert [(j["state"], j["attempts"]) for j in jobs] == [("done", 2)]


def test_two_workers_sweeping_at_once_apply_each_rule_once(shared):
    seeded = shared.call("seed_due_requests", n=REQUESTS, ficta="negativa")
    shared.call("enqueue_sweeps", count=2)
    workers = [shared.worker("--once", "--no-schedule", "--id", f"pair-{i}") for i in (1, 2)]
    outputs = [_finish(w) for w in workers]
    # Between them the two sweeps applied every rule once (each worker's log says how many it did).
    assert sum(_applied_by(err) for _out, err in outputs) == REQUESTS
    _assert_each_rule_once(shared.call("deadline_state", ids=seeded["ids"]), REQUESTS, "negativa_ficta",
                           "denied_ficta")
    assert [j["state"] for j in shared.call("sweep_jobs")] == ["done", "done"]


def test_sigterm_mid_sweep_finishes_the_sweep_then_stops(shared):
    seeded = shared.call("seed_due_requests", n=REQUESTS // 2, ficta="afirmativa")
    worker = shared.worker("--id", "graceful")  # a long-running worker, not --once
    deadline = time.monotonic() + TIMEOUT
    while shared.applied_rules() == 0:
        if worker.poll() is not None:
            pytest.fail("the worker ended before applying anything:\n" + worker.stderr.read()[-3000:])
        assert time.monotonic() < deadline, "the worker never applied a rule"
        time.sleep(0.005)
    worker.send_signal(signal.SIGTERM)
    _finish(worker)
    _assert_each_rule_once(shared.call("deadline_state", ids=seeded["ids"]), REQUESTS // 2, "afirmativa_ficta",
                           "approved_ficta")
    assert [j["state"] for j in shared.call("sweep_jobs")] == ["done"]


# --- What the tests write into and read from the shared database (JSON in, JSON out) -----------------

def seed_due_requests(n: int, ficta: str) -> dict:
    """The business licence online (its catalogue entry with `ficta`), and `n` requests in review
    whose 3-business-day term ended in January 2026."""
    import datetime as dt

    from tests.catalog_fixtures import complete_data
    from tests.procedures_fixtures import LICENCE_PAGES, demo_spec
    from ventanilla.catalog import services as catalog
    from ventanilla.identity.models import User
    from ventanilla.organization.models import Department, Office
    from ventanilla.procedures import services
    from ventanilla.procedures.models import Request, Status

    department = Department.objects.get_or_create(
        slug="desarrollo-economico", defaults={"name": "Dirección General de Desarrollo Económico", "acronym": "DGDE"})[0]
    Department.objects.get_or_create(slug="proteccion-civil", defaults={"name": "Protección Civil", "acronym": "PC"})
    office = Office.objects.get_or_create(department=department, name="Ventanilla Universal",
                                          defaults={"address": "Av. Allende 333 Ote., Centro", "hours": "8:00 a 15:00"})[0]
    ine = catalog.upsert_document_type(code="INE", name="Identificación oficial vigente", issuer="INE / SRE")
    catalog.upsert_document_type(code="COMPROBANTE_DOMICILIO", name="Comprobante de domicilio")
    catalog.upsert_document_type(code="USO_SUELO", name="Factibilidad de uso de suelo", held_by_city=True)
    event = catalog.upsert_life_event(slug="negocios", name="Negocios y emprendimiento", order=1)
    procedure = catalog.create_procedure(
        by=None,
        data=complete_data(department, clave="TOR-DGDE-001", name="Licencia de funcionamiento para negocio de bajo impacto",
                           cost_kind="fixed", cost_amount_centavos=82000, response_days=3, ficta=ficta,
                           correction_days=5),
        requirements=[{"document_type": ine, "detail": "Credencial para votar", "copies": 1}],
        offices=[office], life_events=[event],
    )
    procedure = catalog.publish(procedure, None)
    definition = services.get_or_create_definition(procedure)
    services.save_draft_spec(definition, demo_spec("TOR-DGDE-001"), by=None)
    services.publish_definition(definition, by=None)
    definition.refresh_from_db()

    applicants = [
        User.objects.create_user(email=f"solicitante{i}@example.mx", password=None, given_names="Lucía",
                                 first_surname="Treviño", second_surname=f"Salas{i}")
        for i in range(5)
    ]
    # The answers of a complete form, through the services; then the requests as submission leaves them.
    draft = services.start_draft(definition, applicant=applicants[0])
    for page, data in LICENCE_PAGES.items():
        assert services.save_page(draft, page, data).ok
    draft.refresh_from_db()
    answers = draft.answers
    draft.delete()
    submitted = dt.datetime(2026, 1, 12, 16, 0, tzinfo=dt.UTC)
    requests = Request.objects.bulk_create([
        Request(version=definition.published_version, procedure=procedure, department=department,
                applicant=applicants[i % len(applicants)], status=Status.IN_REVIEW, answers=answers,
                folio=f"TRC-2026-{9000000 + i:07d}", fee_centavos=82000, created_at=submitted,
                submitted_at=submitted, due_date=dt.date(2026, 1, 15))
        for i in range(n)
    ])
    ids = sorted(Request.objects.filter(folio__startswith="TRC-2026-9").values_list("pk", flat=True))
    assert len(ids) == n == len(requests)
    return {"ids": ids}


def enqueue_sweeps(count: int) -> list[str]:
    from ventanilla.core import jobs

    return [jobs.enqueue("procedures.deadline_sweep") for _ in range(count)]


def sweep_jobs() -> list[dict]:
    from ventanilla.core.models import Job

    return [
        {"state": j.state, "attempts": j.attempts, "locked_by": j.locked_by, "error": j.last_error[-500:]}
        for j in Job.objects.filter(name="procedures.deadline_sweep").order_by("pk")
    ]


def deadline_state(ids: list[int]) -> dict:
    """Per request (in `ids` order): how many of each trace the deadline rule left."""
    from collections import Counter

    from ventanilla.documents.models import IssuedDocument
    from ventanilla.files.models import ResidentDocument
    from ventanilla.notifications.models import Notification
    from ventanilla.procedures.models import DeadlineAction, EventKind, Request, RequestEvent
    from ventanilla.procedures.services import source_ref

    requests = {r.pk: r for r in Request.objects.filter(pk__in=ids)}
    ordered = [requests[pk] for pk in ids]
    refs = [source_ref(r) for r in ordered]
    documents = IssuedDocument.objects.filter(source_ref__in=refs)
    issued = Counter(documents.values_list("source_ref", flat=True))
    public_by_ref = dict(documents.values_list("source_ref", "public_id"))
    copies = Counter(ResidentDocument.objects.filter(issued_document__in=list(public_by_ref.values()))
                     .values_list("issued_document", flat=True))
    notices = Counter(Notification.objects.filter(key__contains=":resolved:").values_list("key", flat=True))
    actions = Counter(DeadlineAction.objects.filter(request_id__in=ids).values_list("request_id", flat=True))
    rules = dict(DeadlineAction.objects.filter(request_id__in=ids).values_list("request_id", "rule"))

    def events(kind):
        return Counter(RequestEvent.objects.filter(request_id__in=ids, kind=kind).values_list("request_id", flat=True))

    ficta, resolved = events(EventKind.FICTA), events(EventKind.RESOLVED)
    return {
        "requests": len(ordered),
        "statuses": dict(Counter(r.status for r in ordered)),
        "actions": [actions[pk] for pk in ids],
        "rules": [rules.get(pk) for pk in ids],
        "ficta_events": [ficta[pk] for pk in ids],
        "resolved_events": [resolved[pk] for pk in ids],
        "certificates": [issued[ref] for ref in refs],
        "file_copies": [copies[public_by_ref[ref]] if ref in public_by_ref else 0 for ref in refs],
        "notices": [sum(c for k, c in notices.items() if k.startswith(f"request:{r.public_id}:resolved:")) for r in ordered],
    }
