"""The definition format (`ventanilla.procedures.spec`): validation of what editors build, cleaning
and display of what residents answer. Unit tests for each rule, Hypothesis for "never crashes,
always a Spanish message" over any JSON and any answer."""

from __future__ import annotations

import copy
import json
import string
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.procedures_fixtures import demo_spec
from ventanilla.procedures import spec as s

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def minimal(**overrides) -> dict:
    raw = {
        "pages": [{"key": "datos", "title": "Tus datos", "fields": [
            {"key": "nombre", "type": "text", "label": "Nombre"},
        ]}],
        "documents": [],
        "steps": [{"key": "revision", "name": "Revisión", "department": "desarrollo-economico", "role": "reviewer"}],
        "fee": {"parameters": {}},
        "template": {"kind": "certificate", "title": "Constancia", "fields": [], "paragraphs": []},
    }
    raw.update(overrides)
    return raw


def with_fields(*fields: dict, **overrides) -> dict:
    return minimal(pages=[{"key": "datos", "title": "Tus datos", "fields": list(fields)}], **overrides)


def errors_of(raw, **kwargs) -> list[str]:
    with pytest.raises(s.SpecError) as exc:
        s.parse_spec(raw, **kwargs)
    return exc.value.errors


# --- Validation: what parses ---------------------------------------------------------------------------


def test_demo_licence_parses_with_its_references():
    spec = s.parse_spec(demo_spec("TOR-DGDE-001"), departments={"desarrollo-economico", "proteccion-civil"},
                        document_types={"INE", "COMPROBANTE_DOMICILIO", "USO_SUELO"}, fee_parameters=[])
    assert [p.key for p in spec.pages] == ["negocio", "fiscal", "local"]
    assert spec.fields_by_key["superficie"].min == Decimal(1)
    assert spec.fields_by_key["contrato"].show_if == {"field": "local_rentado", "equals": "si"}
    assert spec.steps[1].after == ("revision_documental",)
    assert spec.next_page("negocio").key == "fiscal" and spec.next_page("local") is None
    assert spec.previous_page("fiscal").key == "negocio" and spec.previous_page("negocio") is None
    assert spec.page("nada") is None and spec.next_page("nada") is None


def test_defaults_of_optional_attributes():
    f = s.parse_spec(minimal()).fields_by_key["nombre"]
    assert (f.required, f.help, f.min, f.max, f.max_length, f.pattern, f.choices, f.show_if) == (
        True, "", None, None, 500, "", (), None)
    assert s.parse_spec(minimal(documents=[{"key": "ine", "label": "INE"}])).documents[0].required is True


# --- Validation: every problem, in Spanish, all at once ---------------------------------------------------


def test_every_problem_is_reported_at_once():
    raw = {
        "pages": [{"key": "Mala Clave", "title": "", "fields": [
            {"key": "a", "type": "nada", "label": "A"},
            {"key": "b", "type": "number", "label": "", "min": 5, "max": 1},
        ]}],
        "steps": [],
        "template": {"kind": "otro", "title": ""},
    }
    errors = errors_of(raw)
    for expected in (
        "Página: la clave «Mala Clave» no sirve",
        "La página «?» no tiene título.",
        "La pregunta «A» tiene un tipo desconocido: «nada».",
        "La pregunta «b» no tiene etiqueta.",
        "La pregunta «b»: el mínimo es mayor que el máximo.",
        "Se necesita al menos un paso de revisión.",
        "El tipo de documento que se entrega no es válido.",
        "La plantilla necesita un título.",
    ):
        assert any(e.startswith(expected) for e in errors), (expected, errors)


@pytest.mark.parametrize(("raw", "message"), [
    ([], "La definición debe ser un objeto JSON."),
    (minimal(pages=[]), "El formulario necesita al menos una página."),
    (minimal(pages=[{"key": f"p{i}", "title": "P", "fields": [{"key": f"f{i}", "type": "text", "label": "F"}]}
                    for i in range(31)]), "El formulario tiene demasiadas páginas (máximo 30)."),
    (minimal(pages=["x"]), "Cada página debe ser un objeto con clave, título y preguntas."),
    (minimal(pages=[{"key": "p", "title": "P", "fields": []}]), "La página «P» no tiene preguntas."),
    (minimal(pages=[{"key": "p", "title": "P", "fields": [{"key": f"f{i}", "type": "text", "label": "F"} for i in range(31)]}]),
     "La página «P» tiene demasiadas preguntas."),
    (with_fields("x"), "Cada pregunta debe ser un objeto con clave, tipo y etiqueta."),
    (with_fields({"key": "a", "type": "text", "label": "A"}, {"key": "a", "type": "text", "label": "B"}),
     "Pregunta: la clave «a» está repetida."),
    (with_fields({"key": "a", "type": "number", "label": "A", "min": "mucho"}),
     "La pregunta «A»: el mínimo y el máximo deben ser números."),
    (with_fields({"key": "a", "type": "number", "label": "A", "max": "NaN"}),
     "La pregunta «A»: el mínimo y el máximo deben ser números."),
    (with_fields({"key": "a", "type": "number", "label": "A", "min": True}),
     "La pregunta «A»: el mínimo y el máximo deben ser números."),
    (with_fields({"key": "a", "type": "text", "label": "A", "max_length": 2001}),
     "La pregunta «A»: la longitud máxima debe estar entre 1 y 2000."),
    (with_fields({"key": "a", "type": "text", "label": "A", "max_length": True}),
     "La pregunta «A»: la longitud máxima debe estar entre 1 y 2000."),
    (with_fields({"key": "a", "type": "text", "label": "A", "pattern": "x" * 201}),
     "La pregunta «A»: el patrón es demasiado largo."),
    (with_fields({"key": "a", "type": "text", "label": "A", "pattern": "[a-"}),
     "La pregunta «A»: el patrón no es una expresión regular válida."),
    (with_fields({"key": "a", "type": "choice", "label": "A"}), "La pregunta «A» necesita entre 1 y 200 opciones."),
    (with_fields({"key": "a", "type": "choice", "label": "A", "choices": [{"value": "x"}]}),
     "La pregunta «A»: cada opción necesita valor y texto."),
    (with_fields({"key": "a", "type": "choice", "label": "A", "choices": [{"value": "x", "label": "X"}, {"value": "x", "label": "Y"}]}),
     "La pregunta «A»: la opción «x» está repetida."),
    (with_fields({"key": "a", "type": "text", "label": "A", "show_if": {"field": "b", "filled": True}},
                 {"key": "b", "type": "text", "label": "B"}),
     "La pregunta «A» solo puede mostrarse según una pregunta anterior"),
    (with_fields({"key": "a", "type": "text", "label": "A"}, {"key": "b", "type": "text", "label": "B", "show_if": {"field": "a"}}),
     "La pregunta «B» solo puede mostrarse según una pregunta anterior"),
    (with_fields({"key": "a", "type": "text", "label": "A", "show_if": {"field": "a", "filled": True}}),
     "La pregunta «A» solo puede mostrarse según una pregunta anterior"),
    (minimal(documents={"a": 1}), "Los documentos deben ser una lista."),
    (minimal(documents=[1]), "Cada documento debe ser un objeto con clave y nombre."),
    (minimal(documents=[{"key": "nombre", "label": "Nombre"}]), "Documento: la clave «nombre» está repetida."),
    (minimal(documents=[{"key": "ine", "label": ""}]), "El documento «ine» no tiene nombre."),
    (minimal(steps=[1]), "Cada paso de revisión debe ser un objeto."),
    (minimal(steps=[{"key": "r", "name": "", "department": "d"}]), "El paso «r» no tiene nombre."),
    (minimal(steps=[{"key": "r", "name": "R", "department": "d", "role": "catalog_editor"}]),
     "El paso «R» tiene un rol que no puede revisar."),
    (minimal(steps=[{"key": "r", "name": "R", "department": "d", "after": ["r"]}]),
     "El paso «R» solo puede ir después de pasos anteriores."),
    (minimal(steps=[{"key": "r", "name": "R", "department": "d", "after": "r"}]),
     "El paso «R» solo puede ir después de pasos anteriores."),
    (minimal(fee={"parameters": ["m2"]}), "Los datos del costo deben relacionar cada dato con una pregunta."),
    (minimal(fee={"parameters": {"m2": "nombre"}}), "El dato del costo «m2» debe tomarse de una pregunta numérica."),
    (with_fields({"key": "m", "type": "number", "label": "M", "required": False}, fee={"parameters": {"m2": "m"}}),
     "El dato del costo «m2» debe venir de una pregunta obligatoria que siempre se muestre."),
    (minimal(template=None), "Falta la plantilla del documento que se entrega."),
    (minimal(template={"kind": "certificate", "title": "T", "fields": ["nadie"]}),
     "La plantilla solo puede mostrar preguntas del formulario."),
    (minimal(template={"kind": "certificate", "title": "T", "paragraphs": "texto"}),
     "Los párrafos de la plantilla deben ser textos."),
    (minimal(template={"kind": "certificate", "title": "T", "paragraphs": ["Hola {nombre"]}),
     "Un párrafo de la plantilla tiene llaves { } sin cerrar."),
    (minimal(template={"kind": "certificate", "title": "T", "paragraphs": ["Hola {apellido}"]}),
     "La plantilla usa «{apellido}», que no es una pregunta ni un dato disponible."),
    (minimal(template={"kind": "certificate", "title": "T", "paragraphs": ["{nombre.__class__}"]}),
     "La plantilla usa «{nombre.__class__}»"),
])
def test_each_rule_has_its_message(raw, message):
    errors = errors_of(raw)
    assert any(e.startswith(message) for e in errors), errors


def test_references_are_checked_when_given():
    raw = minimal(documents=[{"key": "ine", "label": "INE", "document_type": "INE"}])
    errors = errors_of(raw, departments={"tesoreria"}, document_types={"CURP"}, fee_parameters=["m2"])
    assert "El paso «Revisión» necesita una dependencia que exista." in errors
    assert "El documento «INE» usa un tipo que no está en el catálogo: «INE»." in errors
    assert "Falta indicar de qué pregunta sale el dato de costo «m2»." in errors
    raw = with_fields({"key": "m", "type": "money", "label": "M"}, fee={"parameters": {"m2": "m", "otro": "m"}})
    assert "El catálogo no tiene el dato de costo «otro»." in errors_of(raw, fee_parameters=["m2"])
    assert s.parse_spec(with_fields({"key": "m", "type": "money", "label": "M"}, fee={"parameters": {"m2": "m"}}),
                        fee_parameters=["m2"]).fee_parameters == {"m2": "m"}


# Bugs found while writing these tests (each failed before its fix in spec.py):

@pytest.mark.parametrize("raw", [
    with_fields({"key": "a", "type": ["text"], "label": "A"}),
    with_fields({"key": "a", "type": "text", "label": "A"}, {"key": "b", "type": "text", "label": "B",
                                                             "show_if": {"field": ["a"], "filled": True}}),
    minimal(steps=[{"key": "r", "name": "R", "department": "d", "after": [["x"]]}]),
    minimal(fee={"parameters": {"m2": ["nombre"]}}),
    minimal(template={"kind": "certificate", "title": "T", "fields": [["nombre"]]}),
    with_fields({"key": "a", "type": "text", "label": "A", "pattern": "a{4294967296}"}),
])
def test_unhashable_or_overflowing_values_are_errors_not_crashes(raw):
    assert errors_of(raw)


def test_a_question_cannot_take_a_builtin_placeholder_name():
    """{fecha} must stay the resolution date the editor is told about, not an answer."""
    raw = with_fields({"key": "fecha", "type": "date", "label": "Fecha del evento"},
                      template={"kind": "certificate", "title": "T", "paragraphs": ["Emitido el {fecha}."]})
    assert "La pregunta «Fecha del evento»: la clave «fecha» está reservada para el documento que se entrega." in errors_of(raw)


def test_an_overlong_paragraph_is_refused_rather_than_cut_inside_a_placeholder():
    paragraph = "x" * (s.MAX_TEXT - 3) + "{nombre}"
    raw = minimal(template={"kind": "certificate", "title": "T", "paragraphs": [paragraph]})
    assert "Un párrafo de la plantilla es demasiado largo (máximo 2000 caracteres)." in errors_of(raw)


# --- Answers ---------------------------------------------------------------------------------------------


def field(**kwargs) -> s.Field:
    kwargs.setdefault("key", "f")
    kwargs.setdefault("label", "Pregunta")
    return s.Field(**kwargs)


@pytest.mark.parametrize(("f", "typed", "stored"), [
    (field(type="text"), "  Abarrotes  ", "Abarrotes"),
    (field(type="number"), "100", "100"),  # was "1E+2" before the fix
    (field(type="number"), "1,250", "1250"),
    (field(type="number"), "85.50", "85.50"),
    (field(type="number"), "-0", "0"),
    (field(type="number"), "7.0", "7"),
    (field(type="money"), "$1,234.50", 123450),
    (field(type="date"), "31/12/2026", "2026-12-31"),
    (field(type="date"), "2026-12-31", "2026-12-31"),
    (field(type="date"), "31-12-2026", "2026-12-31"),
    (field(type="choice", choices=(("si", "Sí"),)), "si", "si"),
    (field(type="rfc"), "gode561231gr8", "GODE561231GR8"),
    (field(type="parcel_key"), "001-045-012", "001-045-012"),
    (field(type="parcel_key"), "001-045-012-003", "001-045-012-003"),
    (field(type="file"), "5A0C2F3E-0000-4000-8000-000000000000", "5a0c2f3e-0000-4000-8000-000000000000"),
])
def test_clean_value(f, typed, stored):
    assert s._clean_value(f, {"f": typed}) == stored


@pytest.mark.parametrize(("f", "typed", "message"), [
    (field(type="text", max_length=5), "x" * 6, "Escribe como máximo 5 caracteres."),  # 6..40 passed before the fix
    (field(type="text", pattern=r"\d{10}"), "871-123", "El texto no tiene el formato que se pide."),
    (field(type="number"), "doce", "Escribe un número, por ejemplo 120 o 85.5."),
    (field(type="number"), "1e3", "Escribe un número, por ejemplo 120 o 85.5."),
    (field(type="number", min=Decimal(1)), "0", "Debe ser al menos 1."),
    (field(type="number", max=Decimal(500)), "501", "Debe ser como máximo 500."),
    (field(type="money", max=Decimal(100)), "100.01", "Debe ser como máximo 100."),
    (field(type="money"), "-5", "La cantidad no puede ser negativa."),
    (field(type="date"), "31/02/2026", "Escribe una fecha válida, por ejemplo 31/12/2026."),
    (field(type="date"), "01/01/1800", "Escribe una fecha válida, por ejemplo 31/12/2026."),
    (field(type="choice", choices=(("si", "Sí"),)), "tal vez", "Elige una de las opciones."),
    (field(type="parcel_key"), "1-2-3", "La clave catastral no tiene el formato correcto"),
    (field(type="file"), "no-es-un-uuid", "Sube el archivo o elige uno de Mi expediente."),
    (field(type="curp"), "XXXX", ""),
    (field(type="rfc"), "XXXX", ""),
])
def test_clean_value_refusals(f, typed, message):
    with pytest.raises(ValueError) as exc:
        s._clean_value(f, {"f": typed})
    assert str(exc.value).startswith(message) and str(exc.value)


def test_curp_is_checked_with_its_digit(curp_factory):
    curp = curp_factory()
    assert s._clean_value(field(type="curp"), {"f": curp.lower()}) == curp


ADDRESS = {
    "d.road_type": "avenida", "d.road_name": "Juárez  Sur", "d.exterior_number": "s/n",
    "d.settlement_type": "COLONIA", "d.settlement_name": "Centro", "d.postal_code": "27000",
    "d.locality": "Torreón", "d.municipality": "Torreón", "d.state": "Coahuila de Zaragoza",
}


def test_address_is_cleaned_and_displayed():
    f = field(key="d", type="address", label="Domicilio")
    value = s._clean_value(f, ADDRESS)
    assert value["road_name"] == "JUÁREZ SUR" and value["exterior_number"] == "SN" and value["interior_number"] == ""
    assert s.display_value(f, value) == "AVENIDA JUÁREZ SUR SN, COLONIA CENTRO, C.P. 27000, TORREÓN, TORREÓN, COAHUILA DE ZARAGOZA"
    assert s._clean_value(f, {}) is None
    for change, message in (
        ({"d.locality": ""}, "Falta en el domicilio: Localidad."),
        ({"d.road_type": "AUTOPISTA"}, "Elige el tipo de vialidad de la lista."),
        ({"d.settlement_type": "BLOQUE"}, "Elige el tipo de asentamiento de la lista."),
        ({"d.exterior_number": "12 y medio"}, "El número exterior debe ser un número"),
        ({"d.postal_code": "2700"}, "El código postal tiene 5 dígitos."),
        ({"d.postal_code": "270000"}, "Código postal: escribe como máximo 5 caracteres."),
    ):
        with pytest.raises(ValueError) as exc:
            s._clean_value(f, {**ADDRESS, **change})
        assert str(exc.value).startswith(message), str(exc.value)


def conditional_spec() -> s.Spec:
    return s.parse_spec(with_fields(
        {"key": "escenario", "type": "choice", "label": "¿Habrá escenario?",
         "choices": [{"value": "si", "label": "Sí"}, {"value": "no", "label": "No"}]},
        {"key": "altura", "type": "number", "label": "Altura", "show_if": {"field": "escenario", "equals": "si"}},
        {"key": "planta", "type": "text", "label": "Planta", "required": False,
         "show_if": {"field": "altura", "filled": True}},
        {"key": "nota", "type": "text", "label": "Nota", "show_if": {"field": "escenario", "in": ["si", "no"]}},
    ))


def test_clean_page_applies_conditions_in_page_order():
    spec = conditional_spec()
    result = s.clean_page(spec, "datos", {"escenario": "no", "altura": "3", "nota": "n"}, {})
    assert result.ok and result.values == {"escenario": "no", "nota": "n"}  # hidden answers are dropped
    result = s.clean_page(spec, "datos", {"escenario": "si"}, {})
    assert result.errors == {"altura": "Responde «Altura».", "nota": "Responde «Nota»."}
    result = s.clean_page(spec, "datos", {"escenario": "si", "altura": "3", "planta": "Baja", "nota": "x"}, {"altura": "9"})
    assert result.values == {"escenario": "si", "altura": "3", "planta": "Baja", "nota": "x"}
    assert s.clean_page(spec, "nada", {}, {}).errors == {"__all__": "Esta página no existe en el formulario."}


def test_visible_and_missing_answers_follow_chains_of_conditions():
    spec = conditional_spec()
    stale = {"escenario": "no", "altura": "3", "planta": "Baja", "nota": "n"}
    assert s.visible_answers(spec, stale) == {"escenario": "no", "nota": "n"}
    assert [f.key for _p, f in s.missing_answers(spec, {"escenario": "si"})] == ["altura", "nota"]
    assert [f.key for _p, f in s.missing_answers(spec, {})] == ["escenario"]


def test_display_values():
    assert s.display_value(field(type="money"), 123450) == "$1,234.50"
    assert s.display_value(field(type="date"), "2026-12-31") == "31/12/2026"
    assert s.display_value(field(type="choice", choices=(("si", "Sí"),)), "si") == "Sí"
    assert s.display_value(field(type="choice", choices=(("si", "Sí"),)), "otro") == "otro"
    assert s.display_value(field(type="number"), "48") == "48"
    assert s.display_value(field(type="text"), None) == ""


def test_render_paragraph_fills_answers_and_builtins_and_nothing_else():
    spec = conditional_spec()
    builtins = {"folio": "TRC-2026-0000001", "solicitante": "María Gómez"}
    text = s.render_paragraph("{solicitante} ({folio}): escenario {escenario}, altura {altura} m, {nota!r:>9}.", spec,
                              {"escenario": "si", "altura": "3"}, builtins)
    assert text == "María Gómez (TRC-2026-0000001): escenario Sí, altura 3 m, ."
    assert s.render_paragraph("{0} {x.y} {escenario.__class__}", spec, {}, builtins) == "  "


def test_parcel_key_pattern_comes_from_settings(settings):
    settings.VENTANILLA_PARCEL_KEY_PATTERN = r"^[A-Z]{2}\d{4}$"
    assert s._clean_value(field(type="parcel_key"), {"f": "ab1234"}) == "AB1234"


# --- Hypothesis --------------------------------------------------------------------------------------------

json_leaves = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True) | st.text(max_size=12)
json_values = st.recursive(json_leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=20)
keys = st.sampled_from(["a", "b", "c", "nombre", "folio", "Mal", "", "x" * 41]) | json_leaves
def maybe(strategy):
    return strategy | json_values


field_like = st.fixed_dictionaries({}, optional={
    "key": keys, "type": maybe(st.sampled_from(list(s.FIELD_TYPES))), "label": maybe(st.text(max_size=10)),
    "required": json_values, "min": json_values, "max": json_values, "max_length": json_values,
    "pattern": maybe(st.sampled_from(["", r"\d+", "[", "a{4294967296}", "(a)"])), "help": json_values,
    "choices": maybe(st.lists(st.fixed_dictionaries({}, optional={"value": maybe(st.text(max_size=5)), "label": json_values}), max_size=3)),
    "show_if": maybe(st.fixed_dictionaries({}, optional={"field": keys, "equals": json_values, "in": json_values, "filled": json_values})),
})
spec_like = st.fixed_dictionaries({}, optional={
    "pages": maybe(st.lists(st.fixed_dictionaries({}, optional={"key": keys, "title": json_values,
                                                             "fields": maybe(st.lists(field_like, max_size=4))}), max_size=3)),
    "documents": maybe(st.lists(st.fixed_dictionaries({}, optional={"key": keys, "label": json_values, "document_type": json_values,
                                                                 "required": json_values}), max_size=3)),
    "steps": maybe(st.lists(st.fixed_dictionaries({}, optional={"key": keys, "name": json_values, "department": json_values,
                                                             "role": maybe(st.sampled_from(list(s.STEP_ROLES))),
                                                             "after": maybe(st.lists(keys, max_size=3))}), max_size=3)),
    "fee": maybe(st.fixed_dictionaries({}, optional={"parameters": maybe(st.dictionaries(st.text(max_size=4), keys, max_size=3))})),
    "template": maybe(st.fixed_dictionaries({}, optional={
        "kind": maybe(st.sampled_from(list(s.DOCUMENT_KINDS))), "title": json_values,
        "fields": maybe(st.lists(keys, max_size=3)),
        "paragraphs": maybe(st.lists(st.text(alphabet="ab {}!:.", max_size=20), max_size=3))})),
})


@SETTINGS
@given(spec_like)
def test_any_json_is_a_spec_or_a_list_of_spanish_errors(raw):
    try:
        spec = s.parse_spec(raw, departments={"d"}, document_types={"INE"}, fee_parameters=[])
    except s.SpecError as exc:
        assert exc.errors and all(isinstance(e, str) and e for e in exc.errors)
    else:
        assert spec.pages and spec.steps
        json.dumps(raw)  # what parses is plain JSON


@SETTINGS
@given(json_values)
def test_any_json_value_at_all(raw):
    try:
        s.parse_spec(raw)
    except s.SpecError as exc:
        assert exc.errors


answer_text = st.text(max_size=30) | st.sampled_from(["100", "1,250.50", "$5", "-3", "31/12/2026", "si", "no",
                                                      "001-045-012", "GODE561231GR8", "1e400", "NaN", ""])


@SETTINGS
@given(st.dictionaries(st.sampled_from(["escenario", "altura", "planta", "nota", "otra"]), answer_text, max_size=5),
       st.dictionaries(st.sampled_from(["escenario", "altura"]), answer_text, max_size=2))
def test_clean_page_never_crashes_and_keeps_only_valid_visible_answers(data, earlier):
    spec = conditional_spec()
    result = s.clean_page(spec, "datos", data, earlier)
    assert set(result.values) | set(result.errors) <= {"escenario", "altura", "planta", "nota"}
    assert not set(result.values) & set(result.errors)
    json.dumps(result.values)
    for key, value in result.values.items():
        assert spec.fields_by_key[key].is_visible(result.values)
        s.display_value(spec.fields_by_key[key], value)
    assert s.visible_answers(spec, result.values) == result.values if result.ok else True


ADDRESS_KEYS = [f"d.{part}" for part, *_rest in s.ADDRESS_PARTS]


@SETTINGS
@given(st.dictionaries(st.sampled_from(ADDRESS_KEYS), st.text(max_size=40) | st.sampled_from(["AVENIDA", "COLONIA", "27000", "SN", "12-B"])))
def test_address_never_crashes(data):
    f = field(key="d", type="address", label="Domicilio")
    try:
        value = s._clean_value(f, {**ADDRESS, **data})
    except ValueError as exc:
        assert str(exc)
    else:
        assert set(value) == {part for part, *_rest in s.ADDRESS_PARTS}
        assert s.display_value(f, value)


@SETTINGS
@given(st.decimals(min_value=-10**9, max_value=10**9, places=6, allow_nan=False))
def test_numbers_are_stored_exactly_as_plain_decimals(number):
    typed = format(number, "f")
    stored = s._clean_value(field(type="number"), {"f": typed})
    assert Decimal(stored) == number
    assert "E" not in stored and stored != "-0"


@SETTINGS
@given(st.integers(min_value=0, max_value=10**12))
def test_money_round_trips_through_display(centavos):
    f = field(type="money")
    assert s._clean_value(f, {"f": s.display_value(f, centavos)}) == centavos


@SETTINGS
@given(st.integers(min_value=1, max_value=60), st.text(max_size=80))
def test_text_never_exceeds_its_max_length(limit, text):
    try:
        value = s._clean_value(field(type="text", max_length=limit), {"f": text})
    except ValueError:
        assert len(text.strip()) > limit
    else:
        assert value is None or len(value) <= limit


@SETTINGS
@given(st.text(alphabet=string.ascii_letters + " {}!:.[]0", max_size=40))
def test_paragraphs_that_validate_always_render(paragraph):
    raw = copy.deepcopy(minimal(template={"kind": "certificate", "title": "T", "paragraphs": [paragraph]}))
    try:
        spec = s.parse_spec(raw)
    except s.SpecError:
        return
    s.render_paragraph(spec.template.paragraphs[0], spec, {"nombre": "Ana"}, {"folio": "F"})
