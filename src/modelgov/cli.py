"""The ``modelgov`` command line: the only place exceptions become exit codes.

Exit codes: 0 success; 2 invalid workspace, manifest or output folder; 3 an internal error (a bug);
130 interrupted. A :class:`~modelgov.errors.ModelgovError` is printed as a message, never as a traceback;
anything else is a bug in modelgov and says so.

This module is the entry point (``modelgov = "modelgov.cli:main"``) and nothing more: the arguments
are defined in :mod:`modelgov.cli_parser`, the commands in :mod:`modelgov.cli_commands`, and what
they print and the exit codes in :mod:`modelgov.cli_output`.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool

from modelgov.cli_commands import run
from modelgov.cli_output import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK
from modelgov.cli_parser import build_parser
from modelgov.errors import ModelgovError, WorkspaceError
from modelgov.text_safety import visible


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
    args = build_parser().parse_args(argv)
    with _interrupt_on_sigterm():
        return _main(args)


def command() -> int:
    """The ``modelgov`` command (and ``python -m modelgov``): :func:`main`, then the fork server of
    the build's workers stopped (:func:`modelgov.processes.stop_server`), so that their resource use
    counts in the command's. :func:`main` alone keeps the server for the next build in the process."""
    code = main()
    if code != EXIT_INTERRUPTED:  # after an interrupt, workers may still be ending: do not wait for them
        from modelgov.processes import stop_server

        with contextlib.suppress(OSError, KeyboardInterrupt):
            stop_server()
    # The process ends here: what the command made is left for the operating system to reclaim, not
    # traversed by the interpreter's last garbage collection (over a second after a fleet's build,
    # whose manifest is still waiting for a collection). Exit handlers still run, and every file the
    # command wrote was closed as it was written; the finalizers (``__del__``) of objects in
    # reference cycles do not run, so nothing may rely on them to flush or clean up.
    gc.freeze()
    return code


def _main(args: argparse.Namespace) -> int:
    # Errors quote what the workspace says (an unknown key, a value, a path): every one is printed
    # through `visible`, so a key made of ANSI escape sequences shows as `\x1b[2J` instead of
    # clearing or repainting the CI log that shows it.
    try:
        return run(args)
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
        if isinstance(exc, BrokenProcessPool) and exc.__cause__ is None:
            # a worker (--jobs) ended before its task did, without an exception to send back: a signal,
            # the OOM killer, or an error as it started (which concurrent.futures wrote to standard error)
            print(
                "error: a worker process of the build stopped before finishing its task: killed by a signal, "
                "stopped by the system when memory ran out, or failed as it started (its own message, if any, "
                "is above); the previous output was left untouched.\n"
                "Run again, or with --jobs 1 to build in one process.",
                file=sys.stderr,
            )
            return EXIT_INTERNAL
        if isinstance(exc, BrokenProcessPool):  # a worker's own error, which could not be sent back whole
            lines = [line for line in str(exc.__cause__).strip().splitlines() if line.strip(' "')]
            exc = RuntimeError(f"in a worker process: {lines[-1] if lines else exc}")
        print(
            f"internal error: {type(exc).__name__}: {visible(str(exc))}\n"
            "This is a bug in modelgov, not in your workspace; the previous output was left untouched.\n"
            "Run again with MODELGOV_DEBUG=1 to see the traceback, and please report it.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(command())
