"""Benchmark: the full report batch (region + diagnostics + 19 districts, HTML + PDF).

Compares, in the same run and on the same processed sample folder:

* ``run_reports(..., jobs=2)``: worker processes with long-lived kernels, the shared
  context (tables, panel, model fit) computed once and cached;
* a plain sequential loop doing the same work per notebook the usual way:
  ``papermill`` (command line, fresh kernel), ``jupyter nbconvert --to html --no-input``
  (command line), then the same WeasyPrint call on that HTML.

Prints both wall-clock times, their ratio (target <= 0.15 on 2 cores) and the time per
notebook of each. The baseline's papermill runs the templates' own ``python3`` kernelspec
(no ``-k``), as a user would.

Usage: ``.venv/bin/python benchmarks/bench_report.py [--districts N] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from coverage_analysis import config
from coverage_analysis.reference import district_ids
from coverage_analysis.report import run_reports, sections
from coverage_analysis.report.export import html_to_pdf
from coverage_analysis.report.runner import CACHE_DIRNAME

#: Seed of the sample data set.
SEED = 2016
#: Target ratio of the batch runner's time to the sequential baseline's.
TARGET_RATIO = 0.15
BIN = Path(sys.executable).parent


def prepare(folder: Path) -> Path:
    """Write and clean the sample data set; returns the processed folder."""
    from coverage_analysis.clean import clean_folder
    from coverage_analysis.sample import write_sample

    raw, processed = folder / "raw", folder / "processed"
    write_sample(raw, seed=SEED)
    clean_folder(raw, processed)
    return processed


def baseline(
    processed: Path, out: Path, districts: list[str], notebooks: Path, shared_cache: bool = False
) -> float:
    """Sequential papermill + nbconvert + WeasyPrint per notebook; returns seconds.
    ``shared_cache``: the notebooks may reuse the cached report context (isolates the
    gain of the long-lived kernels from the gain of computing the shared work once)."""
    out.mkdir(parents=True, exist_ok=True)
    runs = [("region_overview", "region_overview.ipynb", None)]
    runs.append(("model_diagnostics", "model_diagnostics.ipynb", None))
    runs += [(f"district_{d}", "district_report.ipynb", d) for d in districts]
    env = {k: v for k, v in os.environ.items() if k != sections.CACHE_ENV}
    if shared_cache:
        env[sections.CACHE_ENV] = str(processed / CACHE_DIRNAME)
    env["MPLBACKEND"] = "Agg"
    started = time.perf_counter()
    for name, notebook, district in runs:
        executed = out / f"{name}.ipynb"
        cmd = [
            str(BIN / "papermill"),
            str(notebooks / notebook),
            str(executed),
            "--cwd",
            str(notebooks),
            "--no-progress-bar",
            "-p",
            "processed_dir",
            str(processed),
            "-p",
            "lang",
            "en",
            "-p",
            "figures_dir",
            str(out / "figures"),
        ]
        if district is not None:
            cmd += ["-p", "district_id", district]
        subprocess.run(cmd, check=True, env=env, capture_output=True)
        subprocess.run(
            [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(executed)],
            check=True,
            env=env,
            capture_output=True,
        )
        html = executed.with_suffix(".html")
        html_to_pdf(html.read_text(encoding="utf-8"), html.with_suffix(".pdf"))
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--districts", type=int, default=19, help="number of districts (19)")
    parser.add_argument("--keep", help="keep outputs in this folder")
    parser.add_argument(
        "--also-cached-baseline",
        action="store_true",
        help="also time the baseline with the shared context cache warm",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # the lab CSS of the baseline
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-report-"))
    folder.mkdir(parents=True, exist_ok=True)
    districts = district_ids()[: args.districts]
    notebooks = config.notebooks_dir()
    print(f"preparing the sample data set in {folder} ...", flush=True)
    processed = prepare(folder)

    shutil.rmtree(processed / CACHE_DIRNAME, ignore_errors=True)  # the batch pays its fit too
    started = time.perf_counter()
    manifest = run_reports(
        processed,
        folder / "batch",
        districts=districts,
        jobs=2,
        lang="en",
        formats=("html", "pdf"),
        figures_dir=folder / "batch" / "figures",
    )
    batch = time.perf_counter() - started
    print(
        f"run_reports (jobs=2): {batch:.1f} s, {manifest.summary_text().splitlines()[0]}",
        flush=True,
    )

    shutil.rmtree(processed / CACHE_DIRNAME, ignore_errors=True)
    plain = baseline(processed, folder / "baseline", districts, notebooks)
    print(f"sequential papermill + nbconvert + weasyprint: {plain:.1f} s", flush=True)
    ratio = batch / plain
    verdict = "meets" if ratio <= TARGET_RATIO else "misses"
    n = len(districts) + 2
    print(
        f"ratio {ratio:.2f} ({verdict} the target {TARGET_RATIO}); {os.cpu_count()} cores; "
        f"{n} notebooks; per notebook: batch {batch / n:.2f} s, sequential {plain / n:.2f} s"
    )
    if args.also_cached_baseline:
        os.environ[sections.CACHE_ENV] = str(processed / CACHE_DIRNAME)
        sections.load_context(processed)  # warm the shared cache once (not timed)
        os.environ.pop(sections.CACHE_ENV, None)
        cached = baseline(processed, folder / "baseline_cached", districts, notebooks, True)
        print(
            f"sequential baseline with the shared context cache warm: {cached:.1f} s; "
            f"ratio {batch / cached:.2f}",
            flush=True,
        )
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if manifest.all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
