"""Validate the coverage model on simulated panels with a known truth.

Runs the full procedure (decay search, bootstrap, placebo) on ``--n`` panels
of each scenario of :func:`coverage_analysis.models.simulate_panel`:

- (a) ``null``: false-positive rate of the coverage effect (target <= 8%);
- (b) ``reverse``: how often the placebo flags reverse causality (target: most);
- (c) ``effect``: detection rate, bias and interval coverage of the true slope,
  at each true slope of ``--betas`` (a power curve: a small effect is hard to
  see in 19 districts x 28 months, and the curve says how small).

It also compares the naive pooled Poisson (no district or month effects) in
(a), and times one full fit against a plain statsmodels GLM fit of the same
panel.

Usage: ``python benchmarks/validate_model.py --n 200 --workers 2``
"""

from __future__ import annotations

import os

# one BLAS thread per worker: the matrices are small and threads only contend
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import logging
import sys
import time
from multiprocessing import Pool

import numpy as np
import pandas as pd
import statsmodels.api as sm

from coverage_analysis.models import fit_coverage_model, simulate_panel
from coverage_analysis.models._data import prepare_panel
from coverage_analysis.models.simulate import DEFAULT_BETA, DEFAULT_DECAY

log = logging.getLogger("validate_model")

#: Significance level of the tests being validated.
ALPHA = 0.05
#: Seed offset per scenario so the scenarios do not share latent draws.
SEED_OFFSET = {"null": 0, "reverse": 100_000, "effect": 200_000}


def naive_beta(panel: pd.DataFrame, decay: float) -> float:
    """Pooled Poisson of applications on the coverage index with population
    exposure only: no district effects, no month effects."""
    prep = prepare_panel(panel, "applications")
    rows = prep.usable(decay)
    c = prep.index(decay)[rows]
    exog = sm.add_constant(c)
    fit = sm.GLM(
        prep.y[rows], exog, family=sm.families.Poisson(), offset=np.log(prep.population[rows])
    ).fit()
    return float(fit.params[1])


def one_run(args: tuple[str, int, int, float | None, float]) -> dict[str, float]:
    scenario, seed, n_boot, decay, beta = args
    kwargs = {"beta": beta} if scenario == "effect" else {}
    panel = simulate_panel(scenario, seed=SEED_OFFSET[scenario] + seed, **kwargs)
    res = fit_coverage_model(panel, n_boot=n_boot, seed=seed, decay=decay)
    e = res.coverage_effect
    out = {
        "beta": e["beta"],
        "lo": e["beta_ci_low"],
        "hi": e["beta_ci_high"],
        "p": e["p_value"],
        "p_fixed": e["p_value_fixed_decay"],
        "placebo_flag": float(res.placebo_flagged),
        "decay": res.decay,
        "seconds": res.seconds,
    }
    if scenario == "null":
        out["naive_beta"] = naive_beta(panel, DEFAULT_DECAY)
    return out


def time_one_fit(n_boot: int, repeats: int = 5) -> tuple[float, float]:
    """Seconds of one full fit and of one plain statsmodels GLM of the same panel."""
    panel = simulate_panel("effect", seed=1)
    t0 = time.perf_counter()
    for _ in range(repeats):
        fit_coverage_model(panel, n_boot=n_boot)
    full = (time.perf_counter() - t0) / repeats
    prep = prepare_panel(panel, "applications")
    rows = prep.usable(DEFAULT_DECAY)
    g, t = prep.shape
    frame = pd.DataFrame(
        {
            "y": prep.y[rows],
            "c": prep.index(DEFAULT_DECAY)[rows],
            "d": np.repeat(np.arange(g), t).reshape(g, t)[rows].astype(str),
            "m": np.tile(np.arange(t), g).reshape(g, t)[rows].astype(str),
        }
    )
    exog = sm.add_constant(pd.get_dummies(frame[["c", "d", "m"]], drop_first=True, dtype=float))
    off = np.log(prep.population[rows])
    t0 = time.perf_counter()
    for _ in range(repeats):
        sm.GLM(frame["y"], exog, family=sm.families.Poisson(), offset=off).fit()
    glm = (time.perf_counter() - t0) / repeats
    return full, glm


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="panels per scenario (default 200)")
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--n-boot", type=int, default=999, help="bootstrap draws (default 999)")
    parser.add_argument(
        "--decay",
        type=float,
        default=None,
        help="fix the decay instead of searching it (separates inference from selection)",
    )
    parser.add_argument(
        "--betas",
        default=f"{DEFAULT_BETA},0.5,0.75",
        help=f"true slopes of scenario (c), comma-separated (default {DEFAULT_BETA},0.5,0.75)",
    )
    args = parser.parse_args(argv)
    betas = [float(b) for b in args.betas.split(",") if b.strip()]
    logging.basicConfig(level=logging.WARNING)

    started = time.perf_counter()
    results: dict[str, pd.DataFrame] = {}
    power: dict[float, pd.DataFrame] = {}
    with Pool(args.workers) as pool:
        for scenario in ("null", "reverse"):
            jobs = [(scenario, s, args.n_boot, args.decay, 0.0) for s in range(args.n)]
            results[scenario] = pd.DataFrame(pool.map(one_run, jobs, chunksize=4))
        for beta in betas:
            jobs = [("effect", s, args.n_boot, args.decay, beta) for s in range(args.n)]
            power[beta] = pd.DataFrame(pool.map(one_run, jobs, chunksize=4))
    results["effect"] = power[betas[0]]

    def rate(x: pd.Series) -> str:
        k, n = int(x.sum()), len(x)
        se = np.sqrt(max(x.mean() * (1 - x.mean()), 1e-12) / n)
        return f"{x.mean():6.1%} ({k}/{n}, +-{1.96 * se:.1%})"

    a, b = results["null"], results["reverse"]
    print(f"Validation of fit_coverage_model on {args.n} simulated panels per scenario")
    print(
        f"(bootstrap draws {args.n_boot}, true decay {DEFAULT_DECAY}, true beta in (c) "
        f"{', '.join(f'{x:g}' for x in betas)}, "
        f"decay {'searched' if args.decay is None else f'fixed at {args.decay:g}'})"
    )
    print()
    print("(a) no effect, common drivers (size, district activity, calendar)")
    print(f"    false-positive rate (p < {ALPHA})        {rate(a['p'] < ALPHA)}")
    if args.decay is None:
        print(f"    ... unadjusted for the decay search     {rate(a['p_fixed'] < ALPHA)}")
    print(f"    placebo flag rate                       {rate(a['placebo_flag'] > 0)}")
    print(
        f"    mean beta (true 0)                      {a['beta'].mean():+.3f} (sd {a['beta'].std():.3f})"
    )
    print(
        f"    naive pooled Poisson mean beta          {a['naive_beta'].mean():+.3f} (no district/month effects)"
    )
    print("(b) no effect, coverage responds to last month's applications")
    print(f"    placebo flag rate                       {rate(b['placebo_flag'] > 0)}")
    print(f"    coverage effect 'significant'           {rate(b['p'] < ALPHA)}")
    print(
        f"    significant AND placebo not flagged     {rate((b['p'] < ALPHA) & (b['placebo_flag'] == 0))}"
    )
    print(f"    mean beta (true 0)                      {b['beta'].mean():+.3f}")
    for beta, c in power.items():
        print(f"(c) effect beta = {beta:g} ({100 * (2**beta - 1):+.0f}% per doubling)")
        print(
            f"    detection rate (p < {ALPHA}, right sign)  {rate((c['p'] < ALPHA) & (c['beta'] > 0))}"
        )
        if args.decay is None:
            print(f"    ... unadjusted for the decay search     {rate(c['p_fixed'] < ALPHA)}")
        print(
            f"    wrong sign and significant              {rate((c['p'] < ALPHA) & (c['beta'] < 0))}"
        )
        print(
            f"    bias (mean beta - true)                 {c['beta'].mean() - beta:+.3f} (sd {c['beta'].std():.3f})"
        )
        cover = (c["lo"] <= beta) & (c["hi"] >= beta)
        print(f"    interval covers true beta               {rate(cover)}")
        near = (c["decay"] - DEFAULT_DECAY).abs() <= 0.2 + 1e-9
        if near.any():
            print(f"    ... when decay chosen within 0.2 of true {rate(cover[near])}")
        print(f"    placebo flag rate                       {rate(c['placebo_flag'] > 0)}")
    for name, frame in results.items():
        counts = frame["decay"].value_counts().sort_index()
        print(
            f"    decay chosen in {name:8s}: " + ", ".join(f"{k:g}: {v}" for k, v in counts.items())
        )
    print()
    full, glm = time_one_fit(args.n_boot)
    print(f"one full fit (decay search + bootstrap + placebo): {full:.3f} s")
    print(
        f"plain statsmodels Poisson GLM with dummies, one decay: {glm:.3f} s (ratio {full / glm:.1f}x)"
    )
    print(f"mean fit time in the runs: {pd.concat(results.values())['seconds'].mean():.3f} s")
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
