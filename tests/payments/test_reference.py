import datetime as dt

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ventanilla.payments.reference import (
    FIRST_DUE,
    LAST_DUE,
    LENGTH,
    ParsedReference,
    ReferenceError,
    amount_check,
    build_reference,
    parse_reference,
    verify,
)

folios = st.integers(min_value=1, max_value=10**10 - 1)
amounts = st.integers(min_value=1, max_value=10**12)
dues = st.dates(min_value=FIRST_DUE, max_value=LAST_DUE)
prefixes = st.text(alphabet="0123456789", min_size=2, max_size=2)


def test_known_reference():
    ref = build_reference(123, 123450, dt.date(2026, 12, 31), "35")
    # 35 | 0000000123 | (2026-2024)*372 + 11*31 + 30 = 1115 | 123450 % 97 = 66 | check
    assert ref.startswith("35" "0000000123" "1115" "66")
    assert len(ref) == LENGTH
    assert int(ref) % 97 == 1
    assert parse_reference(ref) == ParsedReference(123, dt.date(2026, 12, 31), 66)
    assert parse_reference(" 3500-0000 0123 1115 " + ref[-4:]) == parse_reference(ref)
    assert verify(ref, 123450)
    assert not verify(ref, 123451)


@given(folio=folios, amount=amounts, due=dues, prefix=prefixes)
def test_every_built_reference_verifies_and_round_trips(folio, amount, due, prefix):
    ref = build_reference(folio, amount, due, prefix)
    assert len(ref) == LENGTH and ref.isdigit() and ref[:2] == prefix
    assert parse_reference(ref) == (folio, due, amount_check(amount))
    assert parse_reference(ref, prefix=prefix).folio == folio
    assert verify(ref, amount)


@given(
    folio=folios,
    amount=amounts,
    due=dues,
    position=st.integers(min_value=0, max_value=LENGTH - 1),
    replacement=st.characters(codec="utf-8"),
)
def test_any_single_character_change_is_detected(folio, amount, due, position, replacement):
    ref = build_reference(folio, amount, due)
    assume(replacement != ref[position] and replacement not in " -\t")
    typo = ref[:position] + replacement + ref[position + 1 :]
    with pytest.raises(ReferenceError):
        parse_reference(typo)
    assert not verify(typo, amount)


@given(folio=folios, amount=amounts, due=dues, position=st.integers(0, LENGTH - 2))
def test_any_adjacent_transposition_is_detected(folio, amount, due, position):
    ref = build_reference(folio, amount, due)
    assume(ref[position] != ref[position + 1])
    swapped = ref[:position] + ref[position + 1] + ref[position] + ref[position + 2 :]
    with pytest.raises(ReferenceError):
        parse_reference(swapped)


@given(folio=folios, amount=amounts, due=dues, position=st.integers(0, LENGTH - 1))
def test_dropped_or_doubled_digit_is_detected(folio, amount, due, position):
    ref = build_reference(folio, amount, due)
    for typo in (ref[:position] + ref[position + 1 :], ref[:position] + ref[position] + ref[position:]):
        with pytest.raises(ReferenceError) as error:
            parse_reference(typo)
        assert "números" in error.value.message


def _amount_slips(amount: int):
    """Every amount one keystroke away: one digit changed, two adjacent digits swapped."""
    digits = str(amount)
    for i, ch in enumerate(digits):
        for d in "0123456789":
            if d != ch:
                yield digits[:i] + d + digits[i + 1 :]
        if i + 1 < len(digits) and digits[i] != digits[i + 1]:
            yield digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]


@given(folio=folios, amount=amounts, due=dues, delta=st.integers(-96, 96))
def test_wrong_amount_is_detected(folio, amount, due, delta):
    ref = build_reference(folio, amount, due)
    # Off by less than 97 centavos.
    assume(delta != 0 and amount + delta > 0)
    assert not verify(ref, amount + delta)
    # One digit of the amount mistyped, or two adjacent digits swapped.
    for slip in _amount_slips(amount):
        if int(slip) != amount:
            assert not verify(ref, int(slip))


def test_amount_check_is_documented_as_mod_97():
    # Amounts 97 centavos apart share the check: the bank still reports the amount paid
    # and the ledger compares it, the check only catches slips.
    ref = build_reference(1, 10000, dt.date(2026, 1, 31))
    assert verify(ref, 10000 + 97)


@pytest.mark.parametrize(
    "ref,message",
    [
        ("", "Escriba"),
        ("3500000001231115666X", "solo lleva números"),
        ("350000000123111566", "tiene 20 números"),
        ("35000000012311156667", None),
    ],
)
def test_parse_messages_are_spanish(ref, message):
    if message is None:
        assert parse_reference(ref).folio == 123
        with pytest.raises(ReferenceError, match="municipio"):
            parse_reference(ref, prefix="05")
        return
    with pytest.raises(ReferenceError) as error:
        parse_reference(ref)
    assert message in error.value.message


def test_impossible_date_or_zero_folio_is_rejected_even_with_valid_check():
    from ventanilla.payments.reference import check_digits

    # Condensed day 30 of month 2 (Feb 31st) and folio 0, with correct check digits.
    for body in ("35" "0000000123" "0061" "00", "35" "0000000000" "0100" "00"):
        with pytest.raises(ReferenceError, match="no es válida"):
            parse_reference(body + check_digits(body))


def test_build_rejects_bad_input():
    due = dt.date(2026, 5, 1)
    for folio in (0, -1, 10**10, True, "5"):
        with pytest.raises(ValueError):
            build_reference(folio, 100, due)
    for amount in (0, -5):
        with pytest.raises(ValueError):
            build_reference(1, amount, due)
    for amount in (1.5, True):
        with pytest.raises(TypeError):
            build_reference(1, amount, due)
    for prefix in ("5", "ab", "123", "３５"):
        with pytest.raises(ValueError):
            build_reference(1, 100, due, prefix)
    for bad_due in (dt.date(2023, 12, 31), dt.date(2050, 11, 19), dt.datetime(2026, 1, 1)):
        with pytest.raises(ValueError):
            build_reference(1, 100, bad_due)
    # The edges fit.
    assert parse_reference(build_reference(1, 100, LAST_DUE)).due == LAST_DUE
    assert parse_reference(build_reference(1, 100, FIRST_DUE)).due == FIRST_DUE
