"""What every input model is built from: the strict base, non-empty text, identifiers, tags and the
lifecycle of a version.

Both kinds of input file use them — the workspace's (:mod:`modelgov.workspace.schema`) and the
policy files (:mod:`modelgov.policy.schema`) — so they live below both: the loader reads policy
files, and the policy package never imports the workspace.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

IDENTIFIER = re.compile(r"^[a-z0-9][a-z0-9._-]*\Z")
IDENTIFIER_HINT = "lower-case letters, digits, '.', '_' and '-', starting with a letter or digit"


class Strict(BaseModel):
    """Base for every input model: unknown keys are errors, nothing is silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Text = Annotated[str, Field(min_length=1)]

#: A tag: ASCII, so that no tag can be spelt with a letter drawn like another's (a Cyrillic ``о``, a
#: Coptic ``ⲥ``, a Cherokee ``ꮯ``) and leave a policy scoped by the tag it reads as; no list of
#: lookalike letters is complete, a rule on the alphabet is. Colons and slashes for Hugging Face's
#: ``license:apache-2.0`` and ``dataset:org/name``.
TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]*")


def _tag(value: str) -> str:
    if not TAG.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a tag: write ASCII letters, digits, '.', '_', '-', ':' and '/' only, starting with a "
            "letter or digit (tags decide which policies apply, so none may read as another)"
        )
    return value


Tag = Annotated[str, AfterValidator(_tag)]


class Status(StrEnum):
    """Lifecycle of a model version, in order."""

    candidate = "candidate"
    staging = "staging"
    production = "production"
    retired = "retired"
