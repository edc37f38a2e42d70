"""The build as a list of stages.

:data:`STAGES` is the build, in order. Each stage (:class:`~modelgov.stages.base.Stage`) declares
what its result depends on, computes it, and puts it in its place in the manifest; the runner
(:mod:`.runner`) owns the order, the cache, the file registry and the worker processes. A new
analysis is one module here and one line in the list.

==============  ========  ===============================================================
stage           scope     evidence it contributes
==============  ========  ===============================================================
evaluation      run       ``models[].versions[].evaluations[].performance``, ``.fairness``
explanation     run       ``models[].versions[].evaluations[].explainability``
bias_audit      run       ``models[].versions[].evaluations[].bias_audit`` (NYC Local Law 144)
monitoring      version   ``models[].versions[].drift``
experiment      version   ``models[].versions[].experiment`` (an A/B test)
shadow          version   ``models[].versions[].shadow``
comparison      model     ``models[].versions[].comparisons``
review          manifest  each version's ``evidence``, ``approvals``, ``status_change``; ``audit``
lineage         manifest  ``lineage``
governance      manifest  ``governance``
==============  ========  ===============================================================

``record_explanation`` (scope run, after ``explanation``) contributes
``models[].versions[].evaluations[].explainability.records``: individual decisions explained.

What the workspace declares (cards, training records, datasheets, the monitoring set-up) is
recorded by :mod:`.records`, not computed, and is never cached.
"""

from __future__ import annotations

from modelgov.stages import (
    bias_audit,
    comparison,
    evaluation,
    experiment,
    explanation,
    governance,
    lineage,
    monitoring,
    record_explanation,
    review,
    shadow,
)
from modelgov.stages.base import Stage

#: The build, in order; listed by scope (runs, versions, models, the whole manifest).
STAGES: tuple[Stage, ...] = (
    evaluation.STAGE,
    explanation.STAGE,
    bias_audit.STAGE,
    record_explanation.STAGE,
    monitoring.STAGE,
    shadow.STAGE,
    experiment.STAGE,
    comparison.STAGE,
    review.STAGE,
    lineage.STAGE,
    governance.STAGE,
)

__all__ = ["STAGES", "Stage"]
