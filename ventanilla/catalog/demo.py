"""Demo catalogue: Torreón's procedures from `demo/torreon.json`, plus deterministic usage
history so "most requested" is computed from use, and a synthetic catalogue for benchmarks.

Every procedure goes through `services.publish`, so the legal completeness check runs on the
demo data exactly as on real data."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from django.db import transaction
from django.utils import timezone

from ventanilla.organization.models import Office
from ventanilla.organization.services import upsert_department, upsert_office

from . import services
from .fees import to_centavos
from .models import Procedure, ProcedureDailyUsage

DEMO_FILE = Path(__file__).resolve().parent / "demo" / "torreon.json"
SEED = 2026


def is_present(path: Path = DEMO_FILE) -> bool:
    """True when every procedure of the demo file is already published."""
    if not path.exists():
        return False
    claves = [p["clave"] for p in json.loads(path.read_text(encoding="utf-8"))["procedures"]]
    return Procedure.objects.filter(clave__in=claves, status=Procedure.Status.PUBLISHED).count() == len(claves)


def _procedure_data(item: dict[str, Any]) -> dict[str, Any]:
    cost = item.get("cost") or {"kind": "free"}
    channels = item.get("channels") or {}
    inspection = item.get("inspection")
    contact = item.get("contact") or {}
    data: dict[str, Any] = {
        "clave": item["clave"], "name": item["name"], "kind": item.get("kind", "tramite"),
        "modality": item.get("modality", ""), "channel_online": bool(channels.get("online")),
        "channel_in_person": bool(channels.get("in_person")), "channel_kiosk": bool(channels.get("kiosk")),
        "presentation": item.get("presentation", ""), "legal_basis": item.get("legal_basis", ""),
        "description": item.get("description", ""), "who_may_file": item.get("who_may_file", ""),
        "steps": item.get("steps", []), "has_inspection": bool(inspection),
        "inspection_objective": (inspection or {}).get("objective", ""), "cost_kind": cost["kind"],
        "cost_amount_centavos": to_centavos(Decimal(cost["amount_mxn"])) if cost["kind"] == "fixed" else None,
        "cost_description": cost.get("description", ""), "cost_parameters": cost.get("parameters", []),
        "cost_formula": cost.get("formula", ""), "payment_alternatives": item.get("payment_alternatives", []),
        "response_days": item.get("response_days"), "ficta": item.get("ficta", ""),
        "prevention_days": item.get("prevention_days"), "correction_days": item.get("correction_days"),
        "validity": item.get("validity", ""), "resolution_criteria": item.get("resolution_criteria", ""),
        "contact_phone": contact.get("phone", ""), "contact_email": contact.get("email", ""),
        "complaint_channels": item.get("complaint_channels", ""),
        "requires_appointment": bool(item.get("requires_appointment")), "keywords": item.get("keywords", []),
        "department": item["department"],
    }
    return data


def _load_procedure(item: dict[str, Any], offices_by_key: dict[tuple[str, str], Office]) -> Procedure:
    data = _procedure_data(item)
    offices = []
    for name in item.get("offices", []):
        office = offices_by_key.get((item["department"], name))
        if office is None:
            raise ValueError(f"{item['clave']}: office {name!r} is not an office of {item['department']}")
        offices.append(office)
    kwargs = {"data": data, "requirements": item.get("requirements", []), "offices": offices,
              "life_events": item.get("life_events", [])}
    existing = Procedure.objects.filter(clave=item["clave"]).first()
    if existing is None:
        procedure = services.create_procedure(by=None, note="Catálogo de demostración", **kwargs)
    else:
        procedure = existing
        before = services.snapshot(existing)
        data.pop("clave")
        changed = any(before.get(k) != v for k, v in data.items() if k != "department")
        changed = changed or before["department"] != item["department"]
        changed = changed or [r["document_type"] for r in before["requirements"]] != [
            r["document_type"] for r in item.get("requirements", [])]
        changed = changed or sorted(o["name"] for o in before["offices"]) != sorted(item.get("offices", []))
        changed = changed or before["life_events"] != sorted(item.get("life_events", []))
        if changed:
            services.update_procedure(existing, by=None, note="Catálogo de demostración", **kwargs)
    if procedure.status != Procedure.Status.PUBLISHED:
        procedure = services.publish(procedure, None)
    return procedure


def _usage_history(procedures: list[tuple[Procedure, int]], history_days: int, seed: int) -> int:
    """Deterministic daily views and starts, proportional to each procedure's popularity."""
    rng = random.Random(seed)
    today = timezone.localdate()
    ProcedureDailyUsage.objects.filter(procedure__in=[p for p, _ in procedures]).delete()
    rows = []
    for procedure, popularity in sorted(procedures, key=lambda t: t[0].clave):
        for offset in range(1, history_days + 1):
            day = today - timedelta(days=offset)
            weekday_factor = 0.35 if day.weekday() >= 5 else 1.0
            mean_views = popularity * 1.2 * weekday_factor
            views = max(0, int(rng.gauss(mean_views, mean_views * 0.25 + 0.5)))
            starts = sum(1 for _ in range(views) if rng.random() < 0.18)
            if views or starts:
                rows.append(ProcedureDailyUsage(procedure=procedure, date=day, views=views, starts=starts))
    ProcedureDailyUsage.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def build(history_days: int = 120, stdout: TextIO | None = None, path: Path = DEMO_FILE, seed: int = SEED) -> dict[str, int]:
    """Loads the demo catalogue (idempotent) and regenerates its usage history."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    with transaction.atomic():
        offices_by_key: dict[tuple[str, str], Office] = {}
        for dept in doc.get("departments", []):
            department = upsert_department(
                slug=dept["slug"], name=dept["name"], acronym=dept.get("acronym", ""),
                description=dept.get("description", ""), email=dept.get("email", ""), phone=dept.get("phone", ""),
            )
            for o in dept.get("offices", []):
                office = upsert_office(
                    department, name=o["name"], address=o["address"], hours=o["hours"], phone=o.get("phone", ""),
                    email=o.get("email", ""), latitude=o.get("latitude"), longitude=o.get("longitude"),
                )
                offices_by_key[(dept["slug"], o["name"])] = office
        for e in doc.get("life_events", []):
            services.upsert_life_event(slug=e["slug"], name=e["name"], description=e.get("description", ""),
                                       order=e.get("order", 0))
        for t in doc.get("document_types", []):
            services.upsert_document_type(code=t["code"], name=t["name"], description=t.get("description", ""),
                                          held_by_city=bool(t.get("held_by_city")), issuer=t.get("issuer", ""))
        from .models import SearchSynonym

        existing_synonyms = {s.term: s for s in SearchSynonym.objects.all()}
        for s in doc.get("synonyms", []):
            term = s["term"].strip().lower()
            current = existing_synonyms.get(term)
            if current is None or current.expansion != s["expansion"].strip().lower():
                services.save_synonym(term, s["expansion"], synonym=current)
        loaded = []
        for item in doc.get("procedures", []):
            loaded.append((_load_procedure(item, offices_by_key), int(item.get("popularity", 1))))
        usage_rows = _usage_history(loaded, history_days, seed) if history_days > 0 else 0
    summary = {"departments": len(doc.get("departments", [])), "procedures": len(loaded), "usage_rows": usage_rows}
    if stdout is not None:
        stdout.write(
            f"Catálogo: {summary['departments']} dependencias, {summary['procedures']} trámites publicados, "
            f"{usage_rows} días-trámite de uso.\n"
        )
    return summary


# --- Synthetic catalogue for benchmarks -----------------------------------------------------

_VARIANTS = ["", "para personas morales", "para adultos mayores", "en zona centro", "urgente", "por internet",
             "para escuelas", "de temporada", "en vía pública", "para industria", "en colonias populares",
             "para comercio", "con descuento", "ejido", "rural", "para asociaciones civiles"]
_PREFIXES = ["", "Renovación de", "Reposición de", "Duplicado de", "Modificación de", "Cancelación de",
             "Consulta de", "Ampliación de"]


def build_synthetic(n: int, seed: int = 0, path: Path = DEMO_FILE) -> list[Procedure]:
    """Creates `n` realistic published procedures (names and descriptions drawn from the demo
    catalogue with variations), for the search benchmark. Deterministic for a given seed."""
    rng = random.Random(seed)
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    build(history_days=0, path=path)
    base = doc["procedures"]
    offices_by_key = {(o.department.slug, o.name): o for o in Office.objects.select_related("department")}
    made = []
    existing = set(Procedure.objects.values_list("clave", flat=True))
    i = 0
    while len(made) < n:
        i += 1
        clave = f"SYN-{seed:02d}-{i:05d}"
        if clave in existing:
            continue
        item = dict(rng.choice(base))
        prefix, variant = rng.choice(_PREFIXES), rng.choice(_VARIANTS)
        name = item["name"]
        if prefix:
            name = f"{prefix} {name[0].lower()}{name[1:]}"
        if variant:
            name = f"{name} {variant}"
        item.update({
            "clave": clave, "name": name[:200],
            "description": item["description"] + (f" Aplica {variant}." if variant else ""),
            "keywords": rng.sample(item.get("keywords", []), k=min(len(item.get("keywords", [])), 2)),
        })
        made.append(_load_procedure(item, offices_by_key))
    return made
