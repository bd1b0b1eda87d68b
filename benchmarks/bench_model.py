"""Benchmark: one full coverage-model fit at 19 and at 216 districts, the HDFE
solver against the dense solver it replaced, in the same process.

"One full fit" is ``fit_coverage_model(panel)`` with its defaults: the decay
profiled over the grid, the re-profiled CV3 jackknife, the randomisation test
(199 permutations), the wild score bootstrap (999 draws), the placebo leads and
the other estimand beside (``sensitivity=True``) -- about 3,300 PPML fits on a
216-district panel. The panels are synthetic (``models.simulate``): East
Kazakhstan's 19 districts, and the republic's 216 districts x 28 months of
:func:`~coverage_analysis.models.simulate.simulate_national_panel`.

The baseline is the same code with the pre-change solvers swapped in
(:func:`coverage_analysis.models._ppml.dense_reference`: the dense Newton solve of
all k + G + T - 1 coefficients and the dense dummy design of ``partial_out``), every
jackknife replicate run to convergence (no few-step replicates on large panels).
The two fits must agree: the largest relative difference over every number of
the result is printed (about 1e-8 at 19 districts; at 216 the jackknife replicates
are two Newton steps from the full fit, :data:`~coverage_analysis.models.coverage.JACKKNIFE_STEPS`,
so about 1e-6). The load average is printed before and after. Each side runs :data:`REPEATS` times,
alternating, and the median is kept (216 districts: the dense side once unless
``--repeat``). Target (issue 11): one fit on all districts in at most 5 s.

A second baseline is this release's code with the jackknife replicates fitted one by
one (``coverage.BATCH_REPLICATES = False``) instead of stepped together
(:mod:`coverage_analysis.models._replicates`); it alternates with the new code, and the
ratio and the largest difference (order of floating-point sums) are printed.

Run: ``.venv/bin/python benchmarks/bench_model.py [--repeat N] [--districts N ...]``
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import pandas as pd

from coverage_analysis.models import _ppml, coverage, fit_coverage_model
from coverage_analysis.models.simulate import simulate_national_panel, simulate_panel

#: Runs of each side at the sample size (median kept).
REPEATS = 3
#: Seed of the synthetic panels.
SEED = 1
#: Panel sizes timed by default: the region and the republic.
DISTRICTS: tuple[int, ...] = (19, 216)
#: Target wall time of one full fit on all districts (issue 11), seconds.
TARGET_SECONDS = 5.0
#: Runs of the dense baseline at national size (about 25 s each).
NATIONAL_BASELINE_REPEATS = 1


def _panel(n_districts: int) -> pd.DataFrame:
    if n_districts == 19:
        return simulate_panel("effect", seed=SEED)
    return simulate_national_panel("effect", seed=SEED, n_districts=n_districts)


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}/{k}"))
        return out
    if isinstance(value, list):
        out = {}
        for i, v in enumerate(value):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


def largest_difference(new: dict[str, Any], old: dict[str, Any]) -> tuple[float, str]:
    """Largest ``|a - b| / max(1, |b|)`` over the numbers of two result
    dictionaries (timings excluded); ``inf`` when anything else differs."""
    a, b = _flatten(new), _flatten(old)
    if a.keys() != b.keys():
        return math.inf, "keys differ"
    worst, where = 0.0, ""
    for key, va in a.items():
        if key.endswith("seconds"):
            continue
        vb = b[key]
        if isinstance(va, float) and isinstance(vb, float):
            diff = abs(va - vb) / max(1.0, abs(vb))
        else:
            diff = 0.0 if va == vb else math.inf
        if diff > worst:
            worst, where = diff, key
    return worst, where


def _timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall and CPU seconds of ``fn()`` (CPU time shows contention from other processes)."""
    started, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - started, time.process_time() - cpu, out


def bench(n_districts: int, repeats: int, baseline_repeats: int) -> dict[str, Any]:
    """Time one full fit with the HDFE and the dense solver on one panel."""
    panel = _panel(n_districts)

    def new() -> Any:
        return fit_coverage_model(panel)

    def one_by_one() -> Any:
        # this release's code with the jackknife replicates fitted one by one instead of
        # stepped together (models/_replicates.py): the change's own baseline
        saved = coverage.BATCH_REPLICATES
        coverage.BATCH_REPLICATES = False
        try:
            return fit_coverage_model(panel)
        finally:
            coverage.BATCH_REPLICATES = saved

    def dense() -> Any:
        # the solver before: dense Newton solve, every jackknife replicate run to convergence
        saved = coverage.FEW_STEP_MIN_CLUSTERS
        coverage.FEW_STEP_MIN_CLUSTERS = math.inf
        try:
            with _ppml.dense_reference():
                return fit_coverage_model(panel)
        finally:
            coverage.FEW_STEP_MIN_CLUSTERS = saved

    t_new, t_old, c_new, c_old, t_one = [], [], [], [], []
    res_new = res_old = res_one = None
    for i in range(max(repeats, baseline_repeats)):
        if i < repeats:
            t, c, res_new = _timed(new)
            t_new.append(t)
            c_new.append(c)
            t, _c, res_one = _timed(one_by_one)
            t_one.append(t)
        if i < baseline_repeats:
            t, c, res_old = _timed(dense)
            t_old.append(t)
            c_old.append(c)
    diff, where = largest_difference(res_new.to_dict(), res_old.to_dict())
    diff_one, _where = largest_difference(res_new.to_dict(), res_one.to_dict())
    return {
        "districts": panel["district_id"].nunique(),
        "months": panel["month"].nunique(),
        "hdfe_s": statistics.median(t_new),
        "dense_s": statistics.median(t_old),
        "hdfe_cpu_s": statistics.median(c_new),
        "dense_cpu_s": statistics.median(c_old),
        "one_by_one_s": statistics.median(t_one),
        "one_by_one_diff": diff_one,
        "max_rel_diff": diff,
        "where": where,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=REPEATS, help="runs per side (median)")
    parser.add_argument("--districts", type=int, nargs="+", default=list(DISTRICTS))
    args = parser.parse_args(argv)
    rows = []
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    for n in args.districts:
        base = args.repeat if n <= 19 else min(args.repeat, NATIONAL_BASELINE_REPEATS)
        r = bench(n, args.repeat if n <= 19 else max(1, args.repeat), base)
        rows.append(r)
        print(
            f"{r['districts']:>4} districts x {r['months']} months: "
            f"HDFE {r['hdfe_s']:6.2f} s, dense {r['dense_s']:6.2f} s, "
            f"ratio HDFE/dense {r['hdfe_s'] / r['dense_s']:.3f} "
            f"(CPU {r['hdfe_cpu_s']:.2f} s / {r['dense_cpu_s']:.2f} s = "
            f"{r['hdfe_cpu_s'] / r['dense_cpu_s']:.3f}), "
            f"largest relative difference {r['max_rel_diff']:.1e} ({r['where']})",
            flush=True,
        )
        print(
            f"      replicates stepped together {r['hdfe_s']:.2f} s vs one by one "
            f"{r['one_by_one_s']:.2f} s: ratio {r['hdfe_s'] / r['one_by_one_s']:.3f}, "
            f"largest relative difference {r['one_by_one_diff']:.1e}",
            flush=True,
        )
    if len(rows) > 1:
        small, large = rows[0], rows[-1]
        print(
            f"growth {small['districts']} -> {large['districts']} districts: "
            f"HDFE x{large['hdfe_s'] / small['hdfe_s']:.1f}, "
            f"dense x{large['dense_s'] / small['dense_s']:.1f}"
        )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    largest = rows[-1]
    verdict = "meets" if largest["hdfe_s"] <= TARGET_SECONDS else "MISSES"
    print(
        f"target: one fit on {largest['districts']} districts <= {TARGET_SECONDS:g} s: "
        f"{largest['hdfe_s']:.2f} s, {verdict} (timed on a shared machine: see the ratio)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
