"""Signing an audit entry with the person's SSH key, the way git signs commits.

git runs ``ssh-keygen -Y sign`` (``gpg.format ssh``); so does modelgov, with its own namespace, so a
key already used to sign commits — in a file, in ``ssh-agent`` (give the public key's file), or on a
hardware token — signs decisions too, and its passphrase is asked by ssh-keygen, never by modelgov.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from modelgov.decisions.signers import NAMESPACE
from modelgov.errors import ModelgovError

ENV_KEY = "MODELGOV_SIGNING_KEY"


class SigningError(ModelgovError):
    """ssh-keygen could not sign; the message says why."""


def signing_key(given: Path | None) -> Path | None:
    """The key to sign with: ``--key``, else ``MODELGOV_SIGNING_KEY``; None means unsigned."""
    if given is not None:
        return given
    from_env = os.environ.get(ENV_KEY)
    return Path(from_env).expanduser() if from_env else None


def sign(message: bytes, key: Path) -> str:
    """The armored SSHSIG signature of ``message`` by ``key`` (a private key file, or the public
    key of one held by ssh-agent)."""
    program = shutil.which("ssh-keygen")
    if program is None:
        raise SigningError("signing needs ssh-keygen (OpenSSH), which is not installed")
    if not key.expanduser().is_file():
        raise SigningError(f"--key {key}: no such key file")
    try:
        done = subprocess.run(
            [program, "-Y", "sign", "-n", NAMESPACE, "-f", str(key.expanduser())],
            input=message,
            capture_output=True,
            timeout=300,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SigningError("ssh-keygen did not finish signing within 5 minutes") from None
    text = done.stdout.decode("ascii", "replace")
    if done.returncode != 0 or "BEGIN SSH SIGNATURE" not in text:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SigningError(f"ssh-keygen could not sign with {key}: {detail[-1] if detail else 'no output'}")
    return text.strip() + "\n"


def sign_with_ed25519(private_key: Ed25519PrivateKey, message: bytes) -> str:
    """The same armored SSHSIG signature ``ssh-keygen -Y sign`` makes, computed in Python for an
    Ed25519 key held in memory (the bundled example signs its decisions this way, so it needs no
    OpenSSH). The format is OpenSSH's PROTOCOL.sshsig; tests check the result with ``ssh-keygen
    -Y verify`` and with sshsig."""
    public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    blob = _ssh_string(b"ssh-ed25519") + _ssh_string(public)
    namespace = NAMESPACE.encode()
    signed = (
        b"SSHSIG"
        + _ssh_string(namespace)
        + _ssh_string(b"")
        + _ssh_string(b"sha512")
        + _ssh_string(hashlib.sha512(message).digest())
    )
    signature = _ssh_string(b"ssh-ed25519") + _ssh_string(private_key.sign(signed))
    wrapped = (
        b"SSHSIG"
        + (1).to_bytes(4, "big")
        + _ssh_string(blob)
        + _ssh_string(namespace)
        + _ssh_string(b"")
        + _ssh_string(b"sha512")
        + _ssh_string(signature)
    )
    text = base64.b64encode(wrapped).decode("ascii")
    lines = [text[i : i + 70] for i in range(0, len(text), 70)]
    return "-----BEGIN SSH SIGNATURE-----\n" + "\n".join(lines) + "\n-----END SSH SIGNATURE-----\n"


def openssh_public_key(private_key: Ed25519PrivateKey) -> str:
    """``ssh-ed25519 AAAA…``: the line an allowed-signers file lists."""
    return private_key.public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode("ascii")


def _ssh_string(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data
