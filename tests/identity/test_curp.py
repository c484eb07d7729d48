"""CURP validation: generated valid CURPs pass; any single-character change fails."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ventanilla.identity import curp
from ventanilla.identity.services import ServiceError, clean_curp

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
VOWELS = "AEIOUX"
CONSONANTS = "BCDFGHJKLMNPQRSTVWXZ"


@st.composite
def valid_curps(draw):
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)))
    sex = draw(st.sampled_from("HMX"))
    state = draw(st.sampled_from(sorted(curp.STATES)))
    head = draw(st.sampled_from(LETTERS)) + draw(st.sampled_from(VOWELS)) + "".join(
        draw(st.sampled_from(LETTERS)) for _ in range(2))
    inner = "".join(draw(st.sampled_from(CONSONANTS)) for _ in range(3))
    diff = draw(st.sampled_from("0123456789")) if born.year < 2000 else draw(st.sampled_from(LETTERS))
    first17 = f"{head}{born:%y%m%d}{sex}{state}{inner}{diff}"
    return curp.with_check_digit(first17), born, sex, state


@settings(max_examples=200, deadline=None)
@given(valid_curps())
def test_generated_valid_curps_parse(sample):
    value, born, sex, state = sample
    parsed = curp.parse(value)
    assert parsed.birth_date == born and parsed.sex == sex and parsed.state == state
    assert curp.parse(value.lower()).value == value  # case and spaces do not matter
    assert curp.is_valid(f"  {value[:9]} {value[9:]} ")


@settings(max_examples=300, deadline=None)
@given(valid_curps(), st.integers(min_value=0, max_value=17), st.sampled_from("0123456789" + LETTERS + "Ñ"))
def test_any_single_character_change_fails(sample, position, replacement):
    """Every single-character change is rejected, except the ones RENAPO's check digit cannot
    see by construction (its weighted sum is taken mod 10: e.g. weight 10 on the tens of the day,
    so day 01 → 11 passes). Such a change yields another well-formed CURP; the test proves that
    this is the only way a change gets through."""
    value = sample[0]
    if value[position] == replacement:
        replacement = "Z" if replacement != "Z" else "Y"
    changed = value[:position] + replacement + value[position + 1:]
    assert changed != value
    try:
        curp.parse(changed)
    except curp.CurpError:
        return
    alphabet = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ"
    delta = alphabet.index(replacement) - alphabet.index(value[position])
    assert position < 17 and (delta * (18 - position)) % 10 == 0, changed


def test_every_change_of_the_check_digit_fails():
    value = curp.with_check_digit("GOMA900101MCLBCD0")
    for digit in "0123456789":
        if digit != value[-1]:
            assert not curp.is_valid(value[:-1] + digit)


@pytest.mark.parametrize("sex", ["H", "M", "X"])
def test_sex_letters_h_m_x_are_accepted(sex):
    value = curp.with_check_digit(f"GOMA900101{sex}CLBCD0")
    assert curp.parse(value).sex == sex


def test_other_sex_letters_are_rejected():
    with pytest.raises(curp.CurpError, match="formato"):
        curp.parse(curp.with_check_digit("GOMA900101FCLBCD0"))


@pytest.mark.parametrize("first17", [
    "GOMA900230MCLBCD0",  # 30 February
    "GOMA901301MCLBCD0",  # month 13
    "GOMA900000MCLBCD0",  # day 0
    "GOMA010229MCLBCDA",  # 29 February 2001
])
def test_impossible_dates(first17):
    with pytest.raises(curp.CurpError, match="fecha de nacimiento"):
        curp.parse(curp.with_check_digit(first17))


def test_leap_day_is_fine():
    assert curp.parse(curp.with_check_digit("GOMA000229MCLBCDA")).birth_date == date(2000, 2, 29)


@pytest.mark.parametrize("raw, message", [
    ("GOMA900101", "18 caracteres"),
    ("GOMA900101MCLBCD0" + "12", "18 caracteres"),
    ("1OMA900101MCLBCD05", "formato"),
    ("GOMA900101MZZBCD05", "estado"),
])
def test_spanish_messages(raw, message):
    with pytest.raises(curp.CurpError, match=message):
        curp.parse(raw)


def test_check_digit_message():
    good = curp.with_check_digit("GOMA900101MCLBCD0")
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    with pytest.raises(curp.CurpError, match="dígito verificador"):
        curp.parse(bad)


@given(st.text(max_size=60))
@settings(max_examples=200, deadline=None)
def test_clean_curp_never_crashes(text):
    try:
        clean_curp(text)
    except ServiceError as exc:
        assert exc.message
