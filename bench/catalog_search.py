#!/usr/bin/env python
"""Search latency benchmark for the catalogue.

    python bench/catalog_search.py [--procedures 2000] [--queries 1000] [--seed 0]

Sets Django up on a temporary SQLite database (or on DATABASE_URL if given; a PostgreSQL URL
gets its own temporary database), migrates, loads the Torreón demo catalogue plus a synthetic
one, runs representative queries (exact names, colloquial synonyms, typos, accents, multiword,
no-hit) and prints p50/p95/p99 of search latency next to a primary-key fetch of one procedure in
the same run. Prints figures only; it asserts nothing about timings."""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

from harness import percentile, temporary_django


def typo(word: str, rng: random.Random) -> str:
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["swap", "drop", "replace"])
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "drop":
        return word[:i] + word[i + 1:]
    return word[:i] + rng.choice("aeiousczn") + word[i + 1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--procedures", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    with temporary_django("catalog"):
        from django.core.management import call_command

        run(args, call_command)


def run(args, call_command) -> None:
    from django.db import connection

    from ventanilla.catalog import demo
    from ventanilla.catalog.models import Procedure, SearchSynonym
    from ventanilla.catalog.search import get_index, search

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    demo.build(history_days=0)
    base_count = Procedure.objects.count()
    if args.procedures > base_count:
        demo.build_synthetic(args.procedures - base_count, seed=args.seed)
    setup_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    get_index()
    index_s = time.perf_counter() - t0

    rng = random.Random(args.seed)
    names = list(Procedure.objects.filter(status="published").values_list("name", flat=True))
    synonyms = list(SearchSynonym.objects.values_list("term", flat=True))
    colloquial = ["quiero abrir una tiendita", "cómo pago el predial", "me quitaron las placas",
                  "sacar la licencia de construcción", "mi perro necesita vacuna", "se fugó el agua en mi calle",
                  "poner un puesto en el tianguis", "constancia de residencia para la escuela"]
    no_hit = ["xyzzy", "pasaporte para marte", "qwerty asdf", "bitcoin minería"]
    queries = []
    for _i in range(args.queries):
        kind = rng.choice(["exact", "synonym", "typo", "accents", "multiword", "nohit", "colloquial"])
        name = rng.choice(names)
        if kind == "exact":
            q = name
        elif kind == "synonym":
            q = rng.choice(synonyms)
        elif kind == "typo":
            q = " ".join(typo(w, rng) for w in name.split()[:4])
        elif kind == "accents":
            q = name.upper().replace("Á", "A").replace("É", "E").replace("Í", "I").replace("Ó", "O").replace("Ú", "U")
        elif kind == "multiword":
            words = name.split()
            q = " ".join(rng.sample(words, k=min(3, len(words))))
        elif kind == "nohit":
            q = rng.choice(no_hit)
        else:
            q = rng.choice(colloquial)
        queries.append((kind, q))

    ids = list(Procedure.objects.values_list("pk", flat=True))
    search("licencia")  # warm-up
    search_ms, pk_ms, by_kind = [], [], {}
    for kind, q in queries:
        t = time.perf_counter()
        search(q, limit=10)
        elapsed = (time.perf_counter() - t) * 1000
        search_ms.append(elapsed)
        by_kind.setdefault(kind, []).append(elapsed)
        t = time.perf_counter()
        Procedure.objects.get(pk=rng.choice(ids))
        pk_ms.append((time.perf_counter() - t) * 1000)

    print(f"Database: {connection.vendor}; published procedures: {len(names)}; queries: {len(queries)}")
    print(f"Setup (migrate + catalogue): {setup_s:.1f} s; index build: {index_s * 1000:.0f} ms")
    print(f"search    p50 {percentile(search_ms, 50):7.2f} ms   p95 {percentile(search_ms, 95):7.2f} ms   "
          f"p99 {percentile(search_ms, 99):7.2f} ms   max {max(search_ms):7.2f} ms")
    print(f"pk fetch  p50 {percentile(pk_ms, 50):7.2f} ms   p99 {percentile(pk_ms, 99):7.2f} ms")
    print(f"ratio search/pk  p50 {percentile(search_ms, 50) / percentile(pk_ms, 50):.1f}x   "
          f"p99 {percentile(search_ms, 99) / percentile(pk_ms, 99):.1f}x")
    for kind, values in sorted(by_kind.items()):
        print(f"  {kind:<11} n={len(values):4d}  p50 {statistics.median(values):6.2f} ms  "
              f"p99 {percentile(values, 99):6.2f} ms")


if __name__ == "__main__":
    main()
