"""Catalogue search (CKAN's `package_search`) computed directly on the database.

There is no separate search index that could drift out of sync with the catalogue: every call
reads the datasets the caller may see, normalises their text in Python (accent- and
case-insensitive Spanish, so SQLite and PostgreSQL rank identically) and counts facets over the
whole match. The catalogue of a municipality is modest (hundreds to a few thousand datasets), which
keeps this well within a request's budget.

`fq` understands CKAN's filter syntax for the faceted fields: `organization:obras-publicas`,
`tags:"agua potable"`, `groups:movilidad res_format:CSV` (several clauses are ANDed; a leading
`+` is accepted, `-field:value` excludes)."""

from __future__ import annotations

import re
import shlex
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, Q
from django.utils.translation import gettext as _

from .models import LICENSES, Dataset, Resource
from .selectors import visible_datasets
from .services import OpendataError

DEFAULT_ROWS = 10
MAX_ROWS = 1000
DEFAULT_SORT = "score desc, metadata_modified desc"
DEFAULT_FACET_LIMIT = 50  # CKAN's search.facets.limit
FACETABLE = ("organization", "groups", "tags", "res_format", "license_id")
# The facets the portal's search page shows, in this order.
PORTAL_FACETS = ("organization", "groups", "tags", "res_format", "license_id")
FQ_FIELDS = FACETABLE + ("owner_org", "name", "id", "dataset_type", "capacity", "state")
SORT_FIELDS = {"score", "metadata_modified", "metadata_created", "title_string", "title", "name",
               "num_resources", "num_tags"}

# Words too common in Spanish to say anything about a dataset.
STOP_WORDS = frozenset(
    """a al ante bajo con contra de del desde durante e el en entre hacia hasta la las lo los o para
    por segun sin sobre tras u un una unos unas y the of and datos""".split()
)
_WORD = re.compile(r"[a-z0-9ñ]+")
# Field weights for the relevance score.
WEIGHTS = {"title": 6.0, "name": 3.0, "tags": 4.0, "organization": 2.0, "groups": 2.0,
           "resources": 1.5, "notes": 1.0}


def normalize(text: str) -> str:
    """Lower case without accents ("Población" → "poblacion"); ñ is kept as n's own letter."""
    text = (text or "").lower().replace("ñ", "\x00")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.replace("\x00", "ñ")


def words(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


def query_terms(q: str) -> list[str]:
    """The words of a free-text query that count (CKAN's `*:*` means everything)."""
    q = (q or "").strip()
    if q in ("", "*:*", "*"):
        return []
    terms = [w for w in words(q) if w not in STOP_WORDS]
    if not terms:
        # A query made only of stop words ("de la") still has to match something literal.
        terms = words(q)
    return terms


# --- Parsing parameters --------------------------------------------------------------------------

@dataclass(frozen=True)
class Clause:
    field: str
    value: str
    negate: bool = False


def parse_fq(fq: str | Sequence[str] | None) -> list[Clause]:
    """CKAN/Solr filter clauses: `field:value`, `field:"value with spaces"`, ANDed; `AND` and a
    leading `+` are accepted, `-field:value` excludes. Raises OpendataError naming `fq`."""
    if not fq:
        return []
    if not isinstance(fq, str):
        fq = " ".join(str(part) for part in fq)
    if len(fq) > 2000:
        raise OpendataError(_("El filtro fq es demasiado largo."), field="fq")
    try:
        tokens = shlex.split(fq, posix=True)
    except ValueError:
        raise OpendataError(_("El filtro fq tiene comillas sin cerrar."), field="fq") from None
    clauses = []
    for token in tokens:
        if token.upper() == "AND":
            continue
        negate = token.startswith("-")
        token = token.lstrip("+-")
        key, sep, value = token.partition(":")
        if not sep or not key or not value:
            raise OpendataError(
                _("No se entiende el filtro «%s»: usa campo:valor, por ejemplo organization:tesoreria.") % token[:80],
                field="fq",
            )
        if key not in FQ_FIELDS:
            raise OpendataError(
                _("No se puede filtrar por «%(field)s». Campos posibles: %(fields)s.")
                % {"field": key[:40], "fields": ", ".join(FQ_FIELDS)},
                field="fq",
            )
        value = value.strip('"')
        if value.startswith("(") and value.endswith(")"):
            value = value[1:-1].strip('"')
        clauses.append(Clause(key, value, negate))
    return clauses


def parse_sort(sort: str | None) -> list[tuple[str, bool]]:
    """`"title_string asc, metadata_modified desc"` → [(field, descending)]."""
    sort = (sort or "").strip() or DEFAULT_SORT
    result = []
    for part in sort.split(","):
        bits = part.split()
        if not bits:
            continue
        if len(bits) > 2 or bits[0] not in SORT_FIELDS or (len(bits) == 2 and bits[1].lower() not in ("asc", "desc")):
            raise OpendataError(
                _("No se puede ordenar por «%(sort)s». Usa uno de %(fields)s seguido de asc o desc.")
                % {"sort": part.strip()[:60], "fields": ", ".join(sorted(SORT_FIELDS))},
                field="sort",
            )
        result.append((bits[0], len(bits) == 2 and bits[1].lower() == "desc"))
    return result or parse_sort(DEFAULT_SORT)


def _int(value: Any, *, field: str, default: int, minimum: int, maximum: int | None = None) -> int:
    if value in (None, ""):
        return default
    if isinstance(value, bool):
        raise OpendataError(_("«%s» debe ser un número entero.") % field, field=field)
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise OpendataError(_("«%s» debe ser un número entero.") % field, field=field) from None
    if number < minimum:
        raise OpendataError(_("«%(field)s» no puede ser menor que %(min)d.") % {"field": field, "min": minimum},
                            field=field)
    # CKAN caps rows silently at its maximum; offsets beyond any catalogue are the same as its end.
    return min(number, maximum if maximum is not None else 10**9)


# --- Documents ------------------------------------------------------------------------------------

@dataclass
class _Doc:
    dataset: Dataset
    fields: dict[str, set[str]]  # field → its normalised words
    facet_values: dict[str, list[str]]
    score: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def _documents(datasets: Iterable[Dataset]) -> list[_Doc]:
    docs = []
    for dataset in datasets:
        tags = list(dataset.tags.all())
        themes = list(dataset.themes.all())
        resources = list(dataset.resources.all())
        org = dataset.organization
        docs.append(_Doc(
            dataset=dataset,
            fields={
                "title": set(words(dataset.title)),
                "name": set(words(dataset.name.replace("-", " ").replace("_", " "))),
                "tags": {w for t in tags for w in words(t.name)},
                "organization": set(words(f"{org.name} {org.acronym} {org.slug.replace('-', ' ')}")),
                "groups": {w for t in themes for w in words(t.title)},
                "resources": {w for r in resources for w in words(f"{r.name} {r.description}")},
                "notes": set(words(dataset.notes)),
            },
            facet_values={
                "organization": [org.slug],
                "groups": [t.name for t in themes],
                "tags": [t.name for t in tags],
                "res_format": sorted({r.format for r in resources if r.format}),
                "license_id": [dataset.license_id],
                "owner_org": [str(org.pk)],
                "name": [dataset.name],
                "id": [str(dataset.pk)],
                "dataset_type": ["dataset"],
                "capacity": ["private" if dataset.private else "public"],
                "state": [dataset.state],
            },
            extra={"titles": {
                "organization": {org.slug: org.name},
                "groups": {t.name: t.title for t in themes},
            }},
        ))
    return docs


def _term_score(term: str, doc: _Doc) -> float:
    """Weight of the best field where `term` is a word, or a word's prefix (luminaria →
    luminarias). Zero when it is nowhere."""
    best = 0.0
    for name, vocabulary in doc.fields.items():
        weight = WEIGHTS[name]
        if term in vocabulary:
            best = max(best, weight * 1.5)
        elif len(term) >= 3 and any(w.startswith(term) for w in vocabulary):
            best = max(best, weight)
    return best


def _matches(clause: Clause, doc: _Doc) -> bool:
    values = doc.facet_values.get(clause.field, [])
    if clause.field in ("res_format", "tags"):
        hit = clause.value.lower() in {v.lower() for v in values}
    else:
        hit = clause.value in values
    return hit != clause.negate


def _sort_key(fields: list[tuple[str, bool]]):
    def key(doc: _Doc):
        parts = []
        d = doc.dataset
        for name, descending in fields:
            if name == "score":
                value: Any = doc.score
            elif name in ("metadata_modified", "metadata_created"):
                value = getattr(d, name).timestamp()
            elif name in ("title_string", "title"):
                value = normalize(d.title)
            elif name == "num_resources":
                value = doc.extra["num_resources"]
            elif name == "num_tags":
                value = len(doc.facet_values["tags"])
            else:
                value = d.name
            parts.append(_Reverse(value) if descending else value)
        parts.append(d.name)  # stable tie-breaker
        return parts
    return key


class _Reverse:
    """Inverts the order of one sort key component."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __lt__(self, other: _Reverse) -> bool:
        return other.value < self.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reverse) and other.value == self.value


# --- The search -------------------------------------------------------------------------------------

def package_search(
    user=None,
    q: str = "",
    fq: str | Sequence[str] | None = "",
    rows: Any = DEFAULT_ROWS,
    start: Any = 0,
    sort: str | None = None,
    facet_fields: Sequence[str] | None = (),
    facet_limit: Any = DEFAULT_FACET_LIMIT,
    facet_mincount: Any = 1,
    include_private: bool = False,
    include_drafts: bool = False,
) -> dict[str, Any]:
    """CKAN's package_search over the datasets `user` may see. Returns
    {"count", "results" (Dataset instances, the requested page), "facets" ({field: {value: n}}),
    "search_facets" ({field: {"title", "items": [{"name", "display_name", "count"}]}}), "sort"}.

    Public active datasets are always searched; `include_private` adds the private ones of the
    departments `user` publishes for, `include_drafts` their drafts. Raises OpendataError (400)
    naming the parameter for bad input."""
    if q is not None and not isinstance(q, str):
        raise OpendataError(_("«q» debe ser texto."), field="q")
    if q and len(q) > 1000:
        raise OpendataError(_("La búsqueda es demasiado larga."), field="q")
    rows = _int(rows, field="rows", default=DEFAULT_ROWS, minimum=0, maximum=MAX_ROWS)
    start = _int(start, field="start", default=0, minimum=0)
    facet_limit = _int(facet_limit, field="facet.limit", default=DEFAULT_FACET_LIMIT, minimum=-1)
    facet_mincount = _int(facet_mincount, field="facet.mincount", default=1, minimum=0)
    clauses = parse_fq(fq)
    sort_fields = parse_sort(sort)
    facet_fields = list(facet_fields or [])
    for name in facet_fields:
        if name not in FACETABLE:
            raise OpendataError(
                _("No hay facetas para «%(field)s». Campos posibles: %(fields)s.")
                % {"field": str(name)[:40], "fields": ", ".join(FACETABLE)},
                field="facet.field",
            )

    visible = Q(state=Dataset.State.ACTIVE, private=False)
    if include_private or include_drafts:
        allowed = visible_datasets(user)
        states = [Dataset.State.ACTIVE] + ([Dataset.State.DRAFT] if include_drafts else [])
        extra = Q(state__in=states)
        if not include_private:
            extra &= Q(private=False)
        queryset = allowed.filter(visible | extra)
    else:
        queryset = Dataset.objects.filter(visible)
    queryset = queryset.select_related("organization").prefetch_related(
        "tags", "themes", Prefetch("resources", queryset=Resource.objects.only(
            "id", "dataset_id", "name", "description", "format", "position", "created"))
    )
    docs = _documents(queryset)
    for doc in docs:
        doc.extra["num_resources"] = len(doc.dataset.resources.all())

    terms = query_terms(q or "")
    matched = []
    for doc in docs:
        if not all(_matches(c, doc) for c in clauses):
            continue
        if terms:
            scores = [_term_score(t, doc) for t in terms]
            if not all(scores):
                continue
            doc.score = sum(scores)
        matched.append(doc)

    matched.sort(key=_sort_key(sort_fields))
    facets, search_facets = _facets(matched, facet_fields, facet_limit, facet_mincount)
    return {
        "count": len(matched),
        "results": [doc.dataset for doc in matched[start:start + rows]],
        "facets": facets,
        "search_facets": search_facets,
        "sort": ", ".join(f"{f} {'desc' if d else 'asc'}" for f, d in sort_fields),
    }


def _facets(docs: list[_Doc], facet_fields: list[str], limit: int, mincount: int):
    facets: dict[str, dict[str, int]] = {}
    search_facets: dict[str, dict[str, Any]] = {}
    for name in facet_fields:
        counts: Counter[str] = Counter()
        titles: dict[str, str] = {}
        for doc in docs:
            counts.update(set(doc.facet_values[name]))
            titles.update(doc.extra["titles"].get(name, {}))
        items = sorted(((v, n) for v, n in counts.items() if n >= mincount), key=lambda item: (-item[1], item[0]))
        if limit >= 0:
            items = items[:limit]
        facets[name] = dict(items)
        search_facets[name] = {
            "title": name,
            "items": [{"name": v, "display_name": _display_name(name, v, titles), "count": n} for v, n in items],
        }
    return facets, search_facets


def _display_name(facet: str, value: str, titles: dict[str, str]) -> str:
    if facet == "license_id":
        return LICENSES.get(value, (value, ""))[0]
    return titles.get(value, value)
