"""The measurement dashboard: who may see it, what each role sees, filters, charts and CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from ventanilla.procedures.models import EventKind, Status

from .test_metrics import at, event, fines, make_request, page  # noqa: F401  (fixtures)

URL = reverse("procedures:metrics")
MARCH = {"desde": "2025-03-01", "hasta": "2025-03-31"}


@pytest.fixture
def data(licence, fines, make_request):  # noqa: F811
    for day in (2, 5, 9):
        request = make_request(licence, submitted=at(day), fee=82000, status=Status.APPROVED, due=dt.date(2025, 3, 20),
                               resolved=at(day + 1))
        page(request, "negocio", "viewed", at(day, 9))
        event(request, EventKind.APPROVED, at(day, 18))
        event(request, EventKind.PAID, at(day + 1))
    make_request(licence, submitted=at(6), channel="counter")
    make_request(fines, submitted=at(7), channel="kiosk", fee=5000)
    return licence, fines


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content if response.streaming else [response.content]).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


# --- Authorization: every role ---------------------------------------------------------------------


@pytest.mark.parametrize("url", [URL, reverse("procedures:metrics_csv", args=["solicitudes"])])
def test_anonymous_goes_to_sign_in(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert reverse("identity:login") in response["Location"]


@pytest.mark.parametrize("url", [URL, reverse("procedures:metrics_csv", args=["solicitudes"])])
def test_residents_are_refused(client, make_resident, url):
    client.force_login(make_resident())
    assert client.get(url).status_code == 403


def test_officials_without_second_factor_are_sent_to_it(client, make_official, department):
    client.force_login(make_official("analyst", department=department))
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("identity:two_factor") in response["Location"]


@pytest.mark.parametrize("role,status", [
    ("reviewer", 403), ("counter_clerk", 403), ("catalog_editor", 403), ("data_publisher", 403),
    ("department_admin", 200), ("analyst", 200), ("platform_admin", 200),
])
@pytest.mark.parametrize("csv_table", [None, "solicitudes"])
def test_every_role(client, make_official, login_official, department, role, status, csv_table):
    login_official(make_official(role, department=department))
    url = reverse("procedures:metrics_csv", args=[csv_table]) if csv_table else URL
    assert client.get(url).status_code == status


def test_backoffice_home_lists_the_dashboard_for_those_who_may_use_it(client, make_official, login_official, department):
    login_official(make_official("analyst", department=department))
    assert URL in client.get(reverse("identity:backoffice")).content.decode()
    login_official(make_official("reviewer", department=department))
    assert URL not in client.get(reverse("identity:backoffice")).content.decode()


# --- What each role sees ---------------------------------------------------------------------------


def test_analyst_sees_every_department(client, make_official, login_official, department, data):
    login_official(make_official("analyst", department=department))
    response = client.get(URL, MARCH)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Licencia de funcionamiento para negocio de bajo impacto" in html and "Pago de multas" in html
    assert html.count("<svg") >= 6
    assert 'role="img"' in html
    tables = {t.slug: t for t in response.context["tables"]}
    assert set(tables) == {"solicitudes", "meses", "embudo", "pasos", "plazos", "ingresos", "resultados"}
    assert tables["solicitudes"].csv_rows == [
        ["TOR-DGDE-001", "Licencia de funcionamiento para negocio de bajo impacto", 3, 1, 0, 4],
        ["TOR-TES-900", "Pago de multas", 0, 0, 1, 1],
    ]
    assert tables["ingresos"].csv_rows == [["TOR-DGDE-001", "Licencia de funcionamiento para negocio de bajo impacto", 3, 246000, 0, 246000]]
    assert "$2,460.00" in html
    assert tables["plazos"].csv_rows == [["TOR-DGDE-001", "Licencia de funcionamiento para negocio de bajo impacto", 3, 0, 0, 0]]


def test_department_admin_sees_only_their_department(client, make_official, login_official, other_department, data):
    login_official(make_official("department_admin", department=other_department))
    response = client.get(URL, MARCH)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Pago de multas" in html
    assert "Licencia de funcionamiento para negocio de bajo impacto" not in html
    rows = {t.slug: t.csv_rows for t in response.context["tables"]}
    assert rows["solicitudes"] == [["TOR-TES-900", "Pago de multas", 1, 1]]
    assert rows["ingresos"] == []
    # Another department's procedure or the department itself cannot be asked for.
    assert client.get(URL, {**MARCH, "tramite": "TOR-DGDE-001"}).status_code == 400
    assert client.get(URL, {**MARCH, "dependencia": "desarrollo-economico"}).status_code == 400
    response = client.get(reverse("procedures:metrics_csv", args=["solicitudes"]), {**MARCH, "tramite": "TOR-DGDE-001"})
    assert response.status_code == 400


def test_filters(client, make_official, login_official, department, data):
    login_official(make_official("platform_admin", department=department))
    response = client.get(URL, {**MARCH, "canal": "counter"})
    assert [t.csv_rows for t in response.context["tables"] if t.slug == "solicitudes"] == [
        [["TOR-DGDE-001", "Licencia de funcionamiento para negocio de bajo impacto", 1, 1]]
    ]
    response = client.get(URL, {**MARCH, "dependencia": "tesoreria"})
    assert [t.csv_rows for t in response.context["tables"] if t.slug == "solicitudes"] == [
        [["TOR-TES-900", "Pago de multas", 1, 1]]
    ]
    response = client.get(URL, {**MARCH, "tramite": "TOR-TES-900"})
    assert [t.csv_rows for t in response.context["tables"] if t.slug == "solicitudes"] == [
        [["TOR-TES-900", "Pago de multas", 1, 1]]
    ]


def test_default_period_is_the_last_twelve_months(client, make_official, login_official, department, db):
    from django.utils import timezone

    login_official(make_official("analyst", department=department))
    scope = client.get(URL).context["scope"]
    assert scope.date_to == timezone.localdate()
    assert scope.date_to - scope.date_from == dt.timedelta(days=364)


@pytest.mark.parametrize("params,message", [
    ({"desde": "2025-13-01"}, "Escribe una fecha válida"),
    ({"desde": "2025-03-10", "hasta": "2025-03-01"}, "La fecha final debe ser igual o posterior a la inicial."),
    ({"desde": "2015-01-01", "hasta": "2025-01-01"}, "como máximo tres años"),
    ({"canal": "fax"}, "Elige un canal de la lista."),
    ({"tramite": "NO-EXISTE"}, "Elige un trámite de la lista."),
])
def test_bad_filters_are_a_400_with_a_spanish_message(client, make_official, login_official, department, db,
                                                      params, message):
    login_official(make_official("analyst", department=department))
    response = client.get(URL, params)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and "error-summary" in html
    response = client.get(reverse("procedures:metrics_csv", args=["plazos"]), params)
    assert response.status_code == 400
    assert message in response.content.decode()


# --- CSV ------------------------------------------------------------------------------------------


def test_csv_of_every_table(client, make_official, login_official, department, data):
    login_official(make_official("analyst", department=department))
    expected_first = {
        "solicitudes": ["Clave", "Trámite", "En línea", "Presencial (ventanilla)", "Kiosco", "Total"],
        "meses": ["Mes", "Solicitudes presentadas", "Ingresos netos (centavos)"],
        "embudo": ["Clave", "Trámite", "Página (clave)", "Página", "Borradores iniciados", "Presentados", "Llegaron",
                   "Completaron", "Abandonaron ahí"],
        "pasos": ["Clave", "Trámite", "Paso (clave)", "Paso", "Decididos", "Mediana (segundos)", "Percentil 90 (segundos)"],
        "plazos": ["Clave", "Trámite", "A tiempo", "Tarde", "Ficta", "Sin plazo legal"],
        "ingresos": ["Clave", "Trámite", "Solicitudes pagadas", "Cobrado (centavos)", "Reembolsado (centavos)",
                     "Ingresos netos (centavos)"],
        "resultados": ["Clave", "Trámite", "Aprobadas", "Negadas", "Afirmativa ficta", "Negativa ficta", "Desechadas", "Total"],
    }
    for table, header in expected_first.items():
        response = client.get(reverse("procedures:metrics_csv", args=[table]), MARCH)
        assert response.status_code == 200, table
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert f"medicion-{table}-2025-03-01-2025-03-31.csv" in response["Content-Disposition"]
        assert response.content.startswith("\ufeff".encode())
        rows = csv_rows(response)
        assert rows[0] == header
    rows = csv_rows(client.get(reverse("procedures:metrics_csv", args=["meses"]), MARCH))
    assert rows[1:] == [["2025-03", "5", "246000"]]
    rows = csv_rows(client.get(reverse("procedures:metrics_csv", args=["resultados"]), MARCH))
    assert rows[1:] == [["TOR-DGDE-001", "Licencia de funcionamiento para negocio de bajo impacto", "3", "0", "0", "0", "0", "3"]]


def test_unknown_table_is_404(client, make_official, login_official, department, db):
    login_official(make_official("analyst", department=department))
    assert client.get(reverse("procedures:metrics_csv", args=["usuarios"])).status_code == 404


def test_csv_neutralises_spreadsheet_formulas():
    from ventanilla.procedures.metrics_views import _csv_cell

    assert _csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert _csv_cell("@SUM") == "'@SUM"
    assert _csv_cell("Licencia") == "Licencia"
    assert _csv_cell(-5) == -5
