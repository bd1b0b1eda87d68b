"""Leave-one-district-out PPML replicates of a large panel, stepped together.

On the republic's 216 districts the jackknife refits the model without each
district: 216 replicates x 5 decays x (main model, placebo, other estimand),
about 3,200 fits, each :data:`~coverage_analysis.models.coverage.JACKKNIFE_STEPS`
Newton steps from the full fit. Fitted one by one
(:func:`~coverage_analysis.models._ppml.fit_ppml_fe`) each costs about 1 ms,
nearly all of it per-call overhead on 6,000-row arrays. Here the replicates of
one design are stacked into (R, G - 1, T) arrays and stepped together: the same
iteration as :func:`~coverage_analysis.models._ppml._newton_grid` (warm start,
district effects concentrated out after each trial point, the Schur-complement
solve of the slopes and months with LAPACK's ``dposv`` per replicate, the step
accepted when the quasi-likelihood does not fall, the stop on the change of the
linear predictor), one vectorized operation for all replicates of a chunk.

**Only where the one-by-one fit would take exactly this path.** A replicate is
computed here when, with its district left out, nothing is dropped (no all-zero
or singleton district or month), every month is still present, the full fit's
effects are finite for every district and month of the design, the design is a grid with at most one row per cell filled to at least
:data:`~coverage_analysis.models._ppml.GRID_MIN_FILL`, and, during the steps, the
linear predictor is never clipped, every full Newton step is accepted (no step
halving) and no row is separated by the regressors at the end. Any other
replicate comes back as NaN and the caller fits it one by one, so the special
cases keep the one code path that handles them. The slopes agree with the
one-by-one fits up to the order of floating-point sums
(``tests/test_replicates.py``: 1e-10 relative).
"""

from __future__ import annotations

import numpy as np

from coverage_analysis.models import _ppml
from coverage_analysis.models._data import mean_scale

#: Replicates stepped together: (CHUNK, G - 1, T) arrays of about 1.5 MB at 216
#: districts x 28 months stay in cache; larger chunks were not faster.
CHUNK = 16


def leave_one_out_slopes(
    y: np.ndarray,
    x: np.ndarray,
    d: np.ndarray,
    m: np.ndarray,
    offset: np.ndarray,
    warm: _ppml.PPMLFit,
    leave: np.ndarray,
    steps: int,
    chunk: int = CHUNK,
    *,
    unscaled: np.ndarray | None = None,
) -> np.ndarray:
    """Slopes, shape ``(len(leave), k)``, of the PPML fits of ``(y, x, d, m,
    offset)`` (as :func:`~coverage_analysis.models._ppml.fit_ppml_fe` takes them)
    without the rows of each district code of ``leave``, each at most ``steps``
    Newton steps from the full fit ``warm``. A row is NaN where that replicate
    must be fitted one by one (see the module docstring). ``unscaled``: ``y``
    is this outcome divided by its mean (amounts in
    :func:`~coverage_analysis.models.coverage.make_design`), and each replicate's
    outcome is divided by the mean over its own rows instead, as a design built
    for those rows would be.

    >>> rng = np.random.default_rng(0)
    >>> d = np.repeat(np.arange(8), 6); m = np.tile(np.arange(6), 8)
    >>> x = rng.normal(size=(48, 1)); off = np.zeros(48)
    >>> y = rng.poisson(np.exp(1.0 + 0.3 * x[:, 0])).astype(float)
    >>> full = _ppml.fit_ppml_fe(y, x, d, m, off)
    >>> both = leave_one_out_slopes(y, x, d, m, off, full, np.array([2]), steps=2)
    >>> one = _ppml.fit_ppml_fe(y[d != 2], x[d != 2], d[d != 2], m[d != 2], off[d != 2],
    ...                         warm=full, steps=2)
    >>> bool(abs(both[0, 0] - one.beta[0]) < 1e-12)
    True
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float).reshape(len(y), -1)
    leave = np.asarray(leave)
    k = x.shape[1]
    out = np.full((len(leave), k), np.nan)
    if unscaled is not None:
        y = np.asarray(unscaled, dtype=float)
    if len(y) == 0 or len(leave) == 0 or len(warm.beta) != k or not np.all(y >= 0):
        return out
    ud, di = _ppml._compact(d)
    um, mi = _ppml._compact(m)
    nd, nm = len(ud), len(um)
    if nd < 3 or nm < 2:
        return out
    cell = di * nm + mi
    if np.bincount(cell, minlength=nd * nm).max() > 1:
        return out  # two rows in a cell: the row-wise path
    yg, og, wg = np.zeros(nd * nm), np.zeros(nd * nm), np.zeros(nd * nm)
    yg[cell], og[cell], wg[cell] = y, offset, 1.0
    xg = np.zeros((k, nd * nm))
    xg[:, cell] = x.T
    yg, og, wg = yg.reshape(nd, nm), og.reshape(nd, nm), wg.reshape(nd, nm)
    xg = xg.reshape(k, nd, nm)

    pos = np.searchsorted(ud, leave)
    found = (pos < nd) & (ud[np.minimum(pos, nd - 1)] == leave)
    pos = np.minimum(pos, nd - 1)
    # nothing to drop once district j is out (counts, so exact): every other
    # district keeps >= 2 rows and a positive outcome, every month >= 2 rows and
    # a positive outcome (so every month is still present)
    d_rows, d_pos = wg.sum(axis=1), (yg > 0).sum(axis=1)
    bad_d = (d_rows < 2) | (d_pos == 0)
    m_rows = wg.sum(axis=0)[None, :] - wg
    m_pos = (yg > 0).sum(axis=0)[None, :] - (yg > 0)
    month_ok = np.all((m_rows >= 2) & (m_pos >= 1), axis=1)
    clean = (bad_d.sum() - bad_d == 0) & month_ok
    # the grid path of _newton_fe for G - 1 districts
    grid = len(y) - d_rows >= _ppml.GRID_MIN_FILL * (nd - 1) * nm
    # fit_ppml_fe's warm start for the full design's districts; a replicate's is its
    # subset. None when a district or month of the design has no finite effect in the
    # full fit (dropped there): every replicate is then fitted one by one
    start = _ppml._warm_start(warm, k, ud, um)
    if start is None:
        return out
    a0, m0 = start[k : k + nd], start[k + nd :]
    usable = np.flatnonzero(found & clean[pos] & grid[pos])
    scale = np.ones(len(leave))
    if unscaled is not None:  # make_design's mean, over the same values in the same order
        for r in usable:
            scale[r] = mean_scale(y[d != leave[r]])
    # every replicate starts at the full fit: its linear predictor, as _newton_grid
    # forms it, is the full one without the district's row
    eta0 = og + a0[:, None]
    eta0[:, 1:] += m0
    for j in range(k):
        eta0 += warm.beta[j] * xg[j]
    cols = np.arange(nd - 1)
    xt = np.ascontiguousarray(np.moveaxis(xg, 0, 1))  # (G, k, T): one gather per chunk
    work = _Workspace(min(chunk, max(len(usable), 1)), k, nd - 1, nm)
    for s in range(0, len(usable), chunk):
        sel = usable[s : s + chunk]
        j = pos[sel]
        kept = cols[None, :] + (cols[None, :] >= j[:, None])  # (R, G - 1) districts kept
        beta, ok = _newton_batch(
            work.view(len(sel)),
            (yg, xt, og, wg, eta0),
            kept,
            np.repeat(warm.beta[None, :], len(sel), axis=0),
            a0[kept],
            np.repeat(m0[None, :], len(sel), axis=0),
            steps,
            None if unscaled is None else scale[sel],
        )
        out[sel[ok]] = beta[ok]
    return out


class _Workspace:
    """The (R, G, T) arrays of one chunk, allocated once per design and reused by
    every chunk: allocating them per operation (each is over glibc's 128 KB mmap
    threshold) cost a page fault per 4 KB and made the stacked steps slower than
    the one-by-one fits."""

    NAMES = ("y", "o", "w", "eta", "mu", "eta_n", "mu_n", "resid", "tmp")

    def __init__(self, r: int, k: int, nd: int, nm: int) -> None:
        self.r, self.k, self.nd, self.nm = r, k, nd, nm
        for name in self.NAMES:
            setattr(self, name, np.empty((r, nd, nm)))
        self.x = np.empty((r, nd, k, nm))
        self.xmu = np.empty((r, k, nd, nm))
        q = k + nm - 1
        self.b = np.empty((r, q + 1, nd))
        self.bq = np.empty((r, q, nd))
        self.sr = np.empty((r, q, q + 1))

    def view(self, r: int) -> _Workspace:
        """The first ``r`` replicates' slices of every buffer (the last chunk)."""
        if r == self.r:
            return self
        part = object.__new__(_Workspace)
        part.r, part.k, part.nd, part.nm = r, self.k, self.nd, self.nm
        for name in (*self.NAMES, "x", "xmu", "b", "bq", "sr"):
            setattr(part, name, getattr(self, name)[:r])
        return part


def _newton_batch(
    ws: _Workspace,
    grid: tuple[np.ndarray, ...],
    kept: np.ndarray,
    beta: np.ndarray,
    alpha: np.ndarray,
    gamma: np.ndarray,
    max_iter: int,
    scale: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_iter`` Newton steps of :func:`_ppml._newton_grid` for R
    replicates at once. ``grid``: the full design's outcome (G, T), regressors
    (G, k, T), offset, cell weights (1 where a row is, 0 elsewhere) and the warm
    start's linear predictor; ``kept`` (R, G - 1): each replicate's districts;
    the start ``beta`` (R, k), ``alpha`` (R, G - 1), ``gamma`` (R, T - 1).
    ``scale`` (R,): each replicate's outcome is the grid's divided by it.
    Returns the slopes and which replicates took the one-by-one path exactly
    (see the module docstring). Works in ``ws``'s buffers."""
    y_full, x_full, o_full, w_full, eta_full = grid
    r, k = beta.shape
    for src, dst in ((y_full, ws.y), (o_full, ws.o), (w_full, ws.w), (eta_full, ws.eta)):
        np.take(src, kept, axis=0, out=dst, mode="clip")
    np.take(x_full, kept, axis=0, out=ws.x, mode="clip")
    if scale is not None:
        ws.y /= scale[:, None, None]
    yg, og, wg, xg = ws.y, ws.o, ws.w, ws.x  # xg: (R, G, k, T)
    full = bool(wg.all())
    ones_t, ones_g = np.ones(ws.nm), np.ones(ws.nd)
    y_by_d = yg @ ones_t
    ok = np.ones(r, dtype=bool)
    active = np.ones(r, dtype=bool)

    def linear(b: np.ndarray, a: np.ndarray, g: np.ndarray, eta: np.ndarray) -> np.ndarray:
        """The linear predictor, in _newton_grid's order of operations; True where clipped."""
        np.add(og, a[:, :, None], out=eta)
        eta[:, :, 1:] += g[:, None, :]
        for j in range(k):
            eta += np.multiply(xg[:, :, j], b[:, j, None, None], out=ws.tmp)
        return clipped(eta)

    def clipped(eta: np.ndarray) -> np.ndarray:
        out = (eta.max(axis=(1, 2)) > _ppml.ETA_CLIP) | (eta.min(axis=(1, 2)) < -_ppml.ETA_CLIP)
        if out.any():  # those replicates are refitted one by one; keep the others finite
            np.clip(eta, -_ppml.ETA_CLIP, _ppml.ETA_CLIP, out=eta)
        return out

    def means(a: np.ndarray, eta: np.ndarray, mu: np.ndarray) -> np.ndarray:
        """The means of ``eta`` into ``mu``, then the district effects ``a`` set to
        their optimum given the rest (``_newton_grid``'s concentrate; ``a``, ``eta``
        and ``mu`` in place); returns the quasi-likelihood."""
        np.exp(eta, out=mu)
        if not full:
            mu *= wg
        ratio = y_by_d / (mu @ ones_t)
        delta = np.log(ratio)
        a += delta
        eta += delta[:, :, None]
        mu *= ratio[:, :, None]
        return (yg.reshape(r, 1, -1) @ eta.reshape(r, -1, 1))[:, 0, 0] - mu.sum(axis=(1, 2))

    with np.errstate(all="ignore"):
        alpha = alpha.copy()
        eta, mu, eta_n, mu_n = ws.eta, ws.mu, ws.eta_n, ws.mu_n
        ok &= ~clipped(eta)
        ll = means(alpha, eta, mu)
        for _ in range(max_iter):
            resid = np.subtract(yg, mu, out=ws.resid)
            xmu = np.multiply(xg.transpose(0, 2, 1, 3), mu[:, None], out=ws.xmu)  # (R, k, G, T)
            gx = np.einsum("rgkt,rgt->rk", xg, resid)
            hxx = np.einsum("rgjt,rlgt->rjl", xg, xmu)
            sb, sa, sg = _ppml._fe_solve(
                hxx,
                xmu @ ones_t,
                ones_g @ xmu,
                mu,
                gx,
                resid @ ones_t,
                (ones_g @ resid)[:, 1:],
                mu @ ones_t,
                ones_g @ mu,
                work=(ws.b, ws.bq, ws.sr),
            )
            nb, na, ng = beta + sb, alpha + sa, gamma + sg
            clip = linear(nb, na, ng, eta_n)
            ll_n = means(na, eta_n, mu_n)
            # a full step that lowers the quasi-likelihood would be halved one by one
            accepted = ll_n >= ll - _ppml.LL_ROUNDING * np.abs(ll)
            ok &= ~((clip | ~accepted) & active)
            diff = np.abs(np.subtract(eta_n, eta, out=eta), out=eta)
            if not full:
                diff *= wg
            change = diff.max(axis=(1, 2))
            step = active & accepted
            # a replicate not stepped is either done (converged) or refitted one by
            # one: its linear predictor is not used again, its slopes and means are kept
            eta, eta_n = eta_n, eta
            if step.all():
                beta, alpha, gamma, ll = nb, na, ng, ll_n
                mu, mu_n = mu_n, mu
            else:
                for old, new in ((beta, nb), (alpha, na), (gamma, ng), (mu, mu_n), (ll, ll_n)):
                    old[step] = new[step]
            active &= ~(change < _ppml.TOL_ETA)
            if not active.any():
                break
        # rows separated by the regressors (fit_ppml_fe's check) are refitted one by one
        mean_y = np.maximum(yg.sum(axis=(1, 2)) / wg.sum(axis=(1, 2)), 1e-300)
        zero = (wg > 0) & (yg == 0)
        smallest = mu.min(axis=(1, 2), initial=np.inf, where=zero)
        ok &= ~(smallest < _ppml.MU_SEPARATION_TOL * mean_y)
        ok &= np.all(np.isfinite(beta), axis=1)
    return beta, ok
