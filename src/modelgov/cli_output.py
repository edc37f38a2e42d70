"""What the commands print besides their own results, and the exit codes they return.

The exit codes are the command line's contract with CI (0 success; 1 a blocking policy rule failed,
or the audit chain is broken; 2 invalid input; 3 a bug; 130 interrupted), so they are defined once
here, with the output that explains each verdict: progress lines, the policy summary, the ``note``
lines of degraded analyses, the policy results written for CI, and the hint to open a built site.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from modelgov.errors import ModelgovError
from modelgov.text_safety import visible

EXIT_OK = 0
EXIT_POLICY_FAILED = 1  # a blocking policy rule failed, or the audit chain is broken
EXIT_INVALID = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130


class Progress:
    """Step messages on stderr with elapsed time; silent with ``--quiet``."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        if not self.quiet:  # a message can quote a workspace's names: no control character reaches the terminal
            print(f"[{time.perf_counter() - self.start:6.1f}s] {visible(message)}", file=sys.stderr, flush=True)


def write_report(path: Path, text: str) -> None:
    """Write a report file atomically (a reader never sees half of it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def report_policies(built, args: argparse.Namespace, *, results: Path | None) -> int:
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
        write_report(args.junit, junit_xml(report))
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


def print_open_hint(site_dir: Path) -> None:
    """Where the built site is, and how to open or serve it."""
    index = site_dir.resolve() / "index.html"
    print(
        f"\nThe site is ready: {index}\n"
        f"Open that file in a browser, or serve the folder with:\n"
        f"  python -m http.server --directory {site_dir} 8000   # then visit http://127.0.0.1:8000/"
    )
