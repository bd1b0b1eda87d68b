"""Coverage models on simulated panels with a known truth (fixed seeds, no mocks)."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from coverage_analysis.errors import CoverageAnalysisError, DataNotFoundError, ParameterError
from coverage_analysis.models import (
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
from coverage_analysis.models.coverage import InsufficientDataError, make_design

#: Bootstrap draws in the tests: enough for 5% decisions, fast.
N_BOOT = 199
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
        ours.append(fit_coverage_model(panel, decay=DECAY, n_boot=N_BOOT).coverage_effect["beta"])
        naive.append(naive_pooled_beta(panel, DECAY))
    # common drivers (district activity, deadlines) make the naive slope clearly positive
    assert np.mean(naive) > 0.4
    assert abs(np.mean(ours)) < 0.12
    assert all(n > o for n, o in zip(naive, ours, strict=True))


def test__fit_coverage_model__recovers_known_slope():
    betas, covered = [], []
    for seed in range(3):
        res = fit_coverage_model(
            simulate_panel("effect", seed=seed, **STRONG), decay=DECAY, n_boot=N_BOOT
        )
        e = res.coverage_effect
        betas.append(e["beta"])
        covered.append(e["beta_ci_low"] <= STRONG["beta"] <= e["beta_ci_high"])
        assert e["p_value"] < 0.05
        assert e["estimate"] == pytest.approx(100 * (2 ** e["beta"] - 1))
    assert np.mean(betas) == pytest.approx(STRONG["beta"], abs=0.1)
    assert sum(covered) >= 2


def test__fit_coverage_model__placebo_flags_reverse_causality():
    res = fit_coverage_model(
        simulate_panel("reverse", seed=7, reverse_strength=1.5), decay=DECAY, n_boot=N_BOOT
    )
    assert res.placebo_flagged
    assert res.placebo_effect["ci_low"] > 0
    assert any("Placebo failed" in w for w in res.warnings)
    null = fit_coverage_model(simulate_panel("null", seed=7), decay=DECAY, n_boot=N_BOOT)
    assert not null.placebo_flagged
    assert not any("Placebo failed" in w for w in null.warnings)


def test__search_decay__finds_true_region_with_strong_signal():
    chosen = [
        fit_coverage_model(simulate_panel("effect", seed=s, **STRONG), n_boot=N_BOOT).decay
        for s in range(3)
    ]
    assert all(0.2 <= d <= 0.6 for d in chosen), chosen
    res = fit_coverage_model(simulate_panel("effect", seed=0, **STRONG), n_boot=N_BOOT)
    assert [r["decay"] for r in res.decay_search] == [0.0, 0.2, 0.4, 0.6, 0.8]
    assert sum(r["chosen"] for r in res.decay_search) == 1


def test__fit_coverage_model__to_dict_is_json_for_both_outcomes():
    panel = simulate_panel("effect", seed=3)
    for outcome in ("applications", "amount_kzt"):
        res = fit_coverage_model(panel, outcome, n_boot=N_BOOT)
        data = json.loads(json.dumps(res.to_dict(), allow_nan=False))
        for key in ("estimate", "ci_low", "ci_high", "p_value"):
            assert isinstance(data["coverage_effect"][key], float)
            assert isinstance(data["placebo_effect"][key], float)
        assert data["effect_unit"].startswith("percent change")
        assert data["n_clusters"] == 19
        assert "bootstrap" in data["inference"]
        assert len(data["fitted_relation"]["coverage_index"]) == len(
            data["fitted_relation"]["relative_expected"]
        )


def test__fit_coverage_model__matches_statsmodels_glm_and_interval_contains_estimate():
    panel = simulate_panel("effect", seed=4)
    res = fit_coverage_model(panel, decay=DECAY, n_boot=N_BOOT)
    prep = prepare_panel(panel, "applications")
    des = make_design(prep, [prep.index(DECAY)], prep.usable(DECAY))
    dummies = pd.get_dummies(
        pd.DataFrame({"d": des.d.astype(str), "m": des.m.astype(str)}), drop_first=True, dtype=float
    )
    exog = sm.add_constant(dummies.assign(c=des.x[:, 0]))
    glm = sm.GLM(des.y, exog, family=sm.families.Poisson(), offset=des.offset).fit()
    e = res.coverage_effect
    # reported beta is on the log2 scale: natural-log slope / ln 2
    assert e["beta"] == pytest.approx(glm.params["c"] / np.log(2), abs=1e-6)
    assert e["beta_ci_low"] < e["beta"] < e["beta_ci_high"]


def test__fit_coverage_model__unreported_months_are_unknown_not_zero():
    panel = simulate_panel("effect", seed=5, unreported_share=0.0, missing_outcome_share=0.0)
    base = fit_coverage_model(panel, decay=DECAY, n_boot=N_BOOT)
    assert base.rows_dropped["coverage_unreported"] == 0
    hole = panel.copy()
    mask = (hole["district_id"] == "semey") & (hole["month"] == pd.Timestamp("2015-06-01"))
    hole.loc[mask, "is_reported"] = False
    res = fit_coverage_model(hole, decay=DECAY, n_boot=N_BOOT)
    # the month itself and the next one (decay 0.4: weight 0.4 >= 0.25) leave the model
    assert res.rows_dropped["coverage_unreported"] == 1
    assert res.rows_dropped["carryover_unknown_after_unreported"] == 1
    assert res.n_obs == base.n_obs - 2
    # values left in an unreported row are ignored ...
    junk = hole.copy()
    junk.loc[mask, "materials"] = 10_000
    same = fit_coverage_model(junk, decay=DECAY, n_boot=N_BOOT)
    assert same.coverage_effect["beta"] == pytest.approx(res.coverage_effect["beta"], abs=1e-12)
    # ... and a panel row that is absent altogether counts as unreported
    gone = fit_coverage_model(hole[~mask], decay=DECAY, n_boot=N_BOOT)
    assert gone.coverage_effect["beta"] == pytest.approx(res.coverage_effect["beta"], abs=1e-9)
    # reading the unknown month as zero coverage would be a different model
    zero = hole.copy()
    zero.loc[mask, ["is_reported", "materials"]] = [True, 0]
    assert fit_coverage_model(zero, decay=DECAY, n_boot=N_BOOT).n_obs == base.n_obs


def test__fit_coverage_model__missing_outcome_is_dropped_not_zero():
    panel = simulate_panel("effect", seed=6, unreported_share=0.0, missing_outcome_share=0.0)
    base = fit_coverage_model(panel, decay=DECAY, n_boot=N_BOOT)
    na = panel.copy()
    na["applications"] = na["applications"].astype("Int64")
    na.loc[na.index[:3], "applications"] = pd.NA
    res = fit_coverage_model(na, decay=DECAY, n_boot=N_BOOT)
    assert res.n_obs == base.n_obs - 3
    assert res.rows_dropped["outcome_missing"] == 3


def test__fit_coverage_model__is_fast_with_default_bootstrap():
    panel = simulate_panel("effect", seed=8)
    started = time.perf_counter()
    res = fit_coverage_model(panel)
    assert time.perf_counter() - started < 5.0
    assert res.n_boot == 999


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
    res = fit_channel_models(panel, decay=DECAY, n_boot=N_BOOT)
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
    res = fit_coverage_model(panel, decay=DECAY, n_boot=N_BOOT)
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
    res = fit_coverage_model(panel, decay=DECAY, n_boot=N_BOOT)
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
    res = fit_coverage_model(panel, decay=DECAY, n_boot=N_BOOT)
    diag = diagnostics(panel, res)
    lodo = diag["leave_one_district_out"]
    assert lodo["min_beta"] <= res.coverage_effect["beta"] <= lodo["max_beta"]
    assert diag["overdispersion"]["pearson_chi2_per_df"] > 1.5  # NB counts are overdispersed
    json.dumps(diag, default=float)


def test__write_model_summary__writes_json_and_names_missing_input(tmp_path):
    with pytest.raises(DataNotFoundError, match="nowhere"):
        write_model_summary(tmp_path / "nowhere")
    simulate_panel("effect", seed=12).to_parquet(tmp_path / "panel.parquet")
    path = write_model_summary(tmp_path, n_boot=N_BOOT)
    data = json.loads(path.read_text())
    assert path.name == "model_summary.json"
    assert data["applications"]["status"] == "ok"
    assert data["amount_kzt"]["channels"]["status"] == "ok"
    assert data["coverage_effect"] == data["applications"]["coverage_effect"]
    assert {"estimate", "ci_low", "ci_high", "p_value"} <= set(data["placebo_effect"])
    assert not list(tmp_path.glob(".model_summary.*"))


def test__fit_coverage_model__decay_search_adjusts_p_value_and_cut_panel_start():
    panel = simulate_panel("effect", seed=13)
    res = fit_coverage_model(panel, n_boot=N_BOOT)
    e = res.coverage_effect
    # choosing the decay can only make the evidence weaker
    assert e["p_value"] >= e["p_value_fixed_decay"]
    assert e["ci_level_at_chosen_decay"] >= 0.95
    assert "max-t" in res.inference
    fixed = fit_coverage_model(panel, decay=res.decay, n_boot=N_BOOT)
    assert "p_value_fixed_decay" in fixed.coverage_effect
    assert fixed.coverage_effect["p_value"] == fixed.coverage_effect["p_value_fixed_decay"]
    # a panel cut after the campaign start: carry-over from before it is unknown
    late = panel[panel["month"] >= pd.Timestamp("2015-03-01")]
    cut = fit_coverage_model(late, decay=DECAY, n_boot=N_BOOT)
    full_late = fit_coverage_model(panel, decay=DECAY, n_boot=N_BOOT)
    assert cut.n_months == 22 - 1  # the first month's carry-over (weight 0.4) is unknown
    assert cut.n_obs < full_late.n_obs


def test__fit_coverage_model__short_panels_fall_back_or_fail_clearly():
    panel = simulate_panel("effect", seed=14)
    half_year = panel[
        panel["month"].between(pd.Timestamp("2016-01-01"), pd.Timestamp("2016-06-01"))
    ]
    res = fit_coverage_model(half_year, n_boot=N_BOOT)
    assert res.decay == 0.4 and res.decay_search == []
    assert any("Decay not chosen from the data" in w for w in res.warnings)
    json.dumps(res.to_dict(), allow_nan=False)
    quarter = panel[panel["month"].between(pd.Timestamp("2016-01-01"), pd.Timestamp("2016-03-01"))]
    with pytest.raises(InsufficientDataError, match="not enough data"):
        fit_coverage_model(quarter, n_boot=N_BOOT)
    assert issubclass(InsufficientDataError, CoverageAnalysisError)
