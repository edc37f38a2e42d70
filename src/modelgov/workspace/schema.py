"""Typed models of the files a team commits to its governance workspace.

These are the *input* models: exactly what users write, validated strictly (unknown keys are errors,
with a "did you mean" hint added by the loader). They are kept separate from the manifest models,
which are the *output* contract, so the two can evolve independently.

Checks that span items or files (unique ids, references between files, table columns) live in the
loader, which knows the line of every key and can point at the exact one.

Layout of a workspace::

    governance.yml
    models/<model-id>/model.yml
    models/<model-id>/versions/<version>/version.yml
    models/<model-id>/versions/<version>/approvals.yml     (optional)
    datasets/<dataset-id>.yml

Each file kind's input model lives in its own module (``governance_schema``, ``model_schema``,
``version_schema`` with ``training_schema`` and ``monitoring_schema``, ``approvals_schema``,
``datasheet_schema``); this module lists them for the published JSON Schemas.
"""

from __future__ import annotations

from modelgov.inputs import Strict
from modelgov.workspace.approvals_schema import Approvals
from modelgov.workspace.datasheet_schema import Datasheet
from modelgov.workspace.governance_schema import Governance
from modelgov.workspace.model_schema import ModelCard
from modelgov.workspace.version_schema import Version

#: Every file kind, keyed by the name used in schema output and docs.
INPUT_MODELS: dict[str, type[Strict]] = {
    "governance": Governance,
    "model": ModelCard,
    "version": Version,
    "approvals": Approvals,
    "datasheet": Datasheet,
}
