"""District-level views: each district's own association, a what-if at the
region's median coverage, and the descriptive cross-section.

>>> from coverage_analysis.models.simulate import simulate_panel
>>> from coverage_analysis.models.coverage import fit_coverage_model
>>> panel = simulate_panel("effect", seed=2)
>>> res = fit_coverage_model(panel, n_boot=99, n_perm=99, decay=0.4, sensitivity=False)
>>> tab = district_effects(panel, result=res)
>>> tab["district_id"].iloc[-1], int((tab["status"] == "ok").sum()) >= 15
('pooled', True)
>>> w = what_if(panel, "ayagoz", res)
>>> w["status"], w["ci_low"] <= w["expected_at_median_coverage"] <= w["ci_high"]
('ok', True)
>>> cross_section(panel)["label"].startswith("descriptive")
True
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from coverage_analysis.errors import ParameterError
from coverage_analysis.models import _ppml
from coverage_analysis.models._data import prepare_panel
from coverage_analysis.models.adstock import coverage_index
from coverage_analysis.models.coverage import (
    CAVEAT,
    LEVEL,
    LN2,
    CoverageModelResult,
    fit_coverage_model,
    percent,
)

log = logging.getLogger(__name__)

#: A district needs this many usable months for its own slope.
MIN_DISTRICT_MONTHS = 12
#: ... and at least this many applications in total (counts only).
MIN_DISTRICT_OUTCOME = 10
#: ... and this much spread of its coverage index over time.
MIN_INDEX_SD = 0.05
#: Spearman's rho standard error factor on the Fisher z scale (Fieller,
#: Hartley & Pearson 1957): var(z) = 1.06 / (n - 3).
SPEARMAN_Z_VAR = 1.06

WHAT_IF_CAVEAT = (
    "What-if from an observational association, not a forecast of what more coverage would "
    "cause: it assumes the association estimated across all districts holds for this district; "
    "the interval reflects only the uncertainty of the slope (draws from its cluster-jackknife "
    "t interval), with the "
    "district's and months' levels held at their estimates."
)


def _own_fit(y: np.ndarray, c: np.ndarray, offset: np.ndarray) -> tuple[float, float, float, float]:
    """Poisson QL of one series: intercept + slope on ``c`` with ``offset``.
    Returns (slope, quasi-Poisson SE, dispersion, df)."""
    n = len(y)
    zeros = np.zeros(n, dtype=int)
    fit = _ppml.fit_ppml_fe(y, c[:, None], zeros, zeros, offset)
    mu = fit.mu
    df = n - 2
    phi = max(float(np.sum((y - mu) ** 2 / mu) / df), 1.0) if df > 0 else float("nan")
    ct = c - np.sum(mu * c) / np.sum(mu)
    info = float(np.sum(mu * ct * ct))
    se = math.sqrt(phi / info) if info > 0 else float("nan")
    return float(fit.beta[0]), se, phi, df


def district_effects(
    panel: pd.DataFrame,
    outcome: str = "applications",
    *,
    result: CoverageModelResult | None = None,
    level: float = LEVEL,
) -> pd.DataFrame:
    """Each district's own time-series slope of ``outcome`` on its coverage
    index, with the region's month effects (from the pooled model) as offset
    so that the deadlines are not credited to coverage; quasi-Poisson
    standard errors and t(n-2) intervals. Also an empirically Bayes-shrunk
    slope (partial pooling toward the pooled slope, DerSimonian-Laird
    between-district variance) and a final ``pooled`` row for the forest plot.

    ``status`` is ``ok`` or a "not enough data: ..." reason.
    """
    if result is None:
        result = fit_coverage_model(panel, outcome)
    outcome = result.outcome
    prep = prepare_panel(panel, outcome)
    decay = result.decay
    index = prep.index(decay)
    rows = prep.usable(decay)
    gamma = np.array(
        [result.month_effects.get(mth.strftime("%Y-%m"), np.nan) for mth in prep.months]
    )
    y_scale = 1.0 if outcome == "applications" else float(np.nanmean(prep.y[rows]) or 1.0)
    records: list[dict[str, Any]] = []
    for i, dist in enumerate(prep.districts):
        sel = rows[i] & np.isfinite(gamma)
        y = prep.y[i, sel] / y_scale
        c = index[i, sel]
        rec: dict[str, Any] = {"district_id": dist, "n_months": int(sel.sum())}
        status = "ok"
        if sel.sum() < MIN_DISTRICT_MONTHS:
            status = f"not enough data: {int(sel.sum())} usable months (< {MIN_DISTRICT_MONTHS})"
        elif outcome == "applications" and y.sum() < MIN_DISTRICT_OUTCOME:
            status = f"not enough data: only {int(y.sum())} applications"
        elif y.sum() <= 0:
            status = "not enough data: outcome is zero throughout"
        elif float(np.std(c)) < MIN_INDEX_SD:
            status = "not enough data: coverage hardly varies over time"
        rec["status"] = status
        if status == "ok":
            offset = np.log(prep.population[i, sel] / 10_000.0) + gamma[sel]
            beta, se, phi, df = _own_fit(y, c, offset)
            beta, se = beta / LN2, se / LN2  # report on the log2 scale
            q = stats.t.ppf(0.5 + level / 2, df)
            p = 2 * stats.t.sf(abs(beta / se), df) if se > 0 else float("nan")
            rec.update(
                beta=beta,
                se=se,
                beta_ci_low=beta - q * se,
                beta_ci_high=beta + q * se,
                p_value=float(p),
                dispersion=phi,
            )
        records.append(rec)
    table = pd.DataFrame(records)
    for col in ("beta", "se", "beta_ci_low", "beta_ci_high", "p_value", "dispersion"):
        if col not in table:
            table[col] = np.nan
    pooled = result.coverage_effect
    ok = table["status"].eq("ok") & np.isfinite(table["se"]) & (table["se"] > 0)
    b, s = table.loc[ok, "beta"].to_numpy(), table.loc[ok, "se"].to_numpy()
    tau2 = 0.0
    if ok.sum() >= 2:
        w = 1 / s**2
        mean_fe = np.sum(w * b) / np.sum(w)
        qstat = np.sum(w * (b - mean_fe) ** 2)
        tau2 = max(0.0, (qstat - (len(b) - 1)) / (np.sum(w) - np.sum(w**2) / np.sum(w)))
    shrink = tau2 / (tau2 + table["se"] ** 2)
    table["beta_shrunk"] = np.where(
        ok, pooled["beta"] + shrink * (table["beta"] - pooled["beta"]), np.nan
    )
    for col, src in (
        ("estimate", "beta"),
        ("ci_low", "beta_ci_low"),
        ("ci_high", "beta_ci_high"),
        ("estimate_shrunk", "beta_shrunk"),
    ):
        table[col] = table[src].map(lambda v: percent(v) if pd.notna(v) else np.nan)
    pooled_row = {
        "district_id": "pooled",
        "n_months": result.n_obs,
        "status": "ok",
        "beta": pooled["beta"],
        "beta_ci_low": pooled["beta_ci_low"],
        "beta_ci_high": pooled["beta_ci_high"],
        "p_value": pooled["p_value"],
        "estimate": pooled["estimate"],
        "ci_low": pooled["ci_low"],
        "ci_high": pooled["ci_high"],
        "beta_shrunk": pooled["beta"],
        "estimate_shrunk": pooled["estimate"],
    }
    table = pd.concat([table, pd.DataFrame([pooled_row])], ignore_index=True)
    table.attrs["method"] = (
        f"Per district: Poisson quasi-likelihood of its own monthly {outcome} on its coverage "
        f"index (decay {decay:g}) with the region's month effects from the pooled model as offset; "
        "quasi-Poisson standard errors, t(n-2) intervals (serial correlation not modelled). "
        f"Shrunk: partial pooling toward the pooled slope (between-district variance {tau2:.4f})."
    )
    table.attrs["effect_unit"] = result.effect_unit
    table.attrs["between_district_variance"] = tau2
    return table


def what_if(
    panel: pd.DataFrame,
    district_id: str,
    result: CoverageModelResult,
    *,
    level: float = LEVEL,
) -> dict[str, Any]:
    """Expected outcome of ``district_id`` over its modelled months had it had,
    each month, the region's median materials per 10,000 residents (median
    across districts with a report that month), against the model's expectation
    at its actual coverage; interval from draws of the slope from its
    cluster-jackknife t(G*-1) distribution.
    """
    prep = prepare_panel(panel, result.outcome)
    if district_id not in prep.districts:
        raise ParameterError(f"unknown district_id {district_id!r}")
    i = prep.districts.index(district_id)
    fit, draws = result._fit, result._draws
    out: dict[str, Any] = {
        "district_id": district_id,
        "outcome": result.outcome,
        "caveat": WHAT_IF_CAVEAT,
    }
    if fit is None or draws is None or i >= len(fit.alpha) or not np.isfinite(fit.alpha[i]):
        out["status"] = "not enough data: the district is not in the fitted model"
        return out
    decay, beta = result.decay, result.coverage_effect["beta"] * LN2  # natural-log scale
    median_x = np.nanmedian(prep.x, axis=0)
    median_x = np.where(np.isnan(median_x), np.nanmedian(prep.x), median_x)
    c_cf = coverage_index(median_x, decay)
    c_act = prep.index(decay)[i]
    gamma = np.array(
        [result.month_effects.get(mth.strftime("%Y-%m"), np.nan) for mth in prep.months]
    )
    sel = prep.known(decay)[i] & np.isfinite(gamma) & (prep.population[i] > 0)
    if not sel.any():
        out["status"] = "not enough data: no month with known coverage"
        return out
    scale = result._design.y_scale if result._design is not None else 1.0
    base = np.exp(np.log(prep.population[i, sel] / 10_000.0) + fit.alpha[i] + gamma[sel]) * scale
    expected = float(np.sum(base * np.exp(beta * c_act[sel])))
    cf = float(np.sum(base * np.exp(beta * c_cf[sel])))
    good = np.isfinite(draws)
    cf_draws = (base[None, :] * np.exp(draws[good, None] * c_cf[None, sel])).sum(axis=1)
    act_draws = (base[None, :] * np.exp(draws[good, None] * c_act[None, sel])).sum(axis=1)
    lo, hi = 50 * (1 - level), 50 * (1 + level)
    observed = prep.y[i, sel]
    out.update(
        status="ok",
        months_used=int(sel.sum()),
        first_month=prep.months[sel][0].strftime("%Y-%m"),
        last_month=prep.months[sel][-1].strftime("%Y-%m"),
        district_materials_per_10k_per_month=float(np.nanmean(prep.x[i, sel])),
        median_materials_per_10k_per_month=float(np.mean(median_x[sel])),
        observed=float(np.nansum(observed)),
        observed_months_missing=int(np.isnan(observed).sum()),
        expected_at_actual_coverage=expected,
        expected_at_median_coverage=cf,
        ci_low=float(np.percentile(cf_draws, lo)),
        ci_high=float(np.percentile(cf_draws, hi)),
        difference=cf - expected,
        difference_ci_low=float(np.percentile(cf_draws - act_draws, lo)),
        difference_ci_high=float(np.percentile(cf_draws - act_draws, hi)),
        general_caveat=CAVEAT,
    )
    return out


def cross_section(panel: pd.DataFrame, outcome: str = "applications") -> dict[str, Any]:
    """Per district over the campaign: materials per 10,000 residents per
    reported month against ``outcome`` per 10,000 residents per month with a
    known figure; Spearman's rank correlation with p-value and a Fisher-z
    interval. Descriptive only: size-free but not free of confounding."""
    prep = prepare_panel(panel, outcome)
    per10k_y = prep.y / prep.population * 10_000.0
    rows = []
    for i, dist in enumerate(prep.districts):
        x, y = prep.x[i], per10k_y[i]
        rows.append(
            {
                "district_id": dist,
                "materials_per_10k_per_month": float(np.nanmean(x))
                if np.isfinite(x).any()
                else None,
                f"{outcome}_per_10k_per_month": float(np.nanmean(y))
                if np.isfinite(y).any()
                else None,
                "months_reported": int(np.isfinite(x).sum()),
            }
        )
    table = pd.DataFrame(rows)
    ycol = f"{outcome}_per_10k_per_month"
    ok = table.dropna(subset=["materials_per_10k_per_month", ycol])
    n = len(ok)
    rho = p = lo = hi = float("nan")
    if n >= 4:
        rho, p = stats.spearmanr(ok["materials_per_10k_per_month"], ok[ycol])
        rho, p = float(rho), float(p)
        if abs(rho) < 1:
            z, se = math.atanh(rho), math.sqrt(SPEARMAN_Z_VAR / (n - 3))
            q = stats.norm.ppf(0.5 + LEVEL / 2)
            lo, hi = math.tanh(z - q * se), math.tanh(z + q * se)
    return {
        "label": "descriptive: between-district rank correlation, not an effect estimate",
        "outcome": outcome,
        "spearman_rho": rho,
        "p_value": p,
        "ci_low": lo,
        "ci_high": hi,
        "n_districts": n,
        "interval_method": "Fisher z with var 1.06/(n-3) (Fieller, Hartley & Pearson 1957)",
        "districts": table.to_dict(orient="records"),
    }
