"""The notifications' background job (registered with `ventanilla.core.jobs`).

* "notifications.email" (notification_id): e-mails one inbox notice. `services.notify` queues it
  in the caller's transaction, so a notice is e-mailed if and only if its change committed, and no
  mail server is ever waited for inside a resident's request. A failing server raises, and the job
  is retried with back-off; the notice is in the inbox whatever happens.
"""

from __future__ import annotations

from ventanilla.core.jobs import job

from . import services


@job("notifications.email", max_attempts=8)
def email(notification_id: int) -> bool:
    return services.send_email(notification_id, raise_errors=True)
