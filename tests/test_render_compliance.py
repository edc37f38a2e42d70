"""The compliance pages read back against the manifest's policy results.

The factory's governance report (``tests/manifest_factory.py``) has, on credit 1.1.0, a blocking
failure, an error, a waived error and a drift warning; on bike 2024.1 a waived failure; credit
1.0.0 out of scope; and one waiver in each group (active, expiring, expired, unused). Every check
here parses what a reviewer sees — the HTML tables, badges and links — and compares it with the
manifest the site was built from.
"""

from __future__ import annotations

import html
import posixpath
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from manifest_factory import HOSTILE, make_manifest
from modelgov.build import render_manifest
from modelgov.manifest import Manifest, PolicyResult
from modelgov.policy.engine import is_blocking
from modelgov.render import compliance_outcomes, render_site
from modelgov.render.findings import labels_of, plain_finding
from modelgov.render.navigation import site_nav
from modelgov.render.pages import render_pages
from modelgov.render.waiver_views import waiver_rows
from test_render import EPOCH, _live_html, parse

#: Worst first, as the pages promise; written out here rather than imported, so a change of the
#: order in the code is a failing test.
ORDER = ["error", "fail", "warn", "waived", "not-in-force", "pass", "not-applicable"]
LABELS = {
    "error": "error",
    "fail": "fail",
    "warn": "warning",
    "waived": "waived",
    "not-in-force": "not met, not in force",
    "pass": "pass",
    "not-applicable": "not applicable",
}


def build(out: Path, manifest: Manifest) -> Path:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        render_manifest(manifest, out)  # as `modelgov build` does: policy-results.json and .csv too
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("compliance") / "site", make_manifest())


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("compliance") / "site", make_manifest(hostile=True))


def read(site: Path, path: str) -> str:
    return (site / path).read_text(encoding="utf-8")


def text_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def rows_after(page: str, anchor: str) -> list[list[str]]:
    """Raw HTML cells of the first table after the element with id ``anchor``."""
    start = page.index(f'id="{anchor}"')
    segment = page[start : page.index("</table>", start)]
    return [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S) for row in re.findall(r"<tr>(.*?)</tr>", segment, re.S)]


def section(page: str, anchor: str) -> str:
    """From the element with id ``anchor`` to the next heading of level 2 or 3."""
    start = page.rindex("<", 0, page.index(f'id="{anchor}"'))
    end = re.compile(r"<h[23][ >]").search(page, start + 1)
    return page[start : end.start() if end else len(page)]


def worst(outcomes: list[str]) -> str | None:
    return min(outcomes, key=ORDER.index) if outcomes else None


def hrefs(fragment: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]*)"', fragment)]


def resolve(page_path: str, href: str) -> tuple[str, str]:
    """(site path, anchor) that a relative link on ``page_path`` points to."""
    parts = urlsplit(href)
    target = posixpath.normpath(posixpath.join(posixpath.dirname(page_path), unquote(parts.path)))
    return (target if parts.path else page_path), parts.fragment


# --------------------------------------------------------------------------- the overview


@pytest.mark.slow
def test_matrix_cells_are_the_worst_outcome_of_each_policy_on_each_version(site: Path) -> None:
    manifest = make_manifest()
    report = manifest.governance
    page = read(site, "compliance/index.html")
    rows = rows_after(page, "model-versions-against-policies")
    header = [text_of(cell) for cell in rows[0]]
    assert header == ["Model version", "Status", *[p.title for p in report.policies]]
    versions = [(m, v) for m in manifest.models for v in m.versions]
    assert len(rows) - 1 == len(versions)
    seen = set()
    for cells, (model, version) in zip(rows[1:], versions, strict=True):
        assert text_of(cells[0]) == f"{model.name} {version.version}"
        assert f'id="{model.id}--{version.version}"' in cells[0]  # the home page links here
        for policy, cell in zip(report.policies, cells[2:], strict=True):
            mine = [
                r.outcome
                for r in report.results
                if (r.model, r.version, r.policy) == (model.id, version.version, policy.id)
            ]
            expected = worst(mine)
            assert text_of(cell) == LABELS[expected], (model.id, version.version, policy.id)
            assert f"mg-outcome--{expected}" in cell
            (href,) = hrefs(cell)
            assert href == f"{policy.id}.html#{model.id}--{version.version}"
            target, anchor = resolve("compliance/index.html", href)
            assert f'id="{anchor}"' in read(site, target)
            seen.add(expected)
    assert {"error", "warn", "waived", "not-applicable"} <= seen  # the factory covers the order


@pytest.mark.slow
def test_verdict_counts_and_blocking_results_match_the_report(site: Path) -> None:
    report = make_manifest().governance
    page = read(site, "compliance/index.html")
    plain = text_of(page)
    assert report.blocking and "Release blocked" in plain
    assert f"as of {report.as_of}" in plain
    blocking = [r for r in report.results if is_blocking([r], report.fail_on)]
    assert {r.outcome for r in blocking} == {"fail", "error"}  # the waived error does not block
    verdict = page[page.index("Release blocked") : page.index("mg-stats")]
    assert text_of(verdict).count("Found:") == len(blocking)
    for result in blocking:
        assert text_of(html.escape(plain_finding(result.message, LABELS_OF))) in text_of(verdict)
    stats = dict(re.findall(r'mg-stat--([\w-]+)"><span class="mg-stat__value">(\d+)<', page))
    for outcome in ["error", "fail", "warn", "waived", "pass"]:
        assert int(stats[outcome]) == sum(r.outcome == outcome for r in report.results)
    assert (
        f"{len(report.results)} results, of which {sum(r.outcome == 'not-applicable' for r in report.results)}" in plain
    )


LABELS_OF = labels_of(make_manifest())


@pytest.mark.slow
def test_every_result_needing_attention_is_listed_with_its_evidence(site: Path) -> None:
    report = make_manifest().governance
    page = read(site, "compliance/index.html")
    rows = rows_after(page, "results-that-need-attention")[1:]
    expected = [r for r in report.results if r.outcome in ("error", "fail", "warn", "waived")]
    expected.sort(key=lambda r: ORDER.index(r.outcome))
    assert len(rows) == len(expected)
    for cells, result in zip(rows, expected, strict=True):
        assert text_of(cells[0]).startswith(LABELS[result.outcome])
        assert ("blocks the release" in cells[0]) == is_blocking([result], report.fail_on)
        assert text_of(cells[3]) == text_of(html.escape(plain_finding(result.message, LABELS_OF)))
        unmet_pages = {c.page.split("#")[0] for c in result.checks if c.outcome != "pass" and c.page}
        links = [resolve("compliance/index.html", h) for h in hrefs(cells[4])]
        assert {target.replace(".html", "") for target, _ in links} == {p.replace(".html", "") for p in unmet_pages}
        for target, anchor in links:
            assert not anchor or f'id="{anchor}"' in read(site, target)
        if result.outcome == "waived":
            assert f"without the waiver: {LABELS[result.unwaived_outcome]}" in text_of(cells[0])
            assert result.waiver in text_of(cells[0])


# --------------------------------------------------------------------------- policy pages


@pytest.mark.slow
def test_every_result_of_each_policy_is_on_its_page_with_its_messages(site: Path) -> None:
    manifest = make_manifest()
    report = manifest.governance
    for policy in report.policies:
        page = read(site, f"compliance/{policy.id}.html")
        assert policy.source.sha256 in page
        for rule in policy.rules:
            assert text_of(section(page, f"rule-{rule.id}")).startswith(rule.title)
        mine = [r for r in report.results if r.policy == policy.id]
        for model in manifest.models:
            for version in model.versions:
                results = [r for r in mine if (r.model, r.version) == (model.id, version.version)]
                anchor = f"{model.id}--{version.version}"
                if all(r.outcome == "not-applicable" for r in results):
                    row = page[page.index(f'id="{anchor}"') :].split("</tr>")[0]
                    assert "out of scope" in row or "nothing to check" in row
                    continue
                shown = text_of(section(page, anchor))
                for result in results:
                    title = next(r.title for r in policy.rules if r.id == result.rule)
                    assert title in shown
                    if result.outcome == "not-applicable":
                        assert f"{title} ({plain_finding(result.message, LABELS_OF)}" in shown
                        continue
                    assert LABELS[result.outcome] in shown
                    for check in result.checks:
                        assert plain_finding(check.message, LABELS_OF) in shown, check.message
                        assert " ".join(compliance_outcomes.observed_text(check.observed).split()) in shown


@pytest.mark.slow
def test_coverage_says_how_each_clause_is_covered(site: Path) -> None:
    policy = next(p for p in make_manifest().governance.policies if p.coverage)
    page = read(site, f"compliance/{policy.id}.html")
    assert f'id="coverage-of-{policy.framework.lower().replace(" ", "-")}"' in page
    rows = rows_after(page, f"coverage-of-{policy.framework.lower().replace(' ', '-')}")[1:]
    by_clause = {text_of(cells[0]): text_of(cells[1]) for cells in rows}
    assert len(rows) == len(policy.coverage)
    for clause in policy.coverage:
        shown = next(v for k, v in by_clause.items() if k.startswith(clause.clause))
        if clause.rules:
            assert shown == "checked automatically"
        elif clause.attestation:
            assert shown == "needs a human attestation"
        else:
            assert shown == "open: not covered"
    assert "1 is left open" in text_of(page)


# --------------------------------------------------------------------------- waivers


def test_waivers_fall_in_one_group_each() -> None:
    rows = {row.waiver.id: row for row in waiver_rows(make_manifest())}
    assert {i: r.group for i, r in rows.items()} == {
        "W-2024-031": "active",
        "W-2024-044": "expiring",
        "W-2024-019": "expired",
        "W-2024-050": "unused",
    }
    assert rows["W-2024-044"].days_left == 26 and rows["W-2024-019"].days_left == -4
    assert [f"{r.model}@{r.version}" for r in rows["W-2024-031"].waived] == rows["W-2024-031"].waiver.used_by
    assert [r.outcome for r in rows["W-2024-019"].would_cover] == ["warn"]
    # An unused waiver that is also expiring counts as unused: it is not needed at all.
    manifest = make_manifest()
    report = manifest.governance
    waivers = [w.model_copy(update={"state": "expiring"}) if w.id == "W-2024-050" else w for w in report.waivers]
    changed = manifest.model_copy(update={"governance": report.model_copy(update={"waivers": waivers})})
    assert next(r.group for r in waiver_rows(changed) if r.waiver.id == "W-2024-050") == "unused"


@pytest.mark.parametrize(
    ("approved_by", "own"),
    [
        ("{name} (Credit Risk)", True),
        ("{email}", True),
        ("  {NAME}  ", True),  # case and surrounding space do not hide the owner
        ("Chief Risk Officer", False),
        ("{name}son", False),  # a longer name is someone else
        ("x.{email}", False),
    ],
)
def test_a_waiver_approved_by_the_owner_of_the_model_it_excuses_is_marked(approved_by: str, own: bool) -> None:
    """Segregation of duties: an exception approved by the person accountable for the model has no
    independent approval, and the waivers page says so beside the approver and in the overview."""
    manifest = make_manifest()
    report = manifest.governance
    waiver = next(w for w in report.waivers if w.id == "W-2024-031")
    model = next(m for m in manifest.models if any(m.id == pattern for pattern in waiver.models))
    who = approved_by.format(name=model.owner.name, NAME=model.owner.name.upper(), email=model.owner.email)
    waivers = [w.model_copy(update={"approved_by": who}) if w is waiver else w for w in report.waivers]
    changed = manifest.model_copy(update={"governance": report.model_copy(update={"waivers": waivers})})
    row = next(r for r in waiver_rows(changed) if r.waiver.id == waiver.id)
    assert row.own_models == ((model.name,) if own else ())
    others = sum(bool(r.own_models) for r in waiver_rows(changed) if r.waiver.id != waiver.id)
    page = {p.path: p.markdown for p in render_pages(changed)}["compliance/waivers.md"]
    assert page.count("**Approved by the model's own owner:**") == others + own
    assert page.count("approved by the model's own owner") == others + own


@pytest.mark.slow
def test_waivers_page_lists_each_waiver_in_its_group_with_what_it_covers(site: Path) -> None:
    report = make_manifest().governance
    page = read(site, "compliance/waivers.html")
    groups = {
        "expired": ["W-2024-019"],
        "expiring-within-30-days": ["W-2024-044"],
        "unused": ["W-2024-050"],
        "active": ["W-2024-031"],
    }
    for anchor, ids in groups.items():
        shown = page[page.index(f'id="{anchor}"') :]
        shown = shown[: (re.search(r"<h2 ", shown[10:]).start() + 10) if re.search(r"<h2 ", shown[10:]) else None]
        found = re.findall(r'id="waiver-([^"]+)"', shown)
        assert found == ids, anchor
        for waiver_id in ids:
            waiver = next(w for w in report.waivers if w.id == waiver_id)
            plain = text_of(shown)
            for value in (waiver.reason, waiver.approved_by, waiver.ticket, waiver.granted, waiver.expires):
                assert value in plain
    expired = text_of(section(page, "waiver-W-2024-019"))
    assert "Results it would cover if it still applied" in expired and "Credit default risk 1.1.0" in expired
    assert "ended 4 days ago" in expired
    active = section(page, "waiver-W-2024-031")
    assert 'href="../models/credit-default/1.1.0/index.html"' in active
    assert "It waives no result" in text_of(section(page, "waiver-W-2024-050"))


# --------------------------------------------------------------------------- cards, home, nav


@pytest.mark.slow
def test_version_card_lists_its_applicable_results_and_links_to_the_policy_pages(site: Path) -> None:
    manifest = make_manifest()
    report = manifest.governance
    page = read(site, "models/credit-default/1.1.0/index.html")
    rows = rows_after(page, "compliance")[1:]
    mine = [
        r
        for r in report.results
        if (r.model, r.version) == ("credit-default", "1.1.0") and r.outcome != "not-applicable"
    ]
    assert len(rows) == len(mine)
    assert [text_of(cells[0]).split(" ")[0] for cells in rows] == [
        LABELS[r.outcome].split(" ")[0] for r in sorted(mine, key=lambda r: ORDER.index(r.outcome))
    ]
    for cells in rows:
        for href in hrefs(cells[1] + cells[2]):
            target, anchor = resolve("models/credit-default/1.1.0/index.html", href)
            assert target.startswith("compliance/") and f'id="{anchor}"' in read(site, target)
    assert "policies: error" in text_of(page[: page.index('id="model-details"')])
    retired = text_of(read(site, "models/credit-default/1.0.0/index.html"))
    assert "No policy rule applies to this version" in retired


@pytest.mark.slow
def test_home_shows_the_worst_policy_outcome_of_the_version_it_lists(site: Path) -> None:
    manifest = make_manifest()
    page = read(site, "index.html")
    rows = rows_after(page, "model-inventory")
    assert text_of(rows[0][-1]) == "Policies"
    for cells, model in zip(rows[1:], manifest.models, strict=True):
        version = next((v for v in model.versions if v.version == model.live_version), model.versions[0])
        outcomes = [
            r.outcome for r in manifest.governance.results if (r.model, r.version) == (model.id, version.version)
        ]
        assert text_of(cells[-1]) == LABELS[worst(outcomes)]
        assert hrefs(cells[-1]) == [f"compliance/index.html#{model.id}--{version.version}"]
    assert "Policies: release blocked" in text_of(page)


def test_nav_has_a_compliance_section_only_when_there_are_policy_results() -> None:
    manifest = make_manifest()
    nav = {item.title: item for item in site_nav(manifest)}
    compliance = nav["Compliance"]
    assert [(c.title, c.path) for c in compliance.children] == [
        ("Overview", "compliance/index.md"),
        ("Crosswalk", "compliance/crosswalk.md"),
        *[(p.title, f"compliance/{p.id}.md") for p in manifest.governance.policies],
        ("Waivers", "compliance/waivers.md"),
    ]
    bare = manifest.model_copy(update={"governance": None})
    assert "Compliance" not in [item.title for item in site_nav(bare)]
    pages = {page.path: page.markdown for page in render_pages(bare)}
    assert not any(path.startswith("compliance/") for path in pages)
    assert "Policies" not in pages["index.md"] and "## Compliance" not in pages["models/credit-default/1.1.0/index.md"]


def test_a_policy_named_like_a_compliance_page_gets_its_own_file() -> None:
    from modelgov.render.page_paths import policy_path

    assert policy_path("waivers") != "compliance/waivers.md"
    assert policy_path("index") != "compliance/index.md"
    assert policy_path("fair-lending") == "compliance/fair-lending.md"


def test_a_report_that_does_not_block_says_so() -> None:
    manifest = make_manifest()
    report = manifest.governance
    results = [r for r in report.results if r.outcome not in ("fail", "error")]
    calm = report.model_copy(update={"results": results, "blocking": False})
    pages = {p.path: p.markdown for p in render_pages(manifest.model_copy(update={"governance": calm}))}
    assert '!!! success "Not blocked"' in pages["compliance/index.md"]
    assert "Release blocked" not in pages["compliance/index.md"]
    assert '!!! success "Policies: not blocked"' in pages["index.md"]


# --------------------------------------------------------------------------- links


def _relative_links(site: Path) -> list[tuple[str, str]]:
    links = []
    for path in sorted(site.rglob("*.html")):
        page = path.relative_to(site).as_posix()
        if page.startswith(("assets/", "search/")) or page == "404.html":
            continue
        for tag, attrs, _ in parse(path).tags:
            href = attrs.get("href") if tag == "a" else None
            if href and not re.match(r"^[a-z][a-z0-9+.-]*:|^//", href):
                links.append((page, href))
    return links


@pytest.mark.slow
def test_every_link_of_the_compliance_pages_resolves(site: Path) -> None:
    assert (site / "policy-results.json").is_file() and (site / "policy-results.csv").is_file()
    checked = 0
    for page, href in _relative_links(site):
        if not (page.startswith("compliance/") or page == "index.html" or page.endswith("/index.html")):
            continue
        target, anchor = resolve(page, href)
        assert (site / target).is_file(), f"{page}: {href}"
        if anchor and target.endswith(".html"):
            assert f'id="{anchor}"' in read(site, target), f"{page}: {href}"
        checked += 1
    assert checked > 100
    overview = read(site, "compliance/index.html")
    assert 'href="../policy-results.json"' in overview and 'href="../policy-results.csv"' in overview


def test_evidence_links_follow_the_sites_file_names_and_drop_missing_anchors(tmp_path: Path) -> None:
    """An id that needs a safe file name, and an anchor the evidence page lacks: the strict build
    still passes, the link goes to the right page, and only an anchor that exists is kept."""
    manifest = make_manifest()
    credit = manifest.models[0].model_copy(update={"id": "Credit Default"})
    report = manifest.governance

    def moved(result: PolicyResult) -> PolicyResult:
        if result.model != "credit-default":
            return result
        checks = [
            c.model_copy(
                update={"page": c.page.replace("credit-default", "Credit Default").replace("#metrics", "#gone")}
            )
            if c.page
            else c
            for c in result.checks
        ]
        return result.model_copy(update={"model": "Credit Default", "checks": checks})

    governance = report.model_copy(update={"results": [moved(r) for r in report.results]})
    odd = manifest.model_copy(update={"models": [credit, manifest.models[1]], "governance": governance})
    site = tmp_path / "site"
    render_site(odd, site)  # strict: a broken link or anchor would fail here
    slugged = compliance_outcomes.version_anchor("Credit Default", "1.1.0")
    page = read(site, "compliance/fair-lending.html")
    body = section(page, slugged)
    card = f"../models/{slugged.split('--')[0]}/1.1.0/index.html"
    assert f'href="{card}#approvals"' in body  # the anchor exists: kept
    assert f'href="{card}"' in body  # "#gone" does not: the link goes to the page
    assert "#gone" not in page


# --------------------------------------------------------------------------- escaping


@pytest.mark.slow
def test_hostile_strings_on_the_compliance_pages_are_shown_as_text(hostile_site: Path) -> None:
    pages = ["compliance/index.html", "compliance/fair-lending.html", "compliance/waivers.html", "index.html"]
    pages += ["compliance/baseline.html", "models/credit-default/1.1.0/index.html"]
    for path in pages:
        raw = read(hostile_site, path)
        assert "<script>alert" not in raw and "<img src=x" not in raw, path
        article = raw[raw.index("<article") : raw.index("</article>")]  # the page body, not the theme's icons
        article = re.sub(r"<script>Plotly\.newPlot\(.*?</script>", "", article, flags=re.S)  # the site's charts
        assert _live_html(article) == [], path
    policy = read(hostile_site, "compliance/fair-lending.html")
    visible = text_of(policy)
    assert f"Fair lending standard {HOSTILE}" in visible  # the policy title, as written
    assert visible.count(HOSTILE) >= 3  # title, the check message, the clause's attestation
    waivers = text_of(read(hostile_site, "compliance/waivers.html"))
    assert HOSTILE in waivers  # the waiver reason
    assert 'href="javascript:' not in read(hostile_site, "compliance/waivers.html")


# --------------------------------------------------------------------------- helpers


def test_worst_follows_the_documented_order() -> None:
    assert tuple(ORDER) == compliance_outcomes.OUTCOME_ORDER
    assert compliance_outcomes.worst(["pass", "waived", "not-applicable"]) == "waived"
    assert compliance_outcomes.worst(["pass", "error", "fail"]) == "error"
    assert compliance_outcomes.worst(["not-applicable"]) == "not-applicable"
    assert compliance_outcomes.worst([]) is None
    assert compliance_outcomes.worst(["pass", "something-new"]) == "something-new"  # never hidden


def test_observed_values_read_like_the_engines_messages() -> None:
    assert compliance_outcomes.observed_text(0.5027435943936371) == "0.5027"
    assert compliance_outcomes.observed_text(2500) == "2,500"
    assert compliance_outcomes.observed_text(None) == "—"
    assert compliance_outcomes.observed_text(False) == "false"
    assert compliance_outcomes.observed_text(["sex", "age"]) == "sex, age"
    assert compliance_outcomes.observed_text(float("nan")) == "not a number"
    # as the manifest holds them (in memory too): the same words, from a build or a saved manifest
    assert compliance_outcomes.observed_text("NaN") == "not a number"
    assert compliance_outcomes.observed_text("-Infinity") == "minus infinity"
    assert compliance_outcomes.observed_text(float("inf")) == "infinity"
    assert (
        compliance_outcomes.days_phrase(-4) == "4 days ago"
        and compliance_outcomes.days_phrase(26) == "in 26 days"
        and compliance_outcomes.days_phrase(0) == "today"
    )


def test_requirements_and_paths_are_escaped() -> None:
    shown = compliance_outcomes.requirement_html("fairness.sex.demographic_parity_ratio >= 0.8")
    assert shown.startswith('<code class="mg-path">fairness.<wbr>sex.<wbr>demographic&#95;<wbr>parity')
    assert shown.endswith("</code> &#62;= 0.8")
    assert compliance_outcomes.requirement_html("approved by: compliance") == "approved by: compliance"
    for hostile in [HOSTILE, f"card.x {HOSTILE}", "a.b<script>.c"]:
        assert "<script" not in compliance_outcomes.requirement_html(
            hostile
        ) and "<img" not in compliance_outcomes.requirement_html(hostile)
        assert "<script" not in compliance_outcomes.breakable_code(hostile)


def test_a_waiver_the_owner_recorded_under_another_approvers_name_is_marked() -> None:
    manifest = make_manifest()
    report = manifest.governance
    waiver = next(w for w in report.waivers if w.id == "W-2024-031")
    model = next(m for m in manifest.models if any(m.id == pattern for pattern in waiver.models))
    recorded = waiver.model_copy(
        update={
            "approved_by": "Chief Risk Officer",
            "record": waiver.record.model_copy(update={"by": model.owner.email}),
        }
    )
    changed = manifest.model_copy(
        update={
            "governance": report.model_copy(
                update={"waivers": [recorded if w is waiver else w for w in report.waivers]}
            )
        }
    )
    assert next(r for r in waiver_rows(changed) if r.waiver.id == waiver.id).own_models == (model.name,)
