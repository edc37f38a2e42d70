"""Explained decisions on a built site: a record is found by id from the search box only when its
datasheet allows publishing records; hostile text in the card's feature wording and in record ids
reaches no page as markup; a bad key in ``explanations`` is an error naming the file and line."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd
import pytest
import skops.io
from sklearn.linear_model import LogisticRegression

from modelgov.cli import main
from workspace_factory import edit, holdout_table, write_workspace

pytestmark = pytest.mark.slow

HOSTILE_LABEL = "<img src=x onerror=alert(1)>Income"
HOSTILE_ID = "R7<script>alert(2)</script>"
EXPLANATIONS = f"""\
explanations:
  id_column: rid
  records: ["R5", "{HOSTILE_ID.replace('"', "")}"]
  features:
    income: {{label: "{HOSTILE_LABEL}", monotone: increase}}
    age: {{immutable: true}}
"""


def _workspace(root: Path, *, publish: bool) -> Path:
    table = holdout_table()
    table.insert(0, "rid", [f"R{i}" for i in range(len(table))])
    table.loc[7, "rid"] = HOSTILE_ID
    ws = write_workspace(root, table=table)
    model = LogisticRegression().fit(table[["income", "age"]], table["defaulted"])
    skops.io.dump(model, ws / "models/loans/versions/1.0/model.skops")
    edit(
        ws,
        "models/loans/versions/1.0/version.yml",
        "  params:\n",
        "  artifact: models/loans/versions/1.0/model.skops\n  params:\n",
    )
    with (ws / "models/loans/model.yml").open("a", encoding="utf-8") as handle:
        handle.write(EXPLANATIONS)
    if publish:
        with (ws / "datasets/loans-holdout.yml").open("a", encoding="utf-8") as handle:
            handle.write("publish_records: true\n")
    return ws


@pytest.mark.parametrize("publish", [True, False])
def test_a_record_is_found_by_id_only_when_its_records_may_be_published(tmp_path: Path, publish: bool) -> None:
    ws = _workspace(tmp_path / "ws", publish=publish)
    site = tmp_path / "site"
    assert main(["build", str(ws), "-o", str(site), "-q"]) in (0, 1)
    page = (site / "models/loans/1.0/decisions.html").read_text(encoding="utf-8")
    index = (site / "search/search_index.json").read_text(encoding="utf-8")
    docs = [d for d in json.loads(index)["docs"] if d["location"].startswith("models/loans/1.0/decisions.html")]
    assert docs, "the explained decisions page is in the search index"
    assert ("R5" in " ".join(d["title"] + d["text"] for d in docs)) is publish
    assert ("Record R5" in page) is publish
    manifest = (site / "manifest.json").read_text(encoding="utf-8")
    assert ('"R5"' in manifest) is publish
    # hostile text is shown as text, never as markup
    for text in (page, (site / "models/loans/1.0/explainability.html").read_text(encoding="utf-8")):
        assert "<img src=x" not in text and "<script>alert(2)" not in text
    assert HOSTILE_LABEL in html.unescape(page)  # shown to the reader as the text it is
    assert (HOSTILE_ID in html.unescape(page)) is publish


def test_a_bad_key_in_explanations_names_the_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = _workspace(tmp_path / "ws", publish=False)
    edit(ws, "models/loans/model.yml", "    age: {immutable: true}", "    age: {immutable: true, monotonic: up}")
    assert main(["validate", str(ws)]) == 2
    err = capsys.readouterr().err
    assert "model.yml:" in err and "explanations.features.age.monotonic" in err


def test_an_id_column_of_lists_is_an_error_naming_the_table_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Parquet list column named as the records' id is refused, not shown as "[1 2]" ids."""
    ws = _workspace(tmp_path / "ws", publish=True)
    table = pd.read_csv(ws / "data/holdout.csv")
    table["rid"] = [[i, i + 1] for i in range(len(table))]
    table.to_parquet(ws / "data/holdout.parquet", index=False)
    (ws / "data/holdout.csv").unlink()
    for rel in ("models/loans/versions/1.0/version.yml", "datasets/loans-holdout.yml"):
        path = ws / rel
        path.write_text(path.read_text(encoding="utf-8").replace("holdout.csv", "holdout.parquet"), encoding="utf-8")
    assert main(["build", str(ws), "-o", str(tmp_path / "site"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "holdout.parquet" in err and "explanations.id_column" in err and "'rid'" in err
    assert "lists or objects" in err and "Traceback" not in err


def test_explained_decisions_are_cached_and_recomputed_when_what_they_read_changes(tmp_path: Path) -> None:
    from modelgov.assemble import build_manifest
    from modelgov.cache import AnalysisCache
    from modelgov.workspace.load import load_workspace

    ws = _workspace(tmp_path / "ws", publish=False)

    def build() -> tuple[str, AnalysisCache]:
        cache = AnalysisCache(tmp_path / "cache")
        built = build_manifest(load_workspace(ws), cache=cache)
        return built.model_copy(update={"built_at": "fixed"}).model_dump_json(), cache

    cold, cache = build()
    assert '"records":{"explainer"' in cold.replace(" ", "")
    assert (cache.stats.hits, cache.stats.misses) == (0, 3)  # evaluation, explanation, explained decisions
    warm, cache = build()
    assert warm == cold and (cache.stats.hits, cache.stats.misses) == (3, 0)
    with (ws / "datasets/loans-holdout.yml").open("a", encoding="utf-8") as handle:
        handle.write("publish_records: true\n")
    published, cache = build()
    assert (cache.stats.hits, cache.stats.misses) == (2, 1) and '"R5"' in published
    edit(ws, "models/loans/model.yml", "  id_column: rid\n", "  id_column: rid\n  reason_codes: 1\n")
    _, cache = build()
    assert (cache.stats.hits, cache.stats.misses) == (2, 1)


def test_the_demo_explains_ten_named_applicants_without_touching_age_or_sex(demo_build) -> None:
    """Done when: the credit model shows, with SHAP, ten applicants named in the card, their reason
    codes, what-if curves and counterfactuals that never change age or sex."""
    import yaml

    card = yaml.safe_load((demo_build.workspace / "models/credit-default/model.yml").read_text(encoding="utf-8"))
    named = card["explanations"]["records"]
    assert len(named) == 10 and card["explanations"]["features"]["age"]["immutable"] is True
    built = json.loads((demo_build.site / "manifest.json").read_text(encoding="utf-8"))
    model = next(m for m in built["models"] if m["id"] == "credit-default")
    version = next(v for v in model["versions"] if v["version"] == "1.1")
    run = next(r for r in version["evaluations"] if r["id"] == "holdout-2026")
    assert run["explainability"]["shap"] is not None and run["explainability"]["shap"]["distribution"]
    explained = run["explainability"]["records"]
    by_id = {r["id"]: r for r in explained["records"] if "named in model.yml" in r["selected_because"]}
    assert sorted(by_id) == sorted(named)
    adverse = [r for r in by_id.values() if r["adverse"]]
    assert len(adverse) == 7 and all(r["reason_codes"] for r in adverse)
    assert all(r["what_if"] for r in by_id.values())
    for record in explained["records"]:
        if record["counterfactual"]:
            assert not {c["feature"] for c in record["counterfactual"]["changes"]} & {"age", "sex", "num_late_payments"}
    assert [t["feature"] for t in explained["groups"]] == ["sex", "age_band"]
    page = (demo_build.site / "models/credit-default/1.1/decisions.html").read_text(encoding="utf-8")
    assert all(f"Record {name}" in page for name in named)
    assert "Applicant&#39;s age" in page  # the card's wording of `age`, escaped
