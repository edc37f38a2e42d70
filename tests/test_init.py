"""`modelgov init`: from a predictions file (and optionally a model file and a log) to a workspace
that builds, with every card field present and what is still to be written reported."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from modelgov.cli import main
from modelgov.inputs import Strict
from modelgov.scaffold import scaffold_workspace
from modelgov.scaffold_inference import InitError, infer_task
from modelgov.workspace.approvals_schema import Approvals
from modelgov.workspace.datasheet_schema import Datasheet
from modelgov.workspace.load import load_workspace
from modelgov.workspace.model_schema import ModelCard, Task
from modelgov.workspace.monitoring_schema import GroundTruth
from modelgov.workspace.version_schema import Version
from shared_builds import SHARED_DATA
from workspace_factory import edit

ADULT = ["age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
         "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week", "native_country",
         "income"]  # fmt: skip
TODAY = dt.date(2026, 11, 24)


# --------------------------------------------------------------------------- inferring the task


def test_two_values_with_scores_make_a_binary_task_whose_positive_class_scores_higher() -> None:
    labels = pd.Series(["good", "bad", "good", "bad", "good"])
    scores = pd.Series([0.1, 0.9, 0.2, 0.7, 0.3])  # "bad" (default) is what the score predicts
    guess = infer_task(labels, scores, "outcome")
    assert (guess.task, guess.positive_label) == ("binary_classification", "bad")
    assert "score higher" in guess.reason


@pytest.mark.parametrize(
    ("values", "positive"), [([0, 1, 1, 0], 1), ([True, False, True], True), (["no", "yes", "no"], "yes")]
)
def test_without_scores_the_conventional_positive_value_is_taken(values: list, positive: object) -> None:
    guess = infer_task(pd.Series(values), None, "y")
    assert (guess.task, guess.positive_label) == ("binary_classification", positive)
    assert type(guess.positive_label) is type(positive)  # a Python value YAML can write, not np.int64


def test_many_numbers_are_regression_and_few_whole_numbers_or_words_are_classes() -> None:
    rng = np.random.default_rng(0)
    assert infer_task(pd.Series(rng.normal(size=200)), None, "y").task == "regression"
    assert infer_task(pd.Series(rng.integers(0, 100, 500)), None, "y").task == "regression"
    assert infer_task(pd.Series([0, 1, 2, 2, 1]), None, "y").task == "multiclass_classification"
    assert infer_task(pd.Series(["cat", "dog", "bird"]), None, "y").task == "multiclass_classification"


def test_a_label_of_many_words_is_refused_with_the_reason() -> None:
    with pytest.raises(InitError, match="'y' has 50 different non-numeric values"):
        infer_task(pd.Series([f"w{i}" for i in range(50)]), None, "y")


# --------------------------------------------------------------------------- the workspace


@pytest.fixture(scope="module")
def adult_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Predictions of a logistic regression on the UCI Adult test split, and a 'production' log."""
    if not (SHARED_DATA / "adult.data").is_file():
        pytest.skip("UCI Adult data not found in ../shared/data")
    from sklearn.linear_model import LogisticRegression

    folder = tmp_path_factory.mktemp("adult")
    train = pd.read_csv(SHARED_DATA / "adult.data", names=ADULT, skipinitialspace=True)
    test = pd.read_csv(SHARED_DATA / "adult.test", names=ADULT, skipinitialspace=True, skiprows=1)
    inputs = ["age", "education_num", "hours_per_week", "capital_gain"]
    for frame in (train, test):
        frame["high_income"] = frame["income"].str.rstrip(".").eq(">50K").map({True: "yes", False: "no"})
    model = LogisticRegression(max_iter=2000).fit(train[inputs], train["high_income"])
    test["p_high"] = model.predict_proba(test[inputs])[:, list(model.classes_).index("yes")].round(6)
    test["predicted"] = np.where(test["p_high"] >= 0.5, "yes", "no")
    columns = [*inputs, "workclass", "sex", "race", "high_income", "predicted", "p_high"]
    predictions = folder / "adult-predictions.csv"
    test[columns].to_csv(predictions, index=False)
    log = test[columns].drop(columns="high_income").sample(4000, random_state=1)
    log["scored_at"] = pd.Timestamp("2026-09-01", tz="UTC") + pd.to_timedelta(
        np.random.default_rng(2).integers(0, 56 * 86400, len(log)), unit="s"
    )
    log.to_parquet(folder / "scoring-log.parquet", index=False)
    return predictions, folder / "scoring-log.parquet"


@pytest.fixture(scope="module")
def workspace(adult_files: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    predictions, log = adult_files
    root = tmp_path_factory.mktemp("init") / "ws"
    code = main(
        ["init", str(root), "--eval", str(predictions), "--label", "high_income", "--prediction", "predicted",
         "--score", "p_high", "--sensitive", "sex,race", "--log", str(log), "--name", "Income above 50K"]
    )  # fmt: skip
    assert code == 0
    return root


def test_init_infers_the_task_positive_class_features_and_timestamp(workspace: Path) -> None:
    loaded = load_workspace(workspace)
    model = loaded.models["income-above-50k"]
    assert model.card.task == Task.binary_classification and model.card.sensitive_features == ["sex", "race"]
    run = model.versions["1.0"].spec.evaluations[0]
    assert (run.label, run.prediction, run.score, run.positive_label) == ("high_income", "predicted", "p_high", "yes")
    # sensitive columns are model inputs unless said otherwise: explainability needs every input
    assert run.features == ["age", "education_num", "hours_per_week", "capital_gain", "workclass", "sex", "race"]
    monitoring = model.versions["1.0"].spec.monitoring
    assert (
        monitoring is not None
        and monitoring.timestamp == "scored_at"
        and monitoring.logs == "data/logs/scoring-log.parquet"
    )
    # the kinds drift will use are written where the user can change them, each with its reason
    kinds = {name: test.kind for name, test in monitoring.drift.features.items()}
    assert kinds == {"age": "numeric", "education_num": "numeric", "hours_per_week": "numeric",
                     "capital_gain": "numeric", "workclass": "categorical", "sex": "categorical",
                     "race": "categorical"}  # fmt: skip
    text = (workspace / "models/income-above-50k/versions/1.0/version.yml").read_text()
    assert '"education_num": {kind: numeric}   # whole numbers, 16 distinct values (more than 10)' in text


def card_keys(model: type, prefix: str = "") -> set[str]:
    keys = set()
    for name, field in model.model_fields.items():
        keys.add(prefix + name)
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, Strict):
            keys |= card_keys(annotation, f"{prefix}{name}.")
    return keys


def flat_keys(data: dict, prefix: str = "") -> set[str]:
    keys = set()
    for key, value in data.items():
        keys.add(prefix + key)
        if isinstance(value, dict) and value:
            keys |= flat_keys(value, f"{prefix}{key}.")
    return keys


def test_every_card_and_datasheet_field_is_present_in_the_scaffold(workspace: Path) -> None:
    card = yaml.safe_load((workspace / "models/income-above-50k/model.yml").read_text())
    assert card_keys(ModelCard) <= flat_keys(card)
    datasheet = yaml.safe_load((workspace / "datasets/evaluation-data.yml").read_text())
    assert card_keys(Datasheet) <= flat_keys(datasheet)


def test_validate_lists_every_value_still_to_be_written(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(workspace)]) == 0
    out = capsys.readouterr().out
    todos = sum(path.read_text().count('"TODO:') for path in workspace.rglob("*.yml"))
    assert f"{todos} values are still to be written:" in out
    assert re.search(r"models/income-above-50k/model\.yml:\d+: intended_use\.primary_uses: still to be written", out)
    assert len(load_workspace(workspace).placeholders) == todos


def test_the_printed_command_builds_the_site_and_the_baseline_policy_names_what_to_write(
    workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "site"
    code = main(["build", str(workspace), "-o", str(site), "--no-cache"])
    assert code == 1  # blocked: the card is not written yet
    out = capsys.readouterr().out
    assert "FAIL  income-above-50k 1.0  baseline/card-complete: card.description is a placeholder" in out
    assert (site / "models/income-above-50k/1.0/index.html").is_file()
    card = (site / "models/income-above-50k/1.0/index.html").read_text()
    assert "Female" in card and "Male" in card
    # a reviewer sees at once which sections are still placeholders
    assert card.count("Not written yet") >= 8 and "TODO: what the model is for" in card


def test_once_the_card_is_written_its_rule_passes(workspace: Path, tmp_path: Path) -> None:
    import shutil

    from modelgov.assemble import build_manifest

    copy = tmp_path / "ws"
    shutil.copytree(workspace, copy)
    card = copy / "models/income-above-50k/model.yml"
    card.write_text(re.sub(r'"TODO: ([^"]*)"', lambda m: '"Written: ' + m.group(1) + '"', card.read_text()))
    built = build_manifest(load_workspace(copy), as_of=TODAY)
    results = {r.rule: r.outcome for r in built.governance.results}
    assert results["card-complete"] == "pass"


# --------------------------------------------------------------------------- refusals


def small_table(path: Path) -> Path:
    pd.DataFrame(
        {"x": [1.0, 2.0, 3.0, 4.0], "y": [0, 1, 0, 1], "yhat": [0, 1, 1, 1], "p": [0.2, 0.8, 0.6, 0.9]}
    ).to_csv(path, index=False)
    return path


def test_a_folder_with_files_is_never_overwritten(tmp_path: Path) -> None:
    table = small_table(tmp_path / "preds.csv")
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "notes.txt").write_text("mine")
    with pytest.raises(InitError, match="already exists and is not an empty folder"):
        scaffold_workspace(tmp_path / "ws", evaluation=table, label="y", prediction="yhat")
    assert (tmp_path / "ws" / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"label": "target"}, "--label 'target': no such column in .*preds.csv"),
        ({"score": "prob"}, "--score 'prob': no such column"),
        ({"sensitive": ("sex",)}, "--sensitive 'sex': no such column"),
        ({"positive_label": "2"}, "--positive-label '2' is not a value of column 'y'"),
    ],
)
def test_a_wrong_column_is_named_with_the_file(tmp_path: Path, options: dict, message: str) -> None:
    settings = {"label": "y", "prediction": "yhat", **options}
    with pytest.raises(InitError, match=message):
        scaffold_workspace(tmp_path / "ws", evaluation=small_table(tmp_path / "preds.csv"), **settings)
    assert not (tmp_path / "ws").exists()


def test_the_command_line_reports_a_bad_option_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["init", str(tmp_path / "ws"), "--eval", str(tmp_path / "missing.csv"), "--label", "y",
                 "--prediction", "yhat"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "evaluation table" in err and "missing.csv does not exist" in err and "Traceback" not in err


def test_a_pickled_model_is_copied_but_not_trusted(tmp_path: Path) -> None:
    import pickle

    model = tmp_path / "model.pkl"
    model.write_bytes(pickle.dumps({"not": "loaded"}))
    made = scaffold_workspace(
        tmp_path / "ws", evaluation=small_table(tmp_path / "preds.csv"), label="y", prediction="yhat",
        score="p", model_file=model, today=TODAY,
    )  # fmt: skip
    version = yaml.safe_load((made.root / "models/preds/versions/1.0/version.yml").read_text())
    assert version["training"]["artifact"] == {"path": "models/preds/versions/1.0/model.pkl", "trust_pickle": False}
    assert (made.root / "models/preds/versions/1.0/model.pkl").read_bytes() == model.read_bytes()
    load_workspace(made.root)  # valid as written


@pytest.mark.parametrize("kind", ["sqlite", "file store"])
def test_init_records_the_registered_mlflow_run_and_copies_the_store(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    mlflow = pytest.importorskip("mlflow", reason="mlflow is a test extra: pip install -e '.[test]'")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    from mlflow.tracking import MlflowClient

    store = tmp_path / ("mlflow.db" if kind == "sqlite" else "mlruns")
    mlflow.set_tracking_uri(f"sqlite:///{store}" if kind == "sqlite" else store.as_uri())
    try:
        mlflow.set_experiment("loans")
        with mlflow.start_run(run_name="train") as run:
            mlflow.log_params({"C": 0.5, "max_iter": 200})
            mlflow.set_tag("estimator_class", "sklearn.linear_model._logistic.LogisticRegression")
            trained = run.info.run_id
        with mlflow.start_run(run_name="later-sweep"):
            mlflow.log_param("C", 9)
        client = MlflowClient()
        client.create_registered_model("loan-approval")
        client.create_model_version("loan-approval", f"runs:/{trained}/model", run_id=trained)
    finally:
        mlflow.set_tracking_uri("")

    made = scaffold_workspace(
        tmp_path / "ws", evaluation=small_table(tmp_path / "preds.csv"), label="y", prediction="yhat", score="p",
        mlflow=store, today=TODAY,
    )  # fmt: skip
    loaded = load_workspace(made.root)
    model = loaded.models["loan-approval"]  # named after the registered model
    training = model.versions["1.0"].spec.training
    assert training.mlflow_run == trained  # the registered run, not the newer sweep
    assert training.params == {"C": "0.5", "max_iter": "200"}
    assert training.algorithm == "sklearn.linear_model._logistic.LogisticRegression"
    assert loaded.governance.lineage.mlflow.startswith("mlflow/")
    assert not list(made.root.rglob("artifacts"))

    from modelgov.assemble import build_manifest

    built = build_manifest(loaded, as_of=TODAY)
    assert any(
        node.kind == "training" and trained in (node.detail or "") + node.id for node in built.lineage.nodes
    ) or any(trained in str(node.properties) for node in built.lineage.nodes)


def test_an_unknown_mlflow_run_is_named(tmp_path: Path) -> None:
    mlflow = pytest.importorskip("mlflow", reason="mlflow is a test extra: pip install -e '.[test]'")
    store = tmp_path / "mlflow.db"
    mlflow.set_tracking_uri(f"sqlite:///{store}")
    try:
        mlflow.set_experiment("loans")  # not the experiment another test left active
        with mlflow.start_run():
            mlflow.log_param("C", 1)
    finally:
        mlflow.set_tracking_uri("")
    with pytest.raises(InitError, match=r"--mlflow-run 0{32}: no such run in"):
        scaffold_workspace(tmp_path / "ws", evaluation=small_table(tmp_path / "preds.csv"), label="y",
                           prediction="yhat", mlflow=store, mlflow_run="0" * 32)  # fmt: skip


def test_dates_are_not_features_and_the_log_timestamp_is_an_iso_column(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    days = pd.date_range("2026-01-01", periods=60, freq="D").strftime("%Y-%m-%d")
    table = pd.DataFrame({"day": days, "temp": rng.normal(15, 5, 60).round(1), "count": rng.integers(100, 900, 60)})
    table["count_pred"] = table["count"] + rng.integers(-50, 50, 60)
    table.to_csv(tmp_path / "eval.csv", index=False)
    log = table.drop(columns="count").assign(epoch=np.arange(60) * 86400 + 1_767_225_600)
    log.to_csv(tmp_path / "log.csv", index=False)
    made = scaffold_workspace(tmp_path / "ws", evaluation=tmp_path / "eval.csv", label="count", prediction="count_pred",
                              log=tmp_path / "log.csv", today=TODAY)  # fmt: skip
    version = load_workspace(made.root).models["eval"].versions["1.0"].spec
    assert version.evaluations[0].features == ["temp"]  # not the date
    assert version.monitoring.timestamp == "day" and version.monitoring.features == ["temp"]  # not epoch seconds


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"prediction": "y"}, "--label and --prediction are both 'y'"),
        ({"prediction": "p"}, "--prediction 'p': 4 of its values .* are not classes of 'y'.*--score"),
        ({"label": "why"}, "--label 'why': no such column .*; did you mean 'y'\\?"),
    ],
)
def test_mistakes_the_build_would_refuse_are_caught_by_init(tmp_path: Path, change: dict, message: str) -> None:
    settings = {"label": "y", "prediction": "yhat", **change}
    with pytest.raises(InitError, match=message):
        scaffold_workspace(tmp_path / "ws", evaluation=small_table(tmp_path / "preds.csv"), **settings)


def test_a_label_with_gaps_is_refused_with_the_count(tmp_path: Path) -> None:
    table = pd.DataFrame({"y": [0, 1, None, 1], "yhat": [0, 1, 1, 1]})
    table.to_csv(tmp_path / "gaps.csv", index=False)
    with pytest.raises(InitError, match=r"label column 'y' of .*gaps.csv: 1 of 4 rows have no value"):
        scaffold_workspace(tmp_path / "ws", evaluation=tmp_path / "gaps.csv", label="y", prediction="yhat")


def test_placeholders_fail_the_baseline_rules_that_read_them(workspace: Path) -> None:
    from modelgov.assemble import build_manifest

    results = {r.rule: r for r in build_manifest(load_workspace(workspace), as_of=TODAY).governance.results}
    assert results["owner-contact"].outcome == "fail"
    assert "is a placeholder" in results["owner-contact"].message
    assert (
        results["datasheets"].outcome == "fail"
        and "still a placeholder: source, licence" in results["datasheets"].message
    )
    # the sensitive features make the evaluation data personal data: its legal basis is required
    assert results["personal-data-legal-basis"].outcome == "fail"


def test_other_dates_epoch_times_and_row_numbers_are_not_features(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    n = 40
    table = pd.DataFrame(
        {
            "instant": np.arange(1, n + 1),  # a row number
            "us_date": pd.date_range("2012-05-01", periods=n).strftime("%m/%d/%Y"),
            "event_epoch": 1_700_000_000 + np.arange(n) * 3600,
            "temp": rng.normal(20, 3, n).round(1),
            "season": rng.choice(["spring", "summer"], n),
            "cnt": rng.integers(100, 900, n),
        }
    )
    table["cnt_pred"] = table["cnt"] + rng.integers(-40, 40, n)
    table.to_csv(tmp_path / "t.csv", index=False)
    made = scaffold_workspace(tmp_path / "ws", evaluation=tmp_path / "t.csv", label="cnt", prediction="cnt_pred")
    assert load_workspace(made.root).models["t"].versions["1.0"].spec.evaluations[0].features == ["temp", "season"]


def test_an_epoch_timestamp_named_on_the_command_line_is_refused(tmp_path: Path) -> None:
    log = pd.DataFrame({"scored_epoch": [1_700_000_000, 1_700_003_600], "x": [1.0, 2.0], "yhat": [0, 1]})
    log.to_csv(tmp_path / "log.csv", index=False)
    with pytest.raises(InitError, match=r"--timestamp 'scored_epoch': column of .* holds 1700000000, not an ISO 8601"):
        scaffold_workspace(tmp_path / "ws", evaluation=small_table(tmp_path / "preds.csv"), label="y",
                           prediction="yhat", log=tmp_path / "log.csv", timestamp="scored_epoch")  # fmt: skip


def test_every_missing_column_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(InitError) as failed:
        scaffold_workspace(tmp_path / "ws", evaluation=small_table(tmp_path / "preds.csv"), label="y",
                           prediction="prd", score="scor", sensitive=("sexx",))  # fmt: skip
    message = str(failed.value)
    assert "--prediction 'prd'" in message and "--score 'scor'" in message and "--sensitive 'sexx'" in message


# --------------------------------------------------------------------------- comments match the schema

_OFFERED = re.compile(r"#\s*([a-z_]+(?:, [a-z_]+)+,? or [a-z_]+)\b")
_SCHEMAS = {"approvals.yml": Approvals, "version.yml": Version, "model.yml": ModelCard}


def _replace(data: object, key: str, value: str) -> bool:
    """Set the first ``key`` found in ``data`` (depth first) to ``value``."""
    if isinstance(data, dict):
        if key in data:
            data[key] = value
            return True
        return any(_replace(v, key, value) for v in data.values())
    if isinstance(data, list):
        return any(_replace(v, key, value) for v in data)
    return False


def test_every_value_a_written_comment_offers_is_accepted_by_the_schema(workspace: Path) -> None:
    checked = 0
    for path in sorted(workspace.rglob("*.yml")):
        model = _SCHEMAS.get(path.name)
        if model is None:
            continue
        lines = path.read_text().splitlines()
        base = yaml.safe_load(path.read_text())
        if path.name == "approvals.yml":  # its commented example, uncommented, is what a reviewer writes
            example = yaml.safe_load("\n".join(line[4:] for line in lines if re.match(r"#   [- ] ", line)))
            base = {"approvals": [dict(example[0], date=TODAY)]}
        for number, line in enumerate(lines):
            found = _OFFERED.search(line)
            if not found:
                continue
            # the key the list is for: before the comment on the same line, else on the next line
            own = re.search(r"([a-z_]+):", line[: found.start()])
            key = own.group(1) if own else re.match(r"^\s*([a-z_]+):", lines[number + 1]).group(1)
            for value in re.split(r",? or |, ", found.group(1)):
                data = yaml.safe_load(yaml.safe_dump(base))
                assert _replace(data, key, value), (path.name, key)
                model.model_validate(data)  # raises if the schema refuses the offered value
                checked += 1
    assert checked >= 3 + 4 + 3  # decisions, statuses, windows


# --------------------------------------------------------------------------- sensitive columns as features


def sensitive_table(path: Path) -> Path:
    rng = np.random.default_rng(7)
    n = 200
    table = pd.DataFrame({"x": rng.normal(size=n).round(3), "z": rng.normal(size=n).round(3),
                          "sex": rng.integers(0, 2, n)})  # fmt: skip
    table["y"] = (table["x"] + 0.5 * table["sex"] + rng.normal(0, 0.5, n) > 0.3).astype(int)
    table.to_csv(path, index=False)
    return path


def fitted_skops(table: Path, inputs: list[str], path: Path, estimator: object | None = None) -> Path:
    """A model fitted on ``inputs`` of the table, saved as .skops; its predictions added to the table."""
    import skops.io
    from sklearn.linear_model import LogisticRegression

    frame = pd.read_csv(table)
    model = (estimator or LogisticRegression()).fit(frame[inputs], frame["y"])
    frame["p"] = model.predict_proba(frame[inputs])[:, 1].round(6)
    frame["yhat"] = model.predict(frame[inputs])
    frame.to_csv(table, index=False)
    skops.io.dump(model, path)
    return path


def test_sensitive_columns_stay_features_unless_the_flag_leaves_them_out(tmp_path: Path) -> None:
    table = sensitive_table(tmp_path / "preds.csv")
    pd.read_csv(table).assign(yhat=lambda f: f["y"]).to_csv(table, index=False)
    kept = scaffold_workspace(tmp_path / "kept", evaluation=table, label="y", prediction="yhat", sensitive=("sex",))
    spec = load_workspace(kept.root).models["preds"].versions["1.0"].spec
    assert spec.evaluations[0].features == ["x", "z", "sex"]
    assert "--sensitive-not-features" in (kept.root / "models/preds/versions/1.0/version.yml").read_text()
    left = scaffold_workspace(tmp_path / "left", evaluation=table, label="y", prediction="yhat", sensitive=("sex",),
                              sensitive_not_features=True)  # fmt: skip
    assert load_workspace(left.root).models["preds"].versions["1.0"].spec.evaluations[0].features == ["x", "z"]
    assert load_workspace(left.root).models["preds"].card.sensitive_features == ["sex"]


@pytest.mark.parametrize(("inputs", "kept"), [(["x", "sex"], True), (["x", "z"], False)])
def test_a_skops_models_feature_names_decide_and_init_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], inputs: list[str], kept: bool
) -> None:
    pytest.importorskip("skops")
    table = sensitive_table(tmp_path / "preds.csv")
    model = fitted_skops(table, inputs, tmp_path / "model.skops")
    code = main(["init", str(tmp_path / "ws"), "--eval", str(table), "--label", "y", "--prediction", "yhat",
                 "--score", "p", "--sensitive", "sex", "--model", str(model)])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    spec = load_workspace(tmp_path / "ws").models["preds"].versions["1.0"].spec
    assert spec.evaluations[0].features == inputs  # the model's inputs, in its order; nothing else
    assert "feature_names_in_" in out
    assert ("sex are model inputs" in out) is kept and ("sex are not model inputs" in out) is not kept


def test_the_flag_is_refused_when_the_model_takes_the_sensitive_column(tmp_path: Path) -> None:
    pytest.importorskip("skops")
    table = sensitive_table(tmp_path / "preds.csv")
    model = fitted_skops(table, ["x", "sex"], tmp_path / "model.skops")
    with pytest.raises(InitError, match=r"--sensitive-not-features: the model file .* takes 'sex' as input"):
        scaffold_workspace(tmp_path / "ws", evaluation=table, label="y", prediction="yhat", sensitive=("sex",),
                           sensitive_not_features=True, model_file=model)  # fmt: skip


# --------------------------------------------------------------------------- skops trusted types


def test_a_skops_model_needing_more_types_is_scaffolded_without_trusting_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A trusted type is code the file calls when the model loads or scores: init names each type and
    leaves `trusted_types` out, so that a person who reviewed them lists them by hand."""
    pytest.importorskip("skops")
    from sklearn.ensemble import HistGradientBoostingClassifier

    from modelgov.sources.models import LoadedModel, ModelUnavailable, load_model

    table = sensitive_table(tmp_path / "preds.csv")
    model = fitted_skops(table, ["x", "z", "sex"], tmp_path / "model.skops", HistGradientBoostingClassifier(max_iter=5))
    code = main(["init", str(tmp_path / "ws"), "--eval", str(table), "--label", "y", "--prediction", "yhat",
                 "--score", "p", "--sensitive", "sex", "--model", str(model)])  # fmt: skip
    out = capsys.readouterr().out
    needed = "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"
    assert code == 0
    assert f"holds types skops does not trust by default: `{needed}`" in out
    assert "called when the model loads" in out and "listed them by hand" in out and "--refuse-pickle" in out
    assert "Trusted the types" not in out
    version_yml = tmp_path / "ws/models/preds/versions/1.0/version.yml"
    assert f"#   `{needed}`" in version_yml.read_text()  # named in a comment beside the artifact, not trusted
    artifact = load_workspace(tmp_path / "ws").models["preds"].versions["1.0"].spec.training.artifact
    assert artifact.trusted_types == []
    refused = load_model(tmp_path / "ws" / artifact.path, artifact)
    assert isinstance(refused, ModelUnavailable) and f"`{needed}`" in refused.reason
    # listed by hand, after review, the model loads
    edit(
        tmp_path / "ws",
        "models/preds/versions/1.0/version.yml",
        "    path:",
        f"    trusted_types: [{needed}]\n    path:",
    )
    artifact = load_workspace(tmp_path / "ws").models["preds"].versions["1.0"].spec.training.artifact
    loaded = load_model(tmp_path / "ws" / artifact.path, artifact)
    assert isinstance(loaded, LoadedModel) and loaded.estimator.n_features_in_ == 3


def test_the_types_init_names_stay_on_their_lines(tmp_path: Path) -> None:
    """The type names come from the file: a line break in one cannot end the comment that names it."""
    from modelgov.scaffold_yaml import shown_types

    assert shown_types(["a.b\ntrust_pickle: true", "c\u2028d", "e\x1b[2Jf"]) == [
        "`a.b\\x0atrust_pickle: true`",
        "`c\\u2028d`",
        "`e\\x1b[2Jf`",
    ]


def test_a_skops_model_needing_no_extra_types_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("skops")
    table = sensitive_table(tmp_path / "preds.csv")
    model = fitted_skops(table, ["x", "z"], tmp_path / "model.skops")
    assert main(["init", str(tmp_path / "ws"), "--eval", str(table), "--label", "y", "--prediction", "yhat",
                 "--model", str(model)]) == 0  # fmt: skip
    assert "needs no types beyond those skops trusts by default" in capsys.readouterr().out
    version = yaml.safe_load((tmp_path / "ws/models/preds/versions/1.0/version.yml").read_text())
    assert version["training"]["artifact"] == {"path": "models/preds/versions/1.0/model.skops"}
    load_workspace(tmp_path / "ws")


def test_a_file_that_is_not_skops_is_refused(tmp_path: Path) -> None:
    pytest.importorskip("skops")
    (tmp_path / "model.skops").write_bytes(b"not a zip")
    with pytest.raises(InitError, match=r"model file .*model.skops is not a readable .skops file"):
        scaffold_workspace(tmp_path / "ws", evaluation=small_table(tmp_path / "preds.csv"), label="y",
                           prediction="yhat", model_file=tmp_path / "model.skops")  # fmt: skip
    assert not (tmp_path / "ws").exists()


# --------------------------------------------------------------------------- late ground truth


def log_and_truth(tmp_path: Path) -> tuple[Path, Path, Path]:
    table = small_table(tmp_path / "preds.csv")
    rng = np.random.default_rng(11)
    n = 600
    log = pd.DataFrame({"request_id": [f"r{i}" for i in range(n)], "x": rng.normal(2.5, 1, n).round(2),
                        "yhat": rng.integers(0, 2, n), "p": rng.uniform(0, 1, n).round(3),
                        "scored_at": pd.date_range("2026-09-01", periods=n, freq="h", tz="UTC")})  # fmt: skip
    log.to_parquet(tmp_path / "log.parquet", index=False)
    truth = pd.DataFrame({"req": log["request_id"][::2], "outcome": rng.integers(0, 2, n // 2)})
    truth.to_csv(tmp_path / "outcomes.csv", index=False)
    return table, tmp_path / "log.parquet", tmp_path / "outcomes.csv"


def test_late_ground_truth_is_written_under_monitoring_and_loads(tmp_path: Path) -> None:
    table, log, truth = log_and_truth(tmp_path)
    code = main(["init", str(tmp_path / "ws"), "--eval", str(table), "--label", "y", "--prediction", "yhat",
                 "--score", "p", "--log", str(log), "--log-id", "request_id", "--ground-truth", str(truth),
                 "--ground-truth-id", "req", "--ground-truth-label", "outcome"])  # fmt: skip
    assert code == 0
    monitoring = load_workspace(tmp_path / "ws").models["preds"].versions["1.0"].spec.monitoring
    assert monitoring.id == "request_id"
    assert monitoring.ground_truth == GroundTruth(data="data/ground-truth/outcomes.csv", id="req", label="outcome")
    assert (tmp_path / "ws/data/ground-truth/outcomes.csv").read_bytes() == truth.read_bytes()
    from modelgov.assemble import build_manifest

    built = build_manifest(load_workspace(tmp_path / "ws"), as_of=TODAY)
    labelled = [int(n) for n in re.findall(r'"labelled_rows":\s*(\d+)', built.model_dump_json())]
    assert sum(labelled) == 300  # every other record's outcome, joined window by window


def test_ground_truth_columns_default_to_the_log_id_and_the_label(tmp_path: Path) -> None:
    table, log, _ = log_and_truth(tmp_path)
    pd.DataFrame({"request_id": ["r0", "r2"], "y": [1, 0]}).to_csv(tmp_path / "truth.csv", index=False)
    made = scaffold_workspace(tmp_path / "ws", evaluation=table, label="y", prediction="yhat", log=log,
                              log_id="request_id", ground_truth=tmp_path / "truth.csv")  # fmt: skip
    truth = load_workspace(made.root).models["preds"].versions["1.0"].spec.monitoring.ground_truth
    assert (truth.id, truth.label) == ("request_id", "y")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"ground_truth_id": "request"}, r"--ground-truth-id 'request': no such column in .*outcomes.csv; did you mean 'req'\?"),
        ({"ground_truth_id": "req", "ground_truth_label": "y"}, r"--ground-truth-label 'y': no such column in .*outcomes.csv"),
        ({"ground_truth_id": "req", "log_id": None}, r"--ground-truth .*: .* give the log with --log and its record-id column with --log-id"),
        ({"ground_truth": None, "ground_truth_id": "req"}, r"--ground-truth-id 'req': give the ground-truth table with --ground-truth too"),
    ],
)  # fmt: skip
def test_a_wrong_ground_truth_option_is_named(tmp_path: Path, options: dict, message: str) -> None:
    table, log, truth = log_and_truth(tmp_path)
    settings = {"log": log, "log_id": "request_id", "ground_truth": truth, "ground_truth_label": "outcome", **options}
    with pytest.raises(InitError, match=message):
        scaffold_workspace(tmp_path / "ws", evaluation=table, label="y", prediction="yhat", **settings)
    assert not (tmp_path / "ws").exists()
