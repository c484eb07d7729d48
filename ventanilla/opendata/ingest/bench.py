"""A big resource for benchmarks and load tests, built through the real ingestion path."""

from __future__ import annotations

import os
import tempfile
import time


def build_resource(rows: int = 1_000_000, *, department=None, name: str = "infracciones-bench"):
    """Creates a dataset with one resource: the demo's traffic-fines CSV with `rows` rows (about
    107 bytes a row), loaded by `services.create_resource` exactly as an upload would be.
    Returns `(resource, load_seconds, csv_path)`; the CSV stays on disk (in a temporary
    directory) so a benchmark can time the engine's own import of the same file."""
    from ..demo import fines_csv
    from ..services import create_dataset, create_resource

    if department is None:
        from ventanilla.organization.services import upsert_department

        department = upsert_department(slug="transito-vialidad", name="Dirección de Tránsito y Vialidad")
    path = os.path.join(tempfile.mkdtemp(prefix="ventanilla-ds-"), "infracciones.csv")
    source = fines_csv(rows)
    with open(path, "wb") as out:
        for chunk in iter(lambda: source.read(1024 * 1024), b""):
            out.write(chunk)
    source.close()
    dataset = create_dataset(by=None, data={"owner_org": department, "name": name,
                                            "title": f"Infracciones ({rows:,} filas)"})
    started = time.perf_counter()
    with open(path, "rb") as upload:
        resource = create_resource(dataset, by=None, data={"name": "Infracciones"}, upload=upload,
                                   filename="infracciones.csv")
    elapsed = time.perf_counter() - started
    resource.refresh_from_db()  # create_resource returns the row as it was before the version
    return resource, elapsed, path
