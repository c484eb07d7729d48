"""The payments' periodic jobs (registered with `ventanilla.core.jobs`, docs/jobs.md).

* "payments.process_pending_events", every VENTANILLA_PAYMENT_EVENTS_SWEEP_SECONDS (300):
  verified webhook events stored in the inbox but never credited (a worker died between storing
  and crediting, or crediting failed and the provider stopped retrying) are credited. Without it a
  payment the provider reported once could wait for someone to run `process_payment_events`.
* "payments.expire_overdue_orders", every VENTANILLA_PAYMENT_EXPIRY_SWEEP_SECONDS (3600): pending
  orders past their due date become "expired" (money that still arrives is credited, flagged late).

Both may run more than once (at-least-once delivery) and are idempotent: crediting happens once
per provider payment whatever re-runs it (`services.credit`), and expiring an expired order does
nothing. The management commands `process_payment_events` and `expire_payment_orders` do the same
by hand.
"""

from __future__ import annotations

import logging

from django.conf import settings

from ventanilla.core.jobs import job

from . import services

logger = logging.getLogger(__name__)


@job("payments.process_pending_events", max_attempts=3,
     every=lambda: getattr(settings, "VENTANILLA_PAYMENT_EVENTS_SWEEP_SECONDS", 300))
def process_pending_events() -> int:
    processed = services.process_pending_events()
    if processed:
        logger.warning("stranded payment events credited", extra={"events": processed})
    return processed


@job("payments.expire_overdue_orders", max_attempts=3,
     every=lambda: getattr(settings, "VENTANILLA_PAYMENT_EXPIRY_SWEEP_SECONDS", 3600))
def expire_overdue_orders() -> int:
    expired = services.expire_overdue_orders()
    if expired:
        logger.info("overdue payment orders expired", extra={"orders": expired})
    return expired
