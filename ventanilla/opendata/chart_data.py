"""The numbers behind the chart builder: one aggregate query to the datastore (never loading the
table into Python). Bars show the top categories plus "Otros"; lines follow the x column in order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .charts import Series
from .models import DataField, Resource
from .services import OpendataError

CHART_KINDS = (("barras", gettext_lazy("Barras")), ("lineas", gettext_lazy("Líneas")))
AGGREGATIONS = (("suma", gettext_lazy("Suma")), ("promedio", gettext_lazy("Promedio")),
                ("conteo", gettext_lazy("Conteo de registros")))
MAX_SERIES = 4
TOP_CATEGORIES = 30
MAX_LINE_POINTS = 400
NUMERIC_TYPES = ("int", "numeric")


@dataclass(frozen=True)
class ChartRequest:
    kind: str
    x: str
    ys: tuple[str, ...]
    aggregation: str

    @classmethod
    def parse(cls, params: Mapping, fields: Sequence[DataField]) -> ChartRequest:
        """Validates the chart form's GET parameters against the resource's columns."""
        by_name = {f.name: f for f in fields}
        kind = params.get("tipo", "barras")
        if kind not in dict(CHART_KINDS):
            raise OpendataError(_("El tipo de gráfica debe ser «barras» o «lineas»."), field="tipo")
        aggregation = params.get("agregacion", "suma")
        if aggregation not in dict(AGGREGATIONS):
            raise OpendataError(_("La agregación debe ser «suma», «promedio» o «conteo»."), field="agregacion")
        x = params.get("x", "")
        if x not in by_name:
            raise OpendataError(_("Elige la columna para el eje horizontal."), field="x")
        getlist = getattr(params, "getlist", None)
        ys = [y for y in (getlist("y") if getlist else params.get("y", [])) if y]
        if isinstance(ys, str):
            ys = [ys]
        if aggregation == "conteo":
            ys = []
        else:
            if not ys:
                raise OpendataError(_("Elige al menos una columna numérica para los valores."), field="y")
            if len(ys) > MAX_SERIES:
                raise OpendataError(_("Elige como máximo %d columnas de valores.") % MAX_SERIES, field="y")
            for y in ys:
                if y not in by_name:
                    raise OpendataError(_("No existe la columna «%s».") % str(y)[:63], field="y")
                if by_name[y].type not in NUMERIC_TYPES:
                    raise OpendataError(
                        _("La columna «%s» no es numérica: no se puede sumar ni promediar.") % (by_name[y].label or y),
                        field="y",
                    )
        return cls(kind=kind, x=x, ys=tuple(dict.fromkeys(ys)), aggregation=aggregation)


@dataclass
class ChartData:
    request: ChartRequest
    categories: list[str]
    series: list[Series]
    others: int = 0  # categories folded into "Otros"
    truncated: bool = False  # lines: more points than drawn
    rows_total: int = 0
    labels: dict[str, str] = field(default_factory=dict)

    def value_label(self, labels: Mapping[str, str]) -> str:
        if self.request.aggregation == "conteo":
            return _("Número de registros")
        names = ", ".join(labels.get(y, y) for y in self.request.ys)
        return (_("Suma de %s") if self.request.aggregation == "suma" else _("Promedio de %s")) % names

    def describe(self, x_label: str) -> str:
        text = _("%(kind)s con %(n)d categorías de «%(x)s».") % {
            "kind": dict(CHART_KINDS)[self.request.kind], "n": len(self.categories), "x": x_label}
        if self.others:
            text += " " + _("Se muestran las %d categorías mayores; las demás se juntan en «Otros».") % TOP_CATEGORIES
        if self.truncated:
            text += " " + _("Solo se muestran los primeros %d valores.") % MAX_LINE_POINTS
        return text + " " + _("Los mismos datos están en la tabla junto a la gráfica.")


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _number(value) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _category(value) -> str:
    if value is None or value == "":
        return _("(vacío)")
    return str(value)[:10] if hasattr(value, "isoformat") and not isinstance(value, str) else str(value)


def build_sql(resource: Resource, req: ChartRequest) -> tuple[str, str]:
    """(grouped query, totals query) over the resource's datastore table."""
    table, x = quote(str(resource.pk)), quote(req.x)
    select, totals = [], []
    if req.aggregation == "conteo":
        select.append("COUNT(*) AS v0, COUNT(*) AS s0, COUNT(*) AS c0")
        totals.append("COUNT(*) AS s0, COUNT(*) AS c0")
    else:
        for i, y in enumerate(req.ys):
            col = quote(y)
            metric = f"SUM({col})" if req.aggregation == "suma" else f"AVG({col})"
            select.append(f"{metric} AS v{i}, SUM({col}) AS s{i}, COUNT({col}) AS c{i}")
            totals.append(f"SUM({col}) AS s{i}, COUNT({col}) AS c{i}")
    if req.kind == "barras":
        order, limit = "v0 DESC", TOP_CATEGORIES + 1
    else:
        order, limit = "categoria ASC", MAX_LINE_POINTS + 1
    grouped = (f"SELECT {x} AS categoria, {', '.join(select)} FROM {table} "
               f"GROUP BY {x} ORDER BY {order} LIMIT {limit}")
    total = f"SELECT COUNT(*) AS n, {', '.join(totals)} FROM {table}"
    return grouped, total


def aggregate(resource: Resource, req: ChartRequest, *, user=None,
              labels: Mapping[str, str] | None = None) -> ChartData:
    """Runs the aggregate through `datastore.search_sql` (read-only, private tables refused for
    those who may not see them) and folds small categories into "Otros"."""
    from . import datastore

    grouped_sql, total_sql = build_sql(resource, req)
    records = datastore.search_sql(grouped_sql, user=user)["records"]
    n_series = max(len(req.ys), 1)
    truncated = False
    if req.kind == "barras":
        limit = TOP_CATEGORIES
    else:
        limit = MAX_LINE_POINTS
    if len(records) > limit:
        records, truncated = records[:limit], True
    categories = [_category(r.get("categoria")) for r in records]
    values = [[_number(r.get(f"v{i}")) for r in records] for i in range(n_series)]
    totals = datastore.search_sql(total_sql, user=user)["records"][0]
    others = 0
    if truncated and req.kind == "barras":
        others_values = []
        for i in range(n_series):
            s_all, c_all = _number(totals.get(f"s{i}")) or 0.0, _number(totals.get(f"c{i}")) or 0.0
            s_top = sum(_number(r.get(f"s{i}")) or 0.0 for r in records)
            c_top = sum(_number(r.get(f"c{i}")) or 0.0 for r in records)
            if req.aggregation == "promedio":
                others_values.append((s_all - s_top) / (c_all - c_top) if c_all - c_top > 0 else None)
            elif req.aggregation == "conteo":
                others_values.append(c_all - c_top)
            else:
                others_values.append(s_all - s_top)
        categories.append(_("Otros"))
        for i in range(n_series):
            values[i].append(others_values[i])
        others = 1
        truncated = False
    labels = labels or {}
    names = [labels.get(y) or y for y in req.ys] if req.ys else [_("Registros")]
    series = [Series(name=names[i], values=values[i]) for i in range(n_series)]
    return ChartData(request=req, categories=categories, series=series, others=others,
                     truncated=truncated, rows_total=int(_number(totals.get("n")) or 0))
