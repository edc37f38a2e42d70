"""What each ``modelgov`` command does once its arguments are parsed: :func:`run` picks the
command, and one function per command calls the library and prints its result.

Kept apart from the parser (:mod:`modelgov.cli_parser`) and from the turning of exceptions into
exit codes (:mod:`modelgov.cli`): a command here raises :class:`~modelgov.errors.ModelgovError` for
what the user must fix, and returns the exit code of :mod:`modelgov.cli_output` otherwise. Each
command imports what it needs when it runs, so one command never pays for another's libraries.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from modelgov.cli_output import (
    EXIT_OK,
    Progress,
    print_open_hint,
    report_policies,
    write_report,
)
from modelgov.cli_parser import refusals_of
from modelgov.errors import ModelgovError


def run(args: argparse.Namespace) -> int:
    """Run the command ``args`` names; its exit code."""
    if args.command == "build":
        from modelgov.build import build_site

        if (args.alias or args.no_alias) and args.site_version is None:
            raise ModelgovError("--alias and --no-alias need --site-version")
        aliases = () if args.no_alias else tuple(args.alias or ("latest",))
        if args.prune_cache:
            _check_prunable(args)
        result = build_site(
            args.workspace,
            args.output,
            progress=Progress(args.quiet),
            as_of=args.as_of,
            fail_on=args.fail_on,
            site_version=args.site_version,
            aliases=aliases,
            cache_dir=_cache_dir(args),
            jobs=max(1, args.jobs),
            refusals=refusals_of(args),
            allowed_signers=args.allowed_signers,
            dossiers=args.dossiers or (),
            prune_cache=args.prune_cache,
        )
        if not args.quiet:
            print_open_hint(result.site_dir)
        return report_policies(result.manifest, args, results=result.site_dir / "policy-results.json")
    if args.command == "check":
        return _check(args)
    if args.command == "demo":
        return _demo(args)
    if args.command == "validate":
        return _validate(args)
    if args.command == "init":
        return _init(args)
    if args.command == "serve":
        return _serve(args)
    if args.command == "export":
        return _export(args)
    if args.command == "import-hf":
        return _import_hf(args)
    if args.command == "render":
        return _render(args)
    if args.command == "schema":
        return _schema(args.name, args.write)
    if args.command == "dossier":
        from modelgov.dossier.commands import run as dossier

        return dossier(args)
    if args.command in ("approve", "waive", "promote", "audit", "flag", "condition"):
        from modelgov.decisions.commands import run

        return run(args)
    raise AssertionError(args.command)


def _validate(args: argparse.Namespace) -> int:
    from modelgov.workspace.load import load_workspace

    workspace = load_workspace(args.workspace)
    versions = sum(len(m.versions) for m in workspace.models.values())
    print(
        f"{args.workspace}: valid ({len(workspace.models)} models, {versions} versions, "
        f"{len(workspace.datasets)} datasets)"
    )
    if workspace.placeholders:
        count = len(workspace.placeholders)
        print(f"\n{count} value{'s are' if count != 1 else ' is'} still to be written:")
        for problem in workspace.placeholders:
            print(f"  {problem}")
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    from modelgov.build import manifest_from
    from modelgov.export.write import FORMATS, export

    the_manifest = manifest_from(
        args.source,
        refusals=refusals_of(args),
        allowed_signers=args.allowed_signers,
        as_of=args.as_of,
        fail_on=args.fail_on,
        report=lambda message: print(message, file=sys.stderr),
    )
    written = export(the_manifest, args.output, tuple(args.formats or FORMATS), args.model_id, args.model_version)
    for path in written:
        print(path)
    from modelgov.export.common import pick_versions, unwritten

    for model, version in pick_versions(the_manifest, args.model_id, args.model_version):
        if fields := unwritten(model, version):
            shown = ", ".join(fields[:4]) + (f" and {len(fields) - 4} more" if len(fields) > 4 else "")
            print(
                f"warning: {model.id} {version.version}: {len(fields)} field(s) still hold a placeholder ({shown}); "
                "the exports carry them as written",
                file=sys.stderr,
            )
    return EXIT_OK


def _import_hf(args: argparse.Namespace) -> int:
    from modelgov.export.hf_import import import_hf_card
    from modelgov.workspace.load import did_you_mean, load_workspace

    model_yml = args.workspace / "models" / args.model_id / "model.yml"
    if not model_yml.is_file():
        known = sorted(p.parent.name for p in (args.workspace / "models").glob("*/model.yml"))
        hint = did_you_mean(args.model_id, known) or (f" (models: {', '.join(known)})" if known else "")
        raise ModelgovError(f"{model_yml} does not exist{hint}")
    report = import_hf_card(args.card, model_yml)
    for target in report.filled:
        print(f"filled  {target}")
    for target in report.kept:
        print(f"kept    {target} (already written in {model_yml}; not overwritten)")
    for reason in report.skipped:
        print(f"skipped {reason}")
    load_workspace(args.workspace)  # the edited workspace must still load; its problems are reported if not
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    import tempfile

    from modelgov.serve import ServeSession

    # by default the site lives outside the workspace, so the watcher never sees a build's own files
    scratch = None if args.output else tempfile.TemporaryDirectory(prefix="modelgov-serve-")
    output = args.output or Path(scratch.name) / "site"  # type: ignore[union-attr]
    session = ServeSession(
        args.workspace, output, port=args.port, progress=Progress(args.quiet), refusals=refusals_of(args)
    )
    try:
        session.run()
    except OSError as exc:
        raise ModelgovError(
            f"cannot serve on 127.0.0.1:{args.port} ({exc.strerror or exc}); choose another --port"
        ) from None
    except KeyboardInterrupt:
        print("Stopped.")
    finally:
        if scratch is not None:
            scratch.cleanup()
    return EXIT_OK


def _init(args: argparse.Namespace) -> int:
    from modelgov.scaffold import scaffold_workspace

    made = scaffold_workspace(
        args.directory,
        evaluation=args.evaluation,
        label=args.label,
        prediction=args.prediction,
        score=args.score,
        sensitive=tuple(c.strip() for c in args.sensitive.split(",") if c.strip()),
        sensitive_not_features=args.sensitive_not_features,
        positive_label=args.positive_label,
        model_file=args.model_file,
        log=args.log,
        timestamp=args.timestamp,
        log_id=args.log_id,
        ground_truth=args.ground_truth,
        ground_truth_id=args.ground_truth_id,
        ground_truth_label=args.ground_truth_label,
        name=args.name,
        mlflow=args.mlflow,
        mlflow_run=args.mlflow_run,
    )
    print(f"Wrote the workspace {made.root} ({len(made.files)} files) for model {made.model_id!r}.")
    print(f"Task: {made.task.task} ({made.task.reason}).")
    for note in made.notes:
        print(note)
    print(
        f"{made.todos} values start with TODO: they are yours to write (`modelgov validate {made.root}` lists them)."
        " Until the card fields are written, the baseline policy fails and the build exits with 1."
    )
    site = made.root.with_name(made.root.name + "-site")
    print(f"\nBuild the site:\n  modelgov build {made.root} -o {site}")
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    from modelgov.assemble import build_manifest
    from modelgov.cache import open_cache
    from modelgov.policy.outputs import results_json
    from modelgov.workspace.load import load_workspace

    progress = Progress(args.quiet)
    root = args.workspace.resolve()
    cache_dir = _cache_dir(args)
    cache = open_cache(cache_dir, root, report=progress) if cache_dir is not None else None
    progress(f"Loading workspace {args.workspace}")
    workspace = load_workspace(args.workspace, refusals=refusals_of(args))
    built = build_manifest(
        workspace,
        progress=progress,
        as_of=args.as_of,
        fail_on=args.fail_on,
        allowed_signers=args.allowed_signers,
        cache=cache,
        jobs=max(1, args.jobs),
    )
    if cache is not None:
        progress(f"Analysis cache: {cache.stats.hits} result(s) reused, {cache.stats.misses} computed")
    if built.governance is not None:
        write_report(args.results, results_json(built.governance, built))
    return report_policies(built, args, results=args.results if built.governance is not None else None)


def _check_prunable(args: argparse.Namespace) -> None:
    """``--prune-cache`` needs a cache, and one of the workspace's own: the user's cache folder holds
    the entries of every workspace the user builds, which this build does not use."""
    from modelgov.cache import CACHE_DIR_ENV, user_cache_dir

    chosen = _cache_dir(args)
    if chosen is None:
        raise ModelgovError("--prune-cache prunes the analysis cache, which --no-cache turns off")
    if os.path.realpath(chosen) == os.path.realpath(user_cache_dir()):
        raise ModelgovError(
            f"--prune-cache needs a cache of this workspace's own (--cache-dir or {CACHE_DIR_ENV}): "
            f"{chosen} is the user's cache folder, shared by every workspace, whose entries this build does not use"
        )


def _cache_dir(args: argparse.Namespace) -> Path | None:
    """The analysis cache of ``build``, ``check`` and ``demo``: ``--cache-dir``, else the default
    (:func:`~modelgov.cache.default_cache_dir`); None with ``--no-cache``."""
    from modelgov.cache import default_cache_dir

    return None if args.no_cache else (args.cache_dir or default_cache_dir())


def _demo(args: argparse.Namespace) -> int:
    from modelgov.build import build_site
    from modelgov.demo import DEFAULT_SEED, generate_workspace
    from modelgov.demo.policies import AS_OF

    progress = Progress(args.quiet)
    root: Path = args.directory
    workspace = root / "workspace"
    seed = DEFAULT_SEED if args.seed is None else args.seed
    cache_dir = _cache_dir(args)
    if cache_dir is not None:
        # a cache setting that stops the build stops it before the workspace is written, so the
        # same command works once the setting is fixed (the folder must be empty to start)
        from contextlib import suppress

        from modelgov.cache import check_location
        from modelgov.cache_secret import KeyUnusable, load_secret

        check_location(cache_dir, workspace)
        with suppress(KeyUnusable):  # not an error: the build turns the cache off and says why
            load_secret()
    progress(f"Generating the example workspace in {workspace} (seed {seed})")
    generate_workspace(workspace, seed=seed)
    # a dossier of each production version, as an auditor would file it (docs/dossier.md); a machine
    # without Pango still gets the site, and is told why the dossiers are missing
    from modelgov.dossier.pdf import available

    if problem := available():
        progress(f"No dossiers: {problem}")
    dossiers = () if problem else ("production",)
    result = build_site(
        workspace,
        root / "site",
        progress=progress,
        as_of=AS_OF,
        dossiers=dossiers,
        cache_dir=cache_dir,
        jobs=max(1, args.jobs),
    )
    if not args.quiet:
        print_open_hint(result.site_dir)
    report = result.manifest.governance
    if report is not None and not args.quiet:
        from modelgov.policy.engine import is_blocking
        from modelgov.policy.outputs import summary_table

        print(f"\n{summary_table(report)}")
        blocked = sorted({f"{r.model}@{r.version}" for r in report.results if is_blocking([r], report.fail_on)})
        print(
            f"\nThe example is a snapshot checked as of {AS_OF}. Its policies find problems on purpose:"
            f" they block {', '.join(blocked) or 'nothing'} (see the Compliance pages);"
            " `modelgov demo` itself succeeded."
        )
    return EXIT_OK


def _render(args: argparse.Namespace) -> int:
    from modelgov import manifest
    from modelgov.build import render_manifest

    the_manifest = manifest.read(args.manifest)
    result = render_manifest(the_manifest, args.output, progress=Progress(args.quiet), dossiers=args.dossiers or ())
    if not args.quiet:
        print_open_hint(result.site_dir)
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
