"""Numerical core: Poisson quasi-likelihood (PPML) with two-way fixed effects.

Kept in plain numpy (the information matrix is assembled from per-district
and per-month sums, never from a dense dummy design). Why a high-dimensional
fixed-effects (HDFE) solve: a full model fit refits the PPML about 150 times
on the region's 19 districts but about 3,300 times on the republic's 216 (the
jackknife leaves out each district; there the replicates of one design are
stepped together, :mod:`~coverage_analysis.models._replicates`), and a dense
Newton solve of all k + G + T - 1 coefficients costs O((G + T)^3) per step. The district block of the
information matrix is diagonal, so it is eliminated (Schur complement on the
slopes and months, :func:`_fe_solve`): O(G T^2) per step, and the district
effects are concentrated out after each trial point (closed form for Poisson).
The dense solver is kept (:func:`_newton_fe_dense`, :func:`dense_reference`)
as the reference the tests and ``benchmarks/bench_model.py`` compare with.
Hygiene as in ppmlhdfe: all-zero fixed effects, singletons and rows separated
by the regressors are dropped and counted; step-halving never accepts a step
that lowers the quasi-likelihood by more than rounding (:data:`LL_ROUNDING`);
a fit that does not converge raises :class:`ConvergenceError` naming the fit.
The estimates agree with ``statsmodels`` ``GLM(family=Poisson())`` on a
design built independently from the panel (checked in the tests).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> d = np.repeat(np.arange(10), 30); m = np.tile(np.arange(30), 10)
>>> x = rng.normal(size=300)
>>> y = rng.poisson(np.exp(1.0 + 0.3 * x)).astype(float)
>>> fit = fit_ppml_fe(y, x[:, None], d, m, np.zeros(300))
>>> bool(fit.converged), round(float(fit.beta[0]), 2)
(True, 0.25)
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from scipy.linalg.lapack import dposv as _dposv

from coverage_analysis.errors import CoverageAnalysisError

log = logging.getLogger(__name__)


class ConvergenceError(CoverageAnalysisError, ArithmeticError):
    """A PPML fit that did not converge; the message names the fit."""


#: Newton iterations before giving up on a PPML fit.
MAX_ITER = 100
#: Convergence: largest change in the linear predictor between iterations.
TOL_ETA = 1e-9
#: Ridge added to the information matrix diagonal to keep solves finite when
#: a fixed effect is nearly unidentified (rows of one month in one district).
RIDGE = 1e-10
#: Linear predictor is clipped here so that exp() never overflows.
ETA_CLIP = 50.0
#: Step halvings before a Newton step is given up (never accepted if worse).
MAX_HALVINGS = 30
#: Separation check as in ppmlhdfe's "mu" method: a zero-outcome row whose
#: fitted mean falls below this share of the mean outcome is separated.
MU_SEPARATION_TOL = 1e-8
#: Converged also when the score (gradient) is this small relative to the outcome.
TOL_GRAD = 1e-10
#: A step "lowers" the quasi-likelihood only by more than this share of its size:
#: below it the difference is rounding (about 1e-16 per term summed over the rows),
#: and halving a Newton step near the optimum for a rounding-level drop only slows
#: convergence (a 216-district fit took up to 16 iterations instead of 4).
LL_ROUNDING = 1e-13

#: Webb (2013) six-point weights: +-sqrt(1/2), +-1, +-sqrt(3/2), equal mass;
#: mean 0, variance 1. Preferred over Rademacher with few clusters because
#: Rademacher has only 2**G distinct draws and a lumpy p-value distribution.
WEBB_POINTS = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


@dataclass
class PPMLFit:
    """A PPML fit: regressor coefficients ``beta``, district effects ``alpha``
    (one per district code, ``-inf`` for districts without any positive
    outcome), month effects ``gamma`` (first month 0), fitted means ``mu``."""

    beta: np.ndarray
    alpha: np.ndarray
    gamma: np.ndarray
    mu: np.ndarray
    converged: bool
    n_iter: int
    keep: np.ndarray  # rows that entered the fit (not separated)
    theta: np.ndarray  # all coefficients of the dense design (warm starts)
    dropped: dict[str, int] | None = None  # rows dropped by reason (see fit_ppml_fe)


def webb_weights(n_boot: int, n_clusters: int, seed: int) -> np.ndarray:
    """``n_boot`` x ``n_clusters`` Webb six-point weights.

    >>> w = webb_weights(2000, 19, 1)
    >>> w.shape, abs(float(w.mean())) < 0.05, abs(float((w**2).mean()) - 1) < 0.05
    ((2000, 19), True, True)
    """
    rng = np.random.default_rng(seed)
    return WEBB_POINTS[rng.integers(0, len(WEBB_POINTS), size=(n_boot, n_clusters))]


def separated_rows(y: np.ndarray, d: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Rows to keep after dropping (as ppmlhdfe does) districts and months whose
    outcome is all zero (their fixed effect would run to minus infinity; such
    rows carry no information about the slope) and singletons (a district or
    month with one row: its effect fits that row exactly). Repeated until stable.

    >>> y = np.array([0., 0., 1., 2., 3., 4., 5.])
    >>> d = np.array([0, 0, 1, 1, 2, 2, 3]); m = np.array([0, 1, 0, 1, 0, 1, 1])
    >>> separated_rows(y, d, m).tolist()
    [False, False, True, True, True, True, False]
    """
    return _drop_rows(y, d, m)[0]


def _nothing_to_drop(y: np.ndarray, d: np.ndarray, m: np.ndarray) -> bool:
    """True when no district or month is all zero or a singleton (the common
    case, checked with four bincounts instead of the dropping loop)."""
    for codes in (d, m):
        size = np.bincount(codes)
        tot = np.bincount(codes, weights=y)
        present = size > 0
        if np.any(present & ((size == 1) | ~(tot > 0))):
            return False
    return True


def _drop_rows(y: np.ndarray, d: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, dict[str, int]]:
    keep = np.ones(len(y), dtype=bool)
    counts = {"all_zero_fixed_effect": 0, "singleton": 0}
    if len(y) and _nothing_to_drop(y, d, m):
        return keep, counts
    while True:
        before = int(keep.sum())
        for codes in (d, m):
            n = int(codes.max()) + 1 if len(codes) else 1
            tot = np.bincount(codes[keep], weights=y[keep], minlength=n)
            zero = keep & ~(tot[codes] > 0)
            counts["all_zero_fixed_effect"] += int(zero.sum())
            keep &= ~zero
            size = np.bincount(codes[keep], minlength=n)
            single = keep & (size[codes] == 1)
            counts["singleton"] += int(single.sum())
            keep &= ~single
        if int(keep.sum()) == before:
            return keep, counts


def _design(x: np.ndarray, d: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, int, np.ndarray]:
    """Dense design ``[x, district dummies, month dummies without the first]``."""
    n = len(d)
    ud = np.unique(d)
    um = np.unique(m)
    dd = (d[:, None] == ud[None, :]).astype(float)
    mm = (m[:, None] == um[None, 1:]).astype(float)
    k = x.shape[1]
    z = np.empty((n, k + dd.shape[1] + mm.shape[1]))
    z[:, :k] = x
    z[:, k : k + dd.shape[1]] = dd
    z[:, k + dd.shape[1] :] = mm
    return z, k, um


def _fe_blocks(
    x: np.ndarray, d: np.ndarray, m: np.ndarray, w: np.ndarray, nd: int, nm: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Blocks of the weighted cross-product ``Z' diag(w) Z`` of the design
    ``Z = [x, district dummies, month dummies]`` without forming ``Z``:
    ``(x'Wx, district sums of w x (k, G), month sums of w x (k, T), cell sums of
    w (G, T))``; the district and month sums of ``w`` are the cell sums' margins."""
    xw = x * w[:, None]
    cell = d * nm + m
    hxx = x.T @ xw
    k = x.shape[1]
    cx = np.empty((k, nd, nm))
    for j in range(k):
        cx[j] = np.bincount(cell, xw[:, j], nd * nm).reshape(nd, nm)
    cw = np.bincount(cell, w, nd * nm).reshape(nd, nm)
    return hxx, cx.sum(axis=2), cx.sum(axis=1), cw


def _fe_solve(
    hxx: np.ndarray,
    hxd: np.ndarray,
    hxm: np.ndarray,
    cw: np.ndarray,
    gx: np.ndarray,
    gd: np.ndarray,
    gm: np.ndarray,
    sd: np.ndarray | None = None,
    sm: np.ndarray | None = None,
    ridge: float = RIDGE,
    work: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solve ``(Z'WZ + ridge I) [b; a; g] = [gx; gd; gm]`` for the design
    ``[x, district dummies, month dummies without the first]`` (``gm`` and
    the result's month part have T - 1 entries; ``cw`` are the (G, T) cell
    sums of the weights, ``sd``/``sm`` their margins when already known) by
    eliminating the district block, which is diagonal: the Schur complement
    on the (k + T - 1) slope and month unknowns is formed in O(G (k + T)^2)
    and solved densely, then the district effects follow by
    back-substitution. The dense solve's answer in O(rows + G T^2) instead
    of O((G + T)^3).

    Every argument may carry the same leading axes (R systems at once, as the
    stacked jackknife replicates of :mod:`~coverage_analysis.models._replicates`):
    the Schur complements are then formed in one stacked product and each is
    solved as a single one is. ``work``: buffers of shapes (..., q + 1, G),
    (..., q, G) and (..., q, q + 1), q = k + T - 1, to work in instead of
    allocating."""
    k = hxx.shape[-1]
    if sd is None or sm is None:
        sd, sm = cw.sum(axis=-1), cw.sum(axis=-2)
    inv_d = 1.0 / (sd + ridge)
    q = k + sm.shape[-1] - 1
    lead = hxd.shape[:-2]
    b, bq, sr = work or (np.empty((*lead, q + 1, sd.shape[-1])), None, None)
    # rows of b: the cross block of [x, months 1..T-1] with the districts, then the
    # district scores, so that one product gives B D^-1 B' and B D^-1 gd
    b[..., :k, :] = hxd
    b[..., k:q, :] = np.swapaxes(cw[..., 1:], -1, -2)
    b[..., q, :] = gd
    bq = np.multiply(b[..., :q, :], inv_d[..., None, :], out=bq)
    sr = np.matmul(bq, np.swapaxes(b, -1, -2), out=sr)  # (..., q, q + 1)
    np.negative(sr, out=sr)
    sr[..., :k, :k] += hxx
    sr[..., :k, k:q] += hxm[..., 1:]
    sr[..., k:, :k] += np.swapaxes(hxm[..., 1:], -1, -2)
    sr[..., :k, q] += gx
    sr[..., k:, q] += gm
    diag = np.arange(q)
    sr[..., diag, diag] += ridge
    sr[..., diag[k:], diag[k:]] += sm[..., 1:]
    top = np.empty((*lead, q))
    for i in np.ndindex(lead):
        s, rhs = sr[i][:, :q], sr[i][:, q]
        # the Schur complement of a positive definite matrix is positive definite:
        # Cholesky (LAPACK dposv); least squares if rounding makes it indefinite
        _c, sol, info = _dposv(s, rhs)
        top[i] = sol if info == 0 else np.linalg.lstsq(s, rhs, rcond=None)[0]
    alpha = inv_d * (gd - (top[..., None, :] @ b[..., :q, :])[..., 0, :])
    return top[..., :k], alpha, top[..., k:]


def _newton_fe(
    y: np.ndarray,
    x: np.ndarray,
    d: np.ndarray,
    m: np.ndarray,
    offset: np.ndarray,
    start: np.ndarray | None,
    max_iter: int = MAX_ITER,
) -> tuple[np.ndarray, np.ndarray, bool, int]:
    """Newton-Raphson of the Poisson quasi-likelihood for the design ``[x,
    district dummies, month dummies without the first]`` without forming it:
    the information matrix comes in blocks of per-district and per-month sums
    and each step is solved by eliminating the diagonal district block
    (:func:`_fe_solve`), so an iteration costs O(rows + G T^2), not
    O((G + T)^3) as the dense solve (kept as :func:`_newton_fe_dense`, the
    reference). A panel with at most one row per district-month that fills
    at least :data:`GRID_MIN_FILL` of the grid is worked on as (G, T) arrays
    (sums along an axis instead of scatter-adds); other inputs row by row.
    ``d`` and ``m`` are compact codes 0..G-1 and 0..T-1; coefficients in the
    dense design's order."""
    k = x.shape[1]
    nd, nm = int(d.max()) + 1, int(m.max()) + 1
    p = k + nd + nm - 1
    theta = _start_values(y, x, d, m, offset, start, k, nd, nm, p)
    cell = d * nm + m
    if len(y) >= GRID_MIN_FILL * nd * nm:
        rows_per_cell = np.bincount(cell, minlength=nd * nm)
        if rows_per_cell.max() <= 1:
            w = rows_per_cell.astype(float).reshape(nd, nm)
            return _newton_grid(y, x, cell, offset, theta, w, max_iter)
    eta = _eta(theta, x, d, m, offset, k, nd)
    mu = np.exp(eta)
    scale = max(float(np.sum(y)), 1e-12)
    ll = float(np.sum(y * eta - mu))
    for it in range(1, max_iter + 1):
        r = y - mu
        hxx, hxd, hxm, cw = _fe_blocks(x, d, m, mu, nd, nm)
        cr = np.bincount(cell, r, nd * nm).reshape(nd, nm)
        gx, gd, gm = x.T @ r, cr.sum(axis=1), cr.sum(axis=0)[1:]
        sb, sa, sg = _fe_solve(hxx, hxd, hxm, cw, gx, gd, gm)
        step = np.concatenate([sb, sa, sg])
        t = 1.0
        accepted = False
        for _ in range(MAX_HALVINGS):
            new = theta + t * step
            eta_new = _eta(new, x, d, m, offset, k, nd)
            mu_new = np.exp(eta_new)
            ll_new = float(np.sum(y * eta_new - mu_new))
            if ll_new >= ll - LL_ROUNDING * abs(ll):
                accepted = True
                break
            t /= 2.0
        if not accepted:
            grad = np.concatenate([gx, gd, gm])
            small = float(np.max(np.abs(grad))) < 1e-7 * scale
            return theta, mu, small, it
        change = float(np.max(np.abs(eta_new - eta)))
        theta, eta, mu, ll = new, eta_new, mu_new, ll_new
        if change < TOL_ETA:
            return theta, mu, True, it
    return theta, mu, False, max_iter


#: Smallest share of the district x month grid with a row for which
#: :func:`_newton_fe` works on (G, T) arrays (empty cells carry zero weight).
GRID_MIN_FILL = 0.5
#: After every trial point the district effects are set to their exact optimum
#: given the slopes and month effects (Poisson: each district's fitted total
#: equals its observed total; closed form, no exp). Same solution; about 14%
#: fewer Newton iterations on the 216-district jackknife (a profile-likelihood
#: Newton step, as ppmlhdfe's concentrated fixed effects).
CONCENTRATE = True


def _newton_grid(
    y: np.ndarray,
    x: np.ndarray,
    cell: np.ndarray,
    offset: np.ndarray,
    theta: np.ndarray,
    w: np.ndarray,
    max_iter: int = MAX_ITER,
) -> tuple[np.ndarray, np.ndarray, bool, int]:
    """:func:`_newton_fe` on the (G, T) grid of cells ``cell`` (one row each):
    cells without a row have weight 0, so they add nothing to the
    quasi-likelihood, the score or the information. District and month sums
    are products with vectors of ones (BLAS), all of them in one call."""
    nd, nm = w.shape
    k = x.shape[1]
    size = nd * nm
    full = len(cell) == size
    yg = np.zeros(size)
    yg[cell] = y
    yflat = yg
    yg = yg.reshape(nd, nm)
    og = np.zeros(size)
    og[cell] = offset
    og = og.reshape(nd, nm)
    xflat = np.zeros((k, size))
    xflat[:, cell] = x.T
    xg = xflat.reshape(k, nd, nm)
    ones_t, ones_g = np.ones(nm), np.ones(nd)
    # stacked per-cell quantities: weight mu, residual, x * mu (one margin call)
    stack = np.empty((k + 2, nd, nm))

    clipped = [False]  # whether the last eta_of clipped: eta then differs from th's

    def eta_of(th: np.ndarray) -> np.ndarray:
        eta = og + th[k : k + nd, None]
        eta[:, 1:] += th[k + nd :]
        for j in range(k):
            eta += th[j] * xg[j]
        clipped[0] = bool(eta.max() > ETA_CLIP or eta.min() < -ETA_CLIP)
        return np.clip(eta, -ETA_CLIP, ETA_CLIP, out=eta) if clipped[0] else eta

    def mean_of(eta: np.ndarray) -> np.ndarray:
        mu = np.exp(eta)
        return mu if full else np.multiply(mu, w, out=mu)

    y_by_d = yg @ ones_t

    def concentrate(th: np.ndarray, eta: np.ndarray, mu: np.ndarray) -> np.ndarray:
        """District effects at their exact optimum given the rest (Poisson:
        fitted total = observed total per district); updates in place. When
        ``eta`` was not clipped, shifting it by the change keeps it equal to
        ``th``'s linear predictor (and no mean can overflow: each is at most
        its district's total); after a clip, ``eta`` and ``mu`` are recomputed."""
        ratio = y_by_d / (mu @ ones_t)
        delta = np.log(ratio)
        th[k : k + nd] += delta
        if clipped[0]:
            eta[...] = eta_of(th)
            mu[...] = mean_of(eta)
        else:
            eta += delta[:, None]
            mu *= ratio[:, None]
        return th

    eta = eta_of(theta)
    mu = mean_of(eta)
    if CONCENTRATE:
        theta = concentrate(theta, eta, mu)
    scale = max(float(np.sum(y)), 1e-12)
    ll = float(yflat @ eta.ravel() - mu.sum())
    for it in range(1, max_iter + 1):
        stack[0] = mu
        np.subtract(yg, mu, out=stack[1])
        np.multiply(xg, mu, out=stack[2:])
        by_d = stack @ ones_t  # (k + 2, G)
        by_m = ones_g @ stack  # (k + 2, T)
        cross = xflat @ stack[1:].reshape(k + 1, size).T  # (k, k + 1): x'r, x'Mx
        gx, hxx = cross[:, 0], cross[:, 1:]
        gd, gm = by_d[1], by_m[1, 1:]
        sb, sa, sg = _fe_solve(hxx, by_d[2:], by_m[2:], mu, gx, gd, gm, by_d[0], by_m[0])
        step = np.concatenate([sb, sa, sg])
        t = 1.0
        accepted = False
        for _ in range(MAX_HALVINGS):
            new = theta + t * step
            eta_new = eta_of(new)
            mu_new = mean_of(eta_new)
            if CONCENTRATE:
                new = concentrate(new, eta_new, mu_new)
            ll_new = float(yflat @ eta_new.ravel() - mu_new.sum())
            if ll_new >= ll - LL_ROUNDING * abs(ll):
                accepted = True
                break
            t /= 2.0
        if not accepted:
            grad = np.concatenate([gx, gd, gm])
            small = float(np.max(np.abs(grad))) < 1e-7 * scale
            return theta, mu.ravel()[cell], small, it
        diff = np.abs(eta_new - eta, out=eta)
        change = float(diff.max() if full else (diff * w).max())
        theta, eta, mu, ll = new, eta_new, mu_new, ll_new
        if change < TOL_ETA:
            return theta, mu.ravel()[cell], True, it
    return theta, mu.ravel()[cell], False, max_iter


def _eta(
    th: np.ndarray,
    x: np.ndarray,
    d: np.ndarray,
    m: np.ndarray,
    offset: np.ndarray,
    k: int,
    nd: int,
) -> np.ndarray:
    """Linear predictor of dense-design coefficients ``th``, clipped at ``ETA_CLIP``."""
    gam = np.concatenate([[0.0], th[k + nd :]])
    eta = offset + x @ th[:k] + th[k : k + nd][d] + gam[m]
    return np.clip(eta, -ETA_CLIP, ETA_CLIP, out=eta)


def _start_values(
    y: np.ndarray,
    x: np.ndarray,
    d: np.ndarray,
    m: np.ndarray,
    offset: np.ndarray,
    start: np.ndarray | None,
    k: int,
    nd: int,
    nm: int,
    p: int,
) -> np.ndarray:
    """``start`` or, without one, a few sweeps of two-way means of the working
    response ``log(y + 0.1 mean(y)) - offset`` with all slopes 0."""
    if start is not None:
        return start.copy()
    ybar = max(float(y.mean()), 1e-8)
    work = np.log(y + 0.1 * ybar) - offset
    theta = np.zeros(p)
    a = np.zeros(nd)
    g = np.zeros(nm)
    cnt_d = np.bincount(d, minlength=nd)
    cnt_m = np.bincount(m, minlength=nm)
    for _ in range(10):
        a = np.bincount(d, work - g[m], nd) / np.maximum(cnt_d, 1)
        g = np.bincount(m, work - a[d], nm) / np.maximum(cnt_m, 1)
    theta[k : k + nd] = a + g[0]
    theta[k + nd :] = g[1:] - g[0]
    return theta


def _newton_fe_dense(
    y: np.ndarray,
    x: np.ndarray,
    d: np.ndarray,
    m: np.ndarray,
    offset: np.ndarray,
    start: np.ndarray | None,
    max_iter: int = MAX_ITER,
) -> tuple[np.ndarray, np.ndarray, bool, int]:
    """The pre-HDFE solver, kept as the reference of :func:`_newton_fe` (tests,
    ``benchmarks/bench_model.py``): the information matrix is assembled from
    per-district and per-month sums, then solved densely (k + G + T - 1
    unknowns), O((G + T)^3) per iteration."""
    k = x.shape[1]
    nd, nm = int(d.max()) + 1, int(m.max()) + 1
    p = k + nd + nm - 1
    cell = d * nm + m
    ridge = RIDGE * np.eye(p)

    def eta_of(th: np.ndarray) -> np.ndarray:
        return _eta(th, x, d, m, offset, k, nd)

    theta = _start_values(y, x, d, m, offset, start, k, nd, nm, p)
    eta = eta_of(theta)
    mu = np.exp(eta)
    scale = max(float(np.sum(y)), 1e-12)
    ll = float(np.sum(y * eta - mu))
    h = np.empty((p, p))
    for it in range(1, max_iter + 1):
        r = y - mu
        grad = np.concatenate([x.T @ r, np.bincount(d, r, nd), np.bincount(m, r, nm)[1:]])
        xm = x * mu[:, None]
        h[:k, :k] = x.T @ xm
        for j in range(k):
            h[:k, k : k + nd][j] = np.bincount(d, xm[:, j], nd)
            h[:k, k + nd :][j] = np.bincount(m, xm[:, j], nm)[1:]
        h[k:, :k] = h[:k, k:].T
        sd = np.bincount(d, mu, nd)
        sm = np.bincount(m, mu, nm)
        c = np.bincount(cell, mu, nd * nm).reshape(nd, nm)[:, 1:]
        h[k : k + nd, k : k + nd] = np.diag(sd)
        h[k + nd :, k + nd :] = np.diag(sm[1:])
        h[k : k + nd, k + nd :] = c
        h[k + nd :, k : k + nd] = c.T
        try:
            step = np.linalg.solve(h + ridge, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(h + ridge, grad, rcond=None)[0]
        t = 1.0
        accepted = False
        for _ in range(MAX_HALVINGS):
            new = theta + t * step
            eta_new = eta_of(new)
            mu_new = np.exp(eta_new)
            ll_new = float(np.sum(y * eta_new - mu_new))
            if ll_new >= ll:
                accepted = True
                break
            t /= 2.0
        if not accepted:
            small = float(np.max(np.abs(grad))) < 1e-7 * scale
            return theta, mu, small, it
        change = float(np.max(np.abs(eta_new - eta)))
        theta, eta, mu, ll = new, eta_new, mu_new, ll_new
        if change < TOL_ETA:
            return theta, mu, True, it
    return theta, mu, False, max_iter


def fit_ppml_fe(
    y: np.ndarray,
    x: np.ndarray,
    d: np.ndarray,
    m: np.ndarray,
    offset: np.ndarray,
    start: np.ndarray | None = None,
    *,
    name: str = "PPML fit",
    warm: PPMLFit | None = None,
    steps: int | None = None,
) -> PPMLFit:
    """PPML of ``y`` on regressors ``x`` (n x k, k may be 0) with district
    codes ``d`` and month codes ``m`` as fixed effects and an ``offset``.

    Rows of all-zero districts or months and singletons are dropped first
    (see :func:`separated_rows`), then rows separated by the regressors
    (ppmlhdfe's "mu" check: a zero outcome fitted at a mean that runs to
    zero) are dropped and the model refitted; ``keep`` marks the rows used and
    ``dropped`` counts each reason. A fit that does not converge raises
    :class:`ConvergenceError` naming ``name``. ``warm``: a fit of a similar
    model (same regressors) whose effects start the iterations.

    ``steps``: with a warm start, stop after at most this many Newton steps
    (a few-step approximation of the exact fit, as the one-step jackknife of
    a large panel, where the fit without one district starts very close to
    the full fit; ``converged`` is then True only if it did converge). Without
    a usable warm start ``steps`` is ignored and the fit runs to convergence.
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float).reshape(len(y), -1)
    keep, dropped = _drop_rows(y, d, m)
    dropped["separated_by_regressors"] = 0
    for attempt in range(4):
        if keep.all():
            yk, xk, dk, mk, ok = y, x, d, m, offset
        else:
            yk, xk, dk, mk, ok = y[keep], x[keep], d[keep], m[keep], offset[keep]
        if len(yk) == 0:
            raise ConvergenceError(f"{name}: no rows left after dropping separated rows")
        ud, d_idx = _compact(dk)
        um, m_idx = _compact(mk)
        k = xk.shape[1]
        n_coef = k + len(ud) + len(um) - 1
        if warm is not None and start is None:
            start = _warm_start(warm, k, ud, um)
        usable = start if start is not None and len(start) == n_coef else None
        few = steps is not None and usable is not None
        theta, mu_k, converged, n_iter = _newton_fe(
            yk, xk, d_idx, m_idx, ok, usable, steps if few else MAX_ITER
        )
        approximate = few and not converged
        # a separated row's fitted mean runs to zero (and can stall convergence)
        sep = (yk == 0) & (mu_k < MU_SEPARATION_TOL * max(float(yk.mean()), 1e-300))
        if not converged and not approximate and (not sep.any() or attempt == 3):
            raise ConvergenceError(
                f"{name} did not converge in {n_iter} Newton iterations "
                f"({len(yk)} rows, {n_coef} coefficients)"
            )
        if not sep.any() or attempt == 3:
            break
        idx = np.nonzero(keep)[0][sep]
        keep[idx] = False
        dropped["separated_by_regressors"] += len(idx)
        more, _ = _drop_rows(np.where(keep, y, 0.0), d, m)
        keep &= more
        start = None
    n_d = int(d.max()) + 1
    n_m = int(m.max()) + 1
    alpha = np.full(n_d, -np.inf)
    alpha[ud] = theta[k : k + len(ud)]
    gamma = np.full(n_m, np.nan)
    gamma[um[0]] = 0.0
    gamma[um[1:]] = theta[k + len(ud) :]
    mu = np.zeros(len(y))
    mu[keep] = mu_k
    return PPMLFit(theta[:k], alpha, gamma, mu, converged, n_iter, keep, theta, dropped)


def _warm_start(warm: PPMLFit, k: int, ud: np.ndarray, um: np.ndarray) -> np.ndarray | None:
    """Coefficients of the dense design for districts ``ud`` and months ``um``
    taken from another fit (None when it lacks one of them)."""
    if len(warm.beta) != k or ud.max() >= len(warm.alpha) or um.max() >= len(warm.gamma):
        return None
    g0 = warm.gamma[um[0]]
    start = np.concatenate([warm.beta, warm.alpha[ud] + g0, warm.gamma[um[1:]] - g0])
    return start if np.all(np.isfinite(start)) else None


def partial_out(
    target: np.ndarray, others: np.ndarray, d: np.ndarray, m: np.ndarray, w: np.ndarray
) -> np.ndarray:
    """Residual of ``target`` after weighted (``w``) projection on the other
    regressors and both sets of fixed effects: the direction of the efficient
    score for the tested coefficient. Solved by eliminating the district block
    (:func:`_fe_solve`); :func:`partial_out_dense` is the dense reference."""
    ud, di = _compact(d)
    um, mi = _compact(m)
    nd, nm = len(ud), len(um)
    others = np.asarray(others, dtype=float).reshape(len(target), -1)
    hxx, hxd, hxm, cw = _fe_blocks(others, di, mi, w, nd, nm)
    wt = w * target
    ct = np.bincount(di * nm + mi, wt, nd * nm).reshape(nd, nm)
    b, a, g = _fe_solve(hxx, hxd, hxm, cw, others.T @ wt, ct.sum(axis=1), ct.sum(axis=0)[1:])
    gam = np.concatenate([[0.0], g])
    return target - (others @ b + a[di] + gam[mi])


def partial_out_dense(
    target: np.ndarray, others: np.ndarray, d: np.ndarray, m: np.ndarray, w: np.ndarray
) -> np.ndarray:
    """:func:`partial_out` with the dense dummy design (the pre-HDFE reference)."""
    z, _, _ = _design(others, d, m)
    h = z.T @ (w[:, None] * z) + RIDGE * np.eye(z.shape[1])
    coef = np.linalg.solve(h, z.T @ (w * target))
    return target - z @ coef


def _compact(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(codes, return_inverse=True)`` for non-negative integer codes,
    in O(n) with a bincount instead of a sort.

    >>> u, inv = _compact(np.array([5, 2, 5, 7]))
    >>> u.tolist(), inv.tolist()
    ([2, 5, 7], [1, 0, 1, 2])
    """
    present = np.bincount(codes) > 0
    if present.all():
        return np.arange(len(present)), codes
    position = np.cumsum(present) - 1
    return np.flatnonzero(present), position[codes]


@contextmanager
def dense_reference() -> Iterator[None]:
    """Within the block, every fit and projection uses the dense solvers of
    before the HDFE change (:func:`_newton_fe_dense`, :func:`partial_out_dense`):
    the baseline of ``benchmarks/bench_model.py`` and of the equality tests.
    Not thread-safe (it swaps module attributes)."""
    global _newton_fe, partial_out
    saved = _newton_fe, partial_out
    _newton_fe, partial_out = _newton_fe_dense, partial_out_dense
    try:
        yield
    finally:
        _newton_fe, partial_out = saved
