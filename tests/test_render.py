"""Rendering: a manifest in, a strict, offline, escaped, deterministic static site out."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from manifest_factory import make_manifest
from modelgov import manifest as manifest_io
from modelgov.errors import BuildError
from modelgov.render import render_site
from modelgov.render.navigation import site_nav
from modelgov.render.text import md, num, pct, slug, text

EPOCH = "1719748800"  # 2024-06-30T12:00:00Z


def build(tmp: Path, name: str, *, hostile: bool = False, template_dir: Path | None = None) -> Path:
    site = tmp / name
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        render_site(make_manifest(hostile=hostile), site, template_dir=template_dir)
    return site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("render"), "site")


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("render"), "site", hostile=True)


def html_files(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


class Elements(HTMLParser):
    """Collects start tags with their attributes, and where the <head> ends."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None], bool]] = []
        self.scripts: list[str] = []
        self._in_head = False
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "head":
            self._in_head = True
        self.tags.append((tag, dict(attrs), self._in_head))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self._in_head = False
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def parse(path: Path) -> Elements:
    parser = Elements()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def plotly_scripts(path: Path) -> list[tuple[str, bool]]:
    return [
        (attrs["src"] or "", in_head)
        for tag, attrs, in_head in parse(path).tags
        if tag == "script" and (attrs.get("src") or "").endswith("plotly.min.js")
    ]


# --------------------------------------------------------------------------- structure


@pytest.mark.slow
def test_every_model_version_and_dataset_has_a_page(site: Path) -> None:
    manifest = make_manifest()
    expected = ["index.html", "build.html", "datasets/index.html", "manifest.json"]
    for model in manifest.models:
        expected.append(f"models/{model.id}/index.html")
        expected += [f"models/{model.id}/{v.version}/index.html" for v in model.versions]
    expected += [f"datasets/{d.id}.html" for d in manifest.datasets]
    missing = [path for path in expected if not (site / path).is_file()]
    assert not missing
    assert (site / "manifest.json").read_text(encoding="utf-8") == manifest_io.dumps(manifest)


@pytest.mark.slow
def test_version_page_has_the_model_card_sections_in_order(site: Path) -> None:
    page = (site / "models/credit-default/1.1.0/index.html").read_text(encoding="utf-8")
    sections = [
        "Model details",
        "Intended use",
        "Factors",
        "Metrics",
        "Evaluation data",
        "Training data",
        "Quantitative analyses",
        "Ethical considerations",
        "Caveats and recommendations",
        "Status",
        "Approvals",
        "Compliance",
        "Monitoring",
    ]
    headings = re.findall(r"<h2[^>]*>(.*?)<a", page)
    assert headings == sections
    # Evaluation data is traceable: the file path, its full SHA-256 and the row count.
    run = make_manifest().model("credit-default").versions[0].evaluations[0]
    assert run.data.sha256 in page
    assert run.data.path in page
    assert "4,000" in page


def test_nav_lists_models_with_overview_and_versions() -> None:
    nav = site_nav(make_manifest())
    assert [item.title for item in nav] == ["Home", "Models", "Compliance", "Datasets", "Lineage", "Build record"]
    credit = nav[1].children[0]
    assert credit.title == "Credit default risk"
    assert [child.title for child in credit.children] == [
        "Overview",
        "Version 1.1.0 (production)",
        "Version 1.0.0 (retired)",
    ]
    # A version with detail pages is a section: its model card first, then the detail pages.
    current, retired = credit.children[1], credit.children[2]
    assert [(c.title, c.path) for c in current.children] == [
        ("Model card", "models/credit-default/1.1.0/index.md"),
        ("Performance details", "models/credit-default/1.1.0/performance.md"),
        ("Explainability", "models/credit-default/1.1.0/explainability.md"),
        ("Monitoring and drift", "models/credit-default/1.1.0/monitoring.md"),
    ]
    assert [c.title for c in retired.children] == ["Model card", "Explainability"]  # no curves recorded


def test_a_version_without_details_is_a_plain_nav_entry() -> None:
    manifest = make_manifest()
    credit = manifest.models[0]
    plain = credit.versions[1].model_copy(update={"evaluations": []})
    nav = site_nav(manifest.model_copy(update={"models": [credit.model_copy(update={"versions": [plain]})]}))
    entry = nav[1].children[0].children[1]
    assert entry.path == "models/credit-default/1.0.0/index.md" and entry.children == ()


# --------------------------------------------------------------------------- plotly and offline


@pytest.mark.slow
def test_plotly_is_shipped_once_and_loaded_in_the_head_only_where_there_is_a_chart(site: Path) -> None:
    assert (site / "assets/javascripts/plotly.min.js").stat().st_size > 1_000_000
    for chart_page in ["models/credit-default/1.1.0/index.html", "models/credit-default/index.html"]:
        scripts = plotly_scripts(site / chart_page)
        assert len(scripts) == 1, chart_page
        src, in_head = scripts[0]
        assert in_head
        assert (site / chart_page).parent.joinpath(src).resolve() == (site / "assets/javascripts/plotly.min.js")
        assert "Plotly.newPlot(" in (site / chart_page).read_text(encoding="utf-8")
    for plain_page in ["index.html", "build.html", "datasets/index.html"]:
        assert plotly_scripts(site / plain_page) == []
        assert "Plotly.newPlot(" not in (site / plain_page).read_text(encoding="utf-8")


@pytest.mark.slow
def test_every_sensitive_feature_gets_a_chart_with_a_stable_id(site: Path) -> None:
    page = (site / "models/credit-default/1.1.0/index.html").read_text(encoding="utf-8")
    for feature in ["sex", "age_band"]:
        chart_id = f"chart--fairness--credit-default--1.1.0--holdout-2024q1--{feature}"
        assert f'id="{chart_id}"' in page
        assert f'Plotly.newPlot("{chart_id}"' in page


@pytest.mark.slow
def test_nothing_is_loaded_from_the_network(site: Path) -> None:
    for path in html_files(site):
        for tag, attrs, _ in parse(path).tags:
            if tag == "script" or (tag == "link" and attrs.get("rel") != "canonical"):
                url = attrs.get("src") or attrs.get("href") or ""
                assert not re.match(r"(https?:)?//", url), f"{path}: <{tag}> loads {url}"
        text_ = path.read_text(encoding="utf-8")
        assert "fonts.googleapis" not in text_ and "unpkg.com" not in text_, path


# --------------------------------------------------------------------------- escaping


@pytest.mark.slow
def test_hostile_strings_never_become_live_html(hostile_site: Path) -> None:
    for path in html_files(hostile_site):
        raw = path.read_text(encoding="utf-8")
        assert "<script>alert" not in raw, path
        assert "<img src=x" not in raw, path
        parsed = parse(path)
        for tag, attrs, _ in parsed.tags:
            assert tag != "img", path
            for name, value in attrs.items():
                assert not name.startswith("on"), f"{path}: <{tag} {name}=…>"
                if name in ("href", "src"):
                    assert not (value or "").strip().lower().startswith(("javascript:", "data:")), path
        for script in parsed.scripts:  # chart JSON: no raw angle brackets that could close the tag
            if script.startswith("Plotly.newPlot("):
                assert "<" not in script and ">" not in script


@pytest.mark.slow
def test_hostile_description_is_sanitised_and_the_removal_is_stated(site: Path) -> None:
    page = (site / "models/bike-demand/2024.1/index.html").read_text(encoding="utf-8")
    blocks = re.findall(r'<div class="mg-usertext">(.*?)</div>', page, flags=re.S)
    assert blocks and not any("alert(1)" in block for block in blocks)
    assert "Not shown for safety: a &lt;script&gt; element, a javascript: address, an &lt;img&gt; element" in page
    assert 'href="javascript:' not in page
    assert "<td>Centre</td>" in page  # the user's ordinary Markdown table still renders


def test_text_filter_escapes_html_markdown_and_table_pipes() -> None:
    escaped = text("<b>a|b</b> *x* [y](javascript:z)\nnext")
    assert "<" not in escaped and "|" not in escaped and "*" not in escaped and "[" not in escaped
    assert "\n" not in escaped
    assert text("- not a list").startswith("&#45;")


@pytest.mark.parametrize(
    "hostile",
    [
        "[x](javascript:alert(1))",
        "[x]( JaVaScRiPt:alert(1))",
        "[x](<javascript:alert(1)>)",
        "[x](java\tscript:alert(1))",
        "![x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x][r]\n\n[r]: vbscript:msgbox(1)",
        "[x][r]\n\n[r]:\n    javascript:alert(1)",
        "> [x][r]\n>\n> [r]: javascript:alert(1)",
        "- [x][r]\n\n    [r]: javascript:alert(1)",
        "[x](" + " " * 300 + "javascript:alert(1))",
        "[x](java&#115;cript:alert(1))",
    ],
)
def test_md_filter_removes_unsafe_link_targets(hostile: str) -> None:
    import markdown

    rendered = markdown.markdown(md(hostile), extensions=["tables", "footnotes", "admonition"])
    assert not re.search(r'(href|src)="\s*(javascript|data|vbscript)', rendered, re.I), rendered


def test_md_filter_keeps_formatting_removes_raw_script_and_escapes_code() -> None:
    import markdown

    source = "**bold** [ok](https://example.com)\n\n<script>x</script>\n\n`a < b`\n\n```\nif a < b:\n```"
    rendered = markdown.markdown(md(source), extensions=["tables", "fenced_code"])
    assert "<strong>bold</strong>" in rendered
    assert '<a href="https://example.com" rel="noopener noreferrer">ok</a>' in rendered
    assert "<script>" not in rendered and "Not shown for safety: a &lt;script&gt; element" in rendered
    assert "a &#60; b" in rendered or "a &lt; b" in rendered
    assert "if a &lt; b:" in rendered


# --------------------------------------------------------------------------- numbers


def test_undefined_numbers_are_words_not_zero() -> None:
    assert "undefined" in num(None)
    assert "undefined" in pct(None)
    assert "undefined" in num(float("nan"))
    assert num(0.0) == "0.000"
    assert num(-0.0001) == "0.000"


@pytest.mark.slow
def test_undefined_metrics_render_as_undefined_with_an_explanation(site: Path) -> None:
    page = (site / "models/credit-default/1.1.0/index.html").read_text(encoding="utf-8")
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)
    small_group = next(row for row in rows if "<td>66+" in row)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", small_group, re.S)
    # Group, Rows (and share), Selection rate, TPR, FPR, FNR, Precision: each value above its interval
    assert "small: unreliable" in cells[0]
    assert "undefined" in cells[3] and "0.000" not in cells[3]
    assert "undefined" in cells[5]
    assert cells[6].startswith("0.000")  # a real zero stays a zero
    roc_auc_oot = [row for row in rows if "ROC AUC" in row and "undefined" in row]
    assert roc_auc_oot and "No score column" in roc_auc_oot[0]
    assert "it does not mean zero" in page


# --------------------------------------------------------------------------- templates and errors


@pytest.mark.slow
def test_a_workspace_template_overrides_the_built_in_one(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "home.md.j2").write_text("# Our inventory\n\nOVERRIDDEN for {{ site.organisation|text }}\n")
    site = build(tmp_path, "site", template_dir=templates)
    assert "OVERRIDDEN for Example Bank plc" in (site / "index.html").read_text(encoding="utf-8")
    assert "Model details" in (site / "models/credit-default/1.1.0/index.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_same_manifest_gives_the_same_bytes(tmp_path: Path) -> None:
    first, second = build(tmp_path, "first"), build(tmp_path, "second")
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert {"sitemap.xml", "sitemap.xml.gz", "search/search_index.json"} <= {p.as_posix() for p in files}
    different = [p for p in files if (first / p).read_bytes() != (second / p).read_bytes()]
    assert different == []


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("# {{ model.no_such_field }}\n", "model.md.j2"),
        ("# {{ model.name|text }\n", "model.md.j2:1"),
        ("{% include 'missing.md.j2' %}\n", "missing.md.j2"),
    ],
)
def test_a_broken_template_is_a_build_error(tmp_path: Path, template: str, expected: str) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "model.md.j2").write_text(template)
    with pytest.raises(BuildError) as raised:
        render_site(make_manifest(), tmp_path / "site", template_dir=templates)
    assert expected in str(raised.value)
    assert "models/credit-default/index.md" in str(raised.value)


@pytest.mark.slow
def test_a_broken_link_fails_the_strict_build(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "home.md.j2").write_text("# Home\n\nSee [the missing page](missing.md).\n")
    with pytest.raises(BuildError, match=r"missing\.md"):
        render_site(make_manifest(), tmp_path / "site", template_dir=templates)


def test_missing_template_folder_is_a_build_error(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="does not exist"):
        render_site(make_manifest(), tmp_path / "site", template_dir=tmp_path / "nope")


def test_ids_become_safe_path_segments() -> None:
    assert slug("credit-default") == "credit-default"
    for unsafe in ["../../etc", "a/b", "index", "x y", ".hidden", "v1.md"]:
        result = slug(unsafe)
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", result) and result != unsafe


def test_rendering_imports_no_analysis_stack(tmp_path: Path) -> None:
    """A saved manifest re-renders without pandas, scikit-learn or fairlearn being imported."""
    import subprocess
    import sys

    code = (
        "import sys, pathlib\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from manifest_factory import make_manifest\n"
        "from modelgov.render import render_site\n"
        f"render_site(make_manifest(), pathlib.Path({str(tmp_path / 'site')!r}))\n"
        "heavy = {'pandas', 'sklearn', 'fairlearn', 'pyarrow', 'scipy'} & {m.split('.')[0] for m in sys.modules}\n"
        "print(sorted(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.slow
def test_sparse_and_odd_manifests_still_build(tmp_path: Path) -> None:
    """No models; a model without versions; a version without evaluations; unknown ids; odd ids."""
    manifest = make_manifest()
    credit = manifest.models[0]
    render_site(manifest.model_copy(update={"models": [], "datasets": []}), tmp_path / "empty")
    bare = credit.versions[1].model_copy(update={"evaluations": [], "approvals": [], "version": "../x y"})
    odd = credit.model_copy(update={"id": "Odd/Model", "versions": [bare], "live_version": None})
    empty = credit.model_copy(update={"id": "no-versions", "versions": [], "live_version": None, "risk_tier": "?"})
    unknown = credit.versions[0].evaluations[0].model_copy(update={"dataset": "not-in-manifest"})
    first = credit.versions[0].model_copy(update={"evaluations": [unknown]})
    credit = credit.model_copy(update={"versions": [first, credit.versions[1]]})
    site = tmp_path / "edge"
    render_site(manifest.model_copy(update={"models": [credit, odd, empty]}), site)
    pages = {p.relative_to(site).as_posix() for p in site.rglob("*.html")}
    assert f"models/{slug('Odd/Model')}/{slug('../x y')}/index.html" in pages
    assert "models/no-versions/index.html" in pages
    assert "(no datasheet in this build)" in (site / "models/credit-default/1.1.0/index.html").read_text("utf-8")


_PIECES = [
    "<script>",
    "</script>",
    "<img src=x onerror=alert(1)>",
    "javascript:",
    "data:",
    "alert(1)",
    "[",
    "]",
    "(",
    ")",
    "`",
    "```",
    "~~~",
    "\n",
    "\n\n",
    " ",
    "    ",
    "\t",
    ">",
    "<",
    "&",
    "#",
    "&#58;",
    "!",
    "*",
    "_",
    "|",
    "[^1]",
    ":",
    "x",
    "a b",
    "<",
    "- ",
    "1. ",
    '"',
    "'",
    "\\",
    "!!! note ",
    "{",
    "}",
    "=",
    "onclick=",
]


def _live_html(rendered: str) -> list[str]:
    found = []

    class Check(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in {"script", "img", "iframe", "object", "embed", "style", "svg", "math"}:
                found.append(tag)
            for name, value in attrs:
                if name.startswith("on"):
                    found.append(name)
                if name in {"href", "src"} and re.match(r"\s*(javascript|data|vbscript):", value or "", re.I):
                    found.append(f"{name}={value}")

    Check().feed(rendered)
    return found


def test_fuzzed_user_strings_never_render_live_html() -> None:
    import markdown
    from hypothesis import given, settings
    from hypothesis import strategies as st

    extensions = ["tables", "footnotes", "admonition", "sane_lists", "toc", "fenced_code"]

    @settings(max_examples=400, deadline=None)
    @given(st.lists(st.sampled_from(_PIECES), max_size=25).map("".join))
    def check(source: str) -> None:
        block = markdown.markdown(md(source), extensions=extensions)
        assert _live_html(block) == [], (source, block)
        cell = markdown.markdown(f"| a |\n|---|\n| {text(source)} |\n\n- {text(source)}", extensions=extensions)
        assert _live_html(cell) == [], (source, cell)

    check()


def test_md_inline_keeps_formatting_on_one_line_without_live_html_or_pipes() -> None:
    from modelgov.render import text as text_filters

    out = text_filters.md_inline("uses `a|b` and <script>x</script> | [x](javascript:alert(1))\nnext *line*")
    assert "\n" not in out
    assert "<code>" in out and "<script>" not in out and "not shown for safety: a &lt;script&gt; element" in out
    assert "|" not in out.replace("&#124;", "")
    assert "](javascript:" not in out
    assert "<em>line</em>" in out


# --------------------------------------------------------------------------- schema 1.1: intervals, comparisons


def cells_of(page: str, anchor: str) -> list[list[str]]:
    """Rows of the first table after the element with id ``anchor``, as plain-text cells."""
    start = page.index(f'id="{anchor}"')
    segment = page[start : page.index("</table>", start)]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", segment, flags=re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)
        rows.append([" ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split()) for cell in cells])
    return rows


def by_first_cell(rows: list[list[str]]) -> dict[str, dict[str, str]]:
    header = rows[0]
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}


def card(site: Path, version: str = "1.1.0", model: str = "credit-default") -> str:
    return (site / f"models/{model}/{version}/index.html").read_text(encoding="utf-8")


def test_interval_filter_formats_bounds_undefined_and_partial_definition() -> None:
    from modelgov.manifest import Interval
    from modelgov.render.text import interval, signed

    plain = re.compile(r"<[^>]+>")
    both = Interval(low=0.7412, high=0.779, level=0.95, resamples=1000, method="m")
    assert plain.sub("", interval(both)) == "0.741 – 0.779"
    assert plain.sub("", interval(both, differences=True)) == "+0.741 to +0.779"
    undefined = Interval(low=None, high=None, level=0.95, resamples=1000, method="m", defined_share=0.41)
    shown = interval(undefined)
    assert "undefined" in shown and "0.000" not in shown and "defined in 41% of resamples" in shown
    partial = Interval(low=0.1, high=0.2, level=0.95, resamples=1000, method="m", defined_share=0.9995)
    assert "defined in 99.9% of resamples" in interval(partial)  # never rounded up to 100%
    assert interval(None) == "not computed"
    assert signed(0.031) == "+0.031" and signed(-0.0381) == "-0.038" and signed(0.0) == "0.000"
    assert "undefined" in signed(None)


@pytest.mark.slow
def test_metric_tables_have_an_interval_column_and_name_the_method_once(site: Path) -> None:
    page = card(site)
    rows = by_first_cell(cells_of(page, "performance-on-holdout-2024q1"))
    assert rows["ROC AUC"]["95% interval"] == "0.794 – 0.829"
    assert rows["Log loss"]["95% interval"] == "0.447 – 0.478"
    assert rows["F1"]["95% interval"] == "not computed"
    section = page[
        page.index('id="performance-on-holdout-2024q1"') : page.index('id="groups-by-sex-on-holdout-2024q1"')
    ]
    assert section.count("Intervals: 95% percentile bootstrap over rows, 1,000 resamples.") == 1  # once per table
    oot = by_first_cell(cells_of(page, "performance-on-out-of-time-2024q2"))
    assert oot["Precision"]["95% interval"].startswith("undefined")
    assert "defined in 41% of resamples" in oot["Precision"]["95% interval"]
    assert "0.000" not in oot["Precision"]["95% interval"]
    assert oot["ROC AUC"]["95% interval"] == ""  # undefined metric, no interval: nothing to add
    assert oot["Recall"]["95% interval"] == "0.541 – 0.668 (defined in 97.3% of resamples)"
    # A table without intervals or notes gets no empty columns.
    bike = cells_of(card(site, "2024.1", "bike-demand"), "performance-on-holdout-2012q4")
    assert bike[0] == ["Metric", "Value", "95% interval", "Better when"]


@pytest.mark.parametrize(
    ("higher_is_better", "low", "high", "expected"),
    [
        (True, 0.01, 0.05, "better"),
        (True, -0.05, -0.01, "worse"),
        (True, -0.01, 0.02, "no clear difference"),
        (True, 0.0, 0.02, "no clear difference"),  # touching zero is not excluding it
        (False, -0.05, -0.01, "better"),
        (False, 0.01, 0.05, "worse"),
        (False, -0.02, 0.01, "no clear difference"),
        (True, None, None, "cannot tell"),
    ],
)
def test_comparison_verdict_takes_the_direction_of_the_metric_into_account(
    higher_is_better: bool, low: float | None, high: float | None, expected: str
) -> None:
    from modelgov.manifest import Interval, MetricDelta
    from modelgov.render.views import delta_verdict

    interval = Interval(low=low, high=high, level=0.95, resamples=1000, method="paired")
    delta = MetricDelta(
        name="m", label="M", this=0.5, other=0.48, delta=0.02, interval=interval, higher_is_better=higher_is_better
    )
    assert delta_verdict(delta).word == expected
    assert delta_verdict(delta.model_copy(update={"interval": None})).word == "cannot tell"
    assert delta_verdict(delta.model_copy(update={"delta": None})).word == "cannot tell"


@pytest.mark.slow
def test_comparison_with_the_previous_version_shows_deltas_intervals_and_verdicts(site: Path) -> None:
    page = card(site)
    assert page.index('id="quantitative-analyses"') < page.index('id="compared-with-version-100"')
    section = page[page.index('id="compared-with-version-100"') : page.index('id="performance-on-holdout-2024q1"')]
    text_ = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", section)).split())
    assert "same 4,000 rows of Credit holdout 2024" in text_
    assert "rows matched by id column application_id" in text_
    assert "better on 2, worse on 2, no clear difference on 1, cannot tell on 1 of 6 metrics" in text_
    assert 'href="../1.0.0/index.html"' in section
    rows = by_first_cell(cells_of(page, "compared-with-version-100"))
    verdicts = {metric: row["Verdict"] for metric, row in rows.items()}
    assert verdicts == {
        "ROC AUC": "better",
        "Accuracy": "no clear difference",
        "Recall": "worse",
        "Log loss": "better",  # lower is better, and it went down
        "Brier score": "worse",  # lower is better, and it went up
        "Precision": "cannot tell (no interval was computed)",
    }
    assert rows["ROC AUC"]["Difference"] == "+0.031"
    assert rows["ROC AUC"]["95% interval of the difference"] == "+0.019 to +0.043"
    assert rows["Log loss"]["95% interval of the difference"] == "-0.038 to -0.014"
    assert rows["Log loss"]["Better when"] == "lower"
    assert "Intervals: 95% paired percentile bootstrap over matched rows, 1,000 resamples." in text_


# --------------------------------------------------------------------------- schema 1.1: fairness


@pytest.mark.slow
def test_a_declared_group_missing_from_the_data_is_reported_absent_not_zero(site: Path) -> None:
    page = card(site)
    rows = by_first_cell(cells_of(page, "groups-by-sex-on-holdout-2024q1"))
    absent = rows["non-binary absent from the data"]  # the group, flagged
    assert absent["Rows share"] == "0 0.0%"
    for label in ["Selection rate", "TPR", "Precision"]:
        assert absent[label] == "absent"
    assert "non-binary is expected by the model card but has no rows in this" in " ".join(page.split())
    chart = plotly_figures(page)["chart--fairness--credit-default--1.1.0--holdout-2024q1--sex"]
    assert any(a.get("text") == "<i>absent</i>" for a in chart[1]["annotations"])


@pytest.mark.slow
def test_an_intersection_lists_only_combinations_that_occur(site: Path) -> None:
    page = card(site)
    rows = cells_of(page, "groups-by-sex-age_band-on-holdout-2024q1")
    assert rows[0][0] == "sex × age_band"
    names = [row[0] for row in rows[1:]]
    assert names[0] == "All rows" and "female × 18-25" in names and "male × 66+ small: unreliable" in names
    assert not any(name.startswith("female × 66+") for name in names)
    assert "combinations with no rows are not listed" in " ".join(page.split())
    chart_id = f"chart--fairness--credit-default--1.1.0--holdout-2024q1--{slug('sex × age_band')}"
    data, layout = plotly_figures(page)[chart_id]
    assert layout["showlegend"] is True
    assert sorted(t["name"] for t in data if t.get("showlegend")) == ["sex = female", "sex = male"]


@pytest.mark.slow
def test_group_charts_have_interval_whiskers_and_an_overall_band(site: Path) -> None:
    data, layout = plotly_figures(card(site))["chart--fairness--credit-default--1.1.0--holdout-2024q1--age_band"]
    whiskers = [trace for trace in data if "error_y" in trace]
    assert len(whiskers) == 5  # one per metric panel
    first = whiskers[0]  # selection rate: every present group has an interval
    assert first["x"] == ["0", "1", "2", "3", "4"]
    assert all(v >= 0 for v in first["error_y"]["array"] + first["error_y"]["arrayminus"])
    tpr = whiskers[1]  # the small group's TPR is undefined: no whisker, no bar, the word instead
    assert "3" not in tpr["x"]
    assert any(a.get("text") == "<i>undefined</i>" and a["x"] == "3" for a in layout["annotations"])
    bands = [shape for shape in layout["shapes"] if shape["type"] == "rect"]
    assert len(bands) == 5 and all(shape["y0"] < shape["y1"] for shape in bands)


@pytest.mark.slow
def test_disparities_show_values_intervals_and_undefined_with_its_note(site: Path) -> None:
    page = card(site)
    start = page.index('id="groups-by-sex-age_band-on-holdout-2024q1"')
    tail = page[start:]
    anchor = tail.index("How far apart are the groups?")
    rows = cells_of(tail[anchor:].replace("<table>", '<table id="d">', 1), "d")
    header = rows[0]
    assert header[:5] == [
        "Measure",
        "Largest gap between two groups",
        "Groups behind it",
        "Largest gap between a group and all rows",
        "Group behind it",
    ]
    ratio = next(row for row in rows if row[0].startswith("Demographic parity ratio"))
    assert ratio[1].startswith("undefined") and "0.000" not in ratio[1]
    assert ratio[3] == "0.244 0.219 – 0.269"  # the value, its interval under it
    assert "denominator is zero" in ratio[5]
    odds = next(row for row in rows if row[0].startswith("Equalized odds difference"))
    assert odds[5] == "leaves out 1 group(s) where tpr is undefined"  # shared by both methods: once


# --------------------------------------------------------------------------- schema 1.1: detail pages


def plotly_figures(page: str) -> dict[str, tuple[list[dict], dict]]:
    """chart id → (data, layout) of every Plotly.newPlot call on a page."""
    decoder = json.JSONDecoder()
    figures = {}
    for match in re.finditer(r'Plotly\.newPlot\("([^"]+)",', page):
        data, end = decoder.raw_decode(page, match.end())
        layout, _ = decoder.raw_decode(page, end + 1)
        figures[match.group(1)] = (data, layout)
    return figures


DETAIL_PAGES = [
    "models/credit-default/1.1.0/performance.html",
    "models/credit-default/1.1.0/explainability.html",
    "models/credit-default/1.0.0/explainability.html",
    "models/bike-demand/2024.1/performance.html",
    "models/bike-demand/2024.1/explainability.html",
]


@pytest.mark.slow
def test_detail_pages_exist_are_linked_from_the_card_and_link_back(site: Path) -> None:
    for path in DETAIL_PAGES:
        page = (site / path).read_text(encoding="utf-8")
        assert 'href="index.html"' in page, path  # back to the model card
        name = path.rsplit("/", 1)[1]
        assert f'href="{name}"' in (site / path).parent.joinpath("index.html").read_text(encoding="utf-8")
        scripts = plotly_scripts(site / path)
        assert (len(scripts) == 1) == ("Plotly.newPlot(" in page), path  # plotly only where there is a chart
    assert not (site / "models/credit-default/1.0.0/performance.html").exists()  # nothing to show
    page = card(site)
    assert 'href="performance.html#evaluation-holdout-2024q1"' in page
    assert 'href="explainability.html#evaluation-holdout-2024q1"' in page


@pytest.mark.slow
def test_every_figure_names_its_evaluation_run_row_count_and_date(site: Path) -> None:
    manifest = make_manifest()
    caption = re.compile(r"Evaluation (\S+) · ([\d,]+) (?:of ([\d,]+) )?rows · (\d{4}-\d{2}-\d{2})")
    seen = 0
    for model in manifest.models:
        for version in model.versions:
            runs = {run.id: run for run in version.evaluations}
            for page_file in (site / f"models/{model.id}/{version.version}").glob("*.html"):
                for chart_id, (_, layout) in plotly_figures(page_file.read_text(encoding="utf-8")).items():
                    found = caption.search(layout["title"]["subtitle"]["text"])
                    assert found, (page_file, chart_id)
                    run = runs[found.group(1)]
                    assert found.group(4) == run.date
                    total = int((found.group(3) or found.group(2)).replace(",", ""))
                    assert total == run.performance.rows
                    assert f"--{run.id}" in chart_id  # stable ids name the run
                    seen += 1
    assert seen >= 12


@pytest.mark.slow
def test_performance_page_has_confusion_matrix_curves_and_calibration(site: Path) -> None:
    page = (site / "models/credit-default/1.1.0/performance.html").read_text(encoding="utf-8")
    rows = by_first_cell(cells_of(page, "confusion-matrix"))
    assert rows["0"]["0"] == "2,511 (83.7%)" and rows["1"]["1"] == "603 (60.3%)" and rows["Total"]["Total"] == "4,000"
    figures = plotly_figures(page)
    curves = figures["chart--curves--credit-default--1.1.0--holdout-2024q1"]
    assert any("threshold 0.35" in (t.get("text") or [""])[0] for t in curves[0])  # decision threshold marked
    calibration = figures["chart--calibration--credit-default--1.1.0--holdout-2024q1"]
    assert "expected calibration error 0.031" in calibration[1]["title"]["subtitle"]["text"]
    # The empty top bin has no point (not a point at 0), but its bar of 0 rows is there.
    points = next(t for t in calibration[0] if t.get("mode") == "lines+markers")
    assert len(points["x"]) == 9
    assert "it has no score column" in page  # the out-of-time run
    bike = (site / "models/bike-demand/2024.1/performance.html").read_text(encoding="utf-8")
    data, _ = plotly_figures(bike)["chart--errors--bike-demand--2024.1--holdout-2012q4"]
    assert [t["type"] for t in data] == ["bar", "scatter", "scatter"]


@pytest.mark.slow
def test_explainability_page_shows_results_and_the_manifests_notes(site: Path) -> None:
    page = (site / "models/credit-default/1.1.0/explainability.html").read_text(encoding="utf-8")
    figures = plotly_figures(page)
    for kind in ["importance", "partial-dependence", "shap"]:
        assert f"chart--{kind}--credit-default--1.1.0--holdout-2024q1" in figures
    importance = figures["chart--importance--credit-default--1.1.0--holdout-2024q1"][0][0]
    assert importance["error_x"]["array"][0] == 0.0062  # std whiskers
    dependence = figures["chart--partial-dependence--credit-default--1.1.0--holdout-2024q1"][0]
    ice = [t for t in dependence if t.get("hoverinfo") == "skip"]
    assert len(ice) == 3 and all(None in t["y"] for t in ice)  # one trace of faint lines per feature
    assert 'class="admonition warning"' not in page  # nothing missing on this run
    slices = cells_of(page, "where-the-model-errs-most")
    assert slices[0][:3] == ["Slice", "Rows", "Error rate in the slice"]
    assert slices[1] == ["age_band : 18-25 income : < 20,000", "96", "35.4%", "21.9%", "1.6×"]

    retired = (site / "models/credit-default/1.0.0/explainability.html").read_text(encoding="utf-8")
    warning = retired[retired.index('class="admonition warning"') :]
    warning = warning[: warning.index("</div>")]
    notes = make_manifest().model("credit-default").versions[1].evaluations[0].explainability.notes
    for note in notes:
        assert html.escape(note, quote=False) in warning
    assert "Importance declared in the training metadata" in retired and "0.4120" in retired
    assert "Plotly.newPlot(" not in retired

    bike = (site / "models/bike-demand/2024.1/explainability.html").read_text(encoding="utf-8")
    warning = bike[bike.index('class="admonition warning"') :]
    assert "SHAP values not computed: the shap package, a dependency of modelgov, is not installed" in warning
    assert "chart--shap--" not in bike


@pytest.mark.slow
def test_card_says_when_explainability_is_incomplete(site: Path) -> None:
    assert "Some parts could not be computed" in card(site, "2024.1", "bike-demand")
    assert "Some parts could not be computed" not in card(site)


@pytest.mark.slow
def test_odd_schema_1_1_content_still_builds(tmp_path: Path) -> None:
    """Run ids that need escaping (links to a run's section must still resolve in the strict build),
    empty parts, curves without usable thresholds, a comparison with a version not in the build."""
    from modelgov.manifest import Calibration, CalibrationBin, Curve, Explainability

    manifest = make_manifest()
    credit = manifest.models[0]
    current = credit.versions[0]
    holdout = current.evaluations[0]
    perf = holdout.performance.model_copy(
        update={
            "roc_curve": Curve(x=[0.0, 0.5, 1.0], y=[0.0, 0.8, 1.0]),  # no thresholds
            "pr_curve": None,
            "calibration": Calibration(
                bins=[CalibrationBin(low=0, high=1, count=0, mean_predicted=None, fraction_positive=None)],
                expected_calibration_error=0.0,
            ),
        }
    )
    odd_run = holdout.model_copy(
        update={"id": "Run A/B_1 <x>", "performance": perf, "explainability": Explainability(notes=["Nothing ran."])}
    )
    comparison = current.comparisons[0].model_copy(update={"other_version": "0.9 (gone)", "deltas": []})
    version = current.model_copy(update={"evaluations": [odd_run], "comparisons": [comparison]})
    credit = credit.model_copy(update={"versions": [version, credit.versions[1]]})
    site = tmp_path / "odd"
    render_site(manifest.model_copy(update={"models": [credit, manifest.models[1]]}), site)
    page = (site / "models/credit-default/1.1.0/index.html").read_text(encoding="utf-8")
    assert "(gone) (not in this build)" in page
    assert "No metric differences are recorded for this comparison." in page
    assert "No explainability results are recorded for this run; the notes above say why." in (
        site / "models/credit-default/1.1.0/explainability.html"
    ).read_text(encoding="utf-8")


def test_workspace_templates_run_sandboxed(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    marker = tmp_path / "pwned"
    (templates / "build.md.j2").write_text(
        "# x\n{{ cycler.__init__.__globals__.os.system('touch " + str(marker) + "') }}\n"
    )
    with pytest.raises(BuildError, match=r"SecurityError|undefined"):
        render_site(make_manifest(), tmp_path / "site", template_dir=templates)
    assert not marker.exists()


def test_symlinked_template_assets_are_not_published(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("host secret")
    assets = tmp_path / "templates" / "assets"
    assets.mkdir(parents=True)
    (assets / "leak.txt").symlink_to(secret)
    (assets / "ok.txt").write_text("fine")
    site = tmp_path / "site"
    render_site(make_manifest(), site, template_dir=tmp_path / "templates")
    assert (site / "assets" / "ok.txt").is_file()
    assert not (site / "assets" / "leak.txt").exists()


def test_a_user_footnote_cannot_collide_with_the_site_footnotes() -> None:
    from modelgov.render import text as text_filters

    assert "[^undefined]" not in text_filters.md("see [^undefined]\n\n[^undefined]: mine")


def test_a_difference_that_rounds_to_zero_keeps_its_sign() -> None:
    from modelgov.render.text import signed

    assert signed(0.00035) == "+0.0003" and signed(-0.00036) == "-0.0004"
    assert signed(0.028) == "+0.028" and signed(0.0) == "0.000" and signed(-0.012) == "-0.012"


def test_a_remote_log_is_shown_with_its_listing_fingerprint_not_as_a_content_hash() -> None:
    from modelgov.manifest import FileRef
    from modelgov.render.pages import render_pages

    base = make_manifest()
    remote = FileRef(path="s3a://lake/scoring/part-0.parquet", sha256="ab" * 32, bytes=1024, identity="listing")
    manifest = base.model_copy(update={"inputs": [*base.inputs, remote]})
    build_page = next(p for p in render_pages(manifest) if p.path == "build.md")
    assert "1 of them are logs in remote storage" in build_page.markdown
    row = next(line for line in build_page.markdown.splitlines() if "s3a://lake" in line)
    assert "(listing fingerprint)" in row
    local_rows = [line for line in build_page.markdown.splitlines() if "holdout" in line and line.startswith("|")]
    assert local_rows and not any("listing" in line for line in local_rows)


# --------------------------------------------------------------------------- rendered once


def test_user_markdown_output_is_inert_for_a_second_markdown_render() -> None:
    """The filters' output is Markdown MkDocs renders again: an escaped link, an entity-written one
    or an escaped image that the first render turns into plain text must stay text."""
    import markdown

    from modelgov.render import text as text_filters

    for source in (r"\[x\](javascript:alert(1))", "&#91;x&#93;(javascript:alert(1))", r"!\[i\](http://e.com/a.png)"):
        for out in (text_filters.md_inline(source), md(source), text(source)):
            assert "[" not in out and "](" not in out, out
            again = markdown.markdown(f"| a |\n|---|\n| {out} |\n\n- {out}\n\n{out}", extensions=["tables"])
            assert "<a " not in again and "<img" not in again, again


def test_user_headings_move_below_the_page_sections_and_code_keeps_its_lines() -> None:
    block = md("# Top\n\n## Sub\n\n```\nline one\n\nline three\n```")
    assert "<h4>Top</h4>" in block and "<h5>Sub</h5>" in block
    assert "line one&#10;&#10;line three" in block  # one raw HTML line: no blank line ends the block
    assert "\n\n" not in block


def test_text_filters_show_control_characters_and_bidi_overrides_as_escapes() -> None:
    from modelgov.render.text import plain

    assert plain("a\x1b[31mb\u202ec") == "a\\x1b[31mb\\u202ec"
    assert "\x1b" not in text("\x1b[2J") and "x1b" in text("\x1b[2J")
    assert "\u202e" not in md("x\u202ey") and "u202e" in md("x\u202ey")
    assert plain("tab\tand\nline") == "tab and line"  # layout whitespace still collapses on one line


def test_a_very_long_inline_value_is_cut_visibly_and_saying_where_the_rest_is() -> None:
    from modelgov.render.text import INLINE_LIMIT, md_inline, text

    value = "a" * INLINE_LIMIT + "b" * 6_000
    for shown in (text(value), md_inline(value)):
        assert "a" * INLINE_LIMIT in shown and "b" not in shown.split("…")[0]
        assert "6,000 more characters, not shown; the full text is in manifest.json" in shown
    assert text("short") == "short"


def test_the_render_command_writes_the_site_of_a_saved_manifest(site: Path, tmp_path: Path) -> None:
    """`modelgov render` of a manifest saved to JSON writes the bytes of the in-memory render, plus what
    a build writes beside the pages: the policy results and the marker of a modelgov site (the demo's
    saved manifest, with its dossiers, is tests/test_end_to_end.py's)."""
    import hashlib

    from modelgov.cli import main

    saved = tmp_path / "manifest.json"
    manifest_io.write(make_manifest(), saved)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        assert main(["render", str(saved), "-o", str(tmp_path / "rendered"), "-q"]) == 0

    def digest(folder: Path) -> dict[str, str]:
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}

    rendered, pages = digest(tmp_path / "rendered"), digest(site)
    assert {name: rendered[name] for name in pages if name in rendered} == pages
    assert set(rendered) - set(pages) == {".modelgov-site", "policy-results.csv", "policy-results.json"}


def test_odd_training_parameters_read_the_same_from_a_build_and_from_its_saved_manifest(tmp_path: Path) -> None:
    """Parameters YAML writes as NaN, infinity, a set or a date and time: the card says them as the
    saved manifest holds them (`NaN`, not `nan` on the build's page and nothing in the file), a set in
    one order, and `modelgov render` of the saved manifest writes the build's pages byte for byte."""
    from modelgov.cli import main
    from workspace_factory import write_workspace

    workspace = write_workspace(tmp_path / "ws")
    version = workspace / "models/loans/versions/1.0/version.yml"
    odd = "    C: 1.0\n    tol: .nan\n    max_iter: .inf\n    kinds: !!set {c, a, b}\n    when: 2026-01-02 10:00:00\n"
    version.write_text(version.read_text().replace("    C: 1.0\n", odd))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        assert main(["build", str(workspace), "-o", str(tmp_path / "built"), "-q", "--no-cache"]) in (0, 1)
        assert main(["render", str(tmp_path / "built/manifest.json"), "-o", str(tmp_path / "rendered"), "-q"]) == 0
    saved = json.loads((tmp_path / "built/manifest.json").read_text())["models"][0]["versions"][0]["training"]
    assert saved["params"] == {
        "C": 1.0,
        "tol": "NaN",
        "max_iter": "Infinity",
        "kinds": ["a", "b", "c"],
        "when": "2026-01-02T10:00:00",
    }
    pages = sorted(p.relative_to(tmp_path / "built") for p in (tmp_path / "built").rglob("*.html"))
    assert pages and all(
        (tmp_path / "built" / p).read_bytes() == (tmp_path / "rendered" / p).read_bytes() for p in pages
    )
    card = html.unescape(re.sub(r"<[^>]+>", "", (tmp_path / "built/models/loans/1.0/index.html").read_text()))
    assert "tol = NaN" in card and "max_iter = Infinity" in card and "kinds = ['a', 'b', 'c']" in card


def test_parameters_whose_keys_would_be_written_alike_are_a_clear_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`.nan` and `"NaN"` as keys of one mapping would both be the key `NaN` in the manifest: the build
    refuses the file, naming it, the line and the keys, rather than keep one value and drop the other."""
    from modelgov.cli import main
    from workspace_factory import write_workspace

    workspace = write_workspace(tmp_path / "ws")
    version = workspace / "models/loans/versions/1.0/version.yml"
    version.write_text(version.read_text().replace("    C: 1.0\n", '    C: 1.0\n    grid: {.nan: 1, "NaN": 2}\n'))
    assert main(["build", str(workspace), "-o", str(tmp_path / "site"), "-q", "--no-cache"]) == 2
    said = capsys.readouterr().err
    assert "models/loans/versions/1.0/version.yml:" in said and "training.params" in said
    assert "the keys nan and 'NaN' would both be written as 'NaN'" in said
    assert not (tmp_path / "site").exists()


def test_a_models_page_key_follows_what_its_pages_can_read(tmp_path: Path) -> None:
    """The page cache's key of a model changes when its own entry changes, including a user's mapping
    reordered (the page shows it in the new order), and not when another model's does; every model's
    key changes when a template does."""
    from modelgov.render.model_pages import _model_pages_key, cache_scope

    def keys(manifest, template_dir=None) -> list[str]:
        shared, index = cache_scope(manifest, template_dir)
        return [_model_pages_key(manifest, shared, index, model) for model in manifest.models]

    base = make_manifest()
    before = keys(base)
    assert before == keys(make_manifest()) and len(set(before)) == len(before)

    model = base.models[0]
    version = model.versions[0]
    params = dict(reversed(list(version.training.params.items())))
    assert len(params) > 1 and list(params) != list(version.training.params)
    reordered = version.model_copy(update={"training": version.training.model_copy(update={"params": params})})
    changed = base.model_copy(
        update={"models": [model.model_copy(update={"versions": [reordered, *model.versions[1:]]}), *base.models[1:]]}
    )
    after = keys(changed)
    assert after[0] != before[0] and after[1:] == before[1:]

    (tmp_path / "model.md.j2").write_text("{{ model.name }}\n", encoding="utf-8")
    assert all(a != b for a, b in zip(keys(base, tmp_path), before, strict=True))


def test_a_chart_shown_twice_on_a_page_gets_an_element_of_its_own() -> None:
    # a workspace template may show a chart twice: each must be drawn into its own element
    from modelgov.render.page_context import PageContext, SiteLookups

    manifest = make_manifest()
    model = manifest.model("credit-default")
    version = model.versions[-1]
    run = version.evaluations[0]
    page = PageContext(manifest, SiteLookups(manifest), "models/credit-default/index.md")
    first, second = (page.fairness_chart(model, version, run, run.fairness[0]) for _ in range(2))
    ids = [re.search(r'<div class="mg-chart" id="([^"]+)"', chart).group(1) for chart in (first, second)]
    targets = [re.search(r'Plotly\.newPlot\("([^"]+)"', chart).group(1) for chart in (first, second)]
    assert ids == targets
    assert ids[1] == ids[0] + "--2"
    assert second.replace(ids[1], ids[0]) == first  # nothing else changed
    # a chart whose own id ends as a renamed one does: every element still has an id of its own
    chart = '<div class="mg-chart" id="{0}"></div><script>Plotly.newPlot("{0}",[],{{}},{{}});</script>'
    shown = [page._chart(chart.format(i)) for i in ("chart--a", "chart--a", "chart--a--2", "chart--a")]
    assert [re.search(r'id="([^"]+)"', c).group(1) for c in shown] == [
        "chart--a", "chart--a--2", "chart--a--2--2", "chart--a--3"
    ]  # fmt: skip


def test_a_manifest_naming_a_result_twice_is_not_drawn(tmp_path: Path) -> None:
    """A saved manifest from before the loader refused a feature listed twice still reads, but its
    pages would draw the first result twice: the site is refused, naming the version and the list."""
    data = json.loads(manifest_io.dump_bytes(make_manifest()))
    run = data["models"][0]["versions"][-1]["evaluations"][0]
    run["fairness"].append(run["fairness"][0])
    (tmp_path / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    manifest = manifest_io.read(tmp_path / "manifest.json")  # read as before: audit verify, export
    with pytest.raises(BuildError, match=r"credit-default 1\.0\.0: the fairness of evaluation 'holdout-2023q3' holds "
                       r"more than one result for 'sex'.*list it once and build again"):  # fmt: skip
        render_site(manifest, tmp_path / "site")
    assert not (tmp_path / "site").exists()


def test_no_template_line_loses_its_indentation_to_a_block_tag() -> None:
    """The pages' environment strips the spaces before a block tag at the start of a line
    (``lstrip_blocks``). An admonition's body is its indented lines: a body line that began with
    ``{% if %}`` lost its four spaces, and the rest of the warning fell outside its box (the open flag's
    count, the KPI warning's figures). Such a line must start with ``{%+``, which keeps them."""
    from modelgov import resources

    stripped = [
        f"{path.name}:{number}"
        for path in sorted(resources.site_templates_dir().rglob("*.j2"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.match(r"[ \t]+\{%(?![+-])", line)
    ]
    assert stripped == []
