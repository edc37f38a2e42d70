"""A model version as a Hugging Face model card: ``README.md`` with YAML front matter.

The front matter is built with ``huggingface_hub``'s own ``ModelCardData`` and ``EvalResult``, so
``model-index`` (the evaluation results the Hub shows) is in the Hub's format by construction.
The body follows the Hub's model-card template sections (Model Details, Uses, Bias, Risks and
Limitations, Training Details, Evaluation).

**Regeneration keeps what people wrote.** The body is made of marked blocks:
``<!-- modelgov:text NAME -->`` blocks hold card text, written from the workspace only when the
README does not have that block yet; ``<!-- modelgov:computed NAME -->`` blocks hold numbers
(metrics, groups, monitoring) and are replaced on every export. Anything outside the blocks, and
any front-matter key modelgov does not compute, is left as it is. So a card edited on the Hub can
be refreshed with new evaluation results without losing the edits.

**Card text cannot forge a block.** The markers are HTML comments, and card fields are written by
anyone who can open a pull request. A marker inside a card field (``<!-- /modelgov:text … -->``
followed by a fake ``<!-- modelgov:computed results -->`` block) would end the real block early and
be taken, on the next export, for a block modelgov computed: fake numbers refreshed into real ones
beside the real block, or human text kept forever after a computed block that ends too soon. Every
block body is therefore written with its markers neutralised (``<!--`` before ``modelgov:`` becomes
``&lt;!--``, which the Hub shows as the text ``<!--``): the only markers in a README are the ones
modelgov wrote around its blocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import cycle

import yaml

from modelgov import manifest as m
from modelgov.export.common import Gap, HeadlineMetric, gaps, headline_metrics
from modelgov.policy.placeholders import is_placeholder
from modelgov.render.caveat_views import caveats
from modelgov.text_safety import visible

__all__ = ["hf_model_card", "merge_readme"]

_TASK_TYPES = {
    "binary_classification": ("tabular-classification", "Binary classification"),
    "multiclass_classification": ("tabular-classification", "Multiclass classification"),
    "regression": ("tabular-regression", "Regression"),
}
#: Front-matter keys modelgov computes; every other key in an existing README is kept.
COMPUTED_KEYS = ("model-index", "datasets", "metrics", "pipeline_tag", "model_name")

_BLOCK = re.compile(
    r"<!-- modelgov:(?P<kind>text|computed) (?P<name>[a-z0-9-]+) -->\n(?P<body>.*?)<!-- /modelgov:(?P=kind) (?P=name) -->",
    re.S,
)
_FRONT = re.compile(r"\A---\n(.*?)\n---\n", re.S)
#: The start of anything the block pattern (or a looser reader) could take for a marker.
_MARKER_START = re.compile(r"<!--(?=\s*/?\s*modelgov\s*:)", re.I)


def _without_markers(text: str) -> str:
    """``text`` with every block marker in it made inert (``&lt;!--``), so user text inside a block
    can neither end it nor open another (see the module's docstring)."""
    return _MARKER_START.sub("&lt;!--", text)


@dataclass(frozen=True)
class Block:
    kind: str  # "text" or "computed"
    name: str
    body: str

    def render(self) -> str:
        # a computed block is modelgov's statement, quoting the workspace (group names, run ids, the
        # summary): control and invisible characters in it are shown as escapes, as on the site. A
        # text block is the card's own text, exported as written so that it reads back the same.
        text = visible(self.body, keep="\n\t") if self.kind == "computed" else self.body
        body = _without_markers(text.rstrip())
        return f"<!-- modelgov:{self.kind} {self.name} -->\n{body}\n<!-- /modelgov:{self.kind} {self.name} -->"


def _front_matter(manifest: m.Manifest, model: m.Model, version: m.ModelVersion) -> dict:
    from huggingface_hub import EvalResult, ModelCardData

    task_type, task_name = _TASK_TYPES[model.task]
    datasets = {d.id: d for d in manifest.datasets}
    results = [
        EvalResult(
            task_type=task_type,
            task_name=task_name,
            dataset_type=metric.run.dataset,
            dataset_name=datasets[metric.run.dataset].name if metric.run.dataset in datasets else metric.run.dataset,
            dataset_split=metric.run.id,
            metric_type=metric.name,
            metric_name=metric.label,
            metric_value=round(metric.value, 6),
        )
        for metric in headline_metrics(version, groups=False)
    ]
    licence = model.card.licence
    known = licence if licence and re.fullmatch(r"[a-z0-9.\-]+", licence) else None
    data = ModelCardData(
        model_name=f"{model.name} {version.version}",
        eval_results=results or None,
        datasets=list(dict.fromkeys([*version.training.datasets, *(r.dataset for r in version.evaluations)])) or None,
        metrics=sorted({r.metric_type for r in results}) or None,
        pipeline_tag=task_type,
        tags=[*model.tags, "modelgov"],
        license=known or ("other" if licence else None),
        license_name=licence if licence and not known else None,
    )
    return _escaped_strings(data.to_dict())


def _escaped_strings(value: object) -> object:
    """``value`` with control and invisible characters in every string shown as escapes: the front
    matter modelgov writes quotes the workspace (the model's name, its tags, the licence's name), and
    the Hub shows it as the card's title, chips and results; a YAML loader turns ``\\U000E0041`` back
    into the character, so it is escaped before it is dumped."""
    if isinstance(value, str):
        return visible(value, keep="")
    if isinstance(value, dict):
        return {_escaped_strings(k): _escaped_strings(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_escaped_strings(v) for v in value]
    return value


#: Text block → the card field it holds, one field per block, so an import reads each back exactly.
TEXT_BLOCKS: dict[str, str] = {
    "description": "description",
    "direct-use": "intended_use.primary_uses",
    "intended-users": "intended_use.primary_users",
    "out-of-scope-use": "intended_use.out_of_scope",
    "bias-risks-limitations": "ethical_considerations",
    "recommendations": "caveats",
    "evaluation-factors": "factors.relevant",
    "evaluation-coverage": "factors.evaluation",
    "evaluation-metrics": "metrics.performance_measures",
    "decision-threshold": "metrics.decision_threshold",
    "uncertainty": "metrics.variation_approaches",
}
_CARD_ATTRIBUTES = {
    "description": "description",
    "intended_use.primary_uses": "primary_uses",
    "intended_use.primary_users": "primary_users",
    "intended_use.out_of_scope": "out_of_scope",
    "ethical_considerations": "ethical_considerations",
    "caveats": "caveats",
    "factors.relevant": "factors_relevant",
    "factors.evaluation": "factors_evaluation",
    "metrics.performance_measures": "performance_measures",
    "metrics.decision_threshold": "decision_threshold",
    "metrics.variation_approaches": "variation_approaches",
}


def _text_blocks(model: m.Model, version: m.ModelVersion) -> list[Block]:
    card = model.card
    blocks = []
    for name, field_path in TEXT_BLOCKS.items():
        value = getattr(card, _CARD_ATTRIBUTES[field_path]) or "Not stated in the model card."
        blocks.append(Block("text", name, value))
    return blocks


def _details(model: m.Model, version: m.ModelVersion) -> Block:
    card, owner = model.card, model.owner
    contact = ", ".join(_inline(part) for part in (owner.name, owner.team, owner.email) if part)
    return Block(
        "computed",
        "details",
        f"- **Developed by:** {contact}\n- **Model type:** {model.task.replace('_', ' ')} "
        f"({_inline(version.training.algorithm)})\n- **Version:** {_inline(version.version)} ({version.status}, "
        f"{version.created})\n"
        + (f"- **License:** {_inline(card.licence)}\n" if card.licence else "")
        + f"- **Risk tier:** {_inline(model.risk_tier)}\n\n{version.summary.replace('<', '&lt;')}",
    )


def _cell(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _inline(value: object) -> str:
    """Workspace text on one line of a computed block: its line breaks and runs of spaces made one
    space (a newline in a name would start a line of its own: a forged sign-off, a heading, a table
    row), ``|`` escaped (a table cell), ``[`` and ``]`` escaped (a link or an image: a ``javascript:``
    target, a tracking pixel), ``*``, ``_`` and ``~`` escaped (emphasis that is not modelgov's), ``<`` written as an
    entity (raw HTML, which the site sanitises and other Markdown renderers may not), and a web or
    e-mail address written as code, which the Hub does not turn into a link. The summary, a Markdown block,
    keeps its Markdown but not raw HTML."""
    text = " ".join(str(value).split())
    parts = _ADDRESS.split(text)  # every odd part is a web address
    return "".join(_address(part) if odd else _escaped(part) for odd, part in zip(cycle((False, True)), parts))


#: What the Hub's Markdown (GitHub's, with its autolink extension) turns into a link without any
#: brackets: a scheme and ``://``, ``www.``, or an e-mail address. Each starts only where its first
#: character cannot continue a longer run (the lookbehinds) and takes its run whole (``++``): without
#: them a long run of letters or dots (a flag's text can be 256 KB) was searched again from every one
#: of its characters, in time that grows with the square of its length. An address ends before the
#: sentence's full stop.
_ADDRESS = re.compile(
    r"((?<![a-z0-9+.-])[a-z][a-z0-9+.-]*+://\S*[^\s.,;:!?)\]'\"]"
    r"|\bwww\.\S*[^\s.,;:!?)\]'\"]"
    r"|(?<![\w.+-])[\w.+-]++@[\w-]+(?:\.[\w-]+)+)",
    re.I,
)


def _escaped(text: str) -> str:
    for character in "\\|[]*_~":
        text = text.replace(character, "\\" + character)
    return text.replace("<", "&lt;")


def _address(text: str) -> str:
    """A web address quoted from the workspace, as code: shown, never a link the Hub makes of it (a
    flag's "re-verify at https://…" would be a phishing link in a card people trust)."""
    return _code(text.replace("|", "%7C").replace("<", "%3C"))


def _code(value: object) -> str:
    """Workspace text as an inline code span on one line, fenced with more backticks than it holds."""
    text = " ".join(str(value).split())
    if "`" not in text:
        return f"`{text}`"
    fence = "`" * (max(len(run) for run in re.findall(r"`+", text)) + 1)
    return f"{fence} {text} {fence}"


def _interval(metric: HeadlineMetric | Gap) -> str:
    """The metric's interval with its level (the workspace sets it: 95 % unless ``analysis.confidence_level``
    says otherwise), or a dash."""
    if metric.low is None:
        return "—"
    level = f" ({metric.level * 100:g} %)" if metric.level is not None else ""
    return f"{_cell(metric.low)} – {_cell(metric.high)}{level}"


def _sign_off_line(approval: m.Approval) -> str:
    """One sign-off as the card states it: how it is signed and whether its evidence is still the
    evidence (a stale or unsigned approval is not a plain approval)."""
    signed = {"signed": "signed", "unsigned": "unsigned", "invalid": "signature not accepted"}[approval.signature]
    bound = {
        "current": "on the current evidence",
        "stale": f"stale: {approval.stale_reason} (" + ", ".join(_inline(f) for f in approval.changed) + ")",
        "unbound": "bound to no evidence",
    }[approval.evidence]
    counted = "" if approval.counts else "; not counted by the policies"
    if approval.predates:
        counted += "; dated before the evaluations it binds: " + ", ".join(_inline(run) for run in approval.predates)
    return (
        f"- {_inline(approval.role)}: {_inline(approval.decision)} by {_inline(approval.by)} on "
        f"{_inline(approval.date)} ({signed}, {bound}{counted})"
    )


def _computed_blocks(manifest: m.Manifest, model: m.Model, version: m.ModelVersion) -> list[Block]:
    training = version.training
    params = (
        "\n".join(f"- {_code(key)}: {_inline(value)}" for key, value in training.params.items()) or "None recorded."
    )
    metrics = ["| Evaluation | Metric | Value | Interval |", "|---|---|---:|---|"]
    for metric in headline_metrics(version, groups=False):
        interval = _interval(metric)
        metrics.append(
            f"| {_inline(metric.run.id)} ({metric.run.performance.rows:,} rows) | {_inline(metric.label)} | "
            f"{_cell(metric.value)} | {interval} |"
        )
    groups = ["| Evaluation | Group | Metric | Value | Interval | Rests on |", "|---|---|---|---:|---|---:|"]
    for metric in headline_metrics(version):
        if metric.slice is None:
            continue
        interval = _interval(metric)
        few = f" (**few**: fewer than {metric.min_group_size:,})" if metric.few and metric.min_group_size else ""
        rests_on = f"{metric.rests_on:,} people{few}" if metric.rests_on is not None else ""
        groups.append(
            f"| {_inline(metric.run.id)} | {_inline(metric.slice)} | {_inline(metric.label)} | {_cell(metric.value)} "
            f"| {interval} | {rests_on} |"
        )
    gap_rows = [
        "| Evaluation | Feature | Measure | Value | Interval | Groups behind it |",
        "|---|---|---|---:|---|---|",
    ]
    for gap in gaps(version):
        gap_rows.append(
            f"| {_inline(gap.run.id)} | {_inline(gap.feature)} | {_inline(gap.label)} | {_cell(gap.value)} "
            f"| {_interval(gap)} | {_inline(gap.between)} |"
        )
    found = caveats(manifest, model, version)
    serious = [c for c in found if c.serious]
    governance = (
        f"What the build found, as the version's page on the governance site shows it "
        f"({len(serious):,} serious):\n\n"
        + "\n".join(f"- {'**Serious:** ' if c.serious else ''}{_inline(c.text)}" for c in found)
    )
    monitoring = "No production monitoring is recorded for this version."
    if version.drift is not None and version.drift.windows:
        drift = version.drift
        drifted = sum(1 for w in drift.windows if w.drifted)
        monitoring = (
            f"{len(drift.windows)} monitoring windows ({drift.window}); {drifted} with drift in the inputs or the "
            f"output. Latest window: {drift.windows[-1].start[:10]} to {drift.windows[-1].end[:10]}."
        )
    approvals = "\n".join(_sign_off_line(a) for a in version.approvals) or "No sign-off is recorded."
    return [
        _details(model, version),
        Block("computed", "governance", governance),
        Block(
            "computed",
            "training",
            f"Algorithm: {_code(training.algorithm)}. Training data: "
            f"{', '.join(_inline(d) for d in training.datasets) or 'not recorded'}.\n\n"
            f"Parameters:\n\n{params}",
        ),
        Block("computed", "results", "\n".join(metrics)),
        Block("computed", "group-results", "\n".join(groups) if len(groups) > 2 else "No group metrics."),
        Block(
            "computed", "group-gaps", "\n".join(gap_rows) if len(gap_rows) > 2 else "No gaps between groups measured."
        ),
        Block("computed", "monitoring", monitoring),
        Block("computed", "sign-off", approvals),
        Block(
            "computed",
            "provenance",
            f"Generated by modelgov {manifest.generator.version} from the governance workspace on "
            f"{manifest.built_at}. Every number comes from the manifest of that build.",
        ),
    ]


_LAYOUT = [
    ("# {title}", None),
    (None, "description"),
    ("## Model Details", None),
    (None, "details"),
    ("### Governance status", None),
    (None, "governance"),
    ("## Uses\n\n### Direct Use", None),
    (None, "direct-use"),
    ("### Intended Users", None),
    (None, "intended-users"),
    ("### Out-of-Scope Use", None),
    (None, "out-of-scope-use"),
    ("## Bias, Risks, and Limitations", None),
    (None, "bias-risks-limitations"),
    ("### Recommendations", None),
    (None, "recommendations"),
    ("## Training Details", None),
    (None, "training"),
    ("## Evaluation\n\n### Factors", None),
    (None, "evaluation-factors"),
    ("#### Covered by the evaluation", None),
    (None, "evaluation-coverage"),
    ("### Metrics", None),
    (None, "evaluation-metrics"),
    ("#### Decision threshold", None),
    (None, "decision-threshold"),
    ("#### Uncertainty", None),
    (None, "uncertainty"),
    ("### Results", None),
    (None, "results"),
    ("#### By group", None),
    (None, "group-results"),
    ("#### Gaps between groups", None),
    (None, "group-gaps"),
    ("## Monitoring", None),
    (None, "monitoring"),
    ("## Sign-off", None),
    (None, "sign-off"),
    ("## Model Card Authors", None),
    (None, "provenance"),
]


def _blocks(manifest: m.Manifest, model: m.Model, version: m.ModelVersion) -> dict[str, Block]:
    return {b.name: b for b in [*_text_blocks(model, version), *_computed_blocks(manifest, model, version)]}


def _title(model: m.Model, version: m.ModelVersion) -> str:
    return visible(f"{model.name} {version.version}", keep="")


def _with_missing_blocks(body: str, blocks: dict[str, Block], seen: set[str], title: str) -> str:
    """``body`` with each block it lacks (a README exported before the block existed, or one someone
    removed) put back where the template has it: after the nearest earlier block the README has, under
    its heading unless the README has that heading already; at the end when it has none before it."""
    lines = {line.strip() for line in body.splitlines()}
    for index, (_, name) in enumerate(_LAYOUT):
        if name is None or name in seen:
            continue
        heading = _LAYOUT[index - 1][0] if index else None
        text = blocks[name].render()
        parts = heading.format(title=title).split("\n\n") if heading is not None else []
        has_title = any(line.startswith("# ") for line in lines)  # a README has one title: its own is kept
        if parts and not any(part in lines for part in parts) and not (parts[0].startswith("# ") and has_title):
            text = "\n\n".join(parts) + "\n\n" + text
        before = [earlier for _, earlier in _LAYOUT[:index] if earlier is not None and earlier in seen]
        end = re.search(rf"<!-- /modelgov:(?:text|computed) {before[-1]} -->\n?", body) if before else None
        if end is None:
            body = body.rstrip("\n") + "\n\n" + text + "\n"
        else:
            body = body[: end.end()].rstrip("\n") + "\n\n" + text + "\n\n" + body[end.end() :].lstrip("\n")
        seen.add(name)
    return body


def hf_model_card(manifest: m.Manifest, model: m.Model, version: m.ModelVersion) -> str:
    """A new README.md for the version."""
    blocks = _blocks(manifest, model, version)
    parts = []
    for heading, name in _LAYOUT:
        if heading is not None:
            parts.append(heading.format(title=_title(model, version)))
        else:
            parts.append(blocks[name].render())
    front = yaml.safe_dump(_front_matter(manifest, model, version), sort_keys=False, allow_unicode=True)
    return f"---\n{front}---\n\n" + "\n\n".join(parts) + "\n"


class ReadmeError(ValueError):
    """An existing README that cannot be merged without losing what someone wrote in it."""


def merge_readme(existing: str, manifest: m.Manifest, model: m.Model, version: m.ModelVersion) -> str:
    """``existing`` with its computed blocks and computed front-matter keys brought up to date; its
    text blocks, other keys and anything written outside the blocks are kept. Blocks it lacks are put
    where the template has them (:func:`_with_missing_blocks`)."""
    match = _FRONT.match(existing)
    try:
        front = yaml.safe_load(match.group(1)) if match else {}
    except yaml.YAMLError as exc:
        raise ReadmeError(f"its front matter is not YAML modelgov can read ({' '.join(str(exc).split())})") from None
    if front is None:
        front = {}
    if not isinstance(front, dict):
        # a list or a text would be lost if replaced by the computed keys: the user mends it first
        raise ReadmeError(f"its front matter is a {type(front).__name__}, not a mapping of keys to values")
    body = existing[match.end() :] if match else existing
    fresh = _front_matter(manifest, model, version)
    merged: dict = {}
    for key, value in front.items():  # the README's own order; computed keys take their new values
        if key in COMPUTED_KEYS:
            if key in fresh:
                merged[key] = fresh[key]
        else:
            merged[key] = value
    for key, value in fresh.items():
        merged.setdefault(key, value)
    front = merged
    blocks = _blocks(manifest, model, version)
    seen: set[str] = set()

    def replace(found: re.Match[str]) -> str:
        name = found.group("name")
        seen.add(name)
        if name not in blocks:
            return found.group(0)
        # numbers are always refreshed; text only while it is still a placeholder nobody has written
        if found.group("kind") == "computed" or is_placeholder(found.group("body")):
            return blocks[name].render()
        return found.group(0)

    body = _with_missing_blocks(_BLOCK.sub(replace, body), blocks, seen, _title(model, version))
    dumped = yaml.safe_dump(front, sort_keys=False, allow_unicode=True)
    return f"---\n{dumped}---\n{body if body.startswith(chr(10)) else chr(10) + body}"
