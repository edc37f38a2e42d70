"""The reference's sorted values are kept on disk while the log is scanned (:mod:`modelgov.monitoring.spill`):
the report is the same whether they stay in memory or not, for a whole reference and a seasonal one,
and the files are gone once the report is made."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modelgov.assemble import build_manifest
from modelgov.monitoring import spill
from modelgov.workspace.load import load_workspace
from test_monitoring_reference import workspace
from test_seasonal_reference import monitored


def _reports(root: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str, list]:
    """The version's drift report with every reference column in memory, then with every one on disk."""
    monkeypatch.setattr(spill, "SPILL_BYTES", 1 << 62)
    in_memory = build_manifest(load_workspace(root)).models[0].versions[0].drift
    kept: list = []
    keep = spill.ReferenceSpill.keep

    def recorded(self: spill.ReferenceSpill, profile):
        kept.append(keep(self, profile))
        return kept[-1]

    monkeypatch.setattr(spill, "SPILL_BYTES", 0)
    monkeypatch.setattr(spill.ReferenceSpill, "keep", recorded)
    on_disk = build_manifest(load_workspace(root)).models[0].versions[0].drift
    return in_memory.model_dump_json(), on_disk.model_dump_json(), kept


@pytest.mark.parametrize("kind", ["evaluation", "table", "seasonal"])
def test_a_report_from_spilled_reference_values_is_the_same(tmp_path: Path, monkeypatch, kind: str) -> None:
    if kind == "seasonal":
        root = monitored(tmp_path / "ws", "{data: data/year.csv, seasonal: month, timestamp: day}")
    else:
        root, _ = workspace(tmp_path, "holdout" if kind == "evaluation" else "{data: data/train-sample.csv}")
    in_memory, on_disk, kept = _reports(root, monkeypatch)
    assert on_disk == in_memory
    mapped = [p for p in kept if isinstance(p.values, np.memmap)]
    assert mapped and all(p.kind == "numeric" for p in mapped)
    assert not any(Path(p.values.filename).parent.exists() for p in mapped)  # the folder is removed


def test_small_columns_stay_in_memory() -> None:
    import pandas as pd

    from modelgov.monitoring.reference import profile_reference

    small = profile_reference(pd.Series(np.arange(1000.0)))
    large = profile_reference(pd.Series(np.random.default_rng(1).normal(size=200_000)))
    with spill.ReferenceSpill() as folder:
        assert folder.keep(small) is small
        kept = folder.keep(large)
        assert isinstance(kept.values, np.memmap) and np.array_equal(kept.values, large.values)
        profiles = {"x": kept}
        with spill.loaded([profiles], "x"):  # read back into memory for the statistics, then let go
            assert type(profiles["x"].values) is np.ndarray and np.array_equal(profiles["x"].values, large.values)
        assert profiles["x"] is kept
    assert not Path(kept.values.filename).exists()


def test_the_spill_is_bounded_and_never_fails_a_build(monkeypatch) -> None:
    """Each spilled column holds an open file, so their number is capped; a temporary folder that
    cannot be written keeps the values in memory rather than failing the build."""
    import pandas as pd

    from modelgov.monitoring.reference import profile_reference

    rng = np.random.default_rng(2)
    large = [profile_reference(pd.Series(rng.normal(size=200_000))) for _ in range(3)]
    monkeypatch.setattr(spill, "MAX_SPILLED", 2)
    with spill.ReferenceSpill() as folder:
        kept = [folder.keep(p) for p in large]
        assert [isinstance(k.values, np.memmap) for k in kept] == [True, True, False]
        assert kept[2] is large[2]

    def no_room(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(spill.tempfile, "TemporaryDirectory", no_room)
    with spill.ReferenceSpill() as folder:
        assert folder.keep(large[0]) is large[0]
