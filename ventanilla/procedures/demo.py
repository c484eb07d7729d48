"""Demo data for online procedures: Torreón's five online procedures, published from
`demo/definitions.json`, and a deterministic history of requests so the back office, the queues
and the measurement dashboard have something real to show.

The history (default 3,000 requests over the last twelve months, seeded random) covers every
channel (online, counter, kiosk) and state: drafts abandoned at every page (expired when older
than the draft lifetime), requests in review, waiting for a correction (prevención), approved and
waiting for payment, approved and paid, rejected, discarded (prevención unanswered), afirmativa and
negativa ficta. Each request carries what the services would have written: form page events,
review steps activated and decided at office hours, corrections, history events, deadline actions.
Folios follow `services._make_folio` and due dates `procedures.calendar` with the city's closed
days, corrections pausing the clock.

Rows are written with bulk inserts, so what the services do one by one is reproduced here:
* historical approvals have NO issued document (`resolution_document` empty; signing thousands of
  PDFs is slow) and no payment order (the PAID event says it was paid);
* only requests still open (in review, correction, awaiting payment) get documents in the
  applicant's file and, when awaiting payment, a real payment order, so officials and residents
  can carry them on through the normal screens.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import random
import unicodedata
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from . import calendar, services
from . import spec as spec_module
from .models import (
    Channel,
    Correction,
    DeadlineAction,
    Definition,
    DocumentSource,
    EventKind,
    FormPageEvent,
    Request,
    RequestDocument,
    RequestEvent,
    RequestStep,
    Status,
    StepStatus,
)

DEFINITIONS_FILE = Path(__file__).resolve().parent / "demo" / "definitions.json"
SEED = 2026
DEFAULT_REQUESTS = 3000
CLAVES = ("TOR-DGDE-001", "TOR-DGDE-002", "TOR-DTV-002", "TOR-DGOTU-002", "TOR-DTV-001")
# How often each procedure is asked for (share of requests).
WEIGHTS = {"TOR-DGDE-001": 20, "TOR-DGDE-002": 25, "TOR-DTV-002": 15, "TOR-DGOTU-002": 10, "TOR-DTV-001": 30}
# Median hours each review step takes (log-normal around it).
STEP_MEDIAN_HOURS = {
    "revision_documental": 5.0, "proteccion_civil": 12.0, "validacion_padron": 2.0, "revision_adeudos": 1.5,
    "revision_tecnica": 14.0, "validacion_boleta": 0.75,
}
REVIEWERS = {
    "desarrollo-economico": "revisor.dgde@torreon.example",
    "proteccion-civil": "revisor.pc@torreon.example",
    "transito-vialidad": "revisor.dtv@torreon.example",
    "ordenamiento-territorial": "revisor.dgotu@torreon.example",
}
CLERK = "ventanilla.dgde@torreon.example"
JOURNEY_PAGES = ("documentos", "revisar")
DEMO_EMAIL_DOMAIN = "vecinos.example.mx"
REJECTION_GROUNDS = (
    ("El giro declarado no es compatible con el uso de suelo del predio según el Plan Director de Desarrollo "
    "Urbano de Torreón."),
    "Los documentos presentados no acreditan la propiedad o la posesión legal del inmueble.",
    "La inspección encontró que el local no cuenta con las medidas mínimas de seguridad (extintor y salida libre).",
    "Los datos de la solicitud no coinciden con los registros municipales y no se aclararon en la prevención.",
)
CORRECTION_TEXTS = (
    "La identificación está vencida; sube una vigente.",
    "El comprobante de domicilio tiene más de tres meses; sube uno reciente.",
    "La clave catastral no corresponde al domicilio; revísala en tu recibo del predial.",
    "La foto no permite ver el frente del predio; sube otra.",
)


def specs() -> dict[str, dict]:
    return json.loads(DEFINITIONS_FILE.read_text(encoding="utf-8"))


# --- Definitions ------------------------------------------------------------------------------------


def build_definitions(*, by=None) -> list[Definition]:
    """Publishes the demo definition of each of the five procedures (a new version only when the
    file changed). The catalogue demo must be loaded. Idempotent."""
    from ventanilla.catalog import selectors as catalog_selectors

    definitions = []
    for clave, spec in specs().items():
        procedure = catalog_selectors.any_procedure_by_clave(clave)
        if procedure is None:
            raise RuntimeError(f"The catalogue has no procedure {clave}; load the catalogue demo first.")
        definition = services.get_or_create_definition(procedure, by=by)
        current = definition.published_version
        if current is None or current.spec != spec:
            services.save_draft_spec(definition, spec, by=by)
            services.publish_definition(definition, by=by, note="Definición de demostración")
            definition.refresh_from_db()
        definitions.append(definition)
    return definitions


# --- Residents --------------------------------------------------------------------------------------

GIVEN_F = ("María", "Guadalupe", "Juana", "Verónica", "Alejandra", "Patricia", "Rosa", "Leticia", "Claudia",
           "Adriana", "Gabriela", "Sofía", "Fernanda", "Daniela", "Lucía", "Brenda", "Karla", "Elena")
GIVEN_M = ("José", "Juan", "Luis", "Jorge", "Carlos", "Miguel", "Francisco", "Jesús", "Alejandro", "Ricardo",
           "Eduardo", "Fernando", "Héctor", "Raúl", "Arturo", "Sergio", "Diego", "Mauricio")
SURNAMES = ("Hernández", "García", "Martínez", "López", "González", "Rodríguez", "Pérez", "Sánchez", "Ramírez",
            "Flores", "Torres", "Rivera", "Gómez", "Díaz", "Reyes", "Morales", "Cruz", "Ortiz", "Castillo",
            "Moreno", "Valdez", "Ibarra", "Salazar", "Aguilar", "Villarreal", "Treviño", "Garza", "Cárdenas",
            "Escobedo", "Saucedo", "Zamora", "Esparza")
VOWELS = "AEIOU"


def _plain(text: str) -> str:
    """Upper case without accents; Ñ becomes X as in the CURP."""
    text = text.upper().replace("Ñ", "X")
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def _internal(word: str, wanted: str) -> str:
    for c in word[1:]:
        if (c in VOWELS) == (wanted == "vowel") and c.isalpha():
            return c
    return "X"


def make_curp(given: str, first: str, second: str, born: dt.date, sex: str, differentiator: str = "0") -> str:
    """A CURP by RENAPO's rules for these names, born in Coahuila (the check digit is computed)."""
    from ventanilla.identity.curp import with_check_digit

    g, f, s = _plain(given.split()[0]), _plain(first), _plain(second)
    letters = f[0] + _internal(f, "vowel") + s[0] + g[0]
    consonants = _internal(f, "consonant") + _internal(s, "consonant") + _internal(g, "consonant")
    return with_check_digit(f"{letters}{born:%y%m%d}{sex}CL{consonants}{differentiator}")


def rfc_from_curp(curp: str, rng: random.Random) -> str:
    """The RFC of a persona física shares the CURP's first ten characters."""
    from ventanilla.identity.rfc import with_check_digit

    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ123456789"
    return with_check_digit(curp[:10] + rng.choice(alphabet) + rng.choice(alphabet))


def build_residents(count: int, rng: random.Random, now: dt.datetime) -> list:
    """`count` demo residents with valid CURPs (no password: they are applicants only). Idempotent
    on the e-mail address."""
    from ventanilla.identity.models import User

    wanted = []
    taken_curps = set()
    for n in range(1, count + 1):
        sex = "M" if rng.random() < 0.5 else "H"
        given = rng.choice(GIVEN_F if sex == "M" else GIVEN_M)
        first, second = rng.choice(SURNAMES), rng.choice(SURNAMES)
        born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 49))
        email = f"{_plain(given).lower()}.{_plain(first).lower()}.{n:04d}@{DEMO_EMAIL_DOMAIN}"
        wanted.append((email, given, first, second, born, sex))
    existing = {u.email: u for u in User.objects.filter(email__in=[w[0] for w in wanted])}
    taken_curps |= set(User.objects.exclude(curp=None).values_list("curp", flat=True))
    new = []
    password = make_password(None)
    for email, given, first, second, born, sex in wanted:
        if email in existing:
            continue
        curp = next(c for c in (make_curp(given, first, second, born, sex, str(d)) for d in range(10))
                    if c not in taken_curps)
        taken_curps.add(curp)
        new.append(User(email=email, password=password, curp=curp, given_names=given, first_surname=first,
                        second_surname=second, email_confirmed_at=now - dt.timedelta(days=400),
                        date_joined=now - dt.timedelta(days=400)))
    User.objects.bulk_create(new, batch_size=500)
    users = {u.email: u for u in User.objects.filter(email__in=[w[0] for w in wanted])}
    return [users[w[0]] for w in wanted]


# --- Answers ----------------------------------------------------------------------------------------

BUSINESS_NAMES = ("Abarrotes La Esperanza", "Papelería El Lápiz", "Estética Glamour", "Zapatería Laguna",
                  "Consultorio Dental Sonrisa", "Tacos Don Chuy", "Miscelánea Lupita", "Boutique Valeria",
                  "Despacho Contable Torres", "Lonchería La Lagunera", "Farmacia del Centro", "Ciber Nazas")
ROADS = (("AVENIDA", "Juárez"), ("AVENIDA", "Morelos"), ("CALLE", "Falcón"), ("CALZADA", "Colón"),
         ("BOULEVARD", "Independencia"), ("CALLE", "Acuña"), ("AVENIDA", "Hidalgo"), ("CALLE", "Cepeda"),
         ("BOULEVARD", "Revolución"), ("CALZADA", "Abastos"), ("CALLE", "Ramos Arizpe"), ("AVENIDA", "Allende"))
SETTLEMENTS = (("COLONIA", "Centro", "27000"), ("COLONIA", "Torreón Jardín", "27200"),
               ("COLONIA", "Nueva Los Ángeles", "27140"), ("FRACCIONAMIENTO", "Campestre La Rosita", "27250"),
               ("COLONIA", "Villa Florida", "27040"), ("COLONIA", "Las Margaritas", "27130"),
               ("FRACCIONAMIENTO", "Villas Zaragoza", "27297"), ("COLONIA", "Eduardo Guerra", "27280"),
               ("COLONIA", "Valle Oriente", "27010"), ("COLONIA", "Ampliación Los Ángeles", "27140"))
WORKS = ("Cuarto adicional en planta alta", "Barda perimetral de block", "Techado de cochera con lámina",
         "Ampliación de cocina", "Remodelación de fachada y baño")
UMAS = (5, 5, 10, 10, 10, 15, 20, 20, 30, 40, 60)


def _letters(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _i in range(n))


def _raw_value(f: spec_module.Field, rng: random.Random, applicant, year: int) -> dict[str, str]:
    """Form data (as the browser posts it) for one field, plausible for Torreón."""
    if f.type == "address":
        road_type, road = rng.choice(ROADS)
        settlement_type, settlement, postal = rng.choice(SETTLEMENTS)
        parts = {"road_type": road_type, "road_name": road, "exterior_number": str(rng.randrange(10, 3000)),
                 "settlement_type": settlement_type, "settlement_name": settlement, "postal_code": postal,
                 "locality": "Torreón", "municipality": "Torreón", "state": "Coahuila de Zaragoza"}
        return {f"{f.key}.{part}": value for part, value in parts.items()}
    if f.type == "choice":
        values = [v for v, _label in f.choices]
        value = "no" if f.key == "local_rentado" else rng.choice(values)  # no file fields in the history
        return {f.key: value}
    if f.type == "rfc":
        return {f.key: rfc_from_curp(applicant.curp, rng)}
    if f.type == "curp":
        return {f.key: applicant.curp}
    if f.type == "parcel_key":
        return {f.key: f"{rng.randrange(1, 120):03d}-{rng.randrange(1, 400):03d}-{rng.randrange(1, 60):03d}"}
    if f.type == "number":
        if f.key == "umas":
            return {f.key: str(rng.choice(UMAS))}
        if f.key == "superficie_obra":
            return {f.key: str(rng.choice((12, 18, 20, 24, 30, 36, 45, 60, 80, 120)))}
        low = int(f.min) if f.min is not None else 1
        high = min(int(f.max) if f.max is not None else 1000, low + 200)
        return {f.key: str(rng.randrange(low, high + 1))}
    if f.type == "money":
        return {f.key: f"{rng.randrange(100, 20000)}.00"}
    if f.type == "date":
        return {f.key: (dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(0, 300))).isoformat()}
    if f.type == "text":
        if f.key == "nombre_comercial":
            return {f.key: rng.choice(BUSINESS_NAMES)}
        if f.key == "numero_licencia":
            return {f.key: f"LF-{year - 1}-{rng.randrange(1, 999999):06d}"}
        if f.key == "folio_boleta":
            return {f.key: f"TRN-{year}-{rng.randrange(1, 999999):06d}"}
        if f.key == "placas":
            return {f.key: f"{_letters(rng, 3)}-{rng.randrange(100, 999)}-{_letters(rng, 1)}"}
        if f.key == "descripcion":
            return {f.key: rng.choice(WORKS)}
        return {f.key: "Dato de demostración"}
    return {}


def answer_page(spec: spec_module.Spec, page: spec_module.Page, answers: dict, rng: random.Random, applicant,
                year: int) -> dict:
    """Cleans plausible form data for `page` exactly as `services.save_page` would."""
    data: dict[str, str] = {}
    for f in page.fields:
        if f.type != "file":
            data.update(_raw_value(f, rng, applicant, year))
    result = spec_module.clean_page(spec, page.key, data, answers)
    if not result.ok:
        raise RuntimeError(f"demo answers rejected on {page.key}: {result.errors}")
    merged = {k: v for k, v in answers.items() if k not in {f.key for f in page.fields}}
    merged.update(result.values)
    return spec_module.visible_answers(spec, merged)


# --- History ----------------------------------------------------------------------------------------


@dataclass
class _Procedure:
    definition: Definition
    spec: spec_module.Spec
    departments: dict[str, Any]
    weight: int
    city_documents: list[str]  # document slots the city holds (never asked for)


@dataclass
class _Plan:
    request: Request
    events: list[RequestEvent] = field(default_factory=list)
    steps: list[RequestStep] = field(default_factory=list)
    pages: list[FormPageEvent] = field(default_factory=list)
    corrections: list[Correction] = field(default_factory=list)
    actions: list[DeadlineAction] = field(default_factory=list)


def history_present() -> bool:
    return RequestEvent.objects.filter(kind=EventKind.CREATED, data__demo=True).exists()


def is_present(requests: int = DEFAULT_REQUESTS) -> bool:
    """True when the five definitions are published (and the history written, if one is wanted)."""
    published = Definition.objects.filter(procedure__clave__in=CLAVES, published_version__isnull=False).count()
    return published == len(CLAVES) and (requests <= 0 or history_present())


class _Clock:
    """Random times for the history, all in the city's time zone."""

    def __init__(self, rng: random.Random, now: dt.datetime, closed: frozenset[dt.date]):
        self.rng, self.now, self.closed = rng, now, closed
        self.tz = timezone.get_current_timezone()

    def local(self, day: dt.date, hour: float) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min), self.tz) + dt.timedelta(hours=hour)

    def created(self, channel: str) -> dt.datetime:
        """More requests lately (use grows), fewer on weekends; counters open on business days.
        Always at least two hours ago, so the whole form was filled before now."""
        day = timezone.localdate(self.now) - dt.timedelta(days=int(365 * self.rng.random() ** 1.25))
        if channel == Channel.COUNTER:
            hour = self.rng.uniform(8.0, 14.8)
        elif channel == Channel.KIOSK:
            hour = self.rng.uniform(8.0, 19.0)
        else:
            hour = min(23.9, max(6.0, self.rng.gauss(14.0, 4.0)))
        weekday_only = channel != Channel.ONLINE or self.rng.random() < 0.6
        while (self.local(day, hour) > self.now - dt.timedelta(hours=2)
               or (weekday_only and not calendar.is_business_day(day, extra_closed=self.closed))):
            day -= dt.timedelta(days=1)
        return self.local(day, hour)

    def office(self, moment: dt.datetime) -> dt.datetime:
        """The same moment if it falls in office hours (business day, 8:00–17:00), otherwise the
        next business morning."""
        local = timezone.localtime(moment)
        day, hour = local.date(), local.hour + local.minute / 60
        if calendar.is_business_day(day, extra_closed=self.closed) and 8 <= hour < 17:
            return moment
        if hour >= 17 or not calendar.is_business_day(day, extra_closed=self.closed):
            day = calendar.add_business_days(day, 1, extra_closed=self.closed)
        return self.local(day, 8.5 + self.rng.uniform(0, 1.5))

    def hours(self, median: float, sigma: float = 0.9) -> dt.timedelta:
        return dt.timedelta(hours=max(0.08, median * math.exp(self.rng.gauss(0, sigma))))


def _pick(rng: random.Random, weighted: dict) -> Any:
    return rng.choices(list(weighted), weights=list(weighted.values()))[0]


def build_history(count: int = DEFAULT_REQUESTS, *, seed: int = SEED, now: dt.datetime | None = None,
                  stdout: TextIO | None = None) -> int:
    """Writes `count` historical requests (see the module docstring). Skipped when a demo history
    is already there. Returns the number of requests written."""
    from ventanilla.identity import demo as identity_demo
    from ventanilla.identity.models import User

    if not settings.DEMO_DATA_ALLOWED:
        raise RuntimeError("Demo data is not allowed in this installation.")
    if count <= 0 or history_present():
        return 0
    now = now or timezone.now()
    rng = random.Random(seed)
    closed = calendar.closed_days(timezone.localdate(now).year - 2, timezone.localdate(now).year + 1)
    clock = _Clock(rng, now, closed)
    with transaction.atomic():
        definitions = build_definitions()
        officials = {u.email: u for u in User.objects.filter(email__in=[*REVIEWERS.values(), CLERK])}
        missing = {*REVIEWERS.values(), CLERK} - set(officials)
        if missing:
            raise RuntimeError(f"Demo officials missing ({', '.join(sorted(missing))}); build the identity demo first.")
        from ventanilla.catalog import selectors as catalog_selectors
        from ventanilla.organization import selectors as org_selectors

        departments = {d.slug: d for d in org_selectors.all_departments()}
        held = set(catalog_selectors.document_types_held_by_city())
        procedures = {}
        for d in definitions:
            spec = spec_module.parse_spec(d.published_version.spec)
            city = [s.key for s in spec.documents if s.document_type and s.document_type in held]
            procedures[d.procedure.clave] = _Procedure(d, spec, departments, WEIGHTS.get(d.procedure.clave, 10), city)
        residents = build_residents(max(40, count // 6), rng, now)
        ana = User.objects.filter(email=identity_demo.RESIDENT["email"]).first()
        plans = []
        for _i in range(count):
            info = procedures[_pick(rng, {k: p.weight for k, p in procedures.items()})]
            applicant = ana if ana is not None and rng.random() < 0.005 else rng.choice(residents)
            plans.append(_plan(info, applicant, rng, clock, officials))
        _write(plans, rng)
        _open_requests_extras([p.request for p in plans])
    if stdout is not None:
        stdout.write(f"Trámites en línea: {len(definitions)} definiciones publicadas y {count} solicitudes de demostración.")
    return count


def _plan(info: _Procedure, applicant, rng: random.Random, clock: _Clock, officials: dict) -> _Plan:
    procedure, spec, version = info.definition.procedure, info.spec, info.definition.published_version
    channels = {Channel.ONLINE: 65}
    if procedure.channel_in_person:
        channels[Channel.COUNTER] = 25
    if procedure.channel_kiosk:
        channels[Channel.KIOSK] = 10
    channel = _pick(rng, channels)
    clerk = officials[CLERK] if channel == Channel.COUNTER else None
    created = clock.created(channel)
    actor = clerk or applicant
    request = Request(
        public_id=uuid.UUID(int=rng.getrandbits(128), version=4), version=version, procedure=procedure,
        department=procedure.department, applicant=applicant, filed_by=clerk, channel=channel,
        status=Status.DRAFT, created_at=created, current_page=spec.pages[0].key,
    )
    plan = _Plan(request)
    plan.events.append(RequestEvent(request=request, kind=EventKind.CREATED, actor=actor, at=created,
                                    data={"channel": channel, "demo": True}))
    year = timezone.localdate(created).year
    stops = [p.key for p in spec.pages] + list(JOURNEY_PAGES)
    abandon = {Channel.ONLINE: 0.30, Channel.KIOSK: 0.22, Channel.COUNTER: 0.04}[channel]
    stop = None
    if rng.random() < abandon:
        weights = [1.0 if i == 0 else 0.55 for i in range(len(spec.pages))] + [0.9, 0.35]
        stop = rng.choices(range(len(stops)), weights=weights)[0] if rng.random() > 0.05 else -1
    moment = created + dt.timedelta(seconds=rng.randrange(5, 60))
    answers: dict = {}
    for i, key in enumerate(stops):
        if stop is not None and i > stop:
            break
        plan.pages.append(FormPageEvent(request=request, page=key, kind=FormPageEvent.Kind.VIEWED, at=moment))
        moment += dt.timedelta(seconds=rng.randrange(30, 420))
        if stop == i:
            break
        page = spec.page(key)
        if page is not None:
            answers = answer_page(spec, page, answers, rng, applicant, year)
            plan.pages.append(FormPageEvent(request=request, page=key, kind=FormPageEvent.Kind.COMPLETED, at=moment))
            moment += dt.timedelta(seconds=rng.randrange(1, 10))
    request.answers = answers
    if stop is not None:
        request.current_page = stops[max(stop, 0)]
        request.draft_expires_at = moment + services.draft_ttl()
        if request.draft_expires_at <= clock.now:
            expired = min(clock.now, request.draft_expires_at + dt.timedelta(minutes=rng.randrange(1, 60)))
            request.status = Status.EXPIRED
            plan.actions.append(DeadlineAction(request=request, rule=DeadlineAction.Rule.DRAFT_EXPIRED, applied_at=expired))
            plan.events.append(RequestEvent(request=request, kind=EventKind.EXPIRED, at=expired))
        return plan
    _submit(plan, info, rng, clock, officials, moment, actor)
    return plan


def _fee(info: _Procedure, answers: dict) -> int:
    from ventanilla.catalog import services as catalog_services

    params = {param: answers.get(key) for param, key in info.spec.fee_parameters.items()}
    return catalog_services.compute_fee(info.definition.procedure, params)


def _due(procedure, submitted: dt.datetime, pauses: list, closed) -> dt.date | None:
    if not procedure.response_days:
        return None
    return calendar.deadline(timezone.localdate(submitted), procedure.response_days, pauses=pauses, extra_closed=closed)


def _submit(plan: _Plan, info: _Procedure, rng: random.Random, clock: _Clock, officials: dict,
            submitted: dt.datetime, actor) -> None:
    request, procedure, spec = plan.request, info.definition.procedure, info.spec
    now, closed = clock.now, clock.closed
    request.status = Status.IN_REVIEW
    request.submitted_at = submitted
    request.current_page = "documentos"
    request.fee_centavos = _fee(info, request.answers)
    pauses: list[tuple[dt.date, dt.date | None]] = []
    request.due_date = _due(procedure, submitted, pauses, closed)
    plan.events.append(RequestEvent(request=request, kind=EventKind.SUBMITTED, actor=actor, at=submitted,
                                    data={"channel": request.channel, "city_documents": info.city_documents}))
    steps = [RequestStep(request=request, key=s.key, name=s.name, department=info.departments[s.department],
                         role=s.role, after=list(s.after), order=i) for i, s in enumerate(spec.steps)]
    plan.steps = steps
    recent = now - submitted < dt.timedelta(days=10)
    # A few requests wait for a reviewer who never gets to them: the ficta applies. A third of the
    # last ten days' requests are still waiting in today's queues.
    stalled = procedure.ficta in ("afirmativa", "negativa") and rng.random() < 0.025
    backlog = recent and rng.random() < 0.35
    reject_at = rng.choices(range(len(steps)), weights=[3] + [1] * (len(steps) - 1))[0] if rng.random() < 0.09 else None
    correction_at = 0 if rng.random() < (0.25 if recent else 0.10) else None
    done: set[str] = set()
    last = submitted
    last_official = None

    def ficta_moment() -> dt.datetime | None:
        if request.due_date is None or procedure.ficta not in ("afirmativa", "negativa"):
            return None
        return clock.local(request.due_date + dt.timedelta(days=1), 6 + rng.random())

    def apply_ficta(moment: dt.datetime) -> None:
        rule = DeadlineAction.Rule.AFIRMATIVA_FICTA if procedure.ficta == "afirmativa" else DeadlineAction.Rule.NEGATIVA_FICTA
        plan.actions.append(DeadlineAction(request=request, rule=rule, applied_at=moment))
        plan.events.append(RequestEvent(request=request, kind=EventKind.FICTA, at=moment,
                                        data={"rule": rule, "due_date": request.due_date.isoformat()}))
        status = Status.APPROVED_FICTA if procedure.ficta == "afirmativa" else Status.DENIED_FICTA
        grounds = "" if status == Status.APPROVED_FICTA else (
            "El plazo legal para resolver venció sin respuesta; conforme a la ley la solicitud se tiene por negada "
            "(negativa ficta). Puede impugnarse ante la autoridad competente.")
        _resolve(plan, status, None, moment, grounds)

    while True:
        ready = [s for s in steps if s.status == StepStatus.WAITING and all(a in done for a in s.after)]
        for s in ready:
            s.status, s.activated_at = StepStatus.ACTIVE, last
        active = [s for s in steps if s.status == StepStatus.ACTIVE]
        if not active:
            break
        step = active[0]
        reviewer = officials[REVIEWERS[step.department.slug]]
        if stalled or backlog:
            moment = ficta_moment()
            if stalled and moment is not None and moment <= now:
                apply_ficta(moment)
                return
            if moment is None or moment > now:
                return
        took = clock.hours(STEP_MEDIAN_HOURS.get(step.key, 4.0)) * (rng.uniform(10, 40) if rng.random() < 0.04 else 1)
        decided = clock.office(step.activated_at + took)
        if correction_at == len(done):
            correction_at = None
            asked = clock.office(step.activated_at + clock.hours(STEP_MEDIAN_HOURS.get(step.key, 4.0) / 2))
            deadline_moment = ficta_moment()
            if deadline_moment is not None and deadline_moment <= asked:
                if deadline_moment <= now:
                    apply_ficta(deadline_moment)
                return
            if asked > now:
                return
            asked_day = timezone.localdate(asked)
            days = procedure.correction_days or services.DEFAULT_CORRECTION_DAYS
            correction = Correction(request=request, requested_by=reviewer, text=rng.choice(CORRECTION_TEXTS),
                                    requested_at=asked,
                                    due_date=calendar.add_business_days(asked_day, days, extra_closed=closed))
            plan.corrections.append(correction)
            plan.events.append(RequestEvent(request=request, kind=EventKind.CORRECTION_REQUESTED, actor=reviewer,
                                            at=asked, text=correction.text,
                                            data={"due_date": correction.due_date.isoformat()}))
            request.status, request.due_date = Status.CORRECTION, None
            answered = asked + clock.hours(30.0, 1.0)
            if rng.random() < 0.8 and timezone.localdate(answered) <= correction.due_date:
                if answered > now:
                    return
                correction.answered_at = answered
                correction.answer_text = "Listo, subí el documento corregido."
                pauses.append((asked_day, timezone.localdate(answered)))
                request.status = Status.IN_REVIEW
                request.due_date = _due(procedure, submitted, pauses, closed)
                plan.events.append(RequestEvent(request=request, kind=EventKind.CORRECTION_ANSWERED, actor=actor,
                                                at=answered, text=correction.answer_text,
                                                data={"answers": [], "documents": []}))
                decided = clock.office(answered + clock.hours(STEP_MEDIAN_HOURS.get(step.key, 4.0) / 2))
            else:
                expired = clock.local(correction.due_date + dt.timedelta(days=1), 6 + rng.random())
                if expired <= now:
                    plan.actions.append(DeadlineAction(request=request, rule=DeadlineAction.Rule.CORRECTION_EXPIRED,
                                                       applied_at=expired))
                    plan.events.append(RequestEvent(request=request, kind=EventKind.DISCARDED, at=expired,
                                                    data={"correction_due": correction.due_date.isoformat()}))
                    _resolve(plan, Status.DISCARDED, None, expired,
                             "La prevención no se atendió dentro del plazo; la solicitud se desecha (LFPA art. 17-A).")
                return
        deadline_moment = ficta_moment()
        if deadline_moment is not None and deadline_moment < decided:
            if deadline_moment <= now:
                apply_ficta(deadline_moment)
            return
        if decided > now:
            return
        step.decided_at, step.decided_by = decided, reviewer
        last, last_official = decided, reviewer
        if reject_at == len(done):
            step.status = StepStatus.REJECTED
            grounds = rng.choice(REJECTION_GROUNDS)
            plan.events.append(RequestEvent(request=request, kind=EventKind.REJECTED, actor=reviewer, at=decided, text=grounds))
            _resolve(plan, Status.REJECTED, reviewer, decided, grounds)
            return
        step.status = StepStatus.APPROVED
        done.add(step.key)
        plan.events.append(RequestEvent(request=request, kind=EventKind.STEP_APPROVED, actor=reviewer, at=decided,
                                        data={"step": step.key, "name": step.name}))

    # Every step approved.
    plan.events.append(RequestEvent(request=request, kind=EventKind.APPROVED, actor=last_official, at=last))
    fee = request.fee_centavos or 0
    if fee <= 0:
        _resolve(plan, Status.APPROVED, last_official, last, "")
        return
    request.status = Status.AWAITING_PAYMENT
    plan.events.append(RequestEvent(request=request, kind=EventKind.PAYMENT_REQUESTED, actor=last_official, at=last,
                                    data={"amount": fee}))
    paid = last + clock.hours(18.0, 1.2)
    if rng.random() < 0.95 and paid <= now:
        plan.events.append(RequestEvent(request=request, kind=EventKind.PAID, at=paid, data={"demo": True}))
        _resolve(plan, Status.APPROVED, None, paid, "")


def _resolve(plan: _Plan, status: str, actor, moment: dt.datetime, grounds: str) -> None:
    request = plan.request
    request.status, request.resolved_at, request.resolution_text = status, moment, grounds
    plan.events.append(RequestEvent(request=request, kind=EventKind.RESOLVED, actor=actor, at=moment, text=grounds,
                                    data={"status": status}))


def _write(plans: list[_Plan], rng: random.Random) -> None:
    requests = [p.request for p in plans]
    Request.objects.bulk_create(requests, batch_size=500)
    for request in requests:
        if request.submitted_at is not None:
            request.folio = services._make_folio(request, request.submitted_at)
    Request.objects.bulk_update([r for r in requests if r.folio], ["folio"], batch_size=500)
    for model, attr in ((RequestStep, "steps"), (FormPageEvent, "pages"), (Correction, "corrections"),
                        (DeadlineAction, "actions"), (RequestEvent, "events")):
        rows = [row for p in plans for row in getattr(p, attr)]
        model.objects.bulk_create(rows, batch_size=1000)


def demo_pdf(title: str) -> bytes:
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=letter, invariant=1)
    pdf.setTitle(title)
    pdf.setFont("Helvetica-Bold", 18)
    pdf.drawString(72, 700, title)
    pdf.setFont("Helvetica", 12)
    pdf.drawString(72, 670, "Documento de demostración de Ventanilla (sin validez oficial).")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _open_requests_extras(requests: list[Request]) -> None:
    """Documents in the applicant's file for the requests still open, and a payment order for
    those awaiting payment, so they can be carried on through the normal screens."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from ventanilla.catalog import selectors as catalog_selectors
    from ventanilla.files import services as files
    from ventanilla.files import uploads
    from ventanilla.payments import services as payments

    open_ones = [r for r in requests if r.status in (Status.IN_REVIEW, Status.CORRECTION, Status.AWAITING_PAYMENT)]
    held = set(catalog_selectors.document_types_held_by_city())
    names = {t.code: t.name for t in catalog_selectors.document_types()}
    pdfs: dict[str, bytes] = {}
    stored: dict[tuple[int, str], Any] = {}
    attached = []
    for request in open_ones:
        spec = spec_module.parse_spec(request.version.spec)
        for slot in spec.documents:
            if not slot.required or (slot.document_type and slot.document_type in held):
                continue
            key = (request.applicant_id, slot.document_type)
            if key not in stored:
                title = names.get(slot.document_type, slot.label)
                pdf = pdfs.setdefault(title, demo_pdf(title))
                checked = uploads.check_upload(SimpleUploadedFile(f"{slot.document_type.lower() or slot.key}.pdf", pdf,
                                                                  "application/pdf"))
                stored[key] = files.store_upload(request.applicant, checked, title=title, document_type=slot.document_type)
            attached.append(RequestDocument(request=request, key=slot.key, file_document=stored[key].public_id,
                                            source=DocumentSource.UPLOADED,
                                            added_at=request.submitted_at - dt.timedelta(minutes=2)))
        if request.status == Status.AWAITING_PAYMENT:
            order = payments.create_order(payer=request.applicant,
                                          concept=f"{request.procedure.name} · {request.folio}",
                                          amount_centavos=request.fee_centavos, source_ref=services.source_ref(request))
            request.payment_order = order.public_id
            Request.objects.filter(pk=request.pk).update(payment_order=order.public_id)
            RequestEvent.objects.filter(request=request, kind=EventKind.PAYMENT_REQUESTED).update(
                data={"order": str(order.public_id), "amount": request.fee_centavos})
    RequestDocument.objects.bulk_create(attached, batch_size=1000)


def build(requests: int = DEFAULT_REQUESTS, *, seed: int = SEED, now: dt.datetime | None = None,
          stdout: TextIO | None = None) -> int:
    """Definitions and history (what `seed_demo` calls). Idempotent."""
    with transaction.atomic():
        build_definitions()
    return build_history(requests, seed=seed, now=now, stdout=stdout)
