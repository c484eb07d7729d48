"""The officials' work queues: which requests a reviewer sees, filtered, sorted by legal due date
(soonest first; requests without a running clock last) and paged by keyset, with no OFFSET and no
COUNT, so any page of a department with 100,000 requests costs about as much
as the first page of an empty one.

Tabs
    * "pendientes": requests still open (in review, or waiting for the resident's correction) with
      an ACTIVE step in a department where the official reviews or administers.
    * "todas": every filed request of the departments where the official reviews, administers or
      serves at the counter, in any status: the departments' own requests, and those of other
      departments that have a review step in theirs. Drafts are the resident's own work and never
      appear.

How a page is read (checked with EXPLAIN on PostgreSQL with 200,000 requests): the queue is split
into disjoint "streams" that the database can each read in due-date order straight from an index
(one department, and one status unless every filed status is wanted: no OR across tables, no
IN list in front of the sort key); each stream gives at most a page after the cursor and the page is merged
in Python. Which other departments' requests a department reviews is known from the published
definitions (their steps), so a department that reviews nobody else's requests reads nothing
more. A step condition with few matches is turned into a list of ids first, so a sparse queue
never walks a long index.

Deadlines (`deadline_of`): an open request whose legal due date passed is overdue (red), one due
within two business days is due soon (amber), the rest are on time (green); the text says so
too, never the colour alone.
"""

from __future__ import annotations

import base64
import datetime as dt
import heapq
import itertools
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ventanilla.identity.models import Role
from ventanilla.identity.permissions import departments_where, has_role

from . import calendar
from .models import (
    OPEN_STATUSES,
    Channel,
    DefinitionVersion,
    Request,
    RequestStep,
    Status,
    StepStatus,
)

PAGE_SIZE = 25
DUE_SOON_DAYS = 2
# Below this many matching steps the queue reads their request ids first (cheap, whatever the
# planner estimates); above it the matches are dense enough that walking the due-date index and
# checking each row's steps fills a page within a few rows.
STEP_IDS_LIMIT = 1000

REVIEW_ROLES = (Role.REVIEWER, Role.DEPARTMENT_ADMIN)
VIEW_ROLES = (Role.REVIEWER, Role.DEPARTMENT_ADMIN, Role.COUNTER_CLERK)


class Tab(StrEnum):
    PENDING = "pendientes"
    ALL = "todas"


class DeadlineState(StrEnum):
    OVERDUE = "vencida"
    DUE_SOON = "por-vencer"
    ON_TIME = "en-tiempo"


DEADLINE_LABELS = {
    DeadlineState.OVERDUE: gettext_lazy("Vencida"),
    DeadlineState.DUE_SOON: gettext_lazy("Por vencer (2 días hábiles o menos)"),
    DeadlineState.ON_TIME: gettext_lazy("En tiempo"),
}
DEADLINE_SHORT = {
    DeadlineState.OVERDUE: gettext_lazy("Vencida"),
    DeadlineState.DUE_SOON: gettext_lazy("Por vencer"),
    DeadlineState.ON_TIME: gettext_lazy("En tiempo"),
}
TAB_LABELS = {Tab.PENDING: gettext_lazy("Por atender"), Tab.ALL: gettext_lazy("Todas las de mi dependencia")}
ASSIGNMENT_LABELS = {"mias": gettext_lazy("Asignadas a mí"), "sin-asignar": gettext_lazy("Sin asignar")}
# Statuses an official can filter by: everything a filed request can be in.
FILED_STATUSES = [s for s in Status if s not in (Status.DRAFT, Status.EXPIRED)]


# --- Deadlines ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    due_date: dt.date
    days_left: int  # business days from today to the due date; negative when overdue
    state: DeadlineState

    @property
    def text(self) -> str:
        if self.state == DeadlineState.OVERDUE:
            n = -self.days_left
            return ngettext("Vencida hace %(n)s día hábil", "Vencida hace %(n)s días hábiles", n) % {"n": n}
        if self.days_left <= 0:
            return _("Vence hoy")
        return ngettext("Vence en %(n)s día hábil", "Vence en %(n)s días hábiles", self.days_left) % {"n": self.days_left}

    @property
    def short_label(self) -> str:
        return str(DEADLINE_SHORT[self.state])

    @property
    def css(self) -> str:
        return f"deadline--{self.state.value}"


def closed_days_for(today: dt.date) -> frozenset[dt.date]:
    """The city's declared non-working days around `today` (one query; pass to `deadline_of`)."""
    return calendar.closed_days(today.year - 1, today.year + 2)


def deadline_of(request: Request, *, today: dt.date, closed: frozenset[dt.date] = frozenset()) -> Deadline | None:
    """The legal deadline of a request in review, or None when no clock runs (a draft, a request
    waiting for the resident's correction, a resolved one, or a procedure without a term)."""
    if request.status != Status.IN_REVIEW or request.due_date is None:
        return None
    due = request.due_date
    if due < today:
        return Deadline(due, -calendar.business_days_between(due, today, extra_closed=closed), DeadlineState.OVERDUE)
    left = calendar.business_days_between(today, due, extra_closed=closed)
    return Deadline(due, left, DeadlineState.DUE_SOON if left <= DUE_SOON_DAYS else DeadlineState.ON_TIME)


def due_soon_limit(today: dt.date, closed: frozenset[dt.date] = frozenset()) -> dt.date:
    """The first date that is no longer "due soon": due dates in [today, limit) have at most
    DUE_SOON_DAYS business days left (whatever day of the week or holiday they fall on)."""
    return calendar.add_business_days(today, DUE_SOON_DAYS + 1, extra_closed=closed)


# --- Filters and pages -------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    tab: Tab = Tab.PENDING
    procedure_id: int | None = None
    status: str = ""
    channel: str = ""
    assignment: str = ""  # "" | "mias" | "sin-asignar"
    deadline: str = ""  # "" | DeadlineState value
    folio: str = ""
    department_id: int | None = None  # one of the official's departments

    @classmethod
    def from_query(cls, params) -> QueueFilters:
        """Reads the filters from a query string; unknown or malformed values are ignored."""
        def choice(name: str, allowed) -> str:
            value = (params.get(name) or "").strip()
            return value if value in allowed else ""

        def integer(name: str) -> int | None:
            value = (params.get(name) or "").strip()
            return int(value) if value.isascii() and value.isdigit() and len(value) <= 12 else None

        return cls(
            tab=Tab(choice("vista", [t.value for t in Tab]) or Tab.PENDING),
            procedure_id=integer("tramite"),
            status=choice("estado", [s.value for s in FILED_STATUSES]),
            channel=choice("canal", Channel.values),
            assignment=choice("asignacion", list(ASSIGNMENT_LABELS)),
            deadline=choice("plazo", [s.value for s in DeadlineState]),
            folio=(params.get("folio") or "").strip()[:40],
            department_id=integer("dependencia"),
        )

    def as_query(self) -> dict[str, str]:
        """The query-string form of these filters (for links that keep them)."""
        out = {
            "vista": self.tab.value, "tramite": str(self.procedure_id or ""), "estado": self.status,
            "canal": self.channel, "asignacion": self.assignment, "plazo": self.deadline, "folio": self.folio,
            "dependencia": str(self.department_id or ""),
        }
        return {k: v for k, v in out.items() if v}


def with_tab(filters: QueueFilters, tab: Tab) -> QueueFilters:
    return replace(filters, tab=tab)


@dataclass(frozen=True)
class Row:
    request: Request
    deadline: Deadline | None
    assigned_to_me: bool


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    next_cursor: str | None  # pass as `page` to get the following page
    previous_cursor: str | None  # pass as `page` to get the preceding page
    departments: list = field(default_factory=list)  # the departments this queue covers

    @property
    def is_first(self) -> bool:
        return self.previous_cursor is None


# Keyset cursors: "a" (after) or "b" (before), the boundary row's due date ("~" for none) and pk.
_CURSOR_RE = re.compile(r"^([ab]):(\d{4}-\d{2}-\d{2}|~):(\d{1,18})$")


@dataclass(frozen=True)
class Cursor:
    after: bool
    due_date: dt.date | None
    pk: int

    def encode(self) -> str:
        key = "~" if self.due_date is None else self.due_date.isoformat()
        raw = f"{'a' if self.after else 'b'}:{key}:{self.pk}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor | None:
        if not token or len(token) > 80:
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
        except (ValueError, UnicodeDecodeError):
            return None
        match = _CURSOR_RE.match(raw)
        if not match:
            return None
        direction, key, pk = match.groups()
        try:
            due = None if key == "~" else dt.date.fromisoformat(key)
        except ValueError:
            return None
        return cls(after=direction == "a", due_date=due, pk=int(pk))


def queue_departments(official, tab: Tab) -> list:
    """The departments whose requests this official's queue shows in `tab`."""
    return departments_where(official, *(REVIEW_ROLES if tab == Tab.PENDING else VIEW_ROLES))


# --- Streams -------------------------------------------------------------------------------------


def _with_steps_in(qs: QuerySet[Request], department_ids: Sequence[int] | None, *, active: bool) -> QuerySet[Request]:
    """Only requests with a step in these departments (any department when None); `active` only."""
    steps = RequestStep.objects.all()
    if department_ids is not None:
        steps = steps.filter(department_id__in=department_ids)
    if active:
        steps = steps.filter(status=StepStatus.ACTIVE)
    # Counted on the (department, status) index alone, then read when few. Ordered as that index
    # is, so PostgreSQL walks it instead of scanning the table in the hope of meeting matches soon.
    probe = steps.order_by("department_id", "status").values("department_id")
    if probe[: STEP_IDS_LIMIT + 1].count() <= STEP_IDS_LIMIT:
        return qs.filter(pk__in=set(steps.order_by().values_list("request_id", flat=True)))
    # Many: checked row by row as the page is read in due-date order. A LIMIT 1 subquery rather
    # than EXISTS, which the planner may turn into a join that reads every matching step first.
    first = steps.filter(request=OuterRef("pk")).order_by().values("pk")[:1]
    return qs.alias(step_in_departments=Subquery(first)).filter(step_in_departments__isnull=False)


def reviewed_elsewhere(departments: Sequence) -> dict[int, set[int]]:
    """{department id: procedure ids} of other departments' procedures that have a review step in
    one of `departments` in any version ever published (a request keeps its version's steps)."""
    slugs = {d.slug for d in departments}
    ids = {d.pk for d in departments}
    found: dict[int, set[int]] = defaultdict(set)
    rows = DefinitionVersion.objects.values_list(
        "definition__procedure_id", "definition__procedure__department_id", "spec__steps")
    for procedure_id, department_id, steps in rows:
        if department_id in ids or not isinstance(steps, list):
            continue
        if any(isinstance(s, dict) and s.get("department") in slugs for s in steps):
            found[department_id].add(procedure_id)
    return dict(found)


def _filtered(official, filters: QueueFilters, *, today: dt.date, closed: frozenset[dt.date]) -> QuerySet[Request]:
    qs = Request.objects.all()
    if filters.procedure_id is not None:
        qs = qs.filter(procedure_id=filters.procedure_id)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.assignment == "mias":
        qs = qs.filter(assigned_to=official)
    elif filters.assignment == "sin-asignar":
        qs = qs.filter(assigned_to__isnull=True)
    if filters.deadline:
        qs = qs.filter(due_date__isnull=False)
        if filters.deadline == DeadlineState.OVERDUE:
            qs = qs.filter(due_date__lt=today)
        elif filters.deadline == DeadlineState.DUE_SOON:
            qs = qs.filter(due_date__gte=today, due_date__lt=due_soon_limit(today, closed))
        else:
            qs = qs.filter(due_date__gte=due_soon_limit(today, closed))
    if filters.folio:
        qs = qs.filter(_folio_condition(filters.folio))
    return qs


def _statuses(filters: QueueFilters) -> list[str] | None:
    """The statuses the queue reads, one stream each; None for "every filed request", which the
    "all" tab reads in one stream per department from the index of filed requests."""
    if filters.tab == Tab.ALL and not filters.status and not filters.deadline:
        return None
    allowed = list(OPEN_STATUSES) if filters.tab == Tab.PENDING else list(FILED_STATUSES)
    if filters.deadline:
        allowed = [s for s in allowed if s == Status.IN_REVIEW]  # only a request in review has a running clock
    if filters.status:
        allowed = [s for s in allowed if s == filters.status]
    return allowed


def _streams(official, filters: QueueFilters, departments: Sequence, *, today: dt.date,
             closed: frozenset[dt.date]) -> list[QuerySet[Request]]:
    """The queue as disjoint querysets, one per department (or other department whose
    procedures this one reviews) and status, each read in due-date order from the index on
    (department, status, due_date, id), or from the one on filed requests' (department,
    due_date, id) when every status is wanted; (status, due_date) for a platform administrator."""
    ids = [d.pk for d in departments if filters.department_id in (None, d.pk)]
    everywhere = has_role(official, Role.PLATFORM_ADMIN) and filters.department_id is None
    statuses = _statuses(filters)
    if (not ids and not everywhere) or statuses == []:
        return []
    qs = _filtered(official, filters, today=today, closed=closed)
    pending = filters.tab == Tab.PENDING
    if pending:
        qs = _with_steps_in(qs, None if everywhere else ids, active=True)
    else:
        qs = qs.filter(submitted_at__isnull=False)

    def by_status(stream: QuerySet[Request]) -> list[QuerySet[Request]]:
        return [stream] if statuses is None else [stream.filter(status=s) for s in statuses]

    if everywhere:
        return [qs.filter(status=s) for s in (statuses or FILED_STATUSES)]
    streams = [s for i in ids for s in by_status(qs.filter(department_id=i))]
    elsewhere = reviewed_elsewhere([d for d in departments if d.pk in ids])
    if elsewhere:
        theirs = qs if pending else _with_steps_in(qs, ids, active=False)
        for department_id, procedures in sorted(elsewhere.items()):
            streams += by_status(theirs.filter(department_id=department_id, procedure_id__in=sorted(procedures)))
    return streams


def _folio_condition(text: str) -> Q:
    """A whole folio matches exactly; its number alone (or year-number) matches that request in
    any year (folios end in the request's number: services._make_folio); anything else is a
    case-insensitive part of the folio."""
    text = text.strip().upper()
    if re.fullmatch(r"[A-Z]{1,10}-\d{4}-\d{7,}", text):
        return Q(folio=text)
    number = re.fullmatch(r"(?:\d{4}-)?(\d{1,18})", text)
    if number and text.isascii():
        return Q(pk=int(number.group(1)), folio__endswith=text if "-" in text else f"-{number.group(1).zfill(7)}")
    return Q(folio__icontains=text)


# --- Keyset pages --------------------------------------------------------------------------------


def _segments(qs: QuerySet[Request], cursor: Cursor | None, forward: bool) -> list[QuerySet[Request]]:
    """A stream in queue order is (rows with a due date, by due date then pk) followed by (rows
    without one, by pk). The querysets to read, in reading order, after (`forward`) or before
    the cursor. A redundant range on the due date alone lets the index walk start at the cursor."""
    dated = qs.filter(due_date__isnull=False)
    undated = qs.filter(due_date__isnull=True)
    # Undated rows are ordered by (due_date, pk) too, which is pk order for them: the ORDER BY
    # then matches the index exactly and PostgreSQL reads it in order instead of sorting.
    ahead, back = ("due_date", "pk"), ("-due_date", "-pk")
    if forward:
        if cursor is None:
            return [dated.order_by(*ahead), undated.order_by(*ahead)]
        if cursor.due_date is None:
            return [undated.filter(pk__gt=cursor.pk).order_by(*ahead)]
        beyond = dated.filter(due_date__gte=cursor.due_date).filter(
            Q(due_date__gt=cursor.due_date) | Q(due_date=cursor.due_date, pk__gt=cursor.pk))
        return [beyond.order_by(*ahead), undated.order_by(*ahead)]
    assert cursor is not None
    if cursor.due_date is None:
        return [undated.filter(pk__lt=cursor.pk).order_by(*back), dated.order_by(*back)]
    before = dated.filter(due_date__lte=cursor.due_date).filter(
        Q(due_date__lt=cursor.due_date) | Q(due_date=cursor.due_date, pk__lt=cursor.pk))
    return [before.order_by(*back)]


Key = tuple[dt.date | None, int]  # (due_date, pk): where a row stands in the queue


def _queue_order(key: Key) -> tuple:
    due, pk = key
    return (due is None, due or dt.date.min, pk)


def _read(streams: list[QuerySet[Request]], cursor: Cursor | None, forward: bool, limit: int) -> list[Key]:
    """The keys of up to `limit` rows after (or before) the cursor, in reading order, across the
    streams. Only (due_date, pk) is read here; the page's rows are loaded once, afterwards."""
    runs = []
    for stream in streams:
        keys: list[Key] = []
        for part in _segments(stream, cursor, forward):
            if len(keys) >= limit:
                break
            keys.extend(part.values_list("due_date", "pk")[: limit - len(keys)])
        runs.append(keys)
    return list(itertools.islice(heapq.merge(*runs, key=_queue_order, reverse=not forward), limit))


def _cursor_for(request: Request, *, after: bool) -> str:
    return Cursor(after=after, due_date=request.due_date, pk=request.pk).encode()


def _load(keys: list[Key]) -> list[Request]:
    rows = Request.objects.select_related("procedure", "department", "applicant", "assigned_to").in_bulk(
        [pk for _due, pk in keys])
    return [rows[pk] for _due, pk in keys if pk in rows]


def department_queue(official, *, filters: QueueFilters, page: str = "", today: dt.date | None = None,
                     size: int | None = None) -> Page:
    """One page of the official's queue. `page` is a cursor from a previous Page ("" = first);
    `size` rows per page (PAGE_SIZE by default)."""
    size = size or PAGE_SIZE
    today = today or timezone.localdate()
    closed = closed_days_for(today)
    departments = queue_departments(official, filters.tab)
    streams = _streams(official, filters, departments, today=today, closed=closed)
    if not streams:
        return Page(rows=[], next_cursor=None, previous_cursor=None, departments=departments)
    cursor = Cursor.decode(page)
    if cursor is not None and not cursor.after:
        keys = _read(streams, cursor, False, size + 1)
        if len(keys) > size:
            return _page(official, _load(list(reversed(keys[:size]))), previous=True, following=True,
                         today=today, closed=closed, departments=departments)
        cursor = None  # reached the start: show the first page as it is now
    keys = _read(streams, cursor, True, size + 1)
    return _page(official, _load(keys[:size]), previous=cursor is not None, following=len(keys) > size,
                 today=today, closed=closed, departments=departments)


def _page(official, rows: list[Request], *, previous: bool, following: bool, today: dt.date,
          closed: frozenset[dt.date], departments: list) -> Page:
    # No total: counting a queue of 100,000 requests would cost more than reading the page.
    return Page(
        rows=[Row(r, deadline_of(r, today=today, closed=closed), r.assigned_to_id == official.pk) for r in rows],
        next_cursor=_cursor_for(rows[-1], after=True) if following and rows else None,
        previous_cursor=_cursor_for(rows[0], after=False) if previous and rows else None,
        departments=departments,
    )


# --- The counter ---------------------------------------------------------------------------------


def filed_by_clerk_on(clerk, day: dt.date) -> QuerySet[Request]:
    """The requests (drafts included) a counter clerk started for residents on `day`, newest first."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    return (
        Request.objects.filter(filed_by=clerk, created_at__gte=start, created_at__lt=start + dt.timedelta(days=1))
        .select_related("procedure", "applicant")
        .order_by("-created_at", "-pk")
    )
