"""Cold and warm builds of a fleet workspace: wall time, where it goes, and peak memory.

    python benchmarks/fleet.py /tmp/fleet --models 100 --versions 3 --eval-rows 10000 --log-rows 100000
    python benchmarks/build_benchmark.py /tmp/fleet --json benchmarks/results-build.json

Each build runs in its own process (``modelgov build``, as CI runs it), so its peak resident memory
is that build's alone; ``worker_peak_mb`` is an upper bound of the largest worker's (``--jobs``:
analysis, site parts): the largest of the workers and of their fork server, whose figure includes
the build's own memory when it started the server (Linux carries the high-water mark across fork
and exec). The phases come from the build's own progress lines: analysis (every model version:
metrics, intervals, fairness, explainability, drift), policies, page rendering (templates and
charts) and MkDocs. The warm build follows a change to one model's card text, with the analysis
cache the cold build filled.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_LINE = re.compile(r"^\[\s*([\d.]+)s\] (.*)$")
PHASES = (
    ("load", "Loading workspace"),
    ("analysis", "Analysing"),
    ("lineage", "Joining lineage"),
    ("policies", "Checking"),
    ("pages", "Rendering site"),
    ("mkdocs", "Building the static site with MkDocs"),
    ("written", "Site written"),
)


def _child(argv: list[str]) -> int:
    """Run one build in this process and print its peak memory (so the parent can read it)."""
    from modelgov.cli import main
    from modelgov.processes import stop_server

    code = main(argv)
    # workers are the fork server's children, counted in this process's once it is waited for
    stop_server()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # workers and server: an upper bound
    summary = {"exit": code, "peak_mb": round(own / 1024, 1), "worker_peak_mb": round(workers / 1024, 1)}
    print(json.dumps(summary), file=sys.stderr)
    return 0


def _phases(stderr: str, total: float) -> dict[str, float]:
    """Seconds between consecutive progress milestones, by phase name."""
    marks: list[tuple[str, float]] = []
    for line in stderr.splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        seconds, message = float(match.group(1)), match.group(2)
        for name, prefix in PHASES:
            if message.startswith(prefix) and name not in {m[0] for m in marks}:
                marks.append((name, seconds))
    phases = {name: round(marks[i + 1][1] - start, 2) for i, (name, start) in enumerate(marks[:-1])}
    # before the first line and after "Site written": interpreter start, imports, the policy report, exit
    phases["outside"] = round(total - marks[-1][1], 2) if marks else round(total, 2)
    return phases


def build(workspace: Path, out: Path, cache: Path) -> dict:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--child", "build", str(workspace), "-o", str(out), "--cache-dir", str(cache)],
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    summary = json.loads(done.stderr.strip().splitlines()[-1])
    if summary["exit"] not in (0, 1):
        raise SystemExit(f"build failed:\n{done.stderr}")
    pages = sum(1 for _ in out.rglob("*.html"))
    return {
        "wall_s": round(wall, 2),
        "peak_mb": summary["peak_mb"],
        "worker_peak_mb": summary["worker_peak_mb"],
        "phases_s": _phases(done.stderr, wall),
        "html_pages": pages,
        "html_mb": round(sum(p.stat().st_size for p in out.rglob("*.html")) / 1e6, 1),
    }


def touch_one_card(workspace: Path) -> str:
    card = sorted(workspace.glob("models/*/model.yml"))[0]
    text = card.read_text(encoding="utf-8")
    card.write_text(text.replace("caveats: ", "caveats: Reviewed again. ", 1), encoding="utf-8")
    return card.relative_to(workspace).as_posix()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        return _child(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace", type=Path, help="a fleet written by benchmarks/fleet.py (it is copied)")
    parser.add_argument("--json", type=Path, help="append the results to this JSON file")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from drift_build_benchmark import machine, source_tree  # the same provenance as the drift benchmark

    load = {"start": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="modelgov-build-benchmark-") as tmp:
        root = Path(tmp)
        workspace = root / "workspace"
        shutil.copytree(args.workspace, workspace, ignore=shutil.ignore_patterns(".modelgov"))
        # each build starts with what was written before it on disk: the copy (577 MB for 100 models)
        # and the cold build's cache and site (about 900 MB) would otherwise be written back while the
        # next build runs, and the build would be timed with part of that writing
        os.sync()
        cache = root / "cache"
        cold = build(workspace, root / "site", cache)
        changed = touch_one_card(workspace)
        os.sync()
        load["after_cold"] = os.getloadavg()
        warm = build(workspace, root / "site", cache)
        load["end"] = os.getloadavg()
    result = {
        "source": source_tree(),
        "machine": machine(),
        "load_average_1_5_15": load,
        "workspace": str(args.workspace),
        "cold": cold,
        "warm": {**warm, "changed": changed},
        "warm_over_cold": round(warm["wall_s"] / cold["wall_s"], 3),
        "flushed_before_builds": True,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        history = json.loads(args.json.read_text()) if args.json.exists() else []
        args.json.write_text(json.dumps([*history, result], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
