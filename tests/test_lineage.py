"""Lineage: a real MLflow store (SQLite and file store, written by MLflow itself) and OpenLineage
events joined with the workspace into the expected nodes and edges; the layout and the SVG."""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import re
import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from modelgov import manifest
from modelgov.assemble import build_manifest
from modelgov.errors import WorkspaceError
from modelgov.lineage.join import build_lineage
from modelgov.lineage.queries import downstream, neighbourhood, upstream
from modelgov.manifest import Lineage, LineageEdge, LineageNode
from modelgov.render.lineage_layout import _crossings, layered_layout
from modelgov.render.lineage_svg import lineage_svg
from modelgov.render.lineage_views import dataset_impact
from modelgov.sources.mlflow_store import read_store
from modelgov.workspace.load import load_workspace
from workspace_factory import edit, write_workspace

TRAIN = pd.DataFrame({"income": [1.0, 2.0, 3.0, 4.0], "age": [30, 40, 50, 60], "defaulted": [0, 1, 0, 1]})


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tracked_workspace(root: Path) -> Path:
    """The factory workspace with datasheet files, so datasets can be matched by path and digest."""
    write_workspace(root)
    TRAIN.to_csv(root / "data" / "train.csv", index=False)
    with open(root / "datasets" / "loans-train.yml", "a", encoding="utf-8") as sheet:
        sheet.write("files:\n  - path: data/train.csv\n")
    with open(root / "datasets" / "loans-holdout.yml", "a", encoding="utf-8") as sheet:
        sheet.write("files:\n  - path: data/holdout.csv\n")
    return root


def log_mlflow_runs(uri: str) -> tuple[str, str]:
    """With MLflow itself: a registered training run (alias `champion`) and an unregistered tuning run."""
    mlflow = pytest.importorskip("mlflow", reason="mlflow is a test extra: pip install -e '.[test]'")
    from mlflow.tracking import MlflowClient

    mlflow.set_tracking_uri(uri)
    try:
        mlflow.set_experiment("loans")
        dataset = mlflow.data.from_pandas(TRAIN, source="data/train.csv", name="loans-train", targets="defaulted")
        with mlflow.start_run(run_name="train-1.0") as run:
            mlflow.log_input(dataset, context="training")
            mlflow.log_params({"C": 1.0, "max_iter": 100})
            mlflow.log_metric("val_auc", 0.70, step=0)
            mlflow.log_metric("val_auc", 0.74, step=1)
            trained = run.info.run_id
        with mlflow.start_run(run_name="sweep") as sweep:
            mlflow.log_param("C", 0.1)
            unregistered = sweep.info.run_id
        client = MlflowClient()
        client.create_registered_model("loans")
        registered = client.create_model_version("loans", f"runs:/{trained}/model", run_id=trained)
        client.set_registered_model_alias("loans", "champion", registered.version)
    finally:
        mlflow.set_tracking_uri("")
    return trained, unregistered


def ol_events(root: Path) -> str:
    """An extract writing the training file (by absolute path) and the holdout (elsewhere, by digest)."""
    event = {
        "eventType": "COMPLETE",
        "eventTime": "2026-01-10T03:00:00Z",
        "run": {"runId": "0f9c1a6e-8f1e-4d2a-9c1b-2b7d3e4f5a60"},
        "job": {"namespace": "warehouse", "name": "extract_loans"},
        "inputs": [{"namespace": "postgres://db:5432", "name": "lending.applications"}],
        "outputs": [
            {"namespace": "file", "name": str(root / "data" / "train.csv")},
            {
                "namespace": "s3://lake",
                "name": "exports/holdout.csv",
                "facets": {"version": {"datasetVersion": f"sha256:{_sha256(root / 'data' / 'holdout.csv')}"}},
            },
        ],
    }
    start = {**event, "eventType": "START", "eventTime": "2026-01-10T02:00:00Z", "outputs": []}
    return json.dumps(start) + "\n\n" + json.dumps(event) + "\n"


def _workspace_with_sources(root: Path, kind: str) -> tuple[Path, str, str, str]:
    root = tracked_workspace(root)
    # absolute URIs: MLflow caches a store per URI, so a relative one would reach another test's store
    if kind == "sqlite":
        trained, unregistered = log_mlflow_runs(f"sqlite:///{root}/mlflow.db")
        store = "mlflow.db"
    else:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 keeps the file store behind a flag
            trained, unregistered = log_mlflow_runs(f"file:{root}/mlruns")
        store = "mlruns"
    (root / "lineage").mkdir()
    (root / "lineage" / "events.jsonl").write_text(ol_events(root), encoding="utf-8")
    with open(root / "governance.yml", "a", encoding="utf-8") as gov:
        gov.write(f"lineage:\n  mlflow: {store}\n  openlineage: lineage\n")
    edit(root, "models/loans/versions/1.0/version.yml", "  params:\n", f"  mlflow_run: {trained}\n  params:\n")
    return root, store, trained, unregistered


@pytest.fixture(scope="module")
def sources_made_once(tmp_path_factory: pytest.TempPathFactory):
    """Each kind of store, logged with MLflow once for the module (a SQLite store's schema
    migrations take a second or two): tests get a copy (:func:`workspace_with_sources`)."""
    made: dict[str, tuple[Path, str, str, str]] = {}

    def get(kind: str) -> tuple[Path, str, str, str]:
        if kind not in made:
            made[kind] = _workspace_with_sources(tmp_path_factory.mktemp(kind.replace(" ", "-")) / "ws", kind)
        return made[kind]

    return get


@pytest.fixture(params=["sqlite", "file store"])
def workspace_with_sources(request: pytest.FixtureRequest, tmp_path: Path, sources_made_once):
    """A workspace with an MLflow store of the kind asked for and OpenLineage events: a copy of the
    module's (the store's files are the same bytes, so its content hashes are too), with events that
    name the copy's files."""
    made, store, trained, unregistered = sources_made_once(request.param)
    root = tmp_path / "ws"
    shutil.copytree(made, root, symlinks=True)
    # the events name the workspace's own files by their absolute location
    (root / "lineage" / "events.jsonl").write_text(ol_events(root), encoding="utf-8")
    return root, store, trained, unregistered


# --------------------------------------------------------------------------- reading the store


def test_both_store_layouts_read_the_same_records(workspace_with_sources) -> None:
    root, store, trained, unregistered = workspace_with_sources
    records = read_store(root / store)
    assert {run.run_id for run in records.runs} == {trained, unregistered}
    run = records.run(trained)
    assert run.params == {"C": "1.0", "max_iter": "100"}
    assert run.metrics == {"val_auc": 0.74}  # the latest step, as MLflow's latest_metrics has it
    assert run.status == "FINISHED" and run.experiment == "loans"
    (item,) = run.inputs
    assert (item.name, item.context, item.location) == ("loans-train", "training", "data/train.csv")
    (version,) = records.model_versions
    assert (version.name, version.version, version.run_id, version.aliases) == ("loans", "1", trained, ("champion",))


@pytest.mark.parametrize("workspace_with_sources", ["sqlite"], indirect=True)
def test_the_sqlite_store_is_opened_read_only(workspace_with_sources) -> None:
    root, store, _, _ = workspace_with_sources
    before = _sha256(root / store)
    load_workspace(root)
    assert _sha256(root / store) == before


# --------------------------------------------------------------------------- the joined graph


def test_sources_join_into_the_expected_nodes_and_edges(workspace_with_sources) -> None:
    root, _store, trained, _ = workspace_with_sources
    lineage = build_lineage(load_workspace(root))
    nodes = {node.id: node for node in lineage.nodes}
    assert set(nodes) == {
        "dataset:loans-train",
        "dataset:loans-holdout",
        "dataset:ol:postgres://db:5432/lending.applications",
        "job:warehouse/extract_loans",
        "training:loans/1.0",
        "version:loans/1.0",
        "evaluation:loans/1.0/holdout",
        "registered:loans/1",
    }
    edges = {(e.source, e.target, e.relation): e.origins for e in lineage.edges}
    assert edges == {
        ("dataset:loans-train", "training:loans/1.0", "trained on"): ["mlflow", "workspace"],
        ("training:loans/1.0", "version:loans/1.0", "produced"): ["workspace"],
        ("version:loans/1.0", "evaluation:loans/1.0/holdout", "evaluated in"): ["workspace"],
        ("dataset:loans-holdout", "evaluation:loans/1.0/holdout", "evaluated on"): ["workspace"],
        ("version:loans/1.0", "registered:loans/1", "registered as"): ["mlflow"],
        ("dataset:ol:postgres://db:5432/lending.applications", "job:warehouse/extract_loans", "read by"): [
            "openlineage"
        ],
        ("job:warehouse/extract_loans", "dataset:loans-train", "wrote"): ["openlineage"],  # matched by path
        ("job:warehouse/extract_loans", "dataset:loans-holdout", "wrote"): ["openlineage"],  # matched by digest
    }
    assert nodes["dataset:loans-train"].origins == ["mlflow", "openlineage", "workspace"]
    assert nodes["training:loans/1.0"].properties["MLflow run"] == trained
    assert nodes["training:loans/1.0"].properties["param C"] == "1.0"
    assert nodes["registered:loans/1"].detail == "@champion"
    job = nodes["job:warehouse/extract_loans"].properties
    assert (job["runs"], job["last state"]) == ("1", "COMPLETE")
    assert lineage.notes == [
        "1 MLflow run(s) that no model version names (training.mlflow_run) and no registered model version "
        "came from are not drawn (experiments and tuning runs)."
    ]
    assert any(
        source.startswith("MLflow") and "2 run(s), 1 registered version(s)" in source for source in lineage.sources
    )


def with_model_file(root: Path) -> Path:
    """A model file beside loans 1.0, named as its training artifact (never loaded here)."""
    model_file = root / "models" / "loans" / "versions" / "1.0" / "model.skops"
    model_file.write_bytes(b"weights")
    edit(
        root,
        "models/loans/versions/1.0/version.yml",
        "  params:\n",
        "  artifact: models/loans/versions/1.0/model.skops\n  params:\n",
    )
    return model_file


@pytest.mark.parametrize("workspace_with_sources", ["sqlite"], indirect=True)
def test_training_inputs_the_card_does_not_list_are_noted_from_either_source(workspace_with_sources) -> None:
    """The card's `training.datasets` against what the records say the model was made from: an
    MLflow run's logged training input, and what an OpenLineage job read when it wrote the version's
    model file. A dataset the card lists gets no note."""
    root, *_ = workspace_with_sources
    model_file = with_model_file(root)
    train = {
        "eventType": "COMPLETE",
        "eventTime": "2026-01-12T03:00:00Z",
        "run": {"runId": "1a9c1a6e-8f1e-4d2a-9c1b-2b7d3e4f5a61"},
        "job": {"namespace": "ml", "name": "train_loans"},
        "inputs": [
            {"namespace": "file", "name": str(root / "data" / "train.csv")},
            {"namespace": "file", "name": str(root / "data" / "holdout.csv")},
            {"namespace": "postgres://db:5432", "name": "lending.bureau_scores"},
        ],
        "outputs": [{"namespace": "file", "name": str(model_file)}],
    }
    # another run of the same job, last quarter, read other data and wrote another file: not this model's inputs
    other_run = {
        **train,
        "run": {"runId": "2b9c1a6e-8f1e-4d2a-9c1b-2b7d3e4f5a62"},
        "inputs": [{"namespace": "postgres://db:5432", "name": "lending.bureau_scores_2025q4"}],
        "outputs": [{"namespace": "file", "name": str(root / "models" / "old-model.skops")}],
    }
    with open(root / "lineage" / "events.jsonl", "a", encoding="utf-8") as events:
        events.write(json.dumps(train) + "\n" + json.dumps(other_run) + "\n")
    notes = build_lineage(load_workspace(root)).notes
    said = [note for note in notes if note.startswith("OpenLineage job ml/train_loans")]
    assert said == [
        "OpenLineage job ml/train_loans wrote the model file of loans/1.0 and read 'lending.bureau_scores', "
        "which loans/1.0 does not list in training.datasets.",
        "OpenLineage job ml/train_loans wrote the model file of loans/1.0 and read dataset 'loans-holdout', "
        "which loans/1.0 does not list in training.datasets.",
    ]
    assert not any("MLflow run" in note and "training input" in note for note in notes)  # it logged loans-train
    edit(root, "models/loans/versions/1.0/version.yml", "datasets: [loans-train]", "datasets: [loans-holdout]")
    notes = build_lineage(load_workspace(root)).notes
    assert any("logged training input 'loans-train', which loans/1.0 does not list" in note for note in notes)
    assert any("read dataset 'loans-train', which loans/1.0 does not list" in note for note in notes)
    assert not any("read dataset 'loans-holdout'" in note for note in notes)


def test_a_training_job_that_read_the_evaluation_table_is_noted(tmp_path: Path) -> None:
    """No datasheet names the holdout's file, so the event's input is the evaluation itself: the model
    was trained on the rows it is evaluated on."""
    root = write_workspace(tmp_path / "ws")
    with_model_file(root)
    event = {
        "eventType": "COMPLETE",
        "eventTime": "2026-01-12T03:00:00Z",
        "run": {"runId": "1a9c1a6e-8f1e-4d2a-9c1b-2b7d3e4f5a61"},
        "job": {"namespace": "ml", "name": "train_loans"},
        "inputs": [{"namespace": "file", "name": str(root / "data" / "holdout.csv")}],
        "outputs": [{"namespace": "file", "name": str(root / "models/loans/versions/1.0/model.skops")}],
    }
    (root / "lineage").mkdir()
    (root / "lineage" / "events.jsonl").write_text(json.dumps(event) + "\n", encoding="utf-8")
    with open(root / "governance.yml", "a", encoding="utf-8") as gov:
        gov.write("lineage:\n  openlineage: lineage\n")
    assert build_lineage(load_workspace(root)).notes == [
        "OpenLineage job ml/train_loans wrote the model file of loans/1.0 and read 'data/holdout.csv', the "
        "evaluation table of loans/1.0 (Evaluation holdout): a model trained on the data it is evaluated on is "
        "scored too well there."
    ]


def test_store_files_and_events_are_hashed_inputs(workspace_with_sources) -> None:
    root, store, _, _ = workspace_with_sources
    built = build_manifest(load_workspace(root))
    paths = {ref.path for ref in built.inputs}
    assert "lineage/events.jsonl" in paths
    assert (
        (store in paths)
        if store == "mlflow.db"
        else any(p.startswith("mlruns/") and p.endswith("meta.yaml") for p in paths)
    )


def test_upstream_downstream_and_dataset_impact(workspace_with_sources) -> None:
    root, *_ = workspace_with_sources
    built = build_manifest(load_workspace(root))
    lineage = built.lineage
    assert "job:warehouse/extract_loans" in upstream(lineage, "version:loans/1.0")
    assert "registered:loans/1" in downstream(lineage, "dataset:loans-train")
    # the raw warehouse table reaches the version only through the extract's files
    (impact,) = dataset_impact(built, "ol:postgres://db:5432/lending.applications")
    assert (impact.model, impact.version, impact.uses, impact.direct) == (
        "loans",
        "1.0",
        ("training", "evaluation"),
        False,
    )
    (impact,) = dataset_impact(built, "loans-holdout")
    assert (impact.uses, impact.direct) == (("evaluation",), True)
    part = neighbourhood(lineage, "version:loans/1.0")
    assert "dataset:loans-holdout" in {n.id for n in part.nodes}  # the input of its evaluation
    narrow = neighbourhood(lineage, "dataset:loans-holdout", inputs_of_results=False)
    assert "dataset:loans-train" not in {n.id for n in narrow.nodes}


def test_workspace_without_sources_still_has_its_own_lineage(tmp_path: Path) -> None:
    lineage = build_lineage(load_workspace(write_workspace(tmp_path)))
    assert {n.kind for n in lineage.nodes} == {"dataset", "training", "version", "evaluation"}
    assert lineage.sources == [] and lineage.notes == []


# --------------------------------------------------------------------------- bad records


def _problems(root: Path) -> str:
    with pytest.raises(WorkspaceError) as caught:
        load_workspace(root)
    return str(caught.value)


def _with_lineage(root: Path, text: str) -> Path:
    with open(root / "governance.yml", "a", encoding="utf-8") as gov:
        gov.write(text)
    return root


def test_a_file_that_is_not_an_mlflow_database_is_named(tmp_path: Path) -> None:
    root = _with_lineage(write_workspace(tmp_path), "lineage:\n  mlflow: mlflow.db\n")
    (root / "mlflow.db").write_bytes(b"this is not sqlite" * 100)
    assert "mlflow.db: MLflow store: not a readable MLflow SQLite store" in _problems(root)


def test_a_sqlite_file_of_another_tool_is_named(tmp_path: Path) -> None:
    root = _with_lineage(write_workspace(tmp_path), "lineage:\n  mlflow: other.db\n")
    with sqlite3.connect(root / "other.db") as db:
        db.execute("CREATE TABLE things (x)")
    assert "other.db: MLflow store: has no `runs`/`experiments` tables" in _problems(root)


def test_a_missing_store_and_an_escaping_path_are_named(tmp_path: Path) -> None:
    root = _with_lineage(write_workspace(tmp_path), "lineage:\n  mlflow: nowhere.db\n  openlineage: ../events.jsonl\n")
    text = _problems(root)
    assert "governance.yml:5: lineage.mlflow: 'nowhere.db' does not exist" in text
    assert "lineage.openlineage: '../events.jsonl' must be a relative path inside the workspace" in text


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("{not json", "lineage.jsonl:2: OpenLineage event: not valid JSON"),
        ('{"eventType": "START", "run": {"runId": "r"}}', "lineage.jsonl:2: job: OpenLineage event: missing"),
        ('{"job": {"namespace": "n"}, "run": {"runId": "r"}}', "lineage.jsonl:2: job.name: OpenLineage event: must be"),
        ('{"job": {"namespace": "n", "name": "j"}, "outputs": [{"namespace": "file"}]}', "outputs[0].name"),
        ('{"job": {"namespace": "n", "name": "j"}, "run": {}}', "lineage.jsonl:2: run.runId"),
        ("[1, 2]", "lineage.jsonl:2: OpenLineage event: an event must be a JSON object"),
    ],
)
def test_a_bad_openlineage_event_is_named_by_file_line_and_key(tmp_path: Path, line: str, expected: str) -> None:
    root = _with_lineage(write_workspace(tmp_path), "lineage:\n  openlineage: lineage.jsonl\n")
    good = '{"job": {"namespace": "n", "name": "j"}, "run": {"runId": "r"}, "eventType": "START"}'
    (root / "lineage.jsonl").write_text(good + "\n" + line + "\n", encoding="utf-8")
    assert expected in _problems(root)


def test_a_run_id_missing_from_the_store_is_named(workspace_with_sources) -> None:
    root, *_ = workspace_with_sources
    version = root / "models/loans/versions/1.0/version.yml"
    text = re.sub(r"mlflow_run: [0-9a-f]{32}", "mlflow_run: " + "f" * 32, version.read_text())
    version.write_text(text)
    assert "training.mlflow_run: run ffffffffffffffffffffffffffffffff is not in the MLflow store" in _problems(root)


def test_a_run_id_without_a_store_is_named(tmp_path: Path) -> None:
    root = write_workspace(tmp_path)
    edit(root, "models/loans/versions/1.0/version.yml", "  params:\n", f"  mlflow_run: {'a' * 32}\n  params:\n")
    assert "names an MLflow run, but governance.yml sets no lineage.mlflow store" in _problems(root)


# --------------------------------------------------------------------------- layout and drawing


def _synthetic(models: int, versions: int) -> Lineage:
    """A fleet: per model, datasets → training → version → evaluation, versions sharing a holdout."""
    nodes, edges = [], []

    def node(node_id: str, kind: str, label: str, **extra: str) -> None:
        nodes.append(LineageNode(id=node_id, kind=kind, label=label, origins=["workspace"], **extra))

    for m in range(models):
        node(f"dataset:h{m}", "dataset", f"Holdout {m}", dataset=f"h{m}")
        for v in range(versions):
            ref = f"m{m}/{v}"
            node(f"dataset:t{m}-{v}", "dataset", f"Training {m}.{v}", dataset=f"t{m}-{v}")
            node(f"training:{ref}", "training", f"Training of m{m} {v}", model=f"m{m}", version=str(v))
            node(f"version:{ref}", "version", f"Model {m} {v}", model=f"m{m}", version=str(v))
            node(f"evaluation:{ref}/h", "evaluation", "Evaluation h", model=f"m{m}", version=str(v))
            edges += [
                (f"dataset:t{m}-{v}", f"training:{ref}", "trained on"),
                (f"training:{ref}", f"version:{ref}", "produced"),
                (f"version:{ref}", f"evaluation:{ref}/h", "evaluated in"),
                (f"dataset:h{m}", f"evaluation:{ref}/h", "evaluated on"),
            ]
    return Lineage(
        nodes=sorted(nodes, key=lambda n: n.id),
        edges=[LineageEdge(source=s, target=t, relation=r, origins=["workspace"]) for s, t, r in sorted(edges)],
    )


def test_layout_is_deterministic_and_independent_of_input_order() -> None:
    lineage = _synthetic(6, 3)
    ids = [n.id for n in lineage.nodes]
    pairs = [(e.source, e.target) for e in lineage.edges]
    first = layered_layout(ids, pairs)
    again = layered_layout(list(reversed(ids)), list(reversed(pairs)))
    assert first == again


def test_layout_flows_left_to_right_without_overlaps_at_fleet_size() -> None:
    lineage = _synthetic(30, 3)  # 390 nodes
    assert len(lineage.nodes) > 100
    layout = layered_layout([n.id for n in lineage.nodes], [(e.source, e.target) for e in lineage.edges])
    for edge in lineage.edges:
        assert layout.positions[edge.source][0] < layout.positions[edge.target][0]
    columns: dict[float, list[float]] = {}
    for x, y in layout.positions.values():
        columns.setdefault(x, []).append(y)
    for ys in columns.values():
        ys.sort()
        assert all(b - a >= 48 + 18 - 1e-6 for a, b in itertools.pairwise(ys))  # node height + gap
    assert layout.layers == 4


def test_crossings_are_counted_as_every_pair_of_edges_would_count_them() -> None:
    """The count in a sorted list equals the count over every pair (ties in source or target,
    several edges from one node, empty layers), on random graphs of up to 60 edges between layers."""
    import random

    rng = random.Random(7)

    def every_pair(order, edges, layer_of) -> int:
        position = {node: i for column in order for i, node in enumerate(column)}
        total = 0
        for (s1, t1), (s2, t2) in itertools.combinations(edges, 2):
            if layer_of[s1] == layer_of[s2]:
                a1, b1, a2, b2 = position[s1], position[t1], position[s2], position[t2]
                total += (a1 < a2 and b2 < b1) or (a2 < a1 and b1 < b2)
        return total

    for _ in range(300):
        depth = rng.randint(2, 4)
        order = [[f"{layer}-{i}" for i in range(rng.randint(1, 9))] for layer in range(depth)]
        layer_of = {node: layer for layer, column in enumerate(order) for node in column}
        edges = sorted(
            {
                (rng.choice(order[layer]), rng.choice(order[layer + 1]))
                for layer in range(depth - 1)
                for _ in range(rng.randint(0, 60))
            }
        )
        assert _crossings(order, edges, layer_of) == every_pair(order, edges, layer_of)


def test_barycentre_ordering_removes_the_crossings_of_a_crossed_start() -> None:
    # a "ladder" given in crossed order: a1→b2, a2→b1 (ids sort the wrong way round)
    nodes = ["a1", "a2", "a3", "b1", "b2", "b3"]
    edges = [("a1", "b3"), ("a2", "b2"), ("a3", "b1")]
    layer_of = {"a1": 0, "a2": 0, "a3": 0, "b1": 1, "b2": 1, "b3": 1}
    assert _crossings([["a1", "a2", "a3"], ["b1", "b2", "b3"]], edges, layer_of) == 3
    layout = layered_layout(nodes, edges)
    order = [sorted(ids, key=lambda n: layout.positions[n][1]) for ids in (["a1", "a2", "a3"], ["b1", "b2", "b3"])]
    assert _crossings(order, edges, layer_of) == 0


def test_a_cycle_does_not_break_the_layout() -> None:
    layout = layered_layout(["a", "b", "c"], [("a", "b"), ("b", "c"), ("c", "a")])
    assert set(layout.positions) == {"a", "b", "c"} and len(layout.routes) == 3


def test_svg_links_every_node_and_escapes_every_string() -> None:
    hostile = '<script>alert(1)</script> & "quotes"'
    lineage = Lineage(
        nodes=[
            LineageNode(
                id="dataset:x",
                kind="dataset",
                label=hostile,
                detail=hostile,
                origins=["openlineage"],
                properties={"k<": hostile},
            ),
            LineageNode(id="version:m/1", kind="version", label="Model 1", origins=["workspace"]),
        ],
        edges=[LineageEdge(source="dataset:x", target="version:m/1", relation=hostile, origins=["openlineage"])],
    )
    svg = lineage_svg(lineage, lambda node: f"page-{node.kind}.html?x=<'\">", focus="version:m/1")
    assert "<script>" not in svg and "x=<" not in svg
    assert html.escape("<script>alert(1)</script>") in svg
    assert svg.count("<a href=") == 2
    assert 'stroke-width="3"' in svg  # the focused node
    # the SVG is well-formed XML
    import xml.etree.ElementTree as ET

    ET.fromstring(svg)


def test_long_labels_wrap_to_two_lines_and_are_cut() -> None:
    label = "Personal-loan applications — training (2023-07 to 2024-12) with a much longer tail that cannot fit"
    lineage = Lineage(nodes=[LineageNode(id="dataset:x", kind="dataset", label=label, origins=["workspace"])], edges=[])
    svg = lineage_svg(lineage, lambda node: None)
    lines = re.findall(r'font-weight="600" fill="#212121">([^<]*)</text>', svg)
    assert len(lines) == 2 and lines[1].endswith("…") and lines[0].startswith("Personal-loan applications")
    assert html.escape(label) in svg  # the full label stays in the tooltip


def _lineage_of(edges: list[tuple[str, str, str]]) -> manifest.Manifest:
    from manifest_factory import make_manifest

    kinds = {"dataset": "dataset", "train": "training", "eval": "evaluation", "mlflow-run": "training"}
    ids = sorted({end for source, target, _ in edges for end in (source, target)})
    nodes = [
        manifest.LineageNode(
            id=node_id,
            kind=kinds[node_id.split(":")[0]],
            label=node_id,
            model="m" if not node_id.startswith("dataset") else None,
            version="1" if not node_id.startswith("dataset") else None,
            origins=["workspace"],
        )
        for node_id in ids
    ]
    lineage = manifest.Lineage(
        nodes=nodes,
        edges=[manifest.LineageEdge(source=s, target=t, relation=r, origins=["workspace"]) for s, t, r in edges],
    )
    return make_manifest().model_copy(update={"lineage": lineage})


def test_an_input_a_training_run_logged_for_evaluation_is_not_called_training_data() -> None:
    """MLflow logs a holdout as an input of the training run in its `eval` context: the dataset's page
    says the version was evaluated on it, not trained on it (it said "training and evaluation", beside
    a datasheet that says the holdout was never used for fitting). Data a version was both trained
    and evaluated on is named as such."""
    built = _lineage_of(
        [
            ("dataset:holdout", "mlflow-run:r1", "used as eval"),
            ("dataset:holdout", "eval:m/1/holdout", "evaluated on"),
            ("dataset:train", "mlflow-run:r1", "trained on"),
        ]
    )
    (holdout,) = dataset_impact(built, "holdout")
    assert holdout.uses == ("evaluation",)
    (train,) = dataset_impact(built, "train")
    assert train.uses == ("training",)
    leaked = _lineage_of([("dataset:both", "train:m/1", "trained on"), ("dataset:both", "eval:m/1/x", "evaluated on")])
    (both,) = dataset_impact(leaked, "both")
    assert both.uses == ("training", "evaluation") and both.direct


# --------------------------------------------------------------------------- hostile sources


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
def test_events_nested_past_the_parsers_reach_are_named_not_an_internal_error(tmp_path: Path, suffix: str) -> None:
    """100,000 nested brackets made Python's JSON parser raise RecursionError: the build stopped with
    an internal error naming no file. It is now a problem at the file (and line)."""
    root = _with_lineage(write_workspace(tmp_path), f"lineage:\n  openlineage: events{suffix}\n")
    deep = "[" * 100_000 + "]" * 100_000
    (root / f"events{suffix}").write_text(deep + "\n", encoding="utf-8")
    text = _problems(root)
    assert f"events{suffix}" in text and "nested too deeply" in text and "Traceback" not in text


def test_a_recursive_event_glob_does_not_follow_links_to_folders(tmp_path: Path) -> None:
    """Two links to `.` under the events folder and a `**` glob: glob.glob followed both at every
    level and the paths multiplied until the build was killed. pathlib's glob, as for tables, does not
    descend through links: the one event file is read once."""
    import time

    root = _with_lineage(write_workspace(tmp_path), "lineage:\n  openlineage: lineage/**/*.jsonl\n")
    (root / "lineage").mkdir()
    good = '{"job": {"namespace": "n", "name": "j"}, "run": {"runId": "r"}, "eventType": "START"}'
    (root / "lineage" / "events.jsonl").write_text(good + "\n", encoding="utf-8")
    for name in ("a", "b"):
        (root / "lineage" / name).symlink_to(".", target_is_directory=True)
    started = time.perf_counter()
    workspace = load_workspace(root)
    assert time.perf_counter() - started < 30  # it did not end
    assert workspace.lineage.openlineage_files == ("lineage/events.jsonl",)


def test_an_invalid_event_glob_is_named_at_its_key(tmp_path: Path) -> None:
    root = _with_lineage(write_workspace(tmp_path), "lineage:\n  openlineage: lineage/**.jsonl\n")
    (root / "lineage").mkdir()
    text = _problems(root)
    assert "lineage.openlineage: 'lineage/**.jsonl' is not a valid glob pattern" in text and "Traceback" not in text


def test_a_loop_of_links_named_by_an_event_is_a_location_not_an_internal_error(tmp_path: Path) -> None:
    """An event's dataset at `/proc/self/cwd/<workspace>/loop`, where `loop -> loop`: resolving it raised
    RuntimeError (Python 3.11), an internal error any pull request could cause. It is now kept as the
    event wrote it, as any location outside the workspace is."""
    root = _with_lineage(write_workspace(tmp_path), "lineage:\n  openlineage: events.jsonl\n")
    (root / "loop").symlink_to("loop")
    event = {
        "job": {"namespace": "n", "name": "j"}, "run": {"runId": "r"}, "eventType": "COMPLETE",
        "inputs": [{"namespace": "file", "name": f"{root}/loop"}],
    }  # fmt: skip
    (root / "events.jsonl").write_text(json.dumps(event) + "\n", encoding="utf-8")
    built = build_manifest(load_workspace(root))
    assert any(f"{root}/loop" in node.id or node.label == f"{root}/loop" for node in built.lineage.nodes), [
        n.id for n in built.lineage.nodes
    ]


def _file_store_run(root: Path) -> Path:
    """A minimal MLflow file store with one run, as MLflow lays it out."""
    experiment = root / "mlruns" / "1"
    run = experiment / ("a" * 32)
    for folder in ("params", "metrics", "tags"):
        (run / folder).mkdir(parents=True)
    (experiment / "meta.yaml").write_text("experiment_id: '1'\nname: e\nlifecycle_stage: active\n")
    (run / "meta.yaml").write_text(
        f"run_id: {'a' * 32}\nexperiment_id: '1'\nstatus: 3\nstart_time: 1700000000000\nlifecycle_stage: active\n"
    )
    (run / "params" / "alpha").write_text("0.5")
    (run / "metrics" / "auc").write_text("1700000000000 0.8 0\n")
    return run


@pytest.mark.parametrize(
    ("where", "content", "expected"),
    [
        ("params/alpha", b"\xff\xfe\x00bad", "params/alpha: MLflow store: is not UTF-8 text"),
        ("params/alpha", b"x" * (65 << 10), "params/alpha: MLflow store: is larger than 64 KiB"),
        ("tags/note", b"x" * (65 << 10), "tags/note: MLflow store: is larger than 64 KiB"),
        ("metrics/auc", b"\xff\n", "metrics/auc: MLflow store: is not UTF-8 text"),
    ],
)
def test_a_hostile_value_file_of_a_file_store_is_named(
    tmp_path: Path, where: str, content: bytes, expected: str
) -> None:
    """A non-UTF-8 param was an internal error; a 300 MB param was read whole into the manifest.
    Each value file is now refused at its path when it is not text or is larger than MLflow writes."""
    root = _with_lineage(write_workspace(tmp_path), "lineage:\n  mlflow: mlruns\n")
    run = _file_store_run(root)
    read_store(root / "mlruns")  # the store itself reads
    (run / where).write_bytes(content)
    text = _problems(root)
    assert expected in text and "Traceback" not in text


def test_a_dataset_source_nested_past_the_parsers_reach_is_kept_as_written(tmp_path: Path) -> None:
    from modelgov.sources.mlflow_store import _location

    deep = "[" * 100_000 + "]" * 100_000
    assert _location(deep) == deep
    assert _location('{"uri": "s3://bucket/x.parquet"}') == "s3://bucket/x.parquet"


def test_a_glob_whose_paths_multiply_through_links_ends_quickly_or_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pathlib's `*` follows links to folders: with `a -> .` and `b -> .`, `*/*/…/e.jsonl` doubled the
    folders it read at every level, matches or not (30 levels: about a day). A link to a folder the
    walk is already inside is not followed again, so that ends at once; links that fan out without a
    loop (each folder linking twice to the next) are cut by a limit on the folders read, refused at
    the pattern's key, for events and for tables alike."""
    import time

    import modelgov.sources.tables as tables

    deep = "/".join(["*"] * 11)
    root = _with_lineage(write_workspace(tmp_path / "loop"), f"lineage:\n  openlineage: '{deep}/e.jsonl'\n")
    good = '{"job": {"namespace": "n", "name": "j"}, "run": {"runId": "r"}, "eventType": "START"}'
    (root / "e.jsonl").write_text(good + "\n", encoding="utf-8")
    for name in ("a", "b"):
        (root / name).symlink_to(".", target_is_directory=True)
    started = time.perf_counter()
    text = _problems(root)
    assert time.perf_counter() - started < 30 and "no .json or .jsonl file matches" in text

    monkeypatch.setattr(tables, "MAX_GLOB_ENTRIES", 5_000)
    fan = _with_lineage(write_workspace(tmp_path / "fan"), f"lineage:\n  openlineage: 'd0/{deep}/e.jsonl'\n")
    for level in range(12):
        (fan / f"d{level}").mkdir()
        for name in ("a", "b"):
            (fan / f"d{level}" / name).symlink_to(f"../d{level + 1}", target_is_directory=True)
    (fan / "d12").mkdir()
    text = _problems(fan)
    assert "lineage.openlineage:" in text and "reaches more than 5,000 paths" in text
    with pytest.raises(tables.TableError, match="reaches more than 5,000 paths"):
        tables.expand_table_paths(fan, f"d0/{deep}/x.csv")


def test_the_bounded_glob_finds_what_pathlibs_finds(tmp_path: Path) -> None:
    """Without loops, the same paths as `Path.glob`: wildcards, hidden names, `**` at any depth (not
    through links), a literal part, a trailing `**` (folders only, as pathlib)."""
    from modelgov.sources.tables import bounded_glob

    for folder in ("logs/2026/01", "logs/2026/02", "logs/.hidden", "other"):
        (tmp_path / folder).mkdir(parents=True)
    for file in ("logs/2026/01/a.csv", "logs/2026/02/b.csv", "logs/.hidden/c.csv", "logs/top.csv", "other/d.csv",
                 "logs/2026/01/e.parquet"):  # fmt: skip
        (tmp_path / file).write_text("x")
    (tmp_path / "logs" / "link").symlink_to("../other", target_is_directory=True)
    for pattern in ("logs/*.csv", "logs/**/*.csv", "logs/*/*/*.csv", "logs/2026/0[12]/?.csv", "logs/**", "*/*.csv",
                    "logs/link/*.csv", "logs/2026/01/a.csv", "**/*.parquet"):  # fmt: skip
        assert sorted(bounded_glob(tmp_path, pattern)) == sorted(tmp_path.glob(pattern)), pattern
    with pytest.raises(ValueError):
        bounded_glob(tmp_path, "logs/**.csv")
    with pytest.raises(NotImplementedError):
        bounded_glob(tmp_path, "/etc/*")


def test_a_trailing_double_star_names_every_event_file_below(tmp_path: Path) -> None:
    """`lineage/**` found every file below with glob.glob; pathlib's `**` alone names only folders (Python
    3.11, 3.12), so the pattern is read as `lineage/**/*`."""
    root = _with_lineage(write_workspace(tmp_path), "lineage:\n  openlineage: lineage/**\n")
    good = '{"job": {"namespace": "n", "name": "j"}, "run": {"runId": "r"}, "eventType": "START"}'
    (root / "lineage" / "sub").mkdir(parents=True)
    (root / "lineage" / "a.jsonl").write_text(good + "\n", encoding="utf-8")
    (root / "lineage" / "sub" / "b.json").write_text(good, encoding="utf-8")
    assert load_workspace(root).lineage.openlineage_files == ("lineage/a.jsonl", "lineage/sub/b.json")


def test_links_that_fan_out_to_many_matches_are_refused_before_memory_runs_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hundred links to one folder, a hundred in it to the next, a thousand files there: `*/*/*.jsonl`
    read ten thousand folders but matched ten million paths, and the build ran out of memory. The
    limit counts every entry the glob looks at, matches included."""
    import modelgov.sources.tables as tables

    monkeypatch.setattr(tables, "MAX_GLOB_ENTRIES", 5_000)
    root = tmp_path / "ws"
    for name in ("top", "D1", "D2"):
        (root / name).mkdir(parents=True)
    for i in range(20):
        (root / "top" / f"l{i}").symlink_to("../D1", target_is_directory=True)
        (root / "D1" / f"l{i}").symlink_to("../D2", target_is_directory=True)
    for i in range(50):
        (root / "D2" / f"e{i}.jsonl").write_text("{}\n")
    with pytest.raises(tables.GlobTooBroad, match="reaches more than 5,000 paths"):
        tables.bounded_glob(root, "top/*/*/*.jsonl")  # 20 × 20 × 50 = 20,000 matches
    assert len(tables.bounded_glob(root, "top/l1/l1/*.jsonl")) == 50


def test_a_glob_walks_folders_nested_deeper_than_pythons_recursion_limit(tmp_path: Path) -> None:
    """A pull request can commit folders nested 1,200 deep: a recursive walk of `**` raised
    RecursionError (an internal error); the walk keeps its own stack and finds the file."""
    import sys

    from modelgov.sources.tables import bounded_glob, expand_table_paths

    depth = sys.getrecursionlimit() + 200
    deep = tmp_path
    for _ in range(depth):  # one level at a time: pathlib's own mkdir(parents=True) recurses
        deep = deep / "d"
        deep.mkdir()
    (deep / "x.csv").write_text("a\n1\n")
    try:
        (found,) = bounded_glob(tmp_path, "**/x.csv")
        assert found == deep / "x.csv"
        assert expand_table_paths(tmp_path, "d/**/*.csv") == [(deep / "x.csv").relative_to(tmp_path).as_posix()]
    finally:  # pytest's own clean-up (shutil.rmtree) recurses too: remove the folders from the deepest up
        (deep / "x.csv").unlink()
        while deep != tmp_path:
            deep.rmdir()
            deep = deep.parent
