"""Version diffs: against the version a retrain replaces and against the last approved version,
with a readable, escaped word-level diff of the text that changed."""

from __future__ import annotations

from manifest_factory import make_manifest, ref
from modelgov.manifest import Approval
from modelgov.render.diff_views import is_approved, last_approved, text_diff, version_comparisons


def _approval(role: str, decision: str, date: str) -> Approval:
    return Approval(role=role, by="R. Reviewer", decision=decision, date=date, source=ref("approvals.yml"))


def _credit(manifest, versions):
    credit = manifest.models[0].model_copy(update={"versions": versions})
    return manifest.model_copy(update={"models": [credit, *manifest.models[1:]]}), credit


def test_text_diff_marks_words_and_escapes_them() -> None:
    diff = text_diff("Trained on <b>2023</b> data with C = 1.", "Trained on <b>2024</b> data with C = 1.")
    assert diff == "Trained on <del>&lt;b&gt;2023&lt;/b&gt;</del><ins>&lt;b&gt;2024&lt;/b&gt;</ins> data with C = 1."
    assert text_diff("a b", "a b") == "a b"


def test_a_rewritten_text_is_shown_whole_rather_than_interleaved() -> None:
    diff = text_diff("First production model.", "Gradient boosting challenger, awaiting validation.")
    assert (
        diff
        == "<del>First production model.</del><br><br><ins>Gradient boosting challenger, awaiting validation.</ins>"
    )


def test_approved_means_every_roles_latest_decision_is_an_approval() -> None:
    manifest = make_manifest()
    newer, older = manifest.models[0].versions  # 1.1.0 has compliance pending
    assert not is_approved(newer) and not is_approved(older)  # older has no sign-off at all
    signed = older.model_copy(update={"approvals": [_approval("model_risk", "approved", "2023-11-20")]})
    assert is_approved(signed)
    rejected_later = signed.model_copy(
        update={"approvals": [*signed.approvals, _approval("model_risk", "rejected", "2023-12-01")]}
    )
    assert not is_approved(rejected_later)


def test_a_candidate_is_compared_with_the_last_approved_version_too() -> None:
    manifest = make_manifest()
    newer, older = manifest.models[0].versions
    approved_old = older.model_copy(update={"approvals": [_approval("model_risk", "approved", "2023-11-20")]})
    candidate = newer.model_copy(
        update={
            "version": "1.2.0",
            "previous": "1.1.0",
            "created": "2024-09-01",
            "summary": "Retrained on 2019–2024 applications.",
        }
    )
    manifest, credit = _credit(manifest, [candidate, newer, approved_old])
    assert last_approved(credit, candidate).version == "1.0.0"
    comparisons = version_comparisons(manifest, credit, candidate)
    assert [(c.other.version, c.relation) for c in comparisons] == [("1.1.0", "previous"), ("1.0.0", "approved")]
    summary = comparisons[1].text[0]
    assert summary.what == "Summary" and "<ins>" in summary.html


def test_when_the_previous_version_is_the_last_approved_it_is_compared_once() -> None:
    manifest = make_manifest()
    newer, older = manifest.models[0].versions
    signed = newer.model_copy(update={"approvals": [_approval("model_risk", "approved", "2024-05-06")]})
    candidate = newer.model_copy(update={"version": "1.2.0", "previous": "1.1.0", "created": "2024-09-01"})
    manifest, credit = _credit(manifest, [candidate, signed, older])
    assert [(c.other.version, c.relation) for c in version_comparisons(manifest, credit, candidate)] == [
        ("1.1.0", "previous")
    ]
