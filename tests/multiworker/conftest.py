"""A real deployment in miniature: one shared database, one shared media folder, and gunicorn with
three worker processes in front of it.

PostgreSQL: the workers use the test database pytest-django created (the `transactional_db`
fixture commits what the test writes). SQLite: the test settings use an in-memory database that no
other process can open, so a FILE database is migrated once per session in a subprocess and copied
for each test; everything the test writes there goes through `SharedDatabase.call`, which runs the
same functions (below) in a subprocess against that file.

The functions at the end of this module are what the test writes into the shared database. They
take and return plain JSON values so they can run in this process or in a subprocess alike.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 3
SECRET_KEY = "multiworker-" + uuid.uuid4().hex  # the same for every worker and subprocess
SUBPROCESS_TIMEOUT = 60


def _base_env(var_dir: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VENTANILLA_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.update({
        "DJANGO_SETTINGS_MODULE": "ventanilla.settings",
        "VENTANILLA_ENV": "development",
        "VENTANILLA_DEBUG": "0",
        "VENTANILLA_ALLOWED_HOSTS": "127.0.0.1",
        "VENTANILLA_VAR_DIR": str(var_dir),
        "VENTANILLA_MEDIA_ROOT": str(var_dir / "media"),
        "VENTANILLA_SECRET_KEY": SECRET_KEY,
        "VENTANILLA_LOG_LEVEL": "WARNING",
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(ROOT),
        "NO_PROXY": "127.0.0.1,localhost",
    })
    return env


def _postgres_url(settings_dict: dict) -> str:
    user = quote(settings_dict.get("USER") or "", safe="")
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or "5432"
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


@dataclass
class SharedDatabase:
    """The database and folders every worker and subprocess shares."""

    vendor: str
    var_dir: Path
    env: dict[str, str]

    def call(self, function: str, **kwargs):
        """Runs one of this module's seed functions against the shared database: in this process on
        PostgreSQL (the test database is shared), in a subprocess against the file on SQLite."""
        if self.vendor == "postgresql":
            return json.loads(json.dumps(globals()[function](**kwargs)))
        script = (
            "import json, sys, django; django.setup(); "
            "from tests.multiworker import conftest; "
            f"print(json.dumps(conftest.{function}(**json.loads(sys.argv[1]))))"
        )
        done = subprocess.run([sys.executable, "-c", script, json.dumps(kwargs)], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT)


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory) -> Path:
    """A migrated SQLite file, built once per session (in a subprocess: the real settings)."""
    folder = tmp_path_factory.mktemp("multiworker-template")
    path = folder / "db.sqlite3"
    env = _base_env(folder, f"sqlite:///{path}")
    done = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT)
    assert done.returncode == 0, done.stderr[-3000:]
    # One self-contained file to copy (no -wal / -shm beside it).
    import sqlite3

    with sqlite3.connect(path) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.execute("PRAGMA journal_mode=DELETE")
    return path


@pytest.fixture
def shared_db(transactional_db, tmp_path, request) -> SharedDatabase:
    from django.db import connection

    var_dir = tmp_path / "var"
    (var_dir / "media").mkdir(parents=True)
    if connection.vendor == "postgresql":
        url = _postgres_url(connection.settings_dict)
        request.getfixturevalue("settings").MEDIA_ROOT = var_dir / "media"
    elif connection.vendor == "sqlite":
        path = var_dir / "db.sqlite3"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite_file"), path)
        url = f"sqlite:///{path}"
    else:  # pragma: no cover - the platform supports these two engines
        pytest.fail(f"unsupported engine {connection.vendor}")
    return SharedDatabase(vendor=connection.vendor, var_dir=var_dir, env=_base_env(var_dir, url))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    access_log: Path
    error_log: Path
    app_log: Path
    _pids_by_id: dict[str, int] = field(default_factory=dict)

    def worker_pids(self) -> set[int]:
        """The pids of the worker processes the arbiter started (from its log)."""
        return {int(p) for p in re.findall(r"Booting worker with pid: (\d+)", self.error_log.read_text())}

    def pid_for(self, request_id: str, wait: float = 5.0) -> int:
        """Which worker served the request with this X-Request-ID (from gunicorn's access log)."""
        deadline = time.monotonic() + wait
        while True:
            if request_id not in self._pids_by_id:
                for line in self.access_log.read_text().splitlines():
                    parts = line.split(" ", 3)
                    if len(parts) >= 2:
                        self._pids_by_id[parts[1]] = int(parts[0].strip("<>"))  # %(p)s is <pid>
            if request_id in self._pids_by_id:
                return self._pids_by_id[request_id]
            if time.monotonic() > deadline:
                raise AssertionError(f"request {request_id} is not in gunicorn's access log")
            time.sleep(0.05)

    def access_statuses(self) -> list[int]:
        return [int(line.split(" ", 3)[2]) for line in self.access_log.read_text().splitlines() if line.strip()]


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # graceful shutdown of the arbiter and its workers
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the process group this fixture created
        process.wait(timeout=10)


@pytest.fixture
def server(shared_db: SharedDatabase) -> Server:
    """gunicorn with several workers over the shared database; always stopped afterwards."""
    import requests

    port = _free_port()
    logs = shared_db.var_dir.parent
    access_log, error_log = logs / "access.log", logs / "gunicorn.log"
    command = [
        sys.executable, "-m", "gunicorn", "ventanilla.wsgi:application",
        "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}",
        "--timeout", "60", "--graceful-timeout", "5",
        "--access-logfile", str(access_log),
        "--access-logformat", "%(p)s %({x-request-id}i)s %(s)s %(m)s %(U)s",
        "--error-logfile", str(error_log), "--log-level", "info",
    ]
    app_log = logs / "workers.log"  # the platform's own JSON log lines (stderr of the workers)
    with app_log.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=shared_db.env, stdout=output, stderr=output,
                                   start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 40
        session = requests.Session()
        session.trust_env = False
        while True:
            if process.poll() is not None:
                pytest.fail("gunicorn exited at start:\n" + error_log.read_text()[-3000:])
            try:
                if session.get(f"{url}/health", timeout=5).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                # The master accepts at once, but a busy machine (CI runs a test process per core)
                # can take longer than the timeout to boot the first worker that answers.
                pass
            if time.monotonic() > deadline:
                pytest.fail("gunicorn did not answer /health in time:\n" + error_log.read_text()[-3000:])
            time.sleep(0.2)
        # Every worker has booted (they answer as soon as they accept).
        while len({int(p) for p in re.findall(r"Booting worker with pid: (\d+)", error_log.read_text())}) < WORKERS:
            if time.monotonic() > deadline:
                pytest.fail("not every worker booted:\n" + error_log.read_text()[-3000:])
            time.sleep(0.1)
        yield Server(url=url, process=process, access_log=access_log, error_log=error_log, app_log=app_log)
    finally:
        _stop(process)


# --- What the test writes into the shared database (JSON in, JSON out) --------------------------------

def seed_publisher() -> dict:
    """Two departments, a data publisher in both, and the publisher's API token."""
    from ventanilla.identity.models import Membership, Role, User
    from ventanilla.opendata import services
    from ventanilla.organization.services import upsert_department

    departments = [
        upsert_department(slug="desarrollo-economico", name="Dirección General de Desarrollo Económico",
                          acronym="DGDE"),
        upsert_department(slug="servicios-publicos", name="Dirección de Servicios Públicos", acronym="DSP"),
    ]
    user = User.objects.create_user(email="publicador@torreon.gob.mx", password=None, given_names="Lucía",
                                     first_surname="Treviño", is_official=True)
    for department in departments:
        Membership.objects.create(user=user, department=department, role=Role.DATA_PUBLISHER)
    return {"token": services.create_token(user, "varios trabajadores")[1],
            "organizations": [d.slug for d in departments]}


def database_counts() -> dict:
    """What the database itself holds, to compare with what the workers answer."""
    from ventanilla.audit.models import AuditEntry
    from ventanilla.opendata.models import Dataset, Resource

    public = Dataset.objects.filter(state=Dataset.State.ACTIVE, private=False)
    by_org: dict[str, int] = {}
    for slug in public.values_list("organization__slug", flat=True):
        by_org[slug] = by_org.get(slug, 0) + 1
    return {
        "public_datasets": public.count(),
        "by_organization": by_org,
        "resources": {d.name: Resource.objects.filter(dataset=d).count() for d in public},
        "audit_entries": AuditEntry.objects.count(),
        "audit_actions": sorted(AuditEntry.objects.values_list("action", flat=True)),
    }


def _catalogue_basics():
    from ventanilla.catalog.services import upsert_document_type, upsert_life_event
    from ventanilla.organization.models import Office
    from ventanilla.organization.services import upsert_department

    department = upsert_department(slug="desarrollo-economico", name="Dirección General de Desarrollo Económico",
                                   acronym="DGDE")
    office = Office.objects.get_or_create(department=department, name="Ventanilla Universal",
                                          defaults={"address": "Av. Allende 333 Ote., Centro", "hours": "8:00 a 15:00"})[0]
    document = upsert_document_type(code="INE", name="Identificación oficial vigente", issuer="INE / SRE")
    event = upsert_life_event(slug="negocios", name="Negocios y emprendimiento", order=1)
    return department, office, document, event


def publish_procedure(name: str, clave: str) -> dict:
    """Creates and publishes a procedure through the catalogue's services (bumps the revision)."""
    from tests.catalog_fixtures import complete_data
    from ventanilla.catalog import services

    department, office, document, event = _catalogue_basics()
    procedure = services.create_procedure(
        by=None, data=complete_data(department, name=name, clave=clave),
        requirements=[{"document_type": document, "detail": "Credencial para votar", "copies": 1}],
        offices=[office], life_events=[event],
    )
    procedure = services.publish(procedure, None)
    return {"clave": procedure.clave, "revision": list(services.current_revision())}


def withdraw_procedure(clave: str) -> dict:
    from ventanilla.catalog import services
    from ventanilla.catalog.models import Procedure

    services.withdraw(Procedure.objects.get(clave=clave), None, "Ya no se presta este servicio.")
    return {"revision": list(services.current_revision())}
