from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from ventanilla.audit.models import AuditEntry
from ventanilla.catalog import services
from ventanilla.catalog.models import Procedure, ProcedureDailyUsage, ProcedureVersion

from tests.catalog_fixtures import complete_data


def test_create_records_first_version(make_procedure):
    p = make_procedure()
    assert p.status == Procedure.Status.DRAFT
    v = ProcedureVersion.objects.get(procedure=p)
    assert v.number == 1
    assert v.snapshot["requirements"][0]["document_type"] == "INE"
    assert v.snapshot["life_events"] == ["negocios"]
    assert v.snapshot["offices"][0]["name"] == "Ventanilla Universal"


def test_complete_procedure_has_no_missing_fields(make_procedure):
    assert services.missing_required_fields(make_procedure()) == []


def test_publish_refusal_names_every_missing_field(department):
    p = services.create_procedure(by=None, data={"clave": "TOR-X-001", "name": "Incompleto", "department": department,
                                                 "cost_kind": "fixed"})
    with pytest.raises(services.ProcedureIncomplete) as exc:
        services.publish(p, None)
    missing = exc.value.missing
    for label in ("Modalidad", "Fundamento jurídico", "Requisitos (al menos uno)", "Formas de pago",
                  "Monto del costo (mayor que cero)", "Afirmativa o negativa ficta", "Vigencia",
                  "Canales de atención (al menos uno: en línea, presencial o kiosco)"):
        assert label in missing
    assert any("Fundamento jurídico" in m for m in exc.value.messages)
    p.refresh_from_db()
    assert p.status == Procedure.Status.DRAFT
    assert not AuditEntry.objects.filter(action="catalog.publish").exists()


def test_in_person_needs_an_office_and_rules_need_valid_formula(make_procedure):
    p = make_procedure(offices=[])
    assert any("Oficinas" in m for m in services.missing_required_fields(p))
    with pytest.raises(ValidationError) as exc:
        services.update_procedure(p, by=None, data={"cost_kind": "rule", "cost_formula": "m2 *",
                                                    "cost_parameters": [{"name": "m2"}]})
    assert "cost_formula" in exc.value.message_dict
    services.update_procedure(p, by=None, data={"cost_kind": "rule", "cost_formula": "",
                                                "cost_parameters": [{"name": "m2"}]})
    assert "Fórmula válida para calcular el costo" in services.missing_required_fields(p)


def test_free_procedures_need_no_payment(make_procedure):
    p = make_procedure(cost_kind="free", cost_amount_centavos=None, payment_alternatives=[])
    assert services.missing_required_fields(p) == []
    assert services.compute_fee(p) == 0


def test_publish_and_withdraw_are_audited_and_versioned(make_procedure, make_official):
    editor = make_official("catalog_editor")
    p = make_procedure()
    before = services.current_revision()
    services.publish(p, editor)
    p.refresh_from_db()
    assert p.status == Procedure.Status.PUBLISHED and p.published_at
    assert services.current_revision() != before
    entry = AuditEntry.objects.get(action="catalog.publish")
    assert entry.subject_id == str(p.pk) and entry.actor_id == editor.pk
    with pytest.raises(ValidationError):
        services.withdraw(p, editor, "  ")
    services.withdraw(p, editor, "Se fusionó con otro trámite")
    p.refresh_from_db()
    assert p.status == Procedure.Status.WITHDRAWN and p.withdrawal_reason == "Se fusionó con otro trámite"
    assert AuditEntry.objects.filter(action="catalog.withdraw").count() == 1
    assert list(p.versions.values_list("number", flat=True).order_by("number")) == [1, 2, 3]


def test_editing_a_published_procedure_cannot_empty_required_fields(make_procedure):
    p = make_procedure(publish=True)
    with pytest.raises(services.ProcedureIncomplete) as exc:
        services.update_procedure(p, by=None, data={"legal_basis": ""})
    assert "Fundamento jurídico" in exc.value.missing
    p.refresh_from_db()
    assert p.legal_basis


def test_edit_of_published_bumps_revision_and_restore_brings_back_content(make_procedure):
    p = make_procedure(publish=True, name="Licencia de funcionamiento")
    rev = services.current_revision()
    services.update_procedure(p, by=None, data={"name": "Licencia de funcionamiento comercial"},
                              requirements=[{"document_type": "INE", "detail": "Pasaporte"}])
    assert services.current_revision() != rev
    assert p.requirements.get().detail == "Pasaporte"
    first = p.versions.get(number=1)
    services.restore_version(p, 1, None)
    p.refresh_from_db()
    assert p.name == "Licencia de funcionamiento"
    assert p.requirements.get().detail == "Credencial para votar"
    assert p.status == Procedure.Status.PUBLISHED
    assert p.versions.order_by("-number").first().note == "Restaurada la versión 1"
    diff = services.diff_snapshots(first.snapshot, p.versions.get(number=3).snapshot)
    assert p.versions.get(number=4).snapshot["name"] == "Licencia de funcionamiento"
    assert {d["field"] for d in diff} >= {"name", "requirements"}


@pytest.mark.parametrize(
    "override, field",
    [({"clave": "tor 1"}, "clave"), ({"name": "<script>x</script>"}, "name"), ({"name": "x" * 201}, "name"),
     ({"payment_alternatives": ["bitcoin"]}, "payment_alternatives"), ({"contact_email": "no-es-correo"}, "contact_email"),
     ({"keywords": ["<b>"]}, "keywords"), ({"kind": "otro"}, "kind"), ({"steps": ["x"] * 61}, "steps")],
)
def test_bad_input_is_refused_without_half_written_records(department, override, field):
    with pytest.raises(ValidationError) as exc:
        services.create_procedure(by=None, data=complete_data(department, **override))
    assert field in exc.value.message_dict
    assert not Procedure.objects.exists()


def test_duplicate_clave_is_refused(make_procedure, department):
    p = make_procedure()
    with pytest.raises(ValidationError) as exc:
        services.create_procedure(by=None, data=complete_data(department, clave=p.clave))
    assert "clave" in exc.value.message_dict


def test_unknown_document_type_rolls_back(department):
    with pytest.raises(ValidationError):
        services.create_procedure(by=None, data=complete_data(department), requirements=[{"document_type": "NOPE"}])
    assert not Procedure.objects.exists()


def test_compute_fee_fixed_and_rule(make_procedure):
    assert services.compute_fee(make_procedure()) == 125000
    p = make_procedure(cost_kind="rule", cost_amount_centavos=None, cost_description="$25.80 por m² más $350",
                       cost_parameters=[{"name": "m2", "label": "Superficie", "unit": "m²"}],
                       cost_formula="m2 * 25.80 + 350")
    assert services.missing_required_fields(p) == []
    assert services.compute_fee(p, {"m2": "10"}) == 60800
    with pytest.raises(services.FormulaError, match="Superficie"):
        services.compute_fee(p, {})


def test_usage_counters_are_atomic_upserts(make_procedure):
    import datetime

    p = make_procedure()
    day = datetime.date(2026, 1, 5)
    for _ in range(3):
        services.record_view(p, day)
    services.record_start(p, day)
    services.record_start(p.pk, day)
    row = ProcedureDailyUsage.objects.get(procedure=p, date=day)
    assert (row.views, row.starts) == (3, 2)


def test_synonyms_validate_and_bump_revision(db):
    rev = services.current_revision()
    s = services.save_synonym("Tiendita", "Licencia de funcionamiento")
    assert s.term == "tiendita" and services.current_revision() != rev
    with pytest.raises(ValidationError):
        services.save_synonym("tiendita", "otra cosa")
    with pytest.raises(ValidationError):
        services.save_synonym("<b>", "x")
    rev = services.current_revision()
    services.delete_synonym(s)
    assert services.current_revision() != rev
