"""The co-op's clock: dates in its zone (Europe/Dublin for the demo co-op), instants in UTC.

Time is frozen at the awkward instants: just after midnight in Irish summer time (still
yesterday in UTC), the two daylight-saving changes, and the last second of a day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from portal import coop
from portal.coop import Clock

DUBLIN = Clock.named("Europe/Dublin")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_half_past_midnight_in_irish_summer_time_is_already_the_next_day():
    # 00:30 IST on 2 July is 23:30 UTC on 1 July.
    with time_machine.travel(utc(2026, 7, 1, 23, 30), tick=False):
        assert DUBLIN.today() == date(2026, 7, 2)
        assert DUBLIN.now().date() == date(2026, 7, 1)  # the UTC date is not the co-op's


def test_the_last_second_of_a_day_is_still_that_day():
    with time_machine.travel(utc(2026, 12, 31, 23, 59, 59), tick=False):  # GMT in winter
        assert DUBLIN.today() == date(2026, 12, 31)
    with time_machine.travel(utc(2027, 1, 1, 0, 0, 0), tick=False):
        assert DUBLIN.today() == date(2027, 1, 1)


def test_a_day_is_the_span_between_its_two_local_midnights():
    assert DUBLIN.start_of_day(date(2026, 7, 2)) == utc(2026, 7, 1, 23)
    assert DUBLIN.end_of_day(date(2026, 7, 2)) == utc(2026, 7, 2, 23)
    assert DUBLIN.start_of_day(date(2026, 12, 31)) == utc(2026, 12, 31)


def test_the_spring_change_makes_a_day_of_23_hours():
    # Clocks go forward at 01:00 UTC on the last Sunday of March (29 March 2026).
    day = date(2026, 3, 29)
    assert DUBLIN.start_of_day(day) == utc(2026, 3, 29, 0)
    assert DUBLIN.end_of_day(day) == utc(2026, 3, 29, 23)
    assert DUBLIN.end_of_day(day) - DUBLIN.start_of_day(day) == timedelta(hours=23)
    with time_machine.travel(utc(2026, 3, 29, 0, 59, 59), tick=False):
        assert DUBLIN.local(DUBLIN.now()).hour == 0
    with time_machine.travel(utc(2026, 3, 29, 1, 0, 0), tick=False):
        assert DUBLIN.local(DUBLIN.now()).hour == 2  # 01:00 to 02:00 never happens


def test_the_autumn_change_makes_a_day_of_25_hours():
    # Clocks go back at 01:00 UTC on the last Sunday of October (25 October 2026).
    day = date(2026, 10, 25)
    assert DUBLIN.start_of_day(day) == utc(2026, 10, 24, 23)
    assert DUBLIN.end_of_day(day) == utc(2026, 10, 26, 0)
    assert DUBLIN.end_of_day(day) - DUBLIN.start_of_day(day) == timedelta(hours=25)
    # 01:30 local happens twice; both instants are the 25th.
    assert DUBLIN.day_of(utc(2026, 10, 25, 0, 30)) == day
    assert DUBLIN.day_of(utc(2026, 10, 25, 1, 30)) == day


def test_clear_days_count_neither_the_day_of_sending_nor_the_day_of_the_meeting():
    # Sent on 1 November, meeting on 16 November: 2 to 15 November are the 14 clear days.
    assert DUBLIN.clear_days_between(utc(2026, 11, 1, 9), utc(2026, 11, 16, 19)) == 14
    assert DUBLIN.clear_days_between(utc(2026, 11, 1, 23, 59), utc(2026, 11, 16, 0, 1)) == 14
    assert DUBLIN.clear_days_between(utc(2026, 11, 2, 0, 0), utc(2026, 11, 16, 19)) == 13
    assert DUBLIN.clear_days_between(utc(2026, 11, 16, 9), utc(2026, 11, 16, 19)) == 0
    assert DUBLIN.clear_days_between(utc(2026, 11, 15, 9), utc(2026, 11, 16, 19)) == 0


def test_clear_days_are_counted_in_the_co_ops_dates_not_utcs():
    # Sent at 23:30 UTC on 1 June, which is 00:30 on 2 June in Dublin: one day less.
    sent, meeting = utc(2026, 6, 1, 23, 30), utc(2026, 6, 17, 17)
    assert DUBLIN.clear_days_between(sent, meeting) == 14
    assert Clock.named("UTC").clear_days_between(sent, meeting) == 15


@given(
    meeting=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
    ),
    clear_days=st.integers(min_value=1, max_value=60),
    early=st.integers(min_value=0, max_value=30),
)
def test_a_notice_sent_by_the_last_day_to_send_gives_the_clear_days(meeting, clear_days, early):
    last = DUBLIN.last_day_to_send(meeting, clear_days)
    sent_on_time = DUBLIN.start_of_day(last - timedelta(days=early)) + timedelta(hours=12)
    sent_late = DUBLIN.start_of_day(last + timedelta(days=1)) + timedelta(hours=12)
    assert DUBLIN.clear_days_between(sent_on_time, meeting) >= clear_days
    assert DUBLIN.clear_days_between(sent_late, meeting) < clear_days


def test_the_co_ops_clock_reads_its_time_zone_from_the_settings(app, db):
    """``coop.clock`` follows ``CoopSettings.timezone``, read once per session."""
    coop.stored_settings(db).timezone = "Pacific/Auckland"
    db.flush()
    with time_machine.travel(utc(2026, 7, 1, 13, 0), tick=False):  # 01:00 on 2 July there
        assert coop.today(db) == date(2026, 7, 2)
        assert coop.clock(db).zone.key == "Pacific/Auckland"


def test_settings_before_any_are_stored_come_from_the_configuration(app, db):
    settings = coop.settings(db)
    assert settings.timezone == app.config["COOP_TIMEZONE"]
    assert settings.legal_name == app.config["COOP_LEGAL_NAME"]
    assert settings.currency == "EUR"  # the column's default
    assert coop.settings(db) is settings  # read once per session


@pytest.mark.parametrize("zone", ["Europe/Dublin", "America/Sao_Paulo", "Asia/Kolkata"])
def test_every_instant_belongs_to_the_day_whose_span_holds_it(zone):
    clock = Clock.named(zone)
    instant = utc(2026, 3, 29, 0, 30)
    day = clock.day_of(instant)
    assert clock.start_of_day(day) <= instant < clock.end_of_day(day)
