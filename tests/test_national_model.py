"""The HDFE solver of the PPML fits against the dense solve it replaced, and the
pooled national model with the per-region association beside it, on simulated
panels with fixed seeds (no mocks: every comparison refits with the package)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from result_numbers import result_numbers

from coverage_analysis.errors import CoverageAnalysisError
from coverage_analysis.models import _ppml, fit_coverage_model, simulate_panel
from coverage_analysis.models.national import (
    MIN_REGION_DISTRICTS,
    REPUBLIC,
    TABLE_COLUMNS,
    RegionMappingError,
    fit_national_model,
    region_of_districts,
)
from coverage_analysis.models.simulate import national_districts, simulate_national_panel
from coverage_analysis.reference import load_districts

#: Fast inference settings (enough draws for the code paths; results compared, not judged).
FAST = {"n_boot": 99, "n_perm": 99, "sensitivity": False}
#: Decay fixed in the national tests (isolates the region fits from the profile).
DECAY = 0.4
#: Agreement required between the HDFE and the dense solver (issue 11: about 1e-8).
TOL = 1e-8


def _panel_arrays(seed: int, holes: float, k: int) -> tuple[np.ndarray, ...]:
    """A 12-district x 9-month design with ``holes`` of its cells missing."""
    rng = np.random.default_rng(seed)
    d = np.repeat(np.arange(12), 9)
    m = np.tile(np.arange(9), 12)
    keep = rng.random(len(d)) >= holes
    d, m = d[keep], m[keep]
    x = rng.normal(size=(len(d), k))
    off = rng.normal(0.0, 0.3, len(d))
    alpha = rng.normal(0.0, 0.5, 12)
    y = rng.poisson(np.exp(1.0 + alpha[d] + 0.1 * m + x @ np.linspace(0.3, -0.2, k) + off))
    return y.astype(float), x, d, m, off


@pytest.mark.parametrize(
    ("holes", "k", "duplicate"),
    [(0.0, 1, False), (0.2, 2, False), (0.2, 1, True), (0.7, 1, False)],
    ids=["full-grid", "grid-with-holes", "two-rows-per-cell", "sparse-rows"],
)
def test__fit_ppml_fe__hdfe_solver_equals_the_dense_solve(holes, k, duplicate):
    y, x, d, m, off = _panel_arrays(3, holes, k)
    if duplicate:  # a second row in some cells: the row-wise path
        y, x, d, m, off = (np.concatenate([a, a[:5]]) for a in (y, x, d, m, off))
    fit = _ppml.fit_ppml_fe(y, x, d, m, off)
    with _ppml.dense_reference():
        ref = _ppml.fit_ppml_fe(y, x, d, m, off)
    assert fit.converged and ref.converged
    np.testing.assert_allclose(fit.theta, ref.theta, rtol=0, atol=TOL)
    np.testing.assert_allclose(fit.mu, ref.mu, rtol=TOL)
    assert fit.dropped == ref.dropped


def test__partial_out__equals_the_dense_projection():
    _y, x, d, m, off = _panel_arrays(5, 0.15, 2)
    w = np.exp(off)
    # district codes with a gap (a district absent), as after dropping rows
    d = np.where(d >= 4, d + 1, d)
    got = _ppml.partial_out(x[:, 0], x[:, 1:], d, m, w)
    want = _ppml.partial_out_dense(x[:, 0], x[:, 1:], d, m, w)
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL)
    # the residual is orthogonal to both sets of effects (weighted)
    assert abs(np.bincount(d, w * got)).max() < 1e-8
    assert abs(np.bincount(m, w * got)).max() < 1e-8


def test__channels_within__equals_the_dense_two_way_least_squares():
    # the channel models' within transform: HDFE elimination, not dummies
    from coverage_analysis.models.channels import within

    _y, x, d, m, _off = _panel_arrays(9, 0.2, 3)
    d = np.where(d >= 6, d + 2, d)  # codes with a gap
    z, _, _ = _ppml._design(np.zeros((len(d), 0)), d, m)
    want = x - z @ np.linalg.lstsq(z, x, rcond=None)[0]
    got = within(x, d, m)
    assert got.shape == x.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-7)
    assert abs(np.bincount(d, got[:, 0])).max() < 1e-7  # no district mean left


def test__fit_coverage_model__hdfe_result_equals_the_dense_reference():
    panel = simulate_panel("effect", seed=7)
    new = dict(result_numbers(fit_coverage_model(panel, **FAST).to_dict()))
    with _ppml.dense_reference():
        old = dict(result_numbers(fit_coverage_model(panel, **FAST).to_dict()))
    assert new.keys() == old.keys()
    for key, a in new.items():
        b = old[key]
        if isinstance(a, float) and isinstance(b, float):
            assert abs(a - b) <= TOL * max(1.0, abs(b)), key
        else:
            assert a == b, key


@pytest.fixture(scope="module")
def national_panel() -> pd.DataFrame:
    """40 districts of three regions (Akmola 19, Aktobe 13, Almaty region 8)."""
    return simulate_national_panel("effect", seed=3, n_districts=40, beta=0.8)


@pytest.fixture(scope="module")
def national_result(national_panel):
    return fit_national_model(national_panel, decay=DECAY, **FAST)


def test__fit_national_model__pooled_row_first_then_each_region(national_panel, national_result):
    table = national_result.table
    assert list(table.columns) == list(TABLE_COLUMNS)
    regions = national_panel.attrs["regions"]
    assert table["region"].tolist() == [REPUBLIC, *dict.fromkeys(regions.values())]
    pooled = table.iloc[0]
    assert pooled["scope"] == REPUBLIC and pooled["n_districts"] == 40
    by_region = table.iloc[1:].set_index("region")
    counts = pd.Series(regions).value_counts()
    assert by_region["n_districts"].to_dict() == counts.to_dict()
    ok = table["status"] == "ok"
    assert ok.all()
    assert (table["ci_low"] < table["estimate"]).all() and (
        table["estimate"] < table["ci_high"]
    ).all()
    assert (table["effective_clusters"] <= table["n_districts"]).all()
    reg = table.iloc[1:]
    assert (reg["p_holm_regions"] >= reg["p_value"] - 1e-12).all()
    assert math.isnan(pooled["p_holm_regions"])
    assert (table["decay"] == DECAY).all()


def test__fit_national_model__rows_are_the_pooled_and_the_regions_own_fits(
    national_panel, national_result
):
    pooled = fit_coverage_model(national_panel, decay=DECAY, **FAST).coverage_effect
    row = national_result.table.iloc[0]
    assert row["estimate"] == pytest.approx(pooled.estimate, abs=1e-10)
    assert row["ci_low"] == pytest.approx(pooled.ci_low, abs=1e-10)
    ids = [d for d, r in national_panel.attrs["regions"].items() if r == "aktobe"]
    sub = national_panel[national_panel["district_id"].isin(ids)]
    own = fit_coverage_model(sub, decay=DECAY, **FAST).coverage_effect
    arow = national_result.table.set_index("region").loc["aktobe"]
    assert arow["estimate"] == pytest.approx(own.estimate, abs=1e-10)
    assert arow["p_value"] == pytest.approx(own.p_value, abs=1e-12)
    assert arow["effective_clusters"] == pytest.approx(own.effective_clusters, abs=1e-10)
    assert national_result.to_dict()["by_region"][0]["region"] == REPUBLIC


def test__fit_national_model__small_region_keeps_its_row_with_the_reason(national_panel):
    regions = dict(national_panel.attrs["regions"])
    tiny = [d for d, r in regions.items() if r == "almaty_region"][: MIN_REGION_DISTRICTS - 1]
    for d in tiny:
        regions[d] = "tiny"
    table = fit_national_model(national_panel, regions=regions, decay=DECAY, **FAST).table
    row = table.set_index("region").loc["tiny"]
    assert row["status"].startswith("not fitted") and str(len(tiny)) in row["status"]
    assert math.isnan(row["estimate"]) and math.isnan(row["ci_low"])
    assert int(table["n_districts"].iloc[1:].sum()) == 40 - len(tiny)


def test__region_of_districts__a_district_without_region_is_named():
    panel = pd.DataFrame({"district_id": ["a", "b", "c"]})
    with pytest.raises(RegionMappingError, match=r"no region known for districts c"):
        region_of_districts(panel, {"a": "r1", "b": "r1"})
    assert issubclass(RegionMappingError, CoverageAnalysisError)
    col = panel.assign(region_id=["r1", "r1", "r2"])
    assert region_of_districts(col) == {"a": "r1", "b": "r1", "c": "r2"}


def test__national_districts__republic_sized_with_east_kazakhstan_populations():
    nd = national_districts()
    assert len(nd) == 216 and nd["district_id"].is_unique
    assert nd["region"].nunique() == 16
    ek = nd[nd["region"] == "east_kazakhstan"].set_index("district_id")["population_2016"]
    ref = load_districts().set_index("district_id")["population_2016"]
    assert ek.sort_index().to_dict() == ref.sort_index().to_dict()
    assert (nd["population_2016"] > 0).all()


def test__fit_ppml_fe__few_steps_from_a_warm_start_and_none_without_one():
    y, x, d, m, off = _panel_arrays(11, 0.0, 1)
    full = _ppml.fit_ppml_fe(y, x, d, m, off)
    drop = d != 4  # the jackknife's leave-one-district-out refit
    exact = _ppml.fit_ppml_fe(y[drop], x[drop], d[drop], m[drop], off[drop])
    two = _ppml.fit_ppml_fe(y[drop], x[drop], d[drop], m[drop], off[drop], warm=full, steps=2)
    one = _ppml.fit_ppml_fe(y[drop], x[drop], d[drop], m[drop], off[drop], warm=full, steps=1)
    assert exact.n_iter > 2 and two.n_iter <= 2 and one.n_iter == 1
    err_two = abs(float(two.beta[0] - exact.beta[0]))
    err_one = abs(float(one.beta[0] - exact.beta[0]))
    assert err_two < 1e-6 and err_two < err_one
    # without a warm start the steps are ignored: the fit runs to convergence
    cold = _ppml.fit_ppml_fe(y[drop], x[drop], d[drop], m[drop], off[drop], steps=1)
    assert cold.converged and abs(float(cold.beta[0] - exact.beta[0])) < 1e-10


def test__fit_coverage_model__few_step_jackknife_of_a_large_panel_equals_the_exact_one(
    monkeypatch,
):
    from coverage_analysis.models import coverage

    panel = simulate_national_panel("effect", seed=5, n_districts=60)
    assert coverage.jackknife_steps(60) == coverage.JACKKNIFE_STEPS  # few steps used
    few = dict(result_numbers(fit_coverage_model(panel, **FAST).to_dict()))
    monkeypatch.setattr(coverage, "FEW_STEP_MIN_CLUSTERS", 10**9)
    exact = dict(result_numbers(fit_coverage_model(panel, **FAST).to_dict()))
    assert few.keys() == exact.keys()
    worst = max(
        abs(a - exact[k]) / max(1.0, abs(exact[k]))
        for k, a in few.items()
        if isinstance(a, float) and isinstance(exact[k], float)
    )
    # not the same path, and the difference is negligible: 2e-5 at 60 districts (2e-6
    # at 216), against a jackknife standard error that is itself uncertain by ~15%
    assert 0 < worst < 1e-4
