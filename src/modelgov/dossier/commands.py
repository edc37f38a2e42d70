"""``modelgov dossier``: write one version's dossier, or verify one (called by :mod:`modelgov.cli`).

modelgov dossier WORKSPACE|manifest.json MODEL VERSION -o FILE.pdf [--key KEY]
modelgov dossier verify FILE.pdf [--allowed-signers FILE] [--signature FILE.sig] [--require-signature]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from modelgov.cli_parser import as_of_date, gate_option, refusal_options, refusals_of
from modelgov.errors import ModelgovError

EXIT_OK, EXIT_FAILED = 0, 1


def add_arguments(commands: argparse._SubParsersAction) -> None:
    dossier = commands.add_parser(
        "dossier",
        help="write a model version's archival dossier (a signed PDF/A-3), or `dossier verify FILE.pdf`",
        description="`modelgov dossier WORKSPACE MODEL VERSION -o FILE.pdf` writes the version's dossier from the "
        "manifest (WORKSPACE may also be a built site's manifest.json); `modelgov dossier verify FILE.pdf` checks "
        "that its attached manifest matches the digest on its cover, and its signature (FILE.pdf.sig).",
    )
    dossier.add_argument("target", nargs="+", metavar="ARG", help="WORKSPACE MODEL VERSION, or: verify FILE.pdf")
    dossier.add_argument("-o", "--output", type=Path, help="the PDF to write (default: MODEL-VERSION.pdf)")
    dossier.add_argument("--key", type=Path, help="sign the dossier with this SSH key (default: MODELGOV_SIGNING_KEY)")
    dossier.add_argument("--allowed-signers", type=Path, metavar="FILE", help="whose keys to accept, from outside "
                         "the workspace: for the signed sign-offs of a WORKSPACE (as `check` does), and for the "
                         "dossier's own signature with verify (default: MODELGOV_ALLOWED_SIGNERS; for a workspace, "
                         "then governance.yml signing.allowed_signers)")  # fmt: skip
    dossier.add_argument("--as-of", type=as_of_date, default=None, metavar="DATE",
                         help="for a WORKSPACE: check the policies as of this date, as `check --as-of` (default: today)")  # fmt: skip
    dossier.add_argument("--signature", type=Path, metavar="FILE", help="verify: the signature (default: FILE.pdf.sig)")
    dossier.add_argument("--require-signature", action="store_true", help="verify: an unsigned dossier fails")
    gate_option(dossier)
    refusal_options(dossier)


def run(args: argparse.Namespace) -> int:
    if args.target[0] == "verify":
        if len(args.target) != 2:
            raise ModelgovError("usage: modelgov dossier verify FILE.pdf")
        return _verify(Path(args.target[1]), args)
    if len(args.target) != 3:
        raise ModelgovError("usage: modelgov dossier WORKSPACE MODEL VERSION -o FILE.pdf (or: dossier verify FILE.pdf)")
    source, model_id, version = Path(args.target[0]), args.target[1], args.target[2]
    from modelgov.build import manifest_from
    from modelgov.decisions.sign import signing_key
    from modelgov.dossier import write_dossier
    from modelgov.dossier.document import find_version
    from modelgov.dossier.verify import sign_dossier

    the_manifest = manifest_from(
        source,
        refusals=refusals_of(args),
        allowed_signers=args.allowed_signers,
        as_of=args.as_of,
        fail_on=args.fail_on,
        report=lambda message: print(message, file=sys.stderr),
    )
    find_version(the_manifest, model_id, version)  # a clear error before any work
    output = args.output or Path(f"{model_id}-{version}.pdf")
    write_dossier(the_manifest, model_id, version, output)
    print(output)
    key = signing_key(args.key)
    if key is not None:
        print(sign_dossier(output, key))
    return EXIT_OK


def _verify(pdf: Path, args: argparse.Namespace) -> int:
    from modelgov.dossier.verify import verify_dossier

    found = verify_dossier(pdf, args.allowed_signers, args.signature)
    for line in found.lines:
        print(line)
    problems = list(found.problems)
    if args.require_signature and found.signature == "unsigned":
        problems.append("the dossier is unsigned and --require-signature was given")
    for problem in problems:
        print(f"FAILED: {problem}")
    if not problems:
        print(f"{pdf}: verified")
    return EXIT_FAILED if problems else EXIT_OK
