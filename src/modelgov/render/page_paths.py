"""Where each page of the site lives: the site-wide pages' paths, a model's and its versions'
pages, a version's detail pages (only those it has evidence for, in nav order), datasheets, policy
pages, dossiers, and the anchor Markdown gives a heading.

One module knows every path, so the renderer, the navigation, the evidence links of policy results
and the dossiers beside the site agree on where a page is, and a page's existence is decided once
(a version without a monitoring report has no monitoring page, and no link to one).
"""

from __future__ import annotations

import posixpath

from markdown.extensions.toc import slugify

from modelgov.manifest import Manifest, Model, ModelVersion
from modelgov.policy import ll144_evidence
from modelgov.render import bias_audit_csv, text, views

__all__ = [
    "AUDIT_TRAIL",
    "BUILD_RECORD",
    "COMPLIANCE",
    "CROSSWALK",
    "DATASETS",
    "HOME",
    "LINEAGE",
    "MANIFEST_FILE",
    "POLICY_RESULTS_FILES",
    "RISK",
    "WAIVERS",
    "bias_audit_csv_path",
    "bias_audit_path",
    "dataset_path",
    "decisions_path",
    "detail_pages",
    "dossier_path",
    "experiment_path",
    "explainability_path",
    "has_risk_page",
    "heading_anchor",
    "model_path",
    "monitoring_path",
    "performance_path",
    "policy_path",
    "shadow_path",
    "version_path",
]

HOME = "index.md"
DATASETS = "datasets/index.md"
BUILD_RECORD = "build.md"
AUDIT_TRAIL = "audit.md"
LINEAGE = "lineage.md"
RISK = "risk.md"
MANIFEST_FILE = "manifest.json"
COMPLIANCE = "compliance/index.md"
WAIVERS = "compliance/waivers.md"
CROSSWALK = "compliance/crosswalk.md"
#: Written at the site root by ``modelgov build`` (see :mod:`modelgov.build`), not by the renderer:
#: the compliance overview links them as plain HTML, which the site builder does not check.
POLICY_RESULTS_FILES = ("policy-results.json", "policy-results.csv")


def model_path(model: Model) -> str:
    return f"models/{text.slug(model.id)}/index.md"


def version_path(model: Model, version: ModelVersion) -> str:
    """The version's model card; its detail pages sit next to it (see below)."""
    return f"models/{text.slug(model.id)}/{text.slug(version.version)}/index.md"


def performance_path(model: Model, version: ModelVersion) -> str | None:
    """Curves, confusion matrices and calibration of the version's runs, if it has any."""
    if not views.has_performance_details(version):
        return None
    return posixpath.join(posixpath.dirname(version_path(model, version)), "performance.md")


def explainability_path(model: Model, version: ModelVersion) -> str | None:
    """What drives the version's predictions, if any run was explained."""
    if not views.has_explainability(version):
        return None
    return posixpath.join(posixpath.dirname(version_path(model, version)), "explainability.md")


def decisions_path(model: Model, version: ModelVersion) -> str | None:
    """Individual decisions explained, if any run of the version explained some."""
    if not any(run.explainability and run.explainability.records for run in version.evaluations):
        return None
    return posixpath.join(posixpath.dirname(version_path(model, version)), "decisions.md")


def monitoring_path(model: Model, version: ModelVersion) -> str | None:
    """Drift and performance over time in production, if the version has a monitoring report."""
    if version.drift is None:
        return None
    return posixpath.join(posixpath.dirname(version_path(model, version)), "monitoring.md")


def shadow_path(model: Model, version: ModelVersion) -> str | None:
    """The version's shadow test beside the live version, if it has one."""
    if version.shadow is None:
        return None
    return posixpath.join(posixpath.dirname(version_path(model, version)), "shadow.md")


def experiment_path(model: Model, version: ModelVersion) -> str | None:
    """The version's A/B test against its champion, if it has one."""
    if version.experiment is None:
        return None
    return posixpath.join(posixpath.dirname(version_path(model, version)), "ab-test.md")


def has_risk_page(manifest: Manifest) -> bool:
    """The risk page exists when the manifest carries a risk matrix (a model is assessed, or
    governance.yml sets one)."""
    return manifest.risk_matrix is not None


def bias_audit_path(model: Model, version: ModelVersion) -> str | None:
    """The version's NYC Local Law 144 bias-audit summary, if the card marks an employment tool."""
    if ll144_evidence.audited_run(version) is None:
        return None
    return posixpath.join(posixpath.dirname(version_path(model, version)), "bias-audit.md")


def bias_audit_csv_path(model: Model, version: ModelVersion) -> str | None:
    """The same summary as a CSV file beside its page (:mod:`.bias_audit_csv`), for the versions that have one."""
    page = bias_audit_path(model, version)
    return None if page is None else posixpath.join(posixpath.dirname(page), bias_audit_csv.FILE_NAME)


def dossier_path(model: Model, version: ModelVersion) -> str:
    """Where ``build --dossiers`` writes the version's archival dossier (a file beside the pages)."""
    return f"dossiers/{text.slug(model.id)}-{text.slug(version.version)}.pdf"


def heading_anchor(heading: str) -> str:
    """The id Markdown's table of contents gives a heading with this (plain) text, so pages can
    link to a section of another page; the strict build checks every such link."""
    return slugify(text.plain(heading), "-")


def dataset_path(dataset_id: str) -> str:
    return f"datasets/{text.slug(dataset_id)}.md"


def policy_path(policy_id: str) -> str:
    """A policy's page, next to the compliance overview and the waivers page (whose names it never takes)."""
    name = text.slug(policy_id)
    if name.lower() in {posixpath.splitext(posixpath.basename(p))[0] for p in (WAIVERS, CROSSWALK)}:
        name = f"{name}-policy"
    return f"compliance/{name}.md"


def detail_pages(model: Model, version: ModelVersion) -> list[tuple[str, str, str]]:
    """(path, nav title, template) of a version's detail pages, in nav order."""
    found = [
        (performance_path(model, version), "Performance details", "version_performance.md.j2"),
        (explainability_path(model, version), "Explainability", "version_explainability.md.j2"),
        (decisions_path(model, version), "Explained decisions", "version_decisions.md.j2"),
        (monitoring_path(model, version), "Monitoring and drift", "version_monitoring.md.j2"),
        (shadow_path(model, version), "Shadow test", "version_shadow.md.j2"),
        (experiment_path(model, version), "A/B test", "version_experiment.md.j2"),
        (bias_audit_path(model, version), "Bias audit (NYC LL 144)", "version_bias_audit.md.j2"),
    ]
    return [(path, title, template) for path, title, template in found if path]
