"""Who may sign decisions, and in which roles: an ``allowed_signers`` file in git's format.

The file is the one ``git config gpg.ssh.allowedSignersFile`` names, one line per key::

    alice@bank.example namespaces="modelgov" ssh-ed25519 AAAAC3Nza… roles=model_risk,override

principals (comma-separated), options (``namespaces``, ``valid-after``, ``valid-before`` as
``ssh-keygen`` reads them), the public key, and a comment, where modelgov reads ``roles=`` — the roles
that principal may sign for. ``ssh-keygen -Y verify`` accepts the same file, so a team checks a
signature with the tool it already trusts.

Where the file comes from is the heart of the threat model. A workspace may name one
(``signing.allowed_signers`` in governance.yml), which is convenient but changeable by any pull
request; CI should instead pass it from outside the workspace (``--allowed-signers`` or
``MODELGOV_ALLOWED_SIGNERS``), and then the workspace's file is ignored. The manifest records which
one a build used, and the site says so.

Signatures are checked with the ``sshsig`` package (Ed25519 and RSA keys, the format of
``ssh-keygen -Y sign``); an ECDSA or certificate key is reported as unsupported, never trusted.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

import sshsig
from sshsig.allowed_signers import AllowedSigner, load_allowed_signers_file

from modelgov.errors import ModelgovError
from modelgov.workspace.paths import refusal

#: The SSHSIG namespace of every modelgov signature (git's is "git"): a signature made for one
#: purpose cannot be replayed for another.
NAMESPACE = "modelgov"
ENV_VAR = "MODELGOV_ALLOWED_SIGNERS"
NO_WORKSPACE_ENV = "MODELGOV_NO_WORKSPACE_SIGNERS"
REQUIRE_ENV = "MODELGOV_REQUIRE_SIGNATURES"
_MAX_BYTES = 1 << 20
_ROLES = re.compile(r"(?:^|\s)roles=([A-Za-z0-9_.,-]+)")


class SignersError(ModelgovError):
    """The allowed-signers file cannot be used; the message names it and the line."""


#: Where a workspace names its allowed-signers file, as the messages about that name say.
CONFIGURED_AT = "governance.yml: signing.allowed_signers"


def _wildcard(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.S)


@dataclass(frozen=True)
class Signer:
    principals: tuple[str, ...]
    key: sshsig.PublicKey
    roles: frozenset[str]
    namespaces: tuple[str, ...] | None
    valid_after: dt.datetime | None
    valid_before: dt.datetime | None
    line: int

    @property
    def fingerprint(self) -> str:
        return self.key.sha256_str()

    def names(self, principal: str) -> bool:
        """ssh-keygen's rule for a principals list: ``*`` and ``?`` are the only wildcards, a
        pattern starting with ``!`` excludes, and an excluded principal never matches."""
        positive = False
        for pattern in self.principals:
            negated = pattern.startswith("!")
            if _wildcard(pattern[1:] if negated else pattern).fullmatch(principal):
                if negated:
                    return False
                positive = True
        return positive


@dataclass(frozen=True)
class AllowedSigners:
    path: str  # as shown to users: workspace-relative, or the outside path
    origin: str  # "external" (CI, outside the workspace), "workspace", or "ignored" (refused by the CI)
    signers: tuple[Signer, ...]


@dataclass(frozen=True)
class SignatureCheck:
    """The outcome of checking one signed entry: ``status`` is ``signed`` or ``invalid``."""

    status: str
    fingerprint: str | None
    reason: str | None = None
    roles: frozenset[str] = frozenset()


_TIME_FORMATS = {8: "%Y%m%d", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}


def _ssh_time(text: str, where: str) -> dt.datetime:
    """``YYYYMMDD[HHMM[SS]][Z]``, read as UTC (ssh-keygen reads a time without ``Z`` as the
    machine's local time; CI machines run on UTC, and a build must not depend on the machine).
    Strict: the format is chosen by the number of digits and must read back the same, so a month
    13 is an error rather than another date."""
    digits = text[:-1] if text[-1:] in "Zz" else text
    fmt = _TIME_FORMATS.get(len(digits)) if digits.isascii() and digits.isdigit() else None
    try:
        moment = dt.datetime.strptime(digits, fmt) if fmt else None
    except ValueError:
        moment = None
    if moment is None or moment.strftime(fmt) != digits:
        raise SignersError(f"{where}: {text!r} is not an ssh-keygen time (YYYYMMDD[HHMM[SS]][Z])")
    return moment.replace(tzinfo=dt.UTC)


def read_allowed_signers(path: Path, shown: str, origin: str) -> AllowedSigners:
    """Parse ``path``; every problem names the file and the line."""
    try:
        if not path.is_file() or path.stat().st_size > _MAX_BYTES:
            raise SignersError(f"{shown}: not a regular file of at most {_MAX_BYTES} bytes")
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise SignersError(f"{shown}: cannot be read as an ASCII allowed-signers file ({exc})") from None
    signers = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{shown}:{number}"
        try:
            (entry,) = load_allowed_signers_file(_OneLine(line))
            key = sshsig.PublicKey.from_openssh_str(f"{entry.key_type} {entry.base64_key}")
        except NotImplementedError as exc:
            raise SignersError(f"{where}: {exc}; use an ssh-ed25519 or ssh-rsa key") from None
        except ValueError as exc:
            raise SignersError(f"{where}: not an allowed-signers line ({exc})") from None
        signers.append(_signer(entry, key, number, where))
    return AllowedSigners(shown, origin, tuple(signers))


def _signer(entry: AllowedSigner, key: sshsig.PublicKey, number: int, where: str) -> Signer:
    options = dict(entry.options or {})
    if "cert-authority" in options:
        raise SignersError(f"{where}: cert-authority keys are not supported; list each person's key")
    unknown = sorted(set(options) - {"namespaces", "valid-after", "valid-before"})
    if unknown:
        raise SignersError(f"{where}: unknown option {unknown[0]!r}")
    roles = _ROLES.search(entry.comment or "")
    return Signer(
        principals=tuple(p for p in entry.principals.split(",") if p),
        key=key,
        roles=frozenset(r for r in (roles.group(1).split(",") if roles else ()) if r),
        namespaces=tuple(options["namespaces"].split(",")) if "namespaces" in options else None,
        valid_after=_ssh_time(options["valid-after"], where) if "valid-after" in options else None,
        valid_before=_ssh_time(options["valid-before"], where) if "valid-before" in options else None,
        line=number,
    )


class _OneLine:
    """The file-like ``load_allowed_signers_file`` expects, for one line (so errors know the line)."""

    def __init__(self, line: str):
        self._line = line

    def readlines(self) -> list[str]:
        return [self._line]


def workspace_signers_refused() -> bool:
    """``MODELGOV_NO_WORKSPACE_SIGNERS``: the CI trusts no allowed-signers file from the workspace."""
    return os.environ.get(NO_WORKSPACE_ENV, "").strip().lower() not in ("", "0", "false", "no", "off")


def signatures_required() -> bool:
    """``MODELGOV_REQUIRE_SIGNATURES``: the CI counts only signed decisions, whatever the policies say
    (a pull request could otherwise delete ``require_signature`` from a policy)."""
    return os.environ.get(REQUIRE_ENV, "").strip().lower() not in ("", "0", "false", "no", "off")


def locate(root: Path, configured: str | None, external: Path | None) -> AllowedSigners | None:
    """The signers a build trusts: ``external`` (a flag), else ``MODELGOV_ALLOWED_SIGNERS``, else
    the workspace's ``configured`` file; None when there is none. With
    ``MODELGOV_NO_WORKSPACE_SIGNERS`` set, the workspace's file is never used: a CI job that lost its
    own file (a fork's pull request gets no secrets) then accepts no signature, instead of the
    pull request's own keys."""
    outside = external or (Path(os.environ[ENV_VAR]) if os.environ.get(ENV_VAR) else None)
    if outside is not None:
        return read_allowed_signers(outside, str(outside), "external")
    if configured is None:
        return None
    if workspace_signers_refused():
        return AllowedSigners(configured, "ignored", ())
    path = root / configured
    reason = refusal(root.resolve(), path)  # outside the workspace, a FIFO or device, a NUL character
    if reason is not None:
        raise SignersError(f"{CONFIGURED_AT}: {configured!r} {reason}")
    return read_allowed_signers(path.resolve(), configured, "workspace")


def check_signature(
    signers: AllowedSigners | None, principal: str, message: bytes, armored: str, when: dt.datetime
) -> SignatureCheck:
    """Is ``armored`` a valid modelgov signature of ``message`` by a key the signers file lists for
    ``principal``, valid at ``when``? Never raises for a bad signature: it says why."""
    try:
        key = sshsig.check_signature(message, armored, namespace=NAMESPACE)
    except NotImplementedError as exc:
        return SignatureCheck("invalid", None, f"unsupported signature ({exc})")
    except Exception as exc:  # sshsig raises InvalidSignature and ValueError subclasses for bad input
        return SignatureCheck("invalid", None, f"the signature does not verify ({type(exc).__name__})")
    fingerprint = key.sha256_str()
    if signers is None:
        return SignatureCheck("invalid", fingerprint, "no allowed-signers file is configured to check it against")
    if signers.origin == "ignored":
        return SignatureCheck(
            "invalid", fingerprint, f"this build does not trust the workspace's {signers.path} and was given no other"
        )
    for signer in signers.signers:
        if signer.key != key or not signer.names(principal):
            continue
        if signer.namespaces is not None and NAMESPACE not in signer.namespaces:
            return SignatureCheck(
                "invalid", fingerprint, f"{signers.path}:{signer.line} does not allow the namespace {NAMESPACE!r}"
            )
        if signer.valid_after is not None and when < signer.valid_after:
            return SignatureCheck("invalid", fingerprint, f"the key is valid only from {signer.valid_after:%Y-%m-%d}")
        if signer.valid_before is not None and when > signer.valid_before:
            return SignatureCheck("invalid", fingerprint, f"the key expired on {signer.valid_before:%Y-%m-%d}")
        return SignatureCheck("signed", fingerprint, None, signer.roles)
    return SignatureCheck(
        "invalid", fingerprint, f"{signers.path} does not list this key ({fingerprint}) for {principal}"
    )
