"""The build as a list of stages: the list is in scope order and names real manifest fields; each
stage has its own cache entries, so a change reaches only the stages that read it; comparisons are
cached; and a cached check reads its results without scikit-learn, pandas or a run's arrays."""

from __future__ import annotations

import subprocess
import sys
import typing
from pathlib import Path

import pytest

from modelgov import manifest
from modelgov.assemble import build_manifest
from modelgov.cache import AnalysisCache
from modelgov.cache_archive import ArchiveArrays
from modelgov.stages import STAGES
from modelgov.stages.base import SCOPES
from modelgov.workspace.load import load_workspace
from workspace_factory import VERSION, holdout_table, write_workspace


def manifest_json(built: manifest.Manifest) -> str:
    return built.model_copy(update={"built_at": "fixed"}).model_dump_json()


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """Two versions evaluated on the same rows (1.1 retrained: other scores), so 1.1 is compared
    with 1.0, its previous and live version."""
    root = write_workspace(tmp_path / "ws")
    retrained = holdout_table()
    retrained["score"] = (retrained["score"] * 0.8 + 0.1).round(6)
    retrained["predicted"] = (retrained["score"] >= 0.5).astype(int)
    retrained.to_csv(root / "data" / "holdout-1.1.csv", index=False)
    version = (
        VERSION.replace("created: 2026-01-15", "created: 2026-02-15")
        .replace("status: production", "status: candidate\nprevious: '1.0'")
        .replace("data/holdout.csv", "data/holdout-1.1.csv")
    )
    (root / "models/loans/versions/1.1").mkdir(parents=True)
    (root / "models/loans/versions/1.1/version.yml").write_text(version, encoding="utf-8")
    return root


def build(ws: Path, cache_dir: Path | None) -> tuple[str, AnalysisCache | None]:
    cache = AnalysisCache(cache_dir) if cache_dir else None
    return manifest_json(build_manifest(load_workspace(ws), cache=cache)), cache


def _field(model: type, name: str) -> typing.Any:
    """The type of ``name`` in ``model``, inside a list or an optional."""
    assert name in model.model_fields, f"{model.__name__} has no field {name!r}"
    annotation = model.model_fields[name].annotation
    while typing.get_origin(annotation) is not None:
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    return annotation


def test_the_stages_are_listed_by_scope_and_contribute_fields_of_the_manifest() -> None:
    assert [SCOPES.index(s.scope) for s in STAGES] == sorted(SCOPES.index(s.scope) for s in STAGES)
    assert len({s.name for s in STAGES}) == len(STAGES)
    for stage in STAGES:
        assert stage.evidence, stage.name
        for path in stage.evidence:
            node: typing.Any = manifest.Manifest
            for part in path.replace("[]", "").split("."):
                node = _field(node, part)


def test_comparisons_are_cached_and_a_cached_build_decodes_no_arrays(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh, _ = build(ws, None)
    assert '"relation":"previous"' in fresh and '"matched_by":"row order' in fresh
    cold, cache = build(ws, tmp_path / "cache")
    assert cold == fresh
    assert (cache.stats.hits, cache.stats.misses) == (0, 5)  # two evaluations, two explanations, one comparison

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("a cached build computed or decoded what the cache holds")

    read = ArchiveArrays.read

    def payload_only(arrays: ArchiveArrays, name: str) -> object:
        if name != "__payload__":
            raise AssertionError(f"a cached build read the array {name!r} of an entry")
        return read(arrays, name)

    monkeypatch.setattr("modelgov.analysis.comparison.metric_deltas", refuse)
    monkeypatch.setattr("modelgov.stages.evaluation._arrays", refuse)
    monkeypatch.setattr(ArchiveArrays, "read", payload_only)
    warm, cache = build(ws, tmp_path / "cache")
    assert warm == fresh and (cache.stats.hits, cache.stats.misses) == (5, 0)


def test_a_comparison_is_computed_from_the_arrays_of_cached_evaluations(ws: Path, tmp_path: Path) -> None:
    """The arrays an evaluation's entry keeps are read when a comparison needs them: with the
    comparison's entry gone, the evaluations come from the cache and the comparison from their arrays."""
    fresh, _ = build(ws, None)
    build(ws, tmp_path / "cache")
    comparisons = [e for e in (tmp_path / "cache").rglob("*.entry") if b"matched_by" in e.read_bytes()]
    assert len(comparisons) == 1
    comparisons[0].unlink()
    warm, cache = build(ws, tmp_path / "cache")
    assert warm == fresh and (cache.stats.hits, cache.stats.misses) == (4, 1)


def test_a_change_reaches_only_the_stages_that_read_it(ws: Path, tmp_path: Path) -> None:
    """Declared importances are read by the explanation alone; a new table by everything after it."""
    build(ws, tmp_path / "cache")
    version = ws / "models/loans/versions/1.1/version.yml"
    version.write_text(
        version.read_text().replace("    C: 1.0\n", "    C: 1.0\n  feature_importance: {income: 0.7, age: 0.3}\n")
    )
    changed, cache = build(ws, tmp_path / "cache")
    assert changed == build(ws, None)[0]
    assert (cache.stats.hits, cache.stats.misses) == (4, 1)  # 1.1's explanation

    table = holdout_table(seed=8)
    table.to_csv(ws / "data" / "holdout-1.1.csv", index=False)  # other rows: not compared any more
    changed, cache = build(ws, tmp_path / "cache")
    assert changed == build(ws, None)[0] and '"relation":"previous"' not in changed
    assert (cache.stats.hits, cache.stats.misses) == (2, 3)  # 1.1's evaluation, explanation, comparison


def test_a_cached_check_imports_neither_scikit_learn_nor_pandas(ws: Path, tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from modelgov.cli import main\n"
        f"code = main(['check', {str(ws)!r}, '-q', '--cache-dir', {str(tmp_path / 'cache')!r},"
        f" '--results', {str(tmp_path / 'results.json')!r}])\n"
        "print(code, sorted(m for m in ('sklearn', 'scipy', 'pandas', 'skops', 'mkdocs') if m in sys.modules))\n"
        "print('sklearn.inspection' in sys.modules)\n"
    )
    cold = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    computed, inspection = cold.stdout.splitlines()
    assert computed.split(maxsplit=1)[1].strip() != "[]"  # computing needs them
    # … but not scikit-learn's model inspection (0.15 s to import) when no version has a model file
    assert inspection == "False", cold.stdout
    cached = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert cached.stdout.strip() == "0 []\nFalse", cached.stderr
