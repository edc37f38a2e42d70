"""MkDocs hook of the project's own documentation: publish the bundled example's governance site
under ``demo/`` of the documentation site, so the guide can link to a real one.

The example is generated with its fixed seed into a temporary folder and built with `modelgov`,
exactly as `modelgov demo` does, into ``demo/`` of the documentation's output. Its analyses are kept in
the analysis cache `modelgov build` uses (``MODELGOV_CACHE_DIR``, else the user's cache folder), so
building the guide again computes none of them. Set ``MODELGOV_DOCS_DEMO=0`` to skip it (a quicker
build while editing the guide); the guide's link then leads nowhere, which the page says.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def on_post_build(config, **_: object) -> None:
    if os.environ.get("MODELGOV_DOCS_DEMO", "1") == "0":
        return
    from modelgov.build import build_site
    from modelgov.cache import default_cache_dir
    from modelgov.demo import generate_workspace
    from modelgov.demo.policies import AS_OF

    target = Path(config["site_dir"]) / "demo"
    with tempfile.TemporaryDirectory(prefix="modelgov-docs-demo-") as tmp:
        workspace = Path(tmp) / "workspace"
        generate_workspace(workspace)
        shutil.rmtree(target, ignore_errors=True)
        # built where it is published (the build writes a folder beside it and moves it into place);
        # the analysis cache `modelgov build` uses: a second build of the guide computes nothing again
        build_site(workspace, target, as_of=AS_OF, cache_dir=default_cache_dir())
