"""The check that every result a page names by its feature is the only one of that name.

A template asks for a feature's chart or table by the feature's name (``fairness_chart``,
``production_fairness_chart(model, version, "sex")``, the shadow test's groups), and a dossier
does the same. Two results of one name in a version (which a model card listing a feature twice
gave, before the loader refused it) would be drawn as the first one twice, with nothing on the page
to say so. Such a manifest still reads (``audit verify``, ``export`` and the JSON consumers need
no names), but a site or dossier is not drawn from it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from modelgov.errors import BuildError
from modelgov.manifest import Manifest, ModelVersion

__all__ = ["check_result_names"]


def check_result_names(manifest: Manifest) -> None:
    """Raise :class:`~modelgov.errors.BuildError` naming every list that holds a feature twice."""
    problems = [
        f"{model.id} {version.version}: {where} holds more than one result for {', '.join(map(repr, twice))}"
        for model in manifest.models
        for version in model.versions
        for where, names in _named_lists(version)
        if (twice := sorted(name for name, count in Counter(names).items() if count > 1))
    ]
    if problems:
        raise BuildError(
            "the manifest names a result twice, and a page shows the result of a name: "
            + "; ".join(problems)
            + ". A model card listed a sensitive feature or an intersection twice: list it once and build again"
        )


def _named_lists(version: ModelVersion) -> Iterator[tuple[str, Iterable[str]]]:
    for run in version.evaluations:
        yield f"the fairness of evaluation {run.id!r}", (result.feature for result in run.fairness)
    for comparison in version.comparisons:
        yield (
            f"the fairness comparison with version {comparison.other_version!r}",
            (feature.feature for feature in comparison.fairness),
        )
    if version.drift is not None:
        yield "the fairness in production", (result.feature for result in version.drift.fairness)
    if version.shadow is not None:
        yield "the shadow test", (feature.feature for feature in version.shadow.features)
