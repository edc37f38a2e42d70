"""Evidently's own per-column drift verdicts, as JSON, for comparison with modelgov's.

Evidently does not import under pandas 3, so this runs in a separate environment:

    python3 -m venv /tmp/evenv && /tmp/evenv/bin/pip install "evidently==0.7.23" "pandas<3"
    /tmp/evenv/bin/python benchmarks/evidently_agreement.py --reference ref.csv \
        --numerical temp,cnt --categorical season cur1.csv cur2.csv

It prints ``{"evidently": version, "results": {current file: {"columns": {column: {"method",
"score", "threshold", "drifted"}}, "share": ..., "dataset_drift": ...}}}`` using the public 0.7 API
(``Report`` of ``ValueDrift`` per column and ``DriftedColumnsCount``, default rule and thresholds);
``drifted`` is the status of Evidently's own drift test for the column.
"""

from __future__ import annotations

import argparse
import json
import sys

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
            out["share"] = float(metric["value"]["share"])
            out["dataset_drift"] = out["share"] >= config["drift_share"]
    for test in snapshot["tests"]:
        params = test["metric_config"]["params"]
        if test["id"] == "drift" and params["type"].endswith("ValueDrift"):
            out["columns"][params["column"]]["drifted"] = test["status"] == "FAIL"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", required=True)
    parser.add_argument("--numerical", default="")
    parser.add_argument("--categorical", default="")
    parser.add_argument("current", nargs="+")
    args = parser.parse_args(argv)
    numerical = [c for c in args.numerical.split(",") if c]
    categorical = [c for c in args.categorical.split(",") if c]
    reference = pd.read_csv(args.reference)
    results = {path: verdicts(reference, pd.read_csv(path), numerical, categorical) for path in args.current}
    json.dump({"evidently": evidently.__version__, "results": results}, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
