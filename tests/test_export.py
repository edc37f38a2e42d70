"""Exports, each checked with the format's own library or published schema: Hugging Face model cards
(parsed offline by huggingface_hub), Model Card Toolkit JSON (its v0.0.2 JSON Schema) and CycloneDX
1.6 ML-BOMs (cyclonedx-python-lib's strict validator)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from manifest_factory import make_manifest
from modelgov.cli import main
from modelgov.export.common import gaps, group_slice, headline_metrics
from modelgov.export.cyclonedx import ml_bom, validate
from modelgov.export.hf import hf_model_card, merge_readme
from modelgov.export.mct import mct_model_card
from modelgov.export.write import export
from modelgov.text_safety import quoted_name

huggingface_hub = pytest.importorskip("huggingface_hub", reason="the Hugging Face export test needs huggingface_hub")
MCT_SCHEMA = Path(__file__).parent / "data" / "schemas" / "model-card-toolkit-v0.0.2.schema.json"


@pytest.fixture(scope="module")
def manifest():
    return make_manifest()


@pytest.fixture(scope="module")
def credit(manifest):
    model = next(m for m in manifest.models if m.task == "binary_classification")
    return model, next(v for v in model.versions if v.evaluations)


def overall(version) -> dict[str, float]:
    return {m.name: m.value for run in version.evaluations for m in run.performance.metrics if m.value is not None}


def test_the_hugging_face_card_parses_offline_and_carries_the_evaluation_results(manifest, credit) -> None:
    model, version = credit
    card = huggingface_hub.ModelCard(hf_model_card(manifest, model, version))
    results = card.data.eval_results
    assert results and {r.metric_type for r in results} == set(overall(version))
    for result in results:
        assert result.metric_value == pytest.approx(overall(version)[result.metric_type], abs=1e-6)
        assert result.task_type == "tabular-classification"
        assert result.dataset_split in {run.id for run in version.evaluations}
    assert card.data.model_name == f"{model.name} {version.version}"
    assert "modelgov" in card.data.tags
    assert "## Bias, Risks, and Limitations" in card.text and model.card.caveats.strip()[:40] in card.text


def test_regenerating_a_card_keeps_what_people_wrote_and_refreshes_the_numbers(manifest, credit) -> None:
    model, version = credit
    first = hf_model_card(manifest, model, version)
    edited = (
        first.replace("---\n", "---\nlanguage: en\n", 1).replace(
            model.card.out_of_scope.strip()[:30], "EDITED ON THE HUB: " + model.card.out_of_scope.strip()[:30], 1
        )
        + "\n## Contact\n\nWritten by a person, outside any block.\n"
    )
    run = version.evaluations[0]
    metric = run.performance.metrics[0]
    changed_metric = metric.model_copy(update={"value": 0.123456})
    changed_run = run.model_copy(
        update={
            "performance": run.performance.model_copy(
                update={"metrics": [changed_metric, *run.performance.metrics[1:]]}
            )
        }
    )
    changed_version = version.model_copy(update={"evaluations": [changed_run, *version.evaluations[1:]]})
    merged = merge_readme(edited, manifest, model, changed_version)
    card = huggingface_hub.ModelCard(merged)
    assert card.data.language == "en"  # a key modelgov does not compute is kept
    assert "EDITED ON THE HUB: " in merged  # a text block is never overwritten
    assert "Written by a person, outside any block." in merged
    by_type = {r.metric_type: r.metric_value for r in card.data.eval_results}
    assert by_type[metric.name] == pytest.approx(0.123456)  # computed: refreshed
    assert "| 0.123 |" in merged  # the computed results table too
    assert merge_readme(merged, manifest, model, changed_version) == merged  # stable


def test_a_readme_without_blocks_gets_them_added_and_keeps_its_own_text(manifest, credit) -> None:
    model, version = credit
    merged = merge_readme("# Our model\n\nHand-written introduction.\n", manifest, model, version)
    assert merged.index("Hand-written introduction.") < merged.index("<!-- modelgov:computed results -->")
    assert huggingface_hub.ModelCard(merged).data.eval_results


def test_the_model_card_toolkit_json_validates_against_its_published_schema(manifest) -> None:
    import jsonschema  # here, not when the module is collected: it builds its format parsers on import

    schema = json.loads(MCT_SCHEMA.read_text(encoding="utf-8"))
    for model in manifest.models:
        for version in model.versions:
            document = mct_model_card(manifest, model, version)
            jsonschema.validate(document, schema)
            values = {
                (p["type"], p["slice"]): float(p["value"])
                for p in document["quantitative_analysis"]["performance_metrics"]
            }
            for metric in headline_metrics(version):
                key = (metric.name, metric.scope)
                assert values[key] == pytest.approx(metric.value, rel=1e-5)
    with pytest.raises(jsonschema.ValidationError):  # the schema is closed: the check can fail
        jsonschema.validate({**document, "unexpected": 1}, schema)


def test_the_cyclonedx_bom_is_valid_1_6_with_the_model_card(manifest, credit) -> None:
    model, version = credit
    document = ml_bom(manifest, model, version)
    assert validate(document) is None
    component = document["metadata"]["component"]
    assert component["type"] == "machine-learning-model" and component["version"] == version.version
    metrics = component["modelCard"]["quantitativeAnalysis"]["performanceMetrics"]
    assert {m["type"] for m in metrics if m["slice"].endswith(": all rows")} == set(overall(version))
    datasets = {c["bom-ref"] for c in document["components"]}
    assert {d["ref"] for d in component["modelCard"]["modelParameters"]["datasets"]} == datasets
    assert ml_bom(manifest, model, version) == document  # deterministic
    broken = json.loads(json.dumps(document))
    broken["metadata"]["component"]["type"] = "not-a-type"
    assert validate(broken) is not None


def test_export_writes_every_format_for_every_version(manifest, tmp_path: Path) -> None:
    written = export(manifest, tmp_path)
    versions = sum(len(m.versions) for m in manifest.models)
    assert len(written) == 3 * versions
    assert {p.name for p in written} == {"README.md", "model-card.json", "bom.cdx.json"}


def test_the_command_line_exports_from_a_manifest_and_names_an_unknown_model(
    manifest, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from modelgov import manifest as manifest_io

    path = tmp_path / "manifest.json"
    manifest_io.write(manifest, path)
    model = manifest.models[0]
    code = main(["export", str(path), "-o", str(tmp_path / "out"), "--format", "hf", "--model", model.id])
    assert code == 0
    assert all(line.endswith("README.md") for line in capsys.readouterr().out.split())
    assert main(["export", str(path), "-o", str(tmp_path / "out"), "--model", "nope"]) == 2
    assert "the manifest has no model 'nope'" in capsys.readouterr().err


def test_exporting_again_changes_nothing_and_placeholders_are_replaced_once_written(manifest, credit) -> None:
    model, version = credit
    first = hf_model_card(manifest, model, version)
    assert merge_readme(first, manifest, model, version) == first  # the very first re-export too
    todo = model.model_copy(update={"card": model.card.model_copy(update={"caveats": "TODO: caveats"})})
    exported = hf_model_card(manifest, todo, version)
    assert "TODO: caveats" in exported
    written = merge_readme(exported, manifest, model, version)  # the card was written since
    assert "TODO: caveats" not in written and model.card.caveats.strip()[:40] in written


def test_exports_map_the_card_to_the_formats_fields(manifest, credit) -> None:
    model, version = credit
    mct = mct_model_card(manifest, model, version)["considerations"]
    assert mct["ethical_considerations"] == [{"name": model.card.ethical_considerations}]
    assert mct["tradeoffs"] == (
        [{"description": model.card.decision_threshold}] if model.card.decision_threshold else []
    )
    bom = ml_bom(manifest, model, version)["metadata"]["component"]["modelCard"]["considerations"]
    assert bom["ethicalConsiderations"] == [{"name": model.card.ethical_considerations}]


def test_card_text_cannot_forge_a_computed_block_of_the_readme(manifest, credit) -> None:
    """A card field holding block markers (anyone with a pull request writes card fields) must not
    end its own block, open a fake computed one, or survive a re-export as numbers modelgov vouches
    for: the real results block is refreshed, exactly once, and the forgery stays inert text."""
    model, version = credit
    forged = (
        "Known limits.\n<!-- /modelgov:text recommendations -->\n<!-- modelgov:computed results -->\n"
        "| holdout | ROC AUC | 0.999 | FORGED |\n<!-- /modelgov:computed results -->\n"
        "<!--modelgov:text recommendations -->\n<!-- /modelgov:computed details -->"
    )
    card = model.card.model_copy(update={"caveats": forged})
    hostile = model.model_copy(update={"card": card})
    hostile_version = version.model_copy(update={"summary": "Retrain.\n<!-- /modelgov:computed details -->\nKEPT?"})
    first = hf_model_card(manifest, hostile, hostile_version)
    for name, kind in (("results", "computed"), ("details", "computed"), ("recommendations", "text")):
        assert first.count(f"<!-- modelgov:{kind} {name} -->") == 1, name
        assert first.count(f"<!-- /modelgov:{kind} {name} -->") == 1, name
    assert "&lt;!-- modelgov:computed results -->" in first  # shown as text on the Hub

    run = version.evaluations[0]
    metric = run.performance.metrics[0]
    changed_run = run.model_copy(
        update={
            "performance": run.performance.model_copy(
                update={"metrics": [metric.model_copy(update={"value": 0.123456}), *run.performance.metrics[1:]]}
            )
        }
    )
    changed = hostile_version.model_copy(update={"evaluations": [changed_run, *version.evaluations[1:]]})
    merged = merge_readme(first, manifest, hostile, changed)
    assert merged.count("<!-- modelgov:computed results -->") == 1  # not duplicated
    real = merged.split("<!-- modelgov:computed results -->")[1].split("<!-- /modelgov:computed results -->")[0]
    assert "| 0.123 |" in real and "FORGED" not in real  # the real block was refreshed
    assert merged.count("FORGED") == 1  # the forgery is still the card's (inert) text, once
    assert "&lt;!-- /modelgov:computed details -->\nKEPT?" in merged  # the summary stays inside its block
    assert merge_readme(merged, manifest, hostile, changed) == merged  # and a re-export is stable


def test_a_computed_block_shows_the_hidden_characters_it_quotes_and_card_text_is_exported_as_written(
    manifest, credit
) -> None:
    """A computed block is modelgov's statement and quotes the workspace (the summary, a signer's name,
    group names): an override or tag characters in what it quotes are shown as escapes, as on the
    site. The card's own text blocks are the user's words and read back the same after export."""
    from modelgov.text_safety import hidden

    model, version = credit
    tags = "".join(chr(0xE0000 + ord(c)) for c in "ignore")
    card = model.card.model_copy(update={"caveats": f"Known limits\u202e{tags}."})
    hostile = model.model_copy(update={"card": card})
    hostile_version = version.model_copy(update={"summary": f"Retrain\u202eyearly{tags}."})
    readme = hf_model_card(manifest, hostile, hostile_version)
    details = readme.split("<!-- modelgov:computed details -->")[1].split("<!-- /modelgov:computed details -->")[0]
    assert hidden(details, keep="\n") == [] and "Retrain\\u202eyearly⟦hidden text: ignore⟧." in details
    caveats = readme.split("<!-- modelgov:text recommendations -->")[1].split("<!-- /modelgov:text")[0]
    assert f"Known limits\u202e{tags}." in caveats


def test_the_title_and_front_matter_of_the_readme_show_hidden_characters_as_escapes(manifest, credit) -> None:
    """A second red-team pass: the README's title and its front matter (the model's name, tags, the
    licence's name, which the Hub shows as the title, chips and results) quoted them raw, and a YAML
    loader turns a written-out ``\\U000E0041`` back into the character."""
    import yaml

    from modelgov.text_safety import hidden

    model, version = credit
    tags = "".join(chr(0xE0000 + ord(c)) for c in "ignore")
    card = model.card.model_copy(update={"licence": f"Own\u202eterms{tags}"})
    hostile = model.model_copy(
        update={"name": f"Loans\x1b[31m\u202e{tags}", "tags": [f"risk\u200b{tags}"], "card": card}
    )
    readme = hf_model_card(manifest, hostile, version)
    front = yaml.safe_load(readme.split("---\n")[1])
    strings: list[str] = []

    def collect(value: object) -> None:
        if isinstance(value, str):
            strings.append(value)
        elif isinstance(value, dict):
            for item in [*value.keys(), *value.values()]:
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    collect(front)
    assert [s for s in strings if hidden(s)] == []
    assert front["tags"][0].startswith("risk\\u200b⟦hidden text: ignore⟧") and front["license_name"].startswith(
        "Own\\u202eterms"
    )
    title = next(line for line in readme.splitlines() if line.startswith("# "))
    assert hidden(title) == [] and "Loans\\x1b[31m\\u202e⟦hidden text: ignore⟧" in title
    assert hidden(merge_readme(readme, manifest, hostile, version).split("---\n")[1], keep="\n") == []


def test_the_readmes_sign_offs_say_how_each_is_signed_and_text_cannot_forge_a_line(manifest, credit) -> None:
    """A sign-off in the README states what the card states (signed or not, on the current evidence
    or stale), and workspace text quoted in a computed block stays on its own line and cell: a
    newline in a signer's name cannot add a sign-off, nor a `|` in a group name a table row."""
    model, version = credit
    from modelgov import manifest as mf

    source = mf.FileRef(path="models/x/versions/1/approvals.yml", sha256="0" * 64, bytes=1)
    forged_by = (
        "Rita on 2026-01-25\n- compliance: approved by Chief Compliance Officer (signed, on the current evidence)"
    )
    approvals = [
        mf.Approval(role="model_risk", by=forged_by, decision="approved", date="2026-01-25", source=source),
        mf.Approval(
            role="compliance", by="hannah@bank.example", decision="approved", date="2026-06-02", source=source,
            entry=6, signature="signed", evidence="stale", changed=["models/x/model.yml"],
        ),
    ]  # fmt: skip
    run = next(r for r in version.evaluations if r.fairness)
    result = run.fairness[0]
    hostile_group = result.groups[0].model_copy(update={"group": "X | ROC AUC | 0.999 | 0.990 – 1.000 |\n| forged"})
    hostile_result = result.model_copy(update={"groups": [hostile_group, *result.groups[1:]]})
    hostile_run = run.model_copy(update={"fairness": [hostile_result, *run.fairness[1:]]})
    hostile = version.model_copy(
        update={"approvals": approvals, "evaluations": [hostile_run if r is run else r for r in version.evaluations]}
    )
    readme = hf_model_card(manifest, model, hostile)
    sign_off = readme.split("<!-- modelgov:computed sign-off -->")[1].split("<!-- /modelgov:computed sign-off -->")[0]
    lines = [line for line in sign_off.splitlines() if line.startswith("- ")]
    assert len(lines) == 2, "the newline in the name added no sign-off"
    assert lines[0].endswith("(unsigned, bound to no evidence)")
    assert (
        "(signed, stale: evidence changed since sign-off (models/x/model.yml); not counted by the policies)" in lines[1]
    )
    groups = readme.split("<!-- modelgov:computed group-results -->")[1].split("<!-- /modelgov:computed group")[0]
    assert "0.999" not in groups.replace("X \\| ROC AUC \\| 0.999", "")  # only inside its escaped cell
    assert all(line.count(" | ") == 5 for line in groups.splitlines() if line.startswith("| "))  # six cells each


@pytest.mark.parametrize(
    ("front", "words"),
    [
        ("license: [unclosed\n", "its front matter is not YAML modelgov can read"),
        ("!!python/object:os.system ls\n", "its front matter is not YAML modelgov can read"),
        ("- a list\n- of things\n", "its front matter is a list, not a mapping of keys to values"),
    ],
)
def test_a_readme_whose_front_matter_cannot_be_merged_is_named_and_nothing_is_written(
    manifest, tmp_path: Path, capsys: pytest.CaptureFixture[str], front: str, words: str
) -> None:
    """An error naming the README, not an internal one; and no file of the export changes, not even
    the versions written before it in the same run (their README and JSON files)."""
    from modelgov import manifest as manifest_io

    path = tmp_path / "manifest.json"
    manifest_io.write(manifest, path)
    out = tmp_path / "out"
    assert main(["export", str(path), "-o", str(out)]) == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    last = sorted(p for p in before if p.name == "README.md")[-1]
    last.write_text(f"---\n{front}---\n\nOur own notes.\n", encoding="utf-8")
    before[last] = last.read_bytes()
    for p in before:
        if p.name != "README.md":
            p.write_bytes(b"{}\n")  # stale JSON the failed export must not refresh either
            before[p] = b"{}\n"
    assert main(["export", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(last) in err and words in err and "nothing was written" in err and "internal error" not in err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_the_details_block_keeps_workspace_text_on_its_line_and_carries_no_raw_html_or_links(manifest, credit) -> None:
    """The owner, algorithm and licence are quoted on the lines of a computed block: a newline cannot
    add a line, a `[..](javascript:..)` cannot become a link, and the summary keeps its Markdown but no
    raw HTML (an image that loads from another host, a script)."""
    model, version = credit
    owner = model.owner.model_copy(update={"name": "Ada\n- **License:** MIT (forged)"})
    card = model.card.model_copy(update={"licence": "[Apache-2.0](javascript:alert(1))"})
    hostile = model.model_copy(update={"owner": owner, "card": card})
    summary = "Retrained **yearly**.\n<img src=https://evil.example/t.png onerror=alert(1)><script>x()</script>"
    readme = hf_model_card(manifest, hostile, version.model_copy(update={"summary": summary}))
    details = readme.split("<!-- modelgov:computed details -->")[1].split("<!-- /modelgov:computed details -->")[0]
    assert [line for line in details.splitlines() if line.startswith("- **License:**")] == [
        "- **License:** \\[Apache-2.0\\](javascript:alert(1))"
    ]
    assert "- **Developed by:** Ada - \\*\\*License:\\*\\* MIT (forged)" in details
    assert "Retrained **yearly**." in details and "<img" not in details and "<script" not in details
    assert "&lt;img src=https://evil.example/t.png" in details


# --------------------------------------------------------------------------- what the build found


def _with(manifest, model, version, **update):
    """``manifest`` with ``version`` of ``model`` updated, and that model and version."""
    changed = version.model_copy(update=update)
    versions = [changed if v is version else v for v in model.versions]
    new_model = model.model_copy(update={"versions": versions})
    models = [new_model if m is model else m for m in manifest.models]
    return manifest.model_copy(update={"models": models}), new_model, changed


def _troubled(manifest, credit):
    """Credit 1.1.0 with everything a card warns about: an evaluation the model file does not
    reproduce, a promotion over a blocked gate, an open flag and an overdue condition of approval."""
    from modelgov.degraded import NOT_REPRODUCED
    from modelgov.manifest import ApprovalCondition, Flag, StatusChange

    model, version = credit
    run = version.evaluations[0]
    explained = run.explainability.model_copy(
        update={"notes": [*run.explainability.notes, f"{NOT_REPRODUCED}: 412 of 5,000 predictions differ."]}
    )
    runs = [run.model_copy(update={"explainability": explained}), *version.evaluations[1:]]
    flag = Flag(
        id="0123456789ab", entry=7, by="Ines Duarte", time="2024-07-20T09:00:00Z", scope="version",
        text="Arrears in the north region are twice what the model predicts.", state="open", age_days=45,
    )  # fmt: skip
    condition = ApprovalCondition(text="Re-validate the 66+ age band", due="2024-06-30")
    approvals = [version.approvals[0].model_copy(update={"conditions": [condition]}), *version.approvals[1:]]
    change = StatusChange(
        entry=9, by="Carlos Ruiz", date="2024-05-10", from_status="staging", to_status="production",
        override_reason="Quarter-end deadline", overridden_rules=["sign-offs-complete"],
    )  # fmt: skip
    return _with(manifest, model, version, evaluations=runs, flags=[flag], approvals=approvals, status_change=change)


def _texts_of_every_format(manifest, model, version) -> dict[str, str]:
    """What each export says beyond the card's own text: the README's governance block, the BOM's
    limitations and properties, the toolkit file's limitations."""
    readme = hf_model_card(manifest, model, version)
    start = readme.index("<!-- modelgov:computed governance -->")
    block = readme[start : readme.index("<!-- /modelgov:computed governance -->")]
    component = ml_bom(manifest, model, version)["metadata"]["component"]
    bom = "\n".join(
        [
            *component["modelCard"]["considerations"]["technicalLimitations"],
            *(p["value"] for p in component["properties"]),
        ]
    )
    limits = mct_model_card(manifest, model, version)["considerations"]["limitations"]
    return {"readme": block, "cyclonedx": bom, "mct": "\n".join(item["description"] for item in limits)}


def test_every_export_says_what_the_site_warns_about_the_version(manifest, credit) -> None:
    """An export is read without the site: the verdict, an evaluation the model file did not score, a
    promotion over a blocked gate, an open flag, an overdue condition and a small group are in every
    format, as the version's page shows them; a version without them has none of those words."""
    troubled, model, version = _troubled(manifest, credit)
    for name, said in _texts_of_every_format(troubled, model, version).items():
        flat = " ".join(said.split()).replace("\\", "")
        verdict = f"Policy verdict on {troubled.governance.as_of}: error (this version's results block a release)."
        assert verdict in flat, name  # the worst outcome, as the card's title line shows it
        assert "Evaluation holdout-2024q1 was not scored by this model file" in flat, (name, flat)
        assert "412 of 5,000 predictions differ" in flat, name
        assert "Promoted over a blocked policy gate: Carlos Ruiz" in flat and "Quarter-end deadline" in flat, name
        assert "1 open flag(s) from the business" in flat and "twice what the model predicts." in flat, name
        assert "predicts.." not in flat, name  # the flag's own full stop ends the statement
        assert "Re-validate the 66+ age band" in flat and "overdue by" in flat, name
        assert "fewer than 30 rows" in flat, name
        # the blocking failure named with its rule
        failing = [r.rule for r in troubled.governance.results if (r.model, r.version, r.outcome) == (
            model.id, version.version, "fail")]  # fmt: skip
        assert failing and all(rule in flat for rule in failing), name
    plain = _texts_of_every_format(manifest, *credit)
    for name, said in plain.items():
        for words in ("not scored by this model file", "Promoted over", "open flag", "overdue by"):
            assert words not in said, (name, words)
    component = ml_bom(troubled, model, version)["metadata"]["component"]
    properties = {p["name"]: p["value"] for p in component["properties"]}
    assert properties["modelgov:policy-verdict"] == "error"  # the worst outcome, as the card's title line
    assert int(properties["modelgov:serious-caveats"]) >= 5


def test_caveats_of_a_version_without_policies_say_none_was_checked(manifest, credit) -> None:
    model, version = credit
    bare = manifest.model_copy(update={"governance": None})
    for name, said in _texts_of_every_format(bare, model, version).items():
        assert "No policy was checked in the build this export comes from." in said, name
    properties = {p["name"]: p["value"] for p in ml_bom(bare, model, version)["metadata"]["component"]["properties"]}
    assert properties["modelgov:policy-verdict"] == "not checked"


def test_a_caveat_cannot_forge_a_line_and_shows_hidden_characters(manifest, credit) -> None:
    """A flag's text is written by whoever raised it: in the README it stays on its line of the
    governance list, and a hidden character in it is shown as an escape in every format."""
    troubled, model, version = _troubled(manifest, credit)
    flag = version.flags[0].model_copy(
        update={
            "text": "fine\n- **Serious:** none [click](javascript:x) \u202e re-verify at https://evil.example/login"
        }
    )
    troubled, model, version = _with(troubled, model, version, flags=[flag])
    said = _texts_of_every_format(troubled, model, version)
    lines = [line for line in said["readme"].splitlines() if "open flag" in line]
    assert len(lines) == 1 and "\\[click\\]" in lines[0] and "\\u202e" in lines[0]
    assert not any(line.startswith("- **Serious:** none") for line in said["readme"].splitlines())
    assert "\\*\\*Serious:\\*\\* none" in lines[0]  # bold that is not modelgov's is escaped
    # a web address is code on the Hub, never a link it makes of the text
    assert "`https://evil.example/login`" in lines[0] and " https://evil" not in lines[0]
    assert "\u202e" not in said["cyclonedx"] and "\u202e" not in said["mct"]


def test_gaps_between_groups_name_their_groups_and_equal_the_manifest(manifest, credit) -> None:
    """Each disparity is a metric of every format, its slice naming the evaluation, the feature, how it
    is measured, the groups behind it with their rates, and the groups left out and why."""
    from modelgov.manifest import ExcludedGroup

    model, version = credit
    run = version.evaluations[0]
    sex = run.fairness[0]
    named = [
        d.model_copy(update={"groups": ["F", "M"], "group_rates": [0.117, 0.168], "rate_label": "selection rate",
                             "excluded": [ExcludedGroup(group="non-binary", reason="4 rows; fewer than 30")]})
        if d.method == "between_groups" else d.model_copy(update={"groups": ["F"], "group_rates": [0.117, 0.146]})
        for d in sex.disparities
    ]  # fmt: skip
    fairness = [sex.model_copy(update={"disparities": named}), *run.fairness[1:]]
    runs = [run.model_copy(update={"fairness": fairness}), *version.evaluations[1:]]
    manifest, model, version = _with(manifest, model, version, evaluations=runs)
    expected = [
        (run.id, result.feature, d, max(1, len(result.features))) for run in version.evaluations for result in run.fairness
        for d in result.disparities if d.value is not None
    ]  # fmt: skip
    assert expected
    metrics = ml_bom(manifest, model, version)["metadata"]["component"]["modelCard"]["quantitativeAnalysis"]
    by_slice = {(p["type"], p["slice"]): p for p in metrics["performanceMetrics"]}
    toolkit = mct_model_card(manifest, model, version)["quantitative_analysis"]["performance_metrics"]
    toolkit_by_slice = {(p["type"], p["slice"]): p for p in toolkit}
    readme = hf_model_card(manifest, model, version)
    for run_id, feature, disparity, joined in expected:
        how = "of " if disparity.method == "to_overall" else "between "
        (key,) = [
            k
            for k in by_slice
            if k[0] == disparity.name
            and k[1].startswith(f"{quoted_name(run_id)}: {quoted_name(feature, parts=joined)}, {how}")
        ]
        assert float(by_slice[key]["value"]) == pytest.approx(disparity.value, rel=1e-5)
        assert float(toolkit_by_slice[key]["value"]) == pytest.approx(disparity.value, rel=1e-5)
        for group, rate in zip(disparity.groups, disparity.group_rates, strict=False):
            assert (
                f"{group_slice(feature, group, parts=joined)} ({rate:.3g})" in key[1]
            )  # the groups behind the gap, with their rates
        assert ("to all rows" in key[1]) is (disparity.method == "to_overall")
        if disparity.interval is not None and disparity.interval.low is not None:
            assert float(by_slice[key]["confidenceInterval"]["lowerBound"]) == pytest.approx(disparity.interval.low)
        assert f"| {disparity.label} | {disparity.value:.3f} |" in readme
    slices = [k[1] for k in by_slice]
    assert (
        "holdout-2024q1: sex, between sex=F (0.117) and sex=M (0.168), by selection rate; 1 group(s) left out: "
        "sex=non-binary (4 rows; fewer than 30)" in slices
    )
    assert "holdout-2024q1: sex, of sex=F (0.117) to all rows (0.146)" in slices
    assert "| holdout-2024q1 | sex | Demographic parity difference | 0.051 |" in readme


def test_names_of_several_words_are_quoted_so_one_group_cannot_read_as_two(manifest, credit) -> None:
    """A group, a feature and an evaluation are named by the workspace. Written bare in a slice, a
    group called ``F (0.5) and sex=M`` read as two groups with a rate that is not there; a name of
    more than one word is now quoted (with a quote inside it escaped), in every format."""
    from modelgov.manifest import ExcludedGroup

    model, version = credit
    run = version.evaluations[0]
    sex = run.fairness[0]
    forged = "F (0.5) and sex=M"
    between = next(d for d in sex.disparities if d.method == "between_groups")
    disparity = between.model_copy(
        update={"groups": [forged, "M"], "group_rates": [0.117, 0.168], "rate_label": None,
                "excluded": [ExcludedGroup(group='x" (3 rows)', reason="4 rows; fewer than 30")]}
    )  # fmt: skip
    groups = [sex.groups[0].model_copy(update={"group": forged}), *sex.groups[1:]]
    small = groups[0].model_copy(update={"group": "tiny group", "small": True, "absent": False, "count": 3})
    feature = "sex at birth"
    result = sex.model_copy(update={"feature": feature, "disparities": [disparity], "groups": [*groups, small]})
    runs = [run.model_copy(update={"id": "hold out", "fairness": [result]}), *version.evaluations[1:]]
    manifest, model, version = _with(manifest, model, version, evaluations=runs)

    (gap,) = [g for g in gaps(version) if g.run.id == "hold out"]
    assert gap.scope == (
        '"hold out": "sex at birth", between "sex at birth"="F (0.5) and sex=M" (0.117) and "sex at birth"=M '
        '(0.168); 1 group(s) left out: "sex at birth"="x\\" (3 rows)" (4 rows; fewer than 30)'
    )
    slices = {m.slice for m in headline_metrics(version) if m.run.id == "hold out"}
    assert '"sex at birth"="F (0.5) and sex=M"' in slices and '"sex at birth"=male' in slices
    said = _texts_of_every_format(manifest, model, version)
    for name, text in said.items():
        assert 'Evaluation "hold out", "sex at birth": 1 group(s) with fewer than' in text, name
        assert '"tiny group" (3 rows)' in text, name
    bom = ml_bom(manifest, model, version)["metadata"]["component"]["modelCard"]["quantitativeAnalysis"]
    assert gap.scope in {p["slice"] for p in bom["performanceMetrics"]}
    assert all("F (0.5) and sex=M (" not in p["slice"] for p in bom["performanceMetrics"])  # never bare


def test_every_metric_names_the_evaluation_it_comes_from(manifest, credit) -> None:
    """Credit 1.1.0 has two evaluations with the same metrics: each figure says which one it is from,
    so none stands for the other and each can be traced to its table."""
    model, version = credit
    runs = {run.id for run in version.evaluations}
    assert len(runs) == 2
    bom = ml_bom(manifest, model, version)["metadata"]["component"]["modelCard"]["quantitativeAnalysis"]
    toolkit = mct_model_card(manifest, model, version)["quantitative_analysis"]["performance_metrics"]
    for metrics in (bom["performanceMetrics"], toolkit):
        keys = [(p["type"], p["slice"]) for p in metrics]
        assert len(keys) == len(set(keys))  # no two figures share a name and a slice
        assert all(slice_.split(": ", 1)[0] in runs for _, slice_ in keys)
        for metric in headline_metrics(version):
            (entry,) = [p for p in metrics if (p["type"], p["slice"]) == (metric.name, metric.scope)]
            assert float(entry["value"]) == pytest.approx(metric.value, rel=1e-5)


def test_two_boms_that_differ_never_share_a_serial_number(manifest, credit) -> None:
    """Under a fixed build time (SOURCE_DATE_EPOCH), BOMs of different evidence had one serial
    number; now it follows the contents: the same BOM keeps its number, a changed one gets another."""
    model, version = credit
    first = ml_bom(manifest, model, version)
    assert ml_bom(manifest, model, version)["serialNumber"] == first["serialNumber"]
    run = version.evaluations[0]
    metric = run.performance.metrics[0].model_copy(update={"value": 0.5})
    performance = run.performance.model_copy(update={"metrics": [metric, *run.performance.metrics[1:]]})
    changed, model2, version2 = _with(
        manifest,
        model,
        version,
        evaluations=[run.model_copy(update={"performance": performance}), *version.evaluations[1:]],
    )
    second = ml_bom(changed, model2, version2)
    assert changed.built_at == manifest.built_at and second["serialNumber"] != first["serialNumber"]
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", second["serialNumber"]) and validate(second) is None


def test_the_demos_exports_carry_its_credit_models_warnings_as_its_card_does(demo_build, tmp_path: Path) -> None:
    """On the bundled example's real manifest: the credit model's live version has an open flag from
    the business and an overdue condition of approval, which its card's title line counts; every
    export of it says both, and names the groups behind each gap as the fairness page does."""
    from modelgov import manifest as manifest_io

    built = manifest_io.read(demo_build.site / "manifest.json")
    model = next(m for m in built.models if m.id == "credit-default")
    version = next(v for v in model.versions if v.version == "1.1")
    card = (demo_build.site / "models" / "credit-default" / "1.1" / "index.html").read_text(encoding="utf-8")
    assert "open flag" in card and "condition of approval overdue" in card
    flag = next(f for f in version.flags if f.state == "open")
    for name, said in _texts_of_every_format(built, model, version).items():
        flat = " ".join(said.split()).replace("\\", "")
        assert "1 open flag(s) from the business" in flat and " ".join(flag.text.split())[:40] in flat, name
        assert "condition(s) of approval not met past their due date" in flat, name
        unquoted = flat.replace("`", "")  # the README writes an e-mail address as code
        assert (
            "3 sign-off(s) stale, so no policy counts them: the latest model_owner sign-off" in unquoted
            and "the latest model_risk sign-off (priya.raman@acme.example, 2025-02-14): evidence changed since sign-off"
            in unquoted
            and "2025-02-20): evaluated again since sign-off" in unquoted
        ), name
    gaps_named = [
        p["slice"] for p in ml_bom(built, model, version)["metadata"]["component"]["modelCard"]["quantitativeAnalysis"][
            "performanceMetrics"] if p["type"].endswith(("_difference", "_ratio"))
    ]  # fmt: skip
    assert gaps_named and all("not recorded" not in s for s in gaps_named)  # a real build records the groups
    written = export(built, tmp_path, model_id="credit-default", version="1.1")
    assert all(validate(json.loads(p.read_text())) is None for p in written if p.name == "bom.cdx.json")


def test_a_readme_exported_before_a_block_existed_gets_it_where_the_template_has_it(manifest, credit) -> None:
    """The governance status and the gaps between groups came after the first READMEs were exported:
    a refresh puts each under its heading after the block that precedes it in the template, not at the
    end of the README where a reader of the card would never look; a README's own title stays its one."""
    model, version = credit
    full = hf_model_card(manifest, model, version)
    old = full
    for heading, name in (("### Governance status", "governance"), ("#### Gaps between groups", "group-gaps")):
        start = old.index(heading)
        end = old.index(f"<!-- /modelgov:computed {name} -->") + len(f"<!-- /modelgov:computed {name} -->\n\n")
        old = old[:start] + old[end:]
    assert "Governance status" not in old and "modelgov:computed group-gaps" not in old
    assert merge_readme(old, manifest, model, version) == full  # back in place, headings and all
    merged = merge_readme("# Our model\n\nHand-written introduction.\n", manifest, model, version)
    assert merged.count("\n# ") == 1 and merged.split("---\n", 2)[2].lstrip().startswith("# Our model")
    assert merged.index("### Governance status") < merged.index("### Results")


def test_the_verdict_names_the_blocking_rules_first_however_many_are_not_met(manifest, credit) -> None:
    """A version with six warnings and one failure: the failure is named, whatever the report's order,
    before the count of the rest."""
    from modelgov.render.caveat_views import caveats

    model, version = credit
    report = manifest.governance
    template = next(r for r in report.results if (r.model, r.version) == (model.id, version.version))
    mine = [
        template.model_copy(update={"rule": f"minor-{i}", "severity": "warning", "outcome": "warn", "message": f"x{i}"})
        for i in range(6)
    ]
    mine.append(template.model_copy(update={"rule": "the-blocker", "severity": "blocking", "outcome": "fail"}))
    others = [r for r in report.results if (r.model, r.version) != (model.id, version.version)]
    changed = manifest.model_copy(update={"governance": report.model_copy(update={"results": [*others, *mine]})})
    (said,) = [c.text for c in caveats(changed, model, version) if c.kind == "verdict"]
    assert f"7 rule(s) not met: {template.policy}/the-blocker (fail" in said and "and 2 more" in said
    # rules that fail for one reason (the same sign-off, in several packs) are named together, the reason once
    same = [r.model_copy(update={"message": "the same reason"}) for r in mine[:6]]
    report = report.model_copy(update={"results": [*others, *same, mine[6]]})
    (said,) = [
        c.text
        for c in caveats(changed.model_copy(update={"governance": report}), model, version)
        if c.kind == "verdict"
    ]
    names = ", ".join(f"{template.policy}/minor-{i}" for i in range(6))
    assert f"{names} (warning: the same reason)" in said and said.count("the same reason") == 1


def test_the_exports_carry_a_predating_sign_off_an_unaccepted_override_and_a_forged_promotion_record(
    manifest, credit
) -> None:
    """What the card shows as a warning or a danger box is a serious caveat of every export."""
    from modelgov.manifest import Promotion, StatusChange

    model, version = credit
    predating = version.approvals[0].model_copy(update={"predates": ["holdout-2024q1 (2024-06-01)"]})
    change = StatusChange(
        entry=9, by="Carlos Ruiz", date="2024-05-10", from_status="staging", to_status="production",
        override_reason="Quarter-end deadline", overridden_rules=["sign-offs-complete"], signature="invalid",
        signature_problem="the key is not allowed to sign as override",
    )  # fmt: skip
    promotion = Promotion(
        entry=9, by="Carlos Ruiz", time="2024-05-10T09:00:00Z", to_status="production",
        record_problems=["model_risk: the record says approved, entry 3 says pending"],
    )  # fmt: skip
    changed, model, version = _with(
        manifest, model, version, approvals=[predating, *version.approvals[1:]], status_change=change,
        promotions=[promotion],
    )  # fmt: skip
    for name, said in _texts_of_every_format(changed, model, version).items():
        flat = " ".join(said.split()).replace("\\", "")
        assert "1 sign-off(s) dated before evaluations they bind" in flat, name
        assert (
            f"the {predating.role} sign-off by {predating.by} on {predating.date} binds holdout-2024q1 (2024-06-01)"
            in flat
        )
        assert "The entry's signature is not accepted (the key is not allowed to sign as override)" in flat, name
        assert (
            "1 promotion record(s) whose sign-offs are not the audit log's: the promotion to production "
            "(audit entry 9, not signed): model_risk: the record says approved, entry 3 says pending" in flat
        ), name


def test_a_version_no_policy_was_checked_on_is_said_to_be_so_not_passed(manifest) -> None:
    """The card's title line shows no verdict for a version without results; the exports say "not
    checked", never "not applicable", which reads as a pass."""
    model = next(m for m in manifest.models if m.id == "credit-default")
    version = next(v for v in model.versions if v.version == "1.1.0")
    others = [r for r in manifest.governance.results if (r.model, r.version) != (model.id, version.version)]
    changed = manifest.model_copy(update={"governance": manifest.governance.model_copy(update={"results": others})})
    properties = {p["name"]: p["value"] for p in ml_bom(changed, model, version)["metadata"]["component"]["properties"]}
    assert properties["modelgov:policy-verdict"] == "not checked"
    for name, said in _texts_of_every_format(changed, model, version).items():
        assert "No policy was checked on this version" in said, name


def test_a_slice_shows_the_hidden_characters_of_a_group_name(manifest, credit) -> None:
    """A group's name is workspace text: in the JSON formats' slices, a right-to-left override in it is
    an escape, as on the site, not a character that reorders what a reader sees."""
    model, version = credit
    run = version.evaluations[0]
    sex = run.fairness[0]
    groups = [sex.groups[0].model_copy(update={"group": "F\u202eM"}), *sex.groups[1:]]
    fairness = [sex.model_copy(update={"groups": groups}), *run.fairness[1:]]
    changed, model, version = _with(
        manifest, model, version, evaluations=[run.model_copy(update={"fairness": fairness}), *version.evaluations[1:]]
    )
    bom = ml_bom(changed, model, version)["metadata"]["component"]["modelCard"]["quantitativeAnalysis"]
    toolkit = mct_model_card(changed, model, version)["quantitative_analysis"]["performance_metrics"]
    for metrics in (bom["performanceMetrics"], toolkit):
        slices = [p["slice"] for p in metrics]
        assert not any("\u202e" in s for s in slices) and any('sex="F\\u202eM"' in s for s in slices)


@pytest.mark.parametrize("run", ["a", "a.", "a@", "ab+", "www.", "x://"])
def test_quoting_a_flags_longest_text_takes_linear_time(run: str) -> None:
    """A flag's text can fill an audit line (256 KB). Finding the web and e-mail addresses in it
    searched a long run of letters or dots again from each of its characters: 20,000 of them took
    1-3 s, the whole line minutes. Each search now starts only where a run starts: well under a
    second, with room for a slow machine (the quadratic search needed minutes)."""
    import time

    from modelgov.export.hf import _inline

    text = run * (256_000 // len(run))
    started = time.perf_counter()
    quoted = _inline(text)
    assert time.perf_counter() - started < 5 and len(quoted) >= len(text)


def test_the_site_and_the_policies_quote_a_group_name_of_several_words() -> None:
    """The same quoting in the site's sentences (shadow tests, the comparison's groups behind a gap)
    and in a comparison rule's message: one group cannot pass for two. An intersection's name,
    whose parts modelgov joins with `` × ``, stays as it is."""
    from modelgov.manifest import DisparityDelta, Interval, ShadowFeature, ShadowGap, ShadowGroup
    from modelgov.policy.comparison_evidence import _behind
    from modelgov.render.comparison_views import behind_text
    from modelgov.render.shadow_views import groups_sentence

    forged = "F (10.0 %) and M"
    assert quoted_name("F × 18-29", parts=2) == "F × 18-29"
    assert quoted_name("sex × age_band", parts=2) == "sex × age_band"
    # an intersection's group whose value holds " × " has another count of parts: quoted
    assert (
        quoted_name('"F × 18-29" × 30-44', parts=2).startswith('"')
        and quoted_name("F × 18-29 × 30-44", parts=2)[0] == '"'
    )
    # a plain feature's group spelt like an intersection does not read as one; modelgov's own group of
    # missing values is one word, alone and in an intersection
    assert quoted_name("north × south") == '"north × south"'
    assert quoted_name("(missing)") == "(missing)" and quoted_name("F × (missing)", parts=2) == "F × (missing)"
    assert quoted_name('a "b" \\ c') == '"a \\"b\\" \\\\ c"'
    delta = DisparityDelta(
        name="demographic_parity_difference", label="Demographic parity difference", method="between_groups",
        this=0.1, other=0.05, delta=0.05, this_groups=[forged, "M"], other_groups=["F", "M"],
    )  # fmt: skip
    assert _behind(delta) == ' (between "F (10.0 %) and M" and M; before, F and M)'
    assert behind_text(delta, "1.0") == '"F (10.0 %) and M" and M (in 1.0: F and M)'
    interval = Interval(low=0.01, high=0.09, level=0.95, resamples=0, method="m")
    gap = ShadowGap(
        high_group=forged, low_group="M", high_rate=0.2, low_rate=0.1, value=0.1, interval=interval, pairs=1
    )
    groups = [ShadowGroup(group=g, requests=100, decided=100, agreement=0.9) for g in (forged, "M")]
    sentence = groups_sentence(ShadowFeature(feature="sex at birth", groups=groups, max_change_gap=gap))
    shown = html.unescape(sentence)  # the page's entity for a quote
    assert shown.startswith('By "sex at birth", the challenger changes decisions for "F (10.0 %) and M" 10.0%')
    assert 'between "F (10.0 %) and M" (20.0%) and M (10.0%)' in shown


def test_the_readmes_group_table_says_what_each_rate_rests_on_and_marks_the_few(manifest, credit) -> None:
    """The README copies the card's promise that a rate resting on fewer than the minimum is marked:
    its group table now gives each rate's denominator (the group's rows, its actual positives …) and
    marks the few, as the site does; a small group marks every rate."""
    model, version = credit
    readme = hf_model_card(manifest, model, version)
    rows = [line for line in readme.splitlines() if line.startswith("| ") and " people" in line]
    assert rows
    for metric in headline_metrics(version):
        if metric.slice is None:
            continue
        (group,) = [
            g for r in metric.run.fairness for g in r.groups
            if group_slice(r.feature, g.group, parts=max(1, len(r.features))) == metric.slice
        ]  # fmt: skip
        expected = group.denominators.get(metric.name, group.count)
        few = group.small or metric.name in group.few
        assert metric.rests_on == expected and metric.few is few
    marked = [line for line in rows if "(**few**: fewer than 30)" in line]
    assert marked and all(int(line.rsplit("|", 2)[1].split()[0].replace(",", "")) < 30 for line in marked)
