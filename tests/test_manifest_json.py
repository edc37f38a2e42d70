"""The manifest's JSON: written by pydantic's serialiser, it must be the bytes the standard library
writes (``json.dumps(model_dump(mode="json"), indent=2, ensure_ascii=False)``), which every saved
manifest and every digest a page names has been; and a number JSON cannot hold is refused as the
standard library refused it."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pydantic_core
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from manifest_factory import iv, make_manifest
from modelgov import manifest
from modelgov.manifest import Metric


def reference(document: object) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


#: Numbers where the two serialisers spell things differently, or nearly: exponents both ways, small
#: numbers pydantic writes out in full, the ends of the float range, negative zero, big integers.
EDGES = [
    0.0,
    -0.0,
    1.0,
    -1.5,
    1e-4,
    1e-5,
    -1e-5,
    0.00011,
    9.99999e-5,
    1e-6,
    1e-7,
    3.8e-08,
    1e-10,
    5e-324,
    2.2250738585072014e-308,
    1e15,
    1e16,
    9999999999999998.0,
    1.2345678901234568e17,
    1e21,
    1e22,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    0.1,
    1 / 3,
    123456789.0,
]
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(EDGES)
    | st.text(st.characters(blacklist_categories=("Cs",))),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(max_size=8), JSON, max_size=6))  # a manifest is an object, never a bare value
def test_numbers_and_text_are_spelt_as_the_standard_library_spells_them(document) -> None:
    written = manifest._as_python_numbers(pydantic_core.to_json(document, indent=2)) + b"\n"
    assert written == reference(document)


def test_every_decimal_exponent_is_spelt_as_python_spells_it() -> None:
    """Positive exponents are not searched for (pydantic spells them as Python does), so every
    exponent from the smallest subnormal to the largest float is written both ways, with mantissas
    at and between the thresholds where either switches to an exponent, and both signs."""
    rng = np.random.default_rng(7)
    values = [
        sign * float(f"{mantissa:.{digits}f}e{exponent}")
        for exponent in range(-324, 309)
        for mantissa in (1.0, 1.5, 9.999999999999999, *(1 + 9 * rng.random(4)))
        for digits in (0, 3, 16)
        for sign in (1, -1)
    ]
    document = {"values": [v for v in values if np.isfinite(v)]}
    written = manifest._as_python_numbers(pydantic_core.to_json(document, indent=2), end=b"\n")
    assert written == reference(document)


def test_text_that_looks_like_a_number_is_left_as_it_is() -> None:
    """A hint inside a key or a string (`1e-8`, `0.00001`, a key ending `": 1e-8`) is text: only a
    number that is a whole value is respelt."""
    document = {
        '": 1e-8': '": 1e-8',
        "list": ["1e-8", " 0.00001", "a\\", '\\"', "0.00001", "x 1e-05", " 1e-8"],
        "values": [1e-8, 0.00001, -0.00002, 10.00001, 1e-8],
        "re-fit one-sided e+": 2.5e-7,
    }
    written = manifest._as_python_numbers(pydantic_core.to_json(document, indent=2)) + b"\n"
    assert written == reference(document)


@pytest.mark.parametrize("hostile", [False, True])
def test_a_whole_manifest_is_the_bytes_json_dumps_writes(hostile: bool) -> None:
    """The hand-made manifest (every optional part, hostile text with `hostile`), with numbers that
    are spelt differently put into the places that take any value (training parameters) and a few
    typed ones."""
    base = make_manifest(hostile=hostile)
    model = base.models[0]
    version = model.versions[0]
    params = {**version.training.params, "tiny": 3.8e-08, "small": 1e-05, "huge": 1e22, "text": "1e-8"}
    run = version.evaluations[0]
    metrics = [*run.performance.metrics, Metric(name="tiny", label="Tiny", value=1e-05, interval=iv(3e-09, 2e-05))]
    version = version.model_copy(
        update={
            "training": version.training.model_copy(update={"params": params}),
            "evaluations": [
                run.model_copy(update={"performance": run.performance.model_copy(update={"metrics": metrics})}),
                *version.evaluations[1:],
            ],
        }
    )
    model = model.model_copy(update={"versions": [version, *model.versions[1:]]})
    tricky = base.model_copy(update={"models": [model, *base.models[1:]]})
    written = manifest.dump_bytes(tricky)
    assert b'"tiny": 3.8e-08' in written and b'"small": 1e-05' in written and b'"high": 2e-05' in written
    assert written == reference(tricky.model_dump(mode="json"))
    assert manifest.dumps(tricky) == written.decode("utf-8")


def with_params(params: dict) -> manifest.Manifest:
    """The hand-made manifest with its first version trained with ``params``, validated as the build
    makes it (``model_copy`` would not validate)."""
    base = make_manifest()
    model = base.models[0]
    version = model.versions[0]
    training = manifest.TrainingRecord.model_validate({**version.training.model_dump(), "params": params})
    free = version.model_copy(update={"training": training})
    return base.model_copy(update={"models": [model.model_copy(update={"versions": [free]}), *base.models[1:]]})


@pytest.mark.parametrize(("bad", "text"), [(math.nan, "NaN"), (math.inf, "Infinity"), (-math.inf, "-Infinity")])
def test_a_number_json_cannot_hold_is_refused_in_a_number_field_and_text_in_a_free_value(bad: float, text: str) -> None:
    """NaN or infinity in a number field is refused when the manifest is written (writing `null` would
    read back as "no value"); in a free-form value (training parameters, a check's observed value) it
    is held as the text JSON5 and JavaScript spell it, in memory as in the file, so the build's pages
    and those rendered from the saved manifest say the same (it was `null` in the file and `nan` on
    the build's pages)."""
    with_free = with_params({"alpha": bad, "grid": [1.0, bad, {"x": bad}]})
    params = with_free.models[0].versions[0].training.params
    assert params == {"alpha": text, "grid": [1.0, text, {"x": text}]}
    written = manifest.dump_bytes(with_free)
    assert written == reference(with_free.model_dump(mode="json"))
    assert f'"alpha": "{text}"'.encode() in written
    assert manifest.Manifest.model_validate_json(written) == with_free

    # a value that reached a node without validation is still never written as a number JSON lacks
    base = make_manifest()
    model = base.models[0]
    version = model.versions[0]
    unvalidated = version.model_copy(
        update={"training": version.training.model_copy(update={"params": {"alpha": bad}})}
    )
    raw = base.model_copy(update={"models": [model.model_copy(update={"versions": [unvalidated]}), *base.models[1:]]})
    assert b'"alpha": null' in manifest.dump_bytes(raw)

    run = version.evaluations[0]
    metrics = [*run.performance.metrics, Metric(name="odd", label="Odd", value=bad)]
    typed = version.model_copy(
        update={
            "evaluations": [
                run.model_copy(update={"performance": run.performance.model_copy(update={"metrics": metrics})}),
                *version.evaluations[1:],
            ]
        }
    )
    with_typed = base.model_copy(update={"models": [model.model_copy(update={"versions": [typed]}), *base.models[1:]]})
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        json.dumps(with_typed.model_dump(mode="json"), allow_nan=False)
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        manifest.dump_bytes(with_typed)


def test_a_yaml_set_dates_and_keys_holding_nan_are_held_as_the_file_holds_them() -> None:
    """YAML can write `.nan` as a mapping's key or in a `!!set`, and dates and times (the workspace
    loader builds them all): each is held as the manifest's JSON holds it. A set is a sorted list (its
    own order changes between processes, and the manifest's bytes with it); two keys that were both
    `null` before (NaN and infinity) are both kept."""
    import yaml

    params = yaml.safe_load(
        "grid: !!set {.nan: null, 0.1: null}\nby_key: {.nan: 1, .inf: 2}\nflat: [.nan]\n"
        "names: !!set {c, a, b}\nwhen: 2026-01-02 10:00:00\nday: 2026-01-02\n"
    )
    with_free = with_params(params)
    held = with_free.models[0].versions[0].training.params
    assert held == {
        "grid": [0.1, "NaN"],  # numbers first, in numeric order
        "by_key": {"NaN": 1, "Infinity": 2},
        "flat": ["NaN"],
        "names": ["a", "b", "c"],
        "when": "2026-01-02T10:00:00",
        "day": "2026-01-02",
    }
    section = json.loads(manifest.dump_bytes(with_free))["models"][0]["versions"][0]["training"]["params"]
    assert section == held


def test_a_sets_order_does_not_depend_on_the_process() -> None:
    """Strings hash differently in every process (PYTHONHASHSEED): a set of them is held in one order,
    its numbers first, in numeric order."""
    import subprocess
    import sys

    code = "from modelgov.free_values import as_written; print(as_written({'k': {'c', 'a', 'b', 'z', 100, 9, 10}}))"
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True
        )
        for seed in ("1", "2", "3")
    ]
    assert all(run.returncode == 0 for run in runs), [run.stderr for run in runs]
    assert {run.stdout for run in runs} == {"{'k': [9, 10, 100, 'a', 'b', 'c', 'z']}\n"}


def test_two_keys_written_as_the_same_text_are_refused_not_one_dropped() -> None:
    from modelgov.free_values import as_written

    for clash in ({math.nan: 1, "NaN": 2}, {None: 1, "null": 2}, {1: "a", "1": "b"}, {True: 1, "true": 2}):
        with pytest.raises(ValueError, match="would both be written as"):
            as_written({"grid": clash})
    assert as_written({"grid": {math.nan: 1, math.inf: 2, None: 3}}) == {"grid": {"NaN": 1, "Infinity": 2, "null": 3}}


_SCALAR = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5) | st.dates() | st.datetimes()
_FREE = st.recursive(
    _SCALAR,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(_SCALAR, inner, max_size=4) | st.frozensets(_SCALAR, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(_FREE)
def test_a_free_value_in_memory_is_what_the_saved_manifest_reads_back(value: object) -> None:
    """Any value a YAML file or a policy can put in a free-form field, held in a manifest, is what the
    written manifest (``dump_bytes``) reads back as, so a page rendered in memory and one rendered
    from the saved file show the same; or, when two of its keys would be the same text, refused."""
    from modelgov.free_values import as_written

    try:
        held = with_params({"p": value})
    except ValueError as refused:  # pydantic's ValidationError is a ValueError
        assert "would both be written as" in str(refused)
        return
    written = manifest.dump_bytes(held)
    assert manifest.Manifest.model_validate_json(written) == held
    params = held.models[0].versions[0].training.params
    assert as_written(params["p"]) == params["p"]


def test_a_lone_surrogate_is_a_clear_error_not_a_crash() -> None:
    """A JSON input can write `"\\ud800"` (an OpenLineage event, an MLflow file): no character, so the
    manifest cannot be written as UTF-8. The build says so in words (YAML inputs are refused earlier,
    naming the file and key)."""
    from modelgov.errors import ManifestError

    base = make_manifest()
    model = base.models[0]
    version = model.versions[0]
    odd = version.model_copy(
        update={"training": version.training.model_copy(update={"params": {"name": "job \ud800"}})}
    )
    with_odd = base.model_copy(update={"models": [model.model_copy(update={"versions": [odd]}), *base.models[1:]]})
    with pytest.raises(ManifestError, match=r"holds a lone UTF-16 surrogate .* write the character itself"):
        manifest.dump_bytes(with_odd)


def test_a_value_json_cannot_hold_is_a_clear_error_not_a_crash() -> None:
    """Bytes that are not UTF-8 in a free-form value (no workspace file can put them there any more:
    the YAML loader refuses `!!binary`) stop the writer with an error in words, not a traceback."""
    from modelgov.errors import ManifestError

    base = make_manifest()
    model = base.models[0]
    version = model.versions[0]
    odd = version.model_copy(update={"training": version.training.model_copy(update={"params": {"blob": b"\xff"}})})
    with_odd = base.model_copy(update={"models": [model.model_copy(update={"versions": [odd]}), *base.models[1:]]})
    with pytest.raises(ManifestError, match=r"a value in it cannot be written as JSON \(invalid utf-8"):
        manifest.dump_bytes(with_odd)
