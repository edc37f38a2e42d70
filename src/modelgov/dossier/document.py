"""One model version's dossier as a document: the cover, the sections in order, the attachments.

Everything comes from the manifest: no analysis is repeated, nothing is read from the workspace.
The cover carries the manifest's digest (SHA-256 of the ``manifest.json`` attached to the PDF, byte
for byte) and the audit chain's head at the build, so a reader can tie the printed pages to the
machine-readable evidence inside the file and to the published audit log.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources

from modelgov import manifest as mf
from modelgov.dossier import charts, governance, results
from modelgov.dossier.html import code, facts, figure, h, p, t
from modelgov.dossier.pdf import Attachment, DossierError
from modelgov.manifest import EvaluationRun, Manifest, Model, ModelVersion
from modelgov.text_safety import visible

MANIFEST_NAME = "manifest.json"
RESULTS_NAME = "policy-results.json"


@dataclass(frozen=True)
class Dossier:
    html: str
    stylesheet: str
    attachments: list[Attachment]
    manifest_digest: str


def manifest_bytes(manifest: Manifest) -> bytes:
    """The canonical ``manifest.json`` (as ``build`` writes it): what the cover's digest is of."""
    return mf.dump_bytes(manifest)


def find_version(manifest: Manifest, model_id: str, version: str) -> tuple[Model, ModelVersion]:
    models = {m.id: m for m in manifest.models}
    if model_id not in models:
        raise DossierError(f"no model {model_id!r} in the manifest (models: {', '.join(sorted(models)) or 'none'})")
    model = models[model_id]
    found = next((v for v in model.versions if v.version == version), None)
    if found is None:
        known = ", ".join(v.version for v in model.versions)
        raise DossierError(f"model {model_id!r} has no version {version!r} (versions: {known})")
    return model, found


#: The tallest chart, in the site's pixels at its width (charts._WIDTH_PX, 760), drawn as one figure.
#: A figure may be 235 mm tall (dossier.css; the rest of the page's 259 mm is for its caption), which
#: at the text's full width (178 mm) is 1,003 pixels; a chart of up to 1,180 is therefore drawn at
#: 85 % of the text's width or more (three rows of the site's panels, 1,120 pixels, at 90 %).
PAGE_HEIGHT_PX = 1180


def _run_chart(kind: str, model: Model, version: ModelVersion, run: EvaluationRun) -> str:
    from modelgov.render import explanation_charts, performance_charts

    if kind.startswith("fairness:"):
        feature = kind.split(":", 1)[1]
        return _fairness_figures(model, version, run, next(r for r in run.fairness if r.feature == feature))
    build = {
        "curves": performance_charts.curves_chart,
        "calibration": performance_charts.calibration_chart,
        "regression": performance_charts.regression_chart,
        "importance": explanation_charts.importance_chart,
    }[kind]
    return _figure(build(model, version, run), run)


def _fairness_figures(model: Model, version: ModelVersion, run: EvaluationRun, result: mf.FairnessResult) -> str:
    """The site's chart of the groups' metrics, as one figure when it fits a page, else as the fewest
    figures that each do, each the site's chart of some of the metrics (in order, as evenly shared as
    they can be): with many groups the site stacks the panels in one column or two, and an
    intersection such as sex × age band gives a chart as tall as two pages."""
    from modelgov.render import fairness_charts

    metrics = list(result.metric_labels.items())
    whole = fairness_charts.fairness_chart(model, version, run, result)
    if _height(whole) <= PAGE_HEIGHT_PX:
        return _figure(whole, run)
    for figures in range(2, len(metrics) + 1):  # the fewest figures whose charts each fit
        sizes = [len(metrics) // figures + (i < len(metrics) % figures) for i in range(figures)]
        starts = [sum(sizes[:i]) for i in range(figures)]
        chunks = [metrics[start : start + n] for start, n in zip(starts, sizes, strict=True)]
        parts = [
            fairness_charts.fairness_chart(model, version, run, result.model_copy(update={"metric_labels": dict(c)}))
            for c in chunks
        ]
        if all(_height(part) <= PAGE_HEIGHT_PX for part in parts) or max(sizes) == 1:
            return "\n".join(
                _figure(part, run, f"part {i} of {len(parts)}: {', '.join(label for _, label in chunk)}")
                for i, (part, chunk) in enumerate(zip(parts, chunks, strict=True), 1)
            )
    return _figure(whole, run)  # one metric: drawn whole, scaled to the page (dossier.css)


def _height(chart_html: str | None) -> int:
    spec = charts.figure_spec(chart_html)
    return int(spec[1].get("height", 400)) if spec else 0


def _figure(chart_html: str | None, run: EvaluationRun, part: str = "") -> str:
    spec = charts.figure_spec(chart_html)
    if spec is None:
        return ""
    data, layout = spec
    title = charts.plain(layout.get("title", {}).get("text", "chart")).strip()
    shown = f"{title} ({part})" if part else title
    return figure(
        charts.data_uri(charts.svg(data, layout)),
        t(f"Figure: {shown}. Drawn from the site's chart of evaluation {run.id}."),
        shown,
    )


def _risk_tier(manifest: Manifest, model: Model) -> str:
    tier = next((r for r in manifest.risk_tiers if r.id == model.risk_tier), None)
    if tier is None or tier.title.casefold() == model.risk_tier.casefold():
        return t(tier.title if tier else model.risk_tier)  # "High", not "high — High"
    return t(model.risk_tier) + f" — {t(tier.title)}"


def _cover(manifest: Manifest, model: Model, version: ModelVersion, digest: str) -> str:
    audit = manifest.audit
    if audit is None:
        head = "no audit log"
    else:
        head = (
            code(audit.head)
            + f" ({audit.entries:,} entries, {'intact' if audit.intact else 'broken: ' + t(audit.reason or '')})"
        )
    return "\n".join(
        [
            '<section class="cover">',
            p(_masthead(manifest.site.organisation, manifest.site.title), "org"),
            f"<h1>{t(model.name)}</h1>",
            p(f"Model version dossier · {code(model.id)} version <strong>{t(version.version)}</strong>", "subtitle"),
            facts(
                [
                    ("Model", f"{t(model.name)} ({code(model.id)})"),
                    ("Version", t(version.version)),
                    ("Status", t(version.status)),
                    ("Risk tier", _risk_tier(manifest, model)),
                    ("Owner", t(model.owner.name) + (f" ({t(model.owner.team)})" if model.owner.team else "")),
                    ("Built", t(manifest.built_at)),
                    ("Manifest SHA-256", code(digest)),
                    ("Audit chain head", head),
                    (
                        "Generator",
                        f"modelgov {t(manifest.generator.version)}, manifest schema {t(manifest.schema_version)}",
                    ),
                ]
            ),
            p(
                f"This file carries its evidence: {code(MANIFEST_NAME)} (the whole build's manifest, whose SHA-256 is "
                f"printed above) and {code(RESULTS_NAME)} (this version's policy results) are attached to it. "
                "<code>modelgov dossier verify</code> checks that the attached manifest matches this digest and, "
                "when the dossier was signed, its signature.",
                "note",
            ),
            p(
                "Every number is as the governance site shows it, read from the same manifest. <em>undefined</em> means "
                "the value cannot be computed on these rows (a rate with no one in its denominator), never zero.",
                "note",
            ),
            "</section>",
        ]
    )


def _contents(sections: list[tuple[str, str]]) -> str:
    items = "".join(f'<li><a href="#{anchor}">{title}</a></li>' for anchor, title in sections)
    return f'<section class="contents">{h(2, "Contents")}<ol>{items}</ol></section>'


def policy_results_bytes(manifest: Manifest, model: Model, version: ModelVersion) -> bytes:
    """This version's policy results as JSON (the ``results`` of policy-results.json, this version only)."""
    report = manifest.governance
    mine = [
        r.model_dump(mode="json")
        for r in (report.results if report else [])
        if (r.model, r.version) == (model.id, version.version)
    ]
    document = {
        "model": model.id,
        "version": version.version,
        "as_of": report.as_of if report else None,
        "results": mine,
    }
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def build_dossier(manifest: Manifest, model_id: str, version_name: str) -> Dossier:
    """The dossier's HTML, stylesheet and attachments for one version of one model."""
    model, version = find_version(manifest, model_id, version_name)
    raw = manifest_bytes(manifest)
    digest = hashlib.sha256(raw).hexdigest()
    body: list[tuple[str, str, str]] = [
        ("findings", "What the build found", governance.findings_section(manifest, model, version)),
        ("card", "Model card", results.card_section(model)),
        ("version", "The version", results.version_section(version)),
    ]
    for run in version.evaluations:
        body.append(
            (
                f"evaluation-{run.id}",
                f"Evaluation {t(run.id)}",
                results.evaluation_section(model, version, run, _run_chart),
            )
        )
    body += [
        ("monitoring", "Monitoring in production", results.monitoring_section(model, version)),
        ("comparison", "Comparison with the live version", governance.comparison_section(model, version)),
        ("policies", "Policy outcomes", governance.policy_section(manifest, model, version)),
        ("signoffs", "Sign-offs and decisions", governance.signoff_section(manifest, model, version)),
        ("obligations", "Obligations of the enabled packs", governance.obligations_section(manifest, model, version)),
        ("lineage", "Lineage", governance.lineage_section(manifest, model, version)),
    ]
    present = [(anchor, title, html) for anchor, title, html in body if html]
    title = f"{model.name} {version.version} — model version dossier"
    head = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"/>'
        f"<title>{t(title)}</title>"
        f'<meta name="author" content="{t(manifest.site.organisation)}"/>'
        '<meta name="generator" content="modelgov"/>'
        f'<meta name="dcterms.created" content="{t(manifest.built_at)}"/>'
        f'<meta name="dcterms.modified" content="{t(manifest.built_at)}"/>'
        "</head><body>"
    )
    html = head + _cover(manifest, model, version, digest) + _contents([(a, ti) for a, ti, _ in present])
    html += "".join(f'<section class="part">{section}</section>' for _, _, section in present) + "</body></html>"
    # the last pass the site's pages get too (mkdocs_site.write_project): a control or invisible
    # character that reached the document without a text helper is shown as an escape, not laid out
    html = visible(html, keep="\n\t")
    attachments = [
        Attachment(MANIFEST_NAME, raw, "The build's manifest: every number of this dossier, machine-readable."),
        Attachment(RESULTS_NAME, policy_results_bytes(manifest, model, version), "This version's policy results."),
    ]
    stylesheet = resources.files("modelgov.dossier").joinpath("dossier.css").read_text(encoding="utf-8")
    return Dossier(html, stylesheet, attachments, digest)


def _masthead(organisation: str | None, title: str) -> str:
    """The organisation and the site's title, the organisation once when the title already names it."""
    if not organisation or organisation.strip() in title:
        return t(title)
    return t(organisation) + " · " + t(title)
