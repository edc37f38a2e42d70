"""Pydantic's validation errors as the loader reports them: ``file:line: key.path: message``, with
"did you mean" for a misspelt key and the keys allowed where an unknown one was written."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from modelgov.errors import Problem
from modelgov.policy import schema as policy_schema
from modelgov.workspace import (
    approvals_schema,
    datasheet_schema,
    governance_schema,
    model_schema,
    monitoring_schema,
    training_schema,
    version_schema,
)
from modelgov.workspace.yamlsource import Loc, YamlDocument


def did_you_mean(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str:
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=cutoff)
    return f"; did you mean {matches[0]!r}?" if matches else ""


def problem_from_pydantic(doc: YamlDocument, model: type[BaseModel], error: Any) -> Problem:
    kind = error["type"]
    loc = _user_loc(doc.data, tuple(error["loc"]))
    if kind == "extra_forbidden":
        allowed = _field_names_at(model, loc[:-1])
        hint = did_you_mean(str(loc[-1]), allowed)
        if not hint and allowed:
            hint = f"; allowed keys: {', '.join(sorted(allowed))}"
        return doc.problem(loc, f"unknown key{hint}")
    if kind == "missing":
        return doc.problem(loc, "required key is missing")
    message = error["msg"]
    message = message[0].lower() + message[1:]
    if kind not in {"value_error", "assertion_error"} and "input" in error:
        shown = repr(error["input"])
        if len(shown) <= 60:
            message = f"{message} (found {shown})"
        if isinstance(error["input"], bool) and kind != "bool_type":
            message += "; YAML reads yes/no/on/off/true/false as true or false: quote a word you meant as text"
    return doc.problem(loc, message.removeprefix("value error, "))


def kind_of(value: object) -> str:
    """What a YAML value is, in words (``expected a mapping of keys, found a list``)."""
    return {list: "a list", str: "text", int: "a number", float: "a number", bool: "true/false"}.get(
        type(value), type(value).__name__
    )


def without_union_noise(errors: list[Any]) -> list[Any]:
    """For a ``str | Mapping`` key given a mapping, pydantic reports both "should be a valid string"
    and what is wrong with the mapping; only the second helps, so the first is dropped."""

    def place(error: Any) -> Loc:
        return tuple(part for part in error["loc"] if not _is_union_tag(part))

    detailed = {place(e)[:n] for e in errors if e["type"] != "string_type" for n in range(len(place(e)) + 1)}
    return [
        e
        for e in errors
        if not (e["type"] == "string_type" and isinstance(e.get("input"), dict) and place(e) in detailed)
    ]


def _user_loc(data: Any, parts: tuple[Any, ...]) -> Loc:
    """Pydantic's error location without the type names it inserts for unions — but a part that is a
    key the user wrote stays, whatever it looks like (``str``, ``[``)."""
    loc: list[str | int] = []
    current = data
    for part in parts:
        in_dict = isinstance(current, dict) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_dict or in_list:
            current = current[part]
        elif _is_union_tag(part):
            continue
        else:
            current = None
        loc.append(part)
    return tuple(loc)


def _is_union_tag(part: object) -> bool:
    """Pydantic inserts type names (``'function-after[...]'``, ``'list[str]'``, ``'constrained-str'``,
    a model's class name such as ``'Artifact'`` for ``Text | Artifact``) into some locations."""
    return isinstance(part, str) and (
        "[" in part or part in {"str", "int", "float", "bool", "dict", "constrained-str"} or part in _MODEL_NAMES
    )


#: Class names of the input models, which pydantic uses as union tags in error locations.
_MODEL_NAMES = frozenset(
    name
    for module in (
        governance_schema,
        model_schema,
        training_schema,
        monitoring_schema,
        version_schema,
        approvals_schema,
        datasheet_schema,
        policy_schema,
    )
    for name, value in vars(module).items()
    if isinstance(value, type) and issubclass(value, BaseModel)
)


def _field_names_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys allowed at ``loc`` inside ``model`` (for "did you mean" on unknown keys)."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            continue
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(str(part))
            if info is None:
                return []
            current = info.annotation
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """``list[X]`` / ``X | None`` / ``Annotated[X, …]`` → ``X``."""
    while True:
        origin = typing.get_origin(annotation)
        if origin in (list, tuple, typing.Union, types.UnionType, typing.Annotated):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if not args:
                return annotation
            annotation = args[0]
            continue
        return annotation
