"""Public interface of the audit log: `record()` to append, `verify_chain()` to check it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone as dj_timezone

from ventanilla.core.http import client_ip

from .models import GENESIS_HASH, AuditEntry, AuditHead


def canonical_payload(
    *,
    seq: int,
    created_at: datetime,
    action: str,
    actor_id: int | None,
    actor_label: str,
    subject_type: str,
    subject_id: str,
    ip: str | None,
    request_id: str,
    data: dict[str, Any],
    prev_hash: str,
) -> bytes:
    """The exact bytes an entry's hash covers. Stable across databases and Python versions."""
    document = {
        "seq": seq,
        "created_at": created_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "action": action,
        "actor_id": actor_id,
        "actor_label": actor_label,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "ip": ip,
        "request_id": request_id,
        "data": data,
        "prev_hash": prev_hash,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(
        canonical_payload(
            seq=entry.seq,
            created_at=entry.created_at,
            action=entry.action,
            actor_id=entry.actor_id,
            actor_label=entry.actor_label,
            subject_type=entry.subject_type,
            subject_id=entry.subject_id,
            ip=entry.ip,
            request_id=entry.request_id,
            data=entry.data,
            prev_hash=entry.prev_hash,
        )
    ).hexdigest()


def record(
    action: str,
    *,
    actor: Any = None,
    subject: Any = None,
    subject_type: str = "",
    subject_id: str = "",
    data: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditEntry:
    """Append one entry. `actor` is a user (or None for the system or an anonymous visitor);
    `subject` any model instance, or give `subject_type`/`subject_id` directly. `data` must be
    JSON-serialisable and should never hold secrets (passwords, tokens)."""
    if subject is not None:
        subject_type = subject_type or subject._meta.label_lower
        subject_id = subject_id or str(subject.pk)
    actor_id = getattr(actor, "pk", None) if actor is not None and getattr(actor, "is_authenticated", False) else None
    actor_label = ""
    if actor_id is not None:
        actor_label = str(getattr(actor, "audit_label", None) or actor)[:200]
    # Round-trip through JSON so the stored value hashes the same after the database returns it.
    clean_data = json.loads(json.dumps(data or {}, default=str, ensure_ascii=False))
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
        entry = AuditEntry(
            seq=head.seq + 1,
            created_at=dj_timezone.now(),
            action=action[:64],
            actor_id=actor_id,
            actor_label=actor_label,
            subject_type=subject_type[:64],
            subject_id=str(subject_id)[:64],
            ip=client_ip(request),
            request_id=getattr(request, "request_id", "")[:64] if request is not None else "",
            data=clean_data,
            prev_hash=head.hash,
        )
        entry.hash = entry_hash(entry)
        entry.save(force_insert=True)
        head.seq, head.hash, head.updated_at = entry.seq, entry.hash, entry.created_at
        head.save(update_fields=["seq", "hash", "updated_at"])
    return entry


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    entry_id: int | None
    kind: str  # "modified" | "deleted" | "reordered" | "truncated" | "head"
    message: str


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head_seq: int
    head_hash: str
    problem: ChainProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def current_head() -> tuple[int, str]:
    head = AuditHead.objects.filter(pk=1).first()
    return (head.seq, head.hash) if head else (0, GENESIS_HASH)


def verify_chain(expect: tuple[int, str] | None = None) -> ChainReport:
    """Walk the whole log in order and report the first entry that was modified, deleted or
    reordered. `expect` is a (seq, hash) pair published earlier: the entry with that number must
    still carry that hash (this catches a rewrite of the log's tail together with its head)."""
    expected_seq = 1
    prev_hash = GENESIS_HASH
    count = 0
    problem: ChainProblem | None = None
    seen_expect = expect is None
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000):
        count += 1
        if problem is not None:
            continue
        stored_ok = entry_hash(entry) == entry.hash
        if entry.seq != expected_seq:
            if entry.seq > expected_seq:
                problem = ChainProblem(
                    expected_seq, None, "deleted",
                    f"Falta la entrada #{expected_seq}: fue eliminada (la siguiente es la #{entry.seq}).",
                )
            else:
                problem = ChainProblem(entry.seq, entry.pk, "reordered", f"La entrada #{entry.seq} está repetida o fuera de orden.")
            continue
        if not stored_ok:
            problem = ChainProblem(
                entry.seq, entry.pk, "modified",
                f"La entrada #{entry.seq} (id {entry.pk}) fue modificada: su contenido no coincide con su huella.",
            )
            continue
        if entry.prev_hash != prev_hash:
            problem = ChainProblem(
                entry.seq, entry.pk, "reordered",
                f"La entrada #{entry.seq} (id {entry.pk}) no sigue a la anterior: la cadena fue reordenada o alterada antes de ella.",
            )
            continue
        if expect is not None and entry.seq == expect[0]:
            seen_expect = True
            if entry.hash != expect[1]:
                problem = ChainProblem(
                    entry.seq, entry.pk, "head",
                    f"La entrada #{entry.seq} no coincide con la huella publicada: la bitácora fue reescrita.",
                )
                continue
        prev_hash = entry.hash
        expected_seq += 1
    head_seq, head_hash = current_head()
    if problem is None and (head_seq != expected_seq - 1 or head_hash != prev_hash):
        if head_seq > expected_seq - 1:
            problem = ChainProblem(
                expected_seq, None, "truncated",
                f"Faltan las entradas desde la #{expected_seq} hasta la #{head_seq}: fueron eliminadas.",
            )
        else:
            problem = ChainProblem(
                head_seq, None, "head", "El registro de la última entrada no coincide con la bitácora.",
            )
    if problem is None and not seen_expect:
        problem = ChainProblem(
            expect[0], None, "deleted", f"La entrada publicada #{expect[0]} ya no existe en la bitácora.",
        )
    return ChainReport(entries=count, head_seq=head_seq, head_hash=head_hash, problem=problem)
