"""Inference with 19 districts of very unequal size.

Why not the usual cluster-robust standard errors: with 19 clusters, two of
them cities of 300,000 next to districts of 15,000, one district can carry
most of the score variance, and CR1 standard errors or even a wild cluster
bootstrap reject a true null too often (an audit measured 6.8-8.3% at the 5%
level for the wild score bootstrap at a fixed decay). So every result carries

- the **effective number of clusters** (Carter, Schnepel & Steigerwald 2017,
  their G* with the working Poisson variance and no within-district
  correlation: ``G* = G / (1 + CV^2)`` of the districts' shares of the
  information), which says how many equal districts the data are worth;
- a **cluster jackknife (CV3)** standard error whose replicates redo the
  whole estimator without one district -- including the choice of the
  carry-over decay -- so the decay's uncertainty is carried into the
  interval; interval ``beta +- t(G-1) se``;
- a **randomisation test**: coverage paths (a district's whole series) are
  shuffled across districts; the statistic is the largest studentized
  cluster score of ``beta = 0`` over the candidate decays (so the test pays
  for the decay being profiled), under a restricted fit that involves no
  coverage and is therefore computed once;
- the **wild cluster score bootstrap** (Kline & Santos 2012, Webb weights) of
  the same max statistic, for reference.

Which p-value is primary is fixed by :data:`PRIMARY_P_VALUE`, chosen by its
size on held-out simulations (README, "Coverage model").

>>> import numpy as np
>>> effective_clusters(np.ones(19)), round(effective_clusters(np.r_[10.0, np.ones(18)]), 1)
(19.0, 6.6)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from coverage_analysis.models import _ppml

#: P-values computed for every slope; the first is the primary one unless
#: :data:`PRIMARY_P_VALUE` says otherwise.
P_VALUE_METHODS: tuple[str, ...] = ("randomisation", "cv3_jackknife", "wild_score_bootstrap")
#: The p-value reported as ``p_value``: the method whose size stayed at or
#: below the nominal level on held-out simulated panels (validate_model.py).
PRIMARY_P_VALUE = "randomisation"
#: Ridge (relative to the largest month weight) that keeps the month-effect
#: solve finite when a permutation leaves a month without rows.
PROJECTION_RIDGE = 1e-12


def effective_clusters(gamma: np.ndarray) -> float:
    """Carter, Schnepel & Steigerwald's ``G* = G / (1 + Gamma)`` with
    ``Gamma`` the squared coefficient of variation (population variance over
    squared mean) of the clusters' contributions ``gamma``."""
    gamma = np.asarray(gamma, dtype=float)
    gamma = gamma[np.isfinite(gamma)]
    if gamma.size == 0 or gamma.mean() <= 0:
        return float("nan")
    cv2 = float(np.mean((gamma - gamma.mean()) ** 2) / gamma.mean() ** 2)
    return float(gamma.size / (1.0 + cv2))


def information_by_cluster(
    fit: _ppml.PPMLFit, x: np.ndarray, j: int, d: np.ndarray, m: np.ndarray
) -> np.ndarray:
    """Each district's share of the information about coefficient ``j``:
    ``sum_t mu x~^2`` with ``x~`` the regressor after the other regressors and
    both fixed effects (weights ``mu``). Districts absent from the fit are 0."""
    keep = fit.keep
    mu = fit.mu[keep]
    others = np.delete(x, j, axis=1)
    xt = _ppml.partial_out(x[keep, j], others[keep], d[keep], m[keep], mu)
    info = np.bincount(d[keep], weights=mu * xt * xt, minlength=int(d.max()) + 1)
    return info[np.unique(d[keep])]


@dataclass
class Jackknife:
    """Leave-one-district-out replicates of one or more slopes."""

    replicates: np.ndarray  # (G, k) slopes without each district (natural-log scale)
    decays: np.ndarray  # (G,) decay chosen in each replicate
    districts: list[int]  # district code left out in each replicate

    def se(self) -> np.ndarray:
        """CV3 standard errors: ``sqrt((G-1)/G * sum (b_(g) - mean)^2)``."""
        g = self.replicates.shape[0]
        dev = self.replicates - self.replicates.mean(axis=0)
        return np.sqrt((g - 1) / g * np.sum(dev**2, axis=0))


def cv3_interval(beta: float, se: float, g: int, level: float) -> tuple[float, float, float]:
    """``(low, high, p)``: ``beta +- t(G-1) se`` and the two-sided t(G-1) p-value of 0."""
    if not (math.isfinite(se) and se > 0 and g > 1):
        return float("nan"), float("nan"), float("nan")
    q = float(stats.t.ppf(0.5 + level / 2, g - 1))
    p = float(2 * stats.t.sf(abs(beta) / se, g - 1))
    return beta - q * se, beta + q * se, p


def _project(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Residual of ``x`` (B, G, T) after weighted (``w``, same shape)
    least squares on district and month effects, for all B at once: the
    district effects are eliminated (Schur complement) and the month
    effects solved exactly, first month fixed at 0; rows with zero weight
    get 0."""
    wx = w * x
    wg = w.sum(axis=2)  # (B, G)
    inv_g = np.divide(1.0, wg, out=np.zeros_like(wg), where=wg > 0)
    rg = wx.sum(axis=2)  # (B, G)
    rt = wx.sum(axis=1)  # (B, T)
    wt = w.sum(axis=1)  # (B, T)
    # (diag(wt) - W' diag(1/wg) W) b = rt - W' (rg / wg), months 1..T-1
    wi = w * inv_g[:, :, None]
    a_mat = -np.matmul(wi.transpose(0, 2, 1), w)
    idx = np.arange(w.shape[2])
    a_mat[:, idx, idx] += wt
    rhs = rt - np.matmul((rg * inv_g)[:, None, :], w)[:, 0, :]
    a_sub = a_mat[:, 1:, 1:]
    ridge = PROJECTION_RIDGE * max(float(wt.max()), 1e-300)
    a_sub[:, idx[:-1], idx[:-1]] += ridge
    b_t = np.zeros_like(wt)
    b_t[:, 1:] = np.linalg.solve(a_sub, rhs[:, 1:, None])[..., 0]
    a_g = (rg - np.matmul(w, b_t[:, :, None])[..., 0]) * inv_g
    xt = x - a_g[:, :, None] - b_t[:, None, :]
    return np.where(w > 0, xt, 0.0)


@dataclass
class NullTests:
    """Tests of ``beta = 0`` with the decay profiled over ``decays``."""

    p_randomisation: float
    p_wild: float
    t_by_decay: dict[float, float]
    n_perm: int
    n_boot: int


def null_tests(
    y: np.ndarray,
    mu0: np.ndarray,
    base: np.ndarray,
    indices: Sequence[np.ndarray],
    known: Sequence[np.ndarray],
    decays: Sequence[float],
    *,
    n_perm: int,
    n_boot: int,
    seed: int,
) -> NullTests:
    """Randomisation and wild-bootstrap p-values of ``max_d |t_d|``.

    ``y`` and ``mu0`` are (G, T) outcome and restricted (no coverage) fitted
    mean, ``base`` the (G, T) mask of rows in the restricted fit; ``indices``
    and ``known`` the (G, T) coverage index and its known-mask at each decay.
    ``t_d`` is the studentized cluster score ``sum_g s_g / sqrt(sum_g s_g^2)``
    with ``s_g = sum_t x~ (y - mu0)`` over the rows with known coverage.
    Randomisation: district ``i`` gets the coverage path (and its known mask)
    of district ``pi(i)``, ``n_perm`` random permutations plus the identity.
    """
    g, _t = y.shape
    rng = np.random.default_rng(seed)
    perms = np.vstack([np.arange(g)] + [rng.permutation(g) for _ in range(n_perm)])
    resid = np.where(base, y - mu0, 0.0)
    t_all = np.empty((len(decays), len(perms)))
    s_obs = []
    for k, (idx, kn) in enumerate(zip(indices, known, strict=True)):
        xp = np.where(kn, idx, 0.0)[perms]  # (B, G, T)
        w = np.where(kn[perms] & base[None], mu0[None], 0.0)
        xt = _project(xp, w)
        s = np.sum(xt * resid[None], axis=-1)  # (B, G)
        denom = np.sqrt(np.sum(s**2, axis=1))
        t_all[k] = np.divide(s.sum(axis=1), denom, out=np.zeros(len(perms)), where=denom > 0)
        s_obs.append(s[0])
    stat = np.max(np.abs(t_all), axis=0)
    p_perm = float(np.mean(stat[1:] >= stat[0] - 1e-12) * n_perm + 1) / (n_perm + 1)
    weights = _ppml.webb_weights(n_boot, g, seed)
    star = np.zeros(n_boot)
    for s in s_obs:
        ws = weights * s[None, :]
        den = np.sqrt(np.sum(ws**2, axis=1))
        t_star = np.divide(ws.sum(axis=1), den, out=np.zeros(n_boot), where=den > 0)
        star = np.maximum(star, np.abs(t_star))
    p_wild = float((np.sum(star >= stat[0] - 1e-12) + 1) / (n_boot + 1))
    return NullTests(
        p_randomisation=p_perm,
        p_wild=p_wild,
        t_by_decay={float(dcy): float(t_all[k, 0]) for k, dcy in enumerate(decays)},
        n_perm=n_perm,
        n_boot=n_boot,
    )
