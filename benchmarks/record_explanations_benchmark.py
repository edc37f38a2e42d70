"""Explained decisions: time per record, on the demo's credit data, for each explainer route.

    python benchmarks/record_explanations_benchmark.py [--records 20] [--rows 2500]

Fits the demo's two credit models (a logistic regression in a pipeline: LinearExplainer; boosted
trees with a native categorical: the sampled PermutationExplainer, as TreeExplainer does not add up
on them) and explains ``--records`` named records of a ``--rows``-row holdout with the demo card's
settings, one thread. Reports the whole call and the time per explained record, where the whole call
includes the group table's sample (a fixed cost: 1,000 rows for the exact explainers, 100 for the
sampled one).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from modelgov.analysis.record_explanations import explain_records
from modelgov.demo import credit_text
from modelgov.demo.credit import FEATURES, _boosting, _logistic, applicants
from modelgov.workspace.explanation_schema import Explanations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20)
    parser.add_argument("--rows", type=int, default=2500)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    train = applicants(rng, 6000, year=2024)
    test = applicants(rng, args.rows, year=2025)
    test.insert(0, "application_id", [f"A-{i:06d}" for i in range(len(test))])
    ids = test["application_id"].iloc[:: max(1, len(test) // args.records)].iloc[: args.records].tolist()
    spec = Explanations(
        records=ids, id_column="application_id", largest_errors=0, per_group=0, features=credit_text.EXPLAINED_FEATURES
    )
    for name, model in (("logistic regression", _logistic(FEATURES, 0.5)), ("boosted trees", _boosting())):
        model.fit(train[FEATURES], train["default"])
        with threadpool_limits(limits=1):
            start = time.perf_counter()
            result = explain_records(
                model, test, spec=spec, features=FEATURES, label="default", task="binary_classification",
                positive_label=1, positive_index=1, sensitive=["sex", "age_band"], id_column="application_id",
                threshold=0.5, min_group_size=30, seed=0, publish=True,
            )  # fmt: skip
            total = time.perf_counter() - start
        adverse = sum(r.adverse for r in result.records)
        found = sum(bool(r.counterfactual and r.counterfactual.found) for r in result.records)
        print(
            f"{name:20s} {result.explainer:20s} {len(result.records)} records ({adverse} adverse, "
            f"{found} counterfactuals found): {total:.1f} s, {total / len(result.records):.2f} s per record"
        )


if __name__ == "__main__":
    main()
