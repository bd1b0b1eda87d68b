"""Held-out pilot that chose the coverage model's primary p-value and placebo flag.

Runs :func:`~coverage_analysis.models.coverage.fit_coverage` and
:func:`~coverage_analysis.models.coverage.infer_coverage` (slope averaged over
the decay grid, as in real use) on the PILOT seeds (``validate_model.py``'s seeds
plus 1,000,000, never the validation's), both simulators, both estimands,
scenarios (a) null, (b) reverse and (c) effect at beta = 0.5, and tabulates
every candidate rule side by side:

- main test: CV3 jackknife t with ``t(G*-1)`` (effective clusters) or
  ``t(G-1)`` (MacKinnon, Nielsen & Webb's choice), the randomisation test, the
  wild cluster score bootstrap and the wild cluster restricted bootstrap of the
  linearised CV3 t (``wcr_cv3_bootstrap``); size at 5% and 10%, detection,
  interval coverage;
- placebo flag: joint Wald of both leads with Hotelling's F at ``G*-1`` or
  ``G-1`` degrees of freedom; flags under (b), false flags under (a).

The rule (fixed before the pilot was run): the primary p-value is the method
with the smallest largest size over the four simulator x estimand cells (5%,
then 10%), power only among equals; the placebo flag is the test
with the smallest largest false-flag rate, then the largest smallest flag rate.

Usage: ``python benchmarks/pilot_model_rules.py --panels 100 --jobs 2``
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))

from validate_model import SEED_OFFSET, make_panel

from coverage_analysis.errors import CoverageAnalysisError
from coverage_analysis.models import inference as inf
from coverage_analysis.models.coverage import ESTIMANDS, LN2, fit_coverage, infer_coverage

#: Offset of the pilot seeds (the validation uses offset 0).
PILOT_OFFSET = 1_000_000
#: True slope of scenario (c).
BETA = 0.5
#: Main-test candidates: column -> label.
MAIN = {
    "p_cv3_gs": "CV3 t(G*-1)",
    "p_cv3_g1": "CV3 t(G-1)",
    "p_rand": "randomisation",
    "p_wild": "wild score bootstrap",
    "p_wcr": "WCR of linearised CV3 t",
}
#: Placebo candidates: column -> label.
PLACEBO = {"pl_gs": "joint Wald, F with G*-1", "pl_g1": "joint Wald, F with G-1"}


def one(args: tuple[str, str, int]) -> list[dict]:
    """Every candidate's p-value on one panel, for both estimands."""
    sim, scenario, seed = args
    panel = make_panel(sim, scenario, seed, BETA)
    out = []
    for est in ESTIMANDS:
        rec: dict = {"sim": sim, "scenario": scenario, "seed": seed, "estimand": est}
        try:
            cf = fit_coverage(panel, estimand=est)
            res = infer_coverage(cf, seed=seed, placebo=scenario != "effect")
        except (CoverageAnalysisError, ValueError, ArithmeticError) as exc:
            rec["error"] = str(exc)
            out.append(rec)
            continue
        e = res.coverage_effect
        g, g_star = e.n_clusters, e.effective_clusters
        b, se = e.beta * LN2, e.beta_se_cv3 * LN2
        rec.update(
            beta=e.beta,
            se=e.beta_se_cv3,
            g=g,
            g_star=g_star,
            p_cv3_gs=inf.cv3_interval(b, se, g, 0.95, inf.t_dof(g, g_star))[2],
            p_cv3_g1=inf.cv3_interval(b, se, g, 0.95, g - 1)[2],
            p_rand=e.p_values["randomisation"],
            p_wild=e.p_values["wild_score_bootstrap"],
            p_wcr=e.p_values["wcr_cv3_bootstrap"],
        )
        if res.placebo_jackknife is not None:
            rec["pl_gs"] = res.placebo_p_joint
            rec["pl_g1"] = inf.joint_wald(res.placebo_betas, res.placebo_jackknife.cov(), g - 1)
        out.append(rec)
    return out


def report(frame: pd.DataFrame) -> None:
    """The candidates' size, detection, coverage and placebo flags per cell."""
    for (sim, est), sub in frame.groupby(["sim", "estimand"], sort=False):
        null = sub[sub["scenario"] == "null"]
        eff = sub[sub["scenario"] == "effect"]
        rev = sub[sub["scenario"] == "reverse"]
        print(f"\n{sim} / {est}: {len(null)}, {len(rev)}, {len(eff)} panels (a, b, c)")
        for col, label in MAIN.items():
            print(
                f"  {label:26s} size {np.mean(null[col] < 0.05):5.1%} / "
                f"{np.mean(null[col] < 0.10):5.1%}, detection "
                f"{np.mean((eff[col] < 0.05) & (eff['beta'] > 0)):5.1%}"
            )
        for name, dof in (
            ("G*-1", (eff["g_star"] - 1).clip(1, None).clip(None, eff["g"] - 1)),
            ("G-1", eff["g"] - 1),
        ):
            q = stats.t.ppf(0.975, dof)
            cover = np.abs(eff["beta"] - BETA) <= q * eff["se"]
            print(f"  interval coverage t({name}) {cover.mean():5.1%}")
        for col, label in PLACEBO.items():
            print(
                f"  placebo {label:24s} flags {np.mean(rev[col] < 0.05):5.1%}, false flags "
                f"{np.mean(null[col] < 0.05):5.1%}"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--panels", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--scenarios", default="null,reverse,effect")
    parser.add_argument("--csv", default=None, help="write the per-panel p-values here")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    tasks = [
        (sim, scenario, PILOT_OFFSET + SEED_OFFSET[scenario] + s)
        for s in range(args.panels)
        for sim in ("internal", "independent")
        for scenario in args.scenarios.split(",")
    ]
    with Pool(args.jobs) as pool:
        rows = [r for batch in pool.imap(one, tasks, chunksize=2) for r in batch]
    frame = pd.DataFrame(rows)
    if args.csv:
        frame.to_csv(args.csv, index=False)
    report(frame)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
