"""Free-form values (training parameters, a policy check's observed value, an audit entry's details)
as the manifest's JSON holds them.

The build renders its pages from the manifest in memory; ``modelgov render`` renders them from the
saved file. For the two to say the same, a free-form value must be in memory what the file reads
back as. JSON has no NaN or infinity, no set, no tuple, no date, and only text keys, all of which a
YAML file can write; :func:`as_written` turns each into what the file holds. Its own module, so the
workspace's schemas (which refuse what cannot be written) and the manifest's nodes (which hold what
is written) share it without either importing the other.
"""

from __future__ import annotations

import json
import math
from typing import Any

from pydantic_core import to_jsonable_python

__all__ = ["NON_FINITE", "as_written"]

#: How a free-form value spells a float JSON cannot hold (JavaScript's and JSON5's spelling).
NON_FINITE = ("NaN", "Infinity", "-Infinity")


def as_written(value: Any) -> Any:
    """``value`` as the manifest's JSON holds it:

    * a NaN or infinity is the text ``NaN``, ``Infinity`` or ``-Infinity`` (writing ``null`` lost
      what the user wrote, and the build's page said ``nan`` where the saved manifest said nothing);
    * a set is a list, its numbers first in numeric order, then the rest by their JSON (a set's own
      order changes from one process to the next, and with it the manifest's bytes); a tuple is a list;
    * a date or time is its ISO text, as the manifest writes it;
    * a key is text, as JSON writes it; two keys that would be the same text (``.nan`` and ``"NaN"``,
      ``~`` and ``"null"``) are a ValueError, never one value silently dropped.

    Applying it twice gives what applying it once gives."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return NON_FINITE[0] if math.isnan(value) else NON_FINITE[1] if value > 0 else NON_FINITE[2]
    if isinstance(value, dict):
        written: dict[str, Any] = {}
        first: dict[str, Any] = {}
        for key, item in value.items():
            text = _key(key)
            if text in written:
                raise ValueError(f"the keys {first[text]!r} and {key!r} would both be written as {text!r}")
            written[text], first[text] = as_written(item), key
        return written
    if isinstance(value, list | tuple):
        return [as_written(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted((as_written(item) for item in value), key=_set_order)
    return as_written(to_jsonable_python(value))


def _key(key: Any) -> str:
    written = as_written(key)
    return written if isinstance(written, str) else json.dumps(written)


def _set_order(item: Any) -> tuple[int, float, str]:
    if isinstance(item, int | float) and not isinstance(item, bool):
        return (0, item, "")
    return (1, 0.0, json.dumps(item, sort_keys=True, ensure_ascii=False))
