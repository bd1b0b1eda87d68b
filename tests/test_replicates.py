"""The stacked leave-one-district-out replicates (``models._replicates``) against
the one-by-one PPML fits they replace, on simulated panels with fixed seeds: the
same slopes wherever the stacked path is taken, NaN (refit one by one) wherever
a replicate needs a special case, and the same model result end to end."""

from __future__ import annotations

import math

import numpy as np
import pytest
from result_numbers import result_numbers

from coverage_analysis.models import _ppml, _replicates, coverage, fit_coverage_model
from coverage_analysis.models.simulate import simulate_national_panel

#: Stacked and one-by-one replicates differ only in the order of floating-point sums.
TOL = 1e-10


def _design(seed: int, n_districts: int, holes: float, k: int):
    rng = np.random.default_rng(seed)
    d = np.repeat(np.arange(n_districts), 12)
    m = np.tile(np.arange(12), n_districts)
    keep = rng.random(len(d)) >= holes
    d, m = d[keep], m[keep]
    x = rng.normal(size=(len(d), k))
    off = rng.normal(0.0, 0.3, len(d))
    alpha = rng.normal(0.0, 0.5, n_districts)
    y = rng.poisson(np.exp(0.5 + alpha[d] + 0.05 * m + x @ np.linspace(0.3, -0.2, k) + off))
    return y.astype(float), x, d, m, off


def _one_by_one(y, x, d, m, off, full, leave, steps):
    out = []
    for i in leave:
        keep = d != i
        fit = _ppml.fit_ppml_fe(
            y[keep], x[keep], d[keep], m[keep], off[keep], warm=full, steps=steps
        )
        out.append(fit.beta)
    return np.array(out)


@pytest.mark.parametrize(
    ("holes", "k", "steps"),
    [(0.0, 1, 2), (0.15, 1, 2), (0.0, 3, 2), (0.15, 3, 1), (0.0, 1, 6)],
    ids=["full-grid", "grid-with-holes", "three-regressors", "holes-one-step", "to-convergence"],
)
def test__leave_one_out_slopes__equal_the_one_by_one_fits(holes, k, steps):
    y, x, d, m, off = _design(4, 40, holes, k)
    full = _ppml.fit_ppml_fe(y, x, d, m, off)
    leave = np.arange(40)
    stacked = _replicates.leave_one_out_slopes(y, x, d, m, off, full, leave, steps, chunk=7)
    reference = _one_by_one(y, x, d, m, off, full, leave, steps)
    done = ~np.isnan(stacked).any(axis=1)
    assert done.sum() >= 35  # the simulated districts rarely need a special case
    assert np.max(np.abs(stacked[done] - reference[done])) < TOL
    # the replicates differ from the full fit (the test is not comparing a constant)
    assert np.max(np.abs(reference[:, 0] - full.beta[0])) > 1e-4


def test__leave_one_out_slopes__special_cases_come_back_as_nan():
    y, x, d, m, off = _design(5, 30, 0.0, 1)
    # month 3 has a positive outcome only in district 7: without it, month 3 is all
    # zero and is dropped, which the stacked path does not do
    y[(m == 3) & (d != 7)] = 0.0
    y[(m == 3) & (d == 7)] = 4.0
    # district 12 has two rows only: a replicate leaving out any other district keeps it
    d12 = (d == 12) & (m >= 2)
    y, x, d, m, off = (a[~d12] for a in (y, x, d, m, off))
    full = _ppml.fit_ppml_fe(y, x, d, m, off)
    leave = np.arange(30)
    stacked = _replicates.leave_one_out_slopes(y, x, d, m, off, full, leave, 2)
    nan = np.isnan(stacked[:, 0])
    assert nan[7] and nan.sum() == 1
    reference = _one_by_one(y, x, d, m, off, full, leave, 2)
    assert np.max(np.abs(stacked[~nan] - reference[~nan])) < TOL
    # a district code that is not in the design, and two rows in one cell: all NaN
    assert np.isnan(
        _replicates.leave_one_out_slopes(y, x, d, m, off, full, np.array([99]), 2)
    ).all()
    twice = [np.concatenate([a, a[:3]]) for a in (y, x, d, m, off)]
    assert np.isnan(_replicates.leave_one_out_slopes(*twice, full, leave, 2)).all()


def test__leave_one_out_slopes__rescaled_outcome_divides_by_each_replicates_mean():
    y, x, d, m, off = _design(6, 30, 0.1, 1)
    amounts = y * 1.7e6
    scaled = amounts / amounts.mean()
    full = _ppml.fit_ppml_fe(scaled, x, d, m, off)
    leave = np.arange(30)
    stacked = _replicates.leave_one_out_slopes(
        scaled, x, d, m, off, full, leave, 2, unscaled=amounts
    )
    reference = []
    for i in leave:
        keep = d != i
        own = amounts[keep] / amounts[keep].mean()
        fit = _ppml.fit_ppml_fe(own, x[keep], d[keep], m[keep], off[keep], warm=full, steps=2)
        reference.append(fit.beta)
    done = ~np.isnan(stacked[:, 0])
    assert done.sum() >= 25
    assert np.max(np.abs(stacked[done] - np.array(reference)[done])) < TOL


def _worst(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    worst = 0.0
    for key, va in a.items():
        vb = b[key]
        if isinstance(va, float) and isinstance(vb, float):
            if math.isnan(va) and math.isnan(vb):
                continue
            worst = max(worst, abs(va - vb) / max(1.0, abs(vb)))
        else:
            assert va == vb, key
    return worst


@pytest.mark.parametrize("outcome", ["applications", "amount_kzt"])
def test__fit_coverage_model__stacked_replicates_give_the_one_by_one_result(monkeypatch, outcome):
    """Amounts are divided by their mean: each replicate by its own rows' mean."""
    panel = simulate_national_panel("effect", seed=8, n_districts=60)
    # one district alone has applications in one month: its replicate takes the
    # one-by-one path inside the stacked jackknife
    month = sorted(panel["month"].unique())[20]
    first = sorted(panel["district_id"].unique())[0]
    in_month = panel["month"] == month
    panel.loc[in_month & (panel["district_id"] != first), outcome] = 0
    panel.loc[in_month & (panel["district_id"] == first), outcome] = 5
    fast = {"n_boot": 99, "n_perm": 99, "outcome": outcome}
    assert coverage.jackknife_steps(60) is not None
    stacked = dict(result_numbers(fit_coverage_model(panel, **fast).to_dict()))
    monkeypatch.setattr(coverage, "BATCH_REPLICATES", False)
    one_by_one = dict(result_numbers(fit_coverage_model(panel, **fast).to_dict()))
    assert _worst(stacked, one_by_one) < TOL
