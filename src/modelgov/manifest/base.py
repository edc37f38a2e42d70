"""The small nodes every part of the manifest is built from.

``Node`` is the base of every manifest model: frozen (a built manifest is a record, not a working
state) and strict about extra keys (a misspelt field in a saved manifest is an error, never dropped
in silence). ``FileRef`` is the evidence trail (each number points back at the file it came from);
``Interval`` and ``Metric`` are how every section states a number with its uncertainty; ``Owner`` and
``Card`` hold the card's human-written text. They live apart from the sections so that every other
module of this package imports them and none imports another section just for them.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, StringConstraints

from modelgov.free_values import as_written


def _calendar_day(value: str) -> str:
    """A day that exists: the pattern alone lets ``2026-13-45`` through, and every age, expiry and
    due date counted to it would then fail on the first page that reads it."""
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a day of the calendar (YYYY-MM-DD)") from None
    return value


#: An ISO date (``YYYY-MM-DD``) that is a day of the calendar: the check dates a saved manifest is judged on.
CalendarDay = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$"), AfterValidator(_calendar_day)]


class Node(BaseModel):
    # A NaN or infinity in a number field is written as JSON's non-standard `NaN` / `Infinity`, for
    # manifest.dump_bytes to refuse (JSON has neither; an undefined figure is None), never as `null`,
    # which would read back as "no value". A free-form value (FreeValue) holds the text `NaN` instead.
    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="constants")


def _finite_or_none(value: Any) -> Any:
    """A guard when writing: a NaN or infinity that reached a free-form value without
    :func:`as_written` (which every validated node applies) is written as None, as JSON has neither."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {_finite_or_none(key): _finite_or_none(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_finite_or_none(item) for item in value]
    return value


#: A value of any shape a user or a policy wrote (training parameters, a check's observed value),
#: held as the manifest's JSON holds it (:func:`as_written`).
FreeValue = Annotated[Any, AfterValidator(as_written), PlainSerializer(_finite_or_none, when_used="json")]


# --------------------------------------------------------------------------- provenance


class FileRef(Node):
    """A file the build read: the evidence trail for every number derived from it."""

    path: str = Field(
        description="Path relative to the workspace root, with '/' separators; or, for a log the Spark engine "
        "read where it lives, the object's URI."
    )
    sha256: str = Field(description="SHA-256 of the file's bytes, or of its listing entry (see `identity`).")
    bytes: int
    identity: Literal["content", "listing"] = Field(
        "content",
        description="`content`: `sha256` is the hash of the bytes. `listing`: an object in remote storage, which "
        "is not downloaded to hash it; `sha256` is the hash of its URI, size, modification time and ETag.",
    )


class Generator(Node):
    name: Literal["modelgov"] = "modelgov"
    version: str


# --------------------------------------------------------------------------- card


class Owner(Node):
    name: str
    email: str | None = None
    team: str | None = None


class Card(Node):
    """Human-written card fields (Mitchell et al., 2019). Markdown strings, as the user wrote them."""

    description: str
    primary_uses: str
    primary_users: str
    out_of_scope: str
    factors_relevant: str
    factors_evaluation: str
    performance_measures: str
    decision_threshold: str | None = None
    variation_approaches: str | None = None
    ethical_considerations: str
    caveats: str
    licence: str | None = None
    references: list[str] = Field(default_factory=list)


# --------------------------------------------------------------------------- numbers


class Interval(Node):
    """A bootstrap confidence interval. ``None`` bounds mean the metric was undefined in too many
    resamples for an interval to be meaningful (see ``defined_share``)."""

    low: float | None
    high: float | None
    level: float = Field(description="Confidence level, e.g. 0.95.")
    resamples: int
    method: str = Field(description="How the resamples were drawn, e.g. `percentile bootstrap over rows`.")
    defined_share: float = Field(1.0, description="Share of resamples in which the metric was defined.")


#: The metrics best at neither end of their range: a mean error is best at 0, and its sign says
#: which way the model errs. A manifest written before ``best_value`` existed is read with these.
BEST_VALUES = {"mean_error": 0.0}


def best_value_of(name: str, recorded: float | None) -> float | None:
    """A metric's best value: as recorded, else (an older manifest) by its name."""
    return recorded if recorded is not None else BEST_VALUES.get(name)


def better_words(higher_is_better: bool | None, best_value: float | None) -> str:
    """Which way a metric is better, as a page's "Better when" says it: ``higher``, ``lower`` or
    ``closer to 0`` (a mean error of −4 is not better than one of −2)."""
    if best_value is not None:
        return f"closer to {best_value:g}"
    return "higher" if higher_is_better else "lower"


class Metric(Node):
    """A headline number. ``value`` is ``None`` when the metric is undefined for the data
    (e.g. ROC AUC with a single class), and ``note`` says why."""

    name: str = Field(description="Stable key, e.g. `roc_auc`.")
    label: str = Field(description="Human-readable name, e.g. `ROC AUC`.")
    value: float | None
    note: str | None = None
    higher_is_better: bool = True
    best_value: float | None = Field(
        None,
        description="The value at which the metric is best when that is neither end of its range (0 for a mean "
        "error, whose sign says which way the model errs); `higher_is_better` is then not used.",
    )
    description: str | None = Field(None, description="What the metric measures, in plain language.")
    interval: Interval | None = None

    @property
    def better(self) -> str:
        return better_words(self.higher_is_better, best_value_of(self.name, self.best_value))
