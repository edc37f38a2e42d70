"""`modelgov check` on a cached workspace of the demo's size: whole-process wall time, CPU time and
peak memory, as CI runs it.

    python benchmarks/check_benchmark.py --json benchmarks/results-check.json
    python benchmarks/check_benchmark.py --src /tmp/before/src --src src   # two checkouts, interleaved

The demo workspace is generated (``modelgov demo``), then checked once to fill a fresh analysis cache
(the cold check), then checked ``--runs`` times more with that cache, each in its own process. With
several ``--src`` folders, each check runs once per checkout in turn, so a machine busy with other
work slows every checkout alike; each checkout has its own cache. The JSON records the machine's
load, the interpreter's own start-up (``python -c pass``) as the floor, and the packages that take
longest to import in one cached check (``python -X importtime``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def env_for(src: Path, cache: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(src), "MODELGOV_CACHE_DIR": str(cache)}


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> dict:
    """One process: wall seconds, CPU seconds (user + system) and its own peak resident memory."""
    with tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read()
    return {
        "exit": process.returncode,
        "wall_s": round(wall, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_mb": round(usage.ru_maxrss / 1024, 1),
        "stderr": stderr,
    }


def check(src: Path, workspace: Path, cache: Path, scratch: Path) -> dict:
    argv = [sys.executable, "-m", "modelgov", "check", str(workspace), "--results", str(scratch / "results.json")]
    result = timed(argv, env_for(src, cache), scratch)
    if result["exit"] not in (0, 1):
        raise SystemExit(f"check failed ({result['exit']}):\n{result['stderr']}")
    reuse = next((line for line in result.pop("stderr").splitlines() if "Analysis cache:" in line), "")
    match = re.search(r"(\d+) result\(s\) reused, (\d+) computed", reuse)
    result["reused"], result["computed"] = (int(match.group(1)), int(match.group(2))) if match else (None, None)
    return result


def import_times(src: Path, workspace: Path, cache: Path, scratch: Path, top: int = 12) -> dict:
    """Milliseconds of importing in one cached check: in all, and for the packages that take longest
    (each package's own modules)."""
    argv = [sys.executable, "-X", "importtime", "-m", "modelgov", "check", str(workspace), "-q"]
    argv += ["--results", str(scratch / "results.json")]
    done = subprocess.run(argv, env=env_for(src, cache), cwd=scratch, capture_output=True, text=True)
    own: Counter[str] = Counter()
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if match:
            own[match.group(2).split(".")[0]] += int(match.group(1))
    return {
        "total": round(sum(own.values()) / 1000, 1),
        "packages": {name: round(us / 1000, 1) for name, us in own.most_common(top)},
    }


def commit_of(src: Path) -> str | None:
    """The checkout's commit, when it is a git checkout."""
    done = subprocess.run(["git", "-C", str(src), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() or None if done.returncode == 0 else None


def publish_report(report: dict, path: Path | None) -> None:
    """Print ``report``, and add it to the JSON list in ``path`` when given (a new list when there is none)."""
    print(json.dumps(report, indent=1))
    if path is not None:
        previous = json.loads(path.read_text()) if path.exists() else []
        path.write_text(json.dumps([*previous, report], indent=1) + "\n")


def summary(runs: list[dict]) -> dict:
    walls = [r["wall_s"] for r in runs]
    cpus = [r["cpu_s"] for r in runs]
    return {
        "wall_s": {"best": min(walls), "median": round(statistics.median(walls), 3)},
        "cpu_s": {"best": min(cpus), "median": round(statistics.median(cpus), 3)},
        "computed": sorted({r["computed"] for r in runs}, key=str),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, action="append", help="a checkout's src/ folder (repeat to compare)")
    parser.add_argument("--runs", type=int, default=11, help="cached checks per checkout")
    parser.add_argument("--json", type=Path, help="append the results to this JSON list")
    args = parser.parse_args(argv)
    sources = [p.resolve() for p in (args.src or [ROOT / "src"])]

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="modelgov-check-bench-") as tmp:
        scratch = Path(tmp)
        demo = scratch / "demo"
        generated = subprocess.run(
            [sys.executable, "-m", "modelgov", "demo", str(demo), "-q"],
            # its own cache, which the checks below do not read (an older checkout's demo has no --no-cache)
            env={**os.environ, "PYTHONPATH": str(sources[-1]), "MODELGOV_CACHE_DIR": str(scratch / "demo-cache")},
            cwd=scratch,
            capture_output=True,
            text=True,
        )
        if generated.returncode != 0:
            raise SystemExit(f"modelgov demo failed:\n{generated.stderr}")
        workspace = demo / "workspace"
        caches = {src: scratch / f"cache-{i}" for i, src in enumerate(sources)}
        floor = [timed([sys.executable, "-c", "pass"], dict(os.environ), scratch)["wall_s"] for _ in range(3)]
        cold = {src: check(src, workspace, caches[src], scratch) for src in sources}
        warm: dict[Path, list[dict]] = {src: [] for src in sources}
        for _ in range(args.runs):
            for src in sources:
                warm[src].append(check(src, workspace, caches[src], scratch))
        report = {
            "benchmark": "modelgov check on the cached demo workspace, whole process",
            "date": time.strftime("%Y-%m-%d"),
            # other work on the machine: the 1-minute load average before and after the runs
            "machine": {
                "cpus": os.cpu_count(),
                "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            },
            "python": sys.version.split()[0],
            "interpreter_start_s": min(floor),
            "runs": args.runs,
            "checkouts": [
                {
                    "src": str(src),
                    "commit": commit_of(src),
                    "cold": cold[src],
                    "cached": summary(warm[src]),
                    "cached_runs_wall_s": [r["wall_s"] for r in warm[src]],
                    "import_ms": import_times(src, workspace, caches[src], scratch),
                }
                for src in sources
            ],
        }
    publish_report(report, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
