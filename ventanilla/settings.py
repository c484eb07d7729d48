"""Settings for Ventanilla.

Every value that differs between installations comes from the environment (see
docs/configuration.md). Nothing secret lives in this file. The defaults give a working
development installation on SQLite; `VENTANILLA_ENV=production` turns the defaults strict.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VENTANILLA_VAR_DIR", BASE_DIR / "var"))


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "si", "sí"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


ENVIRONMENT = env("VENTANILLA_ENV", "development")
PRODUCTION = ENVIRONMENT == "production"
TESTING = env_bool("VENTANILLA_TESTING", False)
DEBUG = env_bool("VENTANILLA_DEBUG", not PRODUCTION and not TESTING)


def _secret_key() -> str:
    key = env("VENTANILLA_SECRET_KEY")
    if key:
        return key
    if PRODUCTION:
        raise RuntimeError("VENTANILLA_SECRET_KEY must be set in production.")
    # Development and tests: a random key kept in var/ (never in the repository).
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("VENTANILLA_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("VENTANILLA_CSRF_TRUSTED_ORIGINS")
# Public base URL, used in e-mails, the OpenID Connect issuer and exported metadata.
SITE_URL = env("VENTANILLA_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "oauth2_provider",
    "csp",
    # Ventanilla's own apps: one per module of MISSION.md.
    "ventanilla.core",
    "ventanilla.audit",
    "ventanilla.organization",
    "ventanilla.identity",
    "ventanilla.catalog",
    "ventanilla.portal",
    "ventanilla.opendata",
    "ventanilla.procedures",
    "ventanilla.payments",
    "ventanilla.files",
    "ventanilla.documents",
    "ventanilla.notifications",
]

MIDDLEWARE = [
    "ventanilla.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "ventanilla.core.middleware.SlidingSessionMiddleware",  # idle timeout without a write per request
    "ventanilla.core.middleware.ExplicitLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "ventanilla.procedures.kiosk.KioskMiddleware",  # kiosk terminals: session policy, presentation
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "ventanilla.core.middleware.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "ventanilla.urls"
WSGI_APPLICATION = "ventanilla.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "ventanilla" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ventanilla.core.context_processors.city",
                "ventanilla.notifications.context_processors.unread",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'ventanilla.sqlite3'}"),
        conn_max_age=int(env("VENTANILLA_DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # WAL lets readers proceed while one writer commits; busy timeout instead of "database locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env("REDIS_URL")}
        if env("REDIS_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Identity -------------------------------------------------------------------------------
AUTH_USER_MODEL = "identity.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "ventanilla.identity.passwords.StrengthValidator"},
]
LOGIN_URL = "identity:login"
LOGIN_REDIRECT_URL = "identity:my_data"
LOGOUT_REDIRECT_URL = "portal:home"

# Sessions expire after inactivity (sliding window).
SESSION_COOKIE_AGE = int(env("VENTANILLA_SESSION_SECONDS", str(30 * 60)))
# The expiry slides with activity (core.middleware.SlidingSessionMiddleware), written at most
# once a minute rather than on every request.
SESSION_SAVE_EVERY_REQUEST = False
VENTANILLA_SESSION_REFRESH_SECONDS = int(env("VENTANILLA_SESSION_REFRESH_SECONDS", "60"))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE_COOKIES = env_bool("VENTANILLA_SECURE_COOKIES", PRODUCTION)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_NAME = "__Host-sessionid" if SECURE_COOKIES else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if SECURE_COOKIES else "csrftoken"
SECURE_SSL_REDIRECT = env_bool("VENTANILLA_SSL_REDIRECT", PRODUCTION)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PRODUCTION else None
SECURE_HSTS_SECONDS = 31536000 if PRODUCTION else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Lockout with back-off after repeated sign-in failures (identity.lockout).
LOGIN_FAILURES_BEFORE_LOCK = int(env("VENTANILLA_LOGIN_FAILURES_BEFORE_LOCK", "5"))
LOGIN_LOCK_BASE_SECONDS = int(env("VENTANILLA_LOGIN_LOCK_BASE_SECONDS", "60"))
LOGIN_LOCK_MAX_SECONDS = int(env("VENTANILLA_LOGIN_LOCK_MAX_SECONDS", str(60 * 60)))
LOGIN_IP_FAILURES_BEFORE_LOCK = int(env("VENTANILLA_LOGIN_IP_FAILURES_BEFORE_LOCK", str(4 * LOGIN_FAILURES_BEFORE_LOCK)))
LOGIN_FAILURE_WINDOW_SECONDS = int(env("VENTANILLA_LOGIN_FAILURE_WINDOW_SECONDS", str(15 * 60)))
# Confirmation links, password resets and sign-ups per e-mail address and per IP (identity.send_limits).
SEND_LIMIT_WINDOW_SECONDS = int(env("VENTANILLA_SEND_LIMIT_WINDOW_SECONDS", str(60 * 60)))
SEND_LIMIT_PER_ADDRESS = int(env("VENTANILLA_SEND_LIMIT_PER_ADDRESS", "3"))
SEND_LIMIT_PER_IP = int(env("VENTANILLA_SEND_LIMIT_PER_IP", "30"))
# Reverse proxies whose X-Forwarded-For is believed (comma-separated IPs); see core/http.py.
TRUSTED_PROXIES = env_list("VENTANILLA_TRUSTED_PROXIES")
EMAIL_CONFIRMATION_MAX_AGE = int(env("VENTANILLA_EMAIL_CONFIRMATION_SECONDS", str(3 * 24 * 3600)))
PASSWORD_RESET_TIMEOUT = int(env("VENTANILLA_PASSWORD_RESET_SECONDS", str(2 * 3600)))

OTP_TOTP_ISSUER = lambda device: f"Ventanilla {CITY['name']}"  # noqa: E731

# --- OpenID Connect provider (django-oauth-toolkit) --------------------------------------------
OIDC_KEY_PATH = Path(env("VENTANILLA_OIDC_KEY_PATH", str(VAR_DIR / "oidc_rsa.pem")))
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "PKCE_REQUIRED": True,
    "OIDC_RSA_PRIVATE_KEY": "",  # filled in by ventanilla.identity.oidc_keys at start-up
    "SCOPES": {
        "openid": _("Identificarte con tu Llave"),
        "profile": _("Tu nombre"),
        "email": _("Tu correo electrónico"),
        "curp": _("Tu CURP"),
    },
    "DEFAULT_SCOPES": ["openid"],
    "OAUTH2_VALIDATOR_CLASS": "ventanilla.identity.oidc.LlaveOIDCValidator",
    "ACCESS_TOKEN_EXPIRE_SECONDS": 600,
    "ID_TOKEN_EXPIRE_SECONDS": 600,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 30 * 24 * 3600,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"] if PRODUCTION else ["http", "https"],
    # Issuer: pinned to SITE_URL + "/o" whenever the public URL is configured (always in
    # production); otherwise derived from the request host, which ALLOWED_HOSTS validates.
    "OIDC_ISS_ENDPOINT": f"{SITE_URL}/o" if (env("VENTANILLA_SITE_URL") or PRODUCTION) else "",
    # Only the authorization-code flow (with PKCE S256) is offered.
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "refresh_token"],
    "OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": ["client_secret_basic", "client_secret_post"],
    # RFC 9700 (OAuth 2.0 Security BCP): enforce the compliant behaviour now.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": PRODUCTION,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
}

# --- Signed documents (ventanilla.documents, docs/documents.md) ------------------------------
# The municipality's signing key and certificates (PEM paths; lists are comma-separated). Unset
# outside production: the demonstration CA in VENTANILLA_SIGNING_DEMO_DIR (`manage.py signing_demo_ca`).
VENTANILLA_SIGNING_KEY = env("VENTANILLA_SIGNING_KEY", "")
VENTANILLA_SIGNING_CERT = env("VENTANILLA_SIGNING_CERT", "")
VENTANILLA_SIGNING_KEY_PASSWORD = env("VENTANILLA_SIGNING_KEY_PASSWORD", "")
VENTANILLA_SIGNING_CHAIN = env_list("VENTANILLA_SIGNING_CHAIN")
VENTANILLA_SIGNING_TRUST_ROOTS = env_list("VENTANILLA_SIGNING_TRUST_ROOTS")
VENTANILLA_SIGNING_PREVIOUS_CERTS = env_list("VENTANILLA_SIGNING_PREVIOUS_CERTS")
VENTANILLA_SIGNING_DEMO_DIR = Path(env("VENTANILLA_SIGNING_DEMO_DIR", str(VAR_DIR / "signing")))

# --- Content-Security-Policy (django-csp 4): nothing from outside the platform ----------------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "manifest-src": ["'self'"],
        "worker-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "es-mx"
LANGUAGES = [("es-mx", "Español (México)"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "ventanilla" / "locale"]
TIME_ZONE = env("VENTANILLA_TIME_ZONE", "America/Monterrey")
USE_I18N = True
USE_TZ = True

# --- Static and media files -----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("VENTANILLA_STATIC_ROOT", str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Outside production, WhiteNoise serves straight from the apps' static folders (no collectstatic).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = Path(env("VENTANILLA_MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Where large uploads wait while they are received, and where the open data ingestion keeps the
# batches of its first pass (about the size of the file; opendata/ingest/spill.py). None: the
# system's temporary directory.
FILE_UPLOAD_TEMP_DIR = env("VENTANILLA_UPLOAD_TEMP_DIR", "") or None

# --- Mi expediente (ventanilla.files): residents' uploads, encrypted at rest (docs/files.md) ---
# Largest file a resident may upload (PDF, JPG or PNG), in bytes.
VENTANILLA_UPLOAD_MAX_BYTES = int(env("VENTANILLA_UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)))
# Most documents a resident may upload to their file.
VENTANILLA_FILES_MAX_PER_RESIDENT = int(env("VENTANILLA_FILES_MAX_PER_RESIDENT", "200"))
# Master key (base64 of 32 bytes) wrapping each document's key; required in production. Older keys,
# still able to open documents until `manage.py files_rewrap` has run, go in VENTANILLA_FILES_KEYS.
VENTANILLA_FILES_KEY = env("VENTANILLA_FILES_KEY", "")
VENTANILLA_FILES_KEYS = env_list("VENTANILLA_FILES_KEYS")

# --- Online requests: the resident's journey and kiosk mode (docs/procedures.md) ----------------
# Most files one form submission may carry (documents of a request, a correction's answer).
VENTANILLA_UPLOADS_PER_REQUEST = int(env("VENTANILLA_UPLOADS_PER_REQUEST", "20"))
# Days an untouched draft is kept before the deadline worker marks it expired.
VENTANILLA_DRAFT_TTL_DAYS = int(env("VENTANILLA_DRAFT_TTL_DAYS", "30"))
# Kiosk terminals: one secret token per terminal (at least 24 characters, comma-separated); opening
# /kiosco/activar/<token>/ on a terminal turns kiosk mode on there. Sessions on a kiosk end after
# VENTANILLA_KIOSK_IDLE_SECONDS without activity, with a warning VENTANILLA_KIOSK_WARNING_SECONDS before.
VENTANILLA_KIOSK_TOKENS = env_list("VENTANILLA_KIOSK_TOKENS")
VENTANILLA_KIOSK_IDLE_SECONDS = int(env("VENTANILLA_KIOSK_IDLE_SECONDS", "120"))
VENTANILLA_KIOSK_WARNING_SECONDS = int(env("VENTANILLA_KIOSK_WARNING_SECONDS", "30"))

# --- E-mail -----------------------------------------------------------------------------------
EMAIL_BACKEND = env(
    "VENTANILLA_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env("VENTANILLA_EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("VENTANILLA_EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("VENTANILLA_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env("VENTANILLA_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("VENTANILLA_EMAIL_TLS", False)
DEFAULT_FROM_EMAIL = env("VENTANILLA_EMAIL_FROM", "Ventanilla <no-responder@localhost>")

# --- The city: everything city-specific is configuration, never code ------------------------
CITY = {
    "name": env("VENTANILLA_CITY_NAME", "Torreón"),
    "state": env("VENTANILLA_CITY_STATE", "Coahuila de Zaragoza"),
    "government": env("VENTANILLA_CITY_GOVERNMENT", "Gobierno Municipal de Torreón"),
    "app_name": env("VENTANILLA_APP_NAME", "ACTo"),
    "short_name": env("VENTANILLA_APP_SHORT_NAME", "ACTo Torreón"),
    "logo": env("VENTANILLA_CITY_LOGO", "core/city-logo.svg"),
    "primary_color": env("VENTANILLA_PRIMARY_COLOR", "#0b4f6c"),
    "accent_color": env("VENTANILLA_ACCENT_COLOR", "#b3541e"),
    "phone": env("VENTANILLA_CITY_PHONE", "871 500 7000"),
    "email": env("VENTANILLA_CITY_EMAIL", "atencion@torreon.gob.mx"),
    "address": env("VENTANILLA_CITY_ADDRESS", "Av. Allende 333 Ote., Centro, 27000 Torreón, Coah."),
}

# --- Logging: one JSON object a line, with the request id --------------------------------
LOG_LEVEL = env("VENTANILLA_LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "ventanilla.core.logging.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]}
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.security": {"level": "WARNING"},
    },
}

# --- Background jobs (ventanilla.core.jobs, docs/jobs.md) --------------------------------------
# Empty (or "database"): the queue lives in the database, no other service. "redis://host:6379/0": Redis.
VENTANILLA_JOBS_BROKER = env("VENTANILLA_JOBS_BROKER", "")
VENTANILLA_JOBS_PREFIX = env("VENTANILLA_JOBS_PREFIX", "ventanilla:jobs")
# A job whose worker stops renewing its lease for this long is run again by another worker.
VENTANILLA_JOBS_LEASE_SECONDS = int(env("VENTANILLA_JOBS_LEASE_SECONDS", "60"))
VENTANILLA_JOBS_POLL_SECONDS = float(env("VENTANILLA_JOBS_POLL_SECONDS", "1"))
VENTANILLA_JOBS_KEEP_DAYS = int(env("VENTANILLA_JOBS_KEEP_DAYS", "7"))
# How often the legal deadlines (afirmativa/negativa ficta, unanswered corrections) and abandoned drafts are swept.
VENTANILLA_DEADLINE_SWEEP_SECONDS = int(env("VENTANILLA_DEADLINE_SWEEP_SECONDS", "300"))
VENTANILLA_DRAFT_SWEEP_SECONDS = int(env("VENTANILLA_DRAFT_SWEEP_SECONDS", "3600"))

# Demo credentials are generated by `manage.py seed_demo`; never used in production.
DEMO_DATA_ALLOWED = not PRODUCTION
# Unidad de Medida y Actualización (pesos), used by the catalogue's fee formulas (constant UMA).
VENTANILLA_UMA_MXN = env("VENTANILLA_UMA_MXN", "113.14")

# --- Payments (docs/payments.md) -----------------------------------------------------------------
# Which provider takes the money: "sandbox" (the platform's own simulated processor) or "openpay".
# Production defaults to Openpay: the sandbox is refused there (check payments.E001).
VENTANILLA_PAYMENT_PROVIDER = env("VENTANILLA_PAYMENT_PROVIDER", "openpay" if PRODUCTION else "sandbox")
VENTANILLA_PAYMENT_DUE_DAYS = int(env("VENTANILLA_PAYMENT_DUE_DAYS", "30"))
VENTANILLA_PAYMENT_REFERENCE_PREFIX = env("VENTANILLA_PAYMENT_REFERENCE_PREFIX", "35")
# How often the worker credits webhook events left in the inbox and expires overdue orders (payments/jobs.py).
VENTANILLA_PAYMENT_EVENTS_SWEEP_SECONDS = int(env("VENTANILLA_PAYMENT_EVENTS_SWEEP_SECONDS", "300"))
VENTANILLA_PAYMENT_EXPIRY_SWEEP_SECONDS = int(env("VENTANILLA_PAYMENT_EXPIRY_SWEEP_SECONDS", "3600"))
# The sandbox signs its webhooks with this secret (HMAC-SHA256); empty = derived from SECRET_KEY.
VENTANILLA_SANDBOX_WEBHOOK_SECRET = env("VENTANILLA_SANDBOX_WEBHOOK_SECRET", "")
# "inline" hands the sandbox's signed webhooks to the platform's webhook handler in-process;
# "http" POSTs them to SITE_URL/pagos/webhook/sandbox/ as a remote provider would.
VENTANILLA_SANDBOX_WEBHOOK_DELIVERY = env("VENTANILLA_SANDBOX_WEBHOOK_DELIVERY", "inline")
VENTANILLA_OPENPAY_MERCHANT_ID = env("VENTANILLA_OPENPAY_MERCHANT_ID", "")
VENTANILLA_OPENPAY_PRIVATE_KEY = env("VENTANILLA_OPENPAY_PRIVATE_KEY", "")
VENTANILLA_OPENPAY_PUBLIC_KEY = env("VENTANILLA_OPENPAY_PUBLIC_KEY", "")
VENTANILLA_OPENPAY_PRODUCTION = env_bool("VENTANILLA_OPENPAY_PRODUCTION", False)
VENTANILLA_OPENPAY_WEBHOOK_USER = env("VENTANILLA_OPENPAY_WEBHOOK_USER", "")
VENTANILLA_OPENPAY_WEBHOOK_PASSWORD = env("VENTANILLA_OPENPAY_WEBHOOK_PASSWORD", "")
VENTANILLA_OPENPAY_TIMEOUT_SECONDS = float(env("VENTANILLA_OPENPAY_TIMEOUT_SECONDS", "20"))
# Receipts carry the data of a CFDI 4.0 (SAT Anexo 20). EKU9003173C9 is SAT's public test RFC.
VENTANILLA_CFDI_EMISOR_RFC = env("VENTANILLA_CFDI_EMISOR_RFC", "" if PRODUCTION else "EKU9003173C9")
VENTANILLA_CFDI_EMISOR_NAME = env("VENTANILLA_CFDI_EMISOR_NAME", CITY["government"].upper())
VENTANILLA_CFDI_EMISOR_REGIMEN = env("VENTANILLA_CFDI_EMISOR_REGIMEN", "603")
VENTANILLA_CFDI_LUGAR_EXPEDICION = env("VENTANILLA_CFDI_LUGAR_EXPEDICION", "27000")
VENTANILLA_CFDI_CLAVE_PROD_SERV = env("VENTANILLA_CFDI_CLAVE_PROD_SERV", "93161700")
VENTANILLA_CFDI_CLAVE_UNIDAD = env("VENTANILLA_CFDI_CLAVE_UNIDAD", "E48")
