"""The site engine behind one seam: MkDocs by default, ProperDocs (the maintained fork of MkDocs 1.x)
when ``MODELGOV_SITE_ENGINE=properdocs``.

The demo is built with both, each in its own process (ProperDocs takes over every ``mkdocs`` import
of the process that loads it), and the two sites must hold the same files with the same bytes once
the ``generator`` meta tag, the one place the engine names itself, is set aside. The selection
itself is checked here too: an unknown name, a missing ProperDocs and a second engine in one
process are errors that say what to do, and warnings that Material logs under ``mkdocs.*`` still
fail a strict ProperDocs build.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from modelgov.demo.policies import AS_OF
from modelgov.errors import BuildError
from modelgov.render import site_engine, site_parts
from shared_builds import DEMO_EPOCH, DemoBuild

EPOCH = DEMO_EPOCH  # 2026-01-01T00:00:00Z, as the shared demo build
TESTS = Path(__file__).resolve().parent
HAS_PROPERDOCS = importlib.util.find_spec("properdocs") is not None
NEEDS_PROPERDOCS = pytest.mark.skipif(
    not HAS_PROPERDOCS,
    reason="ProperDocs is not installed (pip install 'modelgov[properdocs]'; the test extras include it)",
)
_GENERATOR = re.compile(rb'<meta name="generator" content="([^"]*)">')


def run_modelgov(
    args: list[str], *, engine: str | None, cache: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``modelgov ARGS`` in a new process, with the site engine ``engine`` (None: the default) and
    the variables ``env`` set."""
    # the analysis cache (and its key) in this test's folders, never the user's, unless env names one
    base = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "XDG_CACHE_HOME": str(cache), "XDG_CONFIG_HOME": str(cache)}
    for variable in (site_engine.ENGINE_VARIABLE, "MODELGOV_CACHE_DIR", "MODELGOV_CACHE_KEY"):
        base.pop(variable, None)
    env = {**base, **(env or {})}
    if engine is not None:
        env[site_engine.ENGINE_VARIABLE] = engine
    return subprocess.run(
        [sys.executable, "-m", "modelgov", *args], capture_output=True, text=True, env=env, timeout=900
    )


def files_of(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def generators(files: dict[str, bytes]) -> set[str]:
    """The generator named by every HTML page (one entry when every page names the same one)."""
    found = set()
    for path, data in files.items():
        if path.endswith(".html"):
            names = {m.decode() for m in _GENERATOR.findall(data)}
            assert names, f"{path} names no generator"
            found |= names
    return found


# --------------------------------------------------------------------------- selecting the engine


def test_the_engine_is_mkdocs_unless_the_environment_names_another(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(site_engine.ENGINE_VARIABLE, raising=False)
    assert site_engine.selected() == "mkdocs"
    monkeypatch.setenv(site_engine.ENGINE_VARIABLE, " ProperDocs ")
    assert site_engine.selected() == "properdocs"
    monkeypatch.setenv(site_engine.ENGINE_VARIABLE, "")
    assert site_engine.selected() == "mkdocs"


def test_an_unknown_engine_is_an_error_that_lists_the_known_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(site_engine.ENGINE_VARIABLE, "zensical")
    with pytest.raises(BuildError, match=r"MODELGOV_SITE_ENGINE='zensical' .* choose one of: mkdocs, properdocs"):
        site_engine.selected()
    with pytest.raises(BuildError, match="choose one of: mkdocs, properdocs"):
        site_engine.load("hugo")


def test_a_process_that_loaded_mkdocs_refuses_to_build_with_properdocs() -> None:
    """ProperDocs would answer the `mkdocs` imports still to come while Material's already-imported
    plugins hold MkDocs' classes: a site built from both is refused, whether or not ProperDocs is
    installed. (This process keeps MkDocs: the check comes before ProperDocs is imported.)"""
    assert site_engine.load("mkdocs").label == "MkDocs"
    with pytest.raises(BuildError, match=r"already loaded MkDocs.*MODELGOV_SITE_ENGINE=properdocs"):
        site_engine.load("properdocs")
    assert site_engine.load().name == "mkdocs"  # and the process goes on building with MkDocs


def test_properdocs_not_installed_says_how_to_install_it() -> None:
    code = (
        "import sys\n"
        "sys.modules['properdocs'] = None  # as if not installed\n"
        "from modelgov.errors import BuildError\n"
        "from modelgov.render import site_engine\n"
        "try:\n"
        "    site_engine.load('properdocs')\n"
        "except BuildError as exc:\n"
        "    print(exc)\n"
        "print('mkdocs' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines() == [
        "MODELGOV_SITE_ENGINE=properdocs, but ProperDocs is not installed: pip install 'modelgov[properdocs]'",
        "False",  # nothing of MkDocs was imported on the way
    ]


def test_warnings_material_logs_under_mkdocs_reach_the_properdocs_collector() -> None:
    """Under ProperDocs, the build's strict check listens to the `properdocs` logger, while Material's
    plugins log to `mkdocs.material.*`: for the build, `mkdocs` becomes a child of `properdocs` (as
    ProperDocs' own command line arranges), and is put back afterwards."""
    from modelgov.render import mkdocs_site

    legacy = logging.getLogger("mkdocs")
    before = (legacy.parent, legacy.level, legacy.propagate, list(legacy.handlers))
    with mkdocs_site._engine_logging("properdocs", quiet=True) as collected:
        logging.getLogger("mkdocs.material.search").warning("a warning from a plugin written for MkDocs")
        logging.getLogger("properdocs.structure.pages").info("an INFO line is not a problem")
    assert collected.messages == ["WARNING: a warning from a plugin written for MkDocs"]
    assert (legacy.parent, legacy.level, legacy.propagate, list(legacy.handlers)) == before


# --------------------------------------------------------------------------- ProperDocs builds


@pytest.fixture(scope="module")
def demo_sites(tmp_path_factory: pytest.TempPathFactory, demo_build: DemoBuild) -> tuple[Path, Path, str]:
    """The demo built with MkDocs (the test run's shared build of ``modelgov demo``'s site,
    tests/conftest.py), and built again with ProperDocs from the same workspace and analysis cache:
    the analyses and the dossiers are read from the cache (the manifest is the same bytes), while the
    site's parts are built by ProperDocs (their cache keys name the engine), so the two sites differ
    by the engine and nothing else."""
    if not HAS_PROPERDOCS:
        pytest.skip("ProperDocs is not installed (pip install 'modelgov[properdocs]'; the test extras include it)")
    root = tmp_path_factory.mktemp("engines")
    mkdocs_site = demo_build.site
    properdocs_site = root / "site-properdocs"
    build = ["build", str(demo_build.workspace), "-o", str(properdocs_site), "--as-of", AS_OF.isoformat()]
    build += ["--dossiers", "production", "--jobs", "1"]  # as the shared build
    rendered = run_modelgov(build, engine="properdocs", cache=root / "xdg", env=demo_build.cache_env())
    # the demo's policies block its credit candidate on purpose: the site is written, the exit code is 1
    assert rendered.returncode == 1 and (properdocs_site / "index.html").is_file(), rendered.stdout + rendered.stderr
    assert "3 reused from the cache" in rendered.stdout + rendered.stderr
    return mkdocs_site, properdocs_site, rendered.stdout + rendered.stderr


@pytest.mark.slow
@NEEDS_PROPERDOCS
def test_the_demo_built_with_properdocs_has_the_pages_of_the_mkdocs_build(demo_sites: tuple[Path, Path, str]) -> None:
    mkdocs_dir, properdocs_dir, output = demo_sites
    assert "Building the static site with ProperDocs" in output
    with_mkdocs, with_properdocs = files_of(mkdocs_dir), files_of(properdocs_dir)
    assert sorted(with_properdocs) == sorted(with_mkdocs)
    assert sum(path.endswith(".html") for path in with_mkdocs) > 40
    # each site names its own engine on every page
    assert generators(with_mkdocs) == {f"mkdocs-{version('mkdocs')}, mkdocs-material-{version('mkdocs-material')}"}
    assert generators(with_properdocs) == {
        f"mkdocs-ProperDocs {version('properdocs')}, mkdocs-material-{version('mkdocs-material')}"
    }
    # that tag aside, every file is byte for byte the same: pages, navigation, search index, assets
    differing = [
        path
        for path in sorted(with_mkdocs)
        if _GENERATOR.sub(b"", with_mkdocs[path]) != _GENERATOR.sub(b"", with_properdocs[path])
    ]
    assert differing == [], f"ProperDocs and MkDocs built different files: {differing}"


@pytest.mark.slow
@NEEDS_PROPERDOCS
def test_a_broken_link_fails_the_strict_properdocs_build(tmp_path: Path) -> None:
    """The strict link check holds under ProperDocs: a page linking to a missing page fails the build
    and names the link, as under MkDocs (tests/test_render.py)."""
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "home.md.j2").write_text("# Home\n\nSee [the missing page](missing.md).\n")
    code = (
        "import sys, pathlib\n"
        f"sys.path.insert(0, {str(TESTS)!r})\n"
        "from manifest_factory import make_manifest\n"
        "from modelgov.errors import BuildError\n"
        "from modelgov.render import render_site\n"
        "try:\n"
        f"    render_site(make_manifest(), pathlib.Path({str(tmp_path / 'site')!r}), template_dir=pathlib.Path({str(templates)!r}))\n"
        "except BuildError as exc:\n"
        "    print(exc)\n"
        "else:\n"
        "    print('built')\n"
    )
    env = {**os.environ, site_engine.ENGINE_VARIABLE: "properdocs", "SOURCE_DATE_EPOCH": EPOCH}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    assert re.match(r"the static site build \(ProperDocs\) (failed|reported problems)", result.stdout), result.stdout
    assert "missing.md" in result.stdout


@pytest.mark.slow
@NEEDS_PROPERDOCS
def test_parts_built_with_one_engine_are_not_reused_by_the_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The part cache is keyed by engine: a ProperDocs build after a MkDocs build into the same cache
    builds every part again, in parallel worker processes that load ProperDocs by name, and then
    reuses its own parts."""
    from manifest_factory import make_manifest
    from modelgov.cache import AnalysisCache
    from modelgov.render.site import site_source
    from modelgov.render.site_build import build_site

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)  # the sitemap's dates, in this process and the next
    source = site_source(make_manifest())
    build_site(source, tmp_path / "mkdocs", cache=AnalysisCache(tmp_path / "cache"))  # this process: MkDocs
    code = (
        "import sys, pathlib\n"
        f"sys.path.insert(0, {str(TESTS)!r})\n"
        "from manifest_factory import make_manifest\n"
        "from modelgov.cache import AnalysisCache\n"
        "from modelgov.render.site import site_source\n"
        "from modelgov.render import site_build\n"
        "from modelgov.render.site_build import build_site\n"
        "site_build.PAGES_PER_WORKER = 1  # this small site's parts in workers all the same\n"
        "source = site_source(make_manifest())\n"
        "for name in ('first', 'second'):\n"
        f"    site = pathlib.Path({str(tmp_path)!r}) / name\n"
        f"    cache = AnalysisCache(pathlib.Path({str(tmp_path / 'cache')!r}))\n"
        "    build_site(source, site, cache=cache, jobs=2, progress=print)\n"
    )
    env = {**os.environ, site_engine.ENGINE_VARIABLE: "properdocs"}  # the same cache key (XDG_CONFIG_HOME)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    parts = len(site_parts.split(source)) - 1  # the root part is always built, and not counted
    assert result.stdout.splitlines() == [
        f"Site parts: 0 of {parts} reused, {parts} built",
        f"Site parts: {parts} of {parts} reused, 0 built",
    ]
    first = files_of(tmp_path / "first")
    assert {name.split(",")[0] for name in generators(first)} == {f"mkdocs-ProperDocs {version('properdocs')}"}
    assert first == files_of(tmp_path / "second")
    with_mkdocs = files_of(tmp_path / "mkdocs")
    assert sorted(first) == sorted(with_mkdocs)
    assert all(_GENERATOR.sub(b"", first[p]) == _GENERATOR.sub(b"", with_mkdocs[p]) for p in first)


def test_the_theme_is_listed_once_and_the_part_override_every_time(tmp_path: Path) -> None:
    """Each part's build lists the theme's files; the installed theme's listing is kept for the
    process (it does not change during a build), the part's own override folder is walked again."""
    import jinja2
    import material

    from modelgov.render import mkdocs_site

    theme = str(Path(material.__file__).parent / "templates")
    override = tmp_path / "part" / "overrides"
    override.mkdir(parents=True)
    (override / "main.html").write_text("{% extends 'base.html' %}")
    paths = [str(override), theme]
    # listed now, as Jinja lists it below: an earlier build in this process may have kept a listing
    # from before Python wrote Material's bytecode into the theme's folder (`__pycache__/*.pyc`, which
    # MkDocs never copies), as it does after an installer that compiles none, such as uv
    mkdocs_site._installed_templates.cache_clear()
    loader = mkdocs_site._ThemeLoader(paths, encoding="utf-8", followlinks=False, fresh=tmp_path / "part")

    def visible() -> list[str]:  # MkDocs drops every name under a hidden folder or file at the top
        return [name for name in jinja2.FileSystemLoader(paths).list_templates() if not name.startswith(".")]

    assert loader.list_templates() == visible()
    (override / "partials").mkdir()
    (override / "partials" / "extra.html").write_text("")
    (override / ".hidden").write_text("")
    assert "partials/extra.html" in loader.list_templates()
    assert loader.list_templates() == visible()


def test_mkdocs_takes_the_same_theme_files_from_the_shorter_listing(tmp_path: Path) -> None:
    """The listing leaves out Material's hidden icons; the files MkDocs copies from the theme are the same."""
    from mkdocs.config import load_config
    from mkdocs.structure.files import Files

    from modelgov.render import mkdocs_site

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Home\n")
    (tmp_path / "mkdocs.yml").write_text("site_name: x\ntheme:\n  name: material\n")
    config = load_config(str(tmp_path / "mkdocs.yml"))
    env = config.theme.get_env()
    plain = Files([])
    plain.add_files_from_theme(env, config)
    env.loader = mkdocs_site._ThemeLoader(
        list(env.loader.searchpath), encoding="utf-8", followlinks=False, fresh=tmp_path / "none"
    )
    ours = Files([])
    ours.add_files_from_theme(env, config)
    assert len(plain) > 10
    assert [(f.src_uri, f.abs_src_path) for f in ours] == [(f.src_uri, f.abs_src_path) for f in plain]


def test_the_themes_found_once_are_those_mkdocs_finds_and_mkdocs_gets_its_own_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """While a part's configuration is read, MkDocs makes its list of installed themes (which it
    clears at every theme it loads) from entry points found once per process: the same list, with
    its warnings every time (two packages offering one theme name), and its own search is back
    afterwards, also when reading the configuration fails or blocks overlap."""
    import importlib.metadata

    import mkdocs.utils
    from mkdocs.config import load_config

    from modelgov.render import mkdocs_site

    original = mkdocs.utils.entry_points
    mkdocs.utils.get_themes.cache_clear()
    themes = mkdocs.utils.get_themes()
    assert "material" in themes
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Home\n")
    (tmp_path / "mkdocs.yml").write_text("site_name: x\ntheme:\n  name: material\n")
    with mkdocs_site._themes_found_once():
        assert mkdocs.utils.entry_points is not original
        config = load_config(str(tmp_path / "mkdocs.yml"))
        mkdocs.utils.get_themes.cache_clear()  # as MkDocs does at each theme it loads
        assert mkdocs.utils.get_themes() == themes
    assert mkdocs.utils.entry_points is original
    assert config.theme.name == "material"

    # a second package offering the theme "material": MkDocs warns each time it makes its list
    twin = importlib.metadata.EntryPoint("material", "another_material", "mkdocs.themes")
    twin = twin._for(next(d for d in importlib.metadata.distributions() if d.name == "pytest"))
    found = (*mkdocs_site._entry_points("mkdocs.themes"), twin)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mkdocs_site, "_entry_points", lambda group: found)
        for _ in range(2):
            caplog.clear()
            with mkdocs_site._themes_found_once():
                mkdocs.utils.get_themes.cache_clear()
                mkdocs.utils.get_themes()
            assert any("A theme named 'material' is provided by" in r.getMessage() for r in caplog.records)
    mkdocs.utils.get_themes.cache_clear()

    (tmp_path / "mkdocs.yml").write_text("site_name: x\ntheme:\n  name: no-such-theme\n")
    with pytest.raises(Exception, match="configuration error"), mkdocs_site._themes_found_once():
        load_config(str(tmp_path / "mkdocs.yml"))
    assert mkdocs.utils.entry_points is original
    outer, inner = mkdocs_site._themes_found_once(), mkdocs_site._themes_found_once()
    outer.__enter__()
    inner.__enter__()
    outer.__exit__(None, None, None)
    inner.__exit__(None, None, None)
    assert mkdocs.utils.entry_points is original
