"""Benchmark: load the cleaned tables, build the panel, compute the district indicators.

Two synthetic processed folders are written under ``benchmarks/_work/`` by this
script (nothing is downloaded), with the same generator:

- ``sample``: sample-sized, the 19 districts of East Kazakhstan and
  :data:`SAMPLE_ROWS` publications (the sample data set's order of magnitude);
- ``national``: :data:`NATIONAL_DISTRICTS` districts (a user's own district
  reference, via ``COVERAGE_ANALYSIS_DISTRICTS``) and :data:`NATIONAL_ROWS`
  publications.

When the package's sample generator and cleaner are installed, the real
sample (``write_sample`` + ``clean_folder``) is timed too. Every timing is the
best of :data:`REPEATS` runs (one run at national scale); the growth ratio is
national time / sample time measured in the same run.

The national data is timed twice: text columns as Python strings (the default) and
as ``category`` (``load_tables(..., categorical=True)``). ``from_folder_s`` is
``district_indicators(folder)``, the way the package's commands load a folder (categories,
no titles or URLs: ``load_tables(..., categorical=True, free_text=False)``).

Run: ``.venv/bin/python benchmarks/bench_panel.py [--rows N] [--districts N] [--keep]``
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from coverage_analysis import domain
from coverage_analysis.metrics import district_indicators
from coverage_analysis.panel import build_panel
from coverage_analysis.reference import DISTRICTS_ENV, load_districts
from coverage_analysis.tables import load_tables

log = logging.getLogger("bench_panel")

#: Work folder of the benchmark (ignored by git).
WORK = Path(__file__).resolve().parent / "_work"
#: Publications of the sample-sized data set (the sample holds a few thousand).
SAMPLE_ROWS = 3_000
#: Districts and publications of the national-scale data set.
NATIONAL_DISTRICTS = 200
NATIONAL_ROWS = 10_000_000
#: Runs per timing on the sample-sized data (best is kept).
REPEATS = 5
#: Seed of the synthetic data.
SEED = 2016
#: Share of district-months that no registry covers.
UNREPORTED_SHARE = 0.05
#: Share of publications whose reach is unknown.
UNKNOWN_REACH_SHARE = 0.2
#: Channel mix of the synthetic publications.
CHANNEL_SHARE = np.array([30, 14, 7, 20, 14, 3, 1, 3, 3, 1, 1, 2, 1], dtype=float)


def _reference(n_districts: int, folder: Path) -> Path:
    """A district reference CSV: the real one, or ``n_districts`` synthetic districts."""
    real = load_districts()
    if n_districts == len(real):
        frame = real
    else:
        rng = np.random.default_rng(SEED)
        ids = [f"d{i:03d}" for i in range(n_districts)]
        frame = pd.DataFrame(
            {
                "district_id": ids,
                "kind": "district",
                "name_ru": ids,
                "name_kk": ids,
                "name_en": ids,
                "center_ru": ids,
                "population_2016": rng.integers(10_000, 400_000, n_districts),
                "population_note": "synthetic",
                "lat": 0.0,
                "lon": 0.0,
            }
        )
    path = folder / "districts.csv"
    frame.to_csv(path, index=False)
    return path


def make_processed(folder: Path, n_districts: int, n_rows: int, seed: int = SEED) -> Path:
    """Write a synthetic processed folder (publications, registry coverage, legalization,
    media plan, social reach) and its district reference; returns the reference path."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    ref_path = _reference(n_districts, folder)
    ids = pd.read_csv(ref_path)["district_id"].astype(str).to_numpy()
    pop = pd.read_csv(ref_path)["population_2016"].to_numpy(dtype=float)
    months = domain.campaign_months()
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()

    all_ids = np.append(ids, domain.REGION_ID)
    weights = np.append(pop, pop.sum() * 0.1)
    district = rng.choice(len(all_ids), size=n_rows, p=weights / weights.sum())
    month = rng.integers(0, len(months), n_rows)
    channel = rng.choice(len(domain.CHANNELS), size=n_rows, p=CHANNEL_SHARE / CHANNEL_SHARE.sum())
    reach = pd.array(rng.integers(10, 50_000, n_rows), dtype="Int64")
    reach[rng.random(n_rows) < UNKNOWN_REACH_SHARE] = pd.NA
    languages = np.array([*domain.LANGUAGES, None], dtype=object)
    formats = np.array(domain.FORMATS, dtype=object)
    pubs = pd.DataFrame(
        {
            "material_id": np.arange(n_rows, dtype=np.int64),
            "month": months.to_numpy()[month],
            "district_id": pd.Categorical.from_codes(district, categories=all_ids),
            "channel": pd.Categorical.from_codes(channel, categories=list(domain.CHANNELS)),
            "reach": reach,
            "language": pd.Categorical(
                languages[rng.integers(0, 4, n_rows)], categories=list(domain.LANGUAGES)
            ),
            "format": pd.Categorical.from_codes(
                rng.choice(4, size=n_rows, p=[0.75, 0.1, 0.05, 0.1]), categories=list(formats)
            ),
            "source_file": pd.Categorical.from_codes(
                district, categories=[f"{d}.xlsx" for d in all_ids]
            ),
            "source_sheet": "Лист1",
            "source_row": rng.integers(2, 500, n_rows),
        }
    )
    pubs["month"] = pubs["month"].dt.date  # the cleaner writes dates and plain strings
    for col in ("district_id", "channel", "language", "format", "source_file"):
        pubs[col] = pubs[col].astype(object)
    pubs.to_parquet(folder / "publications.parquet", index=False)
    del pubs

    grid = pd.MultiIndex.from_product([ids, months], names=["district_id", "month"]).to_frame(
        index=False
    )
    covered = grid.loc[rng.random(len(grid)) >= UNREPORTED_SHARE]
    covered.assign(source_file=covered["district_id"] + ".xlsx", source_sheet="Лист1").to_parquet(
        folder / "registry_coverage.parquet", index=False
    )
    grid.assign(
        applications=pd.array(rng.poisson(5, len(grid)), dtype="Int64"),
        amount_kzt=rng.lognormal(16, 1, len(grid)),
    ).to_parquet(folder / "legalization.parquet", index=False)
    plan = pd.concat([grid.assign(channel=c) for c in ("print", "tv", "online")], ignore_index=True)
    plan.assign(
        planned=rng.integers(0, 5, len(plan)).astype(float), actual_reported=np.nan
    ).to_parquet(folder / "media_plan.parquet", index=False)
    grid.assign(
        platform="facebook",
        posts=rng.poisson(3, len(grid)),
        users_reached=rng.poisson(500, len(grid)),
    ).to_parquet(folder / "social_reach.parquet", index=False)
    log.info(
        "wrote %s (%d districts, %d publications) in %.1f s",
        folder,
        n_districts,
        n_rows,
        time.perf_counter() - t0,
    )
    return ref_path


def _best(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def time_folder(
    folder: Path, reference: Path | None, repeats: int, categorical: bool = False
) -> dict[str, float]:
    """Best times (s) of load_tables, build_panel and district_indicators on ``folder``."""
    if reference is not None:
        os.environ[DISTRICTS_ENV] = str(reference)
    else:
        os.environ.pop(DISTRICTS_ENV, None)
    t_load, tables = _best(lambda: load_tables(folder, categorical=categorical), repeats)
    t_panel, panel = _best(lambda: build_panel(tables), repeats)
    t_ind, _ = _best(lambda: district_indicators(tables, panel=panel), repeats)
    t_all, _ = _best(
        lambda: district_indicators(load_tables(folder, categorical=categorical)), repeats
    )
    # the folder itself, as the package's commands load it (categories, no titles or URLs)
    t_folder, _ = _best(lambda: district_indicators(folder), repeats)
    n_pubs = 0 if tables.publications is None else len(tables.publications)
    return {
        "publications": n_pubs,
        "panel_rows": len(panel),
        "load_s": t_load,
        "panel_s": t_panel,
        "indicators_s": t_ind,
        "end_to_end_s": t_all,
        "from_folder_s": t_folder,
    }


def real_sample(work: Path) -> Path | None:
    """The package's own sample, cleaned, when the generator and cleaner are installed."""
    try:
        from coverage_analysis.clean import clean_folder
        from coverage_analysis.sample import write_sample
    except ImportError as exc:
        log.warning("real sample skipped (%s)", exc)
        return None
    raw, processed = work / "real_raw", work / "real_processed"
    for f in (raw, processed):
        if f.exists():
            shutil.rmtree(f)
    write_sample(raw, seed=SEED)
    clean_folder(raw, processed)
    return processed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=NATIONAL_ROWS, help="national publications")
    parser.add_argument(
        "--districts", type=int, default=NATIONAL_DISTRICTS, help="national districts"
    )
    parser.add_argument("--keep", action="store_true", help="keep benchmarks/_work afterwards")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    log.setLevel(logging.INFO)
    WORK.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, float]] = {}
    try:
        real = real_sample(WORK)
        if real is not None:
            results["real sample"] = time_folder(real, None, REPEATS)
        ref = make_processed(WORK / "sample", len(load_districts()), SAMPLE_ROWS)
        results["synthetic sample"] = time_folder(WORK / "sample", ref, REPEATS)
        ref = make_processed(WORK / "national", args.districts, args.rows)
        results["national"] = time_folder(WORK / "national", ref, 1)
        results["national, categorical"] = time_folder(WORK / "national", ref, 1, categorical=True)
    finally:
        os.environ.pop(DISTRICTS_ENV, None)
        if not args.keep:
            shutil.rmtree(WORK, ignore_errors=True)
    table = pd.DataFrame(results).T
    base = results["synthetic sample"]
    timed = ("load_s", "panel_s", "indicators_s", "end_to_end_s", "from_folder_s")
    sys.stdout.write(table.to_string(float_format=lambda v: f"{v:,.3f}") + "\n")
    big = results["national"]
    sys.stdout.write(
        f"data growth: publications x{big['publications'] / base['publications']:,.0f}, "
        f"panel rows x{big['panel_rows'] / base['panel_rows']:,.1f}\n"
    )
    for name in ("national", "national, categorical"):
        growth = ", ".join(f"{k} x{results[name][k] / base[k]:,.0f}" for k in timed)
        sys.stdout.write(f"time growth ({name} / synthetic sample): {growth}\n")
    load = os.getloadavg()[0]
    sys.stdout.write(f"load average at the end: {load:.1f} on {os.cpu_count()} CPUs\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
