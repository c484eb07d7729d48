"""The back office's home lists the tools each official may use. Apps register their tools here
in their AppConfig.ready(), so the home page needs no knowledge of any app."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tool:
    label: str  # already translatable (gettext_lazy)
    url_name: str
    roles: tuple[str, ...]
    description: str = ""


_TOOLS: list[Tool] = []


def register(tool: Tool) -> None:
    if all(t.url_name != tool.url_name for t in _TOOLS):
        _TOOLS.append(tool)


def tools_for(user) -> list[Tool]:
    from ventanilla.identity.permissions import has_role

    return [t for t in _TOOLS if has_role(user, *t.roles)]
