"""The whole pipeline on the bundled example: demo workspace → build → site.

Checks what a reviewer relies on: an inventory row for every model, a card for every version, the
per-group numbers on a card equal to fairlearn's MetricFrame on the same table, byte-identical
rebuilds, and a failed build that leaves the previous site untouched.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml
from fairlearn.metrics import (
    MetricFrame,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import mean_absolute_error

from modelgov import manifest
from modelgov.build import build_site
from modelgov.cli import main
from modelgov.demo.policies import AS_OF
from modelgov.errors import BuildError
from modelgov.policy.evidence_index import evidence_index
from shared_builds import DEMO_EPOCH, DemoBuild

pytestmark = pytest.mark.slow

EPOCH = DEMO_EPOCH  # 2026-01-01T00:00:00Z, the shared demo build's


@pytest.fixture(scope="module")
def demo(demo_build: DemoBuild) -> tuple[Path, Path]:
    """The demo workspace and its site, built once for the whole test run (tests/conftest.py); read only."""
    return demo_build.workspace, demo_build.site


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def table_after(page: str, anchor: str) -> list[list[str]]:
    """Rows of the first HTML table after the element with id ``anchor``, as plain text cells."""
    start = page.index(f'id="{anchor}"')
    segment = page[start : page.index("</table>", start)]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", segment, flags=re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)
        cells = [re.sub(r"<br\s*/?>", " ", cell) for cell in cells]  # a line break separates words
        rows.append([html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells])
    return rows


def test_inventory_has_a_row_for_every_model(demo: tuple[Path, Path]) -> None:
    workspace, site = demo
    built = manifest.read(site / "manifest.json")
    model_ids = sorted(p.name for p in (workspace / "models").iterdir())
    assert [m.id for m in built.models] == model_ids and len(model_ids) >= 3
    rows = table_after((site / "index.html").read_text(), "model-inventory")
    # each row's first cell: the model's name, then its task and owner
    assert [row[0] for row in rows[1:]] == [
        f"{m.name} {m.task.replace('_', ' ').capitalize()} · {m.owner.name}"
        + (f" ({m.owner.team})" if m.owner.team else "")
        for m in built.models
    ]
    home = (site / "index.html").read_text()
    for model in built.models:
        assert f'href="models/{model.id}/index.html"' in home


def test_every_version_has_a_card_with_the_mitchell_sections(demo: tuple[Path, Path]) -> None:
    workspace, site = demo
    sections = [
        "model-details",
        "intended-use",
        "factors",
        "metrics",
        "evaluation-data",
        "training-data",
        "quantitative-analyses",
        "ethical-considerations",
        "caveats-and-recommendations",
    ]
    versions = sorted((workspace / "models").glob("*/versions/*/version.yml"))
    assert len(versions) >= 5
    for version_file in versions:
        model_id, version = version_file.parts[-4], version_file.parts[-2]
        page = (site / "models" / model_id / version / "index.html").read_text()
        positions = [page.index(f'<h2 id="{section}"') for section in sections]
        assert positions == sorted(positions), f"{model_id} {version}: sections out of order"
        assert 'class="plotly-graph-div' in page or "Plotly.newPlot" in page


def test_credit_card_group_numbers_equal_fairlearn(demo: tuple[Path, Path]) -> None:
    workspace, site = demo
    spec = yaml.safe_load((workspace / "models/credit-default/versions/1.1/version.yml").read_text())
    evaluation = spec["evaluations"][0]
    table = pd.read_parquet(workspace / evaluation["data"])
    frame = MetricFrame(
        metrics={
            "Selection rate": selection_rate,  # the tables' short headers
            "TPR": true_positive_rate,
            "FPR": false_positive_rate,
            "FNR": false_negative_rate,
        },
        y_true=table[evaluation["label"]],
        y_pred=table[evaluation["prediction"]],
        sensitive_features=table["sex"],
    )
    page = (site / "models/credit-default/1.1/index.html").read_text()
    rows = table_after(page, f"groups-by-sex-on-{evaluation['id']}")
    header, body = rows[0], {row[0]: row for row in rows[1:]}
    assert set(frame.by_group.index) <= set(body)
    for group, expected in frame.by_group.iterrows():
        for column, value in expected.items():
            shown = body[group][header.index(column)].split()[0]  # the value; its interval is under it
            assert shown == f"{value:.3f}", (group, column, shown, value)
        assert body[group][header.index("Rows share")].split()[0] == f"{int((table['sex'] == group).sum()):,}"


def test_regression_card_group_errors_equal_fairlearn(demo: tuple[Path, Path]) -> None:
    workspace, site = demo
    spec = yaml.safe_load((workspace / "models/diabetes-progression/versions/1.0/version.yml").read_text())
    evaluation = spec["evaluations"][0]
    table = pd.read_json(workspace / evaluation["data"], lines=True)
    frame = MetricFrame(
        metrics=mean_absolute_error,
        y_true=table[evaluation["label"]],
        y_pred=table[evaluation["prediction"]],
        sensitive_features=table["age_band"],
    )
    page = (site / "models/diabetes-progression/1.0/index.html").read_text()
    rows = table_after(page, f"groups-by-age_band-on-{evaluation['id']}")
    column = rows[0].index("MAE")
    shown = {row[0].replace(" small: unreliable", ""): row[column].split()[0] for row in rows[1:]}
    for group, value in frame.by_group.items():
        assert shown[group] == f"{value:.3f}"


def test_the_demos_manifest_is_the_bytes_the_standard_library_writes(demo: tuple[Path, Path]) -> None:
    """manifest.json is written by pydantic's serialiser (manifest.dump_bytes): on the demo, every
    number and every text is spelt as ``json.dumps`` spells it, the bytes every earlier build wrote."""
    _, site = demo
    written = (site / "manifest.json").read_bytes()
    data = manifest.read(site / "manifest.json").model_dump(mode="json")
    assert written == (json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def test_every_input_is_hashed_in_the_manifest(demo: tuple[Path, Path]) -> None:
    workspace, site = demo
    built = manifest.read(site / "manifest.json")
    for ref in built.inputs:
        assert hashlib.sha256((workspace / ref.path).read_bytes()).hexdigest() == ref.sha256
    paths = {ref.path for ref in built.inputs}
    assert "governance.yml" in paths
    for model in built.models:
        for version in model.versions:
            assert version.source.path in paths
            for run in version.evaluations:
                assert run.data.path in paths


def test_site_is_offline(demo: tuple[Path, Path]) -> None:
    _, site = demo
    external = re.compile(r"<(?:script|link|img|iframe)[^>]+(?:src|href)=\"(?:https?:)?//", re.I)
    for page in site.rglob("*.html"):
        text = page.read_text()
        assert not external.search(text), page
        assert "fonts.googleapis" not in text and "fonts.gstatic" not in text
    assert (site / "assets/javascripts/plotly.min.js").stat().st_size > 1_000_000


class _PageText(HTMLParser):
    """The text a reader sees on a page: outside scripts, styles and code, which may hold Markdown
    syntax on purpose."""

    _SKIPPED = frozenset({"script", "style", "code", "pre", "textarea"})

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skipping += tag in self._SKIPPED

    def handle_endtag(self, tag: str) -> None:
        self._skipping -= tag in self._SKIPPED and self._skipping > 0

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


#: Markdown that reached a page as text: a table's delimiter row, or an admonition's opening line.
_UNRENDERED = re.compile(r"\|\s*:?-{3,}:?\s*\||^\s*!!! \w+", re.M)


def test_no_page_shows_markdown_that_was_not_rendered(demo: tuple[Path, Path]) -> None:
    """Every table and admonition a template writes is rendered: none reaches a reader as raw
    Markdown. (A table inside an HTML block is not: the site's Markdown does not re-parse raw HTML,
    and a KPI's week-by-week table in a ``<details>`` block showed its pipes.)"""
    _, site = demo
    leaked = {}
    for page in sorted(site.rglob("*.html")):
        reader = _PageText()
        reader.feed(page.read_text(encoding="utf-8"))
        found = _UNRENDERED.search("".join(reader.parts))
        if found:
            leaked[page.relative_to(site).as_posix()] = found.group(0)
    assert not leaked, leaked


def _dossiers_only(demo_build: DemoBuild, folder: Path, only: set[tuple[str, str]] | None = None) -> dict[str, str]:
    """The environment of a cache that holds nothing but the shared build's three dossiers (or those of
    ``only``: model id and version), each under the key that a build whose manifest is the shared
    build's bytes looks it up by."""
    from modelgov.cache import AnalysisCache
    from modelgov.dossier.site import _cache_keys

    env = {**demo_build.cache_env(), "MODELGOV_CACHE_DIR": str(folder)}
    secret = env["MODELGOV_CACHE_KEY"].encode()
    shared, kept = AnalysisCache(demo_build.cache_dir, secret=secret), AnalysisCache(folder, secret=secret)
    site = demo_build.site
    built = manifest.read(site / "manifest.json")
    tasks = [(m.id, v.version, site) for m in built.models for v in m.versions if v.status == "production"]
    keys = _cache_keys(built, site, tasks)
    assert len(keys) == len(list(site.glob("dossiers/**/*.pdf"))) == 3
    for task, key in keys.items():
        if only is not None and task not in only:
            continue
        hit = shared.get(key, "a dossier of the shared build")
        assert hit is not None, "the shared build did not cache its dossiers"
        kept.put(key, *hit)
    return env


def test_rebuild_is_byte_identical(
    demo_build: DemoBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`modelgov demo` from scratch (the workspace generated again from its seed, every analysis
    computed again, without a cache) writes the bytes of the shared workspace, file for file, and
    builds the bytes of the shared build (`modelgov build` with a cache).

    The site's cache holds only the shared build's dossiers, found only if the manifest comes out the
    same bytes. Laying the dossiers out afresh from that manifest gives the same bytes too: that is
    `test_saved_manifest_renders_the_same_site` (churn and diabetes) and, in a new process,
    `modelgov dossier` in tests/test_dossier.py (credit)."""
    import modelgov.build

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    for name, value in _dossiers_only(demo_build, tmp_path / "cache").items():
        monkeypatch.setenv(name, value)
    # the analyses without any cache, as a build with --no-cache makes them (a cached build registers
    # and keys its inputs: the shared build's manifest must not depend on that); the site with it
    analyse = modelgov.build.build_manifest
    monkeypatch.setattr(modelgov.build, "build_manifest", lambda *a, **kw: analyse(*a, **{**kw, "cache": None}))
    # in this process (-j 1), as the shared build; parallel analysis gives the serial bytes (tests/test_cache.py)
    assert main(["demo", str(tmp_path / "demo"), "-j", "1"]) == 0  # the demo's snapshot date, AS_OF
    said = capsys.readouterr().err
    # the same seed writes the same workspace (tests/test_demo.py checks that another seed does not)
    assert tree_digest(tmp_path / "demo" / "workspace") == tree_digest(demo_build.workspace)
    again = tmp_path / "demo" / "site"
    assert (again / "manifest.json").read_bytes() == (demo_build.site / "manifest.json").read_bytes()
    assert "Analysis cache: 0 result(s) reused, 0 computed" in said, said  # no analysis went near a cache
    assert re.search(r"Wrote 3 dossier\(s\) .*; 3 reused from the cache", said), said
    assert tree_digest(again) == tree_digest(demo_build.site)


def test_a_rebuild_from_the_analysis_cache_is_byte_identical(
    demo_build: DemoBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every demo evaluation (binary, multiclass, regression; row ids; SHAP or not) round-trips the cache:
    the shared demo build computed every analysis, and laid out every dossier, into its cache (cold);
    this build, from a copy of that cache, reads them all."""
    workspace, site = demo_build.workspace, demo_build.site
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    for name, value in demo_build.cache_env().items():  # the cache's key
        monkeypatch.setenv(name, value)
    cache = tmp_path / "cache"
    shutil.copytree(demo_build.cache_dir, cache)
    messages: list[str] = []
    warm = build_site(
        workspace, tmp_path / "warm", as_of=AS_OF, cache_dir=cache, progress=messages.append, dossiers=("production",)
    )
    assert tree_digest(warm.site_dir) == tree_digest(site)
    reuse = next(m for m in messages if m.startswith("Analysis cache:"))
    assert reuse.endswith(" computed") and " 0 computed" in reuse and not reuse.startswith("Analysis cache: 0 ")
    # the dossiers too: the manifest is the same bytes, so each PDF is read from the cache, not laid out
    assert any(m.startswith("Wrote 3 dossier(s)") and m.endswith("; 3 reused from the cache") for m in messages)


def test_failed_build_leaves_the_previous_site_untouched(
    demo_build: DemoBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = demo_build.workspace
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    for name, value in demo_build.cache_env().items():  # the analyses are the shared build's, not computed again
        monkeypatch.setenv(name, value)
    copy = tmp_path / "ws"
    subprocess.run(["cp", "-r", str(workspace), str(copy)], check=True)
    out = tmp_path / "site"
    build_site(copy, out, cache_dir=demo_build.cache_dir)
    before = tree_digest(out)

    # 1. the workspace becomes invalid: nothing is rendered
    model_yml = copy / "models/customer-churn/model.yml"
    original = model_yml.read_text()
    model_yml.write_text(original.replace("risk_tier:", "risk_teir:"))
    assert main(["build", str(copy), "-o", str(out), "-q"]) == 2
    assert tree_digest(out) == before
    model_yml.write_text(original)

    # 2. rendering fails half-way (a broken template override): staged output is discarded
    (copy / "templates").mkdir()
    (copy / "templates" / "model.md.j2").write_text("# {{ no_such_variable.name }}\n")
    governance = copy / "governance.yml"
    governance.write_text(governance.read_text() + "trust_templates: true\n")
    with pytest.raises(BuildError):
        build_site(copy, out, cache_dir=demo_build.cache_dir)
    assert tree_digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site", "ws"]


def test_saved_manifest_renders_the_same_site(
    demo_build: DemoBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The saved manifest, rendered as `modelgov render` renders it, gives the shared build's bytes,
    dossiers included. The credit dossier comes from a cache that holds only it, found only if the
    manifest is the same bytes: laying it out afresh, in a new process, is tests/test_dossier.py's
    `modelgov dossier` test; the other two are laid out here."""
    from modelgov.build import render_manifest
    from modelgov.cache import AnalysisCache

    site = demo_build.site
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    env = _dossiers_only(demo_build, tmp_path / "cache", only={("credit-default", "1.1")})
    cache = AnalysisCache(Path(env["MODELGOV_CACHE_DIR"]), secret=env["MODELGOV_CACHE_KEY"].encode())
    said: list[str] = []
    render_manifest(
        manifest.read(site / "manifest.json"), tmp_path / "rendered", progress=said.append, cache=cache,
        dossiers=("production",),  # as the shared build, `modelgov demo`
    )  # fmt: skip
    assert any(re.search(r"Wrote 3 dossier\(s\) .*; 1 reused from the cache", line) for line in said), said
    assert tree_digest(tmp_path / "rendered") == tree_digest(site)


def test_demo_refuses_a_non_empty_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "workspace").mkdir()
    (tmp_path / "workspace" / "notes.txt").write_text("mine")
    assert main(["demo", str(tmp_path), "-q"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (tmp_path / "workspace" / "notes.txt").read_text() == "mine"


def test_the_candidate_retrain_is_compared_with_the_live_version_on_the_same_rows(demo: tuple[Path, Path]) -> None:
    _, site = demo
    credit = manifest.read(site / "manifest.json").model("credit-default")
    candidate = next(v for v in credit.versions if v.version == "2.0")
    comparison = next(c for c in candidate.comparisons if c.other_version == "1.1")
    assert comparison.relation == "previous"
    live_run = next(v for v in credit.versions if v.version == "1.1").evaluations
    assert comparison.rows == next(r for r in live_run if r.id == comparison.other_evaluation).performance.rows
    auc = next(d for d in comparison.deltas if d.name == "roc_auc")
    assert auc.interval is not None and auc.interval.low <= auc.delta <= auc.interval.high


def test_the_planted_drift_start_is_found_for_every_monitored_model(demo: tuple[Path, Path]) -> None:
    import datetime as dt

    from modelgov.demo import (
        CHURN_DRIFT_START_WEEK,
        CREDIT_DRIFT_START_WEEK,
        DIABETES_DRIFT_START_WEEK,
        MONITORING_START,
    )

    _, site = demo
    built = manifest.read(site / "manifest.json")
    planted = {
        "credit-default": CREDIT_DRIFT_START_WEEK,
        "customer-churn": CHURN_DRIFT_START_WEEK,
        "diabetes-progression": DIABETES_DRIFT_START_WEEK,
    }
    for model_id, week in planted.items():
        model = built.model(model_id)
        live = next(v for v in model.versions if v.version == model.live_version)
        report = live.drift
        assert report is not None and report.status == "drift", model_id
        expected = dt.datetime.combine(MONITORING_START, dt.time()) + dt.timedelta(weeks=week - 1)
        assert report.first_drift == expected.strftime("%Y-%m-%dT%H:%M:%SZ"), model_id
        assert len(report.windows) >= 12
        # outcomes arrive late: performance exists for early windows only
        assert report.windows[0].performance and not report.windows[-1].performance
        page = site / "models" / model_id / live.version / "monitoring.html"
        assert page.is_file() and expected.strftime("%Y-%m-%d") in page.read_text()


def test_the_demo_shows_a_realistic_mix_of_policy_verdicts(demo: tuple[Path, Path]) -> None:
    _, site = demo
    report = manifest.read(site / "manifest.json").governance
    assert report is not None and report.as_of == AS_OF.isoformat() and report.blocking
    outcomes = {(r.model, r.version, r.policy, r.rule): r.outcome for r in report.results}
    # the candidate retrain still misses the four-fifths rule: the release is blocked
    assert outcomes[("credit-default", "2.0", "acme-fair-lending", "four-fifths-by-sex")] == "fail"
    # the live version misses it too, under an active waiver
    assert outcomes[("credit-default", "1.1", "acme-fair-lending", "four-fifths-by-sex")] == "waived"
    assert "warn" in outcomes.values()
    # the standard's "by sex or age": both versions' age-band gaps are put before compliance, against
    # the ratio fairlearn gives on the evaluation rows the card names
    built = manifest.read(site / "manifest.json")
    for version_id in ("1.1", "2.0"):
        version = next(v for v in built.model("credit-default").versions if v.version == version_id)
        (age,) = [f for f in version.evaluations[0].fairness if f.feature == "age_band"]
        (ratio,) = [d for d in age.disparities if d.name == "demographic_parity_ratio" and d.method == "between_groups"]
        assert ratio.value < 0.8
        assert outcomes[("credit-default", version_id, "acme-fair-lending", "four-fifths-by-age-band")] == "warn"
    states = {w.id: w for w in report.waivers}
    assert states["W-2026-014"].used_by == ["credit-default@1.1"]
    assert states["W-2026-009"].state == "expired" and states["W-2026-009"].would_apply_to == ["customer-churn@1.1"]
    results = json.loads((site / "policy-results.json").read_text())
    assert results["exit_code"] == 1 and results["counts"]["fail"] >= 1


def test_the_retrain_shows_what_changed_from_the_version_it_retrains(demo: tuple[Path, Path]) -> None:
    from modelgov.render.diff_views import version_changes

    _, site = demo
    built = manifest.read(site / "manifest.json")
    credit = built.model("credit-default")
    new, old = (next(v for v in credit.versions if v.version == name) for name in ("2.0", "1.1"))
    changes = version_changes(built, credit, new)
    assert changes is not None and changes.other.version == "1.1"
    training = {c.what: (c.before, c.after) for c in changes.training}
    assert training["Training datasets"] == (", ".join(old.training.datasets), ", ".join(new.training.datasets))
    shared = next(r for r in new.evaluations if r.dataset == changes.dataset)
    before = next(r for r in old.evaluations if r.dataset == changes.dataset)
    auc = next(c for c in changes.metrics if c.what == "ROC AUC")
    assert (auc.before, auc.after) == (
        next(m.value for m in before.performance.metrics if m.name == "roc_auc"),
        next(m.value for m in shared.performance.metrics if m.name == "roc_auc"),
    )
    policy = {c.what: (c.before, c.after) for c in changes.policies}
    assert policy[
        "Acme fair lending standard: The referral rate of either sex is at least four fifths of the other's"
    ] == (
        "waived",
        "fail",
    )
    page = html.unescape((site / "models/credit-default/2.0/index.html").read_text())
    assert "Changes from version 1.1" in page and f"{auc.after - auc.before:+.3f}" in page
    assert version_changes(built, credit, next(v for v in credit.versions if v.version == "1.0")) is None


def test_demo_lineage_joins_mlflow_and_openlineage_and_every_node_links_to_a_page(demo: tuple[Path, Path]) -> None:
    _, site = demo
    built = manifest.read(site / "manifest.json")
    origins = {node.id: node.origins for node in built.lineage.nodes}
    assert origins["training:credit-default/2.0"] == ["mlflow", "workspace"]
    assert origins["dataset:credit-train-2026"] == ["mlflow", "openlineage", "workspace"]  # path and digest
    assert (
        "registered:credit-default/1" in origins and "job:acme-lending-warehouse/extract_loan_applications" in origins
    )
    page = (site / "lineage.html").read_text(encoding="utf-8")
    start = page.index('<svg class="mg-lineage__svg"')
    svg = page[start : page.index("</svg>", start)]
    links = re.findall(r'<a href="([^"]+)"', svg)
    assert len(links) == len(built.lineage.nodes)
    for link in links:
        target, _, anchor = html.unescape(link).partition("#")
        resolved = (site / target).resolve()
        assert resolved.is_file(), link
        if anchor:
            assert f'id="{anchor}"' in resolved.read_text(encoding="utf-8"), link
    dataset_page = (site / "datasets" / "credit-train-2024.html").read_text(encoding="utf-8")
    used_by = dataset_page[dataset_page.index('id="used-by"') : dataset_page.index('id="lineage"')]
    assert "production</span> — training</li>" in used_by  # 1.1's evaluations are not uses of its training data
    raw = site / "datasets" / "ol-postgres-warehouse-acme-internal-5432-lending-loan-applications.html"
    assert not raw.exists()  # an OpenLineage-only dataset has no datasheet page; it links into the lineage page
    card = (site / "models" / "credit-default" / "2.0" / "index.html").read_text(encoding="utf-8")
    assert 'class="mg-lineage"' in card and "credit-default v2" in card


def test_the_credit_models_open_flag_is_on_its_card_monitoring_page_inventory_and_compliance(
    demo: tuple[Path, Path],
) -> None:
    _, site = demo

    def text(rel: str) -> str:
        return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", (site / rel).read_text())))

    credit = manifest.read(site / "manifest.json").model("credit-default")
    (flag,) = next(v for v in credit.versions if v.version == "1.1").flags
    assert (flag.state, flag.signature, flag.age_days) == ("open", "signed", 18)
    for rel in ("models/credit-default/1.1/index.html", "models/credit-default/1.1/monitoring.html"):
        page = text(rel)
        assert "Flags from the business" in page and "A flag is a note from someone" in page
        assert flag.id in page and "2026-10-19 to 2026-10-25" in page and "18 days" in page
    assert "1 open , the oldest 18 days" in text("index.html")
    assert "Open flags from the business" in text("compliance/index.html")


def test_the_credit_validations_conditions_are_signed_and_the_first_met_by_a_signed_entry(
    demo: tuple[Path, Path],
) -> None:
    """The demo's story: Priya Raman validated credit 1.1 under three conditions, in the signed log;
    she signed the first met; the third-quarter review of 2026 is overdue on the check date."""
    _, site = demo
    credit = manifest.read(site / "manifest.json").model("credit-default")
    version = next(v for v in credit.versions if v.version == "1.1")
    (validation,) = [a for a in version.approvals if a.role == "model_risk" and a.entry is not None]
    assert validation.signature == "signed" and len(validation.conditions) == 3
    first, second, third = validation.conditions
    assert (first.met, first.met_signature, first.met_by) == ("2025-05-22", "signed", "priya.raman@acme.example")
    assert (second.state("2026-11-24"), third.due, third.state("2026-11-24")) == ("overdue", None, "open")
    card = (site / "models/credit-default/1.1/index.html").read_text()
    assert "1 condition of approval overdue" in card and f"signed, audit entry {first.met_entry}" in card


def test_the_credit_validation_of_2025_bound_the_version_as_it_was_and_is_stale_since_its_2026_re_evaluation(
    demo: tuple[Path, Path],
) -> None:
    """The demo's history is one a real log could have: Priya Raman's validation (February 2025) and
    the promotion (March 2025) bind credit 1.1 as it was then, evaluated on holdout-2024 only; the
    re-evaluation on holdout-2026 (July 2026) was added since, so both are stale, naming it, and no
    sign-off of the demo binds an evaluation dated after it."""
    _, site = demo
    built = manifest.read(site / "manifest.json")
    version = next(v for v in built.model("credit-default").versions if v.version == "1.1")
    (validation,) = [a for a in version.approvals if a.role == "model_risk" and a.entry is not None]
    assert validation.date == "2025-02-14" and validation.evidence == "stale" and not validation.counts
    assert "data/credit-default/evaluations/1.1-holdout-2026.parquet" in validation.changed
    assert "models/credit-default/versions/1.1/version.yml" in validation.changed
    assert "data/credit-default/evaluations/1.1-holdout-2024.parquet" not in validation.changed
    assert version.status_change is not None and version.status_change.evidence == "stale"
    assert all(not a.predates for m in built.models for v in m.versions for a in v.approvals)
    card = (site / "models/credit-default/1.1/index.html").read_text()
    assert "stale: evidence changed since sign-off" in card and "Promoted on other evidence" in card
    assert "The model file is unchanged: check the promotion against what changed" in card
    # on the title line, beside the open flag: the logged validation, and the 2025 sign-offs of
    # approvals.yml, which bind no files but predate the re-evaluation
    assert "3 sign-offs stale</strong> (model&#95;owner, model&#95;risk, compliance)" in card
    in_file = [a for a in version.approvals if a.entry is None]
    assert {a.role for a in in_file} == {"model_owner", "model_risk", "compliance"}
    assert all(
        a.evidence == "stale" and a.changed == ["data/credit-default/evaluations/1.1-holdout-2026.parquet"]
        for a in in_file
    )
    assert card.count("<strong>stale: evaluated again since sign-off</strong>") == 3  # the approvals table
    assert "A sign-off dated before the evidence it binds" not in card


def test_the_demos_shadow_test_scores_the_live_versions_own_requests(demo: tuple[Path, Path]) -> None:
    """A shadow test sees the traffic the live version answers: the demo's shadow log is the champion's
    production log from the week the test started (same ids, same champion decisions), and its outcomes
    are those requests' outcomes, so the shadow page's counts agree with the monitoring page's."""
    workspace, site = demo
    built = manifest.read(site / "manifest.json")
    challenger = next(v for m in built.models for v in m.versions if v.shadow)
    data = workspace / "data/credit-default"
    shadow_log = pd.read_parquet(data / f"shadow/{challenger.version}-shadow-log.parquet")
    production = pd.read_parquet(data / f"monitoring/{challenger.shadow.champion}-scoring-log.parquet")
    start = pd.to_datetime(shadow_log["timestamp"], utc=True).min()
    first_week = start.normalize() - pd.Timedelta(days=start.day_of_week)
    live = production[pd.to_datetime(production["timestamp"], utc=True) >= first_week]
    assert sorted(shadow_log["request_id"]) == sorted(live["request_id"])
    merged = shadow_log.merge(live[["request_id", "prediction"]], on="request_id")
    assert (merged["champion_prediction"] == merged["prediction"]).all()
    outcomes = pd.read_parquet(data / f"shadow/{challenger.version}-outcomes.parquet")
    production_outcomes = pd.read_parquet(data / f"monitoring/{challenger.shadow.champion}-outcomes.parquet")
    assert set(outcomes["request_id"]) == set(production_outcomes["request_id"]) & set(live["request_id"])
    assert challenger.shadow.overall.requests == len(live)


def test_the_home_page_lists_the_tests_under_way(demo: tuple[Path, Path]) -> None:
    """The demo's credit 2.0 in shadow beside 1.1 and churn 1.2 in an A/B test against 1.1, each with
    where it stands and what a decision still waits for, linked to its page."""
    _, site = demo
    built = manifest.read(site / "manifest.json")
    rows = table_after((site / "index.html").read_text(), "tests-under-way")
    assert rows[0] == ["Model", "Version", "Test", "Against", "Where it stands", "Before a decision"]
    tested = [
        (m.name, v.version, "Shadow test" if v.shadow else "A/B test")
        for m in built.models
        for v in m.versions
        if (v.shadow or v.experiment) and v.status != "retired"
    ]
    assert [(r[0], r[1].split()[0], r[2]) for r in rows[1:]] == tested and len(tested) == 2
    shadow = next(v for m in built.models for v in m.versions if v.shadow)
    assert f"{shadow.shadow.overall.requests:,} requests scored by both" in rows[1][4]
    experiment = next(v for m in built.models for v in m.versions if v.experiment)
    horizon = experiment.experiment.horizon
    assert f"{horizon.records:,} records with a value" in rows[2][4] and not horizon.at_horizon
    assert "the fixed-horizon result must not be read" in rows[2][5]
    home = (site / "index.html").read_text()
    assert 'href="models/credit-default/2.0/shadow.html"' in home


def test_the_candidates_card_gives_the_interim_difference_with_its_interval(demo: tuple[Path, Path]) -> None:
    """An A/B test short of its horizon: the card's line gives the difference with its interval and
    says it is interim, as the test's page warns, never a bare number a reader could act on."""
    _, site = demo
    built = manifest.read(site / "manifest.json")
    version = next(v for m in built.models for v in m.versions if v.experiment)
    difference = version.experiment.difference
    card = " ".join(
        re.sub(r"<[^>]+>", " ", html.unescape((site / "models/customer-churn/1.2/index.html").read_text())).split()
    )
    low, high = difference.interval.low * 100, difference.interval.high * 100
    assert (
        f"{difference.delta * 100:+.1f} points so far (95% interval {low:+.1f} to {high:+.1f} points" in card
    ) and "interim, not to be acted on before the horizon" in card
    assert (low <= 0 <= high) == ("the data cannot yet tell the versions apart" in card)

    # a sequential design is read at any time: no "interim" warning, the sequential analysis named
    from modelgov.render.pages import render_pages

    sequential = built.model_copy(
        update={
            "models": [
                m.model_copy(
                    update={
                        "versions": [
                            v.model_copy(
                                update={"experiment": v.experiment.model_copy(update={"design": "sequential"})}
                            )
                            if v.experiment
                            else v
                            for v in m.versions
                        ]
                    }
                )
                for m in built.models
            ]
        }
    )
    page = next(p.markdown for p in render_pages(sequential) if p.path == "models/customer-churn/1.2/index.md")
    line = next(row for row in page.splitlines() if row.startswith("**A/B test against version"))
    assert "interim" not in line and "the sequential analysis on the test's page is the one to act on" in line


def test_the_ab_page_gives_each_arms_kpi_in_its_unit_with_the_records_it_rests_on(demo: tuple[Path, Path]) -> None:
    """A share beside no count reads as more than it is: each arm's KPI says on how many of its records
    in scope it was computed, in the KPI's own unit; the metric's description (the compressed 90 days)
    is on the page."""
    _, site = demo
    built = manifest.read(site / "manifest.json")
    model = next(m for m in built.models if m.id == "customer-churn")
    test = next(v for v in model.versions if v.version == "1.2").experiment
    page = (site / "models/customer-churn/1.2/ab-test.html").read_text()
    rows = table_after(page, "business-kpis-per-arm")
    assert rows[0] == ["KPI", "This version", "Champion", "Records", "Difference", "Reading"]
    assert len(rows) == 1 + len(test.kpis) >= 2
    for row, item in zip(rows[1:], test.kpis, strict=True):
        kpi = next(k for k in model.business.kpis if k.name == item.name)
        assert kpi.unit == "percent" and row[0] == kpi.title
        challenger, champion = item.challenger, item.champion
        assert row[1].startswith(f"{challenger.value * 100:.2f} % ({challenger.interval.low * 100:.2f} %")
        assert row[2].startswith(f"{champion.value * 100:.2f} % ({champion.interval.low * 100:.2f} %")
        # the records with an outcome each arm has: the KPI's count is a part of them, the rest lack its columns
        arms = {arm.arm: arm for arm in test.arms}
        assert challenger.count + challenger.missing == arms["challenger"].outcomes
        assert champion.count + champion.missing == arms["champion"].outcomes
        assert row[3] == (
            f"{challenger.count} of {arms['challenger'].outcomes} · {champion.count} of {arms['champion'].outcomes}"
        )
        low, high = item.difference_interval.low * 100, item.difference_interval.high * 100
        assert row[4] == (
            f"{'−' if item.difference < 0 else '+'}{abs(item.difference) * 100:.2f} points "
            f"({'−' if low < 0 else '+'}{abs(low):.2f} to {'−' if high < 0 else '+'}{abs(high):.2f} points)"
        )
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    assert test.metric_description and "90 days are compressed to a few weeks" in test.metric_description
    assert f"{test.metric}: {test.metric_description}" in text


def test_a_candidate_serving_customers_in_an_ab_test_needs_an_approval_of_the_test(demo: tuple[Path, Path]) -> None:
    """Its owner's approval alone is not enough for a version deciding for real customers; the test's
    approval has a role of its own, so that no release rule (model_risk) counts it."""
    _, site = demo
    built = manifest.read(site / "manifest.json")
    results = {
        (r.model, r.version): r for r in built.governance.results if r.rule == "live-test-approved-by-model-risk"
    }
    version = next(v for v in built.model("customer-churn").versions if v.version == "1.2")
    requests = next(arm.requests for arm in version.experiment.arms if arm.arm == "challenger")
    rule = results[("customer-churn", "1.2")]
    assert rule.outcome == "pass" and rule.severity == "blocking"
    assert rule.message == (
        f"applies because experiment.challenger.requests = {requests} > 0: live_test: approved by "
        "priya.raman@acme.example on 2026-10-23 (signed)"
    )
    # the shadow candidate serves no one, and the production versions are out of the rule's scope
    assert results[("credit-default", "2.0")].outcome == "not-applicable"
    assert all(r.outcome == "not-applicable" for key, r in results.items() if key != ("customer-churn", "1.2"))
    # the test's approval is not a model_risk decision: a release rule would not count it
    assert {a.role for a in version.approvals} == {"model_owner", "live_test"}

    # without the signed approval the rule fails, and a line anyone can write in approvals.yml (the
    # owner's, say) does not stand in for it
    from modelgov.policy.engine import LoadedPolicy, govern
    from modelgov.policy.schema import PolicyFile

    workspace, _ = demo
    standard = PolicyFile.model_validate(yaml.safe_load((workspace / "policies/acme-decisions.yml").read_text()))
    ref = manifest.FileRef(path="policies/acme-decisions.yml", sha256="0" * 64, bytes=1)
    signed = next(a for a in version.approvals if a.role == "live_test")
    assert signed.signature == "signed" and signed.entry is not None
    owners = signed.model_copy(
        update={"by": "Marcus Lindqvist (Customer Analytics)", "signature": "unsigned", "entry": None,
                "source": manifest.FileRef(path="models/customer-churn/versions/1.2/approvals.yml", sha256="0" * 64,
                                           bytes=1)}
    )  # fmt: skip
    for approvals, outcome in (([signed], "pass"), ([], "fail"), ([owners], "fail")):
        others = [a for a in version.approvals if a.role != "live_test"]
        changed = built.model_copy(
            update={"models": [
                m.model_copy(update={"versions": [
                    v.model_copy(update={"approvals": [*others, *approvals]}) if v is version else v for v in m.versions
                ]}) for m in built.models
            ]}
        )  # fmt: skip
        report = govern(changed, [LoadedPolicy(standard, ref)], [], AS_OF, fail_on="blocking")
        (found,) = [r for r in report.results if r.rule == "live-test-approved-by-model-risk" and r.version == "1.2"]
        assert found.outcome == outcome, (approvals, found.message)


def test_every_admonition_keeps_its_body_inside_it(demo: tuple[Path, Path]) -> None:
    """Each ``!!!`` block of every demo page: its body runs, indented, up to the first blank line, and
    no line of text follows it unindented. A body line that began with a block tag lost its indentation
    (the environment's ``lstrip_blocks``), and the rest of the warning fell outside its box: the open
    flag's count on the credit card, the KPI warning's figures on the churn monitoring page."""
    from modelgov.render.pages import render_pages

    _, site = demo
    checked = 0
    for page in render_pages(manifest.read(site / "manifest.json")):
        lines = page.markdown.splitlines()
        for index, line in enumerate(lines):
            if not line.startswith("!!! "):
                continue
            end = index + 2 if index + 1 < len(lines) and not lines[index + 1].strip() else index + 1
            # a heading, a table, an HTML block or another admonition starts a block of its own; any
            # other unindented line would be read as the body's paragraph going on, outside the box
            while end < len(lines) and lines[end].strip() and not lines[end].startswith(("#", "|", "<", "!!! ")):
                assert lines[end].startswith("    "), (page.path, line, lines[end])
                end += 1
            checked += 1
    assert checked >= 20  # the demo has some thirty


def test_the_monitoring_summary_states_calibration_beside_ranking(demo: tuple[Path, Path]) -> None:
    """A probability of default feeds provisions: the summary gives the latest week's Brier score
    against the reference's, since ROC AUC can hold while the probabilities stray from the outcomes."""
    _, site = demo
    built = manifest.read(site / "manifest.json")
    version = next(v for v in built.model("credit-default").versions if v.version == "1.1")
    last = [w for w in version.drift.windows if w.labelled_rows][-1]
    brier = next(m.value for m in last.performance if m.name == "brier")
    reference = next(m.value for m in version.drift.reference_performance if m.name == "brier")
    page = html.unescape(re.sub(r"<[^>]+>", "", (site / "models/credit-default/1.1/monitoring.html").read_text()))
    assert f"Calibration: Brier score {brier:.3f} against {reference:.3f} in the reference" in page


def test_a_group_tables_all_rows_interval_says_where_it_comes_from(demo: tuple[Path, Path]) -> None:
    """The same true positive rate shows four slightly different intervals on a card (the metrics,
    and each sensitive feature's table): each group table says its All rows intervals are its own
    resamples' estimate of the same range."""
    _, site = demo
    card = re.sub(
        r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", (site / "models/credit-default/1.1/index.html").read_text()))
    )
    assert card.count("come from this table's own resamples, drawn with its groups") >= 2


def test_a_dataset_used_by_two_versions_lists_them_as_two_items(demo: tuple[Path, Path]) -> None:
    """The block tag ending each item's line swallowed its newline: the two versions that use the
    2026 holdout ran together into one item ('… — evaluation- Personal-loan default model …')."""
    _, site = demo
    page = (site / "datasets/credit-holdout-2026.html").read_text(encoding="utf-8")
    used = page[page.index('id="used-by"') :].split("</ul>")[0]
    assert used.count("<li>") == 2, used
    assert "evaluation- " not in html.unescape(re.sub(r"<[^>]+>", "", used))


def test_the_diabetes_pages_show_which_way_the_model_errs_and_its_groups_errors_in_production(
    demo: tuple[Path, Path],
) -> None:
    """The diabetes card names harm from under-prediction: its monitoring charts and tabulates the mean
    error (prediction − actual) per window, best at 0 (not "lower"), against a validation value the
    evaluation table gives; fairness in production, measured for classifiers only, is said to be not
    measured rather than left out; and the group table speaks of a regression's groups, not of rates."""
    workspace, site = demo
    built = manifest.read(site / "manifest.json")
    version = built.model("diabetes-progression").versions[0]
    run = version.evaluations[0]
    table = pd.read_json(workspace / run.data.path, lines=True)
    (mean_error,) = [m for m in run.performance.metrics if m.name == "mean_error"]
    assert mean_error.value == pytest.approx((table[run.prediction] - table[run.label]).mean())
    assert mean_error.best_value == 0 and mean_error.better == "closer to 0"
    page = html.unescape((site / "models/diabetes-progression/1.0/monitoring.html").read_text())
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert "Mean error (prediction \\u2212 actual) (closer to 0 is better)" in page  # a chart panel's title (JSON)
    last = next(w for w in reversed(version.drift.windows) if w.labelled_rows)
    (realized,) = [m for m in last.performance if m.name == "mean_error"]
    assert realized.value < -10  # the drift's under-prediction, shown with its sign
    assert f"Mean error (prediction − actual) {realized.value:.3f}" in text
    # a regression model's groups are measured again in production where outcomes arrived
    assert "Not measured for this" not in text
    (by_age,) = [f for f in version.drift.fairness if f.feature == "age_band"]
    latest = next(w.realized for w in reversed(by_age.windows) if w.realized is not None)
    gap, bias = latest.disparities
    assert gap.name == "mae_difference" and gap.value is not None and len(gap.groups) == 2
    assert f"{gap.groups[0]}'s mean absolute error ({gap.group_rates[0]:.3f}) is {gap.value:.3f} above" in text
    # the latest window's groups, as a table (not Markdown left as text)
    assert (
        "Records with outcomes Mean actual Mean predicted Mean error (prediction − actual) Mean absolute error" in text
    )
    assert re.search(r"<th[^>]*>Mean error \(prediction − actual\)</th>", page)
    young = next(g for g in latest.groups if g.group == "18-29")
    assert young.small and "18-29" in [e.group for e in gap.excluded]  # too few, left out and said so
    counted = {g.group: g.metrics["mean_error"] for g in latest.groups if g.group != "18-29"}
    low, high = min(counted, key=counted.get), max(counted, key=counted.get)
    assert all(value < 0 for value in counted.values())  # the drift's under-prediction, in every group
    assert (
        f"Every group counted in the gap is predicted below its outcomes on average in that week, by "
        f"{-counted[high]:.3f} ({high}) to {-counted[low]:.3f} ({low})"
    ) in text
    pair = gap.difference_interval
    assert pair.low < 0 < pair.high and "which includes 0: chance alone could explain the gap" in text
    # the mean error gap names the group predicted furthest below its outcomes, second
    assert bias.name == "mean_error_difference" and bias.groups == [high, low]
    assert (
        f"{high}'s mean error (prediction − actual) ({counted[high]:.3f}) is {bias.value:.3f} above "
        f"{low}'s ({counted[low]:.3f})"
    ) in text
    evidence = evidence_index(built.model("diabetes-progression"), version, dt.date(2026, 12, 1))
    found = evidence["production_fairness.age_band.mae_difference"]
    assert found.value == gap.value and "realized" in found.detail and gap.groups[0] in found.detail
    card = " ".join(
        re.sub(
            r"<[^>]+>", " ", html.unescape((site / "models/diabetes-progression/1.0/index.html").read_text())
        ).split()
    )
    assert "Mean error (prediction − actual) " in card and " closer to 0 " in card
    assert "A group with fewer than 30 rows is marked small : every figure of the group rests on its rows" in card
    assert "its actual positives for the true and false negative rates" not in card
    # a classifier keeps the rates' wording and its fairness in production
    credit = html.unescape((site / "models/credit-default/1.1/index.html").read_text())
    assert "its actual positives for the" in credit
    credit_monitoring = html.unescape((site / "models/credit-default/1.1/monitoring.html").read_text())
    assert "Not measured for this model" not in credit_monitoring and "Fairness in production" in credit_monitoring
