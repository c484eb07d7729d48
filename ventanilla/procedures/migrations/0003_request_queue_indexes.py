"""Indexes for the officials' queue (procedures.queues), which reads each (department, status)
stream — or, for "all my department's requests", each department's filed requests — in
(due_date, id) order straight from an index and stops after one page. Without `id` PostgreSQL had
to fetch and sort every request due on the same day (hundreds in a busy department) and every
request without a due date before returning the first row. Checked with EXPLAIN on 200,000
requests (docs/procedures.md, "Back office").

On PostgreSQL, multivariate statistics tell the planner how department, status and a missing due
date go together (a department's steps are mostly all active or all waiting; a request waiting
for a correction never has a due date). Without them it guessed tens of thousands of active steps
for a department that had none and read the whole table to confirm it."""

import django.db.models.deletion
from django.db import migrations, models

STATISTICS = [
    ("request_step_queue_stats", "department_id, status", "procedures_requeststep"),
    ("request_queue_stats", "department_id, status, (due_date IS NULL)", "procedures_request"),
]


def create_statistics(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    for name, columns, table in STATISTICS:
        if "(" in columns and connection.pg_version < 140000:  # statistics on expressions: PostgreSQL 14+
            columns = columns.split(", (")[0]
        schema_editor.execute(f"CREATE STATISTICS IF NOT EXISTS {name} (mcv, dependencies) ON {columns} FROM {table}")
        schema_editor.execute(f"ANALYZE {table}")


def drop_statistics(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _columns, _table in STATISTICS:
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ("organization", "0001_initial"),
        ("procedures", "0002_online_requests"),
    ]

    operations = [
        # The step's single-column department index duplicated the start of request_step_queue_idx
        # (department, status) and lured the planner into reading every step of a department to
        # find its few active ones.
        migrations.AlterField(
            model_name="requeststep",
            name="department",
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="organization.department"),
        ),
        migrations.RemoveIndex(model_name="request", name="request_queue_idx"),
        migrations.AddIndex(
            model_name="request",
            index=models.Index(fields=["department", "status", "due_date", "id"], name="request_queue_idx"),
        ),
        migrations.AddIndex(
            model_name="request",
            index=models.Index(fields=["department", "due_date", "id"], name="request_filed_queue_idx",
                               condition=models.Q(submitted_at__isnull=False)),
        ),
        migrations.RunPython(create_statistics, drop_statistics),
    ]
