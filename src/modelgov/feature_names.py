"""The names the results of a sensitive feature, or of an intersection of features, go by.

A card declares ``sensitive_features: [sex, age_band]`` and ``intersections: [[sex, age_band]]``;
the results of each are named in three forms, each where it is read:

- on the pages and in the manifest's fairness results, an intersection's features (and its groups'
  values) are joined by :data:`INTERSECTION`: ``sex × age_band``, group ``F × 30-44``;
- in the evidence (the rows' groups a comparison with another version pairs, and so the manifest's
  comparisons, and the policy paths), they are joined by :data:`JOINED`: ``sex+age_band``;
- in a policy path, whose parts are separated by ``.``, a ``.`` within a name is written ``_``:
  ``fairness.age_band.demographic_parity_difference`` for a column called ``age.band``.

The code that makes or shows these names (the analysis, the policy paths, the pages and their
templates, the dossier) takes them from here, and the loader refuses a card whose declarations
would give two results one name in any form (``workspace/checks.py``), so a name built here can
never stand for two results. The other names the workspace writes into evidence paths (a group's,
a drifting or explained column's, an approval's role) are percent-encoded by
:func:`group_segment` instead, which no two names share.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "INTERSECTION",
    "JOINED",
    "MAX_GROUPS",
    "every_name",
    "evidence_name",
    "page_name",
    "page_name_of",
    "policy_key",
]

#: The most groups a sensitive feature, or an intersection, may have; and so the most groups a card
#: may expect of one, or pairs it may compare by name. More distinct values are not a grouping of
#: people but a value per person or nearly (an id, a free-text field, an unbinned number): no group is
#: large enough to say anything, and the pages, the manifest and the policy evidence grow with every
#: group (a column of 5,000 values took 81 s and a 26 MB manifest; of 50,000, more than 10 minutes and
#: 9 GB). The evaluation refuses such a feature; production logs and shadow tests report it as not
#: measured. A hundred is ten times the groups of the usual sensitive features (COMPAS's race has 6).
MAX_GROUPS = 100

#: Joins an intersection's features, and its groups' values, on the pages and in the manifest.
INTERSECTION = " × "

#: Joins an intersection's features in the evidence and in policy paths.
JOINED = "+"


def page_name(features: Sequence[str]) -> str:
    """``[sex, age_band]`` → ``sex × age_band``; a single feature is its own name."""
    return INTERSECTION.join(features)


def evidence_name(features: Sequence[str]) -> str:
    """``[sex, age_band]`` → ``sex+age_band``; a single feature is its own name."""
    return JOINED.join(features)


def policy_key(name: str) -> str:
    """A feature's or intersection's evidence name as one part of a policy path: ``.`` → ``_``."""
    return name.replace(".", "_")


def page_name_of(evidence: str) -> str:
    """An evidence name (or its policy key) as the pages write an intersection: ``sex+age_band`` →
    ``sex × age_band``. A policy key keeps its ``_`` for a ``.`` (``age.band`` is shown ``age_band``):
    the ``.`` cannot be told apart from a ``_`` the column's name had."""
    return evidence.replace(JOINED, INTERSECTION)


def every_name(features: Sequence[str]) -> dict[str, str]:
    """The name in each form (``page``, ``evidence``, ``policy``): what two declarations must not share."""
    evidence = evidence_name(features)
    return {"page": page_name(features), "evidence": evidence, "policy": policy_key(evidence)}


def group_segment(name: str) -> str:
    """A group's or a column's name as one path segment: ``%`` and ``.`` (which would split it)
    percent-encoded, so two names never share a path (``30.44`` is ``30%2E44``, ``30_44`` stays)."""
    return name.replace("%", "%25").replace(".", "%2E")


def group_name(segment: str) -> str:
    """The group a path segment names (the inverse of :func:`group_segment`)."""
    return segment.replace("%2E", ".").replace("%25", "%")
