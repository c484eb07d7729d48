"""Business days ("días hábiles") by the Mexican calendar, for legal deadlines.

Closed days
    * Saturdays and Sundays.
    * The statutory rest days of the Ley Federal del Trabajo, art. 74 (text in force since
      the reform published in the DOF on 30 September 2024, which moved fraction VII from
      1 December to 1 October):
        I. 1 January; II. first Monday of February (5 February); III. third Monday of March
        (21 March); IV. 1 May; V. 16 September; VI. third Monday of November (20 November);
        VII. 1 October every six years, when the federal executive changes (2024, 2030, ...;
        before the 2014 constitutional reform of art. 83 it was 1 December: 2018, 2012, ...);
        VIII. 25 December; IX. the days electoral laws set for ordinary elections. Federal
        and Coahuila ordinary elections fall on the first Sunday of June (LGIPE art. 22),
        already a closed day; an election held on a weekday is declared by the city as a
        `NonWorkingDay`.
      The "Monday" rules (II, III, VI) are those of the 2005 reform, in force from 2006;
      this module computes them for every year, so it is exact from 2006 onwards.
    * Days the city declares non-working: `NonWorkingDay` rows, read with `closed_days()`
      and passed to every function as `extra_closed` (the functions never query the DB).

Counting convention
    Mexican administrative law counts terms in business days that start to run the day
    after the triggering act (Ley Federal de Procedimiento Administrativo, art. 28: only
    business days count, weekends and statutory holidays excluded; art. 38: "los plazos
    empezarán a correr a partir del día siguiente a aquél en que haya surtido efectos la
    notificación"). So `add_business_days(start, n)` returns the n-th business day strictly
    after `start`: day 1 is the first business day after `start`, whatever `start` is.
    A correction request ("prevención", LFPA art. 17-A) suspends the term, which resumes the
    business day after the resident answers: a pause `(from_, to)` removes every day
    `from_ <= d <= to` from the count.

All functions are pure: they take the dates they need (no hidden "today").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from functools import lru_cache

Date = dt.date
Pause = tuple[Date, Date | None]

# Years in which the federal executive changes hands. Since 2024: 1 October every six years.
_FIRST_OCTOBER_TRANSFER = 2024
_LAST_DECEMBER_TRANSFER = 2018


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> Date:
    """The n-th `weekday` (Monday=0) of the month."""
    first = Date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + dt.timedelta(days=offset + 7 * (n - 1))


@lru_cache(maxsize=256)
def statutory_holidays(year: int) -> frozenset[Date]:
    """The rest days of LFT art. 74 (fractions I to VIII) for `year`."""
    days = {
        Date(year, 1, 1),
        _nth_weekday(year, 2, 0, 1),
        _nth_weekday(year, 3, 0, 3),
        Date(year, 5, 1),
        Date(year, 9, 16),
        _nth_weekday(year, 11, 0, 3),
        Date(year, 12, 25),
    }
    if year >= _FIRST_OCTOBER_TRANSFER and (year - _FIRST_OCTOBER_TRANSFER) % 6 == 0:
        days.add(Date(year, 10, 1))
    elif year <= _LAST_DECEMBER_TRANSFER and (_LAST_DECEMBER_TRANSFER - year) % 6 == 0:
        days.add(Date(year, 12, 1))
    return frozenset(days)


def is_business_day(d: Date, *, extra_closed: frozenset[Date] | set[Date] = frozenset()) -> bool:
    """True when `d` is a working day for the city's legal deadlines."""
    if d.weekday() >= 5:
        return False
    if d in extra_closed:
        return False
    return d not in statutory_holidays(d.year)


def add_business_days(
    start: Date, n: int, *, extra_closed: frozenset[Date] | set[Date] = frozenset()
) -> Date:
    """The n-th business day after `start` (day 1 = the first business day after `start`).

    `n == 0` returns `start` unchanged. `n` must not be negative.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    day = start
    remaining = n
    one = dt.timedelta(days=1)
    while remaining:
        day += one
        if is_business_day(day, extra_closed=extra_closed):
            remaining -= 1
    return day


def business_days_between(
    a: Date, b: Date, *, extra_closed: frozenset[Date] | set[Date] = frozenset()
) -> int:
    """Business days d with a < d <= b (negative when b < a).

    Inverse of `add_business_days`: `business_days_between(s, add_business_days(s, n)) == n`.
    """
    if b < a:
        return -business_days_between(b, a, extra_closed=extra_closed)
    count = 0
    day = a
    one = dt.timedelta(days=1)
    while day < b:
        day += one
        if is_business_day(day, extra_closed=extra_closed):
            count += 1
    return count


def _paused_days(pauses: Iterable[Pause], until: Date) -> frozenset[Date]:
    days: set[Date] = set()
    one = dt.timedelta(days=1)
    for from_, to in pauses:
        end = until if to is None else to
        if end < from_:
            raise ValueError("a pause must end on or after its start")
        day = from_
        while day <= end:
            days.add(day)
            day += one
    return frozenset(days)


def deadline(
    start: Date,
    n: int,
    *,
    pauses: Sequence[Pause] = (),
    extra_closed: frozenset[Date] | set[Date] = frozenset(),
) -> Date | None:
    """When a term of `n` business days that started on `start` runs out.

    `pauses` are periods `(from_, to)` (both inclusive) during which the clock stops, e.g.
    a correction request issued on `from_` and answered on `to`; counting resumes the next
    business day after `to`. A pause still open (`to is None`) that begins on or before the
    deadline leaves the clock stopped: the result is then `None` (no deadline yet).
    """
    base = add_business_days(start, n, extra_closed=extra_closed)
    open_pauses = [p for p in pauses if p[1] is None]
    closed_pauses = [p for p in pauses if p[1] is not None]
    paused = _paused_days(closed_pauses, base)
    result = add_business_days(start, n, extra_closed=frozenset(extra_closed) | paused)
    for from_, _ in open_pauses:
        if from_ <= result:
            return None
    return result


def closed_days(year_from: int, year_to: int) -> frozenset[Date]:
    """The city's declared non-working days in [year_from, year_to], in one query.

    Pass the result as `extra_closed` to the functions above.
    """
    from .models import NonWorkingDay

    return frozenset(
        NonWorkingDay.objects.filter(
            date__gte=Date(year_from, 1, 1), date__lte=Date(year_to, 12, 31)
        ).values_list("date", flat=True)
    )
