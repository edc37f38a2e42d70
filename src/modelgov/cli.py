"""The ``modelgov`` command line: the only place exceptions become exit codes.

Exit codes: 0 success; 2 invalid workspace, manifest or output folder; 3 an internal error (a bug);
130 interrupted. A :class:`~modelgov.errors.ModelgovError` is printed as a message, never as a traceback;
anything else is a bug in modelgov and says so.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from modelgov import __version__
from modelgov.errors import ModelgovError, WorkspaceError

EXIT_OK = 0
EXIT_INVALID = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130


class _Progress:
    """Step messages on stderr with elapsed time; silent with ``--quiet``."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(f"[{time.perf_counter() - self.start:6.1f}s] {message}", file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="modelgov",
        description="Turn a governance workspace into a static model-governance website.",
    )
    parser.add_argument("--version", action="version", version=f"modelgov {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser("build", help="analyse a workspace and build its site")
    build.add_argument("workspace", type=Path, help="the governance workspace folder")
    build.add_argument("-o", "--output", type=Path, default=Path("site"), help="site folder (default: ./site)")
    build.add_argument("-q", "--quiet", action="store_true", help="print only errors (for CI)")

    demo = commands.add_parser("demo", help="generate the bundled example workspace and build its site")
    demo.add_argument(
        "directory",
        type=Path,
        nargs="?",
        default=Path("modelgov-demo"),
        help="where to write workspace/ and site/ (default: ./modelgov-demo)",
    )
    demo.add_argument("--seed", type=int, default=None, help="random seed of the generated data")
    demo.add_argument("-q", "--quiet", action="store_true", help="print only errors")

    validate = commands.add_parser("validate", help="load and check a workspace without building")
    validate.add_argument("workspace", type=Path)

    render = commands.add_parser("render", help="re-render a site from a saved manifest.json")
    render.add_argument("manifest", type=Path)
    render.add_argument("-o", "--output", type=Path, required=True)
    render.add_argument("-q", "--quiet", action="store_true")

    schema = commands.add_parser("schema", help="print a JSON Schema (manifest or a workspace file kind)")
    schema.add_argument(
        "name",
        nargs="?",
        default="manifest",
        help="manifest, governance, model, version, approvals or datasheet (default: manifest)",
    )
    schema.add_argument("--write", type=Path, metavar="DIR", help="write every schema into DIR instead")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except WorkspaceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except ModelgovError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted; the previous output was left untouched", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug in modelgov: say so plainly, keep the traceback for a report
        if os.environ.get("MODELGOV_DEBUG"):
            raise
        print(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in modelgov, not in your workspace; the previous output was left untouched.\n"
            "Run again with MODELGOV_DEBUG=1 to see the traceback, and please report it.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def _run(args: argparse.Namespace) -> int:
    if args.command == "build":
        from modelgov.build import build_site

        result = build_site(args.workspace, args.output, progress=_Progress(args.quiet))
        if not args.quiet:
            _print_open_hint(result.site_dir)
        return EXIT_OK
    if args.command == "demo":
        return _demo(args)
    if args.command == "validate":
        from modelgov.workspace.load import load_workspace

        workspace = load_workspace(args.workspace)
        versions = sum(len(m.versions) for m in workspace.models.values())
        print(
            f"{args.workspace}: valid ({len(workspace.models)} models, {versions} versions, "
            f"{len(workspace.datasets)} datasets)"
        )
        return EXIT_OK
    if args.command == "render":
        return _render(args)
    if args.command == "schema":
        return _schema(args.name, args.write)
    raise AssertionError(args.command)


def _demo(args: argparse.Namespace) -> int:
    from modelgov.build import build_site
    from modelgov.demo import DEFAULT_SEED, generate_workspace

    progress = _Progress(args.quiet)
    root: Path = args.directory
    workspace = root / "workspace"
    seed = DEFAULT_SEED if args.seed is None else args.seed
    progress(f"Generating the example workspace in {workspace} (seed {seed})")
    generate_workspace(workspace, seed=seed)
    result = build_site(workspace, root / "site", progress=progress)
    if not args.quiet:
        _print_open_hint(result.site_dir)
    return EXIT_OK


def _render(args: argparse.Namespace) -> int:
    from modelgov import manifest
    from modelgov.build import render_manifest

    the_manifest = manifest.read(args.manifest)
    result = render_manifest(the_manifest, args.output, progress=_Progress(args.quiet))
    if not args.quiet:
        _print_open_hint(result.site_dir)
    return EXIT_OK


def _schema(name: str, write: Path | None) -> int:
    from modelgov import schemas

    if write is not None:
        for path in schemas.write_all(write):
            print(path)
        return EXIT_OK
    if name not in schemas.schema_names():
        raise ModelgovError(f"unknown schema {name!r}; choose one of: {', '.join(schemas.schema_names())}")
    sys.stdout.write(schemas.schema_text(name))
    return EXIT_OK


def _print_open_hint(site_dir: Path) -> None:
    index = site_dir.resolve() / "index.html"
    print(
        f"\nThe site is ready: {index}\n"
        f"Open that file in a browser, or serve the folder with:\n"
        f"  python -m http.server --directory {site_dir} 8000   # then visit http://127.0.0.1:8000/"
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
