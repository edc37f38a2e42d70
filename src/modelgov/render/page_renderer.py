"""Renders one page of the site: its Markdown from a template, with the page's helpers.

Templates are Jinja files (``*.md.j2``) looked up first in the workspace's ``template_dir`` and then
in the built-in ``site_templates/``, so a team can override one page kind by dropping a file of the
same name. Jinja's autoescaping is off because the output is Markdown; every user string goes
through an explicit filter from :mod:`modelgov.render.text` instead. ``StrictUndefined`` makes a
template that names a missing value fail the build (as :class:`~modelgov.errors.BuildError`, with
the template file and line) rather than print an empty string. Workspace templates run in Jinja's
sandbox: a workspace is input, and input does not get to run code.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.exceptions import TemplateNotFound, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from modelgov import resources
from modelgov.errors import BuildError
from modelgov.feature_names import INTERSECTION, page_name_of
from modelgov.manifest import Manifest, Model, ModelVersion
from modelgov.policy import ll144_evidence
from modelgov.policy.placeholders import is_placeholder
from modelgov.render import compliance_outcomes, condition_views, text
from modelgov.render.compiled_templates import CompiledTemplates
from modelgov.render.content import SitePage
from modelgov.render.findings import Labels, labels_of, plain_finding
from modelgov.render.page_context import PageContext, SiteLookups
from modelgov.render.page_paths import dossier_path

__all__ = ["PageRenderer", "environment"]

UNDEFINED_NOTE_TEMPLATE = "_undefined_note.md.j2"

#: The pages' templates compiled once per process, for every environment :func:`environment` makes
#: (they all have its settings).
_COMPILED = CompiledTemplates()


class _PageEnvironment(SandboxedEnvironment):
    """The pages' sandboxed environment, holding the manifest's labels for the ``finding`` filter."""

    finding_labels: Labels = Labels()


@pass_context
def _finding(context: Any, message: str) -> str:
    """A policy finding in words, with the labels of the manifest the page is rendered from. It takes
    the render context so that Jinja never runs it while compiling (on a literal), which would hand
    one build's labels to every later build that reuses the compiled code (:mod:`.compiled_templates`)."""
    return plain_finding(message, context.environment.finding_labels)


def environment(template_dir: Path | None, builtin_dir: Path) -> Environment:
    """The Jinja environment: user templates first, then the built-in ones; escaping by filter."""
    loaders = [FileSystemLoader(str(template_dir))] if template_dir is not None else []
    loaders.append(FileSystemLoader(str(builtin_dir)))
    env = _PageEnvironment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=False,  # output is Markdown; see the filters below
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=_COMPILED,
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
        finding=_finding,
        feature_name=page_name_of,
    )
    env.globals["INTERSECTION"] = INTERSECTION
    env.tests["placeholder"] = lambda value: isinstance(value, str) and is_placeholder(value)
    env.tests["bias_audited"] = lambda version: ll144_evidence.audited_run(version) is not None
    env.tests["due_soon"] = condition_views.due_soon
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


class PageRenderer:
    """Renders pages of one site: the Jinja environment, the manifest and its lookups."""

    def __init__(self, manifest: Manifest, template_dir: Path | None, dossiers: frozenset[str] = frozenset()):
        self.dossiers = dossiers  # `model/version` of each version whose dossier is written beside the site
        if template_dir is not None and not Path(template_dir).is_dir():
            raise BuildError(f"template folder {template_dir} does not exist")
        self.env = environment(template_dir, resources.site_templates_dir())
        self.env.finding_labels = labels_of(manifest)
        self.manifest = manifest
        self.lookups = SiteLookups(manifest)

    def page(self, path: str, title: str, template: str, **extra: Any) -> SitePage:
        page = PageContext(self.manifest, self.lookups, path)
        context = {
            **page.context(),
            "dossier_href": lambda model, version: self.dossier_href(page, model, version),
            **extra,
        }
        body = _render(self.env, template, path, context)
        if text.UNDEFINED_MARKER in body:  # explain every "undefined" on the page, once
            body = body.rstrip("\n") + "\n\n" + _render(self.env, UNDEFINED_NOTE_TEMPLATE, path, context)
        return SitePage(path=path, title=text.plain(title), markdown=body, uses_plotly=page.uses_plotly)

    def dossier_href(self, page: PageContext, model: Model, version: ModelVersion) -> str | None:
        """The version's dossier relative to ``page``, for a raw HTML link; None when none is written."""
        if f"{model.id}/{version.version}" not in self.dossiers:
            return None
        return page.link(dossier_path(model, version))
