"""Import a Hugging Face model card's front matter and sections into a workspace's ``model.yml``.

The card is parsed with ``huggingface_hub``'s ``ModelCard`` (offline). Its sections are matched by
heading to the card fields (the Hub template's "Direct Use" is ``intended_use.primary_uses``,
"Bias, Risks, and Limitations" is ``ethical_considerations``, and so on; see :data:`SECTIONS`), its
``license`` becomes ``licence`` and its ``tags`` are added to the card's.

**Text people wrote is never overwritten**: a field is filled only when it is empty or still a
placeholder (``TODO: …`` as ``modelgov init`` writes it); a written field is kept and reported.
The Hub template's own filler, "[More Information Needed]", is not imported. The file is edited
line by line, so its comments and layout stay as they were; a placeholder that spans several lines
is reported rather than rewritten.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from modelgov.errors import ModelgovError
from modelgov.inputs import TAG
from modelgov.policy.placeholders import is_placeholder

__all__ = ["SECTIONS", "ImportReport", "card_fields_from_hf", "import_hf_card"]

#: Hub template heading (lower case) → the card field it fills, first match wins.
SECTIONS: dict[str, tuple[str, ...]] = {
    "description": ("model description", "model summary", "model details"),
    "intended_use.primary_uses": ("direct use", "intended uses & limitations", "intended uses"),
    "intended_use.primary_users": ("intended users",),
    "intended_use.out_of_scope": ("out-of-scope use", "out of scope use"),
    "factors.relevant": ("factors",),
    "metrics.performance_measures": ("metrics",),
    "ethical_considerations": ("bias, risks, and limitations", "bias, risks and limitations", "ethical considerations"),
    "caveats": ("recommendations", "limitations", "caveats and recommendations"),
}
_FILLER = re.compile(r"\[more information needed\]", re.I)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


@dataclass
class ImportReport:
    filled: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # already written in model.yml: not overwritten
    skipped: list[str] = field(default_factory=list)  # with the reason


def _sections(text: str) -> dict[str, str]:
    """Heading (lower case) → the text under it up to the next heading of any level."""
    found: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.splitlines():
        heading = _HEADING.match(line)
        if heading:
            current = heading.group(2).strip().lower()
            found.setdefault(current, [])
        elif current is not None:
            found[current].append(line)
    cleaned = {}
    for heading, lines in found.items():
        body = re.sub(r"<!--.*?-->", "", "\n".join(lines), flags=re.S).strip()
        body = _FILLER.sub("", body).strip()
        if body:
            cleaned[heading] = body
    return cleaned


_TEMPLATE_BULLET = re.compile(r"^\s*[-*] \*\*[^*]+:\*\*.*$", re.M)  # "- **Developed by:** …"


def _from_blocks(text: str) -> dict[str, str] | None:
    """The card fields of a README modelgov exported: its text blocks hold one field each."""
    from modelgov.export.hf import _BLOCK, TEXT_BLOCKS

    fields = {}
    for found in _BLOCK.finditer(text):
        if found.group("kind") == "text" and found.group("name") in TEXT_BLOCKS:
            fields[TEXT_BLOCKS[found.group("name")]] = found.group("body").strip()
    return fields or None


def card_fields_from_hf(readme: str) -> tuple[dict[str, str], list[str], str | None]:
    """(card field → text, tags, licence) read from a Hugging Face README: from modelgov's blocks
    when the card was exported by modelgov, else from the Hub template's sections. Text that is
    still a placeholder, or "Not stated in the model card.", is left out."""
    from huggingface_hub import ModelCard

    card = ModelCard(readme, ignore_metadata_errors=True)
    fields = _from_blocks(card.text)
    if fields is None:
        sections = _sections(card.text)
        fields = {}
        for target, headings in SECTIONS.items():
            for heading in headings:
                if heading in sections:
                    text = _TEMPLATE_BULLET.sub("", sections[heading]).strip()
                    if text:
                        fields[target] = re.sub(r"\n{3,}", "\n\n", text)
                        break
    fields = {
        target: text
        for target, text in fields.items()
        if text and not is_placeholder(text) and text != "Not stated in the model card."
    }
    data = card.data
    licence = getattr(data, "license_name", None) or getattr(data, "license", None)
    tags = [str(t) for t in (getattr(data, "tags", None) or []) if str(t) != "modelgov"]
    return fields, tags, str(licence) if licence else None


def _value_line(lines: list[str], path: tuple[str, ...]) -> int | None:
    """Index of the line holding ``path``'s value as ``key: value``, nested keys indented by two
    spaces (as ``modelgov init`` writes them); None when there is no such line."""
    start, end = 0, len(lines)
    for depth, key in enumerate(path):
        prefix = "  " * depth
        pattern = re.compile(rf"^{prefix}{re.escape(key)}:(\s|$)")
        found = next((i for i in range(start, end) if pattern.match(lines[i])), None)
        if found is None or depth == len(path) - 1:
            return found
        start = end = found + 1  # the parent's block: the lines indented under it
        while end < len(lines) and (not lines[end].strip() or lines[end].startswith(prefix + "  ")):
            end += 1
    return None


def import_hf_card(readme_path: Path, model_yml: Path) -> ImportReport:
    """Fill ``model_yml``'s empty and placeholder fields from the card at ``readme_path``."""
    try:
        readme = readme_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelgovError(f"cannot read the model card {readme_path}: {exc}") from None
    if not model_yml.is_file():
        raise ModelgovError(f"{model_yml} does not exist (import into a model created with `modelgov init` or by hand)")
    fields, tags, licence = card_fields_from_hf(readme)
    if licence:
        fields["licence"] = licence
    text = model_yml.read_text(encoding="utf-8")
    current = yaml.safe_load(text) or {}
    lines = text.splitlines()
    report = ImportReport()
    for target, value in fields.items():
        path = tuple(target.split("."))
        existing: object = current
        for key in path:
            existing = existing.get(key) if isinstance(existing, dict) else None
        if isinstance(existing, str) and existing.strip() and not is_placeholder(existing):
            report.kept.append(target)
            continue
        index = _value_line(lines, path)
        if index is None:
            report.skipped.append(f"{target}: no single `{path[-1]}:` line to fill in {model_yml.name}")
            continue
        indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if lines[index].rstrip().endswith(("|", ">", "|-", ">-")) or (
            following.startswith(indent + "  ") and not following.strip().startswith("#")
        ):
            report.skipped.append(f"{target}: its placeholder spans several lines; paste the text by hand")
            continue
        lines[index] = f"{indent}{path[-1]}: {json.dumps(value, ensure_ascii=False)}"
        report.filled.append(target)
    if tags:
        known = current.get("tags") or []
        refused = [t for t in tags if not TAG.fullmatch(t)]  # a tag scopes policies: ASCII only (modelgov.inputs)
        if refused:
            report.skipped.append(
                f"tags {', '.join(map(repr, refused))}: not ASCII letters, digits, '.', '_', '-', ':' or '/'"
            )
        added = [t for t in tags if t not in known and t not in refused]
        index = _value_line(lines, ("tags",))
        if added and index is not None and lines[index].strip().startswith("tags: ["):
            lines[index] = "tags: " + json.dumps([*known, *added], ensure_ascii=False)
            report.filled.append("tags")
    model_yml.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return report
