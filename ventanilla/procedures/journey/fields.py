"""The questions of a form page as the templates draw them, from the definition's spec.

Each spec field becomes a `FieldView` with its widget, the value to show (the stored answer, or
what the resident just typed when the page comes back with errors), its error and the ids that
tie hints and errors to the input (aria-describedby). A field shown only after an answer on the
SAME page is always drawn, with a hint saying when it applies (without JavaScript), and
`journey.js` hides it until it applies."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from ventanilla.payments.money import format_pesos

from .. import spec as spec_module

# Control characters (NUL above all: PostgreSQL refuses it in text and JSON) never reach a record.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
RADIO_LIMIT = 8  # more choices than this become a drop-down list
FILE_SUFFIX = "__archivo"  # name of the upload input of a `file` question


@dataclass
class Option:
    value: str
    label: str
    checked: bool = False
    id: str = ""


@dataclass
class Part:
    """One part of an address (INEGI)."""

    name: str
    id: str
    label: str
    value: str
    required: bool
    max_length: int
    options: list[Option] = field(default_factory=list)
    autocomplete: str = ""


@dataclass
class FieldView:
    key: str
    type: str
    label: str
    help: str
    required: bool
    widget: str  # text | radios | select | address | file | date
    id: str
    value: str = ""
    error: str = ""
    inputmode: str = ""
    max_length: int = 0
    options: list[Option] = field(default_factory=list)
    parts: list[Part] = field(default_factory=list)
    condition: str = ""  # hint: when the question applies
    controller: str = ""  # key of the same-page question that shows this one
    controller_values: str = ""  # "|"-separated values that show it ("*" = any answer)
    prefix: str = ""

    @property
    def hint_id(self) -> str:
        return f"{self.id}-hint"

    @property
    def error_id(self) -> str:
        return f"{self.id}-error"

    @property
    def describedby(self) -> str:
        ids = []
        if self.help or self.condition:
            ids.append(self.hint_id)
        if self.error:
            ids.append(self.error_id)
        return " ".join(ids)

    @property
    def anchor(self) -> str:
        """Where the error summary links to: the first input of the question."""
        if self.widget == "radios" and self.options:
            return self.options[0].id
        if self.widget == "file":
            return self.options[0].id if self.options else f"{self.id}{FILE_SUFFIX}"
        if self.widget == "address" and self.parts:
            return self.parts[0].id
        return self.id


ADDRESS_AUTOCOMPLETE = {"postal_code": "postal-code", "state": "address-level1", "municipality": "address-level2"}


def _input_value(f: spec_module.Field, value: Any) -> str:
    """A stored answer as the text to put back in its input."""
    if value is None:
        return ""
    if f.type == "money" and isinstance(value, int) and not isinstance(value, bool):
        return format_pesos(value).lstrip("$")
    return str(value)


def _condition_text(f: spec_module.Field, spec: spec_module.Spec) -> str:
    condition = f.show_if or {}
    controller = spec.fields_by_key.get(condition.get("field", ""))
    if controller is None:
        return ""
    if "equals" in condition:
        shown = controller.choice_label(str(condition["equals"]))
        return _("Responde solo si en «%(q)s» elegiste «%(a)s».") % {"q": controller.label, "a": shown}
    if "in" in condition:
        shown = ", ".join(f"«{controller.choice_label(str(v))}»" for v in condition["in"])
        return _("Responde solo si en «%(q)s» elegiste %(a)s.") % {"q": controller.label, "a": shown}
    return _("Responde solo si contestaste «%(q)s».") % {"q": controller.label}


def page_fields(spec: spec_module.Spec, page: spec_module.Page, answers: Mapping[str, Any], *,
                data: Mapping[str, Any] | None = None, errors: Mapping[str, str] | None = None,
                documents: list | None = None) -> list[FieldView]:
    """The questions of `page` to draw. `data` is the submitted form (when the page comes back
    with errors), `documents` the applicant's file (for `file` questions)."""
    errors = errors or {}
    same_page = {f.key for f in page.fields}
    views: list[FieldView] = []
    for f in page.fields:
        controller = (f.show_if or {}).get("field", "")
        if f.show_if and controller not in same_page and not f.is_visible(answers):
            continue  # depends on an earlier page's answer, which hides it
        view = FieldView(
            key=f.key, type=f.type, label=f.label, help=f.help, required=f.required, widget="text",
            id=f"campo-{f.key}", error=errors.get(f.key, ""), max_length=f.max_length,
        )
        if f.show_if and controller in same_page:
            view.condition = _condition_text(f, spec)
            view.controller = controller
            if "equals" in f.show_if:
                view.controller_values = str(f.show_if["equals"])
            elif "in" in f.show_if:
                view.controller_values = "|".join(str(v) for v in f.show_if["in"])
            else:
                view.controller_values = "*"
        current = data.get(f.key, "") if data is not None else _input_value(f, answers.get(f.key))
        current = current if isinstance(current, str) else ""
        if f.type == "choice":
            view.widget = "radios" if len(f.choices) <= RADIO_LIMIT else "select"
            view.options = [
                Option(value, label, current == value, f"{view.id}-{i}") for i, (value, label) in enumerate(f.choices)
            ]
        elif f.type == "address":
            view.widget = "address"
            stored = answers.get(f.key) if isinstance(answers.get(f.key), Mapping) else {}
            view.parts = _address_parts(f, view.id, stored, data)
        elif f.type == "file":
            view.widget = "file"
            view.options = [
                Option(str(doc.public_id), doc.title, current == str(doc.public_id), f"{view.id}-{i}")
                for i, doc in enumerate(documents or [])
            ]
        elif f.type == "date":
            view.widget = "date"
            view.value = current
        else:
            view.value = current
            if f.type in ("number", "money"):
                view.inputmode = "decimal"
            if f.type == "money":
                view.prefix = "$"
        views.append(view)
    return views


def _address_parts(f: spec_module.Field, base_id: str, stored: Mapping[str, Any],
                   data: Mapping[str, Any] | None) -> list[Part]:
    defaults = {"municipality": settings.CITY.get("name", ""), "locality": settings.CITY.get("name", ""),
                "state": settings.CITY.get("state", "")}
    parts = []
    for name, label, required, limit in spec_module.ADDRESS_PARTS:
        if data is not None:
            value = data.get(f"{f.key}.{name}", "")
            value = value if isinstance(value, str) else ""
        else:
            value = str(stored.get(name, "")) if stored else defaults.get(name, "")
        part = Part(name=f"{f.key}.{name}", id=f"{base_id}-{name}", label=str(label), value=value,
                    required=required, max_length=limit, autocomplete=ADDRESS_AUTOCOMPLETE.get(name, ""))
        if name in ("road_type", "settlement_type"):
            values = spec_module.ROAD_TYPES if name == "road_type" else spec_module.SETTLEMENT_TYPES
            part.options = [Option(v, v.capitalize(), value.upper() == v) for v in values]
        parts.append(part)
    return parts


def submitted_data(page: spec_module.Page, post: Mapping[str, Any]) -> dict[str, str]:
    """The page's answers from a POST: one value per question, address parts by `key.part`."""
    data: dict[str, str] = {}
    for f in page.fields:
        if f.type == "address":
            for name, _label, _required, _limit in spec_module.ADDRESS_PARTS:
                data[f"{f.key}.{name}"] = clean_text(post.get(f"{f.key}.{name}", ""), 1000)
        else:
            data[f.key] = clean_text(post.get(f.key, ""), 5000)
    return data


def clean_text(value: Any, limit: int = 10000) -> str:
    """Submitted text without control characters (tabs and line breaks stay), at most `limit`."""
    return _CONTROL.sub("", str(value if value is not None else ""))[:limit]


def error_list(views: list[FieldView], errors: Mapping[str, str]) -> list[tuple[str, str]]:
    """The error summary: (anchor id, message) in the order of the page; page-wide errors first."""
    items = [("", message) for key, message in errors.items() if key == "__all__"]
    shown = {v.key for v in views}
    items += [(f"#{v.anchor}", v.error) for v in views if v.error]
    items += [("", message) for key, message in errors.items() if key not in shown and key != "__all__"]
    return items
