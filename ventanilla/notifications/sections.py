"""The notices' part of "Mi expediente" and of the ARCO archive."""

from __future__ import annotations

import json

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ventanilla.files.sections import Section

from . import selectors

LATEST = 5


def _iso(value):
    return value.astimezone(timezone.get_current_timezone()).isoformat() if value else None


def context(user) -> dict:
    return {"latest": list(selectors.notifications_of(user)[:LATEST])}


def export(user) -> dict[str, bytes]:
    rows = [
        {"asunto": n.subject, "mensaje": n.body, "enlace": n.url, "fecha": _iso(n.created_at),
         "leido_el": _iso(n.read_at), "enviado_por_correo_el": _iso(n.emailed_at)}
        for n in selectors.notifications_of(user).iterator()
    ]
    return {"avisos.json": json.dumps(rows, ensure_ascii=False, indent=2).encode()}


SECTION = Section(key="avisos", title=_("Mis avisos"), template_name="notifications/expediente_section.html",
                  context=context, export=export)
