import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ventanilla.procedures.calendar import (
    add_business_days,
    business_days_between,
    closed_days,
    deadline,
    is_business_day,
    statutory_holidays,
)
from ventanilla.procedures.models import NonWorkingDay

D = dt.date
dates = st.dates(min_value=D(2006, 1, 1), max_value=D(2040, 12, 31))
city_closed = st.frozensets(
    st.dates(min_value=D(2006, 1, 1), max_value=D(2041, 12, 31)), max_size=30
)
counts = st.integers(min_value=0, max_value=120)


@pytest.mark.parametrize(
    "year,expected",
    [
        (
            2025,
            {D(2025, 1, 1), D(2025, 2, 3), D(2025, 3, 17), D(2025, 5, 1), D(2025, 9, 16),
             D(2025, 11, 17), D(2025, 12, 25)},
        ),
        (
            2026,
            {D(2026, 1, 1), D(2026, 2, 2), D(2026, 3, 16), D(2026, 5, 1), D(2026, 9, 16),
             D(2026, 11, 16), D(2026, 12, 25)},
        ),
        (
            2030,
            {D(2030, 1, 1), D(2030, 2, 4), D(2030, 3, 18), D(2030, 5, 1), D(2030, 9, 16),
             D(2030, 10, 1), D(2030, 11, 18), D(2030, 12, 25)},
        ),
        (
            2024,
            {D(2024, 1, 1), D(2024, 2, 5), D(2024, 3, 18), D(2024, 5, 1), D(2024, 9, 16),
             D(2024, 10, 1), D(2024, 11, 18), D(2024, 12, 25)},
        ),
        (
            2018,
            {D(2018, 1, 1), D(2018, 2, 5), D(2018, 3, 19), D(2018, 5, 1), D(2018, 9, 16),
             D(2018, 11, 19), D(2018, 12, 1), D(2018, 12, 25)},
        ),
    ],
)
def test_statutory_holidays_of_known_years(year, expected):
    assert statutory_holidays(year) == frozenset(expected)


def test_transfer_of_power_only_every_six_years():
    assert D(2027, 10, 1) not in statutory_holidays(2027)
    assert D(2036, 10, 1) in statutory_holidays(2036)
    assert D(2024, 12, 1) not in statutory_holidays(2024)


def test_weekends_holidays_and_city_days_are_closed():
    assert is_business_day(D(2026, 2, 3))  # Tuesday
    assert not is_business_day(D(2026, 2, 2))  # Constitution Day (first Monday)
    assert not is_business_day(D(2026, 2, 7))  # Saturday
    assert not is_business_day(D(2026, 2, 8))  # Sunday
    assert not is_business_day(D(2026, 2, 3), extra_closed=frozenset({D(2026, 2, 3)}))


def test_count_starts_the_next_business_day():
    # Filed Friday 13 March 2026; Monday 16 is Benito Juárez's day: day 1 is Tuesday 17.
    assert add_business_days(D(2026, 3, 13), 1) == D(2026, 3, 17)
    assert add_business_days(D(2026, 3, 13), 5) == D(2026, 3, 23)
    # Filed on a Sunday: day 1 is Monday.
    assert add_business_days(D(2026, 3, 1), 1) == D(2026, 3, 2)
    assert add_business_days(D(2026, 3, 13), 0) == D(2026, 3, 13)
    with pytest.raises(ValueError):
        add_business_days(D(2026, 3, 13), -1)


def test_between_counts_after_start_up_to_end():
    assert business_days_between(D(2026, 3, 13), D(2026, 3, 23)) == 5
    assert business_days_between(D(2026, 3, 23), D(2026, 3, 13)) == -5
    assert business_days_between(D(2026, 3, 13), D(2026, 3, 13)) == 0


def test_correction_request_pauses_the_clock():
    start = D(2026, 6, 1)  # Monday
    assert deadline(start, 10) == D(2026, 6, 15)
    # Correction requested Wednesday 3 June, answered Tuesday 9 June: the days 3..9 do not
    # count (day 1 was Tuesday 2), counting resumes Wednesday 10: day 10 is Monday 22.
    assert deadline(start, 10, pauses=[(D(2026, 6, 3), D(2026, 6, 9))]) == D(2026, 6, 22)
    # Still unanswered: no deadline while the clock is stopped.
    assert deadline(start, 10, pauses=[(D(2026, 6, 3), None)]) is None
    # An open pause that begins after the term ran out changes nothing.
    assert deadline(start, 10, pauses=[(D(2026, 6, 20), None)]) == D(2026, 6, 15)
    with pytest.raises(ValueError):
        deadline(start, 10, pauses=[(D(2026, 6, 9), D(2026, 6, 3))])


@settings(max_examples=200, deadline=None)
@given(start=dates, n=counts, closed=city_closed)
def test_add_then_count_round_trips(start, n, closed):
    end = add_business_days(start, n, extra_closed=closed)
    assert business_days_between(start, end, extra_closed=closed) == n


@settings(max_examples=200, deadline=None)
@given(start=dates, n=st.integers(min_value=1, max_value=120), closed=city_closed)
def test_never_lands_on_a_closed_day(start, n, closed):
    end = add_business_days(start, n, extra_closed=closed)
    assert end > start
    assert is_business_day(end, extra_closed=closed)
    assert end.weekday() < 5
    assert end not in closed
    assert end not in statutory_holidays(end.year)


@settings(max_examples=200, deadline=None)
@given(start=dates, n=counts, closed=city_closed)
def test_monotone_in_n(start, n, closed):
    assert add_business_days(start, n, extra_closed=closed) < add_business_days(
        start, n + 1, extra_closed=closed
    )


@settings(max_examples=200, deadline=None)
@given(start=dates, n=counts, closed=city_closed)
def test_more_closed_days_never_bring_the_deadline_earlier(start, n, closed):
    assert add_business_days(start, n) <= add_business_days(start, n, extra_closed=closed)


pause = st.tuples(dates, st.integers(min_value=0, max_value=40)).map(
    lambda p: (p[0], p[0] + dt.timedelta(days=p[1]))
)


@settings(max_examples=200, deadline=None)
@given(start=dates, n=counts, pauses=st.lists(pause, max_size=4), closed=city_closed)
def test_pauses_only_push_the_deadline_later(start, n, pauses, closed):
    plain = deadline(start, n, extra_closed=closed)
    paused = deadline(start, n, pauses=pauses, extra_closed=closed)
    assert paused >= plain
    # Each pause adds at most as many business days as it covers.
    covered = sum(
        business_days_between(f - dt.timedelta(days=1), t, extra_closed=closed) for f, t in pauses
    )
    assert business_days_between(start, paused, extra_closed=closed) <= n + covered
    # Dropping a pause never makes it later.
    if pauses:
        assert deadline(start, n, pauses=pauses[1:], extra_closed=closed) <= paused


@pytest.mark.django_db
def test_closed_days_reads_the_city_declarations_in_one_query(
    django_assert_num_queries, make_official
):
    clerk = make_official()
    NonWorkingDay.objects.create(date=D(2025, 12, 24), reason="Acuerdo de Cabildo", declared_by=clerk)
    NonWorkingDay.objects.create(date=D(2026, 4, 2), reason="Jueves Santo")
    NonWorkingDay.objects.create(date=D(2028, 4, 13), reason="Jueves Santo")
    with django_assert_num_queries(1):
        days = closed_days(2025, 2026)
    assert days == frozenset({D(2025, 12, 24), D(2026, 4, 2)})
    # Holy Thursday 2026 was Thursday 2 April: a term crossing it skips it.
    assert add_business_days(D(2026, 4, 1), 1, extra_closed=days) == D(2026, 4, 3)
    assert add_business_days(D(2026, 4, 1), 1) == D(2026, 4, 2)


@pytest.mark.django_db
def test_admin_records_who_declared_the_day(client, make_official, login_official):
    from django.urls import reverse

    admin_user = make_official()
    admin_user.is_staff = True
    admin_user.is_superuser = True
    admin_user.save()
    login_official(admin_user)
    url = reverse("admin:procedures_nonworkingday_add")
    response = client.post(url, {"date": "2026-04-02", "reason": "Jueves Santo"})
    assert response.status_code == 302, response.content[:2000]
    day = NonWorkingDay.objects.get(date=D(2026, 4, 2))
    assert day.declared_by == admin_user
    duplicate = client.post(url, {"date": "2026-04-02", "reason": "Otra vez"})
    assert duplicate.status_code == 200
    assert NonWorkingDay.objects.count() == 1
