"""Acceptance 7 of the open data portal: the platform works with several web workers at once.

gunicorn runs three worker processes over one shared database (a SQLite file, or the PostgreSQL
test database) and one shared media folder. A thread pool drives them concurrently over loopback:
uploads into several datasets, racing creations of the same dataset, and reads (CKAN API, portal
pages, health) while the writes happen. Afterwards every upload must be queryable from every worker,
the API's counts must match the database, and the audit chain must verify. gunicorn's access log
records which worker (pid) served each request id, so "from every worker" is checked, not assumed.
"""

from __future__ import annotations

import itertools
import multiprocessing
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

from .conftest import WORKERS, Server, SharedDatabase

THREADS = 6
DATASETS = ["alumbrado-colonias", "parques-plazas", "wifi-publico", "agua-tratada"]
UPLOADS_PER_DATASET = 2


class Client:
    """A loopback HTTP client that remembers every response (to assert no 5xx anywhere)."""

    def __init__(self, server: Server, token: str | None = None):
        self.server, self.token = server, token
        self.responses: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()
        self._local = threading.local()
        self._ids = itertools.count(1)
        self._run = uuid.uuid4().hex[:8]

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            session = requests.Session()
            session.trust_env = False  # loopback only, never a proxy
            self._local.session = session
        return self._local.session

    def request(self, method: str, path: str, *, auth: bool = False, **kwargs) -> requests.Response:
        request_id = f"mw-{self._run}-{next(self._ids):05d}"
        headers = {"X-Request-ID": request_id, **kwargs.pop("headers", {})}
        if auth:
            headers["Authorization"] = self.token
        response = self._session().request(method, self.server.url + path, headers=headers, timeout=60, **kwargs)
        response.request_id = request_id
        with self._lock:
            self.responses.append((method, path, response.status_code))
        return response

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def action(self, name: str, *, auth: bool = False, **kwargs) -> requests.Response:
        method = "POST" if auth or "files" in kwargs or "json" in kwargs else "GET"
        return self.request(method, f"/api/3/action/{name}", auth=auth, **kwargs)

    def server_errors(self) -> list[tuple[str, str, int]]:
        return [r for r in self.responses if r[2] >= 500]


def _csv(dataset: str, n: int) -> bytes:
    """A small CSV whose rows say which dataset and upload they belong to."""
    rows = ["folio,colonia,valor,fecha"]
    colonias = ["Centro", "Torreón Jardín", "Nazas", "Campestre La Rosita"]
    for i in range(1, 21 + n):
        rows.append(f"{i},{colonias[i % 4]},{i * 10 + n},2025-{1 + i % 12:02d}-{1 + i % 28:02d}")
    return ("\n".join(rows) + "\n").encode()


def _rows(n: int) -> int:
    return 20 + n


def _served_by_every_worker(server: Server, client: Client, make_request, check, *, rounds: int = 8) -> set[int]:
    """Sends rounds of WORKERS simultaneous requests (so they land on different workers) until each
    worker has answered one; every answer is checked. Returns the pids that answered."""
    pids: set[int] = set()
    with ThreadPoolExecutor(WORKERS) as pool:
        for _ in range(rounds):
            barrier = threading.Barrier(WORKERS)

            def one(_):
                barrier.wait(timeout=30)
                return make_request()

            for response in pool.map(one, range(WORKERS)):
                check(response)
                pids.add(server.pid_for(response.request_id))
            if len(pids) == WORKERS:
                break
    return pids


def test_open_data_with_concurrent_writes_and_reads(shared_db: SharedDatabase, server: Server):
    seeded = shared_db.call("seed_publisher")
    client = Client(server, seeded["token"])
    orgs = seeded["organizations"]

    # Datasets in two organisations, created concurrently; a first resource to read during the writes.
    with ThreadPoolExecutor(THREADS) as pool:
        created = list(pool.map(
            lambda i: client.action("package_create", auth=True, json={
                "name": DATASETS[i], "title": f"Conjunto {DATASETS[i].replace('-', ' ')}",
                "owner_org": orgs[i % 2], "tags": [{"name": "prueba"}]}),
            range(len(DATASETS))))
    assert [r.status_code for r in created] == [200] * len(DATASETS), [r.text for r in created]
    first = client.action("resource_create", auth=True, data={"package_id": DATASETS[0], "name": "Base"},
                          files={"upload": ("base.csv", _csv(DATASETS[0], 0), "text/csv")})
    assert first.status_code == 200, first.text
    base_id = first.json()["result"]["id"]

    # Writes and reads at the same time.
    racing = 5
    barrier = threading.Barrier(racing)

    def race_duplicate(_):
        barrier.wait(timeout=30)
        return client.action("package_create", auth=True, json={
            "name": "duplicado", "title": "El mismo conjunto", "owner_org": orgs[0],
            "tags": [{"name": "carrera"}, {"name": "prueba"}]})  # a new tag, created by every racer at once

    def upload(job):
        dataset, n = job
        return dataset, n, client.action(
            "resource_create", auth=True, data={"package_id": dataset, "name": f"Versión {n}"},
            files={"upload": (f"{dataset}-{n}.csv", _csv(dataset, n), "text/csv")})

    reads = [
        lambda: client.action("package_search", params={"q": "conjunto", "facet.field": '["organization"]'}),
        lambda: client.action("datastore_search", params={"resource_id": base_id, "filters": '{"colonia": "Centro"}',
                                                          "sort": "valor desc"}),
        lambda: client.action("datastore_search_sql", params={"sql": f'SELECT COUNT(*) AS n FROM "{base_id}"'}),
        lambda: client.get("/"),
        lambda: client.get("/datos/"),
        lambda: client.get(f"/datos/{DATASETS[0]}/"),
        lambda: client.get("/health"),
    ]
    uploads_jobs = [(d, n) for d in DATASETS for n in range(1, UPLOADS_PER_DATASET + 1)]
    with ThreadPoolExecutor(THREADS) as pool:
        duplicates = [pool.submit(race_duplicate, i) for i in range(racing)]
        uploads = [pool.submit(upload, job) for job in uploads_jobs]
        during = [pool.submit(reads[i % len(reads)]) for i in range(3 * len(reads))]
        duplicates = [f.result() for f in duplicates]
        uploads = [f.result() for f in uploads]
        during = [f.result() for f in during]

    # Exactly one creation of the same name succeeds; the others get CKAN's 409 Validation Error.
    statuses = sorted(r.status_code for r in duplicates)
    assert statuses == [200] + [409] * (racing - 1), [r.text for r in duplicates]
    for response in duplicates:
        body = response.json()
        if response.status_code == 409:
            assert body["success"] is False and body["error"]["__type"] == "Validation Error"
            assert "name" in body["error"]

    for dataset, n, response in uploads:
        assert response.status_code == 200, response.text
        assert response.json()["result"]["datastore_active"] is True
    for response in during:
        assert response.status_code == 200, (response.url, response.text[:500])
    base_rows = [r for r in during if "datastore_search?" in r.url and "sql" not in r.url]
    assert all(r.json()["result"]["total"] == 5 for r in base_rows)  # 20 rows, every fourth in Centro
    sql_rows = [r for r in during if "datastore_search_sql" in r.url]
    assert all(r.json()["result"]["records"] == [{"n": 20}] for r in sql_rows)

    # Every upload is queryable from every worker, with its own rows.
    all_pids: set[int] = set()
    for dataset, n, response in uploads:
        resource_id = response.json()["result"]["id"]

        def query(resource_id=resource_id):
            return client.action("datastore_search", params={"resource_id": resource_id, "sort": "folio desc",
                                                             "limit": 3})

        def check(answer, n=n):
            assert answer.status_code == 200, answer.text
            result = answer.json()["result"]
            assert result["total"] == _rows(n)
            assert [r["folio"] for r in result["records"]] == [_rows(n), _rows(n) - 1, _rows(n) - 2]
            assert result["records"][0]["valor"] == _rows(n) * 10 + n

        pids = _served_by_every_worker(server, client, query, check)
        assert len(pids) == WORKERS, f"{dataset} v{n} was only read by workers {pids}"
        all_pids |= pids
    assert all_pids == server.worker_pids()

    # The uploaded files themselves are in the shared media folder: any worker serves them.
    package = client.action("package_show", params={"id": DATASETS[1]}).json()["result"]
    for resource in package["resources"]:
        path = resource["url"].split("127.0.0.1", 1)[1].split(":", 1)[1].split("/", 1)[1]
        n = int(resource["name"].rsplit(" ", 1)[1])
        download = client.get("/" + path)
        assert download.status_code == 200 and download.content == _csv(DATASETS[1], n)

    # The API's counts match the database.
    counts = shared_db.call("database_counts")
    search = client.action("package_search", params={"rows": 0, "facet.field": '["organization"]'}).json()["result"]
    assert search["count"] == counts["public_datasets"] == len(DATASETS) + 1
    assert search["facets"]["organization"] == counts["by_organization"]
    assert sorted(client.action("package_list").json()["result"]) == sorted(counts["resources"])
    for name, number in counts["resources"].items():
        shown = client.action("package_show", params={"id": name}).json()["result"]
        assert shown["num_resources"] == number
    assert counts["resources"][DATASETS[0]] == 1 + UPLOADS_PER_DATASET
    # One audit entry per successful write (the failed duplicates left none behind).
    actions = counts["audit_actions"]
    assert actions.count("opendata.dataset_create") == len(DATASETS) + 1

    # The audit chain verifies after concurrent appends from three processes.
    verified = shared_db.manage("audit_verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr

    # No server error anywhere: not in our responses, not in gunicorn's log, no worker restarted.
    assert client.server_errors() == []
    assert all(status < 500 for status in server.access_statuses())
    log = server.error_log.read_text()
    assert "WORKER TIMEOUT" not in log and "Traceback" not in log
    app_log = server.app_log.read_text()
    assert '"level": "ERROR"' not in app_log and "Traceback" not in app_log, app_log[-3000:]
    assert len(server.worker_pids()) == WORKERS


def test_catalogue_change_reaches_every_worker(shared_db: SharedDatabase, server: Server):
    client = Client(server)
    clave = "TOR-MW-001"
    marker = f"/tramites/{clave}/"

    def search():
        return client.get("/tramites/", params={"q": "zarzamora"})

    def absent(response):
        assert response.status_code == 200 and marker not in response.text

    def present(response):
        assert response.status_code == 200 and marker in response.text
        assert "Permiso para vender zarzamora" in response.text

    # Every worker builds its search index before the change...
    assert len(_served_by_every_worker(server, client, search, absent)) == WORKERS
    # ...a procedure is published through the catalogue's services (another process than the workers)...
    shared_db.call("publish_procedure", name="Permiso para vender zarzamora en la vía pública", clave=clave)
    assert len(_served_by_every_worker(server, client, search, present)) == WORKERS
    # ...and withdrawn: no worker keeps showing it.
    shared_db.call("withdraw_procedure", clave=clave)
    assert len(_served_by_every_worker(server, client, search, absent)) == WORKERS
    assert client.server_errors() == []


def test_every_worker_signs_with_the_same_key(shared_db: SharedDatabase, server: Server):
    """The workers start at once with no key configured (development): exactly one generates the
    OpenID Connect signing key into the shared folder and every worker publishes that same key."""
    client = Client(server)
    keys = []

    def check(response):
        assert response.status_code == 200, response.text
        keys.append(response.json()["keys"])

    pids = _served_by_every_worker(server, client, lambda: client.get("/o/.well-known/jwks.json"), check)
    assert len(pids) == WORKERS
    assert keys[0] and all(k == keys[0] for k in keys), keys
    assert client.server_errors() == []


def _read_signing_key(key_path: str, barrier, queue) -> None:
    """A freshly started worker process loading the signing key (spawned: no Django set up yet)."""
    from django.conf import settings

    settings.configure(OIDC_KEY_PATH=key_path, PRODUCTION=False)
    from ventanilla.identity import oidc_keys

    barrier.wait(timeout=30)
    queue.put(oidc_keys.load_private_key_pem())


def test_workers_starting_in_the_same_instant_read_one_complete_key(tmp_path):
    """The race gunicorn's workers run at start-up, made exact with a barrier: one key, never an
    empty or half-written file read by a worker that lost the race."""
    context = multiprocessing.get_context("spawn")
    key_path = tmp_path / "var" / "oidc_rsa.pem"
    barrier, queue = context.Barrier(WORKERS), context.Queue()
    processes = [context.Process(target=_read_signing_key, args=(str(key_path), barrier, queue))
                 for _ in range(WORKERS)]
    for process in processes:
        process.start()
    try:
        keys = [queue.get(timeout=60) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    assert keys[0].startswith("-----BEGIN PRIVATE KEY-----")
    assert keys == [key_path.read_text()] * WORKERS
    assert [p.name for p in key_path.parent.iterdir()] == ["oidc_rsa.pem"]  # no temporary file left
