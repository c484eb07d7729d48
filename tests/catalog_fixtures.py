"""Catalogue fixtures shared by every suite (loaded from tests/conftest.py): departments, offices, document types and complete procedures."""

from __future__ import annotations

import itertools

import pytest

_seq = itertools.count(1)


@pytest.fixture
def department(db):
    from ventanilla.organization.models import Department

    return Department.objects.get_or_create(
        slug="desarrollo-economico",
        defaults={"name": "Dirección General de Desarrollo Económico", "acronym": "DGDE"},
    )[0]


@pytest.fixture
def other_department(db):
    from ventanilla.organization.models import Department

    return Department.objects.get_or_create(
        slug="tesoreria", defaults={"name": "Tesorería Municipal", "acronym": "TES"}
    )[0]


@pytest.fixture
def office(department):
    from ventanilla.organization.models import Office

    return Office.objects.get_or_create(
        department=department, name="Ventanilla Universal",
        defaults={"address": "Av. Allende 333 Ote., Centro, Torreón, Coah.", "hours": "Lunes a viernes de 8:00 a 15:00"},
    )[0]


@pytest.fixture
def doc_ine(db):
    from ventanilla.catalog.services import upsert_document_type

    return upsert_document_type(code="INE", name="Identificación oficial vigente", issuer="INE / SRE")


@pytest.fixture
def life_event(db):
    from ventanilla.catalog.services import upsert_life_event

    return upsert_life_event(slug="negocios", name="Negocios y emprendimiento", order=1)


def complete_data(department, **overrides) -> dict:
    n = next(_seq)
    data = {
        "clave": f"TOR-TEST-{n:03d}",
        "name": f"Trámite de prueba {n}",
        "kind": "tramite",
        "modality": "Nueva",
        "channel_online": True,
        "channel_in_person": True,
        "presentation": "formato",
        "legal_basis": "Reglamento de Desarrollo Económico del Municipio de Torreón, art. 10",
        "description": "Sirve para probar el catálogo.",
        "who_may_file": "Personas físicas o morales.",
        "steps": ["Llena la solicitud", "Entrega tus documentos"],
        "cost_kind": "fixed",
        "cost_amount_centavos": 125000,
        "payment_alternatives": ["en_linea", "caja"],
        "response_days": 5,
        "ficta": "afirmativa",
        "prevention_days": 3,
        "correction_days": 5,
        "validity": "Un año calendario",
        "resolution_criteria": "Que el giro sea compatible con el uso de suelo.",
        "contact_phone": "871 500 7000",
        "contact_email": "economia@torreon.gob.mx",
        "complaint_channels": "Contraloría Municipal, protesta ciudadana.",
        "department": department,
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_procedure(department, office, doc_ine, life_event):
    """Creates a complete procedure (draft unless publish=True) through the services."""
    from ventanilla.catalog import services

    def factory(*, publish: bool = False, by=None, life_events=None, offices=None, **overrides):
        dept = overrides.pop("department", department)
        procedure = services.create_procedure(
            by=by,
            data=complete_data(dept, **overrides),
            requirements=[{"document_type": doc_ine, "detail": "Credencial para votar", "copies": 1}],
            offices=[office] if offices is None and dept == department else (offices or []),
            life_events=[life_event] if life_events is None else life_events,
        )
        if publish:
            procedure = services.publish(procedure, by)
        return procedure

    return factory
