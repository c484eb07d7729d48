"""A safe evaluator for fee formulas ("m2 * 25.80 + 350", "max(2 * UMA, m2 * 0.5 * UMA)").

Formulas are parsed with `ast` and only numbers, parameter names, the constant UMA, + - * /,
parentheses, unary minus and min()/max() are accepted. Arithmetic is Decimal; the result is in
pesos and is rounded half-up to whole centavos. Every problem raises `FormulaError` with a Spanish
message a catalogue editor or a resident can understand."""

from __future__ import annotations

import ast
import re
from decimal import ROUND_HALF_UP, Decimal, DivisionByZero, InvalidOperation, localcontext
from typing import Mapping

from django.conf import settings
from django.utils.translation import gettext as _

MAX_FORMULA_LENGTH = 500
MAX_DEPTH = 30
# Bounds that keep Decimal arithmetic cheap and results meaningful for a municipal fee.
MAX_ABS_VALUE = Decimal("1e12")
PARAM_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,39}$")
RESERVED_NAMES = {"UMA", "min", "max"}


class FormulaError(ValueError):
    """A formula or its parameters cannot be evaluated; the message is for people (Spanish)."""


def uma() -> Decimal:
    return Decimal(str(getattr(settings, "VENTANILLA_UMA_MXN", "113.14")))


def _parse(formula: str) -> ast.Expression:
    if not isinstance(formula, str) or not formula.strip():
        raise FormulaError(_("La fórmula está vacía."))
    if len(formula) > MAX_FORMULA_LENGTH:
        raise FormulaError(_("La fórmula es demasiado larga (máximo %(n)s caracteres).") % {"n": MAX_FORMULA_LENGTH})
    try:
        tree = ast.parse(formula.strip(), mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        raise FormulaError(_("La fórmula no está bien escrita. Revisa los paréntesis y los signos.")) from None
    return tree


def _names_in(node: ast.AST, depth: int = 0) -> set[str]:
    """Validates the tree shape and returns the variable names it uses."""
    if depth > MAX_DEPTH:
        raise FormulaError(_("La fórmula tiene demasiados niveles de paréntesis."))
    if isinstance(node, ast.Expression):
        return _names_in(node.body, depth + 1)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise FormulaError(_("La fórmula solo puede usar números, no «%(v)s».") % {"v": str(node.value)[:20]})
        if isinstance(node.value, float) and node.value != node.value or node.value in (float("inf"),):
            raise FormulaError(_("La fórmula usa un número que no es válido."))
        return set()
    if isinstance(node, ast.Name):
        if node.id in ("min", "max"):
            raise FormulaError(_("«%(f)s» se usa así: %(f)s(a, b).") % {"f": node.id})
        return {node.id}
    if isinstance(node, ast.BinOp):
        if not isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
            raise FormulaError(_("La fórmula solo puede sumar, restar, multiplicar y dividir."))
        return _names_in(node.left, depth + 1) | _names_in(node.right, depth + 1)
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise FormulaError(_("La fórmula usa una operación no permitida."))
        return _names_in(node.operand, depth + 1)
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in ("min", "max"):
            raise FormulaError(_("La fórmula solo puede usar las funciones min y max."))
        if node.keywords or len(node.args) < 2:
            raise FormulaError(_("«%(f)s» necesita al menos dos valores separados por coma.") % {"f": node.func.id})
        names: set[str] = set()
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise FormulaError(_("La fórmula usa una operación no permitida."))
            names |= _names_in(arg, depth + 1)
        return names
    raise FormulaError(_("La fórmula usa algo que no está permitido."))


def validate_formula(formula: str, parameter_names: list[str] | tuple[str, ...]) -> None:
    """Raises FormulaError unless `formula` is well formed and only uses the declared parameters
    and UMA."""
    tree = _parse(formula)
    used = _names_in(tree)
    unknown = sorted(used - set(parameter_names) - {"UMA"})
    if unknown:
        raise FormulaError(
            _("La fórmula usa datos que no están definidos: %(names)s.") % {"names": ", ".join(unknown)}
        )


def _to_decimal(value: object, label: str) -> Decimal:
    if isinstance(value, bool):
        raise FormulaError(_("«%(label)s» debe ser un número.") % {"label": label})
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, (int, float)):
        number = Decimal(str(value))
    elif isinstance(value, str):
        text = value.strip().replace(",", "")
        if not text or len(text) > 30:
            raise FormulaError(_("«%(label)s» debe ser un número.") % {"label": label})
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise FormulaError(_("«%(label)s» debe ser un número.") % {"label": label}) from None
    else:
        raise FormulaError(_("«%(label)s» debe ser un número.") % {"label": label})
    if not number.is_finite():
        raise FormulaError(_("«%(label)s» debe ser un número.") % {"label": label})
    if number < 0:
        raise FormulaError(_("«%(label)s» no puede ser negativo.") % {"label": label})
    if abs(number) > MAX_ABS_VALUE:
        raise FormulaError(_("«%(label)s» es demasiado grande.") % {"label": label})
    return number


def _eval(node: ast.AST, env: Mapping[str, Decimal]) -> Decimal:
    if isinstance(node, ast.Expression):
        return _eval(node.body, env)
    if isinstance(node, ast.Constant):
        return Decimal(str(node.value))
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, env)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Call):
        values = [_eval(a, env) for a in node.args]
        return min(values) if node.func.id == "min" else max(values)
    assert isinstance(node, ast.BinOp)
    left, right = _eval(node.left, env), _eval(node.right, env)
    if isinstance(node.op, ast.Add):
        result = left + right
    elif isinstance(node.op, ast.Sub):
        result = left - right
    elif isinstance(node.op, ast.Mult):
        result = left * right
    else:
        if right == 0:
            raise FormulaError(_("La fórmula divide entre cero con estos datos."))
        result = left / right
    if not result.is_finite() or abs(result) > MAX_ABS_VALUE * MAX_ABS_VALUE:
        raise FormulaError(_("El resultado de la fórmula es demasiado grande."))
    return result


def to_centavos(pesos: Decimal) -> int:
    """Pesos → integer centavos, rounding half-up (0.005 → 1 centavo)."""
    return int((pesos * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def evaluate(formula: str, parameters: list[dict], values: Mapping[str, object]) -> int:
    """Evaluates `formula` with `values` for the declared `parameters` ([{"name", "label", "unit"}]).
    Returns integer centavos. Raises FormulaError for bad formulas, missing, non-numeric or
    negative values, division by zero or a negative total."""
    names = [p["name"] for p in parameters]
    validate_formula(formula, names)
    env: dict[str, Decimal] = {"UMA": uma()}
    missing = []
    for param in parameters:
        label = param.get("label") or param["name"]
        raw = values.get(param["name"]) if values is not None else None
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            missing.append(label)
            continue
        env[param["name"]] = _to_decimal(raw, label)
    if missing:
        raise FormulaError(_("Falta indicar: %(names)s.") % {"names": ", ".join(missing)})
    with localcontext() as ctx:
        ctx.prec = 60
        ctx.traps[DivisionByZero] = True
        ctx.traps[InvalidOperation] = True
        try:
            result = _eval(_parse(formula), env)
        except (InvalidOperation, DivisionByZero, OverflowError):
            raise FormulaError(_("No se pudo calcular el costo con estos datos.")) from None
        except RecursionError:
            raise FormulaError(_("La fórmula tiene demasiados niveles de paréntesis.")) from None
        if not result.is_finite() or abs(result) > MAX_ABS_VALUE:
            raise FormulaError(_("El resultado de la fórmula es demasiado grande."))
        if result < 0:
            raise FormulaError(_("Con estos datos el costo resulta negativo; revisa la fórmula."))
        return to_centavos(result)


def validate_parameters(parameters: object) -> list[dict]:
    """Checks the list of parameters of a fee rule and returns it normalised."""
    if not isinstance(parameters, list):
        raise FormulaError(_("Los datos para calcular el costo deben ser una lista."))
    seen: set[str] = set()
    clean = []
    for item in parameters:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise FormulaError(_("Cada dato para calcular el costo necesita un nombre."))
        name = item["name"].strip()
        if not PARAM_NAME_RE.match(name) or name in RESERVED_NAMES:
            raise FormulaError(
                _("«%(name)s» no sirve como nombre de dato: usa minúsculas, números y guion bajo.")
                % {"name": name[:40]}
            )
        if name in seen:
            raise FormulaError(_("El dato «%(name)s» está repetido.") % {"name": name})
        seen.add(name)
        label = str(item.get("label") or name).strip()[:120]
        unit = str(item.get("unit") or "").strip()[:20]
        if any(c in label + unit for c in "<>"):
            raise FormulaError(_("Los nombres de los datos no pueden contener «<» ni «>»."))
        clean.append({"name": name, "label": label, "unit": unit})
    return clean
