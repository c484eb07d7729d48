"""What every benchmark shares: percentiles, and Django on a throw-away database (a temporary
SQLite file, or a new PostgreSQL database next to the one DATABASE_URL names, dropped at the end)."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1)))))
    return ordered[k]


def _drop_pg(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def temporary_django(prefix: str) -> Iterator[None]:
    """Sets up Django on its own database for the duration of the block."""
    tmp = tempfile.TemporaryDirectory(prefix=f"ventanilla-{prefix}-")
    os.environ["VENTANILLA_VAR_DIR"] = tmp.name
    url = os.environ.get("DATABASE_URL")
    name = None
    if url and url.startswith("postgres"):
        import psycopg

        base, _sep, _db = url.rpartition("/")
        name = f"bench_{prefix}_{os.getpid()}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = f"{base}/{name}"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp.name}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ventanilla.settings")
    # Production's behaviour: no DEBUG (which keeps every SQL statement in memory and logs it).
    os.environ.setdefault("VENTANILLA_DEBUG", "false")
    os.environ.setdefault("VENTANILLA_LOG_LEVEL", "WARNING")

    import django

    django.setup()
    try:
        yield
    finally:
        from django.db import connections

        connections.close_all()
        if name is not None:
            _drop_pg(url, name)
        tmp.cleanup()
