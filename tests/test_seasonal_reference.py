"""Seasonal references and calendar-like features.

The simulation has a known truth: ``load`` depends on the month alone, the same way in the reference
year (2025) and in production (2026), so it has not drifted; ``price`` really moves from July 2026.
Against the whole year, ``load`` drifts in every month by construction; against the same month of
the reference it never does, and ``price`` is caught in July to December either way.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from modelgov import manifest
from modelgov.analysis.evaluation import EvaluationColumns
from modelgov.errors import WorkspaceError
from modelgov.monitoring.aggregates import NumericAggregate, WindowSpec, coarsen
from modelgov.monitoring.calendar_features import Coverage, calendar_notes, calendar_unit
from modelgov.monitoring.reference import profile_reference
from modelgov.monitoring.report import monitoring_report
from modelgov.monitoring.report_inputs import MonitoringInputs, Reference
from modelgov.monitoring.seasonal import parse_times, period_label, period_of
from modelgov.workspace.load import load_workspace
from workspace_factory import edit, holdout_table, write_workspace

COLUMNS = EvaluationColumns(label="y", prediction="y", score=None, sensitive=(), positive_label=1)
PER_DAY = 40  # > 1,000 reference rows a month: distances (Wasserstein), which do not fire by chance
SHIFT_FROM = 7


def year_of(year: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D", tz="UTC")
    stamps = days.repeat(PER_DAY) + pd.to_timedelta(np.tile(np.arange(PER_DAY) * 1800, len(days)), "s")
    month = stamps.month.to_numpy()
    price = rng.normal(100, 10, len(stamps))
    if shift:
        price = np.where(month >= SHIFT_FROM, price + shift, price)
    return pd.DataFrame(
        {
            "ts": stamps.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "load": rng.normal(10 + 5 * np.sin(2 * np.pi * (month - 1) / 12), 1.0),
            "month": month,
            "price": price,
        }
    )


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    log = tmp_path_factory.mktemp("seasonal") / "log.csv"
    year_of(2026, seed=2, shift=5.0).to_csv(log, index=False)
    return log, year_of(2025, seed=1)


def run(
    log: Path,
    reference: pd.DataFrame,
    seasonal: str | None,
    *,
    window: str = "month",
    features: tuple[str, ...] = ("load", "month", "price"),
    times: bool = True,
) -> manifest.MonitoringReport:
    inputs = MonitoringInputs(
        logs=[log], timestamp="ts", features=list(features), log_output="price", reference_output=None,
        window=WindowSpec(window), window_label=window, overrides={}, dataset_share=0.5, seasonal=seasonal,
    )  # fmt: skip
    table = Reference(
        load=reference.__getitem__,
        columns=frozenset(reference.columns),
        kind="data",
        name="data/2025.csv",
        file=manifest.FileRef(path="data/2025.csv", sha256="0" * 64, bytes=0),
        timestamp="ts" if times else None,
        times=(lambda: parse_times(reference["ts"], "ts", "data/2025.csv")) if times else None,
    )
    return monitoring_report(inputs, table, task="regression", columns=COLUMNS)


def drifted(report: manifest.MonitoringReport, feature: str) -> list[int]:
    return [int(w.start[5:7]) for w in report.windows if next(f for f in w.features if f.feature == feature).drifted]


def test_a_feature_that_follows_the_month_drifts_against_the_year_by_construction(simulated) -> None:
    log, reference = simulated
    report = run(log, reference, None)
    assert drifted(report, "load") == list(range(1, 13))
    assert drifted(report, "month") == list(range(1, 13))
    assert drifted(report, "price") == list(range(SHIFT_FROM, 13))
    assert all(w.dataset_drift for w in report.windows)
    assert [n.feature for n in report.calendar_notes] == ["month"]  # `load` is not calendar-like by name


def test_against_the_same_month_of_the_reference_only_the_real_shift_drifts(simulated) -> None:
    log, reference = simulated
    report = run(log, reference, "month")
    assert report.seasonal == "month"
    assert drifted(report, "load") == [] and drifted(report, "month") == []
    assert drifted(report, "price") == list(range(SHIFT_FROM, 13))
    assert not any(w.dataset_drift for w in report.windows)  # one column of three
    rows = reference["ts"].str[5:7].astype(int).value_counts()
    for window in report.windows:
        month = int(window.start[5:7])
        assert window.reference_period == period_label("month", month)
        assert window.reference_rows == rows[month]
        assert {f.method for f in window.features if f.feature != "month"} == {"wasserstein"}
    assert report.calendar_notes == []
    assert report.reference_rows == len(reference)


def test_each_period_is_tested_exactly_as_a_reference_of_its_own(simulated) -> None:
    """One scan on the union of every period's edges, coarsened: the same statistics as a report
    whose reference is that month alone."""
    log, reference = simulated
    seasonal = run(log, reference, "month")
    march = reference[reference["ts"].str[5:7] == "03"].reset_index(drop=True)
    alone = run(log, march, None)
    mine = next(w for w in seasonal.windows if w.start.startswith("2026-03"))
    theirs = next(w for w in alone.windows if w.start.startswith("2026-03"))
    for a, b in zip(mine.features, theirs.features, strict=True):
        assert (a.feature, a.method, a.drifted) == (b.feature, b.method, b.drifted)
        assert a.statistic == pytest.approx(b.statistic, rel=1e-12, abs=1e-15)
    latest = {d.feature: d for d in seasonal.latest}  # December, against December
    assert latest["price"].reference_share == pytest.approx(decile_shares(reference, "12", "price"))


def decile_shares(reference: pd.DataFrame, month: str, column: str) -> np.ndarray:
    values = np.sort(reference.loc[reference["ts"].str[5:7] == month, column].to_numpy(float))
    deciles = np.unique(np.quantile(values, np.linspace(0.1, 0.9, 9)))
    cumulative = np.concatenate([[0], np.searchsorted(values, deciles, "right"), [len(values)]])
    return np.diff(cumulative) / len(values)


def test_a_quarter_compares_each_month_with_its_quarter(simulated) -> None:
    log, reference = simulated
    report = run(log, reference, "quarter")
    assert [w.reference_period for w in report.windows] == [f"Q{(m - 1) // 3 + 1}" for m in range(1, 13)]
    assert drifted(report, "month") == list(range(1, 13))  # a month against its three months
    assert [n.feature for n in report.calendar_notes] == ["month"]


def test_a_period_the_reference_does_not_hold_has_no_verdict(simulated) -> None:
    log, reference = simulated
    first_half = reference[reference["ts"].str[5:7].astype(int) <= 6].reset_index(drop=True)
    report = run(log, first_half, "month")
    july = next(w for w in report.windows if w.start.startswith("2026-07"))
    assert (july.reference_period, july.reference_rows) == ("July", 0)
    assert july.share_drifted is None and not july.dataset_drift and july.columns_compared == 0
    assert all(not f.drifted and f.statistic is None for f in july.features)
    assert {f.note for f in july.features} == {"undefined: the reference has no rows in July"}
    assert report.latest == []  # December has no reference rows either


def test_a_week_belongs_to_the_month_of_its_thursday() -> None:
    utc = dt.UTC
    monday = dt.datetime(2026, 1, 26, tzinfo=utc)  # Thursday 29 January
    assert period_of(monday, monday + dt.timedelta(days=7), "month") == 1
    monday = dt.datetime(2026, 3, 30, tzinfo=utc)  # Thursday 2 April
    assert period_of(monday, monday + dt.timedelta(days=7), "month") == 4
    assert period_of(monday, monday + dt.timedelta(days=7), "quarter") == 2
    first = dt.datetime(2026, 12, 1, tzinfo=utc)
    assert period_of(first, dt.datetime(2027, 1, 1, tzinfo=utc), "month") == 12
    assert (period_label("month", 12), period_label("quarter", 4)) == ("December", "Q4")


def test_weekly_windows_take_the_month_of_their_midpoint(simulated) -> None:
    log, reference = simulated
    report = run(log, reference, "month", window="week", features=("load",))
    for window in report.windows:
        start = dt.datetime.fromisoformat(window.start)
        middle = start + (dt.datetime.fromisoformat(window.end) - start) / 2
        assert window.reference_period == period_label("month", middle.month)


def test_coarsened_aggregates_equal_a_scan_on_the_coarser_edges() -> None:
    rng = np.random.default_rng(9)
    values = np.round(rng.normal(0, 1, 20_000), 2)
    fine = np.unique(np.round(rng.normal(0, 1, 800), 2))
    for share in (0.0, 0.2, 0.7, 1.0):
        coarse = fine[rng.random(len(fine)) < share]
        got = coarsen(count(values, fine), fine, coarse)
        want = count(values, coarse)
        assert np.array_equal(got.between, want.between) and np.array_equal(got.at, want.at)
        assert got.between_sum == pytest.approx(want.between_sum, rel=1e-12, abs=1e-9)
        assert (got.missing, got.minimum, got.maximum) == (want.missing, want.minimum, want.maximum)
    with pytest.raises(ValueError, match="subset"):
        coarsen(count(values, fine), fine, np.array([0.123456]))


def count(values: np.ndarray, edges: np.ndarray) -> NumericAggregate:
    left, right = np.searchsorted(edges, values, "left"), np.searchsorted(edges, values, "right")
    on = right > left
    m = len(edges)
    return NumericAggregate(
        missing=0,
        between=np.bincount(left[~on], minlength=m + 1).astype("int64"),
        at=np.bincount(left[on], minlength=m).astype("int64"),
        between_sum=np.bincount(left[~on], weights=values[~on], minlength=m + 1),
        minimum=float(values.min()),
        maximum=float(values.max()),
    )


# --------------------------------------------------------------------------- reference times


def test_reference_times_are_read_as_the_logs_are() -> None:
    naive = parse_times(pd.Series(["2026-08-03 10:00:00", "2026-08-04 10:00:00"]), "ts", "t.csv")
    assert naive.iloc[0] == pd.Timestamp("2026-08-03 10:00", tz="UTC")
    shifted = parse_times(pd.Series(["2026-08-03T23:30:00+02:00"]), "ts", "t.csv")
    assert shifted.iloc[0] == pd.Timestamp("2026-08-03 21:30", tz="UTC")
    native = parse_times(pd.Series(pd.to_datetime(["2026-01-31 23:00"]).tz_localize("Europe/Berlin")), "ts", "t")
    assert native.iloc[0].month == 1 and native.iloc[0].hour == 22
    assert pd.isna(parse_times(pd.Series(["2026-08-03", None]), "ts", "t.csv").iloc[1])


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["2026-08-03", "last tuesday"], "data/ref.csv: column 'ts' holds 'last tuesday' (row 2), which is not a date"),
        ([1, 2], "data/ref.csv: column 'ts' holds int64 numbers, not times"),
        (["2026-08-03T10:00:00Z", "2026-08-03"], "data/ref.csv: column 'ts' mixes times with a UTC offset"),
    ],
)
def test_reference_times_that_are_not_times_are_refused_with_file_column_and_row(values, message) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        parse_times(pd.Series(values), "ts", "data/ref.csv")


def test_a_seasonal_reference_needs_every_rows_time(simulated) -> None:
    log, reference = simulated
    gap = reference.copy()
    gap.loc[5, "ts"] = None
    with pytest.raises(ValueError, match=r"data/2025.csv: column 'ts' is empty on 1 row\(s\) \(the first: row 6\)"):
        run(log, gap, "month")
    with pytest.raises(ValueError, match="a seasonal reference needs each row's time"):
        run(log, reference, "month", times=False)


# --------------------------------------------------------------------------- calendar-like features


def profile(values: list) -> object:
    return profile_reference(pd.Series(values), column="x")


@pytest.mark.parametrize(
    ("name", "values", "unit"),
    [
        ("mnth", [1, 2, 3], ("month", "name")),
        ("Day_Of_Week", [0, 1], ("weekday", "name")),
        ("hr", [0, 1], ("hour", "name")),
        ("yr", [0, 1], ("year", "name")),
        ("season", [1, 2], ("season", "name")),
        ("signup", ["Jan", "feb", "March"], ("month", "values")),
        ("shift_day", ["Mon", "Tuesday", "sun"], ("weekday", "values")),
        ("period", ["winter", "Summer"], ("season", "values")),
        ("birth_month", [1, 2, 3], None),
        ("pickup_hour", [1, 2, 3], None),
        ("colour", ["red", "may"], None),
        ("grade", ["spring"], None),  # a single value is no pattern
    ],
)
def test_calendar_like_by_name_or_by_values(name: str, values: list, unit) -> None:
    assert calendar_unit(name, profile(values)) == unit


def coverage(window: str, reference_days: float | None, seasonal: str | None = None, **kw) -> Coverage:
    days = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}[window]
    years = kw.pop("reference_years", frozenset({2025}) if reference_days is not None else None)
    return Coverage(days, window, kw.pop("window_years", frozenset({2025})), reference_days, years, seasonal)


@pytest.mark.parametrize(
    ("feature", "window", "reference_days", "seasonal", "noted"),
    [
        ("month", "month", 364, None, True),
        ("month", "month", None, None, True),  # rows without times: they may span the year
        ("month", "month", 364, "month", False),
        ("month", "month", 364, "quarter", True),  # three months against one
        ("month", "week", 364, "month", False),  # a week holds one month, as the reference's month does
        ("week", "week", 364, "month", True),  # a week of the year against four or five
        ("season", "month", 364, "quarter", False),
        ("month", "month", 30, None, False),  # a month-long reference, as a reference window is
        ("weekday", "month", 364, None, False),  # a month holds every weekday
        ("weekday", "day", 364, None, True),
        ("weekday", "day", 364, "month", True),  # the seasonal month still holds seven weekdays
        ("hour", "day", 364, None, False),
        ("yr", "month", 364, None, False),  # the windows are in the reference's year
        ("yr", "month", 364, "month", False),
    ],
)
def test_when_a_calendar_feature_drifts_by_construction(feature, window, reference_days, seasonal, noted) -> None:
    notes = calendar_notes([(feature, profile([1, 2]))], coverage(window, reference_days, seasonal))
    assert bool(notes) == noted


def test_a_year_feature_is_noted_when_windows_leave_the_reference_years() -> None:
    later = coverage("month", 364, window_years=frozenset({2026}))
    (note,) = calendar_notes([("yr", profile([0]))], later)
    assert note.unit == "year" and "holds 2025" in note.note and "a seasonal reference does not help" in note.note
    assert calendar_notes([("yr", profile([0]))], coverage("month", None))
    assert calendar_notes([("yr", profile([0]))], coverage("month", 700, reference_years=frozenset({2024, 2025})))


def test_the_note_says_why_and_what_to_do() -> None:
    (note,) = calendar_notes([("season", profile([1, 2, 3, 4]))], coverage("month", 364))
    assert (note.feature, note.unit, note.matched_by) == ("season", "season", "name")
    assert note.note == (
        "'season' looks like the season (by its name): a month holds one of its values and the reference, "
        "spanning 364 days, holds all 4, so it drifts by construction, whatever production does. Compare each "
        "window with the same month of the reference (reference: {…, seasonal: month}) or leave 'season' out of "
        "monitoring.features."
    )
    (daily,) = calendar_notes([("weekday", profile([0, 1]))], coverage("day", None))
    assert "may hold all 7" in daily.note and "Use windows of a week or longer" in daily.note
    assert "seasonal: month" not in daily.note  # it would not help


# --------------------------------------------------------------------------- the workspace


VERSION = "models/loans/versions/1.0/version.yml"
MONDAY = pd.Timestamp("2026-08-03", tz="UTC")


def monitored(root: Path, reference: str, window: str = "week") -> Path:
    root = write_workspace(root)
    frames = []
    for week in range(4):
        table = holdout_table(seed=20 + week, rows=200)
        seconds = np.sort(np.random.default_rng(week).integers(0, 7 * 86_400, 200))
        table["ts"] = (MONDAY + pd.Timedelta(weeks=week) + pd.to_timedelta(seconds, unit="s")).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        frames.append(table)
    (root / "logs").mkdir()
    pd.concat(frames).to_csv(root / "logs" / "scoring.csv", index=False)
    sample = holdout_table(seed=99, rows=730)[["income", "age", "predicted"]]
    sample["day"] = pd.date_range("2025-01-01", periods=730, freq="12h").strftime("%Y-%m-%d %H:%M")
    sample["month"] = pd.to_datetime(sample["day"]).dt.month
    sample.to_csv(root / "data" / "year.csv", index=False)
    text = f"""\
monitoring:
  logs: logs/scoring.csv
  timestamp: ts
  prediction: predicted
  features: [income, age]
  window: {window}
  reference: {reference}
  drift: {{count_output: true}}
"""
    (root / VERSION).write_text((root / VERSION).read_text() + text)
    return root


def problems_of(root: Path) -> list:
    with pytest.raises(WorkspaceError) as caught:
        load_workspace(root)
    return caught.value.problems


def test_the_workspace_names_the_reference_time_and_the_build_compares_month_by_month(tmp_path: Path) -> None:
    from modelgov.assemble import build_manifest
    from modelgov.render.pages import render_pages

    root = monitored(tmp_path / "ws", "{data: data/year.csv, seasonal: month, timestamp: day}")
    built = build_manifest(load_workspace(root))
    report = built.models[0].versions[0].drift
    assert report is not None and report.seasonal == "month" and report.share_counts_output
    # weeks from Monday 3 August 2026: the fourth (24–30 August) still has its Thursday in August
    assert [w.reference_period for w in report.windows] == ["August"] * 4
    august = (pd.to_datetime(pd.read_csv(root / "data" / "year.csv")["day"]).dt.month == 8).sum()
    assert {w.reference_rows for w in report.windows} == {august}
    assert all(w.columns_compared == 3 for w in report.windows)  # two features and the output

    page = next(p for p in render_pages(built) if p.path.endswith("1.0/monitoring.md")).markdown
    text = " ".join(page.split())
    assert "The reference is **seasonal**: each week is compared only with its rows from the same calendar month" in (
        text
    )
    assert "| Compared with |" in page and 'August<br><span class="mg-detail">' in page


def test_a_calendar_feature_gets_its_note_on_the_page(tmp_path: Path) -> None:
    from modelgov.assemble import build_manifest
    from modelgov.render.pages import render_pages

    root = monitored(tmp_path / "ws", "{data: data/year.csv, timestamp: day}")
    log = pd.read_csv(root / "logs" / "scoring.csv")
    log["month"] = pd.to_datetime(log["ts"]).dt.month
    log.to_csv(root / "logs" / "scoring.csv", index=False)
    edit(root, VERSION, "features: [income, age]\n  window", "features: [income, age, month]\n  window")
    built = build_manifest(load_workspace(root))
    report = built.models[0].versions[0].drift
    assert report is not None and report.seasonal is None
    (note,) = report.calendar_notes
    assert note.feature == "month" and "spanning 364 days, holds all 12" in note.note
    page = next(p for p in render_pages(built) if p.path.endswith("1.0/monitoring.md")).markdown
    assert '!!! note "A calendar feature drifts by construction against this reference"' in page
    assert "a week holds one of its values" in " ".join(page.split())


def test_a_seasonal_reference_without_its_time_column_is_reported_at_its_key(tmp_path: Path) -> None:
    root = monitored(tmp_path / "ws", "{data: data/year.csv, seasonal: month}")
    (problem,) = problems_of(root)
    assert (problem.file, problem.key) == (VERSION, "monitoring.reference.seasonal")
    assert problem.line is not None
    assert "data/year.csv" in problem.message and "no column 'ts' (the log's timestamp column)" in problem.message
    assert "reference.timestamp" in problem.message

    edit(root, VERSION, "seasonal: month}", "seasonal: month, timestamp: dya}")
    (problem,) = problems_of(root)
    assert problem.key == "monitoring.reference.timestamp"
    assert problem.message == "column 'dya' is not in data/year.csv; did you mean 'day'?"


@pytest.mark.parametrize(
    ("reference", "window", "message"),
    [
        ("{window: 1, seasonal: month}", "week", "seasonal and timestamp apply to a reference table"),
        ("{data: data/year.csv, seasonal: month, timestamp: day}", "{rows: 100}", "has no calendar period"),
        ("{data: data/year.csv, seasonal: year, timestamp: day}", "week", "'month' or 'quarter'"),
    ],
)
def test_seasonal_settings_that_cannot_work_are_refused(tmp_path: Path, reference: str, window: str, message: str):
    root = monitored(tmp_path / "ws", reference, window)
    assert any(message in p.message for p in problems_of(root))


def test_reference_times_that_do_not_parse_fail_the_build_naming_the_file(tmp_path: Path) -> None:
    from modelgov.assemble import build_manifest

    root = monitored(tmp_path / "ws", "{data: data/year.csv, seasonal: month, timestamp: day}")
    table = pd.read_csv(root / "data" / "year.csv")
    table.loc[3, "day"] = "soon"
    table.to_csv(root / "data" / "year.csv", index=False)
    with pytest.raises(WorkspaceError) as caught:
        build_manifest(load_workspace(root))
    assert "data/year.csv: column 'day' holds 'soon' (row 4), which is not a date-time" in str(caught.value)
