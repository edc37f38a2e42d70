"""What a site rebuild costs in MkDocs, whole or split: the numbers behind how the site is cut up.

    python benchmarks/mkdocs_benchmark.py SITE/manifest.json [--models 1 5 20]

From a built site's manifest it renders (pages, then MkDocs) the whole site, and sub-sites holding
only the first N models' pages, each timed on its own. A per-model sub-site layout
would rebuild, after one card changes, a one-model site plus the global pages; the figures show
what that would cost against the full rebuild that MkDocs, which has no incremental build, does now.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from modelgov import manifest as manifest_io
from modelgov.render.site import render_site


def timed_render(the_manifest: manifest_io.Manifest) -> dict:
    phases: dict[str, float] = {}
    started = time.perf_counter()

    def progress(message: str) -> None:
        if message.startswith("Building the static site"):
            phases["pages_s"] = round(time.perf_counter() - started, 2)

    with tempfile.TemporaryDirectory(prefix="modelgov-mkdocs-benchmark-") as tmp:
        render_site(the_manifest, Path(tmp) / "site", progress=progress)
        total = time.perf_counter() - started
        pages = sum(1 for _ in (Path(tmp) / "site").rglob("*.html"))
    phases["mkdocs_s"] = round(total - phases["pages_s"], 2)
    return {"models": len(the_manifest.models), "html_pages": pages, **phases, "total_s": round(total, 2),
            "mkdocs_ms_per_page": round(1000 * phases["mkdocs_s"] / pages, 1)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--models", type=int, nargs="*", default=[1, 10])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    full = manifest_io.read(args.manifest)
    rows = []
    for count in sorted(args.models):
        # a sub-site: those models' pages and the site's frame; the cross-model pages (compliance,
        # lineage, datasets) are left out, since the pages they would link to are not in it
        part = full.model_copy(
            update={
                "models": full.models[:count],
                "governance": None,
                "lineage": manifest_io.Lineage(nodes=[], edges=[]),
                "datasets": [],
            }
        )
        rows.append(timed_render(part))
        print(json.dumps(rows[-1]), file=sys.stderr)
    rows.append(timed_render(full))
    print(json.dumps(rows[-1]), file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
