"""Time and measure the memory of :func:`modelgov.monitoring.scan.scan_windows` on a large log.

The log is generated once and cached (``--data``, default under /tmp): 10M records over 20 weeks,
a UTC timestamp, a record id, 25 numeric features (every fifth rounded to integers, so ties on edges are common;
1 % missing) and 5 categorical ones (3 to 3,000 distinct values, Zipf-distributed, so the largest
folds into "(other)"). Each numeric feature is counted on edges from a reference sample: its
distinct values when there are at most 5,000 of them (the rounded features: about 80), else 1,001
of its quantiles (816 edges per feature on average). Run under GNU time to see the peak memory:

    /usr/bin/time -v python benchmarks/scan_benchmark.py              # "Maximum resident set size"
    python benchmarks/scan_benchmark.py --window rows --rows-per-window 500000
    python benchmarks/scan_benchmark.py --plain-search                # np.searchsorted, no lookup table
    python benchmarks/scan_benchmark.py --outcomes                    # scan_outcomes: join 7M outcomes
    python benchmarks/scan_benchmark.py --json benchmarks/results-scan.json

The figures include ``peak_rss_mb``, the process's own peak resident set (what GNU time reports as
"Maximum resident set size"); it covers the generation too on the run that writes the log, so measure
on a later run. ``--json`` adds the figures to that file, replacing an earlier run of the same
configuration. Figures from one run are recorded in docs/performance.md.

Generation writes row groups of 500k records with pyarrow, so it never holds the log either.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from modelgov.monitoring import numeric_cells, outcome_scan, scan
from modelgov.monitoring.aggregates import CategoricalPlan, NumericPlan, WindowSpec

START = dt.datetime(2026, 8, 3, tzinfo=dt.UTC)  # a Monday
WEEKS = 20
NUMERIC = 25
CARDINALITIES = (3, 12, 50, 200, 3000)
CHUNK = 500_000


def numeric_column(j: int, rng: np.random.Generator, n: int, drift: np.ndarray) -> np.ndarray:
    x = np.round(rng.normal(50 + 5 * drift, 10, n)) if j % 5 == 0 else rng.normal(0.3 * drift, 1, n) * (j + 1)
    x[rng.random(n) < 0.01] = np.nan
    return x


def generate(path: Path, rows: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    rng = np.random.default_rng(0)
    span = WEEKS * 7 * 86_400 * 10**6
    origin = np.datetime64(START.replace(tzinfo=None), "us")
    writer = None
    for first in range(0, rows, CHUNK):
        n = min(CHUNK, rows - first)
        position = np.arange(first, first + n, dtype=np.int64)
        columns = {
            "timestamp": pa.array(
                origin + (position * (span // rows)).astype("timedelta64[us]"), pa.timestamp("us", "UTC")
            ),
            "id": pa.array(position),
        }
        drift = position / rows
        for j in range(NUMERIC):
            columns[f"x{j:02d}"] = pa.array(numeric_column(j, rng, n, drift))
        for j, k in enumerate(CARDINALITIES):
            columns[f"c{j}"] = pa.array(np.char.add("v", (rng.zipf(1.5, n) % k).astype(str))).dictionary_encode()
        table = pa.table(columns)
        writer = writer or pq.ParquetWriter(partial, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()
    partial.rename(path)


def generate_truth(path: Path, rows: int) -> None:
    """Outcomes for 70 % of the records (those whose id is not 3, 6 or 9 mod 10), label = id mod 7 == 0."""
    partial = path.with_suffix(".partial")
    writer = None
    for first in range(0, rows, CHUNK):
        ids = np.arange(first, min(first + CHUNK, rows), dtype=np.int64)
        ids = ids[~np.isin(ids % 10, [3, 6, 9])]
        table = pa.table({"id": ids, "label": (ids % 7 == 0).astype(np.int64)})
        writer = writer or pq.ParquetWriter(partial, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()
    partial.rename(path)


def run_outcomes(path: Path, truth: Path, args: argparse.Namespace) -> dict:
    started = time.perf_counter()
    windows = labelled = unlabelled = largest = 0
    for window in outcome_scan.scan_outcomes(
        path,
        timestamp="timestamp",
        window=WindowSpec(args.window, rows=args.rows_per_window if args.window == "rows" else None),
        log_id="id",
        truth=truth,
        truth_id="id",
        truth_label="label",
        prediction="c0",
        score="x01",
        memory_limit=args.memory_limit,
        threads=args.threads,
        batch_rows=args.batch_rows,
    ):
        windows += 1
        labelled += len(window.labels)
        unlabelled += window.unlabelled
        largest = max(largest, len(window.labels))
    seconds = time.perf_counter() - started
    return {
        "function": "scan_outcomes",
        "windows": windows,
        "labelled": labelled,
        "unlabelled": unlabelled,
        "largest_window_labelled": largest,
        "seconds": round(seconds, 2),
        "rows_per_second": round((labelled + unlabelled) / seconds),
    }


def plans() -> tuple[list[NumericPlan], list[CategoricalPlan]]:
    """Edges from a reference sample drawn like the first weeks of the log."""
    rng = np.random.default_rng(1)
    numeric = []
    for j in range(NUMERIC):
        sample = numeric_column(j, rng, 20_000, np.zeros(20_000))
        sample = sample[np.isfinite(sample)]
        distinct = np.unique(sample)
        edges = distinct if len(distinct) <= 5000 else np.unique(np.quantile(sample, np.linspace(0, 1, 1001)))
        numeric.append(NumericPlan(f"x{j:02d}", edges))
    return numeric, [CategoricalPlan(f"c{j}") for j in range(len(CARDINALITIES))]


def peak_rss_mb() -> int:
    """This process's peak resident set so far, in MB (Linux reports ru_maxrss in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def record(path: Path, result: dict) -> None:
    """Add ``result`` to the list in ``path``, replacing a run of the same configuration."""
    keys = ("function", "rows", "window", "rows_per_window", "memory_limit", "threads", "batch_rows", "search")
    runs = json.loads(path.read_text()) if path.exists() else []
    runs = [r for r in runs if any(r.get(k) != result.get(k) for k in keys)]
    path.write_text(json.dumps([*runs, result], indent=2) + "\n")


def environment() -> dict:
    return {"python": platform.python_version(), "cores": os.cpu_count(), "duckdb": duckdb.__version__}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--data", type=Path, default=Path("/tmp/modelgov-scan-benchmark"))
    parser.add_argument("--window", choices=["day", "week", "month", "rows"], default="week")
    parser.add_argument("--rows-per-window", type=int, default=500_000)
    parser.add_argument("--memory-limit", default="1GB")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--batch-rows", type=int, default=scan.BATCH_ROWS)
    parser.add_argument("--plain-search", action="store_true", help="np.searchsorted only (no lookup table)")
    parser.add_argument("--no-categorical", action="store_true")
    parser.add_argument("--outcomes", action="store_true", help="time scan_outcomes (join with ground truth) instead")
    parser.add_argument("--json", type=Path, help="also add the figures to this file")
    args = parser.parse_args()

    path = args.data / f"log-{args.rows}.parquet"
    generated = False
    if not path.exists():
        started = time.perf_counter()
        generate(path, args.rows)
        generated = True
        print(f"generated {path} ({path.stat().st_size / 1e6:,.0f} MB) in {time.perf_counter() - started:.1f} s")
    if args.outcomes:
        truth = args.data / f"truth-{args.rows}.parquet"
        if not truth.exists():
            generate_truth(truth, args.rows)
            generated = True
        result = run_outcomes(path, truth, args)
        result.update(
            window=args.window,
            rows_per_window=args.rows_per_window if args.window == "rows" else None,
            memory_limit=args.memory_limit,
            threads=args.threads or os.cpu_count(),
            batch_rows=args.batch_rows,
            peak_rss_mb=peak_rss_mb(),
            peak_includes_generation=generated,
            **environment(),
        )
        print(json.dumps(result, indent=2))
        if args.json:
            record(args.json, result)
        return
    if args.plain_search:
        numeric_cells.Locator.MIN_EDGES = 10**9
    numeric, categorical = plans()
    window = WindowSpec(args.window, rows=args.rows_per_window if args.window == "rows" else None)
    started = time.perf_counter()
    windows = scan.scan_windows(
        path,
        timestamp="timestamp",
        window=window,
        numeric=numeric,
        categorical=[] if args.no_categorical else categorical,
        memory_limit=args.memory_limit,
        threads=args.threads,
        batch_rows=args.batch_rows,
    )
    seconds = time.perf_counter() - started
    rows = sum(w.rows for w in windows)
    assert rows == args.rows, (rows, args.rows)
    edges = sum(len(p.edges) for p in numeric)
    result = {
        "function": "scan_windows",
        "rows": rows,
        "columns": len(numeric) + (0 if args.no_categorical else len(categorical)),
        "window": args.window,
        "rows_per_window": args.rows_per_window if args.window == "rows" else None,
        "windows": len(windows),
        "edges_per_numeric_feature": round(edges / len(numeric)),
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds),
        "memory_limit": args.memory_limit,
        "threads": args.threads or os.cpu_count(),
        "batch_rows": args.batch_rows,
        "search": "np.searchsorted" if args.plain_search else "lookup table + searchsorted fallback",
        "other_folded": sum(w.categorical["c4"].counts.get("(other)", 0) for w in windows if "c4" in w.categorical),
        "peak_rss_mb": peak_rss_mb(),
        "peak_includes_generation": generated,
        **environment(),
    }
    print(json.dumps(result, indent=2))
    if generated:
        print("the peak memory includes generating the log: run again to measure the scan alone")
    if args.json:
        record(args.json, result)


if __name__ == "__main__":
    main()
