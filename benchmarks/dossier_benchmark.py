"""Seconds per dossier: ``modelgov dossier`` on a built demo's manifest, each dossier in its own
process (as a user runs it), with its peak memory; and the time ``build --dossiers`` adds per dossier
inside one build (no interpreter start-up or imports per dossier).

    python benchmarks/dossier_benchmark.py --json benchmarks/results-dossier.json

The demo is generated and built once (``modelgov demo``, which writes a dossier of each production
version); then every production and candidate version's dossier is written ``--runs`` times.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_benchmark import timed

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "SOURCE_DATE_EPOCH": "1767225600"}
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        env["MODELGOV_CACHE_DIR"] = str(root / "cache")
        env["MODELGOV_CACHE_KEY"] = os.urandom(32).hex()  # the user's own key file is neither made nor read
        # one process: the seconds per dossier are those of laying one out, not of spawned workers
        demo = subprocess.run([sys.executable, "-m", "modelgov", "demo", str(root / "demo"), "-j", "1"], env=env,
                              capture_output=True, text=True, check=True)  # fmt: skip
        in_build = re.search(r"Wrote (\d+) dossier\(s\) .*\(([\d.]+) s each\)", demo.stderr)
        source = root / "demo" / "site" / "manifest.json"
        manifest = json.loads(source.read_text())
        chosen = [(m["id"], v["version"], v["status"]) for m in manifest["models"] for v in m["versions"]
                  if v["status"] in ("production", "candidate")]  # fmt: skip
        rows = []
        for model, version, status in chosen:
            runs = []
            for _ in range(args.runs):
                out = root / f"{model}-{version}.pdf"
                result = timed([sys.executable, "-m", "modelgov", "dossier", str(source), model, version, "-o", str(out)],
                               env, root)  # fmt: skip
                if result["exit"] != 0:
                    raise SystemExit(result["stderr"])
                runs.append(result)
            rows.append(
                {
                    "model": model,
                    "version": version,
                    "status": status,
                    "pages": _pages(out),
                    "bytes": out.stat().st_size,
                    "wall_s_median": statistics.median(r["wall_s"] for r in runs),
                    "peak_mb": max(r["peak_mb"] for r in runs),
                }
            )
    report = {
        "load": os.getloadavg(),
        "cpus": os.cpu_count(),
        "in_build_s_per_dossier": float(in_build.group(2)) if in_build else None,
        "dossiers": rows,
    }
    for row in rows:
        print(f"{row['model']} {row['version']} ({row['status']}): {row['pages']} pages, {row['bytes'] / 1e6:.2f} MB, "
              f"{row['wall_s_median']:.1f} s, peak {row['peak_mb']:.0f} MB")  # fmt: skip
    print(f"inside modelgov demo's build: {report['in_build_s_per_dossier']} s per dossier; load {report['load']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


def _pages(pdf: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(str(pdf)).pages)


if __name__ == "__main__":
    main()
