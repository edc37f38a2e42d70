"""The loader's checks of a card's ``employment_decision_tool`` (NYC Local Law 144) against the rest
of the card and its versions, each at the line of its key."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelgov.workspace.schema_errors import did_you_mean

if TYPE_CHECKING:
    from modelgov.workspace.load import Loader, ModelEntry


def audited_evaluation(version_spec):
    """The evaluation a version's bias audit is computed from: its most recent (by date, then id),
    the one policies read."""
    return max(version_spec.evaluations, key=lambda e: (e.date, e.id))


def check_employment_tools(loader: Loader, models: dict[str, ModelEntry]) -> None:
    for model in models.values():
        tool = model.card.employment_decision_tool
        if tool is None:
            continue
        doc = loader.docs[model.source]
        declared = list(model.card.sensitive_features)
        for key in ("sex", "race_ethnicity"):
            column = getattr(tool, key)
            if column not in declared:
                loader.problems.append(
                    doc.problem(
                        ("employment_decision_tool", key),
                        f"column {column!r} is not among sensitive_features{did_you_mean(column, declared)}: "
                        "declare it there, so every evaluation table is checked for it",
                    )
                )
        if tool.sex == tool.race_ethnicity:
            loader.problems.append(
                doc.problem(("employment_decision_tool", "race_ethnicity"), "sex and race_ethnicity name one column")
            )
        loader.refuse_future(
            model.source,
            ("employment_decision_tool", "audit_date"),
            tool.audit_date,
            "an audit is dated when it is made",
        )
        task = model.card.task.value
        if tool.output == "selection" and task != "binary_classification":
            loader.problems.append(
                doc.problem(
                    ("employment_decision_tool", "output"),
                    f"selection rates need a tool that selects (a binary classifier); this model's task is {task}: "
                    "set output: score",
                )
            )
        if tool.output != "score":
            continue
        for version in model.versions.values():
            run = audited_evaluation(version.spec)
            if run.score is None and task != "regression":
                index = version.spec.evaluations.index(run)
                loader.problems.append(
                    loader.docs[version.source].problem(
                        ("evaluations", index),
                        f"the card's employment_decision_tool scores (output: score), and this evaluation, which the "
                        f"bias audit of version {version.id} reads, names no score column",
                    )
                )
