"""Signing a dossier, and checking one: its embedded manifest against the digest on its cover, and
its detached signature against an allowed-signers file.

The signature is the one sign-offs use (:mod:`modelgov.decisions.sign`): SSHSIG in the ``modelgov``
namespace, made by ``ssh-keygen -Y sign`` with the person's key, over the PDF's bytes, kept beside
the file as ``FILE.pdf.sig``. The PDF is not changed by signing, so its bytes stay reproducible, and
an auditor without modelgov can check it with OpenSSH alone::

    ssh-keygen -Y verify -f allowed_signers -I PRINCIPAL -n modelgov -s FILE.pdf.sig < FILE.pdf

Reading uses pypdf (pure Python): the attachments and the first page's text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from modelgov.decisions.signers import ENV_VAR, NAMESPACE, read_allowed_signers
from modelgov.dossier.document import MANIFEST_NAME
from modelgov.dossier.pdf import DossierError

#: The cover's digest, found in its text with every space removed (a line may wrap the digest).
_DIGEST = re.compile(r"ManifestSHA-256([0-9a-f]{64})")
_MAX_BYTES = 1 << 30  # a dossier larger than 1 GiB is not one modelgov wrote


def signature_path(pdf: Path) -> Path:
    return pdf.with_name(pdf.name + ".sig")


def sign_dossier(pdf: Path, key: Path) -> Path:
    """Sign ``pdf`` with ``key`` (as ``approve --key`` does); the signature is written beside it."""
    from modelgov.decisions.sign import sign
    from modelgov.dossier.pdf import write_file

    armored = sign(pdf.read_bytes(), key)
    target = signature_path(pdf)
    write_file(target, armored.encode("ascii"))
    return target


@dataclass
class Verification:
    """What ``dossier verify`` found: ``problems`` empty means every check passed."""

    digest_on_cover: str | None = None
    digest_of_attachment: str | None = None
    signature: str = "unsigned"  # unsigned, signed, invalid
    signer: str | None = None
    problems: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _read(pdf: Path) -> bytes:
    try:
        if pdf.stat().st_size > _MAX_BYTES:
            raise DossierError(f"{pdf}: larger than 1 GiB; not a dossier")
        data = pdf.read_bytes()
    except OSError as exc:
        raise DossierError(f"{pdf}: cannot read it ({exc.strerror or exc})") from None
    if not data.startswith(b"%PDF-"):
        raise DossierError(f"{pdf}: not a PDF file")
    return data


def embedded_files(data: bytes, shown: str) -> tuple[dict[str, bytes], str]:
    """(the attachments by name, the first page's text) of a PDF."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        attachments = {name: contents[0] for name, contents in reader.attachments.items() if contents}
        cover = reader.pages[0].extract_text() if len(reader.pages) else ""
    except (PyPdfError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise DossierError(f"{shown}: the PDF cannot be read ({type(exc).__name__}: {exc})") from None
    return attachments, cover


def verify_dossier(pdf: Path, allowed_signers: Path | None = None, signature: Path | None = None) -> Verification:
    """Check ``pdf``: the attached manifest's SHA-256 against the cover's, and the signature (``signature``,
    default ``FILE.pdf.sig``) against ``allowed_signers`` (default: MODELGOV_ALLOWED_SIGNERS)."""
    data = _read(pdf)
    found = Verification()
    attachments, cover = embedded_files(data, str(pdf))
    match = _DIGEST.search(re.sub(r"\s+", "", cover))
    found.digest_on_cover = match.group(1) if match else None
    if MANIFEST_NAME in attachments:
        found.digest_of_attachment = hashlib.sha256(attachments[MANIFEST_NAME]).hexdigest()
    if found.digest_on_cover is None:
        found.problems.append("the cover shows no manifest digest")
    if found.digest_of_attachment is None:
        found.problems.append(f"no {MANIFEST_NAME} is attached")
    if found.digest_on_cover and found.digest_of_attachment:
        if found.digest_on_cover == found.digest_of_attachment:
            found.lines.append(
                f"manifest: the attached {MANIFEST_NAME} matches the cover's SHA-256 {found.digest_on_cover}"
            )
        else:
            found.problems.append(
                f"the attached {MANIFEST_NAME} has SHA-256 {found.digest_of_attachment}, "
                f"the cover says {found.digest_on_cover}"
            )
    _check_signature(data, signature or signature_path(pdf), allowed_signers, found)
    return found


def _check_signature(data: bytes, sig: Path, allowed: Path | None, found: Verification) -> None:
    import sshsig

    if not sig.is_file():
        found.lines.append(f"signature: none ({sig.name} not found); the dossier is unsigned")
        return
    try:
        armored = sig.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        found.signature = "invalid"
        found.problems.append(f"{sig}: cannot read the signature ({exc})")
        return
    try:
        key = sshsig.check_signature(data, armored, namespace=NAMESPACE)
    except Exception as exc:  # sshsig raises InvalidSignature and ValueError subclasses for bad input
        found.signature = "invalid"
        found.problems.append(f"{sig.name}: the signature does not verify over this file ({type(exc).__name__})")
        return
    fingerprint = key.sha256_str()
    if allowed is None and os.environ.get(ENV_VAR):
        allowed = Path(os.environ[ENV_VAR]).expanduser()
    if allowed is None:
        found.signature = "invalid"
        found.problems.append(
            f"{sig.name}: made by key {fingerprint}, but no allowed-signers file says whose it is "
            f"(--allowed-signers or {ENV_VAR})"
        )
        return
    signers = read_allowed_signers(allowed, str(allowed), "external")
    now = dt.datetime.now(dt.UTC)
    for signer in signers.signers:
        if signer.key != key:
            continue
        if signer.namespaces is not None and NAMESPACE not in signer.namespaces:
            continue
        if (signer.valid_after and now < signer.valid_after) or (signer.valid_before and now > signer.valid_before):
            continue
        found.signature, found.signer = "signed", ", ".join(signer.principals)
        found.lines.append(f"signature: signed by {found.signer} (key {fingerprint}, {allowed}:{signer.line})")
        return
    found.signature = "invalid"
    found.problems.append(f"{sig.name}: key {fingerprint} is not listed (valid now) in {allowed}")
