"""Encryption at rest: what the database holds is ciphertext bound to its row."""

from __future__ import annotations

import base64
import io
import logging
import os

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection, transaction

from ventanilla.files import crypto, selectors, services
from ventanilla.files.models import ResidentDocument

pytestmark = pytest.mark.django_db

MARKER = "DOMICILIO-SECRETO-8842"


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def raw_row(doc) -> tuple[bytes, bytes]:
    """The bytes exactly as the database stores them, read with plain SQL."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT content, wrapped_key FROM {ResidentDocument._meta.db_table} WHERE id = %s", [doc.pk])
        content, wrapped = cursor.fetchone()
    return bytes(content), bytes(wrapped)


def test_stored_bytes_do_not_contain_the_plaintext(make_resident, store_pdf):
    from .conftest import make_pdf

    pdf = make_pdf(MARKER)
    assert MARKER.encode() in pdf
    doc = store_pdf(make_resident(), data=pdf)
    content, wrapped = raw_row(doc)
    assert MARKER.encode() not in content and b"%PDF" not in content
    assert len(content) == len(pdf) + crypto.NONCE_BYTES + 16
    assert len(wrapped) == 32 + crypto.NONCE_BYTES + 16
    assert selectors.read_content(doc) == pdf


def test_same_file_twice_gives_different_ciphertexts(make_resident, store_pdf, pdf_bytes):
    owner = make_resident()
    a, b = store_pdf(owner, data=pdf_bytes), store_pdf(owner, data=pdf_bytes)
    assert raw_row(a)[0] != raw_row(b)[0]
    assert raw_row(a)[1] != raw_row(b)[1]


def test_tampering_is_detected(make_resident, store_pdf):
    doc = store_pdf(make_resident())
    content, _ = raw_row(doc)
    flipped = bytearray(content)
    flipped[len(flipped) // 2] ^= 0x01
    ResidentDocument.objects.filter(pk=doc.pk).update(content=bytes(flipped))
    with pytest.raises(crypto.DecryptionError):
        selectors.read_content(doc)


def test_tampered_wrapped_key_is_detected(make_resident, store_pdf):
    doc = store_pdf(make_resident())
    _, wrapped = raw_row(doc)
    ResidentDocument.objects.filter(pk=doc.pk).update(wrapped_key=wrapped[:-1] + bytes([wrapped[-1] ^ 1]))
    with pytest.raises(crypto.DecryptionError):
        selectors.read_content(doc)


def test_blobs_swapped_between_rows_do_not_open(make_resident, store_pdf):
    a = store_pdf(make_resident(), title="A")
    b = store_pdf(make_resident(), title="B")
    a_content, a_wrapped = raw_row(a)
    _b_content, b_wrapped = raw_row(b)
    # Moving the whole envelope (content and key) of A onto B's row:
    ResidentDocument.objects.filter(pk=b.pk).update(content=a_content, wrapped_key=a_wrapped)
    with pytest.raises(crypto.DecryptionError):
        selectors.read_content(b)
    # Moving only the content:
    ResidentDocument.objects.filter(pk=b.pk).update(content=a_content, wrapped_key=b_wrapped)
    with pytest.raises(crypto.DecryptionError):
        selectors.read_content(b)


def test_rolled_back_transaction_leaves_nothing(make_resident, store_pdf):
    owner = make_resident()
    with pytest.raises(RuntimeError), transaction.atomic():
        store_pdf(owner)
        raise RuntimeError("the caller failed after storing")
    assert not ResidentDocument.objects.filter(owner=owner).exists()


def test_key_rotation(make_resident, store_pdf, settings, pdf_bytes):
    old, new = new_key(), new_key()
    settings.VENTANILLA_FILES_KEY = old
    settings.VENTANILLA_FILES_KEYS = []
    doc = store_pdf(make_resident())
    assert doc.key_id == crypto.key_id_of(base64.b64decode(old))
    # Rotate: the new key seals, the old one still opens.
    settings.VENTANILLA_FILES_KEY = new
    settings.VENTANILLA_FILES_KEYS = [old]
    assert selectors.read_content(doc) == pdf_bytes
    content_before = raw_row(doc)[0]
    out = io.StringIO()
    call_command("files_rewrap", stdout=out)
    assert out.getvalue().startswith("1 documents re-wrapped")
    doc.refresh_from_db()
    assert doc.key_id == crypto.key_id_of(base64.b64decode(new))
    assert raw_row(doc)[0] == content_before  # only the data key was re-wrapped
    # The old key can now be removed.
    settings.VENTANILLA_FILES_KEYS = []
    assert selectors.read_content(doc) == pdf_bytes
    assert services.rewrap_all() == 0


def test_a_document_whose_key_is_gone_does_not_open(make_resident, store_pdf, settings):
    settings.VENTANILLA_FILES_KEY = new_key()
    doc = store_pdf(make_resident())
    settings.VENTANILLA_FILES_KEY = new_key()
    with pytest.raises(crypto.DecryptionError):
        selectors.read_content(doc)


def test_production_without_key_refuses_to_start(settings):
    settings.PRODUCTION = True
    settings.VENTANILLA_FILES_KEY = ""
    with pytest.raises(ImproperlyConfigured, match="VENTANILLA_FILES_KEY"):
        crypto.check_configuration()
    settings.VENTANILLA_FILES_KEY = new_key()
    crypto.check_configuration()


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"short").decode(), base64.b64encode(bytes(range(48))).decode()], ids=["not-base64", "too-short", "too-long"])
def test_malformed_keys_refuse_to_start(settings, value):
    settings.VENTANILLA_FILES_KEY = value
    with pytest.raises(ImproperlyConfigured):
        crypto.check_configuration()
    settings.VENTANILLA_FILES_KEY = new_key()
    settings.VENTANILLA_FILES_KEYS = [value]
    with pytest.raises(ImproperlyConfigured, match="VENTANILLA_FILES_KEYS"):
        crypto.check_configuration()


def test_development_key_is_derived_from_secret_key_with_a_warning(settings, caplog, monkeypatch):
    settings.PRODUCTION = False
    settings.VENTANILLA_FILES_KEY = ""
    settings.VENTANILLA_FILES_KEYS = []
    monkeypatch.setattr(crypto, "_warned_development_key", False)
    with caplog.at_level(logging.WARNING, logger="ventanilla.files.crypto"):
        key_id = crypto.current_key_id()
    assert key_id == crypto.key_id_of(crypto.development_key())
    assert "VENTANILLA_FILES_KEY is not set" in caplog.text
    settings.SECRET_KEY = "otra clave secreta distinta para la prueba"
    assert crypto.current_key_id() != key_id


def test_the_app_checks_the_key_at_start_up(settings):
    from django.apps import apps

    settings.PRODUCTION = True
    settings.VENTANILLA_FILES_KEY = ""
    with pytest.raises(ImproperlyConfigured):
        apps.get_app_config("files").ready()
