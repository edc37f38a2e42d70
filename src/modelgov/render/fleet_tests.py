"""The tests under way across the inventory: every version in a shadow test or an A/B test, what
it is tested against, where the test stands and what is still missing before a decision.

Data scientists and reviewers need "the performance of all deployed models (including side-by-side
for tests) from one central location"; this is the home page's list of those tests, read from the
manifest alone. A retired version's test is over and is not listed.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelgov.manifest import Manifest, Model, ModelVersion
from modelgov.render import experiment_views, shadow_views


@dataclass(frozen=True)
class TestUnderWay:
    model: Model
    version: ModelVersion
    kind: str  # "Shadow test" or "A/B test"
    champion: str
    stands: str  # where the test stands, in one sentence
    remaining: str  # what is missing before a decision, in one sentence


def tests_under_way(manifest: Manifest) -> list[TestUnderWay]:
    rows = []
    for model in manifest.models:
        for version in model.versions:
            if version.status == "retired":
                continue
            if version.shadow is not None:
                rows.append(_shadow(model, version))
            if version.experiment is not None:
                rows.append(_experiment(model, version))
    return rows


def _shadow(model: Model, version: ModelVersion) -> TestUnderWay:
    report = version.shadow
    assert report is not None
    overall = report.overall
    windows = [w for w in report.windows if w.requests]
    noun = report.window if report.window in ("day", "week", "month") else "window"
    stands = (
        f"{len(windows)} {noun}{'s' if len(windows) != 1 else ''}, {overall.requests:,} requests scored by both; "
        + (
            f"the challenger changes {shadow_views.pct(overall.change_rate)} of decisions"
            if overall.decided
            else "no request has a decision from both yet"
        )
        + "."
    )
    differ = [f.feature for f in shadow_views.group_finding(report)]
    if differ:
        stands += f" It treats some groups differently from the rest (by {', '.join(differ)}): see its page."
    outcomes = report.outcomes
    if outcomes is None or not outcomes.labelled:
        remaining = "No outcomes yet: the paired comparison of accuracy waits for them."
    else:
        remaining = (
            f"Outcomes for {outcomes.labelled:,} of the {overall.decided:,} requests so far: the paired comparison "
            "rests on them. Promotion goes through the policy gate."
        )
    return TestUnderWay(model, version, "Shadow test", report.champion, stands, remaining)


def _experiment(model: Model, version: ModelVersion) -> TestUnderWay:
    test = version.experiment
    assert test is not None
    horizon = test.horizon
    stands = f"{experiment_views.status_words(test).capitalize()}; {horizon.records:,} records with a value"
    if horizon.progress is not None:
        stands += f", {horizon.progress:.0%} of the planned sample"
    stands += "."
    if test.status == "refused":
        remaining = f"Results withheld: {test.refusal}" if test.refusal else "Results withheld."
    elif test.srm is not None and test.srm.mismatch:
        remaining = "The arms' counts do not match the planned split: find the cause before reading any result."
    elif horizon.at_horizon:
        remaining = "At its horizon: the result can be read."
    else:
        left = []
        if horizon.sample_size is not None:
            left.append(f"{max(horizon.sample_size - horizon.records, 0):,} more records")
        if horizon.end is not None:
            left.append(f"the end of {horizon.end}")
        remaining = (
            f"Until {' or '.join(left)}, the fixed-horizon result must not be read"
            if left
            else "A sequential test: its always-valid result may be read at any time"
        )
        if test.sequential is not None:
            remaining += (
                "; the always-valid analysis already shows a difference"
                if test.sequential.significant
                else "; the always-valid analysis shows no difference yet"
            )
        remaining += "."
    return TestUnderWay(model, version, "A/B test", test.champion, stands, remaining)
