"""The English interface: the catalogue is complete and consistent, and pages switch language."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone, translation
from django.utils.translation.reloader import translation_file_changed

PO_PATH = Path(settings.BASE_DIR) / "ventanilla" / "locale" / "en" / "LC_MESSAGES" / "django.po"
HOME_HEADING_ES = "¿Qué trámite o servicio quieres realizar hoy?"
HOME_HEADING_EN = "What procedure or service do you want to do today?"

# %(name)s, %(n)d, %s, %d … (a literal "%%" is not a placeholder).
_PLACEHOLDER = re.compile(r"%(?:\([A-Za-z_][A-Za-z0-9_]*\))?[-#0 +]*\d*(?:\.\d+)?[sdifr]")
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*")


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogue():
    """Builds the .mo from the .po (it is not committed) and drops Django's cached catalogues."""
    call_command("compile_translations", verbosity=0)
    translation_file_changed(None, PO_PATH.with_suffix(".mo"))
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def po():
    return polib.pofile(str(PO_PATH))


def _placeholders(text: str) -> list[str]:
    return sorted(_PLACEHOLDER.findall(text.replace("%%", "")))


def _tags(text: str) -> list[str]:
    return sorted(_TAG.findall(text))


# --- The catalogue ---------------------------------------------------------------------------


def test_catalogue_declares_english_and_plural_rule(po):
    assert po.metadata["Language"] == "en"
    assert po.metadata["Plural-Forms"].replace(" ", "") == "nplurals=2;plural=(n!=1);"
    assert not po.metadata_is_fuzzy


def test_every_entry_is_translated_and_none_is_fuzzy(po):
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, f"Untranslated msgids: {untranslated}"
    assert not fuzzy, f"Fuzzy msgids (check them and remove the flag): {fuzzy}"
    assert po.percent_translated() == 100
    plural_gaps = [e.msgid for e in po if e.msgid_plural and not all(e.msgstr_plural.get(i) for i in (0, 1))]
    assert not plural_gaps, f"Plural forms missing: {plural_gaps}"


def test_no_obsolete_entries_linger(po):
    assert not po.obsolete_entries(), "Remove the #~ entries: their strings no longer exist in the code."


def test_placeholders_and_markup_match_between_msgid_and_msgstr(po):
    problems = []
    for entry in po.translated_entries():
        pairs = (
            [(entry.msgid, entry.msgstr_plural[0]), (entry.msgid_plural, entry.msgstr_plural[1])]
            if entry.msgid_plural
            else [(entry.msgid, entry.msgstr)]
        )
        for source, target in pairs:
            if _placeholders(source) != _placeholders(target):
                problems.append(f"placeholders: {source!r} -> {target!r}")
            if _tags(source) != _tags(target):
                problems.append(f"markup: {source!r} -> {target!r}")
    assert not problems, "\n".join(problems)


def test_placeholder_check_catches_a_dropped_placeholder():
    # The check above must be able to fail.
    assert _placeholders("Hola, %(name)s: %d días") != _placeholders("Hello: %d days")
    assert _placeholders("%(a)s y %(b)s") != _placeholders("%(a)s and %(a)s")
    assert _placeholders("100%% seguro, %(n)s") == _placeholders("%(n)s, 100%% sure")


def test_translations_are_not_left_in_spanish(po):
    """A msgstr identical to a long Spanish msgid almost always means it was copied, not translated."""
    copied = [
        e.msgid for e in po.translated_entries()
        if not e.msgid_plural and e.msgstr == e.msgid and len(e.msgid.split()) > 2
    ]
    assert not copied, f"Copied instead of translated: {copied}"
    spanish_marks = [e.msgid for e in po.translated_entries() if re.search(r"[¿¡]", e.msgstr)]
    assert not spanish_marks, f"Spanish punctuation left in: {spanish_marks}"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is needed to extract strings")
def test_catalogue_covers_every_string_in_the_code(tmp_path, po):
    """Extracts the strings again into a copy and checks each one has a translation here.

    When this fails: `manage.py makemessages -l en --ignore=.venv --ignore=tests --ignore=bench
    --ignore=var`, translate the new entries in ventanilla/locale/en/LC_MESSAGES/django.po."""
    root = Path(settings.BASE_DIR)
    copy = tmp_path / "project"
    shutil.copytree(root / "ventanilla", copy / "ventanilla",
                    ignore=shutil.ignore_patterns("__pycache__", "*.mo", "*.po", "static", "media"))
    shutil.copy(root / "manage.py", copy / "manage.py")
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "en", "--no-obsolete", "--verbosity", "0"],
        cwd=copy, check=True, capture_output=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "ventanilla.test_settings",
             "SECRET_KEY": "i18n-extraction-only"},
    )
    fresh = polib.pofile(str(copy / "ventanilla" / "locale" / "en" / "LC_MESSAGES" / "django.po"))
    assert len(fresh) > 100, "the extraction found almost nothing"
    translated = {(e.msgctxt, e.msgid) for e in po.translated_entries()}
    missing = sorted(e.msgid for e in fresh if (e.msgctxt, e.msgid) not in translated)
    assert not missing, f"Strings in the code without an English translation: {missing}"


# --- Pages in English ------------------------------------------------------------------------


@pytest.mark.django_db
def test_home_is_spanish_by_default(client):
    html = client.get("/").content.decode()
    assert '<html lang="es-MX">' in html
    assert HOME_HEADING_ES in html
    assert HOME_HEADING_EN not in html


@pytest.mark.django_db
def test_choosing_english_with_the_language_form_switches_the_home_page(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert HOME_HEADING_EN in html
    assert HOME_HEADING_ES not in html
    for text in ("Skip to main content", "Search for a procedure or service", "Privacy notice", "Language"):
        assert text in html
    # And back to Spanish.
    client.post("/i18n/setlang/", {"language": "es-mx", "next": "/"})
    assert HOME_HEADING_ES in client.get("/").content.decode()


@pytest.fixture
def english(client):
    """A client that chose English (the language selector stores the choice in this cookie)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.mark.django_db
def test_language_cookie_gives_english_and_says_so(english):
    response = english.get("/")
    html = response.content.decode()
    assert '<html lang="en">' in html and HOME_HEADING_EN in html
    assert response["Content-Language"] == "en"


@pytest.mark.django_db
def test_sign_up_page_in_english(english):
    html = english.get("/llave/crear-cuenta/").content.decode()
    for text in ("Create your Llave account", "First name or names", "First surname", "Email address",
                 "Create a password", "Enter the password again", "Create my account", "Read the privacy notice"):
        assert text in html, text
    for text in ("Crea tu Llave", "Primer apellido", "Crear mi cuenta"):
        assert text not in html, text


@pytest.mark.django_db
def test_sign_up_errors_in_english(english):
    response = english.post(
        "/llave/crear-cuenta/",
        {"curp": "ABC", "given_names": "", "first_surname": "Treviño", "email": "no-es-correo",
         "password": "corta", "password_confirmation": "otra"},
    )
    assert response.status_code in (200, 400, 422)
    html = response.content.decode()
    assert "There is a problem" in html
    assert "The CURP must have 18 characters." in html
    assert "La CURP debe tener" not in html


@pytest.mark.django_db
def test_procedure_page_in_english(english, make_procedure):
    procedure = make_procedure(publish=True, response_days=5, ficta="afirmativa")
    html = english.get(f"/tramites/{procedure.clave}/").content.decode()
    for text in ("Home", "You can do it online", "Start online", "Cost", "Response time", "5 working days",
                 "approval by silence", "What you need", "Where and when", "Legal information", "Legal basis"):
        assert text in html, text
    for text in ("Tiempo de respuesta", "Lo que necesitas", "días hábiles"):
        assert text not in html, text


@pytest.mark.django_db
def test_plural_forms_in_english(english, make_procedure):
    procedure = make_procedure(publish=True, response_days=1, prevention_days=1, correction_days=2)
    html = english.get(f"/tramites/{procedure.clave}/").content.decode()
    assert "1 working day<" in html and "If 1 working day passes" in html
    assert "2 working days" in html


@pytest.mark.django_db
def test_my_data_dates_follow_the_language(client, make_resident):
    from ventanilla.identity.models import Level

    resident = make_resident()
    resident.level = Level.VERIFIED
    resident.verified_at = timezone.make_aware(datetime(2026, 3, 5, 12, 0))
    resident.save()
    client.force_login(resident)
    spanish = client.get("/llave/mis-datos/").content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get("/llave/mis-datos/").content.decode()
    assert "My data" in english and "verified on" in english
    assert "de marzo" not in english.lower() and "March 5, 2026" in english
    assert "5 de marzo de 2026" in spanish.lower()


@pytest.mark.django_db
def test_api_errors_in_english(client):
    url = "/api/v1/identidad/curp/validar"
    response = client.post(url, {"curp": "ABC"}, content_type="application/json")
    assert response.json()["error"] == "La CURP debe tener 18 caracteres."
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(url, {"curp": 12}, content_type="application/json")
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "The data you sent is not valid."
    assert body["errors"][0]["mensaje"] == "It must be text."
    response = client.post(url, {"curp": "ABC"}, content_type="application/json")
    assert response.json()["error"] == "The CURP must have 18 characters."
