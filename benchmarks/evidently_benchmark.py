"""Time and measure the memory of modelgov's drift against Evidently's data-drift preset, on the same data.

For each size (``--rows``, default 100,000 and 1,000,000 records per side) a reference table and a
current log are generated with a fixed seed and written as Parquet under ``--data`` (default /tmp):
20 numeric features (normal, lognormal, exponential, uniform, Student t, beta, gamma, a bimodal
mixture, values rounded to one decimal or to integers, Poisson counts stored as int64; 1 % missing in
some) and 5 categorical ones (2 to 500 values, Zipf-like; one gains categories the reference never
had), about a third of them drifted in the current log so that the verdicts are mixed. The current
log has a timestamp, all within one week.

Each side then runs as its own process under GNU time (``/usr/bin/time -v``), so wall time and peak
memory ("Maximum resident set size") are measured the same way and include the interpreter, the
imports and reading the Parquet files:

* **modelgov**: what a build does for one window: the reference read with ``read_table`` and
  profiled (:func:`~modelgov.monitoring.reference.profile_reference`), a plan per feature with
  Evidently's default rule (:func:`~modelgov.monitoring.drift.plan_feature`), the log scanned out of
  core (:func:`~modelgov.monitoring.scan.scan_windows`, weekly windows: one window holds the whole
  log), then :func:`~modelgov.monitoring.drift.feature_drift` per feature and
  :func:`~modelgov.monitoring.drift.dataset_drift`.
* **Evidently**: ``Report([DataDriftPreset(columns=...)], include_tests=True)`` run on the two tables
  read with pandas, its per-column verdicts taken from the snapshot as in
  ``benchmarks/evidently_agreement.py``. Evidently 0.7.23 does not import under pandas 3, so it runs
  with another Python, ``MODELGOV_EVIDENTLY_PYTHON`` (default /tmp/evenv/bin/python):

      python3 -m venv /tmp/evenv && /tmp/evenv/bin/pip install "evidently==0.7.23" "pandas<3" pyarrow

Without that Python (or without GNU time) the benchmark says so and exits without measuring.

    python benchmarks/evidently_benchmark.py --json benchmarks/results-evidently.json
    python benchmarks/evidently_benchmark.py --rows 100000 --repeat 1

Each side runs ``--repeat`` times; the table shows the fastest run's wall time and the largest peak
memory of all runs. Figures from one run are recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

NUMERIC = [f"n{j:02d}" for j in range(20)]
CATEGORICAL = [f"c{j}" for j in range(5)]
FEATURES = NUMERIC + CATEGORICAL
TIMESTAMP = "timestamp"
WEEK_START = np.datetime64("2026-08-03T00:00:00", "us")  # a Monday
ROW_GROUP = 100_000
EVIDENTLY_PYTHON = os.environ.get("MODELGOV_EVIDENTLY_PYTHON", "/tmp/evenv/bin/python")
GNU_TIME = "/usr/bin/time"


# --------------------------------------------------------------------------- data


def _zipf_shares(k: int, a: float, rng: np.random.Generator) -> np.ndarray:
    shares = 1.0 / np.arange(1, k + 1) ** a
    rng.shuffle(shares)
    return shares / shares.sum()


def _categories(k: int, shares: np.ndarray, n: int, rng: np.random.Generator, prefix: str = "v") -> np.ndarray:
    labels = np.array([f"{prefix}{i}" for i in range(k)], dtype=object)
    return labels[rng.choice(k, size=n, p=shares)]


def _with_missing(x: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    x = x.astype("float64")
    x[rng.random(len(x)) < share] = np.nan
    return x


def table(n: int, current: bool, seed: int) -> dict[str, np.ndarray]:
    """One side's columns; ``current`` applies the drifts the comments describe (the benchmark
    compares Evidently's verdicts with modelgov's, not with these intentions)."""
    rng = np.random.default_rng(seed)
    d = current
    columns: dict[str, np.ndarray] = {
        "n00": rng.normal(0, 1, n),
        "n01": rng.normal(0.5 if d else 0, 1, n),  # shift of half a standard deviation
        "n02": rng.normal(10, 3 * (1.3 if d else 1), n),  # wider
        "n03": rng.lognormal(0, 1, n),
        "n04": rng.lognormal(0, 1, n) * (1.2 if d else 1),  # heavy tail, scaled
        "n05": _with_missing(rng.exponential(2, n), 0.01, rng),
        "n06": rng.exponential(2, n) + (0.04 if d else 0),  # a shift of 0.02 sd: no drift
        "n07": rng.uniform(0, 100, n),
        "n08": rng.uniform(0, 110 if d else 100, n),  # range grows by 10 %
        "n09": np.round(rng.normal(5, 2, n), 1),  # one decimal: every value an edge
        "n10": np.round(rng.normal(52 if d else 50, 10, n)),  # integers, shifted by 0.2 sd
        "n11": rng.poisson(30, n).astype("int64"),
        "n12": rng.poisson(33 if d else 30, n).astype("int64"),
        "n13": np.where(rng.random(n) < (0.6 if d else 0.5), -2.0, 2.0) + rng.normal(0, 1, n),  # modes reweighted
        "n14": _with_missing(rng.normal(100, 15, n), 0.10 if d else 0.01, rng),  # more missing, same values
        "n15": rng.standard_t(3, n),
        "n16": rng.beta(2, 5, n),
        "n17": rng.normal(0.05 if d else 0, 1, n),  # a shift of 0.05 sd: no drift
        "n18": rng.gamma(2, 2, n) + (0.08 * np.sqrt(8) if d else 0),  # 0.08 sd: below the 0.1 threshold
        "n19": rng.lognormal(10, 0.5, n),  # incomes
    }
    layout = np.random.default_rng(12345)  # the categories' shares, the same on both sides
    shares = {k: _zipf_shares(k, 1.1, layout) for k in (5, 20, 100, 500)}
    columns["c0"] = np.where(rng.random(n) < (0.33 if d else 0.3), "yes", "no").astype(object)
    c1 = shares[5][::-1] if d else shares[5]  # the same values, their shares reversed
    columns["c1"] = _categories(5, c1, n, rng)
    c2 = _categories(20, shares[20], n, rng)
    c2[rng.random(n) < 0.01] = None
    columns["c2"] = c2
    c3 = _categories(100, shares[100], n, rng)
    if d:  # 15 % of the records take one of three values the reference never had
        new = rng.random(n) < 0.15
        c3[new] = _categories(3, np.full(3, 1 / 3), int(new.sum()), rng, prefix="new")
    columns["c3"] = c3
    columns["c4"] = _categories(500, shares[500], n, rng)
    if current:
        seconds = np.sort(rng.uniform(0, 7 * 86_400, n))
        columns = {TIMESTAMP: WEEK_START + (seconds * 1e6).astype("timedelta64[us]"), **columns}
    return columns


def generate(folder: Path, rows: int) -> tuple[Path, Path]:
    """Reference and current Parquet files of ``rows`` records each, written once and reused."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / "reference.parquet", folder / "current.parquet"
    for path, current, seed in ((paths[0], False, 1), (paths[1], True, 2)):
        if path.exists():
            continue
        columns = table(rows, current, seed)
        arrays = {
            name: pa.array(values, pa.timestamp("us", "UTC")) if name == TIMESTAMP else pa.array(values)
            for name, values in columns.items()
        }
        partial = path.with_suffix(".partial")
        pq.write_table(pa.table(arrays), partial, row_group_size=ROW_GROUP)
        partial.rename(path)
    return paths


# --------------------------------------------------------------------------- the two sides


class Phases:
    """Seconds per phase, and the process's peak RSS (MB) at the end of each."""

    def __init__(self) -> None:
        self.mark = time.perf_counter()
        self.seconds: dict[str, float] = {}
        self.peak_rss_mb: dict[str, float] = {}

    def done(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name], self.mark = now - self.mark, now
        self.peak_rss_mb[name] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def run_ours(reference_path: Path, current_path: Path) -> dict:
    """modelgov's path for one window, timed by phase (imports included)."""
    phases = Phases()
    from modelgov.monitoring.aggregates import WindowSpec
    from modelgov.monitoring.drift import dataset_drift, feature_drift, plan_feature
    from modelgov.monitoring.reference import profile_reference
    from modelgov.monitoring.scan import scan_windows
    from modelgov.sources.tables import read_table

    phases.done("import")
    # as a build does (monitoring.report_inputs.Reference): one reference column at a time, profiled, let go
    profiles = {c: profile_reference(read_table(reference_path, [c])[c], column=c) for c in FEATURES}
    phases.done("read reference")
    plans = {c: plan_feature(profiles[c]) for c in FEATURES}
    phases.done("profile + plan")
    windows = scan_windows(
        current_path,
        timestamp=TIMESTAMP,
        window=WindowSpec("week"),
        numeric=[p.aggregate for p in plans.values() if p.kind == "numeric"],
        categorical=[p.aggregate for p in plans.values() if p.kind == "categorical"],
    )
    phases.done("scan")
    if len(windows) != 1:
        raise SystemExit(f"expected one weekly window, got {len(windows)}")
    (window,) = windows
    results = {}
    for c, plan in plans.items():
        aggregate = window.numeric[c] if plan.kind == "numeric" else window.categorical[c]
        results[c] = feature_drift(plan, profiles[c], aggregate)
    dataset = dataset_drift(list(results.values()))
    phases.done("drift")
    return {
        "rows": window.rows,
        "phases_s": phases.seconds,
        "peak_rss_after_mb": phases.peak_rss_mb,
        "columns": {
            c: {
                "kind": r.kind,
                "method": r.method,
                "score": r.score,
                "threshold": r.threshold,
                "drifted": r.drifted,
                "error_bound": r.error_bound,
                "edges": len(plans[c].aggregate.edges) if r.kind == "numeric" else None,
            }
            for c, r in results.items()
        },
        "share": dataset.share,
        "dataset_drift": dataset.drifted,
    }


def run_evidently(reference_path: Path, current_path: Path) -> dict:
    """Evidently's data-drift preset, timed by phase (imports included)."""
    phases = Phases()
    import evidently
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset
    from evidently_agreement import METHOD_NAMES

    phases.done("import")
    reference = pd.read_parquet(reference_path, columns=FEATURES)
    current = pd.read_parquet(current_path, columns=FEATURES)
    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    ref = Dataset.from_pandas(reference, data_definition=definition)
    cur = Dataset.from_pandas(current, data_definition=definition)
    phases.done("read + datasets")
    snapshot = Report([DataDriftPreset(columns=FEATURES)], include_tests=True).run(cur, ref)
    phases.done("report.run")
    result = snapshot.dict()
    columns: dict[str, dict] = {}
    share = None
    for metric in result["metrics"]:
        config = metric["config"]
        if config["type"].endswith("ValueDrift"):
            columns[config["column"]] = {
                "method": METHOD_NAMES.get(config["method"], config["method"]),
                "score": float(metric["value"]),
                "threshold": float(config["threshold"]),
            }
        elif config["type"].endswith("DriftedColumnsCount"):
            share = float(metric["value"]["share"])
    for test in result["tests"]:
        params = test["metric_config"]["params"]
        if test["id"] == "drift" and params["type"].endswith("ValueDrift"):
            columns[params["column"]]["drifted"] = test["status"] == "FAIL"
    phases.done("snapshot.dict")
    return {
        "evidently": evidently.__version__,
        "pandas": pd.__version__,
        "rows": len(current),
        "phases_s": phases.seconds,
        "peak_rss_after_mb": phases.peak_rss_mb,
        "columns": columns,
        "share": share,
    }


# --------------------------------------------------------------------------- measuring a side


def _gnu_time(text: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) from ``/usr/bin/time -v`` output."""
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if not wall or not rss:
        raise RuntimeError(f"cannot read GNU time's report:\n{text}")
    seconds = 0.0
    for part in wall.group(1).split(":"):
        seconds = seconds * 60 + float(part)
    return seconds, int(rss.group(1)) / 1024


def measure(python: str, side: str, reference: Path, current: Path, repeat: int) -> dict:
    """Run one side ``repeat`` times as a process under GNU time: its result, the fastest wall time,
    the largest peak RSS, and every run's figures."""
    runs = []
    result: dict = {}
    with tempfile.TemporaryDirectory(prefix="modelgov-evidently-benchmark-") as scratch:
        out, timing = Path(scratch) / "result.json", Path(scratch) / "time.txt"
        for _ in range(repeat):
            command = [GNU_TIME, "-v", "-o", str(timing), python, __file__, "--side", side]
            command += ["--reference", str(reference), "--current", str(current), "--out", str(out)]
            completed = subprocess.run(command, capture_output=True, text=True, check=False)
            if completed.returncode != 0:
                raise SystemExit(f"{side} failed ({completed.returncode}):\n{completed.stderr[-4000:]}")
            wall, rss = _gnu_time(timing.read_text())
            result = json.loads(out.read_text())
            runs.append(
                {
                    "wall_s": round(wall, 2),
                    "peak_rss_mb": round(rss),
                    "phases_s": {k: round(v, 3) for k, v in result["phases_s"].items()},
                    "peak_rss_after_mb": result["peak_rss_after_mb"],
                }
            )
    fastest = min(runs, key=lambda r: r["wall_s"])
    return {
        "result": result,
        "wall_s": fastest["wall_s"],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "phases_s": {k: round(v, 3) for k, v in fastest["phases_s"].items()},
        "runs": runs,
    }


def compare(rows: int, ours: dict, theirs: dict) -> dict:
    mine, other = ours["result"], theirs["result"]
    columns = {}
    for c in FEATURES:
        a, b = mine["columns"][c], other["columns"][c]
        columns[c] = {
            "method": a["method"],
            "same_method": a["method"] == b["method"],
            "modelgov_score": a["score"],
            "evidently_score": b["score"],
            "abs_difference": abs(a["score"] - b["score"]),
            "modelgov_drifted": a["drifted"],
            "evidently_drifted": b["drifted"],
            "agree": a["drifted"] == b["drifted"] and a["method"] == b["method"],
            "modelgov_error_bound": a["error_bound"],
        }
    agree = sum(v["agree"] for v in columns.values())
    return {
        "rows_per_side": rows,
        "numeric_features": len(NUMERIC),
        "categorical_features": len(CATEGORICAL),
        "evidently_wall_s": theirs["wall_s"],
        "modelgov_wall_s": ours["wall_s"],
        "wall_ratio": round(theirs["wall_s"] / ours["wall_s"], 1),
        "evidently_peak_rss_mb": theirs["peak_rss_mb"],
        "modelgov_peak_rss_mb": ours["peak_rss_mb"],
        "rss_ratio": round(theirs["peak_rss_mb"] / ours["peak_rss_mb"], 1),
        "evidently_compute_s": round(sum(v for k, v in theirs["phases_s"].items() if k != "import"), 2),
        "modelgov_compute_s": round(sum(v for k, v in ours["phases_s"].items() if k != "import"), 2),
        "evidently_phases_s": theirs["phases_s"],
        "modelgov_phases_s": ours["phases_s"],
        "verdicts_agree": agree,
        "columns_compared": len(columns),
        "drifted_modelgov": sorted(c for c, v in columns.items() if v["modelgov_drifted"]),
        "drifted_evidently": sorted(c for c, v in columns.items() if v["evidently_drifted"]),
        "share_modelgov": mine["share"],
        "share_evidently": other["share"],
        "max_abs_score_difference": max(v["abs_difference"] for v in columns.values()),
        "columns": columns,
        "runs": {"modelgov": ours["runs"], "evidently": theirs["runs"]},
    }


def evidently_version() -> str | None:
    """Evidently's version in the other Python, or None (with the reason printed) when unusable."""
    if not Path(EVIDENTLY_PYTHON).is_file():
        print(f"skipping: no Python at {EVIDENTLY_PYTHON} (set MODELGOV_EVIDENTLY_PYTHON; see the module docstring)")
        return None
    probe = "import evidently, pandas, pyarrow; print(evidently.__version__)"
    completed = subprocess.run([EVIDENTLY_PYTHON, "-c", probe], capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        last = (completed.stderr.strip().splitlines() or ["?"])[-1]
        print(f"skipping: {EVIDENTLY_PYTHON} cannot import evidently, pandas and pyarrow ({last})")
        return None
    return completed.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000], help="records per side")
    parser.add_argument("--data", type=Path, default=Path("/tmp/modelgov-evidently-benchmark"))
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side per size")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--side", choices=["ours", "evidently"], help=argparse.SUPPRESS)
    parser.add_argument("--reference", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--current", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.side:  # one side, in its own process
        run = run_ours if args.side == "ours" else run_evidently
        args.out.write_text(json.dumps(run(args.reference, args.current)))
        return

    version = evidently_version()
    if version is None:
        return
    if not (Path(GNU_TIME).is_file() and os.access(GNU_TIME, os.X_OK)):
        print(f"skipping: {GNU_TIME} (GNU time) is needed to measure peak memory")
        return
    results = []
    for rows in args.rows:
        started = time.perf_counter()
        reference, current = generate(args.data / str(rows), rows)
        print(f"{rows:,} rows per side: data in {args.data / str(rows)} ({time.perf_counter() - started:.1f} s)")
        ours = measure(sys.executable, "ours", reference, current, args.repeat)
        theirs = measure(EVIDENTLY_PYTHON, "evidently", reference, current, args.repeat)
        results.append(compare(rows, ours, theirs))
    import duckdb
    import pandas as pd

    environment = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cores": os.cpu_count(),
        "pandas": pd.__version__,
        "duckdb": duckdb.__version__,
        "evidently": version,
        "evidently_pandas": theirs["result"]["pandas"],
        "repeat": args.repeat,
    }
    print(
        f"python {environment['python']}, pandas {environment['pandas']}, duckdb {environment['duckdb']};"
        f" evidently {version} with pandas {environment['evidently_pandas']}; {environment['cores']} cores"
    )
    print(
        f"{'rows/side':>10} {'Evidently':>10} {'modelgov':>9} {'ratio':>6} {'Evidently RSS':>14}"
        f" {'modelgov RSS':>13} {'ratio':>6} {'agree':>6} {'max |Δscore|':>13}"
    )
    for r in results:
        print(
            f"{r['rows_per_side']:>10,} {r['evidently_wall_s']:>9.2f}s {r['modelgov_wall_s']:>8.2f}s"
            f" {r['wall_ratio']:>5.1f}x {r['evidently_peak_rss_mb']:>11,} MB {r['modelgov_peak_rss_mb']:>10,} MB"
            f" {r['rss_ratio']:>5.1f}x {r['verdicts_agree']:>3}/{r['columns_compared']}"
            f" {r['max_abs_score_difference']:>13.2g}"
        )
        for c, v in r["columns"].items():
            if not v["agree"]:
                print(f"    {c}: modelgov {v['method']} {v['modelgov_score']:.6g} drifted={v['modelgov_drifted']},"
                      f" Evidently {v['evidently_score']:.6g} drifted={v['evidently_drifted']}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"environment": environment, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
