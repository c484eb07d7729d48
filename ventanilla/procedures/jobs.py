"""The online procedures' background jobs (registered with `ventanilla.core.jobs`).

* "procedures.deadline_sweep", every VENTANILLA_DEADLINE_SWEEP_SECONDS (300): afirmativa and
  negativa ficta, unanswered corrections.
* "procedures.expire_drafts", every VENTANILLA_DRAFT_SWEEP_SECONDS (3600): abandoned drafts.
* "procedures.apply_deadline" (request_id, rule): one rule on one request. A sweep queues it for
  each rule that raised, so that request is retried with back-off and, if it keeps failing, kept
  as a failed job with its error, while the sweep itself finishes for every other request.

Every job may run more than once (at-least-once delivery); `deadlines.apply_deadline_rule` applies
a rule to a request once whatever happens (`DeadlineAction`).
"""

from __future__ import annotations

import logging

from django.conf import settings

from ventanilla.core.jobs import enqueue, job

from . import deadlines

logger = logging.getLogger(__name__)


def _sweep(rules) -> int:
    try:
        applied = deadlines.apply_due_deadlines(rules=rules)
    except deadlines.DeadlineSweepError as exc:
        for item, _error in exc.failed:
            enqueue("procedures.apply_deadline", key=f"procedures.deadline:{item.request_id}:{item.rule}",
                    request_id=item.request_id, rule=str(item.rule))
        applied = exc.applied
    if applied:
        logger.info("deadline rules applied", extra={"applied": len(applied), "rules": sorted(map(str, rules))})
    return len(applied)


@job("procedures.deadline_sweep", every=lambda: getattr(settings, "VENTANILLA_DEADLINE_SWEEP_SECONDS", 300), max_attempts=3)
def deadline_sweep() -> int:
    return _sweep(deadlines.LEGAL_RULES)


@job("procedures.expire_drafts", every=lambda: getattr(settings, "VENTANILLA_DRAFT_SWEEP_SECONDS", 3600), max_attempts=3)
def expire_drafts() -> int:
    return _sweep((deadlines.Rule.DRAFT_EXPIRED,))


@job("procedures.apply_deadline", max_attempts=8)
def apply_deadline(request_id: int, rule: str) -> bool:
    return deadlines.apply_deadline_rule(int(request_id), rule)
