"""The back office in Chromium on a 360-px phone, with the real CSP (no violation allowed) and
axe-core on every page: the queue, the case, the correction form with its error summary, and
counter mode."""

from __future__ import annotations

from django.urls import reverse

from .helpers import heading, sign_in, sign_out


def test_a_reviewer_works_a_case_and_a_clerk_files_one(page, live_server, axe, transactional_db, submitted_request,
                                                       reviewers, make_official, make_resident, department):
    documentary, _civil_protection = reviewers
    case = submitted_request()

    sign_in(page, documentary, next_url=reverse("procedures:backoffice_queue"), official=True)
    assert heading(page) == "Solicitudes en línea"
    row = page.get_by_role("row").filter(has_text=case.folio)
    assert "Vence" in row.inner_text()  # the deadline in words, not colour alone
    axe(page)
    page.get_by_label("Plazo legal").select_option(label="En tiempo")
    page.get_by_role("button", name="Filtrar").click()
    page.get_by_role("link", name=case.folio).click()
    assert heading(page) == f"Solicitud {case.folio}"
    axe(page)

    page.get_by_role("button", name="Tomar la solicitud").click()
    assert "Te asignaste la solicitud." in page.locator(".notices").inner_text()
    page.get_by_role("link", name="Pedir una corrección (prevención)").click()
    page.get_by_role("button", name="Enviar la prevención").click()
    summary = page.locator(".error-summary")
    assert "Escribe qué falta o qué debe corregirse." in summary.inner_text()
    axe(page)
    summary.get_by_role("link").first.click()
    page.get_by_label("Qué falta o qué debe corregirse").fill("Falta la firma en la identificación.")
    page.get_by_role("button", name="Enviar la prevención").click()
    assert "Prevención pendiente" in page.locator("main").inner_text()
    axe(page)
    sign_out(page)

    clerk = make_official("counter_clerk", department=department)
    resident = make_resident()
    sign_in(page, clerk, next_url=reverse("procedures:counter"), official=True)
    assert heading(page) == "Presentar un trámite en ventanilla"
    axe(page)
    page.get_by_label("Trámite").select_option(index=1)
    page.get_by_label("CURP de la persona").fill(resident.curp)
    page.get_by_role("button", name="Buscar a la persona y comenzar").click()
    assert resident.full_name in page.locator(".notices").inner_text()
    assert "/paginas/" in page.url
