"""The coverage model: does more coverage go with more applications (or larger
amounts), after population, the calendar and each district's own level?

Model (Poisson quasi-likelihood, "PPML")::

    E[y_it] = population_i / 10,000 * exp(alpha_i + gamma_t) * 2 ** (beta * C_it)

with ``C_it = log2(1 + carry-over materials per 10,000 residents)`` at the
chosen ``decay`` (see :mod:`coverage_analysis.models.adstock`). So ``beta`` is
the elasticity of the expected outcome with respect to (1 + carry-over per
10,000), and ``100 * (2**beta - 1)`` is the percent change in the expected
outcome for one doubling of it (the ``estimate`` reported). District effects
``alpha_i`` absorb size and each district's own level; month effects
``gamma_t`` absorb the deadlines (Dec 2015, Nov-Dec 2016) and the rule change
of Dec 2015.

Why PPML and not NB2: PPML is consistent whenever the mean is right, whatever
the variance (overdispersed counts, heavy-tailed amounts with zeros: Santos
Silva & Tenreyro 2006), and Poisson with dummy fixed effects equals the
conditional MLE, so it has no incidental-parameter bias; NB2 with dummy
fixed effects has neither property. The overdispersion is reported (Pearson
chi2/df, NB2 moment estimate) and left to the bootstrap, which assumes no
variance function.

Inference with 19 districts: wild cluster score bootstrap (Kline & Santos
2012) with Webb six-point weights and the null imposed; the p-value tests
``beta = 0`` and the interval collects the ``beta0`` not rejected (test
inversion), so p-value and interval always agree.

>>> from coverage_analysis.models.simulate import simulate_panel
>>> panel = simulate_panel("effect", seed=1, beta=0.8, coverage_noise_sd=1.0)
>>> res = fit_coverage_model(panel, n_boot=99, seed=1)
>>> e = res.coverage_effect
>>> e["ci_low"] < e["estimate"] < e["ci_high"], e["p_value"] < 0.05, res.decay
(True, True, 0.4)
>>> import json; _ = json.dumps(res.to_dict(), allow_nan=False)
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from coverage_analysis.domain import PER_RESIDENTS
from coverage_analysis.errors import CoverageAnalysisError
from coverage_analysis.models import _ppml
from coverage_analysis.models._data import (
    CARRYOVER_UNKNOWN_WEIGHT,
    PreparedPanel,
    prepare_panel,
    window_lags,
)

log = logging.getLogger(__name__)

#: Carry-over decays searched (monthly retention of a material's weight).
DECAY_GRID: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8)
#: Rolling-origin folds of the decay search: the last this many months, each
#: predicted from a fit on all earlier months (16 = every month after the
#: first MIN_TRAIN_MONTHS of a 28-month campaign; 8 folds chose noisily in simulation).
N_ORIGINS = 16
#: A fold needs at least this many earlier months to fit on.
MIN_TRAIN_MONTHS = 12
#: Decay used when the panel is too short for the search (a pre-set middle of
#: the grid: a material keeps 40% of its weight the next month).
FALLBACK_DECAY = 0.4
#: Fewest district-months, districts and months the model is fitted on.
MIN_MODEL_OBS = 30
MIN_MODEL_CLUSTERS = 3
MIN_MODEL_MONTHS = 3
#: Default bootstrap draws (Webb weights; p-value resolution 1/1000).
DEFAULT_N_BOOT = 999
#: Default seed of the bootstrap weights.
DEFAULT_SEED = 2016
#: Confidence level of every interval.
LEVEL = 0.95
#: Bisection steps of the test inversion for each interval end.
INVERSION_STEPS = 14
#: Doublings of the search bracket before an interval end is declared unbounded.
MAX_BRACKET_DOUBLINGS = 12
#: Fewer districts than this: warn that cluster inference is fragile.
MIN_CLUSTERS_WARN = 12
#: Points of the fitted relation curve for plotting.
CURVE_POINTS = 41
#: Bins of the binned partial-residual points for plotting.
CURVE_BINS = 10

EFFECT_UNITS: dict[str, str] = {
    "applications": (
        "percent change in expected applications associated with a doubling of "
        "(1 + carry-over materials per 10,000 residents)"
    ),
    "amount_kzt": (
        "percent change in the expected amount legalized (tenge) associated with a "
        "doubling of (1 + carry-over materials per 10,000 residents)"
    ),
}
PLACEBO_UNIT = (
    "percent change in this month's expected {what} associated with a doubling of "
    "(1 + NEXT month's new materials per 10,000 residents), this month's carry-over held fixed"
)
PLACEBO_WARNING = (
    "Placebo failed: next month's coverage 'predicts' this month's {what} (interval excludes "
    "zero). Coverage seems to respond to {what} (e.g. briefings report applications), so the "
    "coverage association cannot be read as coverage driving {what}."
)
CAVEAT = (
    "Observational association, not a causal effect: districts were not assigned coverage at "
    "random; reports should say 'associated with', never 'caused'."
)
SELECTION_TEXT = (
    " The decay was chosen from {k} candidates, so the coverage p-value is adjusted for the "
    "choice (largest studentized score over all candidate decays, same bootstrap weights: "
    "max-t), and the interval at the chosen decay uses the matching per-decay level; "
    "p_value_fixed_decay is the unadjusted one. The placebo is not adjusted."
)
INFERENCE_TEXT = (
    "Wild cluster score bootstrap (Kline & Santos 2012) by district, Webb six-point weights, "
    "{n_boot} draws, null imposed: the p-value tests beta = 0 and the 95% interval is the set of "
    "beta0 not rejected at 5% (test inversion). Chosen over CR1 standard errors with t(G-1) "
    "because with {g} clusters of very unequal size (cities of 300,000 next to districts of "
    "15,000) sandwich standard errors are optimistic; CR1 is reported for reference."
)


def _jsonable(value: Any) -> Any:
    """Turn numpy scalars/arrays and NaN into JSON-ready values."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m")
    return value


#: Internally slopes are on the natural-log scale of the mean; reported slopes
#: are on the log2 scale (elasticity per doubling): beta = beta_ln / LN2.
LN2 = math.log(2.0)


def percent(beta: float) -> float:
    """Percent change in the expected outcome for one unit of the index
    (one doubling of 1 + carry-over per 10k) given the reported (log2-scale)
    slope: ``100 * (2**beta - 1)``.

    >>> round(percent(0.25), 2)
    18.92
    """
    if not math.isfinite(beta):
        return beta
    try:
        return 100.0 * math.expm1(beta * LN2)
    except OverflowError:
        return math.inf


@dataclass
class Design:
    """Long arrays of the rows entering one model."""

    y: np.ndarray
    x: np.ndarray  # (n, k)
    d: np.ndarray
    m: np.ndarray
    offset: np.ndarray
    rows: np.ndarray  # (G, T) boolean mask of the rows
    y_scale: float


def make_design(prep: PreparedPanel, regressors: Sequence[np.ndarray], rows: np.ndarray) -> Design:
    """Stack the (G, T) regressors over ``rows`` (NaN regressors drop the row).

    The outcome enters as a rate per 10,000 residents with no offset: the same
    mean model as population exposure (district effects absorb the log
    population), but PPML then weighs each district by its rate instead of its
    size, so the two cities of 300,000 do not outweigh the 17 other districts.
    With 19 clusters this kept the bootstrap near its nominal level in
    simulation (false positives 6.8% vs 8.5% with size weighting, placebo 4.2%
    vs 10.8%, 400 null panels) and cut the spread of the slope by a quarter.
    Amounts are also divided by their mean (slopes do not depend on scale)."""
    rows = rows.copy()
    for r in regressors:
        rows &= ~np.isnan(r)
    g, t = prep.shape
    d = np.repeat(np.arange(g), t).reshape(g, t)[rows]
    m = np.tile(np.arange(t), g).reshape(g, t)[rows]
    y = prep.y[rows] * (PER_RESIDENTS / prep.population[rows])
    y_scale = float(y.mean()) if len(y) and y.mean() > 0 else 1.0
    if prep.outcome == "applications":
        y_scale = 1.0  # applications per 10,000 residents need no rescaling
    x = np.column_stack([r[rows] for r in regressors]) if regressors else np.zeros((len(y), 0))
    offset = np.zeros(len(y))
    return Design(y / y_scale, x, d, m, offset, rows, y_scale)


@dataclass
class Inference:
    """Slope inference on the natural-log scale (as fitted); :meth:`effect`
    reports it on the log2 scale and as a percent."""

    beta: float
    se_cr1: float
    p_value: float
    ci_low: float
    ci_high: float
    draws: np.ndarray  # bootstrap draws of beta (one-step, unrestricted)

    def effect(self) -> dict[str, float]:
        b, lo, hi = self.beta / LN2, self.ci_low / LN2, self.ci_high / LN2
        return {
            "estimate": percent(b),
            "ci_low": percent(lo),
            "ci_high": percent(hi),
            "p_value": self.p_value,
            "beta": b,
            "beta_ci_low": lo,
            "beta_ci_high": hi,
            "beta_se_cr1": self.se_cr1 / LN2,
        }


def infer(
    des: Design,
    j: int,
    weights: np.ndarray,
    fit: _ppml.PPMLFit | None = None,
    level: float = LEVEL,
) -> Inference:
    """Point estimate, CR1 SE, score-bootstrap p-value and inverted interval
    for coefficient ``j`` of ``des``. ``weights`` has one column per district
    code of the panel; ``level`` is the confidence level of the inversion."""
    if fit is None:
        fit = _ppml.fit_ppml_fe(des.y, des.x, des.d, des.m, des.offset)
    beta = float(fit.beta[j])
    se = _ppml.cr1_se(des.y, des.x, j, fit, des.d, des.m)
    alpha = 1.0 - level
    cache: dict[str, np.ndarray | None] = {"start": None}

    def p_at(b0: float) -> float:
        s, present, _, f0 = _ppml.cluster_scores(
            des.y, des.x, j, des.d, des.m, des.offset, b0, start=cache["start"]
        )
        cache["start"] = f0.theta
        return _ppml.score_bootstrap_p(s, weights[:, present])[0]

    p0 = p_at(0.0)
    # one-step unrestricted bootstrap draws of beta (for what-if intervals)
    keep = fit.keep
    others = np.delete(des.x, j, axis=1)
    xt = _ppml.partial_out(des.x[keep, j], others[keep], des.d[keep], des.m[keep], fit.mu[keep])
    u = des.y[keep] - fit.mu[keep]
    present = np.unique(des.d[keep])
    s_un = np.bincount(des.d[keep], weights=xt * u)[present]
    info = float(np.sum(fit.mu[keep] * xt * xt))
    draws = (
        beta + (weights[:, present] @ s_un) / info if info > 0 else np.full(len(weights), np.nan)
    )

    if not math.isfinite(se) or se <= 0:
        return Inference(beta, se, p0, float("nan"), float("nan"), draws)
    ends = []
    for sign in (-1.0, 1.0):
        cache["start"] = None
        inner, step = beta, 2.0 * se
        outer = beta + sign * step
        doublings = 0
        while p_at(outer) > alpha and doublings < MAX_BRACKET_DOUBLINGS:
            inner = outer
            step *= 2.0
            outer = beta + sign * step
            doublings += 1
        if doublings == MAX_BRACKET_DOUBLINGS:
            ends.append(sign * math.inf)
            continue
        for _ in range(INVERSION_STEPS):
            mid = 0.5 * (inner + outer)
            if p_at(mid) > alpha:
                inner = mid
            else:
                outer = mid
        ends.append(0.5 * (inner + outer))
    return Inference(beta, se, p0, ends[0], ends[1], draws)


@dataclass
class CoverageModelResult:
    """What :func:`fit_coverage_model` found. ``coverage_effect`` and
    ``placebo_effect`` hold ``estimate``, ``ci_low``, ``ci_high`` (percent, see
    ``effect_unit``), ``p_value``, and the slope itself (log2 scale: elasticity
    per doubling, ``estimate = 100 * (2**beta - 1)``) as ``beta``,
    ``beta_ci_low``, ``beta_ci_high``, ``beta_se_cr1``."""

    outcome: str
    coverage_effect: dict[str, float]
    placebo_effect: dict[str, float]
    effect_unit: str
    placebo_unit: str
    decay: float
    decay_selected_by: str
    decay_search: list[dict[str, Any]]
    n_obs: int
    n_clusters: int
    n_months: int
    rows_dropped: dict[str, int]
    inference: str
    method: str
    caveat: str
    overdispersion: dict[str, float]
    fitted_relation: dict[str, Any]
    warnings: list[str]
    n_boot: int
    seed: int
    seconds: float
    district_effects_fe: dict[str, float] = field(default_factory=dict)
    month_effects: dict[str, float] = field(default_factory=dict)
    # internals for what_if / diagnostics (not serialised)
    _prep: PreparedPanel | None = field(default=None, repr=False)
    _design: Design | None = field(default=None, repr=False)
    _fit: _ppml.PPMLFit | None = field(default=None, repr=False)
    _draws: np.ndarray | None = field(default=None, repr=False)

    @property
    def placebo_flagged(self) -> bool:
        """True when the placebo interval excludes zero."""
        lo, hi = self.placebo_effect.get("beta_ci_low"), self.placebo_effect.get("beta_ci_high")
        return bool(lo is not None and hi is not None and (lo > 0 or hi < 0))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (NaN and infinite values become ``None``)."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if not k.startswith("_")}
        out["placebo_flagged"] = self.placebo_flagged
        return _jsonable(out)

    def summary_text(self) -> str:
        """One paragraph in words."""
        e = self.coverage_effect
        return (
            f"{self.outcome}: {e['estimate']:+.1f}% (95% CI {e['ci_low']:+.1f}% to "
            f"{e['ci_high']:+.1f}%, p = {e['p_value']:.3f}) per doubling of (1 + carry-over "
            f"materials per 10,000 residents), decay {self.decay:g}, {self.n_obs} district-months, "
            f"{self.n_clusters} districts. " + " ".join(self.warnings)
        )


def _share_loglik(
    prep: PreparedPanel, index: np.ndarray, rows: np.ndarray, origins: Sequence[int], y_scale: float
) -> tuple[float, float, int]:
    """Out-of-sample log-likelihood of each origin month's distribution of the
    outcome across districts given the month total (multinomial with
    probabilities proportional to the fitted mean; needs no month effect),
    from a fit on the earlier months. Each month's log-likelihood is divided
    by its total (mean log-probability per unit of outcome), so the deadline
    surges do not outweigh the other months. Returns (with coverage, without,
    n rows scored)."""
    g, t = prep.shape
    month_of = np.tile(np.arange(t), g).reshape(g, t)
    total_cov, total_base, n_scored = 0.0, 0.0, 0
    for origin in origins:
        train = rows & (month_of < origin)
        test = rows & (month_of == origin)
        if test.sum() < 2:
            continue
        scores = []
        for regs in ([index], []):
            des = make_design(prep, regs, train)
            fit = _ppml.fit_ppml_fe(des.y, des.x, des.d, des.m, des.offset)
            di = np.nonzero(test)[0]
            alpha = fit.alpha[di] if len(fit.alpha) > di.max() else np.full(len(di), -np.inf)
            ok = np.isfinite(alpha)
            yt = prep.y[test][ok] / y_scale
            eta = np.log(prep.population[test][ok] / 10_000.0) + alpha[ok]
            if regs:
                eta = eta + fit.beta[0] * index[test][ok]
            logp = eta - np.logaddexp.reduce(eta)
            scores.append(float(np.sum(yt * logp) / yt.sum()) if yt.sum() > 0 else 0.0)
            if regs:
                n_scored += int(ok.sum())
        total_cov += scores[0]
        total_base += scores[1]
    return total_cov, total_base, n_scored


def search_decay(
    prep: PreparedPanel, grid: Sequence[float] = DECAY_GRID
) -> tuple[float, list[dict[str, Any]]]:
    """Pick the decay whose coverage index best predicts, out of sample, how
    each of the last ``N_ORIGINS`` months' outcome is shared among districts
    (rolling origin: each month predicted from a fit on all earlier months).

    All decays are scored on the same rows (those whose carry-over is known
    at the largest decay), so the scores are comparable. Ties go to the
    smaller decay. With fewer than ``MIN_TRAIN_MONTHS + 1`` usable months
    there is nothing to score: returns ``FALLBACK_DECAY`` and an empty table.
    """
    grid = sorted(grid)
    rows = prep.usable(max(grid))
    month_cols = np.nonzero(rows.any(axis=0))[0]
    origins = [int(o) for k, o in enumerate(month_cols) if k >= MIN_TRAIN_MONTHS][-N_ORIGINS:]
    if not origins:
        log.info("too few months for the out-of-sample decay search; decay %g", FALLBACK_DECAY)
        return FALLBACK_DECAY, []
    y_all = prep.y[rows]
    y_scale = 1.0 if prep.outcome == "applications" else float(np.mean(y_all) or 1.0)
    table = []
    for dec in grid:
        idx = prep.index(dec)
        cov, base, n = _share_loglik(prep, idx, rows, origins, y_scale)
        table.append(
            {
                "decay": dec,
                "oos_share_loglik": cov,
                "gain_over_no_coverage": cov - base,
                "n_scored": n,
                "window_months_dropped_after_unreported": window_lags(dec) - 1,
            }
        )
    best = max(table, key=lambda r: (round(r["oos_share_loglik"], 9), -r["decay"]))
    for r in table:
        r["chosen"] = r is best
    return float(best["decay"]), table


def selection_adjustment(
    prep: PreparedPanel,
    grid: Sequence[float],
    chosen: float,
    weights: np.ndarray,
    level: float = LEVEL,
) -> dict[str, Any]:
    """Account for having chosen the decay from ``grid``: the null ``beta = 0``
    is tested with the largest studentized score over all decays (max-t), its
    bootstrap distribution built from the same cluster weights for every decay
    (each decay on its own rows and restricted fit, which under ``beta = 0``
    does not involve coverage). Returns the adjusted p-value of the chosen
    decay's statistic and the per-decay confidence level whose test matches
    the max-t critical value (used for the interval, so that p-value and
    interval agree)."""
    alpha = 1.0 - level
    t_by_decay: dict[float, float] = {}
    stars = []
    t_chosen_star = None
    for dec in grid:
        des = make_design(prep, [prep.index(dec)], prep.usable(dec))
        s, present, _, _ = _ppml.cluster_scores(des.y, des.x, 0, des.d, des.m, des.offset, 0.0)
        t, t_star = _ppml.score_t(s, weights[:, present])
        t_by_decay[float(dec)] = t
        stars.append(np.abs(t_star))
        if dec == chosen:
            t_chosen_star = np.abs(t_star)
    max_star = np.max(np.vstack(stars), axis=0)
    t_chosen = abs(t_by_decay[float(chosen)])
    p_adj = float((np.sum(max_star >= t_chosen - 1e-12) + 1) / (len(max_star) + 1))
    c_max = float(np.quantile(max_star, level))
    assert t_chosen_star is not None
    alpha_eff = max(float(np.mean(t_chosen_star >= c_max)), alpha / len(grid))
    return {
        "p_value": p_adj,
        "critical_max_t": c_max,
        "per_decay_level": 1.0 - alpha_eff,
        "t_by_decay": t_by_decay,
    }


class InsufficientDataError(CoverageAnalysisError, ValueError):
    """The panel has too few usable district-months for the model."""


def _check_enough(des: Design, outcome: str) -> None:
    keep = _ppml.separated_rows(des.y, des.d, des.m) if len(des.y) else np.zeros(0, bool)
    n, g, t = int(keep.sum()), len(np.unique(des.d[keep])), len(np.unique(des.m[keep]))
    if n < MIN_MODEL_OBS or g < MIN_MODEL_CLUSTERS or t < MIN_MODEL_MONTHS:
        raise InsufficientDataError(
            f"not enough data for the {outcome} model: {n} usable district-months in {g} "
            f"districts and {t} months (need {MIN_MODEL_OBS}, {MIN_MODEL_CLUSTERS} and "
            f"{MIN_MODEL_MONTHS}; unreported months and their carry-over are not usable)"
        )


def fit_coverage_model(
    panel: pd.DataFrame,
    outcome: str = "applications",
    *,
    decay: float | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = DEFAULT_SEED,
    decay_grid: Sequence[float] = DECAY_GRID,
) -> CoverageModelResult:
    """Fit the coverage model of ``outcome`` ("applications" or "amount_kzt")
    on a district x month panel; see the module docstring for the model.

    ``decay=None`` chooses the carry-over decay from ``decay_grid`` by
    rolling-origin out-of-sample fit (:func:`search_decay`); a number fixes it.
    The placebo refits the model with next month's new materials added.
    """
    started = time.perf_counter()
    prep = prepare_panel(panel, outcome)
    what = "applications" if outcome == "applications" else "amounts legalized"
    if decay is None:
        chosen, table = search_decay(prep, decay_grid)
        selected_by = (
            f"pre-set {FALLBACK_DECAY:g}: too few months (< {MIN_TRAIN_MONTHS + 1} with known "
            "carry-over) for the out-of-sample search"
        )
    if decay is None and table:
        selected_by = (
            f"rolling-origin out-of-sample fit over the last {N_ORIGINS} months: multinomial "
            "log-likelihood of each month's split of the outcome across districts given the "
            "month total (month effects cancel; each month weighs equally), fit on all earlier "
            "months"
        )
    elif decay is not None:
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"decay must be in [0, 1), got {decay}")
        chosen, table, selected_by = float(decay), [], "given by the caller"
    g, _t = prep.shape
    index = prep.index(chosen)
    rows = prep.usable(chosen)
    des = make_design(prep, [index], rows)
    _check_enough(des, outcome)
    fit = _ppml.fit_ppml_fe(des.y, des.x, des.d, des.m, des.offset)
    n_used = int(fit.keep.sum())
    clusters = np.unique(des.d[fit.keep])
    weights = _ppml.webb_weights(n_boot, g, seed)
    adjust = selection_adjustment(prep, sorted(decay_grid), chosen, weights) if table else None
    main = infer(des, 0, weights, fit, level=adjust["per_decay_level"] if adjust else LEVEL)

    lead = prep.lead_flow()
    des_p = make_design(prep, [index, lead], rows)
    plac = infer(des_p, 1, weights)

    warnings: list[str] = []
    coverage_effect = main.effect()
    coverage_effect["p_value_fixed_decay"] = coverage_effect["p_value"]
    if adjust:
        coverage_effect["p_value"] = adjust["p_value"]
        coverage_effect["ci_level_at_chosen_decay"] = adjust["per_decay_level"]
    placebo_effect = plac.effect()
    placebo_lo, placebo_hi = plac.ci_low, plac.ci_high
    if placebo_lo > 0 or placebo_hi < 0:
        warnings.append(PLACEBO_WARNING.format(what=what))
    if len(clusters) < MIN_CLUSTERS_WARN:
        warnings.append(
            f"Only {len(clusters)} districts enter the model; cluster inference is fragile."
        )
    if not fit.converged:
        warnings.append("The model fit did not converge; treat the estimate with suspicion.")
    if table and chosen in (min(decay_grid), max(decay_grid)) and chosen > 0:
        warnings.append(f"The chosen decay {chosen:g} is at the edge of the search grid.")
    if decay is None and not table:
        warnings.append(f"Decay not chosen from the data: {selected_by}.")
    if not (math.isfinite(main.ci_low) and math.isfinite(main.ci_high)):
        warnings.append("The interval is unbounded: the data cannot pin the slope down.")

    # overdispersion (Pearson chi2 / df and the NB2 moment estimate)
    keep = fit.keep
    yk, mk = des.y[keep], fit.mu[keep]
    # overdispersion in the outcome's own units (counts, not per 10,000); amounts
    # in units of their mean per district-month (tenge would give a meaningless scale)
    counts_scale = prep.population[des.rows][keep] / PER_RESIDENTS * des.y_scale
    if outcome != "applications":
        counts_scale = counts_scale / float(np.mean(prep.y[des.rows]) or 1.0)
    yc, mc = yk * counts_scale, mk * counts_scale
    n_par = 1 + len(clusters) + len(np.unique(des.m[keep])) - 1
    pearson = float(np.sum((yc - mc) ** 2 / mc) / max(n_used - n_par, 1))
    nb2 = float(np.sum((yc - mc) ** 2 - yc) / np.sum(mc**2))
    overdispersion = {
        "pearson_chi2_per_df": pearson,
        "nb2_alpha_moment": nb2 if outcome == "applications" else float("nan"),
        "note": (
            "Pearson chi2/df of the PPML fit (1 = Poisson). PPML stays consistent under "
            "overdispersion; the bootstrap does not assume a variance."
            if outcome == "applications"
            else "Amounts are not counts: chi2/df is computed in units of the mean amount per "
            "district-month and only shows the spread; PPML needs only the mean to be right."
        ),
    }

    # fitted relation for plotting
    ci = index[des.rows][keep]
    grid_c = np.linspace(0.0, float(np.max(ci)) if len(ci) else 1.0, CURVE_POINTS)
    mu_fe = mk / np.exp(main.beta * ci)  # expected without the coverage term
    qs = np.quantile(ci, np.linspace(0, 1, CURVE_BINS + 1)) if len(ci) else np.array([0.0, 1.0])
    bins = np.clip(np.searchsorted(qs, ci, side="right") - 1, 0, CURVE_BINS - 1)
    points = []
    for b in range(CURVE_BINS):
        sel = bins == b
        if sel.any() and mu_fe[sel].sum() > 0:
            points.append(
                {
                    "coverage_index": float(np.mean(ci[sel])),
                    "observed_over_expected": float(yk[sel].sum() / mu_fe[sel].sum()),
                    "n": int(sel.sum()),
                }
            )
    with np.errstate(invalid="ignore", over="ignore"):
        band_lo = np.exp(np.minimum(main.ci_low * grid_c, main.ci_high * grid_c))
        band_hi = np.exp(np.maximum(main.ci_low * grid_c, main.ci_high * grid_c))
    fitted_relation = {
        "x_label": "coverage index: log2(1 + carry-over materials per 10,000 residents)",
        "y_label": f"expected {what} relative to no coverage (same district and month)",
        "coverage_index": grid_c,
        "materials_per_10k_carryover": 2.0**grid_c - 1.0,
        "relative_expected": np.exp(main.beta * grid_c),
        "ci_low": band_lo,
        "ci_high": band_hi,
        "binned_points": points,
    }

    dropped = {
        "outcome_missing": int(np.isnan(prep.y).sum()),
        "coverage_unreported": int((~prep.reported & ~np.isnan(prep.y)).sum()),
        "carryover_unknown_after_unreported": int(
            (prep.reported & ~prep.known(chosen) & ~np.isnan(prep.y)).sum()
        ),
        "all_zero_district_or_month": int(len(des.y) - n_used),
    }
    method = (
        f"Poisson quasi-likelihood (PPML) of {outcome} with district and month fixed effects "
        f"and population as exposure (fitted as the rate per 10,000 residents, so each district "
        f"weighs by its rate, not its size); expected {outcome} proportional to "
        f"2**(beta * C) with coverage index C = log2(1 + carry-over materials per 10,000 "
        f"residents), carry-over A[t] = x[t] + {chosen:g} * A[t-1]; beta is the elasticity per "
        "doubling and 100 * (2**beta - 1) the percent change per doubling. PPML rather than "
        "NB2: consistent under any variance given the mean, no incidental-parameter bias with "
        "fixed effects. "
        f"Months with no coverage report are unknown, not zero: they and the following "
        f"{window_lags(chosen) - 1} month(s) (while the unknown month weighs >= "
        f"{CARRYOVER_UNKNOWN_WEIGHT:g} of the carry-over) are dropped. Month effects absorb "
        "the deadlines and the Dec 2015 rule change; district effects absorb size and each "
        "district's own level. Placebo: the same model with next month's new materials added."
    )
    fe_alpha = {
        prep.districts[i]: float(fit.alpha[i])
        for i in range(len(fit.alpha))
        if np.isfinite(fit.alpha[i])
    }
    fe_gamma = {
        prep.months[i].strftime("%Y-%m"): float(fit.gamma[i])
        for i in range(len(fit.gamma))
        if np.isfinite(fit.gamma[i])
    }
    seconds = time.perf_counter() - started
    log.info("coverage model %s fitted in %.2f s", outcome, seconds)
    return CoverageModelResult(
        outcome=outcome,
        coverage_effect=coverage_effect,
        placebo_effect=placebo_effect,
        effect_unit=EFFECT_UNITS[outcome],
        placebo_unit=PLACEBO_UNIT.format(what=what),
        decay=chosen,
        decay_selected_by=selected_by,
        decay_search=table,
        n_obs=n_used,
        n_clusters=len(clusters),
        n_months=len(np.unique(des.m[keep])),
        rows_dropped=dropped,
        inference=INFERENCE_TEXT.format(n_boot=n_boot, g=len(clusters))
        + (SELECTION_TEXT.format(k=len(decay_grid)) if adjust else ""),
        method=method,
        caveat=CAVEAT,
        overdispersion=overdispersion,
        fitted_relation=fitted_relation,
        warnings=warnings,
        n_boot=n_boot,
        seed=seed,
        seconds=seconds,
        district_effects_fe=fe_alpha,
        month_effects=fe_gamma,
        _prep=prep,
        _design=des,
        _fit=fit,
        _draws=main.draws,
    )
