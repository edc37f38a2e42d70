"""Drift as a user runs it: ``modelgov build`` of a whole workspace against Evidently's data-drift
report saved as HTML, each a process of its own, on the same Parquet files.

The workspace (written once, seeded, under ``--data``) holds one binary model, one version:

* a reference table of ``--reference-rows`` records (default 1,000,000), named by the version's
  ``monitoring.reference: {data: ...}``;
* a production log of ``--log-rows`` records (default 1,000,000) spread evenly over ``--weeks``
  weekly windows (default 4);
* the required evaluation, ``--eval-rows`` records (default 10,000) with labels, scores and
  predictions, one sensitive feature (``c1``), no model file.

The columns are those of ``benchmarks/evidently_benchmark.py`` (its generator is reused): 20 numeric
features of varied shapes and 5 categorical ones, 9 of them drifted in the log, plus the model's
``score`` (a logistic rule of a few features, so it drifts with them) and ``prediction``. Every
window of the log is drawn from the same (drifted) distribution, so the latest window's verdicts
can be set against Evidently's over the whole log.

Each run is its own process under GNU time (``/usr/bin/time -v``: wall time and maximum resident
set size, interpreter and imports included), interleaved A, B, A, B … ``--repeat`` times:

* **A, modelgov**: ``modelgov build WORKSPACE -o SITE --no-cache -q -j 1`` into an empty folder
  (``--jobs 1 2`` adds ``-j 2`` runs, whose peak under GNU time is the largest of the build, its
  workers and their fork server, whose own figure includes the build's memory when it started it);
* **B, Evidently**: ``Report([DataDriftPreset(columns=...)], include_tests=True)`` on the reference
  and the log read from the same Parquet files with pandas (the 25 features and the score), run and
  saved with ``snapshot.save_html``, in Evidently's own Python (``MODELGOV_EVIDENTLY_PYTHON``,
  default /tmp/evenv/bin/python; Evidently 0.7.23 does not import under pandas 3):

      python3 -m venv /tmp/evenv && /tmp/evenv/bin/pip install "evidently==0.7.23" "pandas<3" pyarrow

With ``--big-log-rows N`` (e.g. 10,000,000) a second workspace with the same reference and
evaluation and an N-record log is built by modelgov alone, ``--repeat`` times, to check its peak
memory. Two more modelgov builds of the main workspace (not counted with the others) say where the
time goes: one without ``-q``, for its progress lines, and one in a process that times its parts
(evaluation, explanation, monitoring: reference, scan, drift statistics; pages and MkDocs) and
samples its resident memory (:func:`run_breakdown`).

Every figure is recorded with the commit measured and the machine's load averages: on a shared
machine, the ratio within an interleaved round is steadier than either side's wall time.

The per-column verdicts are compared: the 25 features and the output (modelgov's ``prediction``
drift, of the score) in the latest window of modelgov's ``manifest.json``, against Evidently's
tests on the whole log.

    python benchmarks/drift_build_benchmark.py --repeat 3 --big-log-rows 10000000 \\
        --json benchmarks/results-drift-build.json
    python benchmarks/drift_build_benchmark.py --reference-rows 100000 --log-rows 100000 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from evidently_benchmark import (  # noqa: E402  (the generator and GNU time's parser are shared)
    CATEGORICAL,
    EVIDENTLY_PYTHON,
    FEATURES,
    GNU_TIME,
    NUMERIC,
    ROW_GROUP,
    TIMESTAMP,
    WEEK_START,
    Phases,
    _gnu_time,
    evidently_version,
    table,
)

SCORE, PREDICTION, LABEL, ROW_ID = "score", "prediction", "defaulted", "application_id"
CHUNK = 1_000_000  # the log is generated and written this many records at a time
MODEL, VERSION = "credit-drift", "1.0"


# --------------------------------------------------------------------------- the workspace


def _output(columns: dict[str, np.ndarray]) -> np.ndarray:
    """The model's probability: a fixed logistic rule of a few features (so it drifts with them)."""
    z = (
        -0.6
        + 0.8 * columns["n01"]
        + 0.15 * (columns["n02"] - 10)
        + 0.02 * (columns["n12"] - 30)
        + 0.4 * (columns["c0"] == "yes")
        - 0.2 * columns["n13"]
    )
    return np.round(1 / (1 + np.exp(-z)), 6)


def _with_output(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    score = _output(columns)
    return {**columns, SCORE: score, PREDICTION: (score >= 0.5).astype("int64")}


def _arrow(columns: dict[str, np.ndarray]):
    import pyarrow as pa

    return pa.table(
        {
            name: pa.array(values, pa.timestamp("us", "UTC")) if name == TIMESTAMP else pa.array(values)
            for name, values in columns.items()
        }
    )


def _write(path: Path, parts) -> None:
    """Write the tables ``parts`` yields into one Parquet file (atomically: reused only when whole)."""
    import pyarrow.parquet as pq

    partial = path.with_suffix(".partial")
    writer = None
    for part in parts:
        if writer is None:
            writer = pq.ParquetWriter(partial, part.schema)
        writer.write_table(part, row_group_size=ROW_GROUP)
    writer.close()
    partial.rename(path)


def _log_parts(rows: int, weeks: int):
    """The log, CHUNK records at a time; chunk i covers the i-th slice of the ``weeks`` weeks, so
    every window is drawn from the same (drifted) distribution."""
    span = weeks * 7 * 86_400
    chunks = -(-rows // CHUNK)
    for i in range(chunks):
        n = min(CHUNK, rows - i * CHUNK)
        columns = table(n, current=True, seed=2 + 1_000 * i)  # chunk 0 is evidently_benchmark's log
        rng = np.random.default_rng(10_000 + i)
        seconds = np.sort(rng.uniform(i * span / chunks, (i + 1) * span / chunks, n))
        columns[TIMESTAMP] = WEEK_START + (seconds * 1e6).astype("timedelta64[us]")
        yield _arrow(_with_output(columns))


def _evaluation(rows: int):
    columns = _with_output(table(rows, current=False, seed=3))
    rng = np.random.default_rng(4)
    columns[LABEL] = (rng.random(rows) < columns[SCORE]).astype("int64")
    columns = {ROW_ID: np.array([f"a{i:07d}" for i in range(rows)], dtype=object), **columns}
    return _arrow(columns)


def _yaml_files(reference_rows: int, log_rows: int, eval_rows: int) -> dict[str, dict]:
    datasheet = {"source": "drift_build_benchmark.py", "licence": "Internal",
                 "collection": {"method": "Simulated with a fixed seed"}}  # fmt: skip
    return {
        "governance.yml": {"title": "Drift benchmark", "organisation": "Benchmark Bank"},
        "datasets/credit-train.yml": {
            "name": "Training sample",
            "description": f"{reference_rows:,} records.",
            **datasheet,
        },
        "datasets/credit-holdout.yml": {"name": "Holdout", "description": f"{eval_rows:,} records.", **datasheet},
        f"models/{MODEL}/model.yml": {
            "name": "Credit model (drift benchmark)",
            "owner": {"name": "Ada Analyst", "email": "ada@example.com", "team": "Credit Risk"},
            "task": "binary_classification",
            "risk_tier": "high",
            "tags": ["benchmark"],
            "description": "Predicts default from 25 synthetic features.",
            "intended_use": {
                "primary_uses": "Ranking applications for manual review.",
                "primary_users": "Credit officers.",
                "out_of_scope": "Fully automated rejection.",
            },
            "factors": {"relevant": "Segment (c1).", "evaluation": "Evaluated per segment on the holdout."},
            "metrics": {"performance_measures": "ROC AUC.", "decision_threshold": "0.5 on the score."},
            "ethical_considerations": "Synthetic data.",
            "caveats": "A benchmark workspace.",
            "sensitive_features": ["c1"],
        },
        f"models/{MODEL}/versions/{VERSION}/version.yml": {
            "created": "2026-07-01",
            "status": "production",
            "summary": "The only version.",
            "training": {"datasets": ["credit-train"], "algorithm": "sklearn.linear_model.LogisticRegression"},
            "evaluations": [
                {
                    "id": "holdout",
                    "data": "data/holdout.parquet",
                    "dataset": "credit-holdout",
                    "date": "2026-07-20",
                    "label": LABEL,
                    "prediction": PREDICTION,
                    "score": SCORE,
                    "threshold": 0.5,
                    "features": FEATURES,
                    "row_id": ROW_ID,
                }
            ],
            "monitoring": {
                "logs": "data/log.parquet",
                "timestamp": TIMESTAMP,
                "prediction": PREDICTION,
                "score": SCORE,
                "features": FEATURES,
                "window": "week",
                "reference": {"data": "data/reference.parquet", "description": f"{reference_rows:,} training records"},
            },
        },
        f"models/{MODEL}/versions/{VERSION}/approvals.yml": {
            "approvals": [{"role": "model_risk", "by": "Rita Reviewer", "decision": "approved", "date": "2026-07-25"}]
        },
    }


def generate(folder: Path, reference_rows: int, log_rows: int, eval_rows: int, weeks: int) -> Path:
    """The workspace in ``folder`` (written once and reused: every file is seeded)."""
    import yaml

    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    for rel, doc in _yaml_files(reference_rows, log_rows, eval_rows).items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    if not (data / "reference.parquet").exists():
        _write(data / "reference.parquet", [_arrow(_with_output(table(reference_rows, current=False, seed=1)))])
    if not (data / "holdout.parquet").exists():
        _write(data / "holdout.parquet", [_evaluation(eval_rows)])
    if not (data / "log.parquet").exists():
        _write(data / "log.parquet", _log_parts(log_rows, weeks))
    return folder


# --------------------------------------------------------------------------- Evidently's side (its own Python)


def run_evidently(reference_path: Path, log_path: Path, html: Path) -> dict:
    """Evidently's data-drift preset over the features and the score, saved as HTML; its verdicts."""
    phases = Phases()
    import evidently
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset
    from evidently_agreement import METHOD_NAMES

    phases.done("import")
    columns = [*FEATURES, SCORE]
    reference = pd.read_parquet(reference_path, columns=columns)
    current = pd.read_parquet(log_path, columns=columns)
    definition = DataDefinition(numerical_columns=[*NUMERIC, SCORE], categorical_columns=CATEGORICAL)
    ref = Dataset.from_pandas(reference, data_definition=definition)
    cur = Dataset.from_pandas(current, data_definition=definition)
    phases.done("read + datasets")
    snapshot = Report([DataDriftPreset(columns=columns)], include_tests=True).run(cur, ref)
    phases.done("report.run")
    snapshot.save_html(str(html))
    phases.done("save_html")
    result = snapshot.dict()
    verdicts: dict[str, dict] = {}
    for metric in result["metrics"]:
        config = metric["config"]
        if config["type"].endswith("ValueDrift"):
            verdicts[config["column"]] = {
                "method": METHOD_NAMES.get(config["method"], config["method"]),
                "score": float(metric["value"]),
                "threshold": float(config["threshold"]),
            }
    for test in result["tests"]:
        params = test["metric_config"]["params"]
        if test["id"] == "drift" and params["type"].endswith("ValueDrift"):
            verdicts[params["column"]]["drifted"] = test["status"] == "FAIL"
    phases.done("snapshot.dict")
    return {
        "evidently": evidently.__version__,
        "pandas": pd.__version__,
        "rows": [len(reference), len(current)],
        "phases_s": {k: round(v, 3) for k, v in phases.seconds.items()},
        "peak_rss_after_mb": phases.peak_rss_mb,
        "html_mb": round(html.stat().st_size / 1e6, 1),
        "columns": verdicts,
    }


# --------------------------------------------------------------------------- one timed process


def _timed(command: list[str], scratch: Path) -> tuple[float, float, str, float]:
    """Run ``command`` under GNU time: wall seconds, peak RSS (MB), its stderr, and the machine's
    1-minute load average as it started (the machine may be shared)."""
    timing = scratch / "time.txt"
    load = round(os.getloadavg()[0], 2)
    completed = subprocess.run([GNU_TIME, "-v", "-o", str(timing), *command], capture_output=True, text=True)
    if completed.returncode not in (0, 1):  # 1: a failing blocking policy, which still writes the site
        raise SystemExit(f"{' '.join(command)} failed ({completed.returncode}):\n{completed.stderr[-4000:]}")
    wall, rss = _gnu_time(timing.read_text())
    return wall, rss, completed.stderr, load


def modelgov_command() -> list[str]:
    script = Path(sys.executable).with_name("modelgov")  # the console script, as a user types it
    return [str(script)] if script.is_file() else [sys.executable, "-m", "modelgov"]


def run_build(workspace: Path, scratch: Path, jobs: int, quiet: bool = True) -> dict:
    site = scratch / "site"
    shutil.rmtree(site, ignore_errors=True)
    command = [*modelgov_command(), "build", str(workspace), "-o", str(site), "--no-cache", "-j", str(jobs)]
    wall, rss, stderr, load = _timed([*command, *(["-q"] if quiet else [])], scratch)
    manifest = json.loads((site / "manifest.json").read_text())
    run = {"wall_s": round(wall, 2), "peak_rss_mb": round(rss), "load_at_start": load}
    return {**run, "manifest": manifest, "stderr": stderr}


def run_report(reference: Path, log: Path, scratch: Path) -> dict:
    out, html = scratch / "evidently.json", scratch / "report.html"
    command = [EVIDENTLY_PYTHON, __file__, "--side", "evidently", "--reference", str(reference)]
    command += ["--log", str(log), "--html", str(html), "--out", str(out)]
    wall, rss, _, load = _timed(command, scratch)
    result = json.loads(out.read_text())
    html.unlink()
    return {"wall_s": round(wall, 2), "peak_rss_mb": round(rss), "load_at_start": load, **result}


# --------------------------------------------------------------------------- summaries


def summary(runs: list[dict]) -> dict:
    walls = [r["wall_s"] for r in runs]
    peaks = [r["peak_rss_mb"] for r in runs]
    median = statistics.median(walls)
    return {
        "runs": len(runs),
        "best_wall_s": min(walls),
        "median_wall_s": round(median, 2),
        "worst_wall_s": max(walls),
        "wall_spread": round((max(walls) - min(walls)) / median, 2),  # (worst − best) ÷ median
        "peak_rss_mb": max(peaks),
        "peak_rss_range_mb": [min(peaks), max(peaks)],
        "walls_s": walls,
    }


def latest_window(manifest: dict) -> dict:
    drift = manifest["models"][0]["versions"][0]["drift"]
    windows = [w for w in drift["windows"] if w["rows"]]
    return {"count": len(drift["windows"]), "rows": [w["rows"] for w in drift["windows"]], "latest": windows[-1]}


def agreement(manifest: dict, evidently: dict) -> dict:
    latest = latest_window(manifest)["latest"]
    ours = {f["feature"]: f for f in latest["features"]}
    if latest.get("prediction"):
        ours[SCORE] = latest["prediction"]
    columns = {}
    for name, theirs in evidently["columns"].items():
        mine = ours.get(name)
        if mine is None:
            columns[name] = {"agree": False, "modelgov": None, "evidently_drifted": theirs["drifted"]}
            continue
        columns[name] = {
            "method": mine["method"],
            "same_method": mine["method"] == theirs["method"],
            "modelgov_score": mine["statistic"],
            "evidently_score": theirs["score"],
            "modelgov_drifted": mine["drifted"],
            "evidently_drifted": theirs["drifted"],
            "agree": mine["drifted"] == theirs["drifted"] and mine["method"] == theirs["method"],
        }
    return {
        "window": [latest["start"], latest["end"]],
        "window_rows": latest["rows"],
        "agree": sum(c["agree"] for c in columns.values()),
        "compared": len(columns),
        "drifted_modelgov": sorted(c for c, v in columns.items() if v.get("modelgov_drifted")),
        "drifted_evidently": sorted(c for c, v in columns.items() if v["evidently_drifted"]),
        "columns": columns,
    }


def breakdown(workspace: Path, scratch: Path) -> dict:
    """:func:`run_breakdown` in a process of its own."""
    out, site = scratch / "breakdown.json", scratch / "site"
    shutil.rmtree(site, ignore_errors=True)
    command = [sys.executable, __file__, "--side", "breakdown", "--workspace", str(workspace)]
    completed = subprocess.run([*command, "--site", str(site), "--out", str(out)], capture_output=True, text=True)
    if completed.returncode != 0:
        return {"failed": completed.stderr[-2000:]}
    result = json.loads(out.read_text())
    for label, part in result["parts"].items():
        print(f"  {label:48} {part['seconds']:6.2f} s ({part['calls']} calls), {part['rss_before_mb']:,} MB before,"
              f" {part['peak_mb']:,} MB peak", flush=True)  # fmt: skip
    return result


def progress_phases(stderr: str, wall: float) -> dict:
    from build_benchmark import _phases

    return _phases(stderr, wall)


#: What the in-process breakdown times: (module, owner or None, function, label). A target that
#: does not exist (the code moved) is left out, and the breakdown says which.
BREAKDOWN = (
    ("modelgov.stages.evaluation", "EvaluationStage", "compute", "evaluation (metrics, intervals, fairness)"),
    ("modelgov.stages.explanation", "ExplanationStage", "compute", "explanation (error slices)"),
    ("modelgov.stages.monitoring", "MonitoringStage", "compute", "monitoring"),
    ("modelgov.monitoring.report", None, "plan_column", "monitoring: reference read, profiled, planned"),
    ("modelgov.monitoring.report", None, "_scan", "monitoring: log scan (DuckDB)"),
    ("modelgov.monitoring.report", None, "window_drift", "monitoring: drift statistics"),
    ("modelgov.render.site", None, "render_site", "pages and MkDocs"),
)


def run_breakdown(workspace: Path, site: Path) -> dict:
    """One ``modelgov build -q -j 1`` in this process, with the seconds and resident memory of its
    parts (:data:`BREAKDOWN`): RSS is sampled every 10 ms by a thread, so a part's peak is the
    largest sample while it ran (nested parts share their parent's samples)."""
    import functools
    import importlib
    import re
    import threading

    def rss() -> float:
        return int(re.search(r"VmRSS:\s+(\d+)", Path("/proc/self/status").read_text()).group(1)) / 1024

    peak = {"now": 0.0}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak["now"] = max(peak["now"], rss())
            time.sleep(0.01)

    started = time.perf_counter()
    from modelgov.cli import main

    parts: dict[str, dict] = {}
    missing = []

    def timed(function, label: str):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            part = parts.setdefault(label, {"calls": 0, "seconds": 0.0, "rss_before_mb": 0.0, "peak_mb": 0.0})
            before, began = rss(), time.perf_counter()
            outer, peak["now"] = peak["now"], before
            try:
                return function(*args, **kwargs)
            finally:
                part["calls"] += 1
                part["seconds"] += time.perf_counter() - began
                part["rss_before_mb"] = max(part["rss_before_mb"], before)
                part["peak_mb"] = max(part["peak_mb"], peak["now"], rss())
                peak["now"] = max(outer, peak["now"])

        return wrapper

    for module_name, owner_name, name, label in BREAKDOWN:
        try:
            owner = importlib.import_module(module_name)
            owner = getattr(owner, owner_name) if owner_name else owner
            setattr(owner, name, timed(getattr(owner, name), label))
        except (ImportError, AttributeError):
            missing.append(f"{module_name}.{owner_name + '.' if owner_name else ''}{name}")
    imported = time.perf_counter() - started
    threading.Thread(target=sample, daemon=True).start()
    main(["build", str(workspace), "-o", str(site), "--no-cache", "-q", "-j", "1"])
    done.set()
    return {
        "wall_s": round(time.perf_counter() - started, 2),
        "imports_before_build_s": round(imported, 2),
        "parts": {
            k: {
                **v,
                "seconds": round(v["seconds"], 2),
                "rss_before_mb": round(v["rss_before_mb"]),
                "peak_mb": round(v["peak_mb"]),
            }
            for k, v in parts.items()
        },
        "not_found": missing,
    }


def source_tree() -> dict:
    """The modelgov commit measured, and how many of its source files differ from it."""
    repo = HERE.parent
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True)
    status = subprocess.run(
        ["git", "-C", str(repo), "status", "--porcelain", "--", "src"], capture_output=True, text=True
    )
    return {"commit": commit.stdout.strip() or None, "src_files_changed_or_new": len(status.stdout.splitlines())}


def machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "?")
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    memory = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), "0")  # fmt: skip
    return {
        "nproc": int(nproc) if nproc.isdigit() else os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(int(memory) / 1024**2, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference-rows", type=int, default=1_000_000)
    parser.add_argument("--log-rows", type=int, default=1_000_000)
    parser.add_argument("--eval-rows", type=int, default=10_000)
    parser.add_argument("--weeks", type=int, default=4, help="weekly windows the log spans")
    parser.add_argument("--big-log-rows", type=int, help="also build a workspace with a log this long (modelgov only)")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1], help="modelgov build -j values to run")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds (A, B per round)")
    parser.add_argument("--data", type=Path, default=Path("/tmp/modelgov-drift-build-benchmark"))
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--side", choices=["evidently", "breakdown"], help=argparse.SUPPRESS)
    parser.add_argument("--workspace", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--site", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--reference", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--log", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--html", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.side == "evidently":  # Evidently's side, in its own process and Python
        args.out.write_text(json.dumps(run_evidently(args.reference, args.log, args.html)))
        return
    if args.side == "breakdown":
        args.out.write_text(json.dumps(run_breakdown(args.workspace, args.site)))
        return

    version = evidently_version()
    if version is None:
        return
    if not (Path(GNU_TIME).is_file() and os.access(GNU_TIME, os.X_OK)):
        print(f"skipping: {GNU_TIME} (GNU time) is needed to measure peak memory")
        return

    def workspace_for(log_rows: int) -> Path:
        name = f"ref{args.reference_rows}-log{log_rows}-eval{args.eval_rows}-weeks{args.weeks}"
        started = time.perf_counter()
        folder = generate(args.data / name, args.reference_rows, log_rows, args.eval_rows, args.weeks)
        print(f"workspace {folder} ({time.perf_counter() - started:.1f} s)", flush=True)
        return folder

    workspace = workspace_for(args.log_rows)
    reference, log = workspace / "data" / "reference.parquet", workspace / "data" / "log.parquet"
    load = {"start": os.getloadavg()}
    builds: dict[int, list[dict]] = {j: [] for j in args.jobs}
    reports: list[dict] = []
    manifest: dict = {}
    with tempfile.TemporaryDirectory(prefix="modelgov-drift-build-benchmark-") as tmp:
        scratch = Path(tmp)
        for round_ in range(1, args.repeat + 1):
            for jobs in args.jobs:
                run = run_build(workspace, scratch, jobs)
                manifest = run.pop("manifest")
                run.pop("stderr")
                builds[jobs].append(run)
                print(
                    f"round {round_}: modelgov -j {jobs}: {run['wall_s']:.1f} s, {run['peak_rss_mb']:,} MB", flush=True
                )
            report = run_report(reference, log, scratch)
            reports.append(report)
            print(f"round {round_}: Evidently: {report['wall_s']:.1f} s, {report['peak_rss_mb']:,} MB", flush=True)
        load["after_interleaved"] = os.getloadavg()

        # where modelgov's time goes: one more build, with its progress lines
        verbose = run_build(workspace, scratch, args.jobs[0], quiet=False)
        lines = [line for line in verbose["stderr"].splitlines() if line.startswith("[")]
        progress = {
            "jobs": args.jobs[0],
            "wall_s": verbose["wall_s"],
            "peak_rss_mb": verbose["peak_rss_mb"],
            "phases_s": progress_phases(verbose["stderr"], verbose["wall_s"]),
            "lines": lines,
        }
        print("progress of one build (not -q):", *lines, sep="\n  ", flush=True)
        progress["breakdown"] = breakdown(workspace, scratch)

        big = None
        if args.big_log_rows:
            big_workspace = workspace_for(args.big_log_rows)
            big_runs = []
            for round_ in range(1, args.repeat + 1):
                run = run_build(big_workspace, scratch, args.jobs[0])
                windows = latest_window(run.pop("manifest"))
                run.pop("stderr")
                big_runs.append(run)
                print(f"{args.big_log_rows:,}-record log, round {round_}: {run['wall_s']:.1f} s,"
                      f" {run['peak_rss_mb']:,} MB", flush=True)  # fmt: skip
            big = {"log_rows": args.big_log_rows, "jobs": args.jobs[0], "windows": windows["count"],
                   **summary(big_runs), "under_600_mb": max(r["peak_rss_mb"] for r in big_runs) < 600}  # fmt: skip
        load["end"] = os.getloadavg()

    theirs = summary(reports)
    sides, ratios = {}, {}
    for jobs, runs in builds.items():
        ours = sides[f"modelgov_j{jobs}"] = summary(runs)
        ratios[f"modelgov_j{jobs}"] = {
            "wall_best": round(theirs["best_wall_s"] / ours["best_wall_s"], 1),
            "wall_median": round(theirs["median_wall_s"] / ours["median_wall_s"], 1),
            # Evidently ÷ modelgov within each interleaved round
            "wall_per_round": [round(r["wall_s"] / b["wall_s"], 1) for r, b in zip(reports, runs, strict=True)],
            "peak_rss": round(theirs["peak_rss_mb"] / ours["peak_rss_mb"], 1),
        }
    windows = latest_window(manifest)
    agree = agreement(manifest, reports[-1])
    result = {
        "source": source_tree(),
        "machine": {**machine(), "load_average": {k: [round(x, 2) for x in v] for k, v in load.items()}},
        "versions": {"evidently": version, "evidently_pandas": reports[-1]["pandas"]},
        "workspace": {
            "reference_rows": args.reference_rows,
            "log_rows": args.log_rows,
            "eval_rows": args.eval_rows,
            "numeric_features": len(NUMERIC),
            "categorical_features": len(CATEGORICAL),
            "windows": windows["count"],
            "window_rows": windows["rows"],
        },
        "repeat": args.repeat,
        "evidently": {
            **theirs,
            "phases_s_fastest": min(reports, key=lambda r: r["wall_s"])["phases_s"],
            "html_mb": reports[-1]["html_mb"],
        },
        **sides,
        "ratios_evidently_over_modelgov": ratios,
        "modelgov_progress": progress,
        "big_log": big,
        "verdicts": agree,
    }

    print(f"\n{result['machine']['nproc']} × {result['machine']['cpu']}; load average {load}")
    print(f"{args.reference_rows:,}-record reference, {args.log_rows:,}-record log ({windows['count']} windows),"
          f" {args.eval_rows:,}-record evaluation; {args.repeat} interleaved rounds")  # fmt: skip
    print(f"{'':18} {'best wall':>10} {'median':>8} {'worst':>8} {'spread':>7} {'peak':>9}")
    for name, s in [("Evidently (HTML)", theirs), *((f"modelgov -j {n[-1]}", s) for n, s in sides.items())]:
        print(f"{name:18} {s['best_wall_s']:>9.1f}s {s['median_wall_s']:>7.1f}s {s['worst_wall_s']:>7.1f}s"
              f" {s['wall_spread']:>6.0%} {s['peak_rss_mb']:>6,} MB")  # fmt: skip
    for name, r in ratios.items():
        print(f"Evidently ÷ {name}: wall {r['wall_best']}× best, {r['wall_median']}× median"
              f" (per round {r['wall_per_round']}), peak memory {r['peak_rss']}×")  # fmt: skip
    if big:
        print(f"{big['log_rows']:,}-record log: best {big['best_wall_s']:.1f} s, median {big['median_wall_s']:.1f} s,"
              f" peak {big['peak_rss_mb']:,} MB ({'<' if big['under_600_mb'] else '≥'} 600 MB)")  # fmt: skip
    print(f"verdicts agree {agree['agree']}/{agree['compared']} (latest window, {agree['window_rows']:,} records,"
          f" against Evidently on the whole log); drifted: {', '.join(agree['drifted_modelgov'])}")  # fmt: skip
    for c, v in agree["columns"].items():
        if not v["agree"]:
            print(f"    {c}: {v}")
    print("modelgov phases (one build with progress lines):", progress["phases_s"])
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
