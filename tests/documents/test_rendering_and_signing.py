"""Rendering helpers (QR, dates, text, masking) and the signing configuration."""

from __future__ import annotations

import re
from datetime import datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from hypothesis import given
from hypothesis import strategies as st

from ventanilla.documents import rendering, services, signing

pytestmark = pytest.mark.django_db


def drawn_qr(pdf: bytes, size: int) -> tuple[tuple[bool, ...], ...]:
    """Read the QR modules back from the first page: the integer 'col row len 1 re' runs."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(BytesIO(pdf))
    page = reader.find_page_for_modification(0)[0].get_object()
    data = page["/Contents"].get_object().data.decode("latin-1")
    grid = [[False] * size for _ in range(size)]
    for col, row, length in re.findall(r"(?m)^(\d+) (\d+) (\d+) 1 re$", data):
        for c in range(int(col), int(col) + int(length)):
            grid[int(row)][c] = True
    return tuple(tuple(r) for r in grid)


def test_the_qr_drawn_in_the_pdf_encodes_the_verification_url(issue_document, settings):
    settings.SITE_URL = "https://tramites.example.gob.mx"
    document = issue_document()
    url = rendering.verification_url(document.public_id)
    assert url == f"https://tramites.example.gob.mx/verificar/{document.public_id}/"
    expected = rendering.qr_matrix(url)
    assert drawn_qr(bytes(document.pdf), len(expected)) == expected
    # A QR of another address differs: the comparison is meaningful.
    assert rendering.qr_matrix(url.replace("tramites", "otro")) != expected


def test_qr_matrix_is_a_standard_qr_of_the_url():
    import segno

    url = "http://127.0.0.1:8000/verificar/8c1f4c2e-5d7a-4e0b-9a51-0f7e2b6c9d10/"
    matrix = rendering.qr_matrix(url)
    reference = segno.make_qr(url, error="m", mask=0, boost_error=False)
    assert matrix == tuple(tuple(bool(v) for v in row) for row in reference.matrix)
    assert reference.designator == "5-M"  # fits comfortably; readable on any phone


def test_date_es_uses_the_local_time_zone():
    moment = datetime(2026, 3, 1, 3, 0, tzinfo=ZoneInfo("UTC"))  # still 28 February in Torreón
    assert rendering.date_es(moment) == "28 de febrero de 2026"
    assert rendering.date_es(datetime(2026, 12, 9, 18, 0, tzinfo=ZoneInfo("UTC"))) == "9 de diciembre de 2026"


@given(st.text(max_size=200))
def test_pdf_text_is_always_winansi(text):
    shown = rendering.pdf_text(text)
    shown.encode("cp1252")  # Helvetica (WinAnsi) can show every character
    assert not any(ord(ch) < 32 for ch in shown)
    assert bool(shown) == bool(text)


def test_pdf_text_keeps_spanish_and_transliterates_the_rest():
    assert rendering.pdf_text("Ñandú, pingüino: «¿Qué?» ¡Sí! €5") == "Ñandú, pingüino: «¿Qué?» ¡Sí! €5"
    assert rendering.pdf_text("Łódź Ōsaka Ǆ\u200b\n") == "Lódz Osaka DZ  "
    assert rendering.pdf_text("漢字") == "??"


@pytest.mark.parametrize(
    "name, masked",
    [
        ("Juan Pérez López", "Juan P*** L***"),
        ("María José Gómez", "María J*** G***"),
        ("Ana", "Ana"),
        ("", ""),
        ("  Luis   Ángel  ", "Luis Á***"),
    ],
)
def test_mask_name(name, masked):
    assert services.mask_name(name) == masked


def test_holder_name_masks_the_owner(issue_document, make_resident):
    owner = make_resident(given_names="Juan Carlos", first_surname="Pérez", second_surname="López")
    document = issue_document(owner=owner)
    assert services.holder_name(document) == "Juan C*** P*** L***"


# --- Signing configuration ---------------------------------------------------------------------


def test_demo_ca_is_created_once(tmp_path):
    paths, created = signing.create_demo_ca(tmp_path / "ca")
    assert created and paths.complete()
    before = paths.signer_cert.read_bytes()
    again, created_again = signing.create_demo_ca(tmp_path / "ca")
    assert not created_again and again.signer_cert.read_bytes() == before
    assert oct(paths.signer_key.stat().st_mode & 0o777) == "0o600"
    from cryptography import x509

    root = x509.load_pem_x509_certificate(paths.root_cert.read_bytes())
    signer = x509.load_pem_x509_certificate(paths.signer_cert.read_bytes())
    assert "Autoridad certificadora de demostración" in root.subject.rfc4514_string()
    assert "Municipio de Torreón (demostración)" in signer.subject.rfc4514_string()
    assert signer.issuer == root.subject


def test_signing_demo_ca_command(tmp_path, settings):
    settings.VENTANILLA_SIGNING_DEMO_DIR = tmp_path / "demo"
    out = BytesIO()
    import io

    out = io.StringIO()
    call_command("signing_demo_ca", stdout=out)
    assert "creados" in out.getvalue()
    out = io.StringIO()
    call_command("signing_demo_ca", stdout=out)
    assert "ya presentes" in out.getvalue()
    assert signing.DemoPaths(tmp_path / "demo").complete()


def test_signing_demo_ca_refuses_production(settings):
    from django.core.management.base import CommandError

    settings.PRODUCTION = True
    with pytest.raises(CommandError):
        call_command("signing_demo_ca")


def _unconfigure(settings, demo_dir):
    settings.VENTANILLA_SIGNING_KEY = ""
    settings.VENTANILLA_SIGNING_CERT = ""
    settings.VENTANILLA_SIGNING_CHAIN = []
    settings.VENTANILLA_SIGNING_TRUST_ROOTS = []
    settings.VENTANILLA_SIGNING_DEMO_DIR = demo_dir


def test_production_without_a_key_is_improperly_configured(settings, tmp_path, issue_document):
    _unconfigure(settings, tmp_path / "demo")
    signing.create_demo_ca(tmp_path / "demo")  # even with a demo CA lying around
    settings.PRODUCTION = True
    with pytest.raises(ImproperlyConfigured, match="VENTANILLA_SIGNING_KEY"):
        issue_document()


def test_debug_creates_the_demo_ca_on_first_use(settings, tmp_path, issue_document):
    _unconfigure(settings, tmp_path / "lazy")
    settings.PRODUCTION, settings.DEBUG = False, True
    document = issue_document()
    assert signing.DemoPaths(tmp_path / "lazy").complete()
    assert services.verify_pdf(bytes(document.pdf)).status == "valid"


def test_without_debug_the_demo_ca_is_not_created_silently(settings, tmp_path, issue_document):
    _unconfigure(settings, tmp_path / "none")
    settings.PRODUCTION, settings.DEBUG = False, False
    with pytest.raises(ImproperlyConfigured, match="signing_demo_ca"):
        issue_document()
    assert not (tmp_path / "none").exists()


def test_half_a_configuration_is_an_error(settings):
    settings.VENTANILLA_SIGNING_CERT = ""
    with pytest.raises(ImproperlyConfigured, match="juntas"):
        signing.current_config()


def test_missing_files_are_an_error(settings, tmp_path):
    settings.VENTANILLA_SIGNING_KEY = str(tmp_path / "no-existe.pem")
    with pytest.raises(ImproperlyConfigured, match="No existe"):
        signing.material()


def test_encrypted_key_with_its_password(settings, tmp_path, signing_demo_ca):
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(signing_demo_ca.signer_key.read_bytes(), password=None)
    encrypted = tmp_path / "key.pem"
    encrypted.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"frase secreta"),
    ))
    settings.VENTANILLA_SIGNING_KEY = str(encrypted)
    settings.VENTANILLA_SIGNING_KEY_PASSWORD = "mal"
    with pytest.raises(ImproperlyConfigured):
        signing.material()
    settings.VENTANILLA_SIGNING_KEY_PASSWORD = "frase secreta"
    pdf = signing.sign_pdf(rendering.render_pdf(rendering.Content(
        "8c1f4c2e-5d7a-4e0b-9a51-0f7e2b6c9d10", "Constancia", "T", "F", datetime.now(ZoneInfo("UTC")), "", [], [],
    )), document_id="8c1f4c2e-5d7a-4e0b-9a51-0f7e2b6c9d10", reason="r", location="l")
    assert signing.check_signature(pdf).ok


def test_material_is_cached_per_configuration(settings, tmp_path, signing_demo_ca):
    first = signing.material()
    assert signing.material() is first
    other, _ = signing.create_demo_ca(tmp_path / "otra")
    settings.VENTANILLA_SIGNING_KEY = str(other.signer_key)
    settings.VENTANILLA_SIGNING_CERT = str(other.signer_cert)
    settings.VENTANILLA_SIGNING_CHAIN = [str(other.root_cert)]
    settings.VENTANILLA_SIGNING_TRUST_ROOTS = [str(other.root_cert)]
    assert signing.material() is not first


def test_documents_signed_with_a_previous_key_still_verify(settings, tmp_path, issue_document, signing_demo_ca):
    old = issue_document()
    new, _ = signing.create_demo_ca(tmp_path / "nueva")
    settings.VENTANILLA_SIGNING_KEY = str(new.signer_key)
    settings.VENTANILLA_SIGNING_CERT = str(new.signer_cert)
    settings.VENTANILLA_SIGNING_CHAIN = [str(new.root_cert)]
    settings.VENTANILLA_SIGNING_TRUST_ROOTS = [str(new.root_cert), str(signing_demo_ca.root_cert)]
    # Without declaring the old certificate, its signature is not "ours" any more.
    assert services.verify_pdf(bytes(old.pdf)).status == "invalid"
    settings.VENTANILLA_SIGNING_PREVIOUS_CERTS = [str(signing_demo_ca.signer_cert)]
    settings.VENTANILLA_SIGNING_CHAIN = [str(new.root_cert), str(signing_demo_ca.root_cert)]
    assert services.verify_pdf(bytes(old.pdf)).status == "valid"
    assert services.verify_pdf(bytes(issue_document(folio="NUEVO-1").pdf)).status == "valid"


def test_system_check_in_production(settings, tmp_path, signing_demo_ca):
    from ventanilla.documents.checks import signing_key_configured

    assert signing_key_configured() == []  # not production
    settings.PRODUCTION = True
    assert signing_key_configured() == []  # production with a configured key
    _unconfigure(settings, tmp_path / "demo")
    (error,) = signing_key_configured()
    assert error.id == "documents.E001" and "VENTANILLA_SIGNING_KEY" in error.msg


def _rsa_chain(directory, signer_bits=4096):
    """Root → intermediate → signer, RSA, like a certificate bought from a CA (PEM files)."""
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    now = datetime.now(ZoneInfo("UTC")) - timedelta(minutes=1)

    def make(name, key, issuer_name, issuer_key, ca, path_length=None):
        usage = {"digital_signature": not ca, "content_commitment": not ca, "key_encipherment": False,
                 "data_encipherment": False, "key_agreement": False, "key_cert_sign": ca, "crl_sign": ca,
                 "encipher_only": False, "decipher_only": False}
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(issuer_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
            .add_extension(x509.KeyUsage(**usage), critical=True)
            .sign(issuer_key, hashes.SHA256())
        )

    root_key = rsa.generate_private_key(65537, 2048)
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Raíz comercial de prueba")])
    root = make("Raíz comercial de prueba", root_key, root_name, root_key, True, 1)
    inter_key = rsa.generate_private_key(65537, 2048)
    inter = make("Intermedia de prueba", inter_key, root.subject, root_key, True, 0)
    signer_key = rsa.generate_private_key(65537, signer_bits)
    signer = make("Municipio de prueba", signer_key, inter.subject, inter_key, False)
    pem = serialization.Encoding.PEM
    (directory / "key.pem").write_bytes(signer_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (directory / "cert.pem").write_bytes(signer.public_bytes(pem))
    (directory / "chain.pem").write_bytes(inter.public_bytes(pem) + root.public_bytes(pem))
    (directory / "root.pem").write_bytes(root.public_bytes(pem))
    return directory


def test_a_real_style_rsa_certificate_with_an_intermediate(settings, tmp_path, issue_document):
    """VENTANILLA_SIGNING_CHAIN with intermediate and root; trust only in the root."""
    chain = _rsa_chain(tmp_path)
    settings.VENTANILLA_SIGNING_KEY = str(chain / "key.pem")
    settings.VENTANILLA_SIGNING_CERT = str(chain / "cert.pem")
    settings.VENTANILLA_SIGNING_CHAIN = [str(chain / "chain.pem")]
    settings.VENTANILLA_SIGNING_TRUST_ROOTS = []  # default: the self-signed certificates of the chain
    document = issue_document()
    assert services.verify_pdf(bytes(document.pdf)).status == "valid"
    # Trusting another root instead: the chain no longer leads to a trusted certificate.
    (tmp_path / "otra").mkdir()
    other = _rsa_chain(tmp_path / "otra", 2048)
    settings.VENTANILLA_SIGNING_TRUST_ROOTS = [str(other / "root.pem")]
    assert services.verify_pdf(bytes(document.pdf)).status == "invalid"
