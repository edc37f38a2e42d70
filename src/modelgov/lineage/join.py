"""The lineage graph: which data each model version was trained and evaluated on, and what came of it.

Three sources describe the same history from different sides, and this module joins them:

* the **workspace** — training datasets, the version, its evaluations (each on a dataset) and its
  production monitoring;
* an **MLflow store** — the training run a version names in ``training.mlflow_run`` (its dataset
  inputs), and the registered model versions and aliases made from runs;
* **OpenLineage events** — the jobs that wrote or read datasets, such as the extract that produced a
  training table.

Records of one thing become one node listing every source that mentions it. Datasets are matched by
*location* (a path inside the workspace, or the same URI in two sources) or by *content digest* (the
SHA-256 of a datasheet file, an MLflow dataset digest, an OpenLineage ``datasetVersion``), never by
display name, which two teams can reuse for different data. MLflow runs that no version names and no
registered version came from (tuning sweeps, experiments) are left out and counted in a note.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from modelgov.manifest import Lineage, LineageEdge, LineageNode, LineageOrigin
from modelgov.sources.mlflow_store import MlflowDatasetInput, MlflowModelVersion, MlflowRun
from modelgov.sources.openlineage import OlDataset
from modelgov.workspace.load import Workspace

__all__ = ["build_lineage"]

#: MLflow input contexts that mean "trained on"; others are shown as "used as <context>".
_TRAINING_CONTEXTS = (None, "", "train", "training")
_PARAMS_SHOWN = 12


def _digest(value: str | None) -> str | None:
    if not value:
        return None
    text = value.strip().lower()
    return text.removeprefix("sha256:") or None


@dataclass
class _Builder:
    workspace: Workspace
    nodes: dict[str, LineageNode] = field(default_factory=dict)
    edges: dict[tuple[str, str, str], set[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: workspace file location / content digest → the node that file belongs to
    by_location: dict[str, str] = field(default_factory=dict)
    by_digest: dict[str, str] = field(default_factory=dict)

    # ------------------------------------------------------------------ primitives

    def node(self, node: LineageNode) -> str:
        known = self.nodes.get(node.id)
        if known is None:
            self.nodes[node.id] = node
        else:
            origins = sorted(set(known.origins) | set(node.origins))
            properties = {**known.properties, **{k: v for k, v in node.properties.items() if k not in known.properties}}
            self.nodes[node.id] = known.model_copy(update={"origins": origins, "properties": properties})
        return node.id

    def edge(self, source: str, target: str, relation: str, origin: LineageOrigin) -> None:
        if source != target:
            self.edges.setdefault((source, target, relation), set()).add(origin)

    def location(self, raw: str | None, namespace: str | None = None) -> str | None:
        """A comparable location: workspace-relative for files inside the workspace, else the URI."""
        if not raw:
            return None
        text = raw.strip()
        if namespace is not None and namespace not in ("file", "") and not namespace.startswith("file:"):
            return f"{namespace.rstrip('/')}/{text.lstrip('/')}"
        text = text.removeprefix("file://")
        if text.startswith("/"):
            root = self.workspace.root.resolve()
            try:
                return Path(text).resolve().relative_to(root).as_posix()
            except (ValueError, OSError, RuntimeError):  # RuntimeError: a loop of links (Python < 3.13)
                return text
        if "://" in text:
            return text
        return posixpath.normpath(text)

    def match(self, location: str | None, digest: str | None) -> str | None:
        if location is not None and location in self.by_location:
            return self.by_location[location]
        if digest is not None and digest in self.by_digest:
            return self.by_digest[digest]
        return None

    def claim(self, node_id: str, rel_path: str, sha256: str | None) -> None:
        self.by_location.setdefault(rel_path, node_id)
        if sha256:
            self.by_digest.setdefault(sha256, node_id)

    # ------------------------------------------------------------------ workspace

    def add_workspace(self) -> None:
        files = self.workspace.files
        for dataset_id, entry in sorted(self.workspace.datasets.items()):
            sheet = entry.sheet
            node = self.node(
                LineageNode(
                    id=f"dataset:{dataset_id}",
                    kind="dataset",
                    label=sheet.name,
                    detail=dataset_id,
                    dataset=dataset_id,
                    origins=["workspace"],
                    properties={"files": ", ".join(f.path for f in sheet.files)} if sheet.files else {},
                )
            )
            for data_file in sheet.files:
                known = files.register(data_file.path) if files.path(data_file.path).is_file() else None
                self.claim(node, data_file.path, known.sha256 if known else data_file.sha256)
        for model_id, model in sorted(self.workspace.models.items()):
            for version_id, version in sorted(model.versions.items()):
                self._add_version(model_id, model.card.name, version_id, version.spec)

    def _add_version(self, model_id: str, model_name: str, version_id: str, spec) -> None:
        ref = f"{model_id}/{version_id}"
        training = spec.training
        train_id = self.node(
            LineageNode(
                id=f"training:{ref}",
                kind="training",
                label=f"Training of {model_id} {version_id}",  # three "Training of 1.0" boxes would be ambiguous
                detail=training.algorithm.rsplit(".", 1)[-1],
                model=model_id,
                version=version_id,
                origins=["workspace"],
                properties={
                    "algorithm": training.algorithm,
                    **({"commit": training.code.commit} if training.code else {}),
                },
            )
        )
        version_node = self.node(
            LineageNode(
                id=f"version:{ref}",
                kind="version",
                label=f"{model_name} {version_id}",
                detail=spec.status.value,
                model=model_id,
                version=version_id,
                origins=["workspace"],
                properties={"status": spec.status.value, "created": spec.created.isoformat()},
            )
        )
        for dataset_id in training.datasets:
            self.edge(f"dataset:{dataset_id}", train_id, "trained on", "workspace")
        self.edge(train_id, version_node, "produced", "workspace")
        artifact = training.artifact_spec
        if artifact is not None and self.workspace.files.path(artifact.path).is_file():
            self.claim(version_node, artifact.path, self.workspace.files.register(artifact.path).sha256)
        for run in spec.evaluations:
            eval_id = self.node(
                LineageNode(
                    id=f"evaluation:{ref}/{run.id}",
                    kind="evaluation",
                    label=f"Evaluation {run.id}",
                    detail=f"{version_id} · {run.date.isoformat()}",
                    model=model_id,
                    version=version_id,
                    origins=["workspace"],
                    properties={"date": run.date.isoformat(), "table": run.data},
                )
            )
            self.edge(version_node, eval_id, "evaluated in", "workspace")
            self.edge(f"dataset:{run.dataset}", eval_id, "evaluated on", "workspace")
            self.claim(eval_id, run.data, None)
        if spec.monitoring is not None:
            monitor = self.node(
                LineageNode(
                    id=f"monitoring:{ref}",
                    kind="monitoring",
                    label=f"Production monitoring {version_id}",
                    detail=spec.monitoring.logs,
                    model=model_id,
                    version=version_id,
                    origins=["workspace"],
                    properties={"logs": spec.monitoring.logs},
                )
            )
            self.edge(version_node, monitor, "scored in production", "workspace")
            self.claim(monitor, spec.monitoring.logs, None)

    # ------------------------------------------------------------------ MLflow

    def add_mlflow(self) -> None:
        store = self.workspace.lineage.mlflow
        if store is None:
            return
        linked: dict[str, str] = {}  # run id → training node
        for model_id, model in sorted(self.workspace.models.items()):
            for version_id, version in sorted(model.versions.items()):
                run_id = version.spec.training.mlflow_run
                run = store.run(run_id) if run_id else None
                if run is not None:
                    linked[run.run_id] = f"training:{model_id}/{version_id}"
                    self._add_run(run, linked[run.run_id], declared=set(version.spec.training.datasets))
        registered_runs = {mv.run_id for mv in store.model_versions if mv.run_id}
        for run in store.runs:
            if run.run_id not in linked and run.run_id in registered_runs:
                linked[run.run_id] = self._add_run(run, None, declared=None)
        left_out = [run for run in store.runs if run.run_id not in linked]
        if left_out:
            self.notes.append(
                f"{len(left_out)} MLflow run(s) that no model version names (training.mlflow_run) and no "
                "registered model version came from are not drawn (experiments and tuning runs)."
            )
        for model_version in sorted(store.model_versions, key=lambda mv: (mv.name, _version_key(mv.version))):
            self._add_registered(model_version, linked)

    def _add_run(self, run: MlflowRun, training_node: str | None, declared: set[str] | None) -> str:
        properties = {
            "MLflow run": run.run_id,
            "MLflow experiment": run.experiment,
            "MLflow status": run.status,
            **({"started": run.start} if run.start else {}),
            **({"user": run.user} if run.user else {}),
        }
        for key, value in list(run.params.items())[:_PARAMS_SHOWN]:
            properties[f"param {key}"] = value
        for key, value in run.metrics.items():
            properties[f"metric {key}"] = f"{value:.6g}"
        if len(run.params) > _PARAMS_SHOWN:
            properties["params not shown"] = str(len(run.params) - _PARAMS_SHOWN)
        if training_node is None:
            training_node = self.node(
                LineageNode(
                    id=f"mlflow-run:{run.run_id}",
                    kind="training",
                    label=f"MLflow run {run.name}",
                    detail=run.experiment,
                    origins=["mlflow"],
                    properties=properties,
                )
            )
        else:
            self.node(self.nodes[training_node].model_copy(update={"origins": ["mlflow"], "properties": properties}))
        for item in run.inputs:
            dataset = self._mlflow_dataset(item)
            relation = "trained on" if item.context in _TRAINING_CONTEXTS else f"used as {item.context}"
            self.edge(dataset, training_node, relation, "mlflow")
            workspace_id = self.nodes[dataset].dataset
            if declared is not None and relation == "trained on" and workspace_id not in declared:
                self.notes.append(
                    f"MLflow run {run.run_id} logged training input {item.name!r}, which "
                    f"{self.nodes[training_node].model}/{self.nodes[training_node].version} does not list "
                    "in training.datasets."
                )
        return training_node

    def _mlflow_dataset(self, item: MlflowDatasetInput) -> str:
        location = self.location(item.location)
        new = LineageNode(
            id=f"dataset:mlflow:{item.name}@{item.digest}",
            kind="dataset",
            label=item.name,
            detail=location or f"digest {item.digest}",
            origins=["mlflow"],
            properties={"MLflow digest": item.digest, "source type": item.source_type}
            | ({"location": location} if location else {}),
        )
        # a run input is upstream of the run: joining it to an evaluation or version node would loop
        return self._mention(new, location, _digest(item.digest), datasets_only=True)

    def _mention(self, new: LineageNode, location: str | None, digest: str | None, *, datasets_only: bool) -> str:
        """The node a dataset mentioned by MLflow or OpenLineage is: a known one it matches by location
        or digest (which gains ``new``'s origin), or ``new``, registered so later mentions match it."""
        found = self.match(location, digest)
        if found is not None and (not datasets_only or self.nodes[found].kind == "dataset"):
            return self.node(self.nodes[found].model_copy(update={"origins": new.origins, "properties": {}}))
        node_id = self.node(new)
        if location is not None:
            self.claim(node_id, location, digest)
        elif digest is not None:
            self.by_digest.setdefault(digest, node_id)
        return node_id

    def _add_registered(self, model_version: MlflowModelVersion, linked: dict[str, str]) -> None:
        aliases = ", ".join(f"@{alias}" for alias in model_version.aliases)
        node_id = self.node(
            LineageNode(
                id=f"registered:{model_version.name}/{model_version.version}",
                kind="registered",
                label=f"{model_version.name} v{model_version.version}",
                detail=aliases or (model_version.stage or "registered"),
                origins=["mlflow"],
                properties={
                    "registered model": model_version.name,
                    "registry version": model_version.version,
                    **({"aliases": aliases} if aliases else {}),
                    **({"stage": model_version.stage} if model_version.stage else {}),
                    **({"created": model_version.created} if model_version.created else {}),
                    **({"source": model_version.source} if model_version.source else {}),
                },
            )
        )
        training = linked.get(model_version.run_id or "")
        if training is None:
            self.notes.append(
                f"Registered model {model_version.name} version {model_version.version} has no run in the store."
            )
            return
        version_node = training.replace("training:", "version:", 1)
        self.edge(version_node if version_node in self.nodes else training, node_id, "registered as", "mlflow")

    # ------------------------------------------------------------------ OpenLineage

    def add_openlineage(self) -> None:
        records = self.workspace.lineage.openlineage
        if records is None:
            return
        for (namespace, name), job in sorted(records.jobs.items()):
            job_id = self.node(
                LineageNode(
                    id=f"job:{namespace}/{name}",
                    kind="job",
                    label=name,
                    detail=namespace,
                    origins=["openlineage"],
                    properties={
                        "namespace": namespace,
                        "runs": str(len(job.runs)),
                        **({"last state": job.last_state} if job.last_state else {}),
                        **({"last event": job.last_time} if job.last_time else {}),
                    },
                )
            )
            read = {dataset.key: self._ol_dataset(dataset) for dataset in sorted(job.inputs.values())}
            for node_id in read.values():
                self.edge(node_id, job_id, "read by", "openlineage")
            written = {dataset.key: self._ol_dataset(dataset) for dataset in sorted(job.outputs.values())}
            for node_id in written.values():
                self.edge(job_id, node_id, "wrote", "openlineage")
            for run_id in sorted(job.run_outputs):  # what each run wrote, from what that run read
                inputs = [read[key] for key in sorted(job.run_inputs.get(run_id, ()))]
                for key in sorted(job.run_outputs[run_id]):
                    self._check_training_inputs(f"{namespace}/{name}", written[key], inputs)
        for dataset in sorted(records.datasets.values()):
            self._ol_dataset(dataset)

    def _check_training_inputs(self, job: str, written: str, read: list[str]) -> None:
        """A note for each dataset a job read when it wrote a version's model file that the version
        does not list in ``training.datasets``: the events and the card then disagree on what the model
        was made from, as an MLflow run's logged inputs can (:meth:`_add_run`)."""
        node = self.nodes[written]
        if node.kind != "version" or node.model is None or node.version is None:
            return
        declared = set(self.workspace.models[node.model].versions[node.version].spec.training.datasets)
        wrote = f"OpenLineage job {job} wrote the model file of {node.model}/{node.version}"
        for input_id in read:
            dataset = self.nodes[input_id]
            if dataset.kind == "evaluation":  # the table a version is tested on
                table = dataset.properties.get("table", dataset.label)
                self.notes.append(
                    f"{wrote} and read {table!r}, the evaluation table of {dataset.model}/{dataset.version} "
                    f"({dataset.label}): a model trained on the data it is evaluated on is scored too well there."
                )
            elif dataset.kind == "monitoring":
                logs = dataset.properties.get("logs", dataset.label)
                self.notes.append(
                    f"{wrote} and read {logs!r}, the production log of {dataset.model}/{dataset.version}, which "
                    f"{node.model}/{node.version} does not list in training.datasets."
                )
            elif dataset.kind == "dataset" and dataset.dataset not in declared:
                named = (
                    f"dataset {dataset.dataset!r}"
                    if dataset.dataset
                    else repr(dataset.properties.get("name", dataset.label))
                )
                self.notes.append(
                    f"{wrote} and read {named}, which {node.model}/{node.version} does not list in training.datasets."
                )

    def _ol_dataset(self, dataset: OlDataset) -> str:
        new = LineageNode(
            id=f"dataset:ol:{dataset.namespace}/{dataset.name}",
            kind="dataset",
            label=posixpath.basename(dataset.name.rstrip("/")) or dataset.name,
            detail=dataset.namespace,
            origins=["openlineage"],
            properties={"namespace": dataset.namespace, "name": dataset.name}
            | ({"version": dataset.version} if dataset.version else {}),
        )
        # a job may write a version's model file or a monitoring log: any matching node is the output
        location = self.location(dataset.name, dataset.namespace)
        return self._mention(new, location, _digest(dataset.version), datasets_only=False)

    # ------------------------------------------------------------------ result

    def result(self) -> Lineage:
        sources = []
        records = self.workspace.lineage
        if records.mlflow is not None:
            store = records.mlflow
            sources.append(
                f"MLflow {store.kind} {records.mlflow_path}: {len(store.runs)} run(s), "
                f"{len(store.model_versions)} registered version(s)"
            )
        if records.openlineage is not None:
            sources.append(
                f"OpenLineage: {records.openlineage.events} event(s) in {len(records.openlineage_files)} file(s), "
                f"{len(records.openlineage.jobs)} job(s)"
            )
        edges = [
            LineageEdge(source=s, target=t, relation=r, origins=sorted(origins))
            for (s, t, r), origins in sorted(self.edges.items())
            if s in self.nodes and t in self.nodes
        ]
        return Lineage(
            nodes=[self.nodes[key] for key in sorted(self.nodes)],
            edges=edges,
            sources=sources,
            notes=sorted(set(self.notes)),
        )


def _version_key(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (1 << 30, version)


def build_lineage(workspace: Workspace) -> Lineage:
    """The joined lineage graph of ``workspace`` (its MLflow and OpenLineage records included)."""
    builder = _Builder(workspace)
    builder.add_workspace()
    builder.add_mlflow()
    builder.add_openlineage()
    return builder.result()
