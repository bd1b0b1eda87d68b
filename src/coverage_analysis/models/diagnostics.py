"""Diagnostics of a fitted coverage model: overdispersion, leave-one-district-out
stability of the slope, the largest cells' influence on the slope (and the
estimate without them), residuals by month, channel collinearity, the
out-of-sample (rolling-origin) check of the carry-over, and a two-part view
of amounts.

>>> from coverage_analysis.models.simulate import simulate_panel
>>> from coverage_analysis.models.coverage import fit_coverage_model
>>> panel = simulate_panel("null", seed=3)
>>> diag = diagnostics(panel, fit_coverage_model(panel, n_boot=99, n_perm=99, decay=0.4))
>>> len(diag["leave_one_district_out"]["by_district"]), len(diag["residuals_by_month"])
(19, 28)
>>> len(diag["influence"]["largest_cells"]) == INFLUENCE_CELLS
True
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from coverage_analysis.models import _ppml
from coverage_analysis.models._data import prepare_panel
from coverage_analysis.models.channels import channel_collinearity
from coverage_analysis.models.coverage import (
    LN2,
    CoverageModelResult,
    make_design,
    percent,
    search_decay,
)

log = logging.getLogger(__name__)

#: A leave-one-district-out slope further than this (in CR1 standard errors)
#: from the full-sample slope marks an influential district.
INFLUENCE_SE = 1.0
#: Cells (district-months) listed by their influence on the slope.
INFLUENCE_CELLS = 5
#: The estimate is refitted without this many most influential cells.
INFLUENCE_DROP = 3


def leave_one_district_out(panel: pd.DataFrame, result: CoverageModelResult) -> dict[str, Any]:
    """The slope refitted without each district in turn (same decay)."""
    prep = prepare_panel(panel, result.outcome)
    index = prep.index(result.decay)
    rows = prep.usable(result.decay)
    full = result.coverage_effect["beta"]
    se = result.coverage_effect.get("beta_se_cv3", float("nan"))
    out = []
    for i, dist in enumerate(prep.districts):
        sub = rows.copy()
        sub[i] = False
        des = make_design(prep, [index], sub, result.estimand)
        if len(des.y) == 0:
            continue
        fit = _ppml.fit_ppml_fe(
            des.y, des.x, des.d, des.m, des.offset, name=f"fit without district {dist}"
        )
        b = float(fit.beta[0]) / LN2
        out.append(
            {
                "district_id": dist,
                "beta": b,
                "estimate": percent(b),
                "change": b - full,
                "influential": bool(np.isfinite(se) and abs(b - full) > INFLUENCE_SE * se),
            }
        )
    betas = np.array([r["beta"] for r in out])
    return {
        "full_beta": full,
        "min_beta": float(betas.min()) if len(betas) else float("nan"),
        "max_beta": float(betas.max()) if len(betas) else float("nan"),
        "sign_changes": int(np.sum(np.sign(betas) != np.sign(full))),
        "influential": [r["district_id"] for r in out if r["influential"]],
        "by_district": out,
    }


def influence(result: CoverageModelResult) -> dict[str, Any]:
    """The district-months with the largest influence on the slope (one-step
    approximation ``x~ (y - mu) / information``, log2 scale), and the slope
    refitted without the ``INFLUENCE_DROP`` most influential ones."""
    prep, des, fit = result._prep, result._design, result._fit
    if prep is None or des is None or fit is None:
        return {}
    keep = fit.keep
    mu = fit.mu[keep]
    xt = _ppml.partial_out(
        des.x[keep, 0], np.zeros((int(keep.sum()), 0)), des.d[keep], des.m[keep], mu
    )
    info = float(np.sum(mu * xt * xt))
    if info <= 0:
        return {}
    delta = xt * (des.y[keep] - mu) / info / LN2
    pearson = (des.y[keep] - mu) / np.sqrt(mu)
    order = np.argsort(-np.abs(delta))
    rows = np.nonzero(keep)[0]
    cells = []
    for j in order[:INFLUENCE_CELLS]:
        cells.append(
            {
                "district_id": prep.districts[int(des.d[rows[j]])],
                "month": prep.months[int(des.m[rows[j]])].strftime("%Y-%m"),
                "slope_change_if_dropped": -float(delta[j]),
                "pearson_residual": float(pearson[j]),
            }
        )
    drop = np.ones(len(des.y), dtype=bool)
    drop[rows[order[:INFLUENCE_DROP]]] = False
    sub = _ppml.fit_ppml_fe(
        des.y[drop],
        des.x[drop],
        des.d[drop],
        des.m[drop],
        des.offset[drop],
        name=f"fit without the {INFLUENCE_DROP} most influential district-months",
    )
    b = float(sub.beta[0]) / LN2
    return {
        "full_beta": result.coverage_effect["beta"],
        "largest_cells": cells,
        "n_dropped": INFLUENCE_DROP,
        "beta_without_largest": b,
        "estimate_without_largest": percent(b),
        "note": (
            f"one-step influence of each district-month on the slope; the slope refitted without "
            f"the {INFLUENCE_DROP} most influential ones shows how much a few cells drive it"
        ),
    }


def residuals_by_month(result: CoverageModelResult) -> list[dict[str, Any]]:
    """Mean and spread of Pearson residuals per month (month effects make the
    raw residuals sum to zero each month; the Pearson spread shows surges
    that the model fits worse)."""
    prep, des, fit = result._prep, result._design, result._fit
    if prep is None or des is None or fit is None:
        return []
    keep = fit.keep
    r = (des.y[keep] - fit.mu[keep]) / np.sqrt(fit.mu[keep])
    months = des.m[keep]
    out = []
    for t, mth in enumerate(prep.months):
        sel = months == t
        out.append(
            {
                "month": mth.strftime("%Y-%m"),
                "n": int(sel.sum()),
                "mean_pearson_residual": float(r[sel].mean()) if sel.any() else None,
                "sd_pearson_residual": float(r[sel].std()) if sel.sum() > 1 else None,
            }
        )
    return out


def two_part_amounts(panel: pd.DataFrame, decay: float) -> dict[str, Any]:
    """Two-part view of amounts (diagnostic): slope of P(amount > 0) (logit
    with district and month effects, a linear probability slope as fallback)
    and of log2 amount among positive amounts (OLS with both effects; slope =
    elasticity per doubling, comparable to the PPML ``beta``)."""
    prep = prepare_panel(panel, "amount_kzt")
    rows = prep.usable(decay) & (prep.population > 0)
    index = prep.index(decay)
    g, t = prep.shape
    d = np.repeat(np.arange(g), t).reshape(g, t)
    m = np.tile(np.arange(t), g).reshape(g, t)
    y = prep.y
    out: dict[str, Any] = {"decay": decay, "share_zero": float(np.mean(y[rows] == 0))}
    pos = rows & (y > 0)
    if pos.sum() > g + t + 2:
        z, _, _ = _ppml._design(index[pos][:, None], d[pos], m[pos])
        coef, *_ = np.linalg.lstsq(z, np.log2(y[pos]), rcond=None)
        out["log2_amount_if_positive_slope"] = float(coef[0])
    any_zero = rows & (y == 0)
    if any_zero.sum() >= 5:
        z, _, _ = _ppml._design(index[rows][:, None], d[rows], m[rows])
        coef, *_ = np.linalg.lstsq(z, (y[rows] > 0).astype(float), rcond=None)
        out["p_positive_linear_slope"] = float(coef[0])
    out["note"] = "diagnostic only; inference is on the PPML model of the amount itself"
    return out


def diagnostics(panel: pd.DataFrame, result: CoverageModelResult) -> dict[str, Any]:
    """Overdispersion, leave-one-district-out slopes, influential cells,
    residuals by month, channel collinearity, the decay profile and its
    out-of-sample check (and the two-part view for amounts)."""
    prep = result._prep if result._prep is not None else prepare_panel(panel, result.outcome)
    oos_decay, oos_table = search_decay(prep, estimand=result.estimand)
    out: dict[str, Any] = {
        "outcome": result.outcome,
        "estimand": result.estimand,
        "decay": result.decay,
        "overdispersion": result.overdispersion,
        "leave_one_district_out": leave_one_district_out(panel, result),
        "influence": influence(result),
        "residuals_by_month": residuals_by_month(result),
        "channel_collinearity": channel_collinearity(prep, result.decay),
        "decay_search": result.decay_search,
        "decay_out_of_sample": {
            "best_decay": oos_decay,
            "table": oos_table,
            "note": (
                "rolling origin over the last months, past data only (unknown months filled from "
                "earlier months); a check beside the grid average, not used for inference"
            ),
        },
    }
    if result.outcome == "amount_kzt":
        out["two_part"] = two_part_amounts(panel, result.decay)
    return out
