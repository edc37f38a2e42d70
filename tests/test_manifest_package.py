"""The manifest package keeps one import surface: every model, whatever module of
``modelgov.manifest`` defines it, is importable from ``modelgov.manifest`` itself and listed in its
``__all__``, so code, tests and docs never need to know how the models are split into modules."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import typing

from pydantic import BaseModel

from modelgov import manifest


def _modules() -> list:
    return [
        importlib.import_module(f"modelgov.manifest.{info.name}") for info in pkgutil.iter_modules(manifest.__path__)
    ]


def test_the_package_has_its_modules() -> None:
    names = sorted(module.__name__.rsplit(".", 1)[1] for module in _modules())
    assert names == [
        "base",
        "business",
        "decisions",
        "evaluation",
        "experiments",
        "explainability",
        "governance",
        "lineage",
        "monitoring",
    ]


def test_every_model_and_type_of_every_module_is_exported_by_the_package() -> None:
    missing = []
    for module in _modules():
        for name, value in vars(module).items():
            defined_here = inspect.isclass(value) and value.__module__ == module.__name__
            alias = typing.get_origin(value) is typing.Literal  # Outcome, LineageKind, LineageOrigin
            public = (defined_here or alias) and not name.startswith("_")
            if public and (getattr(manifest, name, None) is not value or name not in manifest.__all__):
                missing.append(f"{module.__name__}.{name}")
    assert missing == []


def test_every_name_in_all_exists_and_every_model_of_the_tree_is_reachable() -> None:
    assert all(hasattr(manifest, name) for name in manifest.__all__)
    models = {name for name in manifest.__all__ if inspect.isclass(getattr(manifest, name))}
    assert all(issubclass(getattr(manifest, name), BaseModel) for name in models)
    # every model the manifest's JSON Schema describes is one the package exports
    described = set(manifest.manifest_json_schema()["$defs"]) | {"Manifest"}
    assert described <= models


def test_every_module_says_what_part_of_the_manifest_it_models() -> None:
    for module in [manifest, *_modules()]:
        assert module.__doc__ and len(module.__doc__.split()) >= 30, module.__name__
