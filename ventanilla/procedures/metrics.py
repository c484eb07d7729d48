"""Measurement of online procedures: what other modules (the dashboard, a future monitoring
system) call to learn how procedures are used and served.

Every function takes an inclusive range of local dates (`date_from`, `date_to`) and optional
filters: `procedure` (a catalogue Procedure or its id), `channel` (a `Channel` value) and
`department` (a Department, its id, or several of either). Each figure is computed by the
database in a handful of aggregate queries, whatever the number of requests.

Which date each figure is counted on:

* submissions — when the request was submitted (`submitted_at`);
* form funnel — when the draft was started (`created_at`);
* step times — when the step was decided (`decided_at`);
* deadlines — when the authority decided (the APPROVED or REJECTED event) or the ficta applied;
* revenue — when the payment was received (the PAID event); refunds when the money was given
  back (the refund's completion), so a month's net income is what came in minus what went out;
* outcomes — when the request reached its final state (`resolved_at`).

The department filter is the request's department (the one owning the procedure), except for
step times, where it is the department that performed the step.

Percentiles are "nearest rank": the p-th percentile of n values is the ceil(p·n)-th smallest, so
it is always one of the measured values (PostgreSQL's `percentile_disc`); other databases get the
same figure from an ordered query per group.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy

from .models import (
    Channel,
    Definition,
    EventKind,
    FormPageEvent,
    Request,
    RequestEvent,
    RequestStep,
    Status,
    StepStatus,
)

DECISION_EVENTS = (EventKind.APPROVED, EventKind.REJECTED)
OUTCOME_STATUSES = (
    Status.APPROVED, Status.REJECTED, Status.APPROVED_FICTA, Status.DENIED_FICTA, Status.DISCARDED,
)
PERCENTILES = (0.5, 0.9)
# Pages of the resident's journey after the form's own pages, in the order they come.
JOURNEY_PAGES = (("documentos", gettext_lazy("Documentos")), ("revisar", gettext_lazy("Revisa y presenta")))
JOURNEY_KEYS = frozenset(key for key, _title in JOURNEY_PAGES)


class MetricsError(ValueError):
    """A filter that cannot be used (the message is Spanish)."""


# --- Results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcedureRef:
    id: int
    clave: str
    name: str


@dataclass(frozen=True)
class SubmissionRow:
    procedure: ProcedureRef
    channel: str
    count: int


@dataclass(frozen=True)
class MonthCount:
    month: dt.date  # first day of the month
    count: int


@dataclass(frozen=True)
class FunnelPage:
    key: str
    title: str
    reached: int  # drafts with any event on the page
    completed: int  # drafts that completed the page
    abandoned: int  # never-submitted drafts whose last viewed page is this one

    @property
    def completion_rate(self) -> float | None:
        return self.completed / self.reached if self.reached else None


@dataclass(frozen=True)
class ProcedureFunnel:
    procedure: ProcedureRef
    started: int
    submitted: int
    expired: int  # drafts that expired unsubmitted
    no_page_viewed: int  # never-submitted drafts without any viewed page
    pages: tuple[FunnelPage, ...] = ()

    @property
    def never_submitted(self) -> int:
        return self.started - self.submitted


@dataclass(frozen=True)
class StepTime:
    procedure: ProcedureRef
    key: str
    name: str
    decided: int
    median: dt.timedelta
    p90: dt.timedelta


@dataclass(frozen=True)
class DeadlineRow:
    procedure: ProcedureRef
    on_time: int  # decided on or before the due date
    late: int  # decided after the due date
    ficta: int  # not decided: afirmativa or negativa ficta applied
    no_deadline: int  # decided, the procedure has no legal term

    @property
    def with_deadline(self) -> int:
        return self.on_time + self.late + self.ficta


@dataclass(frozen=True)
class RevenueRow:
    procedure: ProcedureRef
    paid_requests: int
    centavos: int  # fees received in the range
    refunded_centavos: int = 0  # fees given back in the range (of payments counted as income)

    @property
    def net_centavos(self) -> int:
        return self.centavos - self.refunded_centavos


@dataclass(frozen=True)
class OutcomeRow:
    procedure: ProcedureRef
    counts: dict[str, int] = field(default_factory=dict)  # status -> requests

    @property
    def total(self) -> int:
        return sum(self.counts.values())


# --- Filters ------------------------------------------------------------------------------------


def _pk(value) -> int:
    pk = getattr(value, "pk", value)
    if isinstance(pk, bool) or not isinstance(pk, int):
        raise MetricsError("Filtro inválido.")
    return pk


def _ids(value) -> list[int] | None:
    if value is None:
        return None
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        return [_pk(v) for v in value]
    return [_pk(value)]


def local_bounds(date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start of date_from, start of the day after date_to) in the city's time zone."""
    if date_from > date_to:
        raise MetricsError("La fecha inicial es posterior a la final.")
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(dt.datetime.combine(date_from, dt.time.min), tz)
    end = timezone.make_aware(dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min), tz)
    return start, end


def _scope(prefix: str, procedure=None, channel: str | None = None, department=None) -> Q:
    """Conditions on the request reached through `prefix` ("" or "request__")."""
    q = Q()
    if procedure is not None:
        q &= Q(**{f"{prefix}procedure_id": _pk(procedure)})
    if channel:
        if channel not in Channel.values:
            raise MetricsError("Canal desconocido.")
        q &= Q(**{f"{prefix}channel": channel})
    ids = _ids(department)
    if ids is not None:
        q &= Q(**{f"{prefix}department_id__in": ids})
    return q


def _ref(row: dict, prefix: str = "") -> ProcedureRef:
    return ProcedureRef(row[f"{prefix}procedure_id"], row[f"{prefix}procedure__clave"], row[f"{prefix}procedure__name"])


def _proc_values(prefix: str = "") -> tuple[str, str, str]:
    return (f"{prefix}procedure_id", f"{prefix}procedure__clave", f"{prefix}procedure__name")


# --- Submissions --------------------------------------------------------------------------------


def submissions(date_from: dt.date, date_to: dt.date, *, procedure=None, channel: str | None = None,
                department=None) -> list[SubmissionRow]:
    """Requests submitted in the range, by procedure and channel (largest first)."""
    start, end = local_bounds(date_from, date_to)
    rows = (
        Request.objects.filter(_scope("", procedure, channel, department), submitted_at__gte=start, submitted_at__lt=end)
        .values(*_proc_values(), "channel")
        .annotate(n=Count("pk"))
        .order_by("-n", "procedure__name", "channel")
    )
    return [SubmissionRow(_ref(r), r["channel"], r["n"]) for r in rows]


def submissions_by_month(date_from: dt.date, date_to: dt.date, *, procedure=None, channel: str | None = None,
                         department=None) -> list[MonthCount]:
    """Requests submitted per calendar month (local time), months without any included."""
    start, end = local_bounds(date_from, date_to)
    rows = (
        Request.objects.filter(_scope("", procedure, channel, department), submitted_at__gte=start, submitted_at__lt=end)
        .annotate(month=TruncMonth("submitted_at"))
        .values("month")
        .annotate(n=Count("pk"))
        .order_by("month")
    )
    counts = {_as_date(r["month"]): r["n"] for r in rows}
    months = []
    month = date_from.replace(day=1)
    while month <= date_to:
        months.append(MonthCount(month, counts.get(month, 0)))
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


# --- Form funnel --------------------------------------------------------------------------------


def _page_titles(procedure_ids: Iterable[int]) -> dict[int, list[tuple[str, str]]]:
    """The pages of each procedure's published form, in order: {procedure_id: [(key, title)]}."""
    titles: dict[int, list[tuple[str, str]]] = {}
    for procedure_id, spec in Definition.objects.filter(
        procedure_id__in=list(procedure_ids), published_version__isnull=False
    ).values_list("procedure_id", "published_version__spec"):
        pages = spec.get("pages") if isinstance(spec, dict) else None
        titles[procedure_id] = [
            (str(p.get("key", "")), str(p.get("title") or p.get("key", "")))
            for p in (pages or []) if isinstance(p, dict)
        ]
    return titles


def form_funnel(date_from: dt.date, date_to: dt.date, *, procedure=None, channel: str | None = None,
                department=None) -> list[ProcedureFunnel]:
    """For drafts started in the range, per procedure and form page: how many reached the page,
    completed it, and dropped there (never submitted, it is the last page they viewed). Pages
    come in form order, then the journey's documents and check-answers pages (which record views
    only: "completed" there is reached − dropped), then any other page recorded (an older
    version's)."""
    start, end = local_bounds(date_from, date_to)
    drafts = Request.objects.filter(_scope("", procedure, channel, department), created_at__gte=start, created_at__lt=end)
    totals = {
        r["procedure_id"]: r
        for r in drafts.values(*_proc_values()).annotate(
            started=Count("pk"),
            submitted=Count("pk", filter=Q(submitted_at__isnull=False)),
            expired=Count("pk", filter=Q(status=Status.EXPIRED)),
        )
    }
    if not totals:
        return []
    page_rows = (
        FormPageEvent.objects.filter(_scope("request__", procedure, channel, department),
                                     request__created_at__gte=start, request__created_at__lt=end)
        .values("request__procedure_id", "page")
        .annotate(
            reached=Count("request_id", distinct=True),
            completed=Count("request_id", filter=Q(kind=FormPageEvent.Kind.COMPLETED), distinct=True),
        )
    )
    reached: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
    for r in page_rows:
        reached[r["request__procedure_id"]][r["page"]] = (r["reached"], r["completed"])
    last_viewed = (
        FormPageEvent.objects.filter(request=OuterRef("pk"), kind=FormPageEvent.Kind.VIEWED)
        .order_by("-at", "-pk").values("page")[:1]
    )
    dropped: dict[int, dict[str | None, int]] = defaultdict(dict)
    for r in (
        drafts.filter(submitted_at__isnull=True)
        .annotate(last_page=Subquery(last_viewed))
        .values("procedure_id", "last_page")
        .annotate(n=Count("pk"))
    ):
        dropped[r["procedure_id"]][r["last_page"]] = r["n"]

    titles = _page_titles(totals)
    result = []
    for procedure_id, t in totals.items():
        form_pages = titles.get(procedure_id, [])
        form_keys = {key for key, _title in form_pages}
        seen = set(reached[procedure_id]) | {key for key in dropped[procedure_id] if key}
        ordered = list(form_pages)
        ordered += [(key, str(title)) for key, title in JOURNEY_PAGES if key in seen and key not in form_keys]
        ordered += [(key, key) for key in sorted(seen - {key for key, _title in ordered})]
        pages = []
        for key, title in ordered:
            reached_n, completed_n = reached[procedure_id].get(key, (0, 0))
            abandoned_n = dropped[procedure_id].get(key, 0)
            if key in JOURNEY_KEYS and key not in form_keys:
                # The journey's own pages record views only: whoever did not drop there went on.
                completed_n = max(reached_n - abandoned_n, 0)
            pages.append(FunnelPage(key, title, reached_n, completed_n, abandoned_n))
        result.append(ProcedureFunnel(
            _ref(t), t["started"], t["submitted"], t["expired"], dropped[procedure_id].get(None, 0), tuple(pages),
        ))
    result.sort(key=lambda f: (-f.started, f.procedure.name))
    return result


# --- Time in each review step -------------------------------------------------------------------


class PercentileDisc(Aggregate):
    """PostgreSQL's nearest-rank percentile of an ordered set."""

    function = "percentile_disc"
    name = "PercentileDisc"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction: float, **extra):
        if not 0 < fraction <= 1:
            raise ValueError("fraction must be in (0, 1]")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def _rank(n: int, fraction: float) -> int:
    """0-based index of the nearest-rank percentile among n ordered values."""
    return max(0, math.ceil(round(fraction * n, 9)) - 1)


def step_times(date_from: dt.date, date_to: dt.date, *, procedure=None, channel: str | None = None,
               department=None) -> list[StepTime]:
    """Median and 90th percentile of the time each review step took (decided − activated), for
    steps decided in the range, by procedure and step."""
    start, end = local_bounds(date_from, date_to)
    q = _scope("request__", procedure, channel, None)
    ids = _ids(department)
    if ids is not None:
        q &= Q(department_id__in=ids)
    steps = RequestStep.objects.filter(
        q, status__in=(StepStatus.APPROVED, StepStatus.REJECTED), activated_at__isnull=False,
        decided_at__gte=start, decided_at__lt=end,
    )
    duration = ExpressionWrapper(F("decided_at") - F("activated_at"), output_field=DurationField())
    group = (*_proc_values("request__"), "key")
    if connection.vendor == "postgresql":
        rows = list(
            steps.values(*group)
            .annotate(
                decided=Count("pk"), step_name=Max("name"),
                median=PercentileDisc(duration, PERCENTILES[0], output_field=DurationField()),
                p90=PercentileDisc(duration, PERCENTILES[1], output_field=DurationField()),
            )
        )
    else:
        rows = list(steps.values(*group).annotate(decided=Count("pk"), step_name=Max("name")))
        timed = steps.annotate(duration=duration).order_by("duration")
        for r in rows:
            one = timed.filter(request__procedure_id=r["request__procedure_id"], key=r["key"]).values_list("duration", flat=True)
            r["median"] = one[_rank(r["decided"], PERCENTILES[0])]
            r["p90"] = one[_rank(r["decided"], PERCENTILES[1])]
    result = [
        StepTime(_ref(r, "request__"), r["key"], r["step_name"], r["decided"], r["median"], r["p90"]) for r in rows
    ]
    result.sort(key=lambda s: (s.procedure.name, s.key))
    return result


# --- Legal deadlines ----------------------------------------------------------------------------


def deadlines(date_from: dt.date, date_to: dt.date, *, procedure=None, channel: str | None = None,
              department=None) -> list[DeadlineRow]:
    """Requests decided in the range on or before their legal due date, after it, or not decided
    at all (ficta applied in the range), by procedure."""
    start, end = local_bounds(date_from, date_to)
    decided = Q(kind__in=DECISION_EVENTS)
    day = TruncDate("at")
    rows = (
        RequestEvent.objects.filter(_scope("request__", procedure, channel, department),
                                    kind__in=(*DECISION_EVENTS, EventKind.FICTA), at__gte=start, at__lt=end)
        .values(*_proc_values("request__"))
        .annotate(
            on_time=Count("pk", filter=decided & Q(request__due_date__gte=day)),
            late=Count("pk", filter=decided & Q(request__due_date__lt=day)),
            no_deadline=Count("pk", filter=decided & Q(request__due_date__isnull=True)),
            ficta=Count("pk", filter=Q(kind=EventKind.FICTA)),
        )
        .order_by("request__procedure__name")
    )
    return [DeadlineRow(_ref(r, "request__"), r["on_time"], r["late"], r["ficta"], r["no_deadline"]) for r in rows]


def overdue_open(*, today: dt.date | None = None, procedure=None, channel: str | None = None,
                 department=None) -> int:
    """Requests in review right now whose legal due date has already passed."""
    today = today or timezone.localdate()
    return Request.objects.filter(_scope("", procedure, channel, department), status=Status.IN_REVIEW,
                                  due_date__lt=today).count()


# --- Revenue ------------------------------------------------------------------------------------


def _paid_events(date_from: dt.date, date_to: dt.date, procedure, channel, department):
    start, end = local_bounds(date_from, date_to)
    # A request is paid once: handle_paid_order writes one public PAID event per order (a payment
    # arriving after a change of state is recorded as an internal event and is not revenue).
    return RequestEvent.objects.filter(_scope("request__", procedure, channel, department), kind=EventKind.PAID,
                                       internal=False, at__gte=start, at__lt=end)


def _refunds(date_from: dt.date, date_to: dt.date, procedure, channel, department) -> list[tuple[dict, dt.datetime, int]]:
    """Refunds completed in the range on requests in scope: (procedure values, when, centavos)."""
    from ventanilla.payments import selectors as payments_selectors

    from .services import SOURCE_PREFIX

    start, end = local_bounds(date_from, date_to)
    refunds = payments_selectors.refunded_credited_centavos(SOURCE_PREFIX, start, end)
    if not refunds:
        return []
    public_ids = {ref.removeprefix(SOURCE_PREFIX) for ref, _, _ in refunds}
    procedures = {
        str(row["public_id"]): row
        for row in Request.objects.filter(_scope("", procedure, channel, department), public_id__in=public_ids)
        .values("public_id", *_proc_values())
    }
    return [(procedures[ref.removeprefix(SOURCE_PREFIX)], at, centavos) for ref, at, centavos in refunds
            if ref.removeprefix(SOURCE_PREFIX) in procedures]


def revenue(date_from: dt.date, date_to: dt.date, *, procedure=None, channel: str | None = None,
            department=None) -> list[RevenueRow]:
    """Fees (integer centavos) of the requests paid in the range and fees refunded in it, by
    procedure (largest net first)."""
    rows = (
        _paid_events(date_from, date_to, procedure, channel, department)
        .values(*_proc_values("request__"))
        .annotate(n=Count("request_id", distinct=True), total=Sum("request__fee_centavos"))
    )
    received = {r["request__procedure_id"]: (_ref(r, "request__"), r["n"], int(r["total"] or 0)) for r in rows}
    refunded: dict[int, int] = defaultdict(int)
    for values, _at, centavos in _refunds(date_from, date_to, procedure, channel, department):
        refunded[values["procedure_id"]] += centavos
        received.setdefault(values["procedure_id"], (_ref(values), 0, 0))
    result = [RevenueRow(ref, n, total, refunded.get(pk, 0)) for pk, (ref, n, total) in received.items()]
    return sorted(result, key=lambda r: (-r.net_centavos, r.procedure.name))


def revenue_by_month(date_from: dt.date, date_to: dt.date, *, procedure=None, channel: str | None = None,
                     department=None) -> list[tuple[dt.date, int]]:
    """Net centavos per calendar month (local time): received minus refunded in that month,
    months without movements included."""
    rows = (
        _paid_events(date_from, date_to, procedure, channel, department)
        .annotate(month=TruncMonth("at"))
        .values("month")
        .annotate(total=Sum("request__fee_centavos"))
        .order_by("month")
    )
    totals: dict[dt.date, int] = defaultdict(int)
    for r in rows:
        totals[_as_date(r["month"])] += int(r["total"] or 0)
    for _values, at, centavos in _refunds(date_from, date_to, procedure, channel, department):
        totals[timezone.localdate(at).replace(day=1)] -= centavos
    result = []
    month = date_from.replace(day=1)
    while month <= date_to:
        result.append((month, totals.get(month, 0)))
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return result


# --- Outcomes -----------------------------------------------------------------------------------


def outcomes(date_from: dt.date, date_to: dt.date, *, procedure=None, channel: str | None = None,
             department=None) -> list[OutcomeRow]:
    """Requests that reached a final state in the range, by procedure and state (approved,
    rejected, afirmativa ficta, negativa ficta, discarded)."""
    start, end = local_bounds(date_from, date_to)
    rows = (
        Request.objects.filter(_scope("", procedure, channel, department), status__in=OUTCOME_STATUSES,
                               resolved_at__gte=start, resolved_at__lt=end)
        .values(*_proc_values())
        .annotate(**{status: Count("pk", filter=Q(status=status)) for status in OUTCOME_STATUSES})
        .order_by("procedure__name")
    )
    return [OutcomeRow(_ref(r), {status: r[status] for status in OUTCOME_STATUSES}) for r in rows]
