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
chi2/df, NB2 moment estimate) and left to the jackknife and the randomisation
test, which assume no variance function.

Two estimands (``estimand``): ``"exposure"`` (default) fits the counts with
``log(population / 10,000)`` as offset, the ordinary PPML; ``"rate"`` fits the
rate per 10,000 residents without offset, so each district weighs by its rate,
not its size. Each result shows the other beside it (``sensitivity``).

Stages: :func:`fit_coverage` (decay and PPML fit), :func:`infer_coverage`
(cluster jackknife interval, randomisation test, effective clusters, placebo
leads; see :mod:`coverage_analysis.models.inference`) and
:mod:`coverage_analysis.models.describe` (words); :func:`fit_coverage_model`
runs all three and returns a :class:`CoverageModelResult`.

>>> from coverage_analysis.models.simulate import simulate_panel
>>> panel = simulate_panel("effect", seed=1, beta=0.8, coverage_noise_sd=1.0)
>>> res = fit_coverage_model(panel, n_boot=99, n_perm=99, seed=1, sensitivity=False)
>>> e = res.coverage_effect
>>> e["ci_low"] < e["estimate"] < e["ci_high"], e["p_value"] < 0.05, e.estimand
(True, True, 'exposure')
>>> import json; _ = json.dumps(res.to_dict(), allow_nan=False)
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from coverage_analysis.domain import PER_RESIDENTS
from coverage_analysis.errors import CoverageAnalysisError
from coverage_analysis.models import _ppml, _replicates
from coverage_analysis.models import inference as _inf
from coverage_analysis.models._data import (
    PreparedPanel,
    mean_scale,
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
#: Default wild bootstrap draws (Webb weights; a cross-check p-value).
DEFAULT_N_BOOT = 999
#: Default seed of the bootstrap weights.
DEFAULT_SEED = 2016
#: Confidence level of every interval.
LEVEL = 0.95
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
    "(1 + carry-over materials per 10,000 residents) ONE and TWO months later (leads), this "
    "month's carry-over held fixed"
)
CAVEAT = (
    "Observational association, not a causal effect: districts were not assigned coverage at "
    "random; reports should say 'associated with', never 'caused'."
)


def _jsonable(value: Any) -> Any:
    """Turn dataclasses, numpy scalars/arrays and NaN into JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
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


#: The two estimands (``estimand`` argument and field of every result).
ESTIMANDS: dict[str, str] = {
    "exposure": (
        "PPML with log(population) as offset: the ordinary exposure model (as in ppmlhdfe); "
        "each district-month weighs by its expected count, so large districts weigh more"
    ),
    "rate": (
        "PPML of the rate per 10,000 residents without offset: each district-month weighs by "
        "its rate, not its size, so the 19 districts weigh roughly equally"
    ),
}
#: Default estimand (what users of ppmlhdfe expect).
DEFAULT_ESTIMAND = "exposure"
#: Randomisation draws (coverage paths shuffled across districts): a valid
#: test at any number (p = (k + 1) / (n + 1)); 199 resolves 5% decisions.
DEFAULT_N_PERM = 199
#: How the decay enters inference (README: chosen by simulation evidence
#: against the profile with re-profiled jackknife and the profile at a fixed decay).
DECAY_RULE = (
    "averaged over the grid: the slope is the equal-weight mean of the slopes fitted at every "
    "grid decay, weights fixed in advance, so no decay is selected and none has to be paid for; "
    "each jackknife replicate refits every decay, which carries the spread over the decays into "
    "the interval, and the randomisation test uses the mean over the same grid of the "
    "studentized scores; the placebo leads are averaged the same way. The quasi-likelihood "
    "profile over the grid is shown as a diagnostic"
)


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
    estimand: str = DEFAULT_ESTIMAND
    #: the outcome before its division by its mean (amounts; None for applications,
    #: which are not rescaled): a design of fewer rows divides by its own mean
    y_unscaled: np.ndarray | None = None


def _check_estimand(estimand: str) -> str:
    if estimand not in ESTIMANDS:
        raise ValueError(f"estimand must be one of {tuple(ESTIMANDS)}, got {estimand!r}")
    return estimand


def make_design(
    prep: PreparedPanel,
    regressors: Sequence[np.ndarray],
    rows: np.ndarray,
    estimand: str = DEFAULT_ESTIMAND,
    offset_grid: np.ndarray | None = None,
) -> Design:
    """Stack the (G, T) regressors over ``rows`` (NaN regressors drop the row).

    ``estimand="exposure"``: the outcome itself with offset
    ``log(population / 10,000)``. ``estimand="rate"``: the outcome per 10,000
    residents with no offset, so PPML weighs each district by its rate instead
    of its size. Amounts are divided by their mean over the rows (slopes do
    not depend on scale). ``offset_grid`` replaces the population offset
    (amount per application: ``log(applications)``)."""
    _check_estimand(estimand)
    rows = rows.copy()
    for r in regressors:
        rows &= ~np.isnan(r)
    g, t = prep.shape
    d = np.repeat(np.arange(g), t).reshape(g, t)[rows]
    m = np.tile(np.arange(t), g).reshape(g, t)[rows]
    if offset_grid is not None:
        y = prep.y[rows]
        offset = offset_grid[rows].astype(float)
    elif estimand == "exposure":
        y = prep.y[rows]
        offset = np.log(prep.population[rows] / PER_RESIDENTS)
    else:
        y = prep.y[rows] * (PER_RESIDENTS / prep.population[rows])
        offset = np.zeros(len(y))
    rescaled = prep.outcome != "applications"
    y_scale = mean_scale(y) if rescaled else 1.0
    x = np.column_stack([r[rows] for r in regressors]) if regressors else np.zeros((len(y), 0))
    return Design(y / y_scale, x, d, m, offset, rows, y_scale, estimand, y if rescaled else None)


def _fit(
    des: Design, name: str, warm: _ppml.PPMLFit | None = None, steps: int | None = None
) -> _ppml.PPMLFit:
    return _ppml.fit_ppml_fe(
        des.y, des.x, des.d, des.m, des.offset, name=name, warm=warm, steps=steps
    )


def _qll(des: Design, fit: _ppml.PPMLFit) -> float:
    k = fit.keep
    mu = np.maximum(fit.mu[k], 1e-300)
    return float(np.sum(des.y[k] * np.log(mu) - mu))


def profile_decay(
    prep: PreparedPanel,
    estimand: str,
    decays: Sequence[float],
    extra_rows: np.ndarray | None = None,
    name: str = "coverage model",
    warm: dict[float, _ppml.PPMLFit] | None = None,
    fits: dict[float, _ppml.PPMLFit] | None = None,
) -> tuple[float, Design, _ppml.PPMLFit, list[dict[str, Any]]]:
    """The decay of ``decays`` with the highest in-sample quasi-likelihood of
    the full model (all decays on the rows whose carry-over is known at the
    largest decay, so the scores compare), then the model refitted at that
    decay on its own rows. Ties go to the smaller decay. Returns
    ``(decay, design, fit, table)``. ``warm`` (decay -> fit) starts the
    iterations; ``fits`` collects the profile fits (for later warm starts)."""
    warm = warm or {}
    decays = sorted(float(x) for x in decays)
    table: list[dict[str, Any]] = []
    if len(decays) > 1:
        common = prep.usable(max(decays))
        if extra_rows is not None:
            common &= extra_rows
        for dec in decays:
            des = make_design(prep, [prep.index(dec)], common, estimand)
            fit = _fit(des, f"{name} at decay {dec:g} (decay profile)", warm.get(dec))
            if fits is not None:
                fits[dec] = fit
            table.append(
                {"decay": dec, "quasi_loglik": _qll(des, fit), "n_rows": int(fit.keep.sum())}
            )
        best = max(table, key=lambda r: (round(r["quasi_loglik"], 9), -r["decay"]))
        for r in table:
            r["chosen"] = r is best
        chosen = float(best["decay"])
    else:
        chosen = decays[0]
    rows = prep.usable(chosen)
    if extra_rows is not None:
        rows &= extra_rows
    des = make_design(prep, [prep.index(chosen)], rows, estimand)
    final = _fit(des, f"{name} at decay {chosen:g}", warm.get(chosen) or (fits or {}).get(chosen))
    return chosen, des, final, table


@dataclass
class Effect:
    """One slope with its interval and p-values. Percent fields (``estimate``,
    ``ci_low``, ``ci_high``) are ``100 * (2**beta - 1)``: the change in the
    expected outcome per doubling of (1 + carry-over per 10,000); ``beta*``
    are on the log2 scale. ``p_value`` is the primary p-value
    (``p_value_method``); ``p_values`` holds every method computed. The
    interval is ``beta +- t(G*-1) * beta_se_cv3`` (cluster jackknife, t with
    the effective number of clusters less one, see
    :func:`coverage_analysis.models.inference.t_dof`)."""

    estimand: str
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    p_value_method: str
    beta: float
    beta_ci_low: float
    beta_ci_high: float
    beta_se_cv3: float
    p_values: dict[str, float]
    effective_clusters: float
    n_clusters: int
    interval_method: str = "cv3_jackknife"
    jackknife_se: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_ln(
        cls,
        estimand: str,
        beta_ln: float,
        se_ln: float,
        p_values: dict[str, float],
        primary: str,
        g: int,
        g_star: float,
        level: float = LEVEL,
    ) -> Effect:
        """From a natural-log slope and its CV3 standard error."""
        lo, hi, p_cv3 = _inf.cv3_interval(beta_ln, se_ln, g, level, _inf.t_dof(g, g_star))
        p_values = {**p_values, "cv3_jackknife": p_cv3}
        b, lo2, hi2 = beta_ln / LN2, lo / LN2, hi / LN2
        return cls(
            estimand=estimand,
            estimate=percent(b),
            ci_low=percent(lo2),
            ci_high=percent(hi2),
            p_value=float(p_values.get(primary, p_cv3)),
            p_value_method=primary if primary in p_values else "cv3_jackknife",
            beta=b,
            beta_ci_low=lo2,
            beta_ci_high=hi2,
            beta_se_cv3=se_ln / LN2,
            p_values=p_values,
            effective_clusters=g_star,
            n_clusters=g,
        )

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        """Mapping-style access (``effect.get("p_value")``)."""
        return getattr(self, key, default)

    def keys(self) -> list[str]:
        return list(self.__dataclass_fields__)

    def __contains__(self, key: object) -> bool:
        return key in self.__dataclass_fields__

    @property
    def significant(self) -> bool:
        """Primary p-value below 5%."""
        return bool(math.isfinite(self.p_value) and self.p_value < 1.0 - LEVEL)

    @property
    def interval_excludes_zero(self) -> bool:
        return bool(self.beta_ci_low > 0 or self.beta_ci_high < 0)


@dataclass
class CoverageFit:
    """The fit stage: decay, design and PPML fit at the chosen decay."""

    prep: PreparedPanel
    estimand: str
    decay: float
    decays: list[float]  # decays the inference is adjusted over (one when given)
    decay_selected_by: str
    decay_profile: list[dict[str, Any]]
    design: Design
    fit: _ppml.PPMLFit
    extra_rows: np.ndarray | None = None
    profile_fits: dict[float, _ppml.PPMLFit] = field(default_factory=dict)
    #: decay -> (design, fit) on that decay's own rows: the slopes averaged
    grid: dict[float, tuple[Design, _ppml.PPMLFit]] = field(default_factory=dict)

    @property
    def beta_ln(self) -> float:
        """The estimate (natural-log scale): the mean of the grid slopes."""
        return float(np.mean([fit.beta[0] for _des, fit in self.grid.values()]))


def fit_coverage(
    panel: pd.DataFrame | PreparedPanel,
    outcome: str = "applications",
    *,
    estimand: str = DEFAULT_ESTIMAND,
    decay: float | None = None,
    decay_grid: Sequence[float] = DECAY_GRID,
) -> CoverageFit:
    """Fit stage: prepare the panel and fit the PPML model at every decay of
    ``decay_grid`` when ``decay`` is None (the estimate averages their slopes,
    see :data:`DECAY_RULE`; the quasi-likelihood profile is kept as a
    diagnostic), or at ``decay``. Raises :class:`InsufficientDataError` when too few rows."""
    _check_estimand(estimand)
    prep = panel if isinstance(panel, PreparedPanel) else prepare_panel(panel, outcome)
    if decay is not None:
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"decay must be in [0, 1), got {decay}")
        decays, selected_by = (
            [float(decay)],
            "given by the caller (fixed before looking at the slope)",
        )
    else:
        decays = sorted(float(x) for x in decay_grid)
        selected_by = DECAY_RULE
        months_known = int(prep.usable(max(decays)).any(axis=0).sum())
        if months_known < MIN_TRAIN_MONTHS + 1:
            decays = [FALLBACK_DECAY]
            selected_by = (
                f"pre-set {FALLBACK_DECAY:g}: too few months (< {MIN_TRAIN_MONTHS + 1} with known "
                "carry-over at every candidate decay) to profile it"
            )
    probe = make_design(prep, [prep.index(decays[0])], prep.usable(decays[0]), estimand)
    _check_enough(probe, prep.outcome)
    fits: dict[float, _ppml.PPMLFit] = {}
    table: list[dict[str, Any]] = []
    if len(decays) > 1:
        _best, _des, _fit_best, table = profile_decay(
            prep, estimand, decays, name=f"{prep.outcome} model", fits=fits
        )
        for r in table:
            r["profile_max"] = r.pop("chosen")
    grid = _grid_fits(prep, estimand, decays, None, f"{prep.outcome} model", fits)
    for gdes, _gfit in grid.values():
        _check_enough(gdes, prep.outcome)
    middle = middle_decay(decays)
    des, fit = grid[middle]
    return CoverageFit(
        prep, estimand, middle, decays, selected_by, table, des, fit, None, fits, grid
    )


def middle_decay(decays: Sequence[float]) -> float:
    """The decay that stands for the grid where one decay is needed (fitted
    curve, diagnostics, effective clusters, amounts decomposition): the
    middle of the sorted grid.

    >>> middle_decay([0.0, 0.2, 0.4, 0.6, 0.8]), middle_decay([0.5])
    (0.4, 0.5)
    """
    decays = sorted(float(x) for x in decays)
    return decays[(len(decays) - 1) // 2]


def _grid_fits(
    prep: PreparedPanel,
    estimand: str,
    decays: Sequence[float],
    extra: np.ndarray | None,
    name: str,
    warm: dict[float, _ppml.PPMLFit] | None = None,
    steps: int | None = None,
) -> dict[float, tuple[Design, _ppml.PPMLFit]]:
    """The model at every decay of ``decays``, each on its own rows (coverage
    known at that decay), without the rows outside ``extra``; ``steps`` as in
    :func:`~coverage_analysis.models._ppml.fit_ppml_fe`."""
    warm = warm or {}
    out = {}
    for dec in decays:
        rows = prep.usable(dec)
        if extra is not None:
            rows &= extra
        des = make_design(prep, [prep.index(dec)], rows, estimand)
        out[float(dec)] = (des, _fit(des, f"{name} at decay {dec:g}", warm.get(dec), steps))
    return out


#: From this many districts on, each jackknife replicate is a few Newton steps
#: from the full fit (warm start) instead of a fit run to convergence: leaving
#: one of many districts out moves the estimate little and Newton converges
#: quadratically, so after :data:`JACKKNIFE_STEPS` steps every number of the
#: result is within 2e-6 (216 districts) to 2e-5 (60) of the exact jackknife's,
#: relative (``tests/test_national_model.py`` compares the two); one step was
#: 1e-2 off. Below it (the region's 19 districts) every replicate runs to
#: convergence, as before, so the region's results are unchanged.
FEW_STEP_MIN_CLUSTERS = 50
#: Newton steps of a jackknife replicate on a panel of at least
#: :data:`FEW_STEP_MIN_CLUSTERS` districts.
JACKKNIFE_STEPS = 2


#: On a large panel (``steps`` set) the replicates of each design are stepped together
#: (:mod:`~coverage_analysis.models._replicates`: same numbers as one by one, up to the
#: order of floating-point sums; the 216-district fit 4.4 -> 1.9 s). False: one by one
#: (the reference of ``tests/test_replicates.py``).
BATCH_REPLICATES = True


def jackknife_steps(n_clusters: int) -> int | None:
    """Newton steps of each jackknife replicate (None: run to convergence).

    >>> jackknife_steps(19), jackknife_steps(216)
    (None, 2)
    """
    return JACKKNIFE_STEPS if n_clusters >= FEW_STEP_MIN_CLUSTERS else None


def _jackknife(
    cf: CoverageFit,
    placebo_leads: Sequence[int] = (),
    placebo_fits: dict[float, _ppml.PPMLFit] | None = None,
) -> tuple[_inf.Jackknife, dict[float, _inf.Jackknife], _inf.Jackknife | None]:
    """Leave-one-district-out replicates of the estimate (every grid slope
    refitted without the district, then averaged), the replicates of each
    grid slope, and (with ``placebo_leads``) the replicates of the lead
    slopes averaged over the grid in the same way. Every replicate starts
    from the full fit at its decay (``placebo_fits``: the full placebo fits);
    on a large panel it takes :func:`jackknife_steps` Newton steps."""
    prep = cf.prep
    present = np.unique(cf.design.d[cf.fit.keep])
    steps = jackknife_steps(len(present))
    placebo_fits = placebo_fits or {}
    by_decay: dict[float, list[float]] = {dec: [] for dec in cf.grid}
    warm = {dec: fit for dec, (_d, fit) in cf.grid.items()}
    # a replicate's design is the full design without the district's rows (the same
    # arrays make_design would build, without rebuilding them; a rescaled outcome
    # divided by its own mean) when the full designs cover every usable row
    subset = cf.extra_rows is None and all(
        bool(np.all(np.diff(des.d) >= 0)) for des, _f in cf.grid.values()
    )
    reps, preps = [], []
    if subset:
        slopes = {
            dec: _replicate_slopes(
                des, warm.get(dec), present, steps, f"{prep.outcome} jackknife fit", dec, prep
            )
            for dec, (des, _f) in cf.grid.items()
        }
        for dec, s in slopes.items():
            by_decay[dec] = [float(b) for b in s[:, 0]]
        reps = [[float(np.mean([s[r, 0] for s in slopes.values()]))] for r in range(len(present))]
        if placebo_leads:
            lead_slopes = [
                _replicate_slopes(
                    _placebo_design(prep, cf.estimand, dec, placebo_leads),
                    placebo_fits.get(dec),
                    present,
                    steps,
                    "placebo jackknife fit",
                    dec,
                    prep,
                )
                for dec in cf.grid
            ]
            preps = [np.mean([s[r, 1:] for s in lead_slopes], axis=0) for r in range(len(present))]
    else:
        for i in present:
            extra = cf.extra_rows.copy() if cf.extra_rows is not None else np.ones(prep.shape, bool)
            extra[i] = False
            name = f"{prep.outcome} jackknife fit without district {prep.districts[i]}"
            fits = _grid_fits(prep, cf.estimand, list(cf.grid), extra, name, warm, steps)
            for dec, (_des, fit) in fits.items():
                by_decay[dec].append(float(fit.beta[0]))
            reps.append([float(np.mean([fit.beta[0] for _des, fit in fits.values()]))])
            if placebo_leads:
                lead_betas = []
                for dec in cf.grid:
                    pdes = _placebo_design(prep, cf.estimand, dec, placebo_leads, extra)
                    pfit = _fit(
                        pdes,
                        f"placebo jackknife fit without district {prep.districts[i]} "
                        f"at decay {dec:g}",
                        placebo_fits.get(dec),
                        steps,
                    )
                    lead_betas.append(pfit.beta[1:])
                preps.append(np.mean(lead_betas, axis=0))
    codes = [int(i) for i in present]
    middle = np.full(len(codes), cf.decay)
    jk = _inf.Jackknife(np.array(reps), middle, codes)
    per_decay = {
        dec: _inf.Jackknife(np.array(v)[:, None], np.full(len(codes), dec), codes)
        for dec, v in by_decay.items()
    }
    pjk = _inf.Jackknife(np.array(preps), middle, codes) if placebo_leads else None
    return jk, per_decay, pjk


def _replicate_slopes(
    des: Design,
    warm: _ppml.PPMLFit | None,
    present: np.ndarray,
    steps: int | None,
    what: str,
    decay: float,
    prep: PreparedPanel,
) -> np.ndarray:
    """Slopes (len(present), k) of ``des`` refitted without each district of
    ``present``, warm-started at ``warm``: on a large panel (``steps`` set) the
    replicates are stepped together (:mod:`~coverage_analysis.models._replicates`)
    and the ones that need a special case are fitted one by one, as every
    replicate is on a small panel."""
    slopes = np.full((len(present), des.x.shape[1]), np.nan)
    if BATCH_REPLICATES and steps is not None and warm is not None:
        slopes = _replicates.leave_one_out_slopes(
            des.y, des.x, des.d, des.m, des.offset, warm, present, steps, unscaled=des.y_unscaled
        )
    for r in np.flatnonzero(np.isnan(slopes).any(axis=1)):
        i = present[r]
        extra = np.ones(prep.shape, dtype=bool)
        extra[i] = False
        name = f"{what} without district {prep.districts[i]} at decay {decay:g}"
        slopes[r] = _fit(_without_district(des, i, extra), name, warm, steps).beta
    return slopes


def _without_district(des: Design, district: int, rows: np.ndarray) -> Design:
    """``des`` without the rows of ``district`` (its code in ``des.d``), as
    :func:`make_design` builds it for ``des.rows & rows`` when ``rows`` leaves out only
    that district: the same values in the same order (a rescaled outcome divided by
    its own mean), so the same fit. ``des.d`` is district-major (make_design's
    order), so the district is one block of rows.

    >>> des = Design(np.ones(4), np.zeros((4, 1)), np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]),
    ...              np.zeros(4), np.ones((2, 2), bool), 1.0)
    >>> _without_district(des, 0, np.array([[False, False], [True, True]])).d.tolist()
    [1, 1]
    """
    start, end = np.searchsorted(des.d, [district, district + 1])

    def cut(a: np.ndarray) -> np.ndarray:
        return np.concatenate((a[:start], a[end:]))

    y, y_scale, unscaled = cut(des.y), des.y_scale, None
    if des.y_unscaled is not None:
        unscaled = cut(des.y_unscaled)
        y_scale = mean_scale(unscaled)
        y = unscaled / y_scale
    return Design(
        y,
        cut(des.x),
        cut(des.d),
        cut(des.m),
        cut(des.offset),
        des.rows & rows,
        y_scale,
        des.estimand,
        unscaled,
    )


def _placebo_design(
    prep: PreparedPanel,
    estimand: str,
    decay: float,
    leads: Sequence[int],
    extra: np.ndarray | None = None,
) -> Design:
    rows = prep.usable(decay)
    if extra is not None:
        rows &= extra
    regs = [prep.index(decay)] + [prep.lead_index(decay, k) for k in leads]
    return make_design(prep, regs, rows, estimand)


#: Placebo leads: carry-over 1 and 2 months after the outcome.
PLACEBO_LEADS: tuple[int, ...] = (1, 2)


@dataclass
class CoverageInference:
    """The infer stage: coverage effect, placebo leads, jackknife and tests."""

    coverage_effect: Effect
    placebo_leads: list[Effect]
    placebo_p_holm: list[float]
    null_tests: _inf.NullTests
    jackknife: _inf.Jackknife
    information_by_district: dict[str, float]
    draws: np.ndarray  # t(G*-1) draws of the natural-log slope (what-if intervals)
    placebo_p_joint: float = float("nan")
    #: jackknife replicates of the placebo lead slopes (grid-averaged), None without placebo
    placebo_jackknife: _inf.Jackknife | None = None
    #: the grid-averaged lead slopes (natural-log scale)
    placebo_betas: np.ndarray | None = None

    @property
    def placebo_flagged(self) -> bool:
        """The joint test of both leads (:func:`~coverage_analysis.models.inference.joint_wald`)
        is below 5%: the flag. The per-lead Holm p-values are shown beside it."""
        return bool(math.isfinite(self.placebo_p_joint) and self.placebo_p_joint < 1.0 - LEVEL)


def infer_coverage(
    cf: CoverageFit,
    *,
    n_perm: int = DEFAULT_N_PERM,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = DEFAULT_SEED,
    placebo: bool = True,
) -> CoverageInference:
    """Infer stage: the estimate averaged over the decay grid, its CV3
    jackknife interval (every grid slope refitted in each replicate),
    randomisation and wild-bootstrap tests of no association (mean of the
    studentized scores over the grid), effective clusters, and the placebo
    leads averaged over the grid the same way (see :data:`DECAY_RULE`)."""
    prep, des, fit = cf.prep, cf.design, cf.fit
    leads = PLACEBO_LEADS if placebo else ()
    placebo_fits: dict[float, tuple[Design, _ppml.PPMLFit]] = {}
    for dec in cf.grid if placebo else ():
        pdes_d = _placebo_design(prep, cf.estimand, dec, leads, cf.extra_rows)
        placebo_fits[dec] = (
            pdes_d,
            _fit(pdes_d, f"{prep.outcome} placebo fit (leads {leads}) at decay {dec:g}"),
        )
    jk, per_decay, pjk = _jackknife(cf, leads, {dec: pf for dec, (_pd, pf) in placebo_fits.items()})
    g = len(jk.districts)
    info = _inf.information_by_cluster(fit, des.x, 0, des.d, des.m)
    g_star = _inf.effective_clusters(info)
    # restricted fit (no coverage) on every row with a known outcome
    base_rows = ~np.isnan(prep.y) & (prep.population > 0)
    if cf.extra_rows is not None:
        base_rows &= cf.extra_rows
    rdes = make_design(prep, [], base_rows, cf.estimand)
    rfit = _fit(rdes, f"{prep.outcome} restricted fit (no coverage)")
    gsh = prep.shape
    y_grid = np.zeros(gsh)
    mu_grid = np.zeros(gsh)
    base = np.zeros(gsh, dtype=bool)
    kept = np.zeros(gsh, dtype=bool)
    kept[rdes.rows] = rfit.keep
    y_grid[rdes.rows] = rdes.y
    mu_grid[rdes.rows] = rfit.mu
    base = kept
    indices = [prep.index(dcy) for dcy in cf.decays]
    known = [prep.known(dcy) for dcy in cf.decays]
    tests = _inf.null_tests(
        y_grid, mu_grid, base, indices, known, cf.decays, n_perm=n_perm, n_boot=n_boot, seed=seed
    )
    pvals = {
        "randomisation": tests.p_randomisation,
        "wild_score_bootstrap": tests.p_wild,
        "wcr_cv3_bootstrap": tests.p_wcr_cv3,
    }
    se = float(jk.se()[0])
    beta_ln = cf.beta_ln
    effect = Effect.from_ln(cf.estimand, beta_ln, se, pvals, _inf.PRIMARY_P_VALUE, g, g_star)
    effect.jackknife_se = {
        "grid_average": se / LN2,
        **{f"decay_{dec:g}": float(j.se()[0]) / LN2 for dec, j in per_decay.items()},
    }
    weight = 1.0 / len(cf.grid)
    for r in cf.decay_profile:
        dec = float(r["decay"])
        if dec in cf.grid:
            r["slope"] = float(cf.grid[dec][1].beta[0]) / LN2
            r["slope_se_cv3"] = float(per_decay[dec].se()[0]) / LN2
            r["weight"] = weight
    leads_eff: list[Effect] = []
    p_holm: list[float] = []
    p_joint = float("nan")
    if placebo and pjk is not None:
        lead_betas = []
        for dec in cf.grid:
            pdes_d, pfit_d = placebo_fits[dec]
            lead_betas.append(pfit_d.beta[1:])
            if dec == cf.decay:
                pdes, pfit = pdes_d, pfit_d
        lead_mean = np.mean(lead_betas, axis=0)
        pse = pjk.se()
        for k in range(len(leads)):
            pinfo = _inf.information_by_cluster(pfit, pdes.x, k + 1, pdes.d, pdes.m)
            leads_eff.append(
                Effect.from_ln(
                    cf.estimand,
                    float(lead_mean[k]),
                    float(pse[k]),
                    {},
                    "cv3_jackknife",
                    g,
                    _inf.effective_clusters(pinfo),
                )
            )
        from coverage_analysis.models.channels import holm

        p_holm = holm([e.p_value if math.isfinite(e.p_value) else 1.0 for e in leads_eff])
        pinfo0 = _inf.information_by_cluster(pfit, pdes.x, 1, pdes.d, pdes.m)
        p_joint = _inf.joint_wald(
            lead_mean, pjk.cov(), _inf.t_dof(g, _inf.effective_clusters(pinfo0))
        )
    rng = np.random.default_rng(seed)
    draws = beta_ln + se * rng.standard_t(_inf.t_dof(g, g_star), size=n_boot)
    present = np.unique(des.d[fit.keep])
    info_by = {prep.districts[i]: float(v) for i, v in zip(present, info, strict=True)}
    return CoverageInference(
        effect,
        leads_eff,
        p_holm,
        tests,
        jk,
        info_by,
        draws,
        p_joint,
        pjk,
        lead_mean if placebo and pjk is not None else None,
    )


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


def _share_loglik(
    prep: PreparedPanel,
    index: np.ndarray,
    rows: np.ndarray,
    origins: Sequence[int],
    estimand: str,
) -> tuple[float, float, int]:
    """Out-of-sample log-likelihood of each origin month's split of the
    outcome across districts given the month total (multinomial with
    probabilities proportional to the fitted mean; needs no month effect),
    from a fit on the earlier months only (the coverage index of a month
    uses only that month and earlier ones, unknown months filled from the
    past). A district absent from the training months is left out of its
    fold's score; the fold is still scored. Each month's log-likelihood is
    divided by its total. Returns (with coverage, without, n rows scored)."""
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
            des = make_design(prep, regs, train, estimand)
            fit = _fit(des, f"rolling-origin fit before month {prep.months[origin]:%Y-%m}")
            di = np.nonzero(test)[0]
            alpha = np.full(g, -np.inf)
            alpha[: len(fit.alpha)] = fit.alpha
            a = alpha[di]
            ok = np.isfinite(a)
            yt = prep.y[test][ok]
            eta = np.log(prep.population[test][ok] / PER_RESIDENTS) + a[ok]
            if regs:
                eta = eta + fit.beta[0] * index[test][ok]
            logp = eta - np.logaddexp.reduce(eta) if ok.any() else eta
            scores.append(float(np.sum(yt * logp) / yt.sum()) if yt.sum() > 0 else 0.0)
            if regs:
                n_scored += int(ok.sum())
        total_cov += scores[0]
        total_base += scores[1]
    return total_cov, total_base, n_scored


def search_decay(
    prep: PreparedPanel, grid: Sequence[float] = DECAY_GRID, estimand: str = DEFAULT_ESTIMAND
) -> tuple[float, list[dict[str, Any]]]:
    """Out-of-sample check of the carry-over: which decay's coverage index best
    predicts how each of the last ``N_ORIGINS`` months' outcome is shared
    among districts (rolling origin: each month predicted from a fit on all
    earlier months, past data only). Reported as a diagnostic beside the
    grid average; not used for inference (an audit found it picks nearly
    uniformly over the grid when the signal is weak).

    With fewer than ``MIN_TRAIN_MONTHS + 1`` usable months there is nothing
    to score: returns ``FALLBACK_DECAY`` and an empty table.
    """
    grid = sorted(grid)
    rows = prep.usable(max(grid))
    month_cols = np.nonzero(rows.any(axis=0))[0]
    origins = [int(o) for k, o in enumerate(month_cols) if k >= MIN_TRAIN_MONTHS][-N_ORIGINS:]
    if not origins:
        return FALLBACK_DECAY, []
    table = []
    for dec in grid:
        cov, base, n = _share_loglik(prep, prep.index(dec), rows, origins, estimand)
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


@dataclass
class CoverageModelResult:
    """What :func:`fit_coverage_model` found (the describe stage's input and
    the ``model_summary.json`` entry of one outcome; schema in
    ``models/model_summary.schema.json``). ``coverage_effect`` and
    ``placebo_effect`` are :class:`Effect` (mapping-like: ``e["beta"]``)."""

    outcome: str
    estimand: str
    estimand_description: str
    coverage_effect: Effect
    placebo_effect: Effect
    placebo_leads: list[Effect]
    placebo_p_holm: list[float]
    placebo_flagged: bool
    sensitivity: dict[str, Effect]
    effect_unit: str
    placebo_unit: str
    decay: float
    decay_selected_by: str
    decay_search: list[dict[str, Any]]
    n_obs: int
    n_clusters: int
    effective_clusters: float
    n_months: int
    rows_dropped: dict[str, int]
    inference: str
    method: str
    caveat: str
    overdispersion: dict[str, Any]
    fitted_relation: dict[str, Any]
    warnings: list[str]
    n_boot: int
    n_perm: int
    seed: int
    seconds: float
    decomposition: dict[str, Effect] = field(default_factory=dict)
    #: joint test of both placebo leads (the flag is this below 5%)
    placebo_p_joint: float = float("nan")
    information_by_district: dict[str, float] = field(default_factory=dict)
    district_effects_fe: dict[str, float] = field(default_factory=dict)
    month_effects: dict[str, float] = field(default_factory=dict)
    # internals for what_if / diagnostics (not serialised)
    _prep: PreparedPanel | None = field(default=None, repr=False)
    _design: Design | None = field(default=None, repr=False)
    _fit: _ppml.PPMLFit | None = field(default=None, repr=False)
    _draws: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (NaN and infinite values become ``None``)."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if not k.startswith("_")}
        return _jsonable(out)

    def summary_text(self, lang: str = "en") -> str:
        """One paragraph in words (``lang`` "en" or "ru")."""
        from coverage_analysis.models.describe import summary_text

        return summary_text(self.to_dict(), lang)


def _overdispersion(des: Design, fit: _ppml.PPMLFit, prep: PreparedPanel) -> dict[str, Any]:
    keep = fit.keep
    yk, mk = des.y[keep], fit.mu[keep]
    if des.estimand == "rate":
        counts_scale = prep.population[des.rows][keep] / PER_RESIDENTS * des.y_scale
    else:
        counts_scale = np.full(len(yk), des.y_scale)
    if prep.outcome != "applications":
        counts_scale = counts_scale / float(np.mean(prep.y[des.rows]) or 1.0)
    yc, mc = yk * counts_scale, mk * counts_scale
    n_par = 1 + len(np.unique(des.d[keep])) + len(np.unique(des.m[keep])) - 1
    pearson = float(np.sum((yc - mc) ** 2 / mc) / max(int(keep.sum()) - n_par, 1))
    nb2 = float(np.sum((yc - mc) ** 2 - yc) / np.sum(mc**2))
    apps = prep.outcome == "applications"
    return {
        "pearson_chi2_per_df": pearson,
        "nb2_alpha_moment": nb2 if apps else float("nan"),
        "note": (
            "Pearson chi2/df of the PPML fit (1 = Poisson). PPML stays consistent under "
            "overdispersion; the jackknife and the randomisation test assume no variance."
            if apps
            else "Amounts are not counts: chi2/df is computed in units of the mean amount per "
            "district-month and only shows the spread; PPML needs only the mean to be right."
        ),
    }


def _fitted_relation(prep: PreparedPanel, cf: CoverageFit, eff: Effect, what: str) -> dict:
    des, fit = cf.design, cf.fit
    keep = fit.keep
    yk, mk = des.y[keep], fit.mu[keep]
    beta = eff.beta * LN2
    ci = prep.index(cf.decay)[des.rows][keep]
    grid_c = np.linspace(0.0, float(np.max(ci)) if len(ci) else 1.0, CURVE_POINTS)
    mu_fe = mk / np.exp(float(fit.beta[0]) * ci)  # the fitted coverage term at this decay
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
    lo, hi = eff.beta_ci_low * LN2, eff.beta_ci_high * LN2
    with np.errstate(invalid="ignore", over="ignore"):
        band_lo = np.exp(np.minimum(lo * grid_c, hi * grid_c))
        band_hi = np.exp(np.maximum(lo * grid_c, hi * grid_c))
    return {
        "x_label": "coverage index: log2(1 + carry-over materials per 10,000 residents)",
        "y_label": f"expected {what} relative to no coverage (same district and month)",
        "coverage_index": grid_c,
        "materials_per_10k_carryover": 2.0**grid_c - 1.0,
        "relative_expected": np.exp(beta * grid_c),
        "ci_low": band_lo,
        "ci_high": band_hi,
        "binned_points": points,
    }


def _decomposition(
    panel: pd.DataFrame, prep: PreparedPanel, estimand: str, decay: float, seed: int
) -> dict[str, Effect]:
    """Amounts = applications x amount per application, at the same decay:
    the applications slope and the slope of the amount with log(applications)
    as offset (rows with applications), each with its CV3 interval."""
    apps = prepare_panel(panel, "applications")
    out: dict[str, Effect] = {}
    per_app = np.where(apps.y > 0, np.log(np.where(apps.y > 0, apps.y, 1.0)), np.nan)
    for part, pp, offset in (
        ("applications", apps, None),
        ("amount_per_application", prep, per_app),
    ):
        rows = pp.usable(decay)
        if offset is not None:
            rows &= ~np.isnan(offset)
        des = make_design(pp, [pp.index(decay)], rows, estimand, offset_grid=offset)
        try:
            _check_enough(des, part)
        except InsufficientDataError:
            continue
        fit = _fit(des, f"{part} part of the amounts model")
        present = np.unique(des.d[fit.keep])
        reps = []
        for i in present:
            sub = rows.copy()
            sub[i] = False
            jdes = make_design(pp, [pp.index(decay)], sub, estimand, offset_grid=offset)
            reps.append(_fit(jdes, f"{part} jackknife fit without {pp.districts[i]}").beta[:1])
        se = float(_inf.Jackknife(np.array(reps), np.full(len(reps), decay), []).se()[0])
        info = _inf.information_by_cluster(fit, des.x, 0, des.d, des.m)
        out[part] = Effect.from_ln(
            estimand,
            float(fit.beta[0]),
            se,
            {},
            "cv3_jackknife",
            len(present),
            _inf.effective_clusters(info),
        )
    return out


def fit_coverage_model(
    panel: pd.DataFrame,
    outcome: str = "applications",
    *,
    estimand: str = DEFAULT_ESTIMAND,
    decay: float | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    n_perm: int = DEFAULT_N_PERM,
    seed: int = DEFAULT_SEED,
    decay_grid: Sequence[float] = DECAY_GRID,
    sensitivity: bool = True,
    placebo: bool = True,
) -> CoverageModelResult:
    """Fit, infer and describe the coverage model of ``outcome``
    ("applications" or "amount_kzt") for ``estimand`` ("exposure", default,
    or "rate"); see the module docstring. ``decay=None`` profiles the decay
    over ``decay_grid``; a number fixes it (amounts reuse the applications
    decay this way). ``sensitivity`` also fits the other estimand (its
    coverage effect is shown beside). BLAS runs single-threaded inside."""
    from coverage_analysis.models import describe

    started = time.perf_counter()
    with threadpool_limits(limits=1):
        cf = fit_coverage(panel, outcome, estimand=estimand, decay=decay, decay_grid=decay_grid)
        inf = infer_coverage(cf, n_perm=n_perm, n_boot=n_boot, seed=seed, placebo=placebo)
        sens: dict[str, Effect] = {estimand: inf.coverage_effect}
        if sensitivity:
            for other in ESTIMANDS:
                if other == estimand:
                    continue
                ocf = fit_coverage(
                    cf.prep, outcome, estimand=other, decay=decay, decay_grid=decay_grid
                )
                sens[other] = infer_coverage(
                    ocf, n_perm=n_perm, n_boot=n_boot, seed=seed, placebo=False
                ).coverage_effect
        decomposition = (
            _decomposition(panel, cf.prep, estimand, cf.decay, seed)
            if outcome == "amount_kzt"
            else {}
        )
    prep, des, fit = cf.prep, cf.design, cf.fit
    what = "applications" if outcome == "applications" else "amounts legalized"
    eff = inf.coverage_effect
    keep = fit.keep
    clusters = np.unique(des.d[keep])
    placebo_eff = (
        inf.placebo_leads[0]
        if inf.placebo_leads
        else Effect.from_ln(
            estimand, float("nan"), float("nan"), {}, "cv3_jackknife", len(clusters), float("nan")
        )
    )
    warnings = describe.warnings_en(
        what=what,
        placebo_flagged=inf.placebo_flagged,
        n_clusters=len(clusters),
        g_star=eff.effective_clusters,
        decay=cf.decay,
        decays=cf.decays,
        selected_by=cf.decay_selected_by,
        interval_finite=bool(math.isfinite(eff.beta_ci_low) and math.isfinite(eff.beta_ci_high)),
        dropped=fit.dropped or {},
    )
    dropped = {
        "outcome_missing": int(np.isnan(prep.y).sum()),
        "coverage_unreported": int((~prep.reported & ~np.isnan(prep.y)).sum()),
        "carryover_unknown_after_unreported": int(
            (prep.reported & ~prep.known(cf.decay) & ~np.isnan(prep.y)).sum()
        ),
        **{k: int(v) for k, v in (fit.dropped or {}).items()},
    }
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
    profile = [dict(r) for r in cf.decay_profile]
    seconds = time.perf_counter() - started
    log.info("coverage model %s (%s) fitted in %.2f s", outcome, estimand, seconds)
    return CoverageModelResult(
        outcome=outcome,
        estimand=estimand,
        estimand_description=ESTIMANDS[estimand],
        coverage_effect=eff,
        placebo_effect=placebo_eff,
        placebo_leads=inf.placebo_leads,
        placebo_p_holm=inf.placebo_p_holm,
        placebo_flagged=inf.placebo_flagged,
        placebo_p_joint=inf.placebo_p_joint,
        sensitivity=sens,
        effect_unit=EFFECT_UNITS[outcome],
        placebo_unit=PLACEBO_UNIT.format(what=what),
        decay=cf.decay,
        decay_selected_by=cf.decay_selected_by,
        decay_search=profile,
        n_obs=int(keep.sum()),
        n_clusters=len(clusters),
        effective_clusters=eff.effective_clusters,
        n_months=len(np.unique(des.m[keep])),
        rows_dropped=dropped,
        inference=describe.inference_en(
            n_clusters=len(clusters),
            g_star=eff.effective_clusters,
            n_perm=n_perm,
            n_boot=n_boot,
            n_decays=len(cf.decays),
            primary=eff.p_value_method,
        ),
        method=describe.method_en(outcome, estimand, cf.decay, window_lags(cf.decay) - 1),
        caveat=CAVEAT,
        overdispersion=_overdispersion(des, fit, prep),
        fitted_relation=_fitted_relation(prep, cf, eff, what),
        warnings=warnings,
        n_boot=n_boot,
        n_perm=n_perm,
        seed=seed,
        seconds=seconds,
        decomposition=decomposition,
        information_by_district=inf.information_by_district,
        district_effects_fe=fe_alpha,
        month_effects=fe_gamma,
        _prep=prep,
        _design=des,
        _fit=fit,
        _draws=inf.draws,
    )


def fixed_decay_effects(
    prep: PreparedPanel,
    regressors: Sequence[np.ndarray],
    rows: np.ndarray,
    estimand: str = DEFAULT_ESTIMAND,
    name: str = "model",
) -> tuple[list[Effect], _ppml.PPMLFit, Design]:
    """Every slope of a model at a fixed decay with its CV3 jackknife
    interval and t(G*-1) p-value (channel models, sensitivity checks)."""
    with threadpool_limits(limits=1):
        des = make_design(prep, regressors, rows, estimand)
        fit = _fit(des, name)
        present = np.unique(des.d[fit.keep])
        reps = []
        for i in present:
            sub = rows.copy()
            sub[i] = False
            jdes = make_design(prep, regressors, sub, estimand)
            reps.append(_fit(jdes, f"{name}: jackknife fit without {prep.districts[i]}").beta)
        se = _inf.Jackknife(np.array(reps), np.zeros(len(reps)), []).se()
        out = []
        for j in range(des.x.shape[1]):
            info = _inf.information_by_cluster(fit, des.x, j, des.d, des.m)
            out.append(
                Effect.from_ln(
                    estimand,
                    float(fit.beta[j]),
                    float(se[j]),
                    {},
                    "cv3_jackknife",
                    len(present),
                    _inf.effective_clusters(info),
                )
            )
    return out, fit, des
