"""Acceptance: a new resident finds the business licence by the word people use, creates a Llave,
confirms the e-mail, signs in and sees "Mis datos" — on a phone-sized screen, with axe-core
reporting no violation on any page of the way."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from ventanilla.identity.curp import with_check_digit

from .conftest import transferred_bytes

NEW_CURP = with_check_digit("LOPM850710HCLPRN0")


@pytest.fixture
def demo_catalog(transactional_db):
    from ventanilla.catalog import demo

    demo.build(history_days=7)


def _fill_signup(page, curp: str, email: str) -> None:
    page.get_by_label("CURP").fill(curp)
    page.get_by_label("Nombre o nombres").fill("Manuel")
    page.get_by_label("Primer apellido").fill("López")
    page.get_by_label("Segundo apellido (si tienes)").fill("Pérez")
    page.get_by_label("Correo electrónico").fill(email)
    page.get_by_label("Crea una contraseña").fill("mi tiendita de la colonia 2026")
    page.get_by_label("Escribe la contraseña otra vez").fill("mi tiendita de la colonia 2026")
    page.get_by_role("button", name="Crear mi cuenta").click()


def test_new_resident_from_search_to_mis_datos(page, live_server, demo_catalog, make_resident, axe):
    existing = make_resident()

    # Home: the question, the search box; accessible.
    page.goto("/")
    assert page.get_by_role("heading", level=1).inner_text() == "¿Qué trámite o servicio quieres realizar hoy?"
    axe(page)

    # "tiendita" → the business licence comes first.
    page.get_by_role("searchbox").fill("tiendita")
    page.get_by_role("button", name="Buscar").click()
    first = page.locator("ol.results li a").first
    assert first.inner_text().startswith("Licencia de funcionamiento")
    first.click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Licencia de funcionamiento")
    axe(page)

    # Start online → Llave asks to sign in → create an account.
    page.get_by_role("button", name="Iniciar en línea").click()
    assert "/llave/entrar/" in page.url
    axe(page)
    page.get_by_role("link", name="Crear una cuenta (Llave)").click()
    axe(page)

    # An invalid CURP gets a clear Spanish message and no account.
    _fill_signup(page, "LOPM850710HCLPRN09" if NEW_CURP[-1] != "9" else "LOPM850710HCLPRN08", "manuel@example.mx")
    assert page.locator(".error-summary").is_visible()
    assert "dígito verificador" in page.locator(".error-summary").inner_text()
    axe(page)  # the page with errors is accessible too

    # A CURP that already has an account gets a clear message, not a second account.
    _fill_signup(page, existing.curp, "otro.correo@example.mx")
    assert "Ya existe una cuenta con esta CURP" in page.locator("main").inner_text()

    # A valid new CURP: "check your e-mail".
    mail.outbox.clear()
    _fill_signup(page, NEW_CURP, "manuel@example.mx")
    assert "correo" in page.get_by_role("heading", level=1).inner_text().lower()
    assert len(mail.outbox) == 1

    # Confirm through the link in the e-mail.
    link = re.search(r"https?://\S+/llave/confirmar/\S+", mail.outbox[0].body).group(0)
    page.goto(re.sub(r"^https?://[^/]+", "", link))
    assert "/llave/entrar/" in page.url

    # Sign in with the CURP and see "Mis datos".
    page.get_by_label("Correo electrónico o CURP").fill(NEW_CURP)
    page.get_by_label("Contraseña").fill("mi tiendita de la colonia 2026")
    page.get_by_role("button", name="Entrar").click()
    page.goto("/llave/mis-datos/")
    assert page.get_by_role("heading", level=1).inner_text() == "Mis datos"
    assert NEW_CURP in page.locator("main").inner_text()
    axe(page)


def test_category_page_is_accessible_and_home_is_light(page, live_server, demo_catalog, axe):
    page.goto("/")
    page.get_by_role("link", name="Negocios y emprendimiento").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Negocios y emprendimiento"
    axe(page)
    weight = transferred_bytes(page, "/")
    assert weight < 100 * 1024, f"home page transferred {weight} bytes"


def test_home_shows_search_categories_and_most_requested_on_a_phone_first_screen(page, live_server, demo_catalog):
    page.goto("/")
    viewport_height = page.viewport_size["height"]
    for locator in (
        page.get_by_role("searchbox"),
        page.get_by_role("heading", name="Busca por tema"),
        page.get_by_role("heading", name="Lo más solicitado"),
        page.locator("#mas-solicitados + ul a").first,
    ):
        box = locator.bounding_box()
        assert box is not None and box["y"] + box["height"] <= viewport_height, locator
