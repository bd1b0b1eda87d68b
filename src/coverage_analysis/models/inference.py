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
  whole estimator without one district -- the slopes at every decay of the
  grid that the estimate averages -- so the spread over the carry-over decays
  is carried into the interval; interval ``beta +- t(G*-1) se``: critical
  values of a t with the *effective* number of clusters less one, because the
  districts act like G* equal ones (t(G-1) undercovered in simulation);
- a **randomisation test**: coverage paths (a district's whole series) are
  shuffled across districts; the statistic is the mean over the decay grid
  of the studentized cluster scores of ``beta = 0`` (the same equal weights
  as the estimate, fixed in advance, so there is no search to pay for), under
  a restricted fit that involves no coverage and is therefore computed once;
- the **wild cluster score bootstrap** (Kline & Santos 2012, Webb weights) of
  the same statistic, for reference;
- the **wild cluster restricted bootstrap of the linearised CV3 t**
  (:func:`wcr_cv3`, MacKinnon, Nielsen & Webb 2023), for reference.

Which p-value is primary is fixed by :data:`PRIMARY_P_VALUE`, chosen by its
size on held-out simulations (README, "Coverage model"): the CV3 t-test, so
the p-value and the interval come from the same jackknife.

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

#: P-values computed for every slope (the primary one: :data:`PRIMARY_P_VALUE`).
P_VALUE_METHODS: tuple[str, ...] = ("randomisation", "cv3_jackknife", "wild_score_bootstrap")
#: The p-value reported as ``p_value``: the method whose largest size over the
#: simulators and estimands was smallest on held-out simulated panels
#: (``benchmarks/pilot_model_rules.py``, seed offset 1,000,000; README): the CV3
#: t-test of the grid average with t(G*-1) (6% / 13% at the 5% / 10% levels at
#: worst). t(G-1), the randomisation test, the wild score bootstrap and the WCR
#: bootstrap of the CV3 t had more power and larger sizes (7-8% / 15-19%).
PRIMARY_P_VALUE = "cv3_jackknife"
#: How the studentized scores of the decay grid are combined into the test
#: statistic: "mean" (equal weights, as the estimate averages the slopes) or
#: "max" (a search over the grid). The mean had the better power at equal
#: size on the held-out pilot (README).
NULL_STATISTIC = "mean"
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

    def cov(self) -> np.ndarray:
        """CV3 covariance: ``(G-1)/G * sum (b_(g) - mean)(b_(g) - mean)'``."""
        g = self.replicates.shape[0]
        dev = self.replicates - self.replicates.mean(axis=0)
        return (g - 1) / g * dev.T @ dev

    def se(self) -> np.ndarray:
        """CV3 standard errors: ``sqrt((G-1)/G * sum (b_(g) - mean)^2)``."""
        g = self.replicates.shape[0]
        dev = self.replicates - self.replicates.mean(axis=0)
        return np.sqrt((g - 1) / g * np.sum(dev**2, axis=0))


def t_dof(g: int, g_star: float) -> float:
    """Degrees of freedom of the CV3 t reference: ``G* - 1`` (effective
    clusters, never more than ``G - 1``), ``G - 1`` when G* is unknown, at
    least 1.

    >>> t_dof(19, 9.5), t_dof(19, float("nan")), t_dof(3, 1.2)
    (8.5, 18.0, 1.0)
    """
    dof = float(g - 1)
    if math.isfinite(g_star):
        dof = min(dof, g_star - 1.0)
    return max(dof, 1.0)


def joint_wald(beta: np.ndarray, cov: np.ndarray, dof: float) -> float:
    """p-value of ``beta = 0`` for k slopes jointly: the Wald statistic with
    the jackknife covariance, referred to Hotelling's ``F(k, dof - k + 1)``
    (``dof`` = the t degrees of freedom, :func:`t_dof`). Collinear slopes
    (the two placebo leads) keep their joint power where each one's own t
    loses it. NaN when the covariance is singular or ``dof < k``.

    >>> round(joint_wald(np.array([0.0, 0.0]), np.eye(2), 10.0), 3)
    1.0
    """
    beta = np.asarray(beta, dtype=float)
    k = beta.size
    if not (np.all(np.isfinite(beta)) and np.all(np.isfinite(cov))) or dof < k:
        return float("nan")
    try:
        w = float(beta @ np.linalg.solve(cov, beta))
    except np.linalg.LinAlgError:
        return float("nan")
    f = (dof - k + 1) / (k * dof) * w
    return float(stats.f.sf(f, k, dof - k + 1))


def cv3_interval(
    beta: float, se: float, g: int, level: float, dof: float | None = None
) -> tuple[float, float, float]:
    """``(low, high, p)``: ``beta +- t(dof) se`` and the two-sided t(dof)
    p-value of 0 (``dof`` defaults to ``G - 1``)."""
    if not (math.isfinite(se) and se > 0 and g > 1):
        return float("nan"), float("nan"), float("nan")
    dof = float(g - 1) if dof is None else dof
    q = float(stats.t.ppf(0.5 + level / 2, dof))
    p = float(2 * stats.t.sf(abs(beta) / se, dof))
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
    """Tests of ``beta = 0`` over the decay grid ``decays``."""

    p_randomisation: float
    p_wild: float
    t_by_decay: dict[float, float]
    n_perm: int
    n_boot: int
    #: wild cluster restricted bootstrap of the linearised CV3 t (:func:`wcr_cv3`)
    p_wcr_cv3: float = float("nan")


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
    combine: str = NULL_STATISTIC,
) -> NullTests:
    """Randomisation and wild-bootstrap p-values of ``|mean_d t_d|``
    (``combine="mean"``) or ``max_d |t_d|`` (``"max"``).

    ``y`` and ``mu0`` are (G, T) outcome and restricted (no coverage) fitted
    mean, ``base`` the (G, T) mask of rows in the restricted fit; ``indices``
    and ``known`` the (G, T) coverage index and its known-mask at each decay.
    ``t_d`` is the studentized cluster score ``sum_g s_g / sqrt(sum_g s_g^2)``
    with ``s_g = sum_t x~ (y - mu0)`` over the rows with known coverage.
    Randomisation: district ``i`` gets the coverage path (and its known mask)
    of district ``pi(i)``, ``n_perm`` random permutations plus the identity.
    """
    if combine not in ("mean", "max"):
        raise ValueError(f"combine must be 'mean' or 'max', got {combine!r}")
    g, _t = y.shape
    rng = np.random.default_rng(seed)
    perms = np.vstack([np.arange(g)] + [rng.permutation(g) for _ in range(n_perm)])
    resid = np.where(base, y - mu0, 0.0)
    t_all = np.empty((len(decays), len(perms)))
    s_obs, h_obs = [], []
    for k, (idx, kn) in enumerate(zip(indices, known, strict=True)):
        xp = np.where(kn, idx, 0.0)[perms]  # (B, G, T)
        w = np.where(kn[perms] & base[None], mu0[None], 0.0)
        xt = _project(xp, w)
        s = np.sum(xt * resid[None], axis=-1)  # (B, G)
        denom = np.sqrt(np.sum(s**2, axis=1))
        t_all[k] = np.divide(s.sum(axis=1), denom, out=np.zeros(len(perms)), where=denom > 0)
        s_obs.append(s[0])
        h_obs.append(np.sum(w[0] * xt[0] ** 2, axis=-1))
    stat = np.abs(t_all.mean(axis=0)) if combine == "mean" else np.max(np.abs(t_all), axis=0)
    p_perm = float(np.mean(stat[1:] >= stat[0] - 1e-12) * n_perm + 1) / (n_perm + 1)
    weights = _ppml.webb_weights(n_boot, g, seed)
    t_stars = []
    for s in s_obs:
        ws = weights * s[None, :]
        den = np.sqrt(np.sum(ws**2, axis=1))
        t_stars.append(np.divide(ws.sum(axis=1), den, out=np.zeros(n_boot), where=den > 0))
    t_star = np.array(t_stars)
    star = np.abs(t_star.mean(axis=0)) if combine == "mean" else np.max(np.abs(t_star), axis=0)
    p_wild = float((np.sum(star >= stat[0] - 1e-12) + 1) / (n_boot + 1))
    return NullTests(
        p_randomisation=p_perm,
        p_wild=p_wild,
        p_wcr_cv3=wcr_cv3(np.array(s_obs), np.array(h_obs), weights),
        t_by_decay={float(dcy): float(t_all[k, 0]) for k, dcy in enumerate(decays)},
        n_perm=n_perm,
        n_boot=n_boot,
    )


def _linear_cv3_t(s: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Linearised CV3 t of the grid-averaged slope for each row of scores.

    ``s`` (B, D, G): cluster scores of ``beta = 0`` at each of D decays in B
    worlds; ``h`` (D, G): the clusters' information. One Newton step from
    ``beta = 0`` gives ``beta_d = S_d / H_d`` and, without cluster g,
    ``beta_d(g) = (S_d - s_dg) / (H_d - h_dg)``; both are averaged over the
    decays (the estimate's equal weights), and the t is the average over the
    CV3 standard error of the leave-one-out averages, which carries each
    cluster's leverage ``h_dg / H_d`` as the CV3 jackknife does."""
    big_s = s.sum(axis=-1)  # (B, D)
    big_h = h.sum(axis=-1)  # (D,)
    beta = np.mean(big_s / big_h, axis=-1)  # (B,)
    rest = np.maximum(big_h[:, None] - h, 1e-300)  # (D, G)
    loo = np.mean((big_s[..., None] - s) / rest, axis=1)  # (B, G)
    g = s.shape[-1]
    dev = loo - loo.mean(axis=-1, keepdims=True)
    se = np.sqrt((g - 1) / g * np.sum(dev**2, axis=-1))
    return np.divide(beta, se, out=np.zeros_like(beta), where=se > 0)


def wcr_cv3(s: np.ndarray, h: np.ndarray, weights: np.ndarray) -> float:
    """p-value of ``beta = 0``: wild cluster restricted bootstrap (Webb weights
    ``weights``, (B, G)) of the linearised CV3 t (:func:`_linear_cv3_t`), as
    MacKinnon, Nielsen & Webb (2023) recommend with few, unequal clusters: the
    restricted cluster scores ``s`` (D, G) are multiplied by each draw's weights,
    and the t of every draw is studentised by its own jackknife.

    >>> rng = np.random.default_rng(0)
    >>> s, h = rng.normal(size=(5, 19)), np.ones((5, 19))
    >>> 0 < wcr_cv3(s, h, _ppml.webb_weights(199, 19, 1)) <= 1
    True
    """
    if s.size == 0:
        return float("nan")
    t_obs = _linear_cv3_t(s[None], h)[0]
    t_star = _linear_cv3_t(weights[:, None, :] * s[None], h)
    n_boot = weights.shape[0]
    return float((np.sum(np.abs(t_star) >= abs(t_obs) - 1e-12) + 1) / (n_boot + 1))
