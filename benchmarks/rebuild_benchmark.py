"""Builds repeated in one process, as `modelgov serve` rebuilds the site after each change and as the
test suite builds one workspace after another: each build's wall time, the first (imports included)
and the later ones.

    python benchmarks/rebuild_benchmark.py --json benchmarks/results-rebuild.json
    python benchmarks/rebuild_benchmark.py --src /tmp/before/src --src src   # two checkouts, interleaved
    python benchmarks/rebuild_benchmark.py --src /tmp/before/src --src src --no-cache --workspace WS

The demo workspace is generated (``modelgov demo``) and built once per checkout to fill that
checkout's analysis cache. Then, round by round, each checkout runs one process that builds the
workspace ``--builds`` times in a row (``build -j 1``, in the process itself), so a machine busy with
other work slows every checkout alike. With ``--no-cache`` every build computes its analyses again
(the fixed cost of a build is then a smaller share); ``--workspace`` builds another workspace than
the demo. The JSON records the machine's load and each process's build times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from check_benchmark import commit_of, env_for, publish_report  # the same checkouts, caches and results file

ROOT = Path(__file__).resolve().parent.parent

#: Runs in the child process: builds the workspace several times and writes the times as JSON.
CHILD = r"""
import json, sys, time
from modelgov.cli import main

workspace, site, builds, out, *extra = sys.argv[1:]
times = []
for _ in range(int(builds)):
    started = time.perf_counter()
    code = main(["build", workspace, "-o", site, "-q", "-j", "1", *extra])
    times.append(round(time.perf_counter() - started, 3))
    if code not in (0, 1):
        raise SystemExit(f"the build failed with exit code {code}")
with open(out, "w") as handle:
    json.dump(times, handle)
"""


def builds_in_one_process(
    src: Path, workspace: Path, cache: Path, scratch: Path, builds: int, extra: list[str]
) -> list:
    out = scratch / "times.json"
    argv = [sys.executable, "-c", CHILD, str(workspace), str(scratch / "site"), str(builds), str(out), *extra]
    done = subprocess.run(argv, env=env_for(src, cache), cwd=scratch, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the builds failed ({src}):\n{done.stderr}")
    return json.loads(out.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, action="append", help="a checkout's src/ folder (repeat to compare)")
    parser.add_argument("--rounds", type=int, default=3, help="processes per checkout")
    parser.add_argument("--builds", type=int, default=4, help="builds in each process")
    parser.add_argument("--no-cache", action="store_true", help="every build computes its analyses again")
    parser.add_argument("--workspace", type=Path, help="build this workspace instead of the demo's")
    parser.add_argument("--json", type=Path, help="append the results to this JSON list")
    args = parser.parse_args(argv)
    sources = [p.resolve() for p in (args.src or [ROOT / "src"])]
    extra = ["--no-cache"] if args.no_cache else []

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="modelgov-rebuild-bench-") as tmp:
        scratch = Path(tmp)
        workspace = args.workspace.resolve() if args.workspace else scratch / "demo" / "workspace"
        if args.workspace is None:
            generated = subprocess.run(
                [sys.executable, "-m", "modelgov", "demo", str(workspace.parent), "-q"],
                env=env_for(sources[-1], scratch / "demo-cache"),
                cwd=scratch,
                capture_output=True,
                text=True,
            )
            if generated.returncode != 0:
                raise SystemExit(f"modelgov demo failed:\n{generated.stderr}")
        caches = {src: scratch / f"cache-{i}" for i, src in enumerate(sources)}
        for src in sources:  # fill each checkout's cache
            builds_in_one_process(src, workspace, caches[src], scratch, 1, [])
        runs: dict[Path, list[list[float]]] = {src: [] for src in sources}
        for _ in range(args.rounds):
            for src in sources:
                runs[src].append(builds_in_one_process(src, workspace, caches[src], scratch, args.builds, extra))
    report = {
        "benchmark": f"{'the demo' if args.workspace is None else str(args.workspace)} built repeatedly in one process"
        + (" (--no-cache)" if args.no_cache else " (cached)"),
        "date": time.strftime("%Y-%m-%d"),
        "machine": {"cpus": os.cpu_count(), "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)]},
        "python": sys.version.split()[0],
        "builds_per_process": args.builds,
        "checkouts": [
            {
                "src": str(src),
                "commit": commit_of(src),
                "first_build_s": [times[0] for times in runs[src]],
                "later_builds_s": [t for times in runs[src] for t in times[1:]],
                "later_builds_median_s": statistics.median(t for times in runs[src] for t in times[1:]),
            }
            for src in sources
        ],
    }
    publish_report(report, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
