"""Names that impersonate a policy's: tags, risk tiers and model ids in its scope, and the roles its
rules read.

A policy's scope names tags (``applies_to: {tags: [customer-facing]}``), risk tiers (``risk_tier:
[high]``) and models (``models: [loans*]``); the workspace names them again in model.yml, governance.yml
and its model folders, which whoever opens a pull request writes. A name that a reviewer reads as the
scope's and is another text would take the model out of the policy's scope, every rule of it reading
"out of the policy's scope" on a page that shows the name as the reader expects it. Tags and tier ids
are ASCII (:data:`modelgov.inputs.TAG`, :data:`~modelgov.workspace.governance_schema.TIER_ID`), so
what is left is ASCII that reads alike: another case (``High``), a zero for an ``o``, a one or a capital
``I`` for an ``l``, ``rn`` for ``m``. Such a name stops the load with the file and the key: there is no
honest reason to write a name that looks like a scope's and is not it.

The same holds for the roles a policy reads (``approved_by: [model_risk]``, evidence under
``approvals.model_risk``): a sign-off in approvals.yml under ``Model_Risk`` or ``model-risk`` would
carry its conditions of approval out of every rule on ``approvals.model_risk.conditions_overdue``.

And a pinned pack (``--require-pack``) scoped to a tier that governance.yml does not declare could
never apply: a workspace that renamed ``high`` is refused too.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from modelgov.errors import Problem
from modelgov.feature_names import group_name
from modelgov.lookalikes import lookalike_key, looks_like

if TYPE_CHECKING:
    from modelgov.policy.engine import LoadedPolicy
    from modelgov.policy.schema import Scope
    from modelgov.workspace.governance_schema import Governance
    from modelgov.workspace.load import Loader, ModelEntry


def _scopes(policies: list[LoadedPolicy]) -> list[tuple[Scope, str, str | None]]:
    """(scope, policy id, pack) of every policy's ``applies_to`` and ``exclude`` and every rule's
    ``applies_to``."""
    found = []
    for loaded in policies:
        policy = loaded.policy
        for scope in (policy.applies_to, policy.exclude, *(rule.applies_to for rule in policy.rules)):
            if scope is not None:
                found.append((scope, policy.id, loaded.pack))
    return found


def _named(policies: list[LoadedPolicy], key: str) -> dict[str, str]:
    """Every value of ``key`` (``tags``, ``risk_tier``, ``models``) a scope names, with the first
    policy that names it."""
    named: dict[str, str] = {}
    for scope, policy_id, _ in _scopes(policies):
        for value in getattr(scope, key) or []:
            named.setdefault(value, policy_id)
    return named


def _roles(policies: list[LoadedPolicy]) -> dict[str, str]:
    """Every role a rule reads (``approved_by``, ``max_age_days.approved_by``, an evidence path
    ``approvals.<role>…``), with the first policy that reads it."""
    named: dict[str, str] = {}
    for loaded in policies:
        for rule in loaded.policy.rules:
            roles = [*(rule.approved_by or []), *(rule.max_age_days.approved_by if rule.max_age_days else [])]
            paths = [rule.evidence or "", *(c.evidence for c in (rule.when.any_of if rule.when else []))]
            roles += [group_name(path.split(".")[1]) for path in paths if path.startswith("approvals.")]
            for role in roles:
                if role != "*":
                    named.setdefault(role, loaded.policy.id)
    return named


def role_impersonation(role: str, policies: list[LoadedPolicy]) -> str | None:
    """What ``modelgov approve --role`` is told when ``role`` reads as a role the policies read without
    being it; None when it does not."""
    roles = _roles(policies)
    meant = _impersonation(role, roles)
    return _message("--role", role, meant, roles[meant]) if meant is not None else None


def _impersonation(name: str, named: dict[str, str]) -> str | None:
    """The scope name ``name`` reads as without being it, if any."""
    if name in named:
        return None
    return next((scoped for scoped in named if looks_like(name, scoped)), None)


def _message(what: str, name: str, meant: str, policy_id: str) -> str:
    uses = "reads" if what in ("role", "--role") else "is scoped by"
    return (
        f"{what} {name!r} reads as {meant!r}, which policy {policy_id!r} {uses}, but is a different text, "
        f"so the policy would read it otherwise: write it as {meant!r}, or as a name that does not look like it"
    )


def check_scope_names(
    loader: Loader, governance: Governance, models: dict[str, ModelEntry], policies: list[LoadedPolicy]
) -> None:
    """A problem for each tag, tier id or model id that looks like a scope's without being it, and
    for each tier a pinned pack is scoped by that governance.yml does not declare."""
    tags, tiers, patterns = _named(policies, "tags"), _named(policies, "risk_tier"), _named(policies, "models")
    gov_doc = loader.docs.get("governance.yml")
    declared = [tier.id for tier in governance.risk_tiers]
    for index, tier in enumerate(declared):
        meant = _impersonation(tier, tiers)
        if meant is not None and gov_doc is not None:
            loader.problems.append(
                gov_doc.problem(("risk_tiers", index, "id"), _message("risk tier", tier, meant, tiers[meant]))
            )
    roles = _roles(policies)
    for model in models.values():
        for version in model.versions.values():
            approvals_doc = loader.docs.get(version.approvals_source) if version.approvals_source else None
            for index, approval in enumerate(version.approvals):
                meant = _impersonation(approval.role, roles)
                if meant is not None and approvals_doc is not None:
                    loader.problems.append(
                        approvals_doc.problem(
                            ("approvals", index, "role"), _message("role", approval.role, meant, roles[meant])
                        )
                    )
        doc = loader.docs.get(model.source)
        if doc is None:
            continue
        for index, tag in enumerate(model.card.tags):
            meant = _impersonation(tag, tags)
            if meant is not None:
                loader.problems.append(doc.problem(("tags", index), _message("tag", tag, meant, tags[meant])))
        for pattern, policy_id in patterns.items():
            if not fnmatchcase(model.id, pattern) and fnmatchcase(lookalike_key(model.id), lookalike_key(pattern)):
                loader.problems.append(
                    Problem(
                        model.source, None, "",
                        f"model id {model.id!r} (its folder's name) reads as matching {pattern!r}, which policy "
                        f"{policy_id!r} is scoped by, but does not match it, so the policy would not see it: rename "
                        "the folder so that it matches, or so that it does not look as if it did",
                    )
                )  # fmt: skip
    pinned = set(loader.refusals.packs)
    for scope, policy_id, pack in _scopes(policies):
        for tier in (scope.risk_tier or []) if pack in pinned else []:
            if tier not in declared and gov_doc is not None:
                loader.problems.append(
                    gov_doc.problem(
                        ("risk_tiers",),
                        f"pack {pack!r}, which this run requires, is scoped to risk tier {tier!r} (policy {policy_id!r}), "
                        f"which governance.yml does not declare, so it could apply to no model: declare {tier!r} "
                        "and give it to the models it describes",
                    )
                )
