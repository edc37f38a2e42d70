"""Workspace YAML is parsed by libyaml and composed by PyYAML's Python composer
(``workspace/yamlsource.py``): the data, the key lines and the problems must be those of PyYAML's
pure-Python loader, which still explains every file that does not parse."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from modelgov.workspace import yamlsource
from modelgov.workspace.yamlsource import parse_yaml
from shared_builds import demo_workspace

REPO = Path(__file__).resolve().parents[1]

needs_libyaml = pytest.mark.skipif(
    not yaml.__with_libyaml__, reason="this PyYAML was built without libyaml; only the pure-Python loader exists"
)

#: Documents that parse, with the features workspace files use and the ones a hostile file might.
PARSED = [
    b"a: 1\nb: [1, 2.5, -3]\nc: {d: e}\n",
    b"when: 2024-01-31\nstamp: 2024-01-31T10:00:00Z\nyes_no: yes\nhex: 0x1F\nbig: 1_000\ninf: .inf\nnull: ~\n",
    b"text: |\n  two\n  lines\nfolded: >\n  one\n  line\n",
    b"anchor: &a {x: 1}\ncopy: *a\nmerged:\n  <<: *a\n  y: 2\n",
    b"quoted: \"tab\\tand \\U0001F600\"\nsingle: 'it''s'\nplain: a # comment\n",
    b"dup: 1\ndup: 2\n",
    b"bin: !!binary aGVsbG8=\n",
    b"\xef\xbb\xbfbom: 1\n",
    "name: \u00e9t\u00e9 \u202e\n".encode(),
    b"- a\n- b:\n    - c\n",
    b"",
    b"# only a comment\n",
]

#: Documents that do not parse: each message must be the pure-Python loader's.
BROKEN = [
    b"title: a\x00b\n",  # a control character
    b"a:\n\tb: 1\n",  # a tab as indentation
    b"a: b: c\n",
    b'a: "abc\n',
    b'a: "\\ud800"\n',  # libyaml refuses it without naming the key; PyYAML reads a lone surrogate
    b"a: 1\n---\nb: 2\n",
    b"a: [1, 2\n",
    b"a: !!python/object:os.system x\n",
    "a: x\uffffy\n".encode(),
]


def _pure(raw: bytes) -> yamlsource.YamlDocument:
    return yamlsource._load(yamlsource._PythonLoader, raw.decode("utf-8-sig"), "f.yml")


def _same(a: yamlsource.YamlDocument, b: yamlsource.YamlDocument) -> None:
    assert repr(a.data) == repr(b.data)  # repr: NaN and types compared too
    assert a.lines == b.lines
    assert a.problems == b.problems


@needs_libyaml
def test_workspace_yaml_is_read_with_libyaml_first() -> None:
    """The speed comes from libyaml: if the class order slipped (``CParser`` before the composer),
    libyaml's own C composer would run and the nesting and size limits would never be checked."""
    assert yamlsource._LOADERS[0] is yamlsource._LibyamlLoader
    mro = yamlsource._LibyamlLoader.__mro__
    assert mro.index(yamlsource._BoundedComposer) < mro.index(yamlsource.CParser)


@needs_libyaml
@pytest.mark.parametrize("raw", PARSED)
def test_a_document_reads_as_the_pure_python_loader_reads_it(raw: bytes) -> None:
    fast = yamlsource._load(yamlsource._LibyamlLoader, raw.decode("utf-8-sig"), "f.yml")
    assert not fast.syntax_error
    _same(fast, _pure(raw))
    _same(parse_yaml(raw, "f.yml"), _pure(raw))


@pytest.mark.parametrize("raw", BROKEN)
def test_a_file_that_does_not_parse_is_explained_by_the_pure_python_loader(raw: bytes) -> None:
    doc = parse_yaml(raw, "f.yml")
    assert doc.problems
    _same(doc, _pure(raw))


def test_the_tab_and_the_lone_surrogate_are_named() -> None:
    """The two messages libyaml gives less well, as users see them."""
    (tab,) = parse_yaml(b"a:\n\tb: 1\n", "f.yml").problems
    assert "'\\t'" in tab.message and tab.line == 2
    (surrogate,) = parse_yaml(b'a: "\\ud800"\n', "f.yml").problems
    assert surrogate.key == "a" and "lone UTF-16 surrogate" in surrogate.message


@needs_libyaml
def test_the_limits_hold_when_libyaml_parses() -> None:
    """The nesting and size limits are checked by the Python composer over libyaml's events, so a
    deep or huge document is refused by the fast loader itself, not left to a fallback."""
    text = "a: " + "[" * 150 + "]" * 150 + "\n"
    deep = yamlsource._load(yamlsource._LibyamlLoader, text, "f.yml")
    assert not deep.syntax_error and "nested more than 100 levels" in deep.problems[0].message
    many = yamlsource._load(yamlsource._LibyamlLoader, "a: [" + "1," * 250_000 + "1]\n", "f.yml")
    assert "more than 200,000 values" in many.problems[0].message
    laughs = "a: &a [1,1,1,1,1,1,1,1,1,1]\n" + "".join(
        f"{name}: &{name} [{', '.join([f'*{prev}'] * 10)}]\n" for prev, name in zip("abcde", "bcdef", strict=True)
    )
    expanded = yamlsource._load(yamlsource._LibyamlLoader, laughs, "f.yml")
    assert "expands to more than 200,000 values" in expanded.problems[0].message


@needs_libyaml
def test_every_yaml_file_in_the_project_and_the_example_reads_the_same_either_way(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The bundled example's workspace, the policy packs and the project's own YAML: the same data,
    lines and problems from libyaml's events as from PyYAML's own parser."""
    example = demo_workspace(tmp_path_factory)
    files = [
        path
        for root in (REPO, example)
        for pattern in ("*.yml", "*.yaml")
        for path in root.rglob(pattern)
        if not {".venv", "site", "node_modules", ".git"} & set(path.relative_to(root).parts)
    ]
    assert len(files) > 60
    for path in files:
        raw = path.read_bytes()
        if len(raw) > yamlsource.MAX_YAML_BYTES:
            continue
        fast = yamlsource._load(yamlsource._LibyamlLoader, raw.decode("utf-8-sig"), "f.yml")
        _same(fast, _pure(raw))
