"""The audit log is tamper-evident: any edit, deletion or reordering is found and named."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ventanilla.audit.models import AuditEntry
from ventanilla.audit.services import record, verify_chain

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain():
    return [record("test.action", subject_type="thing", subject_id=str(i), data={"i": i, "ñ": "sí"}) for i in range(6)]


def _raw_update(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_intact_chain_verifies(chain):
    report = verify_chain()
    assert report.ok and report.entries == 6 and report.head_seq == 6
    call_command("audit_verify")


def test_edited_entry_is_named(chain):
    _raw_update("UPDATE audit_auditentry SET action = %s WHERE seq = %s", ["test.forged", 3])
    report = verify_chain()
    assert report.problem.kind == "modified" and report.problem.seq == 3
    with pytest.raises(CommandError, match="#3"):
        call_command("audit_verify")


def test_edited_data_is_named(chain):
    _raw_update("UPDATE audit_auditentry SET data = %s WHERE seq = %s", ['{"i": 99}', 4])
    assert verify_chain().problem.seq == 4


def test_deleted_entry_is_named(chain):
    AuditEntry.objects.filter(seq=2).delete()
    report = verify_chain()
    assert report.problem.kind == "deleted" and report.problem.seq == 2


def test_deleted_tail_is_found(chain):
    AuditEntry.objects.filter(seq=6).delete()
    report = verify_chain()
    assert report.problem.kind == "truncated" and report.problem.seq == 6


def test_reordered_entries_are_named(chain):
    # Swap the sequence numbers of entries 3 and 4 (through a temporary value: seq is unique).
    _raw_update("UPDATE audit_auditentry SET seq = %s WHERE seq = %s", [-1, 3])
    _raw_update("UPDATE audit_auditentry SET seq = %s WHERE seq = %s", [3, 4])
    _raw_update("UPDATE audit_auditentry SET seq = %s WHERE seq = %s", [4, -1])
    report = verify_chain()
    assert report.problem.seq == 3
    with pytest.raises(CommandError, match="#3"):
        call_command("audit_verify")


def test_rewritten_history_fails_against_published_head(chain, capsys):
    call_command("audit_head")
    published = capsys.readouterr().out.strip()
    seq, digest = published.split(":")
    assert int(seq) == 6
    call_command("audit_verify", expect=published)
    # An attacker rewrites entry 6 and recomputes its hash and the head: the chain looks whole,
    # but no longer matches what was published.
    from ventanilla.audit.models import AuditHead
    from ventanilla.audit.services import entry_hash

    entry = AuditEntry.objects.get(seq=6)
    entry.action = "test.rewritten"
    entry.hash = entry_hash(entry)
    entry.save()
    AuditHead.objects.filter(pk=1).update(hash=entry.hash)
    assert verify_chain().ok
    with pytest.raises(CommandError, match="#6"):
        call_command("audit_verify", expect=published)
