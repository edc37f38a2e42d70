"""Time modelgov's fairness analysis against calling fairlearn's MetricFrame directly.

Run from the repository root (needs ../shared/data for the Adult data; the synthetic case runs
anywhere):

    python benchmarks/fairness_benchmark.py            # Adult + 1M synthetic rows
    python benchmarks/fairness_benchmark.py --rows 200000 --fairlearn-boot 5

For each dataset it reports, in seconds (best of ``--repeat`` runs):

* ``fairlearn MetricFrame``: the per-group metrics computed directly with fairlearn;
* ``modelgov, no intervals``: :func:`modelgov.analysis.fairness.fairness_by_group` with resampling
  off (it calls MetricFrame too, plus the confusion counts and disparity summaries);
* ``modelgov, N resamples``: the same with every group-rate and disparity interval;
* ``fairlearn n_boot``: MetricFrame's own bootstrap with a few resamples, and the time that implies
  for N (fairlearn recomputes every metric on every resample).

Figures from one run are recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from pathlib import Path

import fairlearn
import numpy as np
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    count,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, precision_score

from modelgov.analysis.fairness import fairness_by_group
from modelgov.analysis.resampling import Resampling

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
    "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week", "native_country", "income",
]  # fmt: skip

FAIRLEARN_METRICS = {
    "count": count,
    "base_rate": lambda y, p: float(np.mean(y)),
    "selection_rate": selection_rate,
    "accuracy": accuracy_score,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
    "fnr": false_negative_rate,
    "precision": lambda y, p: precision_score(y, p, zero_division=0),
}


def best_of(repeat: int, function: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def adult() -> tuple[pd.Series, np.ndarray, np.ndarray] | None:
    """UCI Adult (train + test, 48,842 rows) scored by a logistic regression on its numeric columns."""
    if not (SHARED / "adult.data").is_file():
        return None
    train = pd.read_csv(SHARED / "adult.data", names=ADULT_COLUMNS, skipinitialspace=True)
    test = pd.read_csv(SHARED / "adult.test", names=ADULT_COLUMNS, skipinitialspace=True, skiprows=1)
    frame = pd.concat([train, test], ignore_index=True)
    y = frame["income"].str.rstrip(".").eq(">50K").astype(int).to_numpy()
    numeric = frame[["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]].to_numpy(float)
    model = LogisticRegression(max_iter=1000).fit(numeric, y)
    sensitive = frame["sex"] + " × " + frame["race"]
    return sensitive, y, model.predict(numeric)


def synthetic(rows: int, seed: int = 0) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    groups = np.array([f"group-{i}" for i in range(8)])
    group = groups[rng.choice(8, size=rows, p=[0.3, 0.2, 0.15, 0.1, 0.1, 0.08, 0.05, 0.02])]
    y = (rng.random(rows) < 0.3).astype(int)
    p = (rng.random(rows) < 0.55 * y + 0.15).astype(int)
    return pd.Series(group), y, p


def run_case(name: str, data, *, resamples: int, fairlearn_boot: int, repeat: int) -> dict:
    sensitive, y, p = data
    direct = best_of(
        repeat, lambda: MetricFrame(metrics=FAIRLEARN_METRICS, y_true=y, y_pred=p, sensitive_features=sensitive)
    )
    ours_point = best_of(
        repeat,
        lambda: fairness_by_group(
            "g", sensitive, y, p, classification=True, min_group_size=30, resampling=Resampling(0)
        ),
    )
    ours_ci = best_of(
        repeat,
        lambda: fairness_by_group(
            "g", sensitive, y, p, classification=True, min_group_size=30, resampling=Resampling(resamples)
        ),
    )
    boot = best_of(
        1,
        lambda: MetricFrame(
            metrics=FAIRLEARN_METRICS,
            y_true=y,
            y_pred=p,
            sensitive_features=sensitive,
            n_boot=fairlearn_boot,
            ci_quantiles=[0.025, 0.975],
            random_state=0,
        ),
    )
    per_resample = max(boot - direct, 0.0) / fairlearn_boot
    return {
        "dataset": name,
        "rows": len(y),
        "groups": int(pd.Series(sensitive).nunique()),
        "fairlearn_metricframe_s": direct,
        "modelgov_no_intervals_s": ours_point,
        "modelgov_intervals_s": ours_ci,
        "resamples": resamples,
        "fairlearn_n_boot": fairlearn_boot,
        "fairlearn_n_boot_s": boot,
        "fairlearn_implied_s_for_resamples": direct + per_resample * resamples,
        "ratio_no_intervals_vs_metricframe": ours_point / direct,
        "ratio_intervals_vs_fairlearn_bootstrap": (direct + per_resample * resamples) / ours_ci,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the synthetic table")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--fairlearn-boot", type=int, default=5, help="fairlearn resamples actually run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    cases = []
    real = adult()
    if real is None:
        print(f"skipping Adult: {SHARED / 'adult.data'} not found")
    else:
        cases.append(("UCI Adult, sex × race", real))
    cases.append((f"synthetic, {args.rows:,} rows", synthetic(args.rows)))

    results = [
        run_case(name, data, resamples=args.resamples, fairlearn_boot=args.fairlearn_boot, repeat=args.repeat)
        for name, data in cases
    ]
    print(f"python {platform.python_version()}, fairlearn {fairlearn.__version__}, {platform.machine()}")
    header = (
        f"{'dataset':<28} {'rows':>9} {'groups':>6} {'MetricFrame':>11} {'ours':>8} "
        f"{'ours+CI':>8} {'fairlearn CI (implied)':>22} {'speed-up':>8}"
    )
    print(header)
    for r in results:
        print(
            f"{r['dataset']:<28} {r['rows']:>9,} {r['groups']:>6} {r['fairlearn_metricframe_s']:>10.3f}s "
            f"{r['modelgov_no_intervals_s']:>7.3f}s {r['modelgov_intervals_s']:>7.3f}s "
            f"{r['fairlearn_implied_s_for_resamples']:>21.1f}s {r['ratio_intervals_vs_fairlearn_bootstrap']:>7.0f}x"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
