"""The municipality's signing key: loading it, signing a PDF (PAdES) and checking a signature.

Key material comes from settings (environment variables, see docs/documents.md):

* VENTANILLA_SIGNING_KEY / VENTANILLA_SIGNING_CERT: PEM (or DER) private key and certificate;
* VENTANILLA_SIGNING_KEY_PASSWORD: the key's passphrase, if it has one;
* VENTANILLA_SIGNING_CHAIN: intermediate and root certificates embedded in every signature;
* VENTANILLA_SIGNING_TRUST_ROOTS: the roots verification trusts (default: the self-signed
  certificates of the chain);
* VENTANILLA_SIGNING_PREVIOUS_CERTS: certificates of earlier municipal keys, so documents signed
  before a key change still verify.

With no key configured outside production, a demonstration certificate authority under
VENTANILLA_SIGNING_DEMO_DIR (var/signing/) is used: `manage.py signing_demo_ca` creates it, and in
DEBUG it is created on first use. In production an unconfigured key is an ImproperlyConfigured.

The loaded material is cached per process (keyed by the settings, so tests can point elsewhere).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pyhanko.keys import load_cert_from_pemder, load_certs_from_pemder, load_private_key_from_pemder
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.signers import SimpleSigner
from pyhanko.sign.validation import pdf_embedded
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

DEMO_ROOT_NAME = "Autoridad certificadora de demostración"
SIGNATURE_FIELD = "FirmaMunicipal"
# Custom key of the document catalogue that names the issued document (its public id).
CATALOG_KEY = "/VentanillaDocumentId"
# Room for the CMS signature beyond the certificates it carries (signature value up to RSA-4096,
# signed attributes). Computed, so pyHanko does not sign twice to estimate the size.
CMS_OVERHEAD = 2048


@dataclass(frozen=True)
class DemoPaths:
    directory: Path

    @property
    def root_cert(self) -> Path:
        return self.directory / "root-ca.pem"

    @property
    def root_key(self) -> Path:
        return self.directory / "root-ca-key.pem"

    @property
    def signer_cert(self) -> Path:
        return self.directory / "signer.pem"

    @property
    def signer_key(self) -> Path:
        return self.directory / "signer-key.pem"

    def complete(self) -> bool:
        return all(p.exists() for p in (self.root_cert, self.signer_cert, self.signer_key))


def demo_signer_name() -> str:
    """'Municipio de Torreón (demostración)': the city comes from settings.CITY."""
    return f"Municipio de {settings.CITY.get('name', '')} (demostración)"


def create_demo_ca(directory: Path | str, *, signer_name: str | None = None) -> tuple[DemoPaths, bool]:
    """Create the demonstration CA in `directory` unless it is already there (idempotent).
    Returns the paths and whether anything was created. EC P-256 keys: fast and small."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    paths = DemoPaths(Path(directory))
    if paths.complete():
        return paths, False
    signer_name = signer_name or demo_signer_name()
    paths.directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC) - timedelta(minutes=5)

    def name(common_name: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "MX"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Ventanilla (demostración)"),
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            ]
        )

    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = name(DEMO_ROOT_NAME)
    root_cert = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=365 * 30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    signer_key = ec.generate_private_key(ec.SECP256R1())
    signer_cert = (
        x509.CertificateBuilder()
        .subject_name(name(signer_name))
        .issuer_name(root_name)
        .public_key(signer_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=365 * 20))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(signer_key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )

    def write(path: Path, data: bytes, private: bool) -> None:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(data)
        if private:
            tmp.chmod(0o600)
        tmp.replace(path)

    pem = serialization.Encoding.PEM
    no_password = serialization.NoEncryption()
    write(paths.root_key, root_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, no_password), True)
    write(paths.root_cert, root_cert.public_bytes(pem), False)
    write(paths.signer_key, signer_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, no_password), True)
    # Written last: its presence (with the others) marks the CA as complete.
    write(paths.signer_cert, signer_cert.public_bytes(pem), False)
    return paths, True


# --- Configuration -------------------------------------------------------------------------


@dataclass(frozen=True)
class SigningConfig:
    key: Path
    cert: Path
    chain: tuple[Path, ...]
    trust_roots: tuple[Path, ...]
    previous_certs: tuple[Path, ...]
    password: str
    demo: bool


def _paths(value) -> tuple[Path, ...]:
    if not value:
        return ()
    if isinstance(value, (str, Path)):
        value = [v for v in str(value).split(",")]
    return tuple(Path(str(v).strip()) for v in value if str(v).strip())


def current_config() -> SigningConfig:
    """The signing configuration from settings; the demo CA when no key is configured (never in
    production)."""
    key = getattr(settings, "VENTANILLA_SIGNING_KEY", "") or ""
    cert = getattr(settings, "VENTANILLA_SIGNING_CERT", "") or ""
    chain = _paths(getattr(settings, "VENTANILLA_SIGNING_CHAIN", ()))
    roots = _paths(getattr(settings, "VENTANILLA_SIGNING_TRUST_ROOTS", ()))
    previous = _paths(getattr(settings, "VENTANILLA_SIGNING_PREVIOUS_CERTS", ()))
    password = getattr(settings, "VENTANILLA_SIGNING_KEY_PASSWORD", "") or ""
    if key or cert:
        if not (key and cert):
            raise ImproperlyConfigured(
                "VENTANILLA_SIGNING_KEY y VENTANILLA_SIGNING_CERT deben configurarse juntas."
            )
        return SigningConfig(Path(key), Path(cert), chain, roots, previous, password, demo=False)
    if getattr(settings, "PRODUCTION", False):
        raise ImproperlyConfigured(
            "No hay llave de firma: configure VENTANILLA_SIGNING_KEY, VENTANILLA_SIGNING_CERT y "
            "VENTANILLA_SIGNING_CHAIN (docs/documents.md). La autoridad de demostración no se usa en producción."
        )
    paths = DemoPaths(Path(settings.VENTANILLA_SIGNING_DEMO_DIR))
    if not paths.complete():
        if not settings.DEBUG:
            raise ImproperlyConfigured(
                "No hay llave de firma: ejecute `manage.py signing_demo_ca` o configure "
                "VENTANILLA_SIGNING_KEY y VENTANILLA_SIGNING_CERT (docs/documents.md)."
            )
        with _lock:
            create_demo_ca(paths.directory)
    return SigningConfig(
        paths.signer_key, paths.signer_cert, chain or (paths.root_cert,), roots, previous, "", demo=True
    )


# --- Loaded material (cached per process) -----------------------------------------------------


@dataclass(frozen=True)
class Material:
    config: SigningConfig
    signer: object  # pyhanko.sign.signers.SimpleSigner
    trust_roots: tuple[asn1_x509.Certificate, ...]
    other_certs: tuple[asn1_x509.Certificate, ...]
    # SHA-256 of the public keys whose signatures are "ours" (current key and earlier ones).
    our_keys: frozenset[str]
    # SHA-256 of every certificate a signature of ours may carry, exactly as encoded.
    known_certs: frozenset[str]
    # Hex characters reserved in /Contents for the signature.
    bytes_reserved: int


_lock = threading.Lock()
_cache: dict[SigningConfig, Material] = {}


def _load_certs(paths: tuple[Path, ...]) -> list[asn1_x509.Certificate]:
    certs: list[asn1_x509.Certificate] = []
    for path in paths:
        if not path.is_file():
            raise ImproperlyConfigured(f"No existe el archivo de certificados {path}.")
        certs.extend(load_certs_from_pemder([str(path)]))
    return certs


def _key_id(cert: asn1_x509.Certificate) -> str:
    return hashlib.sha256(cert.public_key.dump()).hexdigest()


def _cert_id(cert: asn1_x509.Certificate) -> str:
    return hashlib.sha256(cert.dump()).hexdigest()


def material() -> Material:
    config = current_config()
    cached = _cache.get(config)
    if cached is not None:
        return cached
    with _lock:
        cached = _cache.get(config)
        if cached is not None:
            return cached
        for path in (config.key, config.cert):
            if not path.is_file():
                raise ImproperlyConfigured(f"No existe el archivo de firma {path}.")
        try:
            key = load_private_key_from_pemder(
                str(config.key), passphrase=config.password.encode() if config.password else None
            )
            cert = load_cert_from_pemder(str(config.cert))
        except (ValueError, TypeError, OSError) as exc:
            raise ImproperlyConfigured(f"No se pudo leer la llave o el certificado de firma: {exc}") from exc
        chain = _load_certs(config.chain)
        roots = _load_certs(config.trust_roots) if config.trust_roots else [c for c in chain if c.self_signed]
        if not roots:
            raise ImproperlyConfigured(
                "No hay raíz de confianza para verificar firmas: configure VENTANILLA_SIGNING_TRUST_ROOTS."
            )
        registry = SimpleCertificateStore()
        registry.register_multiple(chain)
        signer = SimpleSigner(signing_cert=cert, signing_key=key, cert_registry=registry)
        previous = _load_certs(config.previous_certs)
        loaded = Material(
            config=config,
            signer=signer,
            trust_roots=tuple(roots),
            other_certs=tuple(chain),
            our_keys=frozenset(_key_id(c) for c in [cert, *previous]),
            known_certs=frozenset(_cert_id(c) for c in [cert, *previous, *chain, *roots]),
            bytes_reserved=2 * (sum(len(c.dump()) for c in [cert, *chain]) + CMS_OVERHEAD),
        )
        _cache.clear()  # one configuration per process; a settings change (tests) replaces it
        _cache[config] = loaded
        return loaded


def signer_certificate_subject() -> str:
    return material().signer.signing_cert.subject.human_friendly


# --- Signing -------------------------------------------------------------------------------


def sign_pdf(pdf: bytes, *, document_id: str, reason: str, location: str) -> bytes:
    """Sign `pdf` (as produced by rendering) with a certifying PAdES signature that allows no
    later change, after recording `document_id` in the document catalogue."""
    loaded = material()
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    writer.root[CATALOG_KEY] = generic.TextStringObject(document_id)
    writer.update_root()
    meta = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        reason=reason,
        location=location,
    )
    out = _run(signers.async_sign_pdf(writer, meta, signer=loaded.signer, bytes_reserved=loaded.bytes_reserved))
    return out.getvalue()


# --- Checking ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignatureCheck:
    ok: bool  # exactly one intact signature, by our key, trusted, covering the whole file
    document_id: str  # the id recorded in the signed document ("" when not ok or absent)
    problem: str  # why not ok (English, for logs)


def _run(coroutine):
    """Run a pyHanko coroutine from synchronous code, even when the caller's thread already runs
    an event loop (then in a helper thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


_STARTXREF = re.compile(rb"startxref\s+(\d{1,10})\s+%%EOF\s*\Z")
_PREV = re.compile(rb"/Prev\s+(\d{1,10})\b")


def _classic_xref_only(data: bytes) -> bool:
    """Every cross-reference section, from the last `startxref` back through each trailer's /Prev,
    is a classic `xref` table, and no trailer points to a cross-reference stream."""
    match = _STARTXREF.search(data, max(0, len(data) - 64))
    if match is None:
        return False
    offset, seen = int(match.group(1)), set()
    while True:
        if offset in seen or len(seen) > 16 or data[offset : offset + 4] != b"xref":
            return False
        seen.add(offset)
        trailer = data.find(b"trailer", offset)
        end = data.find(b"startxref", trailer)
        if trailer < 0 or end < 0:
            return False
        section = data[trailer:end]  # the trailer dictionary: numbers, names and references only
        if b"/XRefStm" in section:
            return False
        previous = _PREV.search(section)
        if previous is None:
            return True
        offset = int(previous.group(1))


def _der_length(data: bytes) -> int | None:
    """Total length of the DER element at the start of `data` (definite lengths only)."""
    if len(data) < 2:
        return None
    first = data[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 4 or len(data) < 2 + count:
        return None
    return 2 + count + int.from_bytes(data[2 : 2 + count], "big")


def check_signature(data: bytes) -> SignatureCheck:
    """Parse `data` as a PDF and check its signature. Never raises on malformed input."""
    try:
        return _check(data)
    except ImproperlyConfigured:
        raise
    except Exception as exc:  # noqa: BLE001 - any parse failure of hostile input means "invalid"
        return SignatureCheck(False, "", f"unreadable: {type(exc).__name__}")


def _check(data: bytes) -> SignatureCheck:
    if not data.startswith(b"%PDF-"):
        return SignatureCheck(False, "", "not a PDF")
    # Our documents use classic cross-reference tables only (hence no object streams): checking that
    # before parsing keeps compressed structures of hostile files (decompression bombs) away from
    # the parser.
    if not _classic_xref_only(data):
        return SignatureCheck(False, "", "compressed or malformed cross-reference sections")
    loaded = material()
    reader = PdfFileReader(BytesIO(data), strict=True)
    signatures = reader.embedded_signatures
    if len(signatures) != 1:
        return SignatureCheck(False, "", f"{len(signatures)} signatures")
    embedded = signatures[0]
    if _key_id(embedded.signer_cert) not in loaded.our_keys:
        return SignatureCheck(False, "", "signed by another key")
    # Certificates carried in the CMS are not covered by the signature: they must be exactly ours.
    for choice in embedded.signed_data["certificates"] or []:
        if choice.name != "certificate" or _cert_id(choice.chosen) not in loaded.known_certs:
            return SignatureCheck(False, "", "unexpected certificate in the signature")
    # The /Contents string is outside the signed byte range: after the CMS object it may only
    # hold the zero padding the signer wrote.
    contents = embedded.pkcs7_content
    length = _der_length(contents)
    if length is None or length > len(contents) or contents[length:].strip(b"\x00"):
        return SignatureCheck(False, "", "bytes after the signature")
    context = ValidationContext(
        trust_roots=list(loaded.trust_roots),
        other_certs=list(loaded.other_certs),
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    # No difference analysis: any byte after the signed range already fails the coverage check.
    status = _run(
        pdf_embedded.async_validate_pdf_signature(embedded, signer_validation_context=context, skip_diff=True)
    )
    if not (status.intact and status.valid and status.trusted):
        return SignatureCheck(False, "", f"signature not intact/valid/trusted: {status.summary()}")
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return SignatureCheck(False, "", f"coverage {status.coverage}")
    if status.modification_level not in (None, ModificationLevel.NONE) or status.docmdp_ok is False:
        return SignatureCheck(False, "", f"modified after signing: {status.modification_level}")
    document_id = reader.root.get(CATALOG_KEY)
    return SignatureCheck(True, str(document_id) if document_id is not None else "", "")
