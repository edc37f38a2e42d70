"""Named group comparisons from model.yml, end to end: validation, the manifest, the page."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
import pytest

from modelgov.assemble import build_manifest
from modelgov.build import render_manifest
from modelgov.errors import WorkspaceError
from modelgov.workspace.load import load_workspace
from workspace_factory import edit, holdout_table, write_workspace

MODEL = "models/loans/model.yml"


def with_comparisons(tmp_path: Path, spec: str, table: pd.DataFrame | None = None) -> Path:
    root = write_workspace(tmp_path / "ws", table=table)
    edit(
        root,
        MODEL,
        "sensitive_features: [sex, age_band]",
        f"sensitive_features: [sex, age_band]\ngroup_comparisons: {spec}",
    )
    return root


def page_of(root: Path, tmp_path: Path) -> str:
    built = build_manifest(load_workspace(root))
    render_manifest(built, tmp_path / "site")
    return (tmp_path / "site" / "models" / "loans" / "1.0" / "index.html").read_text()


def test_a_reference_group_missing_from_the_data_is_reported_and_the_page_still_builds(tmp_path: Path) -> None:
    root = with_comparisons(tmp_path, "{sex: {reference: X}, age_band: {pairs: [[18-29, 99-99]]}}")
    page = html.unescape(page_of(root, tmp_path))
    assert "not compared: 'X' is not a group in this evaluation data" in page
    assert "99-99" in page and "Named comparisons." in page


def test_numbers_in_yaml_name_the_groups_the_page_shows(tmp_path: Path) -> None:
    table = holdout_table()
    table["age_band"] = table["age_band"].map({"18-29": 1, "30-44": 2, "45+": 3})
    root = with_comparisons(tmp_path, "{age_band: {pairs: [[1, 2]], reference: 3.0}}", table)
    built = build_manifest(load_workspace(root))
    result = next(r for r in built.models[0].versions[0].evaluations[0].fairness if r.feature == "age_band")
    assert [(c.group, c.reference) for c in result.comparisons] == [("1", "3"), ("2", "3"), ("1", "2")]
    assert all(c.disparities for c in result.comparisons)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("{race: {reference: a}}", "'race' is not one of sensitive_features"),
        ("{sex: {pairs: [[F, F]]}}", "compares a group with itself"),
        ("{sex: {pairs: [[F, M, X]]}}", "at most 2 items"),
        ("{sex: {}}", "set reference, pairs or both"),
        ("{sex: {pairs: [[F, true]]}}", "valid string"),
    ],
)
def test_bad_comparisons_are_refused_with_file_and_line(tmp_path: Path, spec: str, message: str) -> None:
    root = with_comparisons(tmp_path, spec)
    with pytest.raises(WorkspaceError) as caught:
        load_workspace(root)
    text = str(caught.value)
    assert f"{MODEL}:" in text and message in text and "Traceback" not in text


def test_markdown_in_group_names_stays_text_in_the_comparison_table(tmp_path: Path) -> None:
    table = holdout_table()
    table["sex"] = table["sex"].map({"F": "**b** | c ] [ d", "M": "M"})
    root = with_comparisons(tmp_path, "{sex: {pairs: [['**b** | c ] [ d', M]]}}", table)
    page = page_of(root, tmp_path)
    start = page.index("Named comparisons.")
    table_html = page[start : page.index("</table>", start)]
    rows = [row for row in table_html.split("<tr>")[1:]]
    assert all(row.count("<td") == 6 for row in rows[1:])  # the pair, then its five measures
    assert "<strong>b</strong>" not in table_html


def test_a_comparisons_interval_that_leaves_out_its_value_says_so_and_every_gap_says_it_is_a_size(
    tmp_path: Path,
) -> None:
    """A gap between two groups is a size, never below zero: its resamples are biased away from zero
    when the groups are close, and its interval can leave out the value. The manifest's note saying
    so was not on the page, and nothing said that such an interval cannot include "no gap"."""
    from modelgov import manifest

    root = with_comparisons(tmp_path, "{sex: {reference: M}}")
    built = build_manifest(load_workspace(root))
    model = built.models[0]
    version = model.versions[0]
    run = version.evaluations[0]
    sex = next(r for r in run.fairness if r.feature == "sex")
    (comparison,) = sex.comparisons
    note = "the interval leaves out the value: compare the groups' own intervals instead"
    first = comparison.disparities[0].model_copy(update={"note": note})
    comparison = comparison.model_copy(update={"disparities": [first, *comparison.disparities[1:]]})
    fairness = [r.model_copy(update={"comparisons": [comparison]}) if r is sex else r for r in run.fairness]
    run = run.model_copy(update={"fairness": fairness})
    version = version.model_copy(update={"evaluations": [run, *version.evaluations[1:]]})
    model = model.model_copy(update={"versions": [version, *model.versions[1:]]})
    built = built.model_copy(update={"models": [model]})
    assert isinstance(built, manifest.Manifest)
    render_manifest(built, tmp_path / "site")
    page = html.unescape((tmp_path / "site" / "models" / "loans" / "1.0" / "index.html").read_text())
    start = page.index("Named comparisons.")
    table_html = page[start : page.index("</table>", start)]
    assert note in table_html
    text = " ".join(page.split())
    assert "a difference is never below 0 and a ratio never above 1" in text
    assert 'lies on one side of "no gap" whatever the groups\' true rates' in " ".join(table_html.split())
