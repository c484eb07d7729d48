from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "ventanilla.identity"
    label = "identity"
    verbose_name = "Llave: identidad"

    def ready(self) -> None:
        from . import oidc_keys, signals  # noqa: F401

        oidc_keys.install_signing_key()
