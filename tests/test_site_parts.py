"""The site is built in parts (each model's folder, compliance, datasets, the site-wide pages) so a
rebuild reuses every part whose inputs are unchanged. What a reader sees must not depend on that:
the pages are byte-identical to a whole-site build, links between parts are checked as strictly as
links within one, and the merged search index holds every page."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from manifest_factory import make_manifest
from modelgov.cache import AnalysisCache
from modelgov.errors import BuildError
from modelgov.render import site_build, site_parts
from modelgov.render.content import NavItem, SitePage, SiteSource
from modelgov.render.site import site_source
from modelgov.render.site_build import build_site, part_workers

EPOCH = "1719748800"


@pytest.fixture(autouse=True)
def _fixed_build_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)


@pytest.fixture(scope="module")
def source() -> SiteSource:
    return site_source(make_manifest())


def files_of(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def search_entries(site: Path) -> list[str]:
    index = json.loads((site / "search/search_index.json").read_text(encoding="utf-8"))
    return sorted(json.dumps(entry, sort_keys=True) for entry in index["docs"])


def test_the_manifest_declares_one_part_per_model_and_the_shared_folders(source: SiteSource) -> None:
    parts = site_parts.split(source)
    names = [part.name for part in parts]
    assert names[0] == site_parts.ROOT
    assert set(names[1:]) == {"models/credit-default/", "models/bike-demand/", "compliance/", "datasets/", "lineage.md"}
    assert sorted(p.path for part in parts for p in part.pages) == sorted(p.path for p in source.pages)
    root = next(part for part in parts if part.name == site_parts.ROOT)
    assert "index.md" in {p.path for p in root.pages}
    (lineage,) = (part for part in parts if part.name == "lineage.md")
    assert [p.path for p in lineage.pages] == ["lineage.md"] and lineage.label == "the page lineage.md"


def test_a_page_section_holds_that_page_only() -> None:
    """A section named by a page holds that page; one named by a folder holds what is under it."""
    sections = ("models/a/", "lineage.md")
    assert site_parts.section_of("lineage.md", sections) == "lineage.md"
    assert site_parts.section_of("lineage.md.bak", sections) == site_parts.ROOT
    assert site_parts.section_of("models/a/lineage.md", sections) == "models/a/"
    assert site_parts.section_of("models/ab/index.md", sections) == site_parts.ROOT


def test_a_section_that_is_neither_a_folder_nor_a_page_is_refused(source: SiteSource) -> None:
    """``models/a`` without its ``/`` would match no page at all: refused, not silently empty."""
    with pytest.raises(ValueError, match="a site section is a folder ending in '/'"):
        site_parts.split(dataclasses.replace(source, sections=("models/credit-default",)))


def test_pages_built_in_parts_are_identical_to_a_whole_site_build(tmp_path: Path, source: SiteSource) -> None:
    build_site(source, tmp_path / "parts")
    build_site(dataclasses.replace(source, sections=()), tmp_path / "whole")
    parts, whole = files_of(tmp_path / "parts"), files_of(tmp_path / "whole")
    assert set(parts) == set(whole)
    search = {"search/search_index.json", "search/search_index.js"}
    differing = sorted(path for path in parts if path not in search and parts[path] != whole[path])
    assert differing == []
    # the search index holds the same entries, in part order rather than page order
    assert search_entries(tmp_path / "parts") == search_entries(tmp_path / "whole")
    script = (tmp_path / "parts/search/search_index.js").read_text(encoding="utf-8")
    assert script == "var __index = " + (tmp_path / "parts/search/search_index.json").read_text(encoding="utf-8")


def small_site(link_from_root: str, link_from_model: str) -> SiteSource:
    """A site of three parts whose pages link across parts."""
    pages = (
        SitePage("index.md", "Home", f"# Home\n\nSee [the card]({link_from_root}).\n"),
        SitePage("models/a/index.md", "Model A", f"# Model A\n\n## Fairness\n\nBack [home]({link_from_model}).\n"),
        SitePage("compliance/index.md", "Compliance", "# Compliance\n\n## Model A\n\nSee [A](../models/a/index.md).\n"),
    )
    nav = (
        NavItem("Home", "index.md"),
        NavItem("Models", children=(NavItem("Model A", "models/a/index.md"),)),
        NavItem("Compliance", "compliance/index.md"),
    )
    return SiteSource(
        title="Small", organisation="Org", pages=pages, nav=nav, files=(), sections=("models/a/", "compliance/")
    )


def test_links_between_parts_resolve_to_the_built_pages(tmp_path: Path) -> None:
    build_site(small_site("models/a/index.md#fairness", "../../compliance/index.md#model-a"), tmp_path / "s")
    root = (tmp_path / "s/index.html").read_text(encoding="utf-8")
    card = (tmp_path / "s/models/a/index.html").read_text(encoding="utf-8")
    assert 'href="models/a/index.html#fairness"' in root
    assert 'href="../../compliance/index.html#model-a"' in card
    # each part's navigation lists the other parts' pages, as a whole-site build's does
    assert 'href="../../compliance/index.html"' in card


@pytest.mark.parametrize(
    ("from_root", "from_model", "named"),
    [
        ("models/a/index.md#nowhere", "../../index.md", "'models/a/index.md#nowhere'"),
        ("models/a/index.md", "../../compliance/index.md#nowhere", "'../../compliance/index.md#nowhere'"),
    ],
)
def test_a_link_to_a_missing_anchor_in_another_part_fails_the_build(
    tmp_path: Path, from_root: str, from_model: str, named: str
) -> None:
    with pytest.raises(BuildError, match="does not contain an anchor '#nowhere'") as failed:
        build_site(small_site(from_root, from_model), tmp_path / "s")
    assert named in str(failed.value)


def test_a_link_to_a_missing_page_still_fails_the_build(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="not found among documentation files"):
        build_site(small_site("models/b/index.md", "../../index.md"), tmp_path / "s")


def test_a_rebuild_reuses_unchanged_parts_and_matches_a_build_without_cache(tmp_path: Path) -> None:
    source = small_site("models/a/index.md#fairness", "../../index.md")
    cache = AnalysisCache(tmp_path / "cache")
    messages: list[str] = []
    build_site(source, tmp_path / "cold", cache=cache, progress=messages.append)
    assert messages[-1] == "Site parts: 0 of 2 reused, 2 built"

    edited = dataclasses.replace(
        source,
        pages=tuple(
            dataclasses.replace(p, markdown=p.markdown + "\nReviewed again.\n") if p.path.startswith("models/") else p
            for p in source.pages
        ),
    )
    build_site(edited, tmp_path / "warm", cache=AnalysisCache(tmp_path / "cache"), progress=messages.append)
    assert messages[-1] == "Site parts: 1 of 2 reused, 1 built"
    build_site(edited, tmp_path / "fresh")
    assert files_of(tmp_path / "warm") == files_of(tmp_path / "fresh")
    assert "Reviewed again." in (tmp_path / "warm/models/a/index.html").read_text(encoding="utf-8")


def test_a_corrupted_part_is_built_again(tmp_path: Path) -> None:
    source = small_site("models/a/index.md#fairness", "../../index.md")
    build_site(source, tmp_path / "cold", cache=AnalysisCache(tmp_path / "cache"))
    for entry in (tmp_path / "cache").rglob("*.entry"):
        entry.write_bytes(entry.read_bytes()[:-20])
    reports: list[str] = []
    cache = AnalysisCache(tmp_path / "cache", report=reports.append)
    build_site(source, tmp_path / "warm", cache=cache)
    assert any("the pages under models/a/ rejected (its MAC does not match" in r for r in reports), reports
    assert files_of(tmp_path / "warm") == files_of(tmp_path / "cold")


@pytest.mark.parametrize("path", ["index.html", "../outside.html", "models/a/other.html"])
def test_an_authentic_part_naming_pages_not_its_own_is_built_again(tmp_path: Path, path: str) -> None:
    """A part entry that authenticates but lists a page of another part (which it would overwrite), a
    path outside the site, or a page the part does not have, is refused and the part built again."""
    source = small_site("models/a/index.md#fairness", "../../index.md")
    build_site(source, tmp_path / "cold", cache=AnalysisCache(tmp_path / "cache"))
    cache = AnalysisCache(tmp_path / "cache")
    keys = [e.name.removesuffix(".entry") for e in sorted((tmp_path / "cache").rglob("*.entry"))]
    ((key, (payload, arrays)),) = [
        (k, hit)
        for k in keys
        if (hit := cache.get(k, "a part")) is not None and "models/a/index.html" in hit[0]["pages"]
    ]
    cache.put(key, {**payload, "pages": [path]}, arrays)
    reports: list[str] = []
    build_site(source, tmp_path / "warm", cache=AnalysisCache(tmp_path / "cache", report=reports.append))
    assert any("the pages under models/a/ rejected (not a valid result: its pages are not" in r for r in reports)
    assert files_of(tmp_path / "warm") == files_of(tmp_path / "cold")


def test_merge_keeps_the_first_index_settings_and_every_entry() -> None:
    merged = site_parts.merge_search_indexes(
        [{"config": {"lang": ["en"]}, "docs": [{"location": "a.html"}]}, {"docs": [{"location": "b.html"}]}]
    )
    assert merged == {"config": {"lang": ["en"]}, "docs": [{"location": "a.html"}, {"location": "b.html"}]}
    assert site_parts.merge_search_indexes([]) == {}


def test_a_part_output_round_trips_the_cache_layout_byte_for_byte() -> None:
    pages = {"a.html": "<p>é ✓</p>\n".encode(), "b/c.html": b"", "d.html": bytes(range(256))}
    output = site_parts.PartOutput(pages, [{"location": "a.html"}], {"a.md": ["x"]}, [["a.md", "b.md", "y", "b.md#y"]])
    payload, arrays = output.to_cache()
    assert payload["pages"] == list(pages) and all(a.dtype == np.uint8 for a in arrays.values())
    assert site_parts.PartOutput.from_cache(json.loads(json.dumps(payload)), arrays) == output


@pytest.mark.parametrize(
    ("payload", "arrays"),
    [
        ({"pages": {"a.html": "<p>"}}, {}),  # the earlier layout: HTML in the JSON
        ({"pages": ["a.html"]}, {}),  # a page without its bytes
        ({"pages": ["a.html"]}, {"page-0": np.zeros(3, np.uint8), "page-1": np.zeros(3, np.uint8)}),  # one too many
        ({"pages": ["a.html", "a.html"]}, {"page-0": np.zeros(3, np.uint8), "page-1": np.zeros(3, np.uint8)}),
        ({"pages": ["a.html"]}, {"page-0": np.zeros(3, np.int64)}),  # not bytes
        ({"pages": ["a.html"]}, {"page-0": np.zeros((3, 1), np.uint8)}),
        ({"pages": [3]}, {"page-0": np.zeros(3, np.uint8)}),
    ],
    ids=[
        "html-in-json",
        "missing-bytes",
        "extra-array",
        "duplicate-path",
        "wrong-dtype",
        "two-dimensional",
        "not-a-path",
    ],
)
def test_a_cached_part_of_the_wrong_shape_is_refused(payload: dict, arrays: dict) -> None:
    with pytest.raises(ValueError):
        site_parts.PartOutput.from_cache({"search": [], "anchors": {}, "links": [], **payload}, arrays)


def test_parts_built_in_parallel_processes_are_identical_to_a_serial_build(
    tmp_path: Path, source: SiteSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    pools: list[int] = []

    def counted_pool(workers: int):
        pools.append(workers)
        return worker_pool(workers)

    worker_pool = site_build.worker_pool
    monkeypatch.setattr(site_build, "worker_pool", counted_pool)
    build_site(source, tmp_path / "serial", jobs=2)
    assert pools == []  # too few pages to repay a worker: built in this process, though two were allowed
    monkeypatch.setattr(site_build, "PAGES_PER_WORKER", 1)  # this small site in workers all the same
    build_site(source, tmp_path / "parallel", jobs=2)
    assert pools == [2]
    assert files_of(tmp_path / "parallel") == files_of(tmp_path / "serial")


def _parts(*sizes: int) -> list[site_parts.Part]:
    return [
        site_parts.Part(
            f"models/m{index}/", tuple(SitePage(f"models/m{index}/{page}.md", "P", "") for page in range(size))
        )
        for index, size in enumerate(sizes)
    ]


@pytest.mark.parametrize(
    ("jobs", "sizes", "workers"),
    [
        (2, (5, 3, 3), 1),  # a small site: starting a worker would cost more than it saves
        (2, (60, 30), 1),  # work for one worker: it is this process
        (2, (60, 40), 2),
        (2, (500,), 1),  # one part cannot be shared
        (8, (50,) * 10, 8),  # never more than asked
        (8, (50,) * 5, 5),
        (1, (500, 500), 1),
    ],
)
def test_workers_are_started_only_for_enough_pages(jobs: int, sizes: tuple[int, ...], workers: int) -> None:
    assert site_build.PAGES_PER_WORKER == 50
    assert part_workers(jobs, _parts(*sizes)) == workers
