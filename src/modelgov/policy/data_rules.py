"""The rule kinds about data: drift limits on a version in production (``drift_limits``), inputs a
model must not use (``prohibited_features``), and what the datasheets of the data a version was
trained and evaluated on must say (``pii_legal_basis``, ``datasheet_fields``).

Each function returns the checks of one rule on one version, or ``None`` when the rule does not
apply to it; :func:`modelgov.policy.rules.evaluate` picks the function by the rule's kind.
"""

from __future__ import annotations

from modelgov import manifest
from modelgov.lookalikes import looks_like, spelt_out
from modelgov.text_safety import visible

from .placeholders import is_placeholder
from .rule_context import Check, Context, threshold_check
from .schema import Requirement, Rule


def drift_limits(rule: Rule, ctx: Context) -> list[Check] | None:
    limits = rule.drift_limits
    assert limits is not None
    if ctx.version.monitoring is None and ctx.version.drift is None:
        return None  # nothing in production to monitor
    if ctx.version.drift is None or "drift.share_drifted" not in ctx.index:
        return [
            Check(
                path="drift",
                observed=None,
                requirement="a monitoring report with records",
                outcome="error",
                message="the version has a monitoring log but no window with records was analysed",
            )
        ]
    checks = []

    def add(path: str, requirement: Requirement) -> None:
        checks.append(threshold_check(path, ctx.index.get(path), requirement))

    if limits.max_share_drifted is not None:
        add("drift.share_drifted", Requirement(le=limits.max_share_drifted))
    if limits.max_drifting_windows is not None:
        add("drift.drifting_windows", Requirement(le=limits.max_drifting_windows))
    if limits.max_feature_psi is not None:
        for path in sorted(ctx.matching("drift.features.*.psi")):
            add(path, Requirement(lt=limits.max_feature_psi))
    if limits.output_drift is False and "drift.output.drifted" in ctx.index:
        add("drift.output.drifted", Requirement(eq=False))
    return checks


# --------------------------------------------------------------------------- data governance


def _inputs(version: manifest.ModelVersion) -> set[str]:
    """The model's inputs as the workspace declares them anywhere."""
    names = {f for run in version.evaluations for f in run.features}
    if version.monitoring is not None:
        names |= set(version.monitoring.features)
    return names


def _reads_as(name: str, prohibited: str) -> str:
    """How a message names an input taken for a prohibited one: it looks the same on the page, so
    the characters that make it differ are spelt out."""
    odd = spelt_out(name)
    return f"'{visible(name, keep='')}' (reads as {prohibited}{'; written with ' + odd if odd else ''})"


def prohibited_features(rule: Rule, ctx: Context) -> list[Check]:
    assert rule.prohibited_features is not None
    inputs = _inputs(ctx.version)
    page = f"models/{ctx.model.id}/{ctx.version.version}/index.html#evaluation-data"
    # compared as they look, not as written: a zero-width space, a full-width or Cyrillic letter or
    # another dash must not let a prohibited column through under a name a reviewer reads as its own
    taken_for = {f: next((p for p in rule.prohibited_features if looks_like(f, p)), None) for f in inputs}
    found = sorted(f for f, p in taken_for.items() if p is not None)
    named = [
        visible(f, keep="") if f.casefold() == str(taken_for[f]).casefold() else _reads_as(f, str(taken_for[f]))
        for f in found
    ]
    requirement = f"none of {', '.join(rule.prohibited_features)} is a model input"
    if not inputs:
        return [
            Check(
                path="inputs",
                observed=None,
                requirement=requirement,
                outcome="error",
                message="the version declares no input features (evaluations[].features or monitoring.features)",
                page=page,
            )
        ]
    if found:
        return [
            Check(
                path="inputs",
                observed=found,
                requirement=requirement,
                outcome="fail",
                message=f"prohibited input(s): {', '.join(named)}",
                page=page,
            )
        ]
    return [
        Check(
            path="inputs",
            observed=sorted(inputs),
            requirement=requirement,
            outcome="pass",
            message=f"none of the {len(inputs)} inputs is prohibited",
            page=page,
        )
    ]


def _used_datasets(ctx: Context) -> list[str]:
    ids = list(ctx.version.training.datasets) + [run.dataset for run in ctx.version.evaluations]
    return list(dict.fromkeys(ids))


def pii_legal_basis(rule: Rule, ctx: Context) -> list[Check] | None:
    checks = []
    for dataset_id in _used_datasets(ctx):
        dataset = ctx.datasets.get(dataset_id)
        page = f"datasets/{dataset_id}.html"
        if dataset is None:
            checks.append(_no_datasheet(dataset_id))
        elif dataset.contains_pii:
            ok = bool(dataset.legal_basis and dataset.legal_basis.strip() and not is_placeholder(dataset.legal_basis))
            checks.append(
                Check(
                    path=f"datasets.{dataset_id}.legal_basis",
                    observed=dataset.legal_basis,
                    requirement="a dataset with personal data states its legal basis",
                    outcome="pass" if ok else "fail",
                    message=f"{dataset_id} holds personal data and {'states' if ok else 'does not state'} a legal basis",
                    page=page,
                )
            )
    return checks or None  # no personal data: the rule does not apply


def _no_datasheet(dataset_id: str) -> Check:
    """A version names a dataset the workspace has no datasheet for: an error, whatever the rule."""
    return Check(
        path=f"datasets.{dataset_id}",
        observed=None,
        requirement="a datasheet",
        outcome="error",
        message=f"no datasheet for {dataset_id}",
    )


def datasheet_fields(rule: Rule, ctx: Context) -> list[Check]:
    assert rule.datasheet_fields is not None
    checks = []
    for dataset_id in _used_datasets(ctx):
        dataset = ctx.datasets.get(dataset_id)
        if dataset is None:
            checks.append(_no_datasheet(dataset_id))
            continue
        missing = [f for f in rule.datasheet_fields if getattr(dataset, f) in (None, "", [])]
        # a placeholder ("TODO: …", as `modelgov init` writes them) is not a filled-in field
        unwritten = [
            f
            for f in rule.datasheet_fields
            if isinstance(getattr(dataset, f), str) and is_placeholder(getattr(dataset, f))
        ]
        missing += unwritten
        present = [f for f in rule.datasheet_fields if f not in missing]
        checks.append(
            Check(
                path=f"datasets.{dataset_id}",
                observed=f"missing: {', '.join(missing)}" if missing else f"filled in: {', '.join(present)}",
                requirement=f"fields {', '.join(rule.datasheet_fields)} are filled in",
                outcome="fail" if missing else "pass",
                message=f"{dataset_id}: "
                + (
                    "; ".join(
                        part
                        for part in (
                            f"missing {', '.join(f for f in missing if f not in unwritten)}"
                            if any(f not in unwritten for f in missing)
                            else "",
                            f"still a placeholder: {', '.join(unwritten)}" if unwritten else "",
                        )
                        if part
                    )
                    if missing
                    else "all required fields are filled in"
                ),
                page=f"datasets/{dataset_id}.html",
            )
        )
    return checks
