"""The site's navigation and its sections: the order in which a reader finds the pages, and the
folders whose pages change together and the pages that change alone (the parts the site is built
in, :mod:`.site_parts`).
"""

from __future__ import annotations

import posixpath

from modelgov.manifest import Manifest, Model, ModelVersion
from modelgov.render import text
from modelgov.render.content import NavItem
from modelgov.render.page_paths import (
    AUDIT_TRAIL,
    BUILD_RECORD,
    COMPLIANCE,
    CROSSWALK,
    DATASETS,
    HOME,
    LINEAGE,
    RISK,
    WAIVERS,
    dataset_path,
    detail_pages,
    has_risk_page,
    model_path,
    policy_path,
    version_path,
)

__all__ = ["site_nav", "site_sections"]


def _version_nav(model: Model, version: ModelVersion) -> NavItem:
    """A version's card, or a section with the card first and its detail pages after it."""
    title = f"Version {text.plain(version.version)} ({version.status})"
    details = detail_pages(model, version)
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
    """Folders whose pages change together: each model's, the compliance pages and the datasets; and
    the lineage page alone, which draws the whole fleet (2 MB of SVG for 100 models, half the
    site-wide part's build) but changes only when what it draws does. The site is built in these
    parts, so a rebuild after one model's card changed builds that model's folder and the site-wide
    pages only (see :mod:`.site_parts`)."""
    models = tuple(posixpath.dirname(model_path(model)) + "/" for model in manifest.models)
    return (*models, posixpath.dirname(COMPLIANCE) + "/", posixpath.dirname(DATASETS) + "/", LINEAGE)


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
