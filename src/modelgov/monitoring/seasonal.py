"""Seasonal references: each window compared with the reference rows of the same calendar period.

A month of production compared with a whole year of reference data differs, by construction, in
everything that follows the calendar: the season, the temperature, the demand of a bike-sharing
scheme. With ``seasonal: month`` each window is compared with the reference rows of its calendar
month, in whichever years the reference holds; with ``quarter``, of its quarter. A window belongs to
the period holding its midpoint: a day or a month to its own, a week to the month (quarter) holding
its Thursday, which is how ISO 8601 gives a week its year.

Each period is a reference of its own: it is profiled and planned alone (Evidently's rule then
counts that period's rows, so a month of daily data gets the tests of a small reference), while the
kind of each feature is the whole reference's, so every period compares the same way.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Literal

import numpy as np
import pandas as pd

from .logsource import _HAS_OFFSET as HAS_OFFSET

Seasonal = Literal["month", "quarter"]

#: Average length of each period, in days (for the calendar note, :mod:`.calendar`).
PERIOD_DAYS: dict[str, float] = {"month": 365.25 / 12, "quarter": 365.25 / 4}


def period_of(start: dt.datetime, end: dt.datetime, seasonal: Seasonal) -> int:
    """The period of the window [start, end): the month (1–12) or quarter (1–4) of its midpoint."""
    middle = start + (end - start) / 2
    return middle.month if seasonal == "month" else (middle.month - 1) // 3 + 1


def period_label(seasonal: Seasonal, key: int) -> str:
    """``March`` or ``Q1``."""
    return calendar.month_name[key] if seasonal == "month" else f"Q{key}"


def period_rows(times: pd.Series, seasonal: Seasonal) -> dict[int, np.ndarray]:
    """Positions of the reference rows in each period the reference holds, by period."""
    months = times.dt.month.to_numpy()
    keys = months if seasonal == "month" else (months - 1) // 3 + 1
    return {int(key): np.flatnonzero(keys == key) for key in np.unique(keys)}


def parse_times(values: pd.Series, column: str, where: str) -> pd.Series:
    """A reference table's time column as UTC timestamps (NaT where empty), read as the log's are:
    timestamp types (with a zone: converted; without: taken as UTC), dates, or ISO 8601 text with or
    without an offset (none means UTC). Numbers, text that is not a date-time, and text that mixes
    times with and without an offset are :class:`ValueError`, naming ``where`` (the table), the
    column and the first such row."""
    values = values.reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(values):
        aware = values.dt.tz is not None
        return values.dt.tz_convert("UTC") if aware else values.dt.tz_localize("UTC")
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        raise ValueError(
            f"{where}: column {column!r} holds {values.dtype} numbers, not times; write ISO 8601 text "
            "(e.g. 2026-08-03T10:15:00Z) or a timestamp type"
        )
    present = values.notna()
    if present.any() and all(isinstance(v, dt.date) for v in values[present]):
        return pd.to_datetime(values, utc=True)
    text = values.astype("string").str.strip()
    offset = re.compile(HAS_OFFSET)
    with_offset = text.map(lambda t: isinstance(t, str) and offset.search(t) is not None).astype(bool)
    if with_offset.any() and (~with_offset & present).any():
        bare = int(np.flatnonzero(~with_offset & present)[0])
        marked = int(np.flatnonzero(with_offset)[0])
        raise ValueError(
            f"{where}: column {column!r} mixes times with a UTC offset (e.g. {text[marked]!r}) and times without "
            f"one (e.g. {text[bare]!r}, row {bare + 1}); write every time with its offset (2026-08-03T10:15:00Z)"
        )
    parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
    wrong = np.flatnonzero(parsed.isna().to_numpy() & present.to_numpy() & (text != "").fillna(False).to_numpy())
    if len(wrong):
        raw = str(text[int(wrong[0])])
        shown = raw if len(raw) <= 60 else raw[:57] + "..."
        raise ValueError(
            f"{where}: column {column!r} holds {shown!r} (row {int(wrong[0]) + 1}), which is not a date-time; "
            "write ISO 8601 (e.g. 2026-08-03T10:15:00Z or 2026-08-03)"
        )
    return parsed
