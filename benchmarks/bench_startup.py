"""Benchmark: how fast the package starts.

Measured in the same run, each the median of ``--repeat`` fresh processes:

* baselines: ``python -c pass`` (the interpreter) and ``python -c "import pandas"``;
* ``coverage-analysis --help`` (target <= 0.3 s): the CLI imports nothing heavy;
* ``python -c "import coverage_analysis.report.runner"`` (target <= 1.5 s): no Jupyter
  server, JupyterLab or statsmodels in the report process;
* a warm worker's time to its first notebook: a fresh process runs the batch runner's
  worker start (Jupyter kernel with warm imports, export stack) and then its first
  district notebook (execute + HTML export), the report context already cached on disk
  as in a batch.

Prints each time and its ratio to ``python -c pass``. On a shared machine the absolute
numbers move with the load; the ratios less so.

Usage: ``.venv/bin/python benchmarks/bench_startup.py [--repeat 5] [--processed DIR]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
#: Target seconds of ``coverage-analysis --help``.
HELP_TARGET = 0.3
#: Target seconds of importing the batch runner.
RUNNER_TARGET = 1.5
#: Code run in a fresh process to time a worker's start and its first notebook.
WORKER_CODE = """
import json, os, sys, time
t0 = time.perf_counter()
from pathlib import Path
from coverage_analysis.report import runner
from coverage_analysis.report.params import validate_params
processed, out = Path(sys.argv[1]), Path(sys.argv[2])
params = validate_params(["ayagoz"], "en", ("html",), None, None, 1)
tasks = runner.build_tasks(params, processed, out, runner.config.notebooks_dir(), None)
task = [t for t in tasks if t.district_id == "ayagoz"][0]
env = {"COVERAGE_ANALYSIS_REPORT_CACHE": str(processed / runner.CACHE_DIRNAME), "MPLBACKEND": "Agg"}
os.environ.update(env)
from coverage_analysis.report.kernel_runner import NotebookRunner
from coverage_analysis.report.worker import _warm_imports
worker = NotebookRunner(cwd=str(out))
worker.start(while_booting=_warm_imports)
t1 = time.perf_counter()
result = worker.run(task)
t2 = time.perf_counter()
worker.close()
print(json.dumps({"start": t1 - t0, "first": t2 - t1, "total": t2 - t0, "status": result["status"]}))
"""


def timed(cmd: list[str], repeat: int) -> float:
    """Median wall-clock seconds of ``cmd`` run ``repeat`` times (must succeed)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def prepare(folder: Path) -> Path:
    """Sample -> clean -> panel, and the report context cached as a batch caches it."""
    from coverage_analysis.clean import clean_folder
    from coverage_analysis.panel import write_panel
    from coverage_analysis.sample import write_sample

    raw, processed = folder / "raw", folder / "processed"
    write_sample(raw, seed=2016)
    clean_folder(raw, processed)
    write_panel(processed)
    warm_cache(processed)
    return processed


def warm_cache(processed: Path) -> None:
    """Cache the report context on disk as a batch does before its workers start."""
    import os

    from coverage_analysis.report import context
    from coverage_analysis.report.runner import CACHE_DIRNAME

    os.environ[context.CACHE_ENV] = str(processed / CACHE_DIRNAME)
    context.load_context(processed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per measure (median)")
    parser.add_argument("--processed", help="an existing processed folder (else the sample)")
    args = parser.parse_args(argv)
    py = str(BIN / "python")
    base = timed([py, "-c", "pass"], args.repeat)
    pandas = timed([py, "-c", "import pandas"], args.repeat)
    helps = timed([str(BIN / "coverage-analysis"), "--help"], args.repeat)
    runner = timed([py, "-c", "import coverage_analysis.report.runner"], args.repeat)
    rows = [
        ("python -c pass (baseline)", base, None),
        ('python -c "import pandas" (baseline)', pandas, None),
        ("coverage-analysis --help", helps, HELP_TARGET),
        ("import coverage_analysis.report.runner", runner, RUNNER_TARGET),
    ]
    for name, seconds, target in rows:
        verdict = (
            ""
            if target is None
            else f"  target <= {target} s: {'meets' if seconds <= target else 'misses'}"
        )
        print(
            f"{name:45s} {seconds:6.3f} s  x{seconds / base:5.1f} of python -c pass{verdict}",
            flush=True,
        )

    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        if args.processed:
            processed = Path(args.processed)
            warm_cache(processed)
        else:
            processed = prepare(Path(tmp))
        out = Path(tmp) / "out"
        (out / "notebooks").mkdir(parents=True)
        done = subprocess.run(
            [py, "-c", WORKER_CODE, str(processed), str(out)],
            check=True,
            capture_output=True,
            text=True,
        )
        worker = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"warm worker: start (kernel + warm imports) {worker['start']:.2f} s, first notebook "
        f"{worker['first']:.2f} s, total {worker['total']:.2f} s  x{worker['total'] / base:5.1f} "
        f"of python -c pass; status {worker['status']}"
    )
    return 0 if worker["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
