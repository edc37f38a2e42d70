"""Evidently's own per-column drift verdicts, as JSON, for comparison with modelgov's.

Evidently does not import under pandas 3, so this runs in a separate environment:

    python3 -m venv /tmp/evenv && /tmp/evenv/bin/pip install "evidently==0.7.23" "pandas<3"
    /tmp/evenv/bin/python benchmarks/evidently_agreement.py --reference ref.csv \
        --numerical temp,cnt --categorical season cur1.csv cur2.csv

It prints ``{"evidently": version, "results": {current file: {"columns": {column: {"method",
"score", "threshold", "drifted"}}, "count": ..., "share": ..., "dataset_drift": ...}}}`` using the
public 0.7 API (``Report`` of ``ValueDrift`` per column and ``DriftedColumnsCount``, default rule and
thresholds); ``drifted`` is the status of Evidently's own drift test for the column.

``--bike-sharing bike_day.csv`` instead prints the fixture ``benchmarks/results-evidently-bike-sharing.json``:
UCI Bike Sharing, daily, 2011 as the reference and each month of 2012 as the current data, with the
model's output ``cnt`` counted as one more column (``output_counted``) and without it (``features_only``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import evidently
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.metrics import DriftedColumnsCount, ValueDrift

# Evidently's display names → the method names modelgov uses.
METHOD_NAMES = {
    "K-S p_value": "ks",
    "Wasserstein distance (normed)": "wasserstein",
    "chi-square p_value": "chisquare",
    "Z-test p_value": "z",
    "Jensen-Shannon distance": "jensenshannon",
    "PSI": "psi",
}


def verdicts(reference: pd.DataFrame, current: pd.DataFrame, numerical: list[str], categorical: list[str]) -> dict:
    columns = numerical + categorical
    definition = DataDefinition(numerical_columns=numerical, categorical_columns=categorical)
    ref = Dataset.from_pandas(reference[columns], data_definition=definition)
    cur = Dataset.from_pandas(current[columns], data_definition=definition)
    report = Report(
        [ValueDrift(column=c) for c in columns] + [DriftedColumnsCount(columns=columns)], include_tests=True
    )
    snapshot = report.run(cur, ref).dict()
    out: dict = {"columns": {}}
    for metric in snapshot["metrics"]:
        config = metric["config"]
        if config["type"].endswith("ValueDrift"):
            out["columns"][config["column"]] = {
                "method": METHOD_NAMES.get(config["method"], config["method"]),
                "score": float(metric["value"]),
                "threshold": float(config["threshold"]),
            }
        elif config["type"].endswith("DriftedColumnsCount"):
            out["count"] = int(metric["value"]["count"])
            out["share"] = float(metric["value"]["share"])
            out["dataset_drift"] = out["share"] >= config["drift_share"]
    for test in snapshot["tests"]:
        params = test["metric_config"]["params"]
        if test["id"] == "drift" and params["type"].endswith("ValueDrift"):
            out["columns"][params["column"]]["drifted"] = test["status"] == "FAIL"
    return out


# Bike Sharing, daily: the kinds modelgov infers (integers with more than ten values are numeric).
BIKE_NUMERICAL = ["mnth", "temp", "atemp", "hum", "windspeed"]
BIKE_CATEGORICAL = ["season", "yr", "holiday", "weekday", "workingday", "weathersit"]
BIKE_OUTPUT = "cnt"
BIKE_COMMAND = (
    "python3 -m venv /tmp/evenv && /tmp/evenv/bin/pip install 'evidently==0.7.23' 'pandas<3' && "
    "/tmp/evenv/bin/python benchmarks/evidently_agreement.py --bike-sharing ../shared/data/bike_day.csv "
    "> benchmarks/results-evidently-bike-sharing.json"
)


def bike_sharing(path: Path) -> dict:
    """Evidently on each month of 2012 against 2011, with and without the output ``cnt`` among the columns."""
    day = pd.read_csv(path)
    reference = day[day.yr == 0]
    months = {f"2012-{m:02d}": day[(day.yr == 1) & (day.mnth == m)] for m in range(1, 13)}
    with_output, features_only = {}, {}
    for month, current in months.items():
        with_output[month] = verdicts(reference, current, [*BIKE_NUMERICAL, BIKE_OUTPUT], BIKE_CATEGORICAL)
        features_only[month] = verdicts(reference, current, BIKE_NUMERICAL, BIKE_CATEGORICAL)
    return {
        "produced_by": BIKE_COMMAND,
        "why_a_fixture": "Evidently 0.7.23 does not import under pandas 3, which modelgov uses; "
        "tests/test_drift_share.py compares modelgov with these figures month by month",
        "evidently": evidently.__version__,
        "pandas": pd.__version__,
        "data": {
            "file": path.name,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "source": "UCI Bike Sharing (Fanaee-T and Gama, 2013), daily counts",
            "reference": f"2011 (yr == 0), {len(reference)} days",
            "current": "each calendar month of 2012 (yr == 1)",
        },
        "numerical": BIKE_NUMERICAL,
        "categorical": BIKE_CATEGORICAL,
        "output": BIKE_OUTPUT,
        "drift_share": 0.5,
        "output_counted": with_output,
        "features_only": features_only,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bike-sharing", type=Path, help="bike_day.csv: print the Bike Sharing fixture")
    parser.add_argument("--reference")
    parser.add_argument("--numerical", default="")
    parser.add_argument("--categorical", default="")
    parser.add_argument("current", nargs="*")
    args = parser.parse_args(argv)
    if args.bike_sharing:
        json.dump(bike_sharing(args.bike_sharing), sys.stdout, indent=1)
        print()
        return 0
    if not args.reference or not args.current:
        parser.error("give --reference and the current files, or --bike-sharing")
    numerical = [c for c in args.numerical.split(",") if c]
    categorical = [c for c in args.categorical.split(",") if c]
    reference = pd.read_csv(args.reference)
    results = {path: verdicts(reference, pd.read_csv(path), numerical, categorical) for path in args.current}
    json.dump({"evidently": evidently.__version__, "results": results}, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
