"""The back office for online requests through HTTP: the queue, the case page, its actions with
revision checks, document reads recorded in the resident's access log, and who may see what."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.procedures_fixtures import TINY_PDF  # noqa: F401  (the bytes the fixtures upload)

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(submitted_request):
    return submitted_request()


@pytest.fixture
def de_reviewer(reviewers):
    return reviewers[0]


@pytest.fixture
def pc_reviewer(reviewers):
    return reviewers[1]


def case_url(request, name="backoffice_case", *extra):
    return reverse(f"procedures:{name}", args=[request.public_id, *extra])


def html(response) -> str:
    return response.content.decode()


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html(response)))


def _fresh(request):
    request.refresh_from_db()
    return request


# --- Who may see what -----------------------------------------------------------------------------

ACTION_NAMES = ("backoffice_approve", "backoffice_correction", "backoffice_reject", "backoffice_assign",
                "backoffice_note", "backoffice_message")


def every_case_url(request):
    urls = [case_url(request)] + [case_url(request, name) for name in ACTION_NAMES]
    urls += [case_url(request, "backoffice_document", d.file_document) for d in request.documents.all()]
    return urls


def test_anonymous_visitors_are_sent_to_sign_in(client, case):
    for url in [reverse("procedures:backoffice_queue"), reverse("procedures:counter"), *every_case_url(case)]:
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302 and "/llave/entrar/" in response["Location"], url


def test_residents_and_officials_without_a_case_role_are_refused(client, case, make_official, login_official, department):
    urls = [reverse("procedures:backoffice_queue"), reverse("procedures:counter"), *every_case_url(case)]
    client.force_login(case.applicant)  # even the applicant: their own pages are the journey's
    for url in urls:
        assert client.get(url).status_code == 403, url
        assert client.post(url).status_code == 403, url
    for role in ("catalog_editor", "data_publisher", "analyst"):
        login_official(make_official(role, department=department))
        for url in urls:
            assert client.get(url).status_code == 403, (role, url)
            assert client.post(url).status_code == 403, (role, url)


def test_officials_without_a_verified_second_factor_go_to_the_code_page(client, case, make_official, department):
    client.force_login(make_official("reviewer", department=department))
    for url in [reverse("procedures:backoffice_queue"), *every_case_url(case)]:
        response = client.get(url)
        assert response.status_code == 302 and "next=" in response["Location"]


def test_a_reviewer_of_another_department_gets_404_for_every_case(client, submitted_request, reviewers,
                                                                 make_official, other_department, login_official):
    from ventanilla.procedures.models import Request

    cases = [submitted_request() for _ in range(3)]
    outsider = make_official("reviewer", "department_admin", "counter_clerk", department=other_department)
    login_official(outsider)
    queue = client.get(reverse("procedures:backoffice_queue"), {"vista": "todas"})
    assert queue.status_code == 200
    for request in Request.objects.all():  # every id there is, drafts included
        for url in every_case_url(request):
            get_only = url == case_url(request) or "/documentos/" in url
            post_only = not get_only and not url.endswith(("/prevenir/", "/negar/"))
            assert client.get(url).status_code == (405 if post_only else 404), url
            posted = client.post(url, {"revision": request.revision, "step": "revision_documental",
                                       "text": "Hola", "to": "yo", "grounds": "x" * 30, "days": 5})
            assert posted.status_code == (405 if get_only else 404), url
        assert request.folio is None or request.folio not in html(queue)
    for request in cases:
        assert _fresh(request).revision == request.revision  # nothing happened to them
        assert not request.events.filter(kind__in=["note", "message", "assigned"]).exists()


def test_drafts_are_not_back_office_cases(client, licence, make_resident, de_reviewer, login_official):
    from ventanilla.procedures import services

    draft = services.start_draft(licence, applicant=make_resident())
    login_official(de_reviewer)
    assert client.get(case_url(draft)).status_code == 404


def test_a_reviewer_of_a_later_step_sees_the_case_but_cannot_decide_it_yet(client, case, pc_reviewer, login_official):
    login_official(pc_reviewer)
    page = client.get(case_url(case))
    assert page.status_code == 200
    assert "No tienes un paso de revisión activo" in text_of(page)
    assert case_url(case, "backoffice_approve") not in html(page)
    seen = case.revision
    response = client.post(case_url(case, "backoffice_approve"), {"revision": seen, "step": "revision_documental"})
    assert response.status_code == 403
    assert "No tienes un paso de revisión activo en esta solicitud." in text_of(response)
    assert _fresh(case).revision == seen
    response = client.post(case_url(case, "backoffice_reject"), {"revision": seen, "grounds": "Fundamentos " * 5})
    assert response.status_code == 403
    assert _fresh(case).status == "in_review"


# --- The queue -----------------------------------------------------------------------------------


def test_the_queue_lists_active_steps_of_my_departments_with_deadline_text(client, case, de_reviewer, pc_reviewer,
                                                                           login_official):
    login_official(de_reviewer)
    page = client.get(reverse("procedures:backoffice_queue"))
    assert page.status_code == 200
    assert case.folio in html(page)
    assert case_url(case) in html(page)
    assert re.search(r"deadline--(en-tiempo|por-vencer|vencida)", html(page))
    assert re.search(r"(En tiempo|Por vencer|Vencida)</strong>: (Vence|Vencida)", html(page))
    # Protección Civil's step is still waiting: not in its pending queue, but in "all" it is.
    login_official(pc_reviewer)
    assert case.folio not in html(client.get(reverse("procedures:backoffice_queue")))
    assert case.folio in html(client.get(reverse("procedures:backoffice_queue"), {"vista": "todas"}))


def test_queue_filters_and_malformed_query_values(client, submitted_request, de_reviewer, login_official):
    first, second = submitted_request(), submitted_request()
    login_official(de_reviewer)
    url = reverse("procedures:backoffice_queue")
    found = html(client.get(url, {"folio": second.folio}))
    assert second.folio in found and first.folio not in found
    number = str(first.pk)
    found = html(client.get(url, {"folio": number}))
    assert first.folio in found and second.folio not in found
    assert first.folio not in html(client.get(url, {"asignacion": "mias"}))
    assert first.folio in html(client.get(url, {"asignacion": "sin-asignar"}))
    assert first.folio not in html(client.get(url, {"canal": "counter"}))
    assert first.folio in html(client.get(url, {"canal": "online", "tramite": str(first.procedure_id)}))
    for junk in ({"tramite": "abc"}, {"estado": "<script>"}, {"plazo": "x" * 500}, {"pagina": "%%%"},
                 {"pagina": "YTp4eHg6MQ"}, {"dependencia": "9" * 40}, {"orden": "'; drop"}, {"vista": "nada"}):
        response = client.get(url, junk)
        assert response.status_code == 200, junk
        assert first.folio in html(response)


def test_queue_pages_follow_the_due_date(client, submitted_request, de_reviewer, login_official, monkeypatch):
    from ventanilla.procedures import queues

    requests = [submitted_request() for _ in range(3)]
    monkeypatch.setattr(queues, "PAGE_SIZE", 2)
    login_official(de_reviewer)
    url = reverse("procedures:backoffice_queue")
    first = client.get(url)
    next_link = re.search(r'href="(\?[^"]*pagina=[^"]+)" rel="next"', html(first))
    assert next_link, html(first)
    second = client.get(url + next_link.group(1).replace("&amp;", "&"))
    shown = [r.folio for r in requests if r.folio in html(first)] + [r.folio for r in requests if r.folio in html(second)]
    assert sorted(shown) == sorted(r.folio for r in requests)
    assert 'rel="prev"' in html(second) and 'rel="next"' not in html(second)


# --- The case ------------------------------------------------------------------------------------


def test_the_case_shows_answers_documents_steps_deadline_and_full_history(client, case, de_reviewer, login_official):
    from ventanilla.procedures import services

    services.add_note(case, official=de_reviewer, text="Nota solo para la oficina.")
    login_official(de_reviewer)
    page = client.get(case_url(case))
    body = text_of(page)
    assert page.status_code == 200
    for expected in ("Abarrotes Doña Lupita", "Tienda de abarrotes (sin venta de alcohol)", "GODE561231GR8",
                     "AVENIDA JUÁREZ 1250", "Identificación oficial vigente", "Lo tiene el municipio",
                     "Revisión documental", "Visto bueno de Protección Civil", "Nota solo para la oficina.",
                     "Solicitud presentada", "Aprobar «Revisión documental»", "$820.00"):
        assert expected in body, expected
    assert re.search(r"(Vence|Vencida)", body)
    assert f'name="revision" value="{case.revision}"' in html(page)
    for attached in case.documents.all():
        assert case_url(case, "backoffice_document", attached.file_document) in html(page)


def test_approving_a_step_redirects_and_moves_the_case_on(client, case, de_reviewer, login_official):
    login_official(de_reviewer)
    response = client.post(case_url(case, "backoffice_approve"), {"revision": case.revision, "step": "revision_documental"})
    assert response.status_code == 302 and response["Location"] == case_url(case)
    steps = {s.key: s.status for s in case.steps.all()}
    assert steps == {"revision_documental": "approved", "proteccion_civil": "active"}
    assert "Aprobaste el paso «Revisión documental»." in text_of(client.get(response["Location"]))


def test_a_stale_revision_shows_the_conflict_and_the_fresh_case(client, case, de_reviewer, login_official, department,
                                                                make_official):
    from ventanilla.procedures import services

    login_official(de_reviewer)
    seen = case.revision
    colleague = make_official("reviewer", department=department)
    services.assign(case, official=colleague, to=colleague, expected_revision=seen)  # someone else acted meanwhile
    response = client.post(case_url(case, "backoffice_approve"), {"revision": seen, "step": "revision_documental"})
    assert response.status_code == 409
    body = text_of(response)
    assert "Otra persona actualizó esta solicitud" in body
    assert colleague.full_name in body  # the fresh case: now assigned to the colleague
    assert f'name="revision" value="{seen + 1}"' in html(response)
    assert case.steps.get(key="revision_documental").status == "active"

    typed = "Falta el comprobante de domicilio\ncon fecha reciente."
    response = client.post(case_url(case, "backoffice_correction"), {"revision": seen, "text": typed, "days": 5})
    assert response.status_code == 409
    assert "Falta el comprobante de domicilio<br>con fecha reciente." in html(response)  # not lost
    assert _fresh(case).status == "in_review"


def test_two_officials_with_the_same_page_open_the_second_gets_the_conflict(case, reviewers, make_official,
                                                                           department, login_official):
    from django.test import Client

    first, second = login_official(reviewers[0], Client()), login_official(make_official("reviewer", department=department), Client())
    for browser in (first, second):  # both open the case: same revision in their forms
        assert f'name="revision" value="{case.revision}"' in html(browser.get(case_url(case)))
    seen = case.revision
    assert first.post(case_url(case, "backoffice_approve"), {"revision": seen, "step": "revision_documental"}).status_code == 302
    late = second.post(case_url(case, "backoffice_correction"), {"revision": seen, "text": "Falta la firma.", "days": 5})
    assert late.status_code == 409
    body = text_of(late)
    assert "Otra persona actualizó esta solicitud" in body and "Aprobado" in body
    assert "Falta la firma." in body  # what they typed is shown back, not lost
    case.refresh_from_db()
    assert case.status == "in_review" and not case.corrections.exists()
    assert case.events.filter(kind="step_approved").count() == 1


def test_request_a_correction(client, case, de_reviewer, login_official):
    login_official(de_reviewer)
    url = case_url(case, "backoffice_correction")
    form = client.get(url, {"revision": case.revision})
    assert form.status_code == 200
    assert f'name="revision" value="{case.revision}"' in html(form)
    assert 'value="5"' in html(form)  # the procedure's term for corrections
    empty = client.post(url, {"revision": case.revision, "text": " ", "days": 5})
    assert empty.status_code == 400
    assert "error-summary" in html(empty) and 'href="#id_text"' in html(empty)
    too_long = client.post(url, {"revision": case.revision, "text": "Falta", "days": 90})
    assert too_long.status_code == 400 and "60 días hábiles" in text_of(too_long)
    no_revision = client.post(url, {"text": "Falta", "days": 5})
    assert no_revision.status_code == 409
    assert _fresh(case).status == "in_review"
    done = client.post(url, {"revision": case.revision, "text": "Falta la firma en la identificación.", "days": 5})
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.status == "correction" and case.due_date is None
    page = text_of(client.get(case_url(case)))
    assert "Prevención pendiente" in page and "Falta la firma en la identificación." in page
    assert "Plazo detenido" in page


def test_reject_with_grounds(client, case, de_reviewer, login_official):
    login_official(de_reviewer)
    url = case_url(case, "backoffice_reject")
    assert client.get(url).status_code == 200
    short = client.post(url, {"revision": case.revision, "grounds": "No procede."})
    assert short.status_code == 400 and 'href="#id_grounds"' in html(short)
    grounds = "El giro no es compatible con el uso de suelo del predio (Reglamento de Zonificación, art. 12)."
    assert client.post(url, {"revision": case.revision, "grounds": grounds}).status_code == 302
    case.refresh_from_db()
    assert case.status == "rejected" and case.resolution_text == grounds
    page = text_of(client.get(case_url(case)))
    assert "No hay nada que decidir" in page


def test_assign_take_hand_on_and_release(client, case, de_reviewer, login_official, department, make_official,
                                         other_department):
    colleague = make_official("reviewer", department=department)
    outsider = make_official("reviewer", department=other_department)
    login_official(de_reviewer)
    url = case_url(case, "backoffice_assign")
    assert client.post(url, {"revision": case.revision, "to": "yo"}).status_code == 302
    assert _fresh(case).assigned_to == de_reviewer
    assert client.post(url, {"revision": case.revision, "to": str(colleague.public_id)}).status_code == 302
    assert _fresh(case).assigned_to == colleague
    refused = client.post(url, {"revision": case.revision, "to": str(outsider.public_id)})
    assert refused.status_code == 400
    assert client.post(url, {"revision": case.revision, "to": "nadie"}).status_code == 302
    assert _fresh(case).assigned_to is None


def test_notes_and_messages(client, case, de_reviewer, login_official):
    from ventanilla.notifications.models import Notification

    login_official(de_reviewer)
    assert client.post(case_url(case, "backoffice_note"), {"text": ""}).status_code == 400
    assert client.post(case_url(case, "backoffice_note"), {"text": "Llamar a Protección Civil."}).status_code == 302
    note = case.events.get(kind="note")
    assert note.internal and note.actor == de_reviewer
    before = Notification.objects.filter(recipient=case.applicant).count()
    assert client.post(case_url(case, "backoffice_message"), {"text": "¿Tiene extintor?"}).status_code == 302
    message = case.events.get(kind="message")
    assert not message.internal
    assert Notification.objects.filter(recipient=case.applicant).count() == before + 1
    page = text_of(client.get(case_url(case)))
    assert "Llamar a Protección Civil." in page and "¿Tiene extintor?" in page


# --- Documents -----------------------------------------------------------------------------------


def test_reading_a_document_records_who_why_and_for_which_case(client, case, de_reviewer, login_official):
    import tests.procedures_fixtures as fixtures
    from ventanilla.identity.models import PersonalDataAccess

    login_official(de_reviewer)
    attached = case.documents.get(key="identificacion")
    response = client.get(case_url(case, "backoffice_document", attached.file_document))
    assert response.status_code == 200
    assert response.content == fixtures.TINY_PDF
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    access = PersonalDataAccess.objects.get(resident=case.applicant, official=de_reviewer)
    assert access.case_reference == case.folio
    assert case.folio in access.purpose and "Identificación oficial vigente" in access.purpose
    assert access.department.slug == "desarrollo-economico"


def test_opening_a_case_records_the_read_in_the_residents_access_log(client, case, de_reviewer, login_official):
    from ventanilla.audit.models import AuditEntry
    from ventanilla.identity.models import PersonalDataAccess

    login_official(de_reviewer)
    assert client.get(case_url(case)).status_code == 200
    access = PersonalDataAccess.objects.get(resident=case.applicant, official=de_reviewer)
    assert access.purpose == f"Revisar la solicitud {case.folio}"
    assert access.case_reference == case.folio and "nombre" in access.fields
    assert access.department.slug == "desarrollo-economico"
    assert AuditEntry.objects.filter(action="identity.personal_data_read", data__access_id=access.pk).exists()
    client.get(case_url(case))  # every view is a read
    assert PersonalDataAccess.objects.filter(resident=case.applicant, official=de_reviewer).count() == 2


def test_a_case_of_an_applicant_without_curp_is_still_shown_and_recorded(client, case, de_reviewer, login_official):
    from ventanilla.identity.models import PersonalDataAccess

    type(case.applicant).objects.filter(pk=case.applicant_id).update(curp=None)
    login_official(de_reviewer)
    assert client.get(case_url(case)).status_code == 200
    attached = case.documents.get(key="identificacion")
    assert client.get(case_url(case, "backoffice_document", attached.file_document)).status_code == 200
    assert PersonalDataAccess.objects.filter(resident=case.applicant, official=de_reviewer).count() == 2


def test_only_the_cases_own_documents_can_be_read(client, case, submitted_request, de_reviewer, login_official, upload_pdf):
    from ventanilla.identity.models import PersonalDataAccess

    other = submitted_request(applicant=case.applicant)
    loose = upload_pdf(case.applicant, title="Otro documento")  # in the file, not in this case
    login_official(de_reviewer)
    for document_id in [loose.public_id, *other.documents.values_list("file_document", flat=True)]:
        assert client.get(case_url(case, "backoffice_document", document_id)).status_code == 404
    assert not PersonalDataAccess.objects.exists()


# --- Back-office home --------------------------------------------------------------------------


def test_tools_are_registered_for_the_roles_that_use_them(make_official, department):
    from ventanilla.core.backoffice import tools_for
    from ventanilla.procedures.backoffice_views import register_backoffice_tools

    register_backoffice_tools()
    reviewer_tools = {t.url_name for t in tools_for(make_official("reviewer", department=department))}
    clerk_tools = {t.url_name for t in tools_for(make_official("counter_clerk", department=department))}
    editor_tools = {t.url_name for t in tools_for(make_official("catalog_editor", department=department))}
    assert "procedures:backoffice_queue" in reviewer_tools and "procedures:counter" not in reviewer_tools
    assert {"procedures:backoffice_queue", "procedures:counter"} <= clerk_tools
    assert not {"procedures:backoffice_queue", "procedures:counter"} & editor_tools
