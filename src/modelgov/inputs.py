"""What every input model is built from: the strict base, non-empty text, identifiers and the
lifecycle of a version.

Both kinds of input file use them — the workspace's (:mod:`modelgov.workspace.schema`) and the
policy files (:mod:`modelgov.policy.schema`) — so they live below both: the loader reads policy
files, and the policy package never imports the workspace.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

IDENTIFIER = re.compile(r"^[a-z0-9][a-z0-9._-]*\Z")
IDENTIFIER_HINT = "lower-case letters, digits, '.', '_' and '-', starting with a letter or digit"


class Strict(BaseModel):
    """Base for every input model: unknown keys are errors, nothing is silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Text = Annotated[str, Field(min_length=1)]


class Status(StrEnum):
    """Lifecycle of a model version, in order."""

    candidate = "candidate"
    staging = "staging"
    production = "production"
    retired = "retired"
