"""What a run refuses to take from the workspace whatever the workspace says: the CI's last word
over the workspace's opt-ins to running its own code, and over the built-in packs it must apply.

A workspace opts in to code in three places: ``trust_pickle: true`` (a pickle runs its author's
code when it is loaded), ``trusted_types`` (functions and classes a ``.skops`` file calls when the
model is loaded or used: its author's choice of code, as much as a pickle) and
``trust_templates: true`` (templates that write the pages' HTML, script included). Whoever can open
a pull request can write those keys; the options and environment of the CI job they cannot.

* ``--refuse-pickle`` or :data:`REFUSE_PICKLE_ENV` refuses model code: ``trust_pickle`` and
  ``trusted_types``.
* ``--refuse-workspace-code`` or :data:`REFUSE_WORKSPACE_CODE_ENV` refuses every opt-in: those,
  and ``trust_templates``.

The loader reports each refused opt-in as a problem naming the file, line and key (exit 2), and
model loading refuses it again (:func:`modelgov.sources.models.load_model`).

A pull request can also take a built-in pack out of ``governance.yml`` (``policies.packs``), and
every rule of it with the pack: nothing would fail. ``--require-pack NAME`` or
:data:`REQUIRE_PACKS_ENV` (names separated by commas) pins packs: a workspace that does not list one
is refused (exit 2), naming the pack, and a waiver of one of its rules counts only when its audit
record is accepted (signed), whatever ``governance.yml`` says. A pack's rules are the installed
package's, which the workspace cannot edit. Which versions they apply to is still the workspace's to
say (a model's risk tier, a version's status): the pin keeps the pack, not its scope.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["REFUSE_PICKLE_ENV", "REFUSE_WORKSPACE_CODE_ENV", "REQUIRE_PACKS_ENV", "Refusals"]

#: Set (by CI) to refuse every pickle and skops trusted type, whatever the workspace sets.
REFUSE_PICKLE_ENV = "MODELGOV_REFUSE_PICKLE"
#: Set (by CI) to refuse every workspace opt-in that runs its code or HTML.
REFUSE_WORKSPACE_CODE_ENV = "MODELGOV_REFUSE_WORKSPACE_CODE"
#: Set (by CI) to the built-in packs governance.yml must list, separated by commas.
REQUIRE_PACKS_ENV = "MODELGOV_REQUIRE_PACKS"


@dataclass(frozen=True)
class Refusals:
    """What this run refuses: ``pickle`` as ``--refuse-pickle`` asks, ``workspace_code`` as
    ``--refuse-workspace-code`` asks (which implies ``pickle``), and a workspace that does not list
    every pack of ``packs`` (``--require-pack``)."""

    pickle: bool = False
    workspace_code: bool = False
    packs: tuple[str, ...] = ()

    def with_environment(self) -> Refusals:
        """These refusals and those the environment asks for: a variable set to anything but empty,
        ``0``, ``false``, ``no`` or ``off`` turns its refusal on. An unexpected value counts as
        *refuse*, the safe reading."""
        value = os.environ.get(REQUIRE_PACKS_ENV, "")
        off = value.strip().lower() in ("0", "false", "no", "off")  # as the other variables' off values
        listed = () if off else (name.strip() for name in value.split(","))
        return Refusals(
            pickle=self.pickle or _set(REFUSE_PICKLE_ENV),
            workspace_code=self.workspace_code or _set(REFUSE_WORKSPACE_CODE_ENV),
            packs=tuple(dict.fromkeys([*self.packs, *(name for name in listed if name)])),
        )

    @property
    def model_code(self) -> bool:
        """Refuse a model file's code: ``trust_pickle: true`` and ``trusted_types``."""
        return self.pickle or self.workspace_code

    @property
    def templates(self) -> bool:
        """Refuse the workspace's templates: ``trust_templates: true``."""
        return self.workspace_code

    @property
    def asked_by(self) -> str:
        """The option and variable that ask for these refusals, as a message names them."""
        if self.workspace_code:
            return f"--refuse-workspace-code or {REFUSE_WORKSPACE_CODE_ENV}=1"
        return f"--refuse-pickle or {REFUSE_PICKLE_ENV}=1"


def _set(variable: str) -> bool:
    return os.environ.get(variable, "").strip().lower() not in ("", "0", "false", "no", "off")
