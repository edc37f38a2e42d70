"""NYC Local Law 144 bias-audit summary: rates and impact ratios against a hand computation with pandas
and fairlearn's MetricFrame, the 2 % exclusion, unknown categories, scoring rates above the median,
the intervals, UCI Adult as real data, the loader's errors, the policy paths and the page."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from modelgov.analysis.bias_audit import UNKNOWN, bias_audit, selected_by_score
from modelgov.analysis.resampling import Resampling
from modelgov.assemble import build_manifest
from modelgov.errors import WorkspaceError
from modelgov.policy.evidence_index import evidence_index
from modelgov.policy.paths import check_pattern
from modelgov.render.pages import render_pages
from modelgov.workspace.load import load_workspace
from shared_builds import SHARED_DATA
from test_redteam_render import page_render
from workspace_factory import edit, holdout_table, write_workspace

OFF = Resampling(0)


def _audit(table: pd.DataFrame, selected: np.ndarray, *, unknown=(), exclude=True, resampling=OFF, median=None):
    return bias_audit(
        table,
        sex="sex",
        race_ethnicity="race",
        selected=selected,
        median_score=median,
        output="selection" if median is None else "score",
        unknown_values=list(unknown),
        exclude_small=exclude,
        resampling=resampling,
        audit_date="2026-05-01",
        data_source="historical",
        data_description="Applications of 2025.",
        distribution_date=None,
    )


def _hand(table: pd.DataFrame, key, selected: np.ndarray, min_share: float | None) -> pd.DataFrame:
    """Applicants, rate and impact ratio per category, written with pandas alone."""
    frame = table.assign(selected=selected, category=key)
    frame = frame[frame["category"].notna()]
    grouped = frame.groupby("category")["selected"].agg(["size", "sum"])
    grouped["rate"] = grouped["sum"] / grouped["size"]
    grouped["excluded"] = grouped["size"] / len(table) < min_share if min_share else False
    top = grouped.loc[~grouped["excluded"], "rate"].max()
    grouped["ratio"] = grouped["rate"] / top
    return grouped


def _synthetic(rows: int = 3000, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["Female", "Male", "Unknown", None], p=[0.48, 0.46, 0.04, 0.02], size=rows)
    race = rng.choice(
        ["White", "Black", "Hispanic or Latino", "Asian", "Native Hawaiian", None],
        p=[0.5, 0.2, 0.17, 0.1, 0.01, 0.02],
        size=rows,
    )
    p = 0.3 + 0.15 * (sex == "Male") - 0.1 * (race == "Black")
    return pd.DataFrame({"sex": sex, "race": race}), rng.random(rows) < p


def test_rates_and_impact_ratios_equal_a_pandas_hand_computation() -> None:
    table, selected = _synthetic()
    audit = _audit(table, selected, unknown=["Unknown"])
    sex_known = table["sex"].where(table["sex"].isin(["Female", "Male"]))
    race_known = table["race"]
    both = (sex_known + " × " + race_known).where(sex_known.notna() & race_known.notna())
    expected = {
        "sex": (sex_known, int(sex_known.isna().sum())),
        "race_ethnicity": (race_known, int(race_known.isna().sum())),
        "intersectional": (both, int(both.isna().sum())),
    }
    for result in audit.tables:
        key, unknown = expected[result.dimension]
        hand = _hand(table, key, selected, 0.02)
        assert result.unknown == unknown
        assert [c.category for c in result.categories] == sorted(hand.index)
        for item in result.categories:
            row = hand.loc[item.category]
            assert (item.applicants, item.selected) == (row["size"], row["sum"])
            assert item.rate == pytest.approx(row["rate"], rel=1e-12)
            assert item.excluded is bool(row["excluded"])
            if item.excluded:
                assert item.impact_ratio is None
            else:
                assert item.impact_ratio == pytest.approx(row["ratio"], rel=1e-12)
        assert result.min_impact_ratio == pytest.approx(hand.loc[~hand["excluded"], "ratio"].min())
    # Native Hawaiian is about 1 % of the applicants: excluded, disclosed with its count and rate
    race = next(t for t in audit.tables if t.dimension == "race_ethnicity")
    hawaiian = next(c for c in race.categories if c.category == "Native Hawaiian")
    assert hawaiian.excluded and hawaiian.applicants > 0 and hawaiian.rate is not None
    assert audit.min_impact_ratio == min(t.min_impact_ratio for t in audit.tables)


def test_selection_rates_equal_fairlearn_metricframe() -> None:
    fairlearn = pytest.importorskip("fairlearn.metrics")
    table, selected = _synthetic(seed=11)
    audit = _audit(table, selected, unknown=["Unknown"])
    known = table["sex"].isin(["Female", "Male"]).to_numpy()
    frame = fairlearn.MetricFrame(
        metrics=fairlearn.selection_rate,
        y_true=selected[known].astype(int),
        y_pred=selected[known].astype(int),
        sensitive_features=table["sex"][known].to_numpy(),
    )
    sex = next(t for t in audit.tables if t.dimension == "sex")
    for item in sex.categories:
        assert item.rate == pytest.approx(frame.by_group[item.category], rel=1e-12)
    ratio = frame.ratio(method="between_groups")  # fairlearn's min ÷ max: the lowest impact ratio with two groups
    assert sex.min_impact_ratio == pytest.approx(ratio, rel=1e-12)


def test_without_the_exclusion_every_category_counts() -> None:
    table, selected = _synthetic()
    race = next(t for t in _audit(table, selected, exclude=False).tables if t.dimension == "race_ethnicity")
    hand = _hand(table, table["race"], selected, None)
    assert not any(c.excluded for c in race.categories)
    for item in race.categories:
        assert item.impact_ratio == pytest.approx(hand.loc[item.category, "ratio"])


def test_scoring_rates_count_scores_above_the_median_of_everyone() -> None:
    table, _ = _synthetic(rows=1001, seed=5)
    scores = np.round(np.random.default_rng(5).random(1001), 2)  # ties at the median are not above it
    selected, median = selected_by_score(scores)
    assert median == float(pd.Series(scores).median())
    assert selected.sum() == (scores > median).sum() < 501
    audit = _audit(table, selected, median=median)
    assert audit.output == "score" and audit.median_score == median
    sex = next(t for t in audit.tables if t.dimension == "sex")
    female = table["sex"].eq("Female").to_numpy()
    item = next(c for c in sex.categories if c.category == "Female")
    assert item.rate == pytest.approx((scores[female] > median).mean())


def test_the_impact_ratio_intervals_cover_the_sampling_spread() -> None:
    """The bootstrap interval of a ratio, against the spread of the ratio over fresh samples from the same
    population (a simulation with known truth): about 95 % of fresh samples' ratios fall inside it."""
    table, selected = _synthetic(rows=4000, seed=21)
    audit = _audit(table, selected, resampling=Resampling(2000, 0.95, 0))
    sex = next(t for t in audit.tables if t.dimension == "sex")
    female = next(c for c in sex.categories if c.category == "Female")
    assert female.interval is not None and female.interval.low < female.impact_ratio < female.interval.high
    truth = 0.3 / 0.45  # the population's ratio, Female against Male
    inside = 0
    for seed in range(200):
        fresh, picked = _synthetic(rows=4000, seed=1000 + seed)
        f = picked[fresh["sex"].eq("Female").to_numpy()].mean()
        m = picked[fresh["sex"].eq("Male").to_numpy()].mean()
        inside += abs(f / m - truth) <= (female.interval.high - female.interval.low) / 2
    assert 0.88 <= inside / 200 <= 0.99


def _adult() -> tuple[pd.DataFrame, np.ndarray]:
    names = ["age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
             "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week", "native_country",
             "income"]  # fmt: skip
    frame = pd.read_csv(SHARED_DATA / "adult.data", names=names, skipinitialspace=True)
    from sklearn.linear_model import LogisticRegression

    y = frame["income"].eq(">50K").to_numpy()
    x = frame[["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]].to_numpy(float)
    return frame, LogisticRegression(max_iter=1000).fit(x, y).predict(x).astype(bool)


@pytest.mark.skipif(not (SHARED_DATA / "adult.data").is_file(), reason="UCI Adult not found in ../shared/data")
def test_uci_adult_intersectional_table_and_the_two_percent_rule() -> None:
    frame, selected = _adult()
    assert len(frame) == 32561
    audit = _audit(frame, selected)
    race = next(t for t in audit.tables if t.dimension == "race_ethnicity")
    excluded = {c.category: c.applicants for c in race.categories if c.excluded}
    # Amer-Indian-Eskimo (311) and Other (271) are under 2 % of 32,561 applicants; Asian-Pac-Islander is 3.2 %
    assert excluded == {"Amer-Indian-Eskimo": 311, "Other": 271}
    both = frame["sex"] + " × " + frame["race"]
    hand = _hand(frame, both, selected, 0.02)
    inter = next(t for t in audit.tables if t.dimension == "intersectional")
    assert len(inter.categories) == 10 and inter.unknown == 0
    for item in inter.categories:
        assert item.applicants == hand.loc[item.category, "size"]
        assert item.rate == pytest.approx(hand.loc[item.category, "rate"], rel=1e-12)
        if not item.excluded:
            assert item.impact_ratio == pytest.approx(hand.loc[item.category, "ratio"], rel=1e-12)
    assert inter.highest == [hand.loc[~hand["excluded"], "rate"].idxmax()]
    assert inter.min_impact_ratio < 0.8  # a wide gap between men and women on Adult's income model


# --------------------------------------------------------------------------- the workspace and the page

TOOL = """\
employment_decision_tool:
  sex: sex
  race_ethnicity: race
  audit_date: 2026-03-01
  data_source: historical
  data_description: "Applications screened in 2025, from the <i>applicant tracking</i> system [x](javascript:y)."
  unknown_values: [Declined]
"""


def _table(rows: int = 600) -> pd.DataFrame:
    table = holdout_table(rows=rows)
    rng = np.random.default_rng(4)
    table["race"] = rng.choice(
        ["Asian", "Black", "White", "Declined", "<b>Other</b> **x**"], p=[0.2, 0.3, 0.44, 0.05, 0.01], size=rows
    )
    return table


def mark_employment_tool(root: Path, tool: str = TOOL) -> Path:
    """The workspace's loans model marked as an employment decision tool, race among its features."""
    edit(
        root,
        "models/loans/model.yml",
        "sensitive_features: [sex, age_band]",
        "sensitive_features: [sex, age_band, race]",
    )
    path = root / "models/loans/model.yml"
    path.write_text(path.read_text(encoding="utf-8") + tool, encoding="utf-8")
    return root


def _workspace(tmp_path: Path, tool: str = TOOL) -> Path:
    return mark_employment_tool(write_workspace(tmp_path / "ws", table=_table()), tool)


def test_the_build_puts_the_audit_on_the_versions_latest_evaluation(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    built = build_manifest(load_workspace(root), as_of=dt.date(2026, 4, 1))
    version = built.model("loans").versions[0]
    audit = version.evaluations[0].bias_audit
    assert audit is not None and audit.applicants == 600
    table = _table()
    selected = table["predicted"].eq(1).to_numpy()
    race = next(t for t in audit.tables if t.dimension == "race_ethnicity")
    assert race.unknown == int(table["race"].eq("Declined").sum())
    hand = _hand(table, table["race"].where(table["race"] != "Declined"), selected, 0.02)
    for item in race.categories:
        assert item.rate == pytest.approx(hand.loc[item.category, "rate"])
        assert item.excluded is bool(hand.loc[item.category, "excluded"])
    index = evidence_index(built.model("loans"), version, dt.date(2026, 4, 1))
    assert index["ll144.min_impact_ratio"].value == audit.min_impact_ratio
    assert index["ll144.race_ethnicity.unknown"].value == race.unknown
    assert index["ll144.audit_age_days"].value == 31
    assert index["ll144.min_impact_ratio"].page == "models/loans/1.0/bias-audit.html"
    assert check_pattern("ll144.min_impact_ratio") is None and check_pattern("ll144.sex.min_impact_ratio") is None

    pages = {page.path: page.markdown for page in render_pages(built)}
    body = pages["models/loans/1.0/bias-audit.md"]
    assert body.startswith("# Bias audit summary (NYC Local Law 144)")
    for heading in ("## Sex categories", "## Race/ethnicity categories", "## Intersectional categories"):
        assert heading in body
    # the audit's age on the check date the build was given, with or without policies
    assert built.check_date() == "2026-04-01"
    assert "| Date of the bias audit | 2026-03-01: 31 days before 2026-04-01" in body
    assert "more than a year old" not in body
    assert "| Category | Number of applicants | Selection rate | Impact ratio |" in body
    assert f"{race.unknown} applicants whose race/ethnicity category is unknown" in body
    assert "**Excluded from the impact ratios** (under 2% of the data)" in body
    assert "not a threshold of Local Law 144" in body
    rendered = page_render(body)
    assert "<b>Other</b>" not in rendered and "<strong>x</strong>" not in rendered
    assert "<i>applicant" not in rendered and 'href="javascript:' not in rendered
    assert "bias-audit.md" in pages["models/loans/index.md"]


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        (
            "race_ethnicity: race",
            "race_ethnicity: rase",
            "race_ethnicity:",
            "employment_decision_tool.race_ethnicity: column 'rase' is not among sensitive_features; did you mean 'race'?",
        ),
        (
            "audit_date: 2026-03-01",
            "audit_date: 2999-03-01",
            "audit_date:",
            "employment_decision_tool.audit_date: 2999-03-01 is in the future",
        ),
        ("data_source: historical", "data_source: history", "data_source:", "employment_decision_tool.data_source"),
    ],
)
def test_tool_errors_name_the_file_line_and_key(tmp_path: Path, old: str, new: str, needle: str, message: str) -> None:
    root = _workspace(tmp_path)
    edit(root, "models/loans/model.yml", old, new)
    with pytest.raises(WorkspaceError) as caught:
        load_workspace(root)
    lines = (root / "models/loans/model.yml").read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, 1) if needle in text and text.startswith("  "))
    assert f"models/loans/model.yml:{line}: {message}" in str(caught.value), str(caught.value)


def test_a_scoring_tool_uses_the_score_column(tmp_path: Path) -> None:
    root = _workspace(tmp_path, TOOL + "  output: score\n")
    built = build_manifest(load_workspace(root))
    audit = built.model("loans").versions[0].evaluations[0].bias_audit
    scores = _table()["score"].to_numpy()
    assert audit.output == "score" and audit.median_score == pytest.approx(float(np.median(scores)))
    assert audit.selected == int((scores > np.median(scores)).sum())
    body = next(p.markdown for p in render_pages(built) if p.path.endswith("bias-audit.md"))
    assert "| Category | Number of applicants | Scoring rate | Impact ratio |" in body


def test_a_model_that_is_not_a_tool_has_no_audit(tmp_path: Path) -> None:
    built = build_manifest(load_workspace(write_workspace(tmp_path / "ws")))
    assert all(run.bias_audit is None for v in built.model("loans").versions for run in v.evaluations)
    assert not any(re.search(r"bias-audit\.md$", p.path) for p in render_pages(built))
    assert UNKNOWN == "(unknown)"
