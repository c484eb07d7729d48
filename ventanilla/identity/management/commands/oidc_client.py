"""Register and list the municipal applications that sign residents in with Llave.

    manage.py oidc_client create --name "Decidim Torreón" --redirect-uri https://decidim.example/users/auth/openid_connect/callback
    manage.py oidc_client list
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from ventanilla.identity import oidc_services


class Command(BaseCommand):
    help = "Registra o lista las aplicaciones cliente de OpenID Connect (Llave)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Registra una aplicación confidencial (código + PKCE, RS256).")
        create.add_argument("--name", required=True, help="Nombre que verán los residentes.")
        create.add_argument(
            "--redirect-uri", action="append", required=True, dest="redirect_uris",
            help="Dirección de retorno exacta; repite la opción para varias.",
        )
        create.add_argument(
            "--post-logout-redirect-uri", action="append", default=[], dest="post_logout_redirect_uris",
            help="Dirección a la que se vuelve después de cerrar sesión (opcional).",
        )
        sub.add_parser("list", help="Lista las aplicaciones registradas.")

    def handle(self, *args, action: str, **options):
        if action == "create":
            self._create(options)
        else:
            self._list()

    def _create(self, options) -> None:
        try:
            application, secret = oidc_services.register_client(
                options["name"],
                options["redirect_uris"],
                post_logout_redirect_uris=options["post_logout_redirect_uris"],
            )
        except oidc_services.ClientRegistrationError as exc:
            raise CommandError("\n".join(exc.messages)) from exc
        out = self.stdout
        out.write(self.style.SUCCESS(f"Aplicación registrada: {application.name}"))
        out.write(f"client_id: {application.client_id}")
        out.write(f"client_secret: {secret}")
        out.write("Guarda el secreto ahora: no se vuelve a mostrar (solo se guarda su huella).")
        out.write(f"Descubrimiento: <SITE_URL>{reverse('oauth2_provider:oidc-connect-discovery-info')}")

    def _list(self) -> None:
        clients = oidc_services.list_clients()
        if not clients:
            self.stdout.write("No hay aplicaciones registradas.")
            return
        for app in clients:
            self.stdout.write(
                f"{app.client_id}\t{app.name}\t{app.get_client_type_display()}\t"
                f"{app.algorithm}\t{app.redirect_uris}"
            )
