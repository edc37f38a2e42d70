"""Every case of the hostile-input corpus through the command line, as a user would run it.

A refused case must exit 2 with an error naming the file and the key or column; a degraded case must
build, and its page must say what could not be done. No case may print a traceback, report an
internal error, leave a half-written site, or unpickle anything.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from hostile_corpus import CASES, TRIPWIRE, Case, Degraded, Refused
from modelgov.cli import main
from workspace_factory import write_workspace

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


def page_text(page: Path) -> str:
    """What a reader sees: the page's text with tags removed and entities decoded, whitespace collapsed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page.read_text(encoding="utf-8"), flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def test_the_corpus_is_large_and_its_ids_are_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_hostile_workspace(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = write_workspace(tmp_path / "ws")
    case.mutate(ws)
    out = case.out(ws)
    code = main(["build", str(ws), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err

    assert "Traceback" not in err and "internal error" not in err, err
    assert not (tmp_path / TRIPWIRE).exists(), "a pickle from the workspace was unpickled"
    leftovers = [p.name for p in out.parent.iterdir() if ".building-" in p.name or ".old-" in p.name]
    assert not leftovers, f"half-written output left behind: {leftovers}"

    expect = case.expect
    if isinstance(expect, Refused):
        assert code == 2, f"expected a refusal, got exit {code}\n{err}"
        assert err.startswith("error:"), err
        assert expect.file in err, f"the error does not name {expect.file!r}:\n{err}"
        for phrase in expect.says:
            assert phrase in err, f"the error does not say {phrase!r}:\n{err}"
        if out != ws and out != ws.parent:
            assert not (out / "index.html").exists(), "a refused build wrote a site"
    else:
        assert isinstance(expect, Degraded)
        assert code in (0, 1), f"expected a build, got exit {code}\n{err}"
        page = out / expect.page
        assert page.is_file(), f"{expect.page} was not built"
        shown = page_text(page)
        for phrase in expect.says:
            assert phrase in shown, f"{expect.page} does not say {phrase!r}"
        raw = page.read_text(encoding="utf-8")
        for fragment in expect.absent:
            assert fragment not in raw, f"{expect.page} contains {fragment!r}"


def test_every_case_is_documented() -> None:
    """docs/bad-input.md is the user's list of what happens to bad input; it must cover the corpus."""
    documented = set(re.findall(r"`([a-z0-9-]+)`", (REPO / "docs" / "bad-input.md").read_text(encoding="utf-8")))
    missing = [case.id for case in CASES if case.id not in documented]
    assert not missing, f"cases missing from docs/bad-input.md: {missing}"
