"""The queue reads a page, not the department: on PostgreSQL with 30,000 requests, EXPLAIN ANALYZE
of every query behind a page must show the requests and steps tables read through indexes, a
few rows at a time. Counted in rows read (not in time), so the test does not depend on the speed
of the machine. docs/procedures.md has the measurements with 200,000 requests."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ventanilla.procedures.queues import DeadlineState, QueueFilters, Tab, department_queue

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="query plans are PostgreSQL's"),
    pytest.mark.django_db,
]

REQUESTS = 30_000
TODAY = dt.date(2026, 6, 10)
MAX_ROWS_READ = 3_000  # a tenth of the department; a page reads a few hundred at most


@pytest.fixture
def crowded(licence, make_resident):
    """30,000 licence requests of Desarrollo Económico: half open (one in ten waiting for a
    correction, without a due date), half resolved; each with its documentary step (active while
    open) and Protección Civil's (waiting, or approved once resolved)."""
    from ventanilla.organization.models import Department

    de = Department.objects.get(slug="desarrollo-economico")
    pc = Department.objects.get(slug="proteccion-civil")
    resident = make_resident()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO procedures_request (public_id, folio, version_id, procedure_id, department_id, applicant_id,
                channel, status, answers, current_page, created_at, updated_at, submitted_at, due_date, revision,
                resolution_text)
            SELECT md5('q' || g)::uuid, NULL, %s, %s, %s, %s,
                (ARRAY['online', 'counter', 'kiosk'])[1 + g %% 3],
                CASE WHEN g %% 2 = 0 THEN (CASE WHEN g %% 20 = 0 THEN 'correction' ELSE 'in_review' END)
                     ELSE (ARRAY['approved', 'rejected', 'awaiting_payment'])[1 + g %% 3] END,
                '{}', '', now(), now(), now(),
                CASE WHEN g %% 20 = 0 THEN NULL ELSE date '2026-06-10' + ((g * 7919) %% 120 - 60) END, 1, ''
            FROM generate_series(1, %s) g
            """,
            [licence.published_version_id, licence.procedure_id, de.pk, resident.pk, REQUESTS],
        )
        # Folios end in the request's number, as services._make_folio writes them.
        cursor.execute("UPDATE procedures_request SET folio = 'TRC-2026-' || lpad(id::text, 7, '0')")
        cursor.execute(
            """
            INSERT INTO procedures_requeststep (request_id, key, name, department_id, role, after, "order", status)
            SELECT id, 'revision_documental', 'Revisión documental', %s, 'reviewer', '[]'::jsonb, 0,
                CASE WHEN status IN ('in_review', 'correction') THEN 'active' ELSE 'approved' END
            FROM procedures_request
            UNION ALL
            SELECT id, 'proteccion_civil', 'Visto bueno', %s, 'reviewer', '["revision_documental"]'::jsonb, 1,
                CASE WHEN status IN ('in_review', 'correction') THEN 'waiting' ELSE 'approved' END
            FROM procedures_request
            """,
            [de.pk, pc.pk],
        )
        cursor.execute("ANALYZE procedures_request")
        cursor.execute("ANALYZE procedures_requeststep")
    return de, pc


def _rows_read(plan: dict) -> int:
    """Rows the plan read from the requests and steps tables (every loop counted)."""
    total = 0
    if plan.get("Relation Name") in ("procedures_request", "procedures_requeststep"):
        total += (plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)
                  + plan.get("Rows Removed by Index Recheck", 0)) * plan.get("Actual Loops", 1)
    return total + sum(_rows_read(child) for child in plan.get("Plans", []))


def _explain_page(official, **kwargs) -> list[tuple[int, str]]:
    with CaptureQueriesContext(connection) as ctx:
        page = department_queue(official, today=TODAY, **kwargs)
    read = []
    for query in ctx.captured_queries:
        if "procedures_request" not in query["sql"]:
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query["sql"])
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
        read.append((_rows_read(plan[0]["Plan"]), query["sql"][:300]))
    return page, read


def test_every_query_behind_a_page_reads_a_few_rows(crowded, make_official):
    from ventanilla.procedures.models import Request

    de, pc = crowded
    middle = Request.objects.order_by("pk").values_list("pk", flat=True)[REQUESTS // 2]
    de_reviewer = make_official("reviewer", department=de)
    pc_reviewer = make_official("reviewer", department=pc)
    scenarios = [
        (de_reviewer, QueueFilters()),
        (de_reviewer, QueueFilters(deadline=DeadlineState.OVERDUE)),
        (de_reviewer, QueueFilters(channel="counter", assignment="sin-asignar")),
        (de_reviewer, QueueFilters(status="correction")),
        (de_reviewer, QueueFilters(tab=Tab.ALL)),
        (de_reviewer, QueueFilters(tab=Tab.ALL, status="approved")),
        (de_reviewer, QueueFilters(tab=Tab.ALL, folio=str(middle))),
        (pc_reviewer, QueueFilters()),
        (pc_reviewer, QueueFilters(tab=Tab.ALL)),
    ]
    for official, filters in scenarios:
        page, read = _explain_page(official, filters=filters)
        assert page.rows or filters == QueueFilters() and official == pc_reviewer, filters
        pages = [("first", read)]
        if page.next_cursor:
            following, read_next = _explain_page(official, filters=filters, page=page.next_cursor)
            pages.append(("next", read_next))
            # Far into the queue and back: the cursor makes it no dearer.
            for _ in range(20):
                if following.next_cursor is None:
                    break
                following = department_queue(official, filters=filters, page=following.next_cursor, today=TODAY)
            if following.previous_cursor:
                pages.append(("previous", _explain_page(official, filters=filters, page=following.previous_cursor)[1]))
        for which, queries in pages:
            for rows, sql in queries:
                assert rows <= MAX_ROWS_READ, (filters, which, rows, sql)
