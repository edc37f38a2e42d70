"""Tags that impersonate a policy's scope.

A policy can be scoped by tag (``applies_to: {tags: [customer-facing]}``), and a model's tags are
free text in its model.yml, which whoever opens a pull request writes. A tag that a reviewer reads
as ``customer-facing`` but is another text (a Cyrillic ``о``, a zero for an ``o``, a zero-width
space, another case) would take the model out of that policy's scope, and every rule of it would
read "out of the policy's scope" on a page that shows the tag as the reader expects it. Such a tag
stops the load with the file, the key and the letters that differ: there is no honest reason to
write a tag that looks like a scope's and is not it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelgov.lookalikes import looks_like, spelt_out
from modelgov.text_safety import visible

if TYPE_CHECKING:
    from modelgov.policy.engine import LoadedPolicy
    from modelgov.policy.schema import Scope
    from modelgov.workspace.load import Loader, ModelEntry


def _scope_tags(policies: list[LoadedPolicy]) -> dict[str, str]:
    """Every tag a scope names (a policy's ``applies_to`` and ``exclude``, a rule's ``applies_to``),
    with the first policy that names it."""
    named: dict[str, str] = {}

    def add(scope: Scope | None, policy_id: str) -> None:
        for tag in (scope.tags or []) if scope is not None else []:
            named.setdefault(tag, policy_id)

    for loaded in policies:
        policy = loaded.policy
        add(policy.applies_to, policy.id)
        add(policy.exclude, policy.id)
        for rule in policy.rules:
            add(rule.applies_to, policy.id)
    return named


def check_scope_tags(loader: Loader, models: dict[str, ModelEntry], policies: list[LoadedPolicy]) -> None:
    """A problem for each model tag that looks like a tag some policy scopes by without being it."""
    named = _scope_tags(policies)
    if not named:
        return
    for model in models.values():
        doc = loader.docs.get(model.source)
        if doc is None:
            continue
        for index, tag in enumerate(model.card.tags):
            if tag in named:
                continue
            meant = next((scope_tag for scope_tag in named if looks_like(tag, scope_tag)), None)
            if meant is None:
                continue
            odd = spelt_out(tag)
            loader.problems.append(
                doc.problem(
                    ("tags", index),
                    f"tag '{visible(tag, keep='')}' reads as {meant!r}, which policy {named[meant]!r} is scoped by, "
                    f"but is a different text{' (written with ' + odd + ')' if odd else ''}, so the policy would "
                    f"not see it: write it as {meant!r}, or as a tag that does not look like it",
                )
            )
