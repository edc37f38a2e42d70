"""The bundled example workspace: deterministic, valid against the input schema, and containing the
disparity, drift and shared holdout it promises (the README of the workspace is the answer key)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.stats import ks_2samp

import modelgov.demo
from modelgov.demo import (
    CHURN_DRIFT_START_WEEK,
    CREDIT_DRIFT_START_WEEK,
    DEFAULT_SEED,
    DIABETES_DRIFT_START_WEEK,
    experiment,
    generate_workspace,
)
from modelgov.demo.monitoring import MONITORING_START, MONITORING_WEEKS, OUTCOME_LAG_WEEKS
from modelgov.errors import ModelgovError
from modelgov.inputs import IDENTIFIER
from modelgov.policy.schema import PolicyFile, WaiversFile
from modelgov.sources.models import LoadedModel, load_model
from modelgov.workspace.approvals_schema import Approvals
from modelgov.workspace.datasheet_schema import Datasheet
from modelgov.workspace.governance_schema import Governance
from modelgov.workspace.model_schema import ModelCard
from modelgov.workspace.version_schema import Version
from shared_builds import demo_workspace

CREDIT = "models/credit-default/versions"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo workspace generated with its seed, once per test run (read only)."""
    return demo_workspace(tmp_path_factory)


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def load(root: Path, relpath: str) -> dict:
    return yaml.safe_load((root / relpath).read_text(encoding="utf-8"))


def read_table(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        return pd.read_csv(path)
    assert path.suffix == ".jsonl", path
    return pd.read_json(path, lines=True)


def versions(root: Path) -> list[tuple[str, str, Version]]:
    found = []
    for path in sorted(root.glob("models/*/versions/*/version.yml")):
        model_id, version_id = path.parts[-4], path.parts[-2]
        found.append((model_id, version_id, Version.model_validate(load(root, path.relative_to(root).as_posix()))))
    return found


def version_of(root: Path, model_id: str, version: str) -> Version:
    return Version.model_validate(load(root, f"models/{model_id}/versions/{version}/version.yml"))


def card(root: Path, model_id: str) -> ModelCard:
    return ModelCard.model_validate(load(root, f"models/{model_id}/model.yml"))


def weekly(log: pd.DataFrame) -> pd.Series:
    """Monitoring week (1-based) of each log row, from its ISO 8601 timestamp."""
    stamps = pd.to_datetime(log["timestamp"], format="%Y-%m-%dT%H:%M:%SZ", utc=True)
    start = pd.Timestamp(MONITORING_START, tz="UTC")
    return ((stamps - start).dt.days // 7 + 1).astype(int)


# --------------------------------------------------------------------------- determinism


# The same seed writing the same bytes, file for file, is checked where the demo is generated again
# from its seed anyway: tests/test_end_to_end.py, test_rebuild_is_byte_identical.


def test_different_seed_gives_different_data(workspace: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    generate_workspace(other, seed=DEFAULT_SEED + 1)
    first, second = files(workspace), files(other)
    assert set(first) == set(second)
    data = [name for name in first if name.startswith("data/")]
    assert data and all(first[name] != second[name] for name in data if "credit-default" in name)
    assert (workspace / "data/credit-default/train-2026.parquet").read_bytes() != (
        other / "data/credit-default/train-2026.parquet"
    ).read_bytes()


def test_workspace_is_small(workspace: Path) -> None:
    assert sum(len(data) for data in files(workspace).values()) < 10 * 1024 * 1024


# --------------------------------------------------------------------------- schema and references


def test_every_yaml_file_validates(workspace: Path) -> None:
    yml = sorted(p.relative_to(workspace).as_posix() for p in workspace.rglob("*.yml"))
    assert "governance.yml" in yml
    governance = Governance.model_validate(load(workspace, "governance.yml"))
    tiers = {tier.id for tier in governance.risk_tiers}
    assert tiers == {"low", "medium", "high"}
    checked = {"governance.yml"}
    for relpath in yml:
        parts = relpath.split("/")
        if parts[0] == "datasets":
            Datasheet.model_validate(load(workspace, relpath))
            assert IDENTIFIER.match(parts[1].removesuffix(".yml"))
        elif parts[-1] == "model.yml":
            assert card(workspace, parts[1]).risk_tier in tiers
            assert IDENTIFIER.match(parts[1])
        elif parts[-1] == "version.yml":
            Version.model_validate(load(workspace, relpath))
            assert IDENTIFIER.match(parts[3])
        elif parts[-1] == "approvals.yml":
            assert Approvals.model_validate(load(workspace, relpath)).approvals
        elif parts[0] == "policies":
            assert PolicyFile.model_validate(load(workspace, relpath)).rules
        elif relpath == "waivers.yml":
            assert WaiversFile.model_validate(load(workspace, relpath)).waivers
        else:
            continue
        checked.add(relpath)
    assert checked == set(yml)
    assert {p.name for p in (workspace / "models").iterdir()} == {
        "credit-default",
        "customer-churn",
        "diabetes-progression",
    }


def test_every_version_has_approvals_and_a_rejection_exists(workspace: Path) -> None:
    decisions = []
    for model_id, version_id, _ in versions(workspace):
        approvals = Approvals.model_validate(load(workspace, f"models/{model_id}/versions/{version_id}/approvals.yml"))
        decisions += [(model_id, version_id, a.role, a.decision.value, a.comment) for a in approvals.approvals]
    assert ("credit-default", "1.1", "model_risk", "approved") in [d[:4] for d in decisions]
    assert ("credit-default", "1.1", "compliance", "approved") in [d[:4] for d in decisions]
    assert ("credit-default", "2.0", "model_risk", "pending") in [d[:4] for d in decisions]
    rejected = [d for d in decisions if d[3] == "rejected"]
    assert rejected and all(d[4] for d in rejected)


def test_paths_are_relative_posix_and_exist(workspace: Path) -> None:
    for model_id, version_id, version in versions(workspace):
        paths = [e.data for e in version.evaluations]
        if version.training.artifact_spec:
            paths.append(version.training.artifact_spec.path)
        if version.monitoring:
            paths.append(version.monitoring.logs)
            assert version.monitoring.ground_truth is not None
            paths.append(version.monitoring.ground_truth.data)
        for path in paths:
            assert "\\" not in path and not path.startswith("/") and ".." not in path.split("/")
            assert (workspace / path).is_file(), (model_id, version_id, path)
        for dataset in [*version.training.datasets, *(e.dataset for e in version.evaluations)]:
            assert (workspace / "datasets" / f"{dataset}.yml").is_file()


def test_model_files_load_safely_and_reproduce_the_evaluation_tables(workspace: Path) -> None:
    """Both loading paths are exercised (skops by default, one trusted pickle), one version has no
    file but training-time importances, and each loaded model, fed the table's `features` columns in
    the listed order, reproduces the table's scores: explainability can run on every table."""
    formats = {}
    for model_id, version_id, version in versions(workspace):
        spec = version.training.artifact_spec
        if spec is None:
            formats[(model_id, version_id)] = None
            importance = version.training.feature_importance
            assert importance and set(importance) == set(version.evaluations[0].features)
            continue
        formats[(model_id, version_id)] = (Path(spec.path).suffix, spec.trust_pickle, bool(spec.trusted_types))
        loaded = load_model(workspace / spec.path, spec)
        assert isinstance(loaded, LoadedModel), (model_id, version_id, loaded)
        for evaluation in version.evaluations:
            table = read_table(workspace / evaluation.data)
            inputs = table[evaluation.features]
            if evaluation.score:
                score = np.round(loaded.estimator.predict_proba(inputs)[:, 1], 6)
                assert np.array_equal(score, table[evaluation.score].to_numpy()), evaluation.data
            else:
                predicted = np.round(loaded.estimator.predict(inputs), 2)
                assert np.allclose(predicted, table[evaluation.prediction].to_numpy(), rtol=0, atol=1e-9)
    assert formats == {
        ("credit-default", "1.0"): None,
        ("credit-default", "1.1"): (".skops", False, False),
        ("credit-default", "2.0"): (".skops", False, True),
        ("customer-churn", "1.0"): (".joblib", True, False),
        ("customer-churn", "1.1"): (".joblib", True, False),
        ("customer-churn", "1.2"): (".joblib", True, False),
        ("diabetes-progression", "1.0"): (".skops", False, False),
    }


def test_skops_files_are_reproducible_and_load_like_skops_own_output(workspace: Path) -> None:
    import skops.io

    from modelgov.demo.writer import skops_bytes

    path = workspace / "models/credit-default/versions/2.0/model.skops"
    untrusted = skops.io.get_untrusted_types(file=path)
    model = skops.io.load(path, trusted=untrusted)
    assert skops_bytes(model) == path.read_bytes()  # canonical: no timestamps, ids or uuids
    original = skops.io.dumps(model)
    assert skops.io.get_untrusted_types(data=original) == untrusted
    table = read_table(workspace / "data/credit-default/evaluations/2.0-holdout-2026.parquet")
    again = skops.io.load(io.BytesIO(original), trusted=untrusted)
    features = Version.model_validate(load(workspace, f"{CREDIT}/2.0/version.yml")).evaluations[0].features
    assert np.array_equal(model.predict_proba(table[features]), again.predict_proba(table[features]))


def test_evaluation_tables_have_declared_columns(workspace: Path) -> None:
    for model_id, _, version in versions(workspace):
        sensitive = card(workspace, model_id).sensitive_features
        assert sensitive
        for evaluation in version.evaluations:
            table = read_table(workspace / evaluation.data)
            declared = [evaluation.label, evaluation.prediction, *evaluation.features, *sensitive]
            if evaluation.score:
                declared.append(evaluation.score)
            assert set(declared) <= set(table.columns), evaluation.data
            assert len(table) > 0 and not table[declared].isna().any().any()
            if evaluation.score:
                score = table[evaluation.score].to_numpy()
                assert np.array_equal(score, np.round(score, 6))
                expected = (score >= evaluation.threshold).astype(int)
                assert np.array_equal(table[evaluation.prediction].to_numpy(), expected)
                assert set(table[evaluation.label]) <= {0, 1}


def test_monitoring_tables_have_declared_columns(workspace: Path) -> None:
    monitored = []
    for model_id, version_id, version in versions(workspace):
        if version.status.value == "production":
            assert version.monitoring is not None, (model_id, version_id)
        if not version.monitoring:
            continue
        monitored.append(model_id)
        spec = version.monitoring
        log = read_table(workspace / spec.logs)
        columns = [spec.timestamp, spec.id, spec.prediction, *spec.features]
        columns += card(workspace, model_id).sensitive_features
        if spec.score:
            columns.append(spec.score)
        assert set(columns) <= set(log.columns)
        assert log[spec.id].is_unique
        weeks = weekly(log)
        assert sorted(weeks.unique()) == list(range(1, MONITORING_WEEKS + 1))
        volume = weeks.value_counts()
        if model_id == "customer-churn":  # from the A/B test's start, 1.1 scores its half of the customers
            test = read_table(workspace / version_of(workspace, "customer-churn", "1.2").experiment.log)
            volume = volume.add(weekly(test[test["arm"].astype(str) == "1.2"]).value_counts(), fill_value=0)
        assert volume.between(300, 600).all()
        truth = read_table(workspace / spec.ground_truth.data)
        assert list(truth.columns)[:2] == [spec.ground_truth.id, spec.ground_truth.label]
        # the rest are the columns the card's business KPIs read from the outcomes, and only those
        business = card(workspace, model_id).business
        kpi_columns = {
            column
            for kpi in (business.kpis if business else [])
            if kpi.definition.table == "outcomes"
            for column in [
                *kpi.definition.columns,
                *([kpi.baseline.column] if kpi.baseline and kpi.baseline.column else []),
            ]
        }
        assert set(truth.columns[2:]) == kpi_columns
        joined = log.merge(truth, left_on=spec.id, right_on=spec.ground_truth.id, how="inner")
        covered = set(weekly(joined))
        assert covered == set(range(1, MONITORING_WEEKS - OUTCOME_LAG_WEEKS + 1))
        assert len(joined) == len(truth)  # every outcome joins to a request
    assert sorted(monitored) == ["credit-default", "customer-churn", "diabetes-progression"]
    assert dt.date(2026, 8, 3) == MONITORING_START
    assert MONITORING_START.weekday() == 0


def test_datasheet_hashes_match_files(workspace: Path) -> None:
    import hashlib

    sheets = sorted(workspace.glob("datasets/*.yml"))
    assert len(sheets) >= 6
    for path in sheets:
        sheet = Datasheet.model_validate(load(workspace, f"datasets/{path.name}"))
        assert sheet.files
        for file in sheet.files:
            data = (workspace / file.path).read_bytes()
            assert hashlib.sha256(data).hexdigest() == file.sha256, file.path
            assert sheet.rows == len(read_table(workspace / file.path))
        if sheet.contains_pii:
            assert sheet.legal_basis and sheet.pii_fields


# --------------------------------------------------------------------------- planted properties


def _log_and_truth(root: Path, model_id: str, version_id: str) -> tuple[pd.DataFrame, pd.DataFrame, Version]:
    version = Version.model_validate(load(root, f"models/{model_id}/versions/{version_id}/version.yml"))
    assert version.monitoring is not None and version.monitoring.ground_truth is not None
    log = read_table(root / version.monitoring.logs)
    log["week"] = weekly(log)
    truth = read_table(root / version.monitoring.ground_truth.data)
    return log, truth, version


@pytest.mark.parametrize(
    ("model_id", "version_id", "column", "start"),
    [
        ("credit-default", "1.1", "annual_income", CREDIT_DRIFT_START_WEEK),
        ("customer-churn", "1.1", "monthly_charges", CHURN_DRIFT_START_WEEK),
        ("diabetes-progression", "1.0", "bmi", DIABETES_DRIFT_START_WEEK),
    ],
)
def test_drift_starts_at_the_documented_week(
    workspace: Path, model_id: str, version_id: str, column: str, start: int
) -> None:
    log, _, _ = _log_and_truth(workspace, model_id, version_id)
    week = {w: log.loc[log["week"] == w, column].to_numpy() for w in range(1, MONITORING_WEEKS + 1)}
    # a pre-drift and a post-drift week differ clearly; two pre-drift weeks do not
    assert ks_2samp(week[1], week[start]).pvalue < 0.01
    assert ks_2samp(week[1], week[start - 1]).pvalue > 0.01
    # robustly, against all pre-drift weeks pooled: every drifted week differs, no earlier week does
    for w in range(1, MONITORING_WEEKS + 1):
        others = np.concatenate([week[v] for v in range(1, start) if v != w])
        pvalue = ks_2samp(week[w], others).pvalue
        if w < start:
            assert pvalue > 0.001, f"drift before week {start}: week {w} (p={pvalue:.2g})"
        else:
            assert pvalue < 0.01, f"no drift in week {w} (p={pvalue:.2g})"
    assert f"| `{model_id}` | {start} |" in (workspace / "README.md").read_text(encoding="utf-8")


def test_credit_drift_changes_outcomes_and_degrades_performance(workspace: Path) -> None:
    log, truth, _ = _log_and_truth(workspace, "credit-default", "1.1")
    joined = log.merge(truth, on="request_id")
    before = joined[joined["week"] < CREDIT_DRIFT_START_WEEK]
    after = joined[joined["week"] >= CREDIT_DRIFT_START_WEEK]
    assert after["annual_income"].mean() < 0.9 * before["annual_income"].mean()
    assert after["debt_ratio"].mean() > before["debt_ratio"].mean()
    assert after["default"].mean() > before["default"].mean() + 0.1
    accuracy = lambda part: (part["prediction"] == part["default"]).mean()  # noqa: E731
    assert accuracy(after) < accuracy(before) - 0.05


@pytest.mark.parametrize(
    ("model_id", "version_id", "label", "start", "rise"),
    [
        ("customer-churn", "1.1", "churned", CHURN_DRIFT_START_WEEK, 0.1),
        ("diabetes-progression", "1.0", "progression", DIABETES_DRIFT_START_WEEK, 20.0),
    ],
)
def test_drift_changes_the_real_outcomes(
    workspace: Path, model_id: str, version_id: str, label: str, start: int, rise: float
) -> None:
    log, truth, _ = _log_and_truth(workspace, model_id, version_id)
    joined = log.merge(truth, on="request_id")
    before = joined.loc[joined["week"] < start, label].mean()
    after = joined.loc[joined["week"] >= start, label].mean()
    assert after > before + rise


def test_credit_selection_rate_differs_between_sexes(workspace: Path) -> None:
    table = pd.read_parquet(workspace / "data/credit-default/evaluations/1.1-holdout-2026.parquet")
    rates = table.groupby("sex")["prediction"].mean()
    assert set(rates.index) == {"F", "M"}
    assert rates["F"] > rates["M"] and rates["M"] / rates["F"] < 0.8
    # sex is kept for fairness analysis only: no version uses it as an input
    for model_id, _, version in versions(workspace):
        if model_id == "credit-default":
            assert "sex" not in version.training.params and all("sex" not in e.features for e in version.evaluations)


def test_the_credit_cards_ethics_text_quotes_each_versions_own_rates(workspace: Path) -> None:
    """The card is the model's, read on every version's page: each referral rate it quotes names its
    version and is that version's rate on the shared holdout (2.0's page once showed only 1.1's)."""
    text = " ".join(card(workspace, "credit-default").ethical_considerations.split())
    for version, lead in (("1.1", "version 1.1 refers"), ("2.0", "candidate 2.0 refers")):
        table = pd.read_parquet(workspace / f"data/credit-default/evaluations/{version}-holdout-2026.parquet")
        rates = table.groupby("sex")["prediction"].mean()
        ratio = rates.min() / rates.max()
        quoted = f"{lead} {rates['F']:.1%} of women and {rates['M']:.1%} of men ("
        assert quoted in text, quoted
        after = text[text.index(quoted) + len(quoted) :]
        assert after.startswith((f"selection-rate ratio {ratio:.2f}", f"ratio {ratio:.2f}")), after[:40]
    # what the text concludes follows from the figures it quotes
    table = pd.read_parquet(workspace / "data/credit-default/evaluations/1.1-holdout-2026.parquet")
    referred = table.groupby("sex")["prediction"].mean()
    defaults = table.groupby("sex")["default"].mean()
    gaps = 100 * abs(defaults["F"] - defaults["M"]), 100 * abs(referred["F"] - referred["M"])
    assert f"a gap of {gaps[0]:.1f} points against {gaps[1]:.1f} points in referrals" in text
    assert "reproduces rather than creates" not in text and "widens" not in text
    churn = " ".join(card(workspace, "customer-churn").ethical_considerations.split())
    for version in ("1.1", "1.2"):
        table = read_table(workspace / f"data/customer-churn/evaluations/{version}-holdout-2025-12.csv")
        offered = table.groupby("age_band")["prediction"].mean()
        assert f"{offered['18-29']:.1%} against {offered['60+']:.1%}" in churn or (
            f"{offered['18-29']:.1%} of customers aged 18-29 are flagged against {offered['60+']:.1%}" in churn
        ), version


def test_the_churn_ab_test_and_the_production_log_tell_one_story(workspace: Path) -> None:
    """The A/B test runs on the customers 1.1's production log scores: from its first day the log
    holds exactly the test's champion arm (the same ids, scores and predictions), the test's
    outcomes are those customers' production outcomes (so both have outcomes for the same weeks),
    and a customer's retention does not depend on the arm (calls change nothing, as the production
    KPI finds)."""
    champion = version_of(workspace, "customer-churn", "1.1")
    log = read_table(workspace / champion.monitoring.logs)
    truth = read_table(workspace / champion.monitoring.ground_truth.data)
    experiment_spec = version_of(workspace, "customer-churn", "1.2").experiment
    test = read_table(workspace / experiment_spec.log)
    test_outcomes = read_table(workspace / experiment_spec.outcomes.data)
    start = pd.Timestamp(experiment.START, tz="UTC")
    assert pd.to_datetime(test["timestamp"], utc=True).min() >= start
    from_start = log[pd.to_datetime(log["timestamp"], utc=True) >= start].set_index("request_id")
    arm = test[test["arm"].astype(str) == "1.1"].set_index("request_id")
    assert list(arm.index) == list(from_start.index)
    assert (arm["score"] == from_start["score"]).all() and (arm["prediction"] == from_start["prediction"]).all()
    assert 0.4 < len(arm) / len(test) < 0.6
    # the champion's outcomes are the production outcomes, with the same calls
    mine = test_outcomes.merge(truth, on="request_id")
    assert set(mine["request_id"]) == set(arm.index) & set(truth["request_id"])
    assert (mine["stayed"] == 1 - mine["churned"]).all()
    for column in ("stayed_called", "stayed_control"):
        assert mine[f"{column}_x"].fillna(-1).equals(mine[f"{column}_y"].fillna(-1))
    # the challenger's calls: only customers it flagged, called or held back, never both
    theirs = test_outcomes.merge(test[test["arm"].astype(str) == "1.2"], on="request_id")
    assert len(theirs) and theirs["stayed"].isin([0, 1]).all()
    assert (theirs["stayed_called"].notna() | theirs["stayed_control"].notna()).eq(theirs["prediction"] == 1).all()
    assert not (theirs["stayed_called"].notna() & theirs["stayed_control"].notna()).any()
    # outcomes arrive with the same lag: the test's latest outcome is in 1.1's latest week with outcomes
    test_times = pd.to_datetime(test.set_index("request_id").loc[test_outcomes["request_id"], "timestamp"], utc=True)
    log_times = pd.to_datetime(log.set_index("request_id").loc[truth["request_id"], "timestamp"], utc=True)
    week = pd.Timedelta(days=7)
    assert (test_times.max() - start) // week == (log_times.max() - start) // week == 0  # the test's first week


def test_credit_challenger_is_evaluated_on_the_champions_holdout(workspace: Path) -> None:
    champion = Version.model_validate(load(workspace, f"{CREDIT}/1.1/version.yml"))
    challenger = Version.model_validate(load(workspace, f"{CREDIT}/2.0/version.yml"))
    assert challenger.previous == "1.1" and challenger.status.value == "candidate"
    assert champion.status.value == "production"
    shared = {e.dataset for e in champion.evaluations} & {e.dataset for e in challenger.evaluations}
    assert shared == {"credit-holdout-2026"}
    a = next(e for e in champion.evaluations if e.dataset in shared)
    b = next(e for e in challenger.evaluations if e.dataset in shared)
    assert a.label == b.label and a.threshold == b.threshold == 0.5
    left, right = read_table(workspace / a.data), read_table(workspace / b.data)
    assert len(left) == len(right)
    assert left["application_id"].tolist() == right["application_id"].tolist()
    assert left[a.label].tolist() == right[b.label].tolist()
    assert not np.array_equal(left[a.score].to_numpy(), right[b.score].to_numpy())


def test_diabetes_uses_the_real_data(workspace: Path) -> None:
    from sklearn.datasets import load_diabetes

    real = load_diabetes(scaled=False, as_frame=True).frame
    train = pd.read_json(workspace / "data/diabetes-progression/train.jsonl", lines=True)
    holdout = pd.read_json(workspace / "data/diabetes-progression/holdout.jsonl", lines=True)
    assert len(train) + len(holdout) == len(real) == 442
    assert not set(train["patient_id"]) & set(holdout["patient_id"])
    both = pd.concat([train, holdout]).sort_values("patient_id").reset_index(drop=True)
    assert np.allclose(both["bmi"], real["bmi"]) and (both["progression"] == real["target"]).all()
    assert set(both["sex"]) == {"sex_1", "sex_2"}
    sheet = Datasheet.model_validate(load(workspace, "datasets/diabetes-efron2004-train.yml"))
    assert "Least Angle Regression" in sheet.source and "Annals of Statistics" in sheet.source


# --------------------------------------------------------------------------- the target folder


def test_refuses_a_non_empty_target(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ModelgovError, match="not empty") as error:
        generate_workspace(tmp_path)
    assert str(tmp_path) in str(error.value)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_refuses_a_file_as_target(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x", encoding="utf-8")
    with pytest.raises(ModelgovError, match="not a folder"):
        generate_workspace(target)


def test_failure_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(writer, seed):
        raise RuntimeError("boom")

    monkeypatch.setattr(modelgov.demo.churn, "build", broken)
    new = tmp_path / "new"
    with pytest.raises(RuntimeError):
        generate_workspace(new)
    assert not new.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(RuntimeError):
        generate_workspace(empty)
    assert empty.is_dir() and not any(empty.iterdir())


def test_the_credit_models_live_version_has_one_open_signed_flag(workspace: Path) -> None:
    from modelgov.audit import LOG_PATH, verify
    from modelgov.decisions.flag_review import flag_models
    from modelgov.decisions.signers import read_allowed_signers
    from modelgov.manifest import Model

    state = verify(workspace / LOG_PATH)
    assert state.ok
    flags = [e for e in state.valid if e["action"] == "flag"]
    assert [(e["subject"]["model"], e["subject"]["version"], e["outcome"]) for e in flags] == [
        ("credit-default", "1.1", "open")
    ]
    signers = read_allowed_signers(workspace / "audit" / "allowed_signers", "audit/allowed_signers", "workspace")
    version = yaml.safe_load((workspace / "models/credit-default/versions/1.1/version.yml").read_text())
    assert version["status"] == "production"
    stub = Model.model_construct(id="credit-default", versions=[_version_stub("1.1")])
    (flag,) = flag_models([stub], state.valid, signers, dt.date(2026, 11, 24))[0].versions[0].flags
    assert (flag.state, flag.signature, flag.age_days, flag.scope) == ("open", "signed", 18, "window")


def _version_stub(name: str):
    from modelgov.manifest import ModelVersion

    return ModelVersion.model_construct(version=name, flags=[])


@pytest.mark.parametrize(
    ("options", "cache", "jobs"),
    [
        ([], "default", None),
        (["--no-cache", "-j", "1"], None, 1),
        (["--cache-dir", "{tmp}/c", "-j", "3"], "{tmp}/c", 3),
    ],
)
def test_the_demo_builds_with_builds_cache_and_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: list[str], cache: str | None, jobs: int | None
) -> None:
    """`modelgov demo` takes `build`'s cache and parallelism options, with `build`'s defaults: the
    user's analysis cache, one process per CPU."""
    import os

    import modelgov.build
    from modelgov.cache import default_cache_dir
    from modelgov.cli import main

    seen: dict = {}

    def build_site(workspace, site, **options):  # what the demo asks of the build, nothing built
        seen.update(options)
        return SimpleNamespace(site_dir=site, manifest=SimpleNamespace(governance=None))

    monkeypatch.setattr(modelgov.build, "build_site", build_site)
    monkeypatch.setattr(modelgov.demo, "generate_workspace", lambda folder, seed: None)
    assert main(["demo", str(tmp_path / "demo"), "-q", *[o.format(tmp=tmp_path) for o in options]]) == 0
    expected = default_cache_dir() if cache == "default" else cache and Path(cache.format(tmp=tmp_path))
    assert seen["cache_dir"] == expected
    assert seen["jobs"] == (jobs or os.cpu_count() or 1)
    assert seen["dossiers"] in ((), ("production",))


@pytest.mark.parametrize("setting", ["cache inside", "short key"])
def test_a_cache_setting_that_stops_the_demo_stops_it_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], setting: str
) -> None:
    """Exit 2 naming the setting, and the folder left empty: the same command works once it is fixed."""
    from modelgov.cli import main

    target = tmp_path / "demo"
    options = ["--cache-dir", str(target / "workspace" / "cache")] if setting == "cache inside" else []
    if setting == "short key":
        monkeypatch.setenv("MODELGOV_CACHE_KEY", "too short")
    assert main(["demo", str(target), "-q", *options]) == 2
    said = capsys.readouterr().err
    assert ("inside the workspace" if setting == "cache inside" else "MODELGOV_CACHE_KEY is 9 bytes long") in said
    assert not target.exists() or not any(target.iterdir())
