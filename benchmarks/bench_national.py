"""Benchmark: the republic at scale (issue 11's targets), each step in its own process.

1. ``coverage-analysis sample --scope national --rows N`` writes a synthetic republic
   whose publication registries hold about N rows (default 10,000,000); timed, no target.
2. ``coverage-analysis clean --scope national``: wall time and the process's peak
   resident memory (targets <= 120 s, <= 8 GB).
3. The panel (``write_panel``) and the district and region indicators from the cleaned
   tables (target <= 10 s together).
4. One full fit of the coverage model on all districts (decay, interval, randomisation
   test, placebo), single-threaded BLAS (target <= 5 s); then the pooled model with the
   per-region association beside it (``models.national.fit_national_model``), reported
   without a target.
5. Reports per minute for 50 district reports on the local pool and on a 2-worker
   ``distributed.LocalCluster`` in the same run, the Dask overhead (target <= 10 %) and
   the projected wall time of the full national batch (about 220 reports) on 2, 16 and
   64 workers: ``benchmarks/bench_dask.py``, which says how the projection is made. It
   is a projection from measured per-report and per-task times, not a measurement.
   Before it, the model summary and four reports of the benchmark republic itself (the
   overview, East Kazakhstan's region report, two district reports) with the CLI: wall time
   and peak memory, no target.

Steps 2-4 run in fresh Python processes so that each peak memory is that step's own
(``resource.getrusage(RUSAGE_SELF).ru_maxrss`` printed by the step itself).

Usage::

    .venv/bin/python benchmarks/bench_national.py [--rows N] [--keep DIR] [--skip-reports]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

#: Registry rows of the benchmark republic.
DEFAULT_ROWS = 10_000_000
#: Targets of issue 11 on a 2-core machine.
TARGET_CLEAN_SECONDS = 120.0
TARGET_CLEAN_GB = 8.0
TARGET_PANEL_SECONDS = 10.0
TARGET_FIT_SECONDS = 5.0
BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent

#: Code run in a fresh process; it prints one JSON line with its timings and peak memory.
STEP_CODE = {
    "clean": """
        from coverage_analysis.clean import clean_folder
        t = time.perf_counter()
        result = clean_folder(RAW, PROCESSED, scope="national")
        out["seconds"] = time.perf_counter() - t
        out["summary"] = result.summary_text().splitlines()[0]
    """,
    "panel": """
        from coverage_analysis.metrics import district_indicators
        from coverage_analysis.metrics.republic import region_indicators
        from coverage_analysis.panel import write_panel
        from coverage_analysis.tables import analysis_tables
        import pandas as pd
        t = time.perf_counter()
        write_panel(PROCESSED, scope="national")
        out["panel_seconds"] = time.perf_counter() - t
        panel = pd.read_parquet(PROCESSED / "panel.parquet")
        t2 = time.perf_counter()
        ind = district_indicators(analysis_tables(PROCESSED), panel=panel)
        regions = region_indicators(ind)
        out["indicator_seconds"] = time.perf_counter() - t2
        out["seconds"] = time.perf_counter() - t
        out["districts"] = int(len(ind))
        out["regions"] = int(len(regions))
        out["panel_rows"] = int(len(panel))
    """,
    "model": """
        from threadpoolctl import threadpool_limits
        import pandas as pd
        from coverage_analysis import config
        from coverage_analysis.models import fit_coverage_model
        from coverage_analysis.models.national import fit_national_model
        config.activate_scope("national")
        panel = pd.read_parquet(PROCESSED / "panel.parquet")
        with threadpool_limits(1):
            t = time.perf_counter(); c = time.process_time()
            res = fit_coverage_model(panel, outcome="applications")
            out["seconds"] = time.perf_counter() - t
            out["cpu_seconds"] = time.process_time() - c
            out["districts"] = int(res.n_clusters)
            out["estimate"] = res.to_dict().get("coverage_effect", {}).get("estimate")
            t = time.perf_counter()
            nat = fit_national_model(panel)
            out["national_seconds"] = time.perf_counter() - t
            out["region_rows"] = int(len(nat.table)) - 1
    """,
}


def run_step(name: str, raw: Path, processed: Path) -> dict[str, object]:
    """Run one step in a fresh process; returns what it printed (plus its peak memory)."""
    code = "\n".join(
        [
            "import json, resource, time",
            "from pathlib import Path",
            f"RAW = Path({str(raw)!r}); PROCESSED = Path({str(processed)!r})",
            "out = {}",
            textwrap.dedent(STEP_CODE[name]),
            "out['peak_gb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2",
            "print('RESULT ' + json.dumps(out))",
        ]
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise SystemExit(f"step {name} failed ({proc.returncode}): " + " | ".join(tail))
    return json.loads(lines[-1].removeprefix("RESULT "))


def national_reports(processed: Path, out: Path) -> None:
    """The model summary and four reports of the benchmark republic itself (the overview, one
    region, two districts) with the CLI, as an analyst runs them: wall time and the largest
    peak memory of any of its processes (no target; the per-minute rates come from
    ``bench_dask.py``, on the region's sample)."""
    env = {**os.environ, "COVERAGE_ANALYSIS_SCOPE": "national", "MPLBACKEND": "Agg"}
    cli = str(BIN / "coverage-analysis")
    started = time.perf_counter()
    subprocess.run([cli, "model", "--processed", str(processed)], check=True, env=env,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    model_seconds = time.perf_counter() - started
    # run through a fresh Python whose only child is the report command: its
    # RUSAGE_CHILDREN peak is the largest process of the batch (this process's also
    # counts the clean step's)
    measure = (
        "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
        "print('PEAK_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
        "sys.exit(r.returncode)"
    )
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", measure, cli, "report", "--processed", str(processed), "--out",
         str(out), "--figures", str(out / "figures"), "--region", "east_kazakhstan",
         "--district", "ayagoz", "--district", "karaganda__abay"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    peak = [ln.split()[1] for ln in proc.stdout.splitlines() if ln.startswith("PEAK_KB ")]
    peak_gb = int(peak[-1]) / 1024**2 if peak else float("nan")
    summary = next((ln for ln in proc.stdout.splitlines() if "report(s)" in ln), proc.stderr[-300:])
    print(
        f"national reports on this republic: model summary {model_seconds:.1f} s; overview, "
        f"one region and two districts (HTML + PDF) {seconds:.1f} s, {summary.strip()}; "
        f"largest process peak {peak_gb:.2f} GB (no target)",
        flush=True,
    )


def verdict(value: float, target: float) -> str:
    return "meets" if value <= target else "MISSES"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="registry rows (10M)")
    parser.add_argument("--keep", help="keep the data in this folder")
    parser.add_argument("--skip-reports", action="store_true", help="skip step 5")
    parser.add_argument("--reports", type=int, default=50, help="district reports of step 5")
    args = parser.parse_args(argv)
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-national-"))
    raw, processed = folder / "raw", folder / "processed"
    shutil.rmtree(raw, ignore_errors=True)
    shutil.rmtree(processed, ignore_errors=True)
    print(f"{os.cpu_count()} cores; data in {folder}", flush=True)

    started = time.perf_counter()
    subprocess.run(
        [str(BIN / "coverage-analysis"), "sample", "--scope", "national", "--rows",
         str(args.rows), "--raw", str(raw)],
        check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    size = sum(p.stat().st_size for p in raw.rglob("*") if p.is_file())
    print(
        f"sample: {args.rows:,} registry rows, {size / 1e9:.2f} GB of files, "
        f"written in {time.perf_counter() - started:.1f} s (no target)",
        flush=True,
    )

    clean = run_step("clean", raw, processed)
    print(
        f"clean: {clean['seconds']:.1f} s ({verdict(clean['seconds'], TARGET_CLEAN_SECONDS)} "
        f"<= {TARGET_CLEAN_SECONDS:.0f} s), peak {clean['peak_gb']:.2f} GB "
        f"({verdict(clean['peak_gb'], TARGET_CLEAN_GB)} <= {TARGET_CLEAN_GB:.0f} GB); "
        f"{clean['summary']}",
        flush=True,
    )
    panel = run_step("panel", raw, processed)
    print(
        f"panel + indicators: {panel['seconds']:.1f} s "
        f"({verdict(panel['seconds'], TARGET_PANEL_SECONDS)} <= {TARGET_PANEL_SECONDS:.0f} s; "
        f"panel {panel['panel_seconds']:.1f} s, indicators {panel['indicator_seconds']:.1f} s), "
        f"{panel['panel_rows']:,} panel rows, {panel['districts']} districts, "
        f"{panel['regions']} regions, peak {panel['peak_gb']:.2f} GB",
        flush=True,
    )
    model = run_step("model", raw, processed)
    print(
        f"one full model fit on {model['districts']} districts: {model['seconds']:.1f} s wall, "
        f"{model['cpu_seconds']:.1f} s CPU, one BLAS thread "
        f"({verdict(model['seconds'], TARGET_FIT_SECONDS)} <= {TARGET_FIT_SECONDS:.0f} s); "
        f"pooled + {model['region_rows']} regions (models.national): "
        f"{model['national_seconds']:.1f} s (no target)",
        flush=True,
    )
    status = 0
    if not args.skip_reports:
        national_reports(processed, folder / "reports")
        print("reports (benchmarks/bench_dask.py):", flush=True)
        sys.path.insert(0, str(HERE))
        import bench_dask

        status = bench_dask.main(["--reports", str(args.reports)])
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
