"""Per-connection engine settings for the datastore's query patterns.

SQLite's defaults are sized for small embedded databases: a 2 MB page cache per connection, no
memory mapping and temporary b-trees on disk. Datastore tables hold millions of rows, and a count
with filters or a sort visits tens of thousands of pages, so every new SQLite connection gets a
larger cache, a read-only memory map of the file (the OS shares those pages between connections)
and in-memory temporary storage (for ORDER BY and DISTINCT). PostgreSQL needs nothing here."""

from __future__ import annotations

SQLITE_PRAGMAS = (
    "PRAGMA cache_size = -65536",  # KiB: 64 MB of page cache per connection
    "PRAGMA mmap_size = 1073741824",  # map up to 1 GB of the database file
    "PRAGMA temp_store = MEMORY",
)


def tune_connection(sender, connection, **kwargs) -> None:
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
