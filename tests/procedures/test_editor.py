"""The online-procedure editor's back office: an editor builds a definition with plain forms,
sees every problem in Spanish, previews, publishes, pauses reception and moves JSON in and out."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from ventanilla.audit.models import AuditEntry
from ventanilla.identity.models import Role
from ventanilla.procedures import editor_services as editor
from ventanilla.procedures import services
from ventanilla.procedures import spec as spec_module
from ventanilla.procedures.editor_forms import ChoicesError, format_choices, parse_choices
from ventanilla.procedures.models import Definition, DefinitionVersion, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def event_procedure(make_procedure):
    """A published catalogue procedure, online, with a fixed fee (as in the acceptance test)."""
    return make_procedure(publish=True, clave="TOR-DGDE-050", name="Permiso para evento en vía pública",
                          cost_kind="fixed", cost_amount_centavos=35000)


@pytest.fixture
def editor_user(make_official, department):
    return make_official(Role.CATALOG_EDITOR, department=department)


@pytest.fixture
def ed(client, login_official, editor_user):
    login_official(editor_user)
    return client


def url(name: str, *args) -> str:
    return reverse(f"procedures:{name}", args=args)


def field_data(**overrides) -> dict:
    data = {"type": "text", "label": "Nombre del evento", "help": "", "required": "on", "min": "", "max": "",
            "max_length": "", "pattern": "", "choices": "", "condition_field": "", "condition_operator": "equals",
            "condition_value": ""}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def draft_of(procedure) -> dict:
    return Definition.objects.get(procedure=procedure).draft_spec


def build_event_definition(ed, procedure) -> None:
    """Everything the acceptance test does in the browser, through the same forms."""
    clave = procedure.clave
    assert ed.post(url("editor_start", clave)).status_code == 302
    assert ed.post(url("editor_pages", clave), {"title": "Tu evento"}).status_code == 302
    assert ed.post(url("editor_field_add", clave, "tu_evento"), field_data(label="Nombre del evento")).status_code == 302
    assert ed.post(url("editor_field_add", clave, "tu_evento"), field_data(
        type="choice", label="¿Habrá escenario?", choices="si|Sí\nNo")).status_code == 302
    assert ed.post(url("editor_field_add", clave, "tu_evento"), field_data(
        type="number", label="Altura del escenario (m)", min="1", max="12", condition_field="habra_escenario",
        condition_operator="equals", condition_value="Sí")).status_code == 302
    assert ed.post(url("editor_pages", clave), {"title": "Lugar y fecha"}).status_code == 302
    assert ed.post(url("editor_field_add", clave, "lugar_y_fecha"), field_data(type="date", label="Fecha del evento")).status_code == 302
    assert ed.post(url("editor_field_add", clave, "lugar_y_fecha"), field_data(type="text", label="Calle", max_length="120")).status_code == 302
    assert ed.post(url("editor_template", clave), {
        "kind": "certificate", "title": "Permiso para evento en vía pública", "shown": ["nombre_del_evento", "fecha_del_evento"],
        "paragraphs": "Se otorga a {solicitante} el permiso para «{nombre_del_evento}».\n\nEl permiso vale el {fecha_del_evento}.",
    }).status_code == 302


# --- List --------------------------------------------------------------------------------------------


def test_list_shows_each_procedure_online_state(ed, make_procedure, licence, event_procedure, other_department):
    draft_only = make_procedure(publish=True, name="Trámite con borrador")
    editor.start_definition(draft_only, by=None)
    paused = make_procedure(publish=True, name="Trámite pausado")
    d = editor.start_definition(paused, by=None)
    d.draft_spec = licence.published_version.spec
    d.save()
    services.publish_definition(d, by=None)
    editor.set_accepting_requests(d, False, by=None)
    hidden = make_procedure(name="Trámite de Tesorería", department=other_department)

    page = ed.get(url("editor_list")).content.decode()
    assert "Sin trámite en línea" in page  # event_procedure
    assert "Borrador sin publicar" in page
    assert "Publicado: versión 1" in page  # the licence
    assert "Versión 1 publicada; no recibe solicitudes" in page
    assert hidden.name not in page  # another department's procedure is never listed


def test_state_flags_unpublished_changes(licence):
    assert editor.online_state(licence).code == "published"
    assert not editor.online_state(licence).unpublished_changes
    licence.draft_spec = {**licence.draft_spec, "documents": []}
    assert editor.online_state(licence).unpublished_changes
    assert editor.online_state(None).code == "none"


# --- Building a definition with forms ---------------------------------------------------------------


def test_start_makes_a_starter_draft_from_the_catalogue(ed, event_procedure, department):
    response = ed.post(url("editor_start", event_procedure.clave))
    assert response.status_code == 302
    draft = draft_of(event_procedure)
    assert draft["documents"] == [{"key": "identificacion_oficial_vigente", "label": "Identificación oficial vigente",
                                   "document_type": "INE", "required": True, "help": "Credencial para votar"}]
    assert draft["steps"][0]["department"] == department.slug
    assert draft["template"]["title"] == event_procedure.name
    # Starting again keeps the draft as it is.
    ed.post(url("editor_pages", event_procedure.clave), {"title": "Tu evento"})
    ed.post(url("editor_start", event_procedure.clave))
    assert draft_of(event_procedure)["pages"][0]["title"] == "Tu evento"


def test_overview_lists_every_validation_problem_until_complete(ed, event_procedure):
    ed.post(url("editor_start", event_procedure.clave))
    page = ed.get(url("editor_definition", event_procedure.clave)).content.decode()
    assert "El formulario necesita al menos una página." in page
    assert "Publicar</button>" not in page

    build_event_definition(ed, event_procedure)
    page = ed.get(url("editor_definition", event_procedure.clave)).content.decode()
    assert "El borrador está completo y se puede publicar." in page
    assert "Publicar</button>" in page


def test_forms_build_a_spec_that_validates_and_behaves(ed, event_procedure):
    build_event_definition(ed, event_procedure)
    definition = Definition.objects.get(procedure=event_procedure)
    spec = services.validate_definition_spec(definition, definition.draft_spec)
    assert [p.key for p in spec.pages] == ["tu_evento", "lugar_y_fecha"]
    stage = spec.fields_by_key["habra_escenario"]
    assert stage.choices == (("si", "Sí"), ("no", "No"))
    height = spec.fields_by_key["altura_del_escenario_m"]
    assert dict(height.show_if) == {"field": "habra_escenario", "equals": "si"}  # the text "Sí" became its value
    assert (height.min, height.max) == (1, 12)
    assert spec.fields_by_key["calle"].max_length == 120
    assert spec.template.fields == ("nombre_del_evento", "fecha_del_evento")
    # The condition works for residents: no stage → no height asked.
    result = spec_module.clean_page(spec, "tu_evento", {"nombre_del_evento": "Posada", "habra_escenario": "no"}, {})
    assert result.ok and "altura_del_escenario_m" not in result.values
    result = spec_module.clean_page(spec, "tu_evento", {"nombre_del_evento": "Posada", "habra_escenario": "si"}, {})
    assert result.errors == {"altura_del_escenario_m": "Responde «Altura del escenario (m)»."}


def test_field_form_reports_each_problem_in_spanish(ed, event_procedure):
    clave = event_procedure.clave
    ed.post(url("editor_start", clave))
    ed.post(url("editor_pages", clave), {"title": "Tu evento"})
    add = url("editor_field_add", clave, "tu_evento")

    response = ed.post(add, field_data(type="choice", label="Tipo", choices=""))
    assert response.status_code == 400
    assert "Escribe al menos una opción." in response.content.decode()
    response = ed.post(add, field_data(type="choice", label="Tipo", choices="a|Uno\na|Dos"))
    assert "Línea 2: el valor «a» está repetido." in response.content.decode()
    response = ed.post(add, field_data(type="number", label="Aforo", min="10", max="5"))
    assert "El máximo debe ser mayor o igual que el mínimo." in response.content.decode()
    response = ed.post(add, field_data(label="Teléfono", pattern="[0-9"))
    assert "No es una expresión regular válida." in response.content.decode()
    response = ed.post(add, field_data(label=""))
    assert response.status_code == 400 and 'class="error-summary"' in response.content.decode()
    assert draft_of(event_procedure)["pages"][0]["fields"] == []  # nothing half-written

    ed.post(add, field_data(type="date", label="Día"))
    response = ed.post(add, field_data(label="Hora", condition_field="dia", condition_operator="equals",
                                       condition_value="2026-01-01"))
    assert "solo se puede usar «tiene respuesta»" in response.content.decode()
    ed.post(add, field_data(type="choice", label="Escenario", choices="si|Sí\nno|No"))
    response = ed.post(add, field_data(label="Altura", condition_field="escenario", condition_value="tal vez"))
    assert "«tal vez» no es una opción de «Escenario»" in response.content.decode()
    response = ed.post(add, field_data(label="Altura", condition_field="escenario", condition_operator="in",
                                       condition_value="si, No"))
    assert response.status_code == 302
    assert draft_of(event_procedure)["pages"][0]["fields"][-1]["show_if"] == {"field": "escenario", "in": ["si", "no"]}
    response = ed.post(add, field_data(label="Notas", condition_field="dia", condition_operator="filled"))
    assert draft_of(event_procedure)["pages"][0]["fields"][-1]["show_if"] == {"field": "dia", "filled": True}


def test_condition_can_only_name_an_earlier_question(ed, event_procedure):
    clave = event_procedure.clave
    build_event_definition(ed, event_procedure)
    # The first question cannot depend on anything; asking it to depend on a later one fails.
    response = ed.post(url("editor_field", clave, "tu_evento", "nombre_del_evento"),
                       field_data(label="Nombre del evento", condition_field="calle", condition_operator="filled"))
    assert response.status_code == 400
    page = ed.get(url("editor_field", clave, "lugar_y_fecha", "calle")).content.decode()
    assert 'value="nombre_del_evento"' in page and 'value="calle"' not in page


def test_editing_a_question_keeps_its_key_and_only_what_applies(ed, event_procedure):
    clave = event_procedure.clave
    build_event_definition(ed, event_procedure)
    response = ed.post(url("editor_field", clave, "lugar_y_fecha", "calle"),
                       field_data(type="number", label="Número de calles", max_length="50", pattern="x", min="1"))
    assert response.status_code == 302
    f = draft_of(event_procedure)["pages"][1]["fields"][1]
    assert f == {"key": "calle", "type": "number", "label": "Número de calles", "required": True, "min": 1}


def test_reordering_pages_and_questions(ed, event_procedure):
    clave = event_procedure.clave
    build_event_definition(ed, event_procedure)
    ed.post(url("editor_page_move", clave, "lugar_y_fecha"), {"direction": "up"})
    assert [p["key"] for p in draft_of(event_procedure)["pages"]] == ["lugar_y_fecha", "tu_evento"]
    ed.post(url("editor_field_move", clave, "lugar_y_fecha", "calle"), {"direction": "up"})
    assert [f["key"] for f in draft_of(event_procedure)["pages"][0]["fields"]] == ["calle", "fecha_del_evento"]
    # Moving the conditional question above the one it depends on is refused, with the reason.
    response = ed.post(url("editor_field_move", clave, "tu_evento", "altura_del_escenario_m"), {"direction": "up"}, follow=True)
    assert "tiene que ir antes" in response.content.decode()
    assert [f["key"] for f in draft_of(event_procedure)["pages"][1]["fields"]][1:] == ["habra_escenario", "altura_del_escenario_m"]


def test_renaming_and_deleting_pages_and_questions(ed, event_procedure):
    clave = event_procedure.clave
    build_event_definition(ed, event_procedure)
    ed.post(url("editor_page", clave, "lugar_y_fecha"), {"title": "Dónde y cuándo"})
    assert draft_of(event_procedure)["pages"][1] == {**draft_of(event_procedure)["pages"][1], "key": "lugar_y_fecha",
                                                      "title": "Dónde y cuándo"}
    # A question used by a condition or by the document cannot be deleted; the page says why.
    page = ed.get(url("editor_field_delete", clave, "tu_evento", "habra_escenario")).content.decode()
    assert "se muestra según esta respuesta" in page and "Sí, borrar" not in page
    response = ed.post(url("editor_field_delete", clave, "tu_evento", "habra_escenario"), follow=True)
    assert "No se puede borrar la pregunta" in response.content.decode()
    response = ed.post(url("editor_page_delete", clave, "lugar_y_fecha"), follow=True)
    assert "No se puede borrar la página" in response.content.decode()
    # Unused: deleted.
    ed.post(url("editor_field_delete", clave, "lugar_y_fecha", "calle"))
    assert [f["key"] for f in draft_of(event_procedure)["pages"][1]["fields"]] == ["fecha_del_evento"]
    ed.post(url("editor_pages", clave), {"title": "Extra"})
    ed.post(url("editor_page_delete", clave, "extra"))
    assert [p["key"] for p in draft_of(event_procedure)["pages"]] == ["tu_evento", "lugar_y_fecha"]
    # A stale link to a deleted page or question is a message, not an error page.
    response = ed.get(url("editor_field", clave, "extra", "nada"), follow=True)
    assert response.status_code == 200 and "Esa página ya no existe" in response.content.decode()


def test_documents_and_steps(ed, event_procedure, doc_ine, other_department):
    clave = event_procedure.clave
    ed.post(url("editor_start", clave))
    response = ed.post(url("editor_documents", clave), {"label": "Croquis del lugar", "document_type": "", "help": ""})
    assert response.status_code == 302
    docs = draft_of(event_procedure)["documents"]
    assert docs[-1] == {"key": "croquis_del_lugar", "label": "Croquis del lugar", "document_type": "", "required": False}
    ed.post(url("editor_document", clave, "croquis_del_lugar"),
            {"label": "Croquis del lugar", "document_type": "INE", "required": "on", "help": "A mano sirve."})
    assert draft_of(event_procedure)["documents"][-1]["help"] == "A mano sirve."
    ed.post(url("editor_document_move", clave, "croquis_del_lugar"), {"direction": "up"})
    assert draft_of(event_procedure)["documents"][0]["key"] == "croquis_del_lugar"
    response = ed.post(url("editor_documents", clave), {"label": "X", "document_type": "NO_EXISTE"})
    assert response.status_code == 400
    ed.post(url("editor_document_delete", clave, "croquis_del_lugar"))
    assert [d["key"] for d in draft_of(event_procedure)["documents"]] == ["identificacion_oficial_vigente"]

    # Two steps in parallel after the first, then one after both.
    for name, after in (("Tránsito", ["revision"]), ("Protección Civil", ["revision"]),
                        ("Firma", ["transito", "proteccion_civil"])):
        response = ed.post(url("editor_steps", clave), {"name": name, "department": other_department.slug,
                                                        "role": "reviewer", "after": after})
        assert response.status_code == 302
    steps = draft_of(event_procedure)["steps"]
    assert [(s["key"], s["after"]) for s in steps] == [
        ("revision", []), ("transito", ["revision"]), ("proteccion_civil", ["revision"]),
        ("firma", ["transito", "proteccion_civil"])]
    # A step's "after" offers earlier steps only.
    response = ed.post(url("editor_step", clave, "transito"), {"name": "Tránsito", "department": other_department.slug,
                                                               "role": "department_admin", "after": ["firma"]})
    assert response.status_code == 400
    response = ed.post(url("editor_step", clave, "transito"), {"name": "Tránsito", "department": other_department.slug,
                                                               "role": "department_admin", "after": ["revision"]})
    assert draft_of(event_procedure)["steps"][1]["role"] == "department_admin"
    response = ed.post(url("editor_step_delete", clave, "transito"), follow=True)
    assert "otros pasos van después de él: Firma" in response.content.decode()
    ed.post(url("editor_step_delete", clave, "firma"))
    assert len(draft_of(event_procedure)["steps"]) == 3


def test_fee_mapping_for_a_catalogue_rule(ed, make_procedure):
    procedure = make_procedure(
        publish=True, cost_kind="rule", cost_amount_centavos=None, cost_description="25.80 pesos por metro cuadrado",
        cost_parameters=[{"name": "m2", "label": "Superficie", "unit": "m²"}], cost_formula="m2 * 25.80",
    )
    clave = procedure.clave
    build_event_definition(ed, procedure)
    ed.post(url("editor_field_add", clave, "lugar_y_fecha"), field_data(type="number", label="Superficie ocupada"))
    errors = editor.validation_errors(Definition.objects.get(procedure=procedure))
    assert "Falta indicar de qué pregunta sale el dato de costo «m2»." in errors
    page = ed.get(url("editor_fee", clave)).content.decode()
    # Only numeric, required, always-shown questions are offered (not the conditional height).
    assert 'value="superficie_ocupada"' in page and 'value="altura_del_escenario_m"' not in page
    assert ed.post(url("editor_fee", clave), {"param_m2": ""}).status_code == 400
    assert ed.post(url("editor_fee", clave), {"param_m2": "superficie_ocupada"}).status_code == 302
    assert draft_of(procedure)["fee"] == {"parameters": {"m2": "superficie_ocupada"}}
    assert editor.validation_errors(Definition.objects.get(procedure=procedure)) == []


def test_fixed_fee_has_nothing_to_map(ed, event_procedure):
    ed.post(url("editor_start", event_procedure.clave))
    page = ed.get(url("editor_fee", event_procedure.clave)).content.decode()
    assert "El catálogo fija el costo en $350.00" in page
    assert ed.post(url("editor_fee", event_procedure.clave), {}).status_code == 400
    assert draft_of(event_procedure)["fee"] == {"parameters": {}}


def test_template_lists_placeholders_and_refuses_unknown_ones(ed, event_procedure):
    clave = event_procedure.clave
    build_event_definition(ed, event_procedure)
    page = ed.get(url("editor_template", clave)).content.decode()
    for name in ("{solicitante}", "{folio}", "{nombre_del_evento}", "{altura_del_escenario_m}"):
        assert name in page
    response = ed.post(url("editor_template", clave), {"kind": "resolution", "title": "Permiso",
                                                       "paragraphs": "Para {nadie}.\n\nLlave {sin cerrar"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "«{nadie}» no es un dato disponible." in body
    assert "llaves { } sin cerrar" in body
    response = ed.post(url("editor_template", clave), {"kind": "resolution", "title": "Permiso",
                                                       "paragraphs": "  Uno\r\n  sigue.\r\n\r\nDos {folio}  "})
    assert response.status_code == 302
    assert draft_of(event_procedure)["template"] == {"kind": "resolution", "title": "Permiso", "fields": [],
                                                      "paragraphs": ["Uno sigue.", "Dos {folio}"]}


def test_preview_shows_pages_as_residents_see_them(ed, event_procedure):
    build_event_definition(ed, event_procedure)
    ed.post(url("editor_field_add", event_procedure.clave, "lugar_y_fecha"), field_data(type="address", label="Domicilio"))
    page = ed.get(url("editor_preview", event_procedure.clave)).content.decode()
    assert "Tu evento" in page and "Lugar y fecha" in page
    assert "Se muestra si «¿Habrá escenario?» es «si»." in page
    assert 'type="radio" id="vp-tu_evento-habra_escenario-1" name="vp-tu_evento-habra_escenario" disabled' in page
    assert "Código postal" in page and "BOULEVARD" in page
    assert "Identificación oficial vigente" in page
    # The page editor shows the preview of that page only.
    page = ed.get(url("editor_page", event_procedure.clave, "lugar_y_fecha")).content.decode()
    assert "Fecha del evento" in page and "¿Habrá escenario?" not in page


# --- Publishing, versions, reception ----------------------------------------------------------------------


def test_publish_refused_while_invalid(ed, event_procedure):
    ed.post(url("editor_start", event_procedure.clave))
    response = ed.post(url("editor_publish", event_procedure.clave), follow=True)
    assert "La definición tiene problemas que hay que corregir." in response.content.decode()
    assert not DefinitionVersion.objects.exists()


def test_publish_makes_versions_and_filed_requests_keep_theirs(ed, event_procedure, make_resident, editor_user):
    clave = event_procedure.clave
    build_event_definition(ed, event_procedure)
    response = ed.post(url("editor_publish", clave), {"note": "Primera versión"}, follow=True)
    assert "Se publicó la versión 1." in response.content.decode()
    definition = Definition.objects.get(procedure=event_procedure)
    assert definition.published_version.number == 1 and definition.published_version.note == "Primera versión"
    entry = AuditEntry.objects.filter(action="procedures.definition_published").last()
    assert entry.actor_id == editor_user.pk and entry.data == {"procedure": clave, "version": 1}

    # A resident files on version 1.
    resident = make_resident()
    request = services.start_draft(definition, applicant=resident)
    assert services.save_page(request, "tu_evento", {"nombre_del_evento": "Posada", "habra_escenario": "no"}).ok
    assert services.save_page(request, "lugar_y_fecha", {"fecha_del_evento": "24/12/2026", "calle": "Morelos"}).ok

    # Nothing changed: publishing again is refused.
    response = ed.post(url("editor_publish", clave), follow=True)
    assert "No hay cambios que publicar" in response.content.decode()

    ed.post(url("editor_field_add", clave, "lugar_y_fecha"), field_data(label="Colonia"))
    ed.post(url("editor_publish", clave))
    definition.refresh_from_db()
    assert definition.published_version.number == 2
    request.refresh_from_db()
    assert request.version.number == 1  # kept its version
    assert "colonia" not in [f.key for p in services.spec_of(request).pages for f in p.fields]

    page = ed.get(url("editor_versions", clave)).content.decode()
    assert "Versión 1" in page and "Versión 2" in page and "vigente" in page
    page = ed.get(url("editor_version", clave, 1)).content.decode()
    assert "Nombre del evento" in page and "Colonia" not in page
    download = ed.get(url("editor_version", clave, 1) + "?formato=json")
    assert download["Content-Disposition"] == f'attachment; filename="{clave}-v1.json"'
    assert json.loads(download.content) == DefinitionVersion.objects.get(number=1).spec
    assert ed.get(url("editor_version", clave, 9)).status_code == 404


def test_stop_and_resume_receiving_requests(ed, event_procedure, make_resident, editor_user):
    clave = event_procedure.clave
    build_event_definition(ed, event_procedure)
    # Before publishing there is nothing to resume.
    response = ed.post(url("editor_reception", clave), {"accepting": "1"}, follow=True)
    assert "Primero publica la definición" in response.content.decode()
    ed.post(url("editor_publish", clave))
    response = ed.post(url("editor_reception", clave), {"accepting": "0", "reason": "Temporada de lluvias"}, follow=True)
    assert "ya no recibe solicitudes nuevas" in response.content.decode()
    definition = Definition.objects.get(procedure=event_procedure)
    assert definition.is_active is False
    entry = AuditEntry.objects.filter(action="procedures.definition_reception_closed").get()
    assert entry.actor_id == editor_user.pk and entry.data["reason"] == "Temporada de lluvias"
    with pytest.raises(services.ProcedureError):
        services.start_draft(definition, applicant=make_resident())
    assert "Volver a recibir solicitudes" in ed.get(url("editor_definition", clave)).content.decode()
    ed.post(url("editor_reception", clave), {"accepting": "1"})
    definition.refresh_from_db()
    assert definition.is_active is True
    assert AuditEntry.objects.filter(action="procedures.definition_reception_opened").count() == 1
    # Repeating the same toggle changes and audits nothing.
    ed.post(url("editor_reception", clave), {"accepting": "1"})
    assert AuditEntry.objects.filter(action="procedures.definition_reception_opened").count() == 1
    assert services.start_draft(definition, applicant=make_resident()).status == Status.DRAFT


# --- JSON ---------------------------------------------------------------------------------------------------


def test_json_export_and_import(ed, event_procedure, licence):
    clave = event_procedure.clave
    build_event_definition(ed, event_procedure)
    download = ed.get(url("editor_json_download", clave))
    assert download["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(download.content) == draft_of(event_procedure)
    assert "nombre_del_evento" in ed.get(url("editor_json", clave)).content.decode()

    before = draft_of(event_procedure)
    for text, message in (
        ("{no es json", "El texto no es JSON válido (línea 1, columna 2)."),
        ("[1, 2]", "La definición debe ser un objeto JSON"),
        ('{"pages": {"a": 1}}', "«pages» debe ser una lista de objetos."),
        ('{"pages": [{"fields": "x"}]}', "deben ser una lista de objetos"),
        ('{"template": {"paragraphs": [1]}}', "«template.paragraphs» debe ser una lista de textos."),
        ("", "Pega la definición o sube un archivo."),
    ):
        response = ed.post(url("editor_json", clave), {"spec_json": text})
        assert response.status_code == 400, text
        assert message in response.content.decode(), text
    assert draft_of(event_procedure) == before  # nothing half-written

    licence_spec = json.dumps(licence.published_version.spec, ensure_ascii=False).encode("utf-8")
    response = ed.post(url("editor_json", clave),
                       {"spec_json": "", "spec_file": SimpleUploadedFile("d.json", licence_spec, "application/json")})
    assert response.status_code == 302
    assert draft_of(event_procedure)["pages"][0]["key"] == "negocio"
    # The licence fits this installation (its departments and document types exist): nothing to fix.
    assert editor.validation_errors(Definition.objects.get(procedure=event_procedure)) == []


# --- Pure helpers -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "taken", "expected"), [
    ("Superficie (m²)", set(), "superficie_m2"),
    ("2 plantas", set(), "pregunta_2_plantas"),
    ("¿Habrá escenario?", set(), "habra_escenario"),
    ("", set(), "pregunta"),
    ("Folio", {"folio"}, "folio_2"),
    ("Nombre", {"nombre", "nombre_2"}, "nombre_3"),
    ("x" * 80, set(), "x" * 34),
])
def test_make_key(text, taken, expected):
    assert editor.make_key(text, taken, "pregunta") == expected


def test_new_question_never_takes_a_builtin_placeholder_name(ed, event_procedure):
    ed.post(url("editor_start", event_procedure.clave))
    ed.post(url("editor_pages", event_procedure.clave), {"title": "Datos"})
    ed.post(url("editor_field_add", event_procedure.clave, "datos"), field_data(label="Fecha"))
    assert draft_of(event_procedure)["pages"][0]["fields"][0]["key"] == "fecha_2"


def test_page_keys_avoid_the_journey_steps(ed, event_procedure):
    ed.post(url("editor_start", event_procedure.clave))
    ed.post(url("editor_pages", event_procedure.clave), {"title": "Documentos"})
    assert draft_of(event_procedure)["pages"][0]["key"] == "documentos_2"


def test_normalised_reads_any_draft():
    assert editor.normalised(None)["pages"] == []
    odd = {"pages": [1, {"key": "a", "fields": "x"}], "steps": "no", "fee": [], "template": {"fields": "x"}, "extra": 1}
    draft = editor.normalised(odd)
    assert draft["pages"] == [{"key": "a", "fields": []}]
    assert draft["steps"] == [] and draft["fee"] == {"parameters": {}} and draft["extra"] == 1
    assert draft["template"] == {"fields": [], "kind": "certificate", "title": "", "paragraphs": []}
    assert odd["pages"][1]["fields"] == "x"  # the original is untouched


def test_editor_pages_survive_an_odd_draft(ed, event_procedure):
    definition = editor.start_definition(event_procedure, by=None)
    definition.draft_spec = {"pages": [{"key": "p", "title": "P", "fields": [
        {"key": "a", "type": "choice", "label": "A", "choices": "mal", "show_if": "mal"},
        {"key": "b", "type": "raro", "show_if": {"field": "a", "in": "no-lista"}},
    ]}], "steps": [{"key": "s", "after": "x"}], "template": {"paragraphs": ["{roto"]}}
    definition.save()
    clave = event_procedure.clave
    for name, args in (("editor_definition", ()), ("editor_pages", ()), ("editor_page", ("p",)),
                       ("editor_field", ("p", "a")), ("editor_field", ("p", "b")), ("editor_steps", ()),
                       ("editor_step", ("s",)), ("editor_template", ()), ("editor_preview", ()), ("editor_fee", ()),
                       ("editor_documents", ()), ("editor_json", ())):
        assert ed.get(url(name, clave, *args)).status_code == 200, name


# --- Authorization -------------------------------------------------------------------------------------------


def all_urls(clave: str) -> list[tuple[str, str]]:
    """(method, url) for every editor URL, with real keys of the licence definition."""
    get = [url("editor_list"), url("editor_definition", clave), url("editor_pages", clave),
           url("editor_page", clave, "negocio"), url("editor_page_delete", clave, "negocio"),
           url("editor_field_add", clave, "negocio"), url("editor_field", clave, "negocio", "giro"),
           url("editor_field_delete", clave, "negocio", "giro"), url("editor_documents", clave),
           url("editor_document", clave, "identificacion"), url("editor_steps", clave),
           url("editor_step", clave, "revision_documental"), url("editor_fee", clave), url("editor_template", clave),
           url("editor_preview", clave), url("editor_versions", clave), url("editor_version", clave, 1),
           url("editor_json", clave), url("editor_json_download", clave)]
    post = [url("editor_start", clave), url("editor_pages", clave), url("editor_page_move", clave, "negocio"),
            url("editor_field_move", clave, "negocio", "giro"), url("editor_document_move", clave, "identificacion"),
            url("editor_document_delete", clave, "identificacion"), url("editor_step_delete", clave, "proteccion_civil"),
            url("editor_publish", clave), url("editor_reception", clave), url("editor_json", clave),
            url("editor_field_delete", clave, "negocio", "giro"), url("editor_page_delete", clave, "fiscal")]
    return [("get", u) for u in get] + [("post", u) for u in post]


def test_every_url_refuses_whoever_may_not_edit(client, licence, make_resident, make_official, login_official,
                                                 other_department):
    spec_before = licence.draft_spec
    people = {
        "anonymous": None,
        "resident": make_resident(),
        "official_without_role": make_official(Role.REVIEWER, department=licence.procedure.department),
        "editor_of_another_department": make_official(Role.CATALOG_EDITOR, department=other_department),
    }
    for who, user in people.items():
        client.logout()
        if user is not None:
            if user.is_official:
                login_official(user)
            else:
                client.force_login(user)
        for method, target in all_urls(licence.procedure.clave):
            if who == "editor_of_another_department" and target == url("editor_list"):
                continue
            response = getattr(client, method)(target)
            expected = {"anonymous": 302, "resident": 403, "official_without_role": 403,
                        "editor_of_another_department": 404}[who]
            assert response.status_code == expected, (who, method, target, response.status_code)
            if who == "anonymous":
                assert "/llave/entrar/" in response["Location"]
    licence.refresh_from_db()
    assert licence.draft_spec == spec_before and licence.is_active
    assert licence.versions.count() == 1


def test_editor_of_the_department_and_platform_admin_reach_every_url(client, licence, make_official, login_official):
    for user in (make_official(Role.CATALOG_EDITOR, department=licence.procedure.department),
                 make_official(Role.PLATFORM_ADMIN)):
        client.logout()
        login_official(user)
        for method, target in all_urls(licence.procedure.clave):
            if method == "get":
                assert client.get(target).status_code == 200, target
    # Their POSTs redirect (or show the form again) and never fail.
    for method, target in all_urls(licence.procedure.clave):
        if method == "post":
            assert client.post(target).status_code in (302, 400), target


def test_editor_without_second_factor_is_sent_to_the_code_page(client, licence, make_official):
    user = make_official(Role.CATALOG_EDITOR, department=licence.procedure.department)
    client.force_login(user)
    response = client.get(url("editor_definition", licence.procedure.clave))
    assert response.status_code == 302 and "/llave/segundo-factor/" in response["Location"]


def test_unknown_procedure_is_404(ed):
    assert ed.get(url("editor_definition", "NO-EXISTE")).status_code == 404
    assert ed.get(url("editor_pages", "NO-EXISTE")).status_code == 404


def test_the_back_office_home_links_editors_to_the_online_procedures(ed, client, make_official, login_official):
    assert reverse("procedures:editor_list") in ed.get(reverse("identity:backoffice")).content.decode()
    client.logout()
    login_official(make_official(Role.REVIEWER))
    assert reverse("procedures:editor_list") not in client.get(reverse("identity:backoffice")).content.decode()


# --- Hypothesis: the editor's parsers ---------------------------------------------------------------------


HYPOTHESIS = settings(max_examples=200, deadline=None)
choice_text = st.text(alphabet=st.characters(blacklist_characters="|\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029",
                                             blacklist_categories=("Cs",)), min_size=1, max_size=30)


@HYPOTHESIS
@given(st.lists(st.tuples(choice_text, choice_text), min_size=1, max_size=10, unique_by=lambda c: c[0].strip()))
def test_choices_round_trip_through_their_text(pairs):
    pairs = [(v.strip(), t.strip()) for v, t in pairs]
    if any(not v or not t or len(v) > 60 for v, t in pairs):
        return
    choices = [{"value": v, "label": t} for v, t in pairs]
    assert parse_choices(format_choices(choices)) == choices


@HYPOTHESIS
@given(st.text(max_size=300))
def test_any_choices_text_parses_or_says_why(text):
    try:
        choices = parse_choices(text)
    except ChoicesError as exc:
        assert str(exc)
    else:
        values = [c["value"] for c in choices]
        assert values and len(values) == len(set(values)) and all(0 < len(v) <= 60 for v in values)
        # What the editor accepts, the spec accepts.
        spec_module.parse_spec({
            "pages": [{"key": "p", "title": "P", "fields": [
                {"key": "c", "type": "choice", "label": "C", "choices": choices}]}],
            "steps": [{"key": "s", "name": "S", "department": "d"}],
            "template": {"kind": "certificate", "title": "T"}})


@HYPOTHESIS
@given(st.text(max_size=80), st.sets(st.text(max_size=12), max_size=5))
def test_make_key_always_fits_the_spec_and_is_free(text, taken):
    key = editor.make_key(text, taken, "pregunta")
    assert spec_module.KEY_RE.match(key) and key not in taken


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                           max_leaves=15)


@HYPOTHESIS
@given(st.dictionaries(st.sampled_from(["pages", "documents", "steps", "fee", "template", "x"]), json_values, max_size=6))
def test_any_draft_can_be_normalised_and_checked_for_import(raw):
    draft = editor.normalised(raw)
    assert all(isinstance(p["fields"], list) for p in draft["pages"])
    editor.import_problems(raw)
    editor.placeholders(draft)
    editor.condition_order_problems(draft)
    for _page, f in editor.all_fields(draft):
        if isinstance(f.get("key"), str):
            editor.references_to(draft, f["key"])
