"""Policies and waivers, as the loader reads them: the built-in packs governance.yml names, the
workspace's ``policies/*.yml`` (ids unique across both), and ``waivers.yml`` checked against them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from modelgov import manifest
from modelgov.errors import Problem
from modelgov.policy import schema as policy_schema
from modelgov.policy.engine import LoadedPolicy, LoadedWaiver
from modelgov.resources import builtin_packs
from modelgov.workspace import yamlsource
from modelgov.workspace.governance_schema import Governance
from modelgov.workspace.refusals import REQUIRE_PACKS_ENV
from modelgov.workspace.schema_errors import did_you_mean, problem_from_pydantic, without_union_noise
from modelgov.workspace.yamlsource import Loc, YamlDocument, parse_yaml

if TYPE_CHECKING:
    from modelgov.workspace.load import Loader


def load_policies(loader: Loader, governance: Governance) -> list[LoadedPolicy]:
    """Built-in packs named in governance.yml, then the workspace's ``policies/*.yml``; policy
    ids are unique across both."""
    loaded: list[LoadedPolicy] = []
    available = builtin_packs()
    listed: set[str] = set()
    for index, name in enumerate(governance.policies.packs):
        path = available.get(name)
        if name in listed:
            loader.problems.append(
                loader.docs["governance.yml"].problem(("policies", "packs", index), f"pack {name!r} is listed twice")
            )
            continue
        listed.add(name)
        if path is None:
            loader.problems.append(
                loader.docs["governance.yml"].problem(
                    ("policies", "packs", index),
                    f"no built-in policy pack {name!r}{did_you_mean(name, available)}; "
                    f"packs: {', '.join(sorted(available))}",
                )
            )
            continue
        display = f"(built-in pack) {path.name}"
        try:
            raw = path.read_bytes()
        except OSError as exc:  # an installation with a file missing or unreadable
            loader.problems.append(Problem(display, None, "", f"cannot read file: {exc.strerror or exc}"))
            continue
        policy = _parse_pack(loader, raw, display)
        if policy is not None:
            _check_sources(loader, display, policy)
            digest = hashlib.sha256(raw).hexdigest()
            ref = manifest.FileRef(path=f"modelgov:policies/{path.name}", sha256=digest, bytes=len(raw))
            loaded.append(LoadedPolicy(policy, ref, pack=name))
    _check_required_packs(loader, listed, available)
    folder = loader.root / "policies"
    counted = _Counted(
        rules=sum(len(item.policy.rules) for item in loaded),
        conditions=sum(len(rule.when.any_of) for item in loaded for rule in item.policy.rules if rule.when),
    )
    if loader.may_read("policies/") and folder.is_dir():
        for path in sorted(folder.iterdir()):
            rel = f"policies/{path.name}"
            if path.suffix not in {".yml", ".yaml"} or not loader.may_read(rel) or not path.is_file():
                continue
            doc = loader.read(rel)
            if doc is None or not counted.add(loader, doc):
                continue
            policy = loader.validate(doc, policy_schema.PolicyFile)
            if policy is not None:
                _check_sources(loader, rel, policy)
                hashed = loader.files.register(rel)
                ref = manifest.FileRef(path=hashed.path, sha256=hashed.sha256, bytes=hashed.bytes)
                loaded.append(LoadedPolicy(policy, ref))
    seen: dict[str, str] = {}
    for item in loaded:
        if item.policy.id in seen:
            loader.problems.append(
                Problem(
                    item.source.path,
                    None,
                    "id",
                    f"policy id {item.policy.id!r} is also used by {seen[item.policy.id]}",
                )
            )
        seen.setdefault(item.policy.id, item.source.path)
    return loaded


@dataclass
class _Counted:
    """The rules and conditions of the policies read so far, against :data:`~modelgov.policy.schema.MAX_RULES`
    and :data:`~modelgov.policy.schema.MAX_CONDITIONS`."""

    rules: int
    conditions: int

    def add(self, loader: Loader, doc: YamlDocument) -> bool:
        """Count one policy file's rules and conditions as written, before they are validated; False
        (a problem at its ``rules`` key) when they bring the workspace past a bound: the file is then
        not validated, so a file of 15,000 rules costs its reading, not 15,000 rules' checks."""
        data = doc.data if isinstance(doc.data, dict) else {}
        rules = data.get("rules") if isinstance(data.get("rules"), list) else []
        whens = [rule.get("when") for rule in rules if isinstance(rule, dict)]
        conditions = sum(len(w["any_of"]) for w in whens if isinstance(w, dict) and isinstance(w.get("any_of"), list))
        self.rules += len(rules)
        self.conditions += conditions
        over = [
            f"{here:,} {what}, which bring the workspace's policies to {total:,} (with the built-in packs of "
            f"governance.yml and the policy files before this one): more than the {bound:,} a workspace may hold"
            for here, what, total, bound in (
                (len(rules), "rules", self.rules, policy_schema.MAX_RULES),
                (conditions, "`when` conditions", self.conditions, policy_schema.MAX_CONDITIONS),
            )
            if total > bound and here
        ]
        for why in over:
            loader.problems.append(
                doc.problem(
                    ("rules",),
                    f"{why}. Every rule is checked, and every condition read, on every model version; a '*' in "
                    "an evidence path checks many values with one rule",
                )
            )
        return not over


def _check_sources(loader: Loader, file: str, policy: policy_schema.PolicyFile) -> None:
    """Every clause's ``source`` names an entry of the pack's ``sources``, reported at its line."""
    doc = loader.docs[file]
    known = [source.id for source in policy.sources]
    cited: list[tuple[Loc, str]] = [
        (("rules", i, "references", j, "source"), ref.source)
        for i, rule in enumerate(policy.rules)
        for j, ref in enumerate(rule.references)
        if ref.source is not None
    ]
    cited += [(("coverage", i, "source"), c.source) for i, c in enumerate(policy.coverage) if c.source is not None]
    for loc, source in cited:
        if source not in known:
            hint = f"; sources: {', '.join(known)}" if known else "; list it under `sources` first"
            loader.problems.append(
                doc.problem(loc, f"no source {source!r} in this policy's sources{did_you_mean(source, known)}{hint}")
            )


#: The built-in packs parsed so far in this process, by name and bytes: (document, policy or None,
#: problems). A pack is package data, the same on every load, and parsing the EU AI Act pack's YAML
#: alone takes 60 ms, while ``modelgov serve`` loads the workspace again after every change (and the
#: tests load hundreds). Keyed by the file's bytes and the reader's limits, so a changed file is
#: parsed again; at most :data:`_PACKS_KEPT` entries, the oldest dropped first. What is kept is
#: shared by every later load: the policy models are frozen, and nothing changes the lists inside
#: them or the document after parsing (a change that did would reach every later load in the process).
_PACKS: dict[tuple[object, ...], tuple[YamlDocument, Any, tuple[Problem, ...]]] = {}
_PACKS_KEPT = 32


def _check_required_packs(loader: Loader, listed: set[str], available: dict[str, Any]) -> None:
    """A problem for each pack the run requires (``--require-pack``) that governance.yml does not
    list, or that is no built-in pack at all (a typo in the CI's setting must not pass as pinned)."""
    asked = f"--require-pack or {REQUIRE_PACKS_ENV}"
    doc = loader.docs["governance.yml"]
    for name in loader.refusals.packs:
        if name not in available:
            loader.problems.append(
                Problem(
                    "governance.yml", None, "policies.packs",
                    f"this run requires pack {name!r} ({asked}), but there is no built-in policy pack of that name"
                    f"{did_you_mean(name, available)}; packs: {', '.join(sorted(available))}",
                )
            )  # fmt: skip
        elif name not in listed:
            loader.problems.append(
                doc.problem(
                    ("policies", "packs"),
                    f"this run requires pack {name!r} ({asked}), which governance.yml does not list: "
                    "add it to policies.packs (the CI that builds the site requires it whatever a pull request says)",
                )
            )


def _parse_pack(loader: Loader, raw: bytes, display: str) -> Any:
    """Like :meth:`Loader.parse`, for the bytes of a file outside the workspace (a built-in pack)."""
    key = (display, raw, yamlsource.MAX_YAML_BYTES, yamlsource.MAX_YAML_NODES, yamlsource.MAX_YAML_DEPTH)
    if key not in _PACKS:
        while len(_PACKS) >= _PACKS_KEPT:
            del _PACKS[next(iter(_PACKS))]
        _PACKS[key] = _parsed_pack(raw, display)
    doc, policy, problems = _PACKS[key]
    loader.docs[display] = doc
    loader.problems.extend(problems)
    return policy


def _parsed_pack(raw: bytes, display: str) -> tuple[YamlDocument, Any, tuple[Problem, ...]]:
    doc = parse_yaml(raw, display)
    if doc.problems:
        return doc, None, tuple(doc.problems)
    try:
        return doc, policy_schema.PolicyFile.model_validate(doc.data if doc.data is not None else {}), ()
    except ValidationError as exc:
        problems = [problem_from_pydantic(doc, policy_schema.PolicyFile, e) for e in without_union_noise(exc.errors())]
        return doc, None, tuple(problems)


def load_waivers(loader: Loader, governance: Governance, policies: list[LoadedPolicy]) -> list[LoadedWaiver]:
    """``waivers.yml``: each waiver names a loaded policy and one of its rules, and runs no longer
    than governance.yml allows."""
    parsed = loader.parse("waivers.yml", policy_schema.WaiversFile)
    if parsed is None:
        return []
    doc = loader.docs["waivers.yml"]
    hashed = loader.files.register("waivers.yml")
    ref = manifest.FileRef(path=hashed.path, sha256=hashed.sha256, bytes=hashed.bytes)
    rules = {item.policy.id: [r.id for r in item.policy.rules] for item in policies}
    longest = governance.policies.waiver_max_days
    out = []
    for index, waiver in enumerate(parsed.waivers):
        loc: Loc = ("waivers", index)
        if waiver.policy not in rules:
            loader.problems.append(
                doc.problem((*loc, "policy"), f"no policy {waiver.policy!r}{did_you_mean(waiver.policy, rules)}")
            )
        elif waiver.rule not in rules[waiver.policy]:
            loader.problems.append(
                doc.problem(
                    (*loc, "rule"),
                    f"policy {waiver.policy!r} has no rule {waiver.rule!r}{did_you_mean(waiver.rule, rules[waiver.policy])}",
                )
            )
        days = (waiver.expires - waiver.granted).days
        if days > longest:
            loader.problems.append(
                doc.problem(
                    (*loc, "expires"),
                    f"the waiver runs {days} days, longer than the {longest} allowed "
                    "(governance.yml policies.waiver_max_days)",
                )
            )
        out.append(LoadedWaiver(waiver, ref))
    return out
