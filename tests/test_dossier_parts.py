"""The dossier's parts, without writing a PDF: the site's chart specifications drawn again with the
same numbers and colours, user text sanitised as on the site, the EU pack's obligations in the order
of Annex IV, and a fetcher that fetches nothing."""

from __future__ import annotations

import re

import pytest

from modelgov import manifest as mf
from modelgov.dossier import charts
from modelgov.dossier.governance import _pack_table
from modelgov.manifest import Policy, PolicyReference, PolicyResult, PolicyRule


@pytest.fixture(scope="module")
def demo(demo_build) -> mf.Manifest:
    return mf.read(demo_build.site / "manifest.json")


def _credit(demo: mf.Manifest):
    model = demo.model("credit-default")
    version = next(v for v in model.versions if v.status == "production")
    return model, version, version.evaluations[0]


def test_a_fairness_chart_is_drawn_with_the_specs_numbers_and_colours(demo) -> None:
    import matplotlib
    from matplotlib.colors import to_hex
    from matplotlib.patches import Rectangle

    from modelgov.render.chart_style import PALETTE
    from modelgov.render.fairness_charts import fairness_chart

    model, version, run = _credit(demo)
    result = run.fairness[0]
    data, layout = charts.figure_spec(fairness_chart(model, version, run, result))
    bars = [t for t in data if t.get("type") == "bar"]
    with matplotlib.rc_context(charts._RC):
        figure = charts.draw(data, layout)
    drawn = [
        patch
        for ax in figure.axes
        for patch in ax.patches
        if isinstance(patch, Rectangle) and patch.get_visible() and patch.get_height() > 0 and patch.get_width() < 1
    ]
    expected = [(y, c) for t in bars for y, c in zip(t["y"], t["marker"]["color"], strict=True) if y is not None]
    assert len(drawn) == len(expected) > 0
    for patch, (height, colour) in zip(drawn, expected, strict=True):
        assert patch.get_height() == pytest.approx(height, abs=1e-12)
        assert to_hex(patch.get_facecolor()) == colour.lower()
    # the bars' heights are the manifest's group rates, in the colours of the site's palette
    first = [g.metrics[next(iter(result.metric_labels))] for g in result.groups if not g.absent]
    assert [p.get_height() for p in drawn[: len(first)]] == pytest.approx([v for v in first if v is not None])
    assert {to_hex(p.get_facecolor()).upper() for p in drawn} <= set(PALETTE)
    svg = charts.svg(data, layout)
    for group in result.groups:
        assert f">{group.group}<" in svg.replace("\n", "")  # tick labels stay text
    assert "sex: metrics by group" in svg


def test_svg_output_is_deterministic_and_dollar_signs_are_not_mathematics(demo) -> None:
    from modelgov.render.explanation_charts import importance_chart

    model, version, run = _credit(demo)
    data, layout = charts.figure_spec(importance_chart(model, version, run))
    assert charts.svg(data, layout) == charts.svg(data, layout)
    assert charts.label("<b>cost</b> in $ &amp; $x$") == r"cost in \$ & \$x\$"
    assert charts.colour("rgba(0,114,178,0.16)") == pytest.approx((0, 114 / 255, 178 / 255, 0.16))


def test_an_intersections_legend_names_the_colours_as_the_site_does(demo) -> None:
    import matplotlib
    from matplotlib.colors import to_hex
    from matplotlib.container import BarContainer

    from modelgov.render.fairness_charts import fairness_chart

    model, version, run = _credit(demo)
    result = next(r for r in run.fairness if " × " in r.feature)
    data, layout = charts.figure_spec(fairness_chart(model, version, run, result))
    entries = [t for t in data if t.get("showlegend")]  # the site's legend: the first feature's values
    assert layout["showlegend"] and len(entries) >= 2
    with matplotlib.rc_context(charts._RC):
        figure = charts.draw(data, layout)
    (legend,) = figure.legends
    assert [text.get_text() for text in legend.get_texts()] == [charts.label(t["name"]) for t in entries]
    assert [to_hex(h.get_facecolor()) for h in legend.legend_handles] == [t["marker"]["color"].lower() for t in entries]
    # a legend-only trace draws no bar of its own: one bar for each value the traces hold
    bars = [bar for ax in figure.axes for drawn in ax.containers if isinstance(drawn, BarContainer) for bar in drawn]
    drawn_traces = [t for t in data if t.get("type") == "bar" and any(v is not None for v in t["y"])]
    assert len(bars) == sum(len(t["y"]) for t in drawn_traces)
    assert sum(bar.get_visible() for bar in bars) == sum(v is not None for t in drawn_traces for v in t["y"])
    # a chart of one feature's groups has no legend, as on the site
    single = next(r for r in run.fairness if " × " not in r.feature)
    data, layout = charts.figure_spec(fairness_chart(model, version, run, single))
    with matplotlib.rc_context(charts._RC):
        assert not charts.draw(data, layout).legends


def test_a_charts_caption_shows_a_dollar_sign_as_written(demo) -> None:
    from modelgov.dossier.document import _fairness_figures

    model, version, run = _credit(demo)
    result = run.fairness[0].model_copy(update={"feature": "income $ band"})
    body = _fairness_figures(model, version, run, result)
    assert "Figure: income $ band: metrics by group" in body
    assert "\\$" not in body and "&#92;$" not in body


def test_user_text_is_sanitised_as_on_the_site_and_nothing_is_fetched(demo) -> None:
    from modelgov.dossier.document import build_dossier

    model, version, _ = _credit(demo)
    hostile = "**kept**\n\n<script>alert(1)</script> [x](javascript:alert(1)) <img src=http://evil.example/p.png>"
    card = model.card.model_copy(
        update={"description": hostile, "caveats": "<style>@import url(http://evil.example)</style>"}
    )
    models = [m.model_copy(update={"card": card}) if m.id == model.id else m for m in demo.models]
    dossier = build_dossier(demo.model_copy(update={"models": models}), model.id, version.version)
    body = dossier.html
    assert "<script" not in body and "<style" not in body.split("</head>")[1]
    assert not re.search(r"""(?:src|href)=["']?(?:javascript:|https?://evil)""", body)
    assert "<strong>kept</strong>" in body
    assert "Not shown for safety" in body  # the site's note that sanitising took something out


def test_the_fetcher_refuses_every_address_but_its_own_data(tmp_path) -> None:
    from modelgov.dossier.pdf import _fetcher, available

    if available() is not None:
        pytest.skip(available())
    from weasyprint.urls import URLFetchingError

    fetcher = _fetcher()
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    for url in (f"file://{secret}", "http://127.0.0.1:9/x.png", "https://example.org/font.woff"):
        with pytest.raises(URLFetchingError):
            fetcher.fetch(url)
    assert fetcher.fetch("data:text/plain;base64,aGk=") is not None


def _rule(rule_id: str, clause: str) -> PolicyRule:
    return PolicyRule(
        id=rule_id,
        title=rule_id,
        kind="evidence",
        requirement="x",
        severity="blocking",
        scope="",
        references=[PolicyReference(framework="EU AI Act", clause=clause)],
    )


def test_the_eu_packs_obligations_follow_annex_iv() -> None:
    from modelgov.manifest import FileRef

    rules = [_rule("monitoring", "Annex IV, point 9"), _rule("oversight", "Art. 14"),
             _rule("metrics", "Annex IV, point 4"), _rule("purpose", "Annex IV, point 1(a)"),
             _rule("testing", "Annex IV, point 2(g)"), _rule("data", "Annex IV, point 2(d)")]  # fmt: skip
    source = FileRef(path="eu.yml", sha256="0" * 64, bytes=1)
    policy = Policy(id="eu", title="EU", pack="eu-ai-act-high-risk", source=source, scope="all", rules=rules)
    result = PolicyResult(
        policy="eu", rule="metrics", model="m", version="1", severity="blocking", outcome="pass", message="ok"
    )
    html = _pack_table(policy, {("eu", "metrics"): result})
    order = [m for m in re.findall(r"<code>([a-z]+)</code><br/>", html)]
    assert order == ["purpose", "data", "testing", "metrics", "monitoring", "oversight"]
    other = policy.model_copy(update={"pack": "nist-ai-rmf"})
    assert re.findall(r"<code>([a-z]+)</code><br/>", _pack_table(other, {})) == [r.id for r in rules]


def test_the_cover_names_the_organisation_once() -> None:
    from modelgov.dossier.document import _masthead

    assert _masthead("Acme Financial Group", "Acme Financial Group — Model Governance") == (
        "Acme Financial Group — Model Governance"
    )
    assert _masthead("Acme", "Model Governance") == "Acme · Model Governance"
    assert "<" not in _masthead("A & B", "<Risk>") and "&#60;Risk&#62;" in _masthead("A & B", "<Risk>")


_DRAW = """
import sys
from modelgov.dossier import charts
data = [{"type": "bar", "x": ["a", "b"], "y": [0.25, 0.75], "name": "rate"}]
layout = {"title": {"text": "A chart"}, "yaxis": {"title": {"text": "rate"}}}
sys.stdout.write(charts.svg(data, layout))
"""


def test_a_matplotlibrc_in_the_working_folder_does_not_change_a_chart(tmp_path) -> None:
    """matplotlib reads ``matplotlibrc`` from the working folder (and MATPLOTLIBRC, MPLCONFIGDIR) when
    it is imported; the dossier draws with matplotlib's own defaults, so a file a pull request adds
    beside the workspace cannot change a chart, nor an entry cached under the same manifest."""
    import os
    import subprocess
    import sys

    clean, hostile = tmp_path / "clean", tmp_path / "hostile"
    clean.mkdir()
    hostile.mkdir()
    (hostile / "matplotlibrc").write_text("ytick.labelsize: 0\naxes.facecolor: red\nlines.linewidth: 40\n")
    env = {k: v for k, v in os.environ.items() if k not in ("MATPLOTLIBRC", "MPLCONFIGDIR")}

    def drawn(folder):
        done = subprocess.run([sys.executable, "-c", _DRAW], cwd=folder, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout

    plain = drawn(clean)
    assert "<svg" in plain and drawn(hostile) == plain


def _decoded(html: str) -> list[str]:
    """Every text and attribute value of ``html`` as a browser or WeasyPrint reads it, references decoded."""
    from html.parser import HTMLParser

    parts: list[str] = []

    class Reader(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            parts.extend(value or "" for _, value in attrs)

        def handle_data(self, data: str) -> None:
            parts.append(data)

    reader = Reader(convert_charrefs=True)
    reader.feed(html)
    reader.close()
    return parts


def test_character_references_in_user_markdown_reach_the_dossier_as_escapes_not_characters(demo) -> None:
    """A red-team pass wrote ``&#x202E;`` and tag characters as references into a card: markdown-it
    decodes them, and the dossier (unlike a page) had no later pass, so its PDF showed the text
    reversed and carried a hidden sentence. Decoded, no control or invisible character is left, and
    each shows as an escape."""
    from modelgov.dossier.document import build_dossier
    from modelgov.text_safety import hidden

    model, version, _ = _credit(demo)
    tags = "".join(f"&#x{0xE0000 + ord(c):X};" for c in "ignore")
    hostile = (
        f'Approved&#x202E;desserppa {tags} &rlm;x&#8206; [link](https://example.org/a&#x202E;b "t&#x2066;itle")\n\n'
        "- item &#x200B;&#xFEFF;\n\n> quote &#x2028; &#1;"
    )
    card = model.card.model_copy(update={"description": hostile})
    models = [m.model_copy(update={"card": card}) if m.id == model.id else m for m in demo.models]
    html = build_dossier(demo.model_copy(update={"models": models}), model.id, version.version).html
    assert [repr(c) for part in _decoded(html) for c in hidden(part, keep="\n\t")] == []
    text = "".join(_decoded(html))
    for shown in ("Approved\\u202edesserppa", "⟦hidden text: ignore⟧", "\\u200f", "\\u200b\\ufeff", "t\\u2066itle"):
        assert shown in text, shown


def test_a_control_character_that_skipped_every_text_helper_is_still_escaped(demo, monkeypatch) -> None:
    """The document gets the last pass a page gets: a section that wrote user text without a helper
    (as a future one might) still shows an override as an escape."""
    from modelgov.dossier import document, results
    from modelgov.text_safety import hidden

    model, version, _ = _credit(demo)
    monkeypatch.setattr(results, "card_section", lambda model: "<p>raw\u202edesserppa\U000e0041</p>")
    html = document.build_dossier(demo, model.id, version.version).html
    assert [c for part in _decoded(html) for c in hidden(part, keep="\n\t")] == []
    assert "raw\\u202edesserppa⟦hidden text: A⟧" in html


def test_the_monitoring_section_keeps_columns_apart_and_speaks_in_the_kpis_units(demo_build) -> None:
    """Fourteen columns in one table ran headers into each other and broke dates across lines: the
    drift and each group of four metrics are tables of their own, dates never break, and a KPI is
    shown by its card title in its unit with the records it was computed on, as on the site."""
    from modelgov import manifest as manifest_io
    from modelgov.dossier.html import t
    from modelgov.dossier.results import monitoring_section
    from modelgov.render.kpi_views import format_value

    built = manifest_io.read(demo_build.site / "manifest.json")
    model = built.model("credit-default")
    version = next(v for v in model.versions if v.version == "1.1")
    section = monitoring_section(model, version)
    heads = [table.split("</thead>")[0] for table in section.split("<table")[1:] if "<thead>" in table]
    assert len(heads) > 3 and all(len(re.findall(r"<th[ >]", head)) <= 6 for head in heads), heads
    assert '<span class="nowrap">' in section
    assert version.drift.kpis
    for series in version.drift.kpis:
        kpi = next(k for k in model.business.kpis if k.name == series.name)
        assert t(kpi.title) in section
        window = next(w for w in series.windows if w.kpi is not None and w.kpi.value is not None)
        assert t(format_value(kpi, window.kpi.value)) in section
        assert f"KPI {series.name}" not in section


def test_the_dossier_dates_drift_as_the_site_does(demo_build) -> None:
    """Credit 1.1 drifted from early August, stopped, and drifts again since late September. The
    dossier labelled the start of the last run "First drift"; it now says, as the page does, since
    when the version drifts without a break and when drift was first seen."""
    from modelgov import manifest as manifest_io
    from modelgov.dossier.results import monitoring_section

    built = manifest_io.read(demo_build.site / "manifest.json")
    model = built.model("credit-default")
    version = next(v for v in model.versions if v.version == "1.1")
    report = version.drift
    first = next(w for w in report.windows if w.drifted)
    assert report.first_drift is not None and first.start != report.first_drift  # the demo's story
    section = re.sub(r"<[^>]+>", " ", monitoring_section(model, version))
    assert "First drift" not in section
    assert (
        f"Drifting since the window from {report.first_drift[:10]} , without a break to the latest; drift was first "
        f"seen earlier, in the window from {first.start[:10]} , then stopped and started again"
    ) in " ".join(section.split())
    unbroken = report.model_copy(update={"first_drift": first.start})
    said = re.sub(r"<[^>]+>", "", monitoring_section(model, version.model_copy(update={"drift": unbroken})))
    assert "without a break to the latest" in said and "first seen earlier" not in said
