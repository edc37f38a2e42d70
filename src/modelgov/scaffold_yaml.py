"""The YAML files ``modelgov init`` writes: governance, the model card, the version record, its
approvals and the datasheets, each commented so the user sees what was inferred and what is left
to write (every placeholder starts with :data:`TODO`).

Values are written as JSON scalars (:func:`_q`), which are valid YAML and keep any text exactly.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from modelgov.text_safety import visible
from modelgov.workspace.approvals_schema import Decision

if TYPE_CHECKING:
    from modelgov.scaffold_inference import TaskGuess, TrackedRun

#: Card and datasheet text the scaffold leaves for a person to write starts with this.
TODO = "TODO"


def _plain(value: object) -> object:
    """A NumPy scalar as the Python value YAML can write."""
    return value.item() if isinstance(value, np.generic) else value


def _q(value: object) -> str:
    """A YAML scalar: JSON's quoting is valid YAML and keeps any text exactly."""
    return json.dumps(_plain(value), ensure_ascii=False)


def shown_types(untrusted: list[str]) -> list[str]:
    """The type names a ``.skops`` file gives, each kept on one line whatever it holds: they come from
    the file, and a line break in one would end a YAML comment, a control character act on a terminal."""
    return [f"`{visible(name, keep='')}`" for name in untrusted]


def _todo(what: str) -> str:
    return _q(f"{TODO}: {what}")


def _governance(mlflow: str | None = None) -> str:
    lineage = (
        f"lineage:\n  # The MLflow tracking store the version's training run is read from (copied by `modelgov init`).\n"
        f"  mlflow: {_q(mlflow)}\n"
        if mlflow
        else ""
    )
    return f"""\
# governance.yml: the site and the organisation-wide settings. Written by `modelgov init`;
# every value starting with {TODO} is for you to write (`modelgov validate` lists them).
title: "Model governance"
organisation: {_todo("the organisation that owns the model")}
description: {_todo("one paragraph for the home page: which models this site covers, and for whom")}
# Risk tiers, lowest to highest: by default low, medium and high. To define your own:
# risk_tiers:
#   - {{id: low, title: Low, description: Internal or advisory use; no decision about people.}}
policies:
  # The built-in baseline: a complete card, an owner, a recent evaluation, sign-off and datasheets.
  # Until the card's {TODO} fields are written, its card rule fails and `modelgov build` exits 1.
  # Other built-in packs, each dated and sourced (docs/policy-packs.md): sr-26-2, osfi-e-23,
  # eu-ai-act-high-risk, colorado-sb-26-189, iso-42001, nist-ai-rmf, and sr-11-7 (rescinded).
  packs: [baseline]
{lineage}"""


def _model_card(name: str, guess: TaskGuess, sensitive: tuple[str, ...], table: pd.DataFrame, label: str) -> str:
    groups = "".join(
        f"#   {column}: {', '.join(map(str, sorted(table[column].dropna().unique().tolist(), key=str)[:8]))}\n"
        for column in sensitive
    )
    return f"""\
# The model card (Mitchell et al., 2019). Written by `modelgov init`: the values starting with
# {TODO} are yours to write; the others were inferred from the evaluation table — check them.
name: {_q(name)}
owner:
  name: {_todo("the person accountable for the model")}
  email: {_todo("their e-mail address")}
  team: {_todo("their team")}
# Inferred: {guess.reason}.
task: {guess.task}
# One of the tiers in governance.yml (low, medium, high).
risk_tier: medium
tags: []
description: {_todo("what the model predicts, for whom, and how (Markdown)")}
intended_use:
  primary_uses: {_todo("what the model is for")}
  primary_users: {_todo("who uses its outputs")}
  out_of_scope: {_todo("uses the model must not be put to")}
factors:
  relevant: {_todo("factors that could change the model's behaviour (groups, instruments, environments)")}
  evaluation: {_todo("which of them the evaluation covers, and why")}
metrics:
  performance_measures: {_todo("which metrics matter for this use, and why")}
  decision_threshold: {_todo("how the threshold on the score was chosen") if guess.task == "binary_classification" else "null"}
  variation_approaches: {_todo("how uncertainty is shown (modelgov adds 95% bootstrap intervals)")}
ethical_considerations: {_todo("risks to people, sensitive data used, mitigations")}
caveats: {_todo("caveats and recommendations for users")}
# Columns of the evaluation table whose groups are compared in the fairness analysis.
sensitive_features: [{", ".join(_q(s) for s in sensitive)}]
{("# Values found in the evaluation table:" + chr(10) + groups) if groups else ""}\
# Combinations of sensitive features analysed together, e.g. [[sex, age_band]].
intersections: []
# Groups each sensitive feature must have (a group missing from an evaluation is then reported).
expected_groups: {{}}
# Groups compared by name, beside the summaries over all groups: a reference group every other group is
# compared with, and/or pairs [group, reference], e.g. {{race: {{pairs: [[African-American, Caucasian]]}}}}.
group_comparisons: {{}}
# The terms the model may be used under, and papers or documents about it.
licence: null
references: []
# The business objective the model serves, and the KPIs that show whether it does, measured window by
# window on the production log (docs/workspace.md, "Business objective and KPIs"). For example:
#   kpis:
#     - name: approval_rate
#       description: Share of applications approved.
#       definition: {{aggregation: rate, column: approved}}
#       direction: higher
#       target: 0.6
#       unit: percent
business:
  objective: {_todo("the business objective the model serves, in business terms")}
  kpis: []
# Individual decisions explained in every evaluation run: records named by id, reason codes, what-if
# curves and counterfactuals, and each feature's wording and what it may change (docs/workspace.md,
# "Explained decisions"). null: no decision is explained one by one.
explanations: null
# The model's risk assessment, rated on governance.yml's risk_matrix: who assessed it, when, and the
# probability and impact of each risk (unavailable, bad_prediction, decay, skills_lost and your own);
# see docs/workspace.md, "Risk assessment". null: not assessed (a rule reading risk.* says so).
risk_assessment: null
# For an automated employment decision tool (NYC Local Law 144): its sex and race/ethnicity columns,
# the audit date and data source (docs/workspace.md, "Employment decision tools"). null: not one.
employment_decision_tool: null
"""


def _version(
    today: dt.date,
    guess: TaskGuess,
    eval_rel: str,
    label: str,
    prediction: str,
    score: str | None,
    features: list[str],
    model_rel: str | None,
    log_rel: str | None,
    log_table: pd.DataFrame | None,
    timestamp: str | None,
    log_id: str | None,
    tracked: TrackedRun | None = None,
    feature_notes: tuple[str, ...] = (),
    untrusted: list[str] | None = None,
    truth: tuple[str, str, str] | None = None,
    kinds: dict[str, tuple[str, str]] | None = None,
) -> str:
    lines = [
        "# One version of the model: how it was trained, how it was evaluated, and (optionally) how it is",
        "# monitored. Written by `modelgov init`; values starting with TODO are yours to write.",
        f"created: {today.isoformat()}",
        "# candidate, staging, production or retired",
        "status: candidate",
        f"summary: {_todo('what this version is and how it differs from the previous one')}",
        "training:",
        "  datasets: [training-data]   # ids of files under datasets/",
    ]
    if tracked is not None:
        algorithm = (
            _q(tracked.algorithm)
            if tracked.algorithm
            else _todo("the estimator, e.g. sklearn.ensemble.HistGradientBoostingClassifier")
        )
        lines += [
            f"  algorithm: {algorithm}",
            f"  # From MLflow: {tracked.why}.",
            f"  mlflow_run: {_q(tracked.run_id)}",
            "  params:" + ("" if tracked.params else " {}"),
            *(f"    {_q(key)}: {_q(value)}" for key, value in sorted(tracked.params.items())),
        ]
    else:
        lines += [
            f"  algorithm: {_todo('the estimator, e.g. sklearn.ensemble.HistGradientBoostingClassifier')}",
            "  params: {}",
        ]
    if model_rel:
        pickled = model_rel.endswith((".pkl", ".pickle", ".joblib"))
        lines += [
            "  artifact:",
            f"    path: {_q(model_rel)}",
            *(
                [
                    "    # A pickle runs code when it is loaded: modelgov loads it only when you say so here,",
                    "    # after checking where it came from. Without it, the model file is hashed, not loaded.",
                    "    trust_pickle: false",
                ]
                if pickled
                else []
            ),
            *(
                [
                    "    # skops loads only the types it trusts by default and those listed under trusted_types.",
                    "    # This file also holds these types (skops.io.get_untrusted_types), each code the file",
                    "    # names, called when the model loads or scores:",
                    *(f"    #   {name}" for name in shown_types(untrusted or [])),
                    "    # `modelgov init` did not trust them, and the model is not loaded until you have reviewed",
                    "    # them and listed them here as `trusted_types: [...]`. CI with --refuse-pickle refuses them.",
                ]
                if untrusted
                else []
            ),
        ]
    lines += [
        "evaluations:",
        "  - id: holdout",
        f"    data: {_q(eval_rel)}",
        "    dataset: evaluation-data",
        f"    date: {today.isoformat()}   # when the evaluation was run: correct it",
        f"    label: {_q(label)}",
        f"    prediction: {_q(prediction)}",
    ]
    if score:
        lines.append(f"    score: {_q(score)}")
    if guess.task == "binary_classification":
        lines.append(f"    positive_label: {_q(guess.positive_label)}   # {guess.reason}")
    lines += [f"    # {note}" for note in feature_notes]
    lines.append(f"    features: [{', '.join(_q(f) for f in features)}]")
    if log_rel is not None and log_table is not None:
        monitored = [f for f in features if f in log_table.columns and f != timestamp]
        lines += [
            "monitoring:",
            f"  logs: {_q(log_rel)}",
            f"  timestamp: {_q(timestamp)}",
            f"  prediction: {_q(prediction)}",
        ]
        if score and score in log_table.columns:
            lines.append(f"  score: {_q(score)}")
        if log_id:
            lines.append(f"  id: {_q(log_id)}")
        if truth is not None:
            lines += [
                "  # Outcomes known after scoring, joined to the log's records by id: performance per window.",
                "  ground_truth:",
                f"    data: {_q(truth[0])}",
                f"    id: {_q(truth[1])}   # the column holding the log's {log_id} values",
                f"    label: {_q(truth[2])}",
            ]
        lines += [
            f"  features: [{', '.join(_q(f) for f in monitored)}]",
            "  window: week   # day, week or month (UTC), or {rows: N}",
            "  reference: holdout   # the evaluation production is compared with",
        ]
        if kinds:
            lines += [
                "  drift:",
                "    # How drift compares each feature: numeric (its values as numbers, in order) or categorical",
                "    # (the share of each value). Inferred from the holdout table as the build would (integers with",
                "    # at most 10 distinct values, true/false and text are categorical); change one that is wrong.",
                "    features:",
                *(f"      {_q(name)}: {{kind: {kind}}}   # {why}" for name, (kind, why) in kinds.items()),
            ]
        missing = [f for f in features if f not in log_table.columns]
        if missing:
            lines.append(f"  # Not in the log, so not monitored: {', '.join(missing)}")
    return "\n".join(lines) + "\n"


def _approvals() -> str:
    # the decisions offered are the schema's, so the comment can never suggest a value it refuses
    decisions = [d.value for d in Decision]
    offered = ", ".join(decisions[:-1]) + f" or {decisions[-1]}"
    return f"""\
# Sign-offs of this version. Add one entry per decision, for example:
#   - role: model_risk          # the accountable function
#     by: Priya Raman (Model Validation)
#     decision: approved        # {offered}
#     date: 2026-02-14
#     comment: Validated against the 2026 holdout.
approvals: []
"""


def _datasheet(what: str, rows: int | None, sensitive: tuple[str, ...] = ()) -> str:
    pii = (
        f"contains_pii: true   # it holds the sensitive features {', '.join(sensitive)}\n"
        f"pii_fields: [{', '.join(_q(c) for c in sensitive)}]\n"
        f"legal_basis: {_todo('the legal basis for processing these personal data')}\n"
        if sensitive
        else "contains_pii: false\npii_fields: []\nlegal_basis: null\n"
    )
    pii += (
        "# Whether one person's record (its id and values, the pii_fields always masked) may appear on the\n"
        "# site in an explained decision; false: explained decisions show no id and no value.\n"
        "publish_records: false\n"
    )
    return f"""\
# A datasheet (Gebru et al., 2021) for the {what}. Written by `modelgov init`.
name: {_q(what.capitalize())}
description: {_todo(f"what the {what} is: population, period, unit of a row")}
source: {_todo("the system or provider it came from")}
licence: {_todo("the terms it may be used under")}
collection:
  method: {_todo("how it was collected or sampled")}
  period: {_todo("the period the records cover")}
{f"rows: {rows}" if rows is not None else "# rows: the number of records"}
# Does it hold personal data? If so, list the fields and the legal basis for processing them.
{pii}known_gaps: {_todo("populations, periods or values it under-represents")}
# The workspace files holding this data, and documents about it.
files: []
references: []
"""
