"""Benchmark: reports per minute on the local pool and on a 2-worker Dask LocalCluster.

Runs the same N district reports (default 50: the sample's 19 districts taken
cyclically, each cycle writing into its own output folder) in the same run:

* on :class:`~coverage_analysis.report.pool.LocalPool` with 2 worker processes;
* on :class:`~coverage_analysis.report.dask_pool.DaskPool` over a
  ``distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True)``
  started beforehand (its start is timed and printed, not counted: a cluster outlives
  a batch).

Both time the executor from its first task to its last result: starting the workers
and their warm kernels, running and exporting every notebook. ``--repeat R`` (default 3)
alternates the two executors R times (local, dask, local, dask, ...) on the same cluster
and compares medians, so that a change of load during the run does not land on one side. The shared report
context is computed once before either (as ``run_reports`` does). Prints reports per
minute for each, the Dask overhead (target <= 10 %), the scheduler's round-trip per
task (from no-op tasks), and a **projection** of the wall time of a national batch of
about 220 reports on 2, 16 and 64 workers:

    projected(W) = fixed + ceil(220 / W) * per_report + 220 * per_task

``per_report`` is the median seconds one report took inside a warm Dask worker,
``fixed`` the measured Dask wall time not explained by the reports
(``wall - sum(report seconds) / 2``: kernel start, plugin, tail), ``per_task`` the
scheduler's round-trip per task, counted serially (conservative). It assumes one core
per worker and a shared filesystem that keeps up; it is a projection, not a
measurement.

Usage: ``.venv/bin/python benchmarks/bench_dask.py [--reports N] [--repeat R] [--formats html,pdf] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from coverage_analysis import config
from coverage_analysis.reference import district_ids
from coverage_analysis.report.kernel_runner import Task
from coverage_analysis.report.params import validate_params
from coverage_analysis.report.pool import LocalPool
from coverage_analysis.report.runner import CACHE_DIRNAME, _precompute, build_tasks
from coverage_analysis.report.sections import CACHE_ENV

#: Seed of the sample data set.
SEED = 2016
#: Workers of both executors.
WORKERS = 2
#: Alternating runs per executor (median kept): on this machine two runs of the same
#: batch, minutes apart, differed by up to 40 % (79.4 and 119.1 s), so a median of two
#: (their mean) could land a whole outlier on one side; a median of three cannot.
REPEAT = 3
#: Target: the Dask executor's extra wall time over the local pool's, as a share.
TARGET_OVERHEAD = 0.10
#: Reports of a national batch (216 districts, regions and the overview) projected.
NATIONAL_REPORTS = 220
#: Worker counts of the projection.
PROJECTED_WORKERS = (2, 16, 64)
#: Dask setting of the workers' statistical profiler (off in this benchmark's cluster).
PROFILE_SETTING = "distributed.worker.profile.enabled"
#: No-op tasks timed for the scheduler's round-trip per task.
NOOP_TASKS = 200


def prepare(folder: Path) -> Path:
    """Write and clean the sample data set; returns the processed folder."""
    from coverage_analysis.clean import clean_folder
    from coverage_analysis.sample import write_sample

    raw, processed = folder / "raw", folder / "processed"
    write_sample(raw, seed=SEED)
    clean_folder(raw, processed)
    return processed


def district_tasks(processed: Path, out: Path, n: int, formats: tuple[str, ...]) -> list[Task]:
    """``n`` district report tasks: the 19 districts cyclically, cycle ``c`` in ``out/c``."""
    ids = district_ids()
    params = validate_params(ids, "en", formats)
    tasks: list[Task] = []
    for cycle in range(math.ceil(n / len(ids))):
        folder = out / f"cycle{cycle}"
        (folder / "notebooks").mkdir(parents=True, exist_ok=True)
        built = build_tasks(params, processed, folder, config.notebooks_dir(), folder / "fig")
        for task in built:
            if task.district_id is not None and len(tasks) < n:
                tasks.append(dataclasses.replace(task, name=f"{task.name}_c{cycle}"))
    return tasks


def noop(x: int) -> int:
    """A task that does nothing (the scheduler's round-trip)."""
    return x


def ok_count(results: dict) -> int:
    """Reports of a batch that came out ok."""
    return sum(r["status"] == "ok" for r in results.values())


def timed_batch(label: str, pool: object, tasks: list, walls: list[float]) -> dict:
    """Run ``tasks`` on ``pool``, append the wall time to ``walls``, print one line."""
    started = time.perf_counter()
    results = pool.run(tasks)  # type: ignore[attr-defined]
    walls.append(time.perf_counter() - started)
    print(
        f"{label} ({WORKERS} workers) {walls[-1]:.1f} s, {ok_count(results)}/{len(tasks)} ok",
        flush=True,
    )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=50, help="district reports (50)")
    parser.add_argument(
        "--repeat", type=int, default=REPEAT, help=f"alternating runs per side ({REPEAT})"
    )
    parser.add_argument("--formats", default="html,pdf", help="export formats (html,pdf)")
    parser.add_argument("--keep", help="keep outputs in this folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    import dask
    from distributed import Client, LocalCluster

    from coverage_analysis.report.dask_pool import DaskPool

    # the in-process scheduler logs every connection at INFO (and a closing comm's
    # traceback at shutdown): not this benchmark's business
    logging.getLogger("distributed").setLevel(logging.ERROR)
    formats = tuple(f for f in args.formats.split(",") if f)
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-dask-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"preparing the sample data set in {folder} ...", flush=True)
    processed = prepare(folder)
    cache = processed / CACHE_DIRNAME
    _precompute(processed, validate_params(None), cache)  # once, for both (not timed)
    env = {CACHE_ENV: str(cache), "MPLBACKEND": "Agg"}
    cwd = config.notebooks_dir()

    # the workers' statistical profiler samples the task thread every 10 ms: no use for
    # minute-long notebook tasks, and it competes with the export for the GIL
    dask.config.set({PROFILE_SETTING: False})
    started = time.perf_counter()
    cluster = LocalCluster(
        n_workers=WORKERS,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    print(
        f"LocalCluster start ({WORKERS} workers, not counted): {time.perf_counter() - started:.1f} s"
    )
    local_walls: list[float] = []
    dask_walls: list[float] = []
    try:
        started = time.perf_counter()
        client.gather(client.map(noop, range(NOOP_TASKS), pure=False))
        per_task = (time.perf_counter() - started) / NOOP_TASKS
        for run in range(args.repeat):
            local_tasks = district_tasks(processed, folder / f"local{run}", args.reports, formats)
            pool = LocalPool(WORKERS, cwd=cwd, env=env)
            local = timed_batch(f"run {run + 1}: local pool", pool, local_tasks, local_walls)
            dask_tasks = district_tasks(processed, folder / f"dask{run}", args.reports, formats)
            pool = DaskPool(client, cwd=cwd, env=env)
            remote = timed_batch(f"run {run + 1}: dask LocalCluster", pool, dask_tasks, dask_walls)
    finally:
        client.close()
        cluster.close()
    local_wall, dask_wall = statistics.median(local_walls), statistics.median(dask_walls)
    print(
        f"medians of {args.repeat} alternating runs: local pool {local_wall:.1f} s, "
        f"dask {dask_wall:.1f} s; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )

    n = len(local_tasks)
    overhead = dask_wall / local_wall - 1
    verdict = "meets" if overhead <= TARGET_OVERHEAD else "misses"
    print(
        f"reports per minute: local pool {60 * n / local_wall:.1f}, dask {60 * n / dask_wall:.1f}; "
        f"dask overhead {100 * overhead:+.1f} % ({verdict} the target "
        f"{100 * TARGET_OVERHEAD:.0f} %); {os.cpu_count()} cores"
    )
    seconds = [float(r["seconds"]) for r in remote.values() if r["status"] == "ok"]
    per_report = statistics.median(seconds) if seconds else float("nan")
    local_seconds = [float(r["seconds"]) for r in local.values() if r["status"] == "ok"]
    if local_seconds:
        print(
            f"per report (median, inside the worker): local pool "
            f"{statistics.median(local_seconds):.2f} s, dask {per_report:.2f} s"
        )
    fixed = max(0.0, dask_wall - sum(seconds) / WORKERS)
    print(
        f"measured: {per_report:.2f} s per report in a warm Dask worker (median), "
        f"{1000 * per_task:.1f} ms scheduler round-trip per task, {fixed:.1f} s fixed"
    )
    for workers in PROJECTED_WORKERS:
        projected = (
            fixed + math.ceil(NATIONAL_REPORTS / workers) * per_report + NATIONAL_REPORTS * per_task
        )
        print(
            f"projection (not a measurement): {NATIONAL_REPORTS} reports on {workers:>2} workers "
            f"~ {projected / 60:.1f} min"
        )
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if ok_count(local) == ok_count(remote) == n else 1


if __name__ == "__main__":
    sys.exit(main())
