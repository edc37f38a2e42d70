"""Templates compiled once per process (modelgov.render.compiled_templates): a later environment is
handed the code, an edited template is compiled again, templates of the same name in different
folders are never confused, and the number of entries kept is bounded."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from manifest_factory import make_manifest
from modelgov import resources
from modelgov.render import render_site
from modelgov.render.compiled_templates import CompiledTemplates
from modelgov.render.page_renderer import environment


def folder(root: Path, **templates: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, source in templates.items():
        (root / f"{name}.md.j2").write_text(source, encoding="utf-8")
    return root


def never_compiles(env: jinja2.Environment) -> jinja2.Environment:
    def compile_(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"compiled again: {args[1] if len(args) > 1 else kwargs}")

    env.compile = compile_  # type: ignore[method-assign]
    return env


def test_a_later_environment_is_handed_the_compiled_code(tmp_path: Path) -> None:
    templates = folder(tmp_path / "t", page="# {{ title|text }}\n{% for x in items %}- {{ x }}\n{% endfor %}")
    first = environment(templates, resources.site_templates_dir()).get_template("page.md.j2")
    second = never_compiles(environment(templates, resources.site_templates_dir()))
    assert second.get_template("page.md.j2").render(title="T", items=[1, 2]) == first.render(title="T", items=[1, 2])
    assert second.get_template("page.md.j2").render(title="T", items=[1, 2]) == "# T\n- 1\n- 2\n"


def test_a_built_in_template_is_compiled_once_per_process(tmp_path: Path) -> None:
    environment(None, resources.site_templates_dir()).get_template("home.md.j2")
    never_compiles(environment(None, resources.site_templates_dir())).get_template("home.md.j2")


def test_an_edited_template_is_compiled_again(tmp_path: Path) -> None:
    templates = folder(tmp_path / "t", page="before {{ x }}")
    assert environment(templates, resources.site_templates_dir()).get_template("page.md.j2").render(x=1) == "before 1"
    folder(templates, page="after {{ x }}")
    assert environment(templates, resources.site_templates_dir()).get_template("page.md.j2").render(x=1) == "after 1"


def test_templates_of_the_same_name_in_two_folders_are_not_confused(tmp_path: Path) -> None:
    one = folder(tmp_path / "one", page="one")
    two = folder(tmp_path / "two", page="two")
    for _ in range(2):
        assert environment(one, resources.site_templates_dir()).get_template("page.md.j2").render() == "one"
        assert environment(two, resources.site_templates_dir()).get_template("page.md.j2").render() == "two"


def test_a_workspace_template_still_runs_in_the_sandbox_when_it_comes_from_the_cache(tmp_path: Path) -> None:
    templates = folder(tmp_path / "t", page="{{ ''.__class__.__mro__ }}")
    for _ in range(2):
        with pytest.raises(jinja2.exceptions.SecurityError):
            environment(templates, resources.site_templates_dir()).get_template("page.md.j2").render()


def test_the_entries_kept_are_bounded_the_least_recently_used_dropped_first(tmp_path: Path) -> None:
    cache = CompiledTemplates(max_entries=2)
    templates = folder(tmp_path / "t", a="a", b="b", c="c")

    def env() -> jinja2.Environment:
        return jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)), bytecode_cache=cache)

    env().get_template("a.md.j2")
    env().get_template("b.md.j2")
    never_compiles(env()).get_template("a.md.j2")  # a is now the most recently used
    env().get_template("c.md.j2")  # drops b
    assert len(cache) == 2
    never_compiles(env()).get_template("a.md.j2")
    never_compiles(env()).get_template("c.md.j2")
    with pytest.raises(AssertionError, match="compiled again"):
        never_compiles(env()).get_template("b.md.j2")


@pytest.mark.slow
def test_a_second_site_built_in_the_same_process_compiles_no_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pages' templates and the theme's, including the environments Material's search plugin makes."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1719748800")
    render_site(make_manifest(), tmp_path / "first")
    compiled = _counting_compilations(monkeypatch)
    render_site(make_manifest(), tmp_path / "second")
    assert compiled == []
    first, second = tmp_path / "first", tmp_path / "second"
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert [p for p in files if (first / p).read_bytes() != (second / p).read_bytes()] == []


def test_filed_by_name_a_template_is_still_told_apart_by_its_source(tmp_path: Path) -> None:
    """The theme's cache ignores the folder (a new one every part) but never the text."""
    cache = CompiledTemplates(by_file=False)

    def render(root: Path) -> str:
        return (
            jinja2.Environment(loader=jinja2.FileSystemLoader(str(root)), bytecode_cache=cache)
            .get_template("main.md.j2")
            .render()
        )

    assert render(folder(tmp_path / "a", main="same")) == "same"
    assert render(folder(tmp_path / "b", main="same")) == "same"
    assert len(cache) == 1
    assert render(folder(tmp_path / "c", main="other")) == "other"
    assert len(cache) == 2


def test_a_filter_on_a_literal_is_not_worked_out_once_for_every_later_build(tmp_path: Path) -> None:
    """Jinja runs a filter on a literal while it compiles; ``finding`` depends on the manifest's
    labels, so it must be run for each page, never baked into the shared compiled code."""
    from modelgov.render.findings import Labels

    templates = folder(tmp_path / "t", page='{{ "performance.roc_auc.ci_low: 0.753 meets >= 0.7"|finding }}')
    rendered = []
    for label in ("ROC AUC", "Area under the ROC curve"):
        env = environment(templates, resources.site_templates_dir())
        env.finding_labels = Labels(metrics={"roc_auc": label})  # type: ignore[attr-defined]
        rendered.append(env.get_template("page.md.j2").render())
    assert rendered == [
        "The lower end of the ROC AUC interval is 0.753 (the rule requires at least 0.7)",
        "The lower end of the Area under the ROC curve interval is 0.753 (the rule requires at least 0.7)",
    ]


def test_code_compiled_outside_the_sandbox_is_never_handed_to_a_sandboxed_environment(tmp_path: Path) -> None:
    """While it compiles, Jinja works out constant expressions with the compiling environment's
    attribute checks: an unsandboxed compile of this template holds the forbidden value as text."""
    from jinja2.sandbox import SandboxedEnvironment

    cache = CompiledTemplates()
    templates = folder(tmp_path / "t", page="{{ ''.__class__.__mro__ }}")
    loader = jinja2.FileSystemLoader(str(templates))
    plain = jinja2.Environment(loader=loader, bytecode_cache=cache).get_template("page.md.j2").render()
    assert "class 'object'" in plain
    with pytest.raises(jinja2.exceptions.SecurityError):
        SandboxedEnvironment(loader=loader, bytecode_cache=cache).get_template("page.md.j2").render()
    assert len(cache) == 2


def test_environments_with_other_syntax_options_get_their_own_code(tmp_path: Path) -> None:
    cache = CompiledTemplates()
    templates = folder(tmp_path / "t", page="{% if true %}\nx\n{% endif %}\n")
    loader = jinja2.FileSystemLoader(str(templates))
    kept = jinja2.Environment(loader=loader, bytecode_cache=cache, keep_trailing_newline=True)
    trimmed = jinja2.Environment(loader=loader, bytecode_cache=cache, keep_trailing_newline=True, trim_blocks=True)
    assert kept.get_template("page.md.j2").render() == "\nx\n\n"
    assert trimmed.get_template("page.md.j2").render() == "x\n"


# ---------------------------------------------------------------------- kept in the analysis cache

SECRET = b"compiled-templates-test-secret-0123456789"


def _fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing compiled in this process's memory, as in a new ``modelgov build``."""
    from collections import OrderedDict

    from modelgov.render import mkdocs_site, page_renderer

    monkeypatch.setattr(page_renderer._COMPILED, "_code", OrderedDict())
    monkeypatch.setattr(mkdocs_site._TEMPLATE_CODE, "_code", OrderedDict())


def _counting_compilations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    compiled: list[str] = []
    original = jinja2.Environment.compile

    def counting(self: jinja2.Environment, source: str, name: str | None = None, filename: str | None = None, *a, **k):
        compiled.append(str(filename or name))
        return original(self, source, name, filename, *a, **k)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    return compiled


def _retitled(title: str):
    """The test manifest under another site title: every page and every part of the site differs, so
    nothing is reused from the cache but the compiled templates."""
    base = make_manifest()
    return base.model_copy(update={"site": base.site.model_copy(update={"title": title})})


def _differing(first: Path, second: Path) -> list[Path]:
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    return [p for p in files if (first / p).read_bytes() != (second / p).read_bytes()]


def _template_entries(cache_dir: Path) -> dict[Path, str]:
    """Each compiled template's entry file in the cache, with its template's name."""
    import io
    import json

    import numpy as np

    found = {}
    for path in cache_dir.rglob("*.entry"):
        raw = path.read_bytes()
        body = raw[raw.index(b"\n") + 1 :]
        with np.load(io.BytesIO(body), allow_pickle=False) as archive:
            payload = json.loads(archive["__payload__"].tobytes()) if "__payload__" in archive.files else {}
        if isinstance(payload, dict) and "template" in payload:
            found[path] = payload["template"]
    return found


@pytest.mark.slow
def test_a_new_process_is_handed_the_code_kept_in_the_analysis_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build with a cache keeps what it compiled there (pages' and theme's templates); a build in a
    new process compiles none of them again, and its pages are the bytes of templates compiled afresh."""
    from modelgov.cache import AnalysisCache

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1719748800")
    _fresh_process(monkeypatch)
    render_site(make_manifest(), tmp_path / "first", cache=AnalysisCache(tmp_path / "cache", secret=SECRET))
    kept = _template_entries(tmp_path / "cache")
    assert (
        "the compiled template 'home.md.j2'" in kept.values() and "the compiled template 'main.html'" in kept.values()
    )

    _fresh_process(monkeypatch)
    compiled = _counting_compilations(monkeypatch)
    cache = AnalysisCache(tmp_path / "cache", secret=SECRET)
    render_site(_retitled("Another title"), tmp_path / "from-cache", cache=cache)
    assert compiled == []
    assert cache.stats.hits == 0 and cache.stats.corrupted == []  # not counted as analysis results

    _fresh_process(monkeypatch)
    render_site(_retitled("Another title"), tmp_path / "afresh")
    assert compiled  # compiled, with no cache to read from
    assert _differing(tmp_path / "from-cache", tmp_path / "afresh") == []


@pytest.mark.slow
@pytest.mark.redteam
def test_compiled_code_planted_altered_or_moved_in_the_cache_never_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoever can write the cache folder, without its key, cannot have a build run their code: an
    entry whose code was replaced, an entry moved to another template's key, and an authentic entry
    that holds no code are each refused, reported, and the template compiled again."""
    import marshal
    import shutil

    import numpy as np

    from modelgov.cache import AnalysisCache

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1719748800")
    _fresh_process(monkeypatch)
    render_site(make_manifest(), tmp_path / "first", cache=AnalysisCache(tmp_path / "cache", secret=SECRET))
    entries = sorted(_template_entries(tmp_path / "cache").items())
    assert len(entries) >= 6
    marker = tmp_path / "planted-code-ran"
    planted = marshal.dumps(compile(f"open({str(marker)!r}, 'w').write('ran')", "planted", "exec"))
    (altered, _), (moved_from, _), (moved_to, _), (not_code, _) = entries[:4]
    # the code replaced in place, the MAC left as it was
    raw = altered.read_bytes()
    header, body = raw[: raw.index(b"\n") + 1], raw[raw.index(b"\n") + 1 :]
    buffer = __import__("io").BytesIO()
    with np.load(__import__("io").BytesIO(body), allow_pickle=False) as archive:
        members = {name: archive[name] for name in archive.files}
    members["code"] = np.frombuffer(planted, dtype=np.uint8)
    np.savez(buffer, **members)
    altered.write_bytes(header + buffer.getvalue())
    # an authentic entry copied over another template's
    shutil.copyfile(moved_from, moved_to)
    # an authentic entry (written with the key) that holds something other than code
    key = not_code.name.removesuffix(".entry")
    AnalysisCache(tmp_path / "cache", secret=SECRET).put(
        key, {"template": "x"}, {"code": np.frombuffer(marshal.dumps(["not", "code"]), dtype=np.uint8)}
    )

    _fresh_process(monkeypatch)
    compiled = _counting_compilations(monkeypatch)
    messages: list[str] = []
    cache = AnalysisCache(tmp_path / "cache", secret=SECRET, report=messages.append)
    render_site(_retitled("Another title"), tmp_path / "after", cache=cache)
    assert not marker.exists()
    assert len(cache.stats.corrupted) == 3 and len(compiled) == 3
    assert any("MAC does not match" in m for m in messages)
    assert any("names another entry" in m for m in messages)
    assert any("does not hold a template's compiled code" in m for m in messages)

    _fresh_process(monkeypatch)
    render_site(_retitled("Another title"), tmp_path / "afresh")
    assert _differing(tmp_path / "after", tmp_path / "afresh") == []


@pytest.mark.parametrize(
    "change",
    ["sandboxed environment", "python bytecode", "a compiling library's version", "modelgov's source"],
)
def test_stored_code_is_handed_only_to_what_compiled_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """A stored entry is found again under the same key (a new process, the same environment), and
    under no other: a sandboxed environment never gets code compiled outside the sandbox, nor another
    Python, another version of a library whose filters run while Jinja compiles, or modelgov's source
    edited in place (whose version number stays)."""
    import jinja2.sandbox

    from modelgov.cache import AnalysisCache
    from modelgov.render import compiled_templates

    templates = folder(tmp_path / "t", page="{{ 'x' | upper }} {{ value }}")

    def env(kind: type[jinja2.Environment], code: CompiledTemplates) -> jinja2.Environment:
        return kind(loader=jinja2.FileSystemLoader(str(templates)), bytecode_cache=code)

    cache = AnalysisCache(tmp_path / "cache", secret=SECRET)
    with compiled_templates.persisted_in(cache):
        env(jinja2.Environment, CompiledTemplates()).get_template("page.md.j2")
        # a new process, the same environment: handed the stored code
        never_compiles(env(jinja2.Environment, CompiledTemplates())).get_template("page.md.j2")
        kind = jinja2.Environment
        if change == "sandboxed environment":
            kind = jinja2.sandbox.SandboxedEnvironment
        elif change == "python bytecode":
            monkeypatch.setattr(compiled_templates.importlib.util, "MAGIC_NUMBER", b"\x00\x00\r\n")
        elif change == "a compiling library's version":
            import modelgov.cache

            real = modelgov.cache.package_versions
            monkeypatch.setattr(
                modelgov.cache, "package_versions", lambda names: {**real(names), names[0]: "0.0-other"}
            )
        else:
            monkeypatch.setattr(compiled_templates, "_modelgov_source", lambda: "0" * 64)
        with pytest.raises(AssertionError, match="compiled again"):
            never_compiles(env(kind, CompiledTemplates())).get_template("page.md.j2")
    assert cache.stats.hits == cache.stats.misses == 0 and cache.stats.corrupted == []
