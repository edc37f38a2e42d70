"""What a template of the site is given besides its own data: links between pages (relative to
the page, with anchors that exist), the charts of a model version (marking the page as needing
plotly.js), lineage drawings, and the views' helpers that read the manifest, under the names
templates call them by; with them, the helpers that depend on neither page nor site
(:mod:`.template_helpers`).

The helpers are bound to one page (:class:`PageContext`), because a link depends on where the page
sits; what they look up is built once per site (:class:`SiteLookups`).
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Callable
from typing import Any

from modelgov.lineage import queries as lineage_graph
from modelgov.manifest import Dataset, EvaluationRun, FairnessResult, LineageNode, Manifest, Model, ModelVersion
from modelgov.render import (
    charts,
    compliance_outcomes,
    compliance_views,
    condition_views,
    decision_views,
    diff_views,
    estimation_charts,
    experiment_charts,
    flag_views,
    fleet_tests,
    kpi_charts,
    lineage_views,
    monitoring_charts,
    policy_views,
    production_fairness_charts,
    production_fairness_views,
    record_charts,
    risk_charts,
    risk_views,
    shadow_charts,
    standing_views,
    views,
)
from modelgov.render.evidence_links import EvidenceLinks
from modelgov.render.lineage_svg import lineage_svg
from modelgov.render.page_paths import (
    BUILD_RECORD,
    COMPLIANCE,
    CROSSWALK,
    DATASETS,
    HOME,
    LINEAGE,
    RISK,
    WAIVERS,
    bias_audit_csv_path,
    bias_audit_path,
    dataset_path,
    decisions_path,
    experiment_path,
    explainability_path,
    has_risk_page,
    heading_anchor,
    model_path,
    monitoring_path,
    performance_path,
    policy_path,
    shadow_path,
    version_path,
)
from modelgov.render.template_helpers import VIEW_HELPERS

__all__ = ["PageContext", "SiteLookups"]

#: A chart's element id, as :func:`.chart_style._html` writes it (ids are slugs: no quote inside).
_CHART_ID = re.compile(r'<div class="mg-chart" id="([^"]+)"')

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


class SiteLookups:
    """Datasets by id, versions by ``model-id/version`` and the lineage graph, built once per site."""

    def __init__(self, manifest: Manifest):
        self.datasets = {dataset.id: dataset for dataset in manifest.datasets}
        self.versions = {
            f"{model.id}/{version.version}": (model, version) for model in manifest.models for version in model.versions
        }
        self.evidence = EvidenceLinks(manifest)
        self._manifest = manifest

    @functools.cached_property
    def lineage(self) -> Any:
        """The lineage as a graph, built once for every page that shows a part of it."""
        return lineage_graph.graph(self._manifest.lineage)


class PageContext:
    """Per-page helpers handed to a template: relative links, and charts that mark the page as
    needing plotly.js."""

    def __init__(self, manifest: Manifest, lookups: SiteLookups, path: str):
        self.manifest = manifest
        self.path = path
        self.uses_plotly = False
        self._chart_ids: set[str] = set()  # the element ids of the charts on the page so far
        self._datasets = lookups.datasets
        self._versions = lookups.versions
        self._evidence = lookups.evidence
        self._lookups = lookups
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
        """A chart for this page, its element id made unique on the page: a chart's id names what it
        draws, and a template that shows one chart twice would otherwise have the browser draw both
        figures into the first one's element, leaving the second empty."""
        if not html:
            return ""
        self.uses_plotly = True
        found = _CHART_ID.search(html)
        if found is None:
            return html
        chart_id = unique = found.group(1)
        shown = 1
        while unique in self._chart_ids:  # a chart's own id may end in "--2"
            shown += 1
            unique = f"{chart_id}--{shown}"
        self._chart_ids.add(unique)
        if unique == chart_id:
            return html
        return html.replace(f'id="{chart_id}"', f'id="{unique}"', 1).replace(
            f'Plotly.newPlot("{chart_id}"', f'Plotly.newPlot("{unique}"', 1
        )

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
        return lineage_graph.neighbourhood(
            self.manifest.lineage, focus, inputs_of_results=inputs_of_results, directed=self._lookups.lineage
        )

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
            "version_card_link": lambda model, version: self.link(version_path(model, version)),
            "ab_chart": self.ab_chart,
            "ab_link": self.ab_link,
            "shadow_chart": self.shadow_chart,
            "shadow_link": self.shadow_link,
            "tests_under_way": lambda: fleet_tests.tests_under_way(self.manifest),
            "tier_of": lambda model: views.tier_of(self.manifest, model),
            "highest_tier": views.highest_tier(self.manifest),
            "compliance_link": self.compliance_link,
            "policy_link": self.policy_link,
            "rule_link": self.rule_link,
            "waivers_link": self.waivers_link,
            "crosswalk_link": lambda: self.link(CROSSWALK),
            "coming_groups": lambda: (
                standing_views.coming_groups(self.manifest.governance) if self.manifest.governance else []
            ),
            "version_link_by_id": self.version_link_by_id,
            "version_name_by_id": self.version_name_by_id,
            "evidence": self.evidence,
            "evidence_links": self.evidence_links,
            "version_results": lambda model, version: policy_views.version_results(self.manifest, model, version),
            "policy_status": lambda model, version: policy_views.policy_status(self.manifest, model, version),
            "compliance_view": lambda: compliance_views.compliance_view(self.manifest),
            "lineage_href": self.lineage_href,
            "lineage_graph": self.lineage_graph,
            "lineage_part": self.lineage_part,
            "lineage_link": lambda: self.link(LINEAGE),
            "dataset_impact": lambda dataset_id: lineage_views.dataset_impact(self.manifest, dataset_id),
            "version_changes": lambda model, version: diff_views.version_changes(self.manifest, model, version),
            "version_comparisons": lambda model, version: diff_views.version_comparisons(self.manifest, model, version),
            "has_flags": lambda: flag_views.has_flags(self.manifest),
            "all_open_flags": lambda: flag_views.all_open(self.manifest),
            "gate_overrides": lambda: decision_views.overrides(self.manifest),
            "stale_sign_offs": lambda version: decision_views.stale_sign_offs(version, self.manifest.check_date()),
            "check_date": lambda: risk_views.as_of(self.manifest),
            "condition_rows": lambda model, version: condition_views.condition_rows(self.manifest, model, version),
            "fleet_conditions": lambda: condition_views.fleet_conditions(self.manifest),
            "MAX_CONDITION_ROWS": condition_views.MAX_ROWS_SHOWN,
            "DUE_SOON_DAYS": condition_views.DUE_SOON_DAYS,
            "due_words": condition_views.due_words,
            "bias_audit_link": self.bias_audit_link,
            "bias_audit_csv_link": self.bias_audit_csv_link,
            "bias_audits": lambda: [
                (m, v) for m in self.manifest.models for v in m.versions if bias_audit_path(m, v) is not None
            ],
            "risk_rows": lambda: risk_views.risk_rows(self.manifest),
            "risk_as_of": lambda: risk_views.as_of(self.manifest),
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
            **VIEW_HELPERS,
            **functions,
        }
