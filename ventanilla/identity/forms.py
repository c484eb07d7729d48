"""HTML forms: they only collect and shape input. The rules (and their Spanish messages) live in
services.py, which the views call; a form just shows what a service rejected."""

from __future__ import annotations

from django import forms
from django.contrib.auth import forms as auth_forms
from django.utils.translation import gettext_lazy as _

from ventanilla.organization import selectors as org_selectors

from .models import Role
from .services import (
    CASE_REFERENCE_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
    NAME_MAX_LENGTH,
    PASSWORD_MAX_LENGTH,
    PURPOSE_MAX_LENGTH,
    RESIDENT_FIELDS,
    VERIFICATION_DOCUMENTS,
)


class AccessibleFormMixin:
    """Links each input to its hint and error message (aria-describedby, aria-invalid)."""

    def _describe(self) -> None:
        for name, fld in self.fields.items():
            bound = self[name]
            ids = []
            if fld.help_text:
                ids.append(f"{bound.auto_id}-hint")
            if self.is_bound and self._errors is not None and name in self._errors:
                ids.append(f"{bound.auto_id}-error")
                fld.widget.attrs["aria-invalid"] = "true"
            if ids:
                fld.widget.attrs["aria-describedby"] = " ".join(ids)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._describe()

    def full_clean(self):
        super().full_clean()
        self._describe()

    def add_error(self, field, error):
        super().add_error(field, error)
        self._describe()


def _text(label, *, max_length, autocomplete="", help_text="", input_type="text", required=False, **attrs):
    widget_attrs = {"maxlength": max_length, **attrs}
    if autocomplete:
        widget_attrs["autocomplete"] = autocomplete
    widget = {
        "email": forms.EmailInput, "password": forms.PasswordInput, "tel": forms.TextInput,
    }.get(input_type, forms.TextInput)
    if input_type == "password":
        w = forms.PasswordInput(attrs=widget_attrs, render_value=False)
    else:
        w = widget(attrs=widget_attrs)
        if input_type == "tel":
            w.input_type = "tel"
    # Lengths are checked (with a Spanish message) by the services, not by the form field.
    return forms.CharField(label=label, help_text=help_text, required=required, strip=False, widget=w)


class SignUpForm(AccessibleFormMixin, forms.Form):
    curp = _text(_("CURP"), max_length=18, autocomplete="off", spellcheck="false", autocapitalize="characters",
                 help_text=_("Son 18 letras y números. Está en tu acta de nacimiento o en tu credencial del INE."))
    given_names = _text(_("Nombre o nombres"), max_length=NAME_MAX_LENGTH, autocomplete="given-name")
    first_surname = _text(_("Primer apellido"), max_length=NAME_MAX_LENGTH, autocomplete="family-name")
    second_surname = _text(_("Segundo apellido (si tienes)"), max_length=NAME_MAX_LENGTH,
                           autocomplete="additional-name")
    email = _text(_("Correo electrónico"), max_length=EMAIL_MAX_LENGTH, autocomplete="email", input_type="email",
                  spellcheck="false", help_text=_("Te enviaremos un enlace para confirmarlo."))
    phone = _text(_("Celular (opcional)"), max_length=15, autocomplete="tel-national", input_type="tel",
                  inputmode="numeric", help_text=_("10 dígitos, por ejemplo 8711234567."))
    password = _text(_("Crea una contraseña"), max_length=PASSWORD_MAX_LENGTH, autocomplete="new-password",
                     input_type="password",
                     help_text=_("Al menos 10 caracteres. Una frase de varias palabras es fácil de recordar y difícil de adivinar."))
    password_confirmation = _text(_("Escribe la contraseña otra vez"), max_length=PASSWORD_MAX_LENGTH,
                                  autocomplete="new-password", input_type="password")


class LoginForm(AccessibleFormMixin, forms.Form):
    identifier = _text(_("Correo electrónico o CURP"), max_length=EMAIL_MAX_LENGTH, autocomplete="username",
                       spellcheck="false", autocapitalize="none")
    password = _text(_("Contraseña"), max_length=PASSWORD_MAX_LENGTH, autocomplete="current-password",
                     input_type="password")


class EmailForm(AccessibleFormMixin, forms.Form):
    email = _text(_("Correo electrónico"), max_length=EMAIL_MAX_LENGTH, autocomplete="email", input_type="email")

    def clean_email(self) -> str:
        # A malformed address gets a clear message; a well-formed one never reveals whether an
        # account exists (the service stays silent either way).
        from .services import ServiceError, clean_email

        try:
            return clean_email(self.cleaned_data.get("email"))
        except ServiceError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc


class OtpForm(AccessibleFormMixin, forms.Form):
    code = _text(_("Código de 6 dígitos"), max_length=8, autocomplete="one-time-code", inputmode="numeric",
                 help_text=_("Ábrelo en tu aplicación autenticadora; cambia cada 30 segundos."))


def grant_choices() -> list[tuple[str, str]]:
    return [
        (f"{d.pk}:{value}", f"{d.acronym or d.name} · {label}")
        for d in org_selectors.all_departments()
        for value, label in Role.choices
    ]


def parse_grants(values) -> list[tuple[int, str]]:
    out = []
    for v in values:
        dept, _sep, role = str(v).partition(":")
        if dept.isascii() and dept.isdigit() and len(dept) < 19:
            out.append((int(dept), role))
    return out


class GrantsField(forms.MultipleChoiceField):
    """Shows the department × role choices; services.set_official_roles/create_official decide
    which values are acceptable (so every problem comes back in one round, in Spanish)."""

    def valid_value(self, value) -> bool:
        return isinstance(value, str) and len(value) <= 80


class GrantsForm(AccessibleFormMixin, forms.Form):
    grants = GrantsField(
        label=_("Roles en dependencias"), required=False, widget=forms.CheckboxSelectMultiple, choices=[],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grants"].choices = grant_choices()


class OfficialForm(GrantsForm):
    email = _text(_("Correo electrónico institucional"), max_length=EMAIL_MAX_LENGTH, autocomplete="off",
                  input_type="email")
    given_names = _text(_("Nombre o nombres"), max_length=NAME_MAX_LENGTH, autocomplete="off")
    first_surname = _text(_("Primer apellido"), max_length=NAME_MAX_LENGTH, autocomplete="off")
    second_surname = _text(_("Segundo apellido"), max_length=NAME_MAX_LENGTH, autocomplete="off")
    field_order = ["email", "given_names", "first_surname", "second_surname", "grants"]


class LookupForm(AccessibleFormMixin, forms.Form):
    curp = _text(_("CURP de la persona"), max_length=18, autocomplete="off", spellcheck="false")
    purpose = forms.CharField(
        label=_("Motivo de la consulta"), required=False, strip=False,
        help_text=_("La persona verá este motivo en «Mis datos». Ejemplo: verificar identidad en ventanilla."),
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": PURPOSE_MAX_LENGTH}),
    )
    case_reference = _text(_("Expediente o folio (opcional)"), max_length=CASE_REFERENCE_MAX_LENGTH,
                           autocomplete="off")
    fields_wanted = forms.MultipleChoiceField(
        label=_("Datos que necesitas"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(k, _(v)) for k, v in RESIDENT_FIELDS.items()],
        help_text=_("Consulta solo lo necesario."),
    )


class VerifyForm(AccessibleFormMixin, forms.Form):
    resident = forms.UUIDField(widget=forms.HiddenInput)
    document = forms.ChoiceField(
        label=_("Documento de identidad que revisaste"), required=True, widget=forms.RadioSelect,
        choices=[(k, _(v)) for k, v in VERIFICATION_DOCUMENTS.items()],
        error_messages={"required": _("Elige el documento de identidad que revisaste."),
                        "invalid_choice": _("Elige el documento de identidad que revisaste.")},
    )


class PasswordResetForm(AccessibleFormMixin, auth_forms.PasswordResetForm):
    pass


class SetPasswordForm(AccessibleFormMixin, auth_forms.SetPasswordForm):
    pass


class PasswordChangeForm(AccessibleFormMixin, auth_forms.PasswordChangeForm):
    pass
