"""What one version's monitoring report is given: its settings, the engine, and the reference.

The monitoring stage resolves the workspace's ``monitoring`` section into a
:class:`MonitoringInputs` (absolute paths, plain column names) and a :class:`Reference` (read a
column at a time); every part of the report (:mod:`.report`, :mod:`.report_drift`,
:mod:`.report_performance`, :mod:`.kpis`, :mod:`.production_fairness`) reads them, so they live
here, apart from any one part.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from modelgov import manifest
from modelgov.analysis.resampling import DEFAULT_RESAMPLING, Resampling
from modelgov.monitoring.aggregates import WindowSpec
from modelgov.monitoring.kpi_definitions import KpiSpec
from modelgov.monitoring.reference import Kind
from modelgov.monitoring.seasonal import Seasonal

#: The name under which the model's output is compared with the reference, beside the features.
PREDICTION = "(prediction)"


@dataclass(frozen=True)
class MonitoringInputs:
    """What the report needs, already resolved to absolute paths and plain column names."""

    logs: list[Path | str]  # files in the workspace, or (Spark engine) object URIs
    timestamp: str
    features: list[str]
    log_output: str  # score column if declared, else prediction column, in the logs
    reference_output: str | None  # the same role's column in the reference; None: inputs only
    window: WindowSpec
    window_label: str
    overrides: dict[str, tuple[str | None, float | None]]  # feature → (method, threshold)
    dataset_share: float
    #: the model's output counts in the share of drifted columns, as one more column (Evidently's
    #: DriftedColumnsCount when the output is among its columns)
    count_output: bool = False
    #: each window compared with the reference rows of its calendar month or quarter (:mod:`.seasonal`)
    seasonal: Seasonal | None = None
    log_id: str | None = None
    log_prediction: str | None = None
    log_score: str | None = None
    truth: Path | None = None
    truth_id: str | None = None
    truth_label: str | None = None
    #: ``None``: the embedded DuckDB scan; otherwise the Spark settings (see :mod:`.spark_scan`)
    spark: SparkEngine | None = None
    #: The bootstrap for each window's metric intervals, as the evaluation's (``resamples=0``: none)
    resampling: Resampling = DEFAULT_RESAMPLING
    #: feature → the kind the workspace declared; the others' kinds are inferred from the reference
    kinds: dict[str, Kind] = field(default_factory=dict)
    #: the decision threshold of a binary classifier's score (for performance estimated without outcomes)
    threshold: float | None = None
    #: the card's business KPIs, measured per window (:mod:`.kpis`)
    kpis: tuple[KpiSpec, ...] = ()
    #: the card's sensitive features, and the evaluation's small-group rules (fairness in production)
    sensitive: tuple[str, ...] = ()
    min_group_size: int = 30
    exclude_small_groups: bool = True


@dataclass(frozen=True)
class SparkEngine:
    master: str | None
    conf: dict[str, str]


@dataclass(frozen=True)
class Reference:
    """The data production windows are compared with, and what it is.

    ``kind`` is ``evaluation`` (an evaluation table, whose metrics are the performance baseline),
    ``data`` (another table, e.g. a training sample: no baseline) or ``window`` (one window of the log
    itself, named by its start: its own metrics, where outcomes arrived, are the baseline).

    ``load`` returns one column; a table is read a column at a time, profiled, and let go, so a
    large reference never sits in memory whole (a 1M-row reference: +100 MB instead of +600 MB)."""

    load: Callable[[str], pd.Series]
    columns: frozenset[str]
    kind: Literal["evaluation", "data", "window"]
    name: str
    performance: list[manifest.Metric] = field(default_factory=list)
    file: manifest.FileRef | None = None
    description: str | None = None
    #: the column holding each row's time, when the table has one
    timestamp: str | None = None
    #: each row's time, parsed to UTC (:func:`.seasonal.parse_times`, NaT where empty), in ``load``'s row
    #: order; it may return None when the times could not be read and nothing needs them
    times: Callable[[], pd.Series | None] | None = None
    #: the time a window of the log covers, [start, end): its rows' times are not kept
    span: tuple[dt.datetime, dt.datetime] | None = None

    @property
    def where(self) -> str:
        return self.file.path if self.file else f"the reference window starting {self.name}"
