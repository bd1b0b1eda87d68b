"""Coverage models on simulated panels with a known truth and on the real
sample panel (sample -> clean -> panel), fixed seeds, no mocks."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from coverage_analysis.errors import (
    CoverageAnalysisError,
    DataNotFoundError,
    ParameterError,
    SchemaError,
)
from coverage_analysis.models import (
    _ppml,
    cross_section,
    diagnostics,
    district_effects,
    fit_channel_models,
    fit_coverage_model,
    simulate_panel,
    what_if,
    write_model_summary,
)
from coverage_analysis.models._data import prepare_panel
from coverage_analysis.models.channels import holm
from coverage_analysis.models.coverage import DECAY_GRID, InsufficientDataError, search_decay
from coverage_analysis.models.summary import read_model_summary

#: Bootstrap draws and permutations in the tests: enough for 5% decisions, fast.
N_BOOT = 199
N_PERM = 99
#: Fast settings: one estimand, no sensitivity refit.
FAST = {"n_boot": N_BOOT, "n_perm": N_PERM, "sensitivity": False}
#: True decay of the simulator (fixing it isolates estimation from selection).
DECAY = 0.4
#: A strong signal: larger slope, more month-to-month coverage variation, less noise.
STRONG = {"beta": 0.8, "coverage_noise_sd": 1.0, "dispersion": 0.2}


def naive_pooled_beta(panel: pd.DataFrame, decay: float) -> float:
    """Poisson with population exposure only (no district or month effects)."""
    prep = prepare_panel(panel, "applications")
    rows = prep.usable(decay)
    exog = sm.add_constant(prep.index(decay)[rows])
    fit = sm.GLM(
        prep.y[rows], exog, family=sm.families.Poisson(), offset=np.log(prep.population[rows])
    ).fit()
    return float(fit.params[1])


def test__fit_coverage_model__naive_pooled_is_biased_under_null_but_fixed_effects_are_not():
    ours, naive = [], []
    for seed in range(5):
        panel = simulate_panel("null", seed=seed)
        ours.append(fit_coverage_model(panel, decay=DECAY, **FAST).coverage_effect["beta"])
        naive.append(naive_pooled_beta(panel, DECAY))
    # common drivers (district activity, deadlines) make the naive slope clearly positive
    assert np.mean(naive) > 0.4
    assert abs(np.mean(ours)) < 0.12
    assert all(n > o for n, o in zip(naive, ours, strict=True))


def test__fit_coverage_model__recovers_known_slope():
    betas, covered = [], []
    for seed in range(3):
        res = fit_coverage_model(simulate_panel("effect", seed=seed, **STRONG), decay=DECAY, **FAST)
        e = res.coverage_effect
        betas.append(e["beta"])
        covered.append(e["beta_ci_low"] <= STRONG["beta"] <= e["beta_ci_high"])
        assert e["p_value"] < 0.05
        assert e["estimate"] == pytest.approx(100 * (2 ** e["beta"] - 1))
    assert np.mean(betas) == pytest.approx(STRONG["beta"], abs=0.1)
    assert sum(covered) >= 2


def test__fit_coverage_model__placebo_flags_reverse_causality():
    res = fit_coverage_model(
        simulate_panel("reverse", seed=7, reverse_strength=1.5), decay=DECAY, **FAST
    )
    assert res.placebo_flagged
    assert res.placebo_effect["ci_low"] > 0
    assert any("Placebo failed" in w for w in res.warnings)
    null = fit_coverage_model(simulate_panel("null", seed=7), decay=DECAY, **FAST)
    assert not null.placebo_flagged
    assert not any("Placebo failed" in w for w in null.warnings)


def test__decay_profile__finds_true_region_with_strong_signal():
    for s in range(3):
        res = fit_coverage_model(simulate_panel("effect", seed=s, **STRONG), **FAST)
        assert [r["decay"] for r in res.decay_search] == [0.0, 0.2, 0.4, 0.6, 0.8]
        assert sum(r["profile_max"] for r in res.decay_search) == 1
        best = max(res.decay_search, key=lambda r: r["quasi_loglik"])
        assert best["profile_max"] and 0.2 <= best["decay"] <= 0.6, res.decay_search


def test__fit_coverage_model__to_dict_is_json_for_both_outcomes():
    panel = simulate_panel("effect", seed=3)
    for outcome in ("applications", "amount_kzt"):
        res = fit_coverage_model(panel, outcome, **FAST)
        data = json.loads(json.dumps(res.to_dict(), allow_nan=False))
        for key in ("estimate", "ci_low", "ci_high", "p_value"):
            assert isinstance(data["coverage_effect"][key], float)
            assert isinstance(data["placebo_effect"][key], float)
        assert data["effect_unit"].startswith("percent change")
        assert data["n_clusters"] == 19
        assert "jackknife" in data["inference"] and "randomisation" in data["inference"]
        assert len(data["fitted_relation"]["coverage_index"]) == len(
            data["fitted_relation"]["relative_expected"]
        )


@pytest.fixture(scope="module")
def sample_panel(sample_processed) -> pd.DataFrame:
    """The real sample: written, cleaned and built into a panel by the package."""
    from coverage_analysis.panel import build_panel

    return build_panel(sample_processed)


def raw_design(panel: pd.DataFrame, estimand: str) -> tuple[pd.Series, pd.DataFrame, np.ndarray]:
    """Outcome, exog and offset built from the panel's own columns, independently of the
    package: decay 0 (coverage index log2(1 + materials per 10,000 residents)), rows with a
    coverage report, an applications figure and residents."""
    df = panel[panel["district_id"] != "region"].copy()
    df = df[df["is_reported"].astype(bool) & df["applications"].notna() & df["materials"].notna()]
    df = df[df["population"] > 0]
    # districts or months with no application at all have no finite effect
    df = df[df.groupby("district_id")["applications"].transform("sum") > 0]
    df = df[df.groupby("month")["applications"].transform("sum") > 0]
    pop = df["population"].astype(float)
    c = np.log2(1.0 + df["materials"].astype(float) / pop * 10_000)
    dummies = pd.get_dummies(df[["district_id", "month"]].astype(str), drop_first=True, dtype=float)
    exog = sm.add_constant(dummies.assign(c=c.to_numpy()))
    y = df["applications"].astype(float)
    if estimand == "exposure":
        return y, exog, np.log(pop.to_numpy())
    return y / pop * 10_000, exog, np.zeros(len(df))


@pytest.mark.parametrize("estimand", ["exposure", "rate"])
def test__fit_coverage_model__matches_statsmodels_on_the_sample_panel(sample_panel, estimand):
    y, exog, offset = raw_design(sample_panel, estimand)
    glm = sm.GLM(y.to_numpy(), exog, family=sm.families.Poisson(), offset=offset).fit()
    res = fit_coverage_model(sample_panel, estimand=estimand, decay=0.0, **FAST)
    e = res.coverage_effect
    assert res.estimand == e.estimand == estimand
    assert res.n_obs == len(y)
    # reported beta is on the log2 scale: natural-log slope / ln 2
    assert e["beta"] == pytest.approx(glm.params["c"] / np.log(2), abs=1e-6)
    assert e["beta_ci_low"] < e["beta"] < e["beta_ci_high"]
    assert 1.0 < e["effective_clusters"] <= res.n_clusters


def test__fit_coverage_model__estimands_differ_and_are_shown_beside_each_other(sample_panel):
    res = fit_coverage_model(sample_panel, decay=0.0, n_boot=N_BOOT, n_perm=N_PERM)
    assert res.estimand == "exposure"
    assert set(res.sensitivity) == {"exposure", "rate"}
    assert res.sensitivity["exposure"].beta == res.coverage_effect.beta
    assert res.sensitivity["rate"].beta != pytest.approx(res.coverage_effect.beta, abs=1e-6)
    assert "Other estimand, rate per 10,000" in res.summary_text()
    assert "Другая оценка" in res.summary_text("ru")


def test__fit_coverage_model__unreported_months_are_unknown_not_zero():
    panel = simulate_panel("effect", seed=5, unreported_share=0.0, missing_outcome_share=0.0)
    base = fit_coverage_model(panel, decay=DECAY, **FAST)
    assert base.rows_dropped["coverage_unreported"] == 0
    hole = panel.copy()
    mask = (hole["district_id"] == "semey") & (hole["month"] == pd.Timestamp("2015-06-01"))
    hole.loc[mask, "is_reported"] = False
    res = fit_coverage_model(hole, decay=DECAY, **FAST)
    # the month itself and the next one (decay 0.4: weight 0.4 >= 0.25) leave the model
    assert res.rows_dropped["coverage_unreported"] == 1
    assert res.rows_dropped["carryover_unknown_after_unreported"] == 1
    assert res.n_obs == base.n_obs - 2
    # values left in an unreported row are ignored ...
    junk = hole.copy()
    junk.loc[mask, "materials"] = 10_000
    same = fit_coverage_model(junk, decay=DECAY, **FAST)
    assert same.coverage_effect["beta"] == pytest.approx(res.coverage_effect["beta"], abs=1e-12)
    # ... and a panel row that is absent altogether counts as unreported
    gone = fit_coverage_model(hole[~mask], decay=DECAY, **FAST)
    assert gone.coverage_effect["beta"] == pytest.approx(res.coverage_effect["beta"], abs=1e-9)
    # reading the unknown month as zero coverage would be a different model
    zero = hole.copy()
    zero.loc[mask, ["is_reported", "materials"]] = [True, 0]
    assert fit_coverage_model(zero, decay=DECAY, **FAST).n_obs == base.n_obs


def test__fit_coverage_model__missing_outcome_is_dropped_not_zero():
    panel = simulate_panel("effect", seed=6, unreported_share=0.0, missing_outcome_share=0.0)
    base = fit_coverage_model(panel, decay=DECAY, **FAST)
    na = panel.copy()
    na["applications"] = na["applications"].astype("Int64")
    na.loc[na.index[:3], "applications"] = pd.NA
    res = fit_coverage_model(na, decay=DECAY, **FAST)
    assert res.n_obs == base.n_obs - 3
    assert res.rows_dropped["outcome_missing"] == 3


def test__fit_channel_models__holm_and_rare_channel_excluded():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    panel = simulate_panel("null", seed=9)
    for col in (
        "materials_seminar",
        "materials_round_table",
        "materials_open_day",
        "materials_briefing",
    ):
        panel[col] = panel[col].where(panel[col].isna(), 0)
    res = fit_channel_models(panel, decay=DECAY)
    assert "events" in res.excluded and "events" not in res.channels
    for eff in res.channels.values():
        assert eff["p_value_holm"] >= eff["p_value"]
    assert set(res.collinearity["vif"]) == set(res.channels)
    assert any("Holm" in w for w in res.warnings)
    json.dumps(res.to_dict(), allow_nan=False)


def test__district_effects__not_enough_data_and_pooled_row():
    panel = simulate_panel("effect", seed=10)
    sparse = panel["district_id"].eq("ayagoz") & panel["month"].lt(pd.Timestamp("2016-09-01"))
    panel.loc[sparse, "is_reported"] = False
    res = fit_coverage_model(panel, decay=DECAY, **FAST)
    tab = district_effects(panel, result=res)
    row = tab.set_index("district_id").loc["ayagoz"]
    assert row["status"].startswith("not enough data")
    assert np.isnan(row["beta"])
    assert tab["district_id"].iloc[-1] == "pooled"
    assert tab.loc[tab["district_id"] == "pooled", "beta"].item() == res.coverage_effect["beta"]
    ok = tab[tab["status"] == "ok"]
    assert len(ok) >= 15
    # shrinkage pulls every district toward the pooled slope
    pooled = res.coverage_effect["beta"]
    assert ((ok["beta_shrunk"] - pooled).abs() <= (ok["beta"] - pooled).abs() + 1e-12).all()


def test__what_if__median_coverage_and_errors():
    panel = simulate_panel("effect", seed=2, **STRONG)
    res = fit_coverage_model(panel, decay=DECAY, **FAST)
    out = what_if(panel, "ayagoz", res)
    assert out["status"] == "ok"
    assert out["ci_low"] <= out["expected_at_median_coverage"] <= out["ci_high"]
    below = out["district_materials_per_10k_per_month"] < out["median_materials_per_10k_per_month"]
    assert (out["difference"] > 0) == below
    assert "not causation" in out["caveat"] or "not a forecast" in out["caveat"]
    with pytest.raises(ParameterError):
        what_if(panel, "atlantis", res)


def test__cross_section_and_diagnostics():
    panel = simulate_panel("null", seed=11)
    cs = cross_section(panel)
    assert cs["label"].startswith("descriptive")
    assert -1 <= cs["ci_low"] <= cs["spearman_rho"] <= cs["ci_high"] <= 1
    res = fit_coverage_model(panel, decay=DECAY, **FAST)
    diag = diagnostics(panel, res)
    lodo = diag["leave_one_district_out"]
    assert lodo["min_beta"] <= res.coverage_effect["beta"] <= lodo["max_beta"]
    assert diag["overdispersion"]["pearson_chi2_per_df"] > 1.5  # NB counts are overdispersed
    json.dumps(diag, default=float)


@pytest.fixture(scope="module")
def summary_folder(tmp_path_factory):
    """A folder with a simulated panel and the model summary written from it (once: it
    fits every model of the summary)."""
    folder = tmp_path_factory.mktemp("summary")
    simulate_panel("effect", seed=12).to_parquet(folder / "panel.parquet")
    write_model_summary(folder, n_boot=N_BOOT, n_perm=N_PERM)
    return folder


def test__write_model_summary__writes_json_and_names_missing_input(summary_folder, tmp_path):
    with pytest.raises(DataNotFoundError, match="nowhere"):
        write_model_summary(tmp_path / "nowhere")
    path = summary_folder / "model_summary.json"
    data = json.loads(path.read_text())
    assert data["applications"]["status"] == "ok"
    assert data["amount_kzt"]["channels"]["status"] == "ok"
    assert data["coverage_effect"] == data["applications"]["coverage_effect"]
    assert {"estimate", "ci_low", "ci_high", "p_value"} <= set(data["placebo_effect"])
    assert not list(summary_folder.glob(".model_summary.*"))


def test__fit_coverage_model__averages_the_decay_grid_and_cut_panel_start():
    panel = simulate_panel("effect", seed=13)
    res = fit_coverage_model(panel, **FAST)
    e = res.coverage_effect
    assert "p_value_fixed_decay" not in e and "p_value_fixed_decay" not in json.dumps(res.to_dict())
    assert e.p_value_method == "cv3_jackknife" and e.p_value == e.p_values["cv3_jackknife"]
    assert {"randomisation", "cv3_jackknife", "wild_score_bootstrap", "wcr_cv3_bootstrap"} == set(
        e.p_values
    )
    assert [r["decay"] for r in res.decay_search] == [0.0, 0.2, 0.4, 0.6, 0.8]
    # the estimate is the equal-weight mean of the slopes fitted at each grid decay
    fixed = [fit_coverage_model(panel, decay=d, **FAST).coverage_effect for d in DECAY_GRID]
    assert e.beta == pytest.approx(np.mean([f.beta for f in fixed]), rel=1e-6)
    assert [r["slope"] for r in res.decay_search] == pytest.approx([f.beta for f in fixed])
    assert sum(r["weight"] for r in res.decay_search) == pytest.approx(1.0)
    assert res.decay == 0.4  # the grid's middle stands for it in curves and diagnostics
    assert set(e.jackknife_se) == {"grid_average", *(f"decay_{d:g}" for d in DECAY_GRID)}
    # each grid slope's own jackknife is the fixed-decay jackknife of that decay
    assert e.jackknife_se["decay_0.8"] == pytest.approx(fixed[-1].beta_se_cv3, rel=1e-6)
    assert e.ci_low < e.estimate < e.ci_high
    # a panel cut after the campaign start: carry-over from before it is unknown
    late = panel[panel["month"] >= pd.Timestamp("2015-03-01")]
    cut = fit_coverage_model(late, decay=DECAY, **FAST)
    full_late = fit_coverage_model(panel, decay=DECAY, **FAST)
    assert cut.n_months == 22 - 1  # the first month's carry-over (weight 0.4) is unknown
    assert cut.n_obs < full_late.n_obs


def test__ppml__singletons_and_separated_rows_are_dropped_and_counted():
    rng = np.random.default_rng(0)
    d = np.repeat(np.arange(6), 10)
    m = np.tile(np.arange(10), 6)
    x = rng.normal(size=60)
    y = rng.poisson(np.exp(0.5 + 0.3 * x)).astype(float)
    # district 6 has a single row: a singleton
    d, m, x, y = np.r_[d, 6], np.r_[m, 0], np.r_[x, 1.0], np.r_[y, 3.0]
    # a second regressor that is 1 only where the outcome is 0: separation
    sep = np.zeros(len(y))
    zero_rows = np.nonzero(y == 0)[0][:4]
    sep[zero_rows] = 1.0
    fit = _ppml.fit_ppml_fe(y, np.column_stack([x, sep]), d, m, np.zeros(len(y)), name="toy")
    assert fit.dropped["singleton"] == 1 and not fit.keep[-1]
    assert fit.dropped["separated_by_regressors"] == 4
    assert not fit.keep[zero_rows].any()


def test__ppml__non_convergence_is_an_error_naming_the_fit(monkeypatch):
    panel = simulate_panel("effect", seed=2)
    monkeypatch.setattr(_ppml, "MAX_ITER", 1)
    with pytest.raises(_ppml.ConvergenceError, match=r"applications model at decay 0\.4"):
        fit_coverage_model(panel, decay=DECAY, **FAST)
    assert issubclass(_ppml.ConvergenceError, CoverageAnalysisError)


def test__ppml__step_halving_never_lowers_the_quasi_likelihood():
    rng = np.random.default_rng(1)
    d = np.repeat(np.arange(5), 12)
    m = np.tile(np.arange(12), 5)
    x = rng.normal(size=60)[:, None]
    y = rng.poisson(np.exp(1.0 + 0.8 * x[:, 0])).astype(float)
    good = _ppml.fit_ppml_fe(y, x, d, m, np.zeros(60))
    # a far start (slope 40) that a full Newton step would overshoot
    bad = good.theta.copy()
    bad[0] = 40.0
    fit = _ppml.fit_ppml_fe(y, x, d, m, np.zeros(60), start=bad)
    assert fit.beta[0] == pytest.approx(good.beta[0], abs=1e-8)
    qll = float(np.sum(y * np.log(fit.mu) - fit.mu))
    assert qll >= float(np.sum(y * np.log(good.mu) - good.mu)) - 1e-8


def test__prepare_panel__fill_of_unknown_months_uses_only_the_past():
    panel = simulate_panel("effect", seed=15, unreported_share=0.0)
    hole = panel["district_id"].eq("semey") & panel["month"].eq(pd.Timestamp("2015-06-01"))
    panel.loc[hole, "is_reported"] = False
    later = panel["district_id"].eq("semey") & panel["month"].ge(pd.Timestamp("2016-01-01"))
    changed = panel.copy()
    changed.loc[later, "materials"] = changed.loc[later, "materials"] * 50
    a = prepare_panel(panel, "applications").index(0.6)
    b = prepare_panel(changed, "applications").index(0.6)
    before = prepare_panel(panel, "applications").months < pd.Timestamp("2016-01-01")
    # months before the change see the same carry-over, the unknown month included
    assert np.array_equal(a[:, before], b[:, before])


def test__search_decay__scores_a_fold_without_a_missing_district():
    panel = simulate_panel("effect", seed=16, unreported_share=0.0, missing_outcome_share=0.0)
    prep = prepare_panel(panel, "applications")
    _, full = search_decay(prep)
    gone = panel[~(panel["district_id"].eq("semey") & panel["month"].lt("2016-01-01"))]
    _, table = search_decay(prepare_panel(gone, "applications"))
    # semey has no training months in the early folds: it is left out of them, the folds
    # stay (one row fewer per early fold), so far fewer rows are lost than whole folds
    lost = full[0]["n_scored"] - table[0]["n_scored"]
    assert 0 < lost < 19
    assert all(r["n_scored"] > 0 for r in table)


def test__model_summary__schema_validated_on_write_and_read(summary_folder, tmp_path):
    shutil.copy(summary_folder / "model_summary.json", tmp_path / "model_summary.json")
    data = read_model_summary(tmp_path)
    assert data["amount_kzt"]["decay"] == data["applications"]["decay"]
    dec = data["amount_kzt"]["decomposition"]
    assert {"applications", "amount_per_application"} <= set(dec)
    assert data["applications"]["diagnostics"]["influence"]["largest_cells"]
    broken = dict(data)
    broken["applications"] = {k: v for k, v in data["applications"].items() if k != "estimand"}
    (tmp_path / "model_summary.json").write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(SchemaError, match="applications"):
        read_model_summary(tmp_path)


def test__fit_coverage_model__short_panels_fall_back_or_fail_clearly():
    panel = simulate_panel("effect", seed=14)
    half_year = panel[
        panel["month"].between(pd.Timestamp("2016-01-01"), pd.Timestamp("2016-06-01"))
    ]
    res = fit_coverage_model(half_year, **FAST)
    assert res.decay == 0.4 and res.decay_search == []
    assert any("Decay not chosen from the data" in w for w in res.warnings)
    json.dumps(res.to_dict(), allow_nan=False)
    quarter = panel[panel["month"].between(pd.Timestamp("2016-01-01"), pd.Timestamp("2016-03-01"))]
    with pytest.raises(InsufficientDataError, match="not enough data"):
        fit_coverage_model(quarter, **FAST)
    assert issubclass(InsufficientDataError, CoverageAnalysisError)


def test__joint_wald__one_slope_is_the_t_test_and_interval_uses_effective_clusters():
    from scipy import stats

    from coverage_analysis.models import inference

    # one slope: Hotelling's F(1, dof) is the square of t(dof)
    p = inference.joint_wald(np.array([0.3]), np.array([[0.15**2]]), 7.5)
    assert p == pytest.approx(2 * stats.t.sf(2.0, 7.5), rel=1e-9)
    assert np.isnan(inference.joint_wald(np.array([0.3, 0.1]), np.eye(2), 1.0))
    res = fit_coverage_model(simulate_panel("effect", seed=5), decay=DECAY, **FAST)
    e = res.coverage_effect
    q = (e.beta_ci_high - e.beta) / e.beta_se_cv3
    assert q == pytest.approx(stats.t.ppf(0.975, e.effective_clusters - 1), rel=1e-9)
    assert q > stats.t.ppf(0.975, e.n_clusters - 1)
    assert e.p_value == pytest.approx(
        2 * stats.t.sf(abs(e.beta) / e.beta_se_cv3, e.effective_clusters - 1), rel=1e-9
    )


def test__wcr_cv3__linearised_jackknife_t_and_joint_wald_match_an_explicit_loop():
    from coverage_analysis.models import inference

    rng = np.random.default_rng(4)
    n_dec, g = 3, 7
    s = rng.normal(size=(n_dec, g))
    h = rng.uniform(0.5, 3.0, size=(n_dec, g))
    # explicit: one Newton step from beta = 0, with and without each cluster
    beta = np.mean([s[k].sum() / h[k].sum() for k in range(n_dec)])
    loo = [
        np.mean([(s[k].sum() - s[k, i]) / (h[k].sum() - h[k, i]) for k in range(n_dec)])
        for i in range(g)
    ]
    se = np.sqrt((g - 1) / g * np.sum((np.array(loo) - np.mean(loo)) ** 2))
    assert inference._linear_cv3_t(s[None], h)[0] == pytest.approx(beta / se, rel=1e-12)
    # every weight 1: each bootstrap t equals the observed one, so p = 1
    assert inference.wcr_cv3(s, h, np.ones((99, g))) == 1.0
    # scores and information in other units give the same p-value
    w = _ppml.webb_weights(199, g, 3)
    assert inference.wcr_cv3(5 * s, 5 * h, w) == inference.wcr_cv3(s, h, w)
