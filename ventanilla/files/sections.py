"""The parts other apps add to "Mi expediente" and to the ARCO archive.

An app registers its section in its AppConfig.ready():

    from ventanilla.files.sections import Section, register
    register(Section(
        key="tramites",                       # also the folder of its files in the ARCO archive
        title=_("Mis trámites"),
        template_name="procedures/expediente_section.html",
        context=lambda user: {"requests": selectors.requests_of(user)},
        export=lambda user: {"solicitudes.json": json_bytes},   # or None
    ))

The page renders each section's template with its context (plus `section` and `user`); the archive
(/mi-expediente/descargar/) stores each exported file as `<key>/<name>`. Both callables receive the
signed-in user and must return only that user's data.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
# Reserved by files itself: the archive's top-level names.
RESERVED_KEYS = {"documentos", "datos", "mis-documentos", "mis-datos"}


@dataclass(frozen=True)
class Section:
    key: str
    title: Any  # str or lazy translation
    template_name: str
    context: Callable[[Any], dict]
    export: Callable[[Any], dict[str, bytes]] | None = None


_registry: dict[str, Section] = {}


def register(section: Section) -> Section:
    """Adds (or replaces, by key) a section. Sections appear in registration order."""
    if not _KEY.match(section.key) or section.key in RESERVED_KEYS:
        raise ValueError(f"Invalid or reserved section key: {section.key!r}")
    if not callable(section.context) or (section.export is not None and not callable(section.export)):
        raise TypeError("Section.context and Section.export must be callables")
    _registry[section.key] = section
    return section


def unregister(key: str) -> None:
    _registry.pop(key, None)


def registered() -> list[Section]:
    return list(_registry.values())
