"""Search over the published catalogue that understands how people write.

"quiero abrir una tiendita", "licensia de funsionamiento", "PREDIAL", "predail" all find what they
mean. The query is normalised (lowercase, no accents or punctuation), Spanish stop words are
dropped, words are reduced to a light stem (plurals), synonyms maintained by catalogue editors
are expanded (whole phrases too), unknown words are corrected against the catalogue's vocabulary
with RapidFuzz, and each procedure is scored with field weights
(name > keywords/synonyms > description > department) and IDF.

Everything is computed in Python over an in-process index of the published catalogue, so results
are identical on SQLite and PostgreSQL. The index is rebuilt whenever the catalogue revision row
(bumped by every publish, withdraw, edit of a published procedure and synonym change) differs
from the one the index was built from, so several web workers stay consistent.
"""

from __future__ import annotations

import bisect
import math
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process

W_NAME = 10.0
W_KEYWORD = 6.0
W_DESCRIPTION = 2.5
W_DEPARTMENT = 1.5
PHRASE_BONUS = 8.0
NAME_COVERAGE_BONUS = 6.0
MAX_QUERY_LENGTH = 200
MAX_QUERY_TOKENS = 12

STOP_WORDS = frozenset(
    """a al algo algun alguna alguno ante antes aqui asi con como contra cual cuales cuando de del desde
    donde dos e el ella ellas ellos en entre era es esa ese eso esta estan este esto estos estas fue ha hay
    hacer hago la las le les lo los mas me mi mis muy necesito ni no nos o otra otro para pero poco por porque
    puedo que quiero quisiera se sea ser si sin sobre son su sus tambien te tener tengo ti tu tus un una
    uno unos unas y ya yo quiera queremos como donde obtener sacar tramitar tramite tramites solicitar
    solicitud hola favor ayuda saber informacion""".split()
)
_NON_ALNUM = re.compile(r"[^a-z0-9ñ]+")


def normalize(text: str) -> str:
    """Lowercase, without accents (ñ kept as n too) and punctuation, single spaces."""
    text = unicodedata.normalize("NFKD", text or "").lower()
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("ñ", "n")
    return _NON_ALNUM.sub(" ", text).strip()


@lru_cache(maxsize=50_000)
def stem(token: str) -> str:
    """A light Spanish stem: enough to merge singular and plural ("licencias" → "licencia",
    "construcciones" → "construccion"), the same on both sides of the match."""
    if len(token) > 4 and token.endswith("s"):
        token = token[:-1]
        if len(token) > 4 and token.endswith("e") and token[-2] in "lnrdzj":
            token = token[:-1]
            if token.endswith("c") and token[-2] not in "cn":
                token = token[:-1] + "z"
    return token


def tokens(text: str, *, keep_stop_words: bool = False) -> list[str]:
    words = normalize(text).split()
    if not keep_stop_words:
        words = [w for w in words if w not in STOP_WORDS]
    return [stem(w) for w in words]


@dataclass(frozen=True)
class SearchHit:
    procedure_id: int
    clave: str
    name: str
    score: float
    department: str
    kind: str
    online: bool
    description: str
    life_events: tuple[str, ...] = ()


@dataclass
class _Doc:
    procedure_id: int
    clave: str
    name: str
    department: str
    kind: str
    online: bool
    description: str
    life_events: frozenset[str]
    norm_name: str
    name_len: int
    sort_key: tuple[str, str]


@dataclass
class _Index:
    revision: tuple[int, str]
    docs: list[_Doc] = field(default_factory=list)
    # token → {doc position: field weight (the best field the token appears in)}
    postings: dict[str, dict[int, float]] = field(default_factory=dict)
    idf: dict[str, float] = field(default_factory=dict)
    vocabulary: list[str] = field(default_factory=list)
    # synonym phrase (normalised, stemmed tokens) → expansion tokens
    synonyms: list[tuple[tuple[str, ...], tuple[str, ...], str]] = field(default_factory=list)
    corrections: dict[str, list[tuple[str, float]]] = field(default_factory=dict)

    def expand(self, token: str) -> list[tuple[str, float]]:
        """Vocabulary tokens this query token may mean, with a match quality in (0, 1]."""
        if token in self.corrections:
            return self.corrections[token]
        found: list[tuple[str, float]] = []
        if token in self.postings:
            found.append((token, 1.0))
        if len(token) >= 4:
            # Prefix: people stop typing ("licen", "predi").
            start = bisect.bisect_left(self.vocabulary, token)
            for word in self.vocabulary[start:start + 8]:
                if not word.startswith(token):
                    break
                if word != token:
                    found.append((word, 0.75))
        if not found and len(token) >= 4:
            cutoff = 80 if len(token) <= 5 else 74
            for word, score, _i in process.extract(
                token, self.vocabulary, scorer=fuzz.ratio, score_cutoff=cutoff, limit=3
            ):
                found.append((word, 0.85 * score / 100.0))
        if len(self.corrections) > 20_000:
            self.corrections.clear()
        self.corrections[token] = found
        return found


_lock = threading.Lock()
_index: _Index | None = None


def _build(revision: tuple[int, str]) -> _Index:
    from .models import Procedure, SearchSynonym

    index = _Index(revision=revision)
    synonyms = [
        (tuple(tokens(s.term)), tuple(tokens(s.expansion)), normalize(s.expansion))
        for s in SearchSynonym.objects.order_by("term")
    ]
    index.synonyms = [s for s in synonyms if s[0] and s[1]]
    qs = (
        Procedure.objects.filter(status=Procedure.Status.PUBLISHED)
        .select_related("department")
        .prefetch_related("life_events")
        .order_by("clave")
    )
    postings: dict[str, dict[int, float]] = {}

    def add(token: str, pos: int, weight: float) -> None:
        slot = postings.setdefault(token, {})
        if slot.get(pos, 0.0) < weight:
            slot[pos] = weight

    for pos, p in enumerate(qs):
        dept = p.department
        doc = _Doc(
            procedure_id=p.pk, clave=p.clave, name=p.name, department=dept.name, kind=p.kind,
            online=p.channel_online, description=p.description,
            life_events=frozenset(e.slug for e in p.life_events.all()),
            norm_name=" " + " ".join(tokens(p.name)) + " ",
            name_len=max(1, len(set(tokens(p.name)))),
            sort_key=(normalize(p.name), p.clave),
        )
        index.docs.append(doc)
        for t in tokens(dept.name) + tokens(dept.acronym):
            add(t, pos, W_DEPARTMENT)
        for t in tokens(f"{p.description} {p.who_may_file}"):
            add(t, pos, W_DESCRIPTION)
        keyword_text = " ".join(p.keywords or [])
        kw_tokens = tokens(keyword_text)
        for t in kw_tokens:
            add(t, pos, W_KEYWORD)
        name_tokens = tokens(p.name)
        for t in name_tokens:
            add(t, pos, W_NAME)
        # Synonyms whose catalogue wording appears in this procedure's name or keywords make the
        # colloquial words findable as keywords too.
        haystack = " " + " ".join(tokens(p.name + " " + keyword_text)) + " "
        for term_tokens, exp_tokens, _exp in index.synonyms:
            if " " + " ".join(exp_tokens) + " " in haystack or all(e in name_tokens or e in kw_tokens for e in exp_tokens):
                for t in term_tokens:
                    add(t, pos, W_KEYWORD)
    n = max(len(index.docs), 1)
    index.postings = postings
    index.idf = {t: 1.0 + math.log((n + 1) / (len(d) + 0.5)) for t, d in postings.items()}
    index.vocabulary = sorted(postings)
    return index


def get_index() -> _Index:
    """The current index, rebuilt if the catalogue revision changed since it was built."""
    global _index
    from .services import current_revision

    revision = current_revision()
    index = _index
    if index is not None and index.revision == revision:
        return index
    with _lock:
        if _index is None or _index.revision != revision:
            _index = _build(revision)
        return _index


def reset_index() -> None:
    global _index
    with _lock:
        _index = None


def _query_terms(index: _Index, query: str) -> tuple[list[str], list[str], list[str]]:
    """(query tokens, expansion tokens from synonyms, expansion phrases)."""
    query_tokens = tokens(query)[:MAX_QUERY_TOKENS]
    all_tokens = tokens(query, keep_stop_words=True)[: MAX_QUERY_TOKENS * 2]
    joined = " " + " ".join(all_tokens) + " "
    expansions: list[str] = []
    phrases: list[str] = []
    for term_tokens, exp_tokens, _exp in index.synonyms:
        phrase = " " + " ".join(term_tokens) + " "
        hit = phrase in joined
        if not hit and len(term_tokens) == 1 and len(term_tokens[0]) >= 5:
            # Typos in a colloquial word ("tiendota", "changaro").
            hit = any(len(t) >= 5 and fuzz.ratio(t, term_tokens[0]) >= 80 for t in query_tokens)
        if hit:
            expansions.extend(e for e in exp_tokens if e not in expansions)
            phrases.append(" " + " ".join(exp_tokens) + " ")
    return query_tokens, expansions, phrases


def search(query: str, limit: int = 20, life_event: str | None = None) -> list[SearchHit]:
    """Published procedures that match `query`, best first. Ties break by name, then clave.
    `life_event` (a slug) restricts the results to that life event."""
    query = (query or "")[:MAX_QUERY_LENGTH]
    limit = max(1, min(int(limit), 100))
    index = get_index()
    query_tokens, expansions, phrases = _query_terms(index, query)
    if not query_tokens and not expansions:
        return []
    scores: dict[int, float] = {}
    matched: dict[int, int] = {}
    name_hits: dict[int, float] = {}
    terms = [(t, 1.0) for t in query_tokens] + [(t, 0.9) for t in expansions if t not in query_tokens]
    for term, factor in terms:
        best_for_term: dict[int, tuple[float, float]] = {}
        for word, quality in index.expand(term):
            idf = index.idf[word]
            for pos, weight in index.postings[word].items():
                value = weight * idf * quality * factor
                if value > best_for_term.get(pos, (0.0, 0.0))[0]:
                    best_for_term[pos] = (value, quality if weight == W_NAME else 0.0)
        for pos, (value, name_quality) in best_for_term.items():
            scores[pos] = scores.get(pos, 0.0) + value
            matched[pos] = matched.get(pos, 0) + 1
            name_hits[pos] = name_hits.get(pos, 0.0) + name_quality
    if not scores:
        return []
    n_terms = len(terms)
    query_phrase = " " + " ".join(query_tokens) + " "
    results = []
    for pos, score in scores.items():
        doc = index.docs[pos]
        if life_event and life_event not in doc.life_events:
            continue
        coverage = matched[pos] / n_terms
        score *= 0.5 + 0.5 * coverage
        # Of two names that match equally, the one with fewer other words is the better answer.
        score += NAME_COVERAGE_BONUS * min(1.0, name_hits.get(pos, 0.0) / doc.name_len)
        # Whole phrases in the name count more, and more again when the name starts with them
        # ("Licencia de funcionamiento ..." before "Baja de licencia de funcionamiento").
        if query_tokens and query_phrase in doc.norm_name:
            score += PHRASE_BONUS * len(query_tokens)
            if doc.norm_name.startswith(query_phrase):
                score += PHRASE_BONUS
        for phrase in phrases:
            if phrase in doc.norm_name:
                score += PHRASE_BONUS * 2
                if doc.norm_name.startswith(phrase):
                    score += PHRASE_BONUS
        results.append((round(score, 6), doc))
    results.sort(key=lambda item: (-item[0], item[1].sort_key))
    return [
        SearchHit(
            procedure_id=doc.procedure_id, clave=doc.clave, name=doc.name, score=score,
            department=doc.department, kind=doc.kind, online=doc.online,
            description=doc.description, life_events=tuple(sorted(doc.life_events)),
        )
        for score, doc in results[:limit]
    ]
