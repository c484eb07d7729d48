"""Structured logging helpers: every log line carries the id of the request that caused it."""

from __future__ import annotations

import contextvars
import logging

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def clear_request_id(**kwargs) -> None:
    request_id_var.set("-")
