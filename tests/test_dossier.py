"""The archival dossier (``modelgov dossier``): a PDF/A-3 per model version, from the manifest alone.

Checked with readers other than the writer: pikepdf (qpdf) for the PDF/A structure (output intent,
XMP identification, embedded fonts, attachments with their relationship), poppler's pdftotext (pypdf
where poppler is missing) for the text, pypdf for the attachments, pdftoppm (poppler) for page
images and what is drawn beyond a page's edges; numbers against the manifest, attachments byte for
byte against the manifest the build wrote; the same manifest twice gives the same bytes.
"""

from __future__ import annotations

import collections
import hashlib
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from modelgov import manifest as mf

pytestmark = pytest.mark.dossier

pikepdf = pytest.importorskip("pikepdf", reason="pikepdf (test extras) checks the PDF/A structure")
pypdf = pytest.importorskip("pypdf")

MODEL, VERSION = "credit-default", "1.1"
REPO = Path(__file__).resolve().parents[1]


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelgov", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def dossier(demo_build) -> tuple[Path, mf.Manifest]:
    """The demo's production credit model's dossier, as the shared build wrote it (``--dossiers production``)."""
    return demo_build.site / "dossiers" / f"{MODEL}-{VERSION}.pdf", mf.read(demo_build.site / "manifest.json")


def test_the_build_writes_a_dossier_of_each_production_version_and_links_it(demo_build) -> None:
    the_manifest = mf.read(demo_build.site / "manifest.json")
    production = {
        f"{m.id}-{v.version}.pdf" for m in the_manifest.models for v in m.versions if v.status == "production"
    }
    assert {p.name for p in (demo_build.site / "dossiers").iterdir()} == production and len(production) == 3
    for model in the_manifest.models:
        for version in model.versions:
            page = (demo_build.site / "models" / model.id / version.version / "index.html").read_text()
            link = f'href="../../../dossiers/{model.id}-{version.version}.pdf"'
            assert (link in page and "Download the dossier" in page) == (version.status == "production")


def test_the_command_line_writes_the_bytes_the_build_wrote(dossier, demo_build, tmp_path) -> None:
    """The same manifest gives the same bytes: the build wrote this dossier in one of its worker
    processes; ``modelgov dossier`` in a new process, from the site's manifest, writes it again."""
    path, _ = dossier
    out = tmp_path / "credit.pdf"
    done = _run("dossier", str(demo_build.site / "manifest.json"), MODEL, VERSION, "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == path.read_bytes()


def _text(pdf: Path) -> str:
    """The document's text, in the order it is drawn, its white space collapsed: by poppler's
    pdftotext where it is installed (in CI, with the pdftoppm the page images need; a 40-page
    dossier in 1.6 s against pypdf's 7 s), else by pypdf."""
    if shutil.which("pdftotext"):
        done = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, timeout=300)
        assert done.returncode == 0, done.stderr
        text = done.stdout.decode("utf-8")
    else:
        text = "\n".join(page.extract_text() for page in pypdf.PdfReader(str(pdf)).pages)
    return re.sub(r"\s+", " ", text)


def test_the_pdf_is_pdfa3_with_embedded_fonts_an_output_intent_and_attachments(dossier) -> None:
    path, _ = dossier
    with pikepdf.open(path) as pdf:
        assert pdf.pdf_version == "1.7"
        assert not pdf.is_encrypted
        meta = pdf.open_metadata()
        assert meta.pdfa_status == "3U"
        intents = pdf.Root.OutputIntents
        assert len(intents) == 1 and intents[0].S == "/GTS_PDFA1" and "/DestOutputProfile" in intents[0]
        fonts = 0
        for page in pdf.pages:
            for _, font in (page.Resources.get("/Font") or {}).items():
                fonts += 1
                descendants = font.get("/DescendantFonts")
                descriptor = (descendants[0] if descendants else font).get("/FontDescriptor")
                if font.Subtype == "/Type3":
                    continue  # glyphs drawn in the file itself: nothing to embed
                assert descriptor is not None and any(
                    k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")
                ), font
        assert fonts > 0
        names = pdf.Root.Names.EmbeddedFiles.Names
        specs = {str(names[i]): names[i + 1] for i in range(0, len(names), 2)}
        assert set(specs) == {"manifest.json", "policy-results.json"}
        assert all(spec.AFRelationship == "/Data" for spec in specs.values())
        # the catalog's /AF names each attachment (WeasyPrint lists each one twice: the same object)
        assert {spec.objgen for spec in pdf.Root.AF} == {spec.objgen for spec in specs.values()}
        assert "/ID" in pdf.trailer


def test_the_attachments_are_the_manifest_and_the_versions_policy_results(dossier, demo_build) -> None:
    path, the_manifest = dossier
    with pikepdf.open(path) as pdf:
        files = {name: att.get_file().read_bytes() for name, att in pdf.attachments.items()}
    assert files["manifest.json"] == (demo_build.site / "manifest.json").read_bytes()
    results = json.loads(files["policy-results.json"])
    expected = [r for r in the_manifest.governance.results if (r.model, r.version) == (MODEL, VERSION)]
    assert results["model"] == MODEL and results["version"] == VERSION
    assert results["results"] == [r.model_dump(mode="json") for r in expected] and expected
    digest = hashlib.sha256(files["manifest.json"]).hexdigest()
    assert digest in _text(path).replace(" ", "")


def test_a_chart_taller_than_a_page_is_drawn_in_parts_of_its_metrics(demo_build) -> None:
    """The site stacks the seven panels of the credit model's sex × age band chart in one column, a
    chart as tall as two pages: the dossier draws it as the site's chart of a few metrics at a time,
    each part short enough for a page at (nearly) the text's width, every metric once and in order."""
    import html as html_text

    from modelgov.dossier.document import PAGE_HEIGHT_PX, build_dossier
    from modelgov.render import fairness_charts

    the_manifest = mf.read(demo_build.site / "manifest.json")
    version = next(v for v in the_manifest.model(MODEL).versions if v.version == VERSION)
    run = version.evaluations[0]
    result = next(r for r in run.fairness if len(r.features) == 2)
    whole = fairness_charts.fairness_chart(the_manifest.model(MODEL), version, run, result)
    assert charts_height(whole) > 2 * PAGE_HEIGHT_PX  # the site's chart
    captions = [
        html_text.unescape(c)
        for c in re.findall(r"<figcaption>(.*?)</figcaption>", build_dossier(the_manifest, MODEL, VERSION).html)
    ]
    prefix = f"Figure: {result.feature}: metrics by group (part "
    parts = [c for c in captions if c.startswith(prefix) and f"evaluation {run.id}." in c]
    assert len(parts) == 3 and all(f"of {len(parts)}: " in c for c in parts)
    assert not [c for c in captions if c.startswith(f"Figure: {result.feature}: metrics by group. ")]  # not whole too
    labels = [re.search(r"\(part \d+ of \d+: (.*)\)\. Drawn", c).group(1).split(", ") for c in parts]
    assert [label for part in labels for label in part] == list(result.metric_labels.values())
    for part_labels in labels:  # each part is the site's chart of its metrics, and fits
        subset = {k: v for k, v in result.metric_labels.items() if v in part_labels}
        part = fairness_charts.fairness_chart(
            the_manifest.model(MODEL), version, run, result.model_copy(update={"metric_labels": subset})
        )
        assert charts_height(part) <= PAGE_HEIGHT_PX


def charts_height(chart_html: str | None) -> int:
    from modelgov.dossier import charts

    spec = charts.figure_spec(chart_html)
    assert spec is not None
    return int(spec[1]["height"])


def test_every_section_is_there_and_its_numbers_are_the_manifests(dossier) -> None:
    from modelgov.render.text import num

    path, the_manifest = dossier
    text = _text(path)
    model = the_manifest.model(MODEL)
    version = next(v for v in model.versions if v.version == VERSION)
    for title in (
        "What the build found",
        "Model card",
        "The version",
        "Performance",
        "Fairness by sex",
        "Explainability",
        "Monitoring in production",
        "Comparison with the live version",
        "Policy outcomes",
        "Sign-offs and decisions",
        "Obligations of the enabled packs",
        "Lineage",
    ):
        assert title in text, title
    for heading in (model.name, version.status, the_manifest.audit.head, the_manifest.built_at):
        assert heading in text.replace(" ", "") or heading in text, heading
    compact = text.replace(" ", "")
    for run in version.evaluations:
        for metric in run.performance.metrics:
            assert num(metric.value) in text, metric.name
            if metric.interval is not None and metric.interval.low is not None:
                assert f"{num(metric.interval.low)}–{num(metric.interval.high)}" in compact, metric.name
        for result in run.fairness:
            for group in result.groups:
                assert num(group.count) in text
    for approval in version.approvals:
        assert approval.by in text and approval.signature in text
    for window in version.drift.windows:
        assert window.start[:10] in text


def test_verify_checks_the_cover_digest_and_the_signature(dossier, tmp_path) -> None:
    from modelgov.decisions.sign import openssh_public_key, sign_with_ed25519

    path, _ = dossier
    pdf = tmp_path / "d.pdf"
    shutil.copy(path, pdf)
    unsigned = _run("dossier", "verify", str(pdf))
    assert unsigned.returncode == 0 and "unsigned" in unsigned.stdout and "matches the cover" in unsigned.stdout
    assert _run("dossier", "verify", str(pdf), "--require-signature").returncode == 1

    key, stranger = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f'auditor@example.org namespaces="modelgov" {openssh_public_key(key)}\n')
    (tmp_path / "d.pdf.sig").write_text(sign_with_ed25519(key, pdf.read_bytes()))
    good = _run("dossier", "verify", str(pdf), "--allowed-signers", str(allowed), "--require-signature")
    assert good.returncode == 0 and "signed by auditor@example.org" in good.stdout, good.stdout
    # OpenSSH agrees, without modelgov
    if shutil.which("ssh-keygen"):
        check = subprocess.run(
            ["ssh-keygen", "-Y", "verify", "-f", str(allowed), "-I", "auditor@example.org", "-n", "modelgov",
             "-s", str(tmp_path / "d.pdf.sig")],
            input=pdf.read_bytes(), capture_output=True, timeout=60, check=False,
        )  # fmt: skip
        assert check.returncode == 0, check.stderr

    (tmp_path / "d.pdf.sig").write_text(sign_with_ed25519(stranger, pdf.read_bytes()))
    unknown = _run("dossier", "verify", str(pdf), "--allowed-signers", str(allowed))
    assert unknown.returncode == 1 and "is not listed" in unknown.stdout

    (tmp_path / "d.pdf.sig").write_text(sign_with_ed25519(key, pdf.read_bytes()))
    changed = (
        pdf.read_bytes().replace(b"/Producer", b"/Producxr", 1)
        if b"/Producer" in pdf.read_bytes()
        else pdf.read_bytes() + b"\n"
    )
    pdf.write_bytes(changed)
    tampered = _run("dossier", "verify", str(pdf), "--allowed-signers", str(allowed))
    assert tampered.returncode == 1 and "does not verify" in tampered.stdout


def test_verify_finds_an_attached_manifest_that_is_not_the_one_on_the_cover(dossier, tmp_path) -> None:
    path, _ = dossier
    swapped = tmp_path / "swapped.pdf"
    with pikepdf.open(path) as pdf:
        spec = pdf.attachments["manifest.json"]
        other = spec.get_file().read_bytes().replace(b'"credit-default"', b'"credit-defaulT"', 1)
        pdf.attachments["manifest.json"] = pikepdf.AttachedFileSpec(pdf, other, filename="manifest.json")
        pdf.save(swapped)
    done = _run("dossier", "verify", str(swapped))
    assert done.returncode == 1 and "the cover says" in done.stdout, done.stdout


def test_bad_requests_are_clear_errors(demo_build, tmp_path) -> None:
    source = str(demo_build.site / "manifest.json")
    unknown = _run("dossier", source, "no-such-model", "1.0", "-o", str(tmp_path / "x.pdf"))
    assert (
        unknown.returncode == 2 and "no model 'no-such-model'" in unknown.stderr and "Traceback" not in unknown.stderr
    )
    version = _run("dossier", source, MODEL, "9.9", "-o", str(tmp_path / "x.pdf"))
    assert version.returncode == 2 and "has no version '9.9'" in version.stderr
    not_pdf = tmp_path / "n.pdf"
    not_pdf.write_text("hello")
    assert _run("dossier", "verify", str(not_pdf)).returncode == 2


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) renders the pages")
def test_pages_render_as_images_for_a_reader(dossier, tmp_path) -> None:
    """Every page renders; the images are kept beside the browser screenshots for a person to look at."""
    from PIL import Image

    path, _ = dossier
    folder = Path(os.environ.get("MODELGOV_SCREENSHOTS") or REPO / "ci-artifacts" / "screenshots") / "dossier"
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(path), str(folder / "page")], check=True, timeout=300)
    pages = sorted(folder.glob("page-*.png"))
    assert len(pages) == len(pypdf.PdfReader(str(path)).pages) > 10
    for page in pages:
        image = Image.open(page).convert("L")
        low, high = image.getextrema()
        assert high - low > 100, f"{page.name} is blank"  # ink on every page


def _words_by_page(pdf: Path, *extra: str) -> list[collections.Counter[str]]:
    """Every word and number on each page, counted: a panel that ran off a page with only its
    numbers would change the counts, not only the set of words."""
    done = subprocess.run(
        ["pdftotext", "-raw", "-enc", "UTF-8", *extra, str(pdf), "-"], capture_output=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return [collections.Counter(page.split()) for page in done.stdout.decode("utf-8").split("\f")[:-1]]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) reads what a page shows")
def test_nothing_is_drawn_beyond_a_pages_edges(demo_build) -> None:
    """A figure is kept whole on one page, so a chart taller than the page ran off its foot: the
    credit model's grid of seven panels (sex × age band) lost its last three, "False positive rate",
    "False negative rate" and "Precision", with no sign to the reader. pdftotext reads each page as
    it is shown, and, given a reading area far larger than the page, what is drawn off it too: the
    two agree on every page of every demo dossier."""
    checked = 0
    for path in sorted((demo_build.site / "dossiers").glob("*.pdf")):
        shown, drawn = (
            _words_by_page(path),
            _words_by_page(path, "-x", "-3000", "-y", "-3000", "-W", "9000", "-H", "9000"),
        )
        assert len(shown) == len(drawn) > 10
        off = [
            (number, sorted((d - s).elements()))
            for number, (s, d) in enumerate(zip(shown, drawn, strict=True), 1)
            if d - s
        ]
        assert not off, f"{path.name}: text drawn beyond the page (page, words): {off}"
        checked += 1
    assert checked == 3


def _page_texts(pdf: Path) -> list[str]:
    """Each page's text, line by line as drawn: pdftotext (``-raw``) where installed, else pypdf."""
    if shutil.which("pdftotext"):
        done = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout.decode("utf-8").split("\f")[:-1]  # each page ends with a form feed
    return [page.extract_text() for page in pypdf.PdfReader(str(pdf)).pages]


def _broken_words(pdf: Path, words: set[str]) -> list[str]:
    """Where a line ends with part of one of ``words`` and the next line starts with the rest."""
    broken = []
    for number, text in enumerate(_page_texts(pdf), 1):
        lines = [line.split() for line in text.splitlines() if line.strip()]
        for first, second in itertools.pairwise(lines):
            if first[-1] not in words and not first[-1].endswith("-") and first[-1] + second[0] in words:
                broken.append(f"{pdf.name} page {number}: {first[-1]}|{second[0]}")
    return broken


def test_a_word_broken_across_a_cells_lines_is_found(tmp_path: Path) -> None:
    """The check below finds what it looks for: a column too narrow for its words, laid out with the
    dossier's own stylesheet, breaks them, and the check names each break."""
    from importlib import resources

    from modelgov.dossier.pdf import write_pdf

    stylesheet = resources.files("modelgov.dossier").joinpath("dossier.css").read_text(encoding="utf-8")
    html = (
        '<table style="width:30mm"><tr><td style="width:12mm">Equal opportunity</td><td>Demographic</td></tr></table>'
    )
    pdf = tmp_path / "narrow.pdf"
    pdf.write_bytes(write_pdf(html, stylesheet, [], "2026-01-01T00:00:00Z"))
    found = _broken_words(pdf, {"Equal", "opportunity", "Demographic"})
    assert [f.split(": ")[1] for f in found] == ["opportu|nity", "Demogr|aphic"]


def test_the_long_tables_never_break_a_word_across_lines(demo_build) -> None:
    """The fairness gaps and the clauses a person must attest can run to a hundred rows, so their
    columns have fixed widths (automatic widths measure every cell's text): wide enough that no word of
    a gap's name or a clause's title is broken across lines (but after a hyphen), in any of the
    demo's dossiers, as automatic widths once broke "opportunit|y" and "Demogra|phic"."""
    the_manifest = mf.read(demo_build.site / "manifest.json")
    titles = {w for p in the_manifest.governance.policies for c in p.coverage if not c.rules for w in c.title.split()}
    broken, checked, seen = [], 0, set()
    for model in the_manifest.models:
        for version in model.versions:
            path = demo_build.site / "dossiers" / f"{model.id}-{version.version}.pdf"
            if not path.is_file():
                continue
            words = titles | {
                w for run in version.evaluations for r in run.fairness for d in r.disparities for w in d.label.split()
            }
            checked, seen = checked + 1, seen | words
            broken += _broken_words(path, words)
    assert checked == 3 and {"opportunity", "Demographic"} <= seen
    assert not broken


def test_from_a_workspace_with_the_eu_pack_its_obligations_follow_annex_iv(demo_build, tmp_path) -> None:
    """`modelgov dossier WORKSPACE …` analyses through the cache, and the EU AI Act pack's rules come
    in the order of the Annex IV points they document."""
    workspace = tmp_path / "ws"
    shutil.copytree(demo_build.workspace, workspace)
    governance = workspace / "governance.yml"
    if "- eu-ai-act-high-risk\n" not in governance.read_text():  # the demo may enable it already
        governance.write_text(
            governance.read_text().replace(
                "  packs:\n  - baseline\n", "  packs:\n  - baseline\n  - eu-ai-act-high-risk\n"
            )
        )
    assert "- eu-ai-act-high-risk\n" in governance.read_text()
    out = tmp_path / "eu.pdf"
    env = {
        **demo_build.cache_env(),
        "MODELGOV_CACHE_DIR": str(tmp_path / "cache"),
    }  # a copy: the shared one is read only
    shutil.copytree(demo_build.cache_dir, tmp_path / "cache")
    # the candidate's dossier (46 pages against the production version's 69): the pack's obligations
    # are the same section in every version's dossier
    done = _run("dossier", str(workspace), MODEL, "2.0", "-o", str(out), env=env)
    assert done.returncode == 0, done.stderr
    # the manifest the dossier carries says which rules the pack has; the pages list them by Annex IV point
    from modelgov.dossier.governance import _annex_key

    carried = mf.Manifest.model_validate_json(pypdf.PdfReader(str(out)).attachments["manifest.json"][0])
    pack = next(p for p in carried.governance.policies if p.pack == "eu-ai-act-high-risk")
    keys = [min((_annex_key(r.clause) for r in rule.references), default=(99, "")) for rule in pack.rules]
    expected = [rule.id for _, _, rule in sorted(zip(keys, range(len(keys)), pack.rules, strict=True))]
    assert expected != [rule.id for rule in pack.rules]  # the pack's own order is not Annex IV's
    assert keys and min(keys)[0] == 1
    text = _text(out).replace(" ", "")
    position = text.index("(eu-ai-act-high-risk)")
    for rule_id in expected:  # each rule's row after the previous one's
        position = text.index(rule_id.replace(" ", ""), position) + 1
