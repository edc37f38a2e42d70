"""The ``modelgov`` command line's arguments: every command, its options and their help texts.

Kept apart from the commands' code so that what a user can type (and what ``--help`` says) is read
in one place, and so that building the parser imports nothing heavy: ``modelgov --help`` stays fast,
and tests check CI recipes and docs/cli.md against the real parser (:func:`build_parser`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING

from modelgov import __version__

if TYPE_CHECKING:
    from modelgov.workspace.refusals import Refusals


def build_parser() -> argparse.ArgumentParser:
    """The parser of every ``modelgov`` command (the decision and dossier commands add their own)."""
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
    build.add_argument(
        "--prune-cache",
        action="store_true",
        help="once the site is written, remove the cache entries this build did not use, so that a cache "
        "saved after each CI run holds only what the next one needs (do not use on a cache other "
        "workspaces share)",
    )
    _policy_options(build)
    refusal_options(build)

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
    refusal_options(check)

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
    _analysis_options(demo)  # the same cache as `build`: a second demo reuses the first one's analyses

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
    _workspace_source_options(export)

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
    refusal_options(serve)

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

    from modelgov.decisions.arguments import add_arguments as decision_commands

    decision_commands(commands, as_of_date)

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


def as_of_date(text: str) -> dt.date:
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


def refusal_options(parser: argparse.ArgumentParser) -> None:
    """``--refuse-pickle``, ``--refuse-workspace-code`` and ``--require-pack``: CI's say over the
    workspace's code and its built-in packs, which a pull request cannot change (unlike
    ``trust_pickle``, ``trusted_types``, ``trust_templates`` and ``policies.packs`` in the workspace).
    Their variables do the same for every command (see :mod:`modelgov.workspace.refusals`)."""
    parser.add_argument(
        "--refuse-pickle",
        action="store_true",
        help="never run a model file's code: refuse a workspace that sets trust_pickle: true or lists skops "
        "trusted_types (exit 2); also MODELGOV_REFUSE_PICKLE=1",
    )
    parser.add_argument(
        "--refuse-workspace-code",
        action="store_true",
        help="never run the workspace's code or HTML: as --refuse-pickle, and refuse trust_templates: true "
        "too (exit 2); also MODELGOV_REFUSE_WORKSPACE_CODE=1",
    )
    parser.add_argument(
        "--require-pack",
        dest="require_packs",
        action="append",
        default=[],
        metavar="NAME",
        help="refuse a workspace whose governance.yml does not list this built-in policy pack (exit 2), so that "
        "a pull request cannot take it out; repeat for several; also MODELGOV_REQUIRE_PACKS=NAME,NAME",
    )


def refusals_of(args: argparse.Namespace) -> Refusals:
    """What the options of :func:`refusal_options` refuse (the loader adds the environment's)."""
    from modelgov.workspace.refusals import Refusals

    return Refusals(
        pickle=args.refuse_pickle, workspace_code=args.refuse_workspace_code, packs=tuple(args.require_packs)
    )


def _analysis_options(command: argparse.ArgumentParser) -> None:
    """The analysis cache and parallelism, shared by ``build``, ``check`` and ``demo``: a check reuses
    what the last build computed (and a build what the last check computed)."""
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
        help="at most this many parallel processes for analysing models, building the site's parts (when a "
        "site is large enough to repay them) and laying out dossiers (default: the number of CPUs; "
        "1 = everything in this process)",
    )


def _workspace_source_options(parser: argparse.ArgumentParser) -> None:
    """What `check` takes from the CI, for a command that may analyse a workspace itself (`export`): its
    verdicts are then the CI gate's, not those the workspace's own settings would give."""
    parser.add_argument(
        "--allowed-signers",
        type=Path,
        metavar="FILE",
        help="for a workspace: check signed sign-offs against this allowed-signers file, from outside the "
        "workspace, as `check` does (default: MODELGOV_ALLOWED_SIGNERS, then governance.yml signing.allowed_signers)",
    )
    parser.add_argument(
        "--as-of", type=as_of_date, default=None, metavar="DATE",
        help="for a workspace: check the policies as of this date, as `check --as-of` (default: today)",
    )  # fmt: skip
    gate_option(parser)
    refusal_options(parser)


def gate_option(parser: argparse.ArgumentParser) -> None:
    """``--fail-on`` for a command that governs a workspace and states whether a version blocks."""
    parser.add_argument(
        "--fail-on", choices=["blocking", "warning"], default=None,
        help="for a workspace: what blocks a release, as `check --fail-on` (default: governance.yml policies.fail_on)",
    )  # fmt: skip


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
        type=as_of_date,
        default=None,
        metavar="DATE",
        help="check freshness and waiver expiry as of this date (default: the build date)",
    )
