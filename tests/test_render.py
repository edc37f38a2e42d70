"""Rendering: a manifest in, a strict, offline, escaped, deterministic static site out."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from manifest_factory import make_manifest
from modelgov import manifest as manifest_io
from modelgov.errors import BuildError
from modelgov.render import render_site
from modelgov.render.pages import site_nav
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
        "Approvals",
        "Monitoring log",
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
    assert [item.title for item in nav] == ["Home", "Models", "Datasets", "Build record"]
    credit = nav[1].children[0]
    assert credit.title == "Credit default risk"
    assert [child.title for child in credit.children] == [
        "Overview",
        "Version 1.1.0 (production)",
        "Version 1.0.0 (retired)",
    ]


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
def test_hostile_description_is_shown_as_text(site: Path) -> None:
    page = (site / "models/bike-demand/2024.1/index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
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


def test_md_filter_keeps_formatting_and_escapes_raw_html_and_code() -> None:
    import markdown

    source = "**bold** [ok](https://example.com)\n\n<script>x</script>\n\n`a < b`\n\n```\nif a < b:\n```"
    rendered = markdown.markdown(md(source), extensions=["tables", "fenced_code"])
    assert "<strong>bold</strong>" in rendered
    assert '<a href="https://example.com">ok</a>' in rendered
    assert "<script>" not in rendered
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
    # Group, Rows, Share, Selection rate, TPR, FPR, FNR, Precision
    assert "small: unreliable" in cells[0]
    assert "undefined" in cells[4] and "0.000" not in cells[4]
    assert "undefined" in cells[6]
    assert cells[7] == "0.000"  # a real zero stays a zero
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
    assert "<code>" in out and "<script>" not in out and "&lt;script&gt;" in out
    assert "|" not in out.replace("&#124;", "")
    assert "](javascript:" not in out
    assert "*line*" in out
