"""Signing an audit entry with the person's SSH key, the way git signs commits.

git runs ``ssh-keygen -Y sign`` (``gpg.format ssh``); so does modelgov, with its own namespace, so a
key already used to sign commits — in a file, in ``ssh-agent`` (give the public key's file), or on a
hardware token — signs decisions too, and its passphrase is asked by ssh-keygen, never by modelgov.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

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
