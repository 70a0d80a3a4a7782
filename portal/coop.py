"""The co-op's clock and settings: the one door to each, below the services.

Every date rule (a member's admission date, the register "as of" a day, a meeting's
clear days of notice) is a date in the co-op's time zone, ``CoopSettings.timezone``,
while every instant is stored in UTC. :class:`Clock` turns one into the other; the
settings row is read once per database session, and a request has one session.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from .db import get_db
from .models import CoopSettings, utcnow

_SETTINGS = "portal.coop_settings"
SETTINGS_ID = 1  # the one row

# Settings taken from the deployment's COOP_* configuration until an admin stores them.
_FROM_CONFIG = {
    "name": "COOP_NAME",
    "legal_name": "COOP_LEGAL_NAME",
    "registration": "COOP_REGISTRATION",
    "address": "COOP_ADDRESS",
    "tagline": "COOP_TAGLINE",
    "purpose": "COOP_PURPOSE",
    "contact_email": "COOP_CONTACT_EMAIL",
    "timezone": "COOP_TIMEZONE",
    "rulebook_version": "COOP_RULEBOOK_VERSION",
}


def settings_from_config(config: Mapping[str, Any]) -> CoopSettings:
    """Settings built from the configuration and the columns' defaults (not stored)."""
    values: dict[str, Any] = {"id": SETTINGS_ID}
    for column in CoopSettings.__table__.columns:
        if column.name in _FROM_CONFIG:
            values[column.name] = config[_FROM_CONFIG[column.name]]
        elif column.default is not None and column.default.is_scalar:
            values[column.name] = column.default.arg  # type: ignore[attr-defined]
    return CoopSettings(**values)


def settings(db: Session | None = None) -> CoopSettings:
    """The co-op's settings: the stored row, or the configuration's before any is stored.

    Read once per session and kept in it, so a request reads the row once, and a
    transaction that changes the settings sees its own change.
    """
    db = db if db is not None else get_db()
    cached = db.info.get(_SETTINGS)
    if cached is None:
        cached = db.get(CoopSettings, SETTINGS_ID) or settings_from_config(current_app.config)
        db.info[_SETTINGS] = cached
    return cached


def keep_settings(db: Session, row: CoopSettings) -> None:
    """Keep the settings row a query read along with something else (the sign-in's session
    record) as this session's, unless the session has its own already."""
    db.info.setdefault(_SETTINGS, row)


def stored_settings(db: Session) -> CoopSettings:
    """The settings row, stored from the configuration first if there is none yet."""
    stored = db.get(CoopSettings, SETTINGS_ID)
    if stored is None:
        stored = settings_from_config(current_app.config)
        db.add(stored)
        db.flush()
    db.info[_SETTINGS] = stored
    return stored


@event.listens_for(Session, "after_soft_rollback")
def _forget_settings(session: Session, _previous: object) -> None:
    """A rolled-back transaction may have stored or changed the settings: read them again."""
    session.info.pop(_SETTINGS, None)


@dataclass(frozen=True)
class Clock:
    """Dates in the co-op's time zone, instants in UTC."""

    zone: ZoneInfo

    @classmethod
    def named(cls, zone: str) -> Clock:
        """The clock of a time zone given by name (``Europe/Dublin``)."""
        return cls(ZoneInfo(zone))

    def now(self) -> datetime:
        """The current instant, in UTC."""
        return utcnow()

    def today(self) -> date:
        """Today's date in the co-op's zone."""
        return self.day_of(self.now())

    def local(self, instant: datetime) -> datetime:
        """A UTC instant as the co-op's wall-clock time."""
        return instant.astimezone(self.zone)

    def day_of(self, instant: datetime) -> date:
        """The co-op's date at ``instant``."""
        return self.local(instant).date()

    def start_of_day(self, day: date) -> datetime:
        """The first instant of ``day`` in the co-op's zone, in UTC."""
        return datetime.combine(day, time(), self.zone).astimezone(UTC)

    def end_of_day(self, day: date) -> datetime:
        """The first instant after ``day`` in the co-op's zone, in UTC: ``day`` is before it."""
        return self.start_of_day(day + timedelta(days=1))

    def last_day_before(self, end: datetime) -> date:
        """The last day wholly before ``end``, the first instant of a day (the inverse of
        :meth:`end_of_day`): a window "until 20 May, 00:00" runs through 19 May."""
        return self.day_of(end - timedelta(microseconds=1))

    def clear_days_between(self, sent: datetime, meeting: datetime) -> int:
        """The clear days of notice between sending a notice and the meeting.

        Neither the day of sending nor the day of the meeting counts (the co-op's rules,
        as the model rules under the Irish and UK societies acts): a notice sent on the
        1st for a meeting on the 16th gives 14 clear days. Days are the co-op's dates.
        """
        return max(0, (self.day_of(meeting) - self.day_of(sent)).days - 1)

    def last_day_to_send(self, meeting: datetime, clear_days: int) -> date:
        """The last date a notice may go out and still give ``clear_days`` before ``meeting``."""
        return self.day_of(meeting) - timedelta(days=clear_days + 1)


def clock(db: Session | None = None) -> Clock:
    """The co-op's clock, in the zone of its settings (``CoopSettings.timezone``)."""
    return Clock.named(settings(db).timezone)


def today(db: Session | None = None) -> date:
    """Today's date in the co-op's time zone."""
    return clock(db).today()


def local(instant: datetime, db: Session | None = None) -> datetime:
    """A UTC instant as the co-op's wall-clock time."""
    return clock(db).local(instant)
