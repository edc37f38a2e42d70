"""Log scans equal a direct computation of the contract in ``monitoring/aggregates.py`` on the same data.

The expected aggregates are built here from the DataFrame that was written out, with the contract's
definitions spelled out as comparisons (no ``searchsorted``), and the expected windows with pandas'
calendar arithmetic, so nothing is shared with ``monitoring/scan.py`` (and its ``numeric_cells.py`` and ``outcome_scan.py``) but the data.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from modelgov.monitoring import scan
from modelgov.monitoring.aggregates import OTHER, CategoricalPlan, NumericPlan, WindowSpec
from modelgov.monitoring.numeric_cells import Locator
from modelgov.monitoring.outcome_scan import OutcomeCoverage, scan_outcomes
from modelgov.monitoring.scan import ScanError, scan_windows

UTC = dt.UTC
MONDAY = pd.Timestamp("2026-08-03", tz="UTC")
X_EDGES = np.round(np.linspace(-2.0, 2.0, 41), 2)  # > 16 edges: the lookup-table search runs
K_EDGES = np.array([1.0, 3.0, 5.0, 7.0])  # few edges: plain searchsorted
PLANS = {"numeric": [NumericPlan("x", X_EDGES), NumericPlan("k", K_EDGES)], "categorical": [CategoricalPlan("c")]}


# --------------------------------------------------------------------------- expected values


def contract(values, edges: np.ndarray) -> dict:
    """The contract's definitions, literally; NaN, None and ±inf are missing."""
    x = np.array([np.nan if v is None else v for v in values], dtype="float64")
    finite = np.isfinite(x)
    v = x[finite]
    m = len(edges)
    cells = [v < edges[0], *((v > edges[i - 1]) & (v < edges[i]) for i in range(1, m)), v > edges[-1]]
    return {
        "missing": int((~finite).sum()),
        "between": [int(c.sum()) for c in cells],
        "at": [int((v == e).sum()) for e in edges],
        "between_sum": [float(v[c].sum()) for c in cells],
        "minimum": float(v.min()) if len(v) else None,
        "maximum": float(v.max()) if len(v) else None,
    }


def window_start(ts: pd.Series, kind: str) -> pd.Series:
    day = ts.dt.tz_convert("UTC").dt.floor("D")
    if kind == "day":
        return day
    if kind == "week":
        return day - pd.to_timedelta(day.dt.day_of_week, unit="D")
    return day - pd.to_timedelta(day.dt.day - 1, unit="D")


def check(windows, frame: pd.DataFrame, keys: pd.Series) -> None:
    """Every window with rows matches the frame's rows with that key, and empty ones are empty."""
    seen = 0
    for window in windows:
        rows = frame[keys == window.start]
        assert window.rows == len(rows), window.start
        seen += window.rows
        if not len(rows):
            assert not window.numeric and not window.categorical
            continue
        for plan in PLANS["numeric"]:
            assert_numeric(window.numeric[plan.column], contract(rows[plan.column].tolist(), plan.edges))
        assert_categorical(window.categorical["c"], rows["c"])
    assert seen == len(frame)


def assert_numeric(agg, want: dict) -> None:
    assert agg.missing == want["missing"]
    assert agg.between.tolist() == want["between"]
    assert agg.at.tolist() == want["at"]
    np.testing.assert_allclose(agg.between_sum, want["between_sum"], rtol=1e-12, atol=1e-9)
    assert agg.minimum == want["minimum"] and agg.maximum == want["maximum"]
    assert agg.between.dtype == np.int64 and agg.at.dtype == np.int64


def assert_categorical(agg, values: pd.Series) -> None:
    present = values.dropna()
    assert agg.missing == len(values) - len(present)
    assert agg.counts == present.astype(str).value_counts().to_dict()


# --------------------------------------------------------------------------- data in every format


def make_log(n: int = 700, seed: int = 0) -> pd.DataFrame:
    """Five weeks from Monday 2026-08-03 with nothing in the third; values on edges, between them,
    outside all of them, NaN, None and ±inf; written in shuffled order."""
    rng = np.random.default_rng(seed)
    seconds = rng.integers(0, 28 * 86_400, n)
    seconds = np.where(seconds >= 14 * 86_400, seconds + 7 * 86_400, seconds)  # week 3 left empty
    ts = MONDAY + pd.to_timedelta(seconds, unit="s")
    kind = rng.random(n)
    x = np.where(kind < 0.4, rng.choice(X_EDGES, n), np.round(rng.normal(0, 1.5, n), 3))
    x = np.where((kind > 0.9) & (kind < 0.95), rng.choice([-50.0, 75.5, 1e6], n), x)
    x = np.where(kind >= 0.97, rng.choice([np.nan, np.inf, -np.inf], n), x)
    k = rng.integers(0, 9, n).astype("float64")
    k[rng.random(n) < 0.05] = np.nan
    c = rng.choice(np.array(["a", "b", "01", None], dtype=object), n, p=[0.5, 0.3, 0.15, 0.05])
    return pd.DataFrame(
        {"ts": ts, "id": np.arange(n), "x": x, "k": k, "c": c, "p": rng.integers(0, 2, n), "s": rng.random(n)}
    )


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    out = frame.assign(ts=frame["ts"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    out.to_csv(path, index=False, compression="gzip" if path.name.endswith(".gz") else None)


def write_jsonl(frame: pd.DataFrame, path: Path) -> None:
    """Timestamps with a +02:00 offset; non-finite numbers as null (JSON has no NaN)."""
    local = frame["ts"].dt.tz_convert("Etc/GMT-2")
    with open(path, "w") as handle:
        for i, record in enumerate(frame.to_dict("records")):
            record["ts"] = local.iloc[i].isoformat()
            for key, value in record.items():
                if isinstance(value, float) and not np.isfinite(value):
                    record[key] = None
            handle.write(json.dumps(record) + "\n")


def write(frame: pd.DataFrame, layout: str, root: Path) -> str | Path | list[Path]:
    shuffled = frame.sample(frac=1.0, random_state=1)
    if layout == "parquet":
        shuffled.to_parquet(root / "log.parquet")
        return root / "log.parquet"
    if layout in ("csv", "csv.gz"):
        write_csv(shuffled, root / f"log.{layout}")
        return root / f"log.{layout}"
    if layout == "jsonl":
        write_jsonl(shuffled, root / "log.jsonl")
        return root / "log.jsonl"
    if layout == "glob":
        for i in range(3):
            shuffled.iloc[i::3].to_parquet(root / f"part-{i}.parquet")
        (root / "notes.txt").write_text("not a table")
        return str(root / "part-*.parquet")
    if layout == "hive":
        for day, part in shuffled.groupby(shuffled["ts"].dt.strftime("%Y-%m-%d")):
            (root / "logs" / f"date={day}").mkdir(parents=True)
            part.to_parquet(root / "logs" / f"date={day}" / "part-0.parquet")
        return root / "logs"
    if layout == "mixed":  # a list of files in different formats
        shuffled.iloc[::2].to_parquet(root / "a.parquet")
        write_csv(shuffled.iloc[1::2], root / "b.csv.gz")
        return [root / "a.parquet", root / "b.csv.gz"]
    raise AssertionError(layout)


LAYOUTS = ["parquet", "csv", "csv.gz", "jsonl", "glob", "hive", "mixed"]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_weekly_aggregates_equal_numpy_in_every_format(layout, tmp_path):
    frame = make_log()
    source = write(frame, layout, tmp_path)
    windows = scan_windows(source, timestamp="ts", window=WindowSpec("week"), batch_rows=64, **PLANS)
    assert [w.start for w in windows] == [MONDAY + pd.Timedelta(weeks=i) for i in range(5)]
    assert all(w.end - w.start == dt.timedelta(weeks=1) and w.start.tzinfo is not None for w in windows)
    assert windows[2].rows == 0  # the gap is visible
    check(windows, frame, window_start(frame["ts"], "week"))


@pytest.mark.parametrize("kind", ["day", "month"])
def test_day_and_month_windows(kind, tmp_path):
    frame = make_log(400)
    frame.loc[frame.index[:5], "ts"] = pd.Timestamp("2026-09-30T23:59:59.999999Z")  # last µs of September
    frame.loc[frame.index[5:9], "ts"] = pd.Timestamp("2026-10-01T00:00:00Z")
    path = write(frame, "parquet", tmp_path)
    windows = scan_windows(path, timestamp="ts", window=WindowSpec(kind), threads=1, **PLANS)
    keys = window_start(frame["ts"], kind)
    assert [w.start for w in windows] == list(
        pd.date_range(keys.min(), keys.max(), freq="D" if kind == "day" else "MS")
    )
    check(windows, frame, keys)
    if kind == "month":
        assert [w.end for w in windows[-2:]] == [
            pd.Timestamp("2026-10-01", tz="UTC"),
            pd.Timestamp("2026-11-01", tz="UTC"),
        ]


def test_contract_on_a_hand_counted_example(tmp_path):
    frame = pd.DataFrame(
        {
            "ts": ["2026-08-03T00:00:00Z"] * 10,
            "x": [0, 1, 1, 1.5, 2, 3, 3.5, None, "nan", "inf"],
        }
    )
    frame.to_csv(tmp_path / "log.csv", index=False)
    (window,) = scan_windows(
        tmp_path / "log.csv",
        timestamp="ts",
        window=WindowSpec("week"),
        numeric=[NumericPlan("x", np.array([1.0, 2.0, 3.0]))],
        categorical=[],
    )
    agg = window.numeric["x"]
    assert agg.between.tolist() == [1, 1, 0, 1]  # x < 1, 1 < x < 2, 2 < x < 3, x > 3
    assert agg.at.tolist() == [2, 1, 1]
    assert agg.between_sum.tolist() == [0.0, 1.5, 0.0, 3.5]
    assert (agg.missing, agg.minimum, agg.maximum, agg.count) == (3, 0.0, 3.5, 7)


def test_week_starts_on_monday_in_utc_and_offsets_are_converted(tmp_path):
    lines = [
        "ts,x",
        "2026-08-09T23:59:59Z,1",  # Sunday: week of 08-03
        "2026-08-10T00:00:00Z,2",  # Monday 00:00 UTC: week of 08-10
        "2026-08-10T01:30:00+02:00,3",  # = Sunday 23:30 UTC: week of 08-03
        "2026-08-09T23:30:00-01:00,4",  # = Monday 00:30 UTC: week of 08-10
        "2026-08-10 09:00:00 UTC,5",
    ]
    (tmp_path / "log.csv").write_text("\n".join(lines) + "\n")
    windows = scan_windows(
        tmp_path / "log.csv",
        timestamp="ts",
        window=WindowSpec("week"),
        numeric=[NumericPlan("x", np.arange(1.0, 6.0))],
        categorical=[],
    )
    assert [(w.start.date().isoformat(), w.rows, w.numeric["x"].at.tolist()) for w in windows] == [
        ("2026-08-03", 2, [1, 0, 1, 0, 0]),
        ("2026-08-10", 3, [0, 1, 0, 1, 1]),
    ]
    assert windows[0].start == dt.datetime(2026, 8, 3, tzinfo=UTC)


def test_text_times_without_an_offset_are_utc_unless_mixed_with_offsets(tmp_path):
    (tmp_path / "log.csv").write_text("ts,x\n2026-08-09 23:59:59,1\n2026-08-10 00:00:00,2\n")
    scan = dict(
        timestamp="ts", window=WindowSpec("week"), numeric=[NumericPlan("x", np.arange(1.0, 3.0))], categorical=[]
    )
    windows = scan_windows(tmp_path / "log.csv", **scan)
    assert [(w.start.date().isoformat(), w.rows) for w in windows] == [("2026-08-03", 1), ("2026-08-10", 1)]

    (tmp_path / "log.csv").write_text("ts,x\n2026-08-09 23:59:59,1\n2026-08-10T00:00:00+02:00,2\n")
    with pytest.raises(ScanError, match=r"log.csv: column 'ts' mixes times with a UTC offset .*'2026-08-09 23:59:59'"):
        scan_windows(tmp_path / "log.csv", **scan)


def test_naive_parquet_timestamps_are_utc(tmp_path):
    frame = pd.DataFrame({"ts": pd.to_datetime(["2026-08-09 23:59:59", "2026-08-10 00:00:00"]), "x": [1.0, 2.0]})
    frame.to_parquet(tmp_path / "log.parquet")
    windows = scan_windows(
        tmp_path / "log.parquet", timestamp="ts", window=WindowSpec("week"), numeric=[], categorical=[]
    )
    assert [(w.start, w.rows) for w in windows] == [
        (dt.datetime(2026, 8, 3, tzinfo=UTC), 1),
        (dt.datetime(2026, 8, 10, tzinfo=UTC), 1),
    ]


# --------------------------------------------------------------------------- rows windows


def rows_oracle(frame: pd.DataFrame, rows: int) -> np.ndarray:
    """Window index per record: timestamp order, ties by DuckDB's hash of the scanned columns (the
    numeric columns as DOUBLE, then the categorical ones as text), in the order the plans list them."""
    con = duckdb.connect()
    con.register("f", frame.reset_index(drop=True).assign(__row=np.arange(len(frame))))
    order = con.execute(
        "SELECT __row FROM f ORDER BY ts, hash(CAST(x AS DOUBLE), CAST(k AS DOUBLE), CAST(c AS VARCHAR))"
    ).fetchnumpy()["__row"]
    window = np.empty(len(frame), dtype=np.int64)
    window[order] = np.arange(len(frame)) // rows
    return window


@pytest.mark.parametrize("ties", [False, True])
def test_rows_windows_hold_exactly_n_records_in_timestamp_order(ties, tmp_path):
    frame = make_log(530)
    if ties:  # long runs of one timestamp across several window boundaries
        frame.loc[frame.index[100:260], "ts"] = pd.Timestamp("2026-08-05T12:00:00Z")
        frame.loc[frame.index[300:305], "ts"] = pd.Timestamp("2026-08-06T12:00:00Z")
    path = write(frame, "parquet", tmp_path)
    windows = scan_windows(path, timestamp="ts", window=WindowSpec("rows", rows=50), batch_rows=37, **PLANS)
    assert [w.rows for w in windows] == [50] * 10 + [30]
    index = rows_oracle(frame, 50)
    for i, window in enumerate(windows):
        rows = frame[index == i]
        assert window.start == rows["ts"].min() and window.end == rows["ts"].max() + pd.Timedelta(microseconds=1)
        for plan in PLANS["numeric"]:
            assert_numeric(window.numeric[plan.column], contract(rows[plan.column].tolist(), plan.edges))
        assert_categorical(window.categorical["c"], rows["c"])


def test_rows_windows_keep_identical_records_together(tmp_path):
    """Records equal in timestamp and every scanned column are interchangeable; 12 of them across a
    boundary stay in one window rather than being split arbitrarily."""
    ts = (
        [f"2026-08-03T00:00:{s:02d}Z" for s in range(20)] + ["2026-08-03T00:01:00Z"] * 12 + ["2026-08-03T00:02:00Z"] * 8
    )
    x = list(range(20)) + [99] * 12 + list(range(8))
    pd.DataFrame({"ts": ts, "x": x}).to_csv(tmp_path / "log.csv", index=False)
    windows = scan_windows(
        tmp_path / "log.csv",
        timestamp="ts",
        window=WindowSpec("rows", rows=25),
        numeric=[NumericPlan("x", np.array([99.0]))],
        categorical=[],
    )
    assert [w.rows for w in windows] == [20, 20]
    assert windows[1].numeric["x"].at.tolist() == [12]


# --------------------------------------------------------------------------- categories, errors


def test_categories_beyond_the_cap_fold_into_other(tmp_path, monkeypatch):
    monkeypatch.setattr(scan, "MAX_CATEGORIES", 3)
    values = ["a"] * 5 + ["b"] * 4 + ["d"] * 3 + ["c"] * 3 + ["e"] * 2 + ["f"] + [None] * 2
    frame = pd.DataFrame({"ts": pd.Timestamp("2026-08-04", tz="UTC"), "c": values})
    frame.to_parquet(tmp_path / "log.parquet")
    (window,) = scan_windows(
        tmp_path / "log.parquet",
        timestamp="ts",
        window=WindowSpec("week"),
        numeric=[],
        categorical=[CategoricalPlan("c")],
    )
    agg = window.categorical["c"]
    assert agg.counts == {"a": 5, "b": 4, "c": 3, OTHER: 6}  # c before d: ties broken by the text
    assert (agg.missing, agg.count) == (2, 18)


def test_float_categories_are_text_and_nan_is_missing(tmp_path):
    frame = pd.DataFrame(
        {
            "ts": pd.Timestamp("2026-08-04", tz="UTC"),
            "g": [1.0, 2.0, 2.0, np.nan, np.inf],
            "b": [True, False, True, None, True],
        }
    )
    frame.to_parquet(tmp_path / "log.parquet")
    (window,) = scan_windows(
        tmp_path / "log.parquet",
        timestamp="ts",
        window=WindowSpec("week"),
        numeric=[],
        categorical=[CategoricalPlan("g"), CategoricalPlan("b")],
    )
    assert (window.categorical["g"].counts, window.categorical["g"].missing) == ({"1.0": 1, "2.0": 2}, 2)
    assert (window.categorical["b"].counts, window.categorical["b"].missing) == ({"true": 3, "false": 1}, 1)


@pytest.mark.parametrize("kind", ["week", "rows"])
def test_unparsable_timestamp_names_file_and_column(kind, tmp_path):
    good = "ts,x\n2026-08-03T10:00:00Z,1\n"
    (tmp_path / "a.csv").write_text(good)
    (tmp_path / "b.csv").write_text(good + "yesterday,2\n")
    window = WindowSpec(kind, rows=10 if kind == "rows" else None)
    with pytest.raises(ScanError) as caught:
        scan_windows(
            str(tmp_path / "*.csv"),
            timestamp="ts",
            window=window,
            numeric=[NumericPlan("x", np.array([1.0]))],
            categorical=[],
        )
    message = str(caught.value)
    assert "b.csv" in message and "'ts'" in message and "'yesterday'" in message and "Traceback" not in message


def test_empty_timestamp_is_reported(tmp_path):
    (tmp_path / "log.jsonl").write_text('{"ts": "2026-08-03T10:00:00Z", "x": 1}\n{"x": 2}\n')
    with pytest.raises(ScanError, match=r"log.jsonl: column 'ts' is empty"):
        scan_windows(
            tmp_path / "log.jsonl",
            timestamp="ts",
            window=WindowSpec("day"),
            numeric=[NumericPlan("x", np.array([1.0]))],
            categorical=[],
        )


def test_missing_column_non_numeric_value_and_no_files(tmp_path):
    (tmp_path / "log.csv").write_text("ts,x\n2026-08-03T10:00:00Z,abc\n")
    plan = [NumericPlan("x", np.array([1.0]))]
    with pytest.raises(ScanError, match=r"log.csv: no column 'y'"):
        scan_windows(
            tmp_path / "log.csv",
            timestamp="ts",
            window=WindowSpec("week"),
            numeric=[NumericPlan("y", np.array([1.0]))],
            categorical=[],
        )
    with pytest.raises(ScanError, match=r"cannot scan .*log.csv.*abc"):
        scan_windows(tmp_path / "log.csv", timestamp="ts", window=WindowSpec("week"), numeric=plan, categorical=[])
    with pytest.raises(ScanError, match="no CSV, Parquet or JSON Lines files"):
        scan_windows(
            str(tmp_path / "*.parquet"), timestamp="ts", window=WindowSpec("week"), numeric=plan, categorical=[]
        )
    pd.DataFrame({"ts": [1, 2], "x": [1.0, 2.0]}).to_parquet(tmp_path / "n.parquet")
    with pytest.raises(ScanError, match=r"column 'ts' holds BIGINT"):
        scan_windows(tmp_path / "n.parquet", timestamp="ts", window=WindowSpec("week"), numeric=plan, categorical=[])


def test_an_empty_log_has_no_windows(tmp_path):
    (tmp_path / "log.csv").write_text("ts,x\n")
    assert (
        scan_windows(
            tmp_path / "log.csv",
            timestamp="ts",
            window=WindowSpec("week"),
            numeric=[NumericPlan("x", np.array([1.0]))],
            categorical=[],
        )
        == []
    )


def test_threads_and_batches_do_not_change_the_result(tmp_path):
    frame = make_log(900, seed=3)
    path = write(frame, "parquet", tmp_path)
    a = scan_windows(path, timestamp="ts", window=WindowSpec("rows", rows=64), threads=1, batch_rows=1000, **PLANS)
    b = scan_windows(path, timestamp="ts", window=WindowSpec("rows", rows=64), threads=2, batch_rows=17, **PLANS)
    for left, right in zip(a, b, strict=True):
        assert (left.start, left.end, left.rows) == (right.start, right.end, right.rows)
        assert left.categorical == right.categorical
        for name in left.numeric:
            assert left.numeric[name].at.tolist() == right.numeric[name].at.tolist()
            assert left.numeric[name].between.tolist() == right.numeric[name].between.tolist()


def test_a_log_of_many_row_groups_gives_the_same_sums_every_time(tmp_path):
    """The per-cell sums are added batch by batch, so they depend on the order the batches arrive
    in: the numeric pass reads the files with one DuckDB thread, in order, and the same log gives the
    same sums to the last bit, scan after scan (with two reading threads they differed)."""
    rng = np.random.default_rng(11)
    rows = 300_000
    frame = pd.DataFrame(
        {
            "ts": pd.Timestamp("2026-03-02", tz="UTC") + pd.to_timedelta(rng.integers(0, 6 * 86_400, rows), unit="s"),
            "x": rng.lognormal(0.0, 1.5, rows),
        }
    )
    path = tmp_path / "log.parquet"
    frame.to_parquet(path, row_group_size=10_000)  # 30 row groups: 3 batches of 131,072 records
    plan = NumericPlan("x", np.quantile(frame["x"], np.linspace(0, 1, 301)))
    sums = set()
    for _ in range(6):
        (window,) = scan_windows(
            path, timestamp="ts", window=WindowSpec("week"), numeric=[plan], categorical=[], threads=2
        )
        sums.add(window.numeric["x"].between_sum.tobytes())
    assert len(sums) == 1


def test_lookup_search_equals_searchsorted():
    rng = np.random.default_rng(5)
    cases = [
        np.unique(np.quantile(rng.normal(size=5000), np.linspace(0, 1, 1001))),
        np.unique(np.round(rng.normal(50, 10, 5000))),
        np.unique(np.concatenate([np.arange(100.0), [5e11]])),  # one far edge: falls back to searchsorted
        np.unique(rng.lognormal(0, 2, 3000)),
        np.array([1e15, 1e15 + 1, 1e15 + 2] + [1e15 + 3 + i for i in range(30)]),  # cells near the ulp
    ]
    for edges in cases:
        locator = Locator(edges)
        x = np.concatenate(
            [
                edges,
                np.nextafter(edges, np.inf),
                np.nextafter(edges, -np.inf),
                rng.choice(edges, 1000) + rng.normal(0, 1e-3, 1000),
                [-1e300, 1e300],
            ]
        )
        assert np.array_equal(locator.left(x), np.searchsorted(edges, x, "left"))


# --------------------------------------------------------------------------- outcomes


def test_outcomes_join_ground_truth_by_id(tmp_path):
    frame = make_log(600, seed=2)
    path = write(frame, "parquet", tmp_path)
    known = frame.sample(frac=0.7, random_state=4)
    unknown = frame.loc[~frame["id"].isin(known["id"]), "id"].iloc[0]
    truth = pd.DataFrame({"record": known["id"].astype(str), "label": (known["id"] % 3 == 0).astype("Int64")})
    extra = pd.DataFrame({"record": ["nope", None, str(unknown)], "label": pd.array([1, 1, None], dtype="Int64")})
    truth = pd.concat([truth, truth.head(20), extra])  # a repeated outcome counts once; a missing label is no outcome
    truth.to_json(tmp_path / "truth.jsonl", orient="records", lines=True)
    coverage = OutcomeCoverage()
    windows = list(
        scan_outcomes(
            path, timestamp="ts", window=WindowSpec("week"), log_id="id", truth=tmp_path / "truth.jsonl", truth_id="record",
            truth_label="label", prediction="p", score="s", batch_rows=50, coverage=coverage,
        )
    )  # fmt: skip
    # every ground-truth row is used or accounted for: 20 repeats, 2 without id or outcome, 1 id never scored
    assert (coverage.rows, coverage.repeated, coverage.incomplete, coverage.unmatched) == (len(truth), 20, 2, 1)
    assert coverage.used == len(known) == sum(len(w.labels) for w in windows)
    keys = window_start(frame["ts"], "week")
    assert [w.start for w in windows] == [MONDAY + pd.Timedelta(weeks=i) for i in range(5)]
    labelled = frame["id"].isin(known["id"])
    for window in windows:
        rows = frame[keys == window.start]
        have = rows[labelled[rows.index]]
        assert window.rows == len(rows) and window.unlabelled == len(rows) - len(have)
        assert len(window.labels) == len(window.predictions) == len(window.scores) == len(have)
        got = sorted(zip(window.scores.tolist(), window.labels.tolist(), window.predictions.tolist(), strict=True))
        want = sorted(zip(have["s"], (have["id"] % 3 == 0).astype(int), have["p"], strict=True))
        assert got == want


def test_outcomes_rows_windows_match_scan_windows(tmp_path):
    frame = make_log(300, seed=6)
    path = write(frame, "csv", tmp_path)
    frame[["id"]].assign(y=1).to_csv(tmp_path / "truth.csv", index=False)
    spec = WindowSpec("rows", rows=70)
    outcomes = list(
        scan_outcomes(
            path, timestamp="ts", window=spec, log_id="id", truth=tmp_path / "truth.csv", truth_id="id", truth_label="y"
        )
    )
    windows = scan_windows(path, timestamp="ts", window=spec, **PLANS)
    assert [(o.start, o.end, o.rows, len(o.labels), o.predictions) for o in outcomes] == [
        (w.start, w.end, w.rows, w.rows, None) for w in windows
    ]


def test_conflicting_outcomes_are_an_error(tmp_path):
    (tmp_path / "log.csv").write_text("ts,id,p\n2026-08-03T10:00:00Z,1,0\n")
    (tmp_path / "truth.csv").write_text("id,y\n1,0\n1,1\n")
    with pytest.raises(ScanError, match=r"truth.csv: 1 id\(s\) in column 'id' have different outcomes"):
        list(
            scan_outcomes(
                tmp_path / "log.csv",
                timestamp="ts",
                window=WindowSpec("week"),
                log_id="id",
                truth=tmp_path / "truth.csv",
                truth_id="id",
                truth_label="y",
                prediction="p",
            )
        )


def test_gzip_jsonl_is_read(tmp_path):
    frame = make_log(120)
    write_jsonl(frame, tmp_path / "plain.jsonl")
    with open(tmp_path / "plain.jsonl", "rb") as src, gzip.open(tmp_path / "log.jsonl.gz", "wb") as dst:
        dst.write(src.read())
    (tmp_path / "plain.jsonl").unlink()
    windows = scan_windows(tmp_path / "log.jsonl.gz", timestamp="ts", window=WindowSpec("week"), **PLANS)
    check(windows, frame, window_start(frame["ts"], "week"))


# --------------------------------------------------------------------------- one window as the reference


@pytest.mark.parametrize("which", [2, dt.date(2026, 8, 13)])
def test_read_window_returns_the_records_of_one_calendar_window(which, tmp_path):
    frame = make_log()
    path = write(frame, "parquet", tmp_path)
    got = scan.read_window(path, timestamp="ts", window=WindowSpec("week"), columns=["x", "c", "p"], which=which)
    week = frame[window_start(frame["ts"], "week") == MONDAY + pd.Timedelta(weeks=1)].sort_values("ts")
    assert got.start == MONDAY + pd.Timedelta(weeks=1) and got.end == MONDAY + pd.Timedelta(weeks=2)
    assert list(got.frame.columns) == ["x", "c", "p"]
    assert len(got.frame) == len(week)
    np.testing.assert_array_equal(np.sort(got.frame["x"].to_numpy()), np.sort(week["x"].to_numpy()))
    assert sorted(got.frame["c"].fillna("~")) == sorted(week["c"].fillna("~"))
    assert got.frame["p"].dtype.kind == "i"  # types as the file has them: an integer stays an integer


def test_read_window_numbers_rows_windows_like_scan_windows(tmp_path):
    frame = make_log(530)
    path = write(frame, "parquet", tmp_path)
    got = scan.read_window(path, timestamp="ts", window=WindowSpec("rows", rows=50), columns=["x", "k", "c"], which=3)
    index = rows_oracle(frame, 50)
    want = frame[index == 2]
    assert len(got.frame) == 50
    np.testing.assert_array_equal(np.sort(got.frame["x"].to_numpy()), np.sort(want["x"].to_numpy()))


@pytest.mark.parametrize(
    ("which", "message"),
    [
        (3, "window 3 holds no records"),  # the empty third week
        (6, "the log has 5 week windows, so no window 6"),
        (dt.date(2026, 12, 1), "no record in the week of 2026-12-01"),
    ],
)
def test_read_window_names_what_is_wrong(which, message, tmp_path):
    path = write(make_log(), "parquet", tmp_path)
    with pytest.raises(ScanError, match=message):
        scan.read_window(path, timestamp="ts", window=WindowSpec("week"), columns=["x"], which=which)
