"""`acceptable_code` gives the code an authenticator would show that django-otp accepts now: once per
time step, within the device's tolerance around its drifted clock. The browser journeys and the demo
command sign officials in through it, several times a minute."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ventanilla.identity.totp import acceptable_code, current_step

STEP = 30
START = 1_800_000_000  # a step boundary: 1_800_000_000 = 60_000_000 × 30


@pytest.fixture
def device(db, make_official):
    return TOTPDevice.objects.get(user=make_official("reviewer"), confirmed=True)


def verify_at(device: TOTPDevice, moment: float, code: str, monkeypatch) -> bool:
    monkeypatch.setattr("django_otp.plugins.otp_totp.models.time", SimpleNamespace(time=lambda: moment))
    device.throttling_failure_count = 0  # a wrong code would delay the next attempt; judge each alone
    return device.verify_token(code)


def test_a_code_is_good_once_and_the_next_sign_in_takes_the_next_step(device, monkeypatch):
    first = acceptable_code(device, now=START + 1)
    assert verify_at(device, START + 2, first, monkeypatch)
    assert not verify_at(device, START + 3, first, monkeypatch)
    with pytest.raises(ValueError):  # what the app shows now has been used: wait for the next code
        acceptable_code(device, now=START + 4)
    second = acceptable_code(device, now=START + STEP + 1)
    assert second != first
    assert verify_at(device, START + STEP + 2, second, monkeypatch)


def test_after_a_code_accepted_one_step_late_the_next_one_is_still_accepted(device, monkeypatch):
    """The CI failure this guards against: a code read at the end of a step and checked in the next
    re-centres the device (drift −1); counting that drift into the next code gave a refused one."""
    code = acceptable_code(device, now=START + STEP - 0.5)
    assert verify_at(device, START + STEP + 0.5, code, monkeypatch)
    device.refresh_from_db()
    assert device.drift == -1
    again = acceptable_code(device, now=START + 2 * STEP + 2)
    assert verify_at(device, START + 2 * STEP + 3, again, monkeypatch)
    device.refresh_from_db()
    assert device.drift == 0  # re-centred on the real clock, as a phone keeps it


def test_without_a_fixed_time_it_waits_for_the_next_step(device, monkeypatch):
    import ventanilla.identity.totp as totp

    clock = {"now": START + STEP - 1.0}
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock["now"] += seconds

    monkeypatch.setattr(totp, "time", SimpleNamespace(time=lambda: clock["now"], sleep=sleep))
    assert verify_at(device, clock["now"], acceptable_code(device), monkeypatch)
    code = acceptable_code(device)
    assert slept and 1.0 <= slept[0] < 1.2
    assert verify_at(device, clock["now"], code, monkeypatch)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(gaps=st.lists(st.floats(min_value=0, max_value=95), min_size=1, max_size=8),
       delays=st.lists(st.floats(min_value=0, max_value=STEP - 0.01), min_size=8, max_size=8))
def test_any_sequence_of_sign_ins_is_accepted_whenever_a_code_is_given(device, gaps, delays):
    """Sign-ins at any pace, each checked up to one step after its code was read: every code handed
    out is accepted and the device's drift never leaves the tolerance a phone needs."""
    import unittest.mock

    device.last_t, device.drift = -1, 0  # hypothesis reuses the fixture's device across examples
    moment = float(START)
    for gap, delay in zip(gaps, delays):
        moment += gap
        try:
            code = acceptable_code(device, now=moment)
        except ValueError:
            assert current_step(device, moment) <= device.last_t
            continue
        checked = moment + delay
        with unittest.mock.patch("django_otp.plugins.otp_totp.models.time", SimpleNamespace(time=lambda: checked)):
            device.throttling_failure_count = 0
            assert device.verify_token(code)
        assert abs(device.drift) <= device.tolerance
        moment = checked
