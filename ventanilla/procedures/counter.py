"""Counter mode (ventanilla presencial): a clerk files an online procedure on behalf of a resident
who is at the counter. The resident is identified by CURP through Llave's personal-data access
record (so the resident sees in "Mis datos" who opened their data and why); the request is then
an ordinary draft with channel "counter", `filed_by` = the clerk, continued in the same journey
pages residents use.

Residents without a Llave account must create one first (Llave's sign-up needs the resident's own
e-mail and password; a clerk cannot create it for them)."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from ventanilla.identity import services as identity
from ventanilla.identity.models import Role
from ventanilla.identity.permissions import departments_where, has_role

from . import services
from .models import Channel, Definition, Request
from .services import NotAllowed, ProcedureError

# Stored as is in the resident's access log (data, not interface text).
COUNTER_PURPOSE = "Presentar trámite a nombre del ciudadano"
COUNTER_FIELDS = ("curp", "nombre")


class ResidentWithoutAccount(ProcedureError):
    """No Llave account has that CURP: the resident must sign up first."""


def start_counter_request(clerk, definition: Definition, curp: str, *,
                          http_request: HttpRequest | None = None) -> Request:
    """Identifies the resident by CURP (recording the clerk's access to their data) and starts a
    counter draft on the definition's published version. All or nothing: when the draft cannot be
    started, no access is recorded either. Raises ResidentWithoutAccount, NotAllowed or
    ProcedureError (Spanish messages, `errors` keyed by form field)."""
    if not has_role(clerk, Role.COUNTER_CLERK):
        raise NotAllowed(_("Solo el personal de ventanilla puede capturar solicitudes presenciales."))
    departments = departments_where(clerk, Role.COUNTER_CLERK)
    department = next((d for d in departments if d.pk == definition.procedure.department_id), None)
    if department is None and departments:
        department = departments[0]
    with transaction.atomic():
        try:
            record = identity.open_resident_record(
                clerk, curp, COUNTER_PURPOSE, case_reference=definition.procedure.clave,
                fields=COUNTER_FIELDS, department=department, request=http_request,
            )
        except identity.ResidentNotFound:
            message = _(
                "No hay ninguna cuenta de Llave con esta CURP. La persona debe crear su cuenta primero "
                "(con su correo electrónico y una contraseña propia); después vuelve a buscarla aquí."
            )
            raise ResidentWithoutAccount(message, {"curp": message}) from None
        except identity.ServiceError as exc:
            raise ProcedureError(exc.message, {"curp" if exc.field == "curp" else "__all__": exc.message}) from None
        resident = record.resident
        if resident.is_official or not resident.is_active:
            message = _("Esta CURP no corresponde a una cuenta de residente activa.")
            raise ProcedureError(message, {"curp": message})
        return services.start_draft(definition, applicant=resident, channel=Channel.COUNTER, filed_by=clerk)
