"""The pages of the site: which exist, where, in what nav order, and their Markdown from templates.

Templates are Jinja files (``*.md.j2``) looked up first in the workspace's ``template_dir`` and then
in the built-in ``site_templates/``, so a team can override one page kind by dropping a file of the
same name. Jinja's autoescaping is off because the output is Markdown; every user string goes
through an explicit filter from :mod:`modelgov.render.text` instead. ``StrictUndefined`` makes a
template that names a missing value fail the build (as :class:`~modelgov.errors.BuildError`, with
the template file and line) rather than print an empty string.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import posixpath
import re
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined
from jinja2.exceptions import TemplateNotFound, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from markdown.extensions.toc import slugify

from modelgov import manifest as manifest_io
from modelgov import resources
from modelgov.cache import AnalysisCache, cache_key
from modelgov.errors import BuildError
from modelgov.lineage import queries as lineage_graph
from modelgov.manifest import Dataset, EvaluationRun, FairnessResult, LineageNode, Manifest, Model, ModelVersion
from modelgov.policy import ll144_evidence
from modelgov.policy.risk_evidence import RISK_PAGE
from modelgov.policy.rules import is_placeholder
from modelgov.render import (
    bias_audit_csv,
    charts,
    comparison_views,
    compliance_outcomes,
    compliance_views,
    crosswalk_views,
    decision_views,
    diff_views,
    estimation_charts,
    estimation_views,
    experiment_charts,
    experiment_views,
    flag_views,
    fleet_tests,
    kpi_charts,
    kpi_views,
    lineage_views,
    monitoring_charts,
    monitoring_views,
    policy_views,
    production_fairness_charts,
    production_fairness_views,
    promotion_views,
    record_charts,
    risk_charts,
    risk_views,
    shadow_charts,
    shadow_views,
    standing_views,
    text,
    views,
    waiver_views,
)
from modelgov.render.content import NavItem, SitePage
from modelgov.render.findings import labels_of, plain_finding
from modelgov.render.lineage_svg import lineage_svg

__all__ = [
    "COMPLIANCE",
    "POLICY_RESULTS_FILES",
    "WAIVERS",
    "dataset_path",
    "environment",
    "explainability_path",
    "model_path",
    "monitoring_path",
    "performance_path",
    "policy_path",
    "render_pages",
    "site_nav",
    "site_sections",
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
UNDEFINED_NOTE_TEMPLATE = "_undefined_note.md.j2"


# --------------------------------------------------------------------------- where pages live


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


# --------------------------------------------------------------------------- templates


def environment(template_dir: Path | None, builtin_dir: Path) -> Environment:
    """The Jinja environment: user templates first, then the built-in ones; escaping by filter."""
    loaders = [FileSystemLoader(str(template_dir))] if template_dir is not None else []
    loaders.append(FileSystemLoader(str(builtin_dir)))
    env = SandboxedEnvironment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=False,  # output is Markdown; see the filters below
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        text=text.text,
        md=text.md,
        md_inline=text.md_inline,
        code=text.code,
        num=text.num,
        pct=text.pct,
        count=text.count,
        interval=text.interval,
        signed=text.signed,
        filesize=text.filesize,
        url=text.safe_url,
        slug=text.slug,
        path_code=compliance_outcomes.breakable_code,
        requirement=compliance_outcomes.requirement_html,
    )
    env.tests["placeholder"] = lambda value: isinstance(value, str) and is_placeholder(value)
    env.tests["bias_audited"] = lambda version: ll144_evidence.audited_run(version) is not None
    return env


def _template_location(exc: BaseException) -> str:
    """``file:line`` of the innermost template frame in a rendering error, if there is one."""
    if isinstance(exc, TemplateSyntaxError):
        return f"{exc.filename or exc.name}:{exc.lineno}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(".j2")]
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else ""


def _render(env: Environment, template: str, page: str, context: dict[str, Any]) -> str:
    try:
        return env.get_template(template).render(context)
    except BuildError:
        raise
    except TemplateNotFound as exc:
        raise BuildError(f"page {page}: template {exc.name!r} was not found") from None
    except Exception as exc:  # a template is user code: any error in it is a failed build
        where = _template_location(exc)
        message = getattr(exc, "message", None) or str(exc)
        raise BuildError(
            f"page {page}: template {template!r} failed"
            + (f" at {where}" if where else "")
            + f": {type(exc).__name__}: {message}"
        ) from None


_RUN_CHARTS: dict[str, Callable[[Model, ModelVersion, EvaluationRun], str | None]] = {
    "curves": charts.curves_chart,
    "calibration": charts.calibration_chart,
    "errors": charts.regression_chart,
    "importance": charts.importance_chart,
    "shap": charts.shap_chart,
    "partial_dependence": charts.partial_dependence_chart,
    "beeswarm": record_charts.beeswarm_chart,
}


_MONITORING_CHARTS: dict[str, Callable[[Model, ModelVersion], str | None]] = {
    "heatmap": monitoring_charts.drift_heatmap_chart,
    "timeline": monitoring_charts.drift_timeline_chart,
    "performance": monitoring_charts.monitoring_performance_chart,
    "estimated": estimation_charts.estimated_performance_chart,
    "kpis": kpi_charts.kpi_chart,
    "distributions": monitoring_charts.distribution_chart,
}


class _Lookups:
    """Datasets by id and versions by ``model-id/version``, built once per site."""

    def __init__(self, manifest: Manifest):
        self.datasets = {dataset.id: dataset for dataset in manifest.datasets}
        self.versions = {
            f"{model.id}/{version.version}": (model, version) for model in manifest.models for version in model.versions
        }
        self.evidence = _Evidence(manifest)


_HEADING_LINE = re.compile(r"^(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_TAG = re.compile(r"<[^>]+>")
_SPAN_ID = re.compile(r'<span id="([A-Za-z0-9._-]+)"></span>')


def _heading_anchors(markdown: str) -> dict[str, str]:
    """anchor → heading text of a page's Markdown headings (outside HTML code blocks)."""
    found: dict[str, str] = {}
    in_pre = False
    for line in markdown.splitlines():
        if "<pre" in line:
            in_pre = True
        if in_pre:
            in_pre = "</pre>" not in line
            continue
        match = _HEADING_LINE.match(line)
        if match:
            heading = text.plain(html.unescape(_TAG.sub("", match.group(2))))
            found.setdefault(heading_anchor(heading), heading)
            for span_id in _SPAN_ID.findall(match.group(2)):  # a stable id set beside a heading of user text
                found.setdefault(span_id, heading)
    return found


class _Evidence:
    """The policy engine's evidence links resolved to this site's pages.

    A policy check names its evidence as a site-relative HTML page with an anchor
    (``models/<model id>/<version>/index.html#approvals``). Here that becomes the page's source path
    (ids that need a safe file name included) and a label for the reader; the anchor is kept only
    when the target page has a heading with that id, so an evidence link never breaks the strict
    build. Pages are registered once rendered (:meth:`add`), before the compliance pages are.
    """

    def __init__(self, manifest: Manifest):
        self._targets: dict[str, tuple[str, str]] = {}
        for model in manifest.models:
            self._targets[f"models/{model.id}/index.html"] = (model_path(model), "Model overview")
            for version in model.versions:
                base = f"models/{model.id}/{version.version}"
                self._targets[f"{base}/index.html"] = (version_path(model, version), "Model card")
                for path, name, _ in _detail_pages(model, version):
                    self._targets[f"{base}/{posixpath.splitext(posixpath.basename(path))[0]}.html"] = (path, name)
        for dataset in manifest.datasets:
            self._targets[f"datasets/{dataset.id}.html"] = (dataset_path(dataset.id), f"Datasheet: {dataset.name}")
        if has_risk_page(manifest):
            self._targets[RISK_PAGE] = (RISK, "Risk assessment")
        self._headings: dict[str, dict[str, str]] = {}

    def add(self, pages: list[SitePage]) -> None:
        for page in pages:
            self._headings[page.path] = _heading_anchors(page.markdown)

    def resolve(self, link: str | None) -> tuple[str, str] | None:
        """(source path with the anchor if it exists, label) of an evidence link; None when the
        link names no page of this site."""
        if not link:
            return None
        target, _, anchor = link.partition("#")
        found = self._targets.get(target)
        if found is None:
            return None
        path, label = found
        heading = self._headings.get(path, {}).get(anchor) if anchor else None
        return (f"{path}#{anchor}", f"{label}, {heading}") if heading else (path, label)


class _Page:
    """Per-page helpers handed to a template: relative links, and charts that mark the page as
    needing plotly.js."""

    def __init__(self, manifest: Manifest, lookups: _Lookups, path: str):
        self.manifest = manifest
        self.path = path
        self.uses_plotly = False
        self._datasets = lookups.datasets
        self._versions = lookups.versions
        self._evidence = lookups.evidence
        governance = manifest.governance
        self._policies = {p.id: p for p in governance.policies} if governance else {}
        self._waivers = {w.id for w in governance.waivers} if governance else set()

    def link(self, target: str) -> str:
        """``target`` (a site-source path) relative to this page, as Markdown links need it."""
        return posixpath.relpath(target, posixpath.dirname(self.path) or ".")

    def model_link(self, model: Model) -> str:
        return self.link(model_path(model))

    def version_link(self, model: Model, version: ModelVersion) -> str:
        return self.link(version_path(model, version))

    def dataset(self, dataset_id: str) -> Dataset | None:
        return self._datasets.get(dataset_id)

    def dataset_link(self, dataset_id: str) -> str | None:
        return self.link(dataset_path(dataset_id)) if dataset_id in self._datasets else None

    def version_ref(self, ref: str) -> tuple[Model, ModelVersion] | None:
        """A ``model-id/version`` reference (as in a datasheet's ``used_by``), if it resolves."""
        return self._versions.get(ref)

    def version_by_name(self, model: Model, name: str | None) -> ModelVersion | None:
        return next((v for v in model.versions if v.version == name), None)

    def _chart(self, html: str | None) -> str:
        if not html:
            return ""
        self.uses_plotly = True
        return html

    def history_chart(self, model: Model) -> str:
        return self._chart(charts.history_chart(model))

    def fairness_chart(self, model: Model, version: ModelVersion, run: EvaluationRun, result: FairnessResult) -> str:
        return self._chart(charts.fairness_chart(model, version, run, result))

    def run_chart(self, kind: str, model: Model, version: ModelVersion, run: EvaluationRun) -> str:
        """A chart of one evaluation run: ``curves``, ``calibration``, ``errors``, ``importance``,
        ``shap`` or ``partial_dependence``; empty when the run has nothing to draw."""
        return self._chart(_RUN_CHARTS[kind](model, version, run))

    def performance_link(self, model: Model, version: ModelVersion, run: EvaluationRun | None = None) -> str | None:
        target = performance_path(model, version)
        if target is None or (run is not None and not views.run_has_performance_details(run)):
            return None
        return self.link(target) + (f"#{heading_anchor(f'Evaluation {run.id}')}" if run is not None else "")

    def explainability_link(self, model: Model, version: ModelVersion, run: EvaluationRun | None = None) -> str | None:
        target = explainability_path(model, version)
        if target is None or (run is not None and run.explainability is None):
            return None
        return self.link(target) + (f"#{heading_anchor(f'Evaluation {run.id}')}" if run is not None else "")

    def what_if_chart(self, model: Model, version: ModelVersion, run: EvaluationRun, record: Any) -> str:
        return self._chart(record_charts.what_if_chart(model, version, run, record))

    def decisions_link(self, model: Model, version: ModelVersion, run: EvaluationRun | None = None) -> str | None:
        target = decisions_path(model, version)
        if target is None:
            return None
        return self.link(target) + (f"#{heading_anchor(f'Evaluation {run.id}')}" if run is not None else "")

    def monitoring_chart(self, kind: str, model: Model, version: ModelVersion) -> str:
        """A chart of the version's monitoring report: ``heatmap``, ``timeline``, ``performance``
        or ``distributions``; empty when there is nothing to draw."""
        return self._chart(_MONITORING_CHARTS[kind](model, version))

    def production_fairness_chart(self, model: Model, version: ModelVersion, feature: str) -> str:
        """Each disparity of ``feature`` over the windows, with the policy threshold (the manifest's
        governance results say which rules apply)."""
        return self._chart(production_fairness_charts.production_fairness_chart(model, version, feature, self.manifest))

    def production_fairness_view(self, model: Model, version: ModelVersion) -> list:
        return production_fairness_views.production_fairness_view(model, version, self.manifest)

    def shadow_chart(self, model: Model, version: ModelVersion, feature: str | None = None) -> str:
        """The shadow test over the windows, or (with ``feature``) by the feature's groups."""
        if feature is None:
            return self._chart(shadow_charts.shadow_windows_chart(model, version))
        return self._chart(shadow_charts.shadow_groups_chart(model, version, feature))

    def shadow_link(self, model: Model, version: ModelVersion) -> str | None:
        target = shadow_path(model, version)
        return self.link(target) if target is not None else None

    def ab_chart(self, model: Model, version: ModelVersion) -> str:
        """The A/B test's sequential analysis over time; empty before the first look."""
        return self._chart(experiment_charts.sequential_chart(model, version))

    def ab_link(self, model: Model, version: ModelVersion) -> str | None:
        target = experiment_path(model, version)
        return self.link(target) if target is not None else None

    def monitoring_link(self, model: Model, version: ModelVersion) -> str | None:
        target = monitoring_path(model, version)
        return self.link(target) if target is not None else None

    def bias_audit_link(self, model: Model, version: ModelVersion) -> str | None:
        target = bias_audit_path(model, version)
        return self.link(target) if target is not None else None

    def bias_audit_csv_link(self, model: Model, version: ModelVersion) -> str | None:
        target = bias_audit_csv_path(model, version)
        return self.link(target) if target is not None else None

    def risk_link(self, model: Model | None = None) -> str | None:
        """The risk page (with a model: its section); None when the site has none."""
        if not has_risk_page(self.manifest):
            return None
        anchor = f"#{risk_views.model_anchor(model.id)}" if model is not None and model.risk is not None else ""
        return self.link(RISK) + anchor

    # ----------------------------------------------------------------------- lineage

    def lineage_href(self, node: LineageNode) -> str:
        """The page holding a node's evidence; nodes without one link to their row on the lineage page."""
        if node.kind == "dataset" and node.dataset in self._datasets:
            return self.link(dataset_path(node.dataset))
        found = self._versions.get(f"{node.model}/{node.version}") if node.model and node.version else None
        if found is not None:
            model, version = found
            if node.kind == "evaluation":
                run_id = node.id.rsplit("/", 1)[-1]
                run = next((r for r in version.evaluations if r.id == run_id), None)
                link = self.performance_link(model, version, run) if run is not None else None
                if link:
                    return link
            if node.kind == "monitoring" and (link := self.monitoring_link(model, version)):
                return link
            anchor = f"#{heading_anchor('Training data')}" if node.kind == "training" else ""
            return self.link(version_path(model, version)) + anchor
        return self.link(LINEAGE) + f"#{lineage_views.node_anchor(node.id)}"

    def lineage_graph(self, part: Any = None, focus: str | None = None, title: str = "") -> str:
        """``part`` of the graph (from :meth:`lineage_part`; default: all of it) as inline SVG, with the
        ``focus`` node outlined."""
        graph = self.manifest.lineage if part is None else part
        return lineage_svg(graph, self._lineage_html_href, focus=focus, title=title or "Lineage graph")

    def _lineage_html_href(self, node: LineageNode) -> str:
        """Links inside raw HTML are not rewritten by the site builder: point at the built ``.html``."""
        target, hash_, anchor = self.lineage_href(node).partition("#")
        return (target[: -len(".md")] + ".html" if target.endswith(".md") else target) + hash_ + anchor

    def lineage_part(self, focus: str, inputs_of_results: bool = True) -> Any:
        return lineage_graph.neighbourhood(self.manifest.lineage, focus, inputs_of_results=inputs_of_results)

    # ----------------------------------------------------------------------- compliance

    def compliance_link(self, model: Model | None = None, version: ModelVersion | None = None) -> str:
        """The compliance overview; with a version, its row of the matrix."""
        anchor = f"#{compliance_outcomes.version_anchor(model.id, version.version)}" if model and version else ""
        return self.link(COMPLIANCE) + anchor

    def policy_link(self, policy_id: str, model_id: str | None = None, version: str | None = None) -> str | None:
        """A policy's page (with a version: its results on that version); None for an unknown policy."""
        if policy_id not in self._policies:
            return None
        anchor = f"#{compliance_outcomes.version_anchor(model_id, version)}" if model_id and version else ""
        return self.link(policy_path(policy_id)) + anchor

    def rule_link(self, policy_id: str, rule_id: str) -> str | None:
        policy = self._policies.get(policy_id)
        if policy is None or not any(rule.id == rule_id for rule in policy.rules):
            return None
        return self.link(policy_path(policy_id)) + f"#{compliance_outcomes.rule_anchor(rule_id)}"

    def waivers_link(self, waiver_id: str | None = None) -> str:
        anchor = f"#{compliance_outcomes.waiver_anchor(waiver_id)}" if waiver_id in self._waivers else ""
        return self.link(WAIVERS) + anchor

    def version_link_by_id(self, model_id: str, version: str) -> str | None:
        """The model card of ``model_id`` ``version``, as results name them; None if not in this build."""
        found = self._versions.get(f"{model_id}/{version}")
        return self.version_link(*found) if found else None

    def version_name_by_id(self, model_id: str, version: str) -> str:
        """``Credit default risk 1.1``: the model's name and the version, as results name them."""
        found = self._versions.get(f"{model_id}/{version}")
        return f"{found[0].name} {version}" if found else f"{model_id} {version}"

    def evidence(self, page: str | None) -> tuple[str, str] | None:
        """(link relative to this page, label) of a check's evidence page; None when it has none."""
        found = self._evidence.resolve(page)
        return (self.link(found[0]), found[1]) if found else None

    def evidence_links(self, checks: list[Any], only_unmet: bool = False) -> list[tuple[str, str]]:
        """The distinct evidence pages of some checks (with ``only_unmet``, of those not met)."""
        links: dict[str, tuple[str, str]] = {}
        for check in checks:
            if only_unmet and check.outcome == "pass":
                continue
            found = self.evidence(check.page)
            if found:
                links.setdefault(found[0], found)
        return list(links.values())

    def context(self) -> dict[str, Any]:
        functions: dict[str, Callable[..., Any]] = {
            "link": self.link,
            "model_link": self.model_link,
            "version_link": self.version_link,
            "dataset": self.dataset,
            "dataset_link": self.dataset_link,
            "version_ref": self.version_ref,
            "version_by_name": self.version_by_name,
            "history_chart": self.history_chart,
            "fairness_chart": self.fairness_chart,
            "run_chart": self.run_chart,
            "performance_link": self.performance_link,
            "explainability_link": self.explainability_link,
            "decisions_link": self.decisions_link,
            "what_if_chart": self.what_if_chart,
            "monitoring_chart": self.monitoring_chart,
            "monitoring_link": self.monitoring_link,
            "production_fairness_view": self.production_fairness_view,
            "production_fairness_chart": self.production_fairness_chart,
            "fairness_gap": production_fairness_views.gap_sentence,
            "fairness_threshold": production_fairness_views.threshold_text,
            "fairness_meets": production_fairness_views.meets,
            "monitoring_view": monitoring_views.monitoring_view,
            "kpi_views": kpi_views.kpi_views,
            "kpi_card_version": kpi_views.card_version,
            "kpi_value": kpi_views.format_value,
            "kpi_target": kpi_views.target_text,
            "kpi_interval": kpi_views.interval_text,
            "kpi_difference": kpi_views.difference_text,
            "estimation_view": estimation_views.estimation_view,
            "estimate_interval": estimation_views.interval_text,
            "latest_drift_items": monitoring_views.latest_items,
            "drift_status": monitoring_views.drift_status,
            "drift_rule": monitoring_views.drift_rule,
            "drift_statistic": monitoring_views.statistic_text,
            "drift_method_name": monitoring_views.method_name,
            "drift_method_short": monitoring_views.method_short,
            "is_drift_test": monitoring_views.is_test,
            "psi_bands": monitoring_views.PSI_BANDS,
            "window_phrase": monitoring_views.window_phrase,
            "windows_phrase": monitoring_views.windows_phrase,
            "window_noun": monitoring_views.window_noun,
            "share_phrase": monitoring_views.share_phrase,
            "reference_text": monitoring_views.reference_text,
            "output_name": monitoring_views.output_name,
            "output_noun": monitoring_views.output_noun,
            "version_card_link": lambda model, version: self.link(version_path(model, version)),
            "ab_chart": self.ab_chart,
            "ab_link": self.ab_link,
            "ab": experiment_views,
            "shadow_chart": self.shadow_chart,
            "shadow_link": self.shadow_link,
            "tests_under_way": lambda: fleet_tests.tests_under_way(self.manifest),
            "shadow": shadow_views,
            "delta_verdict": views.delta_verdict,
            "comparison_tally": views.comparison_tally,
            "joint_verdict": views.joint_verdict,
            "fairness_changes": comparison_views.fairness_changes,
            "recorded_verdict": promotion_views.recorded_verdict,
            "promotion_counts": promotion_views.counts_text,
            "promotion_headline": promotion_views.headline,
            "promotion_summary_rows": promotion_views.summary_rows,
            "promotion_still_holds": promotion_views.still_holds,
            "model_promotions": promotion_views.model_promotions,
            "gap_behind": comparison_views.behind_text,
            "comparison_rates": comparison_views.SHOWN_RATES,
            "comparison_rate_headers": comparison_views.RATE_HEADERS,
            "disparity_rows": views.disparity_rows,
            "short_metric": views.short_metric,
            "disparity_groups": views.disparity_groups,
            "comparison_measures": views.comparison_measures,
            "left_out_groups": views.left_out_groups,
            "disparity_methods": views.DISPARITY_METHODS,
            "interval_header": views.interval_header,
            "interval_methods": views.interval_methods,
            "metric_of": views.metric_of,
            "tier_of": lambda model: views.tier_of(self.manifest, model),
            "headline_metric": views.headline_metric,
            "highest_tier": views.highest_tier(self.manifest),
            "compliance_link": self.compliance_link,
            "policy_link": self.policy_link,
            "rule_link": self.rule_link,
            "waivers_link": self.waivers_link,
            "crosswalk_link": lambda: self.link(CROSSWALK),
            "evidence_words": crosswalk_views.evidence_words,
            "standing_text": standing_views.standing_text,
            "standing_label": standing_views.standing_label,
            "coming_groups": lambda: (
                standing_views.coming_groups(self.manifest.governance) if self.manifest.governance else []
            ),
            "version_link_by_id": self.version_link_by_id,
            "version_name_by_id": self.version_name_by_id,
            "evidence": self.evidence,
            "evidence_links": self.evidence_links,
            "version_results": lambda model, version: policy_views.version_results(self.manifest, model, version),
            "policy_status": lambda model, version: policy_views.policy_status(self.manifest, model, version),
            "outcome_info": compliance_outcomes.OUTCOMES,
            "outcome_order": compliance_outcomes.OUTCOME_ORDER,
            "severities": compliance_outcomes.SEVERITIES,
            "check_labels": compliance_outcomes.CHECK_LABELS,
            "coverage_kinds": policy_views.COVERAGE_KINDS,
            "waiver_groups": waiver_views.WAIVER_GROUPS,
            "observed_text": compliance_outcomes.observed_text,
            "counts_phrase": compliance_outcomes.counts_phrase,
            "outcome_tally": compliance_outcomes.tally,
            "compliance_view": lambda: compliance_views.compliance_view(self.manifest),
            "lineage_href": self.lineage_href,
            "lineage_graph": self.lineage_graph,
            "lineage_part": self.lineage_part,
            "lineage_link": lambda: self.link(LINEAGE),
            "lineage_anchor": lineage_views.node_anchor,
            "lineage_kind": lineage_views.kind_label,
            "lineage_origins": lineage_views.origins_text,
            "lineage_nodes": lineage_views.sorted_nodes,
            "lineage_kinds": lineage_views.KINDS,
            "lineage_labels": lambda graph: {node.id: node.label for node in graph.nodes},
            "dataset_impact": lambda dataset_id: lineage_views.dataset_impact(self.manifest, dataset_id),
            "version_changes": lambda model, version: diff_views.version_changes(self.manifest, model, version),
            "version_comparisons": lambda model, version: diff_views.version_comparisons(self.manifest, model, version),
            "days_phrase": compliance_outcomes.days_phrase,
            "version_anchor": compliance_outcomes.version_anchor,
            "rule_anchor": compliance_outcomes.rule_anchor,
            "waiver_anchor": compliance_outcomes.waiver_anchor,
            "signature_words": decision_views.signature_words,
            "flag_meaning": flag_views.MEANING,
            "flag_scope": flag_views.scope_words,
            "flag_days": flag_views.days_words,
            "open_flags": flag_views.open_flags,
            "resolved_flags": flag_views.resolved_flags,
            "has_flags": lambda: flag_views.has_flags(self.manifest),
            "all_open_flags": lambda: flag_views.all_open(self.manifest),
            "other_versions_open_flags": flag_views.other_versions_open,
            "gate_overrides": lambda: decision_views.overrides(self.manifest),
            "bias_audit_run": ll144_evidence.audited_run,
            "days_since": risk_views.days_between,
            "check_date": lambda: risk_views.as_of(self.manifest),
            "bias_audit_link": self.bias_audit_link,
            "bias_audit_csv_link": self.bias_audit_csv_link,
            "bias_audits": lambda: [
                (m, v) for m in self.manifest.models for v in m.versions if bias_audit_path(m, v) is not None
            ],
            "risk_rows": lambda: risk_views.risk_rows(self.manifest),
            "risk_as_of": lambda: risk_views.as_of(self.manifest),
            "risk_anchor": risk_views.model_anchor,
            "risk_title": lambda risk, name: next((r.title for r in risk.risks if r.name == name), name),
            "risk_chart": lambda: self._chart(risk_charts.risk_matrix_chart(self.manifest)),
            "risk_link": self.risk_link,
            "unassessed_models": lambda: risk_views.unassessed(self.manifest),
            "tier_title": lambda tier_id: views.tier_title(self.manifest, tier_id),
            "unrecorded_statuses": lambda: decision_views.unrecorded_statuses(self.manifest),
        }
        return {
            "manifest": self.manifest,
            "site": self.manifest.site,
            "page_path": self.path,
            "home_link": self.link(HOME),
            "datasets_link": self.link(DATASETS),
            "build_link": self.link(BUILD_RECORD),
            **functions,
        }


class _Renderer:
    """Renders pages of one site: the Jinja environment, the manifest and its lookups."""

    def __init__(self, manifest: Manifest, template_dir: Path | None, dossiers: frozenset[str] = frozenset()):
        self.dossiers = dossiers  # `model/version` of each version whose dossier is written beside the site
        if template_dir is not None and not Path(template_dir).is_dir():
            raise BuildError(f"template folder {template_dir} does not exist")
        self.env = environment(template_dir, resources.site_templates_dir())
        labels = labels_of(manifest)
        self.env.filters["finding"] = lambda message: plain_finding(message, labels)
        self.manifest = manifest
        self.lookups = _Lookups(manifest)

    def page(self, path: str, title: str, template: str, **extra: Any) -> SitePage:
        page = _Page(self.manifest, self.lookups, path)
        context = {
            **page.context(),
            "dossier_href": lambda model, version: self.dossier_href(page, model, version),
            **extra,
        }
        body = _render(self.env, template, path, context)
        if text.UNDEFINED_MARKER in body:  # explain every "undefined" on the page, once
            body = body.rstrip("\n") + "\n\n" + _render(self.env, UNDEFINED_NOTE_TEMPLATE, path, context)
        return SitePage(path=path, title=text.plain(title), markdown=body, uses_plotly=page.uses_plotly)

    def dossier_href(self, page: _Page, model: Model, version: ModelVersion) -> str | None:
        """The version's dossier relative to ``page``, for a raw HTML link; None when none is written."""
        if f"{model.id}/{version.version}" not in self.dossiers:
            return None
        return page.link(dossier_path(model, version))


def _templates_digest(template_dir: Path | None) -> str:
    """SHA-256 over every template the pages can use (built-in and the workspace's overrides)."""
    digest = hashlib.sha256()
    for folder in (resources.site_templates_dir(), template_dir):
        if folder is None or not Path(folder).is_dir():
            continue
        for path in sorted(Path(folder).rglob("*.j2")):
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
        digest.update(b"\1")
    return digest.hexdigest()


def _model_pages_key(manifest: Manifest, shared: str, index: list[Any], model: Model) -> str:
    """What a model's pages can read: the model itself and its policy results, every other part of
    the manifest except the other models' entries and results (of the models, only ids, names and
    version statuses, for links and navigation), and the templates. The input hashes and the build
    time are left out: no model page shows them."""
    results = (
        [r.model_dump(mode="json") for r in manifest.governance.results if r.model == model.id]
        if manifest.governance
        else []
    )
    return cache_key(
        {
            "kind": "model-pages",
            "shared": shared,
            "index": index,
            "model": model.model_dump(mode="json"),
            "results": results,
        }
    )


def _model_pages(render: _Renderer, model: Model) -> list[SitePage]:
    pages = [render.page(model_path(model), model.name, "model.md.j2", model=model)]
    for version in model.versions:
        pages.append(
            render.page(
                version_path(model, version),
                f"{model.name} {version.version}",
                "model_version.md.j2",
                model=model,
                version=version,
            )
        )
        for path, name, template in _detail_pages(model, version):
            title = f"{model.name} {version.version}: {name}"
            pages.append(render.page(path, title, template, model=model, version=version))
    return pages


def _cached_model_pages(
    render: _Renderer, model: Model, cache: AnalysisCache | None, shared: str, index: list[Any]
) -> list[SitePage]:
    """A model's pages, from ``cache`` when nothing they read has changed (a warm rebuild after one
    model's card changed renders that model's pages only)."""
    if cache is None:
        return _model_pages(render, model)
    key = _model_pages_key(render.manifest, shared, index, model)
    if mine := sorted(d for d in render.dossiers if d.split("/", 1)[0] == model.id):
        key = cache_key({"pages": key, "dossiers": mine})  # the version pages link the dossiers
    label = f"the pages of {model.id}"
    hit = cache.get(key, label)
    if hit is not None:
        try:
            return [SitePage(**page) for page in hit[0]]
        except (TypeError, ValueError) as exc:
            cache.reject(key, label, f"not a valid result: {exc}")
    pages = _model_pages(render, model)
    cache.put(key, [dataclasses.asdict(page) for page in pages], {})
    return pages


def render_pages(
    manifest: Manifest,
    template_dir: Path | None = None,
    cache: AnalysisCache | None = None,
    *,
    manifest_json: bytes | None = None,
    dossiers: frozenset[str] = frozenset(),
) -> list[SitePage]:
    """Every page of the site, rendered to Markdown from the templates; with a ``cache``, each model's
    pages are reused while nothing they depend on changed. ``manifest_json`` is the manifest as the
    site publishes it, when the caller has it already (serialising a fleet's manifest takes seconds).
    ``dossiers``: ``model/version`` of the versions whose dossier the build writes (their pages link it)."""
    render = _Renderer(manifest, template_dir, dossiers)
    shared = index = None
    if cache is not None:
        excluded: dict[str, Any] = {"models": True, "inputs": True, "built_at": True, "governance": {"results"}}
        shared = cache_key({"manifest": manifest.model_dump(mode="json", exclude=excluded),
                            "templates": _templates_digest(template_dir)})  # fmt: skip
        index = [[m.id, m.name, [[v.version, v.status] for v in m.versions]] for m in manifest.models]
    if manifest_json is None:
        manifest_json = manifest_io.dumps(manifest).encode("utf-8")
    pages = [
        render.page(
            HOME,
            manifest.site.title,
            "home.md.j2",
            counts=views.counts(manifest),
            inventory=views.inventory(manifest),
        )
    ]
    for model in manifest.models:
        pages += _cached_model_pages(render, model, cache, shared, index)
    pages.append(render.page(DATASETS, "Datasets", "datasets.md.j2", datasets=manifest.datasets))
    pages += [
        render.page(dataset_path(dataset.id), dataset.name, "dataset.md.j2", dataset=dataset)
        for dataset in manifest.datasets
    ]
    pages.append(render.page(LINEAGE, "Lineage", "lineage.md.j2", lineage=manifest.lineage))
    if has_risk_page(manifest):
        pages.append(render.page(RISK, "Risk assessment", "risk.md.j2"))
    pages += _compliance_pages(render, manifest, pages)
    if manifest.audit is not None:
        pages.append(render.page(AUDIT_TRAIL, "Audit trail", "audit.md.j2", audit=manifest.audit))
    pages.append(
        render.page(
            BUILD_RECORD,
            "Build record",
            "build.md.j2",
            manifest_file=MANIFEST_FILE,
            manifest_sha256=hashlib.sha256(manifest_json).hexdigest(),
            manifest_bytes=len(manifest_json),
        )
    )
    seen: dict[str, str] = {}
    for page in pages:
        if page.path in seen:
            raise BuildError(f"two pages would be written to {page.path}: {seen[page.path]!r} and {page.title!r}")
        seen[page.path] = page.title
    return pages


def _compliance_pages(render: _Renderer, manifest: Manifest, rendered: list[SitePage]) -> list[SitePage]:
    """The overview, one page per policy and the waivers, when the manifest has policy results.
    Rendered last, so their evidence links can be checked against the other pages' headings."""
    if manifest.governance is None:
        return []
    render.lookups.evidence.add(rendered)
    pages = [render.page(COMPLIANCE, "Compliance", "compliance.md.j2", view=compliance_views.compliance_view(manifest))]
    pages += [
        render.page(
            policy_path(policy.id),
            policy.title,
            "compliance_policy.md.j2",
            policy=policy,
            view=policy_views.policy_view(manifest, policy),
        )
        for policy in manifest.governance.policies
    ]
    pages.append(
        render.page(WAIVERS, "Waivers", "compliance_waivers.md.j2", waivers=waiver_views.waiver_rows(manifest))
    )
    pages.append(
        render.page(
            CROSSWALK,
            "Crosswalk",
            "compliance_crosswalk.md.j2",
            view=crosswalk_views.crosswalk_view(manifest.governance),
        )
    )
    return pages


def _detail_pages(model: Model, version: ModelVersion) -> list[tuple[str, str, str]]:
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


def _version_nav(model: Model, version: ModelVersion) -> NavItem:
    """A version's card, or a section with the card first and its detail pages after it."""
    title = f"Version {text.plain(version.version)} ({version.status})"
    details = _detail_pages(model, version)
    if not details:
        return NavItem(title=title, path=version_path(model, version))
    return NavItem(
        title=title,
        children=(
            NavItem(title="Model card", path=version_path(model, version)),
            *(NavItem(title=name, path=path) for path, name, _ in details),
        ),
    )


def site_sections(manifest: Manifest) -> tuple[str, ...]:
    """Folders whose pages change together: each model's, the compliance pages and the datasets. The
    site is built in these parts, so a rebuild after one model's card changed builds that model's
    folder and the site-wide pages only (see :mod:`.site_parts`)."""
    models = tuple(posixpath.dirname(model_path(model)) + "/" for model in manifest.models)
    return (*models, posixpath.dirname(COMPLIANCE) + "/", posixpath.dirname(DATASETS) + "/")


def site_nav(manifest: Manifest) -> tuple[NavItem, ...]:
    """Home, Models (each model: Overview and its versions), Compliance (when the manifest has
    policy results: Overview, each policy, Waivers), Datasets, Build record. A version with detail
    pages is a section: its model card, then performance details, explainability and monitoring."""
    models = tuple(
        NavItem(
            title=text.plain(model.name),
            children=(
                NavItem(title="Overview", path=model_path(model)),
                *(_version_nav(model, v) for v in model.versions),
            ),
        )
        for model in manifest.models
    )
    datasets = tuple(NavItem(title=text.plain(d.name), path=dataset_path(d.id)) for d in manifest.datasets)
    nav = [NavItem(title="Home", path=HOME)]
    if models:
        nav.append(NavItem(title="Models", children=models))
    if manifest.governance is not None:
        policies = tuple(
            NavItem(title=text.plain(p.title), path=policy_path(p.id)) for p in manifest.governance.policies
        )
        nav.append(
            NavItem(
                title="Compliance",
                children=(
                    NavItem(title="Overview", path=COMPLIANCE),
                    NavItem(title="Crosswalk", path=CROSSWALK),
                    *policies,
                    NavItem(title="Waivers", path=WAIVERS),
                ),
            )
        )
    nav.append(NavItem(title="Datasets", children=(NavItem(title="All datasets", path=DATASETS), *datasets)))
    if has_risk_page(manifest):
        nav.append(NavItem(title="Risk assessment", path=RISK))
    nav.append(NavItem(title="Lineage", path=LINEAGE))
    if manifest.audit is not None:
        nav.append(NavItem(title="Audit trail", path=AUDIT_TRAIL))
    nav.append(NavItem(title="Build record", path=BUILD_RECORD))
    return tuple(nav)
