"""Property tests: amounts across every boundary, the barcode, the card check digit."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ventanilla.payments import barcode
from ventanilla.payments.cards import luhn_valid
from ventanilla.payments.money import (
    MAX_CENTAVOS,
    centavos_from_decimal,
    format_pesos,
    parse_pesos,
    pesos_decimal,
)
from ventanilla.payments.providers.openpay import _amount, _json_amount

centavos = st.integers(min_value=1, max_value=MAX_CENTAVOS - 1)


@given(centavos)
def test_pesos_decimal_round_trip(amount):
    assert centavos_from_decimal(pesos_decimal(amount)) == amount
    assert parse_pesos(format_pesos(amount)) == amount


@given(st.integers(min_value=1, max_value=2**53 // 100))
def test_amounts_survive_the_json_a_provider_sends(amount):
    """What the Openpay adapter writes (a JSON number) and reads back (JSON float) is the same
    number of centavos: no float rounding ever loses or adds a centavo."""
    text = json.dumps({"amount": _json_amount(amount)})
    assert _amount(json.loads(text)["amount"]) == amount
    assert _amount(Decimal(str(pesos_decimal(amount)))) == amount


@given(st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=Decimal("0.001"),
                   max_value=Decimal("1000000")))
def test_amounts_with_fractions_of_a_centavo_are_refused(value):
    if value == value.quantize(Decimal("0.01")):
        assert centavos_from_decimal(value) == int(value * 100)
    else:
        with pytest.raises(ValueError):
            centavos_from_decimal(value)


def test_floats_are_refused_at_the_money_boundary():
    with pytest.raises(TypeError):
        centavos_from_decimal(0.1)
    with pytest.raises(ValueError):
        centavos_from_decimal(Decimal("NaN"))


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order_amount=st.integers(min_value=1, max_value=10**9), paid=st.integers(min_value=1, max_value=10**9))
def test_only_the_exact_amount_is_credited(make_order, notification_for, order_amount, paid):
    from ventanilla.payments import services

    order = make_order(amount_centavos=order_amount)
    result = services.credit("sandbox", notification_for(order, amount_centavos=paid))
    assert result.credited == (paid == order_amount)
    assert result.outcome == ("credited" if paid == order_amount else "amount_mismatch")
    if result.credited:
        assert result.receipt.importe_centavos == order_amount


def decode(svg: str) -> str:
    """Read a barcode back from the SVG's bars (a scanner's job), to check the encoder."""
    width = 2
    rects = [(int(x), int(w)) for x, w in re.findall(r'<rect x="(\d+)" y="0" width="(\d+)" height="\d+"/>', svg)]
    start = rects[0][0]
    end = rects[-1][0] + rects[-1][1]
    line = ["0"] * ((end - start) // width)
    for x, w in rects:
        for i in range((x - start) // width, (x - start + w) // width):
            line[i] = "1"
    modules = "".join(line)
    runs = [len(m.group()) for m in re.finditer(r"1+|0+", modules)]
    symbols, i = [], 0
    while i < len(runs):
        chunk = "".join(map(str, runs[i:i + 6]))
        if chunk + str(runs[i + 6] if i + 6 < len(runs) else "") == barcode.PATTERNS[barcode.STOP]:
            break
        symbols.append(barcode.PATTERNS.index(chunk))
        i += 6
    start_symbol, *data, check = symbols
    assert check == (start_symbol + sum(n * v for n, v in enumerate(data, start=1))) % 103
    if start_symbol == barcode.START_C:
        return "".join(f"{v:02d}" for v in data)
    return "".join(chr(v + 32) for v in data)


@given(st.text(alphabet="0123456789", min_size=2, max_size=40).filter(lambda s: len(s) % 2 == 0))
def test_code128_round_trip_digits(text):
    svg = barcode.svg(text)
    assert decode(svg) == text
    assert barcode.symbols(text)[0] == barcode.START_C


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=30))
def test_code128_round_trip_text(text):
    assert decode(barcode.svg(text)) == text


def test_code128_table_matches_reportlab():
    """The pattern table agrees with reportlab's independent implementation."""
    from reportlab.graphics.barcode.code128 import _patterns

    as_widths = {k: "".join(str("ABCD".index(ch.upper()) + 1) for ch in v) for k, v in _patterns.items()}
    assert as_widths == dict(enumerate(barcode.PATTERNS))
    assert all(sum(map(int, p)) == 11 for p in barcode.PATTERNS[:106]) and sum(map(int, barcode.PATTERNS[106])) == 13


def test_barcode_refuses_what_it_cannot_encode():
    with pytest.raises(ValueError):
        barcode.svg("")
    with pytest.raises(ValueError):
        barcode.svg("línea")


def luhn_complete(body: str) -> str:
    for d in "0123456789":
        if luhn_valid(body + d):
            return body + d
    raise AssertionError


@given(st.text(alphabet="0123456789", min_size=11, max_size=18), st.integers(min_value=0), st.integers(1, 9))
def test_luhn_catches_every_single_digit_error(body, position, delta):
    number = luhn_complete(body)
    assert luhn_valid(number)
    i = position % len(number)
    wrong = number[:i] + str((int(number[i]) + delta) % 10) + number[i + 1:]
    assert not luhn_valid(wrong)
