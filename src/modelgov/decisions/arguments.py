"""The decision commands' parsers (``approve``, ``promote``, ``waive``, ``flag``, ``audit``), apart
from their handlers (:mod:`.commands`, :mod:`.flag`), so that building ``modelgov``'s parser imports
nothing heavy: the handlers import the audit log, the manifest and NumPy only when they run."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable
from pathlib import Path


def add_arguments(commands: argparse._SubParsersAction, as_of: Callable[[str], dt.date]) -> None:
    """The decision commands' parsers (called by :mod:`modelgov.cli`)."""
    approve = commands.add_parser(
        "approve", help="record a sign-off of a model version in the workspace's audit log (audit/log.jsonl)"
    )
    approve.add_argument("workspace", type=Path)
    approve.add_argument("model", help="model id")
    approve.add_argument("version", help="version")
    approve.add_argument("--role", required=True, help="the role signing off, e.g. model_risk")
    approve.add_argument("--by", required=True, help="who signs off: the principal of their key in allowed_signers")
    approve.add_argument("--decision", choices=["approved", "rejected", "pending"], default="approved")
    approve.add_argument("--comment", default=None)
    approve.add_argument(
        "--condition",
        nargs=2,
        action="append",
        default=[],
        metavar=("DUE", "TEXT"),
        help="a condition the approval is given under, due by DUE (YYYY-MM-DD, or `standing` for one that holds "
        "while the model is used); repeatable; recorded in the signed entry, met later with `modelgov condition`",
    )
    _signing_options(approve)

    condition = commands.add_parser(
        "condition", help="record in the audit log that a condition of a sign-off is met (signed, by its role)"
    )
    condition.add_argument("workspace", type=Path)
    condition.add_argument("model", help="model id")
    condition.add_argument("version", help="version")
    condition.add_argument("--entry", type=int, required=True, help="the audit entry of the sign-off")
    condition.add_argument("--number", type=int, required=True, help="which of its conditions, from 1")
    condition.add_argument("--by", required=True, help="who confirms it: a holder of the sign-off's role")
    condition.add_argument("--note", required=True, help="how it was met, or where the evidence is")
    _signing_options(condition)

    promote = commands.add_parser(
        "promote",
        help="change a version's status in its version.yml, through the policy gate, and record it in the audit log",
    )
    promote.add_argument("workspace", type=Path)
    promote.add_argument("model", help="model id")
    promote.add_argument("version", help="version")
    promote.add_argument("--to", required=True, choices=["candidate", "staging", "production", "retired"])
    promote.add_argument("--by", required=True, help="who makes the change")
    promote.add_argument("--comment", default=None)
    promote.add_argument(
        "--override",
        metavar="REASON",
        help="promote although a blocking rule fails: needs --key of a signer holding the 'override' role",
    )
    promote.add_argument(
        "--as-of",
        type=as_of,
        default=None,
        metavar="DATE",
        help="today's UTC date only: a promotion is checked on the day it is recorded (another date is refused)",
    )
    _signing_options(promote)

    waive = commands.add_parser("waive", help="add a waiver to waivers.yml and record it in the audit log")
    waive.add_argument("workspace", type=Path)
    waive.add_argument("--id", required=True, help="waiver id, e.g. W-2026-020")
    waive.add_argument("--policy", required=True)
    waive.add_argument("--rule", required=True)
    waive.add_argument("--model", required=True, action="append", help="model id or glob (repeatable)")
    waive.add_argument("--version", action="append", default=None, help="version or glob (repeatable; default: all)")
    waive.add_argument("--reason", required=True)
    waive.add_argument("--by", required=True, help="who approves the waiver")
    waive.add_argument("--ticket", required=True)
    waive.add_argument("--expires", required=True, type=as_of, metavar="DATE")
    waive.add_argument("--granted", type=as_of, default=None, metavar="DATE", help="default: today (UTC)")
    _signing_options(waive)

    _flag_parser(commands)

    audit = commands.add_parser("audit", help="the audit log: verify its hash chain")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    check = audit_commands.add_parser(
        "verify", help="recompute the chain; exit 1 naming the first broken entry, or a truncation or rewrite"
    )
    check.add_argument("workspace", type=Path)
    check.add_argument(
        "--against",
        type=Path,
        metavar="PUBLISHED",
        help="a published manifest.json, or a site folder holding one: find entries cut off or rewritten since",
    )


def _flag_parser(commands: argparse._SubParsersAction) -> None:
    flag = commands.add_parser(
        "flag",
        help="record that a model version's results do not match business expectations (or close such a flag) "
        "in the audit log",
    )
    flag.add_argument("workspace", type=Path)
    flag.add_argument("model", help="model id")
    flag.add_argument("version", help="version")
    flag.add_argument("--by", required=True, help="who raises (or closes) the flag: their principal when signing")
    flag.add_argument("--text", required=True, help="what does not match expectations (with --resolve: the note)")
    what = flag.add_mutually_exclusive_group()
    what.add_argument("--window", metavar="START[/END]", help="the dates concerned, e.g. 2026-10-05/2026-10-11")
    what.add_argument("--records", metavar="ID[,ID...]", help="the records concerned, by id")
    what.add_argument("--resolve", metavar="FLAG_ID", help="close this open flag, with --text as the note")
    _signing_options(flag)


def _signing_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--key",
        type=Path,
        metavar="SSH_KEY",
        help="sign the entry with this SSH key (ssh-keygen -Y sign; default: MODELGOV_SIGNING_KEY); "
        "without one the entry is unsigned",
    )
    parser.add_argument(
        "--allowed-signers",
        type=Path,
        metavar="FILE",
        help="check the signature against this allowed-signers file (default: MODELGOV_ALLOWED_SIGNERS, "
        "then governance.yml signing.allowed_signers)",
    )
