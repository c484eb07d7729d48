"""Acceptance: the unmodified `ckanapi` client pages to the end of a one-million-row resource
on a running server, and every row arrives exactly once, in order."""

from __future__ import annotations

import ckanapi
import pytest

from ventanilla.opendata.ingest.bench import build_resource

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 1_000_000
PAGE = 32_000  # CKAN's maximum page


def test_ckanapi_pages_to_the_end_of_a_million_rows(live_server):
    resource, _seconds, _path = build_resource(ROWS)
    client = ckanapi.RemoteCKAN(live_server.url)
    offset, seen, last_id, total = 0, 0, 0, None
    while True:
        page = client.action.datastore_search(
            resource_id=str(resource.id), limit=PAGE, offset=offset, fields=["_id"],
            include_total=total is None,
        )
        if total is None:
            total = page["total"]
        ids = [record["_id"] for record in page["records"]]
        if not ids:
            break
        assert ids[0] == last_id + 1 and ids == list(range(ids[0], ids[0] + len(ids)))
        last_id, seen, offset = ids[-1], seen + len(ids), offset + len(ids)
    assert total == ROWS and seen == ROWS and last_id == ROWS
