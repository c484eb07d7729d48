"""The measurement dashboard (/oficina/medicion/): filters, tables, server-drawn SVG bar charts and a
CSV download of every table. Analysts and platform administrators see every department;
department administrators see their own. The figures come from `procedures.metrics`."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from ventanilla.identity.models import Role
from ventanilla.identity.permissions import departments_where, has_role, official_required
from ventanilla.opendata import charts
from ventanilla.organization import selectors as org_selectors
from ventanilla.payments.money import format_pesos

from . import metrics
from .models import Channel, Definition, Status

MAX_RANGE_DAYS = 3 * 366
VIEW_ROLES = (Role.ANALYST, Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)


# --- Who sees what ------------------------------------------------------------------------------


def visible_departments(user) -> list | None:
    """None when the official sees every department (analysts, platform administrators);
    otherwise the departments they administer."""
    if has_role(user, Role.ANALYST, Role.PLATFORM_ADMIN):
        return None
    return departments_where(user, Role.DEPARTMENT_ADMIN)


# --- Filters ------------------------------------------------------------------------------------


class DateInput(forms.DateInput):
    input_type = "date"


class FilterForm(forms.Form):
    desde = forms.DateField(label=gettext_lazy("Desde"), required=False, widget=DateInput(format="%Y-%m-%d"),
                            input_formats=["%Y-%m-%d", "%d/%m/%Y"],
                            error_messages={"invalid": gettext_lazy("Escribe una fecha válida, por ejemplo 2026-01-31.")})
    hasta = forms.DateField(label=gettext_lazy("Hasta"), required=False, widget=DateInput(format="%Y-%m-%d"),
                            input_formats=["%Y-%m-%d", "%d/%m/%Y"],
                            error_messages={"invalid": gettext_lazy("Escribe una fecha válida, por ejemplo 2026-01-31.")})
    tramite = forms.ChoiceField(label=gettext_lazy("Trámite"), required=False,
                                error_messages={"invalid_choice": gettext_lazy("Elige un trámite de la lista.")})
    canal = forms.ChoiceField(label=gettext_lazy("Canal"), required=False,
                              choices=[("", gettext_lazy("Todos los canales")), *Channel.choices],
                              error_messages={"invalid_choice": gettext_lazy("Elige un canal de la lista.")})
    dependencia = forms.ChoiceField(label=gettext_lazy("Dependencia"), required=False,
                                    error_messages={"invalid_choice": gettext_lazy("Elige una dependencia de la lista.")})

    def __init__(self, data, *, departments: list | None):
        today = timezone.localdate()
        self.default_to = today
        self.default_from = today - dt.timedelta(days=364)
        data = data.copy()
        for name, default in (("desde", self.default_from), ("hasta", self.default_to)):
            if not (data.get(name) or "").strip():
                data[name] = default.isoformat()  # shown in the form: the period is always visible
        super().__init__(data)
        self.departments = departments
        definitions = Definition.objects.filter(published_version__isnull=False).select_related("procedure__department")
        if departments is not None:
            definitions = definitions.filter(procedure__department__in=departments)
        self.procedures = {d.procedure.clave: d.procedure for d in definitions.order_by("procedure__name")}
        self.fields["tramite"].choices = [("", _("Todos los trámites")),
                                          *((p.clave, f"{p.name} ({p.clave})") for p in self.procedures.values())]
        if departments is None:
            ids = {p.department_id for p in self.procedures.values()}
            choices = list(org_selectors.departments_by_ids(ids))
        else:
            choices = list(departments)
        self.department_map = {d.slug: d for d in choices}
        self.fields["dependencia"].choices = [("", _("Todas") if departments is None else _("Todas las mías")),
                                              *((d.slug, d.name) for d in choices)]

    def clean(self):
        data = super().clean()
        date_from = data.get("desde") or self.default_from
        date_to = data.get("hasta") or self.default_to
        if "desde" in self.errors or "hasta" in self.errors:
            return data
        if date_from > date_to:
            self.add_error("hasta", _("La fecha final debe ser igual o posterior a la inicial."))
        elif (date_to - date_from).days > MAX_RANGE_DAYS:
            self.add_error("desde", _("El periodo puede abarcar como máximo tres años."))
        data["desde"], data["hasta"] = date_from, date_to
        return data

    def scope(self) -> Scope:
        data = self.cleaned_data
        procedure = self.procedures.get(data.get("tramite") or "")
        department = self.department_map.get(data.get("dependencia") or "")
        if department is not None:
            departments = [department.pk]
        elif self.departments is not None:
            departments = [d.pk for d in self.departments]
        else:
            departments = None
        return Scope(data["desde"], data["hasta"], procedure, data.get("canal") or None, departments)


@dataclass(frozen=True)
class Scope:
    date_from: dt.date
    date_to: dt.date
    procedure: object | None
    channel: str | None
    departments: list[int] | None

    @property
    def kwargs(self) -> dict:
        return {"procedure": self.procedure, "channel": self.channel, "department": self.departments}


# --- Tables -------------------------------------------------------------------------------------


@dataclass
class Table:
    slug: str
    title: str
    headers: list[str]
    rows: list[list[str]]  # as shown
    csv_headers: list[str]
    csv_rows: list[list[object]]  # raw values
    charts: list[tuple[str, str]] = field(default_factory=list)  # (caption, SVG)
    note: str = ""
    notes: list[str] = field(default_factory=list)  # one line per procedure
    text_columns: int = 1  # leading columns that are text (the rest are figures, right-aligned)


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "–"


def _hours(value: dt.timedelta) -> float:
    return round(value.total_seconds() / 3600, 1)


def _n(value) -> str:
    return charts.format_number(value)


def _channel_label(value: str) -> str:
    return str(dict(Channel.choices).get(value, value))


def _chart(categories, series, *, title: str, **kwargs) -> tuple[str, str]:
    """(caption, SVG) of a horizontal bar chart; the caption is shown above it."""
    return title, charts.bar_chart(categories, series, title=title, **kwargs)


def submissions_table(scope: Scope) -> Table:
    rows = metrics.submissions(scope.date_from, scope.date_to, **scope.kwargs)
    channels = [c for c in Channel.values if any(r.channel == c for r in rows)] or list(Channel.values)
    by_procedure: dict[int, dict] = {}
    for r in rows:
        entry = by_procedure.setdefault(r.procedure.id, {"procedure": r.procedure, "counts": {}})
        entry["counts"][r.channel] = r.count
    ordered = sorted(by_procedure.values(), key=lambda e: (-sum(e["counts"].values()), e["procedure"].name))
    headers = [_("Trámite"), *(_channel_label(c) for c in channels), _("Total")]
    shown, raw = [], []
    for e in ordered:
        counts = [e["counts"].get(c, 0) for c in channels]
        shown.append([e["procedure"].name, *(_n(v) for v in counts), _n(sum(counts))])
        raw.append([e["procedure"].clave, e["procedure"].name, *counts, sum(counts)])
    svg = []
    if ordered:
        svg.append(_chart(
            [e["procedure"].name for e in ordered],
            [charts.Series(_channel_label(c), [e["counts"].get(c, 0) for e in ordered]) for c in channels],
            title=_("Solicitudes presentadas por trámite y canal"),
            description=_("Barras por trámite, una por canal; los números están en la tabla."),
            x_label=_("Trámite"), y_label=_("Solicitudes presentadas"), chart_id="grafica-solicitudes",
        ))
    return Table("solicitudes", _("Solicitudes presentadas"), headers, shown,
                 [_("Clave"), _("Trámite"), *(_channel_label(c) for c in channels), _("Total")], raw, svg)


def months_table(scope: Scope) -> Table:
    counts = metrics.submissions_by_month(scope.date_from, scope.date_to, **scope.kwargs)
    money = dict(metrics.revenue_by_month(scope.date_from, scope.date_to, **scope.kwargs))
    labels = [m.month.strftime("%Y-%m") for m in counts]
    shown = [[label, _n(m.count), format_pesos(money.get(m.month, 0))] for label, m in zip(labels, counts)]
    raw = [[label, m.count, money.get(m.month, 0)] for label, m in zip(labels, counts)]
    svg = [_chart(
        labels, [charts.Series(_("Solicitudes"), [m.count for m in counts])],
        title=_("Solicitudes presentadas por mes"),
        description=_("Una barra por mes; los números están en la tabla."),
        x_label=_("Mes"), y_label=_("Solicitudes presentadas"), chart_id="grafica-meses",
    )] if counts else []
    return Table("meses", _("Por mes"), [_("Mes"), _("Solicitudes presentadas"), _("Ingresos netos")], shown,
                 [_("Mes"), _("Solicitudes presentadas"), _("Ingresos netos (centavos)")], raw, svg)


def funnel_table(scope: Scope) -> Table:
    funnels = metrics.form_funnel(scope.date_from, scope.date_to, **scope.kwargs)
    shown, raw, svg = [], [], []
    for i, f in enumerate(funnels):
        for p in f.pages:
            shown.append([f.procedure.name, p.title, _n(p.reached), _n(p.completed), _pct(p.completed, p.reached),
                          _n(p.abandoned)])
            raw.append([f.procedure.clave, f.procedure.name, p.key, p.title, f.started, f.submitted, p.reached,
                        p.completed, p.abandoned])
        if f.pages:
            svg.append(_chart(
                [p.title for p in f.pages],
                [charts.Series(_("Llegaron"), [p.reached for p in f.pages]),
                 charts.Series(_("Completaron"), [p.completed for p in f.pages]),
                 charts.Series(_("Abandonaron ahí"), [p.abandoned for p in f.pages])],
                title=_("Embudo del formulario: %(p)s") % {"p": f.procedure.name},
                description=_("%(started)s borradores iniciados, %(submitted)s presentados. Por página: cuántos "
                              "llegaron, cuántos la completaron y cuántos la dejaron ahí.")
                % {"started": _n(f.started), "submitted": _n(f.submitted)},
                x_label=_("Página del formulario"), y_label=_("Borradores"), chart_id=f"grafica-embudo-{i}",
            ))
    notes = [
        _("%(p)s: %(started)s iniciados, %(submitted)s presentados (%(rate)s), %(expired)s vencidos, "
          "%(none)s sin ver ninguna página.")
        % {"p": f.procedure.name, "started": _n(f.started), "submitted": _n(f.submitted),
           "rate": _pct(f.submitted, f.started), "expired": _n(f.expired), "none": _n(f.no_page_viewed)}
        for f in funnels
    ]
    return Table("embudo", _("Embudo del formulario"),
                 [_("Trámite"), _("Página"), _("Llegaron"), _("Completaron"), _("% completaron"), _("Abandonaron ahí")],
                 shown,
                 [_("Clave"), _("Trámite"), _("Página (clave)"), _("Página"), _("Borradores iniciados"),
                  _("Presentados"), _("Llegaron"), _("Completaron"), _("Abandonaron ahí")], raw, svg,
                 notes=notes, text_columns=2)


def steps_table(scope: Scope) -> Table:
    rows = metrics.step_times(scope.date_from, scope.date_to, **scope.kwargs)
    shown = [[s.procedure.name, s.name, _n(s.decided), _n(_hours(s.median)), _n(_hours(s.p90))] for s in rows]
    raw = [[s.procedure.clave, s.procedure.name, s.key, s.name, s.decided, int(s.median.total_seconds()),
            int(s.p90.total_seconds())] for s in rows]
    svg = [_chart(
        [f"{s.procedure.clave} · {s.name}" for s in rows],
        [charts.Series(_("Mediana"), [_hours(s.median) for s in rows]),
         charts.Series(_("Percentil 90"), [_hours(s.p90) for s in rows])],
        title=_("Horas en cada paso de revisión"),
        description=_("Mediana y percentil 90 del tiempo entre que el paso se activó y se decidió."),
        x_label=_("Paso"), y_label=_("Horas"), chart_id="grafica-pasos",
    )] if rows else []
    return Table("pasos", _("Tiempo en cada paso de revisión"),
                 [_("Trámite"), _("Paso"), _("Decididos"), _("Mediana (horas)"), _("Percentil 90 (horas)")], shown,
                 [_("Clave"), _("Trámite"), _("Paso (clave)"), _("Paso"), _("Decididos"), _("Mediana (segundos)"),
                  _("Percentil 90 (segundos)")], raw, svg, text_columns=2)


def deadlines_table(scope: Scope) -> Table:
    rows = metrics.deadlines(scope.date_from, scope.date_to, **scope.kwargs)
    shown = [[r.procedure.name, _n(r.on_time), _n(r.late), _n(r.ficta), _n(r.no_deadline),
              _pct(r.on_time, r.with_deadline)] for r in rows]
    raw = [[r.procedure.clave, r.procedure.name, r.on_time, r.late, r.ficta, r.no_deadline] for r in rows]
    svg = [_chart(
        [r.procedure.name for r in rows],
        [charts.Series(_("A tiempo"), [r.on_time for r in rows]), charts.Series(_("Tarde"), [r.late for r in rows]),
         charts.Series(_("Ficta"), [r.ficta for r in rows])],
        title=_("Cumplimiento de plazos legales"),
        description=_("Solicitudes resueltas a tiempo, tarde o por ficta, por trámite."),
        x_label=_("Trámite"), y_label=_("Solicitudes"), chart_id="grafica-plazos",
    )] if rows else []
    overdue = metrics.overdue_open(**scope.kwargs)
    note = _("Hoy hay %(n)s solicitudes en revisión con el plazo legal vencido.") % {"n": _n(overdue)}
    return Table("plazos", _("Cumplimiento de plazos"),
                 [_("Trámite"), _("A tiempo"), _("Tarde"), _("Ficta"), _("Sin plazo legal"), _("% a tiempo")], shown,
                 [_("Clave"), _("Trámite"), _("A tiempo"), _("Tarde"), _("Ficta"), _("Sin plazo legal")], raw, svg, note)


def revenue_table(scope: Scope) -> Table:
    rows = metrics.revenue(scope.date_from, scope.date_to, **scope.kwargs)
    total = sum(r.net_centavos for r in rows)
    refunded = sum(r.refunded_centavos for r in rows)
    shown = [[r.procedure.name, _n(r.paid_requests), format_pesos(r.centavos), format_pesos(r.refunded_centavos),
              format_pesos(r.net_centavos)] for r in rows]
    raw = [[r.procedure.clave, r.procedure.name, r.paid_requests, r.centavos, r.refunded_centavos, r.net_centavos]
           for r in rows]
    svg = [_chart(
        [r.procedure.name for r in rows], [charts.Series(_("Pesos"), [r.net_centavos / 100 for r in rows])],
        title=_("Ingresos por trámite"),
        description=_("Derechos cobrados de solicitudes pagadas en el periodo, menos los reembolsados en él."),
        x_label=_("Trámite"), y_label=_("Pesos"), chart_id="grafica-ingresos",
    )] if rows else []
    note = _("Total: %(total)s (reembolsos: %(refunded)s).") % {"total": format_pesos(total),
                                                                "refunded": format_pesos(refunded)}
    return Table("ingresos", _("Ingresos"),
                 [_("Trámite"), _("Solicitudes pagadas"), _("Cobrado"), _("Reembolsado"), _("Ingresos netos")], shown,
                 [_("Clave"), _("Trámite"), _("Solicitudes pagadas"), _("Cobrado (centavos)"),
                  _("Reembolsado (centavos)"), _("Ingresos netos (centavos)")], raw, svg, note)


def outcomes_table(scope: Scope) -> Table:
    rows = metrics.outcomes(scope.date_from, scope.date_to, **scope.kwargs)
    labels = {Status.APPROVED: _("Aprobadas"), Status.REJECTED: _("Negadas"), Status.APPROVED_FICTA: _("Afirmativa ficta"),
              Status.DENIED_FICTA: _("Negativa ficta"), Status.DISCARDED: _("Desechadas")}
    statuses = list(metrics.OUTCOME_STATUSES)
    shown = [[r.procedure.name, *(_n(r.counts[s]) for s in statuses), _n(r.total)] for r in rows]
    raw = [[r.procedure.clave, r.procedure.name, *(r.counts[s] for s in statuses), r.total] for r in rows]
    svg = [_chart(
        [r.procedure.name for r in rows], [charts.Series(labels[s], [r.counts[s] for r in rows]) for s in statuses],
        title=_("Resultados de las solicitudes"), description=_("Solicitudes resueltas en el periodo, por resultado."),
        x_label=_("Trámite"), y_label=_("Solicitudes"), chart_id="grafica-resultados",
    )] if rows else []
    headers = [_("Trámite"), *(labels[s] for s in statuses), _("Total")]
    return Table("resultados", _("Resultados"), headers, shown, [_("Clave"), *headers], raw, svg)


TABLES: dict[str, Callable[[Scope], Table]] = {
    "solicitudes": submissions_table,
    "meses": months_table,
    "embudo": funnel_table,
    "pasos": steps_table,
    "plazos": deadlines_table,
    "ingresos": revenue_table,
    "resultados": outcomes_table,
}


# --- Views --------------------------------------------------------------------------------------


def _form(request: HttpRequest) -> FilterForm:
    return FilterForm(request.GET, departments=visible_departments(request.user))


@official_required(*VIEW_ROLES)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    context: dict = {"form": form, "tables": []}
    if not form.is_valid():
        return render(request, "procedures/metrics/dashboard.html", context, status=400)
    scope = form.scope()
    context.update({
        "scope": scope,
        "tables": [build(scope) for build in TABLES.values()],
        "query": _query(form),
        "restricted": form.departments is not None,
    })
    return render(request, "procedures/metrics/dashboard.html", context)


def _query(form: FilterForm) -> str:
    from django.utils.http import urlencode

    data = form.cleaned_data
    return urlencode({
        "desde": data["desde"].isoformat(), "hasta": data["hasta"].isoformat(),
        "tramite": data.get("tramite") or "", "canal": data.get("canal") or "", "dependencia": data.get("dependencia") or "",
    })


def _csv_cell(value: object) -> object:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_response(table: Table, filename: str) -> HttpResponse:
    """The table's raw figures (centavos, seconds), UTF-8 with BOM so spreadsheets show accents."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(table.csv_headers)
    for row in table.csv_rows:
        writer.writerow([_csv_cell(v) for v in row])
    response = HttpResponse(("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@official_required(*VIEW_ROLES)
@require_GET
def table_csv(request: HttpRequest, table: str) -> HttpResponse:
    build = TABLES.get(table)
    if build is None:
        raise Http404
    form = _form(request)
    if not form.is_valid():
        messages = [str(e) for errors in form.errors.values() for e in errors]
        return HttpResponse(" ".join(messages), status=400, content_type="text/plain; charset=utf-8")
    scope = form.scope()
    return csv_response(build(scope), f"medicion-{table}-{scope.date_from.isoformat()}-{scope.date_to.isoformat()}.csv")
