"""The example's records from other tools: an MLflow tracking store and OpenLineage events.

The credit team adopted MLflow in 2024, so versions 1.1 and 2.0 have tracked training runs (params,
a holdout ROC AUC, dataset inputs) and registered model versions with the aliases ``champion`` and
``challenger``; 1.0 predates it. A tuning run that was never registered shows how untracked
experiments are left out of the graph. The warehouse extract that produced the 2024 and 2026
training and holdout files emits OpenLineage events; those name the files by the pipeline
machine's paths, so they are joined with the datasheets by content digest (SHA-256), not by path.

The store is written in MLflow's file-store layout (``mlruns/``): plain YAML and text files that
need no database library to generate. modelgov reads this layout and MLflow's SQLite store alike.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sklearn.metrics import roc_auc_score

from modelgov.demo.documents import Release
from modelgov.demo.writer import WorkspaceWriter, dump_yaml

__all__ = ["EXPERIMENT", "MLFLOW_STORE", "OPENLINEAGE_EVENTS", "TRACKED", "mlflow_run_id", "write_credit_records"]

MLFLOW_STORE = "mlruns"
OPENLINEAGE_EVENTS = "lineage/credit-warehouse-events.jsonl"
EXPERIMENT = "credit-default"
_EXPERIMENT_ID = "401735916292851447"
#: Versions trained with MLflow tracking, and their alias in the model registry.
TRACKED = {"1.1": "champion", "2.0": "challenger"}
_PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.24.2/client/python"
_SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"


def _hex(*parts: object, length: int = 32) -> str:
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()[:length]


def mlflow_run_id(model_id: str, version: str) -> str:
    """The MLflow run id of a tracked version's training run: fixed, so every seed writes the same
    file names (only the data differs)."""
    return _hex("mlflow-run", model_id, version)


def _uuid(*parts: object) -> str:
    h = _hex("uuid", *parts)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def _ms(day: dt.date, hour: int = 9) -> int:
    return int(dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC).timestamp() * 1000)


def write_credit_records(
    writer: WorkspaceWriter,
    model_id: str,
    releases: dict[str, Release],
    holdouts: dict[str, tuple[str, str, Any]],
    dataset_files: dict[str, str],
) -> None:
    """``holdouts``: version → (dataset id, eval id, evaluation table with `default` and `score`);
    ``dataset_files``: dataset id → workspace path of its file."""
    store = _MlflowFileStore(writer)
    store.experiment("0", "Default", _ms(dt.date(2024, 2, 1)))
    store.experiment(_EXPERIMENT_ID, EXPERIMENT, _ms(dt.date(2024, 2, 1)))
    for number, (version, alias) in enumerate(TRACKED.items(), start=1):
        release = releases[version]
        holdout_id, eval_id, table = holdouts[version]
        run_id = mlflow_run_id(model_id, version)
        start = _ms(release.created, 9) - 3 * 86_400_000
        store.run(
            run_id,
            name=f"train-{model_id}-{version}",
            start=start,
            params={key: str(value) for key, value in release.params.items()},
            metrics={f"{eval_id}_roc_auc": float(roc_auc_score(table["default"], table["score"]))},
            tags={"mlflow.source.git.commit": _hex("commit", model_id, version, length=40)},
            inputs=[
                (release.training, dataset_files[release.training], "training"),
                (holdout_id, dataset_files[holdout_id], "eval"),
            ],
        )
        store.registered_version(model_id, number, run_id, start + 3_600_000, alias)
    store.run(  # an experiment that was never registered: left out of the graph, and counted
        _hex("mlflow-run", model_id, "tuning"),
        name=f"tune-{model_id}-learning-rate",
        start=_ms(dt.date(2026, 7, 1)),
        params={"learning_rate": "0.1", "max_leaf_nodes": "15"},
        metrics={"cv_roc_auc": 0.7},
        tags={},
        inputs=[("credit-train-2026", dataset_files["credit-train-2026"], "training")],
    )
    store.registered_model(model_id, {alias: str(n) for n, alias in enumerate(TRACKED.values(), start=1)})
    writer.text(OPENLINEAGE_EVENTS, _warehouse_events(writer, dataset_files))


class _MlflowFileStore:
    def __init__(self, writer: WorkspaceWriter):
        self.writer = writer
        self.datasets: set[str] = set()

    def _yaml(self, relpath: str, data: dict[str, Any]) -> None:
        self.writer.text(f"{MLFLOW_STORE}/{relpath}", dump_yaml(data))

    def experiment(self, experiment_id: str, name: str, created: int) -> None:
        self._yaml(
            f"{experiment_id}/meta.yaml",
            {
                "artifact_location": f"mlflow-artifacts:/{experiment_id}",
                "creation_time": created,
                "experiment_id": experiment_id,
                "last_update_time": created,
                "lifecycle_stage": "active",
                "name": name,
            },
        )

    def run(
        self,
        run_id: str,
        *,
        name: str,
        start: int,
        params: dict[str, str],
        metrics: dict[str, float],
        tags: dict[str, str],
        inputs: list[tuple[str, str, str]],
    ) -> None:
        base = f"{_EXPERIMENT_ID}/{run_id}"
        end = start + 1_800_000
        self._yaml(
            f"{base}/meta.yaml",
            {
                "artifact_uri": f"mlflow-artifacts:/{_EXPERIMENT_ID}/{run_id}/artifacts",
                "end_time": end,
                "entry_point_name": "",
                "experiment_id": _EXPERIMENT_ID,
                "lifecycle_stage": "active",
                "run_id": run_id,
                "run_name": name,
                "source_name": "",
                "source_type": 4,
                "source_version": "",
                "start_time": start,
                "status": 3,
                "tags": [],
                "user_id": "credit-risk-modelling",
            },
        )
        for key, value in params.items():
            self.writer.text(f"{MLFLOW_STORE}/{base}/params/{key}", value)
        for key, value in metrics.items():
            self.writer.text(f"{MLFLOW_STORE}/{base}/metrics/{key}", f"{end} {value!r} 0\n")
        for key, value in {**tags, "mlflow.runName": name, "mlflow.user": "credit-risk-modelling"}.items():
            self.writer.text(f"{MLFLOW_STORE}/{base}/tags/{key}", value)
        for dataset_id, path, context in inputs:
            digest = self.writer.written[path][:8]  # MLflow's own short digest, not a file hash
            dataset_uuid = _hex("mlflow-dataset", dataset_id)
            if dataset_uuid not in self.datasets:  # a dataset is stored once per experiment
                self.datasets.add(dataset_uuid)
                self._yaml(
                    f"{_EXPERIMENT_ID}/datasets/{dataset_uuid}/meta.yaml",
                    {
                        "digest": digest,
                        "name": dataset_id,
                        "profile": None,
                        "schema": None,
                        "source": json.dumps({"uri": path}),
                        "source_type": "local",
                    },
                )
            self._yaml(
                f"{base}/inputs/{_hex('mlflow-input', run_id, dataset_uuid)}/meta.yaml",
                {
                    "destination_id": run_id,
                    "destination_type": "RUN",
                    "source_id": dataset_uuid,
                    "source_type": "DATASET",
                    "tags": {"mlflow.data.context": context},
                },
            )

    def registered_version(self, name: str, number: int, run_id: str, created: int, alias: str) -> None:
        self._yaml(
            f"models/{name}/version-{number}/meta.yaml",
            {
                "creation_timestamp": created,
                "current_stage": "None",
                "description": None,
                "last_updated_timestamp": created,
                "name": name,
                "run_id": run_id,
                "source": f"runs:/{run_id}/model",
                "status": "READY",
                "user_id": "credit-risk-modelling",
                "version": number,
            },
        )
        self.writer.text(f"{MLFLOW_STORE}/models/{name}/aliases/{alias}", str(number))

    def registered_model(self, name: str, aliases: dict[str, str]) -> None:
        self._yaml(f"models/{name}/meta.yaml", {"aliases": aliases, "description": None, "name": name})


def _warehouse_events(writer: WorkspaceWriter, dataset_files: dict[str, str]) -> str:
    """Two runs of the warehouse extract (2024, 2026), each a START and a COMPLETE event."""
    job = {"namespace": "acme-lending-warehouse", "name": "extract_loan_applications"}
    sources = [
        {"namespace": "postgres://warehouse.acme.internal:5432", "name": "lending.loan_applications"},
        {"namespace": "postgres://warehouse.acme.internal:5432", "name": "lending.repayments"},
    ]
    lines = []
    for year, day in (("2024", dt.date(2024, 1, 8)), ("2026", dt.date(2026, 1, 12))):
        run_id = _uuid("ol-run", year)
        outputs = []
        for dataset_id in (f"credit-train-{year}", f"credit-holdout-{year}"):
            path = dataset_files[dataset_id]
            outputs.append(
                {
                    "namespace": "file",
                    "name": f"/srv/feature-store/exports/{path.rsplit('/', 1)[-1]}",
                    "facets": {
                        "version": {
                            "_producer": _PRODUCER,
                            "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json",
                            "datasetVersion": f"sha256:{writer.written[path]}",
                        }
                    },
                }
            )
        for state, hour in (("START", 2), ("COMPLETE", 3)):
            event = {
                "eventType": state,
                "eventTime": f"{day.isoformat()}T0{hour}:00:00Z",
                "run": {"runId": run_id},
                "job": job,
                "inputs": sources,
                "outputs": outputs if state == "COMPLETE" else [],
                "producer": _PRODUCER,
                "schemaURL": _SCHEMA,
            }
            lines.append(json.dumps(event, sort_keys=True))
    return "\n".join(lines) + "\n"
