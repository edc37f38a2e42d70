"""The day of grace: the last day a record may be dated and still count on a check date.

The loader accepts a record dated the day after the one it runs on (east of UTC, the local date is
already the next UTC day for part of every day), so whatever is judged on a check date counts what
is dated by the next day, and not after. One function, so that sign-offs, conditions, flags,
promotions and risk assessments are cut off on the same day, and the last day of the calendar
(``--as-of 9999-12-31``) does not overflow."""

from __future__ import annotations

import datetime as dt


def grace_day(today: dt.date) -> dt.date:
    """The day after ``today``, or ``today`` itself on the calendar's last day."""
    return today + dt.timedelta(days=1) if today < dt.date.max else today


def counts_on(day: str, today: dt.date) -> bool:
    """Whether a record dated ``day`` (an ISO date, or a time whose first ten characters are one)
    exists by the check date ``today``, its day of grace included."""
    return day[:10] <= grace_day(today).isoformat()
