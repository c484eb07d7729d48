"""The code an authenticator app would show for a TOTP device, for the demo command and the tests.

django-otp accepts each time step's code at most once, and only within `tolerance` steps of the
device's clock, which it re-centres on every accepted code (`drift`). An app on a phone shows the
code of the current step; a second sign-in within the same 30 seconds has to wait for the next one.
Handing out a code of a step still to come instead would be accepted, but would push the device's
drift forward on every quick sign-in until the real app's codes fall outside the window.
"""

from __future__ import annotations

import time

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


def current_step(device: TOTPDevice, moment: float) -> int:
    return (int(moment) - device.t0) // device.step


def acceptable_code(device: TOTPDevice, *, now: float | None = None) -> str:
    """The code of the current time step, as an authenticator shows it, which `device.verify_token`
    accepts now and still accepts if the check falls in the next step. When this step's code has
    been used already, waits for the next step; with a fixed `now`, raises ValueError instead."""
    while True:
        moment = time.time() if now is None else now
        counter = current_step(device, moment)
        if counter > device.last_t:
            totp = TOTP(device.bin_key, device.step, device.t0, device.digits, drift=0)
            totp.time = device.t0 + counter * device.step
            return f"{totp.token():0{device.digits}d}"
        if now is not None:
            raise ValueError("This time step's code has been used already; the next one comes with the next step.")
        time.sleep(device.t0 + (counter + 1) * device.step - moment + 0.05)
