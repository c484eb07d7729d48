"""Settings for the test suite: the real settings, with a faster password hasher.

Argon2 stays the production hasher (tests/core/test_settings.py checks it); hashing thousands of
test passwords with it would only make the suite slow."""

import os

os.environ.setdefault("VENTANILLA_TESTING", "1")

from ventanilla.settings import *  # noqa: E402,F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
