"""Importing a Hugging Face model card fills a workspace card's empty and TODO fields; text people
wrote is never overwritten, and the Hub template's filler is not imported."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from modelgov.cli import main
from modelgov.export.hf_import import card_fields_from_hf, import_hf_card
from modelgov.workspace.load import load_workspace

pytest.importorskip("huggingface_hub", reason="the Hugging Face import needs huggingface_hub")

HUB_CARD = """\
---
license: apache-2.0
tags:
- tabular-classification
- credit
---

# Model Card for loan-default

## Model Details

### Model Description

A gradient-boosted classifier of 12-month loan default.

- **Developed by:** [More Information Needed]

## Uses

### Direct Use

Ranking applications for manual review.

### Out-of-Scope Use

Fully automated rejection: "never" without a human.

## Bias, Risks, and Limitations

Historical approvals encode past bias.

### Recommendations

[More Information Needed]

## Evaluation

### Testing Data, Factors & Metrics

#### Factors

Sex and age band.

#### Metrics

ROC AUC, with per-group recall.
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    table = tmp_path / "preds.csv"
    pd.DataFrame(
        {"x": [1.0, 2.0, 3.0, 4.0], "y": [0, 1, 0, 1], "yhat": [0, 1, 1, 1], "p": [0.2, 0.8, 0.6, 0.9]}
    ).to_csv(table, index=False)
    assert main(["init", str(tmp_path / "ws"), "--eval", str(table), "--label", "y", "--prediction", "yhat",
                 "--score", "p", "--name", "Loan default"]) == 0  # fmt: skip
    return tmp_path / "ws"


def test_sections_are_matched_by_the_hub_template_headings() -> None:
    fields, tags, licence = card_fields_from_hf(HUB_CARD)
    assert fields["description"].startswith("A gradient-boosted classifier")
    assert "[More Information Needed]" not in fields["description"]
    assert fields["intended_use.primary_uses"] == "Ranking applications for manual review."
    assert fields["intended_use.out_of_scope"] == 'Fully automated rejection: "never" without a human.'
    assert fields["ethical_considerations"] == "Historical approvals encode past bias."
    assert "caveats" not in fields  # only filler under Recommendations
    assert (fields["factors.relevant"], fields["metrics.performance_measures"]) == (
        "Sex and age band.",
        "ROC AUC, with per-group recall.",
    )
    assert (tags, licence) == (["tabular-classification", "credit"], "apache-2.0")


def test_import_fills_todos_and_keeps_written_text(workspace: Path, tmp_path: Path) -> None:
    model_yml = workspace / "models/loan-default/model.yml"
    model_yml.write_text(
        model_yml.read_text().replace(
            'ethical_considerations: "TODO: risks to people, sensitive data used, mitigations"',
            'ethical_considerations: "Reviewed by the ethics board in 2026."',
        )
    )
    before = len(load_workspace(workspace).placeholders)
    readme = tmp_path / "README.md"
    readme.write_text(HUB_CARD)
    report = import_hf_card(readme, model_yml)
    assert set(report.filled) >= {"description", "intended_use.primary_uses", "intended_use.out_of_scope",
                                  "factors.relevant", "metrics.performance_measures", "licence", "tags"}  # fmt: skip
    assert report.kept == ["ethical_considerations"]
    card = yaml.safe_load(model_yml.read_text())
    assert card["ethical_considerations"] == "Reviewed by the ethics board in 2026."
    assert card["intended_use"]["out_of_scope"] == 'Fully automated rejection: "never" without a human.'
    assert card["licence"] == "apache-2.0" and card["tags"] == ["tabular-classification", "credit"]
    assert card["caveats"].startswith("TODO:")  # nothing to import: still to be written
    assert "# The model card (Mitchell et al., 2019)" in model_yml.read_text()  # comments kept
    after = len(load_workspace(workspace).placeholders)
    assert after == before - 5  # five TODOs filled (licence and tags were not placeholders)


def test_a_tag_that_is_not_ascii_is_left_out_and_said(workspace: Path, tmp_path: Path) -> None:
    """Tags scope policies, so a workspace's tags are ASCII: a Hub tag in another script would make the
    workspace fail to load; it is left out of model.yml, and the report says so."""
    model_yml = workspace / "models/loan-default/model.yml"
    readme = tmp_path / "README.md"
    readme.write_text(HUB_CARD.replace("- credit\n", "- credit\n- crédit\n"))
    report = import_hf_card(readme, model_yml)
    assert yaml.safe_load(model_yml.read_text())["tags"] == ["tabular-classification", "credit"]
    assert any(line.startswith("tags 'crédit': not ASCII") for line in report.skipped)
    load_workspace(workspace)


def test_import_twice_changes_nothing_the_second_time(workspace: Path, tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(HUB_CARD)
    model_yml = workspace / "models/loan-default/model.yml"
    import_hf_card(readme, model_yml)
    once = model_yml.read_text()
    report = import_hf_card(readme, model_yml)
    assert model_yml.read_text() == once
    assert "description" in report.kept and not [f for f in report.filled if f != "tags"]


def test_the_command_line_reports_what_it_did(
    workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(HUB_CARD)
    assert main(["import-hf", str(readme), str(workspace), "--model", "loan-default"]) == 0
    out = capsys.readouterr().out
    assert "filled  intended_use.primary_uses" in out
    assert main(["import-hf", str(readme), str(workspace), "--model", "nope"]) == 2
    assert "models/nope/model.yml does not exist" in capsys.readouterr().err


def test_a_card_modelgov_exported_imports_back_field_for_field(tmp_path: Path) -> None:
    from manifest_factory import make_manifest
    from modelgov.export.hf import hf_model_card

    manifest = make_manifest()
    model = next(m for m in manifest.models if m.task == "binary_classification")
    fields, tags, _licence = card_fields_from_hf(hf_model_card(manifest, model, model.versions[0]))
    card = model.card
    assert fields["description"] == card.description.strip()
    assert fields["intended_use.primary_uses"] == card.primary_uses.strip()
    assert fields["intended_use.primary_users"] == card.primary_users.strip()
    assert fields["ethical_considerations"] == card.ethical_considerations.strip()
    assert fields["caveats"] == card.caveats.strip()
    assert fields["factors.evaluation"] == card.factors_evaluation.strip()
    assert "modelgov" not in tags


def test_the_template_bullets_are_not_imported_into_the_description() -> None:
    fields, _, _ = card_fields_from_hf(
        "# M\n\n### Model Description\n\nPredicts churn.\n\n- **Developed by:** Example Org\n- **License:** MIT\n"
    )
    assert fields["description"] == "Predicts churn."
