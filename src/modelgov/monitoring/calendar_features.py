"""Calendar-like features, and when they drift by construction.

A feature that follows the calendar (the month, the season, the weekday) takes few of its values in a
short window: a month of records holds one month and one or two seasons. Compared with a reference
that holds all of them (a year of data, or a table whose rows carry no time), it drifts in every
window, whatever production does. That is not news a reviewer should have to work out; the report
carries a note for each such feature, with what to do.

A feature is calendar-like by its name or by its values, nothing cleverer:

* **Name**: lower-cased and stripped of everything but letters and digits, exactly one of
  :data:`NAMES` (``mnth``, ``day_of_week``, ``hr`` …); ``birth_month`` or ``pickup_hour`` are not.
* **Values**: a categorical feature whose reference values (two or more) are all names of months, of
  weekdays or of seasons, in English, full or abbreviated.

Each unit lasts some days (a month: 30.44) and repeats after a cycle (a year; a weekday: a week). A
window of W days holds about min(W, cycle) / length of its values (at least one); the reference,
spanning R days, about min(R, cycle) / length (R unknown: the whole cycle). The feature drifts by
construction when the reference holds at least twice as many values as a window. A seasonal reference
month (or quarter) makes R at most that period for units whose cycle is longer (a month's weekdays
are still all seven). A year never repeats: ``yr`` drifts whenever a window's year is one the
reference does not hold, or the reference holds several years, or its times are unknown.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from modelgov import manifest

from .reference import ReferenceProfile
from .seasonal import PERIOD_DAYS

YEAR_DAYS = 365.25
MONTH_DAYS = YEAR_DAYS / 12


@dataclass(frozen=True)
class Unit:
    label: str  # in a sentence: "month", "day of the week"
    days: float  # how long one value lasts
    cycle: float | None  # days after which the values repeat; None: never (a year)
    whole: str | None = None  # the window that holds a whole cycle, when it is short: "week"


UNITS: dict[str, Unit] = {
    "hour": Unit("hour of the day", 1 / 24, 1.0, "day"),
    "weekday": Unit("day of the week", 1.0, 7.0, "week"),
    "dayofmonth": Unit("day of the month", 1.0, MONTH_DAYS, "month"),
    "dayofyear": Unit("day of the year", 1.0, YEAR_DAYS),
    "week": Unit("week of the year", 7.0, YEAR_DAYS),
    "month": Unit("month", MONTH_DAYS, YEAR_DAYS),
    "quarter": Unit("quarter", YEAR_DAYS / 4, YEAR_DAYS),
    "season": Unit("season", YEAR_DAYS / 4, YEAR_DAYS),
    "year": Unit("year", YEAR_DAYS, None),
}

#: Feature names (lower case, letters and digits only) → their unit.
NAMES: dict[str, str] = {
    **dict.fromkeys(("hour", "hr", "hourofday"), "hour"),
    **dict.fromkeys(("weekday", "dayofweek", "dow", "wday"), "weekday"),
    **dict.fromkeys(("dayofmonth", "mday"), "dayofmonth"),
    **dict.fromkeys(("dayofyear", "doy", "yday"), "dayofyear"),
    **dict.fromkeys(("week", "weekofyear", "isoweek"), "week"),
    **dict.fromkeys(("month", "mnth", "monthofyear"), "month"),
    **dict.fromkeys(("quarter", "qtr"), "quarter"),
    "season": "season",
    **dict.fromkeys(("year", "yr"), "year"),
}

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")  # fmt: skip
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: Values (lower case) that make a categorical feature calendar-like, by unit.
VALUES: dict[str, frozenset[str]] = {
    "month": frozenset([*_MONTHS, *(m[:3] for m in _MONTHS), "sept"]),
    "weekday": frozenset([*_WEEKDAYS, *(d[:3] for d in _WEEKDAYS), "tues", "thur", "thurs"]),
    "season": frozenset(["spring", "summer", "autumn", "fall", "winter"]),
}

WINDOW_DAYS = {"day": 1.0, "week": 7.0, "month": MONTH_DAYS}


def calendar_unit(feature: str, profile: ReferenceProfile | None = None) -> tuple[str, str] | None:
    """(unit key, ``name`` or ``values``) when ``feature`` is calendar-like, else None."""
    key = NAMES.get(re.sub(r"[^a-z0-9]", "", feature.lower()))
    if key is not None:
        return key, "name"
    if profile is not None and profile.kind == "categorical" and len(profile.categories) >= 2:
        values = {str(v).strip().lower() for v in profile.categories}
        for unit, names in VALUES.items():
            if values <= names:
                return unit, "values"
    return None


@dataclass(frozen=True)
class Coverage:
    """How much of the calendar the reference and the windows span."""

    window_days: float  # a typical window's length
    window_noun: str  # "month", "week", "day" or "window"
    window_years: frozenset[int]  # calendar years the windows with records touch
    reference_days: float | None  # None: the reference's rows carry no time
    reference_years: frozenset[int] | None
    seasonal: str | None = None  # "month" or "quarter"


def _held(span: float, unit: Unit) -> float:
    """About how many of a cyclic unit's values a stretch of ``span`` days holds."""
    assert unit.cycle is not None
    return max(1.0, min(span, unit.cycle) / unit.days)


def _compared_span(unit: Unit, coverage: Coverage, seasonal: str | None) -> float:
    span = math.inf if coverage.reference_days is None else coverage.reference_days
    if seasonal is not None and unit.cycle is not None and unit.cycle > PERIOD_DAYS[seasonal]:
        span = min(span, PERIOD_DAYS[seasonal])
    return span


def _by_construction(unit: Unit, coverage: Coverage, seasonal: str | None) -> bool:
    if coverage.window_days >= YEAR_DAYS:
        return False
    if unit.cycle is None:
        years = coverage.reference_years
        return years is None or len(years) > 1 or not coverage.window_years <= years
    return _held(_compared_span(unit, coverage, seasonal), unit) >= 2 * _held(coverage.window_days, unit)


def _few(count: float, exact_max: float | None = None) -> str:
    if count < 1.5:
        return "one"
    if exact_max is not None and round(count) >= round(exact_max):
        return f"all {round(exact_max)}"
    return f"about {round(count)}"


def calendar_notes(features: Sequence[tuple[str, ReferenceProfile]], coverage: Coverage) -> list[manifest.CalendarNote]:
    """A note for each calendar-like feature that drifts by construction (module docstring)."""
    notes = []
    for feature, profile in features:
        found = calendar_unit(feature, profile)
        if found is None:
            continue
        key, matched_by = found
        unit = UNITS[key]
        if not _by_construction(unit, coverage, coverage.seasonal):
            continue
        notes.append(
            manifest.CalendarNote(
                feature=feature, unit=unit.label, matched_by=matched_by, note=_note(feature, unit, matched_by, coverage)
            )
        )
    return notes


def _note(feature: str, unit: Unit, matched_by: str, coverage: Coverage) -> str:
    noun = coverage.window_noun
    looks = f"{feature!r} looks like the {unit.label} (by its {matched_by})"
    if unit.cycle is None:
        if coverage.reference_years is None:
            held = ", whose rows carry no time, may hold any year"
        else:
            held = f" holds {', '.join(map(str, sorted(coverage.reference_years)))}"
        return (
            f"{looks}: a {noun} holds one year and the reference{held}, so it drifts by construction unless the "
            f"reference holds that {noun}'s year alone. Leave {feature!r} out of monitoring.features; a seasonal "
            "reference does not help, since it keeps the reference's years."
        )
    span = _compared_span(unit, coverage, coverage.seasonal)
    per_cycle = unit.cycle / unit.days
    if coverage.reference_days is None and coverage.seasonal is None:
        reference = f"whose rows carry no time, may hold {_few(_held(span, unit), per_cycle)}"
    elif coverage.seasonal is not None and span < (coverage.reference_days or math.inf):
        reference = f"taken {coverage.seasonal} by {coverage.seasonal}, holds {_few(_held(span, unit), per_cycle)}"
    else:
        reference = f"spanning {coverage.reference_days:,.0f} days, holds {_few(_held(span, unit), per_cycle)}"
    remedies = []
    if coverage.seasonal != "month" and not _by_construction(unit, coverage, "month"):
        remedies.append("compare each window with the same month of the reference (reference: {…, seasonal: month})")
    if unit.whole is not None:
        remedies.append(f"use windows of a {unit.whole} or longer")
    remedies.append(f"leave {feature!r} out of monitoring.features")
    todo = ", ".join(remedies[:-1]) + (" or " if len(remedies) > 1 else "") + remedies[-1]
    return (
        f"{looks}: a {noun} holds {_few(_held(coverage.window_days, unit), per_cycle)} of its values and the "
        f"reference, {reference}, so it drifts by construction, whatever production does. "
        f"{todo[0].upper()}{todo[1:]}."
    )
