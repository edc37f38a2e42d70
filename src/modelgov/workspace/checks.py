"""The loader's third pass: what spans files. Risk tiers a card names, datasets a version names,
previous versions (no cycle), unique evaluation ids, sensitive features and their intersections,
datasheet digests, model files, MLflow runs, and the columns of every evaluation table; a version's
``monitoring`` section is checked by :mod:`.monitoring_checks`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelgov.feature_names import every_name
from modelgov.workspace.aedt_checks import check_employment_tools
from modelgov.workspace.experiment_checks import check_experiment
from modelgov.workspace.governance_schema import Governance
from modelgov.workspace.model_schema import Task
from modelgov.workspace.monitoring_checks import check_monitoring
from modelgov.workspace.risk_checks import check_risk
from modelgov.workspace.schema_errors import did_you_mean
from modelgov.workspace.shadow_checks import check_shadow
from modelgov.workspace.yamlsource import Loc, YamlDocument

if TYPE_CHECKING:
    from modelgov.workspace.lineage_sources import LineageRecords
    from modelgov.workspace.load import DatasetEntry, Loader, ModelEntry, VersionEntry
    from modelgov.workspace.training_schema import Artifact


def check_cross_references(
    loader: Loader,
    governance: Governance,
    models: dict[str, ModelEntry],
    datasets: dict[str, DatasetEntry],
) -> None:
    gov_doc = loader.docs.get("governance.yml")
    tier_ids: list[str] = []
    for index, tier in enumerate(governance.risk_tiers):
        if tier.id in tier_ids and gov_doc is not None:
            loader.problems.append(
                gov_doc.problem(("risk_tiers", index, "id"), f"risk tier {tier.id!r} is declared twice")
            )
        tier_ids.append(tier.id)

    for dataset in datasets.values():
        _check_datasheet_files(loader, dataset)

    for model in models.values():
        doc = loader.docs[model.source]
        if model.card.risk_tier not in tier_ids:
            loader.problems.append(
                doc.problem(
                    ("risk_tier",),
                    f"unknown risk tier {model.card.risk_tier!r}{did_you_mean(model.card.risk_tier, tier_ids)}"
                    f" (governance.yml declares: {', '.join(tier_ids)})",
                )
            )
        _check_sensitive_declarations(loader, model, doc)
        for version in model.versions.values():
            _check_version(loader, model, version, datasets)
    check_risk(loader, governance, models)
    check_employment_tools(loader, models)


def check_mlflow_runs(
    loader: Loader, governance: Governance, models: dict[str, ModelEntry], lineage: LineageRecords
) -> None:
    """A version's ``training.mlflow_run`` must name a run of the configured store."""
    known = {run.run_id for run in lineage.mlflow.runs} if lineage.mlflow is not None else set()
    for model in models.values():
        for version in model.versions.values():
            run_id = version.spec.training.mlflow_run
            if run_id is None:
                continue
            doc = loader.docs[version.source]
            loc: Loc = ("training", "mlflow_run")
            if governance.lineage.mlflow is None:
                loader.problems.append(
                    doc.problem(loc, "names an MLflow run, but governance.yml sets no lineage.mlflow store")
                )
            elif lineage.mlflow is not None and run_id not in known:
                loader.problems.append(
                    doc.problem(loc, f"run {run_id} is not in the MLflow store {governance.lineage.mlflow}")
                )


def _check_sensitive_declarations(loader: Loader, model: ModelEntry, doc: YamlDocument) -> None:
    """Every feature and intersection declared once, each intersection of declared features, and no
    two with one name: two results of one name would be drawn as one on the pages, and one's groups
    and policy evidence would silently replace the other's."""
    declared = model.card.sensitive_features
    named: dict[str, tuple[str, str]] = {}  # each name already given → (where it was declared, what)

    def claim(loc: Loc, parts: list[str]) -> None:
        names = every_name(parts)
        clash = next((named[name] for name in names.values() if name in named), None)
        if clash is not None:
            where, what = clash
            loader.problems.append(
                doc.problem(
                    loc,
                    f"its results would be named {names['page']!r}, as those of {where} ({what!r}) are, on the "
                    f"pages or in policy paths (fairness.{names['policy']}…), and one would hide the other: "
                    "rename a column or remove one of the two",
                )
            )
            return
        where = f"{loc[0]}[{loc[1]}]"
        for name in names.values():
            named[name] = (where, names["page"])

    for index, feature in enumerate(declared):
        if feature in declared[:index]:
            loader.problems.append(
                doc.problem(
                    ("sensitive_features", index),
                    f"{feature!r} is already listed (sensitive_features[{declared.index(feature)}]); list it once",
                )
            )
        else:
            claim(("sensitive_features", index), [feature])
    seen: dict[frozenset[str], int] = {}
    for index, combination in enumerate(model.card.intersections):
        if len(combination) < 2 or len(set(combination)) != len(combination):
            loader.problems.append(
                doc.problem(("intersections", index), "an intersection combines two or more different features")
            )
        elif frozenset(combination) in seen:
            loader.problems.append(
                doc.problem(
                    ("intersections", index),
                    f"combines the same features as intersections[{seen[frozenset(combination)]}] (the same "
                    "features in another order are the same combination); list it once",
                )
            )
        else:
            seen[frozenset(combination)] = index
            claim(("intersections", index), list(combination))
        for position, feature in enumerate(combination):
            if feature not in declared:
                loader.problems.append(
                    doc.problem(
                        ("intersections", index, position),
                        f"{feature!r} is not one of sensitive_features{did_you_mean(feature, declared)}",
                    )
                )
    for key in ("expected_groups", "group_comparisons"):
        for feature in getattr(model.card, key):
            if feature not in declared:
                loader.problems.append(
                    doc.problem(
                        (key, feature),
                        f"{feature!r} is not one of sensitive_features{did_you_mean(feature, declared)}",
                    )
                )


def _check_datasheet_files(loader: Loader, dataset: DatasetEntry) -> None:
    doc = loader.docs[dataset.source]
    for index, data_file in enumerate(dataset.sheet.files):
        loc: Loc = ("files", index, "path")
        if loader.resolve(doc, loc, data_file.path) is None:
            continue
        actual = loader.files.register(data_file.path).sha256
        if data_file.sha256 is not None and data_file.sha256 != actual:
            loader.problems.append(
                doc.problem(
                    ("files", index, "sha256"),
                    f"does not match {data_file.path} (file has {actual}); the data changed since the "
                    "datasheet was written",
                )
            )


def _check_version(loader: Loader, model: ModelEntry, version: VersionEntry, datasets: dict[str, DatasetEntry]) -> None:
    doc = loader.docs[version.source]
    spec = version.spec
    task = model.card.task
    known_previous = spec.previous in model.versions or (model.id, spec.previous) in loader.invalid_versions
    if spec.previous is not None and not known_previous:
        hint = did_you_mean(spec.previous, model.versions)
        loader.problems.append(doc.problem(("previous",), f"version {spec.previous!r} of {model.id} not found{hint}"))
    if spec.previous == version.id:
        loader.problems.append(doc.problem(("previous",), "a version cannot be its own previous version"))
    elif (cycle := _previous_cycle(model, version.id)) is not None:
        loader.problems.append(
            doc.problem(("previous",), f"previous versions form a cycle: {' → '.join(cycle)}; one must be first")
        )
    for index, dataset_id in enumerate(spec.training.datasets):
        _check_dataset_ref(loader, doc, ("training", "datasets", index), dataset_id, datasets)
    artifact = spec.training.artifact_spec
    if artifact is not None:
        loc: Loc = (
            ("training", "artifact") if isinstance(spec.training.artifact, str) else ("training", "artifact", "path")
        )
        if loader.resolve(doc, loc, artifact.path) is not None:
            loader.files.register(artifact.path)
        if loader.refusals.model_code:
            _refuse_model_code(loader, doc, artifact)

    seen_ids: dict[str, int] = {}
    for index, evaluation in enumerate(spec.evaluations):
        if evaluation.id in seen_ids:
            loader.problems.append(
                doc.problem(
                    ("evaluations", index, "id"),
                    f"duplicate evaluation id {evaluation.id!r} (also evaluations[{seen_ids[evaluation.id]}])",
                )
            )
        seen_ids.setdefault(evaluation.id, index)
        _check_dataset_ref(loader, doc, ("evaluations", index, "dataset"), evaluation.dataset, datasets)
        if task == Task.regression and evaluation.score is not None:
            loader.problems.append(
                doc.problem(("evaluations", index, "score"), "a regression model has no score column; remove it")
            )
        needed = evaluation.column_roles()
        sensitive = {f"sensitive_features[{i}]": name for i, name in enumerate(model.card.sensitive_features)}
        loader.check_table(doc, ("evaluations", index, "data"), evaluation.data, needed, sensitive, model)

    if spec.experiment is not None:
        check_experiment(loader, doc, spec, model, version.id)
    if spec.monitoring is not None:
        check_monitoring(loader, doc, spec, model)
    if spec.shadow is not None:
        check_shadow(loader, doc, spec, model, version.id)


def _refuse_model_code(loader: Loader, doc: YamlDocument, artifact: Artifact) -> None:
    """A build told to refuse model code (see :mod:`.refusals`) refuses the artifact's opt-ins to it,
    rather than leaving the model silently missing from the explanations."""
    asked_by = loader.refusals.asked_by
    if artifact.trust_pickle:
        loader.problems.append(
            doc.problem(
                ("training", "artifact", "trust_pickle"),
                f"this build refuses pickles whatever the workspace says ({asked_by}): loading a pickle runs "
                "its author's code. Save the model with skops (`skops.io.dump(model, 'model.skops')`), or "
                "remove trust_pickle",
            )
        )
    if artifact.trusted_types:
        loader.problems.append(
            doc.problem(
                ("training", "artifact", "trusted_types"),
                f"this build refuses skops trusted types whatever the workspace says ({asked_by}): each is a "
                "function or class the model file calls when the model is loaded or used, its author's code "
                "as much as a pickle's. Save the model with types skops trusts by default, or remove "
                "trusted_types (the model is then not loaded, and its explainability page says why)",
            )
        )


def _check_dataset_ref(
    loader: Loader, doc: YamlDocument, loc: Loc, dataset_id: str, datasets: dict[str, DatasetEntry]
) -> None:
    if dataset_id not in datasets and dataset_id not in loader.invalid_datasets:
        hint = did_you_mean(dataset_id, datasets)
        loader.problems.append(
            doc.problem(loc, f"unknown dataset {dataset_id!r}{hint} (expected datasets/{dataset_id}.yml)")
        )


def _previous_cycle(model: ModelEntry, start: str) -> list[str] | None:
    """The chain ``start → previous → …`` when it comes back to ``start``, else None.
    Diffs, comparisons and lineage walk this chain, so a cycle must be an error, not an endless loop."""
    chain = [start]
    current = model.versions[start].spec.previous
    while current is not None and current in model.versions:
        chain.append(current)
        if current == start:
            return chain
        if chain.count(current) > 1:
            return None  # a cycle further back, reported on the versions that form it
        current = model.versions[current].spec.previous
    return None
