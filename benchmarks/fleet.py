"""A synthetic fleet workspace: N models × V versions, for measuring builds at fleet scale.

Built from the demo generator's parts, so the tables look like the demo's credit model: applicants
drawn by ``demo.credit.applicants`` (with its sex and age-band structure), scored by a logistic rule
that differs a little per version, and a production log per version simulated week by week with the
demo's drift ramp. Each model has a full card, two datasheets and approvals; the workspace uses the
built-in ``baseline`` pack, so the build evaluates policies as a real one does.

    python benchmarks/fleet.py /tmp/fleet --models 100 --versions 3 --eval-rows 10000 --log-rows 100000

Sizes are exact; everything is seeded, so the same arguments give the same files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from modelgov.demo.common import stream
from modelgov.demo.credit import LABEL, applicants
from modelgov.demo.monitoring import drift_intensity, week_start
from modelgov.demo.writer import WorkspaceWriter

FEATURES = ["age", "annual_income", "debt_ratio", "credit_history_months", "num_late_payments", "loan_amount"]
WEEKS = 12


def _score(frame: pd.DataFrame, weights: np.ndarray) -> np.ndarray:
    """A version's default probability: a fixed logistic rule, its weights jittered per version."""
    x = np.column_stack(
        [
            (frame["debt_ratio"] - 0.3) * 4,
            -(np.log(frame["annual_income"]) - 10.4),
            np.minimum(frame["num_late_payments"], 4) / 2,
            -frame["credit_history_months"] / 120,
            (frame["age"] < 25).astype(float),
            frame["loan_amount"] / frame["annual_income"],
        ]
    )
    return np.round(1 / (1 + np.exp(-(-1.2 + x @ weights))), 6)


def _evaluation(rng: np.random.Generator, rows: int, weights: np.ndarray, prefix: str) -> pd.DataFrame:
    frame = applicants(rng, rows, year=2025)
    score = _score(frame, weights)
    table = frame[[*FEATURES, "sex", "age_band", LABEL]].copy()
    table.insert(0, "application_id", [f"{prefix}-{i:07d}" for i in range(rows)])
    table["score"] = score
    table["prediction"] = (score >= 0.5).astype(np.int64)
    return table


def _log(rng: np.random.Generator, rows: int, weights: np.ndarray, drift_week: int) -> pd.DataFrame:
    per_week = np.full(WEEKS, rows // WEEKS)
    per_week[: rows % WEEKS] += 1
    parts = []
    for week, n in enumerate(per_week, start=1):
        frame = applicants(rng, int(n), year=2026, intensity=drift_intensity(week, drift_week))
        start = np.datetime64(week_start(week).isoformat(), "s")
        offsets = np.sort(rng.integers(0, 7 * 86400, int(n))).astype("timedelta64[s]")
        part = frame[[*FEATURES, "sex"]].copy()
        part.insert(0, "timestamp", pd.to_datetime(start + offsets).tz_localize("UTC"))
        part["score"] = _score(frame, weights)
        part["prediction"] = (part["score"] >= 0.5).astype(np.int64)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _card(index: int, model_id: str) -> dict:
    return {
        "name": f"Credit model {index:03d}",
        "owner": {
            "name": f"Owner {index % 17}",
            "email": f"owner{index % 17}@example.com",
            "team": f"Team {index % 5}",
        },
        "task": "binary_classification",
        "risk_tier": ["low", "medium", "high"][index % 3],
        "tags": ["credit", f"portfolio-{index % 7}"],
        "description": f"Predicts 12-month default for portfolio {index % 7} ({model_id}).",
        "intended_use": {
            "primary_uses": "Ranking applications for manual review.",
            "primary_users": "Credit officers.",
            "out_of_scope": "Fully automated rejection.",
        },
        "factors": {"relevant": "Sex and age band.", "evaluation": "Both are evaluated on the holdout."},
        "metrics": {"performance_measures": "ROC AUC and per-group error rates.", "decision_threshold": "0.5."},
        "ethical_considerations": "Historical lending data can encode bias.",
        "caveats": "Synthetic fleet member for benchmarks.",
        "sensitive_features": ["sex", "age_band"],
    }


def generate_fleet(root: Path, *, models: int, versions: int, eval_rows: int, log_rows: int, seed: int = 7) -> None:
    writer = WorkspaceWriter(root)
    writer.yaml(
        "governance.yml",
        {
            "title": f"Fleet of {models} models",
            "organisation": "Benchmark Bank",
            "analysis": {"bootstrap_resamples": 1000},
            "policies": {"packs": ["baseline"]},
        },
    )
    for m in range(models):
        model_id = f"credit-{m:03d}"
        writer.yaml(f"models/{model_id}/model.yml", _card(m, model_id))
        for kind in ("train", "holdout"):
            writer.yaml(
                f"datasets/{model_id}-{kind}.yml",
                {
                    "name": f"{model_id} {kind}",
                    "description": f"Synthetic {kind} sample.",
                    "source": "Benchmark generator",
                    "licence": "Internal",
                    "collection": {"method": "Simulated applicants"},
                },
            )
        for v in range(versions):
            version = f"{v + 1}.0"
            rng = stream(seed, model_id, version)
            weights = np.array([1.0, 1.2, 0.8, 0.5, 0.4, 0.6]) * (1 + 0.1 * rng.standard_normal(6))
            base = f"models/{model_id}/versions/{version}"
            writer.table(f"data/{model_id}/{version}-holdout.parquet", _evaluation(rng, eval_rows, weights, model_id))
            doc: dict = {
                "created": dt.date(2026, 1 + v, 10),
                "status": "production" if v == versions - 1 else "retired",
                "summary": f"Version {version} of {model_id}.",
                "training": {"datasets": [f"{model_id}-train"], "algorithm": "sklearn.linear_model.LogisticRegression"},
                "evaluations": [
                    {
                        "id": "holdout",
                        "data": f"data/{model_id}/{version}-holdout.parquet",
                        "dataset": f"{model_id}-holdout",
                        "date": dt.date(2026, 1 + v, 12),
                        "label": LABEL,
                        "prediction": "prediction",
                        "score": "score",
                        "threshold": 0.5,
                        "features": FEATURES,
                        "row_id": "application_id",
                    }
                ],
            }
            if v:
                doc["previous"] = f"{v}.0"
            if log_rows:
                writer.table(f"data/{model_id}/{version}-log.parquet", _log(rng, log_rows, weights, 6 + m % 4))
                doc["monitoring"] = {
                    "logs": f"data/{model_id}/{version}-log.parquet",
                    "timestamp": "timestamp",
                    "prediction": "prediction",
                    "score": "score",
                    "features": [*FEATURES, "sex"],
                    "reference": "holdout",
                }
            writer.yaml(f"{base}/version.yml", doc)
            writer.yaml(
                f"{base}/approvals.yml",
                {"approvals": [{"role": "model_risk", "by": "Rita Reviewer", "decision": "approved",
                                "date": dt.date(2026, 1 + v, 20)}]},
            )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--versions", type=int, default=3)
    parser.add_argument("--eval-rows", type=int, default=10_000)
    parser.add_argument("--log-rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.target.exists() and any(args.target.iterdir()):
        parser.error(f"{args.target} is not empty")
    started = time.perf_counter()
    generate_fleet(
        args.target,
        models=args.models,
        versions=args.versions,
        eval_rows=args.eval_rows,
        log_rows=args.log_rows,
        seed=args.seed,
    )
    print(f"wrote {args.target} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
