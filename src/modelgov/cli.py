"""The ``modelgov`` command line: the only place exceptions become exit codes.

Exit codes: 0 success; 2 invalid workspace, manifest or output folder; 3 an internal error (a bug);
130 interrupted. A :class:`~modelgov.errors.ModelgovError` is printed as a message, never as a traceback;
anything else is a bug in modelgov and says so.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from modelgov import __version__
from modelgov.errors import ModelgovError, WorkspaceError
from modelgov.text_safety import visible

EXIT_OK = 0
EXIT_POLICY_FAILED = 1  # a blocking policy rule failed, or the audit chain is broken
EXIT_INVALID = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130


class _Progress:
    """Step messages on stderr with elapsed time; silent with ``--quiet``."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        if not self.quiet:  # a message can quote a workspace's names: no control character reaches the terminal
            print(f"[{time.perf_counter() - self.start:6.1f}s] {visible(message)}", file=sys.stderr, flush=True)


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
    build.add_argument(
        "--site-version",
        metavar="NAME",
        help="build one version of a versioned site into OUTPUT/NAME, keeping earlier versions "
        "(mike-compatible versions.json); `git` derives NAME from `git describe` of the workspace",
    )
    build.add_argument(
        "--alias",
        action="append",
        metavar="NAME",
        help="alias to point at this version (repeatable; default: latest)",
    )
    build.add_argument("--no-alias", action="store_true", help="give this version no alias (e.g. a back-port)")
    _dossiers_option(build)
    _analysis_options(build)
    _policy_options(build)
    _refuse_pickle_option(build)

    check = commands.add_parser(
        "check", help="analyse a workspace and evaluate its policies, without building the site (fast CI gate)"
    )
    check.add_argument("workspace", type=Path, help="the governance workspace folder")
    check.add_argument(
        "--results",
        type=Path,
        default=Path("policy-results.json"),
        metavar="PATH",
        help="where to write the results as JSON (default: ./policy-results.json)",
    )
    check.add_argument("-q", "--quiet", action="store_true", help="print only the verdict line and errors")
    _analysis_options(check)
    _policy_options(check)
    _refuse_pickle_option(check)

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

    validate = commands.add_parser(
        "validate", help="load and check a workspace without building; list the text still to be written"
    )
    validate.add_argument("workspace", type=Path)

    export = commands.add_parser(
        "export",
        help="write model versions as Hugging Face cards, Model Card Toolkit JSON and CycloneDX ML-BOMs",
    )
    export.add_argument("source", type=Path, help="a site's manifest.json, or a workspace (analysed, with the cache)")
    export.add_argument("-o", "--output", type=Path, required=True, help="folder for OUT/<model>/<version>/…")
    export.add_argument("--format", dest="formats", action="append", choices=("hf", "mct", "cyclonedx"),
                        help="hf, mct or cyclonedx (repeat for several; default: all three)")  # fmt: skip
    export.add_argument("--model", dest="model_id", help="only this model (its id)")
    export.add_argument("--version", dest="model_version", help="only this version")

    import_hf = commands.add_parser(
        "import-hf", help="fill a model card's empty and TODO fields from a Hugging Face model card (README.md)"
    )
    import_hf.add_argument("card", type=Path, help="the Hugging Face README.md")
    import_hf.add_argument("workspace", type=Path)
    import_hf.add_argument("--model", dest="model_id", required=True, help="the model (folder under models/)")

    serve = commands.add_parser(
        "serve", help="build a workspace, serve its site on localhost and rebuild when a file changes"
    )
    serve.add_argument("workspace", type=Path)
    serve.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default: 8000; 0: any free port)")
    serve.add_argument(
        "-o", "--output", type=Path, help="site folder (default: a temporary folder, removed when serve stops)"
    )
    serve.add_argument("-q", "--quiet", action="store_true", help="print only rebuilds and errors")
    _refuse_pickle_option(serve)

    init = commands.add_parser(
        "init",
        help="scaffold a workspace from an evaluation table (and optionally a model file and a log)",
        description="Write a new workspace from the files you have: the evaluation table is required; "
        "the task, the positive class and the feature kinds are inferred from it, every card field is "
        "written as a TODO for you to fill in, and the command that builds the site is printed.",
    )
    init.add_argument("directory", type=Path, help="the new workspace (must not exist, or be empty)")
    init.add_argument("--eval", dest="evaluation", type=Path, required=True, metavar="TABLE",
                      help="evaluation table: CSV, Parquet or JSON Lines with labels and predictions")  # fmt: skip
    init.add_argument("--label", required=True, help="column with the observed outcome")
    init.add_argument("--prediction", required=True, help="column with the model's prediction")
    init.add_argument("--score", help="column with the positive-class probability (binary classification)")
    init.add_argument("--sensitive", default="", metavar="COLS", help="comma-separated sensitive feature columns")
    init.add_argument("--sensitive-not-features", action="store_true",
                      help="leave the sensitive columns out of the features (when the model does not use them)")  # fmt: skip
    init.add_argument("--positive-label", help="the positive class (default: inferred from the scores)")
    init.add_argument("--model", dest="model_file", type=Path, metavar="FILE", help="the model file (.skops, .pkl …)")
    init.add_argument("--log", type=Path, metavar="TABLE", help="a production scoring log to monitor")
    init.add_argument("--timestamp", help="the log's scoring-time column (default: inferred)")
    init.add_argument("--log-id", help="the log's record-id column (to join late ground truth)")
    init.add_argument("--ground-truth", type=Path, metavar="TABLE",
                      help="a table of outcomes known after scoring, joined to the log by id (needs --log-id)")  # fmt: skip
    init.add_argument("--ground-truth-id", metavar="COL", help="its record-id column (default: the --log-id column)")
    init.add_argument("--ground-truth-label", metavar="COL", help="its outcome column (default: the --label column)")
    init.add_argument("--name", help="the model's display name (default: from the table's file name)")
    init.add_argument("--mlflow", type=Path, metavar="STORE",
                      help="an MLflow tracking store (mlflow.db or mlruns/): the training run's params and id are recorded")  # fmt: skip
    init.add_argument("--mlflow-run", metavar="RUN_ID", help="the run to record (default: the newest registered one)")

    render = commands.add_parser("render", help="re-render a site from a saved manifest.json")
    render.add_argument("manifest", type=Path)
    render.add_argument("-o", "--output", type=Path, required=True)
    render.add_argument("-q", "--quiet", action="store_true")
    _dossiers_option(render)

    from modelgov.decisions.commands import add_arguments as decision_commands

    decision_commands(commands, _as_of)

    from modelgov.dossier.commands import add_arguments as dossier_commands

    dossier_commands(commands)

    schema = commands.add_parser("schema", help="print a JSON Schema (manifest or a workspace file kind)")
    schema.add_argument(
        "name",
        nargs="?",
        default="manifest",
        help="manifest, governance, model, version, approvals or datasheet (default: manifest)",
    )
    schema.add_argument("--write", type=Path, metavar="DIR", help="write every schema into DIR instead")
    return parser


def _as_of(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _dossiers_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dossiers",
        nargs="?",
        const="production,staging,candidate",
        type=_statuses,
        metavar="STATUSES",
        help="also write an archival PDF/A dossier of each version in production or awaiting a decision "
        "(or of the statuses given, e.g. `production`) into OUTPUT/dossiers/, linked from the version's page; "
        "signed with MODELGOV_SIGNING_KEY when set",
    )


def _statuses(text: str) -> tuple[str, ...]:
    known = ("candidate", "staging", "production", "retired")
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [part for part in chosen if part not in known]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"{text!r}: statuses are a comma-separated list of {', '.join(known)}")
    return chosen


def _refuse_pickle_option(parser: argparse.ArgumentParser) -> None:
    """``--refuse-pickle``: CI's say over pickles, which a pull request cannot change (unlike
    ``trust_pickle`` in the workspace). MODELGOV_REFUSE_PICKLE=1 does the same for every command."""
    parser.add_argument(
        "--refuse-pickle",
        action="store_true",
        help="never load a pickle, and refuse a workspace that sets trust_pickle: true (exit 2); "
        "also MODELGOV_REFUSE_PICKLE=1",
    )


def _analysis_options(command: argparse.ArgumentParser) -> None:
    """The analysis cache and parallelism, shared by ``build`` and ``check``: a check reuses what the
    last build computed (and a build what the last check computed)."""
    command.add_argument(
        "--cache-dir",
        type=Path,
        help="where analysis results are cached between runs, never inside the workspace "
        "(default: $MODELGOV_CACHE_DIR, else the user's cache folder, e.g. ~/.cache/modelgov)",
    )
    command.add_argument("--no-cache", action="store_true", help="recompute every analysis; read and write no cache")
    command.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="models analysed in parallel processes (default: the number of CPUs; 1 = in this process)",
    )


def _policy_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allowed-signers",
        type=Path,
        metavar="FILE",
        help="check signed sign-offs against this allowed-signers file, from outside the workspace (default: "
        "MODELGOV_ALLOWED_SIGNERS, then governance.yml signing.allowed_signers)",
    )
    parser.add_argument("--junit", type=Path, metavar="PATH", help="also write the policy results as JUnit XML")
    parser.add_argument(
        "--fail-on",
        choices=["blocking", "warning"],
        default=None,
        help="exit with 1 on a failing blocking rule (default, or governance.yml policies.fail_on) or on any warning",
    )
    parser.add_argument(
        "--fail-on-degraded",
        action="store_true",
        help="also exit with 1 when an analysis ran degraded (a model not loaded, SHAP not computed …); "
        "each is printed as a `note` line",
    )
    parser.add_argument(
        "--as-of",
        type=_as_of,
        default=None,
        metavar="DATE",
        help="check freshness and waiver expiry as of this date (default: the build date)",
    )


@contextlib.contextmanager
def _interrupt_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM (a CI job cancelled, a container stopped) into KeyboardInterrupt while a command
    runs, so a build unwinds like Ctrl-C: the staging folder is removed and the previous site stays
    as it was. Python's default for SIGTERM is to die at once, skipping every cleanup."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals to whoever runs us
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    with _interrupt_on_sigterm():
        return _main(args)


def _main(args: argparse.Namespace) -> int:
    # Errors quote what the workspace says (an unknown key, a value, a path): every one is printed
    # through `visible`, so a key made of ANSI escape sequences shows as `\x1b[2J` instead of
    # clearing or repainting the CI log that shows it.
    try:
        return _run(args)
    except WorkspaceError as exc:
        print(f"error: {visible(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except ModelgovError as exc:
        print(f"error: {visible(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted; the previous output was left untouched", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the output was piped into a command that stopped reading (`| head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # a bug in modelgov: say so plainly, keep the traceback for a report
        if os.environ.get("MODELGOV_DEBUG"):
            raise
        print(
            f"internal error: {type(exc).__name__}: {visible(str(exc))}\n"
            "This is a bug in modelgov, not in your workspace; the previous output was left untouched.\n"
            "Run again with MODELGOV_DEBUG=1 to see the traceback, and please report it.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def _run(args: argparse.Namespace) -> int:
    if args.command == "build":
        from modelgov.build import build_site
        from modelgov.cache import default_cache_dir

        if (args.alias or args.no_alias) and args.site_version is None:
            raise ModelgovError("--alias and --no-alias need --site-version")
        aliases = () if args.no_alias else tuple(args.alias or ("latest",))
        result = build_site(
            args.workspace,
            args.output,
            progress=_Progress(args.quiet),
            as_of=args.as_of,
            fail_on=args.fail_on,
            site_version=args.site_version,
            aliases=aliases,
            cache_dir=None if args.no_cache else (args.cache_dir or default_cache_dir()),
            jobs=max(1, args.jobs),
            refuse_pickle=args.refuse_pickle,
            allowed_signers=args.allowed_signers,
            dossiers=args.dossiers or (),
        )
        if not args.quiet:
            _print_open_hint(result.site_dir)
        return _report_policies(result.manifest, args, results=result.site_dir / "policy-results.json")
    if args.command == "check":
        return _check(args)
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
        if workspace.placeholders:
            count = len(workspace.placeholders)
            print(f"\n{count} value{'s are' if count != 1 else ' is'} still to be written:")
            for problem in workspace.placeholders:
                print(f"  {problem}")
        return EXIT_OK
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
    if args.command in ("approve", "waive", "promote", "audit", "flag"):
        from modelgov.decisions.commands import run

        return run(args)
    raise AssertionError(args.command)


def _export(args: argparse.Namespace) -> int:
    from modelgov import manifest
    from modelgov.export.write import FORMATS, export

    if args.source.is_dir():
        from modelgov.assemble import build_manifest
        from modelgov.cache import default_cache_dir, open_cache
        from modelgov.workspace.load import load_workspace

        cache = open_cache(default_cache_dir(), args.source, report=lambda message: print(message, file=sys.stderr))
        the_manifest = build_manifest(load_workspace(args.source), cache=cache)
    else:
        the_manifest = manifest.read(args.source)
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
        args.workspace, output, port=args.port, progress=_Progress(args.quiet), refuse_pickle=args.refuse_pickle
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
    from modelgov.cache import default_cache_dir, open_cache
    from modelgov.policy.outputs import results_json
    from modelgov.workspace.load import load_workspace

    progress = _Progress(args.quiet)
    root = args.workspace.resolve()
    cache_dir = None if args.no_cache else (args.cache_dir or default_cache_dir())
    cache = open_cache(cache_dir, root, report=progress) if cache_dir is not None else None
    progress(f"Loading workspace {args.workspace}")
    workspace = load_workspace(args.workspace, refuse_pickle=args.refuse_pickle)
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
        _write(args.results, results_json(built.governance, built))
    return _report_policies(built, args, results=args.results if built.governance is not None else None)


def _write(path: Path, text: str) -> None:
    """Write a report file atomically (a reader never sees half of it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def _report_policies(built, args: argparse.Namespace, *, results: Path | None) -> int:
    """Print the summary, then one ``note`` line per degraded analysis, write JUnit when asked, and
    return the exit code: 1 when a blocking rule failed (or, with --fail-on warning, anything short
    of a pass or a waiver), or with --fail-on-degraded when an analysis ran degraded; else 0.

    The note lines are printed unless --quiet; with --fail-on-degraded they are failures, and are
    printed even with --quiet. policy-results.json lists them under ``degraded`` either way."""
    from modelgov import degraded
    from modelgov.policy.outputs import exit_code, junit_xml, summary_table

    found = degraded.degradations(built)
    failing = bool(found) and args.fail_on_degraded
    report = built.governance
    if report is None:
        if not args.quiet:
            print("No policy applies: add packs in governance.yml (policies.packs) or files in policies/.")
        if args.junit:
            raise ModelgovError("--junit needs policies: none are configured in this workspace")
        _report_degraded(found, args)
        return EXIT_POLICY_FAILED if failing else EXIT_OK
    if args.junit:
        _write(args.junit, junit_xml(report))
    text = summary_table(report)
    print(text if not args.quiet else text.splitlines()[-1])
    _report_degraded(found, args)
    if not args.quiet and results is not None:
        print(f"Results: {results}" + (f"; JUnit: {args.junit}" if args.junit else ""))
    return EXIT_POLICY_FAILED if failing else exit_code(report)


def _report_degraded(found: list, args: argparse.Namespace) -> None:
    """The ``note`` lines of :mod:`modelgov.degraded`, and the verdict they make with --fail-on-degraded."""
    from modelgov import degraded

    if not found or (args.quiet and not args.fail_on_degraded):
        return
    if not args.quiet:
        print()
    for line in degraded.lines(found):
        print(line)
    if args.fail_on_degraded:
        count = len(found)
        print(f"FAILED: {count} degraded analys{'es' if count != 1 else 'is'} and --fail-on-degraded (exit code 1)")


def _demo(args: argparse.Namespace) -> int:
    from modelgov.build import build_site
    from modelgov.demo import DEFAULT_SEED, generate_workspace
    from modelgov.demo.policies import AS_OF

    progress = _Progress(args.quiet)
    root: Path = args.directory
    workspace = root / "workspace"
    seed = DEFAULT_SEED if args.seed is None else args.seed
    progress(f"Generating the example workspace in {workspace} (seed {seed})")
    generate_workspace(workspace, seed=seed)
    # a dossier of each production version, as an auditor would file it (docs/dossier.md); a machine
    # without Pango still gets the site, and is told why the dossiers are missing
    from modelgov.dossier.pdf import available

    if problem := available():
        progress(f"No dossiers: {problem}")
    dossiers = () if problem else ("production",)
    result = build_site(workspace, root / "site", progress=progress, as_of=AS_OF, dossiers=dossiers)
    if not args.quiet:
        _print_open_hint(result.site_dir)
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
    result = render_manifest(the_manifest, args.output, progress=_Progress(args.quiet), dossiers=args.dossiers or ())
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
