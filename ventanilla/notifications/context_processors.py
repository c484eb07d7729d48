from __future__ import annotations

from functools import cached_property

from django.http import HttpRequest

from . import selectors


class UnreadCount:
    """The signed-in user's unread notifications, counted by one query the first time a template
    uses it (templates call it; later uses reuse the number)."""

    def __init__(self, user) -> None:
        self._user = user

    @cached_property
    def value(self) -> int:
        return selectors.unread_count(self._user)

    def __call__(self) -> int:
        return self.value


def unread(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": UnreadCount(user)}
