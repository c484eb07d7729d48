import pytest
from hypothesis import given
from hypothesis import strategies as st

from ventanilla.payments.money import MAX_CENTAVOS, MoneyError, format_pesos, parse_pesos


@pytest.mark.parametrize(
    "text,centavos",
    [
        ("1,234.50", 123450),
        ("$1,234.50", 123450),
        ("$ 1,234.50", 123450),
        ("1234.5", 123450),
        ("1234", 123400),
        ("0.05", 5),
        ("0", 0),
        ("  12.00 ", 1200),
        ("1,000,000", 100000000),
    ],
)
def test_parse_pesos(text, centavos):
    assert parse_pesos(text) == centavos


@pytest.mark.parametrize(
    "text,message",
    [
        ("", "Escriba la cantidad"),
        ("-5", "negativa"),
        ("1.234", "dos decimales"),
        ("12,34.00", "con números"),
        ("1,2345", "con números"),
        ("abc", "con números"),
        ("1.", "con números"),
        (".5", "con números"),
        ("01", "con números"),
        ("1 234", "con números"),
        ("1e3", "con números"),
        ("１２", "con números"),
        ("10000000000000", "demasiado grande"),
    ],
)
def test_parse_pesos_rejects_in_spanish(text, message):
    with pytest.raises(MoneyError) as error:
        parse_pesos(text)
    assert message in error.value.message


def test_parse_pesos_rejects_non_text():
    with pytest.raises(MoneyError):
        parse_pesos(12.5)


def test_format_pesos():
    assert format_pesos(123450) == "$1,234.50"
    assert format_pesos(5) == "$0.05"
    assert format_pesos(0) == "$0.00"
    assert format_pesos(-123450) == "-$1,234.50"
    assert format_pesos(100000000) == "$1,000,000.00"
    for bad in (1.5, True, "100"):
        with pytest.raises(TypeError):
            format_pesos(bad)


@given(st.integers(min_value=0, max_value=MAX_CENTAVOS - 1))
def test_format_then_parse_round_trips(centavos):
    text = format_pesos(centavos)
    assert parse_pesos(text) == centavos
    assert parse_pesos(text.replace(",", "").lstrip("$")) == centavos
